#include "exhibit/firmware/scsi_filter.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <set>
#include <string>
#include <vector>

using namespace exhibit::firmware;

namespace {

using Bytes = std::vector<std::uint8_t>;

// The allow-lists, written out independently of the tables they check.
const std::set<int> kAllowedBlock = {0x00, 0x03, 0x08, 0x12, 0x1A, 0x1B, 0x23, 0x25,
                                     0x28, 0x37, 0x4D, 0x5A, 0x7F, 0x85, 0x88, 0x95,
                                     0x9E, 0xA0, 0xA1, 0xA3, 0xA8, 0xAB, 0xB7};
const std::set<int> kAllowedMultimedia = {
    0x00, 0x03, 0x08, 0x12, 0x1A, 0x1B, 0x23, 0x25, 0x28, 0x37, 0x43, 0x46, 0x4A, 0x4D, 0x51,
    0x52, 0x5A, 0x7F, 0x85, 0x88, 0x95, 0x9E, 0xA0, 0xA8, 0xAB, 0xAD, 0xB7, 0xB9, 0xBD, 0xBE};
const std::set<int> kAllowedUnknown = {0x00, 0x03, 0x12, 0x1A, 0x4D, 0x5A, 0xA0};

const std::set<int>& allowed_for(CommandSet set) {
    switch (set) {
        case CommandSet::Block:
            return kAllowedBlock;
        case CommandSet::Multimedia:
            return kAllowedMultimedia;
        case CommandSet::Unknown:
            break;
    }
    return kAllowedUnknown;
}

// The CDB length the tests use for an opcode: its group length, 16 where the group has
// none, 32 for the variable-length CDB.
std::size_t test_length(std::uint8_t op) {
    if (op == 0x7F) return 32;
    const std::size_t n = group_cdb_length(op);
    return n == 0 ? 16 : n;
}

// A CDB of `op`'s length filled with `fill`, then the opcode, then `fields`
// ({byte, value} pairs).
Bytes cdb(std::uint8_t op, std::initializer_list<std::pair<int, std::uint8_t>> fields = {},
          std::uint8_t fill = 0x00) {
    Bytes b(test_length(op), fill);
    b[0] = op;
    for (auto [at, value] : fields)
        b[static_cast<std::size_t>(at)] = value;
    return b;
}

// A form of `op` that should pass where `op` is allowed: service-action opcodes get an
// allowed service action, ATA PASS-THROUGH carries IDENTIFY DEVICE.
Bytes representative(std::uint8_t op) {
    switch (op) {
        case 0x7F:  // READ(32)
            return cdb(op, {{7, 0x18}, {8, 0x00}, {9, 0x09}});
        case 0x9E:  // READ CAPACITY(16)
            return cdb(op, {{1, 0x10}});
        case 0xA3:  // REPORT SUPPORTED OPERATION CODES
            return cdb(op, {{1, 0x0C}});
        case 0xAB:  // READ MEDIA SERIAL NUMBER
            return cdb(op, {{1, 0x01}});
        case 0x95:  // REPORT ZONES
            return cdb(op, {{1, 0x00}});
        case 0x85:  // IDENTIFY DEVICE, PIO Data-In, from device
            return cdb(op, {{1, 0x08}, {2, 0x0E}, {14, 0xEC}});
        case 0xA1:
            return cdb(op, {{1, 0x08}, {2, 0x0E}, {9, 0xEC}});
        default:
            return cdb(op);
    }
}

Bytes ata16(std::uint8_t protocol, std::uint8_t command, bool from_device = true,
            std::uint16_t feature = 0, bool extend = false) {
    Bytes b(16, 0);
    b[0] = 0x85;
    b[1] = static_cast<std::uint8_t>((protocol << 1) | (extend ? 1 : 0));
    b[2] =
        static_cast<std::uint8_t>((from_device ? 0x08 : 0x00) | 0x06);  // BYTE_BLOCK, SECTOR_COUNT
    b[3] = static_cast<std::uint8_t>(feature >> 8);
    b[4] = static_cast<std::uint8_t>(feature);
    b[6] = 1;      // count
    b[13] = 0x40;  // device: LBA
    b[14] = command;
    return b;
}

Bytes ata12(std::uint8_t protocol, std::uint8_t command, bool from_device = true,
            std::uint8_t feature = 0) {
    Bytes b(12, 0);
    b[0] = 0xA1;
    b[1] = static_cast<std::uint8_t>(protocol << 1);
    b[2] = static_cast<std::uint8_t>((from_device ? 0x08 : 0x00) | 0x06);
    b[3] = feature;
    b[4] = 1;
    b[8] = 0x40;
    b[9] = command;
    return b;
}

FilterDecision block(const Bytes& b) {
    return evaluate_cdb(b, CommandSet::Block);
}

void require_refused(const FilterDecision& d, Reason reason) {
    INFO(d.name << " reason " << to_string(d.reason));
    REQUIRE_FALSE(d.passed());
    REQUIRE(d.command_class == CommandClass::Forbidden);
    REQUIRE(d.status == kStatusCheckCondition);
    REQUIRE(d.reason == reason);
}

void require_write_protected(const FilterDecision& d, Reason reason) {
    require_refused(d, reason);
    REQUIRE(d.sense_key() == kSenseKeyDataProtect);
    REQUIRE(d.asc() == 0x27);
    REQUIRE(d.ascq() == 0x00);
}

}  // namespace

