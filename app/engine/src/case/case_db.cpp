// SQLite, wrapped here and nowhere else.
#include "exhibit/case_db.hpp"

#include <sqlite3.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "case/unallocated_rows.hpp"
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
    // Version 3: the case, its source device and the custody log (custody_log.cpp).
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
    // Version 4: runs may end "interrupted" (found running with their process gone), say
    // who runs them and where they were at their last commit. SQLite cannot change a
    // CHECK constraint in place, so the table is rebuilt (foreign keys off, see migrate()).
    R"sql(
    CREATE TABLE triage_runs_v3 (
        id INTEGER PRIMARY KEY,
        source_kind TEXT NOT NULL,
        source_path TEXT NOT NULL,
        source_size INTEGER NOT NULL,
        sector_size INTEGER NOT NULL,
        device_model TEXT, device_serial TEXT,
        started TEXT NOT NULL,
        finished TEXT,
        status TEXT NOT NULL
            CHECK (status IN ('running','completed','cancelled','failed','interrupted')),
        stopped_at TEXT,
        volume_system TEXT,
        owner_pid INTEGER, owner_boot_id TEXT, owner_start INTEGER,
        heartbeat TEXT,
        position TEXT,
        files_to_read INTEGER NOT NULL DEFAULT 0,
        bytes_to_read INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO triage_runs_v3 (id, source_kind, source_path, source_size, sector_size,
        device_model, device_serial, started, finished, status, stopped_at)
    SELECT id, source_kind, source_path, source_size, sector_size, device_model,
        device_serial, started, finished, status, stopped_at FROM triage_runs;
    DROP TABLE triage_runs;
    ALTER TABLE triage_runs_v3 RENAME TO triage_runs;
    )sql",
    // Version 5: what a run's scans could not do in full (scan_notes.cpp).
    R"sql(
    CREATE TABLE scan_notes (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES triage_runs(id),
        kind TEXT NOT NULL,
        path TEXT NOT NULL DEFAULT '',
        message TEXT NOT NULL
    );
    CREATE INDEX scan_notes_by_run ON scan_notes(run_id);
    )sql",
    // Version 6: the unallocated-space scan (unallocated_rows.cpp).
    R"sql(
    CREATE TABLE unallocated_regions (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES triage_runs(id),
        name TEXT NOT NULL,
        volume_address INTEGER,
        fs_id INTEGER REFERENCES file_systems(id),
        byte_offset INTEGER NOT NULL,
        byte_length INTEGER NOT NULL,
        unallocated_bytes INTEGER NOT NULL DEFAULT 0,
        scanned_bytes INTEGER NOT NULL DEFAULT 0,
        hits INTEGER NOT NULL DEFAULT 0,
        complete INTEGER NOT NULL DEFAULT 0,
        message TEXT
    );
    CREATE TABLE unallocated_hits (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES triage_runs(id),
        region_id INTEGER NOT NULL REFERENCES unallocated_regions(id),
        volume_address INTEGER,
        byte_offset INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('yara','keyword')),
        name TEXT NOT NULL,
        category TEXT,
        severity TEXT,
        detail TEXT NOT NULL DEFAULT '{}'
    );
    CREATE INDEX unallocated_hits_by_run ON unallocated_hits(run_id, kind);
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
    // Name the file, so that "database or disk is full" says which disk.
    const char* file = sqlite3_db_filename(db, "main");
    std::string where = file && *file && what.find(file) == std::string::npos
                            ? std::string(" in case database ") + file
                            : std::string();
    std::string why = sqlite3_errmsg(db);
    // A full drive can surface as an I/O error (the WAL index cannot grow): say so.
    struct statvfs vfs {};
    if (file && *file && (code & 0xff) == SQLITE_IOERR &&
        ::statvfs(std::filesystem::path(file).parent_path().c_str(), &vfs) == 0 &&
        vfs.f_bavail == 0) {
        kind = ErrorKind::NoSpace;
        why += " (its drive is full)";
    }
    return make_error(kind, what + where + ": " + why);
}

