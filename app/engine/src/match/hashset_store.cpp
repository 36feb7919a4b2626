// The hash-set store: import (read the sources, sort, write the tables, describe the
// set) and list. Layout in hashset.hpp.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "io/json_numbers.hpp"
#include "match/hashset_internal.hpp"

namespace exhibit {

namespace fs = std::filesystem;
using namespace hashset_detail;

const char* to_string(HashSetKind kind) {
    switch (kind) {
        case HashSetKind::KnownGood:
            return "known-good";
        case HashSetKind::KnownBad:
            return "known-bad";
        case HashSetKind::Watch:
            return "watch";
    }
    return "?";
}

Expected<HashSetKind> parse_hash_set_kind(const std::string& text) {
    if (text == "known-good") return HashSetKind::KnownGood;
    if (text == "known-bad") return HashSetKind::KnownBad;
    if (text == "watch") return HashSetKind::Watch;
    return make_error(ErrorKind::InvalidArgument,
                      "hash-set kind '" + text + "' is not known-good, known-bad or watch");
}

const char* to_string(HashSetFormat format) {
    switch (format) {
        case HashSetFormat::Auto:
            return "auto";
        case HashSetFormat::List:
            return "list";
        case HashSetFormat::Hashdeep:
            return "hashdeep";
        case HashSetFormat::Nsrl:
            return "nsrl";
        case HashSetFormat::Vics:
            return "vics";
    }
    return "?";
}

Expected<HashSetFormat> parse_hash_set_format(const std::string& text) {
    for (HashSetFormat f : {HashSetFormat::Auto, HashSetFormat::List, HashSetFormat::Hashdeep,
                            HashSetFormat::Nsrl, HashSetFormat::Vics}) {
        if (text == to_string(f)) return f;
    }
    return make_error(ErrorKind::InvalidArgument,
                      "hash-set format '" + text + "' is not auto, list, hashdeep, nsrl or vics");
}

const char* to_string(HashVerdict verdict) {
    switch (verdict) {
        case HashVerdict::Unknown:
            return "unknown";
        case HashVerdict::KnownGood:
            return "known-good";
        case HashVerdict::Watch:
            return "watch";
        case HashVerdict::KnownBad:
            return "known-bad";
    }
    return "?";
}

namespace {

HashSetFormat detect_from_bytes(std::string_view head) {
    if (head.starts_with(std::string_view("SQLite format 3\0", 16))) return HashSetFormat::Nsrl;
    if (head.starts_with("\xEF\xBB\xBF")) head.remove_prefix(3);
    std::size_t first = head.find_first_not_of(" \t\r\n");
    if (first != std::string_view::npos && head[first] == '{') return HashSetFormat::Vics;
    if (head.starts_with("%%%% HASHDEEP") || head.starts_with("%%%% size,"))
        return HashSetFormat::Hashdeep;
    return HashSetFormat::List;
}

// A read-only map of a whole source file.
class MappedFile {
  public:
    static Expected<MappedFile> open(const fs::path& path) {
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) return errno_error("cannot open hash-set source " + path.string(), errno);
        struct stat st {};
        if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            int err = errno;
            ::close(fd);
            if (err == 0 || S_ISDIR(st.st_mode))
                return make_error(ErrorKind::InvalidArgument,
                                  "hash-set source " + path.string() + " is not a regular file");
            return errno_error("cannot read hash-set source " + path.string(), err);
        }
        MappedFile m;
        m.size_ = static_cast<std::size_t>(st.st_size);
        if (m.size_ > 0) {
            void* p = ::mmap(nullptr, m.size_, PROT_READ, MAP_PRIVATE, fd, 0);
            if (p == MAP_FAILED) {
                int err = errno;
                ::close(fd);
                return errno_error("cannot map hash-set source " + path.string(), err);
            }
            ::madvise(p, m.size_, MADV_SEQUENTIAL);
            m.data_ = static_cast<const char*>(p);
        }
        ::close(fd);
        return m;
    }
    MappedFile() = default;
    MappedFile(MappedFile&& o) noexcept
        : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
    MappedFile& operator=(MappedFile&&) = delete;
    ~MappedFile() {
        if (data_) ::munmap(const_cast<char*>(data_), size_);
    }
    std::string_view bytes() const { return {data_ ? data_ : "", size_}; }

  private:
    const char* data_ = nullptr;
    std::size_t size_ = 0;
};

void digest_bytes(std::string_view bytes, Digest& a, Digest& b) {
    constexpr std::size_t kStep = 8u << 20;
    for (std::size_t pos = 0; pos < bytes.size(); pos += kStep) {
        std::size_t n = std::min(kStep, bytes.size() - pos);
        std::span<const std::byte> s(reinterpret_cast<const std::byte*>(bytes.data() + pos), n);
        a.update(s);
        b.update(s);
    }
}