// The tables are usable at compile time.
static_assert(opcode_entry(0x28, CommandSet::Block).command_class == CommandClass::Read);
static_assert(opcode_entry(0x2A, CommandSet::Block).reason == Reason::Write);
static_assert(opcode_entry(0x28, CommandSet::Unknown).reason == Reason::DeviceTypeUnknown);
static_assert(opcode_entry(0xA1, CommandSet::Multimedia).reason == Reason::Erase);
static_assert(find_service_action(0x9E, 0x10)->command_class == CommandClass::Information);
static_assert(find_ata_command(0x35, 0)->reason == Reason::AtaWrite);

TEST_CASE("the opcode tables allow exactly the reading commands", "[firmware][scsi]") {
    for (CommandSet set : {CommandSet::Block, CommandSet::Multimedia, CommandSet::Unknown}) {
        const auto& allowed = allowed_for(set);
        for (int op = 0; op < 256; ++op) {
            const OpcodeEntry& e = opcode_entry(static_cast<std::uint8_t>(op), set);
            INFO("set " << to_string(set) << " opcode " << op);
            CHECK((e.command_class != CommandClass::Forbidden) == (allowed.count(op) == 1));
            if (e.command_class == CommandClass::Forbidden)
                CHECK(e.reason != Reason::Allowed);
            else
                CHECK(e.reason == Reason::Allowed);
            if (allowed.count(op) == 1) CHECK(e.name != nullptr);
        }
    }
}

TEST_CASE("table test over all 256 opcodes: only the allowed ones pass", "[firmware][scsi]") {
    for (CommandSet set : {CommandSet::Block, CommandSet::Multimedia, CommandSet::Unknown}) {
        const auto& allowed = allowed_for(set);
        ScsiFilter filter(set);
        int passed = 0;
        for (int op = 0; op < 256; ++op) {
            const auto b = representative(static_cast<std::uint8_t>(op));
            const FilterDecision d = filter.decide(b);
            INFO("set " << to_string(set) << " opcode " << op << " " << d.name << " "
                        << to_string(d.reason));
            CHECK(d.passed() == (allowed.count(op) == 1));
            CHECK(d.opcode == op);
            CHECK(d.name != nullptr);
            CHECK(std::string(d.name).size() > 0);
            passed += d.passed() ? 1 : 0;
        }
        CHECK(passed == static_cast<int>(allowed.size()));
        CHECK(filter.counters().decided == 256);
        CHECK(filter.counters().passed == allowed.size());
        CHECK(filter.counters().refused == 256 - allowed.size());
    }
}

TEST_CASE("no field value makes a forbidden opcode pass", "[firmware][scsi]") {
    for (CommandSet set : {CommandSet::Block, CommandSet::Multimedia, CommandSet::Unknown}) {
        const auto& allowed = allowed_for(set);
        for (int op = 0; op < 256; ++op) {
            if (allowed.count(op) == 1) continue;
            for (std::uint8_t fill : {0x00, 0x01, 0x55, 0xAA, 0xFF}) {
                const auto d = evaluate_cdb(cdb(static_cast<std::uint8_t>(op), {}, fill), set);
                INFO("set " << to_string(set) << " opcode " << op << " fill " << int(fill));
                CHECK_FALSE(d.passed());
            }
        }
    }
}

TEST_CASE("random CDBs pass only allowed opcodes and ATA reads", "[firmware][scsi]") {
    std::uint32_t state = 0x12345678u;
    auto next = [&state] {
        state = state * 1664525u + 1013904223u;
        return static_cast<std::uint8_t>(state >> 24);
    };
    for (int i = 0; i < 200000; ++i) {
        const std::size_t n = next() % 33;
        Bytes b(n);  // exactly n bytes, so the sanitizer catches any read beyond
        for (auto& x : b)
            x = next();
        // Bias towards the checked opcodes so their fields get exercised.
        if (n > 0 && (i & 3) == 0) {
            static constexpr std::uint8_t kChecked[] = {0x1B, 0x4D, 0x7F, 0x85, 0x95,
                                                        0x9E, 0xA1, 0xA3, 0xAB};
            b[0] = kChecked[next() % std::size(kChecked)];
        }
        const auto set = static_cast<CommandSet>(next() % 3);
        const auto d = evaluate_cdb(b, set);
        if (!d.passed()) continue;
        INFO("opcode " << int(b[0]) << " length " << n);
        REQUIRE(allowed_for(set).count(b[0]) == 1);
        if (b[0] == 0x85 || b[0] == 0xA1) {
            const std::uint8_t command = b[0] == 0x85 ? b[14] : b[9];
            const auto* ata = find_ata_command(command, 0);
            REQUIRE(d.ata_command != nullptr);
            REQUIRE(((ata != nullptr && ata->command_class != CommandClass::Forbidden) ||
                     command == 0xB0 || command == 0xB1 || command == 0x78));
        }
        if (b[0] == 0x1B) REQUIRE((b[4] & 0xF2) == 0);
        if (b[0] == 0x4D) REQUIRE((b[1] & 0x01) == 0);
    }
}

