// `exhibit hashset import|list` and `exhibit triage --hashsets` on the sample device: every
// file's verdict and hits in the case database checked against the lists themselves.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "exhibit/case_db.hpp"
#include "test_support.hpp"

using namespace exhibit;
using namespace exhibit::test;

namespace {

const fs::path kRules = EXHIBIT_RULES_DIR;

std::string cli() {
    return sh_quote(cli_path().string());
}

// The digests a list file names (first word of each line that is not a comment),
// lowercase: the test's own reading, independent of the importer.
std::set<std::string> digests_in(const fs::path& list) {
    std::set<std::string> out;
    std::istringstream in(read_file_text(list));
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::string word = line.substr(0, line.find(' '));
        for (char& c : word)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        out.insert(word);
    }
    return out;
}

bool listed(const std::set<std::string>& set, const Hashes& h) {
    return set.count(h.md5) || set.count(h.sha1) || set.count(h.sha256);
}

struct HitRow {
    std::string name, category, severity;
    nlohmann::json detail;
};

// Hits by file path (sqlite directly: the case database's own reader has no hits query).
std::multimap<std::string, HitRow> hits_by_path(const fs::path& db_path) {
    std::multimap<std::string, HitRow> out;
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    REQUIRE(sqlite3_prepare_v2(db,
                               "SELECT f.path, h.kind, h.name, IFNULL(h.category,''), h.severity, "
                               "h.detail FROM hits h JOIN files f ON f.id = h.file_id",
                               -1, &s, nullptr) == SQLITE_OK);
    while (sqlite3_step(s) == SQLITE_ROW) {
        auto text = [&](int c) {
            return std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, c)));
        };
        CHECK(text(1) == "hashset");
        out.emplace(text(0), HitRow{text(2), text(3), text(4), nlohmann::json::parse(text(5))});
    }
    sqlite3_finalize(s);
    sqlite3_close(db);
    return out;
}

}  // namespace

