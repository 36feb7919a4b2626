// Acquisition: one sequential read of a source into a verified image, with MD5, SHA-1
// and SHA-256 computed from that same read.
//
//   AcquisitionPlan plan;
//   plan.format = ImageFormat::Ewf;
//   plan.out_dir = "/media/exhibit-out/JD1";
//   plan.case_info.case_number = "OP-BLUEBIRD";
//   JobProgress progress;
//   std::atomic<bool> cancel{false};
//   auto result = acquire(*source, plan, progress, cancel);
//
// Promises
// - Each byte is read once; hashes and the image writer consume the same buffer.
// - Unreadable sectors are retried, narrowed down to single sectors, zero-filled in the
//   image and listed exactly in the result (and, for E01, in its error section). Such a
//   run ends as CompletedWithErrors, never as a plain success.
// - Output files carry a `.partial` name until the image is finished and flushed. A run
//   that fails or is cancelled leaves them so named, with `<name>.acquisition.json`
//   saying why: nothing incomplete ever looks whole.
// - With `verify` on, the finished image is read back through the same readers a lab
//   would use (libewf for E01) and every hash is recomputed and compared.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "exhibit/error.hpp"
#include "exhibit/hashing.hpp"
#include "exhibit/progress.hpp"
#include "exhibit/source.hpp"

