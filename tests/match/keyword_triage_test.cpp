// `exhibit triage --keywords/--rules` on the sample device, checked in the case database
// against the truth manifest: every planted keyword found in the right file and partition,
// none anywhere else.
#include <sqlite3.h>
#include <sys/mman.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include "exhibit/case_db.hpp"
#include "exhibit/rules.hpp"
#include "test_support.hpp"

using namespace exhibit::test;

namespace {

CommandResult run_cli(const TempDir& home, const std::string& args, bool with_stderr = false) {
    return run("EXHIBIT_HOME=" + sh_quote(home.path().string()) + " " +
                   sh_quote(cli_path().string()) + " " + args,
               with_stderr);
}

// partition number -> byte offset of its file system, from layout.tsv.
std::map<int, std::uint64_t> partition_offsets() {
    std::map<int, std::uint64_t> out;
    std::istringstream in(read_file_text(sample_dir() / "layout.tsv"));
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
        std::istringstream f(line);
        int part;
        std::string type;
        std::uint64_t start, count;
        f >> part >> type >> start >> count;
        out[part] = start * 512;
    }
    return out;
}

struct HitRow {
    std::uint64_t fs_offset;
    std::string path;
    std::string kind, name, category, detail;
    bool deleted, content_read;
};

std::vector<HitRow> hits_in(const fs::path& db_path) {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    REQUIRE(
        sqlite3_prepare_v2(db,
                           "SELECT s.byte_offset, f.path, h.kind, h.name, IFNULL(h.category,''), "
                           "h.detail, f.deleted, f.content_read FROM hits h "
                           "JOIN files f ON f.id = h.file_id JOIN file_systems s ON s.id = f.fs_id",
                           -1, &s, nullptr) == SQLITE_OK);
    std::vector<HitRow> out;
    auto text = [&](int c) {
        return std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, c)));
    };
    while (sqlite3_step(s) == SQLITE_ROW) {
        out.push_back({static_cast<std::uint64_t>(sqlite3_column_int64(s, 0)), "/" + text(1),
                       text(2), text(3), text(4), text(5), sqlite3_column_int(s, 6) != 0,
                       sqlite3_column_int(s, 7) != 0});
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return out;
}

}  // namespace

TEST_CASE("every planted keyword is found in its file and partition, and nowhere else",
          "[keywords][triage][sample]") {
    TempDir dir;
    SourceSeal seal({sample_image()});
    fs::path list = dir / "keywords.txt";
    std::ofstream(list) << "# OP-BLUEBIRD case terms\noperation bluebird\n4929-1234-5678-9012\n"
                           "darkmarket.onion\n";
    fs::path db = dir / "case.sqlite";
    auto t = run_cli(dir, "triage " + sh_quote(sample_image().string()) + " --case-db " +
                              sh_quote(db.string()) + " --keywords " + sh_quote(list.string()) +
                              " --json");
    INFO(t.out);
    REQUIRE(t.exit_code == 0);
    auto j = nlohmann::json::parse(t.out);
    CHECK(j["status"] == "completed");

    auto offsets = partition_offsets();
    using Key = std::tuple<std::uint64_t, std::string, std::string>;  // fs offset, path, keyword
    std::set<Key> expected;
    std::set<std::pair<std::uint64_t, std::string>> deleted;
    for (const auto& row : sample_truth()) {
        std::istringstream kws(row.keywords);
        for (std::string kw; std::getline(kws, kw, ',');)
            expected.insert({offsets.at(row.partition), row.path, kw});
        if (row.deleted) deleted.insert({offsets.at(row.partition), row.path});
    }
    REQUIRE(expected.size() >= 10);

    std::set<Key> found;
    std::set<std::pair<std::uint64_t, std::string>> read_deleted;
    bool boundary = false, wide = false;
    for (const auto& h : hits_in(db)) {
        REQUIRE(h.kind == "keyword");
        INFO(h.path << " " << h.name);
        CHECK(expected.count({h.fs_offset, h.path, h.name}) == 1);  // no hit where none is planted
        found.insert({h.fs_offset, h.path, h.name});
        auto d = nlohmann::json::parse(h.detail);
        CHECK(d["match_count"].get<int>() >= 1);
        if (h.path == "/Users/alice/Documents/projects/bluebird/archive.bin") {
            boundary = d["matches"][0]["offset"] == 1048576 - 7;
        }
        if (h.path == "/Users/carol/Documents/notes_unicode.txt") {
            wide = d["matches"][0]["encoding"] == "utf-16le";
        }
    }
    CHECK(boundary);  // across the 1 MiB read-chunk boundary
    CHECK(wide);      // UTF-16LE only
    // Deleted files count only when TSK could still read their content (it can today).
    auto db_rows = hits_in(db);
    for (const auto& k : expected) {
        INFO("expected " << std::get<1>(k) << " " << std::get<2>(k));
        bool is_deleted = deleted.count({std::get<0>(k), std::get<1>(k)}) == 1;
        if (!is_deleted) CHECK(found.count(k) == 1);
    }
    int deleted_found = 0;
    for (const auto& k : found)
        deleted_found += deleted.count({std::get<0>(k), std::get<1>(k)}) ? 1 : 0;
    CHECK(deleted_found >= 3);  // card_dump_march (2 terms), wallet_keys, burn_after_reading
    CHECK(j["hits"]["keyword"] == found.size());
    CHECK(j["rules"]["keywords"]["terms"] == 3);
    CHECK(j["first_hit_seconds"].get<double>() >= 0);
    CHECK(seal.unchanged());
}

