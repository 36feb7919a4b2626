// The SCSI write-block filter: decides, for each command descriptor block on its way to
// a seized device, whether it may pass. Only what reading needs passes (the tables in
// scsi_opcodes.hpp); everything else is refused with the sense data a write-protected
// device would return, and counted.
//
//   ScsiFilter filter;                                  // CommandSet::Unknown
//   FilterDecision d = filter.decide(inquiry_cdb);      // INQUIRY passes
//   ... send it, read the INQUIRY data ...
//   filter.set_command_set(command_set_for_inquiry_byte0(inquiry_data[0]));
//   d = filter.decide(cdb);
//   if (!d.passed()) {
//       // Do not send it. Answer the caller with CHECK CONDITION and d.sense.
//   }
//
// Until the command set is set from INQUIRY, only the SPC commands every device type
// shares pass (see `CommandSet`).
//
// A CDB may be longer than its command (a transport that pads every CDB to 12 or 16
// bytes); only the command's own bytes are read. A CDB shorter than its command is
// refused (MalformedCdb).
//
// Portable: no heap, no exceptions, no OS calls. A `ScsiFilter` is not thread-safe: give
// each device path its own, or serialise calls.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "exhibit/firmware/scsi_opcodes.hpp"

namespace exhibit::firmware {

// SCSI status and sense values the filter uses.
inline constexpr std::uint8_t kStatusGood = 0x00;
inline constexpr std::uint8_t kStatusCheckCondition = 0x02;
inline constexpr std::uint8_t kSenseKeyIllegalRequest = 0x05;
inline constexpr std::uint8_t kSenseKeyDataProtect = 0x07;

// Fixed-format sense data (SPC, response code 70h) is 18 bytes with ADDITIONAL SENSE
// LENGTH 10.
inline constexpr std::size_t kFixedSenseLength = 18;
using SenseBytes = std::array<std::uint8_t, kFixedSenseLength>;

struct SenseCode {
    std::uint8_t key = 0;
    std::uint8_t asc = 0;
    std::uint8_t ascq = 0;
};

// The sense a refusal for `reason` carries:
//   write-class reasons      DATA PROTECT 27h/00h WRITE PROTECTED
//   MediumRemoval            ILLEGAL REQUEST 53h/02h MEDIUM REMOVAL PREVENTED
//   NotNeeded, DeviceTypeUnknown, UnknownOpcode
//                            ILLEGAL REQUEST 20h/00h INVALID COMMAND OPERATION CODE
//   UnknownServiceAction, UnsupportedField, AtaNotAllowed, MalformedCdb
//                            ILLEGAL REQUEST 24h/00h INVALID FIELD IN CDB
// Allowed gives {0, 0, 0}.
SenseCode sense_code_for(Reason reason);

// Where in the CDB the refused field is, for the sense-key specific bytes of ILLEGAL
// REQUEST (SKSV, C/D = 1, FIELD POINTER, and BIT POINTER when `bit` >= 0).
struct FieldPointer {
    bool valid = false;
    std::uint16_t byte = 0;
    std::int8_t bit = -1;
};

// Fixed-format sense data: current error, `code`, sense-key specific from `field` when it
// is valid and the key is ILLEGAL REQUEST.
SenseBytes make_fixed_sense(SenseCode code, FieldPointer field = {});

enum class Verdict : std::uint8_t { Pass, Refuse };

struct FilterDecision {
    Verdict verdict = Verdict::Refuse;
    CommandClass command_class = CommandClass::Forbidden;  // Forbidden when refused
    Reason reason = Reason::MalformedCdb;
    std::uint8_t opcode = 0;            // 0 for an empty CDB
    std::uint16_t service_action = 0;   // when the opcode has service actions, else 0
    const char* name = "";              // never null: command, service action, or
                                        // "VENDOR SPECIFIC" / "RESERVED"
    const char* ata_command = nullptr;  // for ATA PASS-THROUGH: the carried command, if known
    std::uint8_t status = kStatusCheckCondition;  // GOOD when passed
    SenseBytes sense{};                           // zeros when passed

    bool passed() const { return verdict == Verdict::Pass; }
    std::uint8_t sense_key() const { return sense[2] & 0x0F; }
    std::uint8_t asc() const { return sense[12]; }
    std::uint8_t ascq() const { return sense[13]; }
};

// The decision for `cdb` under `set`, without counting. Pure: the same input gives the
// same decision.
FilterDecision evaluate_cdb(std::span<const std::uint8_t> cdb, CommandSet set);

// Counts since construction or the last `reset_counters`. Per-opcode counts saturate.
struct FilterCounters {
    std::uint64_t decided = 0;
    std::uint64_t passed = 0;
    std::uint64_t refused = 0;
    std::uint64_t refused_empty = 0;  // empty CDBs: no opcode to count them under
    std::array<std::uint32_t, 256> refused_by_opcode{};
    std::array<std::uint32_t, kReasonCount> refused_by_reason{};
};

class ScsiFilter {
  public:
    explicit ScsiFilter(CommandSet set = CommandSet::Unknown) : set_(set) {}

    // Call once INQUIRY has named the device type (`command_set_for_inquiry_byte0`).
    void set_command_set(CommandSet set) { set_ = set; }
    CommandSet command_set() const { return set_; }

    // Decides and counts. A refused command must not be sent to the device.
    FilterDecision decide(std::span<const std::uint8_t> cdb);

    const FilterCounters& counters() const { return counters_; }
    void reset_counters() { counters_ = {}; }

  private:
    CommandSet set_;
    FilterCounters counters_;
};

// Short, stable names for logs and the custody record ("write", "not-needed", ...).
const char* to_string(Reason reason);
const char* to_string(CommandClass command_class);
const char* to_string(CommandSet set);

}  // namespace exhibit::firmware
