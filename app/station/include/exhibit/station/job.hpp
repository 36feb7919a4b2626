// One job on a device: triage into the case database and, when planned, an image, run by
// the engine on a worker thread. The UI reads each stage's progress snapshot once a frame
// and takes the outcome when the job ends; it never waits on the job.
//
//   StationJob job;
//   job.start(request);
//   ... each frame: for (auto& s : job.stages()) draw(s);  if (auto o = job.take_outcome()) ...
//   job.request_cancel();          // the running stage stops; later stages are skipped
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "exhibit/acquire.hpp"
#include "exhibit/case_db.hpp"
#include "exhibit/custody.hpp"
#include "exhibit/progress.hpp"
#include "exhibit/rules.hpp"

namespace exhibit::station {

enum class JobKind { TriageOnly, TriageAndImage };

struct JobRequest {
    std::string source_path;       // /dev/sdb or an image file
    std::string hardware_blocker;  // the operator's override, else empty
    JobKind kind = JobKind::TriageOnly;
    std::filesystem::path case_database;
    AcquisitionPlan image;  // used for TriageAndImage

    // Matching during triage; all empty: hashes and file types only.
    std::filesystem::path hash_set_store;
    std::vector<std::string> hash_sets;  // names in the store
    std::vector<std::filesystem::path> rule_packs;
    std::filesystem::path keyword_list;  // empty: none
    // Terms typed for this exhibit (comma-separated); written, after the chosen list's
    // terms, to keywords.txt beside the case database, which then is the keyword list.
    std::string case_keywords;
    std::filesystem::path rules_cache_dir;
    std::shared_ptr<YaraLibrary> yara;  // initialised on the UI thread; needed for rules

    // The custody log in the case database: the case is opened there on its first job
    // (case_opened, operator_signed_in), later jobs log the operator signing in again.
    CaseRecord case_record;
    std::string protection;  // how the device is protected, as the operator saw it
    // Operator actions taken at the station before this job (protect, override, refused
    // starts), logged as note_added events with {"station_action", "detail", "time"}.
    std::vector<std::array<std::string, 3>> station_actions;  // time, action, detail
};

enum class StageState { Pending, Running, Done, Failed, Cancelled, Skipped };
const char* to_string(StageState state);

struct StageView {
    std::string name;  // "Triage", "Image"
    StageState state = StageState::Pending;
    ProgressSnapshot progress;
};

struct JobOutcome {
    bool completed = false;  // every stage ran to the end without failing
    bool cancelled = false;
    std::string summary;  // one sentence per stage, for the operator
    std::optional<TriageRun> triage;
    std::optional<AcquisitionResult> image;
    std::map<std::string, std::uint64_t> hit_counts;  // by kind: hashset, yara, keyword
    std::vector<std::string> rule_problems;           // rule files left out, with lines
};

class StationJob {
  public:
    StationJob() = default;
    ~StationJob();  // cancels and joins
    StationJob(const StationJob&) = delete;
    StationJob& operator=(const StationJob&) = delete;

    // Starts the job on its own thread. False when one is already running.
    bool start(JobRequest request);
    void request_cancel() { cancel_.store(true); }
    bool cancel_requested() const { return cancel_.load(); }
    bool running() const { return running_.load(); }
    // Seconds since start (frozen when the job ends).
    double elapsed_seconds() const;

    std::vector<StageView> stages() const;
    // The outcome once, after the job ended; then the thread is joined.
    std::optional<JobOutcome> take_outcome();

  private:
    void run(JobRequest request);

    struct Stage {
        std::string name;
        std::atomic<StageState> state{StageState::Pending};
        JobProgress progress;
    };
    std::array<Stage, 2> stages_;
    std::atomic<int> stage_count_{0};
    std::atomic<bool> cancel_{false};
    std::atomic<bool> running_{false};
    std::chrono::steady_clock::time_point started_;
    std::atomic<std::int64_t> finished_after_ns_{-1};
    std::mutex mutex_;
    std::optional<JobOutcome> outcome_;
    std::thread thread_;
};

// Reads up to `bytes` from the start of the source and returns the read speed in bytes
// per second (for the plan's estimate). Runs on a worker thread.
Expected<double> measure_read_speed(const std::string& source_path,
                                    const std::string& hardware_blocker,
                                    std::uint64_t bytes = 64ull << 20);

}  // namespace exhibit::station
