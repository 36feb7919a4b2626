// Raw and split raw images: one or more plain files read with pread.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "exhibit/platform/block_device.hpp"
#include "exhibit/source.hpp"

namespace exhibit {

namespace fs = std::filesystem;

namespace {

struct Segment {
    platform::FileDescriptor fd;
    std::string path;
    std::uint64_t start = 0;  // media offset of the segment's first byte
    std::uint64_t size = 0;
};

class FileSource final : public Source {
  public:
    FileSource(SourceInfo info, std::vector<Segment> segments)
        : info_(std::move(info)), segments_(std::move(segments)) {}

    const SourceInfo& info() const override { return info_; }

    Expected<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> buffer) override {
        if (offset >= info_.size || buffer.empty()) return std::size_t{0};
        std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), info_.size - offset));
        // The last segment whose start is <= offset holds the first byte.
        auto it =
            std::upper_bound(segments_.begin(), segments_.end(), offset,
                             [](std::uint64_t off, const Segment& s) { return off < s.start; });
        const Segment& seg = *std::prev(it);
        std::uint64_t within = offset - seg.start;
        std::size_t chunk =
            static_cast<std::size_t>(std::min<std::uint64_t>(want, seg.size - within));
        ssize_t n;
        do {
            n = ::pread(seg.fd.get(), buffer.data(), chunk, static_cast<off_t>(within));
        } while (n < 0 && errno == EINTR);
        if (n < 0) {
            return errno_error("cannot read " + seg.path + " at offset " + std::to_string(within),
                               errno);
        }
        if (n == 0) {
            return make_error(ErrorKind::SourceChanged, seg.path + " ended at offset " +
                                                            std::to_string(within) + " but was " +
                                                            std::to_string(seg.size) +
                                                            " bytes when it was opened");
        }
        return static_cast<std::size_t>(n);
    }

    std::vector<Descriptor> read_descriptors() const override {
        std::vector<Descriptor> out;
        for (const Segment& s : segments_)
            out.push_back({s.fd.get(), s.start, s.size, s.path, false});
        return out;
    }

  private:
    SourceInfo info_;
    std::vector<Segment> segments_;
};

Expected<Segment> open_segment(const fs::path& path) {
    Segment seg;
    seg.path = path.string();
    if (auto ec = platform::open_read_only(path, seg.fd)) {
        return errno_error("cannot open source " + seg.path, ec.value());
    }
    struct stat st {};
    if (::fstat(seg.fd.get(), &st) != 0) return errno_error("cannot stat " + seg.path, errno);
    if (S_ISDIR(st.st_mode)) {
        return make_error(ErrorKind::InvalidArgument,
                          seg.path + " is a directory, not an evidence image");
    }
    if (!S_ISREG(st.st_mode)) {
        return make_error(ErrorKind::InvalidArgument,
                          seg.path + " is not a regular file or block device");
    }
    seg.size = static_cast<std::uint64_t>(st.st_size);
    return seg;
}

}  // namespace

Expected<std::unique_ptr<Source>> open_raw(const fs::path& path) {
    auto seg = open_segment(path);
    if (!seg) return seg.error();
    SourceInfo info;
    info.kind = SourceKind::Raw;
    info.path = path.string();
    info.segments = {path.string()};
    info.size = seg->size;
    std::vector<Segment> segments;
    segments.push_back(std::move(*seg));
    return std::unique_ptr<Source>(new FileSource(std::move(info), std::move(segments)));
}

Expected<std::unique_ptr<Source>> open_split_raw(const std::vector<fs::path>& paths,
                                                 const std::string& display_path) {
    if (paths.empty()) {
        return make_error(ErrorKind::InvalidArgument,
                          "a split raw image needs at least one segment");
    }
    SourceInfo info;
    info.kind = SourceKind::SplitRaw;
    info.path = display_path;
    std::vector<Segment> segments;
    std::uint64_t offset = 0;
    for (const auto& p : paths) {
        auto seg = open_segment(p);
        if (!seg) return seg.error();
        if (seg->size == 0) {
            return make_error(ErrorKind::Format, "split raw segment " + p.string() + " is empty");
        }
        seg->start = offset;
        offset += seg->size;
        info.segments.push_back(p.string());
        segments.push_back(std::move(*seg));
    }
    info.size = offset;
    return std::unique_ptr<Source>(new FileSource(std::move(info), std::move(segments)));
}

}  // namespace exhibit
