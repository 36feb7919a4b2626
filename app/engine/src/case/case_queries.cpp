// Read-only queries over the case database for reports and exports. Kept apart from
// case_db.cpp (which owns the schema and the writes) so the two change independently.
#include <sqlite3.h>

#include <cstring>
#include <fstream>
#include <memory>

#include "exhibit/case_db.hpp"
#include "io/durable_file.hpp"

namespace exhibit {

namespace {

struct StatementDeleter {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using StatementPtr = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

// A prepared query bound to an optional run id (parameter ?1), or the database's error.
Expected<StatementPtr> prepare(sqlite3* db, const std::string& sql,
                               std::optional<std::int64_t> run_id, const std::string& what) {
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
        return make_error(ErrorKind::Io, "cannot query " + what + ": " + sqlite3_errmsg(db));
    }
    StatementPtr s(raw);
    if (run_id) sqlite3_bind_int64(raw, 1, *run_id);
    return s;
}

std::string text(sqlite3_stmt* s, int col) {
    auto* t = sqlite3_column_text(s, col);
    return t ? std::string(reinterpret_cast<const char*>(t),
                           static_cast<std::size_t>(sqlite3_column_bytes(s, col)))
             : std::string();
}

std::int64_t integer(sqlite3_stmt* s, int col) {
    return sqlite3_column_int64(s, col);
}

std::uint64_t count(sqlite3_stmt* s, int col) {
    return static_cast<std::uint64_t>(sqlite3_column_int64(s, col));
}

// Steps through every row, calling `row` for each; an error names `what`.
template <typename Row>
Status each_row(sqlite3* db, sqlite3_stmt* s, const std::string& what, Row row) {
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        row(s);
    if (rc != SQLITE_DONE) {
        return make_error(ErrorKind::Io, "cannot read " + what + ": " + sqlite3_errmsg(db));
    }
    return ok();
}

std::string run_clause(const char* column, std::optional<std::int64_t> run_id) {
    return run_id ? std::string(" WHERE ") + column + " = ?1" : std::string();
}

// A case database named for reading or adding to must already be one: a regular file
// that starts with SQLite's header. Checked before SQLite sees it, because SQLite turns
// an empty file into a new database and would wait forever on a FIFO.
Status check_case_file(const std::filesystem::path& path) {
    if (path.empty()) return make_error(ErrorKind::InvalidArgument, "no case database was named");
    if (auto s = io::check_regular_file(path, "case database"); !s) return s;
    char header[16] = {};
    std::ifstream in(path, std::ios::binary);
    in.read(header, sizeof header);
    if (in.gcount() == 0) {
        return make_error(ErrorKind::Format,
                          path.string() + " is not a case database: the file is empty");
    }
    if (in.gcount() != sizeof header || std::memcmp(header, "SQLite format 3", 16) != 0) {
        return make_error(ErrorKind::Format,
                          path.string() + " is not a case database: it is not an SQLite file");
    }
    return ok();
}

}  // namespace

Expected<std::unique_ptr<CaseDatabase>> CaseDatabase::open_read_only(
    const std::filesystem::path& path) {
    if (auto s = check_case_file(path); !s) return s.error();
    sqlite3* raw = nullptr;
    int rc =
        sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
    std::unique_ptr<CaseDatabase> db(new CaseDatabase(path, raw));
    if (rc != SQLITE_OK) {
        return make_error(ErrorKind::Io, "cannot open case database " + path.string() + ": " +
                                             (raw ? sqlite3_errmsg(raw) : "out of memory"));
    }
    sqlite3_busy_timeout(raw, 5000);
    int version = db->schema_version();
    if (version < 0) {
        return make_error(ErrorKind::Format,
                          path.string() + " is not a usable case database: " + sqlite3_errmsg(raw));
    }
    if (version != kCaseSchemaVersion) {
        return make_error(ErrorKind::Unsupported,
                          "case database " + path.string() + " has schema version " +
                              std::to_string(version) + "; this Exhibit reads version " +
                              std::to_string(kCaseSchemaVersion) + " without changing the file");
    }
    return db;
}

Expected<std::unique_ptr<CaseDatabase>> CaseDatabase::open_existing(
    const std::filesystem::path& path) {
    if (auto s = check_case_file(path); !s) return s.error();
    // Look before migrating: another program's SQLite file must not gain our tables.
    sqlite3* raw = nullptr;
    int rc =
        sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr);
    std::unique_ptr<CaseDatabase> probe(new CaseDatabase(path, raw));
    if (rc != SQLITE_OK) {
        return make_error(ErrorKind::Io, "cannot open case database " + path.string() + ": " +
                                             (raw ? sqlite3_errmsg(raw) : "out of memory"));
    }
    const int version = probe->schema_version();
    probe.reset();
    if (version <= 0) {
        return make_error(ErrorKind::Format,
                          path.string() + " is an SQLite file but not an Exhibit case database");
    }
    if (version > kCaseSchemaVersion) {
        return make_error(ErrorKind::Unsupported,
                          "case database " + path.string() + " has schema version " +
                              std::to_string(version) + ", newer than this Exhibit's " +
                              std::to_string(kCaseSchemaVersion));
    }
    return open(path);
}