void bind_text_or_null(Statement& s, int i, const std::string& v) {
    if (v.empty())
        s.bind_null(i);
    else
        s.bind(i, v);
}

// The rows of one triage run, through prepared statements; the caller owns the
// transactions. Each call returns false when SQLite refused (sqlite3_errmsg says why).
class RunWriter {
  public:
    RunWriter(sqlite3* db, std::int64_t run_id)
        : db_(db),
          run_(run_id),
          vol_(db,
               "INSERT INTO volumes (run_id, address, byte_offset, byte_length, description, "
               "allocated, is_table) VALUES (?,?,?,?,?,?,?)"),
          fsys_(db,
                "INSERT INTO file_systems (run_id, volume_address, byte_offset, type, "
                "block_size, block_count) VALUES (?,?,?,?,?,?)"),
          file_(db,
                "INSERT INTO files (run_id, fs_id, path, name, stream, meta_address, name_type, "
                "meta_type, size, name_allocated, meta_allocated, deleted, mtime, atime, ctime, "
                "crtime, mode, uid, gid, content_read, content_error, md5, sha1, sha256, "
                "mime_type, type_description, extension_mismatch, hash_status) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"),
          content_(db,
                   "UPDATE files SET content_read=?, content_error=?, md5=?, sha1=?, sha256=?, "
                   "mime_type=?, type_description=?, extension_mismatch=?, hash_status=? "
                   "WHERE id=?"),
          hit_(db,
               "INSERT INTO hits (run_id, file_id, kind, name, category, severity, detail) "
               "VALUES (?,?,?,?,?,?,?)"),
          err_(db,
               "INSERT INTO scan_errors (run_id, volume_address, byte_offset, message) "
               "VALUES (?,?,?,?)"),
          note_(db, "INSERT INTO scan_notes (run_id, kind, path, message) VALUES (?,?,?,?)") {}

    bool ok() const {
        return vol_.ok() && fsys_.ok() && file_.ok() && content_.ok() && hit_.ok() && err_.ok() &&
               note_.ok();
    }

    bool notes(const std::vector<ScanNote>& found) {
        for (const ScanNote& n : found) {
            note_.bind(1, run_);
            note_.bind(2, n.kind);
            note_.bind(3, n.path);
            note_.bind(4, n.message);
            if (!done(note_)) return false;
        }
        return true;
    }

    bool volume(const VolumeEntry& v) {
        vol_.bind(1, run_);
        vol_.bind(2, v.index);
        vol_.bind(3, static_cast<std::int64_t>(v.offset));
        vol_.bind(4, static_cast<std::int64_t>(v.length));
        vol_.bind(5, v.description);
        vol_.bind(6, v.allocated ? 1 : 0);
        vol_.bind(7, v.is_table ? 1 : 0);
        return done(vol_);
    }

    // The new row's id is sqlite3_last_insert_rowid.
    bool file_system(const FileSystemEntry& f) {
        fsys_.bind(1, run_);
        if (f.volume >= 0) fsys_.bind(2, f.volume);
        fsys_.bind(3, static_cast<std::int64_t>(f.offset));
        fsys_.bind(4, f.type);
        fsys_.bind(5, f.block_size);
        fsys_.bind(6, static_cast<std::int64_t>(f.block_count));
        return done(fsys_);
    }

