// The station's state and flow rules, with no ImGui in it: which screen is showing, what
// the operator entered, which device is chosen and whether it may be started on, the job
// and its findings. The views read it and call its actions; everything that touches a disk
// runs on a worker (BackgroundTasks, StationJob) and lands back here in frame().
//
//   StationModel model(config);
//   model.start();
//   loop: model.frame(now); draw(model); ...
//
// Flow: SignIn -> Case -> Device -> Plan -> Running -> Findings -> Seal; in the lab,
// SignIn -> Review (a sealed bundle) -> Findings. Each forward step has a
// blocker: an empty optional means it may be taken, else one sentence saying why not.
// The rule that matters most: a job never starts on a device that is not protected unless
// the operator has declared a hardware write-blocker (the override), which is recorded.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "exhibit/station/background.hpp"
#include "exhibit/station/bundle_job.hpp"
#include "exhibit/station/case_store.hpp"
#include "exhibit/station/devices.hpp"
#include "exhibit/station/estimate.hpp"
#include "exhibit/station/findings.hpp"
#include "exhibit/station/job.hpp"
#include "exhibit/station/live_counts.hpp"
#include "exhibit/station/matching.hpp"
#include "exhibit/station/pictures.hpp"

namespace exhibit::station {

// Review is the lab's: a sealed bundle opened and verified, its findings shown read-only.
enum class Screen { SignIn, Case, Device, Plan, Running, Findings, Seal, Review };
const char* to_string(Screen screen);
std::optional<Screen> screen_from_string(const std::string& name);

// An operator action that matters for the record (sign in, case edits, override, start,
// cancel), in the order taken.
struct OperatorAction {
    std::string time;  // UTC, RFC 3339
    std::string action;
    std::string detail;
};

struct StationConfig {
    std::filesystem::path case_root;  // CaseStore root
    std::filesystem::path sysfs_root = "/sys";
    std::vector<std::filesystem::path> image_files;  // offered beside attached devices
    bool watch_hotplug = true;
    MatchingPlaces matching;          // empty places: nothing offered
    std::filesystem::path key_store;  // the appliance key; empty: ApplianceKey::default_store()
    double live_poll_seconds = 1.0;   // how often the Running screen's counters are read
};

struct PlanChoice {
    JobKind kind = JobKind::TriageOnly;
    ImageFormat format = ImageFormat::Ewf;
    std::string output_dir;  // empty: the case folder
    bool verify = true;
    std::vector<std::string> hash_sets;  // chosen from InstalledMatching
    std::vector<std::filesystem::path> rule_packs;
    std::filesystem::path keyword_list;  // an installed list, or empty
    std::string case_keywords;           // typed terms, comma-separated
};

class StationModel {
  public:
    explicit StationModel(StationConfig config);
    ~StationModel();
    StationModel(const StationModel&) = delete;
    StationModel& operator=(const StationModel&) = delete;

    // Starts watching devices and loads the recent cases (both on workers).
    void start();
    // Once a frame on the UI thread: runs finished background work, takes a new device
    // list, the job's outcome and a throughput sample. `now` in seconds, monotonic.
    void frame(double now);

    Screen screen() const { return screen_; }
    // Back one step, where that is allowed (never away from a running job).
    void go_back();
    bool busy() const {
        return tasks_.busy() || picture_tasks_.busy() || batch_running_ || !pending_.empty() ||
               job_.running() || bundle_job_.running();
    }
    // Tests and scripted runs: waits for background work and the job to end, then runs
    // frame(). False on timeout.
    bool settle(std::chrono::milliseconds timeout);

    // The banner: the last thing that went wrong or needs saying, empty when none.
    const std::string& message() const { return message_; }
    const std::vector<OperatorAction>& actions() const { return actions_; }

    // --- Sign in
    OperatorIdentity who;
    std::optional<std::string> sign_in_blocker() const;
    void sign_in();

    // --- Case
    CaseDetails case_details;
    const std::vector<CaseSummary>& recent_cases() const { return recent_; }
    void resume_case(std::size_t index);
    std::optional<std::string> case_blocker() const;
    void confirm_case();  // saves case.json on a worker, then shows the devices

