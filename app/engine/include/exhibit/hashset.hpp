// Hash sets: known-good, known-bad and watch lists of file digests, kept in a store of
// their own (not in the case database) and consulted by triage for every file it hashes.
//
//   HashSetStore store(HashSetStore::default_path());      // $EXHIBIT_HOME/hashsets
//   auto info = store.import({.files = {"bad.txt"}, .name = "bad", .kind = HashSetKind::KnownBad,
//                             .format = HashSetFormat::Auto, .category = ""});
//   auto library = HashSetLibrary::open(store.path(), {"bad", "nsrl"});   // or {"all"}
//   HashLookup verdict = (*library)->lookup(file.findings.hashes);
//
// Sections: kinds and formats · what a set records · the store · the library · the scanner.
//
// Store layout (one directory per set, written under a temporary name and renamed into
// place when complete, so a set is either whole or absent):
//   STORE/NAME/set.json      name, kind, format, categories, sources with their SHA-256,
//                            the set's SHA-256, counts, import time (HashSetInfo as JSON)
//   STORE/NAME/md5.bin       one per algorithm present: a 64-byte header, then `count`
//   STORE/NAME/sha1.bin      raw digests sorted ascending (16, 20 or 32 bytes each), then,
//   STORE/NAME/sha256.bin    when the set has categories, `count` little-endian u16
//                            category numbers (index into set.json's categories, 0xFFFF
//                            for none). Looked up by binary search over a memory map.
//
// Promises
// - Every input line (row, entry) is imported, counted as a duplicate of an earlier one,
//   counted as malformed (with the first few line numbers), or is a comment/blank line;
//   nothing is dropped silently. A hash listed again with another category is a duplicate;
//   the set keeps the category that sorts first in import order.
// - A set's SHA-256 is that of its source bytes: for one file, `sha256sum FILE`; for
//   several, `cat FILE... | sha256sum` in the order given. The files are only read.
// - Lookups never touch SQL: a few memory-mapped binary searches per file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "exhibit/error.hpp"
#include "exhibit/hashing.hpp"
#include "exhibit/scanner.hpp"

namespace exhibit {

// ---- kinds and formats ----------------------------------------------------------------

enum class HashSetKind {
    KnownGood,  // ignore: matching files are marked known-good and raise no hit
    KnownBad,   // alert: a hit with severity "known-bad"
    Watch,      // alert-only watch list: a hit with severity "watch"
};
const char* to_string(HashSetKind kind);  // "known-good", "known-bad", "watch"
Expected<HashSetKind> parse_hash_set_kind(const std::string& text);

enum class HashSetFormat {
    Auto,      // decided per file from its first bytes
    List,      // one hash per line, or md5sum/sha1sum/sha256sum output; type from length
    Hashdeep,  // hashdeep/md5deep CSV with its "%%%% size,md5,..." header
    Nsrl,      // NSRL RDS v3 SQLite: FILE(md5, sha1, sha256, ...)
    Vics,      // Project VIC VICS JSON: {"value": [{"MD5", "SHA1", "Category", ...}]}
};
const char* to_string(HashSetFormat format);  // "auto", "list", "hashdeep", "nsrl", "vics"
Expected<HashSetFormat> parse_hash_set_format(const std::string& text);

// Files of any format may be read; this names what a file's first bytes look like.
Expected<HashSetFormat> detect_hash_set_format(const std::filesystem::path& file);

// ---- what a set records ---------------------------------------------------------------

struct HashSetSource {
    std::string path;  // as given at import
    std::string sha256;
    std::uint64_t size = 0;
    std::string format;  // the format it was read as
};

struct HashSetCounts {
    std::uint64_t imported = 0;  // distinct digests stored (all algorithms)
    std::uint64_t md5 = 0, sha1 = 0, sha256 = 0;
    std::uint64_t duplicates = 0;  // digests that repeated one already in the set
    std::uint64_t malformed = 0;   // lines (rows, entries) that could not be read
    // Where the first malformed ones are: "bad.txt:7" (line 7), "rds.db:row 12",
    // "vics.json:entry 3". At most kMalformedExamples.
    std::vector<std::string> first_malformed;
};
inline constexpr std::size_t kMalformedExamples = 10;

struct HashSetInfo {
    std::string name;
    HashSetKind kind = HashSetKind::KnownBad;
    std::vector<std::string> categories;  // index = category number in the .bin files
    std::vector<HashSetSource> sources;
    std::string sha256;       // of the source bytes (see the promises above)
    std::string imported_at;  // UTC, RFC 3339 with milliseconds
    HashSetCounts counts;
};

std::string hash_set_info_json(const HashSetInfo& info);  // one JSON object, no newline

// ---- the store ------------------------------------------------------------------------

struct HashSetImport {
    std::vector<std::filesystem::path> files;
    std::string name;  // letters, digits, '.', '_', '-'; not starting with '.'
    HashSetKind kind = HashSetKind::KnownBad;
    HashSetFormat format = HashSetFormat::Auto;
    std::string category;  // for entries whose source gives none; may be empty
};

class HashSetStore {
  public:
    // $EXHIBIT_HOME/hashsets, EXHIBIT_HOME defaulting to ~/.local/share/exhibit.
    static std::filesystem::path default_path();
    explicit HashSetStore(std::filesystem::path path);
    const std::filesystem::path& path() const { return path_; }

