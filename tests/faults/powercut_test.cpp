// Power cuts during `exhibit run`: the whole job (case, custody, triage, image, seal,
// verify) is killed with SIGKILL (no handler runs, as in a power cut) at random moments.
// After every kill:
//   - the case database opens, passes PRAGMA integrity_check, and a triage run the dead
//     process left running is marked interrupted by the next open;
//   - the custody log chains event by event (in the engine and through `exhibit custody`),
//     and every event the run had reported on stdout is in it;
//   - no image looks whole unless it is: image files are `.partial` until the record says
//     complete, and a complete record carries the uninterrupted run's hashes; a bundle
//     under its final name verifies;
//   - two kills in three are followed by `exhibit run --resume` with the same --out (and
//     the same appliance home, so a kill while the key or the YARA cache was written
//     counts), which must complete the job: exit 0, a bundle that verifies, the
//     uninterrupted run's image hashes and file listing, one `job_resumed` custody event
//     when there was a case to resume, and the checks above again; the third kill is
//     followed by running the job again from the start with a new --out, to the same result.
//
// The kill moments are uniform over one uninterrupted run's duration, from a seed that is
// printed and can be given back: EXHIBIT_POWERCUT_SEED=N. EXHIBIT_POWERCUT_KILLS=N sets
// the number of kills (default 30). The source is the sample device's FAT16 volume under a
// one-partition MBR (16 MiB, so 30 kills take seconds); EXHIBIT_POWERCUT_SOURCE=full uses
// the whole 211 MiB sample device instead, for the longer run by hand:
//   EXHIBIT_POWERCUT_KILLS=200 EXHIBIT_POWERCUT_SOURCE=full build/tests/powercut_test
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "exhibit/case_db.hpp"
#include "exhibit/custody.hpp"
#include "test_support.hpp"

using namespace exhibit;
using namespace exhibit::test;

