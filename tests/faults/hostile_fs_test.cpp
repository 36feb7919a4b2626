// Hostile file systems that really break Debian's libtsk 4.11.1, found by fuzzing it and
// minimised (tests/faults/hostile/README.md says how and what each does to `fls`): one
// deadlocks it, one keeps it busy for 40 s of CPU, one makes it allocate 3.3 GB. They sit on one
// MBR disk beside the sample's healthy FAT16 volume, and the whole job runs on it: each hostile
// partition costs its own parser worker and is recorded against that partition, the FAT16
// is triaged in full, and the bundle verifies.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "test_support.hpp"

using namespace exhibit;
using namespace exhibit::test;
using nlohmann::json;

namespace {

fs::path hostile(const std::string& name) {
    return fs::path(EXHIBIT_TEST_SOURCE_DIR) / "faults" / "hostile" / name;
}

struct Volume {
    std::string what;         // how the test names it
    std::uint64_t start = 0;  // sector
};

// The sample's FAT16 volume (partition 5 of the sample device) as partition 1, then each
// hostile volume as a Linux partition of its own (write_mbr_disk: 1 MiB boundaries).
std::vector<Volume> make_disk(const fs::path& disk) {
    std::vector<Volume> volumes{{"fat16"}};
    std::vector<MbrVolume> parts{{0x0e, sample_partition(5)}};
    for (const char* name :
         {"iso9660-orphan-deadlock.iso", "ext2-directory-run-spin.img", "ext2-memory-bomb.img"}) {
        volumes.push_back({name});
        const auto bytes = read_file(hostile(name));
        parts.push_back({0x83, std::vector<char>(bytes.begin(), bytes.end())});
    }
    const auto starts = write_mbr_disk(disk, parts);
    for (std::size_t i = 0; i < volumes.size(); ++i)
        volumes[i].start = starts[i];
    return volumes;
}

// Rows of a query on the bundle's case database, each column as text.
std::vector<std::vector<std::string>> query(const fs::path& db, const std::string& sql) {
    sqlite3* h = nullptr;
    REQUIRE(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    INFO(sqlite3_errmsg(h));
    REQUIRE(sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    std::vector<std::vector<std::string>> rows;
    while (sqlite3_step(st) == SQLITE_ROW) {
        std::vector<std::string> row;
        for (int c = 0; c < sqlite3_column_count(st); ++c) {
            const auto* text = sqlite3_column_text(st, c);
            row.emplace_back(text ? reinterpret_cast<const char*>(text) : "");
        }
        rows.push_back(std::move(row));
    }
    sqlite3_finalize(st);
    sqlite3_close(h);
    return rows;
}

}  // namespace

TEST_CASE("the reproducers still break libtsk's own fls", "[faults][hostile]") {
    // What makes them hostile, shown with The Sleuth Kit's fls itself: if a libtsk update
    // fixes one, this says so and the reproducer can be replaced.
    for (const char* name : {"iso9660-orphan-deadlock.iso", "ext2-directory-run-spin.img"}) {
        INFO(name << ": fls should still be running after 5 s");
        auto r = run("timeout 5 fls -r -p " + sh_quote(hostile(name).string()) + " >/dev/null");
        CHECK(r.exit_code == 124);
    }
    auto r = run("/usr/bin/time -f '%M' timeout 60 fls -r -p " +
                     sh_quote(hostile("ext2-memory-bomb.img").string()) + " 2>&1 >/dev/null",
                 false);
    INFO("fls on the memory bomb, peak KiB: " << r.out);
    CHECK(std::stoull(r.out.substr(r.out.find_last_of('\n', r.out.size() - 2) + 1)) > 1'000'000);
}

TEST_CASE("hostile file systems cost only their own partitions and the rest is triaged and sealed",
          "[faults][hostile]") {
    TempDir dir;
    const fs::path disk = dir / "hostile-disk.img";
    const auto volumes = make_disk(disk);
    SourceSeal seal({disk});
    const fs::path out = dir / "bundle";

    const auto started = std::chrono::steady_clock::now();
    auto job = run("EXHIBIT_HOME=" + sh_quote((dir / "home").string()) + " " +
                       sh_quote(cli_path().string()) + " run " + sh_quote(disk.string()) +
                       " --out " + sh_quote(out.string()) +
                       " --case HOSTILE-1 --exhibit H/1 --operator 'Test Operator'"
                       " --operator-id 7 --image raw --parser-stall 5",
                   true);
    INFO(job.out);
    REQUIRE(job.exit_code == 0);
    // Three stalls of 5 s each, not a hung job (generous for the sanitizer build).
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::minutes(5));
    const fs::path db = out / "data" / "case.sqlite";
    auto errors = query(db, "SELECT byte_offset, message FROM scan_errors ORDER BY byte_offset");
    auto error_at = [&](const Volume& v) -> const std::vector<std::string>* {
        for (const auto& e : errors)
            if (e[0] == std::to_string(v.start * 512)) return &e;
        return nullptr;
    };
    // The deadlock and the spin: each stopped by the watchdog, recorded against its own
    // partition by byte offset and type.
    for (std::size_t i : {1u, 2u}) {
        const auto* e = error_at(volumes[i]);
        INFO(volumes[i].what);
        REQUIRE(e);
        INFO((*e)[1]);
        CHECK_THAT((*e)[1], Catch::Contains("parser worker for the " +
                                            std::string(i == 1 ? "iso9660" : "ext2") + " at byte " +
                                            std::to_string(volumes[i].start * 512)));
        CHECK_THAT((*e)[1], Catch::Contains("without progress"));
    }
    // The memory bomb: libtsk's allocations grow its worker towards the worker's memory
    // limit, where they fail and libtsk carries on. Whether that ends within the 5 s stall
    // depends on how fast this machine pages (and under AddressSanitizer its allocator may
    // stop the worker first): it is either listed (its orphan file) or its worker is
    // stopped and that is recorded against it; never lost silently, never fatal to the job.
    if (const auto* e = error_at(volumes[3])) {
        INFO((*e)[1]);
        CHECK_THAT((*e)[1], Catch::Contains("parser worker for the ext2 at byte " +
                                            std::to_string(volumes[3].start * 512)));
    } else {
        auto orphans = query(db,
                             "SELECT f.path FROM files f JOIN file_systems s ON s.id = "
                             "f.fs_id WHERE s.byte_offset = " +
                                 std::to_string(volumes[3].start * 512));
        CHECK_FALSE(orphans.empty());
    }
    CHECK(errors.size() == (error_at(volumes[3]) ? 3u : 2u));
    CHECK_THAT(job.out, Catch::Contains(std::to_string(errors.size()) + " file-system errors"));

    // The healthy FAT16 partition, in full: every file of the truth with its SHA-256, the
    // deleted ones marked deleted.
    std::map<std::string, std::pair<std::string, std::string>> fat;  // path -> sha256, deleted
    for (const auto& row : query(db,
                                 "SELECT f.path, IFNULL(f.sha256, ''), f.deleted FROM files f "
                                 "JOIN file_systems s ON s.id = f.fs_id WHERE s.type = 'fat16'")) {
        fat["/" + row[0]] = {row[1], row[2]};
    }
    int checked = 0;
    for (const auto& t : sample_truth()) {
        if (t.fs != "fat16") continue;
        INFO(t.path);
        auto it = fat.find(t.path);
        REQUIRE(it != fat.end());
        CHECK(it->second.second == (t.deleted ? "1" : "0"));
        if (!t.deleted) CHECK(it->second.first == t.sha256);
        ++checked;
    }
    CHECK(checked >= 3);

    // The custody log says the triage finished with those errors, and the bundle
    // verifies: structure, manifests, custody chain, seal and image hashes.
    bool finished = false;
    std::istringstream custody(read_file_text(out / "data" / "custody.jsonl"));
    for (std::string line; std::getline(custody, line);) {
        json e = json::parse(line);
        if (e["action"] != "triage_finished") continue;
        finished = true;
        INFO(e.dump());
        CHECK(e["detail"]["file_system_errors"] == errors.size());
    }
    CHECK(finished);
    auto verify = run(sh_quote(cli_path().string()) + " verify " + sh_quote(out.string()), true);
    INFO(verify.out);
    CHECK(verify.exit_code == 0);
    CHECK_THAT(verify.out, Catch::Contains("verdict: VERIFIED"));
    CHECK(seal.unchanged());
}
