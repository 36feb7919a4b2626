#include <catch2/catch.hpp>

#include "exhibit/platform/device_discovery.hpp"
#include "platform_fixtures.hpp"
#include "test_support.hpp"

using namespace exhibit;
using namespace exhibit::test;

namespace {

const platform::BlockDeviceInfo& only_disk(const std::vector<platform::BlockDeviceInfo>& disks) {
    REQUIRE(disks.size() == 1);
    return disks.front();
}

}  // namespace

TEST_CASE("discovery reads a real virtio disk capture", "[platform][discovery][captured]") {
    auto disks = platform::discover_block_devices(sysfs_fixture("virtio"));
    const auto& vda = only_disk(disks);
    CHECK(vda.identity.name == "vda");
    CHECK(vda.dev_path == "/dev/vda");
    CHECK(vda.major_minor == "254:0");
    CHECK_FALSE(vda.partition);
    CHECK(vda.identity.bus == "virtio");
    CHECK(vda.identity.serial == "overlayblk");
    CHECK(vda.identity.size_bytes == 274877906944ull);
    CHECK_FALSE(vda.identity.removable);
    CHECK_FALSE(vda.identity.read_only);
    CHECK(vda.partitions.empty());
}

TEST_CASE("discovery reads a real loop device capture with two partitions",
          "[platform][discovery][captured]") {
    auto disks = platform::discover_block_devices(sysfs_fixture("loop"));
    const auto& loop = only_disk(disks);
    CHECK(loop.identity.name == "loop0");
    CHECK(loop.identity.bus == "virtual");
    CHECK(loop.major_minor == "7:0");
    CHECK(loop.identity.size_bytes == 8u * 1024 * 1024);
    CHECK_FALSE(loop.identity.backing_file.empty());
    REQUIRE(loop.partitions.size() == 2);
    CHECK(loop.partitions[0].identity.name == "loop0p1");
    CHECK(loop.partitions[0].dev_path == "/dev/loop0p1");
    CHECK(loop.partitions[0].partition);
    CHECK(loop.partitions[0].partition_number == 1);
    CHECK(loop.partitions[0].start_sector == 2048);
    CHECK(loop.partitions[0].identity.size_bytes == 4u * 1024 * 1024);
    CHECK(loop.partitions[0].identity.disk == "loop0");
    CHECK(loop.partitions[1].identity.name == "loop0p2");
    CHECK(loop.partitions[1].major_minor == "259:1");
}

