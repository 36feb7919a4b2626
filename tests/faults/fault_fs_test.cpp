// Acquisition and triage through real kernel I/O errors: the source is a file on a FUSE
// mount (exhibit-fault-fs) whose read(2) fails with EIO over chosen byte ranges, or
// with ENODEV / EIO for everything once the "device" has been pulled.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "exhibit/case_db.hpp"
#include "exhibit/file_walk.hpp"
#include "fault_fs_mount.hpp"
#include "test_support.hpp"

using namespace exhibit;
using namespace exhibit::test;

namespace {

constexpr std::uint64_t kMiB = 1u << 20;

// Skips the test (with a warning) where FUSE cannot be mounted.
#define REQUIRE_FUSE()                                            \
    do {                                                          \
        if (auto why = fuse_unavailable(); !why.empty()) {        \
            WARN("SKIPPED: FUSE is not available here: " << why); \
            return;                                               \
        }                                                         \
    } while (0)

nlohmann::json read_json(const fs::path& path) {
    std::ifstream in(path);
    return nlohmann::json::parse(in);
}

// A copy of `image` with `ranges` zeroed: what an image of the faulty source must hold.
fs::path zeroed_copy(const fs::path& image, const std::vector<FaultFsPlan::Range>& ranges,
                     const fs::path& to) {
    fs::copy_file(image, to);
    std::fstream f(to, std::ios::in | std::ios::out | std::ios::binary);
    for (const auto& r : ranges) {
        std::vector<char> zeros(r.length, 0);
        f.seekp(static_cast<std::streamoff>(r.offset));
        f.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
    }
    return to;
}

std::string acquire_command(const fs::path& source, const fs::path& out, const std::string& format,
                            const std::string& extra = "") {
    return sh_quote(cli_path().string()) + " acquire " + sh_quote(source.string()) + " --out " +
           sh_quote(out.string()) + " --format " + format + " --json " + extra;
}

}  // namespace

TEST_CASE("acquiring through kernel EIO lists exactly the bad sectors and images the rest",
          "[faults][fuse]") {
    REQUIRE_FUSE();
    TempDir dir;
    const fs::path image = dir / "media.img";
    write_random_file(image, 8 * kMiB, 81);
    SourceSeal seal({image});
    // Sector-aligned, unaligned (bytes 3000..3099 touch sectors 5 and 6), and one that
    // straddles the boundary between two 4 MiB reads.
    FaultFsPlan plan;
    plan.bad = {{1 * kMiB, 4096}, {3000, 100}, {4 * kMiB - 512, 1024}};
    const std::vector<FaultFsPlan::Range> sectors = {
        {2560, 1024}, {1 * kMiB, 4096}, {4 * kMiB - 512, 1024}};
    const fs::path expected = zeroed_copy(image, sectors, dir / "expected.img");
    const std::string expected_md5 = coreutils_digest("md5sum", expected);
    const std::string expected_sha256 = coreutils_digest("sha256sum", expected);

    FaultFsMount mount(image, plan);
    REQUIRE(mount.mounted());
    INFO(mount.why());

    auto check_record = [&](const nlohmann::json& record) {
        CHECK(record["complete"] == true);
        CHECK(record["status"] == "completed with unreadable sectors");
        CHECK(record["hashes"]["md5"] == expected_md5);
        CHECK(record["hashes"]["sha256"] == expected_sha256);
        REQUIRE(record["unreadable"].size() == sectors.size());
        for (std::size_t i = 0; i < sectors.size(); ++i) {
            CHECK(record["unreadable"][i]["offset"] == sectors[i].offset);
            CHECK(record["unreadable"][i]["length"] == sectors[i].length);
            CHECK(record["unreadable"][i]["errno"] == EIO);
        }
        CHECK(record["unreadable_sectors"] == 2 + 8 + 2);
    };

    SECTION("raw") {
        auto r = run(acquire_command(mount.file(), dir / "raw", "raw"));
        INFO(r.out);
        CHECK(r.exit_code == 6);
        auto record = read_json(dir / "raw" / "image.acquisition.json");
        check_record(record);
        CHECK(nlohmann::json::parse(r.out) == record);
        CHECK(coreutils_digest("sha256sum", dir / "raw" / "image.raw") == expected_sha256);
        CHECK(run("cmp " + sh_quote((dir / "raw" / "image.raw").string()) + " " +
                  sh_quote(expected.string()))
                  .exit_code == 0);
    }
    SECTION("E01") {
        auto r = run(acquire_command(mount.file(), dir / "e01", "e01"));
        INFO(r.out);
        CHECK(r.exit_code == 6);
        check_record(read_json(dir / "e01" / "image.acquisition.json"));
        const std::string e01 = sh_quote((dir / "e01" / "image.E01").string());
        auto verify = run("ewfverify -q " + e01, true);
        INFO(verify.out);
        CHECK(verify.exit_code == 0);
        CHECK_THAT(verify.out, Catch::Contains(expected_md5));
        // The E01's own error section lists the same sectors, as ewfinfo shows them.
        auto info = run("ewfinfo " + e01, true);
        INFO(info.out);
        CHECK_THAT(info.out, Catch::Contains("at sector(s): 5 - 6 "));
        CHECK_THAT(info.out, Catch::Contains("at sector(s): 2048 - 2055 "));
        CHECK_THAT(info.out, Catch::Contains("at sector(s): 8191 - 8192 "));
        auto out = open_ok(dir / "e01" / "image.E01");
        CHECK(out->info().size == 8 * kMiB);
    }
    CHECK(seal.unchanged());
}

