#include "report/report_text.hpp"

#include <cstdio>

namespace exhibit::report_detail {

namespace {

// Decodes one UTF-8 sequence at `i`. Returns the code point and advances `i`, or -1 (and
// advances one byte) for anything RFC 3629 does not allow: stray continuation bytes,
// truncated sequences, overlong forms, surrogates, values above U+10FFFF.
long decode(std::string_view s, std::size_t& i) {
    auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = byte(i);
    if (c < 0x80) {
        ++i;
        return c;
    }
    int extra;
    long cp;
    long min;
    if ((c & 0xE0) == 0xC0) {
        extra = 1, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        extra = 2, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        extra = 3, cp = c & 0x07, min = 0x10000;
    } else {
        ++i;
        return -1;
    }
    if (i + static_cast<std::size_t>(extra) >= s.size()) {
        ++i;
        return -1;
    }
    for (int k = 1; k <= extra; ++k) {
        unsigned char n = byte(i + static_cast<std::size_t>(k));
        if ((n & 0xC0) != 0x80) {
            ++i;
            return -1;
        }
        cp = (cp << 6) | (n & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        ++i;
        return -1;
    }
    i += static_cast<std::size_t>(extra) + 1;
    return cp;
}

// Characters that are invisible or change how neighbouring text is displayed, plus those
// XML cannot carry: shown as U+NNNN instead of being passed through.
bool shown_as_code(long cp) {
    if (cp < 0x20 || cp == 0x7F) return true;                       // C0 controls, DEL
    if (cp >= 0x80 && cp <= 0x9F) return true;                      // C1 controls
    if (cp == 0x00AD || cp == 0x034F || cp == 0x061C) return true;  // soft hyphen, CGJ, ALM
    if (cp == 0x115F || cp == 0x1160 || cp == 0x17B4 || cp == 0x17B5 || cp == 0x180E)
        return true;                                // invisible fillers
    if (cp >= 0x200B && cp <= 0x200F) return true;  // zero-width, LRM, RLM
    if (cp >= 0x2028 && cp <= 0x202E) return true;  // separators, bidi embeddings
    if (cp >= 0x2060 && cp <= 0x206F) return true;  // word joiner, bidi isolates
    if (cp == 0x3164 || cp == 0xFEFF || cp == 0xFFA0) return true;
    if (cp >= 0xFFF0 && cp <= 0xFFFB) return true;    // specials, annotation marks
    if ((cp & 0xFFFE) == 0xFFFE) return true;         // noncharacters U+xxFFFE/F
    if (cp >= 0xFDD0 && cp <= 0xFDEF) return true;    // noncharacters
    if (cp >= 0xE0000 && cp <= 0xE007F) return true;  // tag characters
    return false;
}

}  // namespace

std::string html_text(std::string_view text, Newlines newlines) {
    std::string out;
    out.reserve(text.size() + 16);
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t start = i;
        long cp = decode(text, i);
        char code[48];
        if (cp < 0) {
            std::snprintf(code, sizeof code, "<span class=\"esc\">\\x%02X</span>",
                          static_cast<unsigned char>(text[start]));
            out += code;
        } else if (cp == '\n' && newlines == Newlines::Break) {
            out += "<br/>";
        } else if ((cp == '\n' || cp == '\t') && newlines == Newlines::Keep) {
            out += static_cast<char>(cp);
        } else if (cp == '\t' && newlines == Newlines::Break) {
            out += ' ';
        } else if (shown_as_code(cp)) {
            std::snprintf(code, sizeof code, "<span class=\"esc\">U+%04lX</span>", cp);
            out += code;
        } else {
            switch (cp) {
                case '&':
                    out += "&amp;";
                    break;
                case '<':
                    out += "&lt;";
                    break;
                case '>':
                    out += "&gt;";
                    break;
                case '"':
                    out += "&quot;";
                    break;
                case '\'':
                    out += "&#39;";
                    break;
                default:
                    out.append(text.substr(start, i - start));
            }
        }
    }
    return out;
}

std::string css_string(std::string_view text) {
    std::string out;
    std::size_t i = 0;
    while (i < text.size()) {
        std::size_t start = i;
        long cp = decode(text, i);
        unsigned char c = static_cast<unsigned char>(text[start]);
        bool plain =
            cp >= 0 && cp < 0x80 &&
            ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == ' ' || c == '-' || c == '_' || c == '.' || c == ',' || c == '/' || c == ':');
        if (plain) {
            out += static_cast<char>(c);
        } else {
            char code[24];
            // A hex escape ends at the space after it; U+FFFD for bytes that are not UTF-8.
            std::snprintf(code, sizeof code, "\\%06lX ",
                          cp < 0 || shown_as_code(cp) ? 0xFFFDL : cp);
            out += code;
        }
    }
    return out;
}

std::string grouped(std::uint64_t n) {
    std::string digits = std::to_string(n), out;
    for (std::size_t k = 0; k < digits.size(); ++k) {
        if (k > 0 && (digits.size() - k) % 3 == 0) out += ',';
        out += digits[k];
    }
    return out;
}

std::string human_size(std::uint64_t bytes) {
    const char* units[] = {"bytes", "KiB", "MiB", "GiB", "TiB"};
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    char text[32];
    std::snprintf(text, sizeof text, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
    return text;
}

bool valid_utf8(std::string_view text) {
    std::size_t i = 0;
    while (i < text.size()) {
        if (decode(text, i) < 0) return false;
    }
    return true;
}

}  // namespace exhibit::report_detail