// One line per tree: what discovery must read from it. The first four are real captures of
// QEMU's emulated devices under Debian's kernel; the handmade_ ones follow the same layout with
// a retail device's strings (see each README.md).
TEST_CASE("discovery reads USB, SATA, NVMe and SD card trees", "[platform][discovery]") {
    struct Expect {
        const char* fixture;
        const char* name;
        const char* bus;
        const char* vendor;
        const char* model;
        const char* serial;
        const char* usb_id;
        std::uint64_t sectors;
        bool removable;
        std::vector<const char*> partitions;
    };
    const std::vector<Expect> table = {
        {"usb_stick",
         "sdb",
         "usb",
         "QEMU",
         "QEMU HARDDISK",
         "EXHIBIT0USB0001",
         "46f4:0001",
         131072,
         true,
         {"sdb1", "sdb2"}},
        {"sata_disk",
         "sda",
         "ata",
         "ATA",
         "ExhibitTestSSD",
         "EXH-SATA-0001",
         "",
         131072,
         false,
         {"sda1", "sda2"}},
        {"nvme",
         "nvme0n1",
         "nvme",
         "",
         "QEMU NVMe Ctrl",
         "EXHNVME0001",
         "",
         131072,
         false,
         {"nvme0n1p1", "nvme0n1p2"}},
        {"sd_card",
         "mmcblk0",
         "mmc",
         "",
         "QEMU!",
         "0xdeadbeef",
         "",
         131072,
         false,
         {"mmcblk0p1", "mmcblk0p2"}},
        {"handmade_usb_stick",
         "sdb",
         "usb",
         "SanDisk",
         "Cruzer Blade",
         "4C530001230815117172",
         "0781:5567",
         30031872,
         true,
         {"sdb1"}},
        {"handmade_sata_disk",
         "sda",
         "ata",
         "ATA",
         "Samsung SSD 870",
         "S6PWNX0R123456A",
         "",
         976773168,
         false,
         {"sda1", "sda2"}},
        {"handmade_nvme",
         "nvme0n1",
         "nvme",
         "",
         "Samsung SSD 980 PRO 1TB",
         "S5GXNF0R912345K",
         "",
         1953525168,
         false,
         {"nvme0n1p1", "nvme0n1p2"}},
        {"handmade_sd_card",
         "mmcblk0",
         "mmc",
         "",
         "SC32G",
         "0x1234abcd",
         "",
         62333952,
         false,
         {"mmcblk0p1"}},
    };
    for (const Expect& e : table) {
        INFO(e.fixture);
        auto disks = platform::discover_block_devices(sysfs_fixture(e.fixture));
        const auto& disk = only_disk(disks);
        CHECK(disk.identity.name == e.name);
        CHECK(disk.dev_path == std::string("/dev/") + e.name);
        CHECK(disk.identity.bus == e.bus);
        CHECK(disk.identity.vendor == e.vendor);
        CHECK(disk.identity.model == e.model);
        CHECK(disk.identity.serial == e.serial);
        CHECK(disk.identity.usb_id == e.usb_id);
        CHECK(disk.identity.size_bytes == e.sectors * 512);
        CHECK(disk.identity.removable == e.removable);
        CHECK_FALSE(disk.identity.read_only);
        REQUIRE(disk.partitions.size() == e.partitions.size());
        for (std::size_t i = 0; i < e.partitions.size(); ++i) {
            const auto& part = disk.partitions[i];
            CHECK(part.identity.name == e.partitions[i]);
            CHECK(part.partition);
            CHECK(part.partition_number == i + 1);
            CHECK(part.identity.disk == e.name);
            // A partition carries its disk's identity.
            CHECK(part.identity.bus == e.bus);
            CHECK(part.identity.serial == e.serial);
        }
    }
}

TEST_CASE("all fixtures together list every disk once, sorted, with partitions under it",
          "[platform][discovery]") {
    TempDir dir;
    for (const char* name : {"virtio", "usb_stick", "sata_disk", "nvme", "sd_card"}) {
        copy_fixture(name, dir.path());
    }
    auto disks = platform::discover_block_devices(dir.path());
    std::vector<std::string> names;
    for (const auto& d : disks)
        names.push_back(d.identity.name);
    CHECK(names == std::vector<std::string>{"mmcblk0", "nvme0n1", "sda", "sdb", "vda"});
    CHECK(platform::list_block_device_names(dir.path()) ==
          std::vector<std::string>{"mmcblk0", "mmcblk0p1", "mmcblk0p2", "nvme0n1", "nvme0n1p1",
                                   "nvme0n1p2", "sda", "sda1", "sda2", "sdb", "sdb1", "sdb2",
                                   "vda"});

    // Without <root>/block discovery falls back to class/block and skips the partitions there.
    fs::remove_all(dir / "block");
    auto from_class = platform::discover_block_devices(dir.path());
    REQUIRE(from_class.size() == 5);
    CHECK(from_class[2].identity.name == "sda");
    CHECK(from_class[2].partitions.size() == 2);
}

TEST_CASE("find_disk finds the whole disk from the disk or any of its partitions",
          "[platform][discovery]") {
    const fs::path root = sysfs_fixture("sata_disk");
    for (const char* name : {"sda", "sda1", "sda2"}) {
        auto disk = platform::find_disk(name, root);
        REQUIRE(disk);
        CHECK(disk->identity.name == "sda");
        CHECK(disk->partitions.size() == 2);
    }
    CHECK_FALSE(platform::find_disk("sdb", root));
    CHECK_FALSE(platform::find_disk("sda3", root));
    // A path must be a block device node; a file named like a disk is not one.
    TempDir dir;
    write_random_file(dir / "sda", 4096, 1);
    CHECK_FALSE(platform::find_disk((dir / "sda").string(), root));
}

TEST_CASE("an empty or missing sysfs root yields no devices", "[platform][discovery]") {
    TempDir dir;
    CHECK(platform::discover_block_devices(dir.path()).empty());
    CHECK(platform::discover_block_devices(dir / "absent").empty());
    CHECK_FALSE(platform::find_disk("sda", dir.path()));
}
