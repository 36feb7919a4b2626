// The case database: one SQLite file per case holding what triage found.
//
//   auto db = CaseDatabase::open("/cases/OP-BLUEBIRD/case.sqlite");
//   auto run = triage_source(*source, *db, {}, progress, cancel);
//   auto jpegs = db->files({.mime_prefix = "image/"});
//
// Promises
// - WAL mode; the schema version is PRAGMA user_version and older databases are
//   migrated forward on open (docs/case-database.md describes every table).
// - Rows are written in batched transactions as the walk goes. A triage run is a row
//   that says "running" until it ends as completed, cancelled or failed with where it
//   stopped; a run whose process died (SIGKILL, power) keeps every committed row and is
//   marked "interrupted" by the next triage that opens the database.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "exhibit/error.hpp"
#include "exhibit/file_walk.hpp"
#include "exhibit/progress.hpp"
#include "exhibit/source.hpp"

struct sqlite3;

namespace exhibit {

// The current schema version (PRAGMA user_version after open).
inline constexpr int kCaseSchemaVersion = 6;

struct FileFilter {
    bool deleted_only = false;
    std::string mime_prefix;             // "image/" or "image/jpeg"; empty for all
    std::string path_glob;               // SQLite GLOB over the path, e.g. "Users/*/Documents/*"
    std::optional<std::int64_t> run_id;  // default: every run
};

struct FileRow {
    std::int64_t id = 0;
    std::int64_t run_id = 0;
    std::string file_system;  // type, e.g. ntfs
    std::uint64_t fs_offset = 0;
    FileEntry entry;
};

struct TriageRun {
    std::int64_t id = 0;
    std::string status;  // running, completed, cancelled, failed, interrupted
    std::string started, finished;
    std::string stopped_at;  // what it was doing when it stopped early
    std::string position;    // where it was at its last commit, in words
    std::uint64_t files = 0, files_hashed = 0, bytes_read = 0;
    std::uint64_t files_to_read = 0, bytes_to_read = 0;  // content found to read
    std::uint64_t errors = 0;
    std::string volume_system;  // "dos", "gpt", ...; empty when the source has none
    std::uint64_t partitions = 0, file_systems = 0;
    std::uint64_t partitioned_bytes = 0;    // in the volume system's partitions
    std::uint64_t unpartitioned_bytes = 0;  // in no partition (TSK's "Unallocated" slots)
    std::int64_t owner_pid = 0;             // the process that ran it
};

// Read-only query results (case_queries.cpp), for reports and exports.
struct TriageRunSource {
    std::string kind, path;  // as SourceKind's to_string, and as the operator named it
    std::uint64_t size = 0;
    std::uint32_t sector_size = 0;
    std::string device_model, device_serial;
};

struct VolumeRow {
    std::int64_t run_id = 0;
    VolumeEntry volume;
};

// A file system and what triage found on it.
struct FileSystemRow {
    std::int64_t id = 0, run_id = 0;
    FileSystemEntry file_system;  // `volume` is -1 when the source has no partition table
    std::uint64_t entries = 0, deleted = 0, hashed = 0, bytes_hashed = 0, hits = 0;
};

struct ScanErrorRow {
    std::int64_t run_id = 0;
    WalkError error;
};

struct ScanNoteRow {
    std::int64_t id = 0, run_id = 0;
    ScanNote note;
};

// A hit joined to its file (file_id 0 and an empty path for hits outside any file).
struct HitRow {
    std::int64_t id = 0, run_id = 0, file_id = 0;
    Hit hit;
    std::string path;         // from the file-system root, no leading "/"
    std::string file_system;  // type of the file's file system
    std::uint64_t fs_offset = 0;
    bool deleted = false;
    std::string sha256;
};

// The unallocated-space scan of one run (unallocated_rows.cpp).
struct UnallocatedRegionRow {
    std::int64_t id = 0, run_id = 0, fs_id = 0;
    std::string name;
    int volume = -1;
    std::uint64_t offset = 0, length = 0, unallocated_bytes = 0, scanned_bytes = 0, hits = 0;
    bool complete = false;
    std::string message;
};

struct UnallocatedHitRow {
    std::int64_t id = 0, run_id = 0, region_id = 0;
    std::string region;  // the region's name: "unpartitioned", "partition 2 (ext4)", ...
    int volume = -1;
    std::uint64_t offset = 0;  // absolute byte offset on the source
    Hit hit;
};

struct UnallocatedSummary {
    bool scanned = false;  // the run scanned unallocated space
    std::uint64_t regions = 0, incomplete_regions = 0;
    std::uint64_t unallocated_bytes = 0, scanned_bytes = 0;
    std::map<std::string, std::uint64_t> hits;  // by kind
};

class CaseDatabase {
  public:
    // Opens (creating if needed) and migrates to kCaseSchemaVersion.
    static Expected<std::unique_ptr<CaseDatabase>> open(const std::filesystem::path& path);
    // Opens a case database that must already exist (to add a note, to seal): a missing,
    // empty, non-regular or non-Exhibit file is refused, never turned into a new case.
    static Expected<std::unique_ptr<CaseDatabase>> open_existing(const std::filesystem::path& path);
    ~CaseDatabase();
    CaseDatabase(const CaseDatabase&) = delete;
    CaseDatabase& operator=(const CaseDatabase&) = delete;

