#include "exhibit/platform/usb_mass_storage.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <thread>
#include <utility>

namespace exhibit::platform {

namespace fw = exhibit::firmware;

namespace {

constexpr std::uint8_t kSenseNotReady = 0x02;

std::error_code errc(std::errc e) {
    return std::make_error_code(e);
}

std::uint32_t be32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
}

std::uint64_t be64(const std::uint8_t* p) {
    return (std::uint64_t{be32(p)} << 32) | be32(p + 4);
}

void put_be(std::uint8_t* p, std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) {
        p[i] = static_cast<std::uint8_t>(v & 0xFF);
        v >>= 8;
    }
}

// INQUIRY strings are space-padded ASCII; a few devices pad with NULs instead.
std::string trimmed(const std::uint8_t* p, std::size_t n) {
    std::string s;
    for (std::size_t i = 0; i < n; ++i) {
        const char c = static_cast<char>(p[i]);
        s.push_back(c >= 0x20 && c < 0x7F ? c : ' ');
    }
    const auto first = s.find_first_not_of(' ');
    if (first == std::string::npos) return {};
    return s.substr(first, s.find_last_not_of(' ') - first + 1);
}

std::string hex2(unsigned v) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%02Xh", v & 0xFF);
    return buf;
}

std::string sense_text(const fw::SenseCode& s) {
    return "sense key " + hex2(s.key) + ", ASC/ASCQ " + hex2(s.asc) + "/" + hex2(s.ascq);
}

// Transport errors worth another try after reset recovery; the rest end the read.
bool retryable(std::error_code ec) {
    return ec == std::errc::protocol_error || ec == std::errc::timed_out ||
           ec == std::errc::io_error || ec == std::errc::broken_pipe ||
           ec == std::errc::value_too_large;
}

}  // namespace

std::string format_usb_id(std::uint16_t vendor_id, std::uint16_t product_id) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04x:%04x", vendor_id, product_id);
    return buf;
}

struct UsbMassStorage::Outcome {
    std::size_t transferred = 0;
    fw::CswCheck check = fw::CswCheck::WrongLength;
    fw::CommandStatusWrapper csw;
};

UsbMassStorage::UsbMassStorage(std::shared_ptr<UsbTransport> transport,
                               UsbMassStorageOptions options)
    : transport_(std::move(transport)), options_(options) {
    if (options_.attempts < 1) options_.attempts = 1;
    if (options_.ready_attempts < 1) options_.ready_attempts = 1;
}

std::error_code UsbMassStorage::fail(std::error_code ec, std::string sentence) {
    last_error_ = std::move(sentence);
    return ec;
}

std::error_code UsbMassStorage::reset_recovery() {
    ++recovery_.resets;
    std::error_code first;
    for (auto ec : {transport_->bulk_only_reset(), transport_->clear_halt(UsbEndpoint::BulkIn),
                    transport_->clear_halt(UsbEndpoint::BulkOut)}) {
        if (ec == std::errc::no_such_device) gone_ = true;
        if (ec && !first) first = ec;
    }
    return gone_ ? errc(std::errc::no_such_device) : first;
}

