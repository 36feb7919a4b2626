#include "exhibit/platform/write_protection.hpp"

#include <charconv>
#include <fstream>
#include <sstream>

#include "exhibit/platform/block_device.hpp"

namespace exhibit::platform {

namespace fs = std::filesystem;

namespace {

std::vector<const BlockDeviceInfo*> nodes_of(const BlockDeviceInfo& disk) {
    std::vector<const BlockDeviceInfo*> nodes{&disk};
    for (const auto& part : disk.partitions)
        nodes.push_back(&part);
    return nodes;
}

std::optional<bool> sysfs_read_only(const std::string& name, const fs::path& sysfs_root) {
    std::ifstream in(sysfs_root / "class" / "block" / name / "ro");
    char flag = 0;
    if (!(in >> flag)) return std::nullopt;
    return flag == '1';
}

NodeProtection query_node(const BlockDeviceInfo& node, const fs::path& sysfs_root) {
    NodeProtection state;
    state.name = node.identity.name;
    state.dev_path = node.dev_path;
    state.sysfs_read_only = sysfs_read_only(state.name, sysfs_root);
    FileDescriptor fd;
    if (auto ec = open_read_only(node.dev_path, fd)) {
        state.error = ec;
        return state;
    }
    bool read_only = false;
    if (auto ec = query_read_only(fd.get(), read_only)) {
        state.error = ec;
        return state;
    }
    state.ioctl_read_only = read_only;
    return state;
}

}  // namespace

std::uint64_t IoCounters::writes_since(const IoCounters& before) const {
    auto delta = [](std::uint64_t now, std::uint64_t then) { return now >= then ? now - then : 0; };
    std::uint64_t total = delta(writes_completed, before.writes_completed);
    if (discards_completed && before.discards_completed) {
        total += delta(*discards_completed, *before.discards_completed);
    }
    if (flushes_completed && before.flushes_completed) {
        total += delta(*flushes_completed, *before.flushes_completed);
    }
    return total;
}

std::error_code parse_io_counters(std::string_view text, IoCounters& out) {
    std::vector<std::uint64_t> fields;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n'))
            ++i;
        if (i == text.size()) break;
        std::uint64_t value = 0;
        auto [end, ec] = std::from_chars(text.data() + i, text.data() + text.size(), value);
        if (ec != std::errc{}) return std::make_error_code(std::errc::invalid_argument);
        fields.push_back(value);
        i = static_cast<std::size_t>(end - text.data());
        if (i < text.size() && text[i] != ' ' && text[i] != '\t' && text[i] != '\n') {
            return std::make_error_code(std::errc::invalid_argument);
        }
    }
    if (fields.size() < 11) return std::make_error_code(std::errc::invalid_argument);
    IoCounters c;
    c.reads_completed = fields[0];
    c.reads_merged = fields[1];
    c.sectors_read = fields[2];
    c.writes_completed = fields[4];
    c.writes_merged = fields[5];
    c.sectors_written = fields[6];
    c.in_flight = fields[8];
    if (fields.size() >= 15) {
        c.discards_completed = fields[11];
        c.sectors_discarded = fields[13];
    }
    if (fields.size() >= 17) c.flushes_completed = fields[15];
    out = c;
    return {};
}

std::error_code read_io_counters(const std::string& name, IoCounters& out,
                                 const fs::path& sysfs_root) {
    std::ifstream in(sysfs_root / "class" / "block" / name / "stat");
    if (!in) in.open(sysfs_root / "block" / name / "stat");
    if (!in) return std::make_error_code(std::errc::no_such_device);
    std::ostringstream text;
    text << in.rdbuf();
    return parse_io_counters(text.str(), out);
}

std::vector<NodeProtection> query_protection(const BlockDeviceInfo& disk,
                                             const fs::path& sysfs_root) {
    std::vector<NodeProtection> states;
    for (const BlockDeviceInfo* node : nodes_of(disk)) {
        states.push_back(query_node(*node, sysfs_root));
    }
    return states;
}

ProtectionResult protect(const BlockDeviceInfo& disk, const fs::path& sysfs_root) {
    ProtectionResult result;
    result.before = query_protection(disk, sysfs_root);
    // The disk first: from then on the block layer refuses writes to the whole device, even
    // while the partitions are still being set.
    for (const BlockDeviceInfo* node : nodes_of(disk)) {
        FileDescriptor fd;
        std::error_code ec = open_read_only(node->dev_path, fd);
        if (!ec) ec = set_read_only(fd.get(), true);
        if (ec && !result.error) {
            result.error = ec;
            result.failed_node = node->identity.name;
        }
    }
    result.after = query_protection(disk, sysfs_root);
    result.verified = !result.error;
    for (const NodeProtection& state : result.after) {
        if (state.read_only()) continue;
        result.verified = false;
        if (result.failed_node.empty()) {
            result.error = state.error;
            result.failed_node = state.name;
        }
    }
    return result;
}

}  // namespace exhibit::platform
