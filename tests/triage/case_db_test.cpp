// The case database: schema, migrations, batched writes, queries, interrupted runs.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <set>
#include <sstream>

#include "exhibit/case_db.hpp"
#include "test_support.hpp"

using namespace exhibit;
using namespace exhibit::test;

namespace {

std::unique_ptr<CaseDatabase> open_db(const fs::path& path) {
    auto db = CaseDatabase::open(path);
    INFO((db ? "" : db.error().message));
    REQUIRE(db);
    return std::move(*db);
}

std::string pragma(const fs::path& path, const std::string& name) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    std::string out;
    if (sqlite3_prepare_v2(db, ("PRAGMA " + name).c_str(), -1, &s, nullptr) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
        out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return out;
}

}  // namespace

TEST_CASE("triage of the sample device fills a consistent, queryable case database",
          "[casedb][sample]") {
    TempDir dir;
    SourceSeal seal({sample_image()});
    auto src = open_ok(sample_image());
    auto db = open_db(dir / "case.sqlite");
    CHECK(db->schema_version() == kCaseSchemaVersion);
    JobProgress progress;
    std::atomic<bool> cancel{false};
    auto run = triage_source(*src, *db, {}, progress, cancel);
    REQUIRE(run);
    CHECK(run->status == "completed");
    CHECK(run->files > 30);
    CHECK(run->files_hashed > 25);
    CHECK(run->errors == 0);
    CHECK(pragma(dir / "case.sqlite", "journal_mode") == "wal");
    CHECK(pragma(dir / "case.sqlite", "integrity_check") == "ok");

    auto all = db->files({});
    REQUIRE(all);
    CHECK(all->size() == run->files);

    FileFilter only_deleted;
    only_deleted.deleted_only = true;
    auto gone = db->files(only_deleted);
    REQUIRE(gone);
    CHECK_FALSE(gone->empty());
    for (const auto& r : *gone)
        CHECK(r.entry.deleted());

    FileFilter jpeg_type;
    jpeg_type.mime_prefix = "image/jpeg";
    auto jpegs = db->files(jpeg_type);
    REQUIRE(jpegs);
    CHECK(jpegs->size() >= 4);
    bool flagged = false;
    for (const auto& r : *jpegs) {
        CHECK(r.entry.findings.mime_type == "image/jpeg");
        flagged =
            flagged || (r.entry.findings.extension_mismatch && r.entry.name.ends_with(".dat"));
    }
    CHECK(flagged);

    FileFilter under_alice;
    under_alice.path_glob = "Users/alice/*";
    auto alice = db->files(under_alice);
    REQUIRE(alice);
    CHECK_FALSE(alice->empty());
    for (const auto& r : *alice)
        CHECK(r.entry.path.starts_with("Users/alice/"));

    // The stored hashes are the truth manifest's.
    std::set<std::string> stored;
    for (const auto& r : *all) {
        if (r.entry.content_read) {
            stored.insert(r.file_system + " /" + r.entry.path + " " +
                          r.entry.findings.hashes.sha256);
        }
    }
    int matched = 0;
    for (const auto& t : sample_truth()) {
        if (t.deleted) continue;
        INFO(t.path);
        CHECK(stored.count(t.fs + " " + t.path + " " + t.sha256) == 1);
        ++matched;
    }
    CHECK(matched > 20);
    CHECK(seal.unchanged());
}

TEST_CASE("a cancelled triage leaves a consistent database that says so", "[casedb][cancel]") {
    TempDir dir;
    SourceSeal seal({sample_image()});
    auto src = open_ok(sample_image());
    auto db = open_db(dir / "case.sqlite");
    JobProgress progress;
    std::atomic<bool> cancel{true};
    auto run = triage_source(*src, *db, {}, progress, cancel);
    REQUIRE(run);
    CHECK(run->status == "cancelled");
    CHECK_THAT(run->stopped_at, Catch::Contains("cancelled"));
    CHECK(run->files == 0);
    CHECK(pragma(dir / "case.sqlite", "integrity_check") == "ok");
    auto runs = db->runs();
    REQUIRE(runs);
    CHECK(runs->size() == 1);
    CHECK(seal.unchanged());
}

