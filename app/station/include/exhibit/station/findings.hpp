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
    Timeline modified, created;              // file activity, for the timeline view
};

// Arranges `files` (all from one run).
FindingsIndex index_findings(std::vector<FileRow> files, std::int64_t run_id);

// Opens the case database and indexes run `run_id` (the newest run when 0), each file
// with its own hits. `read_only`: the database is never written (a sealed bundle's copy).
Expected<FindingsIndex> load_findings(const std::filesystem::path& case_database,
                                      std::int64_t run_id = 0, bool read_only = false);

// The folder part of a path: "a/b/c.txt" -> "a/b", "c.txt" -> "".
std::string parent_folder(const std::string& path);

}  // namespace exhibit::station
