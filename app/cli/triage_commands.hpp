// `exhibit triage` and `exhibit files`: walk a source into a case database, and list
// what a case database holds.
//
//   TriageCommands triage;      // must outlive app.parse(): CLI11 writes into it
//   triage.add_to(app);
//   app.parse(argc, argv);
//   if (triage.selected()) return triage.run(g_cancel);
#pragma once

#include <CLI/CLI.hpp>
#include <atomic>
#include <string>

#include "hashset_commands.hpp"
#include "rules_commands.hpp"

namespace exhibit::cli {

class TriageCommands {
  public:
    void add_to(CLI::App& app);
    bool selected() const;
    // Runs the selected command and returns its exit code (exit_codes.hpp).
    int run(const std::atomic<bool>& cancel);

  private:
    int run_triage(const std::atomic<bool>& cancel);
    int run_files();

    CLI::App* triage_ = nullptr;
    CLI::App* files_ = nullptr;
    std::string source_;
    std::string case_db_;
    std::string hardware_blocker_;
    bool triage_json_ = false;
    TriageHashSets hash_sets_;
    std::string files_db_;
    bool deleted_ = false;
    std::string type_;
    std::string path_glob_;
    bool csv_ = false;
    bool bodyfile_ = false;
    bool dfxml_ = false;
    TriageMatchOptions match_;  // --rules, --keywords, --yara-max-size
};

}  // namespace exhibit::cli