    // Reads the files, builds the sorted tables and adds the set. An Error when a file
    // cannot be read or holds no hash at all (Format), when the name is taken or invalid
    // (InvalidArgument), or when the store cannot be written (Io, NoSpace).
    Expected<HashSetInfo> import(const HashSetImport& request) const;
    // Every set in the store, by name. A missing store directory is an empty store.
    Expected<std::vector<HashSetInfo>> list() const;

  private:
    std::filesystem::path path_;
};

// ---- the library ----------------------------------------------------------------------

enum class HashVerdict { Unknown, KnownGood, Watch, KnownBad };  // in rising precedence
const char* to_string(HashVerdict verdict);  // "unknown", "known-good", "watch", "known-bad"

struct HashSetMatch {
    const HashSetInfo* set = nullptr;  // owned by the library
    HashAlgorithm algorithm = HashAlgorithm::Sha256;
    std::string hash;  // lowercase hex, as matched
    std::string category;
};

struct HashLookup {
    HashVerdict verdict = HashVerdict::Unknown;  // the strongest kind among the matches
    std::vector<HashSetMatch> matches;           // one per matching set, strongest digest
};

class HashSetLibrary {
  public:
    // Opens the named sets of `store` ({"all"}: every set). An Error names a set that is
    // not there, or whose files are damaged.
    static Expected<std::shared_ptr<const HashSetLibrary>> open(
        const std::filesystem::path& store, const std::vector<std::string>& names);
    ~HashSetLibrary();
    HashSetLibrary(const HashSetLibrary&) = delete;
    HashSetLibrary& operator=(const HashSetLibrary&) = delete;

    std::vector<const HashSetInfo*> sets() const;
    // Thread-safe: the tables are read-only maps.
    HashLookup lookup(const Hashes& hashes) const;

    struct Table;  // one mapped .bin file

  private:
    HashSetLibrary() = default;
    struct OpenSet;
    std::vector<std::unique_ptr<OpenSet>> sets_;
};

// ---- the scanner ----------------------------------------------------------------------

// A scanner that must come after the hash scanner in WalkOptions::scanners: at finish()
// it looks the file's hashes up, sets FileFindings::hash_status and adds one Hit
// {kind "hashset", name = set, category, severity "known-bad"/"watch", detail {algorithm,
// hash, set_sha256}} per alerting set. A file whose content was not read in full gets no
// verdict (its digests are not the file's).
ScannerFactory hash_set_scanner(std::shared_ptr<const HashSetLibrary> library);

}  // namespace exhibit
