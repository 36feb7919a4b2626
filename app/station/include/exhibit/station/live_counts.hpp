// What a running triage has recorded so far, read from the case database by a second,
// read-only connection while the job writes it (WAL: the reader neither blocks the writer
// nor waits for it). The Running screen polls this on a worker about once a second for its
// live hit counters; the progress snapshot gives the entries found between polls.
//
//   auto live = read_live_counts(case_db);   // worker thread
//   live->hits["keyword"], live->files
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "exhibit/error.hpp"

namespace exhibit::station {

struct LiveCounts {
    std::int64_t run_id = 0;  // the newest run, 0 when the database has none yet
    std::string status;       // running, completed, ...
    std::uint64_t files = 0;  // file rows committed so far
    std::uint64_t files_hashed = 0;
    std::map<std::string, std::uint64_t> hits;  // by kind: hashset, yara, keyword
};

// The newest run's counts (run 0 and no counts when there is no run yet, or no database
// file yet: a job that just started has not made it).
Expected<LiveCounts> read_live_counts(const std::filesystem::path& case_database);

}  // namespace exhibit::station
