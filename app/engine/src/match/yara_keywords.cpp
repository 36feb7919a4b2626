// The keyword list format and its translation into YARA rules.
#include "match/yara_keywords.hpp"

#include "io/durable_file.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>

namespace exhibit {

namespace match_detail {

std::string yara_quote(const std::string& bytes) {
    std::string out;
    for (unsigned char c : bytes) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c >= 0x7f) {
            char hex[5];
            std::snprintf(hex, sizeof hex, "\\x%02x", c);
            out += hex;
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

namespace {

// UTF-8 to UTF-16LE code units; false when `text` is not valid UTF-8.
bool utf16le(const std::string& text, std::string& out) {
    for (std::size_t i = 0; i < text.size();) {
        auto c = static_cast<unsigned char>(text[i]);
        std::uint32_t cp = 0;
        int extra = 0;
        if (c < 0x80) {
            cp = c;
        } else if ((c & 0xe0) == 0xc0) {
            cp = c & 0x1f, extra = 1;
        } else if ((c & 0xf0) == 0xe0) {
            cp = c & 0x0f, extra = 2;
        } else if ((c & 0xf8) == 0xf0) {
            cp = c & 0x07, extra = 3;
        } else {
            return false;
        }
        if (i + static_cast<std::size_t>(extra) >= text.size() && extra > 0) return false;
        for (int k = 1; k <= extra; ++k) {
            auto cc = static_cast<unsigned char>(text[i + static_cast<std::size_t>(k)]);
            if ((cc & 0xc0) != 0x80) return false;
            cp = (cp << 6) | (cc & 0x3f);
        }
        i += 1 + static_cast<std::size_t>(extra);
        auto unit = [&](std::uint32_t u) {
            out += static_cast<char>(u & 0xff);
            out += static_cast<char>((u >> 8) & 0xff);
        };
        if (cp >= 0x10000) {
            cp -= 0x10000;
            unit(0xd800 + (cp >> 10));
            unit(0xdc00 + (cp & 0x3ff));
        } else {
            unit(cp);
        }
    }
    return true;
}

}  // namespace

std::string keyword_rule(const KeywordTerm& term) {
    std::ostringstream r;
    r << "rule kw_" << term.line << " { meta: term = \"" << yara_quote(term.term)
      << "\" line = " << term.line << " strings: ";
    bool ascii_only = true;
    for (unsigned char c : term.term)
        ascii_only = ascii_only && c < 0x80;
    if (term.regex) {
        r << "$k = " << term.term << " nocase ascii wide";
    } else if (ascii_only) {
        r << "$k = \"" << yara_quote(term.term) << "\" nocase ascii wide";
    } else {
        // YARA's `wide` only interleaves zero bytes, right for ASCII alone: a non-ASCII
        // term is matched as its UTF-8 bytes and as its real UTF-16LE code units.
        // (`nocase` folds ASCII letters only.)
        std::string wide;
        r << "$k = \"" << yara_quote(term.term) << "\" nocase";
        if (utf16le(term.term, wide)) r << " $w = \"" << yara_quote(wide) << "\" nocase";
    }
    r << " condition: any of them }\n";
    return r.str();
}

}  // namespace match_detail

Expected<std::vector<KeywordTerm>> read_keyword_list(const std::filesystem::path& path) {
    if (auto s = io::check_regular_file(path, "keyword list"); !s) return s.error();
    std::ifstream in(path, std::ios::binary);
    if (!in) return errno_error("cannot read the keyword list " + path.string(), errno);
    std::vector<KeywordTerm> terms;
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (number == 1 && line.rfind("\xef\xbb\xbf", 0) == 0) line.erase(0, 3);  // UTF-8 BOM
        auto first = line.find_first_not_of(" \t");
        if (first == std::string::npos) continue;
        auto last = line.find_last_not_of(" \t");
        std::string term = line.substr(first, last - first + 1);
        if (term[0] == '#') continue;
        bool regex = term.size() >= 2 && term.front() == '/' && term.back() == '/';
        if (regex && term.size() == 2) {
            return make_error(ErrorKind::InvalidArgument,
                              "keyword list " + path.string() + " line " + std::to_string(number) +
                                  ": the regular expression // is empty");
        }
        // The regex goes into the generated rule as written, so it must end at its closing
        // slash: an inner '/' must be escaped, and the last one must not be.
        for (std::size_t i = 1; regex && i + 1 < term.size(); ++i) {
            if (term[i] == '\\') {
                ++i;
                if (i + 1 < term.size()) continue;
            } else if (term[i] != '/') {
                continue;
            }
            return make_error(ErrorKind::InvalidArgument,
                              "keyword list " + path.string() + " line " + std::to_string(number) +
                                  ": the regular expression " + term +
                                  " has a '/' inside it or a '\\' before its closing '/' "
                                  "(write an inner slash as \\/)");
        }
        terms.push_back({number, term, regex});
    }
    if (in.bad()) return errno_error("cannot read the keyword list " + path.string(), errno);
    if (terms.empty()) {
        return make_error(ErrorKind::InvalidArgument,
                          "keyword list " + path.string() + " has no terms");
    }
    return terms;
}

}  // namespace exhibit
