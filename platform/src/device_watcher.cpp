#include "exhibit/platform/device_watcher.hpp"

#include <linux/netlink.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "exhibit/platform/device_discovery.hpp"

namespace exhibit::platform {

namespace fs = std::filesystem;

namespace {

std::map<std::string, std::uint64_t> snapshot(const fs::path& sysfs_root) {
    std::map<std::string, std::uint64_t> devices;
    for (const auto& disk : discover_block_devices(sysfs_root)) {
        devices[disk.identity.name] = disk.identity.size_bytes;
        for (const auto& part : disk.partitions) {
            devices[part.identity.name] = part.identity.size_bytes;
        }
    }
    return devices;
}

int open_uevent_socket() {
    int fd =
        ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
    if (fd < 0) return -1;
    sockaddr_nl address{};
    address.nl_family = AF_NETLINK;
    address.nl_groups = 1;  // the kernel's own uevents (udev re-broadcasts on group 2)
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

// Drains the socket; true when any message concerned the block subsystem.
bool drain_uevents(int fd) {
    bool block = false;
    char buffer[8192];
    for (;;) {
        ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        auto event = parse_uevent({buffer, static_cast<std::size_t>(n)});
        if (!event) continue;
        auto subsystem = event->fields.find("SUBSYSTEM");
        if (subsystem != event->fields.end() && subsystem->second == "block") block = true;
    }
    return block;
}

}  // namespace

std::optional<Uevent> parse_uevent(std::string_view message) {
    // Each piece ends at a NUL or at the end of the message.
    auto next = [&message]() -> std::optional<std::string_view> {
        if (message.empty()) return std::nullopt;
        const auto nul = message.find('\0');
        std::string_view piece = message.substr(0, nul);
        message.remove_prefix(nul == std::string_view::npos ? message.size() : nul + 1);
        return piece;
    };
    auto header = next();
    if (!header) return std::nullopt;
    const auto at = header->find('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == header->size()) return std::nullopt;
    Uevent event;
    event.action = std::string(header->substr(0, at));
    event.devpath = std::string(header->substr(at + 1));
    while (auto field = next()) {
        if (field->empty()) continue;  // padding between fields
        const auto eq = field->find('=');
        if (eq == std::string_view::npos || eq == 0) return std::nullopt;
        event.fields[std::string(field->substr(0, eq))] = std::string(field->substr(eq + 1));
    }
    return event;
}

const char* to_string(DeviceEvent::Kind kind) {
    switch (kind) {
        case DeviceEvent::Kind::Added:
            return "added";
        case DeviceEvent::Kind::Removed:
            return "removed";
        case DeviceEvent::Kind::Changed:
            return "changed";
    }
    return "unknown";
}

DeviceWatcher::DeviceWatcher() : DeviceWatcher(Options{}) {}

DeviceWatcher::DeviceWatcher(Options options) : options_(std::move(options)) {}

DeviceWatcher::~DeviceWatcher() {
    stop();
}

void DeviceWatcher::add_observer(Observer observer) {
    observers_.push_back(std::move(observer));
}

std::error_code DeviceWatcher::start() {
    if (running()) return {};
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) return {errno, std::generic_category()};
    if (options_.mode == Mode::Uevents) uevent_fd_ = open_uevent_socket();
    known_ = snapshot(options_.sysfs_root);
    try {
        thread_ = std::thread([this] { run(); });
    } catch (const std::system_error& e) {
        stop();
        return e.code();
    }
    return {};
}

void DeviceWatcher::stop() {
    if (thread_.joinable()) {
        std::uint64_t one = 1;
        ssize_t written = ::write(wake_fd_, &one, sizeof one);
        (void)written;  // an eventfd write only fails when the counter would overflow
        thread_.join();
    }
    if (uevent_fd_ >= 0) ::close(uevent_fd_);
    if (wake_fd_ >= 0) ::close(wake_fd_);
    uevent_fd_ = -1;
    wake_fd_ = -1;
}

void DeviceWatcher::run() {
    for (;;) {
        pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {uevent_fd_, POLLIN, 0}};
        int count = uevent_fd_ >= 0 ? 2 : 1;
        int ready = ::poll(fds, static_cast<nfds_t>(count),
                           static_cast<int>(options_.poll_interval.count()));
        if (ready < 0 && errno != EINTR) return;
        if (fds[0].revents & POLLIN) return;
        // Other subsystems' uevents (USB interfaces, SCSI hosts, ...) wait for the block
        // device they lead to; the periodic tick (ready == 0) always rescans.
        bool block_event = count == 2 && (fds[1].revents & POLLIN) && drain_uevents(uevent_fd_);
        if (ready == 0 || block_event) rescan();
    }
}

void DeviceWatcher::rescan() {
    auto now = snapshot(options_.sysfs_root);
    std::vector<DeviceEvent> events;
    // Removals first, partitions (longer names of the same disk) before their disk.
    for (auto it = known_.rbegin(); it != known_.rend(); ++it) {
        if (!now.count(it->first)) events.push_back({DeviceEvent::Kind::Removed, it->first, 0});
    }
    for (const auto& [name, size] : now) {
        auto old = known_.find(name);
        if (old == known_.end()) {
            events.push_back({DeviceEvent::Kind::Added, name, size});
        } else if (old->second != size) {
            events.push_back({DeviceEvent::Kind::Changed, name, size});
        }
    }
    known_ = std::move(now);
    for (const DeviceEvent& event : events) {
        for (const Observer& observer : observers_)
            observer(event);
    }
}

}  // namespace exhibit::platform
