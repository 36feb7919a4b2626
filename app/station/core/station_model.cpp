#include "exhibit/station/station_model.hpp"

#include <algorithm>
#include <thread>

#include "exhibit/keys.hpp"

namespace exhibit::station {

namespace fs = std::filesystem;

const char* to_string(Screen screen) {
    switch (screen) {
        case Screen::SignIn:
            return "signin";
        case Screen::Case:
            return "case";
        case Screen::Device:
            return "device";
        case Screen::Plan:
            return "plan";
        case Screen::Running:
            return "running";
        case Screen::Findings:
            return "findings";
        case Screen::Seal:
            return "seal";
        case Screen::Review:
            return "review";
    }
    return "?";
}

std::optional<Screen> screen_from_string(const std::string& name) {
    for (Screen s : {Screen::SignIn, Screen::Case, Screen::Device, Screen::Plan, Screen::Running,
                     Screen::Findings, Screen::Seal, Screen::Review})
        if (name == to_string(s)) return s;
    return std::nullopt;
}

namespace {
bool blank(const std::string& s) {
    return s.find_first_not_of(" \t") == std::string::npos;
}
}  // namespace

StationModel::StationModel(StationConfig config)
    : config_(std::move(config)),
      store_(config_.case_root),
      monitor_(
          DeviceMonitor::Options{config_.sysfs_root, config_.image_files, config_.watch_hotplug}) {}

StationModel::~StationModel() {
    if (picture_cancel_) picture_cancel_->store(true);  // a batch in hand ends early
}

void StationModel::start() {
    tasks_.run([this] {
        monitor_.start();
        monitor_.refresh();
        return BackgroundTasks::Completion{};
    });
    load_recent_cases();
}

void StationModel::record(std::string action, std::string detail) {
    actions_.push_back({utc_timestamp(), std::move(action), std::move(detail)});
}

void StationModel::frame(double now) {
    tasks_.drain();
    picture_tasks_.drain();
    dispatch_thumbnails();
    ++frame_no_;
    requests_this_frame_ = 0;
    if (auto list = monitor_.take_if_changed()) on_devices(std::move(*list));

    if (job_.running() || !throughput_.empty()) {
        auto stages = job_.stages();
        last_running_.resize(stages.size());
        for (std::size_t i = 0; i < stages.size(); ++i)
            // A stage that is stopping restarts its counters at 0: keep what it had done.
            if (stages[i].state == StageState::Running && stages[i].progress.done > 0)
                last_running_[i] = stages[i];
        int current = -1;
        for (std::size_t i = 0; i < stages.size(); ++i)
            if (stages[i].state == StageState::Running) current = static_cast<int>(i);
        if (current >= 0 && (last_sample_time_ < 0 || now - last_sample_time_ >= 0.25)) {
            std::uint64_t done = stages[current].progress.done;
            if (current == last_sample_stage_ && last_sample_time_ >= 0 &&
                done >= last_sample_bytes_) {
                double rate = static_cast<double>(done - last_sample_bytes_) /
                              (now - last_sample_time_) / 1e6;
                throughput_.push_back(static_cast<float>(rate));
                if (throughput_.size() > 240) throughput_.erase(throughput_.begin());
            }
            last_sample_time_ = now;
            last_sample_bytes_ = done;
            last_sample_stage_ = current;
        }
    }
    if (job_.running() && !live_polling_ &&
        (last_live_poll_ < 0 || now - last_live_poll_ >= config_.live_poll_seconds)) {
        live_polling_ = true;
        last_live_poll_ = now;
        tasks_.run(
            [this, db = store_.case_database(case_details)]() -> BackgroundTasks::Completion {
                auto counts = read_live_counts(db);
                return [this, counts = std::move(counts)]() mutable {
                    live_polling_ = false;
                    // A poll that lands after the outcome would show older figures; and a
                    // failed poll (the job still creating the database) keeps the last ones.
                    if (counts && !outcome_) {
                        live_ = std::move(*counts);
                        ++live_polls_;
                    }
                };
            });
    }
    if (auto r = bundle_job_.take_result()) {
        bundle_result_ = std::move(r);
        const BundleResult& b = *bundle_result_;
        if (b.sealed)
            record("bundle sealed",
                   b.sealed->bundle.string() + ", chain head " + b.sealed->chain_head);
        else if (!reviewing_)
            record(b.cancelled ? "seal cancelled" : "seal failed", b.error);
        if (b.verdict)
            record("bundle verified", b.bundle.string() + ": " + verdict_headline(*b.verdict));
        if (!b.error.empty()) message_ = b.error;
    }
    if (auto out = job_.take_outcome()) {
        outcome_ = std::move(out);
        if (outcome_->triage) {
            live_.run_id = outcome_->triage->id;
            live_.status = outcome_->triage->status;
            live_.files = outcome_->triage->files;
            live_.files_hashed = outcome_->triage->files_hashed;
            live_.hits = outcome_->hit_counts;
        }
        record(outcome_->cancelled ? "job cancelled" : "job finished", outcome_->summary);
        if (outcome_->triage) load_findings_async();
    }
}

void StationModel::go_back() {
    switch (screen_) {
        case Screen::SignIn:
            break;
        case Screen::Case:
            screen_ = Screen::SignIn;
            break;
        case Screen::Device:
            screen_ = Screen::Case;
            break;
        case Screen::Plan:
            screen_ = Screen::Device;
            break;
        case Screen::Running:
            if (!job_.running()) screen_ = Screen::Plan;
            break;
        case Screen::Findings:
            screen_ = reviewing_ ? Screen::Review : Screen::Running;
            break;
        case Screen::Seal:
            if (!bundle_job_.running()) screen_ = Screen::Findings;
            break;
        case Screen::Review:
            if (!bundle_job_.running()) {
                screen_ = Screen::SignIn;
                reviewing_ = false;
                findings_.reset();
            }
            break;
    }
    message_.clear();
}

bool StationModel::settle(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        if (!tasks_.wait_idle(left) || !picture_tasks_.wait_idle(left)) return false;
        while (job_.running() || bundle_job_.running()) {
            if (std::chrono::steady_clock::now() > deadline) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        frame(std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
                  .count());
        if (!busy()) return true;
    }
}

// --- Sign in

std::optional<std::string> StationModel::sign_in_blocker() const {
    if (blank(who.name)) return "Enter the operator's name.";
    if (blank(who.number)) return "Enter the collar or staff number.";
    return std::nullopt;
}

void StationModel::sign_in() {
    if (auto why = sign_in_blocker()) {
        message_ = *why;
        return;
    }
    record("sign in", who.name + " (" + who.number + ")");
    message_.clear();
    screen_ = Screen::Case;
    load_recent_cases();
}

// --- Case

void StationModel::load_recent_cases() {
    tasks_.run([this, store = store_]() -> BackgroundTasks::Completion {
        auto cases = store.recent();
        return [this, cases = std::move(cases)]() mutable {
            if (cases)
                recent_ = std::move(*cases);
            else
                message_ = cases.error().message;
        };
    });
}

void StationModel::resume_case(std::size_t index) {
    if (index >= recent_.size()) return;
    case_details = recent_[index].details;
    record("case resumed", case_details.case_ref + " / " + case_details.exhibit_ref);
}

std::optional<std::string> StationModel::case_blocker() const {
    if (blank(case_details.case_ref)) return "Enter the case reference.";
    if (blank(case_details.exhibit_ref)) return "Enter the exhibit reference.";
    return std::nullopt;
}

void StationModel::confirm_case() {
    if (auto why = case_blocker()) {
        message_ = *why;
        return;
    }
    record("case details", case_details.case_ref + " / " + case_details.exhibit_ref + ", warrant " +
                               case_details.warrant_ref + ", at " + case_details.location);
    tasks_.run([this, store = store_, details = case_details,
                op = who]() mutable -> BackgroundTasks::Completion {
        auto saved = store.save(details, op);
        return [this, saved = std::move(saved)] {
            if (!saved) {
                message_ = saved.error().message;
                return;
            }
            message_.clear();
            screen_ = Screen::Device;
        };
    });
}

// --- Device

void StationModel::on_devices(std::vector<DeviceEntry> list) {
    devices_ = std::move(list);
    if (!selected_path_.empty() && !selected_device()) {
        message_ = "The selected device " + selected_path_ + " was removed.";
        selected_path_.clear();
        override_for_.clear();
        override_text_.clear();
    }
}

void StationModel::select_device(std::size_t index) {
    if (index >= devices_.size() || devices_[index].path == selected_path_) return;
    selected_path_ = devices_[index].path;
    override_for_.clear();
    override_text_.clear();
    message_.clear();
}

const DeviceEntry* StationModel::selected_device() const {
    for (const auto& d : devices_)
        if (d.path == selected_path_) return &d;
    return nullptr;
}

void StationModel::protect_selected() {
    const DeviceEntry* d = selected_device();
    if (!d || d->bus == "file" || protecting_) return;
    protecting_ = true;
    record("protect device", d->path);
    tasks_.run([this, name = d->name, root = config_.sysfs_root]() -> BackgroundTasks::Completion {
        auto result = protect_device(name, root);
        monitor_.refresh();
        return [this, result] {
            protecting_ = false;
            message_ = result.message;
            record(result.verified ? "device protected" : "protection failed", result.message);
        };
    });
}

std::optional<std::string> StationModel::override_blocker() const {
    const DeviceEntry* d = selected_device();
    if (!d) return "Choose a device first.";
    if (d->protection == Protection::Protected || d->protection == Protection::ImageFile)
        return "The device is already protected; no override is needed.";
    if (blank(hardware_blocker)) return "Enter the write-blocker's make, model and serial number.";
    return std::nullopt;
}

void StationModel::apply_override() {
    if (auto why = override_blocker()) {
        message_ = *why;
        return;
    }
    const DeviceEntry* d = selected_device();
    override_for_ = d->path;
    override_text_ = hardware_blocker;
    record("hardware blocker override", d->path + " behind " + hardware_blocker);
    message_.clear();
}

std::optional<std::string> StationModel::device_blocker() const {
    const DeviceEntry* d = selected_device();
    if (!d) return "Choose a device.";
    if (d->protection == Protection::Protected || d->protection == Protection::ImageFile)
        return std::nullopt;
    if (override_for_ == d->path) return std::nullopt;
    return d->name + " is " + to_string(d->protection) +
           ": make it read-only, or declare the hardware write-blocker it is attached through.";
}

void StationModel::confirm_device() {
    if (auto why = device_blocker()) {
        message_ = *why;
        return;
    }
    const DeviceEntry* d = selected_device();
    record("device chosen", d->path + " " + d->vendor + " " + d->model + " " + d->serial + " (" +
                                format_bytes(d->size_bytes) + ", " + to_string(d->protection) +
                                ")");
    screen_ = Screen::Plan;
    message_.clear();
    if (!installed_loaded_ && !loading_installed_) {
        loading_installed_ = true;
        tasks_.run([this, places = config_.matching]() -> BackgroundTasks::Completion {
            auto found = find_installed_matching(places);
            return [this, found = std::move(found)] {
                loading_installed_ = false;
                installed_loaded_ = true;
                installed_ = found;
                for (const auto& s : installed_.hash_sets)
                    plan.hash_sets.push_back(s.name);
                plan.rule_packs = installed_.rule_packs;
                if (!installed_.problems.empty()) message_ = installed_.problems.front();
            };
        });
    }
    if (measured_for_ != d->path && !measuring_) {
        measuring_ = true;
        tasks_.run(
            [this, path = d->path, blocker = override_text_]() -> BackgroundTasks::Completion {
                auto rate = measure_read_speed(path, blocker);
                return [this, path, rate] {
                    measuring_ = false;
                    if (rate) {
                        measured_rate_ = *rate;
                        measured_for_ = path;
                    } else {
                        message_ = "Could not measure the read speed: " + rate.error().message;
                    }
                };
            });
    }
}

// --- Plan

Estimate StationModel::estimate() const {
    const DeviceEntry* d = selected_device();
    std::uint64_t size = d ? d->size_bytes : 0;
    double rate = d && measured_for_ == d->path ? measured_rate_ : 0;
    return estimate_job(size, rate, plan.kind == JobKind::TriageAndImage, plan.verify);
}

void StationModel::toggle_hash_set(const std::string& name) {
    auto it = std::find(plan.hash_sets.begin(), plan.hash_sets.end(), name);
    if (it == plan.hash_sets.end())
        plan.hash_sets.push_back(name);
    else
        plan.hash_sets.erase(it);
}

void StationModel::toggle_rule_pack(const fs::path& pack) {
    auto it = std::find(plan.rule_packs.begin(), plan.rule_packs.end(), pack);
    if (it == plan.rule_packs.end())
        plan.rule_packs.push_back(pack);
    else
        plan.rule_packs.erase(it);
}

std::optional<std::string> StationModel::start_blocker() const {
    if (sign_in_blocker()) return "Sign in first.";
    if (auto why = case_blocker()) return why;
    if (auto why = device_blocker()) return why;
    if (job_.running()) return "A job is already running.";
    return std::nullopt;
}

bool StationModel::start_job() {
    const DeviceEntry* d = selected_device();
    if (auto why = start_blocker()) {
        record("start refused", (d ? d->path + ": " : std::string()) + *why);
        message_ = *why;
        return false;
    }
    JobRequest request;
    request.source_path = d->path;
    if (override_for_ == d->path) request.hardware_blocker = override_text_;
    request.kind = plan.kind;
    request.case_database = store_.case_database(case_details);
    request.image.format = plan.format;
    request.image.out_dir =
        plan.output_dir.empty() ? store_.image_folder(case_details) : fs::path(plan.output_dir);
    request.image.basename = folder_name_for(case_details.exhibit_ref);
    image_dir_ = request.image.out_dir;
    reset_pictures(request.source_path, request.hardware_blocker, "");
    request.image.verify = plan.verify;
    request.image.case_info.case_number = case_details.case_ref;
    request.image.case_info.evidence_number = case_details.exhibit_ref;
    request.image.case_info.examiner = who.name + " (" + who.number + ")";
    request.image.case_info.description = d->vendor + " " + d->model + " " + d->serial;
    request.image.case_info.notes = case_details.notes;
    request.case_record.case_reference = case_details.case_ref;
    request.case_record.exhibit_reference = case_details.exhibit_ref;
    request.case_record.warrant_reference = case_details.warrant_ref;
    request.case_record.operator_name = who.name;
    request.case_record.operator_id = who.number;
    request.case_record.location = case_details.location;
    request.case_record.notes = case_details.notes;
    request.protection = std::string(to_string(d->protection)) +
                         (override_for_ == d->path ? ", hardware write-blocker override" : "");
    for (std::size_t i = logged_actions_; i < actions_.size(); ++i)
        request.station_actions.push_back(
            {actions_[i].time, actions_[i].action, actions_[i].detail});
    logged_actions_ = actions_.size() + 1;  // this job's own "job started" too
    request.hash_set_store = config_.matching.hash_set_store;
    request.hash_sets = plan.hash_sets;
    request.rule_packs = plan.rule_packs;
    request.keyword_list = plan.keyword_list;
    request.case_keywords = plan.case_keywords;
    request.rules_cache_dir = default_rules_cache_dir();
    if (!request.rule_packs.empty() || !request.keyword_list.empty() ||
        !request.case_keywords.empty()) {
        if (!yara_) {
            auto yara = YaraLibrary::initialize();  // the UI thread, before any compiling
            if (!yara) {
                message_ = yara.error().message;
                return false;
            }
            yara_ = *yara;
        }
        request.yara = yara_;
    }
    record("job started",
           d->path +
               (plan.kind == JobKind::TriageAndImage
                    ? std::string(" triage + image (") + exhibit::to_string(plan.format) + ") to " +
                          request.image.out_dir.string()
                    : std::string(" triage only")) +
               "; hash sets: " + std::to_string(plan.hash_sets.size()) +
               ", rule packs: " + std::to_string(plan.rule_packs.size()) +
               (plan.keyword_list.empty() ? "" : ", keyword list " + plan.keyword_list.string()) +
               (plan.case_keywords.empty() ? "" : ", case keywords: " + plan.case_keywords));
    outcome_.reset();
    findings_.reset();
    bundle_result_.reset();
    throughput_.clear();
    last_running_.clear();
    last_sample_time_ = -1;
    last_sample_stage_ = -1;
    live_ = {};
    last_live_poll_ = -1;
    if (!job_.start(std::move(request))) {
        message_ = "A job is already running.";
        return false;
    }
    message_.clear();
    screen_ = Screen::Running;
    return true;
}

std::vector<StageView> StationModel::stages() const {
    auto stages = job_.stages();
    for (std::size_t i = 0; i < stages.size() && i < last_running_.size(); ++i) {
        const StageView& seen = last_running_[i];
        if (stages[i].state != StageState::Running && stages[i].progress.done == 0 &&
            seen.progress.done > 0) {
            StageState state = stages[i].state;
            stages[i] = seen;
            stages[i].state = state;
        }
    }
    return stages;
}

void StationModel::cancel_job() {
    if (!job_.running()) return;
    record("cancel requested", selected_path_);
    job_.request_cancel();
}

// --- Findings

void StationModel::show_findings() {
    screen_ = Screen::Findings;
    if (!findings_) load_findings_async();
}

void StationModel::load_findings_async(fs::path db, bool read_only) {
    if (loading_findings_) return;
    std::int64_t run_id = 0;
    if (db.empty()) {
        db = store_.case_database(case_details);
        if (outcome_ && outcome_->triage) run_id = outcome_->triage->id;
    }
    loading_findings_ = true;
    std::optional<fs::path> bundle;
    if (reviewing_) bundle = reviewed_;
    tasks_.run([this, db, run_id, read_only, bundle]() -> BackgroundTasks::Completion {
        auto index = load_findings(db, run_id, read_only);
        // In review the pictures come from the bundle's own image.
        std::optional<Expected<fs::path>> image;
        if (bundle && index) image = bundle_image(*bundle);
        return [this, index = std::move(index), image = std::move(image)]() mutable {
            loading_findings_ = false;
            if (index) {
                findings_ = std::move(*index);
                pictures_ = picture_files(*findings_);
                if (image) {
                    if (*image)
                        reset_pictures((*image)->string(), "", "");
                    else
                        reset_pictures("", "", image->error().message);
                } else {
                    reset_pictures(picture_source_, picture_blocker_, picture_unavailable_);
                }
                reveal.hide();
            } else
                message_ = index.error().message;
        };
    });
}

}  // namespace exhibit::station

