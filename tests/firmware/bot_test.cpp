#include "exhibit/firmware/bot.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

using namespace exhibit::firmware;

namespace {

using Bytes = std::vector<std::uint8_t>;

const Bytes kRead10 = {0x28, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x08, 0x00};

CommandBlockWrapper read10_cbw(std::uint32_t tag = 0x12345678) {
    CommandBlockWrapper cbw;
    REQUIRE(make_cbw(tag, 4096, Direction::In, 0, kRead10, cbw) == CbwError::None);
    return cbw;
}

Bytes to_bytes(const CswBytes& b) {
    return {b.begin(), b.end()};
}
Bytes to_bytes(const CbwBytes& b) {
    return {b.begin(), b.end()};
}

Bytes csw_bytes(std::uint32_t signature, std::uint32_t tag, std::uint32_t residue,
                std::uint8_t status) {
    Bytes b(13);
    for (int i = 0; i < 4; ++i) {
        b[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(signature >> (8 * i));
        b[static_cast<std::size_t>(4 + i)] = static_cast<std::uint8_t>(tag >> (8 * i));
        b[static_cast<std::size_t>(8 + i)] = static_cast<std::uint8_t>(residue >> (8 * i));
    }
    b[12] = status;
    return b;
}

}  // namespace

TEST_CASE("a CBW encodes to the BOT wire layout", "[firmware][bot]") {
    const auto cbw = read10_cbw();
    const Bytes expected = {
        0x55, 0x53, 0x42, 0x43,                                      // "USBC"
        0x78, 0x56, 0x34, 0x12,                                      // tag, little-endian
        0x00, 0x10, 0x00, 0x00,                                      // 4096
        0x80,                                                        // data in
        0x00,                                                        // LUN 0
        0x0A,                                                        // 10-byte CDB
        0x28, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x08, 0x00,  // READ(10)
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00,                          // padding
    };
    CHECK(to_bytes(encode_cbw(cbw)) == expected);
}

TEST_CASE("CBWs round-trip for every LUN and command length", "[firmware][bot]") {
    for (std::uint8_t lun = 0; lun <= kMaxBotLun; ++lun) {
        for (std::size_t n = 1; n <= kMaxCommandBlockLength; ++n) {
            Bytes cdb(n);
            for (std::size_t i = 0; i < n; ++i)
                cdb[i] = static_cast<std::uint8_t>(0xA0 + i);
            const auto dir = (n % 2) ? Direction::In : Direction::Out;
            const std::uint32_t tag = 0xDEAD0000u + static_cast<std::uint32_t>(lun * 16 + n);
            CommandBlockWrapper sent;
            REQUIRE(make_cbw(tag, 0xFFFFFFFFu - lun, dir, lun, cdb, sent) == CbwError::None);

            const auto wire = encode_cbw(sent);
            CommandBlockWrapper got;
            REQUIRE(decode_cbw(wire, got) == CbwError::None);
            CHECK(got.tag == tag);
            CHECK(got.data_transfer_length == 0xFFFFFFFFu - lun);
            CHECK(got.direction == dir);
            CHECK(got.lun == lun);
            CHECK(got.command_block_length == n);
            CHECK(Bytes(got.command().begin(), got.command().end()) == cdb);
        }
    }
}

TEST_CASE("make_cbw refuses what a CBW cannot carry", "[firmware][bot]") {
    CommandBlockWrapper out;
    out.tag = 7;
    CHECK(make_cbw(1, 0, Direction::Out, 0, {}, out) == CbwError::BadCommandLength);
    CHECK(make_cbw(1, 0, Direction::Out, 0, Bytes(17, 0), out) == CbwError::BadCommandLength);
    CHECK(make_cbw(1, 0, Direction::Out, 16, kRead10, out) == CbwError::BadLun);
    CHECK(out.tag == 7);  // untouched
}

TEST_CASE("the device rejects CBWs that are not valid or not meaningful", "[firmware][bot]") {
    const auto good = to_bytes(encode_cbw(read10_cbw()));
    CommandBlockWrapper out;
    REQUIRE(decode_cbw(good, out) == CbwError::None);

    SECTION("wrong length") {
        CHECK(decode_cbw(Bytes(good.begin(), good.end() - 1), out) == CbwError::WrongLength);
        Bytes longer = good;
        longer.push_back(0);
        CHECK(decode_cbw(longer, out) == CbwError::WrongLength);
        CHECK(decode_cbw({}, out) == CbwError::WrongLength);
    }
    SECTION("bad signature") {
        Bytes b = good;
        b[3] = 0x53;  // "USBS": a CSW where a CBW belongs
        CHECK(decode_cbw(b, out) == CbwError::BadSignature);
        b = good;
        b[0] = 0x00;
        CHECK(decode_cbw(b, out) == CbwError::BadSignature);
    }
    SECTION("reserved flag bits") {
        Bytes b = good;
        b[12] = 0x81;
        CHECK(decode_cbw(b, out) == CbwError::ReservedFlags);
        b[12] = 0x40;
        CHECK(decode_cbw(b, out) == CbwError::ReservedFlags);
    }
    SECTION("LUN above 15 or above the device's max LUN") {
        Bytes b = good;
        b[13] = 16;
        CHECK(decode_cbw(b, out) == CbwError::BadLun);
        b[13] = 0xF0;
        CHECK(decode_cbw(b, out) == CbwError::BadLun);
        b[13] = 2;
        CHECK(decode_cbw(b, out, 1) == CbwError::BadLun);
        CHECK(decode_cbw(b, out, 2) == CbwError::None);
    }
    SECTION("command block length 0, above 16, or with reserved bits") {
        Bytes b = good;
        b[14] = 0;
        CHECK(decode_cbw(b, out) == CbwError::BadCommandLength);
        b[14] = 17;
        CHECK(decode_cbw(b, out) == CbwError::BadCommandLength);
        b[14] = 0x2A;  // reserved bit 5 with 10
        CHECK(decode_cbw(b, out) == CbwError::BadCommandLength);
        CHECK(out.command().size() == 16);  // never beyond the array
        b[14] = 0xFF;
        CHECK(decode_cbw(b, out) == CbwError::BadCommandLength);
        CHECK(out.command().size() == 16);
    }
    SECTION("a valid but not meaningful CBW still yields its tag") {
        Bytes b = good;
        b[14] = 0;
        REQUIRE(decode_cbw(b, out) == CbwError::BadCommandLength);
        CHECK(out.tag == 0x12345678);
    }
    SECTION("bytes past bCBWCBLength are not handed on") {
        Bytes b = good;
        b[30] = 0xEE;
        REQUIRE(decode_cbw(b, out) == CbwError::None);
        CHECK(out.command_block[15] == 0);
        CHECK(out.command().size() == 10);
    }
}

TEST_CASE("CSWs round-trip and answer their CBW", "[firmware][bot]") {
    const auto cbw = read10_cbw(0xCAFEF00D);
    const auto csw = make_csw(cbw, 512, CswStatus::Passed);
    const Bytes expected = {0x55, 0x53, 0x42, 0x53, 0x0D, 0xF0, 0xFE,
                            0xCA, 0x00, 0x02, 0x00, 0x00, 0x00};
    CHECK(to_bytes(encode_csw(csw)) == expected);

    CommandStatusWrapper got;
    CHECK(check_csw(encode_csw(csw), cbw, got) == CswCheck::Passed);
    CHECK(got.tag == 0xCAFEF00D);
    CHECK(got.data_residue == 512);
    CHECK(got.status == 0);
    CHECK(recovery_for(CswCheck::Passed) == CswRecovery::None);

    const auto failed = make_csw(cbw, 4096, CswStatus::Failed);
    CHECK(check_csw(encode_csw(failed), cbw, got) == CswCheck::Failed);
    CHECK(recovery_for(CswCheck::Failed) == CswRecovery::RequestSense);

    // The residue may equal the transfer length (nothing transferred).
    CHECK(check_csw(csw_bytes(kCswSignature, cbw.tag, 4096, 0), cbw, got) == CswCheck::Passed);
    // make_csw never claims more residue than was asked for.
    CHECK(make_csw(cbw, 10000, CswStatus::Passed).data_residue == 4096);
}

TEST_CASE("every invalid or not meaningful CSW needs reset recovery", "[firmware][bot]") {
    const auto cbw = read10_cbw(42);
    CommandStatusWrapper got;

    SECTION("bad signature") {
        const auto r = check_csw(csw_bytes(0x43425355, 42, 0, 0), cbw, got);  // "USBC"
        CHECK(r == CswCheck::BadSignature);
        CHECK_FALSE(is_valid(r));
        CHECK(recovery_for(r) == CswRecovery::ResetRecovery);
    }
    SECTION("wrong tag") {
        const auto r = check_csw(csw_bytes(kCswSignature, 41, 0, 0), cbw, got);
        CHECK(r == CswCheck::TagMismatch);
        CHECK_FALSE(is_valid(r));
        CHECK(got.tag == 41);
        CHECK(recovery_for(r) == CswRecovery::ResetRecovery);
    }
    SECTION("wrong length") {
        Bytes b = csw_bytes(kCswSignature, 42, 0, 0);
        Bytes shorter(b.begin(), b.end() - 1);
        CHECK(check_csw(shorter, cbw, got) == CswCheck::WrongLength);
        b.push_back(0);
        CHECK(check_csw(b, cbw, got) == CswCheck::WrongLength);
        CHECK(check_csw(Bytes(31, 0), cbw, got) == CswCheck::WrongLength);
        CHECK(check_csw({}, cbw, got) == CswCheck::WrongLength);
        CHECK(recovery_for(CswCheck::WrongLength) == CswRecovery::ResetRecovery);
    }
    SECTION("phase error, whatever the residue says") {
        for (std::uint32_t residue : {0u, 4096u, 0xFFFFFFFFu}) {
            const auto r = check_csw(csw_bytes(kCswSignature, 42, residue, 2), cbw, got);
            CHECK(r == CswCheck::PhaseError);
            CHECK(is_valid(r));
            CHECK(is_meaningful(r));
            CHECK(recovery_for(r) == CswRecovery::ResetRecovery);
        }
    }
    SECTION("residue greater than the transfer length") {
        for (std::uint8_t status : {0, 1}) {
            const auto r = check_csw(csw_bytes(kCswSignature, 42, 4097, status), cbw, got);
            CHECK(r == CswCheck::ResidueTooLarge);
            CHECK(is_valid(r));
            CHECK_FALSE(is_meaningful(r));
            CHECK(recovery_for(r) == CswRecovery::ResetRecovery);
        }
    }
    SECTION("reserved status") {
        for (std::uint8_t status : {3, 4, 0x80, 0xFF}) {
            const auto r = check_csw(csw_bytes(kCswSignature, 42, 0, status), cbw, got);
            CHECK(r == CswCheck::ReservedStatus);
            CHECK(is_valid(r));
            CHECK_FALSE(is_meaningful(r));
            CHECK(recovery_for(r) == CswRecovery::ResetRecovery);
        }
    }
    SECTION("a CBW where a CSW belongs") {
        const auto r = check_csw(encode_cbw(cbw), cbw, got);
        CHECK(r == CswCheck::WrongLength);
    }
}

TEST_CASE("reset recovery is a class reset then two CLEAR_FEATURE(HALT)s", "[firmware][bot]") {
    using Setup = std::array<std::uint8_t, kSetupPacketLength>;
    CHECK(encode_setup(bulk_only_reset(0)) == Setup{0x21, 0xFF, 0, 0, 0, 0, 0, 0});
    CHECK(encode_setup(bulk_only_reset(3)) == Setup{0x21, 0xFF, 0, 0, 3, 0, 0, 0});
    CHECK(encode_setup(get_max_lun(2)) == Setup{0xA1, 0xFE, 0, 0, 2, 0, 1, 0});
    CHECK(encode_setup(clear_endpoint_halt(0x81)) == Setup{0x02, 0x01, 0, 0, 0x81, 0, 0, 0});

    const auto seq = reset_recovery(1, 0x81, 0x02);
    CHECK(seq[0] == bulk_only_reset(1));
    CHECK(seq[1] == clear_endpoint_halt(0x81));
    CHECK(seq[2] == clear_endpoint_halt(0x02));
    CHECK(seq[1].index == 0x81);
    CHECK(seq[2].index == 0x02);

    // wValue/wIndex/wLength are little-endian on the wire.
    SetupPacket p{0x80, 0x06, 0x0100, 0x1234, 0x0012};
    CHECK(encode_setup(p) == Setup{0x80, 0x06, 0x00, 0x01, 0x34, 0x12, 0x12, 0x00});
}

TEST_CASE("BOT error strings name the problem", "[firmware][bot]") {
    CHECK(std::string(to_string(CbwError::BadSignature)).find("USBC") != std::string::npos);
    CHECK(std::string(to_string(CswCheck::TagMismatch)).find("tag") != std::string::npos);
}
