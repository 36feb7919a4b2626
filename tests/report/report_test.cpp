// The examiner's report (report.html) and the CASE/UCO export (case.jsonld), from a
// triaged sample device: structure, self-containment, hostile names, hashes against the
// sample's truth manifest, and the custody-chain command the report prints.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "exhibit/hashing.hpp"
#include "exhibit/report.hpp"
#include "test_support.hpp"

using namespace exhibit;
using namespace exhibit::test;
using nlohmann::json;

namespace {

// A name no file system should hand us, but a hostile one can: markup, quotes, an
// ampersand, bytes that are not UTF-8, a right-to-left override and a newline.
const std::string kHostileName = std::string("<script>alert(\"x\")</script>'&amp;\xFF\x80\xC3(") +
                                 "\xE2\x80\xAE" + "gpj.exe\nnext";

void sql(sqlite3* db, const std::string& text) {
    char* message = nullptr;
    int rc = sqlite3_exec(db, text.c_str(), nullptr, nullptr, &message);
    INFO((message ? message : ""));
    sqlite3_free(message);
    REQUIRE(rc == SQLITE_OK);
}

// A triaged sample device in a temporary case database, with a few hits added the way
// the matching scanners record them and one file renamed to kHostileName.
struct TriagedSample {
    TempDir dir;
    fs::path db_path;
    std::unique_ptr<CaseDatabase> db;
    TriageRun run;
    std::int64_t hostile_id = 0;
    std::string hostile_original;  // its real path, which the truth manifest lists