    // The entry with whatever content findings it carries; `row` gets the new id.
    bool file(const FileEntry& f, std::int64_t fs_id, std::int64_t* row = nullptr) {
        int i = 1;
        file_.bind(i++, run_);
        file_.bind(i++, fs_id);
        file_.bind(i++, f.path);
        file_.bind(i++, f.name);
        bind_text_or_null(file_, i++, f.stream);
        file_.bind(i++, static_cast<std::int64_t>(f.meta_address));
        file_.bind(i++, std::string(1, f.name_type));
        file_.bind(i++, std::string(1, f.meta_type));
        file_.bind(i++, static_cast<std::int64_t>(f.size));
        file_.bind(i++, f.name_allocated ? 1 : 0);
        file_.bind(i++, f.meta_allocated ? 1 : 0);
        file_.bind(i++, f.deleted() ? 1 : 0);
        for (std::int64_t t : {f.modified, f.accessed, f.changed, f.created}) {
            if (t)
                file_.bind(i++, t);
            else
                file_.bind_null(i++);
        }
        file_.bind(i++, f.mode);
        file_.bind(i++, f.uid);
        file_.bind(i++, f.gid);
        i = bind_content(file_, i, f.content_read, f.content_error, f.findings);
        if (!done(file_)) return false;
        std::int64_t id = sqlite3_last_insert_rowid(db_);
        if (row) *row = id;
        return hits(id, f.findings.hits) && notes(f.findings.notes);
    }

    // A file's content findings, onto the row file() wrote before.
    bool content(std::int64_t file_id, const ContentResult& r) {
        int i = bind_content(content_, 1, r.content_read, r.content_error, r.findings);
        content_.bind(i, file_id);
        return done(content_) && hits(file_id, r.findings.hits) && notes(r.findings.notes);
    }

    bool error(const WalkError& e) {
        err_.bind(1, run_);
        if (e.volume >= 0) err_.bind(2, e.volume);
        err_.bind(3, static_cast<std::int64_t>(e.offset));
        err_.bind(4, e.message);
        return done(err_);
    }

  private:
    static bool done(Statement& s) {
        bool ok = s.step() == SQLITE_DONE;
        s.reset();
        return ok;
    }

    // content_read, content_error, md5, sha1, sha256, mime_type, type_description,
    // extension_mismatch, hash_status from column `i`; returns the next column.
    static int bind_content(Statement& s, int i, bool read, const std::string& error,
                            const FileFindings& found) {
        s.bind(i++, read ? 1 : 0);
        bind_text_or_null(s, i++, error);
        const auto& h = found.hashes;
        for (const std::string* v :
             {&h.md5, &h.sha1, &h.sha256, &found.mime_type, &found.type_description}) {
            bind_text_or_null(s, i++, read ? *v : std::string());
        }
        s.bind(i++, found.extension_mismatch ? 1 : 0);
        bind_text_or_null(s, i++, found.hash_status);
        return i;
    }

    bool hits(std::int64_t file_id, const std::vector<Hit>& found) {
        for (const Hit& h : found) {
            int j = 1;
            hit_.bind(j++, run_);
            hit_.bind(j++, file_id);
            for (const std::string* v : {&h.kind, &h.name, &h.category, &h.severity})
                bind_text_or_null(hit_, j++, *v);
            hit_.bind(j++, h.detail.empty() ? std::string("{}") : h.detail);
            if (!done(hit_)) return false;
        }
        return true;
    }

    sqlite3* db_;
    std::int64_t run_;
    Statement vol_, fsys_, file_, content_, hit_, err_, note_;
};

// Who runs a triage: enough to tell later whether that process is still alive. The
// process start time (in clock ticks since boot) tells a reused pid apart; the boot id
// tells a reboot apart.
struct Owner {
    std::int64_t pid = 0;
    std::string boot_id;
    std::int64_t start = 0;
};

std::string current_boot_id() {
    std::ifstream in("/proc/sys/kernel/random/boot_id");
    std::string id;
    std::getline(in, id);
    return id;
}

// Field 22 of /proc/PID/stat, or 0 when there is no such process.
std::int64_t process_start(std::int64_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    if (!std::getline(in, stat)) return 0;
    auto paren = stat.rfind(')');  // the command name may hold spaces and parentheses
    if (paren == std::string::npos) return 0;
    std::istringstream fields(stat.substr(paren + 1));
    std::string field;
    for (int i = 3; i <= 22 && fields >> field; ++i) {
        if (i == 22) return std::stoll(field);
    }
    return 0;
}

