// `exhibit triage` and `exhibit files` as an examiner uses them.
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "test_support.hpp"

using namespace exhibit::test;

namespace {

CommandResult run_cli(const std::string& args, bool with_stderr = true) {
    return run(sh_quote(cli_path().string()) + " " + args, with_stderr);
}

// Starts `command` under /bin/sh in the background (use `exec` so the pid is the program's).
pid_t spawn(const std::string& command) {
    pid_t pid = ::fork();
    if (pid == 0) {
        ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    return pid;
}

int wait_exit(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// One value from the case database, read-only (as another process would), "" when none.
std::string query(const fs::path& db_path, const std::string& sql) {
    sqlite3* db = nullptr;
    std::string out;
    if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
        sqlite3_busy_timeout(db, 2000);
        sqlite3_stmt* s = nullptr;
        if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) == SQLITE_OK &&
            sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0)) {
            out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
        }
        sqlite3_finalize(s);
    }
    sqlite3_close(db);
    return out;
}

// Polls until `sql` gives a number of at least `least`, or `seconds` pass.
bool wait_for(const fs::path& db, const std::string& sql, long least, double seconds) {
    auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
        std::string v = query(db, sql);
        if (!v.empty() && std::stol(v) >= least) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

// A disk whose triage takes seconds but whose image is small: partition 1 (ext4) holds
// 300 small files, partition 2 (ext4) six sparse 400 MiB files that hash as 2.4 GB.
fs::path make_slow_disk(const fs::path& dir) {
    const std::string d = sh_quote(dir.string());
    std::string script =
        "set -e; cd " + d +
        "; mkdir -p p1/docs p2/media; (cd p1/docs && seq 1 300 | split -l 1 -a 3 - note_);"
        "for i in 1 2 3 4 5 6; do printf 'video %s' $i > p2/media/big_$i.bin;"
        " truncate -s 400M p2/media/big_$i.bin; done;"
        "mkfs.ext4 -q -F -b 4096 -d p1 p1.img 8M >/dev/null;"
        "mkfs.ext4 -q -F -b 4096 -d p2 p2.img 8M >/dev/null;"
        "truncate -s 20M disk.img;"
        "printf 'label: dos\nstart=2048, size=16384, type=83\nstart=18432, size=16384, "
        "type=83\n' | sfdisk -q disk.img >/dev/null;"
        "dd if=p1.img of=disk.img bs=1M seek=1 conv=notrunc,sparse status=none;"
        "dd if=p2.img of=disk.img bs=1M seek=9 conv=notrunc,sparse status=none";
    auto r = run("PATH=$PATH:/usr/sbin:/sbin; " + script, true);
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    return dir / "disk.img";
}

}  // namespace

TEST_CASE("a triage killed with SIGKILL leaves its committed rows and is marked interrupted",
          "[cli][triage][interrupted]") {
    TempDir dir;
    const fs::path disk = make_slow_disk(dir.path());
    SourceSeal seal({disk});
    const fs::path db = dir / "case.sqlite";
    const std::string triage = "exec " + sh_quote(cli_path().string()) + " triage " +
                               sh_quote(disk.string()) + " --case-db " + sh_quote(db.string());

    pid_t first = spawn(triage + " --json > /dev/null 2>&1");
    // Partition 1 hashed and committed, partition 2 listed: the big files are being read.
    bool midway = wait_for(db, "SELECT COUNT(*) FROM files WHERE content_read = 1", 300, 60) &&
                  wait_for(db, "SELECT COUNT(*) FROM files WHERE name LIKE 'big_%'", 6, 30);
    ::kill(first, SIGKILL);
    CHECK(wait_exit(first) == 128 + SIGKILL);
    REQUIRE(midway);

    CHECK(query(db, "PRAGMA integrity_check") == "ok");
    CHECK(query(db, "SELECT status FROM triage_runs WHERE id = 1") == "running");
    CHECK_THAT(query(db, "SELECT position FROM triage_runs WHERE id = 1"),
               Catch::Contains("entries recorded"));
    CHECK(query(db, "SELECT COUNT(*) FROM file_systems") == "2");
    // Committed rows are all there, and the big files are listed but not all read.
    CHECK(std::stol(query(db,
                          "SELECT COUNT(*) FROM files WHERE content_read = 1 AND md5 IS NOT "
                          "NULL AND name LIKE 'note_%'")) == 300);
    CHECK(std::stol(query(db,
                          "SELECT COUNT(*) FROM files WHERE name LIKE 'big_%' AND NOT "
                          "content_read")) >= 1);

    // The next triage says run 1 was interrupted; cancel it (SIGINT, as Ctrl-C) part-way.
    const fs::path out = dir / "second.json";
    pid_t second = spawn(triage + " --json > " + sh_quote(out.string()) + " 2>/dev/null");
    bool started =
        wait_for(db, "SELECT COUNT(*) FROM files WHERE run_id = 2 AND content_read", 300, 60);
    ::kill(second, SIGINT);
    CHECK(wait_exit(second) == 8);
    REQUIRE(started);
    auto j = nlohmann::json::parse(read_file_text(out));
    CHECK(j["status"] == "cancelled");
    REQUIRE(j["interrupted_runs"].size() == 1);
    CHECK(j["interrupted_runs"][0]["run"] == 1);
    CHECK_THAT(j["stopped_at"].get<std::string>(), Catch::Contains("cancelled"));
    CHECK_THAT(j["stopped_at"].get<std::string>(), Catch::Contains("files read so far"));
    CHECK(query(db, "SELECT status FROM triage_runs WHERE id = 1") == "interrupted");
    const std::string why = query(db, "SELECT stopped_at FROM triage_runs WHERE id = 1");
    CHECK_THAT(why, Catch::StartsWith("interrupted: the triage process (pid " +
                                      std::to_string(first) + ")"));
    CHECK_THAT(why, Catch::Contains("last commit"));
    CHECK(query(db, "SELECT status FROM triage_runs WHERE id = 2") == "cancelled");
    CHECK(query(db, "PRAGMA integrity_check") == "ok");
    CHECK(seal.unchanged());
}

