#include "emulated_msc_device.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace exhibit::test {

namespace fw = exhibit::firmware;

namespace {

std::uint64_t be(const std::uint8_t* p, int bytes) {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i)
        v = (v << 8) | p[i];
    return v;
}

void put_be(std::uint8_t* p, std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) {
        p[i] = static_cast<std::uint8_t>(v & 0xFF);
        v >>= 8;
    }
}

void put_padded(std::vector<std::uint8_t>& out, std::size_t at, const char* text, std::size_t n) {
    const std::size_t len = std::strlen(text);
    for (std::size_t i = 0; i < n; ++i) {
        out[at + i] = static_cast<std::uint8_t>(i < len ? text[i] : ' ');
    }
}

std::error_code errc(std::errc e) {
    return std::make_error_code(e);
}

}  // namespace

EmulatedMscDevice::EmulatedMscDevice(const std::filesystem::path& image, EmulatedFaults faults,
                                     std::uint32_t block_size)
    : block_size_(block_size), faults_(faults) {
    if (auto ec = platform::open_read_only(image, fd_)) {
        throw std::runtime_error("emulated device: cannot open " + image.string());
    }
    struct stat st {};
    if (::fstat(fd_.get(), &st) != 0) throw std::runtime_error("emulated device: cannot stat");
    image_blocks_ = static_cast<std::uint64_t>(st.st_size) / block_size_;
}

std::error_code EmulatedMscDevice::gone() {
    vanished_ = true;
    return errc(std::errc::no_such_device);
}

std::error_code EmulatedMscDevice::bulk_out(std::span<const std::uint8_t> data,
                                            std::size_t& transferred, std::chrono::milliseconds) {
    std::lock_guard lock(mutex_);
    transferred = 0;
    if (vanished_) return gone();
    if (out_halted_) return errc(std::errc::broken_pipe);
    transferred = data.size();

    fw::CommandBlockWrapper cbw;
    const fw::CbwError cbw_error = fw::decode_cbw(data, cbw, 0);
    if (phase_ != Phase::Command || cbw_error != fw::CbwError::None ||
        (cbw.direction == fw::Direction::Out && cbw.data_transfer_length > 0)) {
        // Invalid or unexpected: stall both pipes until reset recovery (BOT 6.6.1).
        needs_reset_ = in_halted_ = out_halted_ = true;
        return {};
    }
    ReceivedCommand rec;
    rec.tag = cbw.tag;
    rec.cdb.assign(cbw.command().begin(), cbw.command().end());
    rec.decision = fw::evaluate_cdb(cbw.command(), fw::CommandSet::Block);
    received_.push_back(rec);

    const std::uint8_t opcode = rec.cdb.empty() ? 0 : rec.cdb[0];
    Response r = execute(cbw);
    const std::uint32_t length = cbw.data_transfer_length;
    std::size_t send = std::min<std::size_t>(r.data.size(), length);
    fw::CswStatus status = r.check_condition ? fw::CswStatus::Failed : fw::CswStatus::Passed;
    if (faults_.stall_opcode && *faults_.stall_opcode == opcode && faults_.stall_count > 0 &&
        length > 0) {
        --faults_.stall_count;
        send = 0;
        in_halted_ = true;  // the host sees STALL instead of data, clears it, reads the CSW
        status = fw::CswStatus::Failed;
        sense_ = {0x0B, 0x4B, 0x00};  // ABORTED COMMAND, DATA PHASE ERROR
    } else if ((opcode == 0x28 || opcode == 0x88) && !r.check_condition &&
               faults_.short_transfer_count > 0 && faults_.short_transfer_bytes < send) {
        --faults_.short_transfer_count;
        send = faults_.short_transfer_bytes;
    }
    data_.assign(r.data.begin(), r.data.begin() + static_cast<std::ptrdiff_t>(send));
    data_pos_ = 0;
    phase_ = data_.empty() ? Phase::Status : Phase::DataIn;

    fw::CommandStatusWrapper csw =
        fw::make_csw(cbw, static_cast<std::uint32_t>(length - send), status);
    csw_length_ = fw::kCswLength;
    bool bad_signature = false;
    if (faults_.csw_fault != EmulatedFaults::CswFault::None && faults_.csw_fault_count > 0 &&
        opcode == faults_.csw_fault_opcode) {
        --faults_.csw_fault_count;
        switch (faults_.csw_fault) {
            case EmulatedFaults::CswFault::WrongTag:
                csw.tag ^= 0x5A5A0000u;
                break;
            case EmulatedFaults::CswFault::BadLength:
                csw_length_ = fw::kCswLength - 1;
                break;
            case EmulatedFaults::CswFault::BadSignature:
                bad_signature = true;
                break;
            case EmulatedFaults::CswFault::None:
                break;
        }
    }
    csw_ = fw::encode_csw(csw);
    if (bad_signature) csw_[3] = 'X';  // "USBX"
    return {};
}