std::string utc_now() {
    auto now = std::chrono::system_clock::now();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
    std::time_t secs = static_cast<std::time_t>(ms.count() / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char text[40];
    std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(ms.count() % 1000));
    return text;
}

bool valid_name(const std::string& name) {
    if (name.empty() || name.size() > 100 || name.front() == '.' || name == "all") return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    });
}

nlohmann::json to_json(const HashSetInfo& info) {
    nlohmann::json sources = nlohmann::json::array();
    for (const auto& s : info.sources) {
        sources.push_back(
            {{"path", s.path}, {"sha256", s.sha256}, {"size", s.size}, {"format", s.format}});
    }
    const HashSetCounts& c = info.counts;
    return {{"name", info.name},
            {"kind", to_string(info.kind)},
            {"sha256", info.sha256},
            {"imported_at", info.imported_at},
            {"categories", info.categories},
            {"sources", sources},
            {"counts",
             {{"imported", c.imported},
              {"md5", c.md5},
              {"sha1", c.sha1},
              {"sha256", c.sha256},
              {"duplicates", c.duplicates},
              {"malformed", c.malformed},
              {"first_malformed", c.first_malformed}}}};
}

// Writes `bytes` to `path` and flushes it to the disk.
Status write_file_synced(const fs::path& path, const std::string& bytes) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return errno_error("cannot create " + path.string(), errno);
    std::size_t done = 0;
    while (done < bytes.size()) {
        ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            int err = errno;
            ::close(fd);
            return errno_error("cannot write " + path.string(), err);
        }
        done += static_cast<std::size_t>(n);
    }
    if (::fsync(fd) != 0) {
        int err = errno;
        ::close(fd);
        return errno_error("cannot flush " + path.string(), err);
    }
    ::close(fd);
    return ok();
}

template <std::size_t N>
void sort_unique(std::vector<Entry<N>>& v, std::uint64_t& duplicates) {
    std::sort(v.begin(), v.end(), [](const Entry<N>& a, const Entry<N>& b) {
        int c = std::memcmp(a.digest.data(), b.digest.data(), N);
        return c < 0 || (c == 0 && a.category < b.category);
    });
    auto end = std::unique(v.begin(), v.end(), [](const Entry<N>& a, const Entry<N>& b) {
        return std::memcmp(a.digest.data(), b.digest.data(), N) == 0;
    });
    duplicates += static_cast<std::uint64_t>(v.end() - end);
    v.erase(end, v.end());
    v.shrink_to_fit();
}

template <std::size_t N>
Status write_entries(const std::vector<Entry<N>>& v, bool categories, const fs::path& path) {
    std::vector<char> buffer(1u << 20);  // outlives the FILE that uses it
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "wbx"),
                                                      &std::fclose);
    if (!f) return errno_error("cannot create " + path.string(), errno);
    std::setvbuf(f.get(), buffer.data(), _IOFBF, buffer.size());
    TableHeader h{};
    std::memcpy(h.magic, kTableMagic, sizeof h.magic);
    h.version = 1;
    h.digest_size = N;
    h.count = v.size();
    h.has_categories = categories ? 1 : 0;
    bool good = std::fwrite(&h, sizeof h, 1, f.get()) == 1;
    for (std::size_t i = 0; good && i < v.size(); ++i)
        good = std::fwrite(v[i].digest.data(), N, 1, f.get()) == 1;
    for (std::size_t i = 0; good && categories && i < v.size(); ++i)
        good = std::fwrite(&v[i].category, sizeof(std::uint16_t), 1, f.get()) == 1;
    if (!good || std::fflush(f.get()) != 0 || ::fsync(::fileno(f.get())) != 0)
        return errno_error("cannot write " + path.string(), errno);
    std::FILE* raw = f.release();
    if (std::fclose(raw) != 0) return errno_error("cannot write " + path.string(), errno);
    return ok();
}

}  // namespace

Expected<std::uint16_t> EntryCollector::category(const std::string& name) {
    if (name.empty()) return kNoCategory;
    auto it = category_ids_.find(name);
    if (it != category_ids_.end()) return it->second;
    if (categories_.size() >= kNoCategory)
        return make_error(ErrorKind::Unsupported, "a hash set holds at most 65,534 categories");
    auto id = static_cast<std::uint16_t>(categories_.size());
    categories_.push_back(name);
    category_ids_.emplace(name, id);
    return id;
}

