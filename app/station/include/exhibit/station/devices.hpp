// The devices the operator can pick: attached disks (live, from sysfs and hotplug) and, in
// the lab, image files named on the command line.
//
//   DeviceMonitor monitor({.sysfs_root = "/sys", .image_files = {"/cases/x.E01"}});
//   monitor.start();                       // lists at once, then on every hotplug event
//   if (auto list = monitor.take_if_changed()) devices = *list;   // UI thread, once a frame
//
// Nothing here opens a device for reading or writing; protection is read from the kernel
// flag and sysfs (platform::query_protection), and changed only by protect_device().
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace exhibit::platform {
class DeviceWatcher;
}

namespace exhibit::station {

enum class Protection {
    Protected,     // every node read-only by the kernel flag and sysfs
    NotProtected,  // some node is writable
    Unknown,       // the state could not be read (no permission to open the node)
    ImageFile,     // a file: the engine only ever opens it read-only
};
const char* to_string(Protection protection);

struct DeviceEntry {
    std::string name;  // kernel name (sdb) or the file's name
    std::string path;  // what open_source takes: /dev/sdb or the file path
    std::string bus;   // usb, ata, nvme, mmc, virtual, ... or "file"
    std::string vendor, model, serial;
    std::uint64_t size_bytes = 0;
    bool removable = false;
    Protection protection = Protection::Unknown;
    std::string protection_detail;  // which node is writable, or why it is unknown
    int partitions = 0;
};

// Every disk sysfs lists that has media (size > 0), USB and removable first, then the files.
std::vector<DeviceEntry> list_devices(const std::filesystem::path& sysfs_root,
                                      const std::vector<std::filesystem::path>& image_files);

struct ProtectOutcome {
    bool verified = false;
    std::string message;  // one sentence for the operator
};
// Puts the disk and its partitions in kernel read-only mode and checks it (needs
// CAP_SYS_ADMIN). Runs on a worker thread.
ProtectOutcome protect_device(const std::string& kernel_name,
                              const std::filesystem::path& sysfs_root);

class DeviceMonitor {
  public:
    struct Options {
        std::filesystem::path sysfs_root = "/sys";
        std::vector<std::filesystem::path> image_files;
        bool watch = true;  // follow hotplug; false lists once
    };
    explicit DeviceMonitor(Options options);
    ~DeviceMonitor();
    DeviceMonitor(const DeviceMonitor&) = delete;
    DeviceMonitor& operator=(const DeviceMonitor&) = delete;

    // Lists once on the watcher's thread and then after every hotplug event.
    void start();
    // Lists again (after protect_device, say); runs on the calling thread.
    void refresh();
    // The newest list when it changed since the last call (UI thread).
    std::optional<std::vector<DeviceEntry>> take_if_changed();
    bool watching_hotplug() const;

  private:
    void publish(std::vector<DeviceEntry> list);

    Options options_;
    std::mutex mutex_;
    std::vector<DeviceEntry> latest_;
    bool changed_ = false;
    std::unique_ptr<platform::DeviceWatcher> watcher_;
};

}  // namespace exhibit::station