// One BOT transaction: CBW, data-in phase (when `data` is not empty), CSW.
std::error_code UsbMassStorage::command(std::span<const std::uint8_t> cdb,
                                        std::span<std::uint8_t> data,
                                        std::chrono::milliseconds timeout, Outcome& out) {
    out = {};
    const auto gone = [this] {
        gone_ = true;
        return fail(errc(std::errc::no_such_device),
                    transport_->description() + " is no longer on the bus");
    };
    if (gone_) return gone();

    // The write-block check: a refused command is never sent.
    const fw::FilterDecision decision = filter_.decide(cdb);
    if (!decision.passed()) {
        return fail(errc(std::errc::operation_not_permitted),
                    std::string("the write-block filter refused ") + decision.name + " (" +
                        fw::to_string(decision.reason) + "); it was not sent to " +
                        transport_->description());
    }

    fw::CommandBlockWrapper cbw;
    const std::uint32_t tag = next_tag_++;
    if (next_tag_ == 0) next_tag_ = 1;
    if (fw::make_cbw(tag, static_cast<std::uint32_t>(data.size()), fw::Direction::In, 0, cdb,
                     cbw) != fw::CbwError::None) {
        return fail(errc(std::errc::invalid_argument),
                    "cannot frame a " + std::to_string(cdb.size()) + "-byte command block");
    }
    const fw::CbwBytes wire = fw::encode_cbw(cbw);
    std::size_t n = 0;
    std::error_code ec = transport_->bulk_out(wire, n, options_.command_timeout);
    if (ec == std::errc::no_such_device) return gone();
    if (ec || n != wire.size()) {
        if (reset_recovery() == std::errc::no_such_device) return gone();
        return ec ? ec : errc(std::errc::io_error);
    }

    if (!data.empty()) {
        ec = transport_->bulk_in(data, out.transferred, timeout);
        if (ec == std::errc::no_such_device) return gone();
        if (ec == std::errc::broken_pipe) {
            // The device ended the data phase with a stall (BOT 6.7.2): clear it, then
            // the CSW says what happened.
            ++recovery_.stalls;
            ec = transport_->clear_halt(UsbEndpoint::BulkIn);
            if (ec == std::errc::no_such_device) return gone();
        }
        if (ec) {
            if (reset_recovery() == std::errc::no_such_device) return gone();
            return ec;
        }
    }

    fw::CswBytes raw{};
    std::size_t got = 0;
    for (int attempt = 0;; ++attempt) {
        ec = transport_->bulk_in(raw, got, options_.command_timeout);
        if (ec == std::errc::no_such_device) return gone();
        // A stalled CSW read is cleared and tried once more (BOT 5.3.3, figure 2).
        if (ec == std::errc::broken_pipe && attempt == 0) {
            ++recovery_.stalls;
            if (transport_->clear_halt(UsbEndpoint::BulkIn) == std::errc::no_such_device) {
                return gone();
            }
            continue;
        }
        break;
    }
    if (ec) {
        if (reset_recovery() == std::errc::no_such_device) return gone();
        return ec;
    }
    out.check = fw::check_csw(std::span<const std::uint8_t>(raw.data(), got), cbw, out.csw);
    if (fw::recovery_for(out.check) == fw::CswRecovery::ResetRecovery) {
        // Whatever the data phase delivered cannot be trusted either.
        out.transferred = 0;
        if (reset_recovery() == std::errc::no_such_device) return gone();
        return fail(errc(std::errc::protocol_error),
                    transport_->description() + " answered " + decision.name +
                        " with a CSW that fails BOT checks (" + fw::to_string(out.check) + ")");
    }
    return {};
}

std::error_code UsbMassStorage::request_sense(fw::SenseCode& sense) {
    sense = {};
    const std::array<std::uint8_t, 6> cdb{0x03, 0, 0, 0, fw::kFixedSenseLength, 0};
    std::array<std::uint8_t, fw::kFixedSenseLength> data{};
    Outcome o;
    if (auto ec = command(cdb, data, options_.command_timeout, o)) return ec;
    const std::size_t n = std::min(
        o.transferred, data.size() - std::min<std::size_t>(data.size(), o.csw.data_residue));
    if (o.check != fw::CswCheck::Passed || n < 4) return errc(std::errc::io_error);
    const std::uint8_t code = data[0] & 0x7F;
    if ((code == 0x72 || code == 0x73)) {  // descriptor format
        sense = {static_cast<std::uint8_t>(data[1] & 0x0F), data[2], data[3]};
    } else if (n >= 14) {
        sense = {static_cast<std::uint8_t>(data[2] & 0x0F), data[12], data[13]};
    } else {
        sense = {static_cast<std::uint8_t>(data[2] & 0x0F), 0, 0};
    }
    return {};
}