void EntryCollector::add(HashAlgorithm a, const std::uint8_t* digest, std::uint16_t category) {
    switch (a) {
        case HashAlgorithm::Md5: {
            auto& e = md5_.emplace_back();
            std::memcpy(e.digest.data(), digest, 16);
            e.category = category;
            break;
        }
        case HashAlgorithm::Sha1: {
            auto& e = sha1_.emplace_back();
            std::memcpy(e.digest.data(), digest, 20);
            e.category = category;
            break;
        }
        case HashAlgorithm::Sha256: {
            auto& e = sha256_.emplace_back();
            std::memcpy(e.digest.data(), digest, 32);
            e.category = category;
            break;
        }
    }
}

void EntryCollector::finish(HashSetCounts& counts) {
    sort_unique(md5_, counts.duplicates);
    sort_unique(sha1_, counts.duplicates);
    sort_unique(sha256_, counts.duplicates);
    counts.md5 = md5_.size();
    counts.sha1 = sha1_.size();
    counts.sha256 = sha256_.size();
    counts.imported = counts.md5 + counts.sha1 + counts.sha256;
}

Status EntryCollector::write_table(HashAlgorithm a, const fs::path& dir) const {
    fs::path path = dir / table_file_name(a);
    bool cats = !categories_.empty();
    switch (a) {
        case HashAlgorithm::Md5:
            return md5_.empty() ? ok() : write_entries(md5_, cats, path);
        case HashAlgorithm::Sha1:
            return sha1_.empty() ? ok() : write_entries(sha1_, cats, path);
        case HashAlgorithm::Sha256:
            return sha256_.empty() ? ok() : write_entries(sha256_, cats, path);
    }
    return ok();
}

std::string hash_set_info_json(const HashSetInfo& info) {
    return to_json(info).dump();
}

Expected<HashSetInfo> hashset_detail::hash_set_info_from_json(const std::string& text,
                                                              const std::string& where) {
    try {
        nlohmann::json j = nlohmann::json::parse(text);
        HashSetInfo info;
        info.name = j.at("name").get<std::string>();
        auto kind = parse_hash_set_kind(j.at("kind").get<std::string>());
        if (!kind) return make_error(ErrorKind::Format, where + ": " + kind.error().message);
        info.kind = *kind;
        info.sha256 = j.at("sha256").get<std::string>();
        info.imported_at = j.at("imported_at").get<std::string>();
        info.categories = j.at("categories").get<std::vector<std::string>>();
        for (const auto& s : j.at("sources")) {
            info.sources.push_back(
                {s.at("path").get<std::string>(), s.at("sha256").get<std::string>(),
                 io::json_integer<std::uint64_t>(s.at("size")), s.at("format").get<std::string>()});
        }
        const auto& c = j.at("counts");
        info.counts.imported = io::json_integer<std::uint64_t>(c.at("imported"));
        info.counts.md5 = io::json_integer<std::uint64_t>(c.at("md5"));
        info.counts.sha1 = io::json_integer<std::uint64_t>(c.at("sha1"));
        info.counts.sha256 = io::json_integer<std::uint64_t>(c.at("sha256"));
        info.counts.duplicates = io::json_integer<std::uint64_t>(c.at("duplicates"));
        info.counts.malformed = io::json_integer<std::uint64_t>(c.at("malformed"));
        info.counts.first_malformed = c.at("first_malformed").get<std::vector<std::string>>();
        return info;
    } catch (const nlohmann::json::exception& e) {
        return make_error(ErrorKind::Format, where + " is damaged: " + e.what());
    }
}

Expected<HashSetFormat> detect_hash_set_format(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return errno_error("cannot open hash-set source " + file.string(), errno);
    std::string head(4096, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<std::size_t>(in.gcount()));
    return detect_from_bytes(head);
}

fs::path HashSetStore::default_path() {
    if (const char* home = std::getenv("EXHIBIT_HOME"); home && *home)
        return fs::path(home) / "hashsets";
    const char* user_home = std::getenv("HOME");
    return fs::path(user_home && *user_home ? user_home : ".") / ".local/share/exhibit/hashsets";
}

HashSetStore::HashSetStore(fs::path path) : path_(std::move(path)) {}

