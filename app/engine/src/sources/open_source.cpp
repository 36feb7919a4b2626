#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "exhibit/source.hpp"

namespace exhibit {

namespace fs = std::filesystem;

namespace {

enum class Signature { None, Ewf1, Ewf2, Logical };

Signature read_signature(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    char head[8] = {};
    if (!in.read(head, sizeof head)) return Signature::None;
    if (std::memcmp(head, "EVF\x09\x0d\x0a\xff\x00", 8) == 0) return Signature::Ewf1;
    if (std::memcmp(head, "EVF2\x0d\x0a\x81\x00", 8) == 0) return Signature::Ewf2;
    if (std::memcmp(head, "LVF\x09\x0d\x0a\xff\x00", 8) == 0 ||
        std::memcmp(head, "LEF2\x0d\x0a\x81\x00", 8) == 0) {
        return Signature::Logical;
    }
    return Signature::None;
}

}  // namespace

Expected<std::unique_ptr<Source>> open_source(const fs::path& path, const OpenOptions& options) {
    const std::string name = path.string();
    if (name.empty()) return make_error(ErrorKind::InvalidArgument, "no source was named");
    if (name.starts_with("usb:")) return open_usb_mass_storage(name);
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) {
            return make_error(ErrorKind::NotFound, "source " + name + " does not exist", ENOENT);
        }
        return errno_error("cannot examine source " + name, errno);
    }
    if (S_ISBLK(st.st_mode)) return open_block_device(path, options);
    if (S_ISDIR(st.st_mode)) {
        return make_error(ErrorKind::InvalidArgument,
                          name + " is a directory; name an image file or a block device");
    }
    if (!S_ISREG(st.st_mode)) {
        return make_error(ErrorKind::InvalidArgument,
                          name + " is neither an image file nor a block device");
    }
    if (st.st_size == 0) {
        return make_error(ErrorKind::Format,
                          "source " + name + " is empty (0 bytes): there is nothing to examine");
    }
    switch (read_signature(path)) {
        case Signature::Ewf1:
        case Signature::Ewf2:
            return open_ewf(path);
        case Signature::Logical:
            return make_error(ErrorKind::Unsupported,
                              name + " is a logical evidence file (L01/Lx01), not a disk image");
        case Signature::None:
            break;
    }
    if (auto segments = find_split_raw_segments(path); !segments.empty()) {
        return open_split_raw(segments, name);
    }
    return open_raw(path);
}

}  // namespace exhibit
