// The write-block allow-list as data: every SCSI operation code, the service actions of
// the opcodes that pass on some of theirs, and the ATA commands that ATA PASS-THROUGH may
// carry. `scsi_filter.hpp` applies these tables to a CDB; this header is the policy.
//
//   constexpr auto& e = opcode_entry(0x28, CommandSet::Block);   // READ(10)
//   static_assert(e.command_class == CommandClass::Read);
//
// Sections: 1. classes and reasons  2. command sets  3. the opcode tables
//           4. service actions  5. ATA commands  6. lookups
//
// The rule the tables follow: a command passes only when reading the evidence needs it
// and no standard meaning of it, for the device type at hand, writes the medium or
// changes what the device will report later. Everything else is refused, and every
// refusal names its reason. Reserved and vendor-specific opcodes are refused.
//
// Portable: no heap, no exceptions, no OS calls; the same tables could run on a
// microcontroller bridge.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace exhibit::firmware {

// ---------------------------------------------------------------------------------------
// 1. Classes and reasons
// ---------------------------------------------------------------------------------------

enum class CommandClass : std::uint8_t {
    Read,         // transfers data from the medium (READ(10), READ CD, ATA READ DMA EXT)
    Information,  // reports on the device without touching the medium (INQUIRY, MODE SENSE)
    Forbidden,    // refused
};

// Why a command passed or was refused. The reason decides the sense data the refusal
// carries (see `sense_code_for` in scsi_filter.hpp).
enum class Reason : std::uint8_t {
    Allowed,
    // Would change the medium or the device: DATA PROTECT, WRITE PROTECTED (27h/00h).
    Write,                // writes user data or parity (WRITE*, WRITE SAME, XDWRITE, copies)
    Format,               // formats or remaps the medium (FORMAT UNIT, REASSIGN BLOCKS)
    Erase,                // erases (ERASE, SANITIZE, BLANK, zone resets)
    Unmap,                // deallocates blocks (UNMAP)
    ConfigurationChange,  // changes current or saved settings (MODE SELECT, LOG SELECT)
    FirmwareUpdate,       // downloads microcode (WRITE BUFFER)
    SecurityChange,       // SECURITY PROTOCOL OUT, ACCESS CONTROL OUT
    Reservation,          // RESERVE, RELEASE, PERSISTENT RESERVE OUT
    CacheFlush,           // SYNCHRONIZE CACHE: tells the device to write its cache out
    SelfTest,             // SEND DIAGNOSTIC: runs self-tests that scan and log
    AtaWrite,             // ATA PASS-THROUGH carrying an ATA command that writes or changes
    // Would move the medium: ILLEGAL REQUEST, MEDIUM REMOVAL PREVENTED (53h/02h).
    MediumRemoval,  // START STOP UNIT with LOEJ, LOAD/UNLOAD, MOVE MEDIUM
    // Not passed through: ILLEGAL REQUEST, INVALID COMMAND OPERATION CODE (20h/00h).
    NotNeeded,          // known, and reading does not need it
    DeviceTypeUnknown,  // passes for block or multimedia devices; the type is not known yet
    UnknownOpcode,      // reserved or vendor specific
    // Not passed through: ILLEGAL REQUEST, INVALID FIELD IN CDB (24h/00h).
    UnknownServiceAction,  // a service action the tables do not pass
    UnsupportedField,      // a field value the filter does not pass (a power condition)
    AtaNotAllowed,         // ATA PASS-THROUGH carrying a protocol or command not listed
    MalformedCdb,          // empty, or shorter than its command's CDB
};

inline constexpr std::size_t kReasonCount = static_cast<std::size_t>(Reason::MalformedCdb) + 1;

// A field the filter must read before it can decide.
enum class FieldCheck : std::uint8_t {
    None,
    ServiceAction,     // byte 1 bits 4..0 select a `ServiceActionEntry`
    VariableLength,    // 7Fh: bytes 8..9 select a `ServiceActionEntry`, byte 7 the length
    StartStopUnit,     // refuse LOEJ (load/eject) and power-condition changes
    LogSense,          // refuse SP (save parameters)
    AtaPassThrough12,  // SAT ATA PASS-THROUGH(12): protocol and command against `kAtaCommands`
    AtaPassThrough16,  // SAT ATA PASS-THROUGH(16)
};

// ---------------------------------------------------------------------------------------
// 2. Command sets
// ---------------------------------------------------------------------------------------

// Some opcodes mean different commands to different device types: A1h is ATA
// PASS-THROUGH(12) to a disk and BLANK to a CD/DVD writer; A3h is MAINTENANCE IN to a disk
// and SEND KEY (which can change a drive's region) to an optical drive. The filter
// therefore needs the peripheral device type from INQUIRY before it passes anything but
// the SPC commands whose meaning every device type shares.
enum class CommandSet : std::uint8_t {
    Unknown,     // before INQUIRY: TEST UNIT READY, REQUEST SENSE, INQUIRY, MODE SENSE,
                 // LOG SENSE, REPORT LUNS only
    Block,       // SBC direct access: disks, flash, card readers, zoned disks
    Multimedia,  // MMC: CD/DVD/BD drives
};