    TriagedSample() : db_path(dir / "case.sqlite") {
        SourceSeal seal({sample_image()});
        auto src = open_ok(sample_image());
        auto opened = CaseDatabase::open(db_path);
        REQUIRE(opened);
        db = std::move(*opened);
        JobProgress progress;
        std::atomic<bool> cancel{false};
        auto r = triage_source(*src, *db, {}, progress, cancel);
        REQUIRE(r);
        REQUIRE(r->status == "completed");
        run = *r;
        src.reset();
        CHECK(seal.unchanged());

        auto files = db->files({});
        REQUIRE(files);
        std::map<std::string, std::int64_t> id_of;
        for (const auto& f : *files)
            id_of[f.file_system + ":/" + f.entry.path] = f.id;
        const auto archive = id_of.at("fat32:/Users/alice/Documents/projects/bluebird/archive.bin");
        const auto jpeg = id_of.at("fat32:/Users/alice/Pictures/holiday_001.jpg");
        const auto plan = id_of.at("fat32:/Users/alice/Documents/projects/bluebird/plan.txt");
        const auto notes = id_of.at("fat32:/Users/alice/Documents/notes.txt");
        hostile_id = notes;
        hostile_original = "/Users/alice/Documents/notes.txt";

        sqlite3* raw = nullptr;
        REQUIRE(sqlite3_open(db_path.c_str(), &raw) == SQLITE_OK);
        auto id = [](std::int64_t v) { return std::to_string(v); };
        sql(raw,
            "INSERT INTO hits (run_id, file_id, kind, name, category, severity, detail) VALUES "
            "(1," +
                id(archive) +
                ",'hashset','demo-malware','malware','known-bad',"
                "'{\"sha256\":\"feed\",\"set_sha256\":\"beef\"}'),"
                "(1," +
                id(jpeg) +
                ",'hashset','watch-images','indecent-images','watch','{}'),"
                "(1," +
                id(plan) +
                ",'yara','CardNumbers','finance','high',"
                "'{\"strings\":[{\"id\":\"$pan\",\"offset\":12}]}'),"
                "(1," +
                id(plan) +
                ",'yara','Odd<b>rule</b>','default','low','{}'),"
                "(1," +
                id(plan) +
                ",'keyword','bluebird',NULL,NULL,'{\"offsets\":[3]}'),"
                "(1," +
                id(notes) +
                ",'keyword','bluebird',NULL,NULL,'{\"offsets\":[9]}'),"
                "(1,NULL,'keyword','unallocated-word',NULL,NULL,'{}')");
        sqlite3_stmt* s = nullptr;
        REQUIRE(sqlite3_prepare_v2(raw, "UPDATE files SET path = ?, name = ? WHERE id = ?", -1, &s,
                                   nullptr) == SQLITE_OK);
        const std::string path = "Users/alice/Documents/" + kHostileName;
        sqlite3_bind_text(s, 1, path.data(), static_cast<int>(path.size()), SQLITE_TRANSIENT);
        sqlite3_bind_text(s, 2, kHostileName.data(), static_cast<int>(kHostileName.size()),
                          SQLITE_TRANSIENT);
        sqlite3_bind_int64(s, 3, hostile_id);
        REQUIRE(sqlite3_step(s) == SQLITE_DONE);
        sqlite3_finalize(s);
        sqlite3_close(raw);
    }
};

// A report's worth of input with no database behind it: a protected USB stick, one
// acquisition, one triage run with partitions and hits, and a custody log.
ReportInput synthetic_input() {
    ReportInput in;
    in.case_info = {"OP-BLUEBIRD", "JD/1",     "W/2026/0113",  "DC Jane Doe",
                    "4521",        "Hightown", "Bedroom desk", "Bagged and sealed."};
    SourceInfo s;
    s.kind = SourceKind::BlockDevice;
    s.path = "/dev/sdz";
    s.size = 221249536;
    s.device = DeviceIdentity{
        "sdz", "usb", "Kingston", "DataTraveler 3.0", "60A44C413A8F", "0951:1666", true, true, ""};
    in.source = s;
    AcquisitionResult a;
    a.status = AcquisitionStatus::Completed;
    a.source = s;
    a.hashes = {std::string(32, 'a'), std::string(40, 'b'), std::string(64, 'c')};
    a.verified = true;
    a.device_writes = DeviceWriteCheck{"sdz", 10, 10, 80, 80, 0};
    in.acquisitions.push_back(a);
    in.write_block = describe_write_block(s, a.device_writes);
    ReportTriageRun run;
    run.run.id = 1;
    run.run.status = "completed";
    run.run.files = 99;
    for (int i = 0; i < 4; ++i) {
        PartitionSummary p;
        p.volume_address = i + 2;
        p.offset = static_cast<std::uint64_t>(i) << 26;
        p.length = 1u << 26;
        p.file_system = i % 2 ? "ext4" : "fat32";
        p.entries = 25;
        run.partitions.push_back(p);
    }
    in.triage.push_back(run);
    for (int i = 0; i < 30; ++i) {
        HitRow h;
        h.id = i + 1;
        h.file_id = i + 1;
        h.hit = {i % 3 == 0   ? "hashset"
                 : i % 3 == 1 ? "yara"
                              : "keyword",
                 "rule " + std::to_string(i), "category " + std::to_string(i % 4),
                 i % 2 ? "high" : "known-bad", "{}"};
        h.path = "Users/alice/Documents/file " + std::to_string(i) + ".txt";
        h.file_system = "fat32";
        in.hits.push_back(h);
    }
    for (std::uint64_t i = 1; i <= 12; ++i)
        in.custody.push_back({i, "2026-11-22T09:00:00.000Z", "DC Jane Doe", "note added",
                              "{\"text\":\"event\"}", std::string(64, 'd')});
    return in;
}

ReportInput sample_input(const TriagedSample& t) {
    ReportInput in;
    in.case_info = {"OP-BLUEBIRD",
                    "JD/1",
                    "W/2026/0113",
                    "DC Jane Doe",
                    "4521",
                    "Hightown digital hub",
                    "Bedroom desk </td></tr></table> 12 Acacia Avenue",
                    "Bagged & sealed (seal 0041).\nPhotographed in situ."};
    in.generated = "2026-11-22T09:00:00.000Z";
    auto status = fill_from_case_database(*t.db, in);
    INFO((status ? "" : status.error().message));
    REQUIRE(status);
    // An acquisition with a bad range and a mismatch, to exercise every branch of its
    // section (acquire() itself is tested in acquire_test; read_acquisition_record below).
    AcquisitionResult a;
    a.status = AcquisitionStatus::CompletedWithErrors;
    a.summary = "211.0 MiB acquired to e01, completed with 8 unreadable sectors";
    a.source = *in.source;
    a.hashes = {"6e09e9fc24bc0d87e0642581f16ecbcd", "f7308622f32a34c20278cc349cf23f673e1d1eed",
                "f9bd0342aee42bd04b66a59d3eb1af5ffc03f1ec623b826f904a5de72e2ebc2f"};
    a.unreadable = {{4096, 4096, 5}};
    a.unreadable_sectors = 8;
    a.verified = true;
    a.verification = {{HashAlgorithm::Md5, a.hashes.md5, a.hashes.md5, true},
                      {HashAlgorithm::Sha256, a.hashes.sha256, std::string(64, '0'), false}};
    a.device_writes = DeviceWriteCheck{"sdz", 10, 10, 80, 80, 0};
    a.outputs = {"/out/image.E01", "/out/image.acquisition.json"};
    a.started = "2026-11-22T09:10:00.000Z";
    a.finished = "2026-11-22T09:11:00.000Z";
    in.acquisitions.push_back(a);
    in.write_block = describe_write_block(*in.source, a.device_writes);
    in.custody = {{1, "2026-11-22T09:00:01.000Z", "DC Jane Doe", "case opened",
                   R"({"case":"OP-BLUEBIRD","clock":"NTP"})", std::string(64, 'a')},
                  {2, "2026-11-22T09:00:02.000Z", "DC Jane Doe", "note added",
                   json({{"text", "<img src=x onerror=alert(1)>"}}).dump(), std::string(64, 'b')}};
    return in;
}

std::string html_of(const ReportInput& in) {
    std::ostringstream out;
    auto s = write_report_html(in, out);
    REQUIRE(s);
    return out.str();
}

json jsonld_of(const ReportInput& in, std::string* text = nullptr) {
    std::ostringstream out;
    auto s = write_case_jsonld(in, out);
    REQUIRE(s);
    if (text) *text = out.str();
    json j = json::parse(out.str(), nullptr, false);
    REQUIRE_FALSE(j.is_discarded());
    return j;
}

fs::path write_text(const fs::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
    return path;
}

bool has_type(const json& node, const std::string& type) {
    const auto& t = node["@type"];
    return t.is_string() ? t == type : std::find(t.begin(), t.end(), type) != t.end();
}

// The facet of `type` on a node, or null.
const json* facet(const json& node, const std::string& type) {
    if (!node.contains("uco-core:hasFacet")) return nullptr;
    for (const auto& f : node["uco-core:hasFacet"]) {
        if (has_type(f, type)) return &f;
    }
    return nullptr;
}

const std::vector<std::string> kSections = {"case",        "operator",    "device",
                                            "write-block", "acquisition", "triage",
                                            "hits",        "custody",     "verify"};

// report.html: every section, self-contained, well-formed, hostile names escaped.
void check_html(const TriagedSample& t, const ReportInput& in) {
    const std::string html = html_of(in);
    TempDir dir;
    const auto file = write_text(dir / "report.html", html);

    // Well-formed for both an HTML parser and an XML parser, and valid UTF-8 throughout.
    auto as_html = run("xmllint --html --noout " + sh_quote(file.string()), true);
    INFO(as_html.out);
    CHECK(as_html.exit_code == 0);
    CHECK(as_html.out.empty());
    auto as_xml = run("xmllint --noout " + sh_quote(file.string()), true);
    INFO(as_xml.out);
    CHECK(as_xml.exit_code == 0);
    CHECK(run("iconv -f UTF-8 -t UTF-8 " + sh_quote(file.string()) + " > /dev/null").exit_code ==
          0);

    for (const auto& id : kSections) {
        INFO(id);
        CHECK_THAT(html, Catch::Contains("id=\"" + id + "\" role=\"region\""));
    }
    for (const char* heading :
         {"Case and exhibit", "Operator", "Device identity", "Write-block evidence", "Acquisition",
          "Triage summary by partition", "Hits", "Custody timeline", "Verifying this bundle"}) {
        CHECK_THAT(html, Catch::Contains(heading));
    }

    // Nothing outside the file: no scripts, no external resources, only in-page links. All
    // "<" in text is escaped, so every "<...>" left is markup this module wrote.
    std::regex tag("<[a-zA-Z][^>]*>");
    for (auto it = std::sregex_iterator(html.begin(), html.end(), tag);
         it != std::sregex_iterator(); ++it) {
        std::string markup = it->str();
        std::transform(markup.begin(), markup.end(), markup.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        INFO(markup);
        for (const char* banned : {"<script", "<link", "<img", "<iframe", "<object", "<embed",
                                   "<base", " src=", "url(", "http:", "https:"}) {
            CHECK(markup.find(banned) == std::string::npos);
        }
    }
    const auto style_begin = html.find("<style>"), style_end = html.find("</style>");
    REQUIRE(style_end != std::string::npos);
    CHECK(html.find("<style>", style_begin + 1) == std::string::npos);
    const std::string style = html.substr(style_begin, style_end - style_begin);
    CHECK(style.find("url(") == std::string::npos);
    CHECK(style.find("@import") == std::string::npos);
    std::regex href("href=\"([^\"]*)\"");
    int links = 0;
    for (auto it = std::sregex_iterator(html.begin(), html.end(), href);
         it != std::sregex_iterator(); ++it) {
        CHECK((*it)[1].str().rfind('#', 0) == 0);
        ++links;
    }
    CHECK(links == static_cast<int>(kSections.size()));

    // Case, device, acquisition and triage facts.
    CHECK_THAT(html, Catch::Contains("OP-BLUEBIRD"));
    CHECK_THAT(html, Catch::Contains("W/2026/0113"));
    CHECK_THAT(html, Catch::Contains("4521"));
    CHECK_THAT(html, Catch::Contains("Bagged &amp; sealed (seal 0041).<br/>Photographed"));
    CHECK_THAT(html, Catch::Contains("Bedroom desk &lt;/td&gt;&lt;/tr&gt;&lt;/table&gt; 12"));
    CHECK_THAT(html, Catch::Contains(sample_image().filename().string()));
    CHECK_THAT(html, Catch::Contains("221,249,536 bytes") ||
                         Catch::Contains(std::to_string(in.source->size)));
    CHECK_THAT(html, Catch::Contains(in.acquisitions[0].hashes.sha256));
    CHECK_THAT(html, Catch::Contains("MISMATCH"));
    CHECK_THAT(html, Catch::Contains("<td class=\"num\">4,096</td><td class=\"num\">8,191</td>"));
    CHECK_THAT(html, Catch::Contains("No write, discard or flush request reached the device."));
    for (const char* fs_type : {"fat32", "ext4", "ntfs", "fat16"})
        CHECK_THAT(html, Catch::Contains(std::string(">") + fs_type + "<"));
    std::uint64_t entries = 0;
    for (const auto& p : in.triage.at(0).partitions)
        entries += p.entries;
    CHECK(entries == t.run.files);

    // Hits grouped: hash sets by category (known-bad first), YARA by severity, keywords.
    const auto malware = html.find("<h4>malware");
    const auto images = html.find("<h4>indecent-images");
    REQUIRE(malware != std::string::npos);
    REQUIRE(images != std::string::npos);
    CHECK(malware < images);
    const auto high = html.find("<h4>Severity: high");
    const auto low = html.find("<h4>Severity: low");
    REQUIRE(high != std::string::npos);
    REQUIRE(low != std::string::npos);
    CHECK(high < low);
    CHECK_THAT(html, Catch::Contains("“bluebird” — 2 files"));
    CHECK_THAT(html, Catch::Contains("/Users/alice/Documents/projects/bluebird/archive.bin"));
    CHECK_THAT(html, Catch::Contains("outside any file"));
    CHECK_THAT(html, Catch::Contains("Odd&lt;b&gt;rule&lt;/b&gt;"));

    // The hostile name: escaped, its invalid bytes and invisible characters made visible.
    CHECK(html.find("<script>alert") == std::string::npos);
    CHECK_THAT(html,
               Catch::Contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&amp;amp;"
                               "<span class=\"esc\">\\xFF</span><span class=\"esc\">\\x80"
                               "</span><span class=\"esc\">\\xC3</span>(<span "
                               "class=\"esc\">U+202E</span>gpj.exe<span "
                               "class=\"esc\">U+000A</span>next"));
    CHECK(html.find("\xE2\x80\xAE") == std::string::npos);
    CHECK(html.find("<img") == std::string::npos);

    // Custody timeline and the verification commands.
    CHECK_THAT(html, Catch::Contains(std::string(64, 'b')));
    CHECK_THAT(html, Catch::Contains("case opened"));
    CHECK_THAT(html, Catch::Contains("sha256sum -c manifest-sha256.txt"));
    CHECK_THAT(html, Catch::Contains("openssl pkeyutl -verify -rawin"));
}

// case.jsonld: CASE/UCO context, actions, and every hashed file with its hashes.
void check_jsonld(const TriagedSample& t, const ReportInput& in) {
    std::string text;
    const json doc = jsonld_of(in, &text);

    const json& ctx = doc.at("@context");
    CHECK(ctx.at("case-investigation") == "https://ontology.caseontology.org/case/investigation/");
    CHECK(ctx.at("uco-core") == "https://ontology.unifiedcyberontology.org/uco/core/");
    CHECK(ctx.at("uco-observable") == "https://ontology.unifiedcyberontology.org/uco/observable/");
    CHECK(ctx.at("uco-types") == "https://ontology.unifiedcyberontology.org/uco/types/");
    CHECK(ctx.at("uco-action") == "https://ontology.unifiedcyberontology.org/uco/action/");
    CHECK(ctx.at("xsd") == "http://www.w3.org/2001/XMLSchema#");

    std::map<std::string, const json*> by_id;
    for (const auto& node : doc.at("@graph"))
        by_id[node.at("@id").get<std::string>()] = &node;
    CHECK(by_id.size() == doc.at("@graph").size());  // every top-level node has its own IRI

    // Actions: performer, instrument (Exhibit and its version), times, objects, results.
    std::set<std::string> action_names;
    for (const auto& node : doc["@graph"]) {
        if (!has_type(node, "case-investigation:InvestigativeAction")) continue;
        const std::string name = node.at("uco-core:name");
        action_names.insert(name);
        const json& performer = *by_id.at(node.at("uco-action:performer").at("@id"));
        CHECK(has_type(performer, "uco-identity:Person"));
        CHECK(performer.at("uco-core:name") == "DC Jane Doe");
        const json& tool = *by_id.at(node.at("uco-action:instrument").at(0).at("@id"));
        CHECK(tool.at("uco-core:name") == "Exhibit");
        CHECK(tool.at("uco-tool:version") == exhibit_version());
        CHECK(node.at("uco-action:object").size() == 1);
        if (name == "triage" || name == "acquisition") {
            CHECK(node.at("uco-action:startTime").at("@type") == "xsd:dateTime");
            CHECK(node.at("uco-action:endTime").at("@type") == "xsd:dateTime");
            bool has_record = false;
            for (const auto& r : node.at("uco-action:result")) {
                has_record = has_record || has_type(*by_id.at(r.at("@id")),
                                                    "case-investigation:ProvenanceRecord");
            }
            CHECK(has_record);
        }
    }
    CHECK(action_names == std::set<std::string>{"write-block check", "acquisition", "triage"});

    // The device with its identity and the acquired media hashes.
    int devices = 0;
    for (const auto& node : doc["@graph"]) {
        if (!has_type(node, "uco-observable:Device")) continue;
        ++devices;
        CHECK(node.at("uco-core:name") == "JD/1");
        const json* content = facet(node, "uco-observable:ContentDataFacet");
        REQUIRE(content);
        CHECK(content->at("uco-observable:sizeInBytes").at("@value") ==
              std::to_string(in.source->size));
        CHECK(content->at("uco-observable:hash").size() == 3);
    }
    CHECK(devices == 1);

    // Every file observable: hashed ones carry MD5, SHA-1 and SHA-256 equal to the sample
    // device's truth manifest; their number equals the files the triage run hashed.
    std::map<std::string, std::map<std::string, std::string>> hashes_of;  // "fs:/path" ->
    std::size_t file_nodes = 0, hashed_nodes = 0;
    for (const auto& node : doc["@graph"]) {
        if (!has_type(node, "uco-observable:File")) continue;
        ++file_nodes;
        const json* ff = facet(node, "uco-observable:FileFacet");
        REQUIRE(ff);
        CHECK(ff->at("uco-observable:sizeInBytes").at("@type") == "xsd:integer");
        const json* content = facet(node, "uco-observable:ContentDataFacet");
        if (!content) continue;
        ++hashed_nodes;
        auto& h = hashes_of[ff->at("uco-observable:fileSystemType").get<std::string>() + ":" +
                            ff->at("uco-observable:filePath").get<std::string>()];
        for (const auto& hash : content->at("uco-observable:hash")) {
            CHECK(hash.at("@type") == "uco-types:Hash");
            CHECK(hash.at("uco-types:hashValue").at("@type") == "xsd:hexBinary");
            h[hash.at("uco-types:hashMethod")] = hash.at("uco-types:hashValue").at("@value");
        }
        CHECK(h.size() == 3);
    }
    CHECK(file_nodes == t.run.files);
    CHECK(hashed_nodes == t.run.files_hashed);
    int compared = 0;
    for (const auto& truth : sample_truth()) {
        if (truth.deleted || truth.path == t.hostile_original) continue;
        INFO(truth.fs << ":" << truth.path);
        auto it = hashes_of.find(truth.fs + ":" + truth.path);
        REQUIRE(it != hashes_of.end());
        CHECK(it->second["MD5"] == truth.md5);
        CHECK(it->second["SHA1"] == truth.sha1);
        CHECK(it->second["SHA256"] == truth.sha256);
        ++compared;
    }
    CHECK(compared > 20);

    // Hits become annotations on their files (the one outside any file has no observable).
    int annotations = 0;
    for (const auto& node : doc["@graph"]) {
        if (!has_type(node, "uco-core:Annotation")) continue;
        ++annotations;
        CHECK(
            has_type(*by_id.at(node.at("uco-core:object").at(0).at("@id")), "uco-observable:File"));
    }
    CHECK(annotations == 6);

    // The same input gives the same document.
    std::string again;
    (void)jsonld_of(in, &again);
    CHECK(again == text);

    // An RDF library reads it as JSON-LD with the same facts, where one is installed
    // (Debian: python3-rdflib, in scripts/install-deps).
    TempDir dir;
    const auto file = write_text(dir / "case.jsonld", text);
    if (run("/usr/bin/python3 -c 'import rdflib' 2>/dev/null").exit_code != 0) {
        WARN("python3-rdflib is not installed: case.jsonld checked structurally only");
        return;
    }
    const auto script = write_text(dir / "check.py", R"py(
import sys, rdflib
from rdflib.namespace import XSD
g = rdflib.Graph()
g.parse(sys.argv[1], format="json-ld")
UCO_TYPES = rdflib.Namespace("https://ontology.unifiedcyberontology.org/uco/types/")
UCO_OBS = rdflib.Namespace("https://ontology.unifiedcyberontology.org/uco/observable/")
CASE_INV = rdflib.Namespace("https://ontology.caseontology.org/case/investigation/")
UCO_ACTION = rdflib.Namespace("https://ontology.unifiedcyberontology.org/uco/action/")
values = list(g.objects(None, UCO_TYPES.hashValue))
assert values and all(v.datatype == XSD.hexBinary for v in values), "hashValue typing"
for t in g.objects(None, UCO_ACTION.startTime):
    assert t.datatype == XSD.dateTime, t
files = set(g.subjects(rdflib.RDF.type, UCO_OBS.File))
actions = set(g.subjects(rdflib.RDF.type, CASE_INV.InvestigativeAction))
print(len(g), len(files), len(actions), len(set(values)))
)py");
    auto r =
        run("/usr/bin/python3 " + sh_quote(script.string()) + " " + sh_quote(file.string()), true);
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    std::istringstream counts(r.out);
    std::size_t triples = 0, files = 0, actions = 0, distinct_hashes = 0;
    counts >> triples >> files >> actions >> distinct_hashes;
    CHECK(triples > 1000);
    CHECK(files == t.run.files);
    CHECK(actions == 3);
    CHECK(distinct_hashes > 3 * 20);
}

}  // namespace

