#include "exhibit/station/job.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <vector>

#include "exhibit/hashset.hpp"
#include "exhibit/source.hpp"
#include "exhibit/station/matching.hpp"

namespace exhibit::station {

namespace fs = std::filesystem;

const char* to_string(StageState state) {
    switch (state) {
        case StageState::Pending:
            return "waiting";
        case StageState::Running:
            return "running";
        case StageState::Done:
            return "done";
        case StageState::Failed:
            return "failed";
        case StageState::Cancelled:
            return "cancelled";
        case StageState::Skipped:
            return "skipped";
    }
    return "?";
}

StationJob::~StationJob() {
    cancel_.store(true);
    if (thread_.joinable()) thread_.join();
}

bool StationJob::start(JobRequest request) {
    if (running_.load()) return false;
    if (thread_.joinable()) thread_.join();
    cancel_.store(false);
    {
        std::lock_guard lock(mutex_);
        outcome_.reset();
    }
    int n = request.kind == JobKind::TriageAndImage ? 2 : 1;
    stages_[0].name = "Triage";
    stages_[1].name = "Image";
    for (auto& s : stages_) {
        s.state.store(StageState::Pending);
        s.progress.begin_stage("waiting", 0);
    }
    stage_count_.store(n);
    started_ = std::chrono::steady_clock::now();
    finished_after_ns_.store(-1);
    running_.store(true);
    thread_ = std::thread([this, r = std::move(request)]() mutable { run(std::move(r)); });
    return true;
}

double StationJob::elapsed_seconds() const {
    if (stage_count_.load() == 0) return 0;
    auto done = finished_after_ns_.load();
    if (done >= 0) return static_cast<double>(done) / 1e9;
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

std::vector<StageView> StationJob::stages() const {
    std::vector<StageView> out;
    for (int i = 0; i < stage_count_.load(); ++i)
        out.push_back({stages_[i].name, stages_[i].state.load(), stages_[i].progress.snapshot()});
    return out;
}

std::optional<JobOutcome> StationJob::take_outcome() {
    if (running_.load()) return std::nullopt;
    std::optional<JobOutcome> out;
    {
        std::lock_guard lock(mutex_);
        out.swap(outcome_);
    }
    if (out && thread_.joinable()) thread_.join();
    return out;
}

void StationJob::run(JobRequest request) {
    JobOutcome outcome;
    auto finish = [&] {
        finished_after_ns_.store(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                     std::chrono::steady_clock::now() - started_)
                                     .count());
        {
            std::lock_guard lock(mutex_);
            outcome_ = std::move(outcome);
        }
        running_.store(false);
    };
    auto fail_all = [&](const std::string& why) {
        for (int i = 0; i < stage_count_.load(); ++i)
            stages_[i].state.store(StageState::Failed);
        outcome.summary = why;
        finish();
    };

    OpenOptions open_options;
    open_options.hardware_blocker = request.hardware_blocker;
    auto source = open_source(request.source_path, open_options);
    if (!source) return fail_all(source.error().message);
    auto db = CaseDatabase::open(request.case_database);
    if (!db) return fail_all(db.error().message);

    // Custody: every step of this job goes into the case's hash-chained log.
    CustodyLog log(**db);
    const Operator who = request.case_record.operator_of();
    auto existing = read_case(**db);
    if (!existing) return fail_all(existing.error().message);
    if (!*existing) {
        if (auto s = open_case(**db, request.case_record); !s) return fail_all(s.error().message);
    } else {
        (void)log.append(who, custody_action::kOperatorSignedIn,
                         nlohmann::json{{"name", who.name}, {"id", who.id}}.dump());
    }
    for (const auto& [time, action, detail] : request.station_actions)
        (void)log.append(
            who, custody_action::kNoteAdded,
            nlohmann::json{{"station_action", action}, {"detail", detail}, {"time", time}}.dump());
    const SourceInfo& info = (*source)->info();
    if (auto s = record_source(**db, request.case_record, info); !s)
        return fail_all(s.error().message);
    (void)log.append(
        who, custody_action::kWriteBlockChecked,
        nlohmann::json{{"how", !request.hardware_blocker.empty()
                                   ? "hardware write-blocker declared by the operator"
                               : info.device ? "kernel read-only flag (BLKROGET)"
                                             : "image file opened read-only"},
                       {"result", request.protection},
                       {"hardware_blocker", request.hardware_blocker},
                       {"kernel_read_only", info.device ? info.device->kernel_read_only : false}}
            .dump());
    auto log_error = [&](const std::string& during, const std::string& message) {
        (void)log.append(who, custody_action::kError,
                         nlohmann::json{{"during", during}, {"message", message}}.dump());
    };

    // The matchers are built before the read so a bad set or pack stops nothing half-way.
    WalkOptions walk;
    if (!request.hash_sets.empty()) {
        auto library = HashSetLibrary::open(request.hash_set_store, request.hash_sets);
        if (!library) return fail_all(library.error().message);
        walk.scanners.push_back(hash_set_scanner(*library));
    }
    if (!request.case_keywords.empty()) {
        std::string terms = request.case_keywords;
        if (!request.keyword_list.empty()) {
            auto listed = read_keyword_list(request.keyword_list);
            if (!listed) return fail_all(listed.error().message);
            for (const auto& t : *listed)
                terms += "\n" + t.term;
        }
        fs::path file = request.case_database.parent_path() / "keywords.txt";
        auto written = write_case_keywords(terms, file);
        if (!written) return fail_all(written.error().message);
        if (*written > 0) request.keyword_list = file;
    }
    if (!request.rule_packs.empty() || !request.keyword_list.empty()) {
        if (!request.yara) return fail_all("YARA was not initialised for the rule packs.");
        RuleSetOptions ro;
        ro.packs = request.rule_packs;
        if (!request.keyword_list.empty()) ro.keywords = request.keyword_list;
        ro.cache_dir = request.rules_cache_dir;
        auto rules = CompiledRules::build(request.yara, ro);
        if (!rules) return fail_all(rules.error().message);
        for (const auto& pack : (*rules)->packs())
            for (const auto& file : pack.files)
                if (!file.compiled)
                    outcome.rule_problems.push_back(
                        file.file.string() + " left out: " +
                        (file.messages.empty() ? std::string("does not compile")
                                               : "line " + std::to_string(file.messages[0].line) +
                                                     ": " + file.messages[0].text));
        walk.scanners.push_back(make_yara_scanner_factory(*rules, YaraScanOptions{},
                                                          std::make_shared<YaraScanStats>()));
        // The rule files left out are kept with the run (as `exhibit triage` keeps them), so
        // Findings lists them under "Not fully scanned".
        auto left_out = scan_notes(rules->get(), nullptr);
        walk.notes.insert(walk.notes.end(), left_out.begin(), left_out.end());
    }

    // Triage first: on scene the first answers matter more than the image.
    stages_[0].state.store(StageState::Running);
    (void)log.append(who, custody_action::kTriageStarted,
                     nlohmann::json{{"source", info.path},
                                    {"hash_sets", request.hash_sets},
                                    {"keyword_list", request.keyword_list.string()},
                                    {"scanners", std::to_string(walk.scanners.size())}}
                         .dump());
    auto run = triage_source(**source, **db, walk, stages_[0].progress, cancel_);
    if (run)
        (void)log.append(who, custody_action::kTriageFinished, triage_finished_detail(**db, *run));
    if (!run) {
        log_error("triage", run.error().message);
        stages_[0].state.store(StageState::Failed);
        outcome.summary = "Triage failed: " + run.error().message;
    } else {
        outcome.triage = *run;
        StageState s = run->status == "completed"   ? StageState::Done
                       : run->status == "cancelled" ? StageState::Cancelled
                                                    : StageState::Failed;
        stages_[0].state.store(s);
        outcome.summary = "Triage " + run->status + ": " + std::to_string(run->files) + " files, " +
                          std::to_string(run->files_hashed) + " hashed.";
        if (!run->stopped_at.empty()) outcome.summary += " Stopped at: " + run->stopped_at;
        if (s == StageState::Cancelled) outcome.cancelled = true;
        if (auto counts = (*db)->hit_counts(run->id)) outcome.hit_counts = std::move(*counts);
    }

    bool triage_ok = stages_[0].state.load() == StageState::Done;
    if (request.kind == JobKind::TriageAndImage) {
        if (!triage_ok || cancel_.load()) {
            stages_[1].state.store(StageState::Skipped);
            outcome.summary += " Image not started.";
        } else {
            stages_[1].state.store(StageState::Running);
            (void)log.append(who, custody_action::kAcquisitionStarted,
                             acquisition_started_detail(request.image, info));
            auto image = acquire(**source, request.image, stages_[1].progress, cancel_);
            if (image)
                (void)log.append(who, custody_action::kAcquisitionFinished,
                                 acquisition_finished_detail(*image));
            else
                log_error("acquisition", image.error().message);
            if (!image) {
                stages_[1].state.store(StageState::Failed);
                outcome.summary += " Image failed: " + image.error().message;
            } else {
                outcome.image = *image;
                auto st = image->status;
                stages_[1].state.store(st == AcquisitionStatus::Completed ||
                                               st == AcquisitionStatus::CompletedWithErrors
                                           ? StageState::Done
                                       : st == AcquisitionStatus::Cancelled ? StageState::Cancelled
                                                                            : StageState::Failed);
                if (st == AcquisitionStatus::Cancelled) outcome.cancelled = true;
                outcome.summary += " Image: " + image->summary;
            }
        }
    }
    outcome.completed = true;
    for (int i = 0; i < stage_count_.load(); ++i)
        if (stages_[i].state.load() != StageState::Done) outcome.completed = false;
    finish();
}

Expected<double> measure_read_speed(const std::string& source_path,
                                    const std::string& hardware_blocker, std::uint64_t bytes) {
    OpenOptions options;
    options.hardware_blocker = hardware_blocker;
    auto source = open_source(source_path, options);
    if (!source) return source.error();
    std::uint64_t want = std::min<std::uint64_t>(bytes, (*source)->info().size);
    if (want == 0) return make_error(ErrorKind::InvalidArgument, source_path + " is empty");
    std::vector<std::byte> buf(4u << 20);
    auto t0 = std::chrono::steady_clock::now();
    std::uint64_t done = 0;
    while (done < want) {
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), want - done));
        auto got = read_fully(**source, done, std::span(buf.data(), n));
        if (!got) return got.error();
        if (*got == 0) break;
        done += *got;
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return static_cast<double>(done) / std::max(secs, 1e-6);
}

}  // namespace exhibit::station