Owner this_process() {
    Owner me;
    me.pid = ::getpid();
    me.boot_id = current_boot_id();
    me.start = process_start(me.pid);
    return me;
}

bool still_running(const Owner& owner) {
    if (owner.pid <= 0 || owner.boot_id.empty() || owner.boot_id != current_boot_id()) return false;
    std::int64_t start = process_start(owner.pid);
    return start != 0 && start == owner.start;
}

// One thing the walk reported, queued for the thread that writes the database.
struct WalkEvent {
    enum Kind { VolumeSystem, FileSystem, Entry, Content, Error } kind = Entry;
    std::uint64_t ordinal = 0;
    bool content_follows = false;
    std::string volume_system;
    std::vector<VolumeEntry> volumes;
    FileSystemEntry file_system;
    FileEntry entry;
    ContentResult content;
    WalkError error;
};

// The walk's side of the stream: a bounded queue, so a slow disk under the database
// holds the walk back instead of letting rows pile up in memory.
class QueueSink : public WalkSink {
  public:
    static constexpr std::size_t kCapacity = 4096;
    static constexpr std::size_t kWakeAt = 256;

    void volume_system(const std::string& type, const std::vector<VolumeEntry>& volumes) override {
        WalkEvent e;
        e.kind = WalkEvent::VolumeSystem;
        e.volume_system = type;
        e.volumes = volumes;
        push(std::move(e));
    }
    void file_system(int, const FileSystemEntry& fs) override {
        WalkEvent e;
        e.kind = WalkEvent::FileSystem;
        e.file_system = fs;
        push(std::move(e));
    }
    void entry(std::uint64_t ordinal, const FileEntry& entry, bool content_follows) override {
        WalkEvent e;
        e.kind = WalkEvent::Entry;
        e.ordinal = ordinal;
        e.entry = entry;
        e.content_follows = content_follows;
        push(std::move(e));
    }
    void content(std::uint64_t ordinal, ContentResult result) override {
        WalkEvent e;
        e.kind = WalkEvent::Content;
        e.ordinal = ordinal;
        e.content = std::move(result);
        push(std::move(e));
    }
    void error(const WalkError& error) override {
        WalkEvent e;
        e.kind = WalkEvent::Error;
        e.error = error;
        push(std::move(e));
    }

    // The walk has ended: no more events.
    void close() {
        std::lock_guard lock(mutex_);
        closed_ = true;
        not_empty_.notify_all();
    }

    // Moves everything queued into `out`, once kWakeAt events are queued or after `wait`
    // (events come in bursts of one or two a file: waking the database for each would cost
    // a thread switch each). False once the queue is closed and empty.
    bool take(std::deque<WalkEvent>& out, std::chrono::milliseconds wait) {
        std::unique_lock lock(mutex_);
        not_empty_.wait_for(lock, wait, [&] { return queue_.size() >= kWakeAt || closed_; });
        if (queue_.empty() && closed_) return false;
        out.swap(queue_);
        not_full_.notify_all();
        return true;
    }

  private:
    void push(WalkEvent e) {
        std::unique_lock lock(mutex_);
        not_full_.wait(lock, [&] { return queue_.size() < kCapacity; });
        queue_.push_back(std::move(e));
        if (queue_.size() == kWakeAt) not_empty_.notify_one();
    }

    std::mutex mutex_;
    std::condition_variable not_full_, not_empty_;
    std::deque<WalkEvent> queue_;
    bool closed_ = false;
};

}  // namespace

CaseDatabase::CaseDatabase(std::filesystem::path path, sqlite3* db)
    : path_(std::move(path)), db_(db) {}

CaseDatabase::~CaseDatabase() {
    sqlite3_close_v2(db_);
}