    // --- Device
    const std::vector<DeviceEntry>& devices() const { return devices_; }
    bool watching_hotplug() const { return monitor_.watching_hotplug(); }
    void select_device(std::size_t index);
    const DeviceEntry* selected_device() const;
    void protect_selected();  // kernel read-only mode, on a worker
    bool protecting() const { return protecting_; }
    // The override: "make model serial" of the hardware write-blocker the device hangs off.
    std::string hardware_blocker;
    std::optional<std::string> override_blocker() const;
    void apply_override();
    bool override_active() const { return !override_for_.empty(); }
    const std::string& override_text() const { return override_text_; }
    std::optional<std::string> device_blocker() const;
    void confirm_device();  // shows the plan and measures the read speed

    // --- Plan
    PlanChoice plan;
    Estimate estimate() const;
    // What is installed to match against (loaded when the plan is shown). Everything
    // installed starts chosen; the operator can leave any of it out.
    const InstalledMatching& installed() const { return installed_; }
    bool loading_installed() const { return loading_installed_; }
    void toggle_hash_set(const std::string& name);
    void toggle_rule_pack(const std::filesystem::path& pack);
    bool measuring_speed() const { return measuring_; }
    std::optional<std::string> start_blocker() const;
    // Starts the job when start_blocker() allows it; otherwise records the refusal.
    bool start_job();

    // --- Running
    const StationJob& job() const { return job_; }
    // The job's stages for display: a stage that ended keeps the figures it last showed
    // while running (the engine starts a new, empty "cancelled" stage when it stops).
    std::vector<StageView> stages() const;
    const std::vector<float>& throughput() const { return throughput_; }  // MB/s samples
    void cancel_job();
    const std::optional<JobOutcome>& outcome() const { return outcome_; }
    // Files recorded and hits by kind so far, polled from the case database on a worker
    // about once a second while the job runs; the outcome's final figures once it ends.
    const LiveCounts& live() const { return live_; }
    int live_polls() const { return live_polls_; }  // polls that came back, for tests

    // --- Findings
    const FindingsIndex* findings() const { return findings_ ? &*findings_ : nullptr; }
    bool loading_findings() const { return loading_findings_; }
    void show_findings();

    // --- Pictures (Findings): the device's pictures, thumbnails decoded on their own
    // worker from content the engine reads back from the source, on request (the grid asks
    // for the ones it shows, every frame). At the scene the source is the device; in review,
    // the image inside the bundle, opened read-only. One opened source serves every
    // thumbnail of a job; requests made in one frame are read in one batch at the next
    // frame; the decoded thumbnails are kept in a bounded LRU cache. Blurred until the
    // examiner reveals one: `reveal`.
    using PictureThumb = station::PictureThumb;
    const std::vector<std::size_t>& pictures() const { return pictures_; }
    // nullptr until requested; loading while queued or on the worker.
    const PictureThumb* thumbnail(std::size_t file) const;
    // Asks for a thumbnail (again) this frame. The worker takes the newest frame's requests
    // first and, within a frame, in the order they were made: the grid asks for the tiles
    // on screen, then the rows ahead of its scroll (prefetch_rows), nearest first.
    void request_thumbnail(std::size_t file);
    PictureReveal reveal;
    static constexpr int kThumbnailSide = 160;
    // ~200 KiB each (sharp + blurred): 50 MiB. The largest grid (1920x1080) shows 16 tiles
    // and asks for two screens ahead: the cache holds those several times over, so a
    // fling back finds the rows it passed.
    static constexpr std::size_t kThumbnailCache = 256;
    static constexpr std::size_t kThumbnailBatch = 32;  // files per parser worker
    const ThumbnailCache& thumbnail_cache() const { return thumbs_; }
    int picture_batches() const { return picture_batches_; }  // batches sent, for tests
    int picture_source_opens() const;                         // for tests
    const std::string& picture_source() const { return picture_source_; }
    // Shows the pictures from `source_path` (read-only), as a job does for its device: for
    // a resumed case whose exhibit is attached again, and for benchmarks.
    void use_picture_source(const std::string& source_path) { reset_pictures(source_path, "", ""); }

