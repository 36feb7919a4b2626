// The device side of a USB mass-storage stick, in process: Bulk-Only Transport and the
// SCSI commands a reader needs, backed by an image file opened read-only. It implements
// the same `UsbTransport` the libusb reader speaks through, so the reader (and the
// engine's Source above it) run against it unchanged.
//
//   EmulatedFaults faults;
//   faults.stall_opcode = 0x28;                          // stall the first READ(10)
//   auto dev = std::make_shared<EmulatedMscDevice>(image, faults);
//   auto src = open_usb_mass_storage(dev, "usb:1d6b:0104");
//   ...
//   CHECK(dev->forbidden_received() == 0);
//
// Answers INQUIRY (standard, VPD 00h and 80h), TEST UNIT READY, REQUEST SENSE, READ
// CAPACITY(10/16), READ(10/16) and MODE SENSE(6) (which reports the medium write
// protected). Anything else gets CHECK CONDITION, ILLEGAL REQUEST; every CDB received is
// recorded with the firmware filter's verdict on it, so a test can prove that nothing
// forbidden ever arrived. It never writes: it cannot.
#pragma once

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "exhibit/firmware/bot.hpp"
#include "exhibit/firmware/scsi_filter.hpp"
#include "exhibit/platform/block_device.hpp"
#include "exhibit/platform/usb_transport.hpp"

namespace exhibit::test {

struct EmulatedFaults {
    enum class CswFault { None, BadSignature, WrongTag, BadLength };
    // The next `csw_fault_count` CSWs answering `csw_fault_opcode` are malformed.
    CswFault csw_fault = CswFault::None;
    int csw_fault_count = 0;
    std::uint8_t csw_fault_opcode = 0x28;
    // The next `short_transfer_count` READ data phases send at most this many bytes and
    // report the rest as residue.
    std::size_t short_transfer_bytes = 0;
    int short_transfer_count = 0;
    // The next `stall_count` commands with this opcode stall the bulk-in endpoint
    // instead of sending data, then fail with ABORTED COMMAND.
    std::optional<std::uint8_t> stall_opcode;
    int stall_count = 1;
    // The first TEST UNIT READY fails with UNIT ATTENTION (power on, reset).
    bool unit_attention_on_first_tur = false;
    // After this many data-phase bytes the device is gone: every call fails with
    // no_such_device.
    std::optional<std::uint64_t> vanish_after_bytes;
    // READ CAPACITY reports this many blocks instead of the image's.
    std::optional<std::uint64_t> reported_blocks;
    std::uint8_t peripheral_device_type = 0x00;  // direct access block device
};

struct ReceivedCommand {
    std::uint32_t tag = 0;
    std::vector<std::uint8_t> cdb;
    firmware::FilterDecision decision;  // the filter's verdict for a block device
};

class EmulatedMscDevice final : public platform::UsbTransport {
  public:
    static constexpr std::uint16_t kVendorId = 0x1d6b;
    static constexpr std::uint16_t kProductId = 0x0104;
    static constexpr const char* kUsbSerial = "EXHIBIT-EMU-0001";
    static constexpr const char* kVendor = "EXHIBIT";
    static constexpr const char* kProduct = "Emulated Disk";
    static constexpr const char* kRevision = "1.00";
    static constexpr const char* kUnitSerial = "EMU4C0FFEE42";

    explicit EmulatedMscDevice(const std::filesystem::path& image, EmulatedFaults faults = {},
                               std::uint32_t block_size = 512);

    std::error_code bulk_out(std::span<const std::uint8_t> data, std::size_t& transferred,
                             std::chrono::milliseconds timeout) override;
    std::error_code bulk_in(std::span<std::uint8_t> buffer, std::size_t& transferred,
                            std::chrono::milliseconds timeout) override;
    std::error_code bulk_only_reset() override;
    std::error_code get_max_lun(std::uint8_t& max_lun) override;
    std::error_code clear_halt(platform::UsbEndpoint endpoint) override;
    platform::UsbDeviceIds ids() const override;
    std::string description() const override;

    std::vector<ReceivedCommand> received() const;
    std::size_t forbidden_received() const;
    std::size_t count_opcode(std::uint8_t opcode) const;
    std::uint64_t resets() const;
    std::uint64_t halts_cleared() const;
    bool vanished() const;

  private:
    struct Response {
        std::vector<std::uint8_t> data;
        bool check_condition = false;
    };
    Response execute(const firmware::CommandBlockWrapper& cbw);
    Response check_condition(std::uint8_t key, std::uint8_t asc, std::uint8_t ascq);
    std::error_code gone();

    enum class Phase { Command, DataIn, Status };

    mutable std::mutex mutex_;
    platform::FileDescriptor fd_;
    std::uint64_t image_blocks_ = 0;
    std::uint32_t block_size_;
    EmulatedFaults faults_;

    Phase phase_ = Phase::Command;
    bool in_halted_ = false;
    bool out_halted_ = false;
    bool needs_reset_ = false;
    bool vanished_ = false;
    bool tur_seen_ = false;
    std::vector<std::uint8_t> data_;
    std::size_t data_pos_ = 0;
    firmware::CswBytes csw_{};
    std::size_t csw_length_ = firmware::kCswLength;
    firmware::SenseCode sense_;
    std::uint64_t data_bytes_sent_ = 0;

    std::vector<ReceivedCommand> received_;
    std::uint64_t resets_ = 0;
    std::uint64_t halts_cleared_ = 0;
};

}  // namespace exhibit::test
