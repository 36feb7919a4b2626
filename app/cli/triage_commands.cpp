#include "triage_commands.hpp"

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "exhibit/case_db.hpp"
#include "exhibit/exports.hpp"
#include "exit_codes.hpp"
#include "terminal.hpp"

namespace exhibit::cli {

void TriageCommands::add_to(CLI::App& app) {
    triage_ = app.add_subcommand(
        "triage", "Walk every file system on a source into a case database (hashes, types)");
    triage_->add_option("SOURCE", source_, "Device or image to triage")->required();
    triage_->add_option("--case-db", case_db_, "Case database to write (created if missing)")
        ->required();
    triage_->add_flag("--json", triage_json_, "Print the run summary as JSON");
    triage_->add_option("--hardware-blocker", hardware_blocker_,
                        "Declare the hardware write-blocker a writable device is attached through");
    hash_sets_.add_options(triage_);
    match_.add_to(*triage_);

    files_ = app.add_subcommand("files", "List the files a case database holds");
    files_->add_option("CASE_DB", files_db_, "Case database")->required()->check(CLI::ExistingFile);
    files_->add_flag("--deleted", deleted_, "Only deleted entries");
    files_->add_option("--type", type_, "MIME type or its start, e.g. image/jpeg or image/");
    files_->add_option("--path", path_glob_, "Glob over the path, e.g. 'Users/*/Documents/*'");
    auto* csv = files_->add_flag("--csv", csv_, "CSV with a header row");
    auto* body = files_->add_flag("--bodyfile", bodyfile_, "TSK 3.x bodyfile, for `mactime -b`");
    auto* xml = files_->add_flag("--dfxml", dfxml_, "DFXML, as fiwalk writes it");
    csv->excludes(body)->excludes(xml);
    body->excludes(xml);
}

bool TriageCommands::selected() const {
    return (triage_ && *triage_) || (files_ && *files_);
}

int TriageCommands::run(const std::atomic<bool>& cancel) {
    return *triage_ ? run_triage(cancel) : run_files();
}

int TriageCommands::run_triage(const std::atomic<bool>& cancel) {
    OpenOptions options;
    options.hardware_blocker = hardware_blocker_;
    WalkOptions walk;
    if (int code = hash_sets_.prepare(walk)) return code;
    if (int code = match_.prepare(walk, triage_json_)) return code;
    auto source = open_source(source_, options);
    if (!source) return report(source.error(), source_exit_code(source.error()));
    auto db = CaseDatabase::open(case_db_);
    if (!db) return report(db.error(), kOutput);

    // Runs an earlier process left behind (killed, power cut) are closed first, and said.
    auto stale = (*db)->mark_interrupted_runs();
    if (!stale) return report(stale.error(), kOutput);
    if (!triage_json_) {
        for (const auto& r : *stale)
            std::cerr << "exhibit: note: run " << r.id << " in " << case_db_ << " was "
                      << r.stopped_at << "\n";
    }

    JobProgress progress;
    Expected<TriageRun> run = make_error(ErrorKind::Internal, "triage did not run");
    run_with_progress_line([&] { run = triage_source(**source, **db, walk, progress, cancel); },
                           progress, !triage_json_);
    if (!run) return report(run.error(), kOutput);
    const TriageRun& r = *run;
    const ProgressSnapshot p = progress.snapshot();
    auto hits = (*db)->hit_counts(r.id);
    if (!hits) return report(hits.error(), kOutput);
    if (triage_json_) {
        nlohmann::json volumes = nullptr;
        if (!r.volume_system.empty()) {
            volumes = {{"type", r.volume_system},
                       {"partitions", r.partitions},
                       {"partitioned_bytes", r.partitioned_bytes},
                       {"unpartitioned_bytes", r.unpartitioned_bytes}};
        }
        nlohmann::json interrupted = nlohmann::json::array();
        for (const auto& s : *stale)
            interrupted.push_back({{"run", s.id}, {"stopped_at", s.stopped_at}});
        nlohmann::json j = {{"run", r.id},
                            {"status", r.status},
                            {"started", r.started},
                            {"finished", r.finished},
                            {"stopped_at", r.stopped_at},
                            {"position", r.position},
                            {"volume_system", volumes},
                            {"file_systems", r.file_systems},
                            {"files", r.files},
                            {"files_to_read", r.files_to_read},
                            {"bytes_to_read", r.bytes_to_read},
                            {"files_hashed", r.files_hashed},
                            {"bytes_read", r.bytes_read},
                            {"seconds", p.seconds},
                            {"bytes_per_second", p.bytes_per_second},
                            {"errors", r.errors},
                            {"interrupted_runs", interrupted},
                            {"case_db", case_db_},
                            {"hits", *hits},
                            {"first_hit_seconds", progress.snapshot().first_hit_seconds}};
        hash_sets_.print_summary(**db, r.id, &j);
        match_.add_summary(j);
        TriageMatchOptions::unallocated_summary(**db, r.id, &j, std::cout);
        std::cout << j.dump(2) << "\n";
    } else {
        std::cout << "triage " << r.status << ": " << r.files << " entries in " << r.file_systems
                  << " file systems, " << r.files_hashed << " of " << r.files_to_read
                  << " files hashed (" << human_bytes(static_cast<double>(r.bytes_read)) << ") in "
                  << static_cast<long>(p.seconds + 0.5) << " s, " << r.errors
                  << " file-system errors; case database " << case_db_ << "\n";
        if (!r.volume_system.empty()) {
            std::cout << "volume system " << r.volume_system << ": " << r.partitions
                      << " partitions (" << human_bytes(static_cast<double>(r.partitioned_bytes))
                      << "), " << human_bytes(static_cast<double>(r.unpartitioned_bytes))
                      << " unpartitioned\n";
        }
        if (!r.stopped_at.empty()) std::cout << "stopped: " << r.stopped_at << "\n";
        hash_sets_.print_summary(**db, r.id, nullptr);
        std::cout << "hits:";
        for (const auto& [kind, count] : *hits)
            std::cout << ' ' << count << ' ' << kind;
        std::cout << (hits->empty() ? " none\n" : "\n");
        if (double first = progress.snapshot().first_hit_seconds; first >= 0)
            std::cout << "first hit after " << first << " s\n";
        match_.print_summary(std::cout);
        TriageMatchOptions::unallocated_summary(**db, r.id, nullptr, std::cout);
    }
    if (r.status == "cancelled") return kCancelled;
    if (r.status != "completed") return kSource;
    return kOk;
}

int TriageCommands::run_files() {
    auto db = CaseDatabase::open_read_only(files_db_);
    if (!db) return report(db.error(), kSource);
    FileFilter filter;
    filter.deleted_only = deleted_;
    filter.mime_prefix = type_;
    filter.path_glob = path_glob_;
    auto rows = (*db)->files(filter);
    if (!rows) return report(rows.error(), kSource);
    if (csv_) {
        write_csv(std::cout, *rows);
    } else if (bodyfile_) {
        write_bodyfile(std::cout, *rows);
    } else if (dfxml_) {
        write_dfxml(std::cout, *rows);
    } else {
        for (const auto& row : *rows) {
            const FileEntry& f = row.entry;
            const std::string& md5 = f.findings.hashes.md5;
            std::cout << f.name_type << '/' << f.meta_type << (f.deleted() ? " * " : "   ")
                      << row.file_system << ' ' << f.path << '\t' << f.size << '\t'
                      << (md5.empty() ? "-" : md5) << '\t'
                      << (f.findings.mime_type.empty() ? "-" : f.findings.mime_type)
                      << (f.findings.extension_mismatch ? "\t(extension mismatch)" : "") << '\n';
        }
    }
    return kOk;
}

}  // namespace exhibit::cli