Expected<std::unique_ptr<CaseDatabase>> CaseDatabase::open(const std::filesystem::path& path) {
    // SQLite opens a private temporary database for "" and blocks on a FIFO.
    if (path.empty()) return make_error(ErrorKind::InvalidArgument, "no case database was named");
    if (std::error_code ec;
        std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec)) {
        return make_error(ErrorKind::InvalidArgument,
                          path.string() + " is not a case database: it is not a regular file");
    }
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
    // A triage updates the hash indexes at random places: with SQLite's default 2 MiB page
    // cache their pages are evicted and read back between commits. 32 MiB keeps the
    // indexes of a few hundred thousand files in memory (it is a limit, not an allocation).
    if (auto s = db->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                          "PRAGMA foreign_keys=ON; PRAGMA cache_size=-32768;");
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
    // Foreign keys off while migrating, so a step may rebuild a table others refer to
    // (the pragma is a no-op inside a transaction, hence here).
    if (version < kCaseSchemaVersion) {
        if (auto s = exec("PRAGMA foreign_keys=OFF;"); !s) return s;
    }
    for (int v = version; v < kCaseSchemaVersion; ++v) {
        std::string step = std::string("BEGIN IMMEDIATE;") + kMigrations[v] +
                           "PRAGMA user_version=" + std::to_string(v + 1) + "; COMMIT;";
        if (auto s = exec(step); !s) {
            (void)exec("ROLLBACK;");
            (void)exec("PRAGMA foreign_keys=ON;");
            return s;
        }
    }
    return exec("PRAGMA foreign_keys=ON;");
}

Expected<std::int64_t> CaseDatabase::begin_run(const SourceInfo& source) {
    Statement s(db_,
                "INSERT INTO triage_runs (source_kind, source_path, source_size, sector_size, "
                "device_model, device_serial, started, status, owner_pid, owner_boot_id, "
                "owner_start, heartbeat) VALUES (?,?,?,?,?,?,?,'running',?,?,?,?7)");
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
    const Owner me = this_process();
    s.bind(8, me.pid);
    s.bind(9, me.boot_id);
    s.bind(10, me.start);
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
    RunWriter writer(db_, run_id);
    if (!writer.ok()) return fail("cannot prepare inserts");
    for (const auto& v : walk.volumes) {
        if (!writer.volume(v)) return fail("cannot record a volume");
    }
    std::vector<std::int64_t> fs_ids;
    for (const auto& f : walk.file_systems) {
        if (!writer.file_system(f)) return fail("cannot record a file system");
        fs_ids.push_back(sqlite3_last_insert_rowid(db_));
    }
    std::size_t in_batch = 0;
    for (const auto& f : walk.files) {
        if (!writer.file(f, fs_ids.at(static_cast<std::size_t>(f.file_system))))
            return fail("cannot record file " + f.path);
        if (++in_batch == kBatch) {
            in_batch = 0;
            if (auto s = exec("COMMIT; BEGIN IMMEDIATE;"); !s) return s;
        }
    }
    for (const auto& e : walk.errors) {
        if (!writer.error(e)) return fail("cannot record a scan error");
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
        "(SELECT COUNT(*) FROM scan_errors e WHERE e.run_id = r.id), "
        "IFNULL(r.volume_system,''), r.files_to_read, r.bytes_to_read, IFNULL(r.position,''), "
        "(SELECT COUNT(*) FROM volumes v WHERE v.run_id = r.id AND v.allocated), "
        "(SELECT IFNULL(SUM(byte_length),0) FROM volumes v WHERE v.run_id = r.id AND "
        "v.allocated), "
        "(SELECT IFNULL(SUM(byte_length),0) FROM volumes v WHERE v.run_id = r.id AND NOT "
        "v.allocated AND NOT v.is_table), "
        "(SELECT COUNT(*) FROM file_systems s WHERE s.run_id = r.id), IFNULL(r.owner_pid,0) "
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
        r.volume_system = s.text(9);
        r.files_to_read = static_cast<std::uint64_t>(s.integer(10));
        r.bytes_to_read = static_cast<std::uint64_t>(s.integer(11));
        r.position = s.text(12);
        r.partitions = static_cast<std::uint64_t>(s.integer(13));
        r.partitioned_bytes = static_cast<std::uint64_t>(s.integer(14));
        r.unpartitioned_bytes = static_cast<std::uint64_t>(s.integer(15));
        r.file_systems = static_cast<std::uint64_t>(s.integer(16));
        r.owner_pid = s.integer(17);
        out.push_back(r);
    }
    if (rc != SQLITE_DONE) return db_error(db_, "cannot read triage runs");
    return out;
}

