// Text as the report shows it: escaped for HTML and CSS, with hostile bytes made visible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace exhibit::report_detail {

// HTML (and XML) text content. Escapes & < > " '; shows bytes that are not UTF-8 as
// <span class="esc">\xNN</span>, and control, bidirectional, zero-width and other
// invisible formatting characters (and noncharacters) as <span class="esc">U+NNNN</span>,
// so nothing can reorder or hide what follows it. LF (and tab) are shown as U+000A like any
// other control character unless `newlines` says to break the line (<br/>, for operator
// notes) or keep it (inside <pre>, for commands Exhibit itself wrote).
enum class Newlines { Show, Break, Keep };
std::string html_text(std::string_view text, Newlines newlines = Newlines::Show);

// The same text as a CSS string literal body (inside "..."): every character outside
// printable ASCII letters, digits and a few punctuation marks becomes a CSS hex escape, so
// it cannot end the string or the <style> element.
std::string css_string(std::string_view text);

// "1,048,576 bytes" style digit grouping, and "1.5 GiB".
std::string grouped(std::uint64_t n);
std::string human_size(std::uint64_t bytes);

// True when `text` is valid UTF-8 (JSON-LD output replaces what is not).
bool valid_utf8(std::string_view text);

}  // namespace exhibit::report_detail
