// `exhibit run`, `seal`, `verify`, `key show` and `note` as an investigator and a lab use
// them, and the README's coreutils+openssl recipe run word for word on a real bundle.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "test_support.hpp"

using namespace exhibit::test;

namespace {

// Every command gets its own key store.
CommandResult run_cli(const TempDir& dir, const std::string& args) {
    return run("EXHIBIT_HOME=" + sh_quote((dir / "home").string()) + " " +
                   sh_quote(cli_path().string()) + " " + args,
               true);
}

// The shell block after the README's marker, exactly as printed there.
std::string readme_recipe() {
    const std::string readme = read_file_text(EXHIBIT_README);
    auto marker = readme.find("<!-- verify-bundle-recipe -->");
    REQUIRE(marker != std::string::npos);
    auto start = readme.find("```sh\n", marker);
    REQUIRE(start != std::string::npos);
    start += 6;
    auto end = readme.find("```\n", start);
    REQUIRE(end != std::string::npos);
    return readme.substr(start, end - start);
}

CommandResult run_recipe(const TempDir& dir, const fs::path& bundle) {
    const fs::path script = dir / "recipe.sh";
    std::ofstream(script) << readme_recipe();
    return run("cd " + sh_quote(bundle.string()) + " && sh -e " + sh_quote(script.string()), true);
}

const std::string kCase =
    " --case OP-BLUEBIRD --exhibit JD/1 --operator 'DC Jane Doe' --operator-id 4711"
    " --warrant W/2026/118 --location 'Custody suite 2' --seized-from '12 Acacia Avenue'";

}  // namespace

TEST_CASE("exhibit run on the sample device: a bundle that verifies with Exhibit and the README",
          "[cli][bundle]") {
    TempDir dir;
    SourceSeal seal({sample_image()});
    const fs::path bundle = dir / "JD1";
    auto r = run_cli(dir, "run " + sh_quote(sample_image().string()) + " --out " +
                              sh_quote(bundle.string()) + kCase + " --image e01");
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("verdict: VERIFIED"));
    CHECK(fs::exists(bundle / "data/image/image.E01"));
    CHECK(fs::exists(dir / "JD1.case/case.sqlite"));

    // The custody log tells the whole job in order.
    std::ifstream log(bundle / "data/custody.jsonl");
    std::vector<std::string> actions;
    for (std::string line; std::getline(log, line);)
        actions.push_back(nlohmann::json::parse(line)["action"]);
    CHECK(actions ==
          std::vector<std::string>{"case_opened", "operator_signed_in", "source_attached",
                                   "write_block_checked", "triage_started", "triage_finished",
                                   "acquisition_started", "acquisition_finished", "bundle_sealed"});

    auto v = run_cli(dir, "verify " + sh_quote(bundle.string()));
    INFO(v.out);
    CHECK(v.exit_code == 0);
    CHECK_THAT(v.out, Catch::Contains("through libewf"));

    auto key = run_cli(dir, "key show --json");
    REQUIRE(key.exit_code == 0);
    const std::string fingerprint = nlohmann::json::parse(key.out)["fingerprint"];
    auto pinned = run_cli(
        dir, "verify " + sh_quote(bundle.string()) + " --trusted-key " + fingerprint + " --json");
    REQUIRE(pinned.exit_code == 0);
    CHECK(nlohmann::json::parse(pinned.out)["verified"] == true);
    auto wrong = run_cli(
        dir, "verify " + sh_quote(bundle.string()) + " --trusted-key " + std::string(64, 'a'));
    CHECK(wrong.exit_code == 5);
    CHECK_THAT(wrong.out, Catch::Contains("not the trusted key"));

    // The README's commands, word for word.
    auto recipe = run_recipe(dir, bundle);
    INFO(recipe.out);
    CHECK(recipe.exit_code == 0);
    CHECK_THAT(recipe.out, Catch::Contains("data/image/image.E01: OK"));
    CHECK_THAT(recipe.out, Catch::Contains("custody chain: 9 lines"));
    CHECK_THAT(recipe.out, Catch::Contains("Signature Verified Successfully"));
    CHECK_THAT(recipe.out, Catch::Contains(fingerprint));
    // ... and they leave the bundle as it was; so does a lab listing the bundle's files.
    const fs::path sealed_db = bundle / "data/case.sqlite";
    SourceSeal sealed({sealed_db});
    auto listed = run_cli(dir, "files " + sh_quote(sealed_db.string()) + " --csv");
    CHECK(listed.exit_code == 0);
    CHECK_THAT(listed.out, Catch::Contains("archive.bin"));
    CHECK(sealed.unchanged());
    CHECK(run_cli(dir, "verify " + sh_quote(bundle.string())).exit_code == 0);
    CHECK(seal.unchanged());
}

