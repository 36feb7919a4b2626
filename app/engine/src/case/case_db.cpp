// SQLite, wrapped here and nowhere else.
#include "exhibit/case_db.hpp"

#include <sqlite3.h>

#include "exhibit/acquire.hpp"  // utc_timestamp

namespace exhibit {

namespace {

// Each entry moves the schema from version i to i + 1. Never edit a shipped entry:
// append a new one.
const char* const kMigrations[] = {
    R"sql(
    CREATE TABLE triage_runs (
        id INTEGER PRIMARY KEY,
        source_kind TEXT NOT NULL,
        source_path TEXT NOT NULL,
        source_size INTEGER NOT NULL,
        sector_size INTEGER NOT NULL,
        device_model TEXT, device_serial TEXT,
        started TEXT NOT NULL,
        finished TEXT,
        status TEXT NOT NULL CHECK (status IN ('running','completed','cancelled','failed')),
        stopped_at TEXT
    );
    CREATE TABLE volumes (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES triage_runs(id),
        address INTEGER NOT NULL,
        byte_offset INTEGER NOT NULL,
        byte_length INTEGER NOT NULL,
        description TEXT,
        allocated INTEGER NOT NULL,
        is_table INTEGER NOT NULL
    );
    CREATE TABLE file_systems (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES triage_runs(id),
        volume_address INTEGER,
        byte_offset INTEGER NOT NULL,
        type TEXT NOT NULL,
        block_size INTEGER,
        block_count INTEGER
    );
    CREATE TABLE files (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES triage_runs(id),
        fs_id INTEGER NOT NULL REFERENCES file_systems(id),
        path TEXT NOT NULL,
        name TEXT NOT NULL,
        stream TEXT,
        meta_address INTEGER NOT NULL,
        name_type TEXT NOT NULL,
        meta_type TEXT NOT NULL,
        size INTEGER NOT NULL,
        name_allocated INTEGER NOT NULL,
        meta_allocated INTEGER NOT NULL,
        deleted INTEGER NOT NULL,
        mtime INTEGER, atime INTEGER, ctime INTEGER, crtime INTEGER,
        mode INTEGER, uid INTEGER, gid INTEGER,
        content_read INTEGER NOT NULL,
        content_error TEXT,
        md5 TEXT, sha1 TEXT, sha256 TEXT,
        mime_type TEXT, type_description TEXT,
        extension_mismatch INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX files_by_run ON files(run_id);
    CREATE INDEX files_by_md5 ON files(md5);
    CREATE INDEX files_by_sha256 ON files(sha256);
    CREATE TABLE scan_errors (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES triage_runs(id),
        volume_address INTEGER,
        byte_offset INTEGER,
        message TEXT NOT NULL
    );
    )sql",
    R"sql(
    ALTER TABLE files ADD COLUMN hash_status TEXT;
    CREATE TABLE hits (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES triage_runs(id),
        file_id INTEGER REFERENCES files(id),
        kind TEXT NOT NULL CHECK (kind IN ('hashset','yara','keyword')),
        name TEXT NOT NULL,
        category TEXT,
        severity TEXT,
        detail TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX hits_by_run ON hits(run_id, kind);
    CREATE INDEX hits_by_file ON hits(file_id);
    )sql",
    R"sql(
    CREATE TABLE case_info (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        case_reference TEXT NOT NULL,
        exhibit_reference TEXT NOT NULL,
        warrant_reference TEXT NOT NULL DEFAULT '',
        operator_name TEXT NOT NULL,
        operator_id TEXT NOT NULL,
        location TEXT NOT NULL DEFAULT '',
        seized_from TEXT NOT NULL DEFAULT '',
        notes TEXT NOT NULL DEFAULT '',
        opened TEXT NOT NULL
    );
    CREATE TABLE sources (
        id INTEGER PRIMARY KEY,
        exhibit_reference TEXT NOT NULL,
        kind TEXT NOT NULL,
        path TEXT NOT NULL,
        size INTEGER NOT NULL,
        sector_size INTEGER NOT NULL,
        vendor TEXT, model TEXT, serial TEXT, bus TEXT, usb_id TEXT,
        hardware_blocker TEXT,
        attached TEXT NOT NULL
    );
    CREATE TABLE custody_events (
        seq INTEGER PRIMARY KEY,
        line TEXT NOT NULL,
        sha256 TEXT NOT NULL
    );
    CREATE TRIGGER custody_events_append_only_update BEFORE UPDATE ON custody_events
    BEGIN SELECT RAISE(ABORT, 'the custody log is append-only'); END;
    CREATE TRIGGER custody_events_append_only_delete BEFORE DELETE ON custody_events
    BEGIN SELECT RAISE(ABORT, 'the custody log is append-only'); END;
    )sql",
};

// Owns a prepared statement; binds by position; steps.
class Statement {
  public:
    Statement(sqlite3* db, const char* sql) : db_(db) {
        if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) stmt_ = nullptr;
    }
    ~Statement() { sqlite3_finalize(stmt_); }
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    bool ok() const { return stmt_ != nullptr; }
    sqlite3_stmt* get() { return stmt_; }
    void bind(int i, std::int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
    void bind(int i, const std::string& v) {
        sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    }
    void bind_null(int i) { sqlite3_bind_null(stmt_, i); }
    int step() { return sqlite3_step(stmt_); }
    void reset() {
        sqlite3_reset(stmt_);
        sqlite3_clear_bindings(stmt_);
    }
    std::int64_t integer(int col) { return sqlite3_column_int64(stmt_, col); }
    std::string text(int col) {
        auto* t = sqlite3_column_text(stmt_, col);
        return t ? reinterpret_cast<const char*>(t) : "";
    }

  private:
    sqlite3* db_;
    sqlite3_stmt* stmt_ = nullptr;
};

Error db_error(sqlite3* db, const std::string& what) {
    int code = sqlite3_errcode(db);
    ErrorKind kind = code == SQLITE_FULL ? ErrorKind::NoSpace : ErrorKind::Io;
    return make_error(kind, what + ": " + sqlite3_errmsg(db));
}

}  // namespace

