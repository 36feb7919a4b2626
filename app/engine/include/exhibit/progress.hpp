// Progress of a long job, published by worker threads and read by any observer
// (CLI progress line, station frame loop) without locks.
//
//   JobProgress progress;                       // owned by whoever starts the job
//   std::jthread job([&] { acquire(src, plan, progress, cancel); });
//   while (...) draw(progress.snapshot());      // once a frame / once a tick
//
// Workers call begin_stage / add_done; observers only call snapshot.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace exhibit {

struct ProgressSnapshot {
    const char* stage = "idle";   // static text: "reading", "verifying", ...
    std::uint64_t done = 0;       // bytes done in this stage
    std::uint64_t total = 0;      // bytes this stage will do (0 when unknown)
    double seconds = 0;           // elapsed in this stage
    double bytes_per_second = 0;  // average over the stage
    double eta_seconds = -1;      // -1 when unknown
    std::uint64_t unreadable_sectors = 0;
    double first_hit_seconds = -1;  // from the job's first stage to its first hit; -1: none yet
};

class JobProgress {
  public:
    // `stage` must be a string literal (or otherwise outlive every observer).
    void begin_stage(const char* stage, std::uint64_t total);
    void add_done(std::uint64_t bytes) { done_.fetch_add(bytes, std::memory_order_relaxed); }
    void add_unreadable_sectors(std::uint64_t n) {
        unreadable_.fetch_add(n, std::memory_order_relaxed);
    }
    // A scanner found the job's first hit (later calls change nothing).
    void note_hit();
    ProgressSnapshot snapshot() const;

  private:
    std::atomic<const char*> stage_{"idle"};
    std::atomic<std::uint64_t> done_{0};
    std::atomic<std::uint64_t> total_{0};
    std::atomic<std::uint64_t> unreadable_{0};
    std::atomic<std::int64_t> stage_start_ns_{0};
    std::atomic<std::int64_t> job_start_ns_{0};
    std::atomic<std::int64_t> first_hit_ns_{0};
};

}  // namespace exhibit
