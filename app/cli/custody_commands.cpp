#include "custody_commands.hpp"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "exhibit/acquire.hpp"
#include "exhibit/bundle.hpp"
#include "exhibit/case_db.hpp"
#include "exhibit/keys.hpp"
#include "exhibit/platform/device_discovery.hpp"
#include "exhibit/platform/write_protection.hpp"
#include "exhibit/report.hpp"
#include "exit_codes.hpp"
#include "terminal.hpp"

namespace exhibit::cli {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json counters_json(const platform::IoCounters& c) {
    return {{"reads_completed", c.reads_completed},
            {"sectors_read", c.sectors_read},
            {"writes_completed", c.writes_completed},
            {"sectors_written", c.sectors_written},
            {"discards_completed", c.discards_completed.value_or(0)},
            {"flushes_completed", c.flushes_completed.value_or(0)}};
}

// The write-block evidence for a source: how it is protected and, for a block device,
// the kernel's protection state of every node and its block-layer counters.
struct WriteBlockCheck {
    json detail;
    bool protected_ok = true;
    std::string device;  // kernel name for block devices
    platform::IoCounters before;
    bool have_counters = false;
};

WriteBlockCheck check_write_block(const SourceInfo& s) {
    WriteBlockCheck w;
    if (s.kind == SourceKind::BlockDevice && s.device) {
        w.device = s.device->name;
        json nodes = json::array();
        if (auto disk = platform::find_disk(s.device->name)) {
            for (const auto& n : platform::query_protection(*disk)) {
                nodes.push_back({{"name", n.name},
                                 {"blkroget", n.ioctl_read_only.value_or(false)},
                                 {"sysfs_ro", n.sysfs_read_only.value_or(false)},
                                 {"read_only", n.read_only()}});
                w.protected_ok = w.protected_ok && n.read_only();
            }
        } else {
            w.protected_ok = s.device->kernel_read_only;
        }
        w.have_counters = !platform::read_io_counters(s.device->name, w.before);
        bool blocker = !s.device->hardware_blocker.empty();
        w.detail = {{"stage", "before"},
                    {"how", blocker ? "hardware write-blocker declared by the operator: " +
                                          s.device->hardware_blocker
                                    : "kernel read-only flag (BLKROGET and sysfs ro) on the "
                                      "disk and every partition"},
                    {"result", w.protected_ok ? "read-only"
                               : blocker      ? "hardware write-blocker"
                                              : "writable"},
                    {"nodes", nodes}};
        if (w.have_counters) w.detail["counters"] = counters_json(w.before);
        if (blocker) w.protected_ok = true;
    } else if (s.kind == SourceKind::UsbMassStorage) {
        w.detail = {{"stage", "before"},
                    {"how",
                     "user-space USB reader: only read-class SCSI commands pass the "
                     "firmware write-block filter"},
                    {"result", "read-only"}};
    } else {
        w.detail = {{"stage", "before"},
                    {"how", "image file opened O_RDONLY|O_NOATIME; no block device"},
                    {"result", "read-only"}};
    }
    return w;
}

// Gives up the custody log's reserve when a job ends, however it ends.
struct ReserveReleaser {
    const CaseDatabase& db;
    ~ReserveReleaser() { release_custody_reserve(db); }
};

void print_verdict(const BundleVerdict& v) {
    for (const auto& c : v.checks) {
        std::cout << (c.ok ? "ok    " : "FAIL  ") << c.name << ": " << c.message << "\n";
    }
    std::size_t failed = 0;
    for (const auto& c : v.checks)
        failed += c.ok ? 0 : 1;
    if (v.ok) {
        std::cout << "verdict: VERIFIED (" << v.checks.size() << " checks passed)\n";
    } else {
        std::cout << "verdict: FAILED (" << failed << " of " << v.checks.size()
                  << " checks failed)\n";
    }
}

// What a job that a kill or power cut interrupted got done, read from its working folder.
struct InterruptedJob {
    std::optional<TriageRun> triage_done;  // a run that completed
    bool triage_logged = false;            // its triage_finished event is in the log
    enum class Image { None, Complete, Checkpoint, Restart } image = Image::None;
    bool acquisition_logged = false;  // acquisition_finished after the last acquisition_started
    std::string image_format;         // e01 or raw as the job began it; empty when unknown
    json detail;                      // the job_resumed event's detail
};

Expected<InterruptedJob> inspect_interrupted_job(CaseDatabase& db, const fs::path& work,
                                                 const fs::path& out) {
    InterruptedJob job;
    auto interrupted = db.mark_interrupted_runs();
    if (!interrupted) return interrupted.error();
    auto runs = db.runs();
    if (!runs) return runs.error();
    std::string triage = "triage runs (it had not started)";
    for (const auto& r : *runs) {
        if (r.status == "completed") job.triage_done = r;
    }
    if (job.triage_done) {
        triage = "triage finished before (run " + std::to_string(job.triage_done->id) + ")";
    } else if (!runs->empty()) {
        triage = "triage runs again (run " + std::to_string(runs->back().id) + " was " +
                 runs->back().status + ")";
    }
    auto events = CustodyLog(db).events();
    if (!events) return events.error();
    std::int64_t last_started = 0, last_finished = 0;
    for (const auto& e : *events) {
        const std::string action = json::parse(e.line, nullptr, false).value("action", "");
        if (action == custody_action::kTriageFinished) job.triage_logged = true;
        if (action == custody_action::kAcquisitionStarted) last_started = e.seq;
        if (action == custody_action::kAcquisitionFinished) last_finished = e.seq;
    }
    job.acquisition_logged = last_finished > last_started;

    std::error_code ec;
    const fs::path image = work / "image";
    std::string acquisition = "the acquisition starts (it had not started)";
    if (fs::exists(image, ec)) {
        std::ifstream in(image / "image.acquisition.json");
        auto record = json::parse(in, nullptr, false);
        auto found = find_interrupted_acquisition(image);
        if (!record.is_discarded() && record.value("complete", false)) {
            job.image = InterruptedJob::Image::Complete;
            job.image_format = record.value("format", "");
            acquisition = "the acquisition finished before";
        } else if (found) {
            job.image = InterruptedJob::Image::Checkpoint;
            job.image_format = to_string(found->plan.format);
            acquisition = found->plan.format == ImageFormat::Ewf
                              ? "the E01 acquisition starts again from byte 0 (interrupted at "
                                "byte " +
                                    std::to_string(found->offset) + ")"
                              : "the acquisition resumes from its checkpoint at byte " +
                                    std::to_string(found->offset);
        } else {
            job.image = InterruptedJob::Image::Restart;
            acquisition =
                "the acquisition starts again (it left no checkpoint; its output is kept aside)";
        }
    }
    // The seal's staging folder holds only links and copies of what is here: a seal that
    // did not end is simply done again.
    const fs::path staging = out.string() + ".partial";
    const bool staging_found = fs::exists(staging, ec);
    if (staging_found) fs::remove_all(staging, ec);
    if (ec) return errno_error("cannot remove " + staging.string(), ec.value());
    job.detail = {{"bundle", out.filename().string()},
                  {"triage", triage},
                  {"acquisition", acquisition},
                  {"unfinished_seal_removed", staging_found}};
    return job;
}

}  // namespace

