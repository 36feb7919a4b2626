// libusb-1.0 behind `UsbTransport`. Kept thin on purpose: it cannot be exercised without
// hardware, so every decision lives above it, in the reader the emulated device tests.
#include "exhibit/platform/libusb_transport.hpp"

#include <libusb.h>

#include <climits>
#include <vector>

#include "exhibit/firmware/bot.hpp"

namespace exhibit::platform {

namespace {

std::error_code from_libusb(int rc) {
    switch (rc) {
        case LIBUSB_SUCCESS:
            return {};
        case LIBUSB_ERROR_PIPE:
            return std::make_error_code(std::errc::broken_pipe);
        case LIBUSB_ERROR_TIMEOUT:
            return std::make_error_code(std::errc::timed_out);
        case LIBUSB_ERROR_NO_DEVICE:
        case LIBUSB_ERROR_NOT_FOUND:
            return std::make_error_code(std::errc::no_such_device);
        case LIBUSB_ERROR_OVERFLOW:
            return std::make_error_code(std::errc::value_too_large);
        case LIBUSB_ERROR_ACCESS:
            return std::make_error_code(std::errc::permission_denied);
        case LIBUSB_ERROR_BUSY:
            return std::make_error_code(std::errc::device_or_resource_busy);
        case LIBUSB_ERROR_NO_MEM:
            return std::make_error_code(std::errc::not_enough_memory);
        case LIBUSB_ERROR_NOT_SUPPORTED:
            return std::make_error_code(std::errc::not_supported);
        default:
            return std::make_error_code(std::errc::io_error);
    }
}

unsigned timeout_ms(std::chrono::milliseconds t) {
    return t.count() <= 0 ? 1u : static_cast<unsigned>(std::min<long long>(t.count(), UINT_MAX));
}

struct ContextDeleter {
    void operator()(libusb_context* c) const { libusb_exit(c); }
};
struct HandleDeleter {
    void operator()(libusb_device_handle* h) const { libusb_close(h); }
};
struct DeviceListDeleter {
    void operator()(libusb_device** list) const { libusb_free_device_list(list, 1); }
};
struct ConfigDeleter {
    void operator()(libusb_config_descriptor* c) const { libusb_free_config_descriptor(c); }
};
using Context = std::unique_ptr<libusb_context, ContextDeleter>;
using Handle = std::unique_ptr<libusb_device_handle, HandleDeleter>;

struct BotInterface {
    int number = -1;
    std::uint8_t bulk_in = 0;
    std::uint8_t bulk_out = 0;
};

// The first Bulk-Only SCSI interface of the active configuration.
BotInterface find_bot_interface(libusb_device* device) {
    libusb_config_descriptor* raw = nullptr;
    if (libusb_get_active_config_descriptor(device, &raw) != LIBUSB_SUCCESS) return {};
    std::unique_ptr<libusb_config_descriptor, ConfigDeleter> config(raw);
    for (int i = 0; i < config->bNumInterfaces; ++i) {
        const libusb_interface& itf = config->interface[i];
        for (int a = 0; a < itf.num_altsetting; ++a) {
            const libusb_interface_descriptor& d = itf.altsetting[a];
            if (d.bInterfaceClass != LIBUSB_CLASS_MASS_STORAGE || d.bInterfaceSubClass != 0x06 ||
                d.bInterfaceProtocol != 0x50 || d.bAlternateSetting != 0) {
                continue;
            }
            BotInterface found;
            found.number = d.bInterfaceNumber;
            for (int e = 0; e < d.bNumEndpoints; ++e) {
                const libusb_endpoint_descriptor& ep = d.endpoint[e];
                if ((ep.bmAttributes & LIBUSB_TRANSFER_TYPE_MASK) != LIBUSB_TRANSFER_TYPE_BULK) {
                    continue;
                }
                if (ep.bEndpointAddress & LIBUSB_ENDPOINT_IN) {
                    if (!found.bulk_in) found.bulk_in = ep.bEndpointAddress;
                } else if (!found.bulk_out) {
                    found.bulk_out = ep.bEndpointAddress;
                }
            }
            if (found.bulk_in && found.bulk_out) return found;
        }
    }
    return {};
}

class LibusbTransport final : public UsbTransport {
  public:
    LibusbTransport(Context context, Handle handle, BotInterface itf, UsbDeviceIds ids)
        : context_(std::move(context)),
          handle_(std::move(handle)),
          itf_(itf),
          ids_(std::move(ids)) {}