// The command set for the first byte of standard INQUIRY data (peripheral qualifier and
// peripheral device type). Anything but a connected block or MMC device stays Unknown.
constexpr CommandSet command_set_for_inquiry_byte0(std::uint8_t byte0) {
    if ((byte0 >> 5) != 0)  // qualifier: no device connected at this LUN
        return CommandSet::Unknown;
    switch (byte0 & 0x1F) {
        case 0x00:  // direct access block device
        case 0x04:  // write-once (SBC)
        case 0x07:  // optical memory (SBC)
        case 0x0E:  // simplified direct access (RBC)
        case 0x14:  // host-managed zoned block device (ZBC)
            return CommandSet::Block;
        case 0x05:  // CD/DVD (MMC)
            return CommandSet::Multimedia;
        default:
            return CommandSet::Unknown;
    }
}

// ---------------------------------------------------------------------------------------
// 3. The opcode tables
// ---------------------------------------------------------------------------------------

struct OpcodeEntry {
    const char* name = nullptr;  // T10 name; nullptr for reserved and vendor-specific codes
    CommandClass command_class = CommandClass::Forbidden;
    Reason reason = Reason::UnknownOpcode;
    std::uint8_t cdb_length = 0;  // bytes the filter needs; 0 when the group has no length
    FieldCheck check = FieldCheck::None;
    // For checked opcodes the class is that of the forms that can pass (READ(32) for 7Fh,
    // IDENTIFY and READ for ATA PASS-THROUGH); the decision reports the actual one.
};

// The CDB length of an operation code's group (SAM): 6, 10, 10, reserved, 16, 12, vendor.
constexpr std::uint8_t group_cdb_length(std::uint8_t opcode) {
    switch (opcode >> 5) {
        case 0:
            return 6;
        case 1:
        case 2:
            return 10;
        case 4:
            return 16;
        case 5:
            return 12;
        default:
            return 0;
    }
}