namespace exhibit {

enum class ImageFormat { Ewf, Raw, SplitRaw };
enum class Compression { None, Fast, Best };
const char* to_string(ImageFormat format);
const char* to_string(Compression compression);

// Case metadata written into the E01 header and the acquisition record.
struct CaseInfo {
    std::string case_number;
    std::string evidence_number;
    std::string examiner;
    std::string description;
    std::string notes;
};

struct AcquisitionPlan {
    ImageFormat format = ImageFormat::Ewf;
    std::filesystem::path out_dir;
    std::string basename = "image";
    // E01: maximum segment file size; split raw: segment size. 0 = format default
    // (1.4 GiB for E01 like ewfacquire, 2 GiB for split raw).
    std::uint64_t segment_size = 0;
    Compression compression = Compression::None;
    CaseInfo case_info;
    bool verify = true;
    std::size_t block_size = 4u << 20;  // bytes per sequential read
    int retries = 2;                    // extra attempts before narrowing a failed read
    // Raw and split raw: bytes between durable checkpoints (image flushed, then
    // <basename>.checkpoint.json renamed into place) that --resume continues from.
    // Rounded up to a multiple of block_size.
    std::uint64_t checkpoint_every = 256ull << 20;
};

// A range of the source that could not be read and is zero-filled in the image.
struct UnreadableRange {
    std::uint64_t offset = 0;  // bytes, sector-aligned
    std::uint64_t length = 0;  // bytes
    int sys_errno = 0;
};

enum class AcquisitionStatus {
    Completed,            // every byte read; image finished (and verified when asked)
    CompletedWithErrors,  // finished, but some sectors were unreadable and zero-filled
    VerificationFailed,   // finished, but reading it back gave different hashes
    Cancelled,            // stopped by the operator; output left as .partial
    Failed,               // stopped by an error; output left as .partial
};
const char* to_string(AcquisitionStatus status);

struct HashCheck {
    HashAlgorithm algorithm;
    std::string acquired;
    std::string verified;
    bool match = false;
};

// The block layer's own counters for a device source, read before the acquisition and
// after it, so the record can say how many write requests reached the device (0).
struct DeviceWriteCheck {
    std::string device;                                 // kernel name, e.g. sdb
    std::uint64_t writes_before = 0, writes_after = 0;  // /sys/block/X/stat write requests
    std::uint64_t sectors_written_before = 0, sectors_written_after = 0;
    std::uint64_t write_requests_during = 0;  // writes, discards and flushes in between
};

// One time an interrupted acquisition was taken up again.
struct ResumePoint {
    std::string time;          // UTC, RFC 3339 with milliseconds
    std::uint64_t offset = 0;  // the byte it continued from (0 for an E01 restarted)
    std::string note;          // one sentence, e.g. why an E01 started again
};

struct AcquisitionResult {
    AcquisitionStatus status = AcquisitionStatus::Failed;
    std::string summary;         // one sentence for the operator
    std::optional<Error> error;  // set for Failed and Cancelled
    SourceInfo source;
    ImageFormat format = ImageFormat::Ewf;
    Compression compression = Compression::None;
    CaseInfo case_info;
    std::uint64_t bytes_read = 0;
    Hashes hashes;  // of the image as written (unreadable sectors as zeros)
    std::vector<UnreadableRange> unreadable;
    std::uint64_t unreadable_sectors = 0;
    bool verified = false;  // a verification pass ran to the end
    std::vector<HashCheck> verification;
    std::optional<DeviceWriteCheck> device_writes;  // block devices only
    std::optional<WriteBlockCounters> write_block;  // usb: sources, at the end of the run
    std::vector<std::filesystem::path> outputs;     // image files, then the record
    std::vector<ResumePoint> resumed;               // empty for a run never interrupted
    std::filesystem::path record;                   // <basename>.acquisition.json
    std::string started;                            // UTC, RFC 3339 with milliseconds
    std::string finished;
    double seconds = 0;
    double verify_seconds = 0;
};

// Runs the whole acquisition. Returns a result for every run that got as far as creating
// output (including failed and cancelled ones, which say why); returns an Error only when
// the plan itself is unusable (bad directory, files already there, bad segment size).
Expected<AcquisitionResult> acquire(Source& source, const AcquisitionPlan& plan,
                                    JobProgress& progress, const std::atomic<bool>& cancel);

// What an interrupted acquisition in `out_dir` left: the plan it ran with, the source it
// read (as then named) and how far its image is durably written.
struct InterruptedAcquisition {
    AcquisitionPlan plan;
    std::string source_path;
    std::uint64_t source_size = 0;
    std::uint64_t offset = 0;
};
Expected<InterruptedAcquisition> find_interrupted_acquisition(const std::filesystem::path& out_dir);

// Takes up the acquisition interrupted in `out_dir` (a kill, a power cut, a pulled
// device, a failed or cancelled run) from its last checkpoint, with the plan it started
// with. Refuses a source that is not the same media (size, model and serial, and the
// SHA-256 of sampled sectors recorded at the start). Raw and split raw continue: the
// image prefix is re-read from the output and its hashes must equal those the
// checkpoint stored, which proves the partial output intact and restarts the running
// hashes; bytes written after the checkpoint are cut off and read again. E01 starts
// again from byte 0 (libewf 20140813 cannot append to a segment set); the record says
// so. The finished image and hashes are those an uninterrupted run gives.
Expected<AcquisitionResult> resume_acquisition(Source& source, const std::filesystem::path& out_dir,
                                               JobProgress& progress,
                                               const std::atomic<bool>& cancel);

// A job that can be resumed (`exhibit run --resume`) keeps what tells its source from other
// media (size, sector size, model, serial and the SHA-256 of nine sampled sectors, as an
// acquisition checkpoint does) in `file`, and checks it again before it goes on: a resumed
// triage or acquisition must read the media the job started on. The check fails with
// ErrorKind::SourceChanged and one sentence saying what differs.
Status record_source_identity(Source& source, const std::filesystem::path& file);
Status check_source_identity(Source& source, const std::filesystem::path& file);

// Reads the whole source once and returns its MD5, SHA-1 and SHA-256. Any read error fails.
Expected<Hashes> hash_source(Source& source, JobProgress& progress, const std::atomic<bool>& cancel,
                             std::size_t block_size = 4u << 20);

// "2G", "640M", "1.5G", "4096" -> bytes (binary units). Error on anything else.
Expected<std::uint64_t> parse_size(const std::string& text);

// UTC now as RFC 3339 with milliseconds, e.g. 2026-11-21T22:43:55.123Z.
std::string utc_timestamp();

}  // namespace exhibit

namespace exhibit {
// The result as the JSON object stored in <basename>.acquisition.json and printed by
// `exhibit acquire --json`.
std::string acquisition_json(const AcquisitionResult& result, const std::string& phase = "final");
}  // namespace exhibit
