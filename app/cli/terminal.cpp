#include "terminal.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>

#include "exit_codes.hpp"

namespace exhibit::cli {

std::string human_bytes(double bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (bytes >= 1024 && u < 4) {
        bytes /= 1024;
        ++u;
    }
    char text[32];
    std::snprintf(text, sizeof text, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
    return text;
}

namespace {

std::string clock_text(double seconds) {
    if (seconds < 0) return "--:--";
    auto s = static_cast<long>(seconds + 0.5);
    char text[32];
    std::snprintf(text, sizeof text, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    return text;
}

// Triage: where it is, files and bytes read of those found so far, rate.
void draw_triage(const ProgressSnapshot& p) {
    double pct = p.total ? 100.0 * static_cast<double>(p.done) / static_cast<double>(p.total) : 0;
    std::string where = p.file_system[0] ? p.file_system : "-";
    if (p.partition >= 0) where += " p" + std::to_string(p.partition);
    std::fprintf(stderr,
                 "\r%-8s %-9s %7llu entries  %llu/%llu files  %s / %s %5.1f%%  %6.1f MB/s  "
                 "ETA %s  ",
                 p.stage, where.c_str(), static_cast<unsigned long long>(p.entries),
                 static_cast<unsigned long long>(p.files_done),
                 static_cast<unsigned long long>(p.files_total),
                 human_bytes(static_cast<double>(p.done)).c_str(),
                 human_bytes(static_cast<double>(p.total)).c_str(), pct, p.bytes_per_second / 1e6,
                 clock_text(p.eta_seconds).c_str());
    std::fflush(stderr);
}

void draw(const ProgressSnapshot& p) {
    if (p.entries || p.files_total) return draw_triage(p);
    double pct = p.total ? 100.0 * static_cast<double>(p.done) / static_cast<double>(p.total) : 0;
    std::fprintf(
        stderr, "\r%-10s %10s / %-10s %5.1f%%  %8.1f MB/s  ETA %s  unreadable sectors: %llu  ",
        p.stage, human_bytes(static_cast<double>(p.done)).c_str(),
        human_bytes(static_cast<double>(p.total)).c_str(), pct, p.bytes_per_second / 1e6,
        clock_text(p.eta_seconds).c_str(), static_cast<unsigned long long>(p.unreadable_sectors));
    std::fflush(stderr);
}

}  // namespace

int report(const Error& error, int exit_code) {
    std::cerr << "exhibit: " << error.message << "\n";
    return exit_code;
}

int source_exit_code(const Error& e) {
    switch (e.kind) {
        case ErrorKind::InvalidArgument:
            return kUsage;
        case ErrorKind::SourceChanged:
            return kSourceChanged;
        case ErrorKind::Internal:
            return kInternal;
        default:
            return kSource;
    }
}

void run_with_progress_line(const std::function<void()>& job, const JobProgress& progress,
                            bool show) {
    // The line is redrawn every 200 ms, but a job that ends sooner is not kept waiting for
    // the next tick (`exhibit run` has four stages; short ones used to take 200 ms each).
    std::mutex mutex;
    std::condition_variable ended;
    bool done = false;
    std::thread worker([&] {
        job();
        std::lock_guard lock(mutex);
        done = true;
        ended.notify_one();
    });
    const bool tty = show && ::isatty(STDERR_FILENO);
    {
        std::unique_lock lock(mutex);
        while (!ended.wait_for(lock, std::chrono::milliseconds(200), [&] { return done; })) {
            if (tty) draw(progress.snapshot());
        }
    }
    worker.join();
    if (tty) std::fprintf(stderr, "\r%*s\r", 110, "");
}

}  // namespace exhibit::cli
