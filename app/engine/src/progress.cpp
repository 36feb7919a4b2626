#include "exhibit/progress.hpp"

namespace exhibit {

namespace {
std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
}  // namespace

void JobProgress::begin_stage(const char* stage, std::uint64_t total) {
    done_.store(0, std::memory_order_relaxed);
    total_.store(total, std::memory_order_relaxed);
    std::int64_t now = now_ns();
    stage_start_ns_.store(now, std::memory_order_relaxed);
    std::int64_t unset = 0;
    job_start_ns_.compare_exchange_strong(unset, now, std::memory_order_relaxed);
    stage_.store(stage, std::memory_order_release);
}

void JobProgress::note_hit() {
    if (first_hit_ns_.load(std::memory_order_relaxed) != 0) return;
    std::int64_t unset = 0;
    first_hit_ns_.compare_exchange_strong(unset, now_ns(), std::memory_order_relaxed);
}

ProgressSnapshot JobProgress::snapshot() const {
    ProgressSnapshot s;
    s.stage = stage_.load(std::memory_order_acquire);
    s.done = done_.load(std::memory_order_relaxed);
    s.total = total_.load(std::memory_order_relaxed);
    s.unreadable_sectors = unreadable_.load(std::memory_order_relaxed);
    std::int64_t job = job_start_ns_.load(std::memory_order_relaxed);
    std::int64_t hit = first_hit_ns_.load(std::memory_order_relaxed);
    if (job != 0 && hit != 0) s.first_hit_seconds = static_cast<double>(hit - job) / 1e9;
    std::int64_t start = stage_start_ns_.load(std::memory_order_relaxed);
    if (start != 0) {
        s.seconds = static_cast<double>(now_ns() - start) / 1e9;
        if (s.seconds > 0) s.bytes_per_second = static_cast<double>(s.done) / s.seconds;
        if (s.bytes_per_second > 0 && s.total >= s.done) {
            s.eta_seconds = static_cast<double>(s.total - s.done) / s.bytes_per_second;
        }
    }
    return s;
}

}  // namespace exhibit
