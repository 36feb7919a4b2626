// The hash-set source formats and the store's own files. The first byte picks the reader:
//   0 plain list / md5sum / sha*sum output    1 hashdeep CSV    2 Project VIC VICS JSON
//   3 NSRL RDS v3 (SQLite; the bytes become a file)    4 a store's set.json
//   5 a store set (a fuzz_files.hpp container: set.json and md5/sha1/sha256.bin), opened
//     by the library and looked up
// the rest is the file. Any bytes give digests, counted malformed lines or an error, never
// a crash; the counts always add up.
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>

#include "fuzz_files.hpp"
#include "match/hashset_internal.hpp"

using namespace exhibit;
using namespace exhibit::hashset_detail;

namespace {

void check_counts(const HashSetCounts& c) {
    if (c.imported != c.md5 + c.sha1 + c.sha256) __builtin_trap();
    if (c.first_malformed.size() > kMalformedExamples) __builtin_trap();
    if (c.first_malformed.size() > c.malformed) __builtin_trap();
    if (c.malformed > 0 && c.first_malformed.empty()) __builtin_trap();
}

void lookup_store(std::string_view bytes) {
    const auto store = fuzz::scratch("hashset") / "store";
    fuzz::unpack(bytes, store / "set");
    auto library = HashSetLibrary::open(store, {"set"});
    if (!library) return;
    // Digests at both ends of the key space and in the middle, in every algorithm.
    for (const char* fill : {"00", "7f", "ff", "5a"}) {
        Hashes h;
        for (int i = 0; i < 16; ++i)
            h.md5 += fill;
        for (int i = 0; i < 20; ++i)
            h.sha1 += fill;
        for (int i = 0; i < 32; ++i)
            h.sha256 += fill;
        HashLookup found = (*library)->lookup(h);
        if (found.verdict == HashVerdict::Unknown && !found.matches.empty()) __builtin_trap();
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
    EntryCollector collector;
    HashSetCounts counts;
    auto category = collector.category("fuzz");
    if (!category) __builtin_trap();
    Status read = ok();
    switch (data[0] % 6) {
        case 0:
            read = read_list(bytes, "list.txt", *category, collector, counts);
            break;
        case 1:
            read = read_hashdeep(bytes, "hashdeep.csv", *category, collector, counts);
            break;
        case 2:
            read = read_vics(bytes, "vics.json", "", collector, counts);
            break;
        case 3: {
            const auto file = fuzz::scratch("hashset") / "rds.db";
            std::ofstream(file, std::ios::binary | std::ios::trunc)
                .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
            read = read_nsrl(file, "rds.db", *category, collector, counts);
            break;
        }
        case 4: {
            auto info = hash_set_info_from_json(std::string(bytes), "set.json");
            if (info) {
                // What was read writes back and reads again the same.
                auto again = hash_set_info_from_json(hash_set_info_json(*info), "again");
                if (!again || hash_set_info_json(*again) != hash_set_info_json(*info))
                    __builtin_trap();
            }
            return 0;
        }
        case 5:
            lookup_store(bytes);
            return 0;
    }
    if (!read && read.error().message.empty()) __builtin_trap();
    collector.finish(counts);
    check_counts(counts);
    return 0;
}