Expected<TriageRunSource> CaseDatabase::run_source(std::int64_t run_id) const {
    auto s = prepare(db_,
                     "SELECT source_kind, source_path, source_size, sector_size, "
                     "IFNULL(device_model,''), IFNULL(device_serial,'') FROM triage_runs "
                     "WHERE id = ?1",
                     run_id, "triage run " + std::to_string(run_id));
    if (!s) return s.error();
    sqlite3_stmt* st = s->get();
    int rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        return make_error(ErrorKind::NotFound, "case database " + path_.string() +
                                                   " has no triage run " + std::to_string(run_id));
    }
    if (rc != SQLITE_ROW) {
        return make_error(ErrorKind::Io, "cannot read triage run " + std::to_string(run_id) + ": " +
                                             sqlite3_errmsg(db_));
    }
    TriageRunSource r;
    r.kind = text(st, 0);
    r.path = text(st, 1);
    r.size = count(st, 2);
    r.sector_size = static_cast<std::uint32_t>(integer(st, 3));
    r.device_model = text(st, 4);
    r.device_serial = text(st, 5);
    return r;
}

Expected<std::vector<VolumeRow>> CaseDatabase::volumes(std::optional<std::int64_t> run_id) const {
    auto s = prepare(db_,
                     "SELECT run_id, address, byte_offset, byte_length, IFNULL(description,''), "
                     "allocated, is_table FROM volumes" +
                         run_clause("run_id", run_id) + " ORDER BY run_id, byte_offset, address",
                     run_id, "volumes");
    if (!s) return s.error();
    std::vector<VolumeRow> out;
    auto status = each_row(db_, s->get(), "volumes", [&](sqlite3_stmt* st) {
        VolumeRow r;
        r.run_id = integer(st, 0);
        r.volume.index = static_cast<int>(integer(st, 1));
        r.volume.offset = count(st, 2);
        r.volume.length = count(st, 3);
        r.volume.description = text(st, 4);
        r.volume.allocated = integer(st, 5) != 0;
        r.volume.is_table = integer(st, 6) != 0;
        out.push_back(std::move(r));
    });
    if (!status) return status.error();
    return out;
}

