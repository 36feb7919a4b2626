// report.html: one self-contained page an examiner reads on screen and prints on A4.
// Plain HTML that is also well-formed XML (so any XML or HTML parser reads it), inline CSS,
// no scripts, no external resources. Every string from evidence or an operator goes
// through html_text().
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "exhibit/report.hpp"
#include "report/report_text.hpp"

namespace exhibit {

namespace {

using report_detail::css_string;
using report_detail::grouped;
using report_detail::html_text;
using report_detail::human_size;
using report_detail::Newlines;

std::string h(std::string_view text) {
    return html_text(text);
}

// Text, or a muted "not recorded" when empty.
std::string or_missing(const std::string& text, Newlines newlines = Newlines::Show) {
    return text.empty() ? std::string("<span class=\"missing\">not recorded</span>")
                        : html_text(text, newlines);
}

std::string bytes_text(std::uint64_t n) {
    std::string out = grouped(n) + " bytes";
    if (n >= 1024) out += " (" + human_size(n) + ")";
    return out;
}

std::string mono(const std::string& text) {
    return text.empty() ? std::string("<span class=\"missing\">none</span>")
                        : "<span class=\"mono\">" + h(text) + "</span>";
}

// A status badge: the word carries the meaning, the colour only repeats it.
std::string badge(const std::string& kind, const std::string& text) {
    return "<span class=\"badge " + kind + "\">" + h(text) + "</span>";
}

const char* const kStyle = R"css(
:root { --ink: #1b2430; --muted: #5b6675; --rule: #c9d0da; --band: #14283f; --accent: #1f5c99;
        --ok: #1d6b3a; --ok-bg: #e3f3e8; --bad: #9b1c1c; --bad-bg: #fbe6e6; --warn: #7a4d00;
        --warn-bg: #fff1d6; --stripe: #f4f6f9; }
* { box-sizing: border-box; }
html { font-family: "DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif;
       font-size: 10pt; color: var(--ink); background: #e9edf2; }
body { margin: 0; line-height: 1.4; }
.page { max-width: 210mm; margin: 0 auto; background: #fff; padding: 0 0 12mm 0; }
.masthead { background: var(--band); color: #fff; padding: 9mm 14mm 7mm 14mm; }
.masthead .kicker { text-transform: uppercase; letter-spacing: 0.14em; font-size: 8pt;
                    color: #b9c9dc; margin: 0 0 2mm 0; }
.masthead h1 { font-size: 19pt; margin: 0 0 1.5mm 0; font-weight: bold; }
.masthead .sub { margin: 0; color: #d5e0ec; font-size: 9pt; }
.summary { display: table; width: 100%; border-collapse: separate; border-spacing: 2.5mm 0;
           margin: 5mm 0 0 0; padding: 0 11.5mm; }
.summary .cell { display: table-cell; width: 25%; border: 1px solid var(--rule);
                 border-top: 3px solid var(--accent); padding: 2.5mm 3mm; vertical-align: top; }
.summary .label { font-size: 7.5pt; text-transform: uppercase; letter-spacing: 0.08em;
                  color: var(--muted); margin: 0 0 1mm 0; }
.summary .value { font-size: 10.5pt; font-weight: bold; margin: 0; }
.summary .note { font-size: 8pt; color: var(--muted); margin: 1mm 0 0 0; }
.contents { margin: 5mm 14mm 0 14mm; padding: 3mm 4mm; border: 1px solid var(--rule);
            background: var(--stripe); }
.contents p { margin: 0 0 1mm 0; font-weight: bold; font-size: 8.5pt; text-transform: uppercase;
              letter-spacing: 0.08em; color: var(--muted); }
.contents ol { margin: 0; padding-left: 6mm; columns: 2; column-gap: 8mm; font-size: 9pt; }
.contents a { color: var(--accent); text-decoration: none; }
.section { margin: 0 14mm; padding-top: 6mm; }
h2 { font-size: 13pt; color: var(--band); border-bottom: 2px solid var(--band);
     padding-bottom: 1mm; margin: 0 0 3mm 0; break-after: avoid; page-break-after: avoid; }
h3 { font-size: 10.5pt; color: var(--band); margin: 4mm 0 2mm 0; break-after: avoid;
     page-break-after: avoid; }
h4 { font-size: 9.5pt; margin: 3mm 0 1.5mm 0; color: var(--ink); break-after: avoid;
     page-break-after: avoid; }
p { margin: 0 0 2mm 0; }
table { width: 100%; border-collapse: collapse; margin: 0 0 3mm 0; font-size: 8.8pt; }
caption { text-align: left; font-weight: bold; font-size: 9pt; color: var(--muted);
          padding: 0 0 1mm 0; caption-side: top; }
th, td { text-align: left; vertical-align: top; padding: 1.3mm 2mm;
         border-bottom: 1px solid var(--rule); }
thead th { background: var(--band); color: #fff; font-weight: bold; font-size: 8pt;
           border-bottom: none; }
thead { display: table-header-group; }
tbody tr:nth-child(even) td { background: var(--stripe); }
tr { break-inside: avoid; page-break-inside: avoid; }
table.kv th { width: 30%; background: var(--stripe); color: var(--ink); font-weight: bold;
              font-size: 8.8pt; }
table.kv td { background: #fff !important; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
.mono, pre, code { font-family: "DejaVu Sans Mono", "Liberation Mono", "Courier New", monospace;
                   font-size: 8.3pt; }
.mono, .path { overflow-wrap: anywhere; word-break: break-all; }
.path { font-family: "DejaVu Sans Mono", "Liberation Mono", "Courier New", monospace;
        font-size: 8.3pt; }
.esc { font-family: "DejaVu Sans Mono", monospace; font-size: 7.5pt; color: var(--bad);
       background: var(--bad-bg); border: 1px solid #e7b4b4; border-radius: 2px;
       padding: 0 0.5mm; white-space: nowrap; }
table.hashes td:first-child { width: 14%; }
table.hashes td:last-child { width: 16%; }
table.hits td:first-child { width: 42%; }
table.hits td:nth-child(2) { width: 20%; }
table.custody td:first-child { width: 5%; }
table.custody td:nth-child(2) { width: 17%; }
table.custody td:nth-child(3) { width: 14%; }
table.custody td:nth-child(4) { width: 14%; }
.time { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 8pt; }
.missing { color: var(--muted); font-style: italic; }
.badge { display: inline-block; padding: 0.3mm 2mm; border-radius: 2mm; font-size: 8pt;
         font-weight: bold; border: 1px solid; }
.badge.ok { color: var(--ok); background: var(--ok-bg); border-color: #9fcfb0; }
.badge.bad { color: var(--bad); background: var(--bad-bg); border-color: #e7b4b4; }
.badge.warn { color: var(--warn); background: var(--warn-bg); border-color: #e8c884; }
.badge.info { color: var(--accent); background: #e6eef7; border-color: #a9c2de; }
.detail { color: var(--muted); font-size: 8pt; }
.detail b { color: var(--ink); font-weight: normal; }
pre { background: #f2f4f7; border: 1px solid var(--rule); border-left: 3px solid var(--accent);
      padding: 2mm 3mm; margin: 1mm 0 3mm 0; white-space: pre-wrap; overflow-wrap: anywhere;
      break-inside: avoid; page-break-inside: avoid; }
ol.steps { padding-left: 5mm; margin: 0; }
ol.steps li { margin: 0 0 2mm 0; break-inside: avoid; page-break-inside: avoid; }
.footer { margin: 8mm 14mm 0 14mm; padding-top: 2mm; border-top: 1px solid var(--rule);
          font-size: 8pt; color: var(--muted); }
@page { size: A4; margin: 16mm 12mm 16mm 12mm; }
@media print {
  html { background: #fff; font-size: 9.5pt; }
  .page { max-width: none; padding: 0; }
  .masthead, thead th, .badge, .esc, .summary .cell, tbody tr:nth-child(even) td, pre,
  .contents, table.kv th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  .masthead { padding: 6mm 8mm 5mm 8mm; }
  .summary { padding: 0; border-spacing: 2.5mm 0; margin-left: -2.5mm; width: calc(100% + 5mm); }
  .contents, .section, .footer { margin-left: 0; margin-right: 0; }
  .contents a { color: var(--ink); }
  .section.new-page { break-before: page; page-break-before: always; }
}
)css";

// Running header and footer on every printed page (CSS paged media margin boxes).
std::string page_boxes(const ReportInput& in) {
    std::string title = "Exhibit report";
    if (!in.case_info.case_reference.empty()) title += " - case " + in.case_info.case_reference;
    if (!in.case_info.exhibit_reference.empty())
        title += " - exhibit " + in.case_info.exhibit_reference;
    return "@page { @top-left { content: \"" + css_string(title) +
           "\"; font-family: \"DejaVu Sans\", Arial, sans-serif; font-size: 7.5pt; color: "
           "#5b6675; }\n"
           "  @top-right { content: \"" +
           css_string("Generated " + in.generated) +
           "\"; font-family: \"DejaVu Sans\", Arial, sans-serif; font-size: 7.5pt; color: "
           "#5b6675; }\n"
           "  @bottom-right { content: \"Page \" counter(page) \" of \" counter(pages); "
           "font-family: \"DejaVu Sans\", Arial, sans-serif; font-size: 7.5pt; color: #5b6675; }\n"
           "  @bottom-left { content: \"Exhibit " +
           css_string(in.exhibit_version) +
           "\"; font-family: \"DejaVu Sans\", Arial, sans-serif; font-size: 7.5pt; color: "
           "#5b6675; } }\n";
}

class Html {
  public:
    explicit Html(std::ostream& out) : out_(out) {}
    Html& operator<<(const std::string& s) {
        out_ << s;
        return *this;
    }
    Html& operator<<(const char* s) {
        out_ << s;
        return *this;
    }

    void section(const char* id, int number, const std::string& title, bool new_page = false) {
        out_ << "<div class=\"section" << (new_page ? " new-page" : "") << "\" id=\"" << id
             << "\" role=\"region\" aria-labelledby=\"h-" << id << "\">\n<h2 id=\"h-" << id << "\">"
             << number << ". " << h(title) << "</h2>\n";
    }
    void end_section() { out_ << "</div>\n"; }

    void kv_begin(const std::string& caption = "") {
        out_ << "<table class=\"kv\">";
        if (!caption.empty()) out_ << "<caption>" << h(caption) << "</caption>";
        out_ << "<tbody>\n";
    }
    // `value_html` is already escaped markup.
    void kv(const std::string& key, const std::string& value_html) {
        out_ << "<tr><th scope=\"row\">" << h(key) << "</th><td>" << value_html << "</td></tr>\n";
    }
    void kv_end() { out_ << "</tbody></table>\n"; }

    // A table with a header row; `num` marks right-aligned numeric columns.
    void table_begin(const std::vector<std::string>& headers, const std::set<std::size_t>& num = {},
                     const std::string& caption = "", const char* css_class = nullptr) {
        out_ << "<table" << (css_class ? std::string(" class=\"") + css_class + "\"" : "") << ">";
        if (!caption.empty()) out_ << "<caption>" << h(caption) << "</caption>";
        out_ << "<thead><tr>";
        for (std::size_t i = 0; i < headers.size(); ++i) {
            out_ << "<th scope=\"col\"" << (num.count(i) ? " class=\"num\"" : "") << ">"
                 << h(headers[i]) << "</th>";
        }
        out_ << "</tr></thead><tbody>\n";
        num_ = num;
    }
    // Cells are already escaped markup.
    void row(const std::vector<std::string>& cells) {
        out_ << "<tr>";
        for (std::size_t i = 0; i < cells.size(); ++i) {
            out_ << "<td" << (num_.count(i) ? " class=\"num\"" : "") << ">" << cells[i] << "</td>";
        }
        out_ << "</tr>\n";
    }
    void table_end() { out_ << "</tbody></table>\n"; }

    void para(const std::string& html) { out_ << "<p>" << html << "</p>\n"; }

  private:
    std::ostream& out_;
    std::set<std::size_t> num_;
};

// A JSON detail object as a compact "key: value" list; values that are not strings are
// shown as compact JSON. Truncated so one hostile hit cannot fill pages.
std::string detail_html(const std::string& detail_json, std::size_t limit = 600) {
    nlohmann::json j = nlohmann::json::parse(detail_json, nullptr, false);
    std::string text;
    if (j.is_discarded()) {
        text = detail_json;
    } else if (j.is_object()) {
        if (j.empty()) return "";
        std::string out;
        std::size_t used = 0;
        for (const auto& [key, value] : j.items()) {
            std::string v =
                value.is_string()
                    ? value.get<std::string>()
                    : value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
            if (used + key.size() + v.size() > limit) {
                v = v.substr(0, limit > used + key.size() ? limit - used - key.size() : 0) + " …";
            }
            used += key.size() + v.size();
            // Digests read better (and wrap) in the monospace face.
            const bool hex =
                v.size() >= 16 && v.find_first_not_of("0123456789abcdef") == std::string::npos;
            out += "<span class=\"detail\">" + h(key) + ": " +
                   (hex ? "<span class=\"mono\">" + h(v) + "</span>" : "<b>" + h(v) + "</b>") +
                   "</span><br/>";
            if (used >= limit) break;
        }
        return out;
    } else {
        text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
    if (text.size() > limit) text = text.substr(0, limit) + " …";
    return "<span class=\"detail\">" + h(text) + "</span>";
}

std::string partition_label(const std::optional<std::int64_t>& address) {
    return address ? std::to_string(*address) : std::string("—");
}

std::string hit_location(const HitRow& hit) {
    if (hit.file_id == 0) return "<span class=\"missing\">outside any file</span>";
    std::string where = "<span class=\"path\">/" + h(hit.path) + "</span>";
    if (hit.deleted) where += " " + badge("warn", "deleted");
    where += "<br/><span class=\"detail\">" + h(hit.file_system) + " at byte " +
             grouped(hit.fs_offset) + "</span>";
    return where;
}

std::string acquisition_status_badge(AcquisitionStatus s) {
    switch (s) {
        case AcquisitionStatus::Completed:
            return badge("ok", "completed");
        case AcquisitionStatus::CompletedWithErrors:
            return badge("warn", "completed with unreadable sectors");
        case AcquisitionStatus::VerificationFailed:
            return badge("bad", "verification failed");
        case AcquisitionStatus::Cancelled:
            return badge("bad", "cancelled");
        case AcquisitionStatus::Failed:
            return badge("bad", "failed");
    }
    return "";
}

std::string run_status_badge(const std::string& status) {
    if (status == "completed") return badge("ok", status);
    if (status == "running") return badge("warn", "interrupted (still marked running)");
    return badge("bad", status);
}

// YARA severities from the most to the least serious; others after, alphabetically.
int severity_rank(const std::string& s) {
    static const char* const order[] = {"critical", "high", "medium",
                                        "low",      "info", "informational"};
    std::string lower;
    for (char c : s)
        lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (int i = 0; i < 6; ++i) {
        if (lower == order[i]) return i;
    }
    return s.empty() ? 100 : 50;
}

void write_masthead(Html& o, const ReportInput& in) {
    const auto& c = in.case_info;
    o << "<div class=\"masthead\" role=\"banner\">\n<p class=\"kicker\">Exhibit · digital evidence "
         "report</p>\n<h1>";
    if (c.case_reference.empty() && c.exhibit_reference.empty()) {
        o << "Digital evidence report";
    } else {
        o << "Case " << or_missing(c.case_reference) << " · Exhibit "
          << or_missing(c.exhibit_reference);
    }
    o << "</h1>\n<p class=\"sub\">Generated " << h(in.generated) << " (UTC) by Exhibit "
      << h(in.exhibit_version) << ". Operator " << or_missing(c.operator_name);
    if (!c.operator_number.empty()) o << " (" << h(c.operator_number) << ")";
    o << ".</p>\n</div>\n";

    // Four headline facts.
    std::string protect_value = "not recorded", protect_note;
    std::string protect_kind = "warn";
    if (!in.write_block.method.empty()) {
        protect_value = "recorded";
        protect_kind = "info";
        if (in.write_block.counters) {
            auto n = in.write_block.counters->write_requests_during;
            protect_value = n == 0 ? "no writes reached the device"
                                   : std::to_string(n) + " write requests seen";
            protect_kind = n == 0 ? "ok" : "bad";
        } else if (in.source &&
                   (in.source->kind == SourceKind::Raw || in.source->kind == SourceKind::SplitRaw ||
                    in.source->kind == SourceKind::Ewf)) {
            protect_value = "image opened read-only";
        }
    }
    std::string acq_value = "no acquisition", acq_kind = "info";
    if (!in.acquisitions.empty()) {
        const auto& a = in.acquisitions.back();
        bool all_match = a.verified && !a.verification.empty() &&
                         std::all_of(a.verification.begin(), a.verification.end(),
                                     [](const HashCheck& k) { return k.match; });
        acq_value = to_string(a.status);
        acq_kind = a.status == AcquisitionStatus::Completed             ? "ok"
                   : a.status == AcquisitionStatus::CompletedWithErrors ? "warn"
                                                                        : "bad";
        if (all_match) acq_value += ", verified";
    }
    std::uint64_t entries = 0, hashed = 0;
    for (const auto& r : in.triage) {
        entries += r.run.files;
        hashed += r.run.files_hashed;
    }
    o << "<div class=\"summary\">\n";
    auto cell = [&](const char* label, const std::string& value, const std::string& note) {
        o << "<div class=\"cell\"><p class=\"label\">" << label << "</p><p class=\"value\">"
          << value << "</p>";
        if (!note.empty()) o << "<p class=\"note\">" << note << "</p>";
        o << "</div>\n";
    };
    cell("Write protection", badge(protect_kind, protect_value), protect_note);
    cell("Acquisition", badge(acq_kind, acq_value),
         in.acquisitions.empty()
             ? ""
             : "SHA-256 " + h(in.acquisitions.back().hashes.sha256.substr(0, 16)) + "…");
    cell("Triage", in.triage.empty() ? badge("info", "not run") : h(grouped(entries)) + " entries",
         in.triage.empty() ? "" : grouped(hashed) + " files hashed");
    cell("Hits", in.hits.empty() ? badge("ok", "none") : badge("bad", grouped(in.hits.size())),
         grouped(in.custody.size()) + " custody events");
    o << "</div>\n";
}

void write_contents(Html& o) {
    o << "<div class=\"contents\" role=\"navigation\" aria-label=\"Contents\"><p>Contents</p><ol>"
         "<li><a href=\"#case\">Case and exhibit</a></li>"
         "<li><a href=\"#operator\">Operator</a></li>"
         "<li><a href=\"#device\">Device identity</a></li>"
         "<li><a href=\"#write-block\">Write-block evidence</a></li>"
         "<li><a href=\"#acquisition\">Acquisition</a></li>"
         "<li><a href=\"#triage\">Triage by partition</a></li>"
         "<li><a href=\"#hits\">Hits</a></li>"
         "<li><a href=\"#custody\">Custody timeline</a></li>"
         "<li><a href=\"#verify\">Verifying this bundle</a></li>"
         "</ol></div>\n";
}

void write_case(Html& o, const ReportInput& in) {
    const auto& c = in.case_info;
    o.section("case", 1, "Case and exhibit");
    o.kv_begin();
    o.kv("Case reference", or_missing(c.case_reference));
    o.kv("Exhibit reference", or_missing(c.exhibit_reference));
    o.kv("Warrant / authority", or_missing(c.warrant_reference));
    o.kv("Location", or_missing(c.location));
    o.kv("Seized from", or_missing(c.seized_from));
    o.kv("Notes", or_missing(c.notes, Newlines::Break));
    o.kv_end();
    o.end_section();

    o.section("operator", 2, "Operator");
    o.kv_begin();
    o.kv("Name", or_missing(c.operator_name));
    o.kv("Collar / staff number", or_missing(c.operator_number));
    o.kv("Tool", "Exhibit " + h(in.exhibit_version));
    o.kv_end();
    o.end_section();
}

void write_device(Html& o, const ReportInput& in) {
    o.section("device", 3, "Device identity");
    if (!in.source) {
        o.para("<span class=\"missing\">No source was recorded.</span>");
        o.end_section();
        return;
    }
    const SourceInfo& s = *in.source;
    o.kv_begin();
    o.kv("Source", "<span class=\"path\">" + h(s.path) + "</span>");
    o.kv("Type", h(to_string(s.kind)));
    o.kv("Size", s.size ? h(bytes_text(s.size)) : or_missing(""));
    o.kv("Sector size", s.sector_size ? grouped(s.sector_size) + " bytes" : or_missing(""));
    if (s.device) {
        const auto& d = *s.device;
        o.kv("Vendor", or_missing(d.vendor));
        o.kv("Model", or_missing(d.model));
        o.kv("Serial number", d.serial.empty() ? or_missing("") : mono(d.serial));
        if (!d.bus.empty()) o.kv("Bus", h(d.bus));
        if (!d.usb_id.empty()) o.kv("USB vendor:product", mono(d.usb_id));
        if (!d.name.empty()) o.kv("Kernel name", mono(d.name));
        o.kv("Removable", d.removable ? "yes" : "no");
    }
    if (s.segments.size() > 1 || (s.segments.size() == 1 && s.segments[0] != s.path)) {
        std::string list;
        for (const auto& seg : s.segments)
            list += "<span class=\"path\">" + h(seg) + "</span><br/>";
        o.kv("Segments", list);
    }
    if (s.ewf) {
        o.kv("E01 format", or_missing(s.ewf->format));
        o.kv("E01 stored MD5", mono(s.ewf->stored_md5));
        o.kv("E01 stored SHA-1", mono(s.ewf->stored_sha1));
        for (const auto& [key, value] : s.ewf->header)
            o.kv("E01 " + key, or_missing(value));
    }
    o.kv_end();
    o.end_section();
}

void write_write_block(Html& o, const ReportInput& in) {
    const auto& w = in.write_block;
    o.section("write-block", 4, "Write-block evidence");
    o.kv_begin();
    o.kv("How the source was protected", or_missing(w.method));
    o.kv("State", or_missing(w.state));
    o.kv_end();
    if (w.counters) {
        const auto& c = *w.counters;
        o.para("The block layer's own counters for <span class=\"mono\">" + h(c.device) +
               "</span> (<span class=\"mono\">/sys/block/" + h(c.device) +
               "/stat</span>), read before the first read and after the last:");
        o.table_begin({"Counter", "Before", "After", "Difference"}, {1, 2, 3});
        o.row({"Write requests completed", grouped(c.writes_before), grouped(c.writes_after),
               grouped(c.writes_after - std::min(c.writes_after, c.writes_before))});
        o.row({"Sectors written", grouped(c.sectors_written_before),
               grouped(c.sectors_written_after),
               grouped(c.sectors_written_after -
                       std::min(c.sectors_written_after, c.sectors_written_before))});
        o.table_end();
        o.para(c.write_requests_during == 0
                   ? badge("ok", "No write, discard or flush request reached the device.")
                   : badge("bad", std::to_string(c.write_requests_during) +
                                      " write, discard or flush requests reached the device."));
    } else if (!w.filter) {
        o.para(
            "<span class=\"missing\">No block-layer write counters were recorded (they exist "
            "only for block devices).</span>");
    }
    if (w.filter) {
        const auto& f = *w.filter;
        o.para("The user-space write-block filter's own counts of the SCSI commands it saw:");
        o.table_begin({"Counter", "Count"}, {1});
        o.row({"Commands passed (read-class)", grouped(f.commands_passed)});
        o.row({"Commands refused", grouped(f.commands_refused)});
        for (const auto& [opcode, count] : f.refused_by_opcode) {
            char name[40];
            std::snprintf(name, sizeof name, "&#160;&#160;refused opcode 0x%02X", opcode);
            o.row({name, grouped(count)});
        }
        o.row({"Bulk-only transport resets", grouped(f.resets)});
        o.row({"Stalls cleared", grouped(f.stalls)});
        o.row({"Short reads", grouped(f.short_reads)});
        o.row({"Retries", grouped(f.retries)});
        o.table_end();
    }
    o.end_section();
}

void write_acquisition(Html& o, const ReportInput& in) {
    o.section("acquisition", 5, "Acquisition");
    if (in.acquisitions.empty()) {
        o.para("<span class=\"missing\">No image was made of this exhibit.</span>");
        o.end_section();
        return;
    }
    int n = 0;
    for (const auto& a : in.acquisitions) {
        if (in.acquisitions.size() > 1) o << "<h3>Acquisition " << std::to_string(++n) << "</h3>\n";
        o.kv_begin();
        o.kv("Outcome", acquisition_status_badge(a.status) + " " + h(a.summary));
        o.kv("Image format",
             h(to_string(a.format)) + (a.format == ImageFormat::Ewf
                                           ? ", compression " + h(to_string(a.compression))
                                           : std::string()));
        o.kv("Started", or_missing(a.started));
        o.kv("Finished", or_missing(a.finished));
        char secs[64];
        std::snprintf(secs, sizeof secs, "%.1f s reading, %.1f s verifying", a.seconds,
                      a.verify_seconds);
        o.kv("Duration", h(secs));
        o.kv("Bytes read", h(bytes_text(a.bytes_read)));
        std::string files;
        for (const auto& f : a.outputs)
            files += "<span class=\"path\">" + h(f.filename().string()) + "</span><br/>";
        o.kv("Image files", files.empty() ? or_missing("") : files);
        if (a.error) o.kv("Error", h(a.error->message));
        o.kv_end();

        o << "<h4>Hashes of the acquired media</h4>\n";
        auto verified_for = [&](HashAlgorithm alg) -> const HashCheck* {
            for (const auto& c : a.verification) {
                if (c.algorithm == alg) return &c;
            }
            return nullptr;
        };
        o.table_begin({"Algorithm", "Value", "Result"}, {}, "", "hashes");
        for (auto [alg, name, value] :
             {std::tuple{HashAlgorithm::Md5, "MD5", &a.hashes.md5},
              std::tuple{HashAlgorithm::Sha1, "SHA-1", &a.hashes.sha1},
              std::tuple{HashAlgorithm::Sha256, "SHA-256", &a.hashes.sha256}}) {
            const HashCheck* c = verified_for(alg);
            std::string result = !c ? badge("info", a.verified ? "not compared" : "not verified")
                                 : c->match ? badge("ok", "match")
                                            : badge("bad", "MISMATCH");
            std::string values = "<span class=\"detail\">acquired</span><br/>" + mono(*value);
            if (c) {
                values += "<br/><span class=\"detail\">read back from the image</span><br/>" +
                          mono(c->verified);
            }
            o.row({"<b>" + h(name) + "</b>", values, result});
        }
        o.table_end();

        o << "<h4>Unreadable ranges</h4>\n";
        if (a.unreadable.empty()) {
            o.para(badge("ok", "none") + " Every sector was read.");
        } else {
            const std::uint64_t sector = a.source.sector_size ? a.source.sector_size : 512;
            o.para(grouped(a.unreadable_sectors) +
                   " sectors could not be read; they are zero-filled in the image and listed "
                   "here exactly.");
            o.table_begin({"First byte", "Last byte", "First sector", "Sectors", "errno"},
                          {0, 1, 2, 3, 4});
            for (const auto& u : a.unreadable) {
                o.row({grouped(u.offset), grouped(u.offset + u.length - 1),
                       grouped(u.offset / sector), grouped((u.length + sector - 1) / sector),
                       std::to_string(u.sys_errno)});
            }
            o.table_end();
        }
    }
    o.end_section();
}

// The scan of unallocated space: each region with how much of it was scanned, then each
// hit with its absolute byte offset on the source (no file holds these bytes).
void write_unallocated(Html& o, const ReportTriageRun& t) {
    if (t.unallocated.empty()) return;
    o.table_begin({"Region", "Start (byte)", "Unallocated", "Scanned", "Hits", "Complete"},
                  {1, 2, 3, 4}, "Unallocated space scanned with the rules and keywords");
    for (const auto& r : t.unallocated) {
        o.row({h(r.name), grouped(r.offset), h(human_size(r.unallocated_bytes)),
               h(human_size(r.scanned_bytes)), grouped(r.hits),
               r.complete ? std::string("yes")
                          : "<span class=\"missing\">no</span>" +
                                (r.message.empty()
                                     ? std::string()
                                     : "<br/><span class=\"detail\">" + h(r.message) + "</span>")});
    }
    o.table_end();
    if (t.unallocated_hits.empty()) {
        o.para("<span class=\"missing\">Nothing matched in unallocated space.</span>");
        return;
    }
    o.table_begin({"Region", "Offset (byte)", "Rule or keyword", "Why"}, {1},
                  "Hits in unallocated space", "hits");
    for (const auto& u : t.unallocated_hits) {
        std::string name = h(u.hit.name) + "<br/><span class=\"detail\">" + h(u.hit.kind);
        if (u.hit.kind == "yara" && !u.hit.category.empty())
            name += ", namespace " + h(u.hit.category);
        name += "</span>";
        o.row({h(u.region), grouped(u.offset), name, detail_html(u.hit.detail)});
    }
    o.table_end();
}

void write_triage(Html& o, const ReportInput& in) {
    o.section("triage", 6, "Triage summary by partition");
    if (in.triage.empty()) {
        o.para("<span class=\"missing\">No triage was run.</span>");
        o.end_section();
        return;
    }
    for (const auto& t : in.triage) {
        o << "<h3>Triage run " << std::to_string(t.run.id) << "</h3>\n";
        o.kv_begin();
        o.kv("Status", run_status_badge(t.run.status) +
                           (t.run.stopped_at.empty() ? std::string() : " " + h(t.run.stopped_at)));
        o.kv("Source", "<span class=\"path\">" + h(t.source.path) + "</span> (" + h(t.source.kind) +
                           ", " + h(bytes_text(t.source.size)) + ")");
        o.kv("Started", or_missing(t.run.started));
        o.kv("Finished", or_missing(t.run.finished));
        o.kv("Entries", grouped(t.run.files) + " (" + grouped(t.run.files_hashed) +
                            " files read and hashed, " + h(bytes_text(t.run.bytes_read)) + ")");
        o.kv_end();
        o.table_begin({"Slot", "Start (byte)", "Length", "Description", "File system", "Entries",
                       "Deleted", "Hashed", "Hits"},
                      {0, 1, 2, 5, 6, 7, 8}, "Partitions and file systems");
        for (const auto& p : t.partitions) {
            std::string fs = p.file_system.empty() ? std::string("<span class=\"missing\">—</span>")
                                                   : h(p.file_system);
            if (!p.file_system.empty() && p.block_size) {
                fs += "<br/><span class=\"detail\">" + grouped(p.block_count) + " × " +
                      grouped(p.block_size) + " B blocks</span>";
            }
            bool has_fs = !p.file_system.empty();
            o.row({partition_label(p.volume_address), grouped(p.offset), h(human_size(p.length)),
                   h(p.description) + (p.allocated ? ""
                                                   : " <span class=\"detail\">(not a "
                                                     "partition)</span>"),
                   fs, has_fs ? grouped(p.entries) : "", has_fs ? grouped(p.deleted) : "",
                   has_fs ? grouped(p.hashed) : "", has_fs ? grouped(p.hits) : ""});
        }
        o.table_end();
        write_unallocated(o, t);
        if (!t.errors.empty()) {
            o.table_begin({"Slot", "Start (byte)", "Problem"}, {0, 1},
                          "Problems that did not stop the run");
            for (const auto& e : t.errors) {
                o.row({e.error.volume >= 0 ? std::to_string(e.error.volume) : "—",
                       grouped(e.error.offset), h(e.error.message)});
            }
            o.table_end();
        }
    }
    o.end_section();
}

void hit_table(Html& o, const std::vector<const HitRow*>& hits, const std::string& name_header) {
    o.table_begin({"File", name_header, "Why"}, {}, "", "hits");
    for (const HitRow* hit : hits) {
        std::string name = h(hit->hit.name);
        if (hit->hit.kind == "hashset" && !hit->hit.severity.empty()) {
            name += "<br/>" +
                    badge(hit->hit.severity == "known-bad" ? "bad" : "warn", hit->hit.severity);
        }
        if (hit->hit.kind == "yara" && !hit->hit.category.empty()) {
            name += "<br/><span class=\"detail\">namespace " + h(hit->hit.category) + "</span>";
        }
        std::string why = detail_html(hit->hit.detail);
        if (!hit->sha256.empty()) {
            why += "<span class=\"detail\">file SHA-256: </span><span class=\"mono\">" +
                   h(hit->sha256) + "</span>";
        }
        o.row({hit_location(*hit), name, why});
    }
    o.table_end();
}

void write_hits(Html& o, const ReportInput& in) {
    o.section("hits", 7, "Hits");
    std::map<std::string, std::vector<const HitRow*>> by_category;                  // hash sets
    std::map<std::pair<int, std::string>, std::vector<const HitRow*>> by_severity;  // YARA
    std::map<std::string, std::vector<const HitRow*>> by_keyword;
    std::set<std::string> bad_categories;
    std::size_t other = 0;
    for (const auto& hit : in.hits) {
        if (hit.hit.kind == "hashset") {
            by_category[hit.hit.category].push_back(&hit);
            if (hit.hit.severity == "known-bad") bad_categories.insert(hit.hit.category);
        } else if (hit.hit.kind == "yara") {
            by_severity[{severity_rank(hit.hit.severity), hit.hit.severity}].push_back(&hit);
        } else if (hit.hit.kind == "keyword") {
            by_keyword[hit.hit.name].push_back(&hit);
        } else {
            ++other;
        }
    }
    std::size_t hashset_hits = 0, yara_hits = 0, keyword_hits = 0;
    for (const auto& [k, v] : by_category)
        hashset_hits += v.size();
    for (const auto& [k, v] : by_severity)
        yara_hits += v.size();
    for (const auto& [k, v] : by_keyword)
        keyword_hits += v.size();
    o.table_begin({"Kind", "Hits", "Groups"}, {1}, "Summary");
    o.row({"Hash sets", grouped(hashset_hits), grouped(by_category.size()) + " categories"});
    o.row({"YARA rules", grouped(yara_hits), grouped(by_severity.size()) + " severities"});
    o.row({"Keywords", grouped(keyword_hits), grouped(by_keyword.size()) + " keywords"});
    o.table_end();
    if (other) o.para(grouped(other) + " hits of other kinds are in the case database.");

    o << "<h3>Hash sets, by category</h3>\n";
    if (by_category.empty()) o.para("<span class=\"missing\">No file matched a hash set.</span>");
    // Categories with known-bad matches first.
    std::vector<std::string> categories;
    for (const auto& [k, v] : by_category)
        categories.push_back(k);
    std::stable_partition(categories.begin(), categories.end(),
                          [&](const std::string& c) { return bad_categories.count(c) > 0; });
    for (const auto& cat : categories) {
        const auto& list = by_category[cat];
        o << "<h4>" << (cat.empty() ? std::string("(no category)") : h(cat)) << " — "
          << grouped(list.size()) << (list.size() == 1 ? " file" : " files") << "</h4>\n";
        hit_table(o, list, "Hash set");
    }

    o << "<h3>YARA rules, by severity</h3>\n";
    if (by_severity.empty()) o.para("<span class=\"missing\">No YARA rule matched.</span>");
    for (const auto& [key, list] : by_severity) {
        o << "<h4>Severity: " << (key.second.empty() ? std::string("(none given)") : h(key.second))
          << " — " << grouped(list.size()) << (list.size() == 1 ? " match" : " matches")
          << "</h4>\n";
        hit_table(o, list, "Rule");
    }

    o << "<h3>Keywords</h3>\n";
    if (by_keyword.empty()) o.para("<span class=\"missing\">No case keyword was found.</span>");
    for (const auto& [keyword, list] : by_keyword) {
        o << "<h4>“" << h(keyword) << "” — " << grouped(list.size())
          << (list.size() == 1 ? " file" : " files") << "</h4>\n";
        hit_table(o, list, "Keyword");
    }
    o.end_section();
}

void write_custody(Html& o, const ReportInput& in) {
    o.section("custody", 8, "Custody timeline");
    if (in.custody.empty()) {
        o.para("<span class=\"missing\">No custody events were recorded.</span>");
        o.end_section();
        return;
    }
    o.para(
        "Every action is a line of <code>data/custody.jsonl</code>; each line "
        "carries the SHA-256 of the line before it, so removing, editing or reordering any "
        "line breaks the chain.");
    o.table_begin({"#", "Time (UTC)", "Operator", "Action", "Details"}, {0}, "", "custody");
    for (const auto& e : in.custody) {
        std::string time = e.time;
        if (auto t = time.find('T'); t != std::string::npos) time[t] = ' ';
        o.row({std::to_string(e.seq), "<span class=\"time\">" + h(time) + "</span>",
               h(e.operator_name), "<b>" + h(e.action) + "</b>",
               detail_html(e.detail_json, 900) +
                   "<span class=\"detail\">line SHA-256: </span><span class=\"mono\">" +
                   h(e.line_sha256) + "</span>"});
    }
    o.table_end();
    std::string head = in.chain_head.empty() ? in.custody.back().line_sha256 : in.chain_head;
    o.para("Chain head (SHA-256 of the last line): <span class=\"mono\">" + h(head) + "</span>");
    o.end_section();
}

void write_verification(Html& o, const ReportInput& in) {
    o.section("verify", 9, "Verifying this bundle without Exhibit");
    o.para(
        "The bundle is a BagIt 1.0 bag (RFC 8493). From its top directory, with nothing but "
        "GNU coreutils, bash and OpenSSL 3:");
    o << "<ol class=\"steps\">\n";
    for (const auto& step : in.verification) {
        o << "<li><p>" << h(step.explanation) << "</p><pre>"
          << html_text(step.command, Newlines::Keep) << "</pre></li>\n";
    }
    o << "</ol>\n";
    o.para(
        "<code>exhibit verify BUNDLE</code> makes all of these checks in one "
        "command and names the file or log line at fault.");
    o.end_section();
}

}  // namespace

Status write_report_html(const ReportInput& input, std::ostream& out) {
    ReportInput in = input;  // defaults filled on a copy; the caller's input stays as given
    if (in.exhibit_version.empty()) in.exhibit_version = exhibit_version();
    if (in.generated.empty()) in.generated = utc_timestamp();
    Html o(out);
    std::string title = "Exhibit report";
    if (!in.case_info.case_reference.empty()) title += " — case " + in.case_info.case_reference;
    if (!in.case_info.exhibit_reference.empty())
        title += ", exhibit " + in.case_info.exhibit_reference;
    o << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
         "<meta charset=\"utf-8\"/>\n"
         "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n"
         "<meta name=\"generator\" content=\"Exhibit "
      << h(in.exhibit_version) << "\"/>\n<title>" << h(title) << "</title>\n<style>" << kStyle
      << page_boxes(in) << "</style>\n</head>\n<body>\n<div class=\"page\">\n";
    write_masthead(o, in);
    write_contents(o);
    o << "<div role=\"main\">\n";
    write_case(o, in);
    write_device(o, in);
    write_write_block(o, in);
    write_acquisition(o, in);
    write_triage(o, in);
    write_hits(o, in);
    write_custody(o, in);
    write_verification(o, in);
    o << "</div>\n<div class=\"footer\" role=\"contentinfo\">End of report. Generated "
      << h(in.generated) << " by Exhibit " << h(in.exhibit_version)
      << ". This file is part of the sealed bundle; its SHA-256 is in "
         "<code>manifest-sha256.txt</code>.</div>\n</div>\n</body>\n</html>\n";
    out.flush();
    if (!out) return make_error(ErrorKind::Io, "cannot write the HTML report");
    return ok();
}

}  // namespace exhibit
