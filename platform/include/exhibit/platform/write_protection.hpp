// Putting a disk and all its partitions in kernel read-only mode, proving it, and reading the
// block layer's I/O counters so a job can show that no write reached the device.
//
//   auto disk = platform::find_disk("/dev/sdb");
//   platform::IoCounters before;
//   platform::read_io_counters(disk->identity.name, before);
//   auto result = platform::protect(*disk);        // BLKROSET on sdb, sdb1, ...
//   if (!result.verified) ... result.error, result.failed_node
//   ... acquire ...
//   platform::read_io_counters(disk->identity.name, after);
//   after.writes_since(before) == 0
//
// Setting the flag needs CAP_SYS_ADMIN; querying it does not. No engine types here.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "exhibit/platform/device_discovery.hpp"

namespace exhibit::platform {

// One line of /sys/block/X/stat (Documentation/block/stat.rst). Discard fields exist since
// Linux 4.18 and flush fields since 5.5; older kernels leave them empty.
struct IoCounters {
    std::uint64_t reads_completed = 0;
    std::uint64_t reads_merged = 0;
    std::uint64_t sectors_read = 0;  // 512-byte units, whatever the device's sector size
    std::uint64_t writes_completed = 0;
    std::uint64_t writes_merged = 0;
    std::uint64_t sectors_written = 0;
    std::uint64_t in_flight = 0;
    std::optional<std::uint64_t> discards_completed;
    std::optional<std::uint64_t> sectors_discarded;
    std::optional<std::uint64_t> flushes_completed;

    // Write-class requests (writes, discards, flushes) completed since `before`.
    std::uint64_t writes_since(const IoCounters& before) const;
};

// Parses the text of a stat file; an error (invalid_argument) when it has fewer than the
// 11 classic fields or a field is not a number.
std::error_code parse_io_counters(std::string_view text, IoCounters& out);

// Reads the counters of block device `name` (a disk "sdb" or a partition "sdb1").
std::error_code read_io_counters(const std::string& name, IoCounters& out,
                                 const std::filesystem::path& sysfs_root = "/sys");

// The read-only state of one /dev node, as the ioctl and sysfs each report it.
struct NodeProtection {
    std::string name;  // sdb, sdb1
    std::filesystem::path dev_path;
    std::optional<bool> ioctl_read_only;  // BLKROGET; empty when the node could not be opened
    std::optional<bool> sysfs_read_only;  // /sys/class/block/<name>/ro
    std::error_code error;                // why a field above is empty

    // Both the kernel flag and sysfs say read-only.
    bool read_only() const {
        return ioctl_read_only.value_or(false) && sysfs_read_only.value_or(false);
    }
};

// The state of the disk and each partition, without changing anything.
std::vector<NodeProtection> query_protection(const BlockDeviceInfo& disk,
                                             const std::filesystem::path& sysfs_root = "/sys");

struct ProtectionResult {
    std::vector<NodeProtection> before;
    std::vector<NodeProtection> after;
    bool verified = false;  // every node read-only by BLKROGET and sysfs after the change
    // The first node that failed (empty when verified), and why: the errno of opening,
    // BLKROSET or BLKROGET; no error when the ioctls succeeded yet the node still reads as
    // writable (then `after` says which of BLKROGET and sysfs disagrees).
    std::error_code error;
    std::string failed_node;
};

// Sets BLKROSET on the disk, then on each partition, then re-reads every node's state.
// `disk` comes from discover_block_devices / find_disk: pass the whole disk. Nothing is
// ever set back to read-write.
ProtectionResult protect(const BlockDeviceInfo& disk,
                         const std::filesystem::path& sysfs_root = "/sys");

}  // namespace exhibit::platform