TEST_CASE("report.html and case.jsonld of a triaged sample device", "[report][sample]") {
    TriagedSample t;
    const ReportInput in = sample_input(t);
    check_html(t, in);
    check_jsonld(t, in);
}

TEST_CASE("report.html with nothing recorded still has every section and says so", "[report]") {
    ReportInput empty;
    const std::string html = html_of(empty);
    for (const auto& id : kSections)
        CHECK_THAT(html, Catch::Contains("id=\"" + id + "\""));
    CHECK_THAT(html, Catch::Contains("not recorded"));
    CHECK_THAT(html, Catch::Contains("No image was made"));
    CHECK_THAT(html, Catch::Contains("No triage was run"));
    CHECK_THAT(html, Catch::Contains("No custody events were recorded"));
    CHECK_THAT(html, Catch::Contains("Exhibit " + exhibit_version()));
    // Operator text in the running page header is a CSS string: it cannot close the style.
    ReportInput hostile;
    hostile.case_info.case_reference = "\"}</style><script>x</script>";
    const std::string h2 = html_of(hostile);
    CHECK(h2.find("<script>") == std::string::npos);
    CHECK(h2.find("</style><script>") == std::string::npos);
    CHECK_THAT(h2, Catch::Contains("\\00003C "));  // '<' as a CSS hex escape
}

