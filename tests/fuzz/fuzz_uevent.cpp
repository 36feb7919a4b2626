// Kernel uevents as the device watcher receives them from NETLINK_KOBJECT_UEVENT (any
// process in the network namespace can send to that group, so they are untrusted):
// parse_uevent gives an event or nullopt, never a crash, and an event it gives encodes back
// to a message that parses to the same event.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "exhibit/platform/device_watcher.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using exhibit::platform::parse_uevent;
    auto event = parse_uevent({reinterpret_cast<const char*>(data), size});
    if (!event) return 0;
    if (event->action.empty() || event->devpath.empty()) __builtin_trap();
    if (event->action.find('@') != std::string::npos) __builtin_trap();
    std::string again = event->action + "@" + event->devpath;
    again.push_back('\0');
    for (const auto& [key, value] : event->fields) {
        if (key.empty() || key.find('=') != std::string::npos) __builtin_trap();
        if (key.find('\0') != std::string::npos || value.find('\0') != std::string::npos)
            __builtin_trap();
        again += key + "=" + value;
        again.push_back('\0');
    }
    auto parsed = parse_uevent(again);
    if (!parsed || parsed->action != event->action || parsed->devpath != event->devpath ||
        parsed->fields != event->fields) {
        __builtin_trap();
    }
    return 0;
}
