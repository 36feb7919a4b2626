// Linux block devices: opened read-only and refused unless the kernel will refuse
// writes too (or the operator vouches for a hardware write-blocker).
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "exhibit/platform/block_device.hpp"
#include "exhibit/platform/sysfs_identity.hpp"
#include "exhibit/source.hpp"

namespace exhibit {

namespace fs = std::filesystem;

namespace {

class BlockDeviceSource final : public Source {
  public:
    BlockDeviceSource(SourceInfo info, platform::FileDescriptor fd)
        : info_(std::move(info)), fd_(std::move(fd)) {}

    const SourceInfo& info() const override { return info_; }

    Expected<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> buffer) override {
        if (offset >= info_.size || buffer.empty()) return std::size_t{0};
        std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), info_.size - offset));
        ssize_t n;
        do {
            n = ::pread(fd_.get(), buffer.data(), want, static_cast<off_t>(offset));
        } while (n < 0 && errno == EINTR);
        if (n < 0) {
            return errno_error(
                "cannot read device " + info_.path + " at offset " + std::to_string(offset), errno);
        }
        if (n == 0) {
            return make_error(ErrorKind::SourceChanged,
                              "device " + info_.path + " ended at offset " +
                                  std::to_string(offset) + " though it reported " +
                                  std::to_string(info_.size) + " bytes");
        }
        return static_cast<std::size_t>(n);
    }

    std::vector<Descriptor> read_descriptors() const override {
        return {{fd_.get(), 0, info_.size, info_.path, true}};
    }

  private:
    SourceInfo info_;
    platform::FileDescriptor fd_;
};

}  // namespace

Expected<std::unique_ptr<Source>> open_block_device(const fs::path& path,
                                                    const OpenOptions& options) {
    const std::string name = path.string();
    platform::FileDescriptor fd;
    if (auto ec = platform::open_read_only(path, fd)) {
        return errno_error("cannot open device " + name, ec.value());
    }
    // The flag is checked on the open descriptor before the first read, so nothing
    // between the check and the read can swap the device under us.
    bool read_only = false;
    if (auto ec = platform::query_read_only(fd.get(), read_only)) {
        return errno_error("cannot query the read-only flag of " + name, ec.value());
    }
    if (!read_only && options.hardware_blocker.empty()) {
        return make_error(ErrorKind::NotProtected,
                          "device " + name +
                              " is writable; protect it first with `blockdev --setro " + name +
                              "` (or `exhibit protect " + name +
                              "`), or declare the hardware write-blocker it is attached through "
                              "with --hardware-blocker \"make model serial\"");
    }
    platform::BlockGeometry geometry;
    if (auto ec = platform::query_geometry(fd.get(), geometry)) {
        return errno_error("cannot read the size of device " + name, ec.value());
    }
    SourceInfo info;
    info.kind = SourceKind::BlockDevice;
    info.path = name;
    info.segments = {name};
    info.size = geometry.size_bytes;
    info.sector_size = geometry.logical_sector_size ? geometry.logical_sector_size : 512;

    DeviceIdentity id;
    id.kernel_read_only = read_only;
    id.hardware_blocker = options.hardware_blocker;
    std::string number;
    platform::SysfsIdentity sysfs;
    if (!platform::device_number(fd.get(), number) &&
        platform::read_sysfs_identity(number, sysfs)) {
        id.name = sysfs.name;
        id.bus = sysfs.bus;
        id.vendor = sysfs.vendor;
        id.model = sysfs.model;
        id.serial = sysfs.serial;
        id.usb_id = sysfs.usb_id;
        id.removable = sysfs.removable;
    }
    info.device = std::move(id);
    return std::unique_ptr<Source>(new BlockDeviceSource(std::move(info), std::move(fd)));
}

}  // namespace exhibit
