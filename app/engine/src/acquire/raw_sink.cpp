// Raw and split raw image files.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>

#include "acquire/image_sink.hpp"
#include "exhibit/platform/block_device.hpp"

namespace exhibit::acquire_detail {

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kDefaultSplitSize = 2ull << 30;
const std::string kPartial = ".partial";

fs::path segment_name(const AcquisitionPlan& plan, std::size_t index) {
    if (plan.format == ImageFormat::Raw) return plan.out_dir / (plan.basename + ".raw");
    char ext[16];
    std::snprintf(ext, sizeof ext, ".%03zu", index + 1);
    return plan.out_dir / (plan.basename + ext);
}

class RawSink final : public ImageSink {
  public:
    RawSink(const AcquisitionPlan& plan, std::uint64_t segment_size)
        : plan_(plan), segment_size_(segment_size) {}

    Status write(std::span<const std::byte> bytes) override {
        while (!bytes.empty()) {
            if (!fd_.valid() || written_in_segment_ == segment_size_) {
                if (auto s = next_segment(); !s) return s;
            }
            std::size_t room = static_cast<std::size_t>(
                std::min<std::uint64_t>(bytes.size(), segment_size_ - written_in_segment_));
            if (direct_ && !direct_ok(bytes.data(), room)) {
                // The media's unaligned tail: finish it through the page cache.
                if (auto s = leave_direct_mode(); !s) return s;
            }
            ssize_t n = ::write(fd_.get(), bytes.data(), room);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                int err = n < 0 ? errno : ENOSPC;
                return errno_error("cannot write image file " + names_.back().string() +
                                       " at offset " + std::to_string(written_in_segment_),
                                   err);
            }
            if (!direct_) {
                // Start write-back now so dirty pages do not pile up and the final flush
                // is short; this does not wait for the disk.
                ::sync_file_range(fd_.get(), static_cast<off_t>(written_in_segment_), n,
                                  SYNC_FILE_RANGE_WRITE);
            }
            written_in_segment_ += static_cast<std::uint64_t>(n);
            bytes = bytes.subspan(static_cast<std::size_t>(n));
        }
        return ok();
    }

    Status sync() override {
        if (fd_.valid() && ::fdatasync(fd_.get()) != 0) {
            return errno_error("cannot flush image file " + names_.back().string(), errno);
        }
        return sync_directory();
    }

    // Continues after `written` bytes of the last of `names` (all `.partial`).
    Status reopen(std::vector<fs::path> names, std::uint64_t written) {
        names_ = std::move(names);
        int fd = ::open(names_.back().c_str(), O_WRONLY | O_CLOEXEC | O_DIRECT);
        direct_ = fd >= 0;
        if (fd < 0 && errno == EINVAL) fd = ::open(names_.back().c_str(), O_WRONLY | O_CLOEXEC);
        if (fd < 0) return errno_error("cannot reopen image file " + names_.back().string(), errno);
        fd_ = platform::FileDescriptor(fd);
        if (::lseek(fd, static_cast<off_t>(written), SEEK_SET) < 0) {
            return errno_error("cannot seek in " + names_.back().string(), errno);
        }
        written_in_segment_ = written;
        if (direct_ && written % kDirectAlign != 0) return leave_direct_mode();
        return ok();
    }

    Status finish(const Hashes&, const std::vector<UnreadableRange>&) override {
        if (!fd_.valid()) {  // an empty source still gets its (empty) image file
            if (auto s = next_segment(); !s) return s;
        }
        return close_current();
    }

    Status publish() override {
        for (auto& name : names_) {
            fs::path final_name = name.string().substr(0, name.string().size() - kPartial.size());
            std::error_code ec;
            fs::rename(name, final_name, ec);
            if (ec) return errno_error("cannot rename " + name.string(), ec.value());
            name = final_name;
        }
        return sync_directory();
    }

    std::vector<fs::path> files() const override { return names_; }

  private:
    Status next_segment() {
        if (auto s = close_current(); !s) return s;
        fs::path name = segment_name(plan_, names_.size()).string() + kPartial;
        // O_DIRECT: the disk takes the bytes straight from our aligned read buffers, with
        // no copy into the page cache (a third of a core at these rates) and nothing left
        // cached, so verification reads back what reached the disk. File systems that
        // refuse it (tmpfs) get ordinary buffered writes.
        int flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;
        int fd = ::open(name.c_str(), flags | O_DIRECT, 0644);
        direct_ = fd >= 0;
        if (fd < 0 && errno == EINVAL) fd = ::open(name.c_str(), flags, 0644);
        if (fd < 0) return errno_error("cannot create image file " + name.string(), errno);
        fd_ = platform::FileDescriptor(fd);
        names_.push_back(name);
        written_in_segment_ = 0;
        return ok();
    }

    static constexpr std::size_t kDirectAlign = 4096;

    bool direct_ok(const std::byte* data, std::size_t size) const {
        return reinterpret_cast<std::uintptr_t>(data) % kDirectAlign == 0 &&
               size % kDirectAlign == 0 && written_in_segment_ % kDirectAlign == 0;
    }

    Status leave_direct_mode() {
        int flags = ::fcntl(fd_.get(), F_GETFL);
        if (flags < 0 || ::fcntl(fd_.get(), F_SETFL, flags & ~O_DIRECT) != 0) {
            return errno_error("cannot switch " + names_.back().string() + " to buffered writes",
                               errno);
        }
        direct_ = false;
        return ok();
    }

