// Split raw segment naming: whatever name an examiner hands us as a first segment. Runs
// in a scratch directory holding a few segment-like files, so the sequence search finds
// some and stops at the first gap.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "exhibit/source.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path& scratch() {
    static const fs::path dir = [] {
        std::string pattern = fs::temp_directory_path() / "exhibit-fuzz-split-XXXXXX";
        if (!::mkdtemp(pattern.data())) std::abort();
        for (const char* name : {"img.000", "img.001", "img.002", "img.aa", "img.ab", "x.001",
                                 "x.002", "x.003", "a.b.001", "a.b.002", "z.zz"}) {
            std::ofstream(fs::path(pattern) / name) << "x";
        }
        return fs::path(pattern);
    }();
    return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string name(reinterpret_cast<const char*>(data), size);
    if (name.find('\0') != std::string::npos || name.size() > 200) return 0;
    auto segments = exhibit::find_split_raw_segments(scratch() / name);
    if (segments.size() == 1) __builtin_trap();  // a split set has at least two segments
    if (segments.size() > 999) __builtin_trap();
    return 0;
}
