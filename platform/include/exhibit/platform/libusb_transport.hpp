// A `UsbTransport` over a real device through libusb-1.0.
//
//   std::unique_ptr<UsbTransport> t;
//   std::string why;
//   if (auto ec = open_libusb_transport({0x0781, 0x5567, ""}, t, why)) { log(why); ... }
//
// Finds the device by VID:PID (and iSerialNumber when `wanted.serial` is not empty), picks
// its first mass-storage Bulk-Only interface (class 08h, subclass 06h SCSI, protocol 50h)
// and that interface's bulk endpoints, detaches the kernel driver (usb-storage or uas) so
// no block device exists for the medium while we hold it, and claims the interface. The
// kernel driver is re-attached when the transport is destroyed.
//
// Errors: no_such_device (no match, or two matches without a serial to choose: `why`
// says which), permission_denied, device_or_resource_busy, not_supported (no BOT
// interface), io_error.
#pragma once

#include <memory>
#include <string>
#include <system_error>

#include "exhibit/platform/usb_transport.hpp"

namespace exhibit::platform {

std::error_code open_libusb_transport(const UsbDeviceIds& wanted,
                                      std::unique_ptr<UsbTransport>& out, std::string& why);

}  // namespace exhibit::platform
