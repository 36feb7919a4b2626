// What sysfs says about a block device: bus, vendor, model, serial, USB ids.
//
// Every function takes the sysfs root so tests can run against captured trees.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace exhibit::platform {

struct SysfsIdentity {
    std::string name;  // kernel name of the device itself, e.g. sdb1
    std::string disk;  // the whole disk it belongs to, e.g. sdb
    std::string bus;   // usb, ata, nvme, mmc, virtio, virtual (loop, ...), or unknown
    std::string vendor;
    std::string model;
    std::string serial;
    std::string usb_id;        // "VID:PID" when the disk hangs off a USB device
    std::string backing_file;  // loop devices only
    bool removable = false;
    bool read_only = false;        // /sys/block/<disk>[/<part>]/ro
    std::uint64_t size_bytes = 0;  // sysfs `size` * 512
};

// The text of one sysfs attribute file with surrounding white space trimmed (sysfs ends
// values with a newline and pads SCSI strings with spaces); empty when it is absent.
std::string read_sysfs_attribute(const std::filesystem::path& file);

// Identity of the device with number "MAJ:MIN". Fields sysfs does not have stay empty.
// Returns false when sysfs has no such device.
bool read_sysfs_identity(const std::string& major_minor, SysfsIdentity& out,
                         const std::filesystem::path& sysfs_root = "/sys");

// The same, for a device directory already found under `sysfs_root`
// (`<root>/devices/.../block/sdb` or `.../block/sdb/sdb1`). False when it is not a directory.
bool read_sysfs_identity_at(const std::filesystem::path& node, SysfsIdentity& out,
                            const std::filesystem::path& sysfs_root = "/sys");

}  // namespace exhibit::platform
