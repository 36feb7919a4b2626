// USB Mass Storage Class Bulk-Only Transport (BOT 1.0) framing: the 31-byte Command Block
// Wrapper, the 13-byte Command Status Wrapper, the checks each side makes on them, and the
// class and standard control requests of reset recovery. Bytes only: no USB stack here.
//
// Host side, one command:
//   CommandBlockWrapper cbw;
//   if (make_cbw(tag, 512, Direction::In, 0, read10_cdb, cbw) != CbwError::None) ...
//   auto out = encode_cbw(cbw);                 // send on bulk-out
//   ... data phase on bulk-in ...
//   CommandStatusWrapper csw;                   // 13 bytes read from bulk-in
//   switch (recovery_for(check_csw(received, cbw, csw))) {
//       case CswRecovery::None: ...             // passed; csw.data_residue is valid
//       case CswRecovery::RequestSense: ...     // command failed: ask REQUEST SENSE
//       case CswRecovery::ResetRecovery:        // send reset_recovery(...) in order
//   }
//
// Device side (an emulator or a bridge): `decode_cbw` says whether a CBW is valid and
// meaningful; `make_csw` answers it.
//
// All multi-byte fields are little-endian on the wire and are encoded and decoded byte by
// byte, so the code is correct on any host. Portable: no heap, no exceptions, no OS calls.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace exhibit::firmware {

inline constexpr std::size_t kCbwLength = 31;
inline constexpr std::size_t kCswLength = 13;
inline constexpr std::size_t kMaxCommandBlockLength = 16;
inline constexpr std::uint8_t kMaxBotLun = 15;
inline constexpr std::uint32_t kCbwSignature = 0x43425355;  // "USBC" on the wire
inline constexpr std::uint32_t kCswSignature = 0x53425355;  // "USBS" on the wire

using CbwBytes = std::array<std::uint8_t, kCbwLength>;
using CswBytes = std::array<std::uint8_t, kCswLength>;

// bmCBWFlags bit 7: the direction of the data phase. Ignored by the device when
// dCBWDataTransferLength is zero.
enum class Direction : std::uint8_t {
    Out = 0,  // host to device
    In = 1,   // device to host
};

struct CommandBlockWrapper {
    std::uint32_t tag = 0;                   // dCBWTag, echoed in the CSW
    std::uint32_t data_transfer_length = 0;  // dCBWDataTransferLength
    Direction direction = Direction::Out;
    std::uint8_t lun = 0;                                              // bCBWLUN, 0..15
    std::uint8_t command_block_length = 0;                             // bCBWCBLength, 1..16
    std::array<std::uint8_t, kMaxCommandBlockLength> command_block{};  // CBWCB, zero-padded

    // The command bytes; never more than 16, even for a CBW that failed `decode_cbw`.
    std::span<const std::uint8_t> command() const {
        const std::size_t n = command_block_length < kMaxCommandBlockLength
                                  ? command_block_length
                                  : kMaxCommandBlockLength;
        return {command_block.data(), n};
    }
};

enum class CbwError : std::uint8_t {
    None,
    // Not valid (BOT 6.2.1): the device stalls both bulk endpoints until reset recovery.
    WrongLength,   // not 31 bytes
    BadSignature,  // dCBWSignature is not 43425355h
    // Not meaningful (BOT 6.2.2).
    ReservedFlags,     // bmCBWFlags bits 6..0 set
    BadLun,            // bCBWLUN reserved bits set, above 15, or above the device's max LUN
    BadCommandLength,  // bCBWCBLength 0, above 16, or with reserved bits set
};

// Host side: fills `out` for `cdb` (1..16 bytes) at `lun` (0..15). On error `out` is
// unchanged.
CbwError make_cbw(std::uint32_t tag, std::uint32_t data_transfer_length, Direction direction,
                  std::uint8_t lun, std::span<const std::uint8_t> cdb, CommandBlockWrapper& out);

// The 31 wire bytes. Fields out of range are masked to their widths; use `make_cbw` to
// build wrappers that need no masking.
CbwBytes encode_cbw(const CommandBlockWrapper& cbw);

// Device side: parses and checks a received CBW against the device's highest LUN (GET
// MAX LUN). `out` is filled whenever the CBW is valid (signature and length), even when
// it is not meaningful, so a device can still echo its tag.
CbwError decode_cbw(std::span<const std::uint8_t> bytes, CommandBlockWrapper& out,
                    std::uint8_t max_lun = kMaxBotLun);

// bCSWStatus values. 03h and above are reserved.
enum class CswStatus : std::uint8_t {
    Passed = 0x00,
    Failed = 0x01,
    PhaseError = 0x02,
};