void CustodyCommands::add_to(CLI::App& app) {
    run_ = app.add_subcommand("run",
                              "The whole job: case, custody, write-block check, triage, "
                              "acquisition, sealed bundle, verification");
    run_->add_option("SOURCE", source_, "Device or image")->required();
    run_->add_option("--out", out_, "Bundle directory to create (must not exist)")->required();
    run_->add_flag("--resume", resume_,
                   "Continue the job a kill or power cut interrupted, in BUNDLE.case: triage "
                   "again if it did not finish, the acquisition from its checkpoint, then seal");
    run_->add_option("--case", case_.case_reference, "Case reference")->required();
    run_->add_option("--exhibit", case_.exhibit_reference, "Exhibit reference, e.g. JD/1")
        ->required();
    run_->add_option("--operator", case_.operator_name, "Operator's name")->required();
    run_->add_option("--operator-id", case_.operator_id, "Operator's collar or staff number")
        ->required();
    run_->add_option("--warrant", case_.warrant_reference, "Warrant reference");
    run_->add_option("--location", case_.location, "Where the work is done");
    run_->add_option("--seized-from", case_.seized_from, "Person or place seized from");
    run_->add_option("--notes", case_.notes, "Notes");
    run_->add_option("--image", image_, "Image format, or none")
        ->check(CLI::IsMember({"e01", "raw", "none"}))
        ->capture_default_str();
    run_->add_option("--hardware-blocker", hardware_blocker_,
                     "Declare the hardware write-blocker a writable device is attached through");
    hash_sets_.add_options(run_);
    match_.add_to(*run_);

    seal_ = app.add_subcommand("seal", "Seal a case into a signed BagIt evidence bundle");
    seal_->add_option("CASE_DB", seal_db_, "Case database")->required()->check(CLI::ExistingFile);
    seal_->add_option("--out", seal_out_, "Bundle directory to create (must not exist)")
        ->required();
    seal_->add_option("--image", seal_images_,
                      "Acquisition output directory, or image files and their records");

    verify_ = app.add_subcommand("verify", "Verify an evidence bundle");
    verify_->add_option("BUNDLE", bundle_, "Bundle directory")->required();
    verify_->add_option("--trusted-key", trusted_key_,
                        "The appliance key to require: a PEM file or its SHA-256 fingerprint");
    verify_->add_flag("--json", verify_json_, "Print the checks as JSON");

    key_ = app.add_subcommand("key", "The appliance's signing key");
    key_->require_subcommand(1);
    key_show_ = key_->add_subcommand(
        "show", "Print the public key and its fingerprint (made on first use)");
    key_show_->add_flag("--json", key_json_, "Print as JSON");

    note_ = app.add_subcommand("note", "Add an operator's note to a case's custody log");
    note_->add_option("CASE_DB", note_db_, "Case database")->required()->check(CLI::ExistingFile);
    note_->add_option("TEXT", note_text_, "The note")->required();

    custody_ =
        app.add_subcommand("custody", "Print a custody.jsonl and check its chain line by line");
    custody_
        ->add_option("CUSTODY_JSONL", custody_file_,
                     "A custody log, e.g. BUNDLE/data/custody.jsonl")
        ->required()
        ->check(CLI::ExistingFile);
}

