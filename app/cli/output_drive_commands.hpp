// `exhibit output-drive show|prepare|open DEVICE`: the one drive the appliance makes
// writable, picked by the operator, each change a custody event in the case's log
// (exhibit/output_drive.hpp).
//
//   OutputDriveCommands output;   // must outlive app.parse(): CLI11 writes into it
//   output.add_to(app);
//   app.parse(argc, argv);
//   if (output.selected()) return output.run();
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace exhibit::cli {

class OutputDriveCommands {
  public:
    void add_to(CLI::App& app);
    bool selected() const;
    int run();

  private:
    CLI::App* group_ = nullptr;
    CLI::App* show_ = nullptr;
    CLI::App* prepare_ = nullptr;
    CLI::App* open_ = nullptr;
    std::string device_;
    std::string case_db_;
    bool erase_ = false;
    bool json_ = false;
};

}  // namespace exhibit::cli
