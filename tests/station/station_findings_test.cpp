// Findings with their context and the Running screen's live counters, on real case
// databases made by triaging the sample device with the demo known-bad set, the shipped
// rule packs and typed keywords.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

#include "exhibit/file_content.hpp"
#include "exhibit/hashing.hpp"
#include "exhibit/hashset.hpp"
#include "exhibit/rules.hpp"
#include "exhibit/station/findings.hpp"
#include "exhibit/station/hit_context.hpp"
#include "exhibit/station/job.hpp"
#include "exhibit/station/live_counts.hpp"
#include "exhibit/station/matching.hpp"
#include "exhibit/station/pictures.hpp"
#include "test_support.hpp"

using namespace exhibit;
using namespace exhibit::station;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// A job request for triage of the sample with every kind of matcher.
JobRequest matching_request(const test::TempDir& dir) {
    HashSetImport import;
    import.files = {fs::path(EXHIBIT_STATION_RULES_DIR) / "hashsets" / "demo-known-bad.txt"};
    import.name = "demo-bad";
    import.kind = HashSetKind::KnownBad;
    import.category = "demo";
    REQUIRE(HashSetStore(dir.path() / "hashsets").import(import));
    JobRequest r;
    r.source_path = test::sample_image().string();
    r.case_database = dir.path() / "case" / "case.sqlite";
    fs::create_directories(r.case_database.parent_path());
    r.hash_set_store = dir.path() / "hashsets";
    r.hash_sets = {"demo-bad"};
    r.rule_packs = find_installed_matching({{}, EXHIBIT_STATION_RULES_DIR, {}}).rule_packs;
    REQUIRE_FALSE(r.rule_packs.empty());
    r.case_keywords = "darkmarket.onion, operation bluebird";
    r.rules_cache_dir = dir.path() / "rules-cache";
    auto yara = YaraLibrary::initialize();
    REQUIRE(yara);
    r.yara = *yara;
    r.case_record.case_reference = "OP-BLUEBIRD";
    r.case_record.exhibit_reference = "JD-1";
    r.case_record.operator_name = "Jane Doe";
    r.case_record.operator_id = "4711";
    r.protection = "image file";
    return r;
}

const FileRow* find_file(const FindingsIndex& idx, const std::string& path) {
    for (const auto& row : idx.files) {
        std::string p =
            "/" + row.entry.path + (row.entry.stream.empty() ? "" : ":" + row.entry.stream);
        if (p == path && row.entry.name_type != 'd') return &row;
    }
    return nullptr;
}

std::string joined(const HitContext& c) {
    std::string s = c.heading;
    for (const auto& l : c.lines)
        s += "\n" + l;
    return s;
}

}  // namespace

