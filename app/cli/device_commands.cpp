#include "device_commands.hpp"

#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "exhibit/platform/device_discovery.hpp"
#include "exhibit/platform/device_watcher.hpp"
#include "exhibit/platform/write_protection.hpp"
#include "exit_codes.hpp"
#include "terminal.hpp"

namespace exhibit::cli {

namespace {

namespace platform = exhibit::platform;
using nlohmann::json;

// What sysfs says of the disk and its partitions taken together.
std::string protection_state(const platform::BlockDeviceInfo& disk) {
    std::size_t read_only = disk.identity.read_only ? 1 : 0;
    for (const auto& part : disk.partitions)
        read_only += part.identity.read_only ? 1 : 0;
    if (read_only == disk.partitions.size() + 1) return "read-only";
    return read_only == 0 ? "writable" : "partly read-only";
}

json node_json(const platform::BlockDeviceInfo& node) {
    const auto& id = node.identity;
    json j = {{"name", id.name},
              {"path", node.dev_path.string()},
              {"dev", node.major_minor},
              {"size_bytes", id.size_bytes},
              {"read_only", id.read_only}};
    if (node.partition) {
        j["number"] = node.partition_number;
        j["start_sector"] = node.start_sector;
    }
    return j;
}

json disk_json(const platform::BlockDeviceInfo& disk) {
    const auto& id = disk.identity;
    json j = node_json(disk);
    j["bus"] = id.bus;
    j["vendor"] = id.vendor;
    j["model"] = id.model;
    j["serial"] = id.serial;
    j["usb_id"] = id.usb_id;
    j["removable"] = id.removable;
    if (!id.backing_file.empty()) j["backing_file"] = id.backing_file;
    j["protection"] = protection_state(disk);
    json parts = json::array();
    for (const auto& part : disk.partitions)
        parts.push_back(node_json(part));
    j["partitions"] = parts;
    return j;
}

// Unattached loop devices and empty card readers have size 0: listed only with --all.
std::vector<platform::BlockDeviceInfo> listed_devices(bool all) {
    std::vector<platform::BlockDeviceInfo> disks;
    for (auto& disk : platform::discover_block_devices()) {
        if (all || disk.identity.size_bytes > 0) disks.push_back(std::move(disk));
    }
    return disks;
}

void print_table(const std::vector<platform::BlockDeviceInfo>& disks) {
    std::printf("%-16s %-8s %10s  %-3s %-16s %s\n", "DEVICE", "BUS", "SIZE", "RM", "PROTECTION",
                "IDENTITY");
    for (const auto& disk : disks) {
        const auto& id = disk.identity;
        std::string identity = id.vendor;
        if (!id.model.empty()) identity += (identity.empty() ? "" : " ") + id.model;
        if (!id.serial.empty()) identity += " serial " + id.serial;
        if (!id.usb_id.empty()) identity += " usb " + id.usb_id;
        if (!id.backing_file.empty()) identity += " file " + id.backing_file;
        std::printf("%-16s %-8s %10s  %-3s %-16s %s\n", disk.dev_path.c_str(), id.bus.c_str(),
                    human_bytes(static_cast<double>(id.size_bytes)).c_str(),
                    id.removable ? "yes" : "no", protection_state(disk).c_str(), identity.c_str());
        for (const auto& part : disk.partitions) {
            std::printf("  %-14s %-8s %10s  %-3s %-16s\n", part.dev_path.c_str(), "",
                        human_bytes(static_cast<double>(part.identity.size_bytes)).c_str(), "",
                        part.identity.read_only ? "read-only" : "writable");
        }
    }
}

std::string yes_no(const std::optional<bool>& flag) {
    if (!flag) return "unknown";
    return *flag ? "read-only" : "writable";
}

json states_json(const std::vector<platform::NodeProtection>& states) {
    json list = json::array();
    for (const auto& s : states) {
        json j = {{"name", s.name}, {"path", s.dev_path.string()}, {"read_only", s.read_only()}};
        j["blkroget"] = s.ioctl_read_only ? json(*s.ioctl_read_only) : json(nullptr);
        j["sysfs_ro"] = s.sysfs_read_only ? json(*s.sysfs_read_only) : json(nullptr);
        if (s.error) j["error"] = s.error.message();
        list.push_back(j);
    }
    return list;
}

json counters_json(const platform::IoCounters& c) {
    json j = {{"reads_completed", c.reads_completed},
              {"sectors_read", c.sectors_read},
              {"writes_completed", c.writes_completed},
              {"sectors_written", c.sectors_written}};
    if (c.discards_completed) j["discards_completed"] = *c.discards_completed;
    if (c.sectors_discarded) j["sectors_discarded"] = *c.sectors_discarded;
    if (c.flushes_completed) j["flushes_completed"] = *c.flushes_completed;
    return j;
}

void print_states(const char* title, const std::vector<platform::NodeProtection>& states) {
    std::printf("%s\n", title);
    for (const auto& s : states) {
        std::printf("  %-16s BLKROGET %-9s sysfs ro %-9s%s%s\n", s.dev_path.c_str(),
                    yes_no(s.ioctl_read_only).c_str(), yes_no(s.sysfs_read_only).c_str(),
                    s.error ? "  " : "", s.error ? s.error.message().c_str() : "");
    }
}

}  // namespace

void DeviceCommands::add_to(CLI::App& app) {
    devices_ = app.add_subcommand(
        "devices", "List attached block devices with bus, identity and protection state");
    devices_->add_flag("--watch", watch_,
                       "Keep running and report devices added, removed or changed until Ctrl-C");
    devices_->add_flag("--json", devices_json_,
                       "Print as JSON (with --watch: the list, then one JSON line per event)");
    devices_->add_flag("--all", all_, "Also list empty devices (size 0: idle loop devices, ...)");

    protect_ = app.add_subcommand(
        "protect", "Put a disk and all its partitions in kernel read-only mode and verify it");
    protect_->add_option("DEVICE", device_, "Disk or partition: /dev/sdb, sdb, /dev/sdb1")
        ->required();
    protect_->add_flag("--json", protect_json_, "Print the before and after state as JSON");
}

bool DeviceCommands::selected() const {
    return (devices_ && devices_->parsed()) || (protect_ && protect_->parsed());
}

int DeviceCommands::run(const std::atomic<bool>& cancel) {
    if (devices_->parsed()) {
        // Events that come before the listing is out wait for it: the listing first, then
        // one line per event, as --help promises (declared before the watcher, which may
        // still call its observer until it is stopped).
        std::mutex out_mutex;
        bool listed = false;
        std::vector<std::string> early;
        auto print_event = [&](std::string line) {
            std::lock_guard lock(out_mutex);
            if (listed) {
                std::cout << line << std::endl;
            } else {
                early.push_back(std::move(line));
            }
        };
        platform::DeviceWatcher watcher;
        if (watch_) {
            // Start before listing so nothing plugged in between the two is missed.
            watcher.add_observer([this, &print_event](const platform::DeviceEvent& e) {
                if (devices_json_) {
                    print_event(json{{"event", platform::to_string(e.kind)},
                                     {"name", e.name},
                                     {"size_bytes", e.size_bytes}}
                                    .dump());
                } else {
                    std::string line = std::string(platform::to_string(e.kind)) + " /dev/" + e.name;
                    if (e.kind != platform::DeviceEvent::Kind::Removed)
                        line += " (" + human_bytes(static_cast<double>(e.size_bytes)) + ")";
                    print_event(std::move(line));
                }
            });
            if (auto ec = watcher.start()) {
                std::cerr << "exhibit: cannot watch for devices: " << ec.message() << "\n";
                return kInternal;
            }
        }
        auto disks = listed_devices(all_);
        {
            std::lock_guard lock(out_mutex);
            if (devices_json_) {
                json list = json::array();
                for (const auto& disk : disks)
                    list.push_back(disk_json(disk));
                std::cout << (watch_ ? json{{"devices", list}}.dump()
                                     : json{{"devices", list}}.dump(2))
                          << std::endl;
            } else {
                print_table(disks);
                if (watch_) std::cout << "watching for devices; Ctrl-C to stop" << std::endl;
            }
            listed = true;
            for (const auto& line : early)
                std::cout << line << std::endl;
            early.clear();
        }
        while (watch_ && !cancel.load()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        watcher.stop();
        return kOk;
    }

    auto disk = platform::find_disk(device_);
    if (!disk) {
        std::cerr << "exhibit: " << device_
                  << " is not a block device this machine knows (see `exhibit devices`)\n";
        return kSource;
    }
    platform::IoCounters counters;
    std::error_code counters_error = platform::read_io_counters(disk->identity.name, counters);
    auto result = platform::protect(*disk);

    if (protect_json_) {
        // Described again so "read_only" and "protection" show the state after the change.
        json j = disk_json(platform::find_disk(disk->identity.name).value_or(*disk));
        j["before"] = states_json(result.before);
        j["after"] = states_json(result.after);
        j["verified"] = result.verified;
        if (!counters_error) j["io_counters"] = counters_json(counters);
        std::cout << j.dump(2) << "\n";
    } else {
        std::string identity = disk->identity.bus;
        for (const std::string* part : {&disk->identity.vendor, &disk->identity.model}) {
            if (!part->empty()) identity += " " + *part;
        }
        std::printf("device:   %s (%s)\n", disk->dev_path.c_str(), identity.c_str());
        print_states("before:", result.before);
        print_states("after:", result.after);
        if (!counters_error) {
            std::printf(
                "counters: %llu writes completed, %llu sectors written, %llu reads "
                "completed (/sys/block/%s/stat)\n",
                static_cast<unsigned long long>(counters.writes_completed),
                static_cast<unsigned long long>(counters.sectors_written),
                static_cast<unsigned long long>(counters.reads_completed),
                disk->identity.name.c_str());
        }
        if (result.verified) {
            std::printf("verified: %s and its %zu partition(s) are read-only\n",
                        disk->dev_path.c_str(), disk->partitions.size());
        }
    }
    if (!result.verified) {
        std::cerr << "exhibit: " << result.failed_node << " could not be made read-only";
        if (result.error) {
            std::cerr << ": " << result.error.message();
            if (result.error == std::errc::operation_not_permitted ||
                result.error == std::errc::permission_denied) {
                std::cerr << " (setting the kernel read-only flag needs root)";
            }
        } else {
            std::cerr << ": the kernel still reports it writable";
        }
        std::cerr << "\n";
        return kNotProtected;
    }
    return kOk;
}

}  // namespace exhibit::cli
