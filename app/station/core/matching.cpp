#include "exhibit/station/matching.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace exhibit::station {

namespace fs = std::filesystem;

fs::path default_rules_dir() {
    std::error_code ec;
    fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (ec) return {};
    for (const fs::path& c :
         {exe.parent_path() / "rules", exe.parent_path().parent_path() / "share/exhibit/rules"}) {
        if (fs::is_directory(c, ec)) return c;
    }
    return {};
}

fs::path default_keywords_dir() {
    if (const char* home = std::getenv("EXHIBIT_HOME"); home && *home)
        return fs::path(home) / "keywords";
    if (const char* home = std::getenv("HOME"); home && *home)
        return fs::path(home) / ".local/share/exhibit/keywords";
    return {};
}

namespace {

std::vector<fs::path> files_with(const fs::path& dir, std::initializer_list<const char*> exts,
                                 std::vector<std::string>& problems) {
    std::vector<fs::path> out;
    std::error_code ec;
    if (dir.empty() || !fs::is_directory(dir, ec)) return out;
    fs::directory_iterator it(dir, ec);
    if (ec) {
        problems.push_back("cannot list " + dir.string() + ": " + ec.message());
        return out;
    }
    for (const auto& e : it) {
        if (!e.is_regular_file(ec)) continue;
        std::string ext = e.path().extension().string();
        if (std::find(exts.begin(), exts.end(), ext) != exts.end()) out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

InstalledMatching find_installed_matching(const MatchingPlaces& places) {
    InstalledMatching m;
    if (!places.hash_set_store.empty()) {
        auto sets = HashSetStore(places.hash_set_store).list();
        if (sets)
            m.hash_sets = std::move(*sets);
        else
            m.problems.push_back(sets.error().message);
    }
    m.rule_packs = files_with(places.rules_dir, {".yar", ".yara"}, m.problems);
    m.keyword_lists = files_with(places.keywords_dir, {".txt"}, m.problems);
    return m;
}

Expected<std::size_t> write_case_keywords(const std::string& typed, const fs::path& file) {
    std::vector<std::string> terms;
    std::string term;
    auto flush = [&] {
        auto a = term.find_first_not_of(" \t");
        auto b = term.find_last_not_of(" \t");
        if (a != std::string::npos) terms.push_back(term.substr(a, b - a + 1));
        term.clear();
    };
    for (char c : typed) {
        if (c == ',' || c == '\n')
            flush();
        else
            term += c;
    }
    flush();
    if (terms.empty()) return std::size_t{0};
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    std::ofstream out(file, std::ios::trunc);
    out << "# Keywords typed at the station for this exhibit\n";
    for (const auto& t : terms)
        out << t << "\n";
    out.flush();
    if (!out) return errno_error("cannot write " + file.string(), errno);
    return terms.size();
}

}  // namespace exhibit::station
