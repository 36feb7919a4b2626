#include "exhibit/station/devices.hpp"

#include <algorithm>
#include <system_error>

#include "exhibit/platform/device_discovery.hpp"
#include "exhibit/platform/device_watcher.hpp"
#include "exhibit/platform/write_protection.hpp"

namespace exhibit::station {

namespace fs = std::filesystem;

const char* to_string(Protection protection) {
    switch (protection) {
        case Protection::Protected:
            return "protected";
        case Protection::NotProtected:
            return "not protected";
        case Protection::Unknown:
            return "unknown";
        case Protection::ImageFile:
            return "image file (read-only)";
    }
    return "unknown";
}

namespace {

void read_protection(const platform::BlockDeviceInfo& disk, const fs::path& sysfs_root,
                     DeviceEntry& out) {
    auto nodes = platform::query_protection(disk, sysfs_root);
    out.protection = Protection::Protected;
    for (const auto& node : nodes) {
        if (!node.sysfs_read_only.value_or(false) ||
            (node.ioctl_read_only && !*node.ioctl_read_only)) {
            out.protection = Protection::NotProtected;
            out.protection_detail = node.name + " is writable";
            return;
        }
        if (!node.ioctl_read_only) {
            out.protection = Protection::Unknown;
            out.protection_detail =
                "cannot check " + node.dev_path.string() + ": " + node.error.message();
        }
    }
}

int rank(const DeviceEntry& d) {
    if (d.bus == "usb") return 0;
    if (d.removable) return 1;
    if (d.bus == "file") return 3;
    return 2;
}

}  // namespace

std::vector<DeviceEntry> list_devices(const fs::path& sysfs_root,
                                      const std::vector<fs::path>& image_files) {
    std::vector<DeviceEntry> list;
    for (const auto& disk : platform::discover_block_devices(sysfs_root)) {
        if (disk.identity.size_bytes == 0) continue;  // empty card reader, detached loop
        DeviceEntry d;
        d.name = disk.identity.name;
        d.path = disk.dev_path.string();
        d.bus = disk.identity.bus;
        d.vendor = disk.identity.vendor;
        d.model = disk.identity.model;
        d.serial = disk.identity.serial;
        if (d.model.empty() && !disk.identity.backing_file.empty())
            d.model = fs::path(disk.identity.backing_file).filename().string();
        d.size_bytes = disk.identity.size_bytes;
        d.removable = disk.identity.removable;
        d.partitions = static_cast<int>(disk.partitions.size());
        read_protection(disk, sysfs_root, d);
        list.push_back(std::move(d));
    }
    for (const auto& file : image_files) {
        DeviceEntry d;
        d.name = file.filename().string();
        d.path = file.string();
        d.bus = "file";
        d.model = "image file";
        std::error_code ec;
        d.size_bytes = fs::file_size(file, ec);
        if (ec) d.size_bytes = 0;
        d.protection = Protection::ImageFile;
        list.push_back(std::move(d));
    }
    std::stable_sort(list.begin(), list.end(),
                     [](const DeviceEntry& a, const DeviceEntry& b) { return rank(a) < rank(b); });
    return list;
}

ProtectOutcome protect_device(const std::string& kernel_name, const fs::path& sysfs_root) {
    auto disk = platform::find_disk(kernel_name, sysfs_root);
    if (!disk) return {false, kernel_name + " is no longer attached."};
    auto result = platform::protect(*disk, sysfs_root);
    if (result.verified)
        return {true, disk->identity.name + " and its partitions are read-only (verified)."};
    std::string why =
        result.error ? result.error.message() : "the kernel still reports it writable";
    return {false, "could not make " + result.failed_node + " read-only: " + why + "."};
}

DeviceMonitor::DeviceMonitor(Options options) : options_(std::move(options)) {}

DeviceMonitor::~DeviceMonitor() {
    if (watcher_) watcher_->stop();
}

void DeviceMonitor::start() {
    if (!options_.watch || watcher_) return;
    platform::DeviceWatcher::Options w;
    w.sysfs_root = options_.sysfs_root;
    watcher_ = std::make_unique<platform::DeviceWatcher>(w);
    watcher_->add_observer([this](const platform::DeviceEvent&) { refresh(); });
    if (watcher_->start()) watcher_.reset();
}

void DeviceMonitor::refresh() {
    publish(list_devices(options_.sysfs_root, options_.image_files));
}

std::optional<std::vector<DeviceEntry>> DeviceMonitor::take_if_changed() {
    std::lock_guard lock(mutex_);
    if (!changed_) return std::nullopt;
    changed_ = false;
    return latest_;
}

bool DeviceMonitor::watching_hotplug() const {
    return watcher_ && watcher_->running();
}

void DeviceMonitor::publish(std::vector<DeviceEntry> list) {
    std::lock_guard lock(mutex_);
    latest_ = std::move(list);
    changed_ = true;
}

}  // namespace exhibit::station