TEST_CASE("allowed commands pass with their class", "[firmware][scsi]") {
    struct Case {
        const char* what;
        Bytes bytes;
        CommandClass command_class;
    };
    const Case cases[] = {
        {"TEST UNIT READY", cdb(0x00), CommandClass::Information},
        {"REQUEST SENSE", cdb(0x03, {{4, 18}}), CommandClass::Information},
        {"INQUIRY", cdb(0x12, {{4, 36}}), CommandClass::Information},
        {"INQUIRY VPD 80h", cdb(0x12, {{1, 0x01}, {2, 0x80}, {4, 0xFF}}),
         CommandClass::Information},
        {"INQUIRY VPD 83h", cdb(0x12, {{1, 0x01}, {2, 0x83}, {4, 0xFF}}),
         CommandClass::Information},
        {"READ(6)", cdb(0x08, {{4, 1}}), CommandClass::Read},
        {"READ(10)", cdb(0x28, {{8, 8}}), CommandClass::Read},
        {"READ(10) FUA", cdb(0x28, {{1, 0x08}, {8, 8}}), CommandClass::Read},
        {"READ(12)", cdb(0xA8, {{9, 8}}), CommandClass::Read},
        {"READ(16)", cdb(0x88, {{13, 8}}), CommandClass::Read},
        {"READ(32)", cdb(0x7F, {{7, 0x18}, {9, 0x09}, {31, 8}}), CommandClass::Read},
        {"READ CAPACITY(10)", cdb(0x25), CommandClass::Information},
        {"READ CAPACITY(16)", cdb(0x9E, {{1, 0x10}, {13, 32}}), CommandClass::Information},
        {"GET LBA STATUS", cdb(0x9E, {{1, 0x12}, {13, 24}}), CommandClass::Information},
        {"MODE SENSE(6)", cdb(0x1A, {{2, 0x3F}, {4, 0xFF}}), CommandClass::Information},
        {"MODE SENSE(10)", cdb(0x5A, {{2, 0x3F}, {8, 0xFF}}), CommandClass::Information},
        {"LOG SENSE", cdb(0x4D, {{2, 0x40}, {8, 0xFF}}), CommandClass::Information},
        {"REPORT LUNS", cdb(0xA0, {{9, 16}}), CommandClass::Information},
        {"READ FORMAT CAPACITIES", cdb(0x23, {{8, 0xFC}}), CommandClass::Information},
        {"READ DEFECT DATA(10)", cdb(0x37), CommandClass::Information},
        {"READ DEFECT DATA(12)", cdb(0xB7), CommandClass::Information},
        {"REPORT SUPPORTED OPERATION CODES", cdb(0xA3, {{1, 0x0C}}), CommandClass::Information},
        {"REPORT TIMESTAMP", cdb(0xA3, {{1, 0x0F}}), CommandClass::Information},
        {"READ MEDIA SERIAL NUMBER", cdb(0xAB, {{1, 0x01}}), CommandClass::Information},
        {"REPORT ZONES", cdb(0x95), CommandClass::Information},
        {"START STOP UNIT start", cdb(0x1B, {{4, 0x01}}), CommandClass::Information},
        {"START STOP UNIT stop", cdb(0x1B, {{4, 0x00}}), CommandClass::Information},
    };
    for (const auto& c : cases) {
        INFO(c.what);
        const auto d = block(c.bytes);
        CHECK(d.passed());
        CHECK(d.reason == Reason::Allowed);
        CHECK(d.command_class == c.command_class);
        CHECK(d.status == kStatusGood);
        CHECK(d.sense == SenseBytes{});
    }
    CHECK(std::string(block(cdb(0x9E, {{1, 0x10}})).name) == "READ CAPACITY(16)");
    CHECK(block(cdb(0x9E, {{1, 0x10}})).service_action == 0x10);
}