CaseDatabase::CaseDatabase(std::filesystem::path path, sqlite3* db)
    : path_(std::move(path)), db_(db) {}

CaseDatabase::~CaseDatabase() {
    sqlite3_close_v2(db_);
}

Expected<std::unique_ptr<CaseDatabase>> CaseDatabase::open(const std::filesystem::path& path) {
    sqlite3* raw = nullptr;
    int rc =
        sqlite3_open_v2(path.c_str(), &raw,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    std::unique_ptr<CaseDatabase> db(new CaseDatabase(path, raw));
    if (rc != SQLITE_OK) {
        return make_error(ErrorKind::Io, "cannot open case database " + path.string() + ": " +
                                             (raw ? sqlite3_errmsg(raw) : "out of memory"));
    }
    sqlite3_busy_timeout(raw, 5000);
    // A file that is not SQLite fails on the first statement; say so plainly.
    if (auto s = db->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                          "PRAGMA foreign_keys=ON;");
        !s) {
        return make_error(ErrorKind::Format,
                          path.string() + " is not a usable case database: " + s.error().message);
    }
    if (auto s = db->migrate(); !s) return s.error();
    return db;
}

Status CaseDatabase::exec(const std::string& sql) const {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
        std::string text = message ? message : sqlite3_errmsg(db_);
        sqlite3_free(message);
        ErrorKind kind = sqlite3_errcode(db_) == SQLITE_FULL ? ErrorKind::NoSpace : ErrorKind::Io;
        return make_error(kind, "case database " + path_.string() + ": " + text);
    }
    return ok();
}

int CaseDatabase::schema_version() const {
    Statement s(db_, "PRAGMA user_version");
    return s.ok() && s.step() == SQLITE_ROW ? static_cast<int>(s.integer(0)) : -1;
}

Status CaseDatabase::migrate() {
    int version = schema_version();
    if (version < 0) return db_error(db_, "cannot read the schema version of " + path_.string());
    if (version > kCaseSchemaVersion) {
        return make_error(ErrorKind::Unsupported,
                          "case database " + path_.string() + " has schema version " +
                              std::to_string(version) + ", newer than this Exhibit understands (" +
                              std::to_string(kCaseSchemaVersion) + ")");
    }
    for (int v = version; v < kCaseSchemaVersion; ++v) {
        std::string step = std::string("BEGIN IMMEDIATE;") + kMigrations[v] +
                           "PRAGMA user_version=" + std::to_string(v + 1) + "; COMMIT;";
        if (auto s = exec(step); !s) {
            (void)exec("ROLLBACK;");
            return s;
        }
    }
    return ok();
}