TEST_CASE("read_custody_jsonl hashes each line, and the report's chain command checks it",
          "[report][custody]") {
    TempDir dir;
    fs::create_directories(dir / "data");
    // A custody log in the DESIGN.md format, written independently of the custody module.
    std::string text, prev(64, '0'), last;
    for (int seq = 1; seq <= 4; ++seq) {
        json line = {{"seq", seq},
                     {"time", "2026-11-22T09:00:0" + std::to_string(seq) + ".000Z"},
                     {"operator", "DC Jane Doe"},
                     {"action", seq == 1 ? "case opened" : "note added"},
                     {"detail", {{"text", "event " + std::to_string(seq)}}},
                     {"prev", prev}};
        const std::string bytes = line.dump();
        text += bytes + "\n";
        prev = coreutils_digest("sha256sum", write_text(dir / "one-line", bytes));
        last = prev;
    }
    const auto log = write_text(dir / "data" / "custody.jsonl", text);
    auto entries = read_custody_jsonl(log);
    REQUIRE(entries);
    REQUIRE(entries->size() == 4);
    CHECK(entries->back().line_sha256 == last);
    CHECK(entries->at(2).seq == 3);
    CHECK(entries->at(2).detail_json == R"({"text":"event 3"})");

    // The report's chain step, run by bash exactly as printed, against a seal.json that
    // records the chain head as the bundle's does.
    const auto steps = default_verification_steps();
    auto chain = std::find_if(steps.begin(), steps.end(), [](const VerificationStep& s) {
        return s.command.find("custody.jsonl") != std::string::npos;
    });
    REQUIRE(chain != steps.end());
    write_text(dir / "chain.sh", chain->command + "\n");
    write_text(dir / "seal.json", "{\n  \"chain_head\": \"" + last + "\",\n}\n");
    const std::string run_chain = "cd " + sh_quote(dir.path().string()) + " && bash chain.sh";
    auto good = run(run_chain, true);
    CHECK(good.exit_code == 0);
    CHECK(good.out == "custody chain: 4 lines, head " + last + "\n");

    // An edited line breaks the chain at the line after it.
    std::string edited = text;
    edited.replace(edited.find("event 2"), 7, "event X");
    write_text(log, edited);
    auto bad = run(run_chain, true);
    CHECK(bad.exit_code != 0);
    CHECK_THAT(bad.out, Catch::Contains("custody line 3: prev is not the SHA-256 of line 2"));

    // A head that differs from seal.json's is caught too.
    write_text(log, text);
    write_text(dir / "seal.json", "{\n  \"chain_head\": \"" + std::string(64, 'f') + "\",\n}\n");
    auto other_head = run(run_chain, true);
    CHECK(other_head.exit_code != 0);
    CHECK_THAT(other_head.out, Catch::Contains("is not the chain head in seal.json"));

    // The operator may be an object with a name and an id.
    write_text(
        dir / "op.jsonl",
        R"({"action":"case opened","detail":{},"operator":{"id":"4521","name":"DC Jane Doe"},"prev":"00","seq":1,"time":"t"})"
        "\n");
    auto with_id = read_custody_jsonl(dir / "op.jsonl");
    REQUIRE(with_id);
    CHECK(with_id->at(0).operator_name == "DC Jane Doe (4521)");

    write_text(log, text + "not json\n");
    auto broken = read_custody_jsonl(log);
    REQUIRE_FALSE(broken);
    CHECK_THAT(broken.error().message, Catch::Contains("line 5"));
}