namespace {

std::string env_or(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : fallback;
}

std::vector<std::string> run_args(const fs::path& source, const fs::path& out,
                                  const std::string& image, const fs::path& keywords) {
    return {cli_path().string(),
            "run",
            source.string(),
            "--out",
            out.string(),
            "--case",
            "OP-PowerCut",
            "--exhibit",
            "PC/1",
            "--operator",
            "Test Operator",
            "--operator-id",
            "4242",
            "--image",
            image,
            "--rules",
            "builtin",
            "--keywords",
            keywords.string()};
}

// Starts `args` with EXHIBIT_HOME=home, stdout and stderr into `log`.
pid_t spawn(std::vector<std::string> args, const fs::path& home, const fs::path& log) {
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = ::fork();
    if (pid == 0) {
        ::setenv("EXHIBIT_HOME", home.c_str(), 1);
        int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        ::execv(argv[0], argv.data());
        std::_Exit(127);
    }
    return pid;
}

int wait_exit(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string files_listing(const fs::path& db) {
    auto r = run(sh_quote(cli_path().string()) + " files " + sh_quote(db.string()));
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    return r.out;
}

nlohmann::json read_json(const fs::path& path) {
    std::ifstream in(path);
    return nlohmann::json::parse(in, nullptr, false);
}

// Path, deletion flag and SHA-256 of every file of the case's completed triage run (a
// resumed job's database also holds the run the kill interrupted).
std::string completed_listing(const fs::path& db_path) {
    auto db = CaseDatabase::open(db_path);
    REQUIRE(db);
    auto runs = (*db)->runs();
    REQUIRE(runs);
    std::optional<std::int64_t> completed;
    for (const auto& r : *runs) {
        if (r.status == "completed") {
            CHECK_FALSE(completed);  // one completed run per job
            completed = r.id;
        }
    }
    REQUIRE(completed);
    FileFilter filter;
    filter.run_id = completed;
    auto files = (*db)->files(filter);
    REQUIRE(files);
    std::vector<std::string> lines;
    for (const auto& f : *files) {
        lines.push_back(f.file_system + " " + std::to_string(f.fs_offset) + " " + f.entry.path +
                        (f.entry.deleted() ? " deleted " : " ") + f.entry.findings.hashes.sha256);
    }
    std::sort(lines.begin(), lines.end());
    std::string text;
    for (const auto& l : lines)
        text += l + "\n";
    return text;
}

// The actions in a case database's custody log, with their counts.
std::multiset<std::string> custody_actions(const fs::path& db_path) {
    std::multiset<std::string> actions;
    auto db = CaseDatabase::open(db_path);
    REQUIRE(db);
    auto events = CustodyLog(**db).events();
    REQUIRE(events);
    for (const auto& e : *events)
        actions.insert(nlohmann::json::parse(e.line)["action"].get<std::string>());
    return actions;
}

// Whether a killed job got as far as storing its case.
bool case_opened(const fs::path& db_path) {
    if (!fs::exists(db_path)) return false;
    return custody_actions(db_path).count("case_opened") == 1;
}

struct Reference {
    nlohmann::json hashes;  // md5, sha1, sha256 of the media
    std::string listing;    // `exhibit files` of the case
    std::string completed;  // completed_listing() of the case
};

Reference reference_run(const std::vector<std::string>& args, const fs::path& home,
                        const fs::path& out) {
    const fs::path log = out.string() + ".log";
    int code = wait_exit(spawn(args, home, log));
    INFO(read_file_text(log));
    REQUIRE(code == 0);
    auto record = read_json(out.string() + ".case/image/image.acquisition.json");
    REQUIRE(record["complete"] == true);
    return {record["hashes"], files_listing(out.string() + ".case/case.sqlite"),
            completed_listing(out.string() + ".case/case.sqlite")};
}

// What a run printed tells which custody events it had reported written.
std::set<std::string> reported_events(const std::string& printed) {
    std::set<std::string> actions;
    std::istringstream lines(printed);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("case ", 0) == 0 && line.find(": working in ") != std::string::npos) {
            actions.insert(custody_action::kCaseOpened);
            actions.insert(custody_action::kOperatorSignedIn);
        }
        if (line.rfind("write-block: ", 0) == 0) {
            actions.insert(custody_action::kSourceAttached);
            actions.insert(custody_action::kWriteBlockChecked);
        }
        if (line.rfind("triage completed", 0) == 0) actions.insert(custody_action::kTriageFinished);
        if (line.rfind("sha256: ", 0) == 0) actions.insert(custody_action::kAcquisitionFinished);
        if (line.rfind("sealed: ", 0) == 0) actions.insert(custody_action::kBundleSealed);
        if (line.rfind("verdict: ", 0) == 0) actions.insert(custody_action::kBundleSealed);
    }
    return actions;
}

// The case database the kill left: consistent, its custody chain whole, its reported
// events there, and a dead process's triage run marked interrupted on the next open.
void check_case_database(const fs::path& db_path, const std::string& printed,
                         const fs::path& scratch) {
    const std::set<std::string> reported = reported_events(printed);
    if (!fs::exists(db_path)) {
        CHECK(reported.empty());
        return;
    }
    {
        sqlite3* raw = nullptr;
        REQUIRE(sqlite3_open_v2(db_path.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr) ==
                SQLITE_OK);
        sqlite3_stmt* st = nullptr;
        REQUIRE(sqlite3_prepare_v2(raw, "PRAGMA integrity_check", -1, &st, nullptr) == SQLITE_OK);
        std::string verdict;
        while (sqlite3_step(st) == SQLITE_ROW)
            verdict += reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
        sqlite3_finalize(st);
        sqlite3_close_v2(raw);
        CHECK(verdict == "ok");
    }
    auto db = CaseDatabase::open(db_path);
    INFO((db ? std::string() : db.error().message));
    REQUIRE(db);
    auto marked = (*db)->mark_interrupted_runs();
    REQUIRE(marked);
    auto runs = (*db)->runs();
    REQUIRE(runs);
    for (const auto& r : *runs) {
        INFO("triage run " << r.id << " " << r.status << " " << r.stopped_at);
        CHECK((r.status == "completed" || r.status == "interrupted"));
    }

    CustodyLog log(**db);
    auto events = log.events();
    REQUIRE(events);
    std::string text;
    std::set<std::string> actions;
    for (std::size_t i = 0; i < events->size(); ++i) {
        const auto& e = (*events)[i];
        CHECK(e.seq == static_cast<std::int64_t>(i + 1));
        CHECK(e.sha256 == sha256_hex(e.line));
        text += e.line + "\n";
        actions.insert(nlohmann::json::parse(e.line)["action"].get<std::string>());
    }
    ChainVerdict chain = verify_custody_chain(text);
    INFO(chain.problem);
    CHECK(chain.ok);
    CHECK(chain.lines == events->size());
    for (const auto& a : reported) {
        INFO("reported but not in the custody log: " << a);
        CHECK(actions.count(a) == 1);
    }
    if (!events->empty()) {
        const fs::path jsonl = scratch / "custody.jsonl";
        std::ofstream(jsonl, std::ios::binary) << text;
        auto r = run(sh_quote(cli_path().string()) + " custody " + sh_quote(jsonl.string()), true);
        INFO(r.out);
        CHECK(r.exit_code == 0);
    }
}