TEST_CASE("live counters while triage runs, and each file's hits with context",
          "[station][findings]") {
    const fs::path image = test::sample_image();
    test::SourceSeal seal({image});
    test::TempDir dir;
    JobRequest request = matching_request(dir);
    const fs::path db_path = request.case_database;

    // Poll the way the Running screen does, from another connection, while the job writes.
    StationJob job;
    REQUIRE(job.start(std::move(request)));
    std::vector<LiveCounts> polls;
    while (job.running()) {
        auto live = read_live_counts(db_path);
        if (live)
            polls.push_back(std::move(*live));
        else {  // only while the job is still creating the database, before any run
            INFO(live.error().message);
            CHECK(std::none_of(polls.begin(), polls.end(),
                               [](const LiveCounts& c) { return c.run_id != 0; }));
        }
        std::this_thread::sleep_for(20ms);
    }
    auto outcome = job.take_outcome();
    REQUIRE(outcome);
    INFO(outcome->summary);
    REQUIRE(outcome->completed);
    REQUIRE(outcome->triage);
    REQUIRE_FALSE(polls.empty());
    // Counts only ever grow while the run goes on.
    for (std::size_t i = 1; i < polls.size(); ++i) {
        if (polls[i].run_id != polls[i - 1].run_id || polls[i - 1].run_id == 0) continue;
        CHECK(polls[i].files >= polls[i - 1].files);
        for (const auto& [kind, n] : polls[i - 1].hits)
            CHECK(polls[i].hits[kind] >= n);
    }
    auto final_counts = read_live_counts(db_path);
    REQUIRE(final_counts);
    CHECK(final_counts->run_id == outcome->triage->id);
    CHECK(final_counts->status == "completed");
    CHECK(final_counts->files == outcome->triage->files);
    CHECK(final_counts->hits == outcome->hit_counts);
    REQUIRE(outcome->hit_counts.count("hashset"));
    REQUIRE(outcome->hit_counts.count("keyword"));

    // The findings: every hit lands on its own file, and the groups list them.
    auto idx = load_findings(db_path, outcome->triage->id);
    REQUIRE(idx);
    std::uint64_t attached = 0;
    std::map<std::string, std::uint64_t> by_kind;
    for (const auto& row : idx->files)
        for (const auto& h : row.entry.findings.hits) {
            ++attached;
            ++by_kind[h.kind];
        }
    CHECK(attached + idx->hits_outside_files.size() == [&] {
        std::uint64_t n = 0;
        for (const auto& [kind, c] : outcome->hit_counts)
            n += c;
        return n;
    }());
    CHECK(by_kind["hashset"] == outcome->hit_counts.at("hashset"));
    auto group = [&](const std::string& title) {
        return std::find_if(idx->groups.begin(), idx->groups.end(),
                            [&](const FindingGroup& g) { return g.title == title; });
    };
    REQUIRE(group("Keyword: darkmarket.onion") != idx->groups.end());
    REQUIRE(group("Hash set: demo") != idx->groups.end());

    // The timeline holds every dated file once, in the bucket its time falls in.
    for (const Timeline* t : {&idx->modified, &idx->created}) {
        std::size_t listed = t->without_time, non_dirs = 0;
        for (const auto& row : idx->files)
            non_dirs += row.entry.name_type != 'd';
        for (const auto& b : t->buckets)
            for (std::size_t i : b.files) {
                ++listed;
                const FileEntry& f = idx->files[i].entry;
                auto when = t->field == TimeField::Modified ? f.modified : f.created;
                CHECK(when >= b.start);
                CHECK(when < b.end);
            }
        CHECK(listed == non_dirs);
    }
    CHECK_FALSE(idx->modified.buckets.empty());

    // The known-bad card dump: its hash-set hit names the set and the matched SHA-256, its
    // keyword hit shows the term in the text around it.
    for (const auto& t : test::sample_truth()) {
        if (t.path.find("card_dump_march.txt") == std::string::npos) continue;
        const FileRow* row = find_file(*idx, t.path);
        REQUIRE(row);
        bool hash_seen = false, keyword_seen = false;
        for (const auto& h : row->entry.findings.hits) {
            HitContext c = describe_hit(h);
            INFO(joined(c));
            if (h.kind == "hashset") {
                hash_seen = true;
                CHECK(c.heading == "Hash set: demo-bad (demo), known-bad");
                REQUIRE_FALSE(c.lines.empty());
                CHECK(c.lines[0] == "SHA256 " + t.sha256 + " is listed in the set.");
            }
            if (h.kind == "keyword" && h.name == "darkmarket.onion") {
                keyword_seen = true;
                CHECK(c.heading == "Keyword \"darkmarket.onion\"");
                REQUIRE(c.lines.size() >= 2);
                CHECK(c.lines[0] ==
                      "Line 2 of the keyword list.");  // after the file's comment line
                CHECK(c.lines[1].rfind("at offset ", 0) == 0);
                CHECK(c.lines[1].find("darkmarket.onion") != std::string::npos);
            }
        }
        CHECK(hash_seen);
        CHECK(keyword_seen);
    }
    // Every keyword file of the truth has its keyword hit with context.
    for (const auto& t : test::sample_truth()) {
        if (t.keywords.find("operation bluebird") == std::string::npos) continue;
        const FileRow* row = find_file(*idx, t.path);
        if (!row) continue;  // the flow test checks every file is listed
        INFO(t.path);
        bool seen = false;
        for (const auto& h : row->entry.findings.hits)
            if (h.kind == "keyword" && h.name == "operation bluebird")
                for (const auto& line : describe_hit(h).lines)
                    seen = seen || line.find("operation bluebird") != std::string::npos ||
                           line.find("utf-16le") != std::string::npos;
        CHECK(seen);
    }
    // Every file's content read back through the engine has the SHA-256 triage recorded.
    {
        auto source = open_source(image.string(), OpenOptions{});
        REQUIRE(source);
        std::size_t compared = 0;
        for (const auto& row : idx->files) {
            const FileEntry& f = row.entry;
            if (f.name_type != 'r' || f.deleted() || !f.stream.empty() || f.size == 0 ||
                f.findings.hashes.sha256.empty())
                continue;
            auto bytes = read_file_content(**source, row.fs_offset, f.meta_address, 64u << 20);
            INFO(f.path);
            REQUIRE(bytes);
            Digest d(HashAlgorithm::Sha256);
            d.update(*bytes);
            CHECK(d.finish_hex() == f.findings.hashes.sha256);
            ++compared;
        }
        CHECK(compared >= 20);
    }

    // The picture grid: every JPEG of the truth, known-bad first, thumbnails decoded from
    // the content the engine reads and blurred until revealed.
    auto pictures = picture_files(*idx);
    std::size_t truth_jpegs = 0;
    for (const auto& t : test::sample_truth())
        truth_jpegs += t.kind == "jpeg";
    CHECK(pictures.size() >= truth_jpegs);
    bool bad_seen_after_good = false, good_seen = false;
    for (std::size_t i : pictures) {
        bool bad = idx->files[i].entry.findings.hash_status == "known-bad";
        if (!bad) good_seen = true;
        if (bad && good_seen) bad_seen_after_good = true;
    }
    CHECK_FALSE(bad_seen_after_good);
    CHECK(idx->files[pictures.front()].entry.findings.hash_status == "known-bad");
    std::size_t decoded = 0;
    for (std::size_t i : pictures) {
        const FileRow& row = idx->files[i];
        if (row.entry.deleted()) continue;  // a recovered picture may be overwritten
        auto thumb = load_thumbnail(image.string(), row, 96);
        INFO(row.entry.path << " " << row.entry.findings.mime_type << ": "
                            << (thumb ? std::string() : thumb.error().message));
        REQUIRE(thumb);
        CHECK(thumb->width > 0);
        CHECK(thumb->height > 0);
        CHECK(std::max(thumb->width, thumb->height) <= 96);
        CHECK(thumb->rgba.size() == static_cast<std::size_t>(thumb->width) * thumb->height * 4);
        Thumbnail blurred = blur_thumbnail(*thumb);
        CHECK(blurred.width == thumb->width);
        CHECK(blurred.rgba != thumb->rgba);
        ++decoded;
    }
    CHECK(decoded >= 3);
    // The same thumbnails from one reader: the source opened once, one worker per batch,
    // and a file that cannot be read fails alone.
    {
        std::vector<FileRow> rows;
        for (std::size_t i : pictures)
            rows.push_back(idx->files[i]);
        FileRow missing = rows.front();
        missing.entry.meta_address = 999999999;
        rows.push_back(missing);
        PictureReader reader(image.string());
        const std::atomic<bool> never{false};
        auto first = reader.load(rows, 96, 32ull << 20, never);
        auto again = reader.load(std::span(rows).first(2), 96, 32ull << 20, never);
        CHECK(reader.opens() == 1);
        REQUIRE(first.size() == rows.size());
        REQUIRE(again.size() == 2);
        CHECK_FALSE(first.back().error.empty());
        for (std::size_t k = 0; k + 1 < rows.size(); ++k) {
            const FileRow& row = rows[k];
            if (row.entry.deleted()) continue;
            INFO(row.entry.path << ": " << first[k].error);
            REQUIRE(first[k].error.empty());
            CHECK_FALSE(first[k].loading);
            auto single = load_thumbnail(image.string(), row, 96);
            REQUIRE(single);
            CHECK(first[k].sharp.rgba == single->rgba);
            CHECK(first[k].blurred.rgba == blur_thumbnail(*single).rgba);
            if (k < 2) CHECK(again[k].sharp.rgba == single->rgba);
        }
    }
    PictureReveal reveal;
    CHECK_FALSE(reveal.shown(pictures[0]));
    reveal.reveal(pictures[0]);
    CHECK(reveal.shown(pictures[0]));
    reveal.reveal(pictures[1]);  // one at a time
    CHECK_FALSE(reveal.shown(pictures[0]));
    CHECK(reveal.shown(pictures[1]));

    // YARA hits read as rule, pack and the matched strings with offsets.
    for (const auto& row : idx->files)
        for (const auto& h : row.entry.findings.hits)
            if (h.kind == "yara") {
                HitContext c = describe_hit(h);
                INFO(joined(c));
                CHECK(c.heading.rfind("YARA", 0) == 0);
                CHECK(c.heading.find(h.name) != std::string::npos);
                CHECK(std::any_of(c.lines.begin(), c.lines.end(), [](const std::string& l) {
                    return l.find(" at offset ") != std::string::npos;
                }));
            }
    CHECK(seal.unchanged());
}

