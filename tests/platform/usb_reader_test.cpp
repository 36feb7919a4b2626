// The user-space USB mass-storage reader against an emulated device: the real reader and
// the engine's real Source path, with only the wire replaced.
#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "emulated_msc_device.hpp"
#include "exhibit/acquire.hpp"
#include "exhibit/platform/usb_mass_storage.hpp"
#include "exhibit/source.hpp"
#include "test_support.hpp"

using namespace exhibit;
using namespace exhibit::test;

namespace {

constexpr const char* kPath = "usb:1d6b:0104";

std::unique_ptr<Source> open_emulated(std::shared_ptr<EmulatedMscDevice> dev) {
    auto src = open_usb_mass_storage(dev, kPath);
    INFO((src ? std::string() : src.error().message));
    REQUIRE(src);
    return std::move(*src);
}

Expected<Hashes> hashes_of(Source& source) {
    JobProgress progress;
    std::atomic<bool> cancel{false};
    return hash_source(source, progress, cancel, 1 << 20);
}

// Nothing the device received was a command the write-block filter refuses, and every
// CBW carried its own tag.
void check_clean_wire(const EmulatedMscDevice& dev) {
    const auto received = dev.received();
    CHECK_FALSE(received.empty());
    std::set<std::uint32_t> tags;
    for (const auto& c : received) {
        INFO("opcode " << int(c.cdb.empty() ? -1 : c.cdb[0]) << " " << c.decision.name);
        CHECK(c.decision.passed());
        tags.insert(c.tag);
    }
    CHECK(dev.forbidden_received() == 0);
    CHECK(tags.size() == received.size());
}

}  // namespace

TEST_CASE("an emulated USB disk reads the same bytes as its image through the engine Source",
          "[usb]") {
    TempDir dir;
    const fs::path image = dir / "stick.img";
    write_random_file(image, 4 * 1024 * 1024 + 7 * 512, 61);
    SourceSeal seal({image});
    const auto bytes = read_file(image);
    auto dev = std::make_shared<EmulatedMscDevice>(image);
    {
        auto src = open_emulated(dev);
        const SourceInfo& info = src->info();
        CHECK(info.kind == SourceKind::UsbMassStorage);
        CHECK(std::string(to_string(info.kind)) == "usb mass storage");
        CHECK(info.path == kPath);
        CHECK(info.size == bytes.size());
        CHECK(info.sector_size == 512);
        REQUIRE(info.device);
        CHECK(info.device->bus == "usb");
        CHECK(info.device->vendor == EmulatedMscDevice::kVendor);
        CHECK(info.device->model == EmulatedMscDevice::kProduct);
        CHECK(info.device->serial == EmulatedMscDevice::kUnitSerial);
        CHECK(info.device->usb_id == "1d6b:0104");
        CHECK(info.device->removable);

        // Aligned, unaligned, crossing transfer boundaries, and past the end.
        const std::pair<std::uint64_t, std::size_t> reads[] = {{0, 512},
                                                               {1, 1},
                                                               {511, 2},
                                                               {513, 300000},
                                                               {1 << 20, 65536},
                                                               {12345, 777},
                                                               {bytes.size() - 100, 4096},
                                                               {bytes.size(), 10}};
        for (auto [offset, length] : reads) {
            INFO("offset " << offset << " length " << length);
            std::vector<std::byte> buf(length);
            auto n = src->read_at(offset, buf);
            REQUIRE(n);
            const std::size_t expect =
                offset >= bytes.size() ? 0 : std::min<std::size_t>(length, bytes.size() - offset);
            REQUIRE(*n == expect);
            CHECK(std::memcmp(buf.data(), bytes.data() + offset, expect) == 0);
        }

        auto hashes = hashes_of(*src);
        REQUIRE(hashes);
        CHECK(hashes->md5 == coreutils_digest("md5sum", image));
        CHECK(hashes->sha256 == coreutils_digest("sha256sum", image));
    }
    check_clean_wire(*dev);
    CHECK(dev->count_opcode(0x28) > 0);  // READ(10)
    CHECK(seal.unchanged());
}

