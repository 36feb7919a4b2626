// Every block device the kernel knows, as sysfs describes it.
//
//   for (const auto& disk : platform::discover_block_devices()) {
//       disk.identity.bus;            // usb, ata, nvme, mmc, virtio, virtual, unknown
//       for (const auto& part : disk.partitions) part.dev_path;  // /dev/sdb1
//   }
//
// Every function takes the sysfs root so tests can run against captured trees. Nothing here
// opens a device: discovery is safe to run on a seized disk.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "exhibit/platform/sysfs_identity.hpp"

namespace exhibit::platform {

struct BlockDeviceInfo {
    SysfsIdentity identity;            // name, disk, bus, vendor, model, serial, USB id, ...
    std::string major_minor;           // "8:16", from sysfs `dev`
    std::filesystem::path dev_path;    // /dev/<DEVNAME from uevent, else name>
    std::filesystem::path sysfs_path;  // <root>/devices/.../block/sdb[/sdb1]
    bool partition = false;
    unsigned partition_number = 0;            // partitions only
    std::uint64_t start_sector = 0;           // partitions only, in 512-byte units
    std::vector<BlockDeviceInfo> partitions;  // whole disks only, by partition number
};

// Whole disks (sorted by name), each with its partitions. Reads `<root>/block`, or
// `<root>/class/block` when that is absent. Hidden disks (no /dev node) are left out.
std::vector<BlockDeviceInfo> discover_block_devices(
    const std::filesystem::path& sysfs_root = "/sys");

// The whole disk that `device` is or belongs to, with all its partitions: a kernel name
// ("sdb", "sdb1") or a path to a block device node ("/dev/sdb1", "/dev/disk/by-id/...", matched
// by device number). Empty when sysfs has no such device or the path is not a block device.
std::optional<BlockDeviceInfo> find_disk(const std::string& device,
                                         const std::filesystem::path& sysfs_root = "/sys");

// Kernel names of every block device (disks and partitions) under `sysfs_root`, sorted.
std::vector<std::string> list_block_device_names(const std::filesystem::path& sysfs_root = "/sys");

}  // namespace exhibit::platform