std::error_code EmulatedMscDevice::bulk_in(std::span<std::uint8_t> buffer, std::size_t& transferred,
                                           std::chrono::milliseconds) {
    std::lock_guard lock(mutex_);
    transferred = 0;
    if (vanished_) return gone();
    if (in_halted_) return errc(std::errc::broken_pipe);
    switch (phase_) {
        case Phase::Command:
            return errc(std::errc::timed_out);  // nothing to send
        case Phase::DataIn: {
            // Sends what is left, or what fits; a short packet ends the transfer early.
            std::size_t n = std::min(buffer.size(), data_.size() - data_pos_);
            if (faults_.vanish_after_bytes && data_bytes_sent_ + n > *faults_.vanish_after_bytes) {
                return gone();
            }
            std::memcpy(buffer.data(), data_.data() + data_pos_, n);
            data_pos_ += n;
            data_bytes_sent_ += n;
            transferred = n;
            if (data_pos_ == data_.size()) phase_ = Phase::Status;
            return {};
        }
        case Phase::Status: {
            const std::size_t n = std::min(buffer.size(), csw_length_);
            std::memcpy(buffer.data(), csw_.data(), n);
            transferred = n;
            phase_ = Phase::Command;
            return {};
        }
    }
    return errc(std::errc::io_error);
}

std::error_code EmulatedMscDevice::bulk_only_reset() {
    std::lock_guard lock(mutex_);
    if (vanished_) return gone();
    ++resets_;
    needs_reset_ = false;
    phase_ = Phase::Command;
    data_.clear();
    data_pos_ = 0;
    return {};
}

std::error_code EmulatedMscDevice::get_max_lun(std::uint8_t& max_lun) {
    std::lock_guard lock(mutex_);
    if (vanished_) return gone();
    max_lun = 0;
    return {};
}

std::error_code EmulatedMscDevice::clear_halt(platform::UsbEndpoint endpoint) {
    std::lock_guard lock(mutex_);
    if (vanished_) return gone();
    ++halts_cleared_;
    // After an invalid CBW the stalls persist until a reset (BOT 6.6.1).
    if (needs_reset_) return {};
    (endpoint == platform::UsbEndpoint::BulkIn ? in_halted_ : out_halted_) = false;
    return {};
}

platform::UsbDeviceIds EmulatedMscDevice::ids() const {
    return {kVendorId, kProductId, kUsbSerial};
}

std::string EmulatedMscDevice::description() const {
    return "USB device " + platform::format_usb_id(kVendorId, kProductId) + " (serial " +
           kUsbSerial + ")";
}

EmulatedMscDevice::Response EmulatedMscDevice::check_condition(std::uint8_t key, std::uint8_t asc,
                                                               std::uint8_t ascq) {
    sense_ = {key, asc, ascq};
    return {{}, true};
}