namespace opcode_detail {

struct Row {
    std::uint8_t opcode;
    OpcodeEntry entry;
};

constexpr Row info(std::uint8_t op, const char* name, FieldCheck check = FieldCheck::None) {
    return {op, {name, CommandClass::Information, Reason::Allowed, group_cdb_length(op), check}};
}
constexpr Row read(std::uint8_t op, const char* name, FieldCheck check = FieldCheck::None) {
    return {op, {name, CommandClass::Read, Reason::Allowed, group_cdb_length(op), check}};
}
constexpr Row refuse(std::uint8_t op, const char* name, Reason reason) {
    return {op, {name, CommandClass::Forbidden, reason, group_cdb_length(op), FieldCheck::None}};
}

using R = Reason;
using F = FieldCheck;

// SPC and SBC meanings, plus the opcodes only other device types define. Where another
// device type gives an opcode a meaning that writes (tape WRITE FILEMARKS at 10h), the
// reason follows that meaning; all of them are refused alike. 7Fh is the variable-length
// CDB, whose length is checked from byte 7.
inline constexpr Row kBlockRows[] = {
    // 00h-1Fh: six-byte CDBs
    info(0x00, "TEST UNIT READY"),
    refuse(0x01, "REZERO UNIT", R::NotNeeded),
    info(0x03, "REQUEST SENSE"),
    refuse(0x04, "FORMAT UNIT", R::Format),
    refuse(0x05, "READ BLOCK LIMITS", R::NotNeeded),
    refuse(0x07, "REASSIGN BLOCKS", R::Format),
    read(0x08, "READ(6)"),
    refuse(0x0A, "WRITE(6)", R::Write),
    refuse(0x0B, "SEEK(6)", R::ConfigurationChange),  // tape: SET CAPACITY
    refuse(0x0F, "READ REVERSE(6)", R::NotNeeded),
    refuse(0x10, "WRITE FILEMARKS(6)", R::Write),
    refuse(0x11, "SPACE(6)", R::NotNeeded),
    info(0x12, "INQUIRY"),
    refuse(0x13, "VERIFY(6)", R::NotNeeded),
    refuse(0x14, "RECOVER BUFFERED DATA", R::NotNeeded),
    refuse(0x15, "MODE SELECT(6)", R::ConfigurationChange),
    refuse(0x16, "RESERVE(6)", R::Reservation),
    refuse(0x17, "RELEASE(6)", R::Reservation),
    refuse(0x18, "COPY", R::Write),
    refuse(0x19, "ERASE(6)", R::Erase),
    info(0x1A, "MODE SENSE(6)"),
    info(0x1B, "START STOP UNIT", F::StartStopUnit),
    refuse(0x1C, "RECEIVE DIAGNOSTIC RESULTS", R::NotNeeded),
    refuse(0x1D, "SEND DIAGNOSTIC", R::SelfTest),
    refuse(0x1E, "PREVENT ALLOW MEDIUM REMOVAL", R::NotNeeded),
    // 20h-5Fh: ten-byte CDBs
    info(0x23, "READ FORMAT CAPACITIES"),
    refuse(0x24, "SET WINDOW", R::NotNeeded),
    info(0x25, "READ CAPACITY(10)"),
    read(0x28, "READ(10)"),
    refuse(0x29, "READ GENERATION", R::NotNeeded),
    refuse(0x2A, "WRITE(10)", R::Write),
    refuse(0x2B, "SEEK(10)", R::NotNeeded),
    refuse(0x2C, "ERASE(10)", R::Erase),
    refuse(0x2D, "READ UPDATED BLOCK", R::NotNeeded),
    refuse(0x2E, "WRITE AND VERIFY(10)", R::Write),
    refuse(0x2F, "VERIFY(10)", R::NotNeeded),
    refuse(0x30, "SEARCH DATA HIGH(10)", R::NotNeeded),
    refuse(0x31, "SEARCH DATA EQUAL(10)", R::NotNeeded),
    refuse(0x32, "SEARCH DATA LOW(10)", R::NotNeeded),
    refuse(0x33, "SET LIMITS(10)", R::NotNeeded),
    refuse(0x34, "PRE-FETCH(10)", R::NotNeeded),
    refuse(0x35, "SYNCHRONIZE CACHE(10)", R::CacheFlush),
    refuse(0x36, "LOCK UNLOCK CACHE(10)", R::NotNeeded),
    info(0x37, "READ DEFECT DATA(10)"),
    refuse(0x38, "MEDIUM SCAN", R::Format),  // also FORMAT WITH PRESET SCAN
    refuse(0x39, "COMPARE", R::NotNeeded),
    refuse(0x3A, "COPY AND VERIFY", R::Write),
    refuse(0x3B, "WRITE BUFFER", R::FirmwareUpdate),
    refuse(0x3C, "READ BUFFER(10)", R::NotNeeded),
    refuse(0x3D, "UPDATE BLOCK", R::Write),
    refuse(0x3E, "READ LONG(10)", R::NotNeeded),
    refuse(0x3F, "WRITE LONG(10)", R::Write),
    refuse(0x40, "CHANGE DEFINITION", R::ConfigurationChange),
    refuse(0x41, "WRITE SAME(10)", R::Write),
    refuse(0x42, "UNMAP", R::Unmap),
    refuse(0x43, "READ TOC/PMA/ATIP", R::NotNeeded),
    refuse(0x44, "REPORT DENSITY SUPPORT", R::NotNeeded),
    refuse(0x45, "PLAY AUDIO(10)", R::NotNeeded),
    refuse(0x46, "GET CONFIGURATION", R::NotNeeded),
    refuse(0x47, "PLAY AUDIO MSF", R::NotNeeded),
    refuse(0x48, "SANITIZE", R::Erase),
    refuse(0x4A, "GET EVENT STATUS NOTIFICATION", R::NotNeeded),
    refuse(0x4B, "PAUSE/RESUME", R::NotNeeded),
    refuse(0x4C, "LOG SELECT", R::ConfigurationChange),
    info(0x4D, "LOG SENSE", F::LogSense),
    refuse(0x4E, "STOP PLAY/SCAN", R::NotNeeded),
    refuse(0x50, "XDWRITE(10)", R::Write),
    refuse(0x51, "XPWRITE(10)", R::Write),
    refuse(0x52, "XDREAD(10)", R::NotNeeded),
    refuse(0x53, "XDWRITEREAD(10)", R::Write),
    refuse(0x54, "SEND OPC INFORMATION", R::ConfigurationChange),
    refuse(0x55, "MODE SELECT(10)", R::ConfigurationChange),
    refuse(0x56, "RESERVE(10)", R::Reservation),
    refuse(0x57, "RELEASE(10)", R::Reservation),
    refuse(0x58, "REPAIR TRACK", R::Write),
    info(0x5A, "MODE SENSE(10)"),
    refuse(0x5B, "CLOSE TRACK/SESSION", R::Write),
    refuse(0x5C, "READ BUFFER CAPACITY", R::NotNeeded),
    refuse(0x5D, "SEND CUE SHEET", R::Write),
    refuse(0x5E, "PERSISTENT RESERVE IN", R::NotNeeded),
    refuse(0x5F, "PERSISTENT RESERVE OUT", R::Reservation),
    // 60h-7Fh: reserved group, but for the extended and variable-length CDBs
    refuse(0x7E, "EXTENDED CDB", R::NotNeeded),
    {0x7F, {"VARIABLE LENGTH CDB", CommandClass::Read, R::Allowed, 10, F::VariableLength}},
    // 80h-9Fh: sixteen-byte CDBs
    refuse(0x80, "XDWRITE EXTENDED(16)", R::Write),  // tape: WRITE FILEMARKS(16)
    refuse(0x81, "REBUILD(16)", R::Write),
    refuse(0x82, "REGENERATE(16)", R::NotNeeded),
    refuse(0x83, "THIRD-PARTY COPY OUT", R::Write),
    refuse(0x84, "THIRD-PARTY COPY IN", R::NotNeeded),
    read(0x85, "ATA PASS-THROUGH(16)", F::AtaPassThrough16),
    refuse(0x86, "ACCESS CONTROL IN", R::NotNeeded),
    refuse(0x87, "ACCESS CONTROL OUT", R::SecurityChange),
    read(0x88, "READ(16)"),
    refuse(0x89, "COMPARE AND WRITE", R::Write),
    refuse(0x8A, "WRITE(16)", R::Write),
    refuse(0x8B, "ORWRITE(16)", R::Write),
    refuse(0x8C, "READ ATTRIBUTE", R::NotNeeded),
    refuse(0x8D, "WRITE ATTRIBUTE", R::Write),
    refuse(0x8E, "WRITE AND VERIFY(16)", R::Write),
    refuse(0x8F, "VERIFY(16)", R::NotNeeded),
    refuse(0x90, "PRE-FETCH(16)", R::NotNeeded),
    refuse(0x91, "SYNCHRONIZE CACHE(16)", R::CacheFlush),
    refuse(0x92, "LOCK UNLOCK CACHE(16)", R::NotNeeded),
    refuse(0x93, "WRITE SAME(16)", R::Write),
    refuse(0x94, "ZBC OUT", R::Erase),  // RESET WRITE POINTER discards zone contents
    info(0x95, "ZBC IN", F::ServiceAction),
    refuse(0x9A, "WRITE STREAM(16)", R::Write),
    refuse(0x9B, "READ BUFFER(16)", R::NotNeeded),
    refuse(0x9C, "WRITE ATOMIC(16)", R::Write),
    refuse(0x9D, "SERVICE ACTION BIDIRECTIONAL", R::NotNeeded),
    info(0x9E, "SERVICE ACTION IN(16)", F::ServiceAction),
    refuse(0x9F, "SERVICE ACTION OUT(16)", R::Write),  // WRITE LONG(16), WRITE SCATTERED
    // A0h-BFh: twelve-byte CDBs
    info(0xA0, "REPORT LUNS"),
    read(0xA1, "ATA PASS-THROUGH(12)", F::AtaPassThrough12),
    refuse(0xA2, "SECURITY PROTOCOL IN", R::NotNeeded),
    info(0xA3, "MAINTENANCE IN", F::ServiceAction),
    refuse(0xA4, "MAINTENANCE OUT", R::ConfigurationChange),
    refuse(0xA5, "MOVE MEDIUM", R::MediumRemoval),
    refuse(0xA6, "EXCHANGE MEDIUM", R::MediumRemoval),
    refuse(0xA7, "MOVE MEDIUM ATTACHED", R::MediumRemoval),
    read(0xA8, "READ(12)"),
    refuse(0xA9, "SERVICE ACTION OUT(12)", R::ConfigurationChange),
    refuse(0xAA, "WRITE(12)", R::Write),
    info(0xAB, "SERVICE ACTION IN(12)", F::ServiceAction),
    refuse(0xAC, "ERASE(12)", R::Erase),
    refuse(0xAD, "READ DVD/BD STRUCTURE", R::NotNeeded),
    refuse(0xAE, "WRITE AND VERIFY(12)", R::Write),
    refuse(0xAF, "VERIFY(12)", R::NotNeeded),
    refuse(0xB0, "SEARCH DATA HIGH(12)", R::NotNeeded),
    refuse(0xB1, "SEARCH DATA EQUAL(12)", R::MediumRemoval),  // changer: OPEN/CLOSE ELEMENT
    refuse(0xB2, "SEARCH DATA LOW(12)", R::NotNeeded),
    refuse(0xB3, "SET LIMITS(12)", R::NotNeeded),
    refuse(0xB4, "READ ELEMENT STATUS ATTACHED", R::NotNeeded),
    refuse(0xB5, "SECURITY PROTOCOL OUT", R::SecurityChange),
    refuse(0xB6, "SEND VOLUME TAG", R::ConfigurationChange),
    info(0xB7, "READ DEFECT DATA(12)"),
    refuse(0xB8, "READ ELEMENT STATUS", R::NotNeeded),
    refuse(0xB9, "READ CD MSF", R::NotNeeded),
    refuse(0xBA, "REDUNDANCY GROUP (IN)", R::NotNeeded),
    refuse(0xBB, "REDUNDANCY GROUP (OUT)", R::ConfigurationChange),
    refuse(0xBC, "SPARE (IN)", R::NotNeeded),
    refuse(0xBD, "SPARE (OUT)", R::ConfigurationChange),
    refuse(0xBE, "VOLUME SET (IN)", R::NotNeeded),
    refuse(0xBF, "VOLUME SET (OUT)", R::ConfigurationChange),
    // C0h-FFh: vendor specific, refused by default.
};

// Where MMC gives an opcode another meaning, or defines one the block set does not need.
inline constexpr Row kMultimediaRows[] = {
    refuse(0x42, "READ SUB-CHANNEL", R::NotNeeded),
    info(0x43, "READ TOC/PMA/ATIP"),
    refuse(0x44, "READ HEADER", R::NotNeeded),
    info(0x46, "GET CONFIGURATION"),
    info(0x4A, "GET EVENT STATUS NOTIFICATION"),
    info(0x51, "READ DISC INFORMATION"),
    info(0x52, "READ TRACK INFORMATION"),
    refuse(0x53, "RESERVE TRACK", R::Write),
    refuse(0xA1, "BLANK", R::Erase),
    refuse(0xA2, "SEND EVENT", R::ConfigurationChange),
    refuse(0xA3, "SEND KEY", R::ConfigurationChange),  // can set the drive's region
    refuse(0xA4, "REPORT KEY", R::NotNeeded),
    refuse(0xA5, "PLAY AUDIO(12)", R::NotNeeded),
    refuse(0xA6, "LOAD/UNLOAD MEDIUM", R::MediumRemoval),
    refuse(0xA7, "SET READ AHEAD", R::NotNeeded),
    refuse(0xAC, "GET PERFORMANCE", R::NotNeeded),
    info(0xAD, "READ DVD/BD STRUCTURE"),
    refuse(0xB6, "SET STREAMING", R::ConfigurationChange),
    read(0xB9, "READ CD MSF"),
    refuse(0xBA, "SCAN", R::NotNeeded),
    refuse(0xBB, "SET CD SPEED", R::ConfigurationChange),
    info(0xBD, "MECHANISM STATUS"),
    read(0xBE, "READ CD"),
    refuse(0xBF, "SEND DVD/BD STRUCTURE", R::Write),
};

// The SPC commands that pass before the device type is known: each means the same to
// every device type and none of them changes anything.
inline constexpr std::uint8_t kIdentifyOpcodes[] = {0x00, 0x03, 0x12, 0x1A, 0x4D, 0x5A, 0xA0};

// True when the rows are in ascending opcode order without repeats.
template <std::size_t N>
constexpr bool rows_are_ordered(const Row (&rows)[N]) {
    for (std::size_t i = 1; i < N; ++i)
        if (rows[i - 1].opcode >= rows[i].opcode) return false;
    return true;
}

constexpr void apply_rows(std::array<OpcodeEntry, 256>& table, const Row* rows, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i)
        table[rows[i].opcode] = rows[i].entry;
}

