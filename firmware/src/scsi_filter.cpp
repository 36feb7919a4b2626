#include "exhibit/firmware/scsi_filter.hpp"

namespace exhibit::firmware {

namespace {

// T10 lists these as vendor specific; the rest of the unassigned codes are reserved.
bool is_vendor_specific(std::uint8_t op) {
    switch (op) {
        case 0x02:
        case 0x06:
        case 0x09:
        case 0x0C:
        case 0x0D:
        case 0x0E:
        case 0x20:
        case 0x21:
        case 0x22:
        case 0x26:
        case 0x27:
            return true;
        default:
            return op >= 0xC0;
    }
}

const char* opcode_name(std::uint8_t op, const OpcodeEntry& entry) {
    if (entry.name != nullptr) return entry.name;
    return is_vendor_specific(op) ? "VENDOR SPECIFIC" : "RESERVED";
}

FilterDecision pass(FilterDecision d, CommandClass command_class) {
    d.verdict = Verdict::Pass;
    d.command_class = command_class;
    d.reason = Reason::Allowed;
    d.status = kStatusGood;
    d.sense = {};
    return d;
}

FilterDecision refuse(FilterDecision d, Reason reason, FieldPointer field = {}) {
    d.verdict = Verdict::Refuse;
    d.command_class = CommandClass::Forbidden;
    d.reason = reason;
    d.status = kStatusCheckCondition;
    d.sense = make_fixed_sense(sense_code_for(reason), field);
    return d;
}

constexpr FieldPointer at(std::uint16_t byte, std::int8_t bit = -1) {
    return {true, byte, bit};
}

// The CDB byte and top bit of each opcode's service action field.
FieldPointer service_action_field(FieldCheck check) {
    return check == FieldCheck::VariableLength ? at(8, 7) : at(1, 4);
}

FilterDecision decide_service_action(FilterDecision d, std::span<const std::uint8_t> cdb,
                                     FieldCheck check) {
    std::size_t length = cdb.size();
    if (check == FieldCheck::VariableLength) {
        // Byte 7 is ADDITIONAL CDB LENGTH: the CDB is 8 + that many bytes.
        length = 8u + cdb[7];
        if (cdb.size() < length) return refuse(d, Reason::MalformedCdb);
        d.service_action = static_cast<std::uint16_t>((cdb[8] << 8) | cdb[9]);
    } else {
        d.service_action = cdb[1] & 0x1F;
    }
    const ServiceActionEntry* sa = find_service_action(d.opcode, d.service_action);
    if (sa == nullptr) return refuse(d, Reason::UnknownServiceAction, service_action_field(check));
    d.name = sa->name;
    if (sa->command_class == CommandClass::Forbidden) return refuse(d, sa->reason);
    if (length < sa->cdb_length) return refuse(d, Reason::MalformedCdb);
    return pass(d, sa->command_class);
}

FilterDecision decide_start_stop_unit(FilterDecision d, std::span<const std::uint8_t> cdb) {
    const std::uint8_t b4 = cdb[4];
    // LOEJ with START clear ejects, with START set loads; both move the medium.
    if (b4 & 0x02) return refuse(d, Reason::MediumRemoval);
    // POWER CONDITION (bits 7..4) nonzero: a power-state change rather than a spin
    // up/down. Not needed; START and LOEJ would be ignored.
    if (b4 & 0xF0) return refuse(d, Reason::UnsupportedField, at(4, 7));
    // Plain start or stop (spin up / spin down) passes: stopping lets the operator
    // unplug a disk without an emergency head retract, which a drive counts in SMART.
    return pass(d, CommandClass::Information);
}

FilterDecision decide_log_sense(FilterDecision d, std::span<const std::uint8_t> cdb) {
    // SP asks the device to save its log parameters to non-volatile storage.
    if (cdb[1] & 0x01) return refuse(d, Reason::ConfigurationChange);
    return pass(d, CommandClass::Information);
}

bool is_data_in(AtaProtocol p) {
    return p == AtaProtocol::PioDataIn || p == AtaProtocol::Dma || p == AtaProtocol::UdmaDataIn;
}

// SAT ATA PASS-THROUGH(12) and (16). Byte 1: MULTIPLE COUNT, PROTOCOL (bits 4..1),
// EXTEND (bit 0, 16-byte form only). Byte 2: T_DIR is bit 3 (1 = from the device).
FilterDecision decide_ata_pass_through(FilterDecision d, std::span<const std::uint8_t> cdb,
                                       bool sixteen) {
    const auto protocol = static_cast<AtaProtocol>((cdb[1] >> 1) & 0x0F);
    const bool extend = sixteen && (cdb[1] & 0x01);
    const bool from_device = (cdb[2] & 0x08) != 0;
    const std::uint8_t command = sixteen ? cdb[14] : cdb[9];
    std::uint16_t feature = sixteen ? cdb[4] : cdb[3];
    if (extend) feature = static_cast<std::uint16_t>(feature | (cdb[3] << 8));
    const FieldPointer command_field = at(sixteen ? 14 : 9);

    const AtaCommandEntry* ata = find_ata_command(command, feature);
    if (ata != nullptr) d.ata_command = ata->name;

    // A data-out protocol hands data to the device whatever the command says it is.
    if (protocol == AtaProtocol::PioDataOut || protocol == AtaProtocol::UdmaDataOut)
        return refuse(d, Reason::AtaWrite);
    if (ata == nullptr) return refuse(d, Reason::AtaNotAllowed, command_field);
    if (ata->command_class == CommandClass::Forbidden) return refuse(d, ata->reason, command_field);
    // Resets, diagnostics, FPDMA, reserved values, or a protocol the command does not
    // use: the device would not run the command we looked at.
    if ((ata->protocols & ata_protocol_bit(protocol)) == 0)
        return refuse(d, Reason::AtaNotAllowed, at(1, 4));
    if (is_data_in(protocol) && !from_device) return refuse(d, Reason::UnsupportedField, at(2, 3));
    return pass(d, ata->command_class);
}

}  // namespace

SenseCode sense_code_for(Reason reason) {
    switch (reason) {
        case Reason::Allowed:
            return {};
        case Reason::Write:
        case Reason::Format:
        case Reason::Erase:
        case Reason::Unmap:
        case Reason::ConfigurationChange:
        case Reason::FirmwareUpdate:
        case Reason::SecurityChange:
        case Reason::Reservation:
        case Reason::CacheFlush:
        case Reason::SelfTest:
        case Reason::AtaWrite:
            return {kSenseKeyDataProtect, 0x27, 0x00};
        case Reason::MediumRemoval:
            return {kSenseKeyIllegalRequest, 0x53, 0x02};
        case Reason::NotNeeded:
        case Reason::DeviceTypeUnknown:
        case Reason::UnknownOpcode:
            return {kSenseKeyIllegalRequest, 0x20, 0x00};
        case Reason::UnknownServiceAction:
        case Reason::UnsupportedField:
        case Reason::AtaNotAllowed:
        case Reason::MalformedCdb:
            return {kSenseKeyIllegalRequest, 0x24, 0x00};
    }
    return {kSenseKeyIllegalRequest, 0x20, 0x00};
}

SenseBytes make_fixed_sense(SenseCode code, FieldPointer field) {
    SenseBytes s{};
    s[0] = 0x70;  // current error, fixed format; INFORMATION not valid
    s[2] = code.key & 0x0F;
    s[7] = kFixedSenseLength - 8;  // ADDITIONAL SENSE LENGTH
    s[12] = code.asc;
    s[13] = code.ascq;
    if (field.valid && code.key == kSenseKeyIllegalRequest) {
        std::uint8_t b15 = 0x80 | 0x40;  // SKSV, C/D: the error is in the CDB
        if (field.bit >= 0)
            b15 = static_cast<std::uint8_t>(b15 | 0x08 | (field.bit & 0x07));  // BPV
        s[15] = b15;
        s[16] = static_cast<std::uint8_t>(field.byte >> 8);
        s[17] = static_cast<std::uint8_t>(field.byte & 0xFF);
    }
    return s;
}

FilterDecision evaluate_cdb(std::span<const std::uint8_t> cdb, CommandSet set) {
    FilterDecision d;
    if (cdb.empty()) {
        d.name = "EMPTY CDB";
        return refuse(d, Reason::MalformedCdb);
    }
    d.opcode = cdb[0];
    const OpcodeEntry& entry = opcode_entry(d.opcode, set);
    d.name = opcode_name(d.opcode, entry);

    // A forbidden opcode is refused for what it is, whatever its length.
    if (entry.command_class == CommandClass::Forbidden)
        return refuse(d, entry.reason,
                      entry.reason == Reason::UnknownOpcode || entry.reason == Reason::NotNeeded ||
                              entry.reason == Reason::DeviceTypeUnknown
                          ? at(0, 7)
                          : FieldPointer{});
    if (cdb.size() < entry.cdb_length) return refuse(d, Reason::MalformedCdb);

    switch (entry.check) {
        case FieldCheck::None:
            return pass(d, entry.command_class);
        case FieldCheck::ServiceAction:
        case FieldCheck::VariableLength:
            return decide_service_action(d, cdb, entry.check);
        case FieldCheck::StartStopUnit:
            return decide_start_stop_unit(d, cdb);
        case FieldCheck::LogSense:
            return decide_log_sense(d, cdb);
        case FieldCheck::AtaPassThrough12:
            return decide_ata_pass_through(d, cdb, false);
        case FieldCheck::AtaPassThrough16:
            return decide_ata_pass_through(d, cdb, true);
    }
    return refuse(d, Reason::UnknownOpcode);
}

FilterDecision ScsiFilter::decide(std::span<const std::uint8_t> cdb) {
    FilterDecision d = evaluate_cdb(cdb, set_);
    ++counters_.decided;
    if (d.passed()) {
        ++counters_.passed;
        return d;
    }
    ++counters_.refused;
    if (cdb.empty()) {
        ++counters_.refused_empty;
    } else if (counters_.refused_by_opcode[d.opcode] != UINT32_MAX) {
        ++counters_.refused_by_opcode[d.opcode];
    }
    auto& by_reason = counters_.refused_by_reason[static_cast<std::size_t>(d.reason)];
    if (by_reason != UINT32_MAX) ++by_reason;
    return d;
}

const char* to_string(Reason reason) {
    switch (reason) {
        case Reason::Allowed:
            return "allowed";
        case Reason::Write:
            return "write";
        case Reason::Format:
            return "format";
        case Reason::Erase:
            return "erase";
        case Reason::Unmap:
            return "unmap";
        case Reason::ConfigurationChange:
            return "configuration-change";
        case Reason::FirmwareUpdate:
            return "firmware-update";
        case Reason::SecurityChange:
            return "security-change";
        case Reason::Reservation:
            return "reservation";
        case Reason::CacheFlush:
            return "cache-flush";
        case Reason::SelfTest:
            return "self-test";
        case Reason::AtaWrite:
            return "ata-write";
        case Reason::MediumRemoval:
            return "medium-removal";
        case Reason::NotNeeded:
            return "not-needed";
        case Reason::DeviceTypeUnknown:
            return "device-type-unknown";
        case Reason::UnknownOpcode:
            return "unknown-opcode";
        case Reason::UnknownServiceAction:
            return "unknown-service-action";
        case Reason::UnsupportedField:
            return "unsupported-field";
        case Reason::AtaNotAllowed:
            return "ata-not-allowed";
        case Reason::MalformedCdb:
            return "malformed-cdb";
    }
    return "unknown";
}

const char* to_string(CommandClass command_class) {
    switch (command_class) {
        case CommandClass::Read:
            return "read";
        case CommandClass::Information:
            return "information";
        case CommandClass::Forbidden:
            return "forbidden";
    }
    return "unknown";
}

const char* to_string(CommandSet set) {
    switch (set) {
        case CommandSet::Unknown:
            return "unknown";
        case CommandSet::Block:
            return "block";
        case CommandSet::Multimedia:
            return "multimedia";
    }
    return "unknown";
}

}  // namespace exhibit::firmware
