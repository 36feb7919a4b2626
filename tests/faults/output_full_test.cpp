// A full output drive during `exhibit run`, `exhibit acquire` and `exhibit seal`: real
// tmpfs file systems of a few sizes (mounted in this test's own mount namespace, so
// nothing is left mounted on the machine) that fill up while the job writes. Each time:
// one sentence naming the path and saying the drive is full, exit 4, the case database
// consistent, the custody log saying what happened, and nothing that looks finished
// (image files keep `.partial`, no bundle under its final name). Where the job can go on,
// it does once there is room: the acquisition resumes, the seal runs again.
#include <sched.h>
#include <sqlite3.h>
#include <sys/mount.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "exhibit/custody.hpp"
#include "test_support.hpp"

using namespace exhibit;
using namespace exhibit::test;

namespace {

// A private mount namespace for this process and the commands it runs; empty when it
// cannot have one (the reason is returned).
std::string private_mounts() {
    if (!is_root()) return "needs root to mount a small file system";
    if (::unshare(CLONE_NEWNS) != 0) return std::string("unshare: ") + std::strerror(errno);
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
        return std::string("mount --make-rprivate /: ") + std::strerror(errno);
    return {};
}

// A tmpfs of `kib` KiB at `path`, unmounted on destruction.
class SmallDrive {
  public:
    SmallDrive(const fs::path& path, std::uint64_t kib) : path_(path) {
        fs::create_directories(path);
        const std::string options = "size=" + std::to_string(kib) + "k";
        mounted_ = ::mount("none", path.c_str(), "tmpfs", 0, options.c_str()) == 0;
    }
    ~SmallDrive() {
        if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
    }
    SmallDrive(const SmallDrive&) = delete;
    SmallDrive& operator=(const SmallDrive&) = delete;
    bool mounted() const { return mounted_; }
    bool grow(std::uint64_t kib) {
        const std::string options = "size=" + std::to_string(kib) + "k";
        return ::mount("none", path_.c_str(), "tmpfs", MS_REMOUNT, options.c_str()) == 0;
    }

  private:
    fs::path path_;
    bool mounted_ = false;
};

std::string cli() {
    return sh_quote(cli_path().string());
}

// Runs `args` with stdout and stderr kept apart, both on the big drive.
struct Outcome {
    int exit_code = -1;
    std::string out, err;
};
Outcome run_split(const std::string& args, const fs::path& scratch) {
    const fs::path err = scratch / "stderr.txt";
    // Under the sanitizer build: libewf's own leak on a failed chunk write is suppressed.
    const std::string lsan =
        std::string(EXHIBIT_TEST_SOURCE_DIR) + "/faults/lsan-libewf-enospc.supp";
    auto r = run("LSAN_OPTIONS=print_suppressions=0:suppressions=" + sh_quote(lsan) +
                 " EXHIBIT_HOME=" + sh_quote((scratch / "home").string()) + " " + cli() + " " +
                 args + " 2>" + sh_quote(err.string()));
    return {r.exit_code, r.out, read_file_text(err)};
}

// One sentence on stderr, beginning "exhibit: ", naming a path on the full drive and
// saying it is full.
void check_one_sentence(const std::string& err, const fs::path& drive) {
    INFO("stderr: " << err);
    CHECK(err.rfind("exhibit: ", 0) == 0);
    CHECK(std::count(err.begin(), err.end(), '\n') == 1);
    CHECK_THAT(err, Catch::Contains(drive.string() + "/"));
    CHECK_THAT(err, Catch::Contains("No space left on device") || Catch::Contains("is full"));
}

// A copy of the case database (with its WAL) on the big drive: what a lab would open. A
// full tmpfs cannot even grow the WAL index that opening in place needs.
fs::path copy_case_database(const fs::path& db, const fs::path& scratch) {
    const fs::path to = scratch / "examined";
    fs::remove_all(to);
    fs::create_directories(to);
    for (const char* suffix : {"", "-wal"}) {
        if (fs::exists(db.string() + suffix))
            fs::copy_file(db.string() + suffix, to / (std::string("case.sqlite") + suffix));
    }
    return to / "case.sqlite";
}

std::string integrity(const fs::path& db) {
    sqlite3* h = nullptr;
    std::string verdict;
    if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, nullptr) == SQLITE_OK) {
            while (sqlite3_step(st) == SQLITE_ROW)
                verdict += reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
        }
        sqlite3_finalize(st);
    } else {
        verdict = sqlite3_errmsg(h);
    }
    sqlite3_close_v2(h);
    return verdict;
}

