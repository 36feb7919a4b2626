#include "exhibit/platform/sysfs_identity.hpp"

#include <fstream>
#include <sstream>

namespace exhibit::platform {

namespace fs = std::filesystem;

namespace {

// SCSI VPD page 0x80 (unit serial number): 4-byte header, then the serial in ASCII.
std::string serial_from_vpd80(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return {};
    std::string page((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (page.size() <= 4) return {};
    std::size_t length = static_cast<unsigned char>(page[3]);
    std::string serial = page.substr(4, std::min(length, page.size() - 4));
    auto last = serial.find_last_not_of(std::string(" \0", 2));
    auto first = serial.find_first_not_of(' ');
    if (last == std::string::npos) return {};
    return serial.substr(first, last - first + 1);
}

std::string bus_from_path(const std::string& device_path) {
    if (device_path.find("/usb") != std::string::npos) return "usb";
    if (device_path.find("/nvme") != std::string::npos) return "nvme";
    if (device_path.find("/mmc") != std::string::npos) return "mmc";
    if (device_path.find("/ata") != std::string::npos) return "ata";
    if (device_path.find("/virtio") != std::string::npos) return "virtio";
    if (device_path.find("/virtual/") != std::string::npos) return "virtual";
    return "unknown";
}

}  // namespace

std::string read_sysfs_attribute(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return {};
    std::ostringstream text;
    text << in.rdbuf();
    std::string value = text.str();
    auto last = value.find_last_not_of(" \t\r\n");
    auto first = value.find_first_not_of(" \t\r\n");
    if (last == std::string::npos) return {};
    return value.substr(first, last - first + 1);
}

bool read_sysfs_identity(const std::string& major_minor, SysfsIdentity& out,
                         const fs::path& sysfs_root) {
    std::error_code ec;
    fs::path link = sysfs_root / "dev" / "block" / major_minor;
    if (!fs::exists(link, ec)) return false;
    // The link is relative to its own directory (../../devices/...); resolve it lexically
    // against the captured root so fixture trees work as well as the live /sys.
    fs::path node = fs::is_symlink(link, ec)
                        ? (link.parent_path() / fs::read_symlink(link, ec)).lexically_normal()
                        : link;
    return read_sysfs_identity_at(node, out, sysfs_root);
}

bool read_sysfs_identity_at(const fs::path& node, SysfsIdentity& out, const fs::path& sysfs_root) {
    std::error_code ec;
    if (!fs::is_directory(node, ec)) return false;
    fs::path disk = fs::exists(node / "partition", ec) ? node.parent_path() : node;

    SysfsIdentity id;
    id.name = node.filename().string();
    id.disk = disk.filename().string();
    id.read_only = read_sysfs_attribute(node / "ro") == "1";
    id.removable = read_sysfs_attribute(disk / "removable") == "1";
    std::string sectors = read_sysfs_attribute(node / "size");
    if (!sectors.empty()) id.size_bytes = std::stoull(sectors) * 512;
    id.backing_file = read_sysfs_attribute(disk / "loop" / "backing_file");

    fs::path device = disk / "device";
    id.vendor = read_sysfs_attribute(device / "vendor");
    id.model = read_sysfs_attribute(device / "model");
    if (id.model.empty()) id.model = read_sysfs_attribute(device / "name");     // MMC cards
    id.serial = read_sysfs_attribute(device / "serial");                        // NVMe, MMC
    if (id.serial.empty()) id.serial = serial_from_vpd80(device / "vpd_pg80");  // SCSI
    if (id.serial.empty()) id.serial = read_sysfs_attribute(disk / "serial");   // virtio

    std::string path = node.lexically_relative(sysfs_root).generic_string();
    id.bus = bus_from_path("/" + path);
    if (id.bus == "usb") {
        // Walk up from the disk to the USB device, which carries idVendor/idProduct and
        // the serial string the manufacturer burned in.
        for (fs::path p = disk; p != sysfs_root && p.has_parent_path(); p = p.parent_path()) {
            if (fs::exists(p / "idVendor", ec)) {
                id.usb_id = read_sysfs_attribute(p / "idVendor") + ":" +
                            read_sysfs_attribute(p / "idProduct");
                std::string usb_serial = read_sysfs_attribute(p / "serial");
                if (!usb_serial.empty()) id.serial = usb_serial;
                break;
            }
        }
    }
    out = std::move(id);
    return true;
}

}  // namespace exhibit::platform
