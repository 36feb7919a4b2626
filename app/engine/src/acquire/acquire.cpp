#include "exhibit/acquire.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>

#include "acquire/checkpoint.hpp"
#include "acquire/pipeline.hpp"
#include "acquire/record.hpp"
#include "exhibit/platform/write_protection.hpp"

namespace exhibit {

namespace fs = std::filesystem;
using namespace acquire_detail;

const char* to_string(ImageFormat format) {
    switch (format) {
        case ImageFormat::Ewf:
            return "e01";
        case ImageFormat::Raw:
            return "raw";
        case ImageFormat::SplitRaw:
            return "split";
    }
    return "unknown";
}

const char* to_string(Compression compression) {
    switch (compression) {
        case Compression::None:
            return "none";
        case Compression::Fast:
            return "fast";
        case Compression::Best:
            return "best";
    }
    return "unknown";
}

const char* to_string(AcquisitionStatus status) {
    switch (status) {
        case AcquisitionStatus::Completed:
            return "completed";
        case AcquisitionStatus::CompletedWithErrors:
            return "completed with unreadable sectors";
        case AcquisitionStatus::VerificationFailed:
            return "verification failed";
        case AcquisitionStatus::Cancelled:
            return "cancelled";
        case AcquisitionStatus::Failed:
            return "failed";
    }
    return "unknown";
}

std::string utc_timestamp() {
    auto now = std::chrono::system_clock::now();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    std::time_t secs = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char text[40];
    std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(text + n, sizeof text - n, ".%03dZ", static_cast<int>(ms % 1000));
    return text;
}

Expected<std::uint64_t> parse_size(const std::string& text) {
    auto bad = [&] {
        return make_error(ErrorKind::InvalidArgument,
                          "size '" + text + "' is not a size like 2G, 640M or 4096");
    };
    if (text.empty()) return bad();
    std::size_t used = 0;
    double number = 0;
    try {
        number = std::stod(text, &used);
    } catch (const std::exception&) {
        return bad();
    }
    std::string unit = text.substr(used);
    if (!unit.empty() && (unit.back() == 'B' || unit.back() == 'b')) unit.pop_back();
    if (unit.size() == 2 && (unit[1] == 'i' || unit[1] == 'I')) unit.pop_back();
    double scale = 1;
    if (unit.empty())
        scale = 1;
    else if (unit == "K" || unit == "k")
        scale = 1024.0;
    else if (unit == "M" || unit == "m")
        scale = 1024.0 * 1024;
    else if (unit == "G" || unit == "g")
        scale = 1024.0 * 1024 * 1024;
    else if (unit == "T" || unit == "t")
        scale = 1024.0 * 1024 * 1024 * 1024;
    else
        return bad();
    double bytes = number * scale;
    if (!(bytes >= 1) || bytes > 9.0e18 || std::isnan(bytes)) return bad();
    return static_cast<std::uint64_t>(bytes);
}

Expected<Hashes> hash_source(Source& source, JobProgress& progress, const std::atomic<bool>& cancel,
                             std::size_t block_size) {
    PipelineOptions options;
    options.block_size = block_size;
    options.recover_errors = false;
    progress.begin_stage("hashing", source.info().size);
    auto out = run_pipeline(source, nullptr, options, progress, cancel);
    if (!out) return out.error();
    return out->hashes;
}

namespace {

Status check_plan(const AcquisitionPlan& plan) {
    if (plan.out_dir.empty()) {
        return make_error(ErrorKind::InvalidArgument, "no output directory was given");
    }
    if (plan.basename.empty() || plan.basename.find('/') != std::string::npos) {
        return make_error(ErrorKind::InvalidArgument,
                          "image name '" + plan.basename + "' must be a plain file name");
    }
    if (plan.block_size < 4096 || plan.block_size % 4096 != 0) {
        return make_error(ErrorKind::InvalidArgument, "block size must be a multiple of 4096");
    }
    std::error_code ec;
    if (fs::exists(plan.out_dir, ec) && !fs::is_directory(plan.out_dir, ec)) {
        return make_error(ErrorKind::InvalidArgument,
                          "output " + plan.out_dir.string() + " exists and is not a directory");
    }
    fs::create_directories(plan.out_dir, ec);
    if (ec) {
        return errno_error("cannot create output directory " + plan.out_dir.string(), ec.value());
    }
    for (const auto& name : planned_names(plan)) {
        if (fs::exists(name, ec)) {
            return make_error(ErrorKind::InvalidArgument,
                              name.string() +
                                  " already exists; choose another --out directory rather than "
                                  "overwrite earlier work");
        }
    }
    return ok();
}

std::string human_bytes(std::uint64_t bytes) {
    char text[32];
    if (bytes >= (1ull << 30)) {
        std::snprintf(text, sizeof text, "%.2f GiB", static_cast<double>(bytes) / (1ull << 30));
    } else {
        std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1ull << 20));
    }
    return text;
}

