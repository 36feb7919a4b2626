// Triage reads where evidence usually is first, and the progress snapshot says when the
// first hit came.
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <mutex>

#include "exhibit/file_walk.hpp"
#include "exhibit/rules.hpp"
#include "test_support.hpp"

using namespace exhibit;
using namespace exhibit::test;

namespace {

FileEntry file(const std::string& path, std::uint64_t size) {
    FileEntry f;
    f.path = path;
    f.name = path.substr(path.find_last_of('/') + 1);
    f.size = size;
    return f;
}

// Notes the order files' findings come back (one scanner thread, so that is the order the
// parser worker read them; the scanners themselves run in the worker).
struct Order final : WalkSink {
    std::mutex mutex;
    std::map<std::uint64_t, std::pair<int, int>> entries;  // ordinal -> file system, priority
    std::vector<std::pair<int, int>> seen;
    void volume_system(const std::string&, const std::vector<VolumeEntry>&) override {}
    void file_system(int, const FileSystemEntry&) override {}
    void entry(std::uint64_t ordinal, const FileEntry& f, bool) override {
        std::lock_guard lock(mutex);
        entries[ordinal] = {f.file_system, read_priority(f)};
    }
    void content(std::uint64_t ordinal, ContentResult) override {
        std::lock_guard lock(mutex);
        seen.push_back(entries.at(ordinal));
    }
    void error(const WalkError&) override {}
};

}  // namespace

TEST_CASE("read priority ranks user folders and small files first", "[triage][priority]") {
    CHECK(read_priority(file("Users/alice/Documents/plan.txt", 900)) == 0);
    CHECK(read_priority(file("home/bob/.bash_history", 200)) == 0);
    CHECK(read_priority(file("DCIM/100CAM/IMG_0001.JPG", 80000)) == 0);
    CHECK(read_priority(file("notes.txt", 100)) == 1);
    CHECK(read_priority(file("home/bob/backup/disk.img", 900u << 20)) == 2);
    CHECK(read_priority(file("Windows/System32/kernel32.dll", 700000)) == 3);
    CHECK(read_priority(file("$MFT", 4096)) == 3);
    CHECK(read_priority(file("Users/alice/$Recycle.Bin/x", 10)) == 3);
    CHECK(read_priority(file("opt/big.bin", 100u << 20)) == 3);
}

TEST_CASE("the sample device is read rank by rank within each file system",
          "[triage][priority][sample]") {
    SourceSeal seal({sample_image()});
    auto source = open_ok(sample_image());
    Order order;
    WalkOptions options;
    options.read_content = true;
    options.workers = 1;
    JobProgress progress;
    std::atomic<bool> cancel{false};
    REQUIRE(walk_file_systems(*source, progress, cancel, options, order));
    REQUIRE(order.seen.size() > 25);
    bool ranked = true, mixed = false;
    for (std::size_t i = 1; i < order.seen.size(); ++i) {
        if (order.seen[i].first != order.seen[i - 1].first) continue;
        ranked = ranked && order.seen[i].second >= order.seen[i - 1].second;
        mixed = mixed || order.seen[i].second != order.seen[i - 1].second;
    }
    CHECK(ranked);
    CHECK(mixed);                                      // more than one rank was present
    CHECK(progress.snapshot().first_hit_seconds < 0);  // no rules: no hits
    CHECK(seal.unchanged());
}

TEST_CASE("the progress snapshot records the time to the first hit", "[triage][priority][sample]") {
    TempDir dir;
    SourceSeal seal({sample_image()});
    std::ofstream(dir / "kw.txt") << "operation bluebird\n";
    auto yara = YaraLibrary::initialize();
    REQUIRE(yara);
    auto rules =
        CompiledRules::build(*yara, {.packs = {}, .keywords = dir / "kw.txt", .cache_dir = {}});
    REQUIRE(rules);
    auto source = open_ok(sample_image());
    WalkOptions options;
    options.read_content = true;
    options.scanners.push_back(make_yara_scanner_factory(*rules, {}, {}));
    JobProgress progress;
    std::atomic<bool> cancel{false};
    auto walk = walk_file_systems(*source, progress, cancel, options);
    REQUIRE(walk);
    double first = progress.snapshot().first_hit_seconds;
    CHECK(first >= 0);
    CHECK(first <= progress.snapshot().seconds);
    CHECK(seal.unchanged());
}
