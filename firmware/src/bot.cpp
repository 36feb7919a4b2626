#include "exhibit/firmware/bot.hpp"

namespace exhibit::firmware {

namespace {

// Little-endian by shifts, not by copying a host integer, so the wire format does not
// depend on the host's byte order.
void put_le32(std::uint8_t* p, std::uint32_t v) {
    p[0] = static_cast<std::uint8_t>(v);
    p[1] = static_cast<std::uint8_t>(v >> 8);
    p[2] = static_cast<std::uint8_t>(v >> 16);
    p[3] = static_cast<std::uint8_t>(v >> 24);
}

void put_le16(std::uint8_t* p, std::uint16_t v) {
    p[0] = static_cast<std::uint8_t>(v);
    p[1] = static_cast<std::uint8_t>(v >> 8);
}

std::uint32_t get_le32(const std::uint8_t* p) {
    return static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
           (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
}

// CBW byte offsets (BOT 5.1).
constexpr std::size_t kCbwSignatureAt = 0;
constexpr std::size_t kCbwTagAt = 4;
constexpr std::size_t kCbwLengthAt = 8;
constexpr std::size_t kCbwFlagsAt = 12;
constexpr std::size_t kCbwLunAt = 13;
constexpr std::size_t kCbwCbLengthAt = 14;
constexpr std::size_t kCbwCbAt = 15;

// CSW byte offsets (BOT 5.2).
constexpr std::size_t kCswSignatureAt = 0;
constexpr std::size_t kCswTagAt = 4;
constexpr std::size_t kCswResidueAt = 8;
constexpr std::size_t kCswStatusAt = 12;

constexpr std::uint8_t kDirectionIn = 0x80;

}  // namespace

CbwError make_cbw(std::uint32_t tag, std::uint32_t data_transfer_length, Direction direction,
                  std::uint8_t lun, std::span<const std::uint8_t> cdb, CommandBlockWrapper& out) {
    if (lun > kMaxBotLun) return CbwError::BadLun;
    if (cdb.empty() || cdb.size() > kMaxCommandBlockLength) return CbwError::BadCommandLength;
    CommandBlockWrapper cbw;
    cbw.tag = tag;
    cbw.data_transfer_length = data_transfer_length;
    cbw.direction = direction;
    cbw.lun = lun;
    cbw.command_block_length = static_cast<std::uint8_t>(cdb.size());
    for (std::size_t i = 0; i < cdb.size(); ++i)
        cbw.command_block[i] = cdb[i];
    out = cbw;
    return CbwError::None;
}

CbwBytes encode_cbw(const CommandBlockWrapper& cbw) {
    CbwBytes b{};
    put_le32(&b[kCbwSignatureAt], kCbwSignature);
    put_le32(&b[kCbwTagAt], cbw.tag);
    put_le32(&b[kCbwLengthAt], cbw.data_transfer_length);
    b[kCbwFlagsAt] = cbw.direction == Direction::In ? kDirectionIn : 0x00;
    b[kCbwLunAt] = cbw.lun & 0x0F;
    b[kCbwCbLengthAt] = cbw.command_block_length & 0x1F;
    // CBWCB is always 16 bytes on the wire; bytes past bCBWCBLength are sent as zero.
    const std::size_t n = cbw.command_block_length < kMaxCommandBlockLength
                              ? cbw.command_block_length
                              : kMaxCommandBlockLength;
    for (std::size_t i = 0; i < n; ++i)
        b[kCbwCbAt + i] = cbw.command_block[i];
    return b;
}

CbwError decode_cbw(std::span<const std::uint8_t> bytes, CommandBlockWrapper& out,
                    std::uint8_t max_lun) {
    if (bytes.size() != kCbwLength) return CbwError::WrongLength;
    const std::uint8_t* p = bytes.data();
    if (get_le32(p + kCbwSignatureAt) != kCbwSignature) return CbwError::BadSignature;

    CommandBlockWrapper cbw;
    cbw.tag = get_le32(p + kCbwTagAt);
    cbw.data_transfer_length = get_le32(p + kCbwLengthAt);
    const std::uint8_t flags = p[kCbwFlagsAt];
    cbw.direction = (flags & kDirectionIn) ? Direction::In : Direction::Out;
    cbw.lun = p[kCbwLunAt];
    cbw.command_block_length = p[kCbwCbLengthAt];
    for (std::size_t i = 0; i < kMaxCommandBlockLength; ++i)
        cbw.command_block[i] = p[kCbwCbAt + i];
    // Only the bytes bCBWCBLength names are the command; a meaningful CBW never needs
    // the rest, so clear them rather than hand them on.
    const std::size_t n = cbw.command_block_length;
    for (std::size_t i = n < kMaxCommandBlockLength ? n : kMaxCommandBlockLength;
         i < kMaxCommandBlockLength; ++i)
        cbw.command_block[i] = 0;
    out = cbw;

    if (flags & 0x7F) return CbwError::ReservedFlags;
    if (cbw.lun > kMaxBotLun || cbw.lun > max_lun) return CbwError::BadLun;
    if (cbw.command_block_length == 0 || cbw.command_block_length > kMaxCommandBlockLength)
        return CbwError::BadCommandLength;
    return CbwError::None;
}

CommandStatusWrapper make_csw(const CommandBlockWrapper& cbw, std::uint32_t data_residue,
                              CswStatus status) {
    CommandStatusWrapper csw;
    csw.tag = cbw.tag;
    csw.data_residue =
        data_residue < cbw.data_transfer_length ? data_residue : cbw.data_transfer_length;
    csw.status = static_cast<std::uint8_t>(status);
    return csw;
}

CswBytes encode_csw(const CommandStatusWrapper& csw) {
    CswBytes b{};
    put_le32(&b[kCswSignatureAt], kCswSignature);
    put_le32(&b[kCswTagAt], csw.tag);
    put_le32(&b[kCswResidueAt], csw.data_residue);
    b[kCswStatusAt] = csw.status;
    return b;
}

CswCheck check_csw(std::span<const std::uint8_t> bytes, const CommandBlockWrapper& sent,
                   CommandStatusWrapper& out) {
    if (bytes.size() != kCswLength) return CswCheck::WrongLength;
    const std::uint8_t* p = bytes.data();
    CommandStatusWrapper csw;
    csw.tag = get_le32(p + kCswTagAt);
    csw.data_residue = get_le32(p + kCswResidueAt);
    csw.status = p[kCswStatusAt];
    out = csw;

    if (get_le32(p + kCswSignatureAt) != kCswSignature) return CswCheck::BadSignature;
    if (csw.tag != sent.tag) return CswCheck::TagMismatch;
    // On phase error the residue is not meaningful and is not checked.
    if (csw.status == static_cast<std::uint8_t>(CswStatus::PhaseError)) return CswCheck::PhaseError;
    if (csw.status > static_cast<std::uint8_t>(CswStatus::PhaseError))
        return CswCheck::ReservedStatus;
    if (csw.data_residue > sent.data_transfer_length) return CswCheck::ResidueTooLarge;
    return csw.status == static_cast<std::uint8_t>(CswStatus::Passed) ? CswCheck::Passed
                                                                      : CswCheck::Failed;
}

std::array<std::uint8_t, kSetupPacketLength> encode_setup(const SetupPacket& setup) {
    std::array<std::uint8_t, kSetupPacketLength> b{};
    b[0] = setup.request_type;
    b[1] = setup.request;
    put_le16(&b[2], setup.value);
    put_le16(&b[4], setup.index);
    put_le16(&b[6], setup.length);
    return b;
}

SetupPacket bulk_only_reset(std::uint8_t interface_number) {
    return {0x21, 0xFF, 0x0000, interface_number, 0};
}

SetupPacket get_max_lun(std::uint8_t interface_number) {
    return {0xA1, 0xFE, 0x0000, interface_number, 1};
}

SetupPacket clear_endpoint_halt(std::uint8_t endpoint_address) {
    constexpr std::uint8_t kClearFeature = 0x01;
    constexpr std::uint16_t kEndpointHalt = 0x0000;
    return {0x02, kClearFeature, kEndpointHalt, endpoint_address, 0};
}

std::array<SetupPacket, 3> reset_recovery(std::uint8_t interface_number,
                                          std::uint8_t bulk_in_endpoint,
                                          std::uint8_t bulk_out_endpoint) {
    return {bulk_only_reset(interface_number), clear_endpoint_halt(bulk_in_endpoint),
            clear_endpoint_halt(bulk_out_endpoint)};
}

const char* to_string(CbwError e) {
    switch (e) {
        case CbwError::None:
            return "ok";
        case CbwError::WrongLength:
            return "CBW is not 31 bytes";
        case CbwError::BadSignature:
            return "CBW signature is not USBC";
        case CbwError::ReservedFlags:
            return "CBW flags have reserved bits set";
        case CbwError::BadLun:
            return "CBW LUN is out of range";
        case CbwError::BadCommandLength:
            return "CBW command block length is not 1..16";
    }
    return "unknown CBW error";
}

const char* to_string(CswCheck c) {
    switch (c) {
        case CswCheck::Passed:
            return "command passed";
        case CswCheck::Failed:
            return "command failed";
        case CswCheck::PhaseError:
            return "phase error";
        case CswCheck::WrongLength:
            return "CSW is not 13 bytes";
        case CswCheck::BadSignature:
            return "CSW signature is not USBS";
        case CswCheck::TagMismatch:
            return "CSW tag does not match the CBW";
        case CswCheck::ReservedStatus:
            return "CSW status is reserved";
        case CswCheck::ResidueTooLarge:
            return "CSW residue exceeds the transfer length";
    }
    return "unknown CSW check";
}

}  // namespace exhibit::firmware