constexpr std::array<OpcodeEntry, 256> unassigned_table() {
    std::array<OpcodeEntry, 256> table{};
    for (std::size_t op = 0; op < table.size(); ++op)
        table[op] = {nullptr, CommandClass::Forbidden, Reason::UnknownOpcode,
                     group_cdb_length(static_cast<std::uint8_t>(op)), FieldCheck::None};
    return table;
}

constexpr std::array<OpcodeEntry, 256> block_table() {
    auto table = unassigned_table();
    apply_rows(table, kBlockRows, std::size(kBlockRows));
    return table;
}

constexpr std::array<OpcodeEntry, 256> multimedia_table() {
    auto table = block_table();
    apply_rows(table, kMultimediaRows, std::size(kMultimediaRows));
    return table;
}

constexpr std::array<OpcodeEntry, 256> identify_table() {
    auto table = block_table();
    for (auto& entry : table) {
        if (entry.command_class != CommandClass::Forbidden) {
            entry.command_class = CommandClass::Forbidden;
            entry.reason = Reason::DeviceTypeUnknown;
            entry.check = FieldCheck::None;
        }
    }
    for (std::uint8_t op : kIdentifyOpcodes)
        table[op] = block_table()[op];
    return table;
}

static_assert(rows_are_ordered(kBlockRows));
static_assert(rows_are_ordered(kMultimediaRows));

}  // namespace opcode_detail