Expected<std::int64_t> CaseDatabase::begin_run(const SourceInfo& source) {
    Statement s(db_,
                "INSERT INTO triage_runs (source_kind, source_path, source_size, sector_size, "
                "device_model, device_serial, started, status) VALUES (?,?,?,?,?,?,?,'running')");
    if (!s.ok()) return db_error(db_, "cannot prepare a triage run");
    s.bind(1, std::string(to_string(source.kind)));
    s.bind(2, source.path);
    s.bind(3, static_cast<std::int64_t>(source.size));
    s.bind(4, static_cast<std::int64_t>(source.sector_size));
    if (source.device) {
        s.bind(5, source.device->model);
        s.bind(6, source.device->serial);
    }
    s.bind(7, utc_timestamp());
    if (s.step() != SQLITE_DONE) return db_error(db_, "cannot record a triage run");
    return sqlite3_last_insert_rowid(db_);
}

Status CaseDatabase::record_walk(std::int64_t run_id, const WalkResult& walk) {
    constexpr std::size_t kBatch = 5000;  // rows per transaction
    if (auto s = exec("BEGIN IMMEDIATE;"); !s) return s;
    auto fail = [&](const std::string& what) {
        Error e = db_error(db_, what);
        (void)exec("ROLLBACK;");
        return e;
    };
    Statement vol(db_,
                  "INSERT INTO volumes (run_id, address, byte_offset, byte_length, description, "
                  "allocated, is_table) VALUES (?,?,?,?,?,?,?)");
    Statement fsys(db_,
                   "INSERT INTO file_systems (run_id, volume_address, byte_offset, type, "
                   "block_size, block_count) VALUES (?,?,?,?,?,?)");
    Statement file(db_,
                   "INSERT INTO files (run_id, fs_id, path, name, stream, meta_address, name_type, "
                   "meta_type, size, name_allocated, meta_allocated, deleted, mtime, atime, ctime, "
                   "crtime, mode, uid, gid, content_read, content_error, md5, sha1, sha256, "
                   "mime_type, type_description, extension_mismatch, hash_status) "
                   "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    Statement hit(db_,
                  "INSERT INTO hits (run_id, file_id, kind, name, category, severity, detail) "
                  "VALUES (?,?,?,?,?,?,?)");
    Statement err(db_,
                  "INSERT INTO scan_errors (run_id, volume_address, byte_offset, message) "
                  "VALUES (?,?,?,?)");
    if (!vol.ok() || !fsys.ok() || !file.ok() || !hit.ok() || !err.ok())
        return fail("cannot prepare inserts");

    for (const auto& v : walk.volumes) {
        vol.bind(1, run_id);
        vol.bind(2, v.index);
        vol.bind(3, static_cast<std::int64_t>(v.offset));
        vol.bind(4, static_cast<std::int64_t>(v.length));
        vol.bind(5, v.description);
        vol.bind(6, v.allocated ? 1 : 0);
        vol.bind(7, v.is_table ? 1 : 0);
        if (vol.step() != SQLITE_DONE) return fail("cannot record a volume");
        vol.reset();
    }
    std::vector<std::int64_t> fs_ids;
    for (const auto& f : walk.file_systems) {
        fsys.bind(1, run_id);
        if (f.volume >= 0) fsys.bind(2, f.volume);
        fsys.bind(3, static_cast<std::int64_t>(f.offset));
        fsys.bind(4, f.type);
        fsys.bind(5, f.block_size);
        fsys.bind(6, static_cast<std::int64_t>(f.block_count));
        if (fsys.step() != SQLITE_DONE) return fail("cannot record a file system");
        fsys.reset();
        fs_ids.push_back(sqlite3_last_insert_rowid(db_));
    }
    std::size_t in_batch = 0;
    for (const auto& f : walk.files) {
        int i = 1;
        file.bind(i++, run_id);
        file.bind(i++, fs_ids.at(static_cast<std::size_t>(f.file_system)));
        file.bind(i++, f.path);
        file.bind(i++, f.name);
        if (f.stream.empty())
            file.bind_null(i++);
        else
            file.bind(i++, f.stream);
        file.bind(i++, static_cast<std::int64_t>(f.meta_address));
        file.bind(i++, std::string(1, f.name_type));
        file.bind(i++, std::string(1, f.meta_type));
        file.bind(i++, static_cast<std::int64_t>(f.size));
        file.bind(i++, f.name_allocated ? 1 : 0);
        file.bind(i++, f.meta_allocated ? 1 : 0);
        file.bind(i++, f.deleted() ? 1 : 0);
        for (std::int64_t t : {f.modified, f.accessed, f.changed, f.created}) {
            if (t)
                file.bind(i++, t);
            else
                file.bind_null(i++);
        }
        file.bind(i++, f.mode);
        file.bind(i++, f.uid);
        file.bind(i++, f.gid);
        file.bind(i++, f.content_read ? 1 : 0);
        if (f.content_error.empty())
            file.bind_null(i++);
        else
            file.bind(i++, f.content_error);
        const auto& h = f.findings.hashes;
        for (const std::string* v :
             {&h.md5, &h.sha1, &h.sha256, &f.findings.mime_type, &f.findings.type_description}) {
            if (v->empty() || !f.content_read)
                file.bind_null(i++);
            else
                file.bind(i++, *v);
        }
        file.bind(i++, f.findings.extension_mismatch ? 1 : 0);
        if (f.findings.hash_status.empty())
            file.bind_null(i++);
        else
            file.bind(i++, f.findings.hash_status);
        if (file.step() != SQLITE_DONE) return fail("cannot record file " + f.path);
        file.reset();
        std::int64_t file_id = sqlite3_last_insert_rowid(db_);
        for (const Hit& found : f.findings.hits) {
            int j = 1;
            hit.bind(j++, run_id);
            hit.bind(j++, file_id);
            for (const std::string* v :
                 {&found.kind, &found.name, &found.category, &found.severity}) {
                if (v->empty())
                    hit.bind_null(j++);
                else
                    hit.bind(j++, *v);
            }
            hit.bind(j++, found.detail.empty() ? std::string("{}") : found.detail);
            if (hit.step() != SQLITE_DONE) return fail("cannot record a hit on " + f.path);
            hit.reset();
        }
        if (++in_batch == kBatch) {
            in_batch = 0;
            if (auto s = exec("COMMIT; BEGIN IMMEDIATE;"); !s) return s;
        }
    }
    for (const auto& e : walk.errors) {
        err.bind(1, run_id);
        if (e.volume >= 0) err.bind(2, e.volume);
        err.bind(3, static_cast<std::int64_t>(e.offset));
        err.bind(4, e.message);
        if (err.step() != SQLITE_DONE) return fail("cannot record a scan error");
        err.reset();
    }
    return exec("COMMIT;");
}