    Status close_current() {
        if (!fd_.valid()) return ok();
        if (::fdatasync(fd_.get()) != 0) {
            return errno_error("cannot flush image file " + names_.back().string(), errno);
        }
        int fd = fd_.release();
        if (::close(fd) != 0) {
            return errno_error("cannot close image file " + names_.back().string(), errno);
        }
        return ok();
    }

    Status sync_directory() {
        platform::FileDescriptor dir;
        if (auto ec = platform::open_read_only(plan_.out_dir, dir)) {
            return errno_error("cannot open " + plan_.out_dir.string(), ec.value());
        }
        if (::fsync(dir.get()) != 0) {
            return errno_error("cannot flush directory " + plan_.out_dir.string(), errno);
        }
        return ok();
    }

    AcquisitionPlan plan_;
    std::uint64_t segment_size_;
    platform::FileDescriptor fd_;
    std::vector<fs::path> names_;
    std::uint64_t written_in_segment_ = 0;
    bool direct_ = false;
};

}  // namespace

std::vector<fs::path> planned_names(const AcquisitionPlan& plan) {
    std::vector<fs::path> names;
    switch (plan.format) {
        case ImageFormat::Raw:
            names.push_back(segment_name(plan, 0));
            break;
        case ImageFormat::SplitRaw:
            names.push_back(segment_name(plan, 0));
            break;
        case ImageFormat::Ewf:
            names.push_back(plan.out_dir / (plan.basename + ".E01"));
            break;
    }
    names.push_back(names.back().string() + kPartial);
    if (plan.format == ImageFormat::Ewf) {
        names.push_back(plan.out_dir / (plan.basename + ".partial.E01"));
    }
    names.push_back(plan.out_dir / (plan.basename + ".acquisition.json"));
    return names;
}

std::vector<fs::path> partial_raw_files(const AcquisitionPlan& plan) {
    std::vector<fs::path> found;
    std::error_code ec;
    for (std::size_t i = 0; i < 999; ++i) {
        fs::path name = segment_name(plan, i).string() + kPartial;
        if (!fs::exists(name, ec)) break;
        found.push_back(name);
        if (plan.format == ImageFormat::Raw) break;
    }
    return found;
}

Expected<std::unique_ptr<ImageSink>> reopen_raw_sink(const AcquisitionPlan& plan,
                                                     std::uint64_t media_size,
                                                     std::uint64_t offset) {
    auto made = make_raw_sink(plan, media_size);
    if (!made) return made.error();
    const std::uint64_t segment = plan.format == ImageFormat::SplitRaw
                                      ? (plan.segment_size ? plan.segment_size : kDefaultSplitSize)
                                      : UINT64_MAX;
    auto files = partial_raw_files(plan);
    std::error_code ec;
    if (offset == 0) {  // nothing was flushed: start the files again
        for (const auto& f : files) {
            fs::remove(f, ec);
            if (ec) return errno_error("cannot remove " + f.string(), ec.value());
        }
        return made;
    }
    // The segment that holds byte `offset` (a segment just filled stays the current one,
    // as it was when the checkpoint was taken).
    std::size_t keep = offset == 0 ? 1 : static_cast<std::size_t>((offset - 1) / segment) + 1;
    std::uint64_t in_last = offset - (keep - 1) * segment;
    if (files.size() < keep) {
        return make_error(ErrorKind::Format,
                          "the interrupted acquisition in " + plan.out_dir.string() +
                              " should have " + std::to_string(keep) +
                              " .partial image files but has " + std::to_string(files.size()));
    }
    for (std::size_t i = keep; i < files.size(); ++i) {
        fs::remove(files[i], ec);  // written after the last checkpoint
        if (ec) return errno_error("cannot remove " + files[i].string(), ec.value());
    }
    files.resize(keep);
    for (std::size_t i = 0; i < keep; ++i) {
        std::uint64_t want = i + 1 < keep ? segment : in_last;
        std::uint64_t have = fs::file_size(files[i], ec);
        if (ec || have < want) {
            return make_error(ErrorKind::Format,
                              "the partial image file " + files[i].string() + " holds " +
                                  std::to_string(have) + " bytes, fewer than the " +
                                  std::to_string(want) + " its checkpoint says were flushed");
        }
        if (have > want && ::truncate(files[i].c_str(), static_cast<off_t>(want)) != 0) {
            return errno_error("cannot cut " + files[i].string() + " back to its checkpoint",
                               errno);
        }
    }
    auto* sink = static_cast<RawSink*>(made->get());
    if (auto s = sink->reopen(files, in_last); !s) return s.error();
    return made;
}

Expected<std::unique_ptr<ImageSink>> make_raw_sink(const AcquisitionPlan& plan,
                                                   std::uint64_t media_size) {
    std::uint64_t segment = UINT64_MAX;
    if (plan.format == ImageFormat::SplitRaw) {
        segment = plan.segment_size ? plan.segment_size : kDefaultSplitSize;
        if (segment < 1 << 20) {
            return make_error(ErrorKind::InvalidArgument,
                              "split raw segments must be at least 1M, not " +
                                  std::to_string(segment) + " bytes");
        }
        if ((media_size + segment - 1) / segment > 999) {
            return make_error(ErrorKind::InvalidArgument,
                              "segment size " + std::to_string(segment) +
                                  " would need more than 999 split raw segments; choose a larger "
                                  "--segment-size");
        }
    }
    return std::unique_ptr<ImageSink>(new RawSink(plan, segment));
}

}  // namespace exhibit::acquire_detail
