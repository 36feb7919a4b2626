#include "exhibit/platform/device_discovery.hpp"

#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace exhibit::platform {

namespace fs = std::filesystem;

namespace {

std::uint64_t read_number(const fs::path& file) {
    std::string text = read_sysfs_attribute(file);
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) return 0;
    return std::stoull(text);
}

// Links in sysfs are relative (../../devices/...): resolve them lexically so a captured
// tree resolves inside itself rather than into the live /sys.
fs::path resolve(const fs::path& link) {
    std::error_code ec;
    if (!fs::is_symlink(link, ec)) return link;
    fs::path target = fs::read_symlink(link, ec);
    if (ec) return link;
    return target.is_absolute() ? target : (link.parent_path() / target).lexically_normal();
}

std::string devname_of(const fs::path& node) {
    std::ifstream in(node / "uevent");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("DEVNAME=", 0) == 0) return line.substr(8);
    }
    return node.filename().string();
}

BlockDeviceInfo describe(const fs::path& node, const fs::path& sysfs_root) {
    BlockDeviceInfo info;
    read_sysfs_identity_at(node, info.identity, sysfs_root);
    info.major_minor = read_sysfs_attribute(node / "dev");
    info.dev_path = fs::path("/dev") / devname_of(node);
    info.sysfs_path = node;
    std::error_code ec;
    info.partition = fs::exists(node / "partition", ec);
    if (info.partition) {
        info.partition_number = static_cast<unsigned>(read_number(node / "partition"));
        info.start_sector = read_number(node / "start");
    }
    return info;
}

// The directories of the whole disks: <root>/block/X, else class/block entries that are not
// partitions.
std::vector<fs::path> disk_nodes(const fs::path& sysfs_root) {
    std::vector<fs::path> nodes;
    std::error_code ec;
    fs::path dir = sysfs_root / "block";
    bool from_block = fs::is_directory(dir, ec);
    if (!from_block) dir = sysfs_root / "class" / "block";
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        fs::path node = resolve(it->path());
        if (!fs::is_directory(node, ec)) continue;
        if (!from_block && fs::exists(node / "partition", ec)) continue;
        // Hidden disks (an NVMe multipath path's own namespace, nvme0c0n1) have no /dev node.
        if (read_sysfs_attribute(node / "hidden") == "1") continue;
        nodes.push_back(node);
    }
    std::sort(nodes.begin(), nodes.end(),
              [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
    return nodes;
}

std::vector<fs::path> partition_nodes(const fs::path& disk) {
    std::vector<fs::path> nodes;
    std::error_code ec;
    for (fs::directory_iterator it(disk, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code ignored;
        if (!it->is_directory(ignored) || it->is_symlink(ignored)) continue;
        if (fs::exists(it->path() / "partition", ignored)) nodes.push_back(it->path());
    }
    return nodes;
}

BlockDeviceInfo describe_disk(const fs::path& node, const fs::path& sysfs_root) {
    BlockDeviceInfo disk = describe(node, sysfs_root);
    for (const fs::path& part : partition_nodes(node)) {
        disk.partitions.push_back(describe(part, sysfs_root));
    }
    std::sort(disk.partitions.begin(), disk.partitions.end(),
              [](const BlockDeviceInfo& a, const BlockDeviceInfo& b) {
                  return a.partition_number < b.partition_number;
              });
    return disk;
}

}  // namespace

std::vector<BlockDeviceInfo> discover_block_devices(const fs::path& sysfs_root) {
    std::vector<BlockDeviceInfo> disks;
    for (const fs::path& node : disk_nodes(sysfs_root)) {
        disks.push_back(describe_disk(node, sysfs_root));
    }
    return disks;
}

std::optional<BlockDeviceInfo> find_disk(const std::string& device, const fs::path& sysfs_root) {
    // A path must be a block device node (any name: /dev/disk/by-id/..., a node made with
    // mknod); it is matched by device number. A bare name is matched by kernel name.
    std::string number;
    if (device.find('/') != std::string::npos) {
        struct stat st {};
        if (::stat(device.c_str(), &st) != 0 || !S_ISBLK(st.st_mode)) return std::nullopt;
        number = std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev));
    }
    auto matches = [&](const fs::path& node) {
        if (!number.empty()) return read_sysfs_attribute(node / "dev") == number;
        return node.filename() == device || devname_of(node) == device;
    };
    for (const fs::path& node : disk_nodes(sysfs_root)) {
        if (matches(node)) return describe_disk(node, sysfs_root);
        for (const fs::path& part : partition_nodes(node)) {
            if (matches(part)) return describe_disk(node, sysfs_root);
        }
    }
    return std::nullopt;
}

std::vector<std::string> list_block_device_names(const fs::path& sysfs_root) {
    std::vector<std::string> names;
    for (const fs::path& node : disk_nodes(sysfs_root)) {
        names.push_back(node.filename().string());
        for (const fs::path& part : partition_nodes(node)) {
            names.push_back(part.filename().string());
        }
    }
    std::sort(names.begin(), names.end());
    return names;
}

}  // namespace exhibit::platform
