// sysfs attribute reading: whatever bytes an attribute file holds.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "exhibit/platform/sysfs_identity.hpp"

namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const fs::path file = [] {
        std::string pattern = fs::temp_directory_path() / "exhibit-fuzz-sysfs-XXXXXX";
        if (!::mkdtemp(pattern.data())) std::abort();
        return fs::path(pattern) / "attribute";
    }();
    {
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    std::string value = exhibit::platform::read_sysfs_attribute(file);
    if (value.size() > size) __builtin_trap();
    if (!value.empty() && (value.front() == '\n' || value.back() == '\n')) __builtin_trap();
    return 0;
}