namespace exhibit::station {

// --- Seal

fs::path StationModel::seal_destination() const {
    fs::path folder = !seal_folder.empty()       ? fs::path(seal_folder)
                      : !plan.output_dir.empty() ? fs::path(plan.output_dir)
                                                 : store_.case_database(case_details).parent_path();
    return free_bundle_path(folder, folder_name_for(case_details.exhibit_ref) + "-bundle");
}

std::optional<std::string> StationModel::seal_blocker() const {
    if (reviewing_) return "A bundle under review is already sealed.";
    if (job_.running()) return "Wait for the job to end.";
    if (!outcome_ || !outcome_->triage) return "Run triage on the exhibit first.";
    if (bundle_job_.running()) return "Sealing is under way.";
    if (bundle_result_ && bundle_result_->sealed)
        return "This case is sealed in " + bundle_result_->sealed->bundle.string() + ".";
    return std::nullopt;
}

void StationModel::show_seal() {
    if (reviewing_) return;
    screen_ = Screen::Seal;
    message_.clear();
}

const AcquisitionResult* StationModel::image_result() const {
    if (!outcome_ || !outcome_->image) return nullptr;
    auto st = outcome_->image->status;
    if (st != AcquisitionStatus::Completed && st != AcquisitionStatus::CompletedWithErrors)
        return nullptr;
    return &*outcome_->image;
}

bool StationModel::seal_case() {
    if (auto why = seal_blocker()) {
        record("seal refused", *why);
        message_ = *why;
        return false;
    }
    SealRequest request;
    request.case_database = store_.case_database(case_details);
    request.key_store =
        config_.key_store.empty() ? ApplianceKey::default_store() : config_.key_store;
    request.out = seal_destination();
    if (image_result()) request.images.push_back(image_dir_);
    request.who = {who.name, who.number};
    record("seal", request.out.string());
    for (std::size_t i = logged_actions_; i < actions_.size(); ++i)
        request.station_actions.push_back(
            {actions_[i].time, actions_[i].action, actions_[i].detail});
    logged_actions_ = actions_.size();
    bundle_result_.reset();
    message_.clear();
    return bundle_job_.start_seal(std::move(request));
}

void StationModel::cancel_bundle_job() {
    if (!bundle_job_.running()) return;
    record("cancel requested", bundle_job_.phase());
    bundle_job_.request_cancel();
}

// --- Review

std::optional<std::string> StationModel::review_blocker() const {
    if (blank(review_path)) return "Enter the folder of the sealed bundle.";
    std::error_code ec;
    if (!fs::is_regular_file(fs::path(review_path) / "bagit.txt", ec))
        return review_path + " is not a bundle: it has no bagit.txt.";
    if (job_.running() || bundle_job_.running()) return "Wait for the job to end.";
    return std::nullopt;
}

void StationModel::open_bundle() {
    if (auto why = review_blocker()) {
        message_ = *why;
        return;
    }
    reviewing_ = true;
    reviewed_ = fs::path(review_path);
    findings_.reset();
    bundle_result_.reset();
    message_.clear();
    record("bundle opened", reviewed_.string());
    screen_ = Screen::Review;
    bundle_job_.start_verify(reviewed_);
}

void StationModel::review_findings() {
    if (!reviewing_) return;
    screen_ = Screen::Findings;
    if (!findings_) load_findings_async(reviewed_ / "data" / "case.sqlite", true);
}

}  // namespace exhibit::station