    // --- Seal: the case into a bundle on the output drive, then verified.
    std::string seal_folder;  // where the bundle goes; empty: the plan's output or case folder
    std::filesystem::path seal_destination() const;  // the bundle directory it would make
    std::optional<std::string> seal_blocker() const;
    void show_seal();
    // Starts sealing when seal_blocker() allows it (the view asks for a hold first).
    bool seal_case();
    const BundleJob& bundle_job() const { return bundle_job_; }
    const std::optional<BundleResult>& bundle_result() const { return bundle_result_; }
    void cancel_bundle_job();
    // The image's hashes when this job made one (to read aloud), else nullptr.
    const AcquisitionResult* image_result() const;

    // --- Review (lab): a sealed bundle, verified, its findings read-only.
    std::string review_path;
    std::optional<std::string> review_blocker() const;
    void open_bundle();  // shows Review and starts verifying review_path
    bool reviewing() const { return reviewing_; }
    void review_findings();  // the bundle's own case database, opened read-only

    const CaseStore& case_store() const { return store_; }
    void record(std::string action, std::string detail);

  private:
    void load_recent_cases();
    void load_findings_async(std::filesystem::path db = {}, bool read_only = false);
    void on_devices(std::vector<DeviceEntry> list);

    StationConfig config_;
    CaseStore store_;
    Screen screen_ = Screen::SignIn;
    std::string message_;
    std::vector<OperatorAction> actions_;
    std::size_t logged_actions_ = 0;  // actions already handed to a job's custody log
    std::vector<CaseSummary> recent_;

    std::vector<DeviceEntry> devices_;
    std::string selected_path_;  // survives hotplug reordering
    std::string override_for_;   // the device path the override was declared for
    std::string override_text_;
    bool protecting_ = false;
    double measured_rate_ = 0;
    std::string measured_for_;
    bool measuring_ = false;

    StationJob job_;
    std::optional<JobOutcome> outcome_;
    std::vector<float> throughput_;
    std::vector<StageView> last_running_;
    double last_sample_time_ = -1;
    std::uint64_t last_sample_bytes_ = 0;
    int last_sample_stage_ = -1;
    LiveCounts live_;
    bool live_polling_ = false;
    double last_live_poll_ = -1;
    int live_polls_ = 0;

    InstalledMatching installed_;
    bool loading_installed_ = false;
    bool installed_loaded_ = false;
    std::shared_ptr<YaraLibrary> yara_;

    std::optional<FindingsIndex> findings_;
    bool loading_findings_ = false;

    std::vector<std::size_t> pictures_;
    void reset_pictures(std::string source, std::string blocker, std::string unavailable);
    void dispatch_thumbnails();
    ThumbnailCache thumbs_{kThumbnailCache};
    std::map<std::size_t, std::uint64_t> pending_;  // file -> the frame it was last asked for
    std::set<std::size_t> in_flight_;               // files the worker has now
    bool batch_running_ = false;
    std::uint64_t frame_no_ = 0, picture_generation_ = 0;
    std::uint64_t requests_this_frame_ = 0;
    int picture_batches_ = 0;
    std::shared_ptr<PictureReader> picture_reader_;      // one per job, used on the worker
    std::shared_ptr<std::atomic<bool>> picture_cancel_;  // set when the job's pictures go
    std::string picture_source_, picture_blocker_;
    std::string picture_unavailable_;  // why no picture can be shown, when none can
    std::filesystem::path image_dir_;  // where this job's image was written
    BundleJob bundle_job_;
    std::optional<BundleResult> bundle_result_;
    bool reviewing_ = false;
    std::filesystem::path reviewed_;  // the bundle under review

    DeviceMonitor monitor_;
    // Last: destroyed first, so no task outlives the state its completion touches.
    BackgroundTasks picture_tasks_;
    BackgroundTasks tasks_;
};

}  // namespace exhibit::station
