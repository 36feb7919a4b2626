// Interrupted acquisitions: `exhibit acquire` killed with SIGKILL (no handler runs, as in
// a power cut) at chosen and at random points, then `exhibit acquire --resume`. The
// finished image and its hashes must be those of an uninterrupted run, and in between
// nothing may look finished.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "fault_fs_mount.hpp"
#include "test_support.hpp"

using namespace exhibit;
using namespace exhibit::test;

namespace {

constexpr std::uint64_t kMiB = 1u << 20;

nlohmann::json read_json(const fs::path& path) {
    std::ifstream in(path);
    return nlohmann::json::parse(in);
}

std::string exhibit_cmd() {
    return sh_quote(cli_path().string());
}

std::string acquire_args(const fs::path& source, const fs::path& out, const std::string& format) {
    return " acquire " + sh_quote(source.string()) + " --out " + sh_quote(out.string()) +
           " --format " + format + " --segment-size 5M --checkpoint-every 4M --json";
}

// Runs `exhibit acquire ...` with the engine's test hook set: it SIGKILLs itself once the
// image writer has written `bytes` of media.
CommandResult acquire_killed_after(std::uint64_t bytes, const std::string& args) {
    return run("EXHIBIT_TEST_KILL_AFTER_BYTES=" + std::to_string(bytes) + " " + exhibit_cmd() +
               args + " 2>&1");
}

CommandResult resume(const fs::path& out, const std::string& source = "") {
    return run(exhibit_cmd() + " acquire " + (source.empty() ? "" : sh_quote(source) + " ") +
                   "--resume " + sh_quote(out.string()) + " --json 2>&1",
               false);
}

// The image files a finished acquisition in `out` lists, concatenated.
std::string image_sha256(const fs::path& out, const nlohmann::json& record) {
    std::vector<fs::path> files;
    for (const auto& f : record["outputs"]) {
        std::string name = f.get<std::string>();
        if (name.find(".acquisition.json") == std::string::npos) files.push_back(out / name);
    }
    return coreutils_digest_of_files("sha256sum", files);
}

// Nothing in `out` may look finished unless the record says complete.
void check_clearly_incomplete(const fs::path& out) {
    auto record = read_json(out / "image.acquisition.json");
    INFO(record.dump(2));
    CHECK(record["complete"] == false);
    CHECK((record["record"] == "running" || record["record"] == "incomplete"));
    for (const auto& entry : fs::directory_iterator(out)) {
        const std::string name = entry.path().filename().string();
        // The record, the checkpoint, or their temporary files (a kill mid-write).
        bool bookkeeping = name.find(".acquisition.json") != std::string::npos ||
                           name.find(".checkpoint.json") != std::string::npos;
        if (!bookkeeping) CHECK_THAT(name, Catch::Contains(".partial"));
    }
}

struct Reference {
    std::string md5, sha1, sha256;
    std::string image_sha256;
};

Reference uninterrupted(const fs::path& source, const fs::path& out, const std::string& format) {
    auto r = run(exhibit_cmd() + acquire_args(source, out, format));
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    auto record = nlohmann::json::parse(r.out);
    return {record["hashes"]["md5"], record["hashes"]["sha1"], record["hashes"]["sha256"],
            image_sha256(out, record)};
}

void check_same_as(const Reference& ref, const fs::path& out, const CommandResult& r) {
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    auto record = nlohmann::json::parse(r.out);
    CHECK(record["complete"] == true);
    CHECK(record["hashes"]["md5"] == ref.md5);
    CHECK(record["hashes"]["sha1"] == ref.sha1);
    CHECK(record["hashes"]["sha256"] == ref.sha256);
    CHECK(record["verified"] == true);
    CHECK(image_sha256(out, record) == ref.image_sha256);
    CHECK(read_json(out / "image.acquisition.json") == record);
    CHECK_FALSE(fs::exists(out / "image.checkpoint.json"));
}

}  // namespace

