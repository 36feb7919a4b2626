// Where the station keeps cases: one folder per case reference under a root (the output
// drive or /var/lib/exhibit/cases), one folder per exhibit inside it holding that exhibit's
// case database, and `case.json` with what the operator entered.
//
//   <root>/OP-BLUEBIRD/case.json
//   <root>/OP-BLUEBIRD/JD-1/case.sqlite
//
// Folder names are the references with anything but letters, digits, '-', '_' and '.'
// replaced by '_', so "OP/23" and "OP_23" share a folder: the json keeps the exact text.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "exhibit/error.hpp"

namespace exhibit::station {

struct OperatorIdentity {
    std::string name;
    std::string number;  // collar or staff number
};

struct CaseDetails {
    std::string case_ref;
    std::string exhibit_ref;
    std::string warrant_ref;
    std::string location;
    std::string notes;
};

struct CaseSummary {
    CaseDetails details;
    std::string operator_name;
    std::string updated;  // UTC, RFC 3339
    std::filesystem::path folder;
};

std::string folder_name_for(const std::string& reference);

class CaseStore {
  public:
    explicit CaseStore(std::filesystem::path root) : root_(std::move(root)) {}
    const std::filesystem::path& root() const { return root_; }

    // Cases under the root, most recently updated first, at most `limit`. A missing root is
    // an empty list; an unreadable case.json is skipped (it is not the station's to repair).
    Expected<std::vector<CaseSummary>> recent(std::size_t limit = 8) const;
    // Writes case.json (creating folders), stamping `updated`. Returns the case folder.
    Expected<std::filesystem::path> save(const CaseDetails& details, const OperatorIdentity& who);
    // The exhibit's case database path (the folder is created by save()).
    std::filesystem::path case_database(const CaseDetails& details) const;
    // Where this exhibit's image goes when the operator picks no other output drive.
    std::filesystem::path image_folder(const CaseDetails& details) const;

  private:
    std::filesystem::path root_;
};

}  // namespace exhibit::station