// Re-reads the finished image through the reader a lab would use and compares hashes.
Status verify_image(AcquisitionResult& result, const std::vector<fs::path>& images,
                    JobProgress& progress, const std::atomic<bool>& cancel) {
    auto start = std::chrono::steady_clock::now();
    Expected<std::unique_ptr<Source>> image =
        result.format == ImageFormat::Ewf        ? open_ewf(images.front())
        : result.format == ImageFormat::SplitRaw ? open_split_raw(images, images.front().string())
                                                 : open_raw(images.front());
    if (!image) return image.error();
    if ((*image)->info().size != result.bytes_read) {
        return make_error(ErrorKind::Format, "the image holds " +
                                                 std::to_string((*image)->info().size) +
                                                 " bytes of media, not the " +
                                                 std::to_string(result.bytes_read) + " acquired");
    }
    PipelineOptions options;
    options.recover_errors = false;
    progress.begin_stage("verifying", result.bytes_read);
    auto out = run_pipeline(**image, nullptr, options, progress, cancel);
    if (!out) return out.error();
    const Hashes& a = result.hashes;
    const Hashes& v = out->hashes;
    result.verification = {{HashAlgorithm::Md5, a.md5, v.md5, a.md5 == v.md5},
                           {HashAlgorithm::Sha1, a.sha1, v.sha1, a.sha1 == v.sha1},
                           {HashAlgorithm::Sha256, a.sha256, v.sha256, a.sha256 == v.sha256}};
    if (result.format == ImageFormat::Ewf) {
        // The hashes libewf stored in the E01's own hash sections must agree too.
        const auto& meta = (*image)->info().ewf;
        std::string md5 = meta ? meta->stored_md5 : "";
        std::string sha1 = meta ? meta->stored_sha1 : "";
        result.verification.push_back({HashAlgorithm::Md5, a.md5, md5, a.md5 == md5});
        result.verification.push_back({HashAlgorithm::Sha1, a.sha1, sha1, a.sha1 == sha1});
    }
    result.verified = true;
    result.verify_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return ok();
}

// Reads the device's block-layer counters; nullopt when the source is not a device the
// kernel keeps counters for.
std::optional<platform::IoCounters> device_counters(const SourceInfo& source) {
    if (source.kind != SourceKind::BlockDevice || !source.device || source.device->name.empty()) {
        return std::nullopt;
    }
    platform::IoCounters counters;
    if (platform::read_io_counters(source.device->name, counters)) return std::nullopt;
    return counters;
}

// What proves nothing was written: the block layer's counters for a block device, the
// write-block filter's counters for a device read through it.
void record_write_evidence(AcquisitionResult& result, const Source& source,
                           const std::optional<platform::IoCounters>& before) {
    result.write_block = source.write_block_counters();
    if (!before) return;
    auto after = device_counters(result.source);
    if (!after) return;
    DeviceWriteCheck check;
    check.device = result.source.device->name;
    check.writes_before = before->writes_completed;
    check.writes_after = after->writes_completed;
    check.sectors_written_before = before->sectors_written;
    check.sectors_written_after = after->sectors_written;
    check.write_requests_during = after->writes_since(*before);
    result.device_writes = check;
}

}  // namespace

namespace {

// Saves each checkpoint the pipeline reaches into <basename>.checkpoint.json.
class CheckpointFile final : public CheckpointSink {
  public:
    explicit CheckpointFile(Checkpoint& checkpoint) : checkpoint_(checkpoint) {}
    Status save(std::uint64_t offset, const Hashes& prefix,
                const std::vector<UnreadableRange>& unreadable) override {
        checkpoint_.offset = offset;
        checkpoint_.prefix = prefix;
        checkpoint_.unreadable = unreadable;
        return write_checkpoint(checkpoint_);
    }