inline constexpr std::array<OpcodeEntry, 256> kBlockOpcodes = opcode_detail::block_table();
inline constexpr std::array<OpcodeEntry, 256> kMultimediaOpcodes =
    opcode_detail::multimedia_table();
inline constexpr std::array<OpcodeEntry, 256> kIdentifyOnlyOpcodes =
    opcode_detail::identify_table();

// ---------------------------------------------------------------------------------------
// 4. Service actions
// ---------------------------------------------------------------------------------------

// The service actions of the opcodes whose table entry has `FieldCheck::ServiceAction` or
// `FieldCheck::VariableLength`. A service action not listed is refused
// (UnknownServiceAction): SERVICE ACTION IN(16) alone holds REMOVE ELEMENT AND TRUNCATE.
struct ServiceActionEntry {
    std::uint8_t opcode = 0;
    std::uint16_t service_action = 0;
    const char* name = nullptr;
    CommandClass command_class = CommandClass::Forbidden;
    Reason reason = Reason::UnknownServiceAction;
    std::uint8_t cdb_length = 0;
};

namespace opcode_detail {
constexpr ServiceActionEntry sa_info(std::uint8_t op, std::uint16_t sa, const char* name,
                                     std::uint8_t length) {
    return {op, sa, name, CommandClass::Information, Reason::Allowed, length};
}
constexpr ServiceActionEntry sa_read(std::uint8_t op, std::uint16_t sa, const char* name,
                                     std::uint8_t length) {
    return {op, sa, name, CommandClass::Read, Reason::Allowed, length};
}
constexpr ServiceActionEntry sa_refuse(std::uint8_t op, std::uint16_t sa, const char* name,
                                       Reason reason, std::uint8_t length) {
    return {op, sa, name, CommandClass::Forbidden, reason, length};
}
}  // namespace opcode_detail