TEST_CASE("triage --rules: hits name the file, rule and namespace; the second run uses the cache",
          "[yara][triage][sample]") {
    TempDir dir;
    SourceSeal seal({sample_image()});
    fs::create_directories(dir / "pack");
    std::ofstream(dir / "pack/types.yar")
        << "rule jpeg_named_otherwise {\n  meta:\n    severity = \"low\"\n"
           "  condition:\n    filetype == \"image/jpeg\" and extension != \"jpg\" and "
           "extension != \"jpeg\"\n}\n";
    std::ofstream(dir / "pack/broken.yar") << "rule broken { condition: no_such_thing }\n";
    std::string args = "triage " + sh_quote(sample_image().string()) + " --case-db " +
                       sh_quote((dir / "case.sqlite").string()) + " --rules " +
                       sh_quote((dir / "pack").string()) + ",builtin --json";
    auto first = run_cli(dir, args, true);
    INFO(first.out);
    REQUIRE(first.exit_code == 0);
    // The broken file is named with its line on stderr; triage still ran with the rest.
    CHECK_THAT(first.out, Catch::Contains((dir / "pack/broken.yar").string() + ":1: error:"));

    std::set<std::string> jpeg_misnamed;
    for (const auto& row : sample_truth()) {
        std::string lower = row.path;
        for (auto& c : lower)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (row.kind != "jpeg" || lower.ends_with(".jpg") || lower.ends_with(".jpeg")) continue;
        jpeg_misnamed.insert(row.path);
    }
    REQUIRE(!jpeg_misnamed.empty());
    std::set<std::string> hit_paths;
    for (const auto& h : hits_in(dir / "case.sqlite")) {
        CHECK(h.kind == "yara");
        CHECK(h.name == "jpeg_named_otherwise");
        CHECK(h.category == "pack/types.yar");
        hit_paths.insert(h.path);
    }
    CHECK(hit_paths == jpeg_misnamed);

    auto second = run_cli(dir, args);
    REQUIRE(second.exit_code == 0);
    auto j = nlohmann::json::parse(second.out);
    CHECK(j["rules"]["from_cache"] == true);
    CHECK(j["rules"]["failed_files"] == 1);
    CHECK(j["rules"]["packs"].size() == 2);
    CHECK(j["rules"]["packs"][0]["sha256"].get<std::string>().size() == 64);
    CHECK(seal.unchanged());
}

