#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <nlohmann/json.hpp>
#include <vector>

#include "exhibit/platform/block_device.hpp"
#include "exhibit/platform/device_discovery.hpp"
#include "exhibit/platform/write_protection.hpp"
#include "platform_fixtures.hpp"
#include "test_support.hpp"

using namespace exhibit;
using namespace exhibit::test;

TEST_CASE("I/O counters are parsed from every stat layout the kernel has had",
          "[platform][protect][stat]") {
    platform::IoCounters c;
    // Linux >= 5.5: 17 fields, with discards and flushes.
    REQUIRE_FALSE(platform::parse_io_counters(
        "  131991    10217 73715002   185356   198105    30145 592286552  5687759        0   "
        "232292  5938466    18510       13 586105144    64663     4553      687\n",
        c));
    CHECK(c.reads_completed == 131991);
    CHECK(c.reads_merged == 10217);
    CHECK(c.sectors_read == 73715002);
    CHECK(c.writes_completed == 198105);
    CHECK(c.writes_merged == 30145);
    CHECK(c.sectors_written == 592286552);
    CHECK(c.in_flight == 0);
    CHECK(c.discards_completed == 18510u);
    CHECK(c.sectors_discarded == 586105144u);
    CHECK(c.flushes_completed == 4553u);

    // 4.18 .. 5.4: 15 fields, no flushes.
    REQUIRE_FALSE(platform::parse_io_counters("1 2 3 4 5 6 7 8 9 10 11 12 13 14 15", c));
    CHECK(c.writes_completed == 5);
    CHECK(c.discards_completed == 12u);
    CHECK_FALSE(c.flushes_completed);

    // Before 4.18: the classic 11.
    REQUIRE_FALSE(platform::parse_io_counters("1 2 3 4 5 6 7 8 9 10 11\n", c));
    CHECK(c.sectors_written == 7);
    CHECK_FALSE(c.discards_completed);

    CHECK(platform::parse_io_counters("1 2 3", c) == std::errc::invalid_argument);
    CHECK(platform::parse_io_counters("1 2 3 4 5 6 7 8 9 10 x1", c) == std::errc::invalid_argument);
    CHECK(platform::parse_io_counters("", c) == std::errc::invalid_argument);
}

TEST_CASE("writes_since counts writes, discards and flushes", "[platform][protect][stat]") {
    platform::IoCounters before, after;
    REQUIRE_FALSE(platform::parse_io_counters("10 0 80 0 5 0 40 0 0 0 0 1 0 8 0 2 0", before));
    REQUIRE_FALSE(platform::parse_io_counters("90 0 720 0 5 0 40 0 0 0 0 1 0 8 0 2 0", after));
    CHECK(after.writes_since(before) == 0);
    REQUIRE_FALSE(platform::parse_io_counters("90 0 720 0 6 0 48 0 0 0 0 2 0 16 0 5 0", after));
    CHECK(after.writes_since(before) == 1 + 1 + 3);
}

TEST_CASE("I/O counters are read from a captured tree, for disks and partitions",
          "[platform][protect][stat]") {
    platform::IoCounters c;
    REQUIRE_FALSE(platform::read_io_counters("vda", c, sysfs_fixture("virtio")));
    CHECK(c.reads_completed > 0);
    CHECK(c.flushes_completed);
    REQUIRE_FALSE(platform::read_io_counters("loop0p1", c, sysfs_fixture("loop")));
    CHECK(platform::read_io_counters("sdq", c, sysfs_fixture("virtio")) ==
          std::errc::no_such_device);
}

TEST_CASE("protect reports a disk whose nodes cannot be opened, and verifies nothing",
          "[platform][protect]") {
    // Point every node somewhere that does not exist: the fixture's own /dev paths could name
    // real devices of the machine running the test.
    auto disk = platform::find_disk("sdb", sysfs_fixture("usb_stick"));
    REQUIRE(disk);
    disk->dev_path = "/nonexistent/sdb";
    for (auto& part : disk->partitions)
        part.dev_path = "/nonexistent/" + part.identity.name;
    auto result = platform::protect(*disk, sysfs_fixture("usb_stick"));
    CHECK_FALSE(result.verified);
    CHECK(result.failed_node == "sdb");
    CHECK(result.error == std::errc::no_such_file_or_directory);
    REQUIRE(result.before.size() == 3);
    CHECK_FALSE(result.before[0].ioctl_read_only);
    CHECK(result.before[0].sysfs_read_only == false);
    CHECK_FALSE(result.after[1].read_only());
}

namespace {

// Reads the whole device and returns the bytes read.
std::uint64_t read_all(const fs::path& device) {
    platform::FileDescriptor fd;
    REQUIRE_FALSE(platform::open_read_only(device, fd));
    std::vector<char> buffer(1 << 20);
    std::uint64_t total = 0;
    for (;;) {
        ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
        REQUIRE(n >= 0);
        if (n == 0) break;
        total += static_cast<std::uint64_t>(n);
    }
    return total;
}

}  // namespace