Expected<TriageRun> CaseDatabase::run(std::int64_t run_id) const {
    auto all = runs();
    if (!all) return all.error();
    for (const auto& r : *all) {
        if (r.id == run_id) return r;
    }
    return make_error(ErrorKind::Internal, "triage run " + std::to_string(run_id) + " vanished");
}

Expected<std::vector<TriageRun>> CaseDatabase::mark_interrupted_runs() {
    Statement running(db_,
                      "SELECT id, IFNULL(owner_pid,0), IFNULL(owner_boot_id,''), "
                      "IFNULL(owner_start,0), IFNULL(heartbeat,''), IFNULL(position,'') "
                      "FROM triage_runs WHERE status = 'running'");
    Statement mark(db_,
                   "UPDATE triage_runs SET status='interrupted', finished=NULLIF(?,''), "
                   "stopped_at=? WHERE id=? AND status='running'");
    if (!running.ok() || !mark.ok()) return db_error(db_, "cannot look for interrupted runs");
    std::vector<std::int64_t> marked;
    int rc;
    while ((rc = running.step()) == SQLITE_ROW) {
        Owner owner{running.integer(1), running.text(2), running.integer(3)};
        if (still_running(owner)) continue;
        std::string heartbeat = running.text(4), position = running.text(5);
        std::string why = "interrupted: the triage process";
        if (owner.pid > 0) why += " (pid " + std::to_string(owner.pid) + ")";
        why += " ended without finishing the run";
        if (!heartbeat.empty()) why += "; last commit " + heartbeat;
        if (!position.empty()) why += ", at " + position;
        mark.bind(1, heartbeat);
        mark.bind(2, why);
        mark.bind(3, running.integer(0));
        if (mark.step() != SQLITE_DONE) return db_error(db_, "cannot mark a run interrupted");
        mark.reset();
        marked.push_back(running.integer(0));
    }
    if (rc != SQLITE_DONE) return db_error(db_, "cannot look for interrupted runs");
    std::vector<TriageRun> out;
    for (std::int64_t id : marked) {
        auto r = run(id);
        if (!r) return r.error();
        out.push_back(*r);
    }
    return out;
}

namespace {

// The database side of a streamed triage: writes each event as it comes, commits every
// kBatchRows rows or kBatchSeconds, and keeps the run row's position current so that a
// run cut short (even by SIGKILL) says where it was at its last commit.
class RunStream {
  public:
    static constexpr std::size_t kBatchRows = 5000;
    static constexpr auto kBatchTime = std::chrono::seconds(1);
    static constexpr auto kHeartbeat = std::chrono::seconds(5);

    RunStream(sqlite3* db, std::int64_t run_id)
        : db_(db),
          run_id_(run_id),
          writer_(db, run_id),
          progress_(db,
                    "UPDATE triage_runs SET heartbeat=?, position=?, files_to_read=?, "
                    "bytes_to_read=?, volume_system=NULLIF(?,'') WHERE id=?") {}

    Status check() const {
        if (!writer_.ok() || !progress_.ok()) return db_error(db_, "cannot prepare inserts");
        return ok();
    }

