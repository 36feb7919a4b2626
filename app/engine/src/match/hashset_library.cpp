// The hash-set library: the chosen sets' tables memory-mapped read-only, looked up by
// interpolation then binary search (a handful of page-cache reads per digest; no SQL).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <set>
#include <sstream>

#include "match/hashset_internal.hpp"

namespace exhibit {

namespace fs = std::filesystem;
using namespace hashset_detail;

struct HashSetLibrary::Table {
    void* map = nullptr;
    std::size_t map_size = 0;
    const std::uint8_t* digests = nullptr;
    const std::uint8_t* categories = nullptr;  // u16 little-endian, possibly unaligned
    std::uint64_t count = 0;
    std::size_t width = 0;

    ~Table() {
        if (map) ::munmap(map, map_size);
    }

    // The category number of `digest`, kNoCategory when the set has none; false if absent.
    bool find(const std::uint8_t* digest, std::uint16_t& category) const {
        std::uint64_t lo = 0, hi = count;  // the digest, if present, is in [lo, hi)
        // Digests are uniform, so interpolating on the first 8 bytes lands within a few
        // entries in two or three steps (each one cache miss) where plain bisection of
        // ten million entries takes 23; bisection finishes the last small range.
        const std::uint64_t key = prefix(digest);
        for (int step = 0; step < 8 && hi - lo > 8; ++step) {
            const std::uint64_t first = prefix(at(lo)), last = prefix(at(hi - 1));
            if (key < first || key > last) return false;
            if (first == last) break;
            const auto span = static_cast<unsigned __int128>(hi - 1 - lo);
            std::uint64_t mid =
                lo + static_cast<std::uint64_t>(span * (key - first) / (last - first));
            int c = std::memcmp(at(mid), digest, width);
            if (c == 0) return found(mid, category);
            if (c < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        while (lo < hi) {
            std::uint64_t mid = lo + (hi - lo) / 2;
            int c = std::memcmp(at(mid), digest, width);
            if (c == 0) return found(mid, category);
            if (c < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        return false;
    }

  private:
    const std::uint8_t* at(std::uint64_t i) const { return digests + i * width; }
    static std::uint64_t prefix(const std::uint8_t* d) {
        std::uint64_t v = 0;
        for (int i = 0; i < 8; ++i)
            v = v << 8 | d[i];
        return v;
    }
    bool found(std::uint64_t i, std::uint16_t& category) const {
        category = kNoCategory;
        if (categories) std::memcpy(&category, categories + i * 2, 2);
        return true;
    }
};

struct HashSetLibrary::OpenSet {
    HashSetInfo info;
    std::unique_ptr<Table> tables[3];  // by HashAlgorithm
};

namespace {

Expected<std::unique_ptr<HashSetLibrary::Table>> open_table(const fs::path& path,
                                                            HashAlgorithm algorithm,
                                                            std::uint64_t expected_count,
                                                            bool expect_categories) {
    const std::string where = "hash-set table " + path.string();
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno_error("cannot open " + where, errno);
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
        int err = errno;
        ::close(fd);
        return errno_error("cannot read " + where, err);
    }
    auto size = static_cast<std::size_t>(st.st_size);
    const std::size_t width = digest_size(algorithm);
    const std::size_t per_entry = width + (expect_categories ? 2 : 0);
    // A count from a damaged set.json must not wrap the size computed from it.
    const bool fits =
        size >= sizeof(TableHeader) && expected_count <= (size - sizeof(TableHeader)) / per_entry;
    const std::size_t want = fits ? sizeof(TableHeader) + expected_count * per_entry : 0;
    if (!fits || size != want) {
        ::close(fd);
        return make_error(ErrorKind::Format,
                          where + " is damaged: " + std::to_string(size) + " bytes for " +
                              std::to_string(expected_count) + " entries of " +
                              std::to_string(per_entry) + " bytes and a " +
                              std::to_string(sizeof(TableHeader)) + "-byte header");
    }
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    int err = errno;
    ::close(fd);
    if (map == MAP_FAILED) return errno_error("cannot map " + where, err);
    auto table = std::make_unique<HashSetLibrary::Table>();
    table->map = map;
    table->map_size = size;
    TableHeader h;
    std::memcpy(&h, map, sizeof h);
    if (std::memcmp(h.magic, kTableMagic, sizeof h.magic) != 0 || h.version != 1 ||
        h.digest_size != width || h.count != expected_count ||
        (h.has_categories != 0) != expect_categories)
        return make_error(ErrorKind::Format, where + " is damaged: its header does not match");
    table->width = width;
    table->count = h.count;
    table->digests = static_cast<const std::uint8_t*>(map) + sizeof(TableHeader);
    if (expect_categories) table->categories = table->digests + h.count * width;
    ::madvise(map, size, MADV_RANDOM);
    return table;
}

Expected<HashSetInfo> read_info(const fs::path& dir) {
    fs::path meta = dir / "set.json";
    std::ifstream in(meta);
    if (!in) return errno_error("cannot read " + meta.string(), errno ? errno : ENOENT);
    std::stringstream text;
    text << in.rdbuf();
    return hash_set_info_from_json(text.str(), meta.string());
}

}  // namespace

HashSetLibrary::~HashSetLibrary() = default;

Expected<std::shared_ptr<const HashSetLibrary>> HashSetLibrary::open(
    const fs::path& store, const std::vector<std::string>& names) {
    std::vector<std::string> chosen;
    bool all = std::find(names.begin(), names.end(), "all") != names.end();
    if (all) {
        auto sets = HashSetStore(store).list();
        if (!sets) return sets.error();
        for (const auto& s : *sets)
            chosen.push_back(s.name);
        if (chosen.empty())
            return make_error(ErrorKind::NotFound,
                              "the hash-set store " + store.string() +
                                  " holds no sets (add one with `exhibit hashset import`)");
    } else {
        std::set<std::string> seen;
        for (const auto& n : names) {
            if (seen.insert(n).second) chosen.push_back(n);
        }
    }
    std::shared_ptr<HashSetLibrary> library(new HashSetLibrary());
    for (const std::string& name : chosen) {
        const fs::path dir = store / name;
        std::error_code ec;
        if (name.empty() || name.front() == '.' || name.find('/') != std::string::npos ||
            !fs::is_directory(dir, ec))
            return make_error(ErrorKind::NotFound, "no hash set named '" + name + "' in " +
                                                       store.string() +
                                                       " (see `exhibit hashset list`)");
        auto info = read_info(dir);
        if (!info) return info.error();
        auto set = std::make_unique<OpenSet>();
        set->info = std::move(*info);
        const HashSetCounts& c = set->info.counts;
        const bool categories = !set->info.categories.empty();
        for (auto [algorithm, count] :
             {std::pair{HashAlgorithm::Md5, c.md5}, std::pair{HashAlgorithm::Sha1, c.sha1},
              std::pair{HashAlgorithm::Sha256, c.sha256}}) {
            if (count == 0) continue;
            auto table = open_table(dir / table_file_name(algorithm), algorithm, count, categories);
            if (!table) return table.error();
            set->tables[static_cast<int>(algorithm)] = std::move(*table);
        }
        library->sets_.push_back(std::move(set));
    }
    return std::shared_ptr<const HashSetLibrary>(std::move(library));
}

std::vector<const HashSetInfo*> HashSetLibrary::sets() const {
    std::vector<const HashSetInfo*> out;
    for (const auto& s : sets_)
        out.push_back(&s->info);
    return out;
}

HashLookup HashSetLibrary::lookup(const Hashes& hashes) const {
    HashLookup result;
    // Strongest digest first: a set that holds SHA-256 answers by it.
    struct Key {
        HashAlgorithm algorithm;
        const std::string* hex;
        std::uint8_t bytes[32];
        bool valid;
    };
    Key keys[3] = {{HashAlgorithm::Sha256, &hashes.sha256, {}, false},
                   {HashAlgorithm::Sha1, &hashes.sha1, {}, false},
                   {HashAlgorithm::Md5, &hashes.md5, {}, false}};
    for (Key& k : keys) {
        k.valid = k.hex->size() == 2 * digest_size(k.algorithm) &&
                  decode_hex(k.hex->data(), k.hex->size(), k.bytes);
    }
    for (const auto& set : sets_) {
        for (const Key& k : keys) {
            const Table* table = set->tables[static_cast<int>(k.algorithm)].get();
            std::uint16_t category = kNoCategory;
            if (!k.valid || !table || !table->find(k.bytes, category)) continue;
            HashSetMatch match;
            match.set = &set->info;
            match.algorithm = k.algorithm;
            match.hash = *k.hex;
            if (category < set->info.categories.size())
                match.category = set->info.categories[category];
            result.matches.push_back(std::move(match));
            HashVerdict v = set->info.kind == HashSetKind::KnownBad ? HashVerdict::KnownBad
                            : set->info.kind == HashSetKind::Watch  ? HashVerdict::Watch
                                                                    : HashVerdict::KnownGood;
            result.verdict = std::max(result.verdict, v);
            break;
        }
    }
    return result;
}

}  // namespace exhibit
