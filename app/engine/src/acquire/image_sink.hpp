// Where acquired bytes go: one interface over raw, split raw and E01 writers.
#pragma once

#include <filesystem>
#include <memory>
#include <span>
#include <vector>

#include "exhibit/acquire.hpp"

namespace exhibit::acquire_detail {

class ImageSink {
  public:
    virtual ~ImageSink() = default;
    // Appends the next bytes of the image (called in media order from one thread).
    virtual Status write(std::span<const std::byte> bytes) = 0;
    // Flushes everything written so far to stable storage (for a checkpoint).
    virtual Status sync() = 0;
    // Completes the image (hashes and error ranges into the container where it has room
    // for them) and flushes it to stable storage; the files keep their `.partial` names.
    virtual Status finish(const Hashes& hashes, const std::vector<UnreadableRange>& unreadable) = 0;
    // Gives the finished files their final names (after verification, just before the
    // final record), and flushes the directory.
    virtual Status publish() = 0;
    // The files as they are named now: `.partial` until finish succeeded.
    virtual std::vector<std::filesystem::path> files() const = 0;
};

// The names a plan's output would take, for refusing to overwrite earlier work.
std::vector<std::filesystem::path> planned_names(const AcquisitionPlan& plan);

Expected<std::unique_ptr<ImageSink>> make_raw_sink(const AcquisitionPlan& plan,
                                                   std::uint64_t media_size);
// Reopens the `.partial` raw or split raw files of an interrupted acquisition, cut back to
// `offset` bytes of media (bytes after the last checkpoint are dropped), to append to.
Expected<std::unique_ptr<ImageSink>> reopen_raw_sink(const AcquisitionPlan& plan,
                                                     std::uint64_t media_size,
                                                     std::uint64_t offset);
// The `.partial` raw or split raw files an interrupted acquisition left, in order.
std::vector<std::filesystem::path> partial_raw_files(const AcquisitionPlan& plan);
Expected<std::unique_ptr<ImageSink>> make_ewf_sink(const AcquisitionPlan& plan,
                                                   const SourceInfo& source);

}  // namespace exhibit::acquire_detail