TEST_CASE("triage then files: the sample device in a case database", "[cli][triage]") {
    TempDir dir;
    SourceSeal seal({sample_image()});
    const std::string db = sh_quote((dir / "case.sqlite").string());
    auto t = run_cli("triage " + sh_quote(sample_image().string()) + " --case-db " + db + " --json",
                     false);
    INFO(t.out);
    REQUIRE(t.exit_code == 0);
    auto j = nlohmann::json::parse(t.out);
    CHECK(j["status"] == "completed");
    CHECK(j["files_hashed"].get<int>() > 25);
    CHECK(j["errors"] == 0);

    auto jpegs = run_cli("files " + db + " --type image/jpeg --csv", false);
    REQUIRE(jpegs.exit_code == 0);
    std::istringstream lines(jpegs.out);
    std::string header;
    std::getline(lines, header);
    CHECK_THAT(header, Catch::StartsWith("run,file_system,fs_offset,path"));
    int rows = 0;
    for (std::string line; std::getline(lines, line);) {
        CHECK_THAT(line, Catch::Contains("image/jpeg"));
        ++rows;
    }
    CHECK(rows >= 4);

    auto deleted = run_cli("files " + db + " --deleted", false);
    REQUIRE(deleted.exit_code == 0);
    std::istringstream dl(deleted.out);
    int deleted_rows = 0;
    for (std::string line; std::getline(dl, line);) {
        CHECK_THAT(line, Catch::Contains(" * "));
        ++deleted_rows;
    }
    CHECK(deleted_rows >= 6);

    auto alice = run_cli("files " + db + " --path 'Users/alice/*'", false);
    REQUIRE(alice.exit_code == 0);
    CHECK_THAT(alice.out, Catch::Contains("Users/alice/"));
    CHECK_THAT(alice.out, !Catch::Contains("Users/bob/"));

    // The bodyfile renders as a timeline with TSK's own mactime.
    auto body = run_cli("files " + db + " --bodyfile > " + sh_quote((dir / "body.txt").string()));
    REQUIRE(body.exit_code == 0);
    auto timeline = run("mactime -b " + sh_quote((dir / "body.txt").string()) + " -d", true);
    INFO(timeline.out.substr(0, 2000));
    CHECK(timeline.exit_code == 0);
    CHECK_THAT(timeline.out, Catch::Contains("Users/alice/"));
    CHECK(seal.unchanged());
}

TEST_CASE("triage and files refuse bad input in one sentence", "[cli][triage][errors]") {
    TempDir dir;
    auto missing =
        run_cli("triage /no/such.E01 --case-db " + sh_quote((dir / "c.sqlite").string()));
    CHECK(missing.exit_code == 3);
    CHECK_THAT(missing.out, Catch::StartsWith("exhibit: "));
    CHECK_THAT(missing.out, Catch::Contains("/no/such.E01"));

    auto no_db = run_cli("triage " + sh_quote(sample_image().string()));
    CHECK(no_db.exit_code == 2);
    CHECK_THAT(no_db.out, Catch::Contains("--case-db"));

    run("echo 'just text' > " + sh_quote((dir / "notes.txt").string()));
    auto not_db = run_cli("files " + sh_quote((dir / "notes.txt").string()));
    CHECK(not_db.exit_code == 3);
    CHECK_THAT(not_db.out, Catch::Contains("notes.txt"));

    auto both = run_cli("files " + sh_quote((dir / "notes.txt").string()) + " --csv --bodyfile");
    CHECK(both.exit_code == 2);
}

TEST_CASE("files --dfxml is well-formed DFXML carrying every hashed file's digests",
          "[cli][triage][dfxml]") {
    TempDir dir;
    SourceSeal seal({sample_image()});
    const std::string db = sh_quote((dir / "case.sqlite").string());
    REQUIRE(run_cli("triage " + sh_quote(sample_image().string()) + " --case-db " + db).exit_code ==
            0);
    const std::string xml = sh_quote((dir / "files.dfxml").string());
    REQUIRE(run_cli("files " + db + " --dfxml > " + xml).exit_code == 0);
    auto lint = run("xmllint --noout " + xml, true);
    INFO(lint.out);
    CHECK(lint.exit_code == 0);
    auto count = run("grep -c \"<hashdigest type='sha256'>\" " + xml);
    auto hashed = run_cli("files " + db + " --csv | awk -F, 'NR>1 && $15 != \"\"' | wc -l", false);
    CHECK(std::stoi(count.out) == std::stoi(hashed.out));
    CHECK(std::stoi(count.out) > 25);
    CHECK(seal.unchanged());
}
