#include "exhibit/output_drive.hpp"

#include <blkid/blkid.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "exhibit/platform/block_device.hpp"
#include "exhibit/platform/device_discovery.hpp"
#include "exhibit/platform/write_protection.hpp"

extern char** environ;

namespace exhibit {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The node `device` names (a disk or one of its partitions) inside its whole disk.
struct Located {
    platform::BlockDeviceInfo disk;
    platform::BlockDeviceInfo node;
};

Expected<Located> locate(const std::string& device, const fs::path& sysfs_root) {
    auto disk = platform::find_disk(device, sysfs_root);
    if (!disk) {
        return make_error(ErrorKind::NotFound,
                          "output drive " + device + " is not a block device this system knows");
    }
    std::string name = fs::path(device).filename().string();
    std::string dev_number;
    platform::FileDescriptor fd;
    if (!platform::open_read_only(device, fd)) platform::device_number(fd.get(), dev_number);
    if (disk->identity.name == name || disk->major_minor == dev_number)
        return Located{*disk, *disk};
    for (const auto& part : disk->partitions) {
        if (part.identity.name == name || part.major_minor == dev_number) {
            return Located{*disk, part};
        }
    }
    return make_error(ErrorKind::NotFound,
                      "output drive " + device + " is not a node of disk " + disk->identity.name);
}

// File system type, label and UUID as libblkid reads them from a read-only descriptor.
Status probe_file_system(const fs::path& dev_path, OutputDrive& out) {
    platform::FileDescriptor fd;
    if (auto ec = platform::open_read_only(dev_path, fd)) {
        return errno_error("cannot open output drive " + dev_path.string(), ec.value());
    }
    blkid_probe probe = blkid_new_probe();
    if (!probe) return make_error(ErrorKind::Internal, "libblkid cannot make a probe");
    Status status = ok();
    if (blkid_probe_set_device(probe, fd.get(), 0, 0) != 0) {
        status =
            make_error(ErrorKind::Io, "libblkid cannot read output drive " + dev_path.string());
    } else {
        blkid_probe_enable_superblocks(probe, 1);
        blkid_probe_set_superblocks_flags(
            probe, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_LABEL | BLKID_SUBLKS_UUID);
        int rc = blkid_do_safeprobe(probe);
        if (rc == 0) {
            auto value = [&](const char* key) {
                const char* data = nullptr;
                std::size_t len = 0;
                if (blkid_probe_lookup_value(probe, key, &data, &len) != 0 || !data)
                    return std::string();
                std::string s(data, len);
                while (!s.empty() && s.back() == '\0')
                    s.pop_back();
                return s;
            };
            out.fs_type = value("TYPE");
            out.label = value("LABEL");
            out.fs_uuid = value("UUID");
        } else if (rc == -2) {
            status =
                make_error(ErrorKind::Format, "output drive " + dev_path.string() +
                                                  " holds signatures of more than one file system");
        } else if (rc < 0) {
            status =
                make_error(ErrorKind::Io, "libblkid cannot read output drive " + dev_path.string());
        }
    }
    blkid_free_probe(probe);
    return status;
}

Expected<std::pair<OutputDrive, Located>> describe(const std::string& device,
                                                   const fs::path& sysfs_root) {
    auto where = locate(device, sysfs_root);
    if (!where) return where.error();
    OutputDrive d;
    d.device = where->node.dev_path.string();
    d.disk = where->disk.identity.name;
    d.vendor = where->disk.identity.vendor;
    d.model = where->disk.identity.model;
    d.serial = where->disk.identity.serial;
    d.bus = where->disk.identity.bus;
    d.size_bytes = where->node.identity.size_bytes;
    if (auto s = probe_file_system(where->node.dev_path, d); !s) return s.error();
    return std::pair{std::move(d), std::move(*where)};
}

std::optional<bool> node_read_only(const platform::BlockDeviceInfo& node) {
    platform::FileDescriptor fd;
    if (platform::open_read_only(node.dev_path, fd)) return std::nullopt;
    bool ro = false;
    if (platform::query_read_only(fd.get(), ro)) return std::nullopt;
    return ro;
}

// Clears the read-only flag on the disk (when the node is a partition) and the node, and
// checks each with BLKROGET and sysfs. Records in `d` every node it changed.
Status make_writable(const Located& where, OutputDrive& d, const fs::path& sysfs_root) {
    std::vector<const platform::BlockDeviceInfo*> nodes{&where.disk};
    if (where.node.partition) nodes.push_back(&where.node);
    for (const auto* node : nodes) {
        auto before = node_read_only(*node);
        if (!before) {
            return make_error(ErrorKind::Io,
                              "cannot read the read-only flag of " + node->dev_path.string());
        }
        if (!*before) continue;
        platform::FileDescriptor fd;
        std::error_code ec = platform::open_read_only(node->dev_path, fd);
        if (!ec) ec = platform::set_read_only(fd.get(), false);
        if (ec) {
            return errno_error(
                "cannot make output drive node " + node->dev_path.string() + " writable",
                ec.value());
        }
        d.made_writable.push_back(node->identity.name);
    }
    auto disk = platform::find_disk(where.disk.identity.name, sysfs_root);
    if (!disk) return make_error(ErrorKind::NotFound, "output drive disk " + d.disk + " vanished");
    for (const auto& state : platform::query_protection(*disk, sysfs_root)) {
        bool wanted =
            state.name == where.disk.identity.name || state.name == where.node.identity.name;
        if (!wanted) continue;
        if (state.ioctl_read_only.value_or(true) || state.sysfs_read_only.value_or(true)) {
            return make_error(ErrorKind::Io,
                              "output drive node /dev/" + state.name +
                                  " still reads as read-only after clearing its flag");
        }
    }
    return ok();
}

bool is_mounted(const Located& where) {
    std::ifstream in("/proc/self/mountinfo");
    std::vector<std::string> numbers{where.node.major_minor};
    if (!where.node.partition) {
        for (const auto& p : where.disk.partitions)
            numbers.push_back(p.major_minor);
    }
    for (std::string line; std::getline(in, line);) {
        std::istringstream fields(line);
        std::string id, parent, dev;
        fields >> id >> parent >> dev;
        for (const auto& n : numbers)
            if (!n.empty() && dev == n) return true;
    }
    return false;
}

// Runs mkfs.ext4 on the device; its output becomes the error message when it fails.
Status make_file_system(const std::string& dev_path) {
    std::array<int, 2> out{-1, -1};
    if (::pipe2(out.data(), O_CLOEXEC) != 0) return errno_error("cannot make a pipe", errno);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, out[1], 2);
    std::vector<std::string> args{"mkfs.ext4", "-q", "-F", "-L", kOutputDriveLabel, dev_path};
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    int rc = posix_spawnp(&pid, "mkfs.ext4", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(out[1]);
    if (rc != 0) {
        ::close(out[0]);
        return errno_error("cannot run mkfs.ext4 (e2fsprogs)", rc);
    }
    std::string text;
    std::array<char, 4096> buf{};
    for (ssize_t n; (n = ::read(out[0], buf.data(), buf.size())) != 0;) {
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        text.append(buf.data(), static_cast<std::size_t>(n));
    }
    ::close(out[0]);
    int wstatus = 0;
    while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
        while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
            text.pop_back();
        return make_error(ErrorKind::Io, "mkfs.ext4 failed on output drive " + dev_path +
                                             (text.empty() ? std::string() : ": " + text));
    }
    return ok();
}

}  // namespace

