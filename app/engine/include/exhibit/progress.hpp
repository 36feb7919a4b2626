// Progress of a long job, published by worker threads and read by any observer
// (CLI progress line, station frame loop) without locks.
//
//   JobProgress progress;                       // owned by whoever starts the job
//   std::jthread job([&] { acquire(src, plan, progress, cancel); });
//   while (...) draw(progress.snapshot());      // once a frame / once a tick
//
// Workers call begin_stage / add_done (and, for triage, the file counters and
// set_location); observers only call snapshot.
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

    // Triage (zero for other jobs). `total` above is the bytes of every file whose content
    // will be read, summed as each file system's directory walk ends: it grows once per
    // file system, so `eta_seconds` covers the file systems listed so far. `done` counts
    // bytes read, plus the rest of any file whose content turned out unreadable.
    std::uint64_t entries = 0;           // directory entries found
    std::uint64_t files_done = 0;        // files whose content has been read and scanned
    std::uint64_t files_total = 0;       // files whose content will be read (grows like `total`)
    const char* file_system = "";        // type of the file system being walked ("" before any)
    int partition = -1;                  // its partition address, -1 when the source has none
    std::uint64_t partition_offset = 0;  // its byte offset in the source
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
    // Changes the stage's label but keeps its counters and clock.
    void set_stage(const char* stage) { stage_.store(stage, std::memory_order_release); }
    void add_total(std::uint64_t bytes) { total_.fetch_add(bytes, std::memory_order_relaxed); }
    void add_entries(std::uint64_t n) { entries_.fetch_add(n, std::memory_order_relaxed); }
    void add_files_total(std::uint64_t n) { files_total_.fetch_add(n, std::memory_order_relaxed); }
    void add_files_done(std::uint64_t n) { files_done_.fetch_add(n, std::memory_order_relaxed); }
    // `file_system` must be a string literal or static text (TSK's type names are).
    void set_location(const char* file_system, int partition, std::uint64_t offset);
    ProgressSnapshot snapshot() const;

  private:
    std::atomic<const char*> stage_{"idle"};
    std::atomic<std::uint64_t> done_{0};
    std::atomic<std::uint64_t> total_{0};
    std::atomic<std::uint64_t> unreadable_{0};
    std::atomic<std::int64_t> stage_start_ns_{0};
    std::atomic<std::int64_t> job_start_ns_{0};
    std::atomic<std::int64_t> first_hit_ns_{0};
    std::atomic<std::uint64_t> entries_{0};
    std::atomic<std::uint64_t> files_done_{0};
    std::atomic<std::uint64_t> files_total_{0};
    std::atomic<const char*> file_system_{""};
    std::atomic<int> partition_{-1};
    std::atomic<std::uint64_t> partition_offset_{0};
};

}  // namespace exhibit