TEST_CASE("rules check reports each file; bad input is one sentence and a non-zero exit",
          "[yara][cli]") {
    TempDir dir;
    auto ok = run_cli(dir, "rules check builtin", true);
    INFO(ok.out);
    CHECK(ok.exit_code == 0);
    CHECK_THAT(ok.out, Catch::Contains("ok     private_keys.yar"));
    CHECK_THAT(ok.out, Catch::Contains("0 files failed"));

    std::ofstream(dir / "bad.yar") << "rule a { condition: true }\nrule a { condition: true }\n";
    auto bad = run_cli(dir, "rules check " + sh_quote((dir / "bad.yar").string()), true);
    CHECK(bad.exit_code == 2);
    CHECK_THAT(bad.out, Catch::Contains((dir / "bad.yar").string() + ":2: error: duplicated"));

    std::ofstream(dir / "kw.txt") << "fine\n/bad[/\n";
    auto kw = run_cli(dir,
                      "triage " + sh_quote(sample_image().string()) + " --case-db " +
                          sh_quote((dir / "c.sqlite").string()) + " --keywords " +
                          sh_quote((dir / "kw.txt").string()),
                      true);
    CHECK(kw.exit_code == 2);
    CHECK_THAT(kw.out, Catch::StartsWith("exhibit: keyword list") && Catch::Contains("line 2"));

    auto size =
        run_cli(dir,
                "triage " + sh_quote(sample_image().string()) + " --case-db " +
                    sh_quote((dir / "c.sqlite").string()) + " --rules builtin --yara-max-size lots",
                true);
    CHECK(size.exit_code == 2);
    CHECK_THAT(size.out, Catch::Contains("--yara-max-size"));
}

TEST_CASE("triage keeps its scan notes in the case database: truncated files, left-out rules",
          "[yara][triage]") {
    TempDir dir;
    // A small FAT image with one 3000-byte file, the needle at byte 2500 (past 1K).
    auto made = run("cd " + sh_quote(dir.path().string()) +
                        " && mkfs.vfat -C usb.img 1024 >/dev/null && head -c 2500 /dev/zero > "
                        "big.bin && printf needle >> big.bin && head -c 494 /dev/zero >> big.bin "
                        "&& MTOOLS_SKIP_CHECK=1 mcopy -i usb.img big.bin ::/",
                    true);
    INFO(made.out);
    REQUIRE(made.exit_code == 0);
    SourceSeal seal({dir / "usb.img"});
    fs::create_directories(dir / "pack");
    std::ofstream(dir / "pack/needle.yar") << "rule needle { strings: $a = \"needle\" "
                                              "condition: $a }\n";
    std::ofstream(dir / "pack/broken.yar") << "rule broken {\n condition: no_such_thing }\n";
    const fs::path db = dir / "case.sqlite";
    auto t = run_cli(dir, "triage " + sh_quote((dir / "usb.img").string()) + " --case-db " +
                              sh_quote(db.string()) + " --rules " +
                              sh_quote((dir / "pack").string()) + " --yara-max-size 1K --json");
    INFO(t.out);
    REQUIRE(t.exit_code == 0);
    CHECK(seal.unchanged());

    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    std::unique_ptr<sqlite3, int (*)(sqlite3*)> owner(raw, sqlite3_close);
    sqlite3_stmt* s = nullptr;
    REQUIRE(sqlite3_prepare_v2(raw,
                               "SELECT run_id, kind, path, message FROM scan_notes ORDER BY id", -1,
                               &s, nullptr) == SQLITE_OK);
    std::vector<std::array<std::string, 4>> rows;
    while (sqlite3_step(s) == SQLITE_ROW) {
        std::array<std::string, 4> r;
        for (int c = 0; c < 4; ++c) {
            auto* v = sqlite3_column_text(s, c);
            r[static_cast<std::size_t>(c)] = v ? reinterpret_cast<const char*>(v) : "";
        }
        rows.push_back(r);
    }
    sqlite3_finalize(s);
    REQUIRE(rows.size() == 2);
    const std::string run = std::to_string(nlohmann::json::parse(t.out)["run"].get<int>());
    CHECK(rows[0][0] == run);
    CHECK(rows[0][1] == "rule-file");
    CHECK(rows[0][2] == (dir / "pack/broken.yar").string());
    CHECK_THAT(rows[0][3], Catch::Contains("broken.yar does not compile and was left out: line 2"));
    CHECK(rows[1][0] == run);
    CHECK(rows[1][1] == "yara-truncated");
    CHECK_THAT(rows[1][2], Catch::EndsWith("big.bin") || Catch::EndsWith("BIG.BIN"));
    CHECK_THAT(rows[1][3], Catch::Contains("first 1024 of 3000 bytes"));
    // The needle past the limit was not found, and the summary says why.
    CHECK(nlohmann::json::parse(t.out)["yara_scan"]["files_truncated"] == 1);
}