// The custody log's lines, checked to chain; empty when the database never got one.
std::vector<nlohmann::json> custody_of(const fs::path& db) {
    std::vector<nlohmann::json> events;
    sqlite3* h = nullptr;
    REQUIRE(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    std::string text;
    if (sqlite3_prepare_v2(h, "SELECT line FROM custody_events ORDER BY seq", -1, &st, nullptr) ==
        SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            std::string line = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
            text += line + "\n";
            events.push_back(nlohmann::json::parse(line));
        }
    }
    sqlite3_finalize(st);
    sqlite3_close_v2(h);
    ChainVerdict chain = verify_custody_chain(text);
    INFO(chain.problem);
    CHECK(chain.ok);
    return events;
}

// No image file under a final name, no record saying complete.
void check_nothing_looks_finished(const fs::path& image_dir) {
    if (!fs::exists(image_dir)) return;
    for (const auto& entry : fs::directory_iterator(image_dir)) {
        const std::string name = entry.path().filename().string();
        if (name.find(".checkpoint.json") != std::string::npos) continue;
        if (name.find(".acquisition.json") != std::string::npos) {
            auto record = nlohmann::json::parse(read_file_text(entry.path()), nullptr, false);
            INFO(name << ": " << record.dump(2));
            if (!record.is_discarded()) CHECK(record["complete"] == false);
            continue;
        }
        CHECK_THAT(name, Catch::Contains(".partial"));
    }
}

std::string run_args(const fs::path& source, const fs::path& out, const std::string& image) {
    return "run " + sh_quote(source.string()) + " --out " + sh_quote(out.string()) +
           " --case OP-Full --exhibit FULL/1 --operator 'Test Operator' --operator-id 77 --image " +
           image;
}

}  // namespace

TEST_CASE("exhibit run on an output drive that fills up", "[faults][nospace]") {
    if (auto why = private_mounts(); !why.empty()) {
        WARN("SKIPPED: " << why);
        return;
    }
    TempDir dir;
    const fs::path source = sample_small_disk(dir.path());
    SourceSeal seal({source});
    struct Size {
        std::uint64_t kib;
        std::string image;
        std::string stage;  // where it must run out of room
    };
    // 16 KiB: not even the case database. 1300 KiB: the case database and its 1 MiB
    // custody reserve fit, the rows of triaging the whole sample device (99 entries, with
    // the shipped rules' hits) do not. 8 MiB: the small disk's triage fits, its 17 MiB
    // image not.
    for (const Size& s : {Size{16, "raw", "case"}, Size{1300, "raw", "triage"},
                          Size{8192, "raw", "acquisition"}, Size{8192, "e01", "acquisition"}}) {
        DYNAMIC_SECTION(s.kib << " KiB drive, " << s.image << " image: full during " << s.stage) {
            const fs::path drive = dir / "drive";
            SmallDrive mount(drive, s.kib);
            REQUIRE(mount.mounted());
            const fs::path out = drive / "bundle";
            const fs::path from = s.stage == "triage" ? sample_image() : source;
            auto r = run_split(run_args(from, out, s.image), dir.path());
            INFO("stdout: " << r.out);
            CHECK(r.exit_code == 4);
            check_one_sentence(r.err, drive);
            CHECK_FALSE(fs::exists(out));
            CHECK_FALSE(fs::exists(out.string() + ".partial"));
            check_nothing_looks_finished(out.string() + ".case/image");
            CHECK_FALSE(fs::exists(out.string() + ".case/case.sqlite.reserve"));

            const fs::path db = copy_case_database(out.string() + ".case/case.sqlite", dir.path());
            CHECK(integrity(db) == "ok");
            auto events = custody_of(db);
            if (s.stage == "case") {
                CHECK(events.empty());  // nowhere to write it: the one sentence is all
                continue;
            }
            REQUIRE(events.size() >= 4);
            const auto& last = events.back();
            INFO("last custody event: " << last.dump());
            if (s.stage == "triage") {
                CHECK(last["action"] == "error");
                CHECK(last["detail"]["during"] == "triage");
                CHECK_THAT(last["detail"]["message"].get<std::string>(),
                           Catch::Contains("is full"));
            } else {
                CHECK(last["action"] == "acquisition_finished");
                CHECK(last["detail"]["status"] == "failed");
                CHECK_THAT(last["detail"].dump(), Catch::Contains("No space left on device"));
            }
        }
    }
    CHECK(seal.unchanged());
}