std::error_code UsbMassStorage::scsi(std::span<const std::uint8_t> cdb,
                                     std::span<std::uint8_t> data, std::size_t& transferred,
                                     fw::SenseCode& sense, bool& failed) {
    transferred = 0;
    sense = {};
    failed = false;
    Outcome o;
    if (auto ec = command(cdb, data, options_.data_timeout, o)) return ec;
    if (o.check == fw::CswCheck::Failed) {
        failed = true;
        if (auto ec = request_sense(sense); ec == std::errc::no_such_device) return ec;
        return {};
    }
    // Trust neither side alone: the bytes that arrived, less any the device disowns.
    const std::size_t residue = std::min<std::size_t>(data.size(), o.csw.data_residue);
    transferred = std::min(o.transferred, data.size() - residue);
    return {};
}

std::error_code UsbMassStorage::start() {
    last_error_.clear();
    const std::string dev = transport_->description();

    std::uint8_t max_lun = 0;
    if (auto ec = transport_->get_max_lun(max_lun); ec == std::errc::no_such_device) {
        gone_ = true;
        return fail(ec, dev + " disappeared before it could be read");
    } else if (ec) {
        max_lun = 0;  // single-LUN devices may stall Get Max LUN
    }
    identity_.max_lun = max_lun;

    // INQUIRY, standard data.
    std::array<std::uint8_t, 36> inq{};
    std::size_t n = 0;
    fw::SenseCode sense;
    bool failed = false;
    std::error_code ec;
    for (int attempt = 0; attempt < options_.attempts; ++attempt) {
        const std::array<std::uint8_t, 6> cdb{0x12, 0, 0, 0, static_cast<std::uint8_t>(inq.size()),
                                              0};
        ec = scsi(cdb, inq, n, sense, failed);
        if (!ec && !failed && n >= 5) break;
        if (ec && !retryable(ec)) break;
        ++recovery_.retries;
    }
    if (ec == std::errc::no_such_device) return fail(ec, dev + " disappeared during INQUIRY");
    if (ec || failed || n < 5) {
        return fail(ec ? ec : errc(std::errc::io_error),
                    dev + " did not answer INQUIRY" +
                        (failed ? " (" + sense_text(sense) + ")"
                         : ec   ? " (" + ec.message() + ")"
                                : ""));
    }
    identity_.peripheral_device_type = inq[0] & 0x1F;
    identity_.removable = (inq[1] & 0x80) != 0;
    filter_.set_command_set(fw::command_set_for_inquiry_byte0(inq[0]));
    if (n >= 16) identity_.vendor = trimmed(&inq[8], 8);
    if (n >= 32) identity_.product = trimmed(&inq[16], 16);
    if (n >= 36) identity_.revision = trimmed(&inq[32], 4);

    read_identity_vpd();
    if (gone_) return fail(errc(std::errc::no_such_device), dev + " disappeared during INQUIRY");

    if (filter_.command_set() != fw::CommandSet::Block) {
        return fail(errc(std::errc::not_supported),
                    dev + " reports peripheral device type " +
                        hex2(identity_.peripheral_device_type) +
                        ", not a direct-access block device; only disks can be read");
    }
    if (auto e = wait_ready()) return e;
    return read_capacity();
}

void UsbMassStorage::read_identity_vpd() {
    // VPD 00h lists the pages the device has; asking for one it lacks is harmless but
    // some bridges take it badly, so ask for 80h only when listed.
    std::array<std::uint8_t, 255> page{};
    std::size_t n = 0;
    fw::SenseCode sense;
    bool failed = false;
    const std::array<std::uint8_t, 6> supported{0x12, 0x01, 0x00, 0, 0xFF, 0};
    if (scsi(supported, page, n, sense, failed) || failed || n < 4) return;
    const std::size_t listed = std::min<std::size_t>(n - 4, page[3]);
    if (std::find(page.begin() + 4, page.begin() + 4 + static_cast<std::ptrdiff_t>(listed), 0x80) ==
        page.begin() + 4 + static_cast<std::ptrdiff_t>(listed)) {
        return;
    }
    page.fill(0);
    const std::array<std::uint8_t, 6> serial{0x12, 0x01, 0x80, 0, 0xFF, 0};
    if (scsi(serial, page, n, sense, failed) || failed || n < 4 || page[1] != 0x80) return;
    const std::size_t len = std::min<std::size_t>(n - 4, page[3]);
    identity_.serial = trimmed(&page[4], len);
}