  private:
    Checkpoint& checkpoint_;
};

// The acquisition proper, fresh (checkpoint at 0) or resumed (checkpoint, sink and
// digests at the resume point).
Expected<AcquisitionResult> run_acquisition(Source& source, const AcquisitionPlan& plan,
                                            std::unique_ptr<ImageSink> sink_owner,
                                            Checkpoint& checkpoint, RunningDigests& digests,
                                            JobProgress& progress,
                                            const std::atomic<bool>& cancel) {
    auto* sink = &sink_owner;
    AcquisitionResult result;
    result.source = source.info();
    result.format = plan.format;
    result.compression = plan.format == ImageFormat::Ewf ? plan.compression : Compression::None;
    result.case_info = plan.case_info;
    result.record = plan.out_dir / (plan.basename + ".acquisition.json");
    result.started = checkpoint.started;
    result.resumed = checkpoint.resumed;

    // The record exists from the start, so even a power cut leaves a file that says an
    // acquisition began here and never finished; the checkpoint says how to go on.
    if (auto s = write_checkpoint(checkpoint); !s) return s.error();
    if (auto s = write_record(result, "running"); !s) return s.error();

    const auto counters_before = device_counters(source.info());
    auto start = std::chrono::steady_clock::now();
    PipelineOptions options;
    options.block_size = plan.block_size;
    options.retries = plan.retries;
    options.start = checkpoint.offset;
    options.unreadable = checkpoint.unreadable;
    options.digests = &digests;
    CheckpointFile checkpoints(checkpoint);
    if (plan.format != ImageFormat::Ewf && plan.checkpoint_every > 0) {
        options.checkpoint_every =
            (plan.checkpoint_every + plan.block_size - 1) / plan.block_size * plan.block_size;
        options.checkpoints = &checkpoints;
    }
    progress.begin_stage("reading", source.info().size);
    auto out = run_pipeline(source, sink->get(), options, progress, cancel);

    auto end_with = [&](AcquisitionStatus status, Error error) -> Expected<AcquisitionResult> {
        result.status = status;
        result.error = error;
        result.outputs = (*sink)->files();
        result.outputs.push_back(result.record);
        bool partial = std::any_of(result.outputs.begin(), result.outputs.end(), [](const auto& f) {
            return f.string().find(".partial") != std::string::npos;
        });
        result.summary = (status == AcquisitionStatus::Cancelled ? "Acquisition cancelled: "
                                                                 : "Acquisition failed: ") +
                         error.message + "; the output is incomplete" +
                         (partial ? " and kept as .partial files." : ".");
        result.finished = utc_timestamp();
        result.seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        progress.begin_stage(status == AcquisitionStatus::Cancelled ? "cancelled" : "failed", 0);
        record_write_evidence(result, source, counters_before);
        (void)write_record(result, "incomplete");
        return result;
    };

    if (!out) {
        auto status = out.error().kind == ErrorKind::Cancelled ? AcquisitionStatus::Cancelled
                                                               : AcquisitionStatus::Failed;
        return end_with(status, out.error());
    }
    result.bytes_read = out->bytes;
    result.hashes = out->hashes;
    result.unreadable = out->unreadable;
    const std::uint64_t sector = std::max<std::uint32_t>(1, source.info().sector_size);
    for (const auto& r : result.unreadable) {
        // A short last sector of the media still counts as one.
        result.unreadable_sectors += (r.length + sector - 1) / sector;
    }
    progress.begin_stage("finishing", 0);
    if (auto s = (*sink)->finish(result.hashes, result.unreadable); !s) {
        return end_with(AcquisitionStatus::Failed, s.error());
    }
    // Verification reads the finished files under their .partial names: a kill before
    // the final record then never leaves an image that looks finished.
    const std::vector<fs::path> images = (*sink)->files();
    result.outputs = images;
    result.outputs.push_back(result.record);
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    if (plan.verify) {
        if (auto s = verify_image(result, images, progress, cancel); !s) {
            auto status = s.error().kind == ErrorKind::Cancelled ? AcquisitionStatus::Cancelled
                                                                 : AcquisitionStatus::Failed;
            Error e = s.error();
            e.message = "verification could not finish: " + e.message;
            result.status = status;
            result.error = e;
            result.summary =
                "Image written, but " + e.message + "; its files keep their .partial names.";
            result.finished = utc_timestamp();
            progress.begin_stage("failed", 0);
            record_write_evidence(result, source, counters_before);
            (void)write_record(result, "unverified");
            return result;
        }
    }
    bool all_match = true;
    for (const auto& c : result.verification)
        all_match = all_match && c.match;

    std::string what = human_bytes(result.bytes_read) + " acquired to " + to_string(plan.format);
    if (!all_match) {
        result.status = AcquisitionStatus::VerificationFailed;
        result.summary = what +
                         ", but verification FAILED: the image reads back with different "
                         "hashes.";
    } else if (!result.unreadable.empty()) {
        result.status = AcquisitionStatus::CompletedWithErrors;
        result.summary = what + ", completed with " + std::to_string(result.unreadable_sectors) +
                         " unreadable sectors (zero-filled, listed in the record)" +
                         (result.verified ? "; verified." : "; not verified.");
    } else {
        result.status = AcquisitionStatus::Completed;
        result.summary =
            what + (result.verified ? ", completed and verified (MD5, SHA-1, SHA-256 match)."
                                    : ", completed; verification was skipped.");
    }
    result.finished = utc_timestamp();
    record_write_evidence(result, source, counters_before);
    progress.begin_stage("done", 0);
    if (auto s = (*sink)->publish(); !s) return end_with(AcquisitionStatus::Failed, s.error());
    result.outputs = (*sink)->files();
    result.outputs.push_back(result.record);
    if (auto s = write_record(result, "final"); !s) {
        return end_with(AcquisitionStatus::Failed, s.error());
    }
    std::error_code ec;
    fs::remove(checkpoint_path(plan), ec);  // finished: nothing left to resume
    return result;
}

// The partial E01 segments of an interrupted run (image.partial.E01, .E02, ...).
std::vector<fs::path> partial_ewf_files(const AcquisitionPlan& plan) {
    std::vector<fs::path> found;
    std::error_code ec;
    const std::string prefix = plan.basename + ".partial.E";
    for (const auto& entry : fs::directory_iterator(plan.out_dir, ec)) {
        if (entry.path().filename().string().rfind(prefix, 0) == 0) found.push_back(entry.path());
    }
    return found;
}

// A run killed between renaming its finished files and writing its final record left
// final names with a "running" record: name them .partial again and continue.
Status restore_partial_names(const AcquisitionPlan& plan) {
    if (!partial_raw_files(plan).empty()) return ok();
    std::error_code ec;
    for (std::size_t i = 0; i < 999; ++i) {
        fs::path name;
        if (plan.format == ImageFormat::Raw) {
            if (i > 0) break;
            name = plan.out_dir / (plan.basename + ".raw");
        } else {
            char ext[16];
            std::snprintf(ext, sizeof ext, ".%03zu", i + 1);
            name = plan.out_dir / (plan.basename + ext);
        }
        if (!fs::exists(name, ec)) break;
        fs::rename(name, name.string() + ".partial", ec);
        if (ec) return errno_error("cannot rename " + name.string(), ec.value());
    }
    return ok();
}

// The first bytes of the image and of the source just before the resume point must be
// the same bytes: a last check, after the sampled sectors, that this is the same media.
Status compare_tail(Source& source, Source& image, const Checkpoint& c) {
    const std::uint64_t length = std::min<std::uint64_t>(c.offset, 1u << 20);
    const std::uint64_t from = c.offset - length;
    for (const auto& r : c.unreadable) {
        if (r.offset < c.offset && from < r.offset + r.length) return ok();  // zero-filled there
    }
    std::vector<std::byte> a(length), b(length);
    auto n = read_fully(source, from, a);
    if (!n) return n.error();
    auto m = read_fully(image, from, b);
    if (!m) return m.error();
    if (*n != length || *m != length || a != b) {
        return make_error(ErrorKind::SourceChanged,
                          "source " + source.info().path +
                              " holds different bytes than the image at " + std::to_string(from) +
                              "-" + std::to_string(c.offset - 1) +
                              "; it is not the media this acquisition started on, resume refused");
    }
    return ok();
}

}  // namespace

