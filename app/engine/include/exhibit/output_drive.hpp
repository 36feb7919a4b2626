// The output drive: the one device the appliance ever makes writable.
//
// On the appliance every attached block device comes up read-only (image/rootfs udev
// rules). A drive becomes the output drive only when the operator picks it, and only here:
//
//   auto d = prepare_output_drive(db, who, "/dev/sdc1");  // first use: a new ext4 file
//                                                         // system labelled EXHIBIT-OUT
//   auto d = open_output_drive(db, who, "/dev/sdc1");     // later: must carry that label
//   d->made_writable                                      // {"sdc", "sdc1"}
//
// Each is a custody event in the case's log ("output_drive_opened" when the flags are
// cleared, then for a prepared drive "output_drive_prepared") naming the drive (vendor,
// model, serial, size, file system UUID) and every node whose kernel read-only flag was
// cleared; a node that refuses is an "error" event naming the nodes already changed. Only the
// picked node and its whole disk are made writable (a partition is refused writes while its disk is
// read-only); the disk's other partitions keep their flags. The label is read with libblkid from a
// read-only descriptor. A label can be written by anyone, so it never makes a drive writable by
// itself: it only lets the station offer the drive, and makes `open` refuse a drive Exhibit did not
// prepare. Clearing the flag needs CAP_SYS_ADMIN; making the file system runs Debian's mkfs.ext4.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "exhibit/custody.hpp"
#include "exhibit/error.hpp"

namespace exhibit {

inline constexpr const char* kOutputDriveLabel = "EXHIBIT-OUT";

namespace custody_action {
inline constexpr const char* kOutputDrivePrepared = "output_drive_prepared";
inline constexpr const char* kOutputDriveOpened = "output_drive_opened";
}  // namespace custody_action

struct OutputDrive {
    std::string device;   // the node holding the file system: /dev/sdc1 (or /dev/sdc)
    std::string disk;     // its whole disk: sdc
    std::string fs_type;  // as libblkid names it: ext4, vfat, exfat; empty when none
    std::string label;    // the file system's label; empty when none
    std::string fs_uuid;  // empty when none
    std::string vendor, model, serial, bus;
    std::uint64_t size_bytes = 0;            // of `device`
    std::vector<std::string> made_writable;  // nodes whose read-only flag was cleared
    std::string json() const;                // the custody event's detail
};

// What the drive holds, without changing anything (no flag, no write).
Expected<OutputDrive> inspect_output_drive(const std::string& device,
                                           const std::filesystem::path& sysfs_root = "/sys");

// Makes `device` writable for the case: it must carry a file system labelled EXHIBIT-OUT
// (else an InvalidArgument error naming what it carries). Clears the kernel
// read-only flag on the node and its disk, checks both with BLKROGET and sysfs, and logs
// "output_drive_opened". When the flags cannot be cleared nothing is logged as opened and
// the error says which node refused.
Expected<OutputDrive> open_output_drive(CaseDatabase& db, const Operator& who,
                                        const std::string& device);

// First use of a drive: opens it as above (logged with what it holds), makes a new ext4
// file system labelled EXHIBIT-OUT on `device`, destroying what it held, and logs
// "output_drive_prepared" (with `erased`: the file system type, label and UUID it held). Refuses a
// device that already holds a file system unless `erase_existing`, and a device that is mounted.
Expected<OutputDrive> prepare_output_drive(CaseDatabase& db, const Operator& who,
                                           const std::string& device, bool erase_existing);

}  // namespace exhibit