Expected<std::vector<FileSystemRow>> CaseDatabase::file_systems(
    std::optional<std::int64_t> run_id) const {
    // One pass over files and hits grouped by file system, rather than a subquery per row.
    auto s = prepare(
        db_,
        "SELECT s.id, s.run_id, IFNULL(s.volume_address,-1), s.byte_offset, s.type, "
        "IFNULL(s.block_size,0), IFNULL(s.block_count,0), IFNULL(f.entries,0), "
        "IFNULL(f.deleted,0), IFNULL(f.hashed,0), IFNULL(f.bytes,0), IFNULL(h.hits,0) "
        "FROM file_systems s "
        "LEFT JOIN (SELECT fs_id, COUNT(*) AS entries, SUM(deleted) AS deleted, "
        "  SUM(content_read) AS hashed, SUM(CASE WHEN content_read THEN size ELSE 0 END) AS bytes "
        "  FROM files GROUP BY fs_id) f ON f.fs_id = s.id "
        "LEFT JOIN (SELECT fl.fs_id, COUNT(*) AS hits FROM hits x JOIN files fl "
        "  ON fl.id = x.file_id GROUP BY fl.fs_id) h ON h.fs_id = s.id" +
            run_clause("s.run_id", run_id) + " ORDER BY s.run_id, s.byte_offset",
        run_id, "file systems");
    if (!s) return s.error();
    std::vector<FileSystemRow> out;
    auto status = each_row(db_, s->get(), "file systems", [&](sqlite3_stmt* st) {
        FileSystemRow r;
        r.id = integer(st, 0);
        r.run_id = integer(st, 1);
        r.file_system.volume = static_cast<int>(integer(st, 2));
        r.file_system.offset = count(st, 3);
        r.file_system.type = text(st, 4);
        r.file_system.block_size = static_cast<std::uint32_t>(integer(st, 5));
        r.file_system.block_count = count(st, 6);
        r.entries = count(st, 7);
        r.deleted = count(st, 8);
        r.hashed = count(st, 9);
        r.bytes_hashed = count(st, 10);
        r.hits = count(st, 11);
        out.push_back(std::move(r));
    });
    if (!status) return status.error();
    return out;
}

Expected<std::vector<ScanErrorRow>> CaseDatabase::scan_errors(
    std::optional<std::int64_t> run_id) const {
    auto s = prepare(db_,
                     "SELECT run_id, IFNULL(volume_address,-1), IFNULL(byte_offset,0), message "
                     "FROM scan_errors" +
                         run_clause("run_id", run_id) + " ORDER BY id",
                     run_id, "scan errors");
    if (!s) return s.error();
    std::vector<ScanErrorRow> out;
    auto status = each_row(db_, s->get(), "scan errors", [&](sqlite3_stmt* st) {
        ScanErrorRow r;
        r.run_id = integer(st, 0);
        r.error.volume = static_cast<int>(integer(st, 1));
        r.error.offset = count(st, 2);
        r.error.message = text(st, 3);
        out.push_back(std::move(r));
    });
    if (!status) return status.error();
    return out;
}

Expected<std::vector<HitRow>> CaseDatabase::hits(std::optional<std::int64_t> run_id) const {
    auto s = prepare(db_,
                     "SELECT h.id, h.run_id, IFNULL(h.file_id,0), h.kind, h.name, "
                     "IFNULL(h.category,''), IFNULL(h.severity,''), h.detail, IFNULL(f.path,''), "
                     "IFNULL(s.type,''), IFNULL(s.byte_offset,0), IFNULL(f.deleted,0), "
                     "IFNULL(f.sha256,'') FROM hits h LEFT JOIN files f ON f.id = h.file_id "
                     "LEFT JOIN file_systems s ON s.id = f.fs_id" +
                         run_clause("h.run_id", run_id) + " ORDER BY h.id",
                     run_id, "hits");
    if (!s) return s.error();
    std::vector<HitRow> out;
    auto status = each_row(db_, s->get(), "hits", [&](sqlite3_stmt* st) {
        HitRow r;
        r.id = integer(st, 0);
        r.run_id = integer(st, 1);
        r.file_id = integer(st, 2);
        r.hit.kind = text(st, 3);
        r.hit.name = text(st, 4);
        r.hit.category = text(st, 5);
        r.hit.severity = text(st, 6);
        r.hit.detail = text(st, 7);
        r.path = text(st, 8);
        r.file_system = text(st, 9);
        r.fs_offset = count(st, 10);
        r.deleted = integer(st, 11) != 0;
        r.sha256 = text(st, 12);
        out.push_back(std::move(r));
    });
    if (!status) return status.error();
    return out;
}

}  // namespace exhibit