Expected<HashSetInfo> HashSetStore::import(const HashSetImport& request) const {
    if (!valid_name(request.name))
        return make_error(ErrorKind::InvalidArgument,
                          "hash-set name '" + request.name +
                              "' must be letters, digits, '.', '_' or '-', not start with '.' "
                              "and not be 'all'");
    if (request.files.empty())
        return make_error(ErrorKind::InvalidArgument, "no hash-set source files given");
    const fs::path final_dir = path_ / request.name;
    std::error_code ec;
    if (fs::exists(final_dir, ec))
        return make_error(ErrorKind::InvalidArgument, "a hash set named '" + request.name +
                                                          "' already exists in " + path_.string());

    HashSetInfo info;
    info.name = request.name;
    info.kind = request.kind;
    EntryCollector collector;
    auto default_category = collector.category(request.category);
    if (!default_category) return default_category.error();
    Digest whole(HashAlgorithm::Sha256);
    for (const fs::path& file : request.files) {
        auto mapped = MappedFile::open(file);
        if (!mapped) return mapped.error();
        std::string_view bytes = mapped->bytes();
        Digest own(HashAlgorithm::Sha256);
        digest_bytes(bytes, own, whole);
        HashSetFormat format = request.format;
        if (format == HashSetFormat::Auto) format = detect_from_bytes(bytes.substr(0, 4096));
        const std::string label = file.string();
        Status read = ok();
        switch (format) {
            case HashSetFormat::Auto:
            case HashSetFormat::List:
                read = read_list(bytes, label, *default_category, collector, info.counts);
                break;
            case HashSetFormat::Hashdeep:
                read = read_hashdeep(bytes, label, *default_category, collector, info.counts);
                break;
            case HashSetFormat::Vics:
                read = read_vics(bytes, label, request.category, collector, info.counts);
                break;
            case HashSetFormat::Nsrl:
                read = read_nsrl(file, label, *default_category, collector, info.counts);
                break;
        }
        if (!read) return read.error();
        info.sources.push_back({label, own.finish_hex(), bytes.size(), to_string(format)});
    }
    info.sha256 = whole.finish_hex();
    collector.finish(info.counts);
    info.categories = collector.categories();
    if (info.counts.imported == 0) {
        std::string where;
        if (!info.counts.first_malformed.empty())
            where = " (" + std::to_string(info.counts.malformed) + " malformed, the first at " +
                    info.counts.first_malformed.front() + ")";
        return make_error(ErrorKind::Format,
                          "no hashes found in " + request.files.front().string() +
                              (request.files.size() > 1 ? " and the rest" : "") + where);
    }
    info.imported_at = utc_now();

    // Built under a temporary name and renamed into place: a set is whole or absent.
    fs::create_directories(path_, ec);
    if (ec) return errno_error("cannot create the hash-set store " + path_.string(), ec.value());
    const fs::path work = path_ / (".import-" + request.name + "-" + std::to_string(::getpid()));
    fs::remove_all(work, ec);
    if (!fs::create_directory(work, ec))
        return errno_error("cannot create " + work.string(), ec ? ec.value() : EEXIST);
    auto fail = [&](Error e) -> Expected<HashSetInfo> {
        std::error_code ignored;
        fs::remove_all(work, ignored);
        return e;
    };
    for (HashAlgorithm a : {HashAlgorithm::Md5, HashAlgorithm::Sha1, HashAlgorithm::Sha256}) {
        if (Status s = collector.write_table(a, work); !s) return fail(s.error());
    }
    if (Status s = write_file_synced(work / "set.json", to_json(info).dump(2) + "\n"); !s)
        return fail(s.error());
    if (::rename(work.c_str(), final_dir.c_str()) != 0) {
        int err = errno;
        if (err == EEXIST || err == ENOTEMPTY)
            return fail(make_error(
                ErrorKind::InvalidArgument,
                "a hash set named '" + request.name + "' already exists in " + path_.string()));
        return fail(errno_error("cannot move the new set into " + final_dir.string(), err));
    }
    if (int dir = ::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
    return info;
}

Expected<std::vector<HashSetInfo>> HashSetStore::list() const {
    std::vector<HashSetInfo> sets;
    std::error_code ec;
    if (!fs::exists(path_, ec)) return sets;
    for (const auto& entry : fs::directory_iterator(path_, ec)) {
        std::string name = entry.path().filename().string();
        if (name.empty() || name.front() == '.' || !entry.is_directory()) continue;
        fs::path meta = entry.path() / "set.json";
        std::ifstream in(meta);
        if (!in) return errno_error("cannot read " + meta.string(), errno ? errno : ENOENT);
        std::stringstream text;
        text << in.rdbuf();
        auto info = hash_set_info_from_json(text.str(), meta.string());
        if (!info) return info.error();
        sets.push_back(std::move(*info));
    }
    if (ec) return errno_error("cannot list the hash-set store " + path_.string(), ec.value());
    std::sort(sets.begin(), sets.end(),
              [](const HashSetInfo& a, const HashSetInfo& b) { return a.name < b.name; });
    return sets;
}

}  // namespace exhibit