std::error_code UsbMassStorage::wait_ready() {
    const std::string dev = transport_->description();
    fw::SenseCode sense;
    std::error_code ec;
    for (int attempt = 0; attempt < options_.ready_attempts; ++attempt) {
        const std::array<std::uint8_t, 6> tur{0x00, 0, 0, 0, 0, 0};
        std::size_t n = 0;
        bool failed = false;
        ec = scsi(tur, {}, n, sense, failed);
        if (ec == std::errc::no_such_device) return fail(ec, dev + " disappeared during start-up");
        if (ec && !retryable(ec)) {
            if (ec == std::errc::operation_not_permitted) return ec;
            return fail(ec, dev + " failed TEST UNIT READY (" + ec.message() + ")");
        }
        if (!ec && !failed) return {};
        ++recovery_.retries;
        // UNIT ATTENTION (medium changed, power on) clears by being reported; NOT READY
        // (spinning up, card reader waking) needs time.
        if (!ec && sense.key == kSenseNotReady)
            std::this_thread::sleep_for(options_.not_ready_wait);
    }
    return fail(errc(std::errc::io_error),
                dev + " did not become ready after " + std::to_string(options_.ready_attempts) +
                    " TEST UNIT READY attempts (" + (ec ? ec.message() : sense_text(sense)) + ")");
}