TEST_CASE("read_acquisition_record reads back every field acquire() records", "[report]") {
    TempDir dir;
    AcquisitionResult r;
    r.status = AcquisitionStatus::CompletedWithErrors;
    r.summary = "2.0 MiB acquired to e01, completed with 8 unreadable sectors";
    r.source.kind = SourceKind::BlockDevice;
    r.source.path = "/dev/sdz";
    r.source.segments = {"/dev/sdz"};
    r.source.size = 2u << 20;
    r.source.sector_size = 512;
    r.source.device = DeviceIdentity{
        "sdz", "usb", "Kingston", "DataTraveler 3.0", "60A44C413A8F", "0951:1666", true, true, ""};
    r.format = ImageFormat::Ewf;
    r.compression = Compression::Fast;
    r.case_info = {"OP-BLUEBIRD", "JD/1", "DC Jane Doe", "USB stick", "bag 0041"};
    r.bytes_read = 2u << 20;
    r.hashes = {"6e09e9fc24bc0d87e0642581f16ecbcd", "f7308622f32a34c20278cc349cf23f673e1d1eed",
                "f9bd0342aee42bd04b66a59d3eb1af5ffc03f1ec623b826f904a5de72e2ebc2f"};
    r.unreadable = {{4096, 4096, 5}, {1 << 20, 512, 61}};
    r.unreadable_sectors = 9;
    r.verified = true;
    r.verification = {{HashAlgorithm::Md5, r.hashes.md5, r.hashes.md5, true},
                      {HashAlgorithm::Sha1, r.hashes.sha1, r.hashes.sha1, true},
                      {HashAlgorithm::Sha256, r.hashes.sha256, std::string(64, '0'), false}};
    r.device_writes = DeviceWriteCheck{"sdz", 10, 10, 80, 80, 0};
    r.write_block = WriteBlockCounters{5000, 2, {{0x2A, 1}, {0x35, 1}}, 1, 0, 0, 3};
    r.outputs = {dir / "image.E01", dir / "image.E02", dir / "image.acquisition.json"};
    r.record = dir / "image.acquisition.json";
    r.started = "2026-11-22T09:10:00.000Z";
    r.finished = "2026-11-22T09:11:00.000Z";
    r.seconds = 60;
    r.verify_seconds = 12.5;
    // The record exactly as acquire() writes it (acquisition_json is its writer).
    write_text(r.record, acquisition_json(r));

    auto back = read_acquisition_record(r.record);
    INFO((back ? "" : back.error().message));
    REQUIRE(back);
    CHECK(back->status == r.status);
    CHECK(back->summary == r.summary);
    CHECK(back->source.kind == r.source.kind);
    CHECK(back->source.path == r.source.path);
    CHECK(back->source.size == r.source.size);
    REQUIRE(back->source.device);
    CHECK(back->source.device->serial == "60A44C413A8F");
    CHECK(back->source.device->kernel_read_only);
    CHECK(back->format == r.format);
    CHECK(back->compression == r.compression);
    CHECK(back->case_info.evidence_number == "JD/1");
    CHECK(back->case_info.notes == "bag 0041");
    CHECK(back->bytes_read == r.bytes_read);
    CHECK(back->hashes == r.hashes);
    REQUIRE(back->unreadable.size() == 2);
    CHECK(back->unreadable[1].offset == (1u << 20));
    CHECK(back->unreadable[1].length == 512);
    CHECK(back->unreadable[1].sys_errno == 61);
    CHECK(back->unreadable_sectors == 9);
    REQUIRE(back->device_writes);
    CHECK(back->device_writes->writes_after == 10);
    CHECK(back->device_writes->sectors_written_before == 80);
    REQUIRE(back->write_block);
    CHECK(back->write_block->commands_passed == 5000);
    CHECK(back->write_block->commands_refused == 2);
    CHECK(back->write_block->refused_by_opcode == r.write_block->refused_by_opcode);
    CHECK(back->write_block->resets == 1);
    CHECK(back->write_block->retries == 3);
    CHECK(back->verified);
    REQUIRE(back->verification.size() == 3);
    CHECK(back->verification[2].algorithm == HashAlgorithm::Sha256);
    CHECK_FALSE(back->verification[2].match);
    CHECK(back->outputs == r.outputs);
    CHECK(back->started == r.started);
    CHECK(back->finished == r.finished);
    CHECK(back->verify_seconds == 12.5);

    // Both kinds of write-block evidence reach the report.
    ReportInput in;
    in.source = back->source;
    in.write_block = describe_write_block(back->source, back->device_writes, back->write_block);
    in.acquisitions.push_back(*back);
    const std::string html = html_of(in);
    CHECK_THAT(html, Catch::Contains("Kernel read-only flag (BLKROSET)"));
    CHECK_THAT(html, Catch::Contains("refused opcode 0x2A</td><td class=\"num\">1</td>"));
    CHECK_THAT(html, Catch::Contains("No write, discard or flush request reached the device."));

    auto not_record = read_acquisition_record(write_text(dir / "x.json", "{\"a\":1}"));
    REQUIRE_FALSE(not_record);
    CHECK(not_record.error().kind == ErrorKind::Format);
    auto absent = read_acquisition_record(dir / "absent.json");
    REQUIRE_FALSE(absent);
}

