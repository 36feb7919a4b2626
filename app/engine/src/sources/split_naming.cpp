// Split raw naming schemes: numeric (.000/.001…, .001/.002…, any width) and
// alphabetic (.aa/.ab…, as `split` writes them).
#include <cctype>

#include "exhibit/source.hpp"

namespace exhibit {

namespace fs = std::filesystem;

namespace {

// The next name in the sequence, or empty when the extension cannot be incremented.
std::string next_suffix(const std::string& suffix) {
    std::string next = suffix;
    for (auto i = next.size(); i-- > 0;) {
        char& c = next[i];
        if (std::isdigit(static_cast<unsigned char>(c))) {
            if (c != '9') {
                ++c;
                return next;
            }
            c = '0';
        } else if (c >= 'a' && c <= 'z') {
            if (c != 'z') {
                ++c;
                return next;
            }
            c = 'a';
        } else {
            return {};
        }
    }
    return {};  // wrapped around: no more names of this width
}

bool is_split_suffix(const std::string& s) {
    if (s.size() < 2) return false;
    bool digits = true, letters = true;
    for (char c : s) {
        digits = digits && std::isdigit(static_cast<unsigned char>(c));
        letters = letters && c >= 'a' && c <= 'z';
    }
    // .000 or .001 starts a sequence. Not std::stoul: a suffix of 20 nines overflows it
    // (found by tests/fuzz/fuzz_split_naming).
    if (digits) return s.find_first_not_of('0') >= s.size() - 1 && s.back() <= '1';
    return letters && s.find_first_not_of('a') == std::string::npos;  // .aa, .aaa
}

}  // namespace

std::vector<fs::path> find_split_raw_segments(const fs::path& first) {
    std::string name = first.string();
    auto dot = name.find_last_of('.');
    if (dot == std::string::npos || name.find('/', dot) != std::string::npos) return {};
    std::string stem = name.substr(0, dot + 1);
    std::string suffix = name.substr(dot + 1);
    if (!is_split_suffix(suffix)) return {};
    std::vector<fs::path> segments{first};
    std::error_code ec;
    for (std::string s = next_suffix(suffix); !s.empty(); s = next_suffix(s)) {
        fs::path candidate = stem + s;
        if (!fs::is_regular_file(candidate, ec)) break;
        segments.push_back(candidate);
    }
    if (segments.size() < 2) return {};
    return segments;
}

}  // namespace exhibit