struct CommandStatusWrapper {
    std::uint32_t tag = 0;           // dCSWTag: the dCBWTag it answers
    std::uint32_t data_residue = 0;  // dCSWDataResidue
    std::uint8_t status = 0;         // bCSWStatus, raw so reserved values survive decoding
};

// Device side: the CSW answering `cbw`. The residue is the difference between
// dCBWDataTransferLength and the bytes processed; it is clamped to the transfer length.
CommandStatusWrapper make_csw(const CommandBlockWrapper& cbw, std::uint32_t data_residue,
                              CswStatus status);
CswBytes encode_csw(const CommandStatusWrapper& csw);

// The host's verdict on a received CSW (BOT 6.3). Valid: 13 bytes, signature, tag of the
// CBW it answers. Meaningful: status 00h or 01h with residue <= dCBWDataTransferLength, or
// status 02h.
enum class CswCheck : std::uint8_t {
    Passed,           // valid, meaningful, status 00h
    Failed,           // valid, meaningful, status 01h: the command failed
    PhaseError,       // valid, meaningful, status 02h: the residue means nothing
    WrongLength,      // not valid: not 13 bytes
    BadSignature,     // not valid: dCSWSignature is not 53425355h
    TagMismatch,      // not valid: answers another CBW
    ReservedStatus,   // valid, not meaningful: status 03h or above
    ResidueTooLarge,  // valid, not meaningful: residue above dCBWDataTransferLength
};

// Parses `bytes` as the CSW answering `sent`. `out` is filled whenever the bytes are 13
// long, so a caller can log what arrived.
CswCheck check_csw(std::span<const std::uint8_t> bytes, const CommandBlockWrapper& sent,
                   CommandStatusWrapper& out);

constexpr bool is_valid(CswCheck c) {
    return c != CswCheck::WrongLength && c != CswCheck::BadSignature && c != CswCheck::TagMismatch;
}
constexpr bool is_meaningful(CswCheck c) {
    return c == CswCheck::Passed || c == CswCheck::Failed || c == CswCheck::PhaseError;
}

// What the host does next. BOT requires reset recovery for an invalid CSW and for phase
// error and allows it for a CSW that is not meaningful; a forensic reader takes it for
// all three, because it can no longer trust what the device says it transferred.
enum class CswRecovery : std::uint8_t {
    None,           // done
    RequestSense,   // the command failed: fetch the sense data with REQUEST SENSE
    ResetRecovery,  // send `reset_recovery` in order, then retry or give up
};

constexpr CswRecovery recovery_for(CswCheck c) {
    switch (c) {
        case CswCheck::Passed:
            return CswRecovery::None;
        case CswCheck::Failed:
            return CswRecovery::RequestSense;
        default:
            return CswRecovery::ResetRecovery;
    }
}

// A USB control transfer's SETUP packet (USB 2.0 9.3).
struct SetupPacket {
    std::uint8_t request_type = 0;  // bmRequestType
    std::uint8_t request = 0;       // bRequest
    std::uint16_t value = 0;        // wValue
    std::uint16_t index = 0;        // wIndex
    std::uint16_t length = 0;       // wLength

    friend bool operator==(const SetupPacket&, const SetupPacket&) = default;
};

inline constexpr std::size_t kSetupPacketLength = 8;
std::array<std::uint8_t, kSetupPacketLength> encode_setup(const SetupPacket& setup);

// Bulk-Only Mass Storage Reset: class, interface, host to device (21h), bRequest FFh.
SetupPacket bulk_only_reset(std::uint8_t interface_number);
// Get Max LUN: class, interface, device to host (A1h), bRequest FEh, one byte back.
SetupPacket get_max_lun(std::uint8_t interface_number);
// CLEAR_FEATURE(ENDPOINT_HALT): standard, endpoint, host to device (02h), bRequest 01h.
// `endpoint_address` is the full address, direction bit included (81h for bulk-in 1).
SetupPacket clear_endpoint_halt(std::uint8_t endpoint_address);

// Reset recovery (BOT 5.3.4), in the order it must be sent: the Bulk-Only Mass Storage
// Reset, then CLEAR_FEATURE(HALT) on the bulk-in endpoint, then on the bulk-out endpoint.
std::array<SetupPacket, 3> reset_recovery(std::uint8_t interface_number,
                                          std::uint8_t bulk_in_endpoint,
                                          std::uint8_t bulk_out_endpoint);

const char* to_string(CbwError e);
const char* to_string(CswCheck c);

}  // namespace exhibit::firmware
