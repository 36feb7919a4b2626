// The read-once pipeline shared by acquisition and verification: a reader fills the
// block ring; MD5 runs on one worker, SHA-1 and SHA-256 on another (together about as
// costly as MD5 alone, so two cores stay balanced); an optional sink writes each block.
#pragma once

#include <atomic>

#include "acquire/image_sink.hpp"
#include "exhibit/acquire.hpp"

namespace exhibit::acquire_detail {

struct PipelineOptions {
    std::size_t block_size = 4u << 20;
    std::size_t slots = 8;
    // On: failed reads are retried, narrowed to sectors and zero-filled (acquisition).
    // Off: the first read error ends the run (verification of our own output).
    bool recover_errors = true;
    int retries = 2;
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
