// The `exhibit` command as an operator meets it: exit codes, one-sentence errors, JSON.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "test_support.hpp"

using namespace exhibit::test;

namespace {

CommandResult run_cli(const std::string& args, bool with_stderr = true) {
    return run(sh_quote(cli_path().string()) + " " + args, with_stderr);
}

// A bad-input run: the documented exit code and one line naming the problem.
void check_refusal(const CommandResult& r, int code, const std::string& mentions) {
    INFO(r.out);
    CHECK(r.exit_code == code);
    CHECK_THAT(r.out, Catch::StartsWith("exhibit: "));
    CHECK_THAT(r.out, Catch::Contains(mentions));
    CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 1);
}

}  // namespace

TEST_CASE("help names every command and option", "[cli]") {
    auto top = run_cli("--help");
    CHECK(top.exit_code == 0);
    CHECK_THAT(top.out, Catch::Contains("acquire"));
    CHECK_THAT(top.out, Catch::Contains("info"));
    auto acquire = run_cli("acquire --help");
    CHECK(acquire.exit_code == 0);
    for (const char* option : {"--out", "--format", "--segment-size", "--compression", "--case",
                               "--exhibit", "--examiner", "--description", "--notes", "--no-verify",
                               "--json", "--hardware-blocker"}) {
        CHECK_THAT(acquire.out, Catch::Contains(option));
    }
    CHECK(run_cli("info --help").exit_code == 0);
    CHECK(run_cli("--version").out == "exhibit 0.1.0\n");
}

TEST_CASE("bad input gets one clear sentence and a documented exit code", "[cli][errors]") {
    TempDir dir;
    const std::string sample = sh_quote(sample_image().string());
    const std::string out = sh_quote((dir / "o").string());
    SourceSeal seal({sample_image()});
    check_refusal(run_cli("frobnicate"), 2, "frobnicate");
    check_refusal(run_cli("acquire " + sample + " --out " + out + " --bogus"), 2, "--bogus");
    check_refusal(run_cli("acquire " + sample), 2, "--out");
    check_refusal(run_cli("acquire " + sample + " --out " + out + " --format tiff"), 2, "tiff");
    check_refusal(run_cli("acquire " + sample + " --out " + out + " --segment-size lots"), 2,
                  "lots");
    check_refusal(run_cli("acquire /no/such/disk.E01 --out " + out), 3, "/no/such/disk.E01");
    check_refusal(run_cli("info /no/such/disk.E01"), 3, "does not exist");
    check_refusal(run_cli("info " + sh_quote(dir.path().string())), 2, "is a directory");
    run("echo hello > " + sh_quote((dir / "file").string()));
    check_refusal(run_cli("acquire " + sample + " --out " + sh_quote((dir / "file").string())), 4,
                  "not a directory");
    CHECK_FALSE(std::filesystem::exists(dir / "o"));
    CHECK(seal.unchanged());
}

TEST_CASE("acquire --json prints the record with the coreutils hashes", "[cli][acquire]") {
    TempDir dir;
    SourceSeal seal({sample_image()});
    auto r = run_cli("acquire " + sh_quote(sample_image().string()) + " --out " +
                         sh_quote((dir / "o").string()) +
                         " --format raw --case C1 --exhibit JD/1 --examiner 'PC 99' --json",
                     false);
    REQUIRE(r.exit_code == 0);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["status"] == "completed");
    CHECK(j["complete"] == true);
    CHECK(j["verified"] == true);
    CHECK(j["hashes"]["md5"] == coreutils_digest("md5sum", sample_image()));
    CHECK(j["hashes"]["sha256"] == coreutils_digest("sha256sum", sample_image()));
    CHECK(j["case"]["evidence_number"] == "JD/1");
    CHECK(j["outputs"][0] == "image.raw");
    // The same document sits beside the image.
    auto beside = nlohmann::json::parse(read_file_text(dir / "o" / "image.acquisition.json"));
    CHECK(beside == j);
    CHECK(seal.unchanged());
}

TEST_CASE("info --json shows an E01's stored hashes and case metadata", "[cli][info]") {
    const auto data = shared_testdata();
    if (data.empty()) {
        WARN("SKIPPED: ../shared/testdata is absent");
        return;
    }
    SourceSeal seal({data / "dfvfs/ext2.split.E01", data / "dfvfs/ext2.split.E02"});
    auto r = run_cli("info --json " + sh_quote((data / "dfvfs/ext2.split.E01").string()), false);
    REQUIRE(r.exit_code == 0);
    auto j = nlohmann::json::parse(r.out);
    CHECK(j["kind"] == "ewf");
    CHECK(j["size"] == 4194304);
    CHECK(j["segments"].size() == 2);
    CHECK(j["ewf"]["stored_md5"] == "196066add11fb71c4c49cf1bb50d6d24");
    CHECK(seal.unchanged());
}

TEST_CASE("a full output disk stops the run with a clear message and .partial output",
          "[cli][errors][nospace]") {
    if (!is_root() || run("unshare -m true").exit_code != 0) {
        WARN("SKIPPED: needs root and mount namespaces to make a small full disk");
        return;
    }
    TempDir dir;
    const std::string mnt = sh_quote((dir / "small").string());
    SourceSeal seal({sample_image()});
    // A 16 MiB tmpfs in a private mount namespace: the 211 MiB sample cannot fit.
    auto r = run("mkdir " + mnt + " && unshare -m sh -c 'mount -t tmpfs -o size=16m none " + mnt +
                     " && " + sh_quote(cli_path().string()) + " acquire " +
                     sh_quote(sample_image().string()) + " --out " + mnt +
                     "/o --format raw; rc=$?; ls " + mnt + "/o; cat " + mnt +
                     "/o/image.acquisition.json; exit $rc'",
                 true);
    INFO(r.out);
    CHECK(r.exit_code == 4);
    CHECK_THAT(r.out, Catch::Contains("exhibit: cannot write image file"));
    CHECK_THAT(r.out, Catch::Contains("No space left on device"));
    CHECK_THAT(r.out, Catch::Contains("image.raw.partial"));
    CHECK_THAT(r.out, Catch::Contains("\"complete\": false"));
    CHECK(seal.unchanged());
}

TEST_CASE("a writable block device is refused with how to protect it", "[cli][device]") {
    if (!is_root()) {
        WARN("SKIPPED: needs root for a loop device");
        return;
    }
    TempDir dir;
    write_random_file(dir / "disk.img", 1024 * 1024, 3);
    SourceSeal seal({dir / "disk.img"});
    std::string dev;
    CommandResult r;
    {
        LoopDevice loop(dir / "disk.img", false);
        if (loop.device.empty()) {
            WARN("SKIPPED: loop devices are not available here");
            return;
        }
        dev = loop.device.string();
        r = run_cli("acquire " + dev + " --out " + sh_quote((dir / "o").string()));
    }
    check_refusal(r, 3, "blockdev --setro " + dev);
    CHECK(seal.unchanged());
}
