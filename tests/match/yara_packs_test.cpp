// Rule packs: per-file compile failures with file and line, the cache, pack hashes,
// external variables, the size limit.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "exhibit/file_walk.hpp"
#include "exhibit/rules.hpp"
#include "test_support.hpp"

using namespace exhibit;
using namespace exhibit::test;

namespace {

void write(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
}

std::shared_ptr<const CompiledRules> build_ok(const RuleSetOptions& o) {
    auto y = YaraLibrary::initialize();
    REQUIRE(y);
    auto rules = CompiledRules::build(*y, o);
    if (!rules) FAIL(rules.error().message);
    return *rules;
}

std::vector<Hit> scan(const std::shared_ptr<const CompiledRules>& rules, const std::string& name,
                      const std::string& bytes, YaraScanOptions options = {},
                      std::shared_ptr<YaraScanStats> stats = {}, const std::string& mime = "") {
    auto scanner = make_yara_scanner_factory(rules, options, std::move(stats))();
    FileEntry f;
    f.name = name;
    f.path = "Users/alice/" + name;
    f.size = bytes.size();
    scanner->begin(f);
    const std::size_t chunk = 4096;
    for (std::size_t at = 0; at < bytes.size(); at += chunk) {
        scanner->update({reinterpret_cast<const std::byte*>(bytes.data()) + at,
                         std::min(chunk, bytes.size() - at)});
    }
    FileFindings findings;
    findings.mime_type = mime;
    scanner->finish(findings);
    return findings.hits;
}

std::string sha256sum_of_manifest(const fs::path& dir, const std::vector<std::string>& files) {
    std::string cmd = "cd " + sh_quote(dir.string()) + " && sha256sum";
    for (const auto& f : files)
        cmd += " " + sh_quote(f);
    cmd += " | sha256sum";
    return run(cmd).out.substr(0, 64);
}

}  // namespace

TEST_CASE("a rule file that does not compile is reported by file and line; the rest load",
          "[yara][packs]") {
    TempDir dir;
    write(dir / "pack/good.yar", "rule good_one { strings: $a = \"needle-one\" condition: $a }\n");
    write(dir / "pack/sub/also_good.yara",
          "rule good_two { strings: $a = \"needle-two\" condition: $a }\n");
    write(dir / "pack/broken.yar",
          "rule broken {\n  strings:\n    $a = \"x1234\"\n"
          "  condition:\n    $a and $missing and\n    true\n}\n");
    write(dir / "pack/notes.txt", "not a rule file");
    auto rules = build_ok({.packs = {dir / "pack"}, .keywords = {}, .cache_dir = {}});
    REQUIRE(rules->packs().size() == 1);
    const auto& files = rules->packs()[0].files;
    REQUIRE(files.size() == 3);  // notes.txt is not a rule file
    CHECK(files[0].relative == "broken.yar");
    CHECK_FALSE(files[0].compiled);
    REQUIRE_FALSE(files[0].messages.empty());
    bool named_line = false;
    for (const auto& m : files[0].messages)
        named_line = named_line ||
                     (!m.warning && m.line == 5 && m.text.find("$missing") != std::string::npos);
    CHECK(named_line);
    CHECK(files[1].compiled);
    CHECK(files[1].rules == 1);
    CHECK(files[2].relative == "sub/also_good.yara");
    CHECK(files[2].name_space == "pack/sub/also_good.yara");
    CHECK(rules->failed_files() == 1);
    CHECK(rules->rule_count() == 2);
    auto hits = scan(rules, "a.bin", "xx needle-two xx");
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].name == "good_two");
    CHECK(hits[0].category == "pack/sub/also_good.yara");
}

