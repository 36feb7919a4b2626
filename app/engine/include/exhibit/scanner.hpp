// Content scanners: everything that looks at a file's bytes does so through this one
// interface, fed from the single read of each file.
//
// Phases (as bulk_extractor's scanners): a factory is called once per worker thread on
// that thread's start; the scanner then sees begin / update... / finish for each file
// the worker handles, in order. Scanners never read the source themselves.
//
// The list of scanners is default_scanners(), in scanner.cpp: add one there.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "exhibit/hashing.hpp"

namespace exhibit {

struct FileEntry;

// One match against a file's content or hashes: a hash set, a YARA rule or a case
// keyword. Stored in the case database's `hits` table.
struct Hit {
    std::string kind;      // "hashset", "yara" or "keyword"
    std::string name;      // the set's name, the rule's name or the keyword as written
    std::string category;  // hash-set category, YARA namespace; may be empty
    std::string severity;  // hash sets: "known-bad" or "watch"; YARA: the rule's severity
    std::string detail;    // a JSON object: why it matched (matched hash, strings, offsets)
};

// Something a scan could not do in full, kept with its run (the case database's
// scan_notes): a file YARA scanned only up to --yara-max-size ("yara-truncated"), a YARA
// scan that failed or timed out ("yara-error"), a rule file left out because it does not
// compile ("rule-file").
struct ScanNote {
    std::string kind;
    std::string path;     // the evidence file (from the file-system root), or the rule file
    std::string message;  // one sentence naming the file
};

// What the scanners found in one file's content.
struct FileFindings {
    Hashes hashes;
    std::string mime_type;            // libmagic, e.g. "image/jpeg"
    std::string type_description;     // libmagic's words, e.g. "JPEG image data, JFIF ..."
    bool extension_mismatch = false;  // the name's extension contradicts the content
    // Hash-set verdict: "known-good", "known-bad", "watch" or "unknown"; empty when no
    // hash sets were consulted.
    std::string hash_status;
    std::vector<Hit> hits;
    // What the scanners could not do in full for this file, and the YARA scanner's count
    // of what it scanned. The notes are stored with the file's row, in the same
    // transaction, so a run killed later keeps them; the walk also adds both to the run's
    // YaraScanStats in the process that owns the case (the scanners run in the parser
    // worker).
    std::vector<ScanNote> notes;
    struct YaraTally {
        std::uint64_t files = 0, bytes = 0, truncated = 0, errors = 0;
    } yara;
};

class Scanner {
  public:
    virtual ~Scanner() = default;
    virtual void begin(const FileEntry& file) = 0;
    virtual void update(std::span<const std::byte> bytes) = 0;
    virtual void finish(FileFindings& findings) = 0;
};

using ScannerFactory = std::function<std::unique_ptr<Scanner>()>;

// Hashes (MD5, SHA-1, SHA-256) and file type, in that order.
std::vector<ScannerFactory> default_scanners();

std::unique_ptr<Scanner> make_hash_scanner();
std::unique_ptr<Scanner> make_file_type_scanner();

// True when `file_name`'s extension is not one the MIME type is stored under, for the
// types whose extensions are well known (images, documents, archives, executables).
bool extension_contradicts(const std::string& file_name, const std::string& mime_type);

}  // namespace exhibit
