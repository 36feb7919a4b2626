// YARA rule packs and case keywords on the command line:
//   exhibit triage ... --rules PATH[,PATH...] --keywords FILE --yara-max-size SIZE
//   exhibit rules check PATH... [--keywords FILE] [--json]
//
//   TriageMatchOptions match;   // must outlive app.parse()
//   match.add_to(*triage_subcommand);
//   if (int rc = match.prepare(walk_options); rc != kOk) return rc;   // after parsing
//   match.add_summary(json) / match.print_summary(std::cout)
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "exhibit/case_db.hpp"
#include "exhibit/file_walk.hpp"
#include "exhibit/rules.hpp"
#include "exhibit/unallocated_scan.hpp"

namespace exhibit::cli {

// "builtin": the shipped rules/ folder, found beside the executable (build tree) or in
// the installed data folder; empty when it cannot be found.
std::filesystem::path builtin_rules_dir();

// The options `triage` and `run` share: rule packs, keywords, the unallocated-space scan and
// the parser watchdog.
class TriageMatchOptions {
  public:
    void add_to(CLI::App& triage);
    bool wanted() const { return !rule_paths_.empty() || !keywords_.empty(); }
    // Compiles the packs and keywords (cached), appends the YARA scanner to `options` and
    // the rule files left out to its notes (triage_source keeps them with the run, and the
    // scan's own notes as each file is recorded). Returns an exit code: kOk, or the code
    // of an error already reported on stderr.
    int prepare(WalkOptions& options, bool quiet);
    void add_summary(nlohmann::json& j) const;
    void print_summary(std::ostream& out) const;
    // Appends what this run scans with (rule packs, keyword list, unallocated space) to
    // the triage_started event's list of scanners.
    void describe(nlohmann::json& scanners) const;
    // The unallocated-space scan's counts (--scan-unallocated): into `j` as "unallocated",
    // or printed on `out` when `j` is null. Nothing when the run did not scan it.
    static void unallocated_summary(const CaseDatabase& db, std::int64_t run_id, nlohmann::json* j,
                                    std::ostream& out);

  private:
    std::vector<std::string> rule_paths_;
    std::string keywords_;
    std::string max_size_ = "64M";
    bool scan_unallocated_ = false;
    std::string unallocated_max_ = "all";
    int parser_stall_seconds_ = 120;
    std::shared_ptr<YaraLibrary> yara_;
    std::shared_ptr<const CompiledRules> rules_;
    std::shared_ptr<YaraScanStats> stats_;
};

// `exhibit rules check`.
class RulesCommands {
  public:
    void add_to(CLI::App& app);
    bool selected() const;
    int run();

  private:
    CLI::App* rules_ = nullptr;
    CLI::App* check_ = nullptr;
    std::vector<std::string> paths_;
    std::string keywords_;
    bool json_ = false;
};

// Prints every file's compile messages ("path:line: text") on `out`.
void print_rule_messages(std::ostream& out, const CompiledRules& rules);
nlohmann::json rules_json(const CompiledRules& rules);

}  // namespace exhibit::cli
