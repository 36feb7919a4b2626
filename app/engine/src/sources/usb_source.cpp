// USB mass-storage devices read in user space: platform's Bulk-Only reader (every command
// through the firmware write-block filter) behind the engine's Source.
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <mutex>
#include <vector>

#include "exhibit/platform/libusb_transport.hpp"
#include "exhibit/platform/usb_mass_storage.hpp"
#include "exhibit/source.hpp"

namespace exhibit {

namespace {

class UsbSource final : public Source {
  public:
    UsbSource(SourceInfo info, std::unique_ptr<platform::UsbMassStorage> disk)
        : info_(std::move(info)), disk_(std::move(disk)) {}

    const SourceInfo& info() const override { return info_; }

    Expected<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> buffer) override {
        if (offset >= info_.size || buffer.empty()) return std::size_t{0};
        const std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), info_.size - offset));
        const std::uint64_t bs = info_.sector_size;
        const std::uint64_t first = offset / bs;
        const std::uint64_t end_block = (offset + want + bs - 1) / bs;
        const std::uint64_t count = end_block - first;
        const std::size_t head = static_cast<std::size_t>(offset - first * bs);

        std::lock_guard lock(mutex_);
        std::error_code ec;
        if (head == 0 && want % bs == 0) {
            ec = disk_->read_blocks(first, count,
                                    {reinterpret_cast<std::uint8_t*>(buffer.data()), want});
        } else {
            // Whole sectors are all a disk can read; the partial ones go through a scratch
            // buffer.
            scratch_.resize(static_cast<std::size_t>(count * bs));
            ec = disk_->read_blocks(first, count, scratch_);
            if (!ec) std::memcpy(buffer.data(), scratch_.data() + head, want);
        }
        if (!ec) return want;
        const std::string where = " (" + info_.path + ", offset " + std::to_string(offset) + ")";
        if (ec == std::errc::no_such_device) {
            return make_error(ErrorKind::SourceChanged, disk_->last_error() + where, ENODEV);
        }
        if (ec == std::errc::operation_not_permitted) {
            return make_error(ErrorKind::Internal, disk_->last_error() + where);
        }
        return make_error(ErrorKind::Io, disk_->last_error() + where, EIO);
    }

    std::optional<WriteBlockCounters> write_block_counters() const override {
        std::lock_guard lock(mutex_);
        const firmware::FilterCounters& f = disk_->filter_counters();
        const platform::UsbMassStorage::Recovery& r = disk_->recovery();
        WriteBlockCounters c;
        c.commands_passed = f.passed;
        c.commands_refused = f.refused;
        for (std::size_t op = 0; op < f.refused_by_opcode.size(); ++op) {
            if (f.refused_by_opcode[op]) {
                c.refused_by_opcode.emplace_back(static_cast<std::uint8_t>(op),
                                                 f.refused_by_opcode[op]);
            }
        }
        c.resets = r.resets;
        c.stalls = r.stalls;
        c.short_reads = r.short_reads;
        c.retries = r.retries;
        return c;
    }

  private:
    SourceInfo info_;
    mutable std::mutex mutex_;
    std::unique_ptr<platform::UsbMassStorage> disk_;
    std::vector<std::uint8_t> scratch_;
};

bool parse_hex16(std::string_view text, std::uint16_t& out) {
    if (text.empty() || text.size() > 4) return false;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out, 16);
    return ec == std::errc{} && end == text.data() + text.size();
}

Error transport_error(std::error_code ec, const std::string& spec, const std::string& why) {
    ErrorKind kind = ErrorKind::Io;
    if (ec == std::errc::no_such_device) kind = ErrorKind::NotFound;
    if (ec == std::errc::not_supported) kind = ErrorKind::Unsupported;
    return make_error(kind, "cannot open " + spec + ": " + why, ec.value());
}

}  // namespace

Expected<std::unique_ptr<Source>> open_usb_mass_storage(
    std::shared_ptr<platform::UsbTransport> transport, const std::string& path) {
    if (!transport) return make_error(ErrorKind::InvalidArgument, "no USB transport was given");
    const platform::UsbDeviceIds ids = transport->ids();
    auto disk = std::make_unique<platform::UsbMassStorage>(std::move(transport));
    if (auto ec = disk->start()) {
        ErrorKind kind = ErrorKind::Io;
        if (ec == std::errc::no_such_device) kind = ErrorKind::SourceChanged;
        if (ec == std::errc::not_supported) kind = ErrorKind::Unsupported;
        return make_error(kind, "cannot open " + path + ": " + disk->last_error(), ec.value());
    }
    const platform::UsbMassStorageIdentity& id = disk->identity();

    SourceInfo info;
    info.kind = SourceKind::UsbMassStorage;
    info.path = path;
    info.segments = {path};
    info.sector_size = id.block_size;
    info.size = id.block_count * id.block_size;

    DeviceIdentity device;
    device.name = path;
    device.bus = "usb";
    device.vendor = id.vendor;
    device.model = id.product;
    device.serial = id.serial.empty() ? ids.serial : id.serial;
    device.usb_id = platform::format_usb_id(ids.vendor_id, ids.product_id);
    device.removable = id.removable;
    info.device = std::move(device);
    return std::unique_ptr<Source>(new UsbSource(std::move(info), std::move(disk)));
}

Expected<std::unique_ptr<Source>> open_usb_mass_storage(const std::string& spec) {
    // usb:VID:PID[:SERIAL]; a serial may itself hold colons.
    const std::string_view rest = std::string_view(spec).substr(spec.starts_with("usb:") ? 4 : 0);
    const auto c1 = rest.find(':');
    const auto c2 = c1 == std::string_view::npos ? c1 : rest.find(':', c1 + 1);
    platform::UsbDeviceIds wanted;
    if (c1 == std::string_view::npos || !parse_hex16(rest.substr(0, c1), wanted.vendor_id) ||
        !parse_hex16(rest.substr(c1 + 1, c2 == std::string_view::npos ? c2 : c2 - c1 - 1),
                     wanted.product_id)) {
        return make_error(ErrorKind::InvalidArgument,
                          spec +
                              " is not a USB device name; write usb:VID:PID or "
                              "usb:VID:PID:SERIAL with hexadecimal IDs, e.g. usb:0781:5567");
    }
    if (c2 != std::string_view::npos) wanted.serial = std::string(rest.substr(c2 + 1));

    std::unique_ptr<platform::UsbTransport> transport;
    std::string why;
    if (auto ec = platform::open_libusb_transport(wanted, transport, why)) {
        return transport_error(ec, spec, why);
    }
    return open_usb_mass_storage(std::shared_ptr<platform::UsbTransport>(std::move(transport)),
                                 spec);
}

}  // namespace exhibit