inline constexpr ServiceActionEntry kServiceActions[] = {
    // 7Fh VARIABLE LENGTH CDB: service action in bytes 8..9.
    opcode_detail::sa_refuse(0x7F, 0x0003, "XDREAD(32)", Reason::NotNeeded, 32),
    opcode_detail::sa_refuse(0x7F, 0x0004, "XDWRITE(32)", Reason::Write, 32),
    opcode_detail::sa_refuse(0x7F, 0x0006, "XPWRITE(32)", Reason::Write, 32),
    opcode_detail::sa_refuse(0x7F, 0x0007, "XDWRITEREAD(32)", Reason::Write, 32),
    opcode_detail::sa_read(0x7F, 0x0009, "READ(32)", 32),
    opcode_detail::sa_refuse(0x7F, 0x000A, "VERIFY(32)", Reason::NotNeeded, 32),
    opcode_detail::sa_refuse(0x7F, 0x000B, "WRITE(32)", Reason::Write, 32),
    opcode_detail::sa_refuse(0x7F, 0x000C, "WRITE AND VERIFY(32)", Reason::Write, 32),
    opcode_detail::sa_refuse(0x7F, 0x000D, "WRITE SAME(32)", Reason::Write, 32),
    opcode_detail::sa_refuse(0x7F, 0x000E, "ORWRITE(32)", Reason::Write, 32),
    opcode_detail::sa_refuse(0x7F, 0x000F, "ATOMIC WRITE(32)", Reason::Write, 32),
    opcode_detail::sa_refuse(0x7F, 0x0010, "WRITE STREAM(32)", Reason::Write, 32),
    opcode_detail::sa_refuse(0x7F, 0x0011, "WRITE SCATTERED(32)", Reason::Write, 32),
    opcode_detail::sa_info(0x7F, 0x0012, "GET LBA STATUS(32)", 32),
    opcode_detail::sa_refuse(0x7F, 0x1FF0, "ATA PASS-THROUGH(32)", Reason::NotNeeded, 32),
    // 95h ZBC IN
    opcode_detail::sa_info(0x95, 0x00, "REPORT ZONES", 16),
    opcode_detail::sa_refuse(0x95, 0x06, "REPORT REALMS", Reason::NotNeeded, 16),
    opcode_detail::sa_refuse(0x95, 0x07, "REPORT ZONE DOMAINS", Reason::NotNeeded, 16),
    opcode_detail::sa_refuse(0x95, 0x08, "ZONE ACTIVATE", Reason::Format, 16),
    opcode_detail::sa_refuse(0x95, 0x09, "ZONE QUERY", Reason::NotNeeded, 16),
    // 9Eh SERVICE ACTION IN(16)
    opcode_detail::sa_refuse(0x9E, 0x0F, "RECEIVE BINDING REPORT", Reason::NotNeeded, 16),
    opcode_detail::sa_info(0x9E, 0x10, "READ CAPACITY(16)", 16),
    opcode_detail::sa_refuse(0x9E, 0x11, "READ LONG(16)", Reason::NotNeeded, 16),
    opcode_detail::sa_info(0x9E, 0x12, "GET LBA STATUS(16)", 16),
    opcode_detail::sa_refuse(0x9E, 0x13, "REPORT REFERRALS", Reason::NotNeeded, 16),
    opcode_detail::sa_refuse(0x9E, 0x14, "STREAM CONTROL", Reason::ConfigurationChange, 16),
    opcode_detail::sa_refuse(0x9E, 0x15, "BACKGROUND CONTROL", Reason::ConfigurationChange, 16),
    opcode_detail::sa_refuse(0x9E, 0x16, "GET STREAM STATUS", Reason::NotNeeded, 16),
    opcode_detail::sa_refuse(0x9E, 0x17, "GET PHYSICAL ELEMENT STATUS", Reason::NotNeeded, 16),
    opcode_detail::sa_refuse(0x9E, 0x18, "REMOVE ELEMENT AND TRUNCATE", Reason::Format, 16),
    opcode_detail::sa_refuse(0x9E, 0x19, "RESTORE ELEMENTS AND REBUILD", Reason::Format, 16),
    opcode_detail::sa_refuse(0x9E, 0x1A, "REMOVE ELEMENT AND MODIFY ZONES", Reason::Format, 16),
    // A3h MAINTENANCE IN: the reports pass; MANAGEMENT PROTOCOL IN carries an opaque
    // protocol and does not.
    opcode_detail::sa_info(0xA3, 0x05, "REPORT IDENTIFYING INFORMATION", 12),
    opcode_detail::sa_info(0xA3, 0x0A, "REPORT TARGET PORT GROUPS", 12),
    opcode_detail::sa_refuse(0xA3, 0x0B, "REPORT ALIASES", Reason::NotNeeded, 12),
    opcode_detail::sa_info(0xA3, 0x0C, "REPORT SUPPORTED OPERATION CODES", 12),
    opcode_detail::sa_info(0xA3, 0x0D, "REPORT SUPPORTED TASK MANAGEMENT FUNCTIONS", 12),
    opcode_detail::sa_refuse(0xA3, 0x0E, "REPORT PRIORITY", Reason::NotNeeded, 12),
    opcode_detail::sa_info(0xA3, 0x0F, "REPORT TIMESTAMP", 12),
    opcode_detail::sa_refuse(0xA3, 0x10, "MANAGEMENT PROTOCOL IN", Reason::NotNeeded, 12),
    // ABh SERVICE ACTION IN(12)
    opcode_detail::sa_info(0xAB, 0x01, "READ MEDIA SERIAL NUMBER", 12),
};

// ---------------------------------------------------------------------------------------
// 5. ATA commands carried by ATA PASS-THROUGH (SAT)
// ---------------------------------------------------------------------------------------