TEST_CASE("compiled rules are cached by content: a second build loads them", "[yara][packs]") {
    TempDir dir;
    write(dir / "pack/a.yar", "rule alpha { strings: $a = \"alpha-needle\" condition: $a }\n");
    write(dir / "pack/bad.yar", "rule bad { condition: nonsense }\n");
    write(dir / "kw.txt", "bluebird\n");
    RuleSetOptions o{
        .packs = {dir / "pack"}, .keywords = dir / "kw.txt", .cache_dir = dir / "cache"};
    auto first = build_ok(o);
    CHECK_FALSE(first->from_cache());
    CHECK(first->cache_warning().empty());
    auto second = build_ok(o);
    CHECK(second->from_cache());
    CHECK(second->cache_key() == first->cache_key());
    CHECK(second->rule_count() == first->rule_count());
    CHECK(second->failed_files() == 1);  // the report comes back from the cache too
    REQUIRE(!second->packs()[0].files[1].messages.empty());
    auto hits = scan(second, "n.txt", "alpha-needle and BLUEBIRD");
    CHECK(hits.size() == 2);

    // One byte changed in a rule file: a new key, compiled afresh.
    write(dir / "pack/a.yar", "rule alpha { strings: $a = \"alpha-needlE\" condition: $a }\n");
    auto third = build_ok(o);
    CHECK_FALSE(third->from_cache());
    CHECK(third->cache_key() != first->cache_key());

    // A damaged cache file is not trusted: recompiled, with a warning.
    for (const auto& e : fs::directory_iterator(dir / "cache")) {
        if (e.path().extension() == ".yarc") write(e.path(), "garbage");
    }
    auto fourth = build_ok(o);
    CHECK_FALSE(fourth->from_cache());
    CHECK_FALSE(fourth->cache_warning().empty());
}

TEST_CASE("a pack's SHA-256 is the sha256sum manifest of its rule files", "[yara][packs]") {
    TempDir dir;
    write(dir / "pack/b.yar", "rule b { condition: false }\n");
    write(dir / "pack/a.yar", "rule a { condition: false }\n");
    auto rules = build_ok({.packs = {dir / "pack"}, .keywords = {}, .cache_dir = {}});
    CHECK(rules->packs()[0].sha256 == sha256sum_of_manifest(dir / "pack", {"a.yar", "b.yar"}));
    CHECK(rules->packs()[0].files[0].sha256 == coreutils_digest("sha256sum", dir / "pack/a.yar"));
}

TEST_CASE("missing packs and empty folders are errors naming the path", "[yara][packs]") {
    TempDir dir;
    auto y = YaraLibrary::initialize();
    REQUIRE(y);
    auto missing =
        CompiledRules::build(*y, {.packs = {dir / "nope"}, .keywords = {}, .cache_dir = {}});
    REQUIRE_FALSE(missing);
    CHECK_THAT(missing.error().message, Catch::Contains((dir / "nope").string()));
    fs::create_directories(dir / "empty");
    auto empty =
        CompiledRules::build(*y, {.packs = {dir / "empty"}, .keywords = {}, .cache_dir = {}});
    REQUIRE_FALSE(empty);
    CHECK_THAT(empty.error().message, Catch::Contains("no .yar"));
}

TEST_CASE("filename, filepath, extension and filetype are set for every file", "[yara][packs]") {
    TempDir dir;
    write(dir / "ext.yar",
          "rule by_name { condition: filename == \"Report.PDF\" and extension == \"pdf\" }\n"
          "rule by_path { condition: filepath == \"/Users/alice/Report.PDF\" }\n"
          "rule by_type { condition: filetype == \"application/pdf\" }\n");
    auto rules = build_ok({.packs = {dir / "ext.yar"}, .keywords = {}, .cache_dir = {}});
    auto hits = scan(rules, "Report.PDF", "%PDF-1.4", {}, {}, "application/pdf");
    std::set<std::string> fired;
    for (const auto& h : hits)
        fired.insert(h.name);
    CHECK(fired == std::set<std::string>{"by_name", "by_path", "by_type"});
    CHECK(hits[0].category == "ext.yar");
    CHECK(scan(rules, "other.txt", "%PDF-1.4", {}, {}, "text/plain").empty());
}