TEST_CASE("the schema is versioned and refuses what it does not understand", "[casedb][schema]") {
    TempDir dir;
    { auto db = open_db(dir / "case.sqlite"); }
    CHECK(pragma(dir / "case.sqlite", "user_version") == std::to_string(kCaseSchemaVersion));
    {  // reopening migrates nothing and keeps the version
        auto db = open_db(dir / "case.sqlite");
        CHECK(db->schema_version() == kCaseSchemaVersion);
    }
    {
        sqlite3* raw = nullptr;
        REQUIRE(sqlite3_open((dir / "case.sqlite").c_str(), &raw) == SQLITE_OK);
        REQUIRE(sqlite3_exec(raw, "PRAGMA user_version=99", nullptr, nullptr, nullptr) ==
                SQLITE_OK);
        sqlite3_close(raw);
        auto newer = CaseDatabase::open(dir / "case.sqlite");
        REQUIRE_FALSE(newer);
        CHECK(newer.error().kind == ErrorKind::Unsupported);
        CHECK_THAT(newer.error().message, Catch::Contains("version 99"));
    }
    std::ofstream(dir / "notes.txt") << "not a database, just some notes\n";
    auto bogus = CaseDatabase::open(dir / "notes.txt");
    REQUIRE_FALSE(bogus);
    CHECK_THAT(bogus.error().message, Catch::Contains("notes.txt"));
    auto nowhere = CaseDatabase::open(dir / "missing-dir" / "case.sqlite");
    REQUIRE_FALSE(nowhere);
    CHECK_THAT(nowhere.error().message, Catch::Contains("missing-dir"));
}

TEST_CASE("a version 1 database migrates to hits, verdicts and interrupted runs",
          "[casedb][schema]") {
    TempDir dir;
    {  // the version 1 tables that later versions change, as they shipped
        sqlite3* raw = nullptr;
        REQUIRE(sqlite3_open((dir / "case.sqlite").c_str(), &raw) == SQLITE_OK);
        REQUIRE(
            sqlite3_exec(
                raw,
                "CREATE TABLE triage_runs (id INTEGER PRIMARY KEY, source_kind TEXT NOT NULL,"
                " source_path TEXT NOT NULL, source_size INTEGER NOT NULL,"
                " sector_size INTEGER NOT NULL, device_model TEXT, device_serial TEXT,"
                " started TEXT NOT NULL, finished TEXT, status TEXT NOT NULL CHECK (status"
                " IN ('running','completed','cancelled','failed')), stopped_at TEXT);"
                "CREATE TABLE files (id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL"
                " REFERENCES triage_runs(id), path TEXT, size INTEGER, content_read INTEGER);"
                "INSERT INTO triage_runs VALUES (1,'raw','/e/stick.dd',1024,512,NULL,NULL,"
                " '2026-01-01T00:00:00.000Z',NULL,'running',NULL);"
                "CREATE TABLE volumes (id INTEGER PRIMARY KEY, run_id INTEGER, address INTEGER,"
                " byte_offset INTEGER, byte_length INTEGER, description TEXT,"
                " allocated INTEGER, is_table INTEGER);"
                "CREATE TABLE file_systems (id INTEGER PRIMARY KEY, run_id INTEGER);"
                "CREATE TABLE scan_errors (id INTEGER PRIMARY KEY, run_id INTEGER);"
                "INSERT INTO files (run_id, path, size, content_read) VALUES (1, 'kept.txt', 5, 0);"
                "PRAGMA user_version=1;",
                nullptr, nullptr, nullptr) == SQLITE_OK);
        sqlite3_close(raw);
    }
    auto db = open_db(dir / "case.sqlite");
    CHECK(db->schema_version() == kCaseSchemaVersion);
    CHECK(pragma(dir / "case.sqlite", "integrity_check") == "ok");
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open_v2((dir / "case.sqlite").c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) ==
            SQLITE_OK);
    CHECK(sqlite3_exec(raw, "SELECT path, hash_status FROM files; SELECT kind, detail FROM hits;",
                       nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(raw);
    CHECK(pragma(dir / "case.sqlite", "foreign_key_check").empty());
    // The old run kept its row, and with no owner recorded it counts as interrupted.
    auto stale = db->mark_interrupted_runs();
    INFO((stale ? "" : stale.error().message));
    REQUIRE(stale);
    REQUIRE(stale->size() == 1);
    CHECK(stale->at(0).status == "interrupted");
    CHECK(stale->at(0).files == 1);
    CHECK_THAT(stale->at(0).stopped_at, Catch::StartsWith("interrupted"));
}

TEST_CASE("hits and hash-set verdicts are stored against their file", "[casedb]") {
    TempDir dir;
    auto db = open_db(dir / "case.sqlite");
    SourceInfo info;
    info.path = "/evidence/stick.dd";
    info.size = 1 << 20;
    auto run = db->begin_run(info);
    REQUIRE(run);
    WalkResult walk;
    walk.file_systems.push_back({.volume = -1, .offset = 0, .type = "fat32"});
    FileEntry plain, flagged;
    plain.path = plain.name = "readme.txt";
    plain.findings.hash_status = "known-good";
    flagged.path = "Users/jd/wallet.dat";
    flagged.name = "wallet.dat";
    flagged.findings.hash_status = "unknown";
    flagged.findings.hits.push_back({.kind = "yara",
                                     .name = "bitcoin_core_wallet",
                                     .category = "crypto",
                                     .severity = "high",
                                     .detail = R"({"strings":[{"id":"$magic","offset":12}]})"});
    flagged.findings.hits.push_back({"keyword", "bluebird", "", "", ""});
    walk.files = {plain, flagged};
    REQUIRE(db->record_walk(*run, walk));
    auto rows = db->files({});
    REQUIRE(rows);
    REQUIRE(rows->size() == 2);
    CHECK(rows->at(0).entry.findings.hash_status == "known-good");
    CHECK(rows->at(1).entry.findings.hash_status == "unknown");

    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open_v2((dir / "case.sqlite").c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) ==
            SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    REQUIRE(sqlite3_prepare_v2(raw,
                               "SELECT f.path, h.kind, h.name, IFNULL(h.severity,'-'), h.detail "
                               "FROM hits h JOIN files f ON f.id = h.file_id ORDER BY h.id",
                               -1, &s, nullptr) == SQLITE_OK);
    std::vector<std::string> got;
    while (sqlite3_step(s) == SQLITE_ROW) {
        std::string row;
        for (int c = 0; c < 5; ++c)
            row += std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, c))) + "|";
        got.push_back(row);
    }
    sqlite3_finalize(s);
    sqlite3_close(raw);
    CHECK(got == std::vector<std::string>{"Users/jd/wallet.dat|yara|bitcoin_core_wallet|high|"
                                          R"({"strings":[{"id":"$magic","offset":12}]}|)",
                                          "Users/jd/wallet.dat|keyword|bluebird|-|{}|"});
}