    // Notes that belong to the run from its start; committed with the first batch.
    Status notes(const std::vector<ScanNote>& notes) {
        if (notes.empty()) return ok();
        if (auto s = begin(); !s) return s;
        if (!writer_.notes(notes)) return db_error(db_, "cannot record the scan notes");
        rows_ += notes.size();
        return ok();
    }

    Status write(WalkEvent& e) {
        if (auto s = begin(); !s) return s;
        switch (e.kind) {
            case WalkEvent::VolumeSystem:
                volume_system_ = e.volume_system;
                for (const auto& v : e.volumes) {
                    if (!writer_.volume(v)) return db_error(db_, "cannot record a volume");
                    ++rows_;
                }
                break;
            case WalkEvent::FileSystem:
                if (!writer_.file_system(e.file_system))
                    return db_error(db_, "cannot record a file system");
                fs_ids_.push_back(sqlite3_last_insert_rowid(db_));
                where_ = e.file_system.type + " at byte " + std::to_string(e.file_system.offset);
                if (e.file_system.volume >= 0)
                    where_ += " (partition " + std::to_string(e.file_system.volume) + ")";
                ++rows_;
                break;
            case WalkEvent::Entry: {
                std::int64_t id = 0;
                const FileEntry& f = e.entry;
                if (!writer_.file(f, fs_ids_.at(static_cast<std::size_t>(f.file_system)), &id))
                    return db_error(db_, "cannot record file " + f.path);
                ++entries_;
                ++rows_;
                if (e.content_follows) {
                    awaiting_[e.ordinal] = id;
                    ++files_to_read_;
                    bytes_to_read_ += f.size;
                }
                break;
            }
            case WalkEvent::Content: {
                auto it = awaiting_.find(e.ordinal);
                if (it == awaiting_.end()) {
                    return make_error(ErrorKind::Internal,
                                      "content for an entry never recorded (walk order broken)");
                }
                if (!writer_.content(it->second, e.content))
                    return db_error(db_, "cannot record the content of a file");
                awaiting_.erase(it);
                ++files_read_;
                ++rows_;
                break;
            }
            case WalkEvent::Error:
                if (!writer_.error(e.error)) return db_error(db_, "cannot record a scan error");
                ++rows_;
                break;
        }
        return ok();
    }

    // Commits when the batch is big or old enough; refreshes the heartbeat now and then
    // even when the walk is busy inside one large file.
    Status commit_if_due() {
        auto now = std::chrono::steady_clock::now();
        if (in_transaction_ && (rows_ >= kBatchRows || now - batch_start_ >= kBatchTime))
            return commit();
        if (!in_transaction_ && now - last_commit_ >= kHeartbeat) {
            if (auto s = begin(); !s) return s;
            return commit();
        }
        return ok();
    }

    Status commit() {
        if (!in_transaction_) return ok();
        progress_.bind(1, utc_timestamp());
        progress_.bind(2, position());
        progress_.bind(3, static_cast<std::int64_t>(files_to_read_));
        progress_.bind(4, static_cast<std::int64_t>(bytes_to_read_));
        progress_.bind(5, volume_system_);
        progress_.bind(6, run_id_);
        bool updated = progress_.step() == SQLITE_DONE;
        progress_.reset();
        if (!updated) return db_error(db_, "cannot record the run's progress");
        if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
            return db_error(db_, "cannot commit triage rows");
        in_transaction_ = false;
        rows_ = 0;
        last_commit_ = std::chrono::steady_clock::now();
        return ok();
    }