TEST_CASE("triage --hashsets marks every sample file exactly and records the hits",
          "[hashset][cli][sample]") {
    TempDir dir;
    const fs::path store = dir / "store";
    const fs::path bad = kRules / "hashsets/demo-known-bad.txt";
    const fs::path good = kRules / "hashsets/demo-known-good.txt";
    // A watch list: family.jpg, and archive.bin which is also known-bad (by its MD5 here).
    const auto truth = sample_truth();
    auto truth_row = [&](const std::string& suffix) {
        for (const auto& r : truth) {
            if (r.path.ends_with(suffix)) return r;
        }
        FAIL("no truth row " << suffix);
        return TruthRow{};
    };
    const fs::path watch = dir / "watch.md5";
    {
        std::ofstream out(watch);
        out << truth_row("/family.jpg").sha256 << "  family.jpg\n"
            << truth_row("/archive.bin").md5 << "  archive.bin\n";
    }
    SourceSeal seal({sample_image(), bad, good, watch});

    auto imported = run(cli() + " hashset import " + sh_quote(bad.string()) +
                        " --name demo-bad --kind known-bad --category demo --store " +
                        sh_quote(store.string()));
    REQUIRE(imported.exit_code == 0);
    CHECK(imported.out.find("imported:   5 (md5 1, sha1 1, sha256 3)") != std::string::npos);
    CHECK(imported.out.find("duplicates: 0") != std::string::npos);
    CHECK(imported.out.find("malformed:  0") != std::string::npos);
    const std::string bad_sha256 = coreutils_digest("sha256sum", bad);
    CHECK(imported.out.find("sha256:     " + bad_sha256) != std::string::npos);
    REQUIRE(run(cli() + " hashset import " + sh_quote(good.string()) +
                " --name demo-good --kind known-good --store " + sh_quote(store.string()))
                .exit_code == 0);
    REQUIRE(run(cli() + " hashset import " + sh_quote(watch.string()) +
                " --name watch --kind watch --format list --store " + sh_quote(store.string()))
                .exit_code == 0);

    auto list = run(cli() + " hashset list --json --store " + sh_quote(store.string()));
    REQUIRE(list.exit_code == 0);
    auto sets = nlohmann::json::parse(list.out);
    REQUIRE(sets.size() == 3);
    CHECK(sets[0]["name"] == "demo-bad");
    CHECK(sets[0]["sha256"] == bad_sha256);
    CHECK(sets[0]["categories"] == nlohmann::json::array({"demo"}));
    CHECK(sets[1]["counts"]["imported"] == 6);

    const fs::path case_db = dir / "case.sqlite";
    auto triage = run(cli() + " triage " + sh_quote(sample_image().string()) + " --case-db " +
                      sh_quote(case_db.string()) + " --hashsets demo-bad,demo-good,watch " +
                      "--hashset-store " + sh_quote(store.string()) + " --json");
    INFO(triage.out);
    REQUIRE(triage.exit_code == 0);
    auto summary = nlohmann::json::parse(triage.out)["hash_sets"];

    // The oracle: each list's digests as the test reads them.
    const auto bad_set = digests_in(bad), good_set = digests_in(good),
               watch_set = digests_in(watch);
    auto db = CaseDatabase::open(case_db);
    REQUIRE(db);
    auto rows = (*db)->files({});
    REQUIRE(rows);
    auto hits = hits_by_path(case_db);
    std::map<std::string, std::uint64_t> counts;
    std::size_t hashed = 0;
    for (const auto& row : *rows) {
        const FileEntry& f = row.entry;
        INFO(f.path);
        const Hashes& h = f.findings.hashes;
        if (!f.content_read) {
            CHECK(f.findings.hash_status.empty());
            continue;
        }
        ++hashed;
        std::string expected = listed(bad_set, h)     ? "known-bad"
                               : listed(watch_set, h) ? "watch"
                               : listed(good_set, h)  ? "known-good"
                                                      : "unknown";
        CHECK(f.findings.hash_status == expected);
        ++counts[f.findings.hash_status];
        std::size_t expected_hits = (listed(bad_set, h) ? 1 : 0) + (listed(watch_set, h) ? 1 : 0);
        CHECK(hits.count(f.path) == expected_hits);
    }
    CHECK(hashed > 25);
    CHECK(summary["known-bad"] == counts["known-bad"]);
    CHECK(summary["watch"] == counts["watch"]);
    CHECK(summary["known-good"] == counts["known-good"]);
    CHECK(summary["unknown"] == counts["unknown"]);
    CHECK(summary["sets"].size() == 3);
    CHECK(counts["known-bad"] >= 2);  // the allocated ones at least (recovery not required)
    CHECK(counts["watch"] == 1);
    CHECK(counts["known-good"] >= 5);

    // Named files, by what matched.
    auto status_of = [&](const std::string& path) {
        for (const auto& row : *rows) {
            if (row.entry.path == path) return row.entry.findings.hash_status;
        }
        return std::string("absent");
    };
    CHECK(status_of("Users/alice/Documents/projects/bluebird/archive.bin") == "known-bad");
    CHECK(status_of("Users/carol/Documents/projects/travel/itinerary.txt:hidden") == "known-bad");
    CHECK(status_of("Users/carol/Pictures/family.jpg") == "watch");
    CHECK(status_of("Users/alice/Pictures/holiday_001.jpg") == "known-good");
    CHECK(status_of("etc/hostname") == "known-good");
    CHECK(status_of("Users/alice/Documents/notes.txt") == "unknown");
    CHECK(hits.count("Users/alice/Pictures/holiday_001.jpg") == 0);

    auto archive = hits.equal_range("Users/alice/Documents/projects/bluebird/archive.bin");
    std::map<std::string, HitRow> by_set;
    for (auto it = archive.first; it != archive.second; ++it)
        by_set[it->second.name] = it->second;
    REQUIRE(by_set.size() == 2);
    CHECK(by_set["demo-bad"].severity == "known-bad");
    CHECK(by_set["demo-bad"].category == "demo");
    CHECK(by_set["demo-bad"].detail["algorithm"] == "sha256");
    CHECK(by_set["demo-bad"].detail["hash"] == truth_row("/archive.bin").sha256);
    CHECK(by_set["demo-bad"].detail["set_sha256"] == bad_sha256);
    CHECK(by_set["watch"].severity == "watch");
    CHECK(by_set["watch"].detail["algorithm"] == "md5");
    CHECK(by_set["watch"].detail["hash"] == truth_row("/archive.bin").md5);

    // Deleted planted files, when TSK recovers them intact, match by MD5 and SHA-1.
    for (const auto& [suffix, algorithm] :
         {std::pair{"wallet_keys.txt", "md5"}, std::pair{"drop_location.jpg", "sha1"}}) {
        const TruthRow t = truth_row(suffix);
        for (const auto& row : *rows) {
            if ("/" + row.entry.path != t.path || row.entry.findings.hashes.sha256 != t.sha256)
                continue;
            CHECK(row.entry.findings.hash_status == "known-bad");
            auto hit = hits.find(row.entry.path);
            REQUIRE(hit != hits.end());
            CHECK(hit->second.detail["algorithm"] == algorithm);
        }
    }

    // The text summary names the sets and counts the verdicts.
    auto text = run(cli() + " triage " + sh_quote(sample_image().string()) + " --case-db " +
                    sh_quote((dir / "text.sqlite").string()) + " --hashsets all --hashset-store " +
                    sh_quote(store.string()));
    REQUIRE(text.exit_code == 0);
    CHECK(text.out.find("hash-set verdicts: " + std::to_string(counts["known-bad"]) +
                        " known-bad, 1 watch, " + std::to_string(counts["known-good"]) +
                        " known-good, " + std::to_string(counts["unknown"]) + " unknown") !=
          std::string::npos);
    CHECK(text.out.find("demo-bad (known-bad, sha256 " + bad_sha256 + ")") != std::string::npos);
    CHECK(seal.unchanged());
}

