#include "report_commands.hpp"

#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "exit_codes.hpp"
#include "terminal.hpp"

namespace exhibit::cli {

namespace fs = std::filesystem;

void ReportCommands::add_to(CLI::App& app) {
    report_ = app.add_subcommand(
        "report", "Write the examiner's report (HTML) and CASE/UCO JSON-LD from a case database");
    report_->add_option("CASE_DB", case_db_, "Case database (read, never changed)")->required();
    report_->add_option("--out", out_, "The HTML report to write (must not exist)")->required();
    report_->add_option("--jsonld", jsonld_, "Also write CASE/UCO JSON-LD here (must not exist)");
    report_->add_option("--acquisition", acquisition_,
                        "The image's acquisition record (<image>.acquisition.json)");
    report_->add_option("--custody", custody_, "The custody log (custody.jsonl)");
    report_->add_option("--case", case_info_.case_reference, "Case reference");
    report_->add_option("--exhibit", case_info_.exhibit_reference, "Exhibit reference, e.g. JD/1");
    report_->add_option("--warrant", case_info_.warrant_reference, "Warrant reference");
    report_->add_option("--operator", case_info_.operator_name, "Operator name");
    report_->add_option("--operator-number", case_info_.operator_number,
                        "Operator's collar or staff number");
    report_->add_option("--location", case_info_.location, "Where the exhibit was examined");
    report_->add_option("--seized-from", case_info_.seized_from, "Person or place seized from");
    report_->add_option("--notes", case_info_.notes, "Notes");
}

bool ReportCommands::selected() const {
    return report_ && *report_;
}

namespace {

// Writes `what` to `path` through a temporary file renamed into place, so a failed run
// never leaves a truncated report that looks whole. Refuses to replace an existing file.
template <typename Write>
int write_new_file(const std::string& path, const char* what, Write write) {
    std::error_code ec;
    if (fs::exists(path, ec)) {
        std::cerr << "exhibit: " << what << " " << path
                  << " already exists; choose a new name (earlier work is never overwritten)\n";
        return kOutput;
    }
    const std::string temp = path + ".partial";
    {
        std::ofstream out(temp, std::ios::binary | std::ios::trunc);
        if (!out)
            return report(errno_error("cannot create " + std::string(what) + " " + temp, errno),
                          kOutput);
        auto status = write(out);
        out.close();
        if (!status || !out) {
            std::error_code ignore;
            fs::remove(temp, ignore);
            return report(status ? make_error(ErrorKind::Io, "cannot write " + std::string(what) +
                                                                 " " + path + " (disk full?)")
                                 : status.error(),
                          kOutput);
        }
    }
    fs::rename(temp, path, ec);
    if (ec) {
        std::error_code ignore;
        fs::remove(temp, ignore);
        return report(make_error(ErrorKind::Io, "cannot store " + std::string(what) + " " + path +
                                                    ": " + ec.message()),
                      kOutput);
    }
    return kOk;
}

bool empty(const ReportCase& c) {
    return c.case_reference.empty() && c.exhibit_reference.empty() && c.operator_name.empty();
}

}  // namespace

int ReportCommands::run() {
    auto db = CaseDatabase::open_read_only(case_db_);
    if (!db) return report(db.error(), kSource);
    ReportInput in;
    in.case_info = case_info_;
    if (!acquisition_.empty()) {
        auto record = read_acquisition_record(acquisition_);
        if (!record) return report(record.error(), kSource);
        // The record carries the case metadata given at acquisition; options override it.
        const CaseInfo& k = record->case_info;
        if (in.case_info.case_reference.empty()) in.case_info.case_reference = k.case_number;
        if (in.case_info.exhibit_reference.empty())
            in.case_info.exhibit_reference = k.evidence_number;
        if (in.case_info.operator_name.empty()) in.case_info.operator_name = k.examiner;
        if (in.case_info.notes.empty()) in.case_info.notes = k.notes;
        in.source = record->source;
        in.acquisitions.push_back(std::move(*record));
    }
    if (!custody_.empty()) {
        auto custody = read_custody_jsonl(custody_);
        if (!custody) return report(custody.error(), kSource);
        in.custody = std::move(*custody);
        if (!in.custody.empty()) in.chain_head = in.custody.back().line_sha256;
        if (empty(in.case_info)) {
            // The first event that names an operator fills the gap.
            for (const auto& e : in.custody) {
                if (!e.operator_name.empty()) {
                    in.case_info.operator_name = e.operator_name;
                    break;
                }
            }
        }
    }
    if (auto s = fill_from_case_database(**db, in); !s) return report(s.error(), kSource);

    int rc =
        write_new_file(out_, "report", [&](std::ostream& o) { return write_report_html(in, o); });
    if (rc != kOk) return rc;
    if (!jsonld_.empty()) {
        rc = write_new_file(jsonld_, "JSON-LD export",
                            [&](std::ostream& o) { return write_case_jsonld(in, o); });
        if (rc != kOk) return rc;
    }
    std::cout << "report: " << out_ << " (" << in.triage.size() << " triage runs, "
              << in.files.size() << " entries, " << in.hits.size() << " hits, " << in.custody.size()
              << " custody events)\n";
    if (!jsonld_.empty()) std::cout << "case.jsonld: " << jsonld_ << "\n";
    return kOk;
}

}  // namespace exhibit::cli