Expected<AcquisitionResult> acquire(Source& source, const AcquisitionPlan& plan,
                                    JobProgress& progress, const std::atomic<bool>& cancel) {
    if (auto s = check_plan(plan); !s) return s.error();
    auto sink = plan.format == ImageFormat::Ewf ? make_ewf_sink(plan, source.info())
                                                : make_raw_sink(plan, source.info().size);
    if (!sink) return sink.error();
    RunningDigests digests;
    Checkpoint checkpoint;
    checkpoint.plan = plan;
    checkpoint.source_path = source.info().path;
    checkpoint.identity = identify_source(source);
    checkpoint.started = utc_timestamp();
    checkpoint.prefix = {digests.md5.peek_hex(), digests.sha1.peek_hex(),
                         digests.sha256.peek_hex()};
    return run_acquisition(source, plan, std::move(*sink), checkpoint, digests, progress, cancel);
}

Expected<InterruptedAcquisition> find_interrupted_acquisition(const fs::path& out_dir) {
    std::vector<fs::path> found;
    std::error_code ec;
    if (!fs::is_directory(out_dir, ec)) {
        return make_error(ErrorKind::NotFound, "there is no interrupted acquisition in " +
                                                   out_dir.string() + ": no such directory");
    }
    for (const auto& entry : fs::directory_iterator(out_dir, ec)) {
        const std::string name = entry.path().filename().string();
        const std::string suffix = ".checkpoint.json";
        if (name.size() > suffix.size() &&
            name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
            found.push_back(entry.path());
        }
    }
    if (ec) return errno_error("cannot read " + out_dir.string(), ec.value());
    if (found.size() != 1) {
        return make_error(ErrorKind::NotFound,
                          found.empty()
                              ? "there is no interrupted acquisition in " + out_dir.string() +
                                    " (no *.checkpoint.json; a finished one has none)"
                              : out_dir.string() + " holds " + std::to_string(found.size()) +
                                    " checkpoints; resume expects one acquisition per directory");
    }
    auto c = read_checkpoint(found.front());
    if (!c) return c.error();
    return InterruptedAcquisition{c->plan, c->source_path, c->identity.size, c->offset};
}