TEST_CASE("writes are refused with DATA PROTECT, WRITE PROTECTED", "[firmware][scsi]") {
    SECTION("WRITE(6)") {
        require_write_protected(block(cdb(0x0A, {{4, 1}})), Reason::Write);
    }
    SECTION("WRITE(10)") {
        require_write_protected(block(cdb(0x2A, {{8, 1}})), Reason::Write);
    }
    SECTION("WRITE(12)") {
        require_write_protected(block(cdb(0xAA, {{9, 1}})), Reason::Write);
    }
    SECTION("WRITE(16)") {
        require_write_protected(block(cdb(0x8A, {{13, 1}})), Reason::Write);
    }
    SECTION("WRITE(32)") {
        const auto d = block(cdb(0x7F, {{7, 0x18}, {9, 0x0B}}));
        require_write_protected(d, Reason::Write);
        CHECK(std::string(d.name) == "WRITE(32)");
        CHECK(d.service_action == 0x000B);
    }
    SECTION("WRITE AND VERIFY(10/12/16)") {
        require_write_protected(block(cdb(0x2E)), Reason::Write);
        require_write_protected(block(cdb(0xAE)), Reason::Write);
        require_write_protected(block(cdb(0x8E)), Reason::Write);
    }
    SECTION("WRITE SAME(10/16)") {
        require_write_protected(block(cdb(0x41)), Reason::Write);
        require_write_protected(block(cdb(0x93)), Reason::Write);
        // UNMAP bit set: still a refusal as a write.
        require_write_protected(block(cdb(0x93, {{1, 0x08}})), Reason::Write);
    }
    SECTION("COMPARE AND WRITE, ORWRITE, WRITE ATOMIC, WRITE STREAM") {
        for (std::uint8_t op : {0x89, 0x8B, 0x9C, 0x9A})
            require_write_protected(block(cdb(op)), Reason::Write);
    }
    SECTION("WRITE LONG(10), WRITE LONG(16) via SERVICE ACTION OUT(16)") {
        require_write_protected(block(cdb(0x3F)), Reason::Write);
        require_write_protected(block(cdb(0x9F, {{1, 0x11}})), Reason::Write);
    }
    SECTION("THIRD-PARTY COPY OUT (EXTENDED COPY, WRITE USING TOKEN)") {
        require_write_protected(block(cdb(0x83, {{1, 0x11}})), Reason::Write);
    }
    SECTION("UNMAP") {
        require_write_protected(block(cdb(0x42, {{8, 24}})), Reason::Unmap);
    }
    SECTION("FORMAT UNIT") {
        require_write_protected(block(cdb(0x04)), Reason::Format);
    }
    SECTION("REASSIGN BLOCKS") {
        require_write_protected(block(cdb(0x07)), Reason::Format);
    }
    SECTION("SANITIZE (overwrite, block erase, crypto erase)") {
        for (std::uint8_t sa : {0x01, 0x02, 0x03})
            require_write_protected(block(cdb(0x48, {{1, sa}})), Reason::Erase);
    }
    SECTION("ERASE(10/12)") {
        require_write_protected(block(cdb(0x2C)), Reason::Erase);
        require_write_protected(block(cdb(0xAC)), Reason::Erase);
    }
    SECTION("ZBC OUT RESET WRITE POINTER") {
        require_write_protected(block(cdb(0x94, {{1, 0x04}})), Reason::Erase);
    }
    SECTION("MODE SELECT(6/10)") {
        require_write_protected(block(cdb(0x15, {{1, 0x11}, {4, 12}})),
                                Reason::ConfigurationChange);
        require_write_protected(block(cdb(0x55, {{1, 0x11}, {8, 24}})),
                                Reason::ConfigurationChange);
    }
    SECTION("LOG SELECT, and LOG SENSE with SP (save parameters)") {
        require_write_protected(block(cdb(0x4C)), Reason::ConfigurationChange);
        require_write_protected(block(cdb(0x4D, {{1, 0x01}})), Reason::ConfigurationChange);
    }
    SECTION("MAINTENANCE OUT (SET TIMESTAMP, SET IDENTIFYING INFORMATION)") {
        require_write_protected(block(cdb(0xA4, {{1, 0x0F}})), Reason::ConfigurationChange);
        require_write_protected(block(cdb(0xA4, {{1, 0x06}})), Reason::ConfigurationChange);
    }
    SECTION("WRITE BUFFER (microcode download)") {
        require_write_protected(block(cdb(0x3B, {{1, 0x05}})), Reason::FirmwareUpdate);
        require_write_protected(block(cdb(0x3B, {{1, 0x07}})), Reason::FirmwareUpdate);
    }
    SECTION("SECURITY PROTOCOL OUT") {
        require_write_protected(block(cdb(0xB5, {{1, 0x01}})), Reason::SecurityChange);
    }
    SECTION("ACCESS CONTROL OUT") {
        require_write_protected(block(cdb(0x87)), Reason::SecurityChange);
    }
    SECTION("PERSISTENT RESERVE OUT, RESERVE, RELEASE") {
        require_write_protected(block(cdb(0x5F, {{1, 0x01}})), Reason::Reservation);
        for (std::uint8_t op : {0x16, 0x17, 0x56, 0x57})
            require_write_protected(block(cdb(op)), Reason::Reservation);
    }
    SECTION("SYNCHRONIZE CACHE(10/16)") {
        require_write_protected(block(cdb(0x35)), Reason::CacheFlush);
        require_write_protected(block(cdb(0x91)), Reason::CacheFlush);
    }
    SECTION("SEND DIAGNOSTIC") {
        require_write_protected(block(cdb(0x1D, {{1, 0x04}})), Reason::SelfTest);
    }
    SECTION("SERVICE ACTION IN(16) that removes elements") {
        const auto d = block(cdb(0x9E, {{1, 0x18}}));
        require_write_protected(d, Reason::Format);
        CHECK(std::string(d.name) == "REMOVE ELEMENT AND TRUNCATE");
    }
}