// SAT PROTOCOL field values (byte 1 bits 4..1 of both pass-through CDBs).
enum class AtaProtocol : std::uint8_t {
    HardwareReset = 0x0,
    SoftwareReset = 0x1,
    NonData = 0x3,
    PioDataIn = 0x4,
    PioDataOut = 0x5,
    Dma = 0x6,
    DeviceDiagnostic = 0x8,
    UdmaDataIn = 0xA,
    UdmaDataOut = 0xB,
    Fpdma = 0xC,
    ReturnResponseInformation = 0xF,
};

constexpr std::uint16_t ata_protocol_bit(AtaProtocol p) {
    return static_cast<std::uint16_t>(1u << static_cast<unsigned>(p));
}

inline constexpr std::uint16_t kAtaPioIn = ata_protocol_bit(AtaProtocol::PioDataIn);
inline constexpr std::uint16_t kAtaDmaIn =
    ata_protocol_bit(AtaProtocol::Dma) | ata_protocol_bit(AtaProtocol::UdmaDataIn);
inline constexpr std::uint16_t kAtaNonData = ata_protocol_bit(AtaProtocol::NonData);

// One ATA command, optionally narrowed to one FEATURE value (SMART, DCO and ACCESSIBLE MAX
// ADDRESS CONFIGURATION are one command code with sub-commands in FEATURE). The first
// matching entry decides; a command not listed is refused (AtaNotAllowed).
struct AtaCommandEntry {
    std::uint8_t command = 0;
    std::int32_t feature = -1;  // -1: any
    const char* name = nullptr;
    CommandClass command_class = CommandClass::Forbidden;
    Reason reason = Reason::AtaNotAllowed;
    std::uint16_t protocols = 0;  // `ata_protocol_bit`s the command may use when allowed
};

namespace opcode_detail {
constexpr AtaCommandEntry ata_info(std::uint8_t cmd, std::int32_t feature, const char* name,
                                   std::uint16_t protocols) {
    return {cmd, feature, name, CommandClass::Information, Reason::Allowed, protocols};
}
constexpr AtaCommandEntry ata_read(std::uint8_t cmd, const char* name, std::uint16_t protocols) {
    return {cmd, -1, name, CommandClass::Read, Reason::Allowed, protocols};
}
constexpr AtaCommandEntry ata_write(std::uint8_t cmd, const char* name) {
    return {cmd, -1, name, CommandClass::Forbidden, Reason::AtaWrite, 0};
}
}  // namespace opcode_detail

