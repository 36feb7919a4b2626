// `exhibit`: the headless command line. Thin: parses, calls the engine, prints.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>

#include "custody_commands.hpp"
#include "device_commands.hpp"
#include "exhibit/acquire.hpp"
#include "exhibit/source.hpp"
#include "exit_codes.hpp"
#include "hashset_commands.hpp"
#include "output_drive_commands.hpp"
#include "report_commands.hpp"
#include "rules_commands.hpp"
#include "terminal.hpp"
#include "triage_commands.hpp"

namespace {

using namespace exhibit;

using namespace exhibit::cli;  // exit codes

std::atomic<bool> g_cancel{false};

extern "C" void on_signal(int) {
    g_cancel.store(true);
}

int run_info(const std::string& path, const OpenOptions& options, bool json) {
    auto source = open_source(path, options);
    if (!source) return report(source.error(), source_exit_code(source.error()));
    const SourceInfo& s = (*source)->info();
    if (json) {
        std::cout << source_info_json(s);
        return kOk;
    }
    std::cout << "source:       " << s.path << "\n"
              << "type:         " << to_string(s.kind) << "\n"
              << "size:         " << s.size << " bytes ("
              << human_bytes(static_cast<double>(s.size)) << ")\n"
              << "sector size:  " << s.sector_size << "\n"
              << "segments:     " << s.segments.size() << "\n";
    for (const auto& seg : s.segments)
        std::cout << "  " << seg << "\n";
    if (s.device) {
        const auto& d = *s.device;
        std::cout << "device:       " << d.name << " (" << d.bus << ")\n"
                  << "vendor:       " << d.vendor << "\n"
                  << "model:        " << d.model << "\n"
                  << "serial:       " << d.serial << "\n";
        if (!d.usb_id.empty()) std::cout << "usb id:       " << d.usb_id << "\n";
        std::cout << "protection:   "
                  << (d.kernel_read_only ? "kernel read-only flag set"
                                         : "hardware write-blocker declared: " + d.hardware_blocker)
                  << "\n";
    }
    if (s.ewf) {
        std::cout << "ewf format:   " << s.ewf->format << "\n"
                  << "compression:  " << s.ewf->compression << "\n"
                  << "stored md5:   " << (s.ewf->stored_md5.empty() ? "(none)" : s.ewf->stored_md5)
                  << "\n"
                  << "stored sha1:  "
                  << (s.ewf->stored_sha1.empty() ? "(none)" : s.ewf->stored_sha1) << "\n";
        for (const auto& [key, value] : s.ewf->header) {
            std::cout << "  " << key << ": " << value << "\n";
        }
        for (auto [sector, count] : s.ewf->acquiry_errors) {
            std::cout << "  acquiry error: sector " << sector << ", " << count << " sectors\n";
        }
    }
    return kOk;
}

struct AcquireArgs {
    std::string source;
    std::string out;
    std::string format = "e01";
    std::string segment_size;
    std::string compression = "none";
    CaseInfo case_info;
    bool no_verify = false;
    bool json = false;
    std::string hardware_blocker;
    std::string resume;
    std::string checkpoint_every;
};

int run_acquire(const AcquireArgs& args) {
    AcquireArgs a = args;
    if (a.resume.empty() && (a.source.empty() || a.out.empty())) {
        return report(make_error(ErrorKind::InvalidArgument,
                                 "acquire needs SOURCE and --out DIR (or --resume DIR)"),
                      kUsage);
    }
    if (!a.resume.empty() && a.source.empty()) {
        auto found = find_interrupted_acquisition(a.resume);
        if (!found) return report(found.error(), kOutput);
        a.source = found->source_path;
    }
    AcquisitionPlan plan;
    plan.out_dir = a.out;
    plan.format = a.format == "raw"     ? ImageFormat::Raw
                  : a.format == "split" ? ImageFormat::SplitRaw
                                        : ImageFormat::Ewf;
    plan.compression = a.compression == "fast"   ? Compression::Fast
                       : a.compression == "best" ? Compression::Best
                                                 : Compression::None;
    if (!a.segment_size.empty()) {
        auto size = parse_size(a.segment_size);
        if (!size) return report(size.error(), kUsage);
        plan.segment_size = *size;
    }
    if (!a.checkpoint_every.empty()) {
        auto size = parse_size(a.checkpoint_every);
        if (!size) return report(size.error(), kUsage);
        plan.checkpoint_every = *size;
    }
    plan.case_info = a.case_info;
    plan.verify = !a.no_verify;

    OpenOptions options;
    options.hardware_blocker = a.hardware_blocker;
    auto source = open_source(a.source, options);
    if (!source) return report(source.error(), source_exit_code(source.error()));

    JobProgress progress;
    Expected<AcquisitionResult> result = make_error(ErrorKind::Internal, "acquisition did not run");
    run_with_progress_line(
        [&] {
            result = a.resume.empty() ? acquire(**source, plan, progress, g_cancel)
                                      : resume_acquisition(**source, a.resume, progress, g_cancel);
        },
        progress, !a.json);

    if (!result) {
        const Error& e = result.error();
        return report(e, e.kind == ErrorKind::InvalidArgument || e.kind == ErrorKind::NotFound ||
                                 e.kind == ErrorKind::Format
                             ? kOutput
                         : e.kind == ErrorKind::SourceChanged ? kSourceChanged
                                                              : kInternal);
    }
    const AcquisitionResult& r = *result;
    if (a.json) {
        std::cout << acquisition_json(r);
    } else {
        std::cout << r.summary << "\n";
        if (r.status != AcquisitionStatus::Failed && r.status != AcquisitionStatus::Cancelled) {
            std::cout << "md5:    " << r.hashes.md5 << "\n"
                      << "sha1:   " << r.hashes.sha1 << "\n"
                      << "sha256: " << r.hashes.sha256 << "\n";
        }
        for (const auto& u : r.unreadable) {
            std::cout << "unreadable: bytes " << u.offset << "-" << (u.offset + u.length - 1)
                      << " (" << (u.length + r.source.sector_size - 1) / r.source.sector_size
                      << " sectors, errno " << u.sys_errno << ")\n";
        }
        for (const auto& c : r.verification) {
            if (!c.match) {
                std::cout << "MISMATCH " << to_string(c.algorithm) << ": acquired " << c.acquired
                          << ", image reads back as "
                          << (c.verified.empty() ? "(absent)" : c.verified) << "\n";
            }
        }
        if (r.device_writes) {
            std::cout << "device: " << r.device_writes->write_requests_during
                      << " write requests reached " << r.device_writes->device
                      << " during the acquisition (block-layer counters "
                      << r.device_writes->writes_before << " -> " << r.device_writes->writes_after
                      << ")\n";
        }
        if (r.write_block) {
            std::cout << "write-block filter: " << r.write_block->commands_passed
                      << " read-class commands passed, " << r.write_block->commands_refused
                      << " refused\n";
        }
        std::cout << "record: " << r.record.string() << "\n";
    }
    // With --json stdout holds the record only, so a run that did not fully succeed still
    // gets its sentence on stderr.
    if (a.json && r.status != AcquisitionStatus::Completed && r.status != AcquisitionStatus::Failed)
        std::cerr << "exhibit: " << r.summary << "\n";
    switch (r.status) {
        case AcquisitionStatus::Completed:
            return kOk;
        case AcquisitionStatus::CompletedWithErrors:
            return kUnreadable;
        case AcquisitionStatus::VerificationFailed:
            return kVerifyFailed;
        case AcquisitionStatus::Cancelled:
            return kCancelled;
        case AcquisitionStatus::Failed:
            break;
    }
    std::cerr << "exhibit: " << r.error->message << "\n";
    switch (r.error->kind) {
        case ErrorKind::NoSpace:
        case ErrorKind::Io:
            return kOutput;
        case ErrorKind::SourceChanged:
            return kSourceChanged;
        default:
            return kInternal;
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);

    CLI::App app{"Exhibit: field triage and acquisition of digital evidence"};
    app.set_version_flag("--version", "exhibit 0.1.0");
    app.require_subcommand(1);

    AcquireArgs acq;
    auto* acquire_cmd = app.add_subcommand(
        "acquire", "Image a source (device, raw, split raw or E01) into a verified image");
    acquire_cmd->add_option("SOURCE", acq.source,
                            "Device or image to acquire (with --resume: default, the one the "
                            "interrupted run read)");
    auto* out_opt =
        acquire_cmd->add_option("--out", acq.out, "Output directory (created if missing)");
    acquire_cmd
        ->add_option("--resume", acq.resume,
                     "Take up the acquisition interrupted in this directory from its last "
                     "checkpoint")
        ->excludes(out_opt);
    acquire_cmd->add_option("--checkpoint-every", acq.checkpoint_every,
                            "Raw and split raw: bytes between resume checkpoints (default 256M)");
    acquire_cmd->add_option("--format", acq.format, "Image format")
        ->check(CLI::IsMember({"e01", "raw", "split"}))
        ->capture_default_str();
    acquire_cmd->add_option("--segment-size", acq.segment_size,
                            "Segment size for E01 or split raw, e.g. 2G (default 1.4G for E01, 2G "
                            "for split)");
    acquire_cmd->add_option("--compression", acq.compression, "E01 compression")
        ->check(CLI::IsMember({"none", "fast", "best"}))
        ->capture_default_str();
    acquire_cmd->add_option("--case", acq.case_info.case_number, "Case reference");
    acquire_cmd->add_option("--exhibit", acq.case_info.evidence_number,
                            "Exhibit (evidence) reference, e.g. JD/1");
    acquire_cmd->add_option("--examiner", acq.case_info.examiner, "Examiner name");
    acquire_cmd->add_option("--description", acq.case_info.description,
                            "Description of the exhibit");
    acquire_cmd->add_option("--notes", acq.case_info.notes, "Notes");
    acquire_cmd->add_flag("--no-verify", acq.no_verify,
                          "Skip reading the image back after writing");
    acquire_cmd->add_flag("--json", acq.json, "Print the acquisition record as JSON");
    acquire_cmd->add_option("--hardware-blocker", acq.hardware_blocker,
                            "Declare the hardware write-blocker (\"make model serial\") a writable "
                            "device is attached through");

    std::string info_source, info_blocker;
    bool info_as_json = false;
    auto* info_cmd =
        app.add_subcommand("info", "Describe a source: type, size, segments, metadata");
    info_cmd->add_option("SOURCE", info_source, "Device or image")->required();
    info_cmd->add_flag("--json", info_as_json, "Print as JSON");
    info_cmd->add_option(
        "--hardware-blocker", info_blocker,
        "Declare the hardware write-blocker a writable device is attached through");

    DeviceCommands devices;  // `devices`, `protect`
    devices.add_to(app);
    TriageCommands triage;  // `triage`, `files`
    triage.add_to(app);
    HashSetCommands hashsets;  // `hashset import`, `hashset list`
    hashsets.add_to(app);
    RulesCommands rules;  // `rules check`
    rules.add_to(app);
    CustodyCommands custody;  // `run`, `seal`, `verify`, `key`, `note`, `custody`
    custody.add_to(app);
    ReportCommands report_cmd;  // `report`
    report_cmd.add_to(app);
    OutputDriveCommands output_drive;  // `output-drive show|prepare|open`
    output_drive.add_to(app);

    const std::string first = argc > 1 ? argv[1] : "";
    if (!first.empty() && first[0] != '-' && first != "acquire" && first != "info" &&
        first != "devices" && first != "protect" && first != "triage" && first != "files" &&
        first != "hashset" && first != "rules" && first != "run" && first != "seal" &&
        first != "verify" && first != "key" && first != "note" && first != "custody" &&
        first != "report" && first != "output-drive") {
        std::cerr << "exhibit: unknown command '" << first << "' (see `exhibit --help`)\n";
        return kUsage;
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::cerr << "exhibit: " << e.what() << " (see `exhibit --help`)\n";
        return kUsage;
    }

    try {
        if (*acquire_cmd) return run_acquire(acq);
        if (devices.selected()) return devices.run(g_cancel);
        if (triage.selected()) return triage.run(g_cancel);
        if (hashsets.selected()) return hashsets.run();
        if (rules.selected()) return rules.run();
        if (custody.selected()) return custody.run(g_cancel);
        if (report_cmd.selected()) return report_cmd.run();
        if (output_drive.selected()) return output_drive.run();
        if (*info_cmd) {
            OpenOptions options;
            options.hardware_blocker = info_blocker;
            return run_info(info_source, options, info_as_json);
        }
    } catch (const std::exception& e) {
        std::cerr << "exhibit: internal error: " << e.what() << "\n";
        return kInternal;
    }
    return kUsage;
}