namespace exhibit::station {

// --- Pictures

namespace {
const PictureThumb kLoading{};  // loading = true
}  // namespace

void StationModel::reset_pictures(std::string source, std::string blocker,
                                  std::string unavailable) {
    ++picture_generation_;  // batches in flight land nowhere
    thumbs_.clear();
    pending_.clear();
    in_flight_.clear();
    if (source != picture_source_ || blocker != picture_blocker_ || !picture_reader_) {
        if (picture_cancel_) picture_cancel_->store(true);
        picture_cancel_ = std::make_shared<std::atomic<bool>>(false);
        picture_reader_ =
            source.empty() ? nullptr : std::make_shared<PictureReader>(source, blocker);
    }
    picture_source_ = std::move(source);
    picture_blocker_ = std::move(blocker);
    picture_unavailable_ = std::move(unavailable);
}

int StationModel::picture_source_opens() const {
    return picture_reader_ && !batch_running_ ? picture_reader_->opens() : 0;
}

const StationModel::PictureThumb* StationModel::thumbnail(std::size_t file) const {
    if (const PictureThumb* t = thumbs_.find(file)) return t;
    if (pending_.count(file) || in_flight_.count(file)) return &kLoading;
    return nullptr;
}

void StationModel::request_thumbnail(std::size_t file) {
    if (!findings_ || file >= findings_->files.size() || thumbs_.touch(file) ||
        in_flight_.count(file))
        return;
    if (!picture_reader_) {
        PictureThumb t;
        t.loading = false;
        t.error = !picture_unavailable_.empty()
                      ? picture_unavailable_
                      : "Pictures are shown from the exhibit itself, at the scene.";
        thumbs_.put(file, std::move(t));
        return;
    }
    // Newer frames first; within a frame, the order of asking (the bits below the frame).
    constexpr std::uint64_t kPerFrame = 1u << 24;
    pending_[file] =
        frame_no_ * kPerFrame +
        (kPerFrame - 1 - std::min<std::uint64_t>(requests_this_frame_++, kPerFrame - 1));
}

// At the start of a frame: the files the grid asked for, newest first, go to the worker in
// one batch (one parser worker over the job's one opened source). Requests the grid has
// not repeated lately are dropped beyond a few batches' worth: they scrolled away.
void StationModel::dispatch_thumbnails() {
    if (batch_running_ || pending_.empty() || !findings_ || !picture_reader_) return;
    std::vector<std::pair<std::uint64_t, std::size_t>> order;
    order.reserve(pending_.size());
    for (auto [file, stamp] : pending_)
        order.emplace_back(stamp, file);
    std::stable_sort(order.begin(), order.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    std::vector<std::size_t> batch;
    std::vector<FileRow> rows;
    for (std::size_t i = 0; i < order.size(); ++i) {
        const std::size_t file = order[i].second;
        if (i < kThumbnailBatch) {
            batch.push_back(file);
            rows.push_back(findings_->files[file]);
            in_flight_.insert(file);
            pending_.erase(file);
        } else if (i >= 3 * kThumbnailBatch) {
            pending_.erase(file);
        }
    }
    batch_running_ = true;
    ++picture_batches_;
    picture_tasks_.run([this, batch = std::move(batch), rows = std::move(rows),
                        reader = picture_reader_, cancel = picture_cancel_,
                        generation = picture_generation_]() -> BackgroundTasks::Completion {
        auto done = reader->load(rows, kThumbnailSide, 32ull << 20, *cancel);
        return [this, batch, done = std::move(done), generation]() mutable {
            batch_running_ = false;
            if (generation != picture_generation_) return;
            for (std::size_t i = 0; i < batch.size(); ++i) {
                in_flight_.erase(batch[i]);
                thumbs_.put(batch[i], std::move(done[i]));
            }
        };
    });
}

}  // namespace exhibit::station