// Nothing under the image folder looks whole unless it is. Image files keep `.partial` in
// their names (image.raw.partial, image.partial.E01) until the image is written, flushed
// and verified; the record says complete only after they are renamed, so a kill between
// the two leaves final names with a record that still says "running": those files must
// then be the whole, verified image.
void check_image(const fs::path& image_dir, const Reference& ref) {
    if (!fs::exists(image_dir)) return;
    const fs::path record_path = image_dir / "image.acquisition.json";
    nlohmann::json record = fs::exists(record_path) ? read_json(record_path) : nlohmann::json();
    INFO(record.dump(2));
    const bool complete = record.is_object() && record.value("complete", false);
    if (complete) {
        CHECK(record["hashes"] == ref.hashes);
        CHECK(record["verified"] == true);
        return;
    }
    if (record.is_object())
        CHECK((record["record"] == "running" || record["record"] == "incomplete"));
    for (const auto& entry : fs::directory_iterator(image_dir)) {
        const fs::path& file = entry.path();
        const std::string name = file.filename().string();
        // The record, the checkpoint, or their temporary files (a kill mid-write).
        if (name.find(".acquisition.json") != std::string::npos ||
            name.find(".checkpoint.json") != std::string::npos ||
            name.find(".partial") != std::string::npos)
            continue;
        INFO("an image file under its final name while the record says not complete: " << name);
        if (name == "image.raw") {
            CHECK(coreutils_digest("sha256sum", file) == ref.hashes["sha256"]);
        } else if (name == "image.E01") {
            auto v = run("ewfverify -q " + sh_quote(file.string()), true);
            INFO(v.out);
            CHECK(v.exit_code == 0);
            CHECK_THAT(v.out, Catch::Contains(ref.hashes["md5"].get<std::string>()));
        } else {
            FAIL_CHECK("unexpected file " << name);
        }
    }
}

}  // namespace

