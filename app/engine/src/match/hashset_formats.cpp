// The hash-set source formats: plain lists (and *sum output), hashdeep CSV, NSRL RDS v3
// (SQLite) and Project VIC VICS JSON. Each reader adds digests to the collector and counts
// what it cannot read, naming where.
#include <sqlite3.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "match/hashset_internal.hpp"

namespace exhibit::hashset_detail {

namespace {

// Calls `fn(line, number)` for each line, without its "\n" or "\r\n".
template <typename Fn>
void for_each_line(std::string_view bytes, Fn&& fn) {
    if (bytes.starts_with("\xEF\xBB\xBF")) bytes.remove_prefix(3);  // UTF-8 byte-order mark
    std::uint64_t number = 0;
    std::size_t pos = 0;
    while (pos < bytes.size()) {
        std::size_t end = bytes.find('\n', pos);
        if (end == std::string_view::npos) end = bytes.size();
        std::string_view line = bytes.substr(pos, end - pos);
        pos = end + 1;
        ++number;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        fn(line, number);
    }
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return s;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// A digest of the expected algorithm (or any, when `want` is null), decoded into `out`.
bool parse_digest(std::string_view hex, const HashAlgorithm* want, HashAlgorithm& algorithm,
                  std::uint8_t* out) {
    if (!algorithm_for_length(hex.size(), algorithm)) return false;
    if (want && *want != algorithm) return false;
    return decode_hex(hex.data(), hex.size(), out);
}

std::string at_line(const std::string& label, std::uint64_t line) {
    return label + ":" + std::to_string(line);
}

}  // namespace

bool decode_hex(const char* text, std::size_t n, std::uint8_t* out) {
    static const auto table = [] {
        std::array<std::int8_t, 256> t{};
        t.fill(-1);
        for (int i = 0; i < 10; ++i)
            t['0' + i] = static_cast<std::int8_t>(i);
        for (int i = 0; i < 6; ++i) {
            t['a' + i] = static_cast<std::int8_t>(10 + i);
            t['A' + i] = static_cast<std::int8_t>(10 + i);
        }
        return t;
    }();
    if (n % 2) return false;
    for (std::size_t i = 0; i < n; i += 2) {
        int hi = table[static_cast<unsigned char>(text[i])];
        int lo = table[static_cast<unsigned char>(text[i + 1])];
        if (hi < 0 || lo < 0) return false;
        out[i / 2] = static_cast<std::uint8_t>(hi << 4 | lo);
    }
    return true;
}

// One hash per line; also md5sum/sha1sum/sha256sum output ("HEX  name", "HEX *name",
// "\HEX  escaped\nname") and their BSD-style tags ("SHA256 (name) = HEX"). Blank lines
// and lines starting with '#' are comments.
Status read_list(std::string_view bytes, const std::string& label, std::uint16_t category,
                 EntryCollector& out, HashSetCounts& counts) {
    for_each_line(bytes, [&](std::string_view line, std::uint64_t number) {
        line = trim(line);
        if (line.empty() || line.front() == '#') return;
        if (line.front() == '\\') line.remove_prefix(1);
        std::string_view token;
        std::size_t tag_end = line.rfind(") = ");
        if (tag_end != std::string_view::npos &&
            (line.starts_with("MD5 (") || line.starts_with("SHA1 (") ||
             line.starts_with("SHA256 ("))) {
            token = trim(line.substr(tag_end + 4));
        } else {
            token = line.substr(0, line.find_first_of(" \t"));
        }
        std::uint8_t digest[32];
        HashAlgorithm algorithm;
        if (!parse_digest(token, nullptr, algorithm, digest)) {
            note_malformed(counts, at_line(label, number));
            return;
        }
        out.add(algorithm, digest, category);
    });
    return ok();
}

// hashdeep/md5deep -c CSV:
//   %%%% HASHDEEP-1.0
//   %%%% size,md5,sha256,filename
//   ## comment lines
//   5,<md5>,<sha256>,/path/with,commas
// The file name is the last column and may hold commas; md5, sha1 and sha256 columns are
// imported, other algorithms (tiger, whirlpool) are checked for presence only.
Status read_hashdeep(std::string_view bytes, const std::string& label, std::uint16_t category,
                     EntryCollector& out, HashSetCounts& counts) {
    std::vector<std::string> columns;
    std::optional<Error> failure;
    for_each_line(bytes, [&](std::string_view line, std::uint64_t number) {
        if (failure) return;
        if (trim(line).empty() || line.starts_with("##")) return;
        if (line.starts_with("%%%%")) {
            std::string_view rest = trim(line.substr(4));
            if (rest.starts_with("HASHDEEP")) return;
            columns.clear();
            std::size_t pos = 0;
            while (pos <= rest.size()) {
                std::size_t comma = rest.find(',', pos);
                if (comma == std::string_view::npos) comma = rest.size();
                columns.push_back(lower(trim(rest.substr(pos, comma - pos))));
                pos = comma + 1;
            }
            bool any = std::any_of(columns.begin(), columns.end(), [](const std::string& c) {
                return c == "md5" || c == "sha1" || c == "sha256";
            });
            if (!any) {
                failure = make_error(ErrorKind::Format,
                                     at_line(label, number) +
                                         ": the hashdeep header names no md5, sha1 or sha256 "
                                         "column");
            }
            return;
        }
        if (columns.empty()) {
            failure = make_error(ErrorKind::Format,
                                 at_line(label, number) +
                                     ": hashdeep data before its \"%%%% size,...\" column header");
            return;
        }
        // Split into columns.size() fields: the last takes the rest of the line.
        std::vector<std::string_view> fields;
        std::size_t pos = 0;
        for (std::size_t i = 0; i + 1 < columns.size(); ++i) {
            std::size_t comma = line.find(',', pos);
            if (comma == std::string_view::npos) break;
            fields.push_back(line.substr(pos, comma - pos));
            pos = comma + 1;
        }
        if (fields.size() + 1 != columns.size()) {
            note_malformed(counts, at_line(label, number));
            return;
        }
        fields.push_back(line.substr(pos));
        struct Found {
            HashAlgorithm algorithm;
            std::array<std::uint8_t, 32> digest;
        };
        std::vector<Found> found;
        for (std::size_t i = 0; i < columns.size(); ++i) {
            const std::string& c = columns[i];
            std::string_view f = trim(fields[i]);
            if (c == "size") {
                if (f.empty() || !std::all_of(f.begin(), f.end(), [](char ch) {
                        return std::isdigit(static_cast<unsigned char>(ch));
                    })) {
                    note_malformed(counts, at_line(label, number));
                    return;
                }
            } else if (c == "md5" || c == "sha1" || c == "sha256") {
                HashAlgorithm want = c == "md5"    ? HashAlgorithm::Md5
                                     : c == "sha1" ? HashAlgorithm::Sha1
                                                   : HashAlgorithm::Sha256;
                Found one{want, {}};
                if (!parse_digest(f, &want, one.algorithm, one.digest.data())) {
                    note_malformed(counts, at_line(label, number));
                    return;
                }
                found.push_back(one);
            }
        }
        for (const Found& one : found)
            out.add(one.algorithm, one.digest.data(), category);
    });
    if (failure) return *failure;
    if (columns.empty())
        return make_error(ErrorKind::Format,
                          label + " has no hashdeep column header (\"%%%% size,md5,...\")");
    return ok();
}

namespace {

const nlohmann::json* field(const nlohmann::json& object, const char* name) {
    for (auto it = object.begin(); it != object.end(); ++it) {
        if (lower(it.key()) == lower(name)) return &it.value();
    }
    return nullptr;
}

struct FoundDigest {
    HashAlgorithm algorithm;
    std::array<std::uint8_t, 32> digest;
};

// One VICS media object (or one of its MediaFiles): its MD5, SHA1 and SHA256 fields.
// Malformed (false) when it has none or any present one is not a digest of its kind.
bool read_vics_hashes(const nlohmann::json& object, std::vector<FoundDigest>& found) {
    if (!object.is_object()) return false;
    std::size_t before = found.size();
    for (auto [name, want] :
         {std::pair{"MD5", HashAlgorithm::Md5}, std::pair{"SHA1", HashAlgorithm::Sha1},
          std::pair{"SHA256", HashAlgorithm::Sha256}}) {
        const nlohmann::json* v = field(object, name);
        if (!v || v->is_null() || (v->is_string() && v->get_ref<const std::string&>().empty()))
            continue;
        FoundDigest one{want, {}};
        HashAlgorithm algorithm;
        if (!v->is_string() ||
            !parse_digest(v->get_ref<const std::string&>(), &want, algorithm, one.digest.data())) {
            found.resize(before);
            return false;
        }
        found.push_back(one);
    }
    return found.size() > before;
}

}  // namespace

// Project VIC VICS JSON (OData): {"@odata.context": ..., "value": [{"MediaID": 1,
// "Category": 1, "MD5": "...", "SHA1": "...", "MediaSize": ..., "MediaFiles": [...]}]}.
// Each media object is one entry; the hashes of its MediaFiles, when it lists any, are
// imported with its category. Category numbers are kept as the file gives them.
Status read_vics(std::string_view bytes, const std::string& label, const std::string& category,
                 EntryCollector& out, HashSetCounts& counts) {
    nlohmann::json root = nlohmann::json::parse(bytes.begin(), bytes.end(), nullptr, false);
    if (root.is_discarded()) return make_error(ErrorKind::Format, label + " is not valid JSON");
    const nlohmann::json* value = root.is_object() ? field(root, "value") : nullptr;
    if (!value || !value->is_array())
        return make_error(
            ErrorKind::Format,
            label + " has no VICS \"value\" array of media (is it Project VIC JSON?)");
    std::uint64_t index = 0;
    for (const nlohmann::json& media : *value) {
        ++index;
        std::string where = label + ":entry " + std::to_string(index);
        std::string cat = category;
        if (media.is_object()) {
            if (const nlohmann::json* c = field(media, "Category")) {
                if (c->is_number_integer())
                    cat = std::to_string(c->get<std::int64_t>());
                else if (c->is_string() && !c->get_ref<const std::string&>().empty())
                    cat = c->get<std::string>();
            }
        }
        bool has_own = media.is_object() &&
                       (field(media, "MD5") || field(media, "SHA1") || field(media, "SHA256"));
        const nlohmann::json* files = media.is_object() ? field(media, "MediaFiles") : nullptr;
        std::vector<FoundDigest> found;
        if (has_own || !files || !files->is_array()) {
            if (!read_vics_hashes(media, found)) {
                note_malformed(counts, where);
                continue;
            }
        }
        if (files && files->is_array()) {
            std::uint64_t sub = 0;
            for (const nlohmann::json& f : *files) {
                ++sub;
                if (!read_vics_hashes(f, found))
                    note_malformed(counts, where + " file " + std::to_string(sub));
            }
        }
        if (found.empty()) continue;
        auto id = out.category(cat);
        if (!id) return id.error();
        for (const FoundDigest& one : found)
            out.add(one.algorithm, one.digest.data(), *id);
    }
    return ok();
}

namespace {

struct SqliteCloser {
    void operator()(sqlite3* db) const { sqlite3_close(db); }
};
struct StmtFinalizer {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};

// file: URI for a path: %, ? and # escaped.
std::string sqlite_uri(const std::filesystem::path& file) {
    std::string uri = "file:";
    for (char c : std::filesystem::absolute(file).string()) {
        if (c == '%' || c == '?' || c == '#') {
            static const char* hex = "0123456789ABCDEF";
            uri += '%';
            uri += hex[static_cast<unsigned char>(c) >> 4];
            uri += hex[static_cast<unsigned char>(c) & 15];
        } else {
            uri += c;
        }
    }
    return uri + "?immutable=1";
}

}  // namespace

// NSRL RDS v3: an SQLite database whose FILE table holds (sha256, sha1, md5, file_name,
// file_size, package_id), one row per file per package, hex in capitals. Opened read-only
// and immutable, so SQLite writes nothing beside it (no -wal, no -shm). Each row is one
// entry: malformed when any digest column is not a digest of its kind.
Status read_nsrl(const std::filesystem::path& file, const std::string& label,
                 std::uint16_t category, EntryCollector& out, HashSetCounts& counts) {
    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(sqlite_uri(file).c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
                             nullptr);
    std::unique_ptr<sqlite3, SqliteCloser> db(raw);
    if (rc != SQLITE_OK)
        return make_error(ErrorKind::Format,
                          "cannot open " + label + " as SQLite: " + sqlite3_errstr(rc));
    // In rowid order, so "row N" names the row a reader of the file finds as rowid N (the
    // planner would otherwise scan the covering primary-key index, in digest order).
    sqlite3_stmt* stmt = nullptr;
    rc = sqlite3_prepare_v2(db.get(), "SELECT md5, sha1, sha256, rowid FROM FILE ORDER BY rowid",
                            -1, &stmt, nullptr);
    std::unique_ptr<sqlite3_stmt, StmtFinalizer> query(stmt);
    if (rc != SQLITE_OK)
        return make_error(ErrorKind::Format,
                          label +
                              " is not an NSRL RDS v3 database (no FILE table with md5, sha1 "
                              "and sha256 columns: " +
                              sqlite3_errmsg(db.get()) + ")");
    std::uint64_t row = 0;
    const HashAlgorithm algorithms[3] = {HashAlgorithm::Md5, HashAlgorithm::Sha1,
                                         HashAlgorithm::Sha256};
    while ((rc = sqlite3_step(query.get())) == SQLITE_ROW) {
        row = static_cast<std::uint64_t>(sqlite3_column_int64(query.get(), 3));
        std::array<std::array<std::uint8_t, 32>, 3> digests{};
        bool present[3] = {false, false, false};
        bool bad = false;
        for (int c = 0; c < 3 && !bad; ++c) {
            const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(query.get(), c));
            int n = sqlite3_column_bytes(query.get(), c);
            std::string_view hex =
                text ? std::string_view(text, static_cast<std::size_t>(n)) : std::string_view();
            hex = trim(hex);
            if (hex.empty()) continue;
            HashAlgorithm algorithm;
            if (!parse_digest(hex, &algorithms[c], algorithm, digests[c].data()))
                bad = true;
            else
                present[c] = true;
        }
        if (bad || !(present[0] || present[1] || present[2])) {
            note_malformed(counts, label + ":row " + std::to_string(row));
            continue;
        }
        for (int c = 0; c < 3; ++c) {
            if (present[c]) out.add(algorithms[c], digests[c].data(), category);
        }
    }
    if (rc != SQLITE_DONE)
        return make_error(ErrorKind::Format, "cannot read " + label + " after rowid " +
                                                 std::to_string(row) + ": " +
                                                 sqlite3_errmsg(db.get()));
    return ok();
}

}  // namespace exhibit::hashset_detail
