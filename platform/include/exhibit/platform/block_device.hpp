// Linux block devices, read-only, and the facts the kernel keeps about them.
//
// No engine types here: calls return std::error_code (errno values) so that the
// engine above decides what an error means to the operator.
//
//   platform::FileDescriptor fd;
//   if (auto ec = platform::open_read_only("/dev/sdb", fd)) ...
//   bool ro = false;
//   platform::query_read_only(fd.get(), ro);     // BLKROGET
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>

namespace exhibit::platform {

// Owns a file descriptor; closes it on destruction.
class FileDescriptor {
  public:
    FileDescriptor() = default;
    explicit FileDescriptor(int fd) : fd_(fd) {}
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    FileDescriptor(FileDescriptor&& other) noexcept : fd_(other.release()) {}
    FileDescriptor& operator=(FileDescriptor&& other) noexcept;
    ~FileDescriptor();

    int get() const { return fd_; }
    bool valid() const { return fd_ >= 0; }
    int release() {
        int fd = fd_;
        fd_ = -1;
        return fd;
    }

  private:
    int fd_ = -1;
};

// Opens `path` O_RDONLY|O_CLOEXEC, adding O_NOATIME when the kernel allows it for this
// caller (it does for the file's owner and for root), so reading an image file does not
// even move its access time.
std::error_code open_read_only(const std::filesystem::path& path, FileDescriptor& out);

struct BlockGeometry {
    std::uint64_t size_bytes = 0;            // BLKGETSIZE64
    std::uint32_t logical_sector_size = 0;   // BLKSSZGET
    std::uint32_t physical_sector_size = 0;  // BLKPBSZGET
};
std::error_code query_geometry(int fd, BlockGeometry& out);

// The kernel read-only flag (BLKROGET / BLKROSET). With it set the block layer refuses
// every write request to the device, whoever issues it.
std::error_code query_read_only(int fd, bool& read_only);
std::error_code set_read_only(int fd, bool read_only);

// "MAJ:MIN" of the block device `fd` refers to, or an error when it is not one.
std::error_code device_number(int fd, std::string& out);

}  // namespace exhibit::platform