    const std::filesystem::path& path() const { return path_; }
    int schema_version() const;

    // A new triage run over `source`, status "running".
    Expected<std::int64_t> begin_run(const SourceInfo& source);
    // Writes the walk's volumes, file systems, files and errors in batched transactions.
    Status record_walk(std::int64_t run_id, const WalkResult& walk);
    Status finish_run(std::int64_t run_id, const std::string& status,
                      const std::string& stopped_at);

    // Runs left "running" by a process that no longer exists (killed, power cut, other
    // boot) become "interrupted", with where they were at their last commit; returned.
    Expected<std::vector<TriageRun>> mark_interrupted_runs();

    Expected<std::vector<FileRow>> files(const FileFilter& filter) const;
    Expected<std::vector<TriageRun>> runs() const;
    Expected<TriageRun> run(std::int64_t run_id) const;
    // Keeps what the run's scans could not do in full (scan_notes table), in one
    // transaction.
    Status add_scan_notes(std::int64_t run_id, const std::vector<ScanNote>& notes);
    // Hits of one run by kind ("hashset", "yara", "keyword"); kinds without hits absent.
    Expected<std::map<std::string, std::uint64_t>> hit_counts(std::int64_t run_id) const;

    // The open connection, for engine modules that keep their own tables in the case
    // database (custody: case_info, sources, custody_events). Not for the UI.
    sqlite3* handle() const { return db_; }
    // Read-only access for reports and exports (case_queries.cpp). open_read_only never
    // writes the database file (no migration: a database of another schema version is
    // refused). `run_id` empty: every run.
    static Expected<std::unique_ptr<CaseDatabase>> open_read_only(
        const std::filesystem::path& path);
    Expected<TriageRunSource> run_source(std::int64_t run_id) const;
    Expected<std::vector<VolumeRow>> volumes(std::optional<std::int64_t> run_id = {}) const;
    Expected<std::vector<FileSystemRow>> file_systems(
        std::optional<std::int64_t> run_id = {}) const;
    Expected<std::vector<ScanErrorRow>> scan_errors(std::optional<std::int64_t> run_id = {}) const;
    Expected<std::vector<HitRow>> hits(std::optional<std::int64_t> run_id = {}) const;
    Expected<std::vector<ScanNoteRow>> scan_notes(std::optional<std::int64_t> run_id = {}) const;
    Expected<std::vector<UnallocatedRegionRow>> unallocated_regions(std::int64_t run_id) const;
    Expected<std::vector<UnallocatedHitRow>> unallocated_hits(std::int64_t run_id) const;
    Expected<UnallocatedSummary> unallocated_summary(std::int64_t run_id) const;

  private:
    friend Expected<TriageRun> triage_source(Source&, CaseDatabase&, const WalkOptions&,
                                             JobProgress&, const std::atomic<bool>&);
    CaseDatabase(std::filesystem::path path, sqlite3* db);
    Expected<TriageRun> stream_run(std::int64_t run_id, Source& source, const WalkOptions& options,
                                   JobProgress& progress, const std::atomic<bool>& cancel);
    Status exec(const std::string& sql) const;
    Status migrate();

    std::filesystem::path path_;
    sqlite3* db_;
};

// Walks `source` with content reading and records it as one triage run as it goes:
// volumes and file systems as found, file rows in batched transactions (5,000 rows or
// one second) written on the calling thread while the walk runs on another. Marks runs
// of dead processes "interrupted" first. Returns the finished run (cancelled and failed
// runs included, with where they stopped); an Error only when the database itself
// cannot be written (the run is then marked failed if it still can be).
Expected<TriageRun> triage_source(Source& source, CaseDatabase& db, const WalkOptions& options,
                                  JobProgress& progress, const std::atomic<bool>& cancel);

}  // namespace exhibit
