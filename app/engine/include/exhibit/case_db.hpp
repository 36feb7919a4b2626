// The case database: one SQLite file per case holding what triage found.
//
//   auto db = CaseDatabase::open("/cases/OP-BLUEBIRD/case.sqlite");
//   auto run = triage_source(*source, *db, {}, progress, cancel);
//   auto jpegs = db->files({.mime_prefix = "image/"});
//
// Promises
// - WAL mode; the schema version is PRAGMA user_version and older databases are
//   migrated forward on open (docs/case-database.md describes every table).
// - Rows are written in batched transactions. A triage run is a row that says
//   "running" until it ends as completed, cancelled or failed with where it stopped,
//   so an interrupted run leaves a consistent database that says so.
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
inline constexpr int kCaseSchemaVersion = 3;

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
    std::string status;  // running, completed, cancelled, failed
    std::string started, finished;
    std::string stopped_at;  // what it was doing when it stopped early
    std::uint64_t files = 0, files_hashed = 0, bytes_read = 0;
    std::uint64_t errors = 0;
};

class CaseDatabase {
  public:
    // Opens (creating if needed) and migrates to kCaseSchemaVersion.
    static Expected<std::unique_ptr<CaseDatabase>> open(const std::filesystem::path& path);
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

    Expected<std::vector<FileRow>> files(const FileFilter& filter) const;
    Expected<std::vector<TriageRun>> runs() const;
    // Hits of one run by kind ("hashset", "yara", "keyword"); kinds without hits absent.
    Expected<std::map<std::string, std::uint64_t>> hit_counts(std::int64_t run_id) const;

    // The open connection, for engine modules that keep their own tables in the case
    // database (custody: case_info, sources, custody_events). Not for the UI.
    sqlite3* handle() const { return db_; }

  private:
    CaseDatabase(std::filesystem::path path, sqlite3* db);
    Status exec(const std::string& sql) const;
    Status migrate();

    std::filesystem::path path_;
    sqlite3* db_;
};

// Walks `source` with content reading and records everything as one triage run.
// Returns the finished run (cancelled and failed runs included, with where they stopped);
// an Error only when the database itself cannot be written.
Expected<TriageRun> triage_source(Source& source, CaseDatabase& db, const WalkOptions& options,
                                  JobProgress& progress, const std::atomic<bool>& cancel);

}  // namespace exhibit
