// What the plan can match files against: the hash sets in the store, the YARA rule files
// of the shipped (and any added) rule folder, and keyword lists, as installed on this
// station. Read on a worker thread when the plan is shown.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "exhibit/error.hpp"
#include "exhibit/hashset.hpp"

namespace exhibit::station {

struct InstalledMatching {
    std::vector<HashSetInfo> hash_sets;
    std::vector<std::filesystem::path> rule_packs;     // each *.yar / *.yara file, by name
    std::vector<std::filesystem::path> keyword_lists;  // each *.txt in the keywords folder
    std::vector<std::string> problems;                 // what could not be read, one sentence each
};

struct MatchingPlaces {
    std::filesystem::path hash_set_store;  // HashSetStore::default_path() unless given
    std::filesystem::path rules_dir;       // the shipped rules/ folder
    std::filesystem::path keywords_dir;    // $EXHIBIT_HOME/keywords
};

// The shipped rules folder: `rules` beside the program (the build tree links it there), else
// <prefix>/share/exhibit/rules. Empty when neither exists.
std::filesystem::path default_rules_dir();
// $EXHIBIT_HOME/keywords, EXHIBIT_HOME defaulting to ~/.local/share/exhibit.
std::filesystem::path default_keywords_dir();

InstalledMatching find_installed_matching(const MatchingPlaces& places);

// Writes the case's own keywords (one term per line, as typed) to `file` for the rule
// compiler; terms are separated by commas or new lines in `typed`. Returns the number of
// terms written (0 writes nothing).
Expected<std::size_t> write_case_keywords(const std::string& typed,
                                          const std::filesystem::path& file);

}  // namespace exhibit::station