std::string OutputDrive::json() const {
    return nlohmann::json{{"device", device},
                          {"disk", disk},
                          {"fs_type", fs_type},
                          {"label", label},
                          {"fs_uuid", fs_uuid},
                          {"vendor", vendor},
                          {"model", model},
                          {"serial", serial},
                          {"bus", bus},
                          {"size_bytes", size_bytes},
                          {"made_writable", made_writable}}
        .dump();
}

Expected<OutputDrive> inspect_output_drive(const std::string& device, const fs::path& sysfs_root) {
    auto d = describe(device, sysfs_root);
    if (!d) return d.error();
    return std::move(d->first);
}

namespace {

// Clears the flags and logs it: "output_drive_opened" when every node is writable, an
// "error" event naming the nodes already changed when one refused.
Status open_and_log(CustodyLog& log, const Operator& who, const Located& where, OutputDrive& d,
                    const char* during) {
    if (auto s = make_writable(where, d, "/sys"); !s) {
        if (!d.made_writable.empty()) {
            json detail = {{"during", during},
                           {"message", s.error().message},
                           {"made_writable", d.made_writable}};
            (void)log.append(who, custody_action::kError, detail.dump());
        }
        return s;
    }
    if (auto e = log.append(who, custody_action::kOutputDriveOpened, d.json()); !e)
        return e.error();
    return ok();
}

}  // namespace

