// The acquisition checkpoint reader (what `exhibit acquire --resume` trusts): any bytes
// in <basename>.checkpoint.json give a checkpoint or an error, never a crash, and a
// checkpoint it accepts writes back and reads again the same.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "acquire/checkpoint.hpp"

namespace fs = std::filesystem;
using namespace exhibit::acquire_detail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const fs::path dir = [] {
        std::string pattern = fs::temp_directory_path() / "exhibit-fuzz-checkpoint-XXXXXX";
        if (!::mkdtemp(pattern.data())) std::abort();
        return fs::path(pattern);
    }();
    const fs::path file = dir / "image.checkpoint.json";
    {
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    auto c = read_checkpoint(file);
    if (!c) return 0;
    // Round trip: what was accepted is written under its own basename and read again.
    c->plan.out_dir = dir / "again";
    fs::create_directories(c->plan.out_dir);
    if (!write_checkpoint(*c)) __builtin_trap();
    auto again = read_checkpoint(checkpoint_path(c->plan));
    if (!again || again->offset != c->offset || again->prefix != c->prefix ||
        again->plan.basename != c->plan.basename) {
        __builtin_trap();
    }
    std::error_code ec;
    fs::remove_all(c->plan.out_dir, ec);
    return 0;
}