TEST_CASE("triage_started names every scanner the run uses", "[cli][bundle]") {
    TempDir dir;
    SourceSeal seal({sample_image()});
    const fs::path keywords = dir / "keywords.txt";
    std::ofstream(keywords) << "bluebird\n";
    const fs::path bundle = dir / "JD1";
    auto r = run_cli(dir, "run " + sh_quote(sample_image().string()) + " --out " +
                              sh_quote(bundle.string()) + kCase +
                              " --image none --rules builtin --keywords " +
                              sh_quote(keywords.string()) + " --scan-unallocated");
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    std::ifstream log(bundle / "data/custody.jsonl");
    nlohmann::json started;
    for (std::string line; std::getline(log, line);) {
        auto j = nlohmann::json::parse(line);
        if (j["action"] == "triage_started") started = j["detail"]["scanners"];
    }
    INFO(started.dump());
    REQUIRE(started.is_array());
    CHECK(started[0] == "hashes (MD5, SHA-1, SHA-256)");
    CHECK(started[1] == "file type (libmagic)");
    CHECK(started[2] == "YARA rule packs: builtin");
    CHECK(started[3] == "case keywords: " + keywords.string());
    CHECK(started[4] == "unallocated space (rules and keywords)");
    CHECK(seal.unchanged());
}

TEST_CASE("the README recipe fails on a re-chained custody log and a forged signature",
          "[cli][bundle]") {
    TempDir dir;
    SourceSeal seal({sample_image()});
    const fs::path bundle = dir / "JD1";
    auto r = run_cli(dir, "run " + sh_quote(sample_image().string()) + " --out " +
                              sh_quote(bundle.string()) + kCase + " --image none");
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.out, Catch::Contains("no acquisition in this bundle"));
    REQUIRE(run_recipe(dir, bundle).exit_code == 0);

    // Edit line 3 and fix up the manifests so only the chain can tell.
    std::vector<std::string> lines;
    {
        std::ifstream in(bundle / "data/custody.jsonl");
        for (std::string l; std::getline(in, l);)
            lines.push_back(l);
    }
    auto j = nlohmann::json::parse(lines[2]);
    j["detail"]["path"] = "/dev/sdz";
    lines[2] = j.dump();
    {
        std::ofstream out(bundle / "data/custody.jsonl", std::ios::trunc);
        for (const auto& l : lines)
            out << l << "\n";
    }
    auto fix = run("cd " + sh_quote(bundle.string()) +
                   " && sha256sum data/* > manifest-sha256.txt"
                   " && sha256sum bag-info.txt bagit.txt manifest-sha256.txt > "
                   "tagmanifest-sha256.txt");
    REQUIRE(fix.exit_code == 0);
    auto recipe = run_recipe(dir, bundle);
    INFO(recipe.out);
    CHECK(recipe.exit_code != 0);
    CHECK_THAT(recipe.out, Catch::Contains("custody line 4: prev is not the SHA-256 of line 3"));
    auto v = run_cli(dir, "verify " + sh_quote(bundle.string()));
    CHECK(v.exit_code == 5);
    CHECK_THAT(v.out, Catch::Contains("custody.jsonl line 4: prev is not the SHA-256 of line 3"));
    CHECK_THAT(v.out, Catch::Contains("FAIL  seal"));
    CHECK(seal.unchanged());
}