Expected<OutputDrive> open_output_drive(CaseDatabase& db, const Operator& who,
                                        const std::string& device) {
    auto described = describe(device, "/sys");
    if (!described) return described.error();
    auto& [d, where] = *described;
    if (d.label != kOutputDriveLabel) {
        std::string holds = d.fs_type.empty()
                                ? "no file system"
                                : "a " + d.fs_type + " file system labelled '" + d.label + "'";
        return make_error(ErrorKind::InvalidArgument,
                          "output drive " + d.device + " holds " + holds + ", not one labelled " +
                              kOutputDriveLabel +
                              " (prepare it first: exhibit output-drive prepare)");
    }
    CustodyLog log(db);
    if (auto s = open_and_log(log, who, where, d, "opening the output drive"); !s) return s.error();
    return std::move(d);
}

Expected<OutputDrive> prepare_output_drive(CaseDatabase& db, const Operator& who,
                                           const std::string& device, bool erase_existing) {
    auto described = describe(device, "/sys");
    if (!described) return described.error();
    auto& [held, where] = *described;
    if (!held.fs_type.empty() && !erase_existing) {
        return make_error(ErrorKind::InvalidArgument,
                          "output drive " + held.device + " holds a " + held.fs_type +
                              " file system" +
                              (held.label.empty() ? "" : " labelled '" + held.label + "'") +
                              ": preparing it would erase it (say so to erase it)");
    }
    if (is_mounted(where)) {
        return make_error(ErrorKind::InvalidArgument,
                          "output drive " + held.device + " is mounted: unmount it first");
    }
    // Writable first (logged with what the drive held), then the new file system.
    CustodyLog log(db);
    OutputDrive opened = held;
    if (auto s = open_and_log(log, who, where, opened, "preparing the output drive"); !s) {
        return s.error();
    }
    // Named, not captured from the structured binding: clang 14 cannot capture one.
    const std::string held_device = held.device;
    auto failed = [&](Error e) {
        json detail = {{"during", "preparing output drive " + held_device}, {"message", e.message}};
        (void)log.append(who, custody_action::kError, detail.dump());
        return e;
    };
    if (auto s = make_file_system(held.device); !s) return failed(s.error());
    auto now = describe(device, "/sys");
    if (!now) return failed(now.error());
    if (now->first.label != kOutputDriveLabel) {
        return failed(make_error(ErrorKind::Io, "output drive " + held.device +
                                                    " does not read back as " + kOutputDriveLabel +
                                                    " after mkfs.ext4"));
    }
    OutputDrive prepared = now->first;
    prepared.made_writable = opened.made_writable;
    json detail = json::parse(prepared.json());
    detail["erased"] = {
        {"fs_type", held.fs_type}, {"label", held.label}, {"fs_uuid", held.fs_uuid}};
    if (auto e = log.append(who, custody_action::kOutputDrivePrepared, detail.dump()); !e) {
        return e.error();
    }
    return prepared;
}

}  // namespace exhibit
