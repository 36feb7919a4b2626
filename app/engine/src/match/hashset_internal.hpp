// What the hash-set importer, the store and the library share: the .bin table layout,
// hex decoding, and the collector that gathers digests before they are sorted.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "exhibit/hashset.hpp"

namespace exhibit::hashset_detail {

// The 64-byte header of every .bin table; integers little-endian (the only byte order
// this appliance runs on; open() refuses anything else by the magic and version).
struct TableHeader {
    char magic[8];              // "EXHSET1\0"
    std::uint32_t version;      // 1
    std::uint32_t digest_size;  // 16, 20 or 32
    std::uint64_t count;        // digests that follow, sorted ascending, distinct
    std::uint32_t has_categories;
    std::uint32_t reserved;
    std::uint8_t padding[32];
};
static_assert(sizeof(TableHeader) == 64);
inline constexpr char kTableMagic[8] = {'E', 'X', 'H', 'S', 'E', 'T', '1', '\0'};
inline constexpr std::uint16_t kNoCategory = 0xFFFF;

inline std::size_t digest_size(HashAlgorithm a) {
    return a == HashAlgorithm::Md5 ? 16 : a == HashAlgorithm::Sha1 ? 20 : 32;
}
inline std::string table_file_name(HashAlgorithm a) {
    return std::string(to_string(a)) + ".bin";
}

// Decodes `n` hex digits (either case) into n/2 bytes; false when any is not hex.
bool decode_hex(const char* text, std::size_t n, std::uint8_t* out);

// The algorithm a digest of `hex_digits` digits belongs to, or false.
inline bool algorithm_for_length(std::size_t hex_digits, HashAlgorithm& out) {
    switch (hex_digits) {
        case 32:
            out = HashAlgorithm::Md5;
            return true;
        case 40:
            out = HashAlgorithm::Sha1;
            return true;
        case 64:
            out = HashAlgorithm::Sha256;
            return true;
        default:
            return false;
    }
}

template <std::size_t N>
struct Entry {
    std::array<std::uint8_t, N> digest;
    std::uint16_t category;  // index into the set's categories, or kNoCategory
};

// Gathers every digest of an import, then sorts, removes and counts duplicates.
class EntryCollector {
  public:
    // Interns a category name; empty gives kNoCategory. Error past 65,534 categories.
    Expected<std::uint16_t> category(const std::string& name);
    const std::vector<std::string>& categories() const { return categories_; }

    // `digest` holds digest_size(a) bytes.
    void add(HashAlgorithm a, const std::uint8_t* digest, std::uint16_t category);

    // Sorts and removes duplicates; adds them to counts.duplicates and fills the
    // per-algorithm and imported counts.
    void finish(HashSetCounts& counts);
    // Writes the table for `a` (nothing when it has no digests) into `dir`.
    Status write_table(HashAlgorithm a, const std::filesystem::path& dir) const;

  private:
    std::vector<Entry<16>> md5_;
    std::vector<Entry<20>> sha1_;
    std::vector<Entry<32>> sha256_;
    std::vector<std::string> categories_;
    std::map<std::string, std::uint16_t> category_ids_;
};

// Where malformed input is; keeps the first kMalformedExamples places.
inline void note_malformed(HashSetCounts& counts, const std::string& where) {
    ++counts.malformed;
    if (counts.first_malformed.size() < kMalformedExamples) counts.first_malformed.push_back(where);
}

// The format readers. Each adds every digest of `bytes` (the file's whole content) to
// `out` and counts what it could not read; an Error when the file as a whole is not of
// that format. `label` names the file in messages.
Status read_list(std::string_view bytes, const std::string& label, std::uint16_t category,
                 EntryCollector& out, HashSetCounts& counts);
Status read_hashdeep(std::string_view bytes, const std::string& label, std::uint16_t category,
                     EntryCollector& out, HashSetCounts& counts);
Status read_vics(std::string_view bytes, const std::string& label, const std::string& category,
                 EntryCollector& out, HashSetCounts& counts);
Status read_nsrl(const std::filesystem::path& file, const std::string& label,
                 std::uint16_t category, EntryCollector& out, HashSetCounts& counts);

Expected<HashSetInfo> hash_set_info_from_json(const std::string& text, const std::string& where);

}  // namespace exhibit::hashset_detail