TEST_CASE("a partitioned loop device is protected, read fully and sees no write",
          "[platform][protect][loop]") {
    TempDir dir;
    const fs::path image = dir / "evidence.img";
    write_random_file(image, 16 * 1024 * 1024, 61);
    REQUIRE(partition_image(image, {6, 0}));
    SourceSeal seal({image});
    {
        PartitionedLoop loop(image);
        if (loop.device.empty()) {
            WARN("SKIPPED: loop devices are not available here: " << loop.why);
            return;
        }
        REQUIRE(loop.partitions.size() == 2);
        auto disk = platform::find_disk(loop.device.string());
        REQUIRE(disk);
        CHECK(disk->identity.name == loop.name);
        CHECK(disk->identity.backing_file == image.string());
        REQUIRE(disk->partitions.size() == 2);
        CHECK(disk->identity.read_only == false);

        // Counters of the disk and each partition before anything is read.
        platform::IoCounters before;
        REQUIRE_FALSE(platform::read_io_counters(loop.name, before));

        auto result = platform::protect(*disk);
        INFO(result.error.message() << " on " << result.failed_node);
        REQUIRE(result.verified);
        REQUIRE(result.before.size() == 3);
        for (const auto& state : result.before)
            CHECK_FALSE(state.read_only());
        for (const auto& state : result.after) {
            CHECK(state.ioctl_read_only == true);
            CHECK(state.sysfs_read_only == true);
        }
        // sysfs, read back through discovery, agrees.
        auto again = platform::find_disk(loop.name);
        REQUIRE(again);
        CHECK(again->identity.read_only);
        for (const auto& part : again->partitions)
            CHECK(part.identity.read_only);

        // The block layer refuses a write to the protected device (opening for write or
        // writing fails), and the refused request never counts as a write.
        int fd = ::open(loop.device.c_str(), O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            char sector[512] = {};
            CHECK(::pwrite(fd, sector, sizeof sector, 0) < 0);
            ::close(fd);
        } else {
            CHECK((errno == EACCES || errno == EPERM || errno == EROFS));
        }

        CHECK(read_all(loop.device) == 16u * 1024 * 1024);
        for (const auto& part : disk->partitions)
            CHECK(read_all(part.dev_path) > 0);

        platform::IoCounters after;
        REQUIRE_FALSE(platform::read_io_counters(loop.name, after));
        CHECK(after.reads_completed > before.reads_completed);
        CHECK(after.sectors_read >= before.sectors_read);
        CHECK(after.writes_since(before) == 0);
        CHECK(after.sectors_written == before.sectors_written);
    }
    CHECK(seal.unchanged());
}

TEST_CASE("`exhibit protect` and `exhibit devices --json` on a loop device",
          "[platform][protect][loop][cli]") {
    TempDir dir;
    const fs::path image = dir / "evidence.img";
    write_random_file(image, 8 * 1024 * 1024, 62);
    REQUIRE(partition_image(image, {3, 0}));
    SourceSeal seal({image});
    {
        PartitionedLoop loop(image);
        if (loop.device.empty()) {
            WARN("SKIPPED: loop devices are not available here: " << loop.why);
            return;
        }
        const std::string cli = sh_quote(cli_path().string());
        // A partition names its whole disk: the disk and both partitions are protected.
        auto r = run(cli + " protect /dev/" + loop.partitions[0] + " --json");
        INFO(r.out);
        REQUIRE(r.exit_code == 0);
        auto j = nlohmann::json::parse(r.out);
        CHECK(j["name"] == loop.name);
        CHECK(j["verified"] == true);
        CHECK(j["protection"] == "read-only");
        REQUIRE(j["before"].size() == 3);
        REQUIRE(j["after"].size() == 3);
        for (const auto& node : j["before"])
            CHECK(node["read_only"] == false);
        for (const auto& node : j["after"]) {
            CHECK(node["blkroget"] == true);
            CHECK(node["sysfs_ro"] == true);
        }
        CHECK(j["io_counters"]["writes_completed"].is_number());

        auto text = run(cli + " protect " + sh_quote(loop.device.string()));
        INFO(text.out);
        CHECK(text.exit_code == 0);
        CHECK_THAT(text.out, Catch::Contains("before:") && Catch::Contains("after:") &&
                                 Catch::Contains("verified: " + loop.device.string()));

        auto list = run(cli + " devices --json");
        REQUIRE(list.exit_code == 0);
        bool found = false;
        const auto listed = nlohmann::json::parse(list.out);
        for (const auto& disk : listed["devices"]) {
            if (disk["name"] != loop.name) continue;
            found = true;
            CHECK(disk["protection"] == "read-only");
            CHECK(disk["bus"] == "virtual");
            CHECK(disk["backing_file"] == image.string());
            REQUIRE(disk["partitions"].size() == 2);
            CHECK(disk["partitions"][0]["read_only"] == true);
        }
        CHECK(found);
    }
    CHECK(seal.unchanged());
}

TEST_CASE("`exhibit protect` refuses what is not a block device, in one sentence",
          "[platform][protect][cli]") {
    const std::string cli = sh_quote(cli_path().string());
    TempDir dir;
    write_random_file(dir / "sdb", 4096, 3);
    auto r = run(cli + " protect " + sh_quote((dir / "sdb").string()), true);
    CHECK(r.exit_code == 3);
    CHECK_THAT(r.out,
               Catch::StartsWith("exhibit: " + (dir / "sdb").string() + " is not a block device"));
    r = run(cli + " protect nosuchdisk9", true);
    CHECK(r.exit_code == 3);
    r = run(cli + " protect", true);
    CHECK(r.exit_code == 2);
    r = run(cli + " devices --json", true);
    CHECK(r.exit_code == 0);
    CHECK(nlohmann::json::parse(r.out)["devices"].is_array());
}