TEST_CASE("exhibit acquire on a full drive stops as .partial and resumes when there is room",
          "[faults][nospace]") {
    if (auto why = private_mounts(); !why.empty()) {
        WARN("SKIPPED: " << why);
        return;
    }
    TempDir dir;
    const fs::path source = sample_small_disk(dir.path());
    SourceSeal seal({source});
    const std::string source_sha256 = coreutils_digest("sha256sum", source);
    for (const std::string format : {"raw", "split", "e01"}) {
        DYNAMIC_SECTION(format) {
            const fs::path drive = dir / "drive";
            SmallDrive mount(drive, 6 * 1024);
            REQUIRE(mount.mounted());
            const fs::path out = drive / "image";
            const std::string args = "acquire " + sh_quote(source.string()) + " --out " +
                                     sh_quote(out.string()) + " --format " + format +
                                     " --segment-size 4M --checkpoint-every 1M";
            auto r = run_split(args, dir.path());
            INFO("stdout: " << r.out);
            CHECK(r.exit_code == 4);
            check_one_sentence(r.err, drive);
            check_nothing_looks_finished(out);

            // Room again (a bigger drive): the run goes on from its checkpoint.
            REQUIRE(mount.grow(64 * 1024));
            auto resumed =
                run_split("acquire --resume " + sh_quote(out.string()) + " --json", dir.path());
            INFO("resume: " << resumed.out << resumed.err);
            REQUIRE(resumed.exit_code == 0);
            auto record = nlohmann::json::parse(resumed.out);
            CHECK(record["complete"] == true);
            CHECK(record["hashes"]["sha256"] == source_sha256);
            REQUIRE(record["resumed"].size() == 1);
            if (format != "e01") CHECK(record["resumed"][0]["offset"].get<std::uint64_t>() > 0);
        }
    }
    CHECK(seal.unchanged());
}

TEST_CASE("exhibit seal onto a full drive leaves no bundle and logs why", "[faults][nospace]") {
    if (auto why = private_mounts(); !why.empty()) {
        WARN("SKIPPED: " << why);
        return;
    }
    TempDir dir;
    const fs::path source = sample_small_disk(dir.path());
    SourceSeal seal({source});
    // The case and its image on the big drive; the bundle goes to a small one, so the
    // image is copied there (another file system) and does not fit.
    auto made = run_split(run_args(source, dir / "case", "raw"), dir.path());
    INFO(made.out << made.err);
    REQUIRE(made.exit_code == 0);
    const fs::path db = dir / "case.case/case.sqlite";
    const std::string image = sh_quote((dir / "case.case/image").string());
    const fs::path drive = dir / "drive";
    SmallDrive mount(drive, 8 * 1024);
    REQUIRE(mount.mounted());
    const fs::path out = drive / "bundle";
    auto r = run_split(
        "seal " + sh_quote(db.string()) + " --out " + sh_quote(out.string()) + " --image " + image,
        dir.path());
    INFO("stdout: " << r.out);
    CHECK(r.exit_code == 4);
    check_one_sentence(r.err, drive);
    CHECK_FALSE(fs::exists(out));
    CHECK_FALSE(fs::exists(out.string() + ".partial"));
    CHECK(integrity(db) == "ok");
    auto events = custody_of(db);
    REQUIRE_FALSE(events.empty());
    INFO("last custody event: " << events.back().dump());
    CHECK(events.back()["action"] == "error");
    CHECK_THAT(events.back()["detail"]["during"].get<std::string>(),
               Catch::Contains("sealing bundle " + out.string()));
    CHECK_THAT(events.back()["detail"]["message"].get<std::string>(),
               Catch::Contains("No space left on device"));

    REQUIRE(mount.grow(64 * 1024));
    auto again = run_split(
        "seal " + sh_quote(db.string()) + " --out " + sh_quote(out.string()) + " --image " + image,
        dir.path());
    INFO(again.out << again.err);
    REQUIRE(again.exit_code == 0);
    auto v = run_split("verify " + sh_quote(out.string()), dir.path());
    INFO(v.out << v.err);
    CHECK(v.exit_code == 0);
    CHECK(seal.unchanged());
}