TEST_CASE("hit context: limits, more matches and a detail that is not JSON",
          "[station][findings]") {
    Hit k{"keyword", "alpha", "", "",
          R"({"line":3,"match_count":5,"matches":[)"
          R"({"offset":16,"length":5,"encoding":"ascii","context":"x alpha y"},)"
          R"({"offset":40,"length":10,"encoding":"utf-16le","context":"alpha"}]})"};
    HitContext c = describe_hit(k, 1);
    REQUIRE(c.lines.size() == 3);
    CHECK(c.lines[0] == "Line 3 of the keyword list.");
    CHECK(c.lines[1] == "at offset 16 (0x10): \"x alpha y\"");
    CHECK(c.lines[2] == "... and 4 more matches.");
    c = describe_hit(k);
    CHECK(c.lines[2] == "at offset 40 (0x28), utf-16le: \"alpha\"");
    CHECK(c.lines[3] == "... and 3 more matches.");

    Hit y{
        "yara", "big_key", "private_keys", "high",
        R"({"rule":"big_key","meta":{"description":"A private key"},"tags":["pem"],)"
        R"("match_count":1,"strings":[{"offset":0,"length":5,"identifier":"$a","excerpt":"-----"}],)"
        R"("scanned_bytes":100,"file_size":900,"too_many_matches":["$b"]})"};
    c = describe_hit(y);
    CHECK(c.heading == "YARA high: big_key (private_keys)");
    CHECK(c.lines == std::vector<std::string>{"A private key", "Tags: pem",
                                              "$a at offset 0 (0x0): \"-----\"",
                                              "Only the first 100 of 900 bytes were scanned.",
                                              "Too many matches to keep for: $b."});

    Hit broken{"hashset", "s", "", "known-bad", "not json"};
    c = describe_hit(broken);
    CHECK(c.heading == "Hash set: s, known-bad");
    CHECK(c.lines == std::vector<std::string>{"not json"});
}