Expected<AcquisitionResult> resume_acquisition(Source& source, const fs::path& out_dir,
                                               JobProgress& progress,
                                               const std::atomic<bool>& cancel) {
    auto found = find_interrupted_acquisition(out_dir);
    if (!found) return found.error();
    auto read = read_checkpoint(checkpoint_path(found->plan));
    if (!read) return read.error();
    Checkpoint c = std::move(*read);
    const AcquisitionPlan plan = c.plan;
    {
        // Killed after its final record but before the checkpoint was removed: done.
        std::ifstream in(plan.out_dir / (plan.basename + ".acquisition.json"));
        auto record = nlohmann::json::parse(in, nullptr, false);
        if (!record.is_discarded() && record.value("complete", false)) {
            std::error_code ec;
            fs::remove(checkpoint_path(plan), ec);
            return make_error(ErrorKind::InvalidArgument,
                              "the acquisition in " + out_dir.string() +
                                  " is already complete; there is nothing to resume");
        }
    }
    if (auto why = identity_mismatch(c.identity, identify_source(source))) {
        return make_error(ErrorKind::SourceChanged,
                          source.info().path + " is not the media the acquisition in " +
                              out_dir.string() + " started on: " + *why + "; resume refused");
    }
    RunningDigests digests;
    std::unique_ptr<ImageSink> sink;
    std::error_code ec;
    if (plan.format == ImageFormat::Ewf) {
        for (const auto& f : partial_ewf_files(plan)) {
            fs::remove(f, ec);
            if (ec) return errno_error("cannot remove " + f.string(), ec.value());
        }
        auto made = make_ewf_sink(plan, source.info());
        if (!made) return made.error();
        sink = std::move(*made);
        c.resumed.push_back({utc_timestamp(), 0,
                             "E01 output cannot be continued (libewf 20140813 cannot append to a "
                             "segment set); the acquisition started again from byte 0 after being "
                             "interrupted at byte " +
                                 std::to_string(c.offset)});
        c.offset = 0;
        c.unreadable.clear();
        c.prefix = {digests.md5.peek_hex(), digests.sha1.peek_hex(), digests.sha256.peek_hex()};
    } else {
        if (auto s = restore_partial_names(plan); !s) return s.error();
        auto made = reopen_raw_sink(plan, source.info().size, c.offset);
        if (!made) return made.error();
        sink = std::move(*made);
        if (c.offset > 0) {
            // Re-read the prefix from the output: its hashes must be those the checkpoint
            // stored (the partial output is intact), and they carry on from there.
            auto files = partial_raw_files(plan);
            auto image = plan.format == ImageFormat::Raw
                             ? open_raw(files.front())
                             : open_split_raw(files, files.front().string());
            if (!image) return image.error();
            PipelineOptions options;
            options.recover_errors = false;
            options.block_size = plan.block_size;
            options.digests = &digests;
            progress.begin_stage("checking the partial image", c.offset);
            auto prefix = run_pipeline(**image, nullptr, options, progress, cancel);
            if (!prefix) return prefix.error();
            if (prefix->hashes != c.prefix) {
                return make_error(ErrorKind::Format,
                                  "the partial image in " + out_dir.string() +
                                      " no longer holds what was written before the interruption "
                                      "(SHA-256 of its first " +
                                      std::to_string(c.offset) + " bytes is " +
                                      prefix->hashes.sha256 + ", the checkpoint says " +
                                      c.prefix.sha256 + "); it cannot be resumed");
            }
            if (auto s = compare_tail(source, **image, c); !s) return s.error();
        }
        c.resumed.push_back({utc_timestamp(), c.offset,
                             "continued from the checkpoint at byte " + std::to_string(c.offset)});
    }
    return run_acquisition(source, plan, std::move(sink), c, digests, progress, cancel);
}

}  // namespace exhibit
