// Which files triage reads first: where evidence usually is.
#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

#include "exhibit/file_walk.hpp"

namespace exhibit {

namespace {

constexpr std::uint64_t kSmall = 4u << 20;

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

bool starts_or_contains_dir(const std::string& path, std::string_view dir) {
    // `dir` as a whole path component: at the start, or after a '/'.
    for (std::size_t at = path.find(dir); at != std::string::npos; at = path.find(dir, at + 1)) {
        bool start = at == 0 || path[at - 1] == '/';
        bool end = at + dir.size() == path.size() || path[at + dir.size()] == '/';
        if (start && end) return true;
    }
    return false;
}

bool user_area(const std::string& path) {
    static constexpr std::array<std::string_view, 14> dirs = {
        "users",        "home",   "documents", "desktop", "pictures", "downloads", "dcim",
        "my documents", "recent", "videos",    "music",   "onedrive", "dropbox",   "root"};
    if (path.rfind("users/", 0) == 0 || path.rfind("home/", 0) == 0 ||
        path.rfind("documents and settings/", 0) == 0) {
        return true;
    }
    return std::any_of(dirs.begin(), dirs.end(),
                       [&](std::string_view d) { return starts_or_contains_dir(path, d); });
}

bool system_area(const std::string& path) {
    static constexpr std::array<std::string_view, 12> prefixes = {
        "windows/",     "program files/", "program files (x86)/",
        "programdata/", "usr/",           "lib/",
        "lib64/",       "bin/",           "sbin/",
        "proc/",        "sys/",           "$"};
    return std::any_of(prefixes.begin(), prefixes.end(),
                       [&](std::string_view p) { return path.rfind(p, 0) == 0; }) ||
           path.find("/$") != std::string::npos;
}

}  // namespace

int read_priority(const FileEntry& file) {
    const std::string path = lower(file.path);
    const bool small = file.size <= kSmall;
    if (system_area(path)) return 3;
    const bool user = user_area(path);
    if (user && small) return 0;
    if (small) return 1;
    if (user) return 2;
    return 3;
}

}  // namespace exhibit
