#include "exhibit/station/bundle_job.hpp"

#include <nlohmann/json.hpp>

#include "exhibit/keys.hpp"

namespace exhibit::station {

namespace fs = std::filesystem;

std::string verdict_headline(const BundleVerdict& verdict) {
    std::size_t failed = 0;
    for (const auto& c : verdict.checks)
        failed += !c.ok;
    const std::size_t n = verdict.checks.size();
    if (verdict.ok && failed == 0)
        return "Verified: " + std::to_string(n) + " of " + std::to_string(n) + " checks passed";
    return "NOT verified: " + std::to_string(failed) + " of " + std::to_string(n) +
           (n == 1 ? " check failed" : " checks failed");
}

fs::path free_bundle_path(const fs::path& dir, const std::string& name) {
    std::error_code ec;
    fs::path p = dir / name;
    for (int i = 2; fs::exists(p, ec) || fs::exists(fs::path(p.string() + ".partial"), ec); ++i)
        p = dir / (name + "-" + std::to_string(i));
    return p;
}

BundleJob::~BundleJob() {
    cancel_.store(true);
    if (thread_.joinable()) thread_.join();
}

bool BundleJob::launch(const char* phase) {
    if (running_.load()) return false;
    if (thread_.joinable()) thread_.join();
    cancel_.store(false);
    {
        std::lock_guard lock(mutex_);
        result_.reset();
    }
    progress_.begin_stage("starting", 0);
    phase_.store(phase);
    running_.store(true);
    return true;
}

void BundleJob::finish(BundleResult result) {
    {
        std::lock_guard lock(mutex_);
        result_ = std::move(result);
    }
    phase_.store("idle");
    running_.store(false);
}

std::optional<BundleResult> BundleJob::take_result() {
    if (running_.load()) return std::nullopt;
    std::optional<BundleResult> out;
    {
        std::lock_guard lock(mutex_);
        out.swap(result_);
    }
    if (out && thread_.joinable()) thread_.join();
    return out;
}

bool BundleJob::start_verify(fs::path bundle, VerifyOptions options) {
    if (!launch("verifying")) return false;
    thread_ = std::thread([this, bundle = std::move(bundle), options = std::move(options)] {
        BundleResult r;
        r.bundle = bundle;
        r.verdict = verify_bundle(bundle, options, progress_, cancel_);
        r.cancelled = cancel_.load();
        finish(std::move(r));
    });
    return true;
}

bool BundleJob::start_seal(SealRequest request) {
    if (!launch("sealing")) return false;
    thread_ = std::thread([this, r = std::move(request)]() mutable { seal(std::move(r)); });
    return true;
}

void BundleJob::seal(SealRequest request) {
    BundleResult r;
    r.bundle = request.out;
    auto db = CaseDatabase::open(request.case_database);
    if (!db) {
        r.error = db.error().message;
        return finish(std::move(r));
    }
    auto key = ApplianceKey::load_or_create(request.key_store);
    if (!key) {
        r.error = key.error().message;
        return finish(std::move(r));
    }
    CustodyLog log(**db);
    for (const auto& [time, action, detail] : request.station_actions)
        (void)log.append(
            request.who, custody_action::kNoteAdded,
            nlohmann::json{{"station_action", action}, {"detail", detail}, {"time", time}}.dump());
    SealPlan plan;
    plan.out = request.out;
    plan.images = request.images;
    auto sealed = seal_bundle(**db, *key, plan, progress_, cancel_);
    if (!sealed) {
        r.cancelled = sealed.error().kind == ErrorKind::Cancelled;
        r.error = sealed.error().message;
        return finish(std::move(r));
    }
    r.sealed = *sealed;
    // What was written is checked at once, as the CLI's job does, and the answer logged
    // in the working case database (after the seal: the bundle's copy ends with the seal).
    phase_.store("verifying");
    VerifyOptions options;
    options.trusted_key = key->fingerprint();
    r.verdict = verify_bundle(sealed->bundle, options, progress_, cancel_);
    r.cancelled = cancel_.load();
    (void)log.append(
        request.who, custody_action::kBundleVerified,
        nlohmann::json{{"bundle", sealed->bundle.filename().string()}, {"verified", r.verdict->ok}}
            .dump());
    finish(std::move(r));
}

}  // namespace exhibit::station
