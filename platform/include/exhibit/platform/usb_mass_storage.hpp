// A read-only USB mass-storage reader: SCSI over Bulk-Only Transport through a
// `UsbTransport`, with every command block passed through the firmware write-block filter
// before it is sent. A command the filter refuses never reaches the device.
//
//   UsbMassStorage disk(std::move(transport));
//   if (auto ec = disk.start()) { log(disk.last_error()); ... }
//   std::vector<std::uint8_t> buf(8 * disk.identity().block_size);
//   if (auto ec = disk.read_blocks(0, 8, buf)) { log(disk.last_error()); ... }
//
// start() sends, in order: Get Max LUN, INQUIRY (then sets the filter's command set from
// the peripheral device type), INQUIRY VPD 00h and 80h (unit serial number), TEST UNIT
// READY until ready (REQUEST SENSE after each failure; UNIT ATTENTION and NOT READY are
// retried a bounded number of times), READ CAPACITY(10), and READ CAPACITY(16) when the
// device has 2^32 blocks or more. read_blocks() uses READ(10), or READ(16) past the
// reach of READ(10), in transfers of at most `max_transfer_bytes`.
//
// Every CSW is checked (signature, tag, status, residue). A stalled data phase is cleared
// and its CSW read; an invalid or meaningless CSW and a phase error lead to BOT reset
// recovery; a short transfer is accepted for the blocks that did arrive and the rest
// asked for again. Each transfer is retried a bounded number of times.
//
// Errors (std::error_code, generic category):
//   no_such_device          the device is gone; nothing more will be read
//   operation_not_permitted the filter refused a command (a bug in this reader)
//   not_supported           the device is not a block device (or not ready at all)
//   io_error                the device kept failing; last_error() says how
// last_error() is one sentence naming the device and what failed.
//
// Not thread-safe: serialise calls (the engine's USB source holds a mutex).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <system_error>

#include "exhibit/firmware/bot.hpp"
#include "exhibit/firmware/scsi_filter.hpp"
#include "exhibit/platform/usb_transport.hpp"

namespace exhibit::platform {

struct UsbMassStorageOptions {
    std::size_t max_transfer_bytes = 120 * 1024;    // per READ command (Linux's default)
    int attempts = 4;                               // tries per transfer before giving up
    int ready_attempts = 8;                         // TEST UNIT READY tries during start()
    std::chrono::milliseconds not_ready_wait{250};  // pause after NOT READY
    std::chrono::milliseconds command_timeout{5000};
    std::chrono::milliseconds data_timeout{20000};
};

// What the device says about itself.
struct UsbMassStorageIdentity {
    std::string vendor;    // INQUIRY T10 vendor, trimmed
    std::string product;   // INQUIRY product identification, trimmed
    std::string revision;  // INQUIRY product revision level, trimmed
    std::string serial;    // VPD 80h unit serial number, trimmed; empty when absent
    std::uint8_t peripheral_device_type = 0x1F;
    bool removable = false;  // INQUIRY RMB
    std::uint8_t max_lun = 0;
    std::uint32_t block_size = 0;
    std::uint64_t block_count = 0;
    bool used_read_capacity_16 = false;
};

class UsbMassStorage {
  public:
    explicit UsbMassStorage(std::shared_ptr<UsbTransport> transport,
                            UsbMassStorageOptions options = {});

    std::error_code start();
    const UsbMassStorageIdentity& identity() const { return identity_; }

    // Reads `count` blocks from `lba` into `buffer` (at least count * block_size bytes).
    // All or nothing: on error the buffer's contents are unspecified.
    std::error_code read_blocks(std::uint64_t lba, std::uint64_t count,
                                std::span<std::uint8_t> buffer);

    const std::string& last_error() const { return last_error_; }
    const firmware::FilterCounters& filter_counters() const { return filter_.counters(); }
    firmware::CommandSet command_set() const { return filter_.command_set(); }
    UsbTransport& transport() { return *transport_; }

    // Counters of what recovery was needed, for the record.
    struct Recovery {
        std::uint64_t resets = 0;       // BOT reset recoveries
        std::uint64_t stalls = 0;       // stalled endpoints cleared
        std::uint64_t short_reads = 0;  // data phases that ended early
        std::uint64_t retries = 0;      // transfers repeated
    };
    const Recovery& recovery() const { return recovery_; }

  private:
    struct Outcome;
    std::error_code command(std::span<const std::uint8_t> cdb, std::span<std::uint8_t> data,
                            std::chrono::milliseconds timeout, Outcome& out);
    std::error_code request_sense(firmware::SenseCode& sense);
    std::error_code scsi(std::span<const std::uint8_t> cdb, std::span<std::uint8_t> data,
                         std::size_t& transferred, firmware::SenseCode& sense, bool& failed);
    std::error_code reset_recovery();
    std::error_code wait_ready();
    std::error_code read_capacity();
    void read_identity_vpd();
    std::error_code read_chunk(std::uint64_t lba, std::uint32_t blocks, std::uint8_t* out);
    std::error_code fail(std::error_code ec, std::string sentence);

    std::shared_ptr<UsbTransport> transport_;
    UsbMassStorageOptions options_;
    firmware::ScsiFilter filter_;
    UsbMassStorageIdentity identity_;
    Recovery recovery_;
    std::uint32_t next_tag_ = 1;
    bool gone_ = false;
    std::string last_error_;
};

}  // namespace exhibit::platform
