// `exhibit hashset import|list|lookup`, and the hash-set options of `exhibit triage`.
//
//   HashSetCommands hashsets;   // must outlive app.parse(): CLI11 writes into it
//   hashsets.add_to(app);
//   app.parse(argc, argv);
//   if (hashsets.selected()) return hashsets.run();
//
//   TriageHashSets sets;        // inside `exhibit triage`
//   sets.add_options(triage_subcommand);
//   if (int code = sets.prepare(walk_options)) return code;   // opens the sets, adds the scanner
//   ... triage ...
//   sets.print_summary(db, run_id, json_or_null);
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "exhibit/case_db.hpp"
#include "exhibit/file_walk.hpp"
#include "exhibit/hashset.hpp"

namespace exhibit::cli {

class HashSetCommands {
  public:
    void add_to(CLI::App& app);
    bool selected() const;
    // Runs the selected command and returns its exit code (exit_codes.hpp).
    int run();

  private:
    int run_import();
    int run_list();
    int run_lookup();

    CLI::App* hashset_ = nullptr;
    CLI::App* import_ = nullptr;
    CLI::App* list_ = nullptr;
    std::vector<std::string> files_;
    std::string name_;
    std::string kind_;
    std::string format_ = "auto";
    std::string category_;
    std::string import_store_;
    bool import_json_ = false;
    std::string list_store_;
    bool list_json_ = false;
    CLI::App* lookup_ = nullptr;
    std::vector<std::string> lookup_hashes_;
    std::string lookup_from_;
    std::vector<std::string> lookup_sets_{"all"};
    std::string lookup_store_;
    bool lookup_count_ = false;
};

class TriageHashSets {
  public:
    // Adds --hashsets NAME[,NAME...]|all and --hashset-store DIR to `triage`.
    void add_options(CLI::App* triage);
    // With --hashsets: opens the sets and appends their scanner to `options` (after the
    // hash scanner). Returns 0, or the exit code after reporting why not.
    int prepare(WalkOptions& options);
    // Verdict counts of run `run_id` (and the sets used): into `json` when given (key
    // "hash_sets"), else as text on stdout. Nothing without --hashsets.
    void print_summary(const CaseDatabase& db, std::int64_t run_id, nlohmann::json* json) const;
    // Appends "hash sets: ..." to the triage_started event's list of scanners.
    void describe(nlohmann::json& scanners) const;

  private:
    std::vector<std::string> names_;
    std::string store_;
    std::shared_ptr<const HashSetLibrary> library_;
};

}  // namespace exhibit::cli