TEST_CASE("note and seal from the command line continue the same chain", "[cli][bundle]") {
    TempDir dir;
    SourceSeal seal({sample_image()});
    const std::string store = sh_quote((dir / "sets").string());
    REQUIRE(
        run_cli(dir, "hashset import " +
                         sh_quote(std::string(EXHIBIT_RULES_DIR) + "/hashsets/demo-known-bad.txt") +
                         " --name demo-bad --kind known-bad --store " + store)
            .exit_code == 0);
    auto r = run_cli(dir, "run " + sh_quote(sample_image().string()) + " --out " +
                              sh_quote((dir / "first").string()) + kCase +
                              " --image none --hashsets all --hashset-store " + store);
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    // The triage event names the hash set used by its SHA-256, and the hits it gave.
    const std::string first_log = read_file_text(dir / "first/data/custody.jsonl");
    auto at = first_log.find("\"action\":\"triage_finished\"");
    REQUIRE(at != std::string::npos);
    auto triage =
        nlohmann::json::parse(first_log.substr(at - 1, first_log.find('\n', at) - at + 1));
    CHECK(triage["detail"]["hash_sets"]["sets"][0]["name"] == "demo-bad");
    CHECK(triage["detail"]["hash_sets"]["sets"][0]["sha256"].get<std::string>().size() == 64);
    CHECK(triage["detail"]["hits"]["hashset"].get<int>() > 0);
    const std::string db = sh_quote((dir / "first.case/case.sqlite").string());
    REQUIRE(run_cli(dir, "note " + db + " 'exhibit bag resealed, tape 0042'").exit_code == 0);
    auto s = run_cli(dir, "seal " + db + " --out " + sh_quote((dir / "second").string()));
    INFO(s.out);
    REQUIRE(s.exit_code == 0);
    auto v = run_cli(dir, "verify " + sh_quote((dir / "second").string()));
    INFO(v.out);
    CHECK(v.exit_code == 0);
    const std::string log = read_file_text(dir / "second/data/custody.jsonl");
    CHECK_THAT(log, Catch::Contains("\"action\":\"bundle_verified\""));
    CHECK_THAT(log, Catch::Contains("exhibit bag resealed, tape 0042"));
    // `exhibit custody` reads the log and names the first bad line.
    auto c = run_cli(dir, "custody " + sh_quote((dir / "second/data/custody.jsonl").string()));
    CHECK(c.exit_code == 0);
    CHECK_THAT(c.out,
               Catch::Contains("note_added  {\"text\":\"exhibit bag resealed, tape 0042\"}"));
    CHECK_THAT(c.out, Catch::Contains("chain: intact"));
    std::ofstream(dir / "cut.jsonl") << log.substr(log.find('\n') + 1);
    auto cut = run_cli(dir, "custody " + sh_quote((dir / "cut.jsonl").string()));
    CHECK(cut.exit_code == 5);
    CHECK_THAT(cut.out, Catch::Contains("custody.jsonl line 1: seq is 2, expected 1"));
    // The same output twice is refused, and a missing bundle fails verification.
    CHECK(run_cli(dir, "seal " + db + " --out " + sh_quote((dir / "second").string())).exit_code ==
          4);
    CHECK(run_cli(dir, "verify " + sh_quote((dir / "nothing").string())).exit_code == 5);
    CHECK(seal.unchanged());
}

TEST_CASE("exhibit run on a read-only block device logs its protection and write counters",
          "[cli][bundle][device]") {
    TempDir dir;
    SourceSeal seal({sample_image()});
    LoopDevice loop(sample_image(), true);
    if (loop.device.empty()) {
        WARN("SKIPPED: loop devices need root here");
        return;
    }
    const fs::path bundle = dir / "JD1";
    auto r = run_cli(dir, "run " + sh_quote(loop.device.string()) + " --out " +
                              sh_quote(bundle.string()) + kCase + " --image none");
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    std::ifstream log(bundle / "data/custody.jsonl");
    std::vector<nlohmann::json> checks;
    for (std::string line; std::getline(log, line);) {
        auto j = nlohmann::json::parse(line);
        if (j["action"] == "write_block_checked") checks.push_back(j["detail"]);
        if (j["action"] == "source_attached") CHECK(j["detail"]["type"] == "block device");
    }
    REQUIRE(checks.size() == 2);
    CHECK(checks[0]["stage"] == "before");
    CHECK(checks[0]["result"] == "read-only");
    REQUIRE_FALSE(checks[0]["nodes"].empty());
    for (const auto& node : checks[0]["nodes"]) {
        CHECK(node["blkroget"] == true);
        CHECK(node["sysfs_ro"] == true);
    }
    CHECK(checks[0].contains("counters"));
    CHECK(checks[1]["stage"] == "after");
    CHECK(checks[1]["write_requests_during"] == 0);
    CHECK(checks[1]["counters_after"]["sectors_read"].get<std::uint64_t>() >
          checks[1]["counters_before"]["sectors_read"].get<std::uint64_t>());
    CHECK(seal.unchanged());
}