    void rollback() {
        if (in_transaction_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        in_transaction_ = false;
    }

    // Where the run is, in words: the file system and how far it got.
    std::string position() const {
        std::string text = where_.empty() ? std::string("before the first file system") : where_;
        return text + ": " + std::to_string(entries_) + " entries recorded, " +
               std::to_string(files_read_) + " of " + std::to_string(files_to_read_) +
               " files read so far";
    }

  private:
    Status begin() {
        if (in_transaction_) return ok();
        if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
            return db_error(db_, "cannot start a transaction");
        in_transaction_ = true;
        batch_start_ = std::chrono::steady_clock::now();
        return ok();
    }

    sqlite3* db_;
    std::int64_t run_id_;
    RunWriter writer_;
    Statement progress_;
    std::vector<std::int64_t> fs_ids_;
    std::unordered_map<std::uint64_t, std::int64_t> awaiting_;  // ordinal -> files.id
    std::string volume_system_, where_;
    std::uint64_t entries_ = 0, files_to_read_ = 0, bytes_to_read_ = 0, files_read_ = 0;
    std::size_t rows_ = 0;
    bool in_transaction_ = false;
    std::chrono::steady_clock::time_point batch_start_{},
        last_commit_ = std::chrono::steady_clock::now();
};

}  // namespace

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

Expected<TriageRun> CaseDatabase::stream_run(std::int64_t run_id, Source& source,
                                             const WalkOptions& options, JobProgress& progress,
                                             const std::atomic<bool>& cancel) {
    RunStream stream(db_, run_id);
    if (auto s = stream.check(); !s) {
        (void)finish_run(run_id, "failed", s.error().message);
        return s.error();
    }
    if (auto s = stream.notes(options.notes); !s) {
        stream.rollback();
        (void)finish_run(run_id, "failed", s.error().message);
        return s.error();
    }
    WalkOptions with_content = options;
    with_content.read_content = true;
    QueueSink sink;
    std::atomic<bool> stop{cancel.load()};  // the operator's cancel, or a database failure
    Status walked = ok();
    std::thread walker([&] {
        walked = walk_file_systems(source, progress, stop, with_content, sink);
        sink.close();
    });
    std::optional<Error> db_failure;
    std::deque<WalkEvent> batch;
    while (sink.take(batch, std::chrono::milliseconds(100))) {
        if (cancel.load(std::memory_order_relaxed)) stop = true;
        for (auto& e : batch) {
            if (db_failure) break;  // keep draining so the walk can end
            if (auto s = stream.write(e); !s) db_failure = s.error();
        }
        batch.clear();
        if (!db_failure) {
            if (auto s = stream.commit_if_due(); !s) db_failure = s.error();
        }
        if (db_failure) stop = true;
    }
    walker.join();
    if (!db_failure) {
        if (auto s = stream.commit(); !s) db_failure = s.error();
    }
    if (db_failure) {
        stream.rollback();
        (void)finish_run(run_id, "failed", db_failure->message + "; " + stream.position());
        return *db_failure;
    }
    std::string status = "completed", stopped_at;
    if (!walked) {
        status = walked.error().kind == ErrorKind::Cancelled ? "cancelled" : "failed";
        stopped_at = walked.error().message + "; " + stream.position();
    } else if (options.unallocated_scan && !cancel.load()) {
        Status scanned = scan_unallocated_for_run(*this, run_id, source, *options.unallocated_scan,
                                                  progress, cancel);
        if (!scanned) {
            const bool cancelled = scanned.error().kind == ErrorKind::Cancelled;
            if (!cancelled && (scanned.error().kind == ErrorKind::Io ||
                               scanned.error().kind == ErrorKind::NoSpace)) {
                (void)finish_run(run_id, "failed", scanned.error().message);
                return scanned.error();
            }
            status = cancelled ? "cancelled" : "failed";
            stopped_at = scanned.error().message;
        }
    }
    if (auto s = finish_run(run_id, status, stopped_at); !s) return s.error();
    return run(run_id);
}

Expected<TriageRun> triage_source(Source& source, CaseDatabase& db, const WalkOptions& options,
                                  JobProgress& progress, const std::atomic<bool>& cancel) {
    auto stale = db.mark_interrupted_runs();
    if (!stale) return stale.error();
    auto run_id = db.begin_run(source.info());
    if (!run_id) return run_id.error();
    return db.stream_run(*run_id, source, options, progress, cancel);
}

}  // namespace exhibit