TEST_CASE("files larger than the limit are scanned up to it and the skip is recorded",
          "[yara][packs]") {
    TempDir dir;
    write(dir / "r.yar",
          "rule early { strings: $a = \"EARLY\" condition: $a }\n"
          "rule late { strings: $a = \"LATE!\" condition: $a }\n");
    auto rules = build_ok({.packs = {dir / "r.yar"}, .keywords = {}, .cache_dir = {}});
    std::string bytes(40000, '.');
    bytes.replace(100, 5, "EARLY");
    bytes.replace(30000, 5, "LATE!");
    auto stats = std::make_shared<YaraScanStats>();
    auto hits = scan(rules, "big.bin", bytes,
                     {.max_bytes = 20000, .max_strings = 8, .timeout_seconds = 60}, stats);
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].name == "early");
    auto d = nlohmann::json::parse(hits[0].detail);
    CHECK(d["scanned_bytes"] == 20000);
    CHECK(d["file_size"] == 40000);
    CHECK(stats->files_truncated == 1);
    REQUIRE(stats->notes.size() == 1);
    CHECK_THAT(stats->notes[0].message,
               Catch::Contains("/Users/alice/big.bin") && Catch::Contains("first 20000 of 40000"));
    CHECK(stats->notes[0].kind == "yara-truncated");
    CHECK(stats->notes[0].path == "/Users/alice/big.bin");
    // Under the limit: both.
    CHECK(scan(rules, "big.bin", bytes).size() == 2);
}

TEST_CASE("the rule cache covers files pulled in by include, nested ones too", "[yara][packs]") {
    TempDir dir;
    write(dir / "pack/main.yar",
          "include \"../lib/needle.inc\"\nrule main_rule { condition: needle_rule }\n");
    write(dir / "lib/needle.inc",
          "include \"deeper.inc\"\n"
          "rule needle_rule { strings: $a = \"needle-one\" condition: $a and deeper }\n");
    write(dir / "lib/deeper.inc", "rule deeper { condition: true }\n");
    RuleSetOptions o{.packs = {dir / "pack"}, .keywords = {}, .cache_dir = dir / "cache"};
    auto first = build_ok(o);
    CHECK_FALSE(first->from_cache());
    CHECK(first->failed_files() == 0);
    auto names = [](const std::vector<Hit>& hits) {
        std::set<std::string> out;
        for (const auto& h : hits)
            out.insert(h.name);
        return out;
    };
    CHECK(names(scan(first, "a.bin", "xx needle-one xx")).count("main_rule") == 1);
    auto second = build_ok(o);
    CHECK(second->from_cache());
    // The pack's SHA-256 covers what its files include, the same from the cache.
    const std::vector<std::string> manifest = {"../lib/deeper.inc", "../lib/needle.inc",
                                               "main.yar"};
    const std::string pack_sha = sha256sum_of_manifest(dir / "pack", manifest);
    CHECK(first->packs()[0].sha256 == pack_sha);
    CHECK(second->packs()[0].sha256 == pack_sha);
    REQUIRE(first->packs()[0].includes.size() == 2);

    // The included file changes, the pack's own files do not: the cache must not answer.
    write(dir / "lib/needle.inc",
          "include \"deeper.inc\"\n"
          "rule needle_rule { strings: $a = \"needle-two\" condition: $a and deeper }\n");
    auto third = build_ok(o);
    CHECK_FALSE(third->from_cache());
    CHECK(third->packs()[0].sha256 != pack_sha);
    CHECK(third->packs()[0].sha256 == sha256sum_of_manifest(dir / "pack", manifest));
    CHECK(names(scan(third, "a.bin", "xx needle-one xx")).count("main_rule") == 0);
    CHECK(names(scan(third, "a.bin", "xx needle-two xx")).count("main_rule") == 1);
    CHECK(build_ok(o)->from_cache());  // the fresh compile was cached in turn

    // A change two includes deep counts as well.
    write(dir / "lib/deeper.inc", "rule deeper { condition: false }\n");
    auto fourth = build_ok(o);
    CHECK_FALSE(fourth->from_cache());
    CHECK(fourth->packs()[0].sha256 == sha256sum_of_manifest(dir / "pack", manifest));
    CHECK(build_ok(o)->packs()[0].sha256 == fourth->packs()[0].sha256);  // cached
    CHECK(names(scan(fourth, "a.bin", "xx needle-two xx")).count("main_rule") == 0);

    // An include that is gone: recompiled, and the file is reported as failing.
    fs::remove(dir / "lib/deeper.inc");
    auto fifth = build_ok(o);
    CHECK_FALSE(fifth->from_cache());
    CHECK(fifth->failed_files() == 1);
}
