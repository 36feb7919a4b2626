// The examiner's report (report.html) and the CASE/UCO export (case.jsonld) of a job.
//
//   ReportInput in;
//   in.case_info = {...};                      // from the case model
//   in.source = source->info();
//   in.acquisitions.push_back(acquisition);    // AcquisitionResult, or read_acquisition_record()
//   in.custody = custody_events;               // or read_custody_jsonl()
//   if (auto s = fill_from_case_database(db, in); !s) return s;
//   std::ofstream html(out / "report.html"), jsonld(out / "case.jsonld");
//   write_report_html(in, html);
//   write_case_jsonld(in, jsonld);
//
// Contents
//   ReportCase, WriteBlockEvidence, CustodyTimelineEntry, VerificationStep   the parts
//   ReportInput                 everything a report says, as plain values
//   fill_from_case_database     the triage runs, partitions, hits and files of a case database
//   describe_write_block        how a source was protected, in words, from what it is
//   read_acquisition_record     <basename>.acquisition.json back into an AcquisitionResult
//   read_custody_jsonl          data/custody.jsonl (DESIGN.md format) into timeline entries
//   default_verification_steps  the coreutils + openssl commands that check a bundle
//   write_report_html           one self-contained HTML file: no scripts, no network, A4 print
//   write_case_jsonld           CASE 1.4 / UCO 1.4 JSON-LD
//
// Promises
// - Every string that came from evidence or an operator is escaped: HTML specials, bytes
//   that are not UTF-8 (shown as \xNN), control, bidirectional-override and other
//   invisible formatting characters (shown as U+NNNN), so a hostile file name can neither
//   inject markup nor disguise itself.
// - The HTML references nothing outside itself (no scripts, images, fonts or style sheets)
//   and parses as well-formed XML as well as HTML.
// - The JSON-LD is deterministic for the same input: node IRIs are name-based UUIDs
//   derived from the case, exhibit and each object's identity.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "exhibit/acquire.hpp"
#include "exhibit/case_db.hpp"
#include "exhibit/error.hpp"
#include "exhibit/source.hpp"

namespace exhibit {

// The case and exhibit as the operator recorded them.
struct ReportCase {
    std::string case_reference;
    std::string exhibit_reference;  // e.g. JD/1
    std::string warrant_reference;
    std::string operator_name;
    std::string operator_number;  // collar or staff number
    std::string location;
    std::string seized_from;
    std::string notes;
};

// How the source was kept from being written to, and the proof.
struct WriteBlockEvidence {
    std::string method;  // e.g. "kernel read-only flag (BLKROSET) on the disk and partitions"
    std::string state;   // e.g. "read-only, checked with BLKROGET before the first read"
    std::optional<DeviceWriteCheck> counters;  // block-layer write counters before / after
    std::optional<WriteBlockCounters> filter;  // usb: the SCSI filter's passed / refused commands
};

// One line of the custody log (data/custody.jsonl).
struct CustodyTimelineEntry {
    std::uint64_t seq = 0;
    std::string time;  // UTC, RFC 3339 with milliseconds
    std::string operator_name;
    std::string action;
    std::string detail_json;  // the event's "detail" object as JSON text
    std::string line_sha256;  // SHA-256 of the line's bytes (without its LF)
};

// One step of checking a bundle with standard tools.
struct VerificationStep {
    std::string explanation;  // what the step proves
    std::string command;      // shell text, run from the bundle's top directory
};

// A partition (volume-system slot) or file system and what triage found on it.
struct PartitionSummary {
    std::optional<std::int64_t> volume_address;  // absent: the source has no partition table
    std::uint64_t offset = 0, length = 0;        // bytes
    std::string description;                     // e.g. "Linux (0x83)"
    bool allocated = true;
    std::string file_system;  // type, empty when none was opened here
    std::uint32_t block_size = 0;
    std::uint64_t block_count = 0;
    std::uint64_t entries = 0, deleted = 0, hashed = 0, bytes_hashed = 0, hits = 0;
};

struct ReportTriageRun {
    TriageRun run;
    TriageRunSource source;
    std::vector<PartitionSummary> partitions;
    std::vector<ScanErrorRow> errors;
    // The run's scan of unallocated space (--scan-unallocated); both empty when not run.
    std::vector<UnallocatedRegionRow> unallocated;
    std::vector<UnallocatedHitRow> unallocated_hits;
};

// Checking a bundle (DESIGN.md "Interchange formats") with sha256sum, a shell loop over
// the custody chain and openssl pkeyutl.
std::vector<VerificationStep> default_verification_steps();

struct ReportInput {
    ReportCase case_info;
    std::optional<SourceInfo> source;  // the exhibit's device; else taken from the last triage run
    WriteBlockEvidence write_block;
    std::vector<AcquisitionResult> acquisitions;
    std::vector<ReportTriageRun> triage;  // fill_from_case_database
    std::vector<HitRow> hits;             // fill_from_case_database
    std::vector<FileRow> files;           // fill_from_case_database (for case.jsonld)
    std::vector<CustodyTimelineEntry> custody;
    std::string chain_head;  // SHA-256 of the last custody line, when known
    std::vector<VerificationStep> verification = default_verification_steps();
    std::string exhibit_version;  // defaults to this build's version
    std::string generated;        // UTC time of writing; defaults to now
};

// The version of this build, e.g. "0.1.0".
std::string exhibit_version();

// Reads every triage run with its partitions, file systems, counts and errors, every hit
// joined to its file, and every file row. Also sets `source` from the last triage run when
// it is empty, and `write_block` from the source when its method is empty.
Status fill_from_case_database(const CaseDatabase& db, ReportInput& in);

// What protected `source`, from its kind: the kernel read-only flag, a declared hardware
// blocker, the user-space USB reader's SCSI allow-list, or read-only opening of image files.
WriteBlockEvidence describe_write_block(const SourceInfo& source,
                                        const std::optional<DeviceWriteCheck>& counters = {},
                                        const std::optional<WriteBlockCounters>& filter = {});

// Parses an acquisition record written by acquire() (any phase).
Expected<AcquisitionResult> read_acquisition_record(const std::filesystem::path& path);

// Parses a custody log in the DESIGN.md format, one entry per line, hashing each line.
// Malformed lines are an Error naming the line number.
Expected<std::vector<CustodyTimelineEntry>> read_custody_jsonl(const std::filesystem::path& path);
// The same from a stream; `name` says where it came from in error messages.
Expected<std::vector<CustodyTimelineEntry>> read_custody_jsonl(std::istream& in,
                                                               const std::string& name);

Status write_report_html(const ReportInput& in, std::ostream& out);
Status write_case_jsonld(const ReportInput& in, std::ostream& out);

}  // namespace exhibit