TEST_CASE("hashset and triage --hashsets refuse bad input in one sentence",
          "[hashset][cli][errors]") {
    TempDir dir;
    const std::string store = sh_quote((dir / "hashsets").string());
    const fs::path good = kRules / "hashsets/demo-known-good.txt";
    SourceSeal seal({sample_image(), good});

    auto missing = run(cli() + " hashset import " + sh_quote((dir / "nope.txt").string()) +
                           " --name x --kind known-bad --store " + store,
                       true);
    CHECK(missing.exit_code == 3);
    CHECK(missing.out.starts_with("exhibit: cannot read hash-set source"));

    auto kind = run(cli() + " hashset import " + sh_quote(good.string()) +
                        " --name x --kind evil --store " + store,
                    true);
    CHECK(kind.exit_code == 2);

    REQUIRE(run(cli() + " hashset import " + sh_quote(good.string()) +
                " --name good --kind known-good --store " + store)
                .exit_code == 0);
    auto again = run(cli() + " hashset import " + sh_quote(good.string()) +
                         " --name good --kind known-good --store " + store,
                     true);
    CHECK(again.exit_code == 4);
    CHECK(again.out.find("already exists") != std::string::npos);

    std::ofstream(dir / "words.txt") << "not\na\nhash\n";
    auto words = run(cli() + " hashset import " + sh_quote((dir / "words.txt").string()) +
                         " --name words --kind known-bad --store " + store,
                     true);
    CHECK(words.exit_code == 3);
    CHECK(words.out.find("no hashes found in") != std::string::npos);
    CHECK(words.out.find("words.txt:1") != std::string::npos);

    auto unknown = run(cli() + " triage " + sh_quote(sample_image().string()) + " --case-db " +
                           sh_quote((dir / "c.sqlite").string()) +
                           " --hashsets good,bogus --hashset-store " + store,
                       true);
    CHECK(unknown.exit_code == 2);
    CHECK(unknown.out == "exhibit: no hash set named 'bogus' in " + (dir / "hashsets").string() +
                             " (see `exhibit hashset list`)\n");
    CHECK_FALSE(fs::exists(dir / "c.sqlite"));  // refused before anything was written

    // EXHIBIT_HOME decides the default store.
    auto listed =
        run("EXHIBIT_HOME=" + sh_quote(dir.path().string()) + " " + cli() + " hashset list");
    CHECK(listed.exit_code == 0);
    CHECK(listed.out.starts_with("good\tknown-good\t6 hashes"));
    CHECK(seal.unchanged());
}

TEST_CASE("hashset lookup answers per hash with the matching sets", "[hashset][cli]") {
    TempDir dir;
    const std::string store = sh_quote((dir / "store").string());
    const fs::path bad = kRules / "hashsets/demo-known-bad.txt";
    const fs::path good = kRules / "hashsets/demo-known-good.txt";
    REQUIRE(run(cli() + " hashset import " + sh_quote(bad.string()) +
                " --name bad --kind known-bad --category demo --store " + store)
                .exit_code == 0);
    REQUIRE(run(cli() + " hashset import " + sh_quote(good.string()) + " " +
                sh_quote(bad.string()) + " --name both --kind known-good --store " + store)
                .exit_code == 0);
    const std::string card = "EF5E282F54E3E9C16D75E024DE32EBC8359C3268534404E4E06F26B437EECAA0";
    const std::string holiday = "92ff1a7e543fb47c54c28c3c19b8b6e1";
    const std::string other = std::string(64, 'a');
    auto found = run(cli() + " hashset lookup " + card + " " + holiday + " " + other +
                     " nothex --store " + store);
    REQUIRE(found.exit_code == 0);
    CHECK(found.out == card + "\tknown-bad\tbad:demo,both\n" + holiday + "\tknown-good\tboth\n" +
                           other + "\tunknown\nnothex\tmalformed\n");
    std::ofstream(dir / "q.txt") << card << "\n" << other << "\n";
    auto counted = run(cli() + " hashset lookup --from " + sh_quote((dir / "q.txt").string()) +
                       " --count --hashsets both --store " + store);
    REQUIRE(counted.exit_code == 0);
    CHECK(counted.out == "known-bad\t0\nwatch\t0\nknown-good\t1\nunknown\t1\nmalformed\t0\n");
}
