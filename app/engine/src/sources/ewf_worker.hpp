// Parser isolation for E01: libewf parses evidence in a sandboxed child process, never in
// the process that owns the case database and the custody log. open_ewf() is
// open_ewf_isolated() with the default limits.
//
//   auto src = open_ewf_isolated("/cases/JD1/image.E01", {});
//   auto n = (*src)->read_at(offset, buffer);   // served by the worker
//
// The worker (ewf_worker.cpp) finds the segment files with libewf_glob and opens them
// before it enters its sandbox (seccomp: no open, no network, no exec, no fork; RLIMIT_AS,
// RLIMIT_FSIZE 0, RLIMIT_CORE 0; it dies with its supervisor), and only then lets libewf
// parse them. It reads requested ranges chunk by chunk into memory it shares with the
// supervisor and publishes the offset of the chunk it is in.
//
// Promises (EwfClientSource, ewf_source.cpp)
// - A worker that crashes, is killed, stops making progress for `stall` or grows past
//   `memory` is killed; the read fails with one sentence naming the E01, the offset of the
//   chunk libewf was in and what happened, and the process carries on.
// - A death by a signal the supervisor did not send is retried once on a fresh worker,
//   uncounted (a kill from outside, or the end of the thread that started the worker, is
//   not the evidence's fault); a second failure on the same chunk marks that chunk
//   unreadable: later reads touching it fail at once, reads elsewhere go to a fresh worker.
//   After `max_failures` such failures the source reads nothing more.
// - Everything the worker says is checked: metadata fields and sizes, reply lengths.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>

#include "exhibit/source.hpp"

namespace exhibit {

struct EwfWorkerOptions {
    std::uint64_t memory = 1ull << 30;  // the worker may add this much address space
    std::chrono::milliseconds stall{std::chrono::seconds(60)};  // per chunk
    int max_failures = 16;
    // Tests only: runs inside the worker before each chunk is read (its media offset),
    // to make the worker crash, hang or misbehave at a chosen point.
    std::function<void(std::uint64_t offset)> chunk_test_hook;
};

Expected<std::unique_ptr<Source>> open_ewf_isolated(const std::filesystem::path& first_segment,
                                                    const EwfWorkerOptions& options);

}  // namespace exhibit