TEST_CASE("a source that vanishes mid-acquisition ends incomplete, never looking finished",
          "[faults][fuse]") {
    REQUIRE_FUSE();
    TempDir dir;
    const fs::path image = dir / "media.img";
    write_random_file(image, 16 * kMiB, 82);
    SourceSeal seal({image});
    for (std::string err : {"ENODEV", "EIO"}) {
        DYNAMIC_SECTION("the pulled device answers " << err) {
            FaultFsPlan plan;
            plan.vanish_after_bytes = 9 * kMiB;  // mid-way through the sequential read
            plan.vanish_errno = err;
            FaultFsMount mount(image, plan);
            REQUIRE(mount.mounted());
            const fs::path out = dir / ("out-" + err);
            auto r = run(acquire_command(mount.file(), out, "raw") + " 2>" +
                         sh_quote(out.string() + ".stderr"));
            INFO(r.out);
            CHECK(r.exit_code == 7);  // source changed
            auto record = read_json(out / "image.acquisition.json");
            CHECK(record["complete"] == false);
            CHECK(record["record"] == "incomplete");
            CHECK(record["status"] == "failed");
            CHECK(record["error"]["kind"] == "source changed");
            // A pulled device is not a run of bad sectors: nothing was zero-filled for it.
            CHECK(record["unreadable"].empty());
            CHECK_FALSE(fs::exists(out / "image.raw"));
            CHECK(fs::exists(out / "image.raw.partial"));
            CHECK_THAT(record["summary"].get<std::string>(),
                       Catch::Contains("the output is incomplete"));
            // --json keeps stdout for the record; the failure's sentence is on stderr.
            CHECK(nlohmann::json::parse(r.out)["status"] == "failed");
            std::ifstream stderr_text(out.string() + ".stderr");
            std::string line;
            REQUIRE(std::getline(stderr_text, line));
            CHECK_THAT(line,
                       Catch::StartsWith("exhibit: ") && Catch::Contains(mount.file().string()));
        }
    }
    CHECK(seal.unchanged());
}

TEST_CASE("triage through kernel EIO records the unreadable file and carries on",
          "[faults][fuse][triage]") {
    REQUIRE_FUSE();
    const fs::path image = sample_image();
    SourceSeal seal({image});
    // A regular file with data blocks of its own, found by walking the healthy image.
    auto source = open_ok(image);
    JobProgress progress;
    std::atomic<bool> cancel{false};
    WalkOptions options;
    options.read_content = true;  // notes each file's first data block
    auto walk = walk_file_systems(*source, progress, cancel, options);
    REQUIRE(walk);
    const FileEntry* victim = nullptr;
    for (const auto& f : walk->files) {
        const auto& fsys = walk->file_systems[static_cast<std::size_t>(f.file_system)];
        if (f.meta_type == 'r' && f.name_allocated && f.size >= 8192 && f.first_block > 0 &&
            fsys.type == "ext4") {
            victim = &f;
            break;
        }
    }
    REQUIRE(victim);
    const auto& vfs = walk->file_systems[static_cast<std::size_t>(victim->file_system)];
    const std::uint64_t bad = vfs.offset + victim->first_block * vfs.block_size;
    INFO("unreadable: " << victim->path << " at byte " << bad);

    FaultFsPlan plan;
    plan.bad = {{bad, 4096}};
    FaultFsMount mount(image, plan);
    REQUIRE(mount.mounted());
    TempDir dir;
    auto r = run(sh_quote(cli_path().string()) + " triage " + sh_quote(mount.file().string()) +
                     " --case-db " + sh_quote((dir / "case.sqlite").string()) + " --json",
                 true);
    INFO(r.out);
    auto db = CaseDatabase::open(dir / "case.sqlite");
    REQUIRE(db);
    auto rows = (*db)->files({});
    REQUIRE(rows);
    auto runs = (*db)->runs();
    REQUIRE(runs);
    REQUIRE(runs->size() == 1);
    CHECK(runs->front().status == "completed");
    // Every entry the healthy walk found is listed; only the victim is marked unread.
    CHECK(rows->size() == walk->files.size());
    std::map<std::string, std::string> truth;
    for (const auto& t : sample_truth()) {
        if (!t.deleted && t.fs == "ext4") truth[t.path.substr(1)] = t.md5;
    }
    int hashed = 0;
    bool victim_seen = false;
    for (const auto& row : *rows) {
        const FileEntry& f = row.entry;
        if (row.fs_offset != vfs.offset || f.meta_type != 'r' || !f.name_allocated) continue;
        if (f.path == victim->path) {
            victim_seen = true;
            CHECK_FALSE(f.content_read);
            CHECK_THAT(f.content_error, Catch::Contains("unreadable"));
            // Whatever was hashed of it is not the file's hash and is not presented as such.
            CHECK(f.findings.hashes.md5 != truth[f.path]);
        } else if (truth.count(f.path)) {
            CHECK(f.content_read);
            CHECK(f.findings.hashes.md5 == truth[f.path]);
            ++hashed;
        }
    }
    CHECK(victim_seen);
    CHECK(hashed > 3);
    CHECK(seal.unchanged());
}