TEST_CASE("the USB source serves reads from several threads at once", "[usb]") {
    TempDir dir;
    const fs::path image = dir / "stick.img";
    write_random_file(image, 1024 * 1024, 69);
    SourceSeal seal({image});
    const auto bytes = read_file(image);
    auto dev = std::make_shared<EmulatedMscDevice>(image);
    {
        auto src = open_emulated(dev);
        std::atomic<int> mismatches{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&, t] {
                std::vector<std::byte> buf(3000);
                for (std::uint64_t off = 100 * t; off + buf.size() <= bytes.size(); off += 40000) {
                    auto n = src->read_at(off, buf);
                    if (!n || *n != buf.size() ||
                        std::memcmp(buf.data(), bytes.data() + off, buf.size()) != 0) {
                        ++mismatches;
                    }
                }
            });
        }
        for (auto& th : threads)
            th.join();
        CHECK(mismatches == 0);
    }
    check_clean_wire(*dev);
    CHECK(seal.unchanged());
}

TEST_CASE("acquiring the sample device through the emulated USB reader gives its hashes",
          "[usb][acquire]") {
    const fs::path image = sample_image();
    SourceSeal seal({image});
    auto dev = std::make_shared<EmulatedMscDevice>(image);
    TempDir out;
    {
        auto src = open_emulated(dev);
        AcquisitionPlan plan;
        plan.format = ImageFormat::Raw;
        plan.out_dir = out.path();
        plan.block_size = 1 << 20;
        JobProgress progress;
        std::atomic<bool> cancel{false};
        auto result = acquire(*src, plan, progress, cancel);
        REQUIRE(result);
        INFO(result->summary);
        CHECK(result->status == AcquisitionStatus::Completed);
        CHECK(result->hashes.md5 == coreutils_digest("md5sum", image));
        CHECK(result->hashes.sha1 == coreutils_digest("sha1sum", image));
        CHECK(result->hashes.sha256 == coreutils_digest("sha256sum", image));
        CHECK(result->source.kind == SourceKind::UsbMassStorage);
        // The record carries the filter's own count: every command passed, none refused.
        REQUIRE(result->write_block);
        CHECK(result->write_block->commands_passed > 200);
        CHECK(result->write_block->commands_refused == 0);
        std::ifstream in(result->record);
        const auto record = nlohmann::json::parse(in);
        CHECK(record.at("write_block_filter").at("commands_passed") ==
              result->write_block->commands_passed);
        CHECK(record.at("write_block_filter").at("commands_refused") == 0);
    }
    check_clean_wire(*dev);
    CHECK(seal.unchanged());
}

TEST_CASE("the USB reader survives malformed CSWs, short transfers, stalls and unit attention",
          "[usb]") {
    TempDir dir;
    const fs::path image = dir / "stick.img";
    write_random_file(image, 2 * 1024 * 1024, 62);
    SourceSeal seal({image});
    const std::string md5 = coreutils_digest("md5sum", image);

    EmulatedFaults faults;
    std::uint64_t want_resets = 0;
    std::uint64_t want_halts = 0;
    SECTION("CSW with a bad signature") {
        faults.csw_fault = EmulatedFaults::CswFault::BadSignature;
        faults.csw_fault_count = 2;
        want_resets = 2;
    }
    SECTION("CSW answering another tag") {
        faults.csw_fault = EmulatedFaults::CswFault::WrongTag;
        faults.csw_fault_count = 2;
        want_resets = 2;
    }
    SECTION("CSW one byte short") {
        faults.csw_fault = EmulatedFaults::CswFault::BadLength;
        faults.csw_fault_count = 2;
        want_resets = 2;
    }
    SECTION("malformed CSW during start-up") {
        faults.csw_fault = EmulatedFaults::CswFault::BadSignature;
        faults.csw_fault_opcode = 0x12;  // INQUIRY
        faults.csw_fault_count = 1;
        want_resets = 1;
    }
    SECTION("short data phases that end mid-sector") {
        faults.short_transfer_bytes = 1000;
        faults.short_transfer_count = 5;
    }
    SECTION("short data phases with no whole sector") {
        faults.short_transfer_bytes = 100;
        faults.short_transfer_count = 2;
    }
    SECTION("a stalled READ(10)") {
        faults.stall_opcode = 0x28;
        faults.stall_count = 2;
        want_halts = 2;
    }
    SECTION("a stalled READ CAPACITY(10)") {
        faults.stall_opcode = 0x25;
        want_halts = 1;
    }
    SECTION("unit attention on the first TEST UNIT READY") {
        faults.unit_attention_on_first_tur = true;
    }

    auto dev = std::make_shared<EmulatedMscDevice>(image, faults);
    {
        auto src = open_emulated(dev);
        CHECK(src->info().size == 2 * 1024 * 1024);
        auto hashes = hashes_of(*src);
        INFO((hashes ? std::string() : hashes.error().message));
        REQUIRE(hashes);
        CHECK(hashes->md5 == md5);
    }
    CHECK(dev->resets() >= want_resets);
    CHECK(dev->halts_cleared() >= want_halts);
    if (faults.unit_attention_on_first_tur) {
        CHECK(dev->count_opcode(0x00) == 2);  // TEST UNIT READY again after the attention
        CHECK(dev->count_opcode(0x03) >= 1);  // REQUEST SENSE fetched it
    }
    check_clean_wire(*dev);
    CHECK(seal.unchanged());
}

