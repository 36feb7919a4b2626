#include "exhibit/station/case_store.hpp"

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

#include "exhibit/acquire.hpp"

namespace exhibit::station {

namespace fs = std::filesystem;

std::string folder_name_for(const std::string& reference) {
    std::string out;
    for (char c : reference) {
        bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
        out += keep ? c : '_';
    }
    // "." and ".." are not folder names we want to make.
    if (out.empty() || out.find_first_not_of('.') == std::string::npos) out = "_" + out;
    return out;
}

Expected<std::vector<CaseSummary>> CaseStore::recent(std::size_t limit) const {
    std::vector<CaseSummary> cases;
    std::error_code ec;
    if (!fs::exists(root_, ec)) return cases;
    fs::directory_iterator it(root_, ec);
    if (ec) return errno_error("cannot list the case folder " + root_.string(), ec.value());
    for (const auto& entry : it) {
        fs::path json_path = entry.path() / "case.json";
        std::ifstream in(json_path);
        if (!in) continue;
        auto doc = nlohmann::json::parse(in, nullptr, false);
        if (doc.is_discarded() || !doc.is_object()) continue;
        CaseSummary s;
        s.folder = entry.path();
        // A field of another type reads as empty (json::value() would throw).
        auto text = [&doc](const char* key) {
            auto field = doc.find(key);
            return field != doc.end() && field->is_string() ? field->get<std::string>()
                                                            : std::string();
        };
        s.details.case_ref = text("case");
        s.details.exhibit_ref = text("exhibit");
        s.details.warrant_ref = text("warrant");
        s.details.location = text("location");
        s.details.notes = text("notes");
        s.operator_name = text("operator");
        s.updated = text("updated");
        if (s.details.case_ref.empty()) continue;
        cases.push_back(std::move(s));
    }
    // RFC 3339 UTC stamps of one width sort as text.
    std::sort(cases.begin(), cases.end(),
              [](const CaseSummary& a, const CaseSummary& b) { return a.updated > b.updated; });
    if (cases.size() > limit) cases.resize(limit);
    return cases;
}

Expected<fs::path> CaseStore::save(const CaseDetails& details, const OperatorIdentity& who) {
    if (details.case_ref.empty() || details.exhibit_ref.empty())
        return make_error(ErrorKind::InvalidArgument,
                          "a case needs both a case reference and an exhibit reference");
    fs::path folder = root_ / folder_name_for(details.case_ref);
    std::error_code ec;
    fs::create_directories(folder / folder_name_for(details.exhibit_ref), ec);
    if (ec) return errno_error("cannot create the case folder " + folder.string(), ec.value());
    nlohmann::json doc = {{"case", details.case_ref},       {"exhibit", details.exhibit_ref},
                          {"warrant", details.warrant_ref}, {"location", details.location},
                          {"notes", details.notes},         {"operator", who.name},
                          {"operator_number", who.number},  {"updated", utc_timestamp()}};
    // Written beside and renamed over, so a power cut leaves the old or the new file whole.
    fs::path tmp = folder / "case.json.tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << doc.dump(2) << '\n';
        out.flush();
        if (!out) return errno_error("cannot write " + tmp.string(), errno);
    }
    fs::rename(tmp, folder / "case.json", ec);
    if (ec) return errno_error("cannot replace " + (folder / "case.json").string(), ec.value());
    return folder;
}

fs::path CaseStore::case_database(const CaseDetails& details) const {
    return root_ / folder_name_for(details.case_ref) / folder_name_for(details.exhibit_ref) /
           "case.sqlite";
}

fs::path CaseStore::image_folder(const CaseDetails& details) const {
    return root_ / folder_name_for(details.case_ref) / folder_name_for(details.exhibit_ref) /
           "image";
}

}  // namespace exhibit::station
