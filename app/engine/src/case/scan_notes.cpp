// Scan notes: what triage could not do in full, kept with its run in the case database.
#include <sqlite3.h>

#include <memory>

#include "exhibit/case_db.hpp"

namespace exhibit {

namespace {

struct StatementDeleter {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using StatementPtr = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

std::string column_text(sqlite3_stmt* s, int col) {
    auto* t = sqlite3_column_text(s, col);
    return t ? std::string(reinterpret_cast<const char*>(t),
                           static_cast<std::size_t>(sqlite3_column_bytes(s, col)))
             : std::string();
}

Error db_error(sqlite3* db, const std::string& what) {
    ErrorKind kind = sqlite3_errcode(db) == SQLITE_FULL ? ErrorKind::NoSpace : ErrorKind::Io;
    return make_error(kind, what + ": " + sqlite3_errmsg(db));
}

}  // namespace

Status CaseDatabase::add_scan_notes(std::int64_t run_id, const std::vector<ScanNote>& notes) {
    if (notes.empty()) return ok();
    const std::string what = "cannot record the scan notes in " + path_.string();
    if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
        return db_error(db_, what);
    auto fail = [&]() {
        Error e = db_error(db_, what);
        sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        return e;
    };
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_,
                           "INSERT INTO scan_notes (run_id, kind, path, message) VALUES (?,?,?,?)",
                           -1, &raw, nullptr) != SQLITE_OK)
        return fail();
    StatementPtr insert(raw);
    for (const ScanNote& n : notes) {
        sqlite3_bind_int64(raw, 1, run_id);
        sqlite3_bind_text(raw, 2, n.kind.data(), static_cast<int>(n.kind.size()), SQLITE_TRANSIENT);
        sqlite3_bind_text(raw, 3, n.path.data(), static_cast<int>(n.path.size()), SQLITE_TRANSIENT);
        sqlite3_bind_text(raw, 4, n.message.data(), static_cast<int>(n.message.size()),
                          SQLITE_TRANSIENT);
        if (sqlite3_step(raw) != SQLITE_DONE) return fail();
        sqlite3_reset(raw);
    }
    insert.reset();
    if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) return fail();
    return ok();
}

Expected<std::vector<ScanNoteRow>> CaseDatabase::scan_notes(
    std::optional<std::int64_t> run_id) const {
    std::string sql = "SELECT id, run_id, kind, path, message FROM scan_notes";
    if (run_id) sql += " WHERE run_id = ?1";
    sql += " ORDER BY id";
    sqlite3_stmt* raw = nullptr;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK)
        return db_error(db_, "cannot query the scan notes");
    StatementPtr s(raw);
    if (run_id) sqlite3_bind_int64(raw, 1, *run_id);
    std::vector<ScanNoteRow> out;
    int rc;
    while ((rc = sqlite3_step(raw)) == SQLITE_ROW) {
        out.push_back({sqlite3_column_int64(raw, 0),
                       sqlite3_column_int64(raw, 1),
                       {column_text(raw, 2), column_text(raw, 3), column_text(raw, 4)}});
    }
    if (rc != SQLITE_DONE) return db_error(db_, "cannot read the scan notes");
    return out;
}

}  // namespace exhibit