TEST_CASE("scan notes are kept with their run and read back in order", "[casedb]") {
    TempDir dir;
    auto db = open_db(dir / "case.sqlite");
    SourceInfo info;
    info.path = "usb.img";
    auto first = db->begin_run(info);
    auto second = db->begin_run(info);
    REQUIRE(first);
    REQUIRE(second);
    REQUIRE(db->add_scan_notes(*first, {{"rule-file", "/rules/bad.yar", "bad.yar was left out"},
                                        {"yara-truncated", "/big.bin", "/big.bin: first 1 of 2"}}));
    REQUIRE(db->add_scan_notes(*second, {{"yara-error", "/slow.bin", "timed out"}}));
    REQUIRE(db->add_scan_notes(*second, {}));
    auto notes = db->scan_notes(*first);
    REQUIRE(notes);
    REQUIRE(notes->size() == 2);
    CHECK((*notes)[0].run_id == *first);
    CHECK((*notes)[0].note.kind == "rule-file");
    CHECK((*notes)[0].note.path == "/rules/bad.yar");
    CHECK((*notes)[1].note.message == "/big.bin: first 1 of 2");
    auto all = db->scan_notes();
    REQUIRE(all);
    REQUIRE(all->size() == 3);
    CHECK((*all)[2].run_id == *second);
    CHECK((*all)[2].note.kind == "yara-error");
    // A note for a run that does not exist is refused by the foreign key.
    CHECK_FALSE(db->add_scan_notes(*second + 100, {{"yara-error", "/x", "y"}}));
    CHECK(db->scan_notes()->size() == 3);
}