TEST_CASE("a USB device that vanishes mid-read fails with a sentence naming it", "[usb]") {
    TempDir dir;
    const fs::path image = dir / "stick.img";
    write_random_file(image, 3 * 1024 * 1024, 63);
    SourceSeal seal({image});
    EmulatedFaults faults;
    faults.vanish_after_bytes = 1024 * 1024 + 4096;
    auto dev = std::make_shared<EmulatedMscDevice>(image, faults);
    {
        auto src = open_emulated(dev);
        auto hashes = hashes_of(*src);
        REQUIRE_FALSE(hashes);
        CHECK(hashes.error().kind == ErrorKind::SourceChanged);
        const std::string& m = hashes.error().message;
        INFO(m);
        CHECK(m.find("USB device 1d6b:0104") != std::string::npos);
        CHECK(m.find("disappeared") != std::string::npos);
        CHECK(m.find('\n') == std::string::npos);
        CHECK(dev->vanished());

        // It stays gone: the next read fails at once, the same way.
        std::vector<std::byte> buf(512);
        auto again = src->read_at(0, buf);
        REQUIRE_FALSE(again);
        CHECK(again.error().kind == ErrorKind::SourceChanged);

        // An acquisition of a vanished device ends as a failure, never as a whole image.
        TempDir out;
        AcquisitionPlan plan;
        plan.format = ImageFormat::Raw;
        plan.out_dir = out.path();
        JobProgress progress;
        std::atomic<bool> cancel{false};
        auto result = acquire(*src, plan, progress, cancel);
        if (result) CHECK(result->status != AcquisitionStatus::Completed);
    }
    check_clean_wire(*dev);
    CHECK(seal.unchanged());
}

TEST_CASE("a USB device that keeps failing a read gives an Io error naming it", "[usb]") {
    TempDir dir;
    const fs::path image = dir / "stick.img";
    write_random_file(image, 256 * 1024, 68);
    SourceSeal seal({image});
    EmulatedFaults faults;
    faults.stall_opcode = 0x28;
    faults.stall_count = 1000;
    auto dev = std::make_shared<EmulatedMscDevice>(image, faults);
    {
        auto src = open_emulated(dev);
        std::vector<std::byte> buf(4096);
        auto n = src->read_at(8192, buf);
        REQUIRE_FALSE(n);
        CHECK(n.error().kind == ErrorKind::Io);
        const std::string& m = n.error().message;
        INFO(m);
        CHECK(m.find("USB device 1d6b:0104") != std::string::npos);
        CHECK(m.find("failed to read blocks 16-23") != std::string::npos);
        // Bounded: a few attempts, not a loop for ever.
        CHECK(dev->count_opcode(0x28) == 4);
    }
    check_clean_wire(*dev);
    CHECK(seal.unchanged());
}

TEST_CASE("a device vanishing during start-up gives a clear error", "[usb]") {
    TempDir dir;
    const fs::path image = dir / "stick.img";
    write_random_file(image, 64 * 1024, 64);
    SourceSeal seal({image});
    EmulatedFaults faults;
    faults.vanish_after_bytes = 10;  // gone during the INQUIRY data phase
    auto dev = std::make_shared<EmulatedMscDevice>(image, faults);
    auto src = open_usb_mass_storage(dev, kPath);
    REQUIRE_FALSE(src);
    CHECK(src.error().kind == ErrorKind::SourceChanged);
    CHECK(src.error().message.find(kPath) != std::string::npos);
    CHECK(src.error().message.find("USB device 1d6b:0104") != std::string::npos);
    CHECK(seal.unchanged());
}