    ~LibusbTransport() override {
        // With auto-detach on, releasing re-attaches the kernel driver.
        libusb_release_interface(handle_.get(), itf_.number);
    }

    std::error_code bulk_out(std::span<const std::uint8_t> data, std::size_t& transferred,
                             std::chrono::milliseconds timeout) override {
        return bulk(itf_.bulk_out, const_cast<std::uint8_t*>(data.data()), data.size(), transferred,
                    timeout);
    }
    std::error_code bulk_in(std::span<std::uint8_t> buffer, std::size_t& transferred,
                            std::chrono::milliseconds timeout) override {
        return bulk(itf_.bulk_in, buffer.data(), buffer.size(), transferred, timeout);
    }

    std::error_code bulk_only_reset() override {
        const auto s = firmware::bulk_only_reset(static_cast<std::uint8_t>(itf_.number));
        const int rc = libusb_control_transfer(handle_.get(), s.request_type, s.request, s.value,
                                               s.index, nullptr, 0, 5000);
        return rc < 0 ? from_libusb(rc) : std::error_code{};
    }
    std::error_code get_max_lun(std::uint8_t& max_lun) override {
        const auto s = firmware::get_max_lun(static_cast<std::uint8_t>(itf_.number));
        unsigned char lun = 0;
        const int rc = libusb_control_transfer(handle_.get(), s.request_type, s.request, s.value,
                                               s.index, &lun, 1, 5000);
        if (rc < 0) return from_libusb(rc);
        max_lun = rc == 1 && lun <= firmware::kMaxBotLun ? lun : 0;
        return {};
    }
    std::error_code clear_halt(UsbEndpoint endpoint) override {
        // libusb_clear_halt sends CLEAR_FEATURE(ENDPOINT_HALT) and resets the host's data
        // toggle too, which a hand-made control transfer would not.
        return from_libusb(libusb_clear_halt(
            handle_.get(), endpoint == UsbEndpoint::BulkIn ? itf_.bulk_in : itf_.bulk_out));
    }

    UsbDeviceIds ids() const override { return ids_; }
    std::string description() const override {
        std::string d = "USB device " + format_usb_id(ids_.vendor_id, ids_.product_id);
        if (!ids_.serial.empty()) d += " (serial " + ids_.serial + ")";
        return d;
    }

  private:
    std::error_code bulk(std::uint8_t endpoint, std::uint8_t* data, std::size_t size,
                         std::size_t& transferred, std::chrono::milliseconds timeout) {
        transferred = 0;
        if (size > static_cast<std::size_t>(INT_MAX)) {
            return std::make_error_code(std::errc::invalid_argument);
        }
        int done = 0;
        const int rc = libusb_bulk_transfer(handle_.get(), endpoint, data, static_cast<int>(size),
                                            &done, timeout_ms(timeout));
        transferred = done > 0 ? static_cast<std::size_t>(done) : 0;
        return from_libusb(rc);
    }

