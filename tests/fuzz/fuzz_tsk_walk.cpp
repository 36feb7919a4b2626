// Hostile disk images through our libtsk walk: the bytes are the whole medium, read
// through a memory Source exactly as a device or an image would be, walked with content
// reading and the default scanners on. TSK runs in the walk's parser workers (forked
// processes, so libFuzzer sees the coverage of our supervisor and scanners, not TSK's):
// what this target checks is that nothing a worker does on hostile bytes (crash, hang,
// runaway allocation, garbage) harms the supervisor. TSK's own bugs stay contained.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "exhibit/file_walk.hpp"

using namespace exhibit;

namespace {

class MemorySource final : public Source {
  public:
    MemorySource(const std::uint8_t* data, std::size_t size) : data_(data) {
        info_.kind = SourceKind::Raw;
        info_.path = "fuzz-input";
        info_.size = size;
        info_.segments = {info_.path};
    }
    const SourceInfo& info() const override { return info_; }
    Expected<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> buffer) override {
        if (offset >= info_.size) return std::size_t{0};
        std::size_t n =
            static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), info_.size - offset));
        std::memcpy(buffer.data(), data_ + offset, n);
        return n;
    }

  private:
    const std::uint8_t* data_;
    SourceInfo info_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    MemorySource source(data, size);
    JobProgress progress;
    std::atomic<bool> cancel{false};
    WalkOptions options;
    options.read_content = true;
    options.workers = 1;
    options.worker_memory = 512ull << 20;  // under libFuzzer's own limit for this process
    options.worker_stall = std::chrono::seconds(10);  // under libFuzzer's -timeout
    auto walk = walk_file_systems(source, progress, cancel, options);
    if (walk) {
        for (const auto& f : walk->files) {
            if (f.file_system < 0 ||
                static_cast<std::size_t>(f.file_system) >= walk->file_systems.size()) {
                __builtin_trap();
            }
        }
    }
    return 0;
}
