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
    // Completes the image (hashes and error ranges into the container where it has room
    // for them), flushes it to stable storage and gives the files their final names.
    virtual Status finish(const Hashes& hashes, const std::vector<UnreadableRange>& unreadable) = 0;
    // The files as they are named now: `.partial` until finish succeeded.
    virtual std::vector<std::filesystem::path> files() const = 0;
};

// The names a plan's output would take, for refusing to overwrite earlier work.
std::vector<std::filesystem::path> planned_names(const AcquisitionPlan& plan);

Expected<std::unique_ptr<ImageSink>> make_raw_sink(const AcquisitionPlan& plan,
                                                   std::uint64_t media_size);
Expected<std::unique_ptr<ImageSink>> make_ewf_sink(const AcquisitionPlan& plan,
                                                   const SourceInfo& source);

}  // namespace exhibit::acquire_detail