    Context context_;
    Handle handle_;
    BotInterface itf_;
    UsbDeviceIds ids_;
};

}  // namespace

std::error_code open_libusb_transport(const UsbDeviceIds& wanted,
                                      std::unique_ptr<UsbTransport>& out, std::string& why) {
    const std::string id = format_usb_id(wanted.vendor_id, wanted.product_id);
    libusb_context* raw_context = nullptr;
    if (int rc = libusb_init(&raw_context); rc != LIBUSB_SUCCESS) {
        why = std::string("cannot start libusb: ") + libusb_strerror(rc);
        return from_libusb(rc);
    }
    Context context(raw_context);

    libusb_device** raw_list = nullptr;
    const ssize_t count = libusb_get_device_list(context.get(), &raw_list);
    if (count < 0) {
        why = std::string("cannot list USB devices: ") + libusb_strerror(static_cast<int>(count));
        return from_libusb(static_cast<int>(count));
    }
    std::unique_ptr<libusb_device*, DeviceListDeleter> list(raw_list);

    Handle chosen;
    libusb_device* chosen_device = nullptr;
    std::string chosen_serial;
    int matches = 0;
    std::error_code open_error;
    for (ssize_t i = 0; i < count; ++i) {
        libusb_device_descriptor desc{};
        if (libusb_get_device_descriptor(list.get()[i], &desc) != LIBUSB_SUCCESS) continue;
        if (desc.idVendor != wanted.vendor_id || desc.idProduct != wanted.product_id) continue;
        libusb_device_handle* raw_handle = nullptr;
        if (int rc = libusb_open(list.get()[i], &raw_handle); rc != LIBUSB_SUCCESS) {
            open_error = from_libusb(rc);
            continue;
        }
        Handle handle(raw_handle);
        std::string serial;
        if (desc.iSerialNumber) {
            unsigned char buf[256] = {};
            const int n = libusb_get_string_descriptor_ascii(handle.get(), desc.iSerialNumber, buf,
                                                             sizeof buf);
            if (n > 0)
                serial.assign(reinterpret_cast<const char*>(buf), static_cast<std::size_t>(n));
        }
        if (!wanted.serial.empty() && serial != wanted.serial) continue;
        ++matches;
        if (!chosen) {
            chosen = std::move(handle);
            chosen_device = list.get()[i];
            chosen_serial = serial;
        }
    }
    if (!chosen) {
        why = "no USB device " + id +
              (wanted.serial.empty() ? std::string() : " with serial " + wanted.serial) +
              (open_error ? " could be opened (" + open_error.message() + ")" : " is attached");
        return open_error ? open_error : std::make_error_code(std::errc::no_such_device);
    }
    if (matches > 1) {
        why = std::to_string(matches) + " USB devices " + id +
              " are attached; name one by serial (usb:" + id + ":SERIAL)";
        return std::make_error_code(std::errc::no_such_device);
    }

    const BotInterface itf = find_bot_interface(chosen_device);
    if (itf.number < 0) {
        why = "USB device " + id + " has no Bulk-Only mass-storage interface";
        return std::make_error_code(std::errc::not_supported);
    }
    // Detach usb-storage/uas so the kernel holds no block device for the medium while we
    // read it; where auto-detach is not supported, detach by hand.
    if (libusb_set_auto_detach_kernel_driver(chosen.get(), 1) != LIBUSB_SUCCESS &&
        libusb_kernel_driver_active(chosen.get(), itf.number) == 1) {
        if (int rc = libusb_detach_kernel_driver(chosen.get(), itf.number); rc != LIBUSB_SUCCESS) {
            why = std::string("cannot detach the kernel driver from USB device ") + id + ": " +
                  libusb_strerror(rc);
            return from_libusb(rc);
        }
    }
    if (int rc = libusb_claim_interface(chosen.get(), itf.number); rc != LIBUSB_SUCCESS) {
        why = std::string("cannot claim USB device ") + id + ": " + libusb_strerror(rc);
        return from_libusb(rc);
    }
    UsbDeviceIds ids{wanted.vendor_id, wanted.product_id, chosen_serial};
    out = std::make_unique<LibusbTransport>(std::move(context), std::move(chosen), itf,
                                            std::move(ids));
    return {};
}

}  // namespace exhibit::platform
