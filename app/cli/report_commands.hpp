// `exhibit report`: regenerate a case's report.html (and case.jsonld) from its case
// database, acquisition record and custody log, without changing any of them.
//
//   ReportCommands report;      // must outlive app.parse(): CLI11 writes into it
//   report.add_to(app);
//   app.parse(argc, argv);
//   if (report.selected()) return report.run();
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "exhibit/report.hpp"

namespace exhibit::cli {

class ReportCommands {
  public:
    void add_to(CLI::App& app);
    bool selected() const;
    // Returns the exit code (exit_codes.hpp).
    int run();

  private:
    CLI::App* report_ = nullptr;
    std::string case_db_;
    std::string out_;
    std::string jsonld_;
    std::string acquisition_;
    std::string custody_;
    ReportCase case_info_;
};

}  // namespace exhibit::cli
