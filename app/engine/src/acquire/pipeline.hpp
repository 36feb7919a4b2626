// The read-once pipeline shared by acquisition and verification: a reader fills the
// block ring; MD5 runs on one worker, SHA-1 and SHA-256 on another (together about as
// costly as MD5 alone, so two cores stay balanced); an optional sink writes each block.
#pragma once

#include <atomic>

#include "acquire/image_sink.hpp"
#include "exhibit/acquire.hpp"

namespace exhibit::acquire_detail {

// The running digests of a read: a resumed acquisition starts from those of the image
// prefix it has already written.
struct RunningDigests {
    Digest md5{HashAlgorithm::Md5};
    Digest sha1{HashAlgorithm::Sha1};
    Digest sha256{HashAlgorithm::Sha256};
};

// Told by the writer at each checkpoint: every byte before `offset` is in the image and
// flushed to stable storage, `prefix` are the hashes of exactly those bytes and
// `unreadable` the ranges zero-filled among them.
class CheckpointSink {
  public:
    virtual ~CheckpointSink() = default;
    virtual Status save(std::uint64_t offset, const Hashes& prefix,
                        const std::vector<UnreadableRange>& unreadable) = 0;
};

struct PipelineOptions {
    std::size_t block_size = 4u << 20;
    std::size_t slots = 8;
    // On: failed reads are retried, narrowed to sectors and zero-filled (acquisition).
    // Off: the first read error ends the run (verification of our own output).
    bool recover_errors = true;
    int retries = 2;
    // Resume: the first byte to read; the bytes before it are already in `digests` and
    // `unreadable` lists the ranges zero-filled among them.
    std::uint64_t start = 0;
    std::vector<UnreadableRange> unreadable;
    RunningDigests* digests = nullptr;  // continued and left running; else fresh ones
    // With a sink: a checkpoint at every multiple of this many bytes (a multiple of
    // block_size) short of the end. 0: none.
    std::uint64_t checkpoint_every = 0;
    CheckpointSink* checkpoints = nullptr;
};

struct PipelineOutput {
    Hashes hashes;
    std::vector<UnreadableRange> unreadable;
    std::uint64_t bytes = 0;
};

Expected<PipelineOutput> run_pipeline(Source& source, ImageSink* sink,
                                      const PipelineOptions& options, JobProgress& progress,
                                      const std::atomic<bool>& cancel);

}  // namespace exhibit::acquire_detail
