// `exhibit devices` and `exhibit protect`: the block devices attached to this machine, and
// putting one in kernel read-only mode.
//
//   DeviceCommands devices;     // must outlive app.parse(): CLI11 writes into it
//   devices.add_to(app);
//   app.parse(argc, argv);
//   if (devices.selected()) return devices.run(g_cancel);
#pragma once

#include <CLI/CLI.hpp>
#include <atomic>
#include <string>

namespace exhibit::cli {

class DeviceCommands {
  public:
    void add_to(CLI::App& app);
    bool selected() const;
    // Runs the selected command and returns its exit code (exit_codes.hpp). `cancel` ends
    // `devices --watch` (the SIGINT/SIGTERM flag).
    int run(const std::atomic<bool>& cancel);

  private:
    CLI::App* devices_ = nullptr;
    CLI::App* protect_ = nullptr;
    bool watch_ = false;
    bool all_ = false;
    bool devices_json_ = false;
    std::string device_;
    bool protect_json_ = false;
};

}  // namespace exhibit::cli