TEST_CASE("scan notes are committed as each file is recorded, not after the walk",
          "[yara][triage]") {
    using namespace exhibit;
    TempDir dir;
    // big.bin (in a user folder: read first) is truncated by the 1K limit; later.txt is
    // read after it, and the parser worker waits there until the test lets it go on.
    auto made =
        run("cd " + sh_quote(dir.path().string()) +
                " && mkfs.vfat -C usb.img 1024 >/dev/null && head -c 3000 /dev/zero > "
                "big.bin && echo later > later.txt && export MTOOLS_SKIP_CHECK=1 && "
                "mmd -i usb.img ::/Users ::/Users/alice && "
                "mcopy -i usb.img big.bin ::/Users/alice/ && mcopy -i usb.img later.txt ::/",
            true);
    INFO(made.out);
    REQUIRE(made.exit_code == 0);
    SourceSeal seal({dir / "usb.img"});
    fs::create_directories(dir / "pack");
    std::ofstream(dir / "pack/zeros.yar") << "rule zeros { strings: $a = { 00 00 00 00 } "
                                             "condition: $a }\n";
    std::ofstream(dir / "pack/broken.yar") << "rule broken {\n condition: no_such_thing }\n";
    auto yara = YaraLibrary::initialize();
    REQUIRE(yara);
    auto rules =
        CompiledRules::build(*yara, {.packs = {dir / "pack"}, .keywords = {}, .cache_dir = {}});
    REQUIRE(rules);

    // Shared with the forked parser worker: the test's "go on".
    void* page = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    REQUIRE(page != MAP_FAILED);
    auto* go_on = new (page) std::atomic<bool>(false);
    WalkOptions options;
    YaraScanOptions limit;
    limit.max_bytes = 1024;
    options.scanners.push_back(make_yara_scanner_factory(*rules, limit, nullptr));
    options.notes = scan_notes(rules->get(), nullptr);
    options.worker_test_hook = [go_on](const char* stage, const FileEntry& f) {
        if (std::string(stage) != "reading" || f.name != "later.txt") return;
        for (int i = 0; i < 6000 && !go_on->load(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    };

    auto db = CaseDatabase::open(dir / "case.sqlite");
    REQUIRE(db);
    auto source = open_ok(dir / "usb.img");
    JobProgress progress;
    std::atomic<bool> cancel{false};
    Expected<TriageRun> result = make_error(ErrorKind::Internal, "not run");
    std::thread triage([&] { result = triage_source(*source, **db, options, progress, cancel); });

    // While the worker waits at later.txt, both notes must already be in the database.
    auto reader = CaseDatabase::open_read_only(dir / "case.sqlite");
    REQUIRE(reader);
    std::vector<ScanNoteRow> seen;
    std::string status_then;
    for (int i = 0; i < 600 && seen.size() < 2; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (auto notes = (*reader)->scan_notes()) seen = *notes;
        if (auto runs = (*reader)->runs(); runs && !runs->empty())
            status_then = runs->back().status;
    }
    go_on->store(true);
    triage.join();
    ::munmap(page, 4096);
    REQUIRE(result);
    CHECK(result->status == "completed");
    CHECK(status_then == "running");
    REQUIRE(seen.size() == 2);
    CHECK(seen[0].note.kind == "rule-file");
    CHECK(seen[1].note.kind == "yara-truncated");
    CHECK(seen[1].note.path == "/Users/alice/big.bin");
    auto after = (*db)->scan_notes();
    REQUIRE(after);
    CHECK(after->size() == 2);  // nothing written twice at the end
    CHECK(seal.unchanged());
}