inline constexpr AtaCommandEntry kAtaCommands[] = {
    // Identify and read: what an imager needs, including HPA/DCO detection.
    opcode_detail::ata_info(0xEC, -1, "IDENTIFY DEVICE", kAtaPioIn),
    opcode_detail::ata_info(0xA1, -1, "IDENTIFY PACKET DEVICE", kAtaPioIn),
    opcode_detail::ata_read(0x20, "READ SECTORS", kAtaPioIn),
    opcode_detail::ata_read(0x24, "READ SECTORS EXT", kAtaPioIn),
    opcode_detail::ata_read(0xC4, "READ MULTIPLE", kAtaPioIn),
    opcode_detail::ata_read(0x29, "READ MULTIPLE EXT", kAtaPioIn),
    opcode_detail::ata_read(0xC8, "READ DMA", kAtaDmaIn),
    opcode_detail::ata_read(0x25, "READ DMA EXT", kAtaDmaIn),
    opcode_detail::ata_info(0x2F, -1, "READ LOG EXT", kAtaPioIn),
    opcode_detail::ata_info(0x47, -1, "READ LOG DMA EXT", kAtaDmaIn),
    opcode_detail::ata_info(0xF8, -1, "READ NATIVE MAX ADDRESS", kAtaNonData),
    opcode_detail::ata_info(0x27, -1, "READ NATIVE MAX ADDRESS EXT", kAtaNonData),
    opcode_detail::ata_info(0x78, 0x0000, "GET NATIVE MAX ADDRESS EXT", kAtaNonData),
    opcode_detail::ata_info(0xB0, 0xD0, "SMART READ DATA", kAtaPioIn),
    opcode_detail::ata_info(0xB0, 0xD5, "SMART READ LOG", kAtaPioIn),
    opcode_detail::ata_info(0xB0, 0xDA, "SMART RETURN STATUS", kAtaNonData),
    opcode_detail::ata_info(0xB1, 0xC2, "DEVICE CONFIGURATION IDENTIFY", kAtaPioIn),
    opcode_detail::ata_info(0xE5, -1, "CHECK POWER MODE", kAtaNonData),
    // Commands that write the medium or change what the device reports later.
    opcode_detail::ata_write(0x06, "DATA SET MANAGEMENT"),  // TRIM
    opcode_detail::ata_write(0x07, "DATA SET MANAGEMENT XL"),
    opcode_detail::ata_write(0x30, "WRITE SECTORS"),
    opcode_detail::ata_write(0x31, "WRITE SECTORS WITHOUT RETRY"),
    opcode_detail::ata_write(0x32, "WRITE LONG"),
    opcode_detail::ata_write(0x33, "WRITE LONG WITHOUT RETRY"),
    opcode_detail::ata_write(0x34, "WRITE SECTORS EXT"),
    opcode_detail::ata_write(0x35, "WRITE DMA EXT"),
    opcode_detail::ata_write(0x36, "WRITE DMA QUEUED EXT"),
    opcode_detail::ata_write(0x37, "SET MAX ADDRESS EXT"),
    opcode_detail::ata_write(0x38, "CFA WRITE SECTORS WITHOUT ERASE"),
    opcode_detail::ata_write(0x39, "WRITE MULTIPLE EXT"),
    opcode_detail::ata_write(0x3A, "WRITE STREAM DMA EXT"),
    opcode_detail::ata_write(0x3B, "WRITE STREAM EXT"),
    opcode_detail::ata_write(0x3C, "WRITE VERIFY"),
    opcode_detail::ata_write(0x3D, "WRITE DMA FUA EXT"),
    opcode_detail::ata_write(0x3E, "WRITE DMA QUEUED FUA EXT"),
    opcode_detail::ata_write(0x3F, "WRITE LOG EXT"),
    opcode_detail::ata_write(0x45, "WRITE UNCORRECTABLE EXT"),
    opcode_detail::ata_write(0x57, "WRITE LOG DMA EXT"),
    opcode_detail::ata_write(0x5E, "TRUSTED SEND"),
    opcode_detail::ata_write(0x5F, "TRUSTED SEND DMA"),
    opcode_detail::ata_write(0x61, "WRITE FPDMA QUEUED"),
    opcode_detail::ata_write(0x64, "SEND FPDMA QUEUED"),
    opcode_detail::ata_write(0x77, "SET DATE & TIME EXT"),
    opcode_detail::ata_write(0x78, "ACCESSIBLE MAX ADDRESS CONFIGURATION"),
    opcode_detail::ata_write(0x92, "DOWNLOAD MICROCODE"),
    opcode_detail::ata_write(0x93, "DOWNLOAD MICROCODE DMA"),
    opcode_detail::ata_write(0xB0, "SMART"),  // SAVE ATTRIBUTES, OFF-LINE, WRITE LOG, ...
    opcode_detail::ata_write(0xB1, "DEVICE CONFIGURATION OVERLAY"),
    opcode_detail::ata_write(0xB4, "SANITIZE DEVICE"),
    opcode_detail::ata_write(0xC0, "CFA ERASE SECTORS"),
    opcode_detail::ata_write(0xC5, "WRITE MULTIPLE"),
    opcode_detail::ata_write(0xC6, "SET MULTIPLE MODE"),
    opcode_detail::ata_write(0xCA, "WRITE DMA"),
    opcode_detail::ata_write(0xCB, "WRITE DMA WITHOUT RETRY"),
    opcode_detail::ata_write(0xCC, "WRITE DMA QUEUED"),
    opcode_detail::ata_write(0xCD, "CFA WRITE MULTIPLE WITHOUT ERASE"),
    opcode_detail::ata_write(0xCE, "WRITE MULTIPLE FUA EXT"),
    opcode_detail::ata_write(0xE7, "FLUSH CACHE"),
    opcode_detail::ata_write(0xE8, "WRITE BUFFER"),
    opcode_detail::ata_write(0xEA, "FLUSH CACHE EXT"),
    opcode_detail::ata_write(0xEF, "SET FEATURES"),
    opcode_detail::ata_write(0xF1, "SECURITY SET PASSWORD"),
    opcode_detail::ata_write(0xF2, "SECURITY UNLOCK"),
    opcode_detail::ata_write(0xF3, "SECURITY ERASE PREPARE"),
    opcode_detail::ata_write(0xF4, "SECURITY ERASE UNIT"),
    opcode_detail::ata_write(0xF5, "SECURITY FREEZE LOCK"),
    opcode_detail::ata_write(0xF6, "SECURITY DISABLE PASSWORD"),
    opcode_detail::ata_write(0xF9, "SET MAX ADDRESS"),
};

// ---------------------------------------------------------------------------------------
// 6. Lookups
// ---------------------------------------------------------------------------------------

constexpr const std::array<OpcodeEntry, 256>& opcode_table(CommandSet set) {
    switch (set) {
        case CommandSet::Block:
            return kBlockOpcodes;
        case CommandSet::Multimedia:
            return kMultimediaOpcodes;
        case CommandSet::Unknown:
            break;
    }
    return kIdentifyOnlyOpcodes;
}

constexpr const OpcodeEntry& opcode_entry(std::uint8_t opcode, CommandSet set) {
    return opcode_table(set)[opcode];
}

// nullptr when `opcode` does not list `service_action`.
constexpr const ServiceActionEntry* find_service_action(std::uint8_t opcode,
                                                        std::uint16_t service_action) {
    for (const auto& e : kServiceActions)
        if (e.opcode == opcode && e.service_action == service_action) return &e;
    return nullptr;
}

// The first entry for `command` whose feature matches; nullptr when none does.
constexpr const AtaCommandEntry* find_ata_command(std::uint8_t command, std::uint16_t feature) {
    for (const auto& e : kAtaCommands)
        if (e.command == command && (e.feature < 0 || e.feature == feature)) return &e;
    return nullptr;
}

}  // namespace exhibit::firmware