std::error_code UsbMassStorage::read_capacity() {
    const std::string dev = transport_->description();
    std::array<std::uint8_t, 32> data{};
    std::size_t n = 0;
    fw::SenseCode sense;
    bool failed = false;
    std::error_code ec;
    const auto ask = [&](std::span<const std::uint8_t> cdb, std::size_t want) {
        for (int attempt = 0; attempt < options_.attempts; ++attempt) {
            data.fill(0);
            ec = scsi(cdb, std::span<std::uint8_t>(data.data(), want), n, sense, failed);
            if (ec && !retryable(ec)) return;
            if (!ec && !failed && n >= want) return;
            ++recovery_.retries;
        }
    };
    const auto trouble = [&](const char* what) {
        if (ec == std::errc::operation_not_permitted) return ec;  // the filter said why
        if (ec == std::errc::no_such_device) {
            return fail(ec, dev + " disappeared during " + what);
        }
        return fail(ec ? ec : errc(std::errc::io_error), dev + " did not answer " + what + " (" +
                                                             (ec       ? ec.message()
                                                              : failed ? sense_text(sense)
                                                                       : "short answer") +
                                                             ")");
    };

    const std::array<std::uint8_t, 10> rc10{0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    ask(rc10, 8);
    if (ec || failed || n < 8) return trouble("READ CAPACITY(10)");
    std::uint64_t last_lba = be32(&data[0]);
    std::uint32_t block_size = be32(&data[4]);
    if (last_lba == 0xFFFFFFFFu) {
        // 2^32 blocks or more: only READ CAPACITY(16) can say how many.
        std::array<std::uint8_t, 16> rc16{0x9E, 0x10};
        put_be(&rc16[10], 32, 4);
        ask(rc16, 32);
        if (ec || failed || n < 12) return trouble("READ CAPACITY(16)");
        last_lba = be64(&data[0]);
        block_size = be32(&data[8]);
        identity_.used_read_capacity_16 = true;
    }
    if (block_size == 0 || block_size > (1u << 20) || last_lba == ~std::uint64_t{0}) {
        return fail(errc(std::errc::io_error), dev + " reported an impossible capacity (" +
                                                   std::to_string(last_lba) + " last block, " +
                                                   std::to_string(block_size) + "-byte blocks)");
    }
    identity_.block_size = block_size;
    identity_.block_count = last_lba + 1;
    return {};
}

std::error_code UsbMassStorage::read_blocks(std::uint64_t lba, std::uint64_t count,
                                            std::span<std::uint8_t> buffer) {
    const std::uint32_t bs = identity_.block_size;
    if (bs == 0) return fail(errc(std::errc::invalid_argument), "the device was not started");
    if (lba > identity_.block_count || count > identity_.block_count - lba ||
        buffer.size() / bs < count) {
        return fail(errc(std::errc::invalid_argument),
                    "blocks " + std::to_string(lba) + "+" + std::to_string(count) +
                        " are outside " + transport_->description() + " or the buffer");
    }
    const std::uint64_t per_command = std::max<std::uint64_t>(
        1, std::min<std::uint64_t>(options_.max_transfer_bytes / bs, 0xFFFFFFFFu / bs));
    std::uint8_t* out = buffer.data();
    while (count > 0) {
        const auto blocks = static_cast<std::uint32_t>(std::min(count, per_command));
        if (auto ec = read_chunk(lba, blocks, out)) return ec;
        lba += blocks;
        count -= blocks;
        out += std::size_t{blocks} * bs;
    }
    return {};
}

std::error_code UsbMassStorage::read_chunk(std::uint64_t lba, std::uint32_t blocks,
                                           std::uint8_t* out) {
    const std::uint32_t bs = identity_.block_size;
    const std::uint64_t first = lba;
    int failures = 0;
    while (blocks > 0) {
        std::array<std::uint8_t, 16> cdb{};
        std::size_t cdb_length = 10;
        if (lba + blocks - 1 <= 0xFFFFFFFFu && blocks <= 0xFFFFu) {
            cdb[0] = 0x28;  // READ(10)
            put_be(&cdb[2], lba, 4);
            put_be(&cdb[7], blocks, 2);
        } else {
            cdb[0] = 0x88;  // READ(16)
            put_be(&cdb[2], lba, 8);
            put_be(&cdb[10], blocks, 4);
            cdb_length = 16;
        }
        std::size_t got = 0;
        fw::SenseCode sense;
        bool failed = false;
        const std::error_code ec =
            scsi(std::span<const std::uint8_t>(cdb.data(), cdb_length),
                 std::span<std::uint8_t>(out, std::size_t{blocks} * bs), got, sense, failed);
        if (ec == std::errc::no_such_device) {
            return fail(ec, transport_->description() + " disappeared while reading block " +
                                std::to_string(lba));
        }
        if (ec && !retryable(ec)) {
            if (ec == std::errc::operation_not_permitted) return ec;
            return fail(ec, transport_->description() + " failed to read block " +
                                std::to_string(lba) + " (" + ec.message() + ")");
        }
        const auto whole = static_cast<std::uint32_t>(got / bs);
        if (!ec && !failed && whole == blocks) return {};
        if (!ec && !failed && whole > 0) {
            // A short transfer: keep the whole blocks that arrived, ask again for the rest.
            ++recovery_.short_reads;
            lba += whole;
            blocks -= whole;
            out += std::size_t{whole} * bs;
            failures = 0;
            continue;
        }
        if (!ec && !failed) ++recovery_.short_reads;
        ++recovery_.retries;
        if (++failures >= options_.attempts) {
            const std::string why = ec       ? ec.message()
                                    : failed ? sense_text(sense)
                                             : std::string("no data arrived");
            return fail(errc(std::errc::io_error),
                        transport_->description() + " failed to read blocks " +
                            std::to_string(first) + "-" + std::to_string(lba + blocks - 1) +
                            " after " + std::to_string(failures) + " attempts at block " +
                            std::to_string(lba) + " (" + why + ")");
        }
    }
    return {};
}

}  // namespace exhibit::platform