TEST_CASE("ATA PASS-THROUGH passes identify and reads, refuses writes", "[firmware][scsi]") {
    constexpr std::uint8_t kNonData = 3, kPioIn = 4, kPioOut = 5, kDma = 6, kUdmaIn = 10;

    SECTION("(16) IDENTIFY DEVICE passes as information") {
        const auto d = block(ata16(kPioIn, 0xEC));
        REQUIRE(d.passed());
        CHECK(d.command_class == CommandClass::Information);
        CHECK(std::string(d.ata_command) == "IDENTIFY DEVICE");
    }
    SECTION("(16) READ DMA EXT passes as a read, DMA or UDMA") {
        for (std::uint8_t protocol : {kDma, kUdmaIn}) {
            const auto d = block(ata16(protocol, 0x25, true, 0, true));
            REQUIRE(d.passed());
            CHECK(d.command_class == CommandClass::Read);
            CHECK(std::string(d.ata_command) == "READ DMA EXT");
        }
    }
    SECTION("(16) READ NATIVE MAX ADDRESS EXT, SMART READ DATA, DCO IDENTIFY pass") {
        CHECK(block(ata16(kNonData, 0x27, false, 0, true)).passed());
        CHECK(block(ata16(kPioIn, 0xB0, true, 0xD0)).passed());
        CHECK(block(ata16(kPioIn, 0xB1, true, 0xC2)).passed());
        CHECK(block(ata16(kNonData, 0x78, false, 0x0000, true)).passed());
    }
    SECTION("(16) WRITE DMA EXT is refused as an ATA write") {
        const auto d = block(ata16(kDma, 0x35, false, 0, true));
        require_write_protected(d, Reason::AtaWrite);
        CHECK(std::string(d.ata_command) == "WRITE DMA EXT");
    }
    SECTION("(16) other writers and state changers") {
        require_write_protected(block(ata16(kPioOut, 0x34)),
                                Reason::AtaWrite);  // WRITE SECTORS EXT
        require_write_protected(block(ata16(kDma, 0x06, false)), Reason::AtaWrite);  // TRIM
        require_write_protected(block(ata16(kPioOut, 0xF4)), Reason::AtaWrite);      // SEC. ERASE
        require_write_protected(block(ata16(kNonData, 0xF9)), Reason::AtaWrite);     // SET MAX
        require_write_protected(block(ata16(kPioOut, 0x92)), Reason::AtaWrite);      // MICROCODE
        require_write_protected(block(ata16(kNonData, 0xEA)), Reason::AtaWrite);     // FLUSH
        require_write_protected(block(ata16(kNonData, 0xB0, false, 0xD4)),
                                Reason::AtaWrite);  // SMART EXECUTE OFF-LINE
        require_write_protected(block(ata16(kPioOut, 0xB1, false, 0xC3)),
                                Reason::AtaWrite);  // DCO SET
        require_write_protected(block(ata16(kNonData, 0x78, false, 0x0001, true)),
                                Reason::AtaWrite);  // SET ACCESSIBLE MAX ADDRESS
    }
    SECTION("(16) a read command sent with a data-out protocol is refused") {
        require_write_protected(block(ata16(kPioOut, 0x20, false)), Reason::AtaWrite);
    }
    SECTION("(16) a read with the wrong protocol or direction is refused") {
        require_refused(block(ata16(kNonData, 0x25, true, 0, true)), Reason::AtaNotAllowed);
        require_refused(block(ata16(kDma, 0x25, false, 0, true)), Reason::UnsupportedField);
        require_refused(block(ata16(0, 0xEC)), Reason::AtaNotAllowed);  // hardware reset
        require_refused(block(ata16(1, 0xEC)), Reason::AtaNotAllowed);  // software reset
        require_refused(block(ata16(15, 0xEC)), Reason::AtaNotAllowed);
    }
    SECTION("(16) an unlisted ATA command is refused with INVALID FIELD IN CDB") {
        const auto d = block(ata16(kNonData, 0xE0));  // STANDBY IMMEDIATE
        require_refused(d, Reason::AtaNotAllowed);
        CHECK(d.sense_key() == kSenseKeyIllegalRequest);
        CHECK(d.asc() == 0x24);
        CHECK(d.sense[15] == 0xC0);  // SKSV, C/D, no bit pointer
        CHECK(d.sense[17] == 14);    // COMMAND byte
    }
    SECTION("(12) IDENTIFY DEVICE and READ DMA pass; WRITE DMA is refused") {
        CHECK(block(ata12(kPioIn, 0xEC)).passed());
        CHECK(block(ata12(kDma, 0xC8)).passed());
        CHECK(block(ata12(kPioIn, 0x20)).passed());
        require_write_protected(block(ata12(kDma, 0xCA, false)), Reason::AtaWrite);
        require_write_protected(block(ata12(kDma, 0x35, false)), Reason::AtaWrite);
    }
    SECTION("(12) is BLANK to an optical drive and refused there") {
        require_write_protected(evaluate_cdb(ata12(kPioIn, 0xEC), CommandSet::Multimedia),
                                Reason::Erase);
    }
    SECTION("pass-through is refused before the device type is known") {
        require_refused(evaluate_cdb(ata12(kPioIn, 0xEC), CommandSet::Unknown),
                        Reason::DeviceTypeUnknown);
        require_refused(evaluate_cdb(ata16(kPioIn, 0xEC), CommandSet::Unknown),
                        Reason::DeviceTypeUnknown);
    }
}

