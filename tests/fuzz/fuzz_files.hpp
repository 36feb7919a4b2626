// Shared by the fuzz targets that need a few files from one input: a per-process scratch
// directory, and a simple container format that make-seeds.sh writes from real files.
//
// Container: files, each introduced by a line "=== <relative path>" at the start of the
// input or of a line; its content runs up to the next such line. Paths are kept to
// [A-Za-z0-9._/-], without "..", so nothing is written outside the directory.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace fuzz {

// A directory of its own for this process, made on first use.
inline const std::filesystem::path& scratch(const char* name) {
    static const std::filesystem::path dir = [name] {
        std::string pattern = std::filesystem::temp_directory_path() /
                              (std::string("exhibit-fuzz-") + name + "-XXXXXX");
        if (!::mkdtemp(pattern.data())) std::abort();
        return std::filesystem::path(pattern);
    }();
    return dir;
}

inline bool safe_path(std::string_view p) {
    if (p.empty() || p.size() > 120 || p.front() == '/' || p.back() == '/') return false;
    if (p.find("..") != std::string_view::npos || p.find("//") != std::string_view::npos)
        return false;
    for (char c : p) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-' || c == '/';
        if (!ok) return false;
    }
    return true;
}

// Empties `dir` and writes the container's files (at most 32) into it.
inline void unpack(std::string_view in, const std::filesystem::path& dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::remove_all(dir, ec);
    fs::create_directories(dir);
    constexpr std::string_view kMark = "=== ";
    std::size_t pos = in.starts_with(kMark) ? 0 : in.find("\n=== ");
    if (pos != 0 && pos != std::string_view::npos) ++pos;
    int files = 0;
    while (pos != std::string_view::npos && pos < in.size() && files < 32) {
        std::size_t name_end = in.find('\n', pos);
        if (name_end == std::string_view::npos) return;
        std::string_view name = in.substr(pos + kMark.size(), name_end - pos - kMark.size());
        std::size_t next = in.find("\n=== ", name_end);
        std::size_t content_end = next == std::string_view::npos ? in.size() : next + 1;
        std::string_view content = in.substr(name_end + 1, content_end - name_end - 1);
        pos = next == std::string_view::npos ? next : next + 1;
        if (!safe_path(name)) continue;
        const fs::path file = dir / std::string(name);
        fs::create_directories(file.parent_path(), ec);
        if (ec || fs::is_directory(file, ec)) continue;
        std::ofstream(file, std::ios::binary | std::ios::trunc)
            .write(content.data(), static_cast<std::streamsize>(content.size()));
        ++files;
    }
}

}  // namespace fuzz
