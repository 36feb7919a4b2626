#include "exhibit/station/hit_context.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace exhibit::station {

using nlohmann::json;

namespace {

std::string text_of(const json& j, const char* key) {
    if (!j.contains(key)) return {};
    const json& v = j[key];
    if (v.is_string()) return v.get<std::string>();
    if (v.is_null()) return {};
    return v.dump();
}

std::string upper(std::string s) {
    for (char& c : s)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return s;
}

// Offsets as the hex editor shows them and in decimal, so either can be read aloud.
std::string offset_text(const json& m) {
    if (!m.contains("offset") || !m["offset"].is_number_unsigned()) return "at an unknown offset";
    auto off = m["offset"].get<std::uint64_t>();
    char hex[32];
    std::snprintf(hex, sizeof hex, "0x%llx", static_cast<unsigned long long>(off));
    return "at offset " + std::to_string(off) + " (" + hex + ")";
}

void add_limits(const json& d, HitContext& c) {
    if (d.contains("scanned_bytes") && d.contains("file_size"))
        c.lines.push_back("Only the first " + text_of(d, "scanned_bytes") + " of " +
                          text_of(d, "file_size") + " bytes were scanned.");
    if (d.contains("too_many_matches") && d["too_many_matches"].is_array() &&
        !d["too_many_matches"].empty()) {
        std::string names;
        for (const auto& n : d["too_many_matches"])
            names +=
                (names.empty() ? "" : ", ") + (n.is_string() ? n.get<std::string>() : n.dump());
        c.lines.push_back("Too many matches to keep for: " + names + ".");
    }
}

// Lines for an array of matches; `one` renders one match.
template <typename F>
void add_matches(const json& d, const char* key, std::size_t max_matches, HitContext& c, F one) {
    if (!d.contains(key) || !d[key].is_array()) return;
    const json& list = d[key];
    std::size_t shown = 0;
    for (const auto& m : list) {
        if (shown == max_matches) break;
        if (m.is_object()) c.lines.push_back(one(m));
        ++shown;
    }
    std::uint64_t total = list.size();
    if (d.contains("match_count") && d["match_count"].is_number_unsigned())
        total = std::max<std::uint64_t>(total, d["match_count"].get<std::uint64_t>());
    if (total > shown)
        c.lines.push_back("... and " + std::to_string(total - shown) + " more " +
                          (total - shown == 1 ? "match." : "matches."));
}

}  // namespace

HitContext describe_hit(const Hit& hit, std::size_t max_matches) {
    HitContext c;
    c.kind = hit.kind;
    json d = json::parse(hit.detail, nullptr, false);
    const bool parsed = !d.is_discarded() && d.is_object();

    if (hit.kind == "hashset") {
        c.heading = "Hash set: " + hit.name +
                    (hit.category.empty() ? "" : " (" + hit.category + ")") +
                    (hit.severity.empty() ? "" : ", " + hit.severity);
        if (parsed && d.contains("hash"))
            c.lines.push_back(upper(text_of(d, "algorithm")) + " " + text_of(d, "hash") +
                              " is listed in the set.");
        if (parsed && d.contains("set_sha256"))
            c.lines.push_back("Set file SHA-256 " + text_of(d, "set_sha256"));
    } else if (hit.kind == "keyword") {
        c.heading = "Keyword \"" + hit.name + "\"";
        if (parsed) {
            if (auto line = text_of(d, "line"); !line.empty() && line != "0")
                c.lines.push_back("Line " + line + " of the keyword list.");
            add_matches(d, "matches", max_matches, c, [](const json& m) {
                std::string enc = text_of(m, "encoding");
                return offset_text(m) + (enc.empty() || enc == "ascii" ? "" : ", " + enc) + ": \"" +
                       text_of(m, "context") + "\"";
            });
            add_limits(d, c);
        }
    } else if (hit.kind == "yara") {
        c.heading = "YARA" + (hit.severity.empty() ? std::string() : " " + hit.severity) + ": " +
                    hit.name + (hit.category.empty() ? "" : " (" + hit.category + ")");
        if (parsed) {
            if (d.contains("meta") && d["meta"].is_object()) {
                const json& meta = d["meta"];
                if (auto v = text_of(meta, "description"); !v.empty()) c.lines.push_back(v);
                for (const char* key : {"author", "reference"})
                    if (auto v = text_of(meta, key); !v.empty())
                        c.lines.push_back(std::string(key) + ": " + v);
            }
            if (d.contains("tags") && d["tags"].is_array() && !d["tags"].empty()) {
                std::string tags;
                for (const auto& t : d["tags"])
                    tags += (tags.empty() ? "" : ", ") +
                            (t.is_string() ? t.get<std::string>() : t.dump());
                c.lines.push_back("Tags: " + tags);
            }
            add_matches(d, "strings", max_matches, c, [](const json& m) {
                return text_of(m, "identifier") + " " + offset_text(m) + ": \"" +
                       text_of(m, "excerpt") + "\"";
            });
            add_limits(d, c);
        }
    } else {
        c.heading =
            hit.kind + ": " + hit.name + (hit.category.empty() ? "" : " (" + hit.category + ")");
    }
    if (!parsed && !hit.detail.empty()) c.lines.push_back(hit.detail);
    return c;
}

}  // namespace exhibit::station
