// YARA rule packs and case keywords, compiled once and shared by every scan worker.
//
//   auto yara = YaraLibrary::initialize();                  // main thread, once
//   RuleSetOptions o{.packs = {"rules/"}, .keywords = "kw.txt",
//                    .cache_dir = default_rules_cache_dir()};
//   auto rules = CompiledRules::build(*yara, o);            // main thread
//   options.scanners.push_back(make_yara_scanner_factory(*rules, {}, stats));
//
// Promises
// - A pack is a rule file or a directory searched recursively for `*.yar` / `*.yara`.
//   Every rule file compiles in its own namespace, "<pack name>/<path in the pack>".
//   A file that does not compile is reported with its file and line (RuleFileReport)
//   and left out; the other files still load. Only a pack that cannot be read at all,
//   or a bad keyword list, is an Error.
// - The external variables `filename`, `filepath` (from the file-system root, leading
//   "/"), `extension` (lowercase, no dot) and `filetype` (libmagic MIME type, e.g.
//   "image/jpeg") are defined for every rule and set for every file scanned.
// - Compiled rules are cached under `cache_dir` by the SHA-256 of the sorted (path,
//   content) list of every rule file plus the keyword list and the YARA version, with
//   yr_rules_save / yr_rules_load; a second build of the same sources is a cache hit.
//   Files pulled in by `include` (resolved against the including file's directory) are
//   listed with their SHA-256 beside the cache entry and re-hashed on every load: a
//   changed, added or removed included file makes the build compile afresh.
// - Each pack's SHA-256 (`RulePackReport::sha256`) is the SHA-256 of its manifest: one
//   line "<sha256 of file>  <path>\n" per rule file and per file a rule file includes
//   (paths relative to the pack's folder, so "../lib/x.inc" for an include outside it),
//   sorted by path, exactly what `sha256sum` prints, so a lab can recompute it with
//   coreutils. An include that cannot be read is not in it (its file does not compile).
// - Keywords: one term per line, `#` starts a comment line, blank lines ignored, leading
//   and trailing blanks trimmed; `/regex/` is a YARA regular expression. Every term is
//   matched case-insensitively as ASCII (and UTF-8) and as UTF-16LE, in the generated
//   namespace "keywords"; hits have kind "keyword" and name = the term as written. A bad
//   term is an Error naming the list and the line.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "exhibit/error.hpp"
#include "exhibit/scanner.hpp"

struct YR_RULES;

namespace exhibit {

// yr_initialize on construction, yr_finalize on destruction. Make it on the main thread
// before any rules are compiled; CompiledRules keep it alive.
class YaraLibrary {
  public:
    static Expected<std::shared_ptr<YaraLibrary>> initialize();
    ~YaraLibrary();
    YaraLibrary(const YaraLibrary&) = delete;
    YaraLibrary& operator=(const YaraLibrary&) = delete;
    static std::string version();  // "4.2.3"

  private:
    YaraLibrary() = default;
};

struct RuleMessage {
    int line = 0;  // 0 when the compiler names no line
    std::string text;
    bool warning = false;
};

struct RuleFileReport {
    std::filesystem::path file;
    std::string relative;               // path inside its pack
    std::string name_space;             // "<pack name>/<relative>"
    std::string sha256;                 // of the file's bytes
    bool compiled = false;              // false: left out, see messages
    int rules = 0;                      // rules the file defines (when compiled)
    std::vector<RuleMessage> messages;  // errors and warnings, with lines
};

// A file pulled in by `include`, as the pack's manifest lists it.
struct IncludedFile {
    std::string relative;  // to the pack's folder
    std::string sha256;
};

struct RulePackReport {
    std::filesystem::path path;  // as given
    std::string name;            // the last path component, used in namespaces
    std::filesystem::path root;  // the folder manifest paths are relative to
    std::string sha256;          // of the manifest (see the top of this file)
    std::vector<RuleFileReport> files;
    std::vector<IncludedFile> includes;  // what the rule files include, in include order
};

struct KeywordTerm {
    int line = 0;      // in the keyword list, 1-based
    std::string term;  // as written (regexes with their slashes)
    bool regex = false;
};

struct RuleSetOptions {
    std::vector<std::filesystem::path> packs;
    std::optional<std::filesystem::path> keywords;
    std::filesystem::path cache_dir;  // empty: no cache
};

// `$EXHIBIT_HOME/cache`, EXHIBIT_HOME defaulting to `~/.local/share/exhibit`.
std::filesystem::path default_rules_cache_dir();

// Parses a keyword list (format above). Errors name the file and line.
Expected<std::vector<KeywordTerm>> read_keyword_list(const std::filesystem::path& path);

class CompiledRules {
  public:
    static Expected<std::shared_ptr<const CompiledRules>> build(
        const std::shared_ptr<YaraLibrary>& yara, const RuleSetOptions& options);
    ~CompiledRules();
    CompiledRules(const CompiledRules&) = delete;
    CompiledRules& operator=(const CompiledRules&) = delete;

    const std::vector<RulePackReport>& packs() const { return packs_; }
    const std::vector<KeywordTerm>& keywords() const { return keywords_; }
    const std::string& keywords_sha256() const { return keywords_sha256_; }
    std::size_t rule_count() const { return rule_count_; }
    std::vector<std::string> rule_names() const;  // identifiers, in compiled order
    std::size_t failed_files() const;
    bool from_cache() const { return from_cache_; }
    const std::string& cache_key() const { return cache_key_; }
    const std::string& cache_warning() const { return cache_warning_; }  // cache not usable
    YR_RULES* yr_rules() const { return rules_; }

  private:
    CompiledRules() = default;
    friend struct RulesBuilder;
    std::shared_ptr<YaraLibrary> yara_;
    YR_RULES* rules_ = nullptr;
    std::vector<RulePackReport> packs_;
    std::vector<KeywordTerm> keywords_;
    std::string keywords_sha256_;
    std::size_t rule_count_ = 0;
    bool from_cache_ = false;
    std::string cache_key_;
    std::string cache_warning_;
};

struct YaraScanOptions {
    std::uint64_t max_bytes = 64ull << 20;  // per file; the rest is not scanned (recorded)
    int max_strings = 8;                    // matched strings kept per hit
    int timeout_seconds = 60;               // per file
};

// Shared by every worker's scanner; read after the walk.
struct YaraScanStats {
    std::atomic<std::uint64_t> files_scanned{0};
    std::atomic<std::uint64_t> bytes_scanned{0};
    std::atomic<std::uint64_t> files_truncated{0};  // larger than max_bytes
    std::atomic<std::uint64_t> scan_errors{0};      // timeouts, too many matches, ...
    std::mutex mutex;
    std::vector<ScanNote> notes;  // "path: scanned the first N of M bytes", errors
};

// One YR_SCANNER per worker over the shared rules, scanning the bytes the single read
// delivers (buffered per worker up to max_bytes). Put it after the file-type scanner so
// `filetype` is known. Hits: kind "yara" (category = namespace, severity = the rule's
// `severity` meta, detail = tags, metadata, the first matched strings with offsets and
// excerpts) or kind "keyword" (name = the term, detail = offsets with context).
ScannerFactory make_yara_scanner_factory(std::shared_ptr<const CompiledRules> rules,
                                         YaraScanOptions options,
                                         std::shared_ptr<YaraScanStats> stats);

// What to keep with the run (CaseDatabase::add_scan_notes): the rule files left out of
// `rules`, then the scan's notes from `stats` (either may be null).
std::vector<ScanNote> scan_notes(const CompiledRules* rules, YaraScanStats* stats);

}  // namespace exhibit
