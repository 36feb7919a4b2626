// Case keywords: the list format, bad terms by line, ASCII / UTF-16LE / regex matching.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "exhibit/file_walk.hpp"
#include "exhibit/rules.hpp"
#include "test_support.hpp"

using namespace exhibit;
using namespace exhibit::test;

namespace {

fs::path write_list(const TempDir& dir, const std::string& text) {
    fs::path p = dir / "keywords.txt";
    std::ofstream(p, std::ios::binary) << text;
    return p;
}

std::string utf16le(const std::string& ascii) {
    std::string out;
    for (char c : ascii) {
        out += c;
        out += '\0';
    }
    return out;
}

std::vector<Hit> scan_keywords(const fs::path& list, const std::string& bytes) {
    auto y = YaraLibrary::initialize();
    REQUIRE(y);
    auto rules = CompiledRules::build(*y, {.packs = {}, .keywords = list, .cache_dir = {}});
    if (!rules) FAIL(rules.error().message);
    auto scanner = make_yara_scanner_factory(*rules, {}, {})();
    FileEntry f;
    f.name = "doc.txt";
    f.path = "doc.txt";
    f.size = bytes.size();
    scanner->begin(f);
    scanner->update({reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()});
    FileFindings findings;
    scanner->finish(findings);
    return findings.hits;
}

const Hit* find(const std::vector<Hit>& hits, const std::string& name) {
    for (const auto& h : hits)
        if (h.name == name) return &h;
    return nullptr;
}

}  // namespace

TEST_CASE("keyword lists: comments, blanks, trimming, regexes, CRLF", "[keywords]") {
    TempDir dir;
    auto list = read_keyword_list(
        write_list(dir,
                   "\xef\xbb\xbf# case OP-BLUEBIRD\r\n\r\n  operation bluebird  \r\n"
                   "/4929-[0-9]{4}-[0-9]{4}-[0-9]{4}/\r\n#/not a term/\r\ncafé\r\n"));
    REQUIRE(list);
    REQUIRE(list->size() == 3);
    CHECK((*list)[0].line == 3);
    CHECK((*list)[0].term == "operation bluebird");
    CHECK_FALSE((*list)[0].regex);
    CHECK((*list)[1].line == 4);
    CHECK((*list)[1].regex);
    CHECK((*list)[2].term == "café");

    auto empty = read_keyword_list(write_list(dir, "# nothing\n\n"));
    REQUIRE_FALSE(empty);
    CHECK_THAT(empty.error().message, Catch::Contains("no terms"));
}

TEST_CASE("a bad term is reported with its line number", "[keywords]") {
    TempDir dir;
    fs::path list = write_list(dir, "# terms\ngood term\n\n/unclosed[group/\nfine\n/a{99999}/\n");
    auto y = YaraLibrary::initialize();
    REQUIRE(y);
    auto rules = CompiledRules::build(*y, {.packs = {}, .keywords = list, .cache_dir = {}});
    REQUIRE_FALSE(rules);
    const std::string& m = rules.error().message;
    INFO(m);
    CHECK_THAT(m, Catch::Contains(list.string()));
    CHECK_THAT(m, Catch::Contains("line 4 (/unclosed[group/)"));
    CHECK_THAT(m, Catch::Contains("line 6"));
    CHECK_THAT(m, !Catch::Contains("line 2"));
    CHECK_THAT(m, !Catch::Contains("line 5"));
}

TEST_CASE("a regex term cannot end early and add rules of its own", "[keywords]") {
    TempDir dir;
    // Found by fuzz_keywords: the text after an inner '/' went into the generated YARA
    // source as rule syntax, here a second rule that matches every file.
    fs::path list = write_list(dir, "fine\n/a/ condition: $k } rule extra { strings: $k = /b/\n");
    auto terms = read_keyword_list(list);
    REQUIRE_FALSE(terms);
    CHECK_THAT(terms.error().message, Catch::Contains(list.string() + " line 2"));
    CHECK_THAT(terms.error().message, Catch::Contains("write an inner slash as \\/"));
    // An escaped slash is fine, an escaped closing slash is not.
    auto escaped = read_keyword_list(write_list(dir, "/path\\/to\\/secret/\n"));
    REQUIRE(escaped);
    CHECK((*escaped)[0].term == "/path\\/to\\/secret/");
    CHECK_FALSE(read_keyword_list(write_list(dir, "/ends-in-escape\\/\n")));
}

TEST_CASE("keywords match case-insensitively as ASCII and UTF-16LE, with offsets and context",
          "[keywords]") {
    TempDir dir;
    fs::path list =
        write_list(dir, "operation bluebird\n/4929-[0-9]{4}-[0-9]{4}-[0-9]{4}/\ncafé\nabsent\n");
    std::string text = "Memo: OPERATION Bluebird starts.\n" +
                       utf16le("the card 4929-1234-5678-9012.") + "\nmeet at the café; " +
                       std::string("c\0a\0f\0\xe9\0", 8);
    auto hits = scan_keywords(list, text);
    CHECK(hits.size() == 3);
    const Hit* op = find(hits, "operation bluebird");
    REQUIRE(op);
    CHECK(op->kind == "keyword");
    auto d = nlohmann::json::parse(op->detail);
    CHECK(d["line"] == 1);
    REQUIRE(d["matches"].size() == 1);
    CHECK(d["matches"][0]["offset"] == 6);
    CHECK(d["matches"][0]["encoding"] == "ascii");
    CHECK_THAT(d["matches"][0]["context"].get<std::string>(),
               Catch::Contains("OPERATION Bluebird starts"));

    const Hit* card = find(hits, "/4929-[0-9]{4}-[0-9]{4}-[0-9]{4}/");
    REQUIRE(card);
    d = nlohmann::json::parse(card->detail);
    REQUIRE(d["matches"].size() == 1);
    CHECK(d["matches"][0]["encoding"] == "utf-16le");
    CHECK(d["matches"][0]["offset"] == 33 + 2 * 9);
    CHECK_THAT(d["matches"][0]["context"].get<std::string>(),
               Catch::Contains("the card 4929-1234-5678-9012."));

    const Hit* cafe = find(hits, "café");
    REQUIRE(cafe);
    d = nlohmann::json::parse(cafe->detail);
    CHECK(d["match_count"] == 2);  // UTF-8 and UTF-16LE
    CHECK(find(hits, "absent") == nullptr);
}