TEST_CASE("exhibit run killed at random moments loses nothing and runs again to the same result",
          "[faults][powercut]") {
    TempDir dir;
    const bool full = env_or("EXHIBIT_POWERCUT_SOURCE", "small") == "full";
    const fs::path source = full ? sample_image() : sample_small_disk(dir.path());
    SourceSeal seal({source});
    const fs::path keywords = dir / "keywords.txt";
    std::ofstream(keywords)
        << "# planted in the sample device\noperation bluebird\n4929-1234-5678-9012\n";

    // The uninterrupted runs, E01 and raw, with one appliance home (key and YARA cache).
    const fs::path ref_home = dir / "ref-home";
    auto t0 = std::chrono::steady_clock::now();
    const Reference ref = reference_run(run_args(source, dir / "ref-e01", "e01", keywords),
                                        ref_home, dir / "ref-e01");
    auto whole = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - t0);
    // Timed again with a fresh home as each killed run has; the shorter of the two, so that
    // few kills come after the end.
    t0 = std::chrono::steady_clock::now();
    const Reference ref_raw = reference_run(run_args(source, dir / "ref-raw", "raw", keywords),
                                            dir / "ref-home-raw", dir / "ref-raw");
    whole = std::min(whole, std::chrono::duration_cast<std::chrono::microseconds>(
                                std::chrono::steady_clock::now() - t0));
    REQUIRE(ref_raw.hashes == ref.hashes);
    REQUIRE(ref_raw.listing == ref.listing);

    const int kills = std::stoi(env_or("EXHIBIT_POWERCUT_KILLS", "30"));
    std::uint32_t seed =
        static_cast<std::uint32_t>(std::stoul(env_or("EXHIBIT_POWERCUT_SEED", "0")));
    if (seed == 0) seed = std::random_device{}();
    std::mt19937 rng(seed);
    // A little past the end too, so some runs finish just before the kill.
    std::uniform_int_distribution<long> when(0, whole.count() * 21 / 20);
    WARN("power-cut test: seed " << seed << " (EXHIBIT_POWERCUT_SEED), " << kills
                                 << " kills, one run takes " << whole.count() / 1000 << " ms on "
                                 << source.filename().string());

    std::map<std::string, int> stages;  // where the kills landed, by the last custody event
    int finished_before_kill = 0, resumes = 0;
    for (int i = 0; i < kills; ++i) {
        const auto delay = std::chrono::microseconds(when(rng));
        const std::string image = i % 2 ? "raw" : "e01";
        const fs::path cut = dir / ("cut-" + std::to_string(i));
        fs::create_directories(cut);
        const fs::path home = cut / "home";  // fresh: the kill may land in key creation
        const fs::path out = cut / "bundle";
        INFO("seed " << seed << ", kill " << i << " (" << image << ") after " << delay.count()
                     << " us");
        pid_t pid = spawn(run_args(source, out, image, keywords), home, cut / "killed.log");
        REQUIRE(pid > 0);
        std::this_thread::sleep_for(delay);
        ::kill(pid, SIGKILL);
        const int code = wait_exit(pid);
        const std::string printed = read_file_text(cut / "killed.log");
        INFO("the killed run printed:\n" << printed);
        if (code == 0) ++finished_before_kill;
        CHECK((code == 0 || code == 128 + SIGKILL));

        const fs::path work = out.string() + ".case";
        check_case_database(work / "case.sqlite", printed, cut);
        check_image(work / "image", image == "raw" ? ref_raw : ref);
        if (fs::exists(out)) {
            // Under its final name a bundle is whole: the seal renames it there last.
            auto v = run(sh_quote(cli_path().string()) + " verify " + sh_quote(out.string()), true);
            INFO(v.out);
            CHECK(v.exit_code == 0);
        }
        if (code == 0) CHECK(fs::exists(out));
        {
            std::string last = "nothing";
            if (fs::exists(work / "case.sqlite")) {
                auto db = CaseDatabase::open(work / "case.sqlite");
                REQUIRE(db);
                CustodyLog log(**db);
                auto events = log.events();
                if (events && !events->empty())
                    last = nlohmann::json::parse(events->back().line)["action"];
            }
            ++stages[last];
        }

        if (i % 3 != 2) {
            // Resumed, as the operator would after the power came back: the same --out.
            const bool had_case = case_opened(work / "case.sqlite");
            auto args = run_args(source, out, image, keywords);
            args.push_back("--resume");
            const int resumed_code = wait_exit(spawn(args, home, cut / "resumed.log"));
            const std::string resumed = read_file_text(cut / "resumed.log");
            INFO("the resumed run printed:\n" << resumed);
            REQUIRE(resumed_code == 0);
            ++resumes;
            auto v = run(sh_quote(cli_path().string()) + " verify " + sh_quote(out.string()), true);
            INFO(v.out);
            CHECK(v.exit_code == 0);
            auto record = read_json(work / "image" / "image.acquisition.json");
            CHECK(record["hashes"] == ref.hashes);
            CHECK(record["complete"] == true);
            CHECK(completed_listing(work / "case.sqlite") == ref.completed);
            // The custody log says the job was resumed whenever there was a case to resume.
            if (had_case) CHECK(custody_actions(work / "case.sqlite").count("job_resumed") == 1);
            check_case_database(work / "case.sqlite", resumed, cut);
        } else {
            // Again from the start, with a new --out.
            const fs::path again = cut / "again";
            const int again_code =
                wait_exit(spawn(run_args(source, again, image, keywords), home, cut / "again.log"));
            INFO("the run after it printed:\n" << read_file_text(cut / "again.log"));
            REQUIRE(again_code == 0);
            auto record = read_json(again.string() + ".case/image/image.acquisition.json");
            CHECK(record["hashes"] == ref.hashes);
            CHECK(files_listing(again.string() + ".case/case.sqlite") == ref.listing);
        }
        fs::remove_all(cut);
    }
    std::ostringstream where;
    for (const auto& [event, n] : stages)
        where << " " << event << ": " << n << ";";
    WARN("power-cut test: " << kills << " kills (" << finished_before_kill
                            << " after the run had finished; " << resumes
                            << " completed with --resume); last custody event at the kill:"
                            << where.str());
    CHECK(seal.unchanged());
}