TEST_CASE("blurred thumbnails keep colour, lose detail; a non-picture is refused",
          "[station][pictures]") {
    // A 12x12 checkerboard of black and white 2x2 squares.
    Thumbnail t;
    t.width = t.height = 12;
    for (int y = 0; y < 12; ++y)
        for (int x = 0; x < 12; ++x) {
            std::uint8_t v = ((x / 2 + y / 2) % 2) ? 255 : 0;
            t.rgba.insert(t.rgba.end(), {v, v, v, 255});
        }
    Thumbnail b = blur_thumbnail(t, 3);  // 4x4 blocks, each half black, half white
    for (std::size_t i = 0; i < b.rgba.size(); i += 4) {
        CHECK(b.rgba[i] == 127);
        CHECK(b.rgba[i + 3] == 255);
    }
    const char not_a_picture[] = "plain text, not an image";
    auto bad = decode_thumbnail(std::as_bytes(std::span(not_a_picture)), 64);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message.find("not a picture") != std::string::npos);
}

TEST_CASE("scan notes show as a group that names each file and why, read-only in review",
          "[station][findings]") {
    test::TempDir dir;
    const fs::path path = dir.path() / "case.sqlite";
    std::int64_t run_id = 0;
    {
        auto db = CaseDatabase::open(path);
        REQUIRE(db);
        WalkResult walk;
        FileSystemEntry fsys;
        fsys.type = "fat32";
        fsys.offset = 1 << 20;
        walk.file_systems.push_back(fsys);
        for (const char* p : {"docs/big.bin", "docs/ok.txt", "x/hang.bin"}) {
            FileEntry f;
            f.path = p;
            f.name = f.path.substr(f.path.rfind('/') + 1);
            f.name_type = f.meta_type = 'r';
            f.name_allocated = f.meta_allocated = true;
            f.size = 10;
            walk.files.push_back(f);
        }
        auto run = (*db)->begin_run(SourceInfo{});
        REQUIRE(run);
        run_id = *run;
        auto recorded = (*db)->record_walk(run_id, walk);
        INFO((recorded ? std::string() : recorded.error().message));
        REQUIRE(recorded);
        REQUIRE((*db)->add_scan_notes(
            run_id,
            {{"yara-truncated", "/docs/big.bin",
              "/docs/big.bin: YARA scanned the first 5 of 10 bytes (--yara-max-size)"},
             {"yara-error", "/x/hang.bin", "/x/hang.bin: YARA scan timed out after 5 s"},
             {"rule-file", "/rules/bad.yar", "rule file /rules/bad.yar does not compile"}}));
        REQUIRE((*db)->finish_run(run_id, "completed", ""));
    }
    test::SourceSeal sealed({path});
    auto idx = load_findings(path, 0, true);
    REQUIRE(idx);
    CHECK(sealed.unchanged());
    REQUIRE(idx->scan_notes.size() == 3);
    auto g = std::find_if(idx->groups.begin(), idx->groups.end(),
                          [](const FindingGroup& x) { return x.kind == "scan-note"; });
    REQUIRE(g != idx->groups.end());
    CHECK(g->title == "Not fully scanned");
    REQUIRE(g->files.size() == 2);
    std::vector<std::string> named;
    for (std::size_t i : g->files)
        named.push_back(idx->files[i].entry.path);
    std::sort(named.begin(), named.end());
    CHECK(named == std::vector<std::string>{"docs/big.bin", "x/hang.bin"});
    for (std::size_t i = 0; i < idx->files.size(); ++i) {
        auto why = scan_notes_for(*idx, i);
        if (idx->files[i].entry.path == "docs/ok.txt") CHECK(why.empty());
        if (idx->files[i].entry.path == "x/hang.bin") {
            REQUIRE(why.size() == 1);
            CHECK(why[0].find("timed out") != std::string::npos);
        }
    }
    CHECK(idx->scan_notes[2].files.empty());  // a rule file names no evidence file

    // Only a rule file left out: the group is still there, with no files.
    auto only_rules = index_findings({}, 1, {{"rule-file", "/r.yar", "left out"}});
    REQUIRE(only_rules.groups.size() == 1);
    CHECK(only_rules.groups[0].kind == "scan-note");
}

TEST_CASE("the thumbnail cache keeps the most recently used, at most its capacity",
          "[station][pictures]") {
    ThumbnailCache cache(3);
    for (std::size_t f : {1, 2, 3})
        cache.put(f, PictureThumb{false, {}, {}, "t" + std::to_string(f)});
    CHECK(cache.touch(1));  // 1 is now the newest, 2 the oldest
    cache.put(4, PictureThumb{});
    CHECK(cache.size() == 3);
    CHECK_FALSE(cache.find(2));
    CHECK(cache.find(1));
    CHECK(cache.find(3));
    CHECK(cache.find(4));
    CHECK_FALSE(cache.touch(2));
    cache.put(3, PictureThumb{false, {}, {}, "again"});  // replaces, no eviction
    CHECK(cache.size() == 3);
    CHECK(cache.find(3)->error == "again");
    cache.clear();
    CHECK(cache.size() == 0);
}