TEST_CASE("START STOP UNIT: spin up and down pass, eject and load do not", "[firmware][scsi]") {
    CHECK(block(cdb(0x1B, {{4, 0x01}})).passed());             // START
    CHECK(block(cdb(0x1B, {{1, 0x01}, {4, 0x01}})).passed());  // IMMED START
    CHECK(block(cdb(0x1B, {{4, 0x00}})).passed());             // STOP

    const auto eject = block(cdb(0x1B, {{4, 0x02}}));  // LOEJ, START=0: eject
    require_refused(eject, Reason::MediumRemoval);
    CHECK(eject.sense_key() == kSenseKeyIllegalRequest);
    CHECK(eject.asc() == 0x53);
    CHECK(eject.ascq() == 0x02);
    require_refused(block(cdb(0x1B, {{4, 0x03}})), Reason::MediumRemoval);  // load
    require_refused(evaluate_cdb(cdb(0x1B, {{4, 0x02}}), CommandSet::Multimedia),
                    Reason::MediumRemoval);

    const auto power = block(cdb(0x1B, {{4, 0x30}}));  // POWER CONDITION = STANDBY
    require_refused(power, Reason::UnsupportedField);
    CHECK(power.sense[15] == (0x80 | 0x40 | 0x08 | 7));  // SKSV, C/D, BPV, bit 7
    CHECK(power.sense[17] == 4);
}

TEST_CASE("commands reading does not need are refused as unsupported", "[firmware][scsi]") {
    const std::uint8_t not_needed[] = {
        0x01,  // REZERO UNIT
        0x1E,  // PREVENT ALLOW MEDIUM REMOVAL
        0x2F,  // VERIFY(10)
        0x8F,  // VERIFY(16)
        0xAF,  // VERIFY(12)
        0x3C,  // READ BUFFER(10): error-history buffers can be cleared by reading them
        0x3E,  // READ LONG(10)
        0x34,  // PRE-FETCH(10)
        0x5E,  // PERSISTENT RESERVE IN
        0xA2,  // SECURITY PROTOCOL IN
        0x1C,  // RECEIVE DIAGNOSTIC RESULTS
    };
    for (std::uint8_t op : not_needed) {
        const auto d = block(cdb(op));
        INFO(d.name);
        require_refused(d, Reason::NotNeeded);
        CHECK(d.sense_key() == kSenseKeyIllegalRequest);
        CHECK(d.asc() == 0x20);
        CHECK(d.ascq() == 0x00);
    }
}

