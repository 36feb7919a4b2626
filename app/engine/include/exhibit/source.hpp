// Evidence sources: one read-only, positional, sector-aware interface over every
// container an examiner hands us.
//
//   auto src = open_source("/cases/JD1/image.E01");
//   if (!src) { report(src.error()); return; }
//   std::vector<std::byte> buf(1 << 20);
//   auto n = (*src)->read_at(0, buf);
//
// Contents
//   SourceInfo      what a source is: kind, size, sector size, segments, metadata
//   Source          the read interface
//   open_source     picks the right reader from what the path is and what its bytes say
//   open_*          the individual readers, for callers that already know the kind
//
// Promises
// - Nothing here opens anything for writing. Files are opened O_RDONLY (O_NOATIME where
//   the kernel allows it, so not even the access time of an image file moves). Block
//   devices are opened O_RDONLY and refused unless the kernel read-only flag is set or a
//   hardware write-blocker is declared.
// - read_at never returns data it did not read: an unreadable range is an Error
//   (ErrorKind::Io with the errno), never zeros. Zero-filling is the acquirer's
//   decision, recorded as such.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "exhibit/error.hpp"

namespace exhibit::platform {
class UsbTransport;
}

namespace exhibit {

enum class SourceKind { Raw, SplitRaw, Ewf, BlockDevice, UsbMassStorage };
const char* to_string(SourceKind kind);

// What an E01/Ex01 says about itself.
struct EwfMetadata {
    std::map<std::string, std::string> header;  // libewf identifiers: case_number, notes, ...
    std::string stored_md5;                     // lowercase hex, empty when absent
    std::string stored_sha1;
    std::string format;       // e.g. "EnCase 6"
    std::string compression;  // none, fast, best
    std::uint64_t chunk_size = 0;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> acquiry_errors;  // (sector, count)
};

// What the OS says about a block device.
struct DeviceIdentity {
    std::string name;  // kernel name, e.g. sdb
    std::string bus;   // usb, ata, nvme, mmc, virtual, ...
    std::string vendor;
    std::string model;
    std::string serial;
    std::string usb_id;  // VID:PID for USB devices, else empty
    bool removable = false;
    bool kernel_read_only = false;  // BLKROGET at open time
    std::string hardware_blocker;   // as declared by the operator, else empty
};

struct SourceInfo {
    SourceKind kind = SourceKind::Raw;
    std::string path;                   // as the operator named it
    std::vector<std::string> segments;  // every file that makes up the source, in order
    std::uint64_t size = 0;             // bytes of media
    std::uint32_t sector_size = 512;    // logical sector size
    std::optional<EwfMetadata> ewf;
    std::optional<DeviceIdentity> device;
};

// What a user-space write-block path did while a source was open: the SCSI commands its
// filter passed and refused, and the recoveries the device needed. Only sources that send
// commands to the device themselves (usb:) keep these.
struct WriteBlockCounters {
    std::uint64_t commands_passed = 0;
    std::uint64_t commands_refused = 0;
    std::vector<std::pair<std::uint8_t, std::uint64_t>> refused_by_opcode;  // opcode, count
    std::uint64_t resets = 0, stalls = 0, short_reads = 0, retries = 0;
};

class Source {
  public:
    virtual ~Source() = default;

    // The write-block filter's counters so far, for sources that have one.
    virtual std::optional<WriteBlockCounters> write_block_counters() const { return std::nullopt; }

    virtual const SourceInfo& info() const = 0;

    // Reads up to buffer.size() bytes starting at `offset`. Returns the number of bytes
    // read: 0 at or past the end; fewer than asked only when the read crosses the end or
    // the device returned a short read (callers that need every byte loop, see
    // read_fully). Safe to call from several threads at once.
    virtual Expected<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> buffer) = 0;

    // Plain files and block devices read with pread(2): their read-only descriptors, so a
    // sandboxed parser worker can read them itself (triage/walk_worker.hpp). Empty for
    // everything else (E01, usb:, fault wrappers), which is read through read_at.
    struct Descriptor {
        int fd = -1;              // open O_RDONLY; owned by the source
        std::uint64_t start = 0;  // media offset of its first byte
        std::uint64_t size = 0;
        std::string path;     // what read errors name
        bool device = false;  // a block device (its errors say so)
    };
    virtual std::vector<Descriptor> read_descriptors() const { return {}; }
};

// The source's identity as a JSON document (kind, size, segments, device, E01 metadata),
// the same object the acquisition record carries under "source".
std::string source_info_json(const SourceInfo& source);

// Loops over short reads until `buffer` is full or the source ends. Returns bytes read.
Expected<std::size_t> read_fully(Source& source, std::uint64_t offset, std::span<std::byte> buffer);

struct OpenOptions {
    // "make model serial" of a hardware write-blocker the operator vouches for. Allows a
    // block device whose kernel read-only flag is off to be opened; it is recorded in
    // DeviceIdentity::hardware_blocker.
    std::string hardware_blocker;
};

// Opens `path` as whatever it is: `usb:VID:PID[:SERIAL]` (hex, as lsusb prints them) for
// a USB mass-storage device read through libusb (see open_usb_mass_storage), a block device, an
// E01/Ex01 (by signature, segments found from the first), split raw (`.000/.001…`, `.001/.002…`,
// `.aa/.ab…` when the next segment exists), else a single raw file.
Expected<std::unique_ptr<Source>> open_source(const std::filesystem::path& path,
                                              const OpenOptions& options = {});

Expected<std::unique_ptr<Source>> open_raw(const std::filesystem::path& path);
// `segments` in order; their sizes add up to the media size.
Expected<std::unique_ptr<Source>> open_split_raw(const std::vector<std::filesystem::path>& segments,
                                                 const std::string& display_path);
Expected<std::unique_ptr<Source>> open_ewf(const std::filesystem::path& first_segment);
Expected<std::unique_ptr<Source>> open_block_device(const std::filesystem::path& path,
                                                    const OpenOptions& options);

// A USB mass-storage device read in user space through libusb: the kernel driver is
// detached, so no block device exists to mount, and every SCSI command passes the
// firmware write-block filter before it is sent (only read-class commands do).
// `spec` is `usb:VID:PID[:SERIAL]`. The identity comes from INQUIRY and VPD page 80h,
// the size from READ CAPACITY.
Expected<std::unique_ptr<Source>> open_usb_mass_storage(const std::string& spec);
// The same over a transport already made (an emulated device in the tests); `path` is
// what SourceInfo::path will say.
Expected<std::unique_ptr<Source>> open_usb_mass_storage(
    std::shared_ptr<platform::UsbTransport> transport, const std::string& path);

// The segments of a split raw image named by its first segment, in order, or an empty
// list when `first` does not follow a split naming scheme or has no second segment.
std::vector<std::filesystem::path> find_split_raw_segments(const std::filesystem::path& first);

// Test-only fault injection: wraps a source and makes chosen reads fail the way real
// failing hardware does.
struct FaultPlan {
    struct Range {
        std::uint64_t offset = 0;
        std::uint64_t length = 0;
    };
    std::vector<Range> unreadable;             // any read touching these fails with EIO
    std::size_t max_read = 0;                  // > 0: each read returns at most this much
    std::optional<std::uint64_t> eio_from;     // reads touching [eio_from, end) fail: EIO
    std::optional<std::uint64_t> vanish_from;  // ... fail with ENODEV: the device is gone
    std::optional<std::uint64_t> ends_at;      // the media stops here though size says more
};
std::unique_ptr<Source> make_faulty_source(std::unique_ptr<Source> inner, FaultPlan plan);

}  // namespace exhibit
