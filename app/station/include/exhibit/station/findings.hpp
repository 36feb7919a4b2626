// What a triage run found, arranged for the findings screen: the groups shown first
// (hash-set verdicts, hits by kind, disguised and deleted files), then every file by
// partition and folder. Built on a worker thread from the case database; the screen only
// reads it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

#include "exhibit/case_db.hpp"
#include "exhibit/station/timeline.hpp"

namespace exhibit::station {

struct FindingGroup {
    std::string title;               // "Known-bad hash", "YARA: high", "Extension mismatch"
    std::string kind;                // hashset, yara, keyword, verdict, flag
    std::vector<std::size_t> files;  // indexes into FindingsIndex::files
};

// Something the run's scans could not do in full (the case database's scan_notes): a file
// YARA scanned only in part ("yara-truncated") or not at all ("yara-error"), or a rule file
// left out ("rule-file"). `files`: the listed files the note names (none for a rule file).
struct ScanNoteView {
    ScanNote note;
    std::vector<std::size_t> files;  // indexes into FindingsIndex::files
};

struct PartitionView {
    std::string label;  // "ntfs at 105 MB"
    std::string file_system;
    std::uint64_t offset = 0;
    std::size_t file_count = 0;
    // Folder path ("" for the root) -> entries directly inside it, folders first, by name.
    std::unordered_map<std::string, std::vector<std::size_t>> children;
};

struct FindingsIndex {
    std::int64_t run_id = 0;
    std::vector<FileRow> files;
    std::vector<FindingGroup> groups;  // only non-empty groups, most serious first
    std::vector<PartitionView> partitions;
    std::size_t deleted = 0;
    std::vector<HitRow> hits_outside_files;  // hits the database ties to no listed file
    // What the scans could not do in full; when there is any, the group "Not fully
    // scanned" (kind "scan-note") lists the files they name.
    std::vector<ScanNoteView> scan_notes;
    Timeline modified, created;  // file activity, for the timeline view
};

// Arranges `files` (all from one run) and the run's scan notes.
FindingsIndex index_findings(std::vector<FileRow> files, std::int64_t run_id,
                             std::vector<ScanNote> notes = {});
// Why `file` was not fully scanned, one sentence per note; empty when it was.
std::vector<std::string> scan_notes_for(const FindingsIndex& index, std::size_t file);

// Opens the case database and indexes run `run_id` (the newest run when 0), each file
// with its own hits, and the run's scan notes. `read_only`: the database is never written (a sealed
// bundle's copy).
Expected<FindingsIndex> load_findings(const std::filesystem::path& case_database,
                                      std::int64_t run_id = 0, bool read_only = false);

// The folder part of a path: "a/b/c.txt" -> "a/b", "c.txt" -> "".
std::string parent_folder(const std::string& path);

}  // namespace exhibit::station
