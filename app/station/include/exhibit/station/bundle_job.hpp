// Sealing a case into an evidence bundle and verifying a bundle, run by the engine on a
// worker thread; the Seal and Review screens read the progress snapshot once a frame and
// take the result when the job ends.
//
//   BundleJob job;
//   job.start_seal(request);             // seal, then verify what was written
//   job.start_verify("/media/lab/JD-1"); // a bundle brought to the lab
//   ... each frame: draw(job.phase(), job.progress());  if (auto r = job.take_result()) ...
#pragma once

#include <array>
#include <atomic>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "exhibit/bundle.hpp"
#include "exhibit/custody.hpp"
#include "exhibit/progress.hpp"

namespace exhibit::station {

struct SealRequest {
    std::filesystem::path case_database;
    std::filesystem::path key_store;  // the appliance key (made on first use)
    std::filesystem::path out;        // the bundle directory; must not exist
    std::vector<std::filesystem::path> images;
    Operator who;
    // Operator actions at the station since the last job, logged as note_added events
    // before the seal so the bundle's log holds them: time, action, detail.
    std::vector<std::array<std::string, 3>> station_actions;
};

struct BundleResult {
    std::filesystem::path bundle;
    std::optional<SealResult> sealed;      // seal jobs that sealed
    std::optional<BundleVerdict> verdict;  // the verification that followed, or the lab's
    bool cancelled = false;
    std::string error;  // why sealing failed, one sentence; empty when it did not
};

// The final word on a verification, large on the screen: "Verified: 9 of 9 checks passed"
// or "NOT verified: 2 of 9 checks failed".
std::string verdict_headline(const BundleVerdict& verdict);

// A free bundle path in `dir` for `name`: dir/name, else dir/name-2, -3, ...
std::filesystem::path free_bundle_path(const std::filesystem::path& dir, const std::string& name);

class BundleJob {
  public:
    BundleJob() = default;
    ~BundleJob();  // cancels and joins
    BundleJob(const BundleJob&) = delete;
    BundleJob& operator=(const BundleJob&) = delete;

    // False when a job is already running.
    bool start_seal(SealRequest request);
    bool start_verify(std::filesystem::path bundle, VerifyOptions options = {});
    void request_cancel() { cancel_.store(true); }
    bool running() const { return running_.load(); }
    const char* phase() const { return phase_.load(); }  // "sealing", "verifying", "idle"
    ProgressSnapshot progress() const { return progress_.snapshot(); }
    // The result once, after the job ended; then the thread is joined.
    std::optional<BundleResult> take_result();

  private:
    bool launch(const char* phase);
    void finish(BundleResult result);
    void seal(SealRequest request);

    std::atomic<bool> cancel_{false};
    std::atomic<bool> running_{false};
    std::atomic<const char*> phase_{"idle"};
    JobProgress progress_;
    std::mutex mutex_;
    std::optional<BundleResult> result_;
    std::thread thread_;
};

}  // namespace exhibit::station