TEST_CASE("exhibit report writes both files without changing the case database",
          "[report][cli][sample]") {
    TriagedSample t;
    t.db.reset();  // closed, as a lab receives it
    TempDir dir;
    const std::string db = sh_quote(t.db_path.string());
    const std::string before = coreutils_digest("sha256sum", t.db_path);
    const auto out = dir / "report.html";
    const auto jsonld = dir / "case.jsonld";
    auto r = run(sh_quote(cli_path().string()) + " report " + db + " --out " +
                     sh_quote(out.string()) + " --jsonld " + sh_quote(jsonld.string()) +
                     " --case OP-BLUEBIRD --exhibit JD/1 --operator 'DC Jane Doe'",
                 true);
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    CHECK(coreutils_digest("sha256sum", t.db_path) == before);
    const std::string html = read_file_text(out);
    CHECK_THAT(html, Catch::Contains("Case OP-BLUEBIRD · Exhibit JD/1"));
    CHECK_THAT(html, Catch::Contains("demo-malware"));
    CHECK(json::parse(read_file_text(jsonld), nullptr, false).is_object());

    // Earlier work is never overwritten; a missing database is a source error.
    auto again = run(
        sh_quote(cli_path().string()) + " report " + db + " --out " + sh_quote(out.string()), true);
    CHECK(again.exit_code == 4);
    CHECK_THAT(again.out, Catch::Contains("already exists"));
    auto missing =
        run(sh_quote(cli_path().string()) + " report " + sh_quote((dir / "nope.sqlite").string()) +
                " --out " + sh_quote((dir / "r2.html").string()),
            true);
    CHECK(missing.exit_code == 3);
    CHECK_THAT(missing.out, Catch::StartsWith("exhibit: "));
    CHECK_FALSE(fs::exists(dir / "r2.html"));
}