TEST_CASE("an acquisition killed at several points resumes to the identical image",
          "[faults][resume]") {
    TempDir dir;
    const fs::path source = dir / "media.img";
    write_random_file(source, 16 * kMiB, 91);
    SourceSeal seal({source});
    // The writer works in 4 MiB blocks with a checkpoint after each: a kill after the
    // block ending at N MiB leaves the checkpoint at N - 4 MiB (the kill comes before N's
    // own checkpoint). 4 MiB: before the first checkpoint. Split raw segments are 5 MiB,
    // so checkpoints fall inside a segment and on no segment boundary.
    struct Point {
        std::string format;
        std::uint64_t kill_mib;
    };
    for (const Point& p : {Point{"raw", 4}, Point{"raw", 9}, Point{"raw", 14}, Point{"split", 9},
                           Point{"split", 14}}) {
        DYNAMIC_SECTION(p.format << " killed after " << p.kill_mib << " MiB") {
            const Reference ref = uninterrupted(source, dir / "reference", p.format);
            const fs::path out = dir / "out";
            auto killed =
                acquire_killed_after(p.kill_mib * kMiB, acquire_args(source, out, p.format));
            INFO(killed.out);
            REQUIRE(killed.exit_code == 128 + SIGKILL);
            check_clearly_incomplete(out);
            const std::uint64_t expect_checkpoint = (p.kill_mib + 3) / 4 * 4 - 4;
            INFO(read_file_text(out / "image.checkpoint.json"));
            CHECK(read_json(out / "image.checkpoint.json")["offset"] == expect_checkpoint * kMiB);

            auto r = resume(out);
            check_same_as(ref, out, r);
            auto record = nlohmann::json::parse(r.out);
            REQUIRE(record["resumed"].size() == 1);
            CHECK(record["resumed"][0]["offset"] == expect_checkpoint * kMiB);
        }
    }
    SECTION("split raw killed twice") {
        const Reference ref = uninterrupted(source, dir / "reference", "split");
        const fs::path out = dir / "out-twice";
        auto first = acquire_killed_after(6 * kMiB, acquire_args(source, out, "split"));
        REQUIRE(first.exit_code == 128 + SIGKILL);
        auto second = run("EXHIBIT_TEST_KILL_AFTER_BYTES=" + std::to_string(13 * kMiB) + " " +
                          exhibit_cmd() + " acquire --resume " + sh_quote(out.string()));
        REQUIRE(second.exit_code == 128 + SIGKILL);
        check_clearly_incomplete(out);
        auto r = resume(out);
        check_same_as(ref, out, r);
        CHECK(nlohmann::json::parse(r.out)["resumed"].size() == 2);
    }
    CHECK(seal.unchanged());
}

TEST_CASE("an interrupted E01 acquisition starts again and says so", "[faults][resume][ewf]") {
    TempDir dir;
    const fs::path source = dir / "media.img";
    write_random_file(source, 12 * kMiB, 92);
    SourceSeal seal({source});
    auto ref_run = run(exhibit_cmd() + acquire_args(source, dir / "reference", "e01"));
    REQUIRE(ref_run.exit_code == 0);
    auto ref = nlohmann::json::parse(ref_run.out);

    const fs::path out = dir / "out";
    auto killed = acquire_killed_after(8 * kMiB, acquire_args(source, out, "e01"));
    REQUIRE(killed.exit_code == 128 + SIGKILL);
    check_clearly_incomplete(out);
    auto r = resume(out);
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    auto record = nlohmann::json::parse(r.out);
    CHECK(record["hashes"] == ref["hashes"]);
    REQUIRE(record["resumed"].size() == 1);
    CHECK(record["resumed"][0]["offset"] == 0);
    CHECK_THAT(record["resumed"][0]["note"].get<std::string>(),
               Catch::Contains("started again from byte 0"));
    auto verify = run("ewfverify -q " + sh_quote((out / "image.E01").string()), true);
    INFO(verify.out);
    CHECK(verify.exit_code == 0);
    CHECK_THAT(verify.out, Catch::Contains(ref["hashes"]["md5"].get<std::string>()));
    CHECK(seal.unchanged());
}

TEST_CASE("resume refuses other media and a damaged partial image", "[faults][resume]") {
    TempDir dir;
    const fs::path source = dir / "media.img";
    write_random_file(source, 16 * kMiB, 93);
    SourceSeal seal({source});
    const fs::path out = dir / "out";
    auto killed = acquire_killed_after(12 * kMiB, acquire_args(source, out, "raw"));
    INFO(killed.out);
    REQUIRE(killed.exit_code == 128 + SIGKILL);
    INFO(read_file_text(out / "image.checkpoint.json"));
    REQUIRE(read_json(out / "image.checkpoint.json")["offset"] == 8 * kMiB);

    SECTION("another medium of the same size") {
        const fs::path other = dir / "other.img";
        write_random_file(other, 16 * kMiB, 94);
        auto r = resume(out, other.string());
        INFO(r.out);
        CHECK(r.exit_code == 7);
        CHECK_THAT(r.out, Catch::Contains("is not the media the acquisition"));
        CHECK_THAT(r.out, Catch::Contains("resume refused"));
        check_clearly_incomplete(out);
    }
    SECTION("the same medium after a change in one sector the samples do not cover") {
        const fs::path other = dir / "changed.img";
        fs::copy_file(source, other);
        {
            std::fstream f(other, std::ios::in | std::ios::out | std::ios::binary);
            f.seekp(8 * kMiB - 4096);  // just before the checkpoint at 8 MiB
            f.put('\x5a');
        }
        auto r = resume(out, other.string());
        INFO(r.out);
        CHECK(r.exit_code == 7);
        CHECK_THAT(r.out, Catch::Contains("holds different bytes than the image"));
    }
    SECTION("a partial image changed after its checkpoint was taken") {
        {
            std::fstream f(out / "image.raw.partial",
                           std::ios::in | std::ios::out | std::ios::binary);
            f.seekp(1234567);
            f.put('\x00');
            f.seekp(1234567);
            f.put('\x01');
        }
        auto r = resume(out);
        INFO(r.out);
        CHECK(r.exit_code == 4);
        CHECK_THAT(r.out, Catch::Contains("no longer holds what was written"));
        check_clearly_incomplete(out);
    }
    SECTION("nothing to resume") {
        auto r = resume(dir / "empty-dir");
        INFO(r.out);
        CHECK(r.exit_code == 4);
        CHECK_THAT(r.out, Catch::Contains("no interrupted acquisition"));
    }
    CHECK(seal.unchanged());
}

