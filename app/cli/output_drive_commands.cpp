#include "output_drive_commands.hpp"

#include <iostream>
#include <nlohmann/json.hpp>

#include "exhibit/case_db.hpp"
#include "exhibit/custody.hpp"
#include "exhibit/output_drive.hpp"
#include "exit_codes.hpp"
#include "terminal.hpp"

namespace exhibit::cli {

void OutputDriveCommands::add_to(CLI::App& app) {
    group_ = app.add_subcommand("output-drive",
                                "The output drive: the only device Exhibit makes writable");
    group_->require_subcommand(1);
    show_ = group_->add_subcommand("show",
                                   "Show what a drive holds (file system, label), "
                                   "changing nothing");
    prepare_ = group_->add_subcommand(
        "prepare",
        "First use: a new ext4 file system labelled EXHIBIT-OUT on the drive "
        "(erases it), then open it; custody events in the case's log");
    open_ = group_->add_subcommand(
        "open", "Make a drive labelled EXHIBIT-OUT writable for the case; a custody event");
    for (CLI::App* sub : {show_, prepare_, open_}) {
        sub->add_option("DEVICE", device_, "A partition or disk: /dev/sdc1")->required();
        sub->add_flag("--json", json_, "Print the drive as JSON");
    }
    for (CLI::App* sub : {prepare_, open_}) {
        sub->add_option("--case-db", case_db_, "The case database whose custody log records it")
            ->required();
    }
    prepare_->add_flag("--erase", erase_, "Erase a file system the drive already holds");
}

bool OutputDriveCommands::selected() const {
    return group_ && group_->parsed();
}

int OutputDriveCommands::run() {
    Expected<OutputDrive> drive = make_error(ErrorKind::Internal, "no output-drive command ran");
    if (show_->parsed()) {
        drive = inspect_output_drive(device_);
    } else {
        auto db = CaseDatabase::open(case_db_);
        if (!db) return report(db.error(), kOutput);
        auto c = read_case(**db);
        if (!c) return report(c.error(), kOutput);
        if (!*c) {
            std::cerr << "exhibit: case database " << case_db_
                      << " has no case to record the output drive in\n";
            return kOutput;
        }
        drive = prepare_->parsed()
                    ? prepare_output_drive(**db, (*c)->operator_of(), device_, erase_)
                    : open_output_drive(**db, (*c)->operator_of(), device_);
    }
    if (!drive) return report(drive.error(), kOutput);
    if (json_) {
        std::cout << drive->json() << "\n";
        return kOk;
    }
    std::cout << drive->device << ": "
              << (drive->fs_type.empty() ? "no file system" : drive->fs_type)
              << (drive->label.empty() ? "" : " '" + drive->label + "'")
              << (drive->fs_uuid.empty() ? "" : " " + drive->fs_uuid) << ", "
              << human_bytes(static_cast<double>(drive->size_bytes)) << ", disk " << drive->disk
              << " (" << drive->bus << " '" << drive->vendor << "' '" << drive->model
              << "' serial '" << drive->serial << "')\n";
    if (!show_->parsed()) {
        std::cout << "made writable: ";
        if (drive->made_writable.empty()) std::cout << "none (it already was)";
        for (std::size_t i = 0; i < drive->made_writable.size(); ++i)
            std::cout << (i ? ", /dev/" : "/dev/") << drive->made_writable[i];
        std::cout << "\nrecorded in the custody log of " << case_db_ << "\n";
    }
    return kOk;
}

}  // namespace exhibit::cli
