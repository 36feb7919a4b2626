// Block devices appearing and disappearing while the program runs.
//
//   platform::DeviceWatcher watcher;
//   watcher.add_observer([](const platform::DeviceEvent& e) { ... });  // on the watcher thread
//   if (auto ec = watcher.start()) ...
//   ...
//   watcher.stop();   // joins the thread; the destructor does it too
//
// The watcher keeps a snapshot of the block devices in sysfs and reports differences. It
// listens to kernel uevents (NETLINK_KOBJECT_UEVENT) to rescan at once when something
// changes, and rescans every `poll_interval` regardless, so events still arrive where the
// netlink socket cannot be opened or hears nothing (containers, other network namespaces).
// Devices present at start() are not reported: list them with discover_block_devices().
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

namespace exhibit::platform {

// One kernel uevent as NETLINK_KOBJECT_UEVENT delivers it: "ACTION@DEVPATH\0KEY=VALUE\0...".
struct Uevent {
    std::string action;                         // add, remove, change, bind, ...
    std::string devpath;                        // /devices/...
    std::map<std::string, std::string> fields;  // KEY=VALUE; a repeated key keeps its last
};
// Parses one message as received (the kernel's, not udev's "libudev" re-broadcast). The
// last field may lack its NUL. Nullopt when it is not a uevent: no '@' in the header, an
// empty action or devpath, a field without '=' or with an empty key.
std::optional<Uevent> parse_uevent(std::string_view message);

struct DeviceEvent {
    enum class Kind {
        Added,    // a new disk or partition
        Removed,  // gone from sysfs
        Changed,  // same name, new size (medium inserted or removed, loop attached/detached)
    };
    Kind kind = Kind::Added;
    std::string name;              // kernel name: sdb, sdb1, loop0p1
    std::uint64_t size_bytes = 0;  // after the event; 0 when removed
};

const char* to_string(DeviceEvent::Kind kind);

class DeviceWatcher {
  public:
    enum class Mode {
        Uevents,  // netlink uevents plus periodic rescans (falls back to polling alone)
        Polling,  // periodic rescans only
    };
    struct Options {
        std::filesystem::path sysfs_root = "/sys";
        Mode mode = Mode::Uevents;
        std::chrono::milliseconds poll_interval{1000};
    };
    using Observer = std::function<void(const DeviceEvent&)>;

    DeviceWatcher();
    explicit DeviceWatcher(Options options);
    ~DeviceWatcher();
    DeviceWatcher(const DeviceWatcher&) = delete;
    DeviceWatcher& operator=(const DeviceWatcher&) = delete;

    // Observers are called on the watcher thread, one event at a time, disks before their
    // partitions when added and after them when removed. Add them before start(); they must
    // not throw (the thread has nowhere to send an exception).
    void add_observer(Observer observer);

    // Takes the first snapshot and starts the thread. An error only when the thread's wake-up
    // channel cannot be made; a refused netlink socket just means polling.
    std::error_code start();
    // Stops and joins the thread; safe to call twice or without start().
    void stop();

    bool running() const { return thread_.joinable(); }
    // True when the netlink socket is open (false before start and in polling mode).
    bool listening_to_uevents() const { return uevent_fd_ >= 0; }

  private:
    void run();
    void rescan();

    Options options_;
    std::vector<Observer> observers_;
    std::map<std::string, std::uint64_t> known_;  // name -> size in bytes
    std::thread thread_;
    int wake_fd_ = -1;    // eventfd written by stop()
    int uevent_fd_ = -1;  // netlink socket, or -1
};

}  // namespace exhibit::platform