Status CaseDatabase::finish_run(std::int64_t run_id, const std::string& status,
                                const std::string& stopped_at) {
    Statement s(db_, "UPDATE triage_runs SET status=?, finished=?, stopped_at=? WHERE id=?");
    if (!s.ok()) return db_error(db_, "cannot prepare the end of a triage run");
    s.bind(1, status);
    s.bind(2, utc_timestamp());
    if (stopped_at.empty())
        s.bind_null(3);
    else
        s.bind(3, stopped_at);
    s.bind(4, run_id);
    if (s.step() != SQLITE_DONE) return db_error(db_, "cannot record the end of a triage run");
    return ok();
}

Expected<std::vector<FileRow>> CaseDatabase::files(const FileFilter& filter) const {
    std::string sql =
        "SELECT f.id, f.run_id, s.type, s.byte_offset, f.path, f.name, f.stream, f.meta_address, "
        "f.name_type, f.meta_type, f.size, f.name_allocated, f.meta_allocated, f.mtime, f.atime, "
        "f.ctime, f.crtime, f.mode, f.uid, f.gid, f.content_read, f.content_error, f.md5, f.sha1, "
        "f.sha256, f.mime_type, f.type_description, f.extension_mismatch, "
        "IFNULL(f.hash_status,'') FROM files f JOIN file_systems s ON s.id = f.fs_id WHERE 1";
    if (filter.deleted_only) sql += " AND f.deleted = 1";
    if (!filter.mime_prefix.empty()) sql += " AND f.mime_type LIKE ?1 || '%'";
    if (!filter.path_glob.empty()) sql += " AND f.path GLOB ?2";
    if (filter.run_id) sql += " AND f.run_id = ?3";
    sql += " ORDER BY f.id";
    Statement s(db_, sql.c_str());
    if (!s.ok()) return db_error(db_, "cannot query files");
    if (!filter.mime_prefix.empty()) s.bind(1, filter.mime_prefix);
    if (!filter.path_glob.empty()) s.bind(2, filter.path_glob);
    if (filter.run_id) s.bind(3, *filter.run_id);
    std::vector<FileRow> rows;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
        FileRow r;
        int c = 0;
        r.id = s.integer(c++);
        r.run_id = s.integer(c++);
        r.file_system = s.text(c++);
        r.fs_offset = static_cast<std::uint64_t>(s.integer(c++));
        FileEntry& e = r.entry;
        e.path = s.text(c++);
        e.name = s.text(c++);
        e.stream = s.text(c++);
        e.meta_address = static_cast<std::uint64_t>(s.integer(c++));
        e.name_type = s.text(c++).c_str()[0];
        e.meta_type = s.text(c++).c_str()[0];
        e.size = static_cast<std::uint64_t>(s.integer(c++));
        e.name_allocated = s.integer(c++) != 0;
        e.meta_allocated = s.integer(c++) != 0;
        e.modified = s.integer(c++);
        e.accessed = s.integer(c++);
        e.changed = s.integer(c++);
        e.created = s.integer(c++);
        e.mode = static_cast<std::uint32_t>(s.integer(c++));
        e.uid = static_cast<std::uint32_t>(s.integer(c++));
        e.gid = static_cast<std::uint32_t>(s.integer(c++));
        e.content_read = s.integer(c++) != 0;
        e.content_error = s.text(c++);
        e.findings.hashes = {s.text(c), s.text(c + 1), s.text(c + 2)};
        c += 3;
        e.findings.mime_type = s.text(c++);
        e.findings.type_description = s.text(c++);
        e.findings.extension_mismatch = s.integer(c++) != 0;
        e.findings.hash_status = s.text(c++);
        rows.push_back(std::move(r));
    }
    if (rc != SQLITE_DONE) return db_error(db_, "cannot read files");
    return rows;
}