bool CustodyCommands::selected() const {
    return run_->parsed() || seal_->parsed() || verify_->parsed() || key_->parsed() ||
           note_->parsed() || custody_->parsed();
}

int CustodyCommands::run(const std::atomic<bool>& cancel) {
    if (run_->parsed()) return run_job(cancel);
    if (seal_->parsed()) return run_seal(cancel);
    if (verify_->parsed()) return run_verify(cancel);
    if (note_->parsed()) return run_note();
    if (custody_->parsed()) return run_custody();
    return run_key_show();
}

int CustodyCommands::run_key_show() {
    const fs::path store = ApplianceKey::default_store();
    auto key = ApplianceKey::load_or_create(store);
    if (!key) return report(key.error(), kOutput);
    if (key_json_) {
        std::cout << json{{"public_key_pem", key->public_pem()},
                          {"fingerprint", key->fingerprint()},
                          {"store", store.string()}}
                         .dump(2)
                  << "\n";
    } else {
        std::cout << key->public_pem() << "fingerprint: " << key->fingerprint() << "\n"
                  << "store: " << store.string() << "\n";
    }
    return kOk;
}

int CustodyCommands::run_note() {
    auto db = CaseDatabase::open_existing(note_db_);
    if (!db) return report(db.error(), kSource);
    auto c = read_case(**db);
    if (!c) return report(c.error(), kSource);
    if (!*c) {
        std::cerr << "exhibit: case database " << note_db_ << " has no case to note against\n";
        return kSource;
    }
    CustodyLog log(**db);
    auto e = log.append((*c)->operator_of(), custody_action::kNoteAdded,
                        json{{"text", note_text_}}.dump());
    if (!e) return report(e.error(), kOutput);
    std::cout << "custody event " << e->seq << ": note added\n";
    return kOk;
}