TEST_CASE("unknown opcodes and service actions are refused", "[firmware][scsi]") {
    SECTION("vendor specific") {
        for (int op = 0xC0; op <= 0xFF; ++op) {
            const auto d = block(cdb(static_cast<std::uint8_t>(op)));
            require_refused(d, Reason::UnknownOpcode);
            CHECK(std::string(d.name) == "VENDOR SPECIFIC");
        }
        CHECK(std::string(block(cdb(0x06)).name) == "VENDOR SPECIFIC");
    }
    SECTION("reserved") {
        for (std::uint8_t op : {0x1F, 0x49, 0x60, 0x7D, 0x96}) {
            const auto d = block(cdb(op));
            require_refused(d, Reason::UnknownOpcode);
            CHECK(std::string(d.name) == "RESERVED");
        }
    }
    SECTION("service actions not listed") {
        require_refused(block(cdb(0x9E, {{1, 0x00}})), Reason::UnknownServiceAction);
        require_refused(block(cdb(0x9E, {{1, 0x1F}})), Reason::UnknownServiceAction);
        require_refused(block(cdb(0xA3, {{1, 0x1F}})), Reason::UnknownServiceAction);
        require_refused(block(cdb(0x7F, {{7, 0x18}, {8, 0x88}, {9, 0x05}})),
                        Reason::UnknownServiceAction);
        const auto d = block(cdb(0xAB, {{1, 0x02}}));
        require_refused(d, Reason::UnknownServiceAction);
        CHECK(d.asc() == 0x24);
        CHECK(d.sense[15] == (0x80 | 0x40 | 0x08 | 4));
        CHECK(d.sense[17] == 1);
    }
    SECTION("service actions listed but refused") {
        require_refused(block(cdb(0x9E, {{1, 0x11}})), Reason::NotNeeded);       // READ LONG(16)
        require_refused(block(cdb(0xA3, {{1, 0x10}})), Reason::NotNeeded);       // MGMT PROTOCOL IN
        require_write_protected(block(cdb(0x95, {{1, 0x08}})), Reason::Format);  // ZONE ACTIVATE
    }
}

TEST_CASE("sense data is fixed format", "[firmware][scsi]") {
    const SenseBytes write_protected = {0x70, 0, 0x07, 0,    0, 0, 0, 0x0A, 0,
                                        0,    0, 0,    0x27, 0, 0, 0, 0,    0};
    CHECK(block(cdb(0x2A)).sense == write_protected);

    const SenseBytes invalid_opcode = {0x70, 0, 0x05, 0,    0, 0, 0,    0x0A, 0,
                                       0,    0, 0,    0x20, 0, 0, 0xCF, 0,    0};
    CHECK(block(cdb(0xC7)).sense == invalid_opcode);

    const SenseBytes medium_removal = {0x70, 0, 0x05, 0,    0,    0, 0, 0x0A, 0,
                                       0,    0, 0,    0x53, 0x02, 0, 0, 0,    0};
    CHECK(block(cdb(0x1B, {{4, 0x02}})).sense == medium_removal);

    CHECK(sense_code_for(Reason::Allowed).key == 0);
    for (std::size_t r = 1; r < kReasonCount; ++r) {
        const SenseCode c = sense_code_for(static_cast<Reason>(r));
        CHECK((c.key == kSenseKeyDataProtect || c.key == kSenseKeyIllegalRequest));
        CHECK(std::string(to_string(static_cast<Reason>(r))) != "unknown");
    }
}

TEST_CASE("short and empty CDBs are refused", "[firmware][scsi]") {
    SECTION("shorter than the opcode's group") {
        const std::pair<std::uint8_t, std::size_t> cases[] = {
            {0x00, 5},  {0x12, 5},  {0x08, 3},  {0x28, 9},  {0x25, 1}, {0xA8, 11}, {0x88, 15},
            {0x9E, 15}, {0xA3, 11}, {0x85, 15}, {0xA1, 11}, {0x1B, 4}, {0x4D, 2},  {0x7F, 9},
        };
        for (auto [op, n] : cases) {
            Bytes b(n, 0);
            b[0] = op;
            const auto d = block(b);
            INFO(d.name << " length " << n);
            require_refused(d, Reason::MalformedCdb);
            CHECK(d.sense_key() == kSenseKeyIllegalRequest);
            CHECK(d.asc() == 0x24);
        }
    }
    SECTION("a variable-length CDB shorter than its ADDITIONAL CDB LENGTH") {
        Bytes b = cdb(0x7F, {{7, 0x18}, {9, 0x09}});
        b.resize(16);
        require_refused(block(b), Reason::MalformedCdb);
    }
    SECTION("a variable-length CDB that declares too few bytes for READ(32)") {
        require_refused(block(cdb(0x7F, {{7, 0x02}, {9, 0x09}})), Reason::MalformedCdb);
    }
    SECTION("a forbidden opcode is refused for what it is, however short") {
        require_write_protected(block(Bytes{0x2A, 0, 0}), Reason::Write);
    }
    SECTION("longer than the command is fine: only its own bytes count") {
        Bytes b = cdb(0x28, {{8, 1}});
        b.resize(16, 0xFF);
        CHECK(block(b).passed());
    }
    SECTION("empty") {
        ScsiFilter filter(CommandSet::Block);
        const auto d = filter.decide({});
        require_refused(d, Reason::MalformedCdb);
        CHECK(filter.counters().refused_empty == 1);
        CHECK(filter.counters().refused == 1);
        CHECK(std::all_of(filter.counters().refused_by_opcode.begin(),
                          filter.counters().refused_by_opcode.end(),
                          [](std::uint32_t n) { return n == 0; }));
    }
}