Expected<std::vector<TriageRun>> CaseDatabase::runs() const {
    Statement s(
        db_,
        "SELECT r.id, r.status, r.started, IFNULL(r.finished,''), IFNULL(r.stopped_at,''), "
        "(SELECT COUNT(*) FROM files f WHERE f.run_id = r.id), "
        "(SELECT COUNT(*) FROM files f WHERE f.run_id = r.id AND f.content_read), "
        "(SELECT IFNULL(SUM(size),0) FROM files f WHERE f.run_id = r.id AND f.content_read), "
        "(SELECT COUNT(*) FROM scan_errors e WHERE e.run_id = r.id) "
        "FROM triage_runs r ORDER BY r.id");
    if (!s.ok()) return db_error(db_, "cannot query triage runs");
    std::vector<TriageRun> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW) {
        TriageRun r;
        r.id = s.integer(0);
        r.status = s.text(1);
        r.started = s.text(2);
        r.finished = s.text(3);
        r.stopped_at = s.text(4);
        r.files = static_cast<std::uint64_t>(s.integer(5));
        r.files_hashed = static_cast<std::uint64_t>(s.integer(6));
        r.bytes_read = static_cast<std::uint64_t>(s.integer(7));
        r.errors = static_cast<std::uint64_t>(s.integer(8));
        out.push_back(r);
    }
    if (rc != SQLITE_DONE) return db_error(db_, "cannot read triage runs");
    return out;
}

Expected<std::map<std::string, std::uint64_t>> CaseDatabase::hit_counts(std::int64_t run_id) const {
    Statement s(db_, "SELECT kind, COUNT(*) FROM hits WHERE run_id = ? GROUP BY kind");
    if (!s.ok()) return db_error(db_, "cannot query hits");
    s.bind(1, run_id);
    std::map<std::string, std::uint64_t> out;
    int rc;
    while ((rc = s.step()) == SQLITE_ROW)
        out[s.text(0)] = static_cast<std::uint64_t>(s.integer(1));
    if (rc != SQLITE_DONE) return db_error(db_, "cannot read hits");
    return out;
}

Expected<TriageRun> triage_source(Source& source, CaseDatabase& db, const WalkOptions& options,
                                  JobProgress& progress, const std::atomic<bool>& cancel) {
    auto run_id = db.begin_run(source.info());
    if (!run_id) return run_id.error();
    WalkOptions with_content = options;
    with_content.read_content = true;
    auto walk = walk_file_systems(source, progress, cancel, with_content);
    std::string status = "completed", stopped_at;
    if (!walk) {
        status = walk.error().kind == ErrorKind::Cancelled ? "cancelled" : "failed";
        stopped_at = walk.error().message;
    } else if (auto s = db.record_walk(*run_id, *walk); !s) {
        (void)db.finish_run(*run_id, "failed", s.error().message);
        return s.error();
    }
    if (auto s = db.finish_run(*run_id, status, stopped_at); !s) return s.error();
    auto runs = db.runs();
    if (!runs) return runs.error();
    for (const auto& r : *runs) {
        if (r.id == *run_id) return r;
    }
    return make_error(ErrorKind::Internal, "triage run " + std::to_string(*run_id) + " vanished");
}

}  // namespace exhibit