TEST_CASE("an acquisition a kill interrupted cannot be sealed as evidence", "[faults][powercut]") {
    TempDir dir;
    const fs::path source = sample_small_disk(dir.path());
    SourceSeal seal({source});
    const std::string cli = sh_quote(cli_path().string());
    const std::string home = "EXHIBIT_HOME=" + sh_quote((dir / "home").string()) + " ";
    // A finished case to seal, without an image.
    const fs::path keywords = dir / "keywords.txt";
    std::ofstream(keywords) << "operation bluebird\n";
    auto args = run_args(source, dir / "case", "none", keywords);
    REQUIRE(wait_exit(spawn(args, dir / "home", dir / "case.log")) == 0);
    const std::string db = sh_quote((dir / "case.case/case.sqlite").string());
    for (const std::string format : {"e01", "raw", "split"}) {
        DYNAMIC_SECTION(format << " killed after 8 MiB") {
            const fs::path out = dir / ("image-" + format);
            auto killed = run(home + "EXHIBIT_TEST_KILL_AFTER_BYTES=8388608 " + cli + " acquire " +
                              sh_quote(source.string()) + " --out " + sh_quote(out.string()) +
                              " --format " + format + " --segment-size 4M --json 2>&1");
            REQUIRE(killed.exit_code == 128 + SIGKILL);
            for (const auto& what : {out, out / "image.acquisition.json"}) {
                auto r = run(home + cli + " seal " + db + " --out " +
                                 sh_quote((dir / ("bundle-" + format)).string()) + " --image " +
                                 sh_quote(what.string()),
                             true);
                INFO(r.out);
                CHECK(r.exit_code == 4);
                CHECK_THAT(r.out, Catch::Contains("from an acquisition that did not finish"));
                CHECK_FALSE(fs::exists(dir / ("bundle-" + format)));
                CHECK_FALSE(fs::exists(dir / ("bundle-" + format + ".partial")));
            }
        }
    }
    CHECK(seal.unchanged());
}