int CustodyCommands::run_custody() {
    // A FIFO or device would block the read or never end.
    if (std::error_code ec; !fs::is_regular_file(custody_file_, ec)) {
        std::cerr << "exhibit: cannot read " << custody_file_ << ": it is not a regular file\n";
        return kSource;
    }
    std::ifstream in(custody_file_, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    if (!in.good() && !in.eof()) {
        std::cerr << "exhibit: cannot read " << custody_file_ << "\n";
        return kSource;
    }
    if (text.empty()) {
        // A case's log starts with case_opened; an empty file is no evidence of anything.
        std::cout << "chain: none, " << custody_file_ << " is empty\n";
        std::cerr << "exhibit: custody log " << custody_file_ << " is empty: it holds no events\n";
        return kVerifyFailed;
    }
    ChainVerdict chain = verify_custody_chain(text);
    std::istringstream lines(text);
    std::size_t n = 0;
    for (std::string line; std::getline(lines, line) && n < chain.lines; ++n) {
        auto j = json::parse(line, nullptr, false);
        json detail = j["detail"];
        detail.erase("clock");
        std::cout << j["seq"] << "  " << j["time"].get<std::string>() << "  "
                  << j["operator"].value("name", "") << " (" << j["operator"].value("id", "")
                  << ")  " << j["action"].get<std::string>() << "  " << detail.dump() << "\n";
    }
    if (!chain.ok) {
        std::cout << "chain: BROKEN at " << chain.problem << "\n";
        std::cerr << "exhibit: " << chain.problem << "\n";
        return kVerifyFailed;
    }
    std::cout << "chain: intact, " << chain.lines << " events, head " << chain.head << "\n";
    return kOk;
}

int CustodyCommands::run_seal(const std::atomic<bool>& cancel) {
    auto db = CaseDatabase::open_existing(seal_db_);
    if (!db) return report(db.error(), kSource);
    (void)keep_custody_reserve(**db);
    ReserveReleaser reserve{**db};
    auto key = ApplianceKey::load_or_create(ApplianceKey::default_store());
    if (!key) return report(key.error(), kOutput);
    SealPlan plan;
    plan.out = seal_out_;
    for (const auto& i : seal_images_)
        plan.images.emplace_back(i);
    JobProgress progress;
    Expected<SealResult> sealed = make_error(ErrorKind::Internal, "sealing did not run");
    run_with_progress_line([&] { sealed = seal_bundle(**db, *key, plan, progress, cancel); },
                           progress, true);
    if (!sealed) {
        const Error& e = sealed.error();
        return report(e, e.kind == ErrorKind::Cancelled ? kCancelled : kOutput);
    }
    std::cout << "sealed: " << sealed->bundle.string() << " (" << sealed->payload_files
              << " payload files, " << sealed->payload_bytes << " bytes; images "
              << sealed->images_linked << " hard-linked, " << sealed->images_copied << " copied)\n"
              << "chain head:      " << sealed->chain_head << "\n"
              << "tagmanifest:     " << sealed->tagmanifest_sha256 << "\n"
              << "key fingerprint: " << sealed->key_fingerprint << "\n";
    return kOk;
}

int CustodyCommands::run_verify(const std::atomic<bool>& cancel) {
    VerifyOptions options;
    options.trusted_key = trusted_key_;
    JobProgress progress;
    BundleVerdict verdict;
    run_with_progress_line([&] { verdict = verify_bundle(bundle_, options, progress, cancel); },
                           progress, !verify_json_);
    if (verify_json_) {
        json checks = json::array();
        for (const auto& c : verdict.checks)
            checks.push_back({{"check", c.name}, {"ok", c.ok}, {"message", c.message}});
        std::cout << json{{"bundle", bundle_}, {"verified", verdict.ok}, {"checks", checks}}.dump(2)
                  << "\n";
    } else {
        print_verdict(verdict);
    }
    if (!verdict.ok) {
        for (const auto& c : verdict.checks) {
            if (!c.ok) {
                std::cerr << "exhibit: bundle " << bundle_ << " failed verification: " << c.message
                          << "\n";
                break;
            }
        }
        return kVerifyFailed;
    }
    return kOk;
}

// `run --resume` when the bundle is already under its final name: the kill came after the
// seal. The bundle is checked again, and the resume and the check are logged.
int CustodyCommands::finish_sealed_job(const fs::path& out, const fs::path& work,
                                       const std::atomic<bool>& cancel) {
    JobProgress progress;
    BundleVerdict verdict;
    run_with_progress_line([&] { verdict = verify_bundle(out, {}, progress, cancel); }, progress,
                           true);
    print_verdict(verdict);
    std::error_code ec;
    if (fs::exists(work / "case.sqlite", ec)) {
        auto db = CaseDatabase::open(work / "case.sqlite");
        if (!db) return report(db.error(), kOutput);
        // Every resume is an operator action the log keeps, also of a job that had
        // finished: what was checked, and with what result.
        CustodyLog log(**db);
        (void)log.append(case_.operator_of(), custody_action::kOperatorSignedIn,
                         json{{"name", case_.operator_name}, {"id", case_.operator_id}}.dump());
        (void)log.append(case_.operator_of(), custody_action::kJobResumed,
                         json{{"bundle", out.filename().string()},
                              {"triage", "done"},
                              {"acquisition", "done"},
                              {"sealed", true}}
                             .dump());
        (void)log.append(
            case_.operator_of(), custody_action::kBundleVerified,
            json{{"bundle", out.filename().string()}, {"verified", verdict.ok}}.dump());
    }
    std::cout << "the job had sealed " << out.string() << " before it was interrupted\n";
    return verdict.ok ? kOk : kVerifyFailed;
}

int CustodyCommands::run_job(const std::atomic<bool>& cancel) {
    // Each line reports a step already in the custody log: out at once, also into a pipe
    // or a log file, so that what was reported before a power cut is what was recorded.
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    std::error_code ec;
    const fs::path out = out_;
    const fs::path work = out_ + ".case";
    if (!resume_ && (fs::exists(out, ec) || fs::exists(work, ec))) {
        std::cerr << "exhibit: " << (fs::exists(out, ec) ? out : work).string()
                  << " already exists; choose a new --out, or add --resume to continue that job\n";
        return kOutput;
    }
    if (resume_ && fs::exists(out, ec)) return finish_sealed_job(out, work, cancel);
    WalkOptions walk;
    if (int code = hash_sets_.prepare(walk)) return code;
    if (int code = match_.prepare(walk, false)) return code;
    auto key = ApplianceKey::load_or_create(ApplianceKey::default_store());
    if (!key) return report(key.error(), kOutput);
    const bool had_database = fs::exists(work / "case.sqlite", ec);
    if (!fs::create_directories(work, ec) && !(resume_ && fs::is_directory(work, ec))) {
        std::cerr << "exhibit: cannot create " << work.string() << ": " << ec.message() << "\n";
        return kOutput;
    }
    auto db = CaseDatabase::open(work / "case.sqlite");
    if (!db) return report(db.error(), kOutput);
    // Room for the custody log to say what happened if the output drive fills up.
    (void)keep_custody_reserve(**db);
    ReserveReleaser reserve{**db};
    std::optional<CaseRecord> stored;
    if (resume_ && had_database) {
        auto c = read_case(**db);
        if (!c) return report(c.error(), kSource);
        stored = *c;
    }
    if (stored && (stored->case_reference != case_.case_reference ||
                   stored->exhibit_reference != case_.exhibit_reference)) {
        std::cerr << "exhibit: " << work.string() << " holds case " << stored->case_reference
                  << " exhibit " << stored->exhibit_reference << ", not " << case_.case_reference
                  << " " << case_.exhibit_reference
                  << "; --resume continues the job with the same --case and --exhibit\n";
        return kUsage;
    }
    if (!stored) {
        if (auto s = open_case(**db, case_); !s) return report(s.error(), kUsage);
    }
    CustodyLog log(**db);
    const Operator who = case_.operator_of();
    // What the interrupted job got done; empty when this run starts the job.
    std::optional<InterruptedJob> earlier;
    if (stored) {
        auto found = inspect_interrupted_job(**db, work, out);
        if (!found) return report(found.error(), kOutput);
        earlier = std::move(*found);
        if (!earlier->image_format.empty() && image_ != earlier->image_format) {
            std::cerr << "exhibit: the interrupted job in " << work.string() << " imaged as "
                      << earlier->image_format << "; resume it with --image "
                      << earlier->image_format << "\n";
            return kUsage;
        }
        // Whoever resumes the job signs in to it (it may not be who started it).
        if (auto e =
                log.append(who, custody_action::kOperatorSignedIn,
                           json{{"name", case_.operator_name}, {"id", case_.operator_id}}.dump());
            !e) {
            return report(e.error(), kOutput);
        }
        if (auto e = log.append(who, custody_action::kJobResumed, earlier->detail.dump()); !e)
            return report(e.error(), kOutput);
        std::cout << "resuming the job in " << work.string() << ": "
                  << earlier->detail["triage"].get<std::string>() << "; "
                  << earlier->detail["acquisition"].get<std::string>() << "\n";
    }
    auto log_error = [&](const std::string& during, const Error& e) {
        (void)log.append(who, custody_action::kError,
                         json{{"during", during}, {"message", e.message}}.dump());
    };
    // Once the custody log had to dip into its reserve the drive is full: stop, and say so
    // in the log with the room that is left.
    const bool reserved = custody_reserve_intact(**db);
    auto drive_full = [&](const std::string& during) {
        if (!reserved || custody_reserve_intact(**db)) return false;
        Error e{ErrorKind::NoSpace,
                "the output drive holding " + work.string() +
                    " is full: the custody log had to use the room kept for it",
                ENOSPC};
        log_error(during, e);
        report(e, kOutput);
        return true;
    };
    std::cout << "case " << case_.case_reference << " exhibit " << case_.exhibit_reference
              << ": working in " << work.string() << "\n";

    OpenOptions options;
    options.hardware_blocker = hardware_blocker_;
    auto source = open_source(source_, options);
    if (!source) {
        log_error("opening source " + source_, source.error());
        return report(source.error(), source_exit_code(source.error()));
    }
    const SourceInfo& info = (*source)->info();
    // A resumed job must read the media it started on: its triage, image and bundle are of
    // one exhibit. The identity is kept in the work folder from the job's start.
    const fs::path identity = work / "source-identity.json";
    if (stored && fs::exists(identity, ec)) {
        if (auto same = check_source_identity(**source, identity); !same) {
            log_error("resuming the job in " + work.string(), same.error());
            return report(same.error(),
                          same.error().kind == ErrorKind::SourceChanged ? kSourceChanged : kOutput);
        }
    } else if (auto s = record_source_identity(**source, identity); !s) {
        log_error("recording the source's identity", s.error());
        return report(s.error(), kOutput);
    }
    if (auto s = record_source(**db, case_, info); !s) return report(s.error(), kOutput);
    std::cout << "source: " << info.path << " (" << to_string(info.kind) << ", "
              << human_bytes(static_cast<double>(info.size)) << ")\n";

    WriteBlockCheck wb = check_write_block(info);
    if (auto e = log.append(who, custody_action::kWriteBlockChecked, wb.detail.dump()); !e)
        return report(e.error(), kOutput);
    std::cout << "write-block: " << wb.detail["how"].get<std::string>() << ": "
              << wb.detail["result"].get<std::string>() << "\n";
    if (!wb.protected_ok) {
        std::cerr << "exhibit: " << info.path << " is not read-only; stopping\n";
        return kNotProtected;
    }

    // Triage (once: a resumed job keeps a run that completed).
    JobProgress progress;
    if (earlier && earlier->triage_done) {
        const TriageRun& done = *earlier->triage_done;
        if (!earlier->triage_logged) {
            (void)log.append(who, custody_action::kTriageFinished,
                             triage_finished_detail(**db, done));
        }
        std::cout << "triage completed before the interruption: run " << done.id << ", "
                  << done.files << " entries, " << done.files_hashed << " files hashed\n";
    } else {
        json scanners = json::array({"hashes (MD5, SHA-1, SHA-256)", "file type (libmagic)"});
        hash_sets_.describe(scanners);
        match_.describe(scanners);
        (void)log.append(who, custody_action::kTriageStarted,
                         json{{"source", info.path}, {"scanners", scanners}}.dump());
        Expected<TriageRun> run = make_error(ErrorKind::Internal, "triage did not run");
        run_with_progress_line([&] { run = triage_source(**source, **db, walk, progress, cancel); },
                               progress, true);
        if (!run) {
            log_error("triage", run.error());
            return report(run.error(), kOutput);
        }
        // The triage summary as the custody log keeps it: counts, hits by kind, and the hash
        // sets used with their SHA-256 (what `exhibit triage --json` reports of them).
        json finished = json::parse(triage_finished_detail(**db, *run));
        hash_sets_.print_summary(**db, run->id, &finished);
        match_.add_summary(finished);
        (void)log.append(who, custody_action::kTriageFinished, finished.dump());
        std::cout << "triage " << run->status << ": " << run->files << " entries, "
                  << run->files_hashed << " files hashed, " << run->errors
                  << " file-system errors\n";
        hash_sets_.print_summary(**db, run->id, nullptr);
        match_.print_summary(std::cout);
        TriageMatchOptions::unallocated_summary(**db, run->id, nullptr, std::cout);
        if (run->status == "cancelled") return kCancelled;
        if (drive_full("triage")) return kOutput;
    }

    // Acquisition.
    int exit_code = kOk;
    std::vector<fs::path> images;
    if (image_ != "none") {
        AcquisitionPlan plan;
        plan.format = image_ == "raw" ? ImageFormat::Raw : ImageFormat::Ewf;
        plan.out_dir = work / "image";
        plan.case_info = {case_.case_reference, case_.exhibit_reference,
                          case_.operator_name + " " + case_.operator_id,
                          "seized from " + case_.seized_from, case_.notes};
        using Image = InterruptedJob::Image;
        const Image state = earlier ? earlier->image : Image::None;
        Expected<AcquisitionResult> result =
            make_error(ErrorKind::Internal, "acquisition did not run");
        if (state == Image::Complete) {
            result = read_acquisition_record(plan.out_dir / (plan.basename + ".acquisition.json"));
            if (!result) return report(result.error(), kOutput);
            if (!earlier->acquisition_logged) {
                (void)log.append(who, custody_action::kAcquisitionFinished,
                                 acquisition_finished_detail(*result));
            }
        } else {
            if (state == Image::Restart) {
                // Output of a run killed before its first checkpoint: kept aside, never
                // overwritten, and the acquisition starts again.
                fs::path aside = work / "image.interrupted";
                for (int n = 2; fs::exists(aside, ec); ++n)
                    aside = work / ("image.interrupted-" + std::to_string(n));
                fs::rename(plan.out_dir, aside, ec);
                if (ec) {
                    std::cerr << "exhibit: cannot move " << plan.out_dir.string()
                              << " aside: " << ec.message() << "\n";
                    return kOutput;
                }
            }
            json started = json::parse(acquisition_started_detail(plan, info));
            if (state == Image::Checkpoint) started["resumed_from_checkpoint"] = true;
            (void)log.append(who, custody_action::kAcquisitionStarted, started.dump());
            run_with_progress_line(
                [&] {
                    result = state == Image::Checkpoint
                                 ? resume_acquisition(**source, plan.out_dir, progress, cancel)
                                 : acquire(**source, plan, progress, cancel);
                },
                progress, true);
            if (!result) {
                log_error("acquisition", result.error());
                return report(result.error(), result.error().kind == ErrorKind::SourceChanged
                                                  ? kSourceChanged
                                                  : kOutput);
            }
            (void)log.append(who, custody_action::kAcquisitionFinished,
                             acquisition_finished_detail(*result));
        }
        std::cout << result->summary << "\n"
                  << "md5:    " << result->hashes.md5 << "\n"
                  << "sha1:   " << result->hashes.sha1 << "\n"
                  << "sha256: " << result->hashes.sha256 << "\n";
        switch (result->status) {
            case AcquisitionStatus::Completed:
                break;
            case AcquisitionStatus::CompletedWithErrors:
                exit_code = kUnreadable;
                break;
            case AcquisitionStatus::VerificationFailed:
                return kVerifyFailed;
            case AcquisitionStatus::Cancelled:
                return kCancelled;
            case AcquisitionStatus::Failed:
                std::cerr << "exhibit: " << result->error->message << "\n";
                return result->error->kind == ErrorKind::SourceChanged ? kSourceChanged : kOutput;
        }
        images.push_back(plan.out_dir);
        if (drive_full("acquisition")) return kOutput;
    }

    // The write-block evidence after the reads: the counters again.
    if (!wb.device.empty() && wb.have_counters) {
        platform::IoCounters after;
        if (!platform::read_io_counters(wb.device, after)) {
            const std::uint64_t writes = after.writes_since(wb.before);
            json detail = {{"stage", "after"},
                           {"how", "block-layer counters /sys/block/" + wb.device + "/stat"},
                           {"result", writes == 0 ? "no writes reached the device"
                                                  : "write requests reached the device"},
                           {"counters_before", counters_json(wb.before)},
                           {"counters_after", counters_json(after)},
                           {"write_requests_during", writes}};
            (void)log.append(who, custody_action::kWriteBlockChecked, detail.dump());
            std::cout << "write-block: " << writes << " write requests reached " << wb.device
                      << " during the job\n";
        }
    }

    SealPlan seal;
    seal.out = out;
    seal.images = images;
    Expected<SealResult> sealed = make_error(ErrorKind::Internal, "sealing did not run");
    run_with_progress_line([&] { sealed = seal_bundle(**db, *key, seal, progress, cancel); },
                           progress, true);
    if (!sealed) return report(sealed.error(), kOutput);
    std::cout << "sealed: " << out.string() << " (" << sealed->payload_files << " payload files; "
              << sealed->images_linked << " image files hard-linked, " << sealed->images_copied
              << " copied)\n"
              << "chain head:      " << sealed->chain_head << "\n"
              << "key fingerprint: " << sealed->key_fingerprint << "\n";

    BundleVerdict verdict;
    run_with_progress_line([&] { verdict = verify_bundle(out, {}, progress, cancel); }, progress,
                           true);
    print_verdict(verdict);
    // After the seal, so it lives in the working case database only.
    json checked = {{"bundle", out.filename().string()}, {"verified", verdict.ok}};
    (void)log.append(who, custody_action::kBundleVerified, checked.dump());
    if (!verdict.ok) return kVerifyFailed;
    return exit_code;
}

}  // namespace exhibit::cli
