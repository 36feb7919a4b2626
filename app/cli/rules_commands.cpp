#include "rules_commands.hpp"

#include <unistd.h>

#include <iostream>

#include "exhibit/acquire.hpp"
#include "exit_codes.hpp"
#include "terminal.hpp"

namespace exhibit::cli {

namespace fs = std::filesystem;

fs::path builtin_rules_dir() {
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    std::vector<fs::path> candidates;
    if (!ec) {
        candidates.push_back(exe.parent_path() / "rules");  // the build tree links it there
        candidates.push_back(exe.parent_path().parent_path() / "share/exhibit/rules");
    }
#ifdef EXHIBIT_DATADIR
    candidates.push_back(fs::path(EXHIBIT_DATADIR) / "rules");
#endif
    for (const auto& c : candidates) {
        if (fs::is_directory(c, ec)) return c;
    }
    return {};
}

namespace {

Expected<std::vector<fs::path>> resolve_packs(const std::vector<std::string>& given) {
    std::vector<fs::path> packs;
    for (const auto& p : given) {
        if (p == "builtin") {
            fs::path dir = builtin_rules_dir();
            if (dir.empty()) {
                return make_error(ErrorKind::NotFound,
                                  "the built-in rules folder is not beside the exhibit program "
                                  "nor in its installed share/exhibit/rules");
            }
            packs.push_back(dir);
        } else {
            packs.push_back(p);
        }
    }
    return packs;
}

}  // namespace

void print_rule_messages(std::ostream& out, const CompiledRules& rules) {
    for (const auto& pack : rules.packs()) {
        for (const auto& f : pack.files) {
            for (const auto& m : f.messages) {
                out << f.file.string();
                if (m.line > 0) out << ':' << m.line;
                out << ": " << (m.warning ? "warning: " : "error: ") << m.text << "\n";
            }
            if (!f.compiled) out << f.file.string() << ": left out (does not compile)\n";
        }
    }
}

nlohmann::json rules_json(const CompiledRules& rules) {
    nlohmann::json packs = nlohmann::json::array();
    for (const auto& pack : rules.packs()) {
        nlohmann::json files = nlohmann::json::array();
        for (const auto& f : pack.files) {
            nlohmann::json messages = nlohmann::json::array();
            for (const auto& m : f.messages)
                messages.push_back({{"line", m.line}, {"text", m.text}, {"warning", m.warning}});
            files.push_back({{"file", f.file.string()},
                             {"namespace", f.name_space},
                             {"sha256", f.sha256},
                             {"compiled", f.compiled},
                             {"rules", f.rules},
                             {"messages", messages}});
        }
        nlohmann::json includes = nlohmann::json::array();
        for (const auto& inc : pack.includes)
            includes.push_back({{"path", inc.relative}, {"sha256", inc.sha256}});
        packs.push_back({{"path", pack.path.string()},
                         {"sha256", pack.sha256},
                         {"files", files},
                         {"includes", includes}});
    }
    nlohmann::json j = {{"packs", packs},
                        {"rules", rules.rule_count()},
                        {"failed_files", rules.failed_files()},
                        {"from_cache", rules.from_cache()},
                        {"yara", YaraLibrary::version()}};
    if (!rules.keywords().empty()) {
        j["keywords"] = {{"terms", rules.keywords().size()}, {"sha256", rules.keywords_sha256()}};
    }
    return j;
}

void TriageMatchOptions::add_to(CLI::App& triage) {
    triage
        .add_option("--rules", rule_paths_,
                    "YARA rule files or folders, comma-separated; \"builtin\" = the shipped packs")
        ->delimiter(',');
    triage.add_option(
        "--keywords", keywords_,
        "Case keywords, one per line (# comments, /regex/), matched case-insensitively "
        "as ASCII and UTF-16LE");
    triage
        .add_option(
            "--yara-max-size", max_size_,
            "Scan at most this much of each file with YARA, e.g. 64M (the skip is recorded)")
        ->capture_default_str();
    triage.add_flag("--scan-unallocated", scan_unallocated_,
                    "Also scan unallocated space (outside partitions, and each file system's "
                    "unallocated blocks) with the rules and keywords");
    triage
        .add_option("--unallocated-max-size", unallocated_max_,
                    "Scan at most this much unallocated space in all, e.g. 4G (the rest is "
                    "recorded as not scanned)")
        ->capture_default_str();
    triage
        .add_option("--parser-stall", parser_stall_seconds_,
                    "Stop a file-system parser that makes no progress for this many seconds; "
                    "what it was parsing is recorded as an error and the rest goes on")
        ->check(CLI::Range(1, 3600))
        ->capture_default_str();
}

int TriageMatchOptions::prepare(WalkOptions& options, bool quiet) {
    if (scan_unallocated_ && !wanted()) {
        return report(make_error(ErrorKind::InvalidArgument,
                                 "--scan-unallocated needs --rules or --keywords to scan with"),
                      kUsage);
    }
    options.worker_stall = std::chrono::seconds(parser_stall_seconds_);
    if (!wanted()) return kOk;
    std::uint64_t unallocated_max = 0;
    if (unallocated_max_ != "all") {
        auto m = parse_size(unallocated_max_);
        if (!m || *m == 0) {
            return report(make_error(ErrorKind::InvalidArgument,
                                     "--unallocated-max-size '" + unallocated_max_ +
                                         "' is not a size such as 4G (or all)"),
                          kUsage);
        }
        unallocated_max = *m;
    }
    auto max = parse_size(max_size_);
    if (!max || *max == 0) {
        return report(make_error(ErrorKind::InvalidArgument,
                                 "--yara-max-size '" + max_size_ + "' is not a size such as 64M"),
                      kUsage);
    }
    auto packs = resolve_packs(rule_paths_);
    if (!packs) return report(packs.error(), kUsage);
    auto yara = YaraLibrary::initialize();
    if (!yara) return report(yara.error(), kInternal);
    yara_ = *yara;
    RuleSetOptions ro;
    ro.packs = *packs;
    if (!keywords_.empty()) ro.keywords = keywords_;
    ro.cache_dir = default_rules_cache_dir();
    auto rules = CompiledRules::build(yara_, ro);
    if (!rules) {
        const Error& e = rules.error();
        return report(e, e.kind == ErrorKind::Internal ? kInternal : kUsage);
    }
    rules_ = *rules;
    // A rule file that does not compile does not stop triage, but it is never silent.
    print_rule_messages(std::cerr, *rules_);
    if (!rules_->cache_warning().empty())
        std::cerr << "exhibit: " << rules_->cache_warning() << "\n";
    if (!quiet) {
        std::cerr << "rules: " << rules_->rule_count() << " rules from " << rules_->packs().size()
                  << " pack(s)" << (rules_->keywords().empty() ? "" : " and keywords")
                  << (rules_->from_cache() ? " (compiled rules from the cache)" : "") << "\n";
    }
    stats_ = std::make_shared<YaraScanStats>();
    YaraScanOptions so;
    so.max_bytes = *max;
    options.scanners.push_back(make_yara_scanner_factory(rules_, so, stats_));
    // The rule files left out go into the run's first commit; each file's own notes come
    // with its findings, so a run cut short keeps everything it noted.
    auto left_out = scan_notes(rules_.get(), nullptr);
    options.notes.insert(options.notes.end(), left_out.begin(), left_out.end());
    if (scan_unallocated_) {
        auto scan = std::make_shared<UnallocatedScanOptions>();
        scan->rules = rules_;
        scan->max_bytes = unallocated_max;
        options.unallocated_scan = scan;
    }
    return kOk;
}

void TriageMatchOptions::add_summary(nlohmann::json& j) const {
    if (!rules_) return;
    j["rules"] = rules_json(*rules_);
    std::lock_guard lock(stats_->mutex);
    std::vector<std::string> notes;
    for (const auto& n : stats_->notes)
        notes.push_back(n.message);
    j["yara_scan"] = {{"files_scanned", stats_->files_scanned.load()},
                      {"bytes_scanned", stats_->bytes_scanned.load()},
                      {"files_truncated", stats_->files_truncated.load()},
                      {"scan_errors", stats_->scan_errors.load()},
                      {"notes", notes}};
}

void TriageMatchOptions::unallocated_summary(const CaseDatabase& db, std::int64_t run_id,
                                             nlohmann::json* j, std::ostream& out) {
    auto sum = db.unallocated_summary(run_id);
    if (!sum || !sum->scanned) return;
    if (j) {
        (*j)["unallocated"] = {{"regions", sum->regions},
                               {"incomplete_regions", sum->incomplete_regions},
                               {"unallocated_bytes", sum->unallocated_bytes},
                               {"scanned_bytes", sum->scanned_bytes},
                               {"hits", sum->hits}};
        return;
    }
    out << "unallocated space: " << sum->scanned_bytes << " of " << sum->unallocated_bytes
        << " bytes scanned in " << sum->regions << " regions";
    if (sum->incomplete_regions > 0) out << " (" << sum->incomplete_regions << " not in full)";
    out << "; hits:";
    for (const auto& [kind, count] : sum->hits)
        out << ' ' << count << ' ' << kind;
    out << (sum->hits.empty() ? " none\n" : "\n");
    if (auto regions = db.unallocated_regions(run_id)) {
        for (const auto& r : *regions)
            if (!r.message.empty())
                out << "note: unallocated " << r.name << ": " << r.message << "\n";
    }
}

void TriageMatchOptions::describe(nlohmann::json& scanners) const {
    if (!rule_paths_.empty()) {
        std::string packs;
        for (const auto& p : rule_paths_)
            packs += (packs.empty() ? "" : ", ") + p;
        scanners.push_back("YARA rule packs: " + packs);
    }
    if (!keywords_.empty()) scanners.push_back("case keywords: " + keywords_);
    if (scan_unallocated_) scanners.push_back("unallocated space (rules and keywords)");
}

void TriageMatchOptions::print_summary(std::ostream& out) const {
    if (!rules_) return;
    out << "yara: " << stats_->files_scanned.load() << " files scanned ("
        << stats_->bytes_scanned.load() << " bytes) with " << rules_->rule_count() << " rules";
    if (stats_->files_truncated.load() > 0) {
        out << "; " << stats_->files_truncated.load() << " files larger than --yara-max-size "
            << max_size_ << " scanned only up to it";
    }
    out << "\n";
    for (const auto& p : rules_->packs())
        out << "rule pack " << p.path.string() << " sha256 " << p.sha256 << "\n";
    if (!rules_->keywords().empty()) {
        out << "keywords " << keywords_ << " (" << rules_->keywords().size() << " terms) sha256 "
            << rules_->keywords_sha256() << "\n";
    }
    std::lock_guard lock(stats_->mutex);
    for (const auto& n : stats_->notes)
        out << "note: " << n.message << "\n";
}

void RulesCommands::add_to(CLI::App& app) {
    rules_ = app.add_subcommand("rules", "YARA rule packs");
    rules_->require_subcommand(1);
    check_ = rules_->add_subcommand("check", "Compile rule files or folders and report each file");
    check_->add_option("PATH", paths_, "Rule files or folders (\"builtin\" = the shipped packs)")
        ->required();
    check_->add_option("--keywords", keywords_, "Also check a keyword list");
    check_->add_flag("--json", json_, "Print the report as JSON");
}

bool RulesCommands::selected() const {
    return rules_ && *rules_;
}

int RulesCommands::run() {
    auto packs = resolve_packs(paths_);
    if (!packs) return report(packs.error(), kUsage);
    auto yara = YaraLibrary::initialize();
    if (!yara) return report(yara.error(), kInternal);
    RuleSetOptions ro;
    ro.packs = *packs;
    if (!keywords_.empty()) ro.keywords = keywords_;  // no cache: check really compiles
    auto rules = CompiledRules::build(*yara, ro);
    if (!rules) {
        const Error& e = rules.error();
        return report(e, e.kind == ErrorKind::Internal ? kInternal : kUsage);
    }
    const CompiledRules& r = **rules;
    if (json_) {
        std::cout << rules_json(r).dump(2) << "\n";
    } else {
        for (const auto& pack : r.packs()) {
            std::cout << "pack " << pack.path.string() << " sha256 " << pack.sha256 << "\n";
            for (const auto& f : pack.files) {
                std::cout << (f.compiled ? "  ok     " : "  FAILED ") << f.relative;
                if (f.compiled)
                    std::cout << " (" << f.rules << (f.rules == 1 ? " rule)" : " rules)");
                std::cout << "\n";
            }
        }
        print_rule_messages(std::cout, r);
        std::cout << r.rule_count() << " rules compiled";
        if (!r.keywords().empty()) std::cout << " (" << r.keywords().size() << " keyword terms)";
        std::cout << ", " << r.failed_files() << " files failed\n";
    }
    if (r.failed_files() > 0) {
        std::cerr << "exhibit: " << r.failed_files()
                  << " rule file(s) do not compile (see above)\n";
        return kUsage;
    }
    return kOk;
}

}  // namespace exhibit::cli
