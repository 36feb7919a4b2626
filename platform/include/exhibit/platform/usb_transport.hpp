// The USB pipe a Bulk-Only mass-storage reader speaks through: one bulk-out and one
// bulk-in endpoint of a claimed interface, plus the three control requests of BOT reset
// recovery. `libusb_transport.hpp` implements it over a real device; the tests implement
// it with an emulated device, so everything above this line is testable without hardware.
//
//   std::size_t n = 0;
//   if (auto ec = transport.bulk_out(cbw_bytes, n, kTimeout)) ...
//   if (auto ec = transport.bulk_in(buffer, n, kTimeout); ec == std::errc::broken_pipe)
//       transport.clear_halt(UsbEndpoint::BulkIn);     // the endpoint stalled
//
// Errors are std::error_code values in the generic category, the same for every
// implementation:
//   std::errc::broken_pipe           the endpoint stalled (STALL handshake; libusb PIPE)
//   std::errc::timed_out             nothing (or not everything) arrived in time
//   std::errc::no_such_device        the device is gone (unplugged, reset away)
//   std::errc::value_too_large       the device sent more than was asked (babble)
//   std::errc::io_error              anything else the bus reported
// `transferred` is set even on error: a timed-out transfer may have moved some bytes.
//
// No engine types here; the engine turns these into its own errors.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <system_error>

namespace exhibit::platform {

enum class UsbEndpoint : std::uint8_t { BulkIn, BulkOut };

// What identifies the device on the bus, for the operator and the custody record.
struct UsbDeviceIds {
    std::uint16_t vendor_id = 0;
    std::uint16_t product_id = 0;
    std::string serial;  // iSerialNumber string descriptor, empty when absent
};

// "0781:5567" (lowercase hex, as lsusb prints it).
std::string format_usb_id(std::uint16_t vendor_id, std::uint16_t product_id);

class UsbTransport {
  public:
    virtual ~UsbTransport() = default;

    virtual std::error_code bulk_out(std::span<const std::uint8_t> data, std::size_t& transferred,
                                     std::chrono::milliseconds timeout) = 0;
    // Ends at `buffer.size()` bytes or at the first short packet, whichever comes first.
    virtual std::error_code bulk_in(std::span<std::uint8_t> buffer, std::size_t& transferred,
                                    std::chrono::milliseconds timeout) = 0;

    // Bulk-Only Mass Storage Reset (class request FFh to the interface).
    virtual std::error_code bulk_only_reset() = 0;
    // Get Max LUN (class request FEh). A single-LUN device may stall it; then it is 0.
    virtual std::error_code get_max_lun(std::uint8_t& max_lun) = 0;
    // CLEAR_FEATURE(ENDPOINT_HALT) on one of the interface's bulk endpoints.
    virtual std::error_code clear_halt(UsbEndpoint endpoint) = 0;

    virtual UsbDeviceIds ids() const = 0;
    // One phrase naming the device for messages, e.g. "USB device 0781:5567 (serial X)".
    virtual std::string description() const = 0;
};

}  // namespace exhibit::platform
