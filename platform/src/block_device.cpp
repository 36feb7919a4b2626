#include "exhibit/platform/block_device.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>

namespace exhibit::platform {

namespace {
std::error_code last_error() {
    return {errno, std::generic_category()};
}
}  // namespace

FileDescriptor& FileDescriptor::operator=(FileDescriptor&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = other.release();
    }
    return *this;
}

FileDescriptor::~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
}

std::error_code open_read_only(const std::filesystem::path& path, FileDescriptor& out) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOATIME);
    // O_NOATIME is refused with EPERM to anyone but the owner; read anyway.
    if (fd < 0 && errno == EPERM) fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return last_error();
    out = FileDescriptor(fd);
    return {};
}

std::error_code query_geometry(int fd, BlockGeometry& out) {
    std::uint64_t size = 0;
    int logical = 0;
    unsigned int physical = 0;
    if (::ioctl(fd, BLKGETSIZE64, &size) != 0) return last_error();
    if (::ioctl(fd, BLKSSZGET, &logical) != 0) return last_error();
    if (::ioctl(fd, BLKPBSZGET, &physical) != 0) physical = static_cast<unsigned>(logical);
    out.size_bytes = size;
    out.logical_sector_size = static_cast<std::uint32_t>(logical);
    out.physical_sector_size = physical;
    return {};
}

std::error_code query_read_only(int fd, bool& read_only) {
    int flag = 0;
    if (::ioctl(fd, BLKROGET, &flag) != 0) return last_error();
    read_only = flag != 0;
    return {};
}

std::error_code set_read_only(int fd, bool read_only) {
    int flag = read_only ? 1 : 0;
    if (::ioctl(fd, BLKROSET, &flag) != 0) return last_error();
    return {};
}

std::error_code device_number(int fd, std::string& out) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) return last_error();
    if (!S_ISBLK(st.st_mode)) return std::make_error_code(std::errc::not_a_stream);
    out = std::to_string(major(st.st_rdev)) + ":" + std::to_string(minor(st.st_rdev));
    return {};
}

}  // namespace exhibit::platform
