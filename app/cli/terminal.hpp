// What every `exhibit` command shows on the terminal: one-sentence errors on stderr,
// and a live progress line while a long job runs.
#pragma once

#include <functional>
#include <string>

#include "exhibit/error.hpp"
#include "exhibit/progress.hpp"

namespace exhibit::cli {

// "1.5 GiB", "211.0 MiB", "512 B".
std::string human_bytes(double bytes);

// Prints "exhibit: <message>" on stderr and returns `exit_code`.
int report(const Error& error, int exit_code);

// The exit code for a source that could not be opened (exit_codes.hpp).
int source_exit_code(const Error& error);

// Runs `job` on a worker thread; while it runs, redraws one progress line on stderr every
// 200 ms when stderr is a terminal and `show` is set. Returns when the job has finished.
void run_with_progress_line(const std::function<void()>& job, const JobProgress& progress,
                            bool show);

}  // namespace exhibit::cli