TEST_CASE("a device that is not a disk is refused after INQUIRY, with nothing else sent", "[usb]") {
    TempDir dir;
    const fs::path image = dir / "tape.img";
    write_random_file(image, 64 * 1024, 65);
    SourceSeal seal({image});
    EmulatedFaults faults;
    faults.peripheral_device_type = 0x01;  // sequential access (tape)
    auto dev = std::make_shared<EmulatedMscDevice>(image, faults);
    auto src = open_usb_mass_storage(dev, kPath);
    REQUIRE_FALSE(src);
    CHECK(src.error().kind == ErrorKind::Unsupported);
    INFO(src.error().message);
    CHECK(src.error().message.find("not a direct-access block device") != std::string::npos);
    for (const auto& c : dev->received())
        CHECK(c.cdb[0] == 0x12);  // INQUIRY only
    check_clean_wire(*dev);
    CHECK(seal.unchanged());
}

TEST_CASE("a device of 2^32 blocks or more is sized with READ CAPACITY(16)", "[usb]") {
    TempDir dir;
    const fs::path image = dir / "big.img";
    write_random_file(image, 64 * 1024, 66);
    SourceSeal seal({image});
    EmulatedFaults faults;
    faults.reported_blocks = (std::uint64_t{1} << 32) + 8;
    auto dev = std::make_shared<EmulatedMscDevice>(image, faults);
    {
        auto src = open_emulated(dev);
        CHECK(src->info().size == ((std::uint64_t{1} << 32) + 8) * 512);
        CHECK(dev->count_opcode(0x9E) == 1);
        // The first blocks are still real and read with READ(10).
        std::vector<std::byte> buf(4096);
        auto n = src->read_at(0, buf);
        REQUIRE(n);
        CHECK(std::memcmp(buf.data(), read_file(image).data(), 4096) == 0);
    }
    check_clean_wire(*dev);
    CHECK(seal.unchanged());
}

TEST_CASE("the reader uses READ(16) beyond READ(10)'s reach and counts what the filter passed",
          "[usb]") {
    TempDir dir;
    const fs::path image = dir / "stick.img";
    write_random_file(image, 36 * 1024 * 1024, 67);  // 73728 blocks: more than READ(10) moves
    SourceSeal seal({image});
    auto dev = std::make_shared<EmulatedMscDevice>(image);
    platform::UsbMassStorageOptions options;
    options.max_transfer_bytes = 64 * 1024 * 1024;
    platform::UsbMassStorage disk(dev, options);
    REQUIRE_FALSE(disk.start());
    CHECK(disk.command_set() == firmware::CommandSet::Block);
    CHECK(disk.identity().serial == EmulatedMscDevice::kUnitSerial);
    CHECK(disk.identity().revision == EmulatedMscDevice::kRevision);
    CHECK_FALSE(disk.identity().used_read_capacity_16);
    const std::uint64_t blocks = disk.identity().block_count;
    REQUIRE(blocks == 73728);
    std::vector<std::uint8_t> buf(blocks * 512);
    const auto ec = disk.read_blocks(0, blocks, buf);
    INFO(disk.last_error());
    REQUIRE_FALSE(ec);
    CHECK(buf == read_file(image));
    CHECK(dev->count_opcode(0x88) == 1);
    CHECK(disk.filter_counters().refused == 0);
    CHECK(disk.filter_counters().passed == dev->received().size());
    // Out of range asks fail without touching the device.
    const auto before = dev->received().size();
    CHECK(disk.read_blocks(blocks - 1, 2, buf) == std::errc::invalid_argument);
    CHECK(dev->received().size() == before);
    check_clean_wire(*dev);
    CHECK(seal.unchanged());
}

TEST_CASE("usb: sources that do not exist or are misnamed fail with one sentence", "[usb]") {
    auto bad = open_source("usb:xyz");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().kind == ErrorKind::InvalidArgument);
    CHECK(bad.error().message.find("usb:VID:PID") != std::string::npos);

    auto absent = open_source("usb:ffff:fffe:NO-SUCH-SERIAL");
    REQUIRE_FALSE(absent);
    const std::string& m = absent.error().message;
    INFO(m);
    CHECK(m.find("usb:ffff:fffe:NO-SUCH-SERIAL") != std::string::npos);
    CHECK(m.find('\n') == std::string::npos);
}