TEST_CASE("the filter counts what it refuses", "[firmware][scsi]") {
    ScsiFilter filter(CommandSet::Block);
    for (int i = 0; i < 3; ++i)
        filter.decide(cdb(0x2A));
    filter.decide(cdb(0x8A));
    filter.decide(cdb(0x28));
    filter.decide(cdb(0x12));
    filter.decide(cdb(0xC0));
    filter.decide(Bytes{0x28, 0});

    const auto& c = filter.counters();
    CHECK(c.decided == 8);
    CHECK(c.passed == 2);
    CHECK(c.refused == 6);
    CHECK(c.refused_by_opcode[0x2A] == 3);
    CHECK(c.refused_by_opcode[0x8A] == 1);
    CHECK(c.refused_by_opcode[0xC0] == 1);
    CHECK(c.refused_by_opcode[0x28] == 1);  // the short one
    CHECK(c.refused_by_opcode[0x12] == 0);
    CHECK(c.refused_by_reason[static_cast<std::size_t>(Reason::Write)] == 4);
    CHECK(c.refused_by_reason[static_cast<std::size_t>(Reason::UnknownOpcode)] == 1);
    CHECK(c.refused_by_reason[static_cast<std::size_t>(Reason::MalformedCdb)] == 1);

    filter.reset_counters();
    CHECK(filter.counters().decided == 0);
    CHECK(filter.counters().refused_by_opcode[0x2A] == 0);
}

TEST_CASE("the command set follows INQUIRY", "[firmware][scsi]") {
    CHECK(command_set_for_inquiry_byte0(0x00) == CommandSet::Block);
    CHECK(command_set_for_inquiry_byte0(0x0E) == CommandSet::Block);
    CHECK(command_set_for_inquiry_byte0(0x14) == CommandSet::Block);
    CHECK(command_set_for_inquiry_byte0(0x05) == CommandSet::Multimedia);
    CHECK(command_set_for_inquiry_byte0(0x01) == CommandSet::Unknown);  // tape
    CHECK(command_set_for_inquiry_byte0(0x08) == CommandSet::Unknown);  // changer
    CHECK(command_set_for_inquiry_byte0(0x7F) == CommandSet::Unknown);  // no device
    CHECK(command_set_for_inquiry_byte0(0x20) == CommandSet::Unknown);  // qualifier 1

    ScsiFilter filter;
    CHECK(filter.command_set() == CommandSet::Unknown);
    CHECK(filter.decide(cdb(0x12, {{4, 36}})).passed());
    require_refused(filter.decide(cdb(0x28, {{8, 1}})), Reason::DeviceTypeUnknown);
    filter.set_command_set(command_set_for_inquiry_byte0(0x00));
    CHECK(filter.decide(cdb(0x28, {{8, 1}})).passed());
}

TEST_CASE("an optical drive gets MMC reads and none of its writers", "[firmware][scsi]") {
    auto mmc = [](const Bytes& b) { return evaluate_cdb(b, CommandSet::Multimedia); };
    CHECK(mmc(cdb(0x43)).passed());                             // READ TOC/PMA/ATIP
    CHECK(mmc(cdb(0x46)).passed());                             // GET CONFIGURATION
    CHECK(mmc(cdb(0x51)).passed());                             // READ DISC INFORMATION
    CHECK(mmc(cdb(0xBE)).command_class == CommandClass::Read);  // READ CD
    // On a disk 51h is XPWRITE(10).
    require_write_protected(block(cdb(0x51)), Reason::Write);
    // SEND KEY shares A3h with MAINTENANCE IN; on a drive no service action passes.
    require_write_protected(mmc(cdb(0xA3, {{1, 0x0C}})), Reason::ConfigurationChange);
    require_write_protected(mmc(cdb(0xA1)), Reason::Erase);  // BLANK
    require_write_protected(mmc(cdb(0x5B)), Reason::Write);  // CLOSE TRACK/SESSION
    require_write_protected(mmc(cdb(0x53)), Reason::Write);  // RESERVE TRACK
    require_refused(mmc(cdb(0xA6)), Reason::MediumRemoval);  // LOAD/UNLOAD MEDIUM
    require_write_protected(mmc(cdb(0x04)), Reason::Format);
    require_write_protected(mmc(cdb(0x2A)), Reason::Write);
    // MMC-only reads do not pass to a disk.
    require_refused(block(cdb(0x43)), Reason::NotNeeded);
    require_refused(block(cdb(0xBE)), Reason::NotNeeded);
}
