// `exhibit run`, `seal`, `verify`, `key show`, `note` and `custody`: the main job, evidence
// bundles, the appliance key and the custody log.
//
//   CustodyCommands custody;    // must outlive app.parse(): CLI11 writes into it
//   custody.add_to(app);
//   app.parse(argc, argv);
//   if (custody.selected()) return custody.run(g_cancel);
#pragma once

#include <CLI/CLI.hpp>
#include <atomic>
#include <string>
#include <vector>

#include "exhibit/custody.hpp"
#include "hashset_commands.hpp"
#include "rules_commands.hpp"

namespace exhibit::cli {

class CustodyCommands {
  public:
    void add_to(CLI::App& app);
    bool selected() const;
    int run(const std::atomic<bool>& cancel);

  private:
    int run_job(const std::atomic<bool>& cancel);
    int finish_sealed_job(const std::filesystem::path& out, const std::filesystem::path& work,
                          const std::atomic<bool>& cancel);
    int run_seal(const std::atomic<bool>& cancel);
    int run_verify(const std::atomic<bool>& cancel);
    int run_key_show();
    int run_note();
    int run_custody();

    CLI::App* run_ = nullptr;
    CLI::App* seal_ = nullptr;
    CLI::App* verify_ = nullptr;
    CLI::App* key_ = nullptr;
    CLI::App* key_show_ = nullptr;
    CLI::App* note_ = nullptr;
    CLI::App* custody_ = nullptr;

    // run
    std::string source_;
    std::string out_;
    CaseRecord case_;
    std::string image_ = "e01";
    std::string hardware_blocker_;
    bool resume_ = false;
    TriageHashSets hash_sets_;  // --hashsets, --hashset-store, as `exhibit triage` has them
    TriageMatchOptions match_;  // --rules, --keywords, --yara-max-size, likewise
    // seal
    std::string seal_db_;
    std::string seal_out_;
    std::vector<std::string> seal_images_;
    // verify
    std::string bundle_;
    std::string trusted_key_;
    bool verify_json_ = false;
    // key show
    bool key_json_ = false;
    // note
    std::string note_db_;
    std::string note_text_;
    // custody
    std::string custody_file_;
};

}  // namespace exhibit::cli