TEST_CASE("the report shows the unallocated-space scan: regions, and hits by byte offset",
          "[report][sample]") {
    TempDir dir;
    SourceSeal seal({sample_image()});
    const std::string db = sh_quote((dir / "case.sqlite").string());
    std::ofstream(dir / "keywords.txt") << "operation bluebird\n";
    auto t = run(sh_quote(cli_path().string()) + " triage " + sh_quote(sample_image().string()) +
                     " --case-db " + db + " --keywords " +
                     sh_quote((dir / "keywords.txt").string()) + " --scan-unallocated",
                 true);
    INFO(t.out);
    REQUIRE(t.exit_code == 0);
    const fs::path out = dir / "report.html";
    auto r = run(
        sh_quote(cli_path().string()) + " report " + db + " --out " + sh_quote(out.string()), true);
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    const std::string html = read_file_text(out);
    CHECK_THAT(html, Catch::Contains("Unallocated space scanned with the rules and keywords"));
    CHECK_THAT(html, Catch::Contains("Hits in unallocated space"));
    CHECK_THAT(html, Catch::Contains("unpartitioned"));
    // The keyword planted in the last, unpartitioned MiB (tests/sample/unallocated.tsv),
    // at its byte offset with thousands grouped as the report writes numbers.
    CHECK_THAT(html, Catch::Contains(">220,725,368</td>"));
    CHECK(seal.unchanged());
}