// A kill cannot show what a power cut loses: a commit in WAL mode with synchronous=NORMAL
// survives the process but not the power. Custody events must be durable when reported,
// so each one's commit syncs the write-ahead log: counted with strace over a whole run. The
// sealed bundle's names are synced around its final rename.
TEST_CASE("custody events and the bundle's names are synced to disk", "[faults][powercut]") {
    if (run("strace -V").exit_code != 0) {
        WARN("SKIPPED: strace is not installed (Debian package strace)");
        return;
    }
    TempDir dir;
    const fs::path source = sample_small_disk(dir.path());
    SourceSeal seal({source});
    const fs::path out = dir / "bundle";
    const fs::path trace = dir / "syncs.txt";
    // LeakSanitizer (sanitizer build) cannot run under ptrace.
    auto r = run("ASAN_OPTIONS=detect_leaks=0 EXHIBIT_HOME=" + sh_quote((dir / "home").string()) +
                     " strace -f -y -e trace=fsync,fdatasync,rename -o " +
                     sh_quote(trace.string()) + " " + sh_quote(cli_path().string()) + " run " +
                     sh_quote(source.string()) + " --out " + sh_quote(out.string()) +
                     " --case C --exhibit E/1 --operator O --operator-id 1 --image none",
                 true);
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    std::size_t wal_syncs = 0;
    // The bundle's folder is synced before it takes its final name, its parent after.
    int staging_synced = -1, renamed = -1, parent_synced = -1, n = 0;
    {
        std::ifstream in(trace);
        const std::string staging = "<" + out.string() + ".partial>)";
        const std::string parent = "<" + out.parent_path().string() + ">)";
        const std::string rename = "rename(\"" + out.string() + ".partial\", \"" + out.string();
        for (std::string line; std::getline(in, line); ++n) {
            if (line.find("case.sqlite-wal>") != std::string::npos) ++wal_syncs;
            const bool sync = line.find("fsync(") != std::string::npos ||
                              line.find("fdatasync(") != std::string::npos;
            if (sync && line.find(staging) != std::string::npos) staging_synced = n;
            if (line.find(rename) != std::string::npos) renamed = n;
            if (sync && renamed >= 0 && line.find(parent) != std::string::npos) parent_synced = n;
        }
    }
    CHECK(staging_synced >= 0);
    CHECK(renamed > staging_synced);
    CHECK(parent_synced > renamed);
    auto db = CaseDatabase::open(out.string() + ".case/case.sqlite");
    REQUIRE(db);
    auto events = CustodyLog(**db).events();
    REQUIRE(events);
    INFO(read_file_text(trace));
    CHECK(events->size() >= 8);
    CHECK(wal_syncs >= events->size());
    CHECK(seal.unchanged());
}

// A resumed job reads the media it started on, whatever stage it stopped at: its triage,
// image and bundle must all be of one exhibit. Here the kill lands before or during the
// triage of a job that makes no image, so no acquisition checkpoint would notice.
TEST_CASE("exhibit run --resume refuses other media and goes on with the same",
          "[faults][powercut]") {
    TempDir dir;
    const fs::path a = sample_small_disk(dir.path());
    const fs::path b = dir / "other-disk.img";
    fs::copy_file(a, b);
    {
        std::fstream f(b, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(440);  // the MBR's disk signature: same size, same partitions, other media
        f.write("\x12\x34\x56\x78", 4);
    }
    SourceSeal seal({a, b});
    const fs::path keywords = dir / "keywords.txt";
    std::ofstream(keywords) << "operation bluebird\n";
    const fs::path out = dir / "bundle";
    const fs::path work = dir / "bundle.case";

    pid_t pid = spawn(run_args(a, out, "none", keywords), dir / "home", dir / "first.log");
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!fs::exists(work / "source-identity.json") &&
           std::chrono::steady_clock::now() < give_up) {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    ::kill(pid, SIGKILL);
    INFO(read_file_text(dir / "first.log"));
    REQUIRE(wait_exit(pid) == 128 + SIGKILL);
    REQUIRE_FALSE(fs::exists(out));

    auto resume_args = [&](const fs::path& source) {
        auto args = run_args(source, out, "none", keywords);
        args.push_back("--resume");
        return args;
    };
    const int refused = wait_exit(spawn(resume_args(b), dir / "home", dir / "other.log"));
    const std::string said = read_file_text(dir / "other.log");
    INFO(said);
    CHECK(refused == 7);
    CHECK_THAT(said, Catch::Contains(b.string() + " is not the media this job started on: "
                                                  "the sector at byte 0 holds different bytes"));
    CHECK_FALSE(fs::exists(out));
    auto db = CaseDatabase::open(work / "case.sqlite");
    REQUIRE(db);
    auto events = CustodyLog(**db).events();
    REQUIRE(events);
    auto last = nlohmann::json::parse(events->back().line);
    CHECK(last["action"] == "error");
    CHECK_THAT(last["detail"]["during"].get<std::string>(), Catch::Contains("resuming the job"));
    db->reset();

    const int resumed = wait_exit(spawn(resume_args(a), dir / "home", dir / "same.log"));
    INFO(read_file_text(dir / "same.log"));
    REQUIRE(resumed == 0);
    auto verify = run(sh_quote(cli_path().string()) + " verify " + sh_quote(out.string()), true);
    INFO(verify.out);
    CHECK(verify.exit_code == 0);
    CHECK(seal.unchanged());
}