TEST_CASE("a pulled device resumes from its last checkpoint when it is back",
          "[faults][resume][fuse]") {
    if (auto why = fuse_unavailable(); !why.empty()) {
        WARN("SKIPPED: FUSE is not available here: " << why);
        return;
    }
    TempDir dir;
    const fs::path source = dir / "media.img";
    write_random_file(source, 16 * kMiB, 95);
    SourceSeal seal({source});
    const Reference ref = uninterrupted(source, dir / "reference", "raw");
    const fs::path out = dir / "out";
    {
        FaultFsPlan plan;
        plan.vanish_after_bytes = 10 * kMiB;  // mid-way through the sequential read
        plan.vanish_errno = "EIO";
        FaultFsMount mount(source, plan);
        REQUIRE(mount.mounted());
        auto r = run(exhibit_cmd() + acquire_args(mount.file(), out, "raw"));
        INFO(r.out);
        CHECK(r.exit_code == 7);
        check_clearly_incomplete(out);
        CHECK(read_json(out / "image.checkpoint.json")["offset"] == 8 * kMiB);
    }
    // Plugged in again (here: the same media at another path).
    auto r = resume(out, source.string());
    check_same_as(ref, out, r);
    CHECK(seal.unchanged());
}

TEST_CASE("kill -9 at random moments never leaves output that looks finished",
          "[faults][resume][powercut]") {
    TempDir dir;
    const fs::path source = dir / "media.img";
    write_random_file(source, 24 * kMiB, 96);
    SourceSeal seal({source});
    const Reference ref = uninterrupted(source, dir / "reference", "split");
    // How long one run takes here, to spread the kills over it.
    auto t0 = std::chrono::steady_clock::now();
    REQUIRE(run(exhibit_cmd() + acquire_args(source, dir / "timing", "split")).exit_code == 0);
    const auto whole = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - t0);

    const std::uint32_t seed = std::random_device{}();
    std::mt19937 rng(seed);
    std::uniform_int_distribution<long> when(0, whole.count());
    WARN("power-cut test: seed " << seed << ", one run takes " << whole.count() << " us");
    const std::string cli = cli_path().string();
    for (int i = 0; i < 10; ++i) {
        const auto delay = std::chrono::microseconds(when(rng));
        const fs::path out = dir / ("cut-" + std::to_string(i));
        INFO("seed " << seed << ", kill " << i << " after " << delay.count() << " us");
        std::vector<std::string> args = {
            cli,        "acquire", source.string(),  "--out", out.string(),
            "--format", "split",   "--segment-size", "5M",    "--checkpoint-every",
            "4M",       "--json"};
        std::vector<char*> argv;
        for (auto& a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        pid_t pid = ::fork();
        if (pid == 0) {
            int devnull = ::open("/dev/null", O_WRONLY);
            ::dup2(devnull, 1);
            ::dup2(devnull, 2);
            ::execv(argv[0], argv.data());
            std::_Exit(127);
        }
        REQUIRE(pid > 0);
        std::this_thread::sleep_for(delay);
        ::kill(pid, SIGKILL);
        int status = 0;
        ::waitpid(pid, &status, 0);
        const bool finished = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (!fs::exists(out)) continue;  // killed before it made its directory
        if (!fs::exists(out / "image.acquisition.json")) {
            // Killed before the record was written: nothing but the directory and perhaps
            // an empty first segment, nothing that looks like an image.
            for (const auto& e : fs::directory_iterator(out)) {
                const std::string name = e.path().filename().string();
                // The checkpoint (or its temporary file, when the kill came mid-write).
                if (name.find(".json") == std::string::npos)
                    CHECK_THAT(name, Catch::Contains(".partial"));
            }
            continue;
        }
        auto record = read_json(out / "image.acquisition.json");
        if (finished || record["complete"] == true) {
            CHECK(record["hashes"]["sha256"] == ref.sha256);
            CHECK(image_sha256(out, record) == ref.image_sha256);
            continue;
        }
        // Not complete: the record says so (the image files are .partial but for the
        // moment between renaming them and writing the final record), and resuming gives
        // the image an uninterrupted run gives.
        CHECK((record["record"] == "running" || record["record"] == "incomplete"));
        check_same_as(ref, out, resume(out));
    }
    CHECK(seal.unchanged());
}