TEST_CASE("the report renders in headless Chromium to a PDF and a PNG", "[report][render]") {
    if (run("command -v chromium").exit_code != 0) {
        WARN("chromium is not installed: rendering not checked (apt-get install chromium)");
        return;
    }
    const ReportInput in = synthetic_input();
    TempDir dir;
    const auto file = write_text(dir / "report.html", html_of(in));
    auto r = run(sh_quote((fs::path(EXHIBIT_SOURCE_DIR) / "scripts" / "render-report").string()) +
                     " " + sh_quote(file.string()) + " " + sh_quote((dir / "out").string()),
                 true);
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    const auto pdf = read_file(dir / "out" / "report.pdf");
    const auto png = read_file(dir / "out" / "report.png");
    REQUIRE(pdf.size() > 10000);
    CHECK(std::string(pdf.begin(), pdf.begin() + 5) == "%PDF-");
    const std::string pdf_text(pdf.begin(), pdf.end());
    std::size_t pages = 0;
    for (auto at = pdf_text.find("/Type /Page"); at != std::string::npos;
         at = pdf_text.find("/Type /Page", at + 1)) {
        if (pdf_text.compare(at, 12, "/Type /Pages") != 0) ++pages;
    }
    CHECK(pages >= 3);
    REQUIRE(png.size() > 1000);
    CHECK(std::string(png.begin() + 1, png.begin() + 4) == "PNG");
}