EmulatedMscDevice::Response EmulatedMscDevice::execute(const fw::CommandBlockWrapper& cbw) {
    const auto cdb = cbw.command();
    const std::uint8_t opcode = cdb[0];
    const std::uint64_t blocks = faults_.reported_blocks.value_or(image_blocks_);
    Response r;
    switch (opcode) {
        case 0x00:  // TEST UNIT READY
            if (faults_.unit_attention_on_first_tur && !tur_seen_) {
                tur_seen_ = true;
                return check_condition(0x06, 0x29, 0x00);  // POWER ON, RESET
            }
            tur_seen_ = true;
            sense_ = {};
            return r;
        case 0x03: {  // REQUEST SENSE
            const fw::SenseBytes s = fw::make_fixed_sense(sense_);
            r.data.assign(s.begin(), s.end());
            r.data.resize(std::min<std::size_t>(r.data.size(), cdb.size() > 4 ? cdb[4] : 0));
            sense_ = {};
            return r;
        }
        case 0x12: {  // INQUIRY
            if (cdb.size() < 6) return check_condition(0x05, 0x24, 0x00);
            const std::size_t alloc = be(&cdb[3], 2);
            if (cdb[1] & 0x01) {
                if (cdb[2] == 0x00) {
                    r.data = {faults_.peripheral_device_type, 0x00, 0x00, 0x02, 0x00, 0x80};
                } else if (cdb[2] == 0x80) {
                    const std::size_t len = std::strlen(kUnitSerial);
                    r.data = {faults_.peripheral_device_type, 0x80, 0x00,
                              static_cast<std::uint8_t>(len)};
                    r.data.insert(r.data.end(), kUnitSerial, kUnitSerial + len);
                } else {
                    return check_condition(0x05, 0x24, 0x00);
                }
            } else {
                r.data.assign(36, 0);
                r.data[0] = faults_.peripheral_device_type;
                r.data[1] = 0x80;  // removable
                r.data[2] = 0x06;  // SPC-4
                r.data[3] = 0x02;
                r.data[4] = 31;
                put_padded(r.data, 8, kVendor, 8);
                put_padded(r.data, 16, kProduct, 16);
                put_padded(r.data, 32, kRevision, 4);
            }
            if (r.data.size() > alloc) r.data.resize(alloc);
            sense_ = {};
            return r;
        }
        case 0x1A: {  // MODE SENSE(6): header only, with the WP bit set
            r.data = {3, 0x00, 0x80, 0x00};
            if (cdb.size() > 4 && r.data.size() > cdb[4]) r.data.resize(cdb[4]);
            return r;
        }
        case 0x25: {  // READ CAPACITY(10)
            r.data.assign(8, 0);
            put_be(&r.data[0], std::min<std::uint64_t>(blocks - 1, 0xFFFFFFFFu), 4);
            put_be(&r.data[4], block_size_, 4);
            return r;
        }
        case 0x9E: {  // SERVICE ACTION IN(16)
            if (cdb.size() < 16 || (cdb[1] & 0x1F) != 0x10) return check_condition(0x05, 0x24, 0);
            r.data.assign(32, 0);
            put_be(&r.data[0], blocks - 1, 8);
            put_be(&r.data[8], block_size_, 4);
            const std::size_t alloc = be(&cdb[10], 4);
            if (r.data.size() > alloc) r.data.resize(alloc);
            return r;
        }
        case 0x28:    // READ(10)
        case 0x88: {  // READ(16)
            const bool ten = opcode == 0x28;
            if (cdb.size() < (ten ? 10u : 16u)) return check_condition(0x05, 0x24, 0x00);
            const std::uint64_t lba = ten ? be(&cdb[2], 4) : be(&cdb[2], 8);
            const std::uint64_t count = ten ? be(&cdb[7], 2) : be(&cdb[10], 4);
            if (lba > image_blocks_ || count > image_blocks_ - lba) {
                return check_condition(0x05, 0x21, 0x00);  // LBA OUT OF RANGE
            }
            const std::uint64_t bytes = count * block_size_;
            if (bytes > cbw.data_transfer_length) return check_condition(0x05, 0x24, 0x00);
            r.data.resize(static_cast<std::size_t>(bytes));
            std::size_t done = 0;
            while (done < r.data.size()) {
                const ssize_t n = ::pread(fd_.get(), r.data.data() + done, r.data.size() - done,
                                          static_cast<off_t>(lba * block_size_ + done));
                if (n <= 0) return check_condition(0x03, 0x11, 0x00);  // UNRECOVERED READ
                done += static_cast<std::size_t>(n);
            }
            return r;
        }
        default:
            return check_condition(0x05, 0x20, 0x00);  // INVALID COMMAND OPERATION CODE
    }
}

std::vector<ReceivedCommand> EmulatedMscDevice::received() const {
    std::lock_guard lock(mutex_);
    return received_;
}

std::size_t EmulatedMscDevice::forbidden_received() const {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(std::count_if(
        received_.begin(), received_.end(), [](const auto& c) { return !c.decision.passed(); }));
}

std::size_t EmulatedMscDevice::count_opcode(std::uint8_t opcode) const {
    std::lock_guard lock(mutex_);
    return static_cast<std::size_t>(
        std::count_if(received_.begin(), received_.end(),
                      [&](const auto& c) { return !c.cdb.empty() && c.cdb[0] == opcode; }));
}

std::uint64_t EmulatedMscDevice::resets() const {
    std::lock_guard lock(mutex_);
    return resets_;
}

std::uint64_t EmulatedMscDevice::halts_cleared() const {
    std::lock_guard lock(mutex_);
    return halts_cleared_;
}

bool EmulatedMscDevice::vanished() const {
    std::lock_guard lock(mutex_);
    return vanished_;
}

}  // namespace exhibit::test
