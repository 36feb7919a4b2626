// `exhibit triage` and `exhibit files` as an examiner uses them.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>

#include "test_support.hpp"

using namespace exhibit::test;

namespace {

CommandResult run_cli(const std::string& args, bool with_stderr = true) {
    return run(sh_quote(cli_path().string()) + " " + args, with_stderr);
}

}  // namespace

TEST_CASE("triage then files: the sample device in a case database", "[cli][triage]") {
    TempDir dir;
    SourceSeal seal({sample_image()});
    const std::string db = sh_quote((dir / "case.sqlite").string());
    auto t = run_cli("triage " + sh_quote(sample_image().string()) + " --case-db " + db + " --json",
                     false);
    INFO(t.out);
    REQUIRE(t.exit_code == 0);
    auto j = nlohmann::json::parse(t.out);
    CHECK(j["status"] == "completed");
    CHECK(j["files_hashed"].get<int>() > 25);
    CHECK(j["errors"] == 0);

    auto jpegs = run_cli("files " + db + " --type image/jpeg --csv", false);
    REQUIRE(jpegs.exit_code == 0);
    std::istringstream lines(jpegs.out);
    std::string header;
    std::getline(lines, header);
    CHECK_THAT(header, Catch::StartsWith("run,file_system,fs_offset,path"));
    int rows = 0;
    for (std::string line; std::getline(lines, line);) {
        CHECK_THAT(line, Catch::Contains("image/jpeg"));
        ++rows;
    }
    CHECK(rows >= 4);

    auto deleted = run_cli("files " + db + " --deleted", false);
    REQUIRE(deleted.exit_code == 0);
    std::istringstream dl(deleted.out);
    int deleted_rows = 0;
    for (std::string line; std::getline(dl, line);) {
        CHECK_THAT(line, Catch::Contains(" * "));
        ++deleted_rows;
    }
    CHECK(deleted_rows >= 6);

    auto alice = run_cli("files " + db + " --path 'Users/alice/*'", false);
    REQUIRE(alice.exit_code == 0);
    CHECK_THAT(alice.out, Catch::Contains("Users/alice/"));
    CHECK_THAT(alice.out, !Catch::Contains("Users/bob/"));

    // The bodyfile renders as a timeline with TSK's own mactime.
    auto body = run_cli("files " + db + " --bodyfile > " + sh_quote((dir / "body.txt").string()));
    REQUIRE(body.exit_code == 0);
    auto timeline = run("mactime -b " + sh_quote((dir / "body.txt").string()) + " -d", true);
    INFO(timeline.out.substr(0, 2000));
    CHECK(timeline.exit_code == 0);
    CHECK_THAT(timeline.out, Catch::Contains("Users/alice/"));
    CHECK(seal.unchanged());
}

TEST_CASE("triage and files refuse bad input in one sentence", "[cli][triage][errors]") {
    TempDir dir;
    auto missing =
        run_cli("triage /no/such.E01 --case-db " + sh_quote((dir / "c.sqlite").string()));
    CHECK(missing.exit_code == 3);
    CHECK_THAT(missing.out, Catch::StartsWith("exhibit: "));
    CHECK_THAT(missing.out, Catch::Contains("/no/such.E01"));

    auto no_db = run_cli("triage " + sh_quote(sample_image().string()));
    CHECK(no_db.exit_code == 2);
    CHECK_THAT(no_db.out, Catch::Contains("--case-db"));

    run("echo 'just text' > " + sh_quote((dir / "notes.txt").string()));
    auto not_db = run_cli("files " + sh_quote((dir / "notes.txt").string()));
    CHECK(not_db.exit_code == 3);
    CHECK_THAT(not_db.out, Catch::Contains("notes.txt"));

    auto both = run_cli("files " + sh_quote((dir / "notes.txt").string()) + " --csv --bodyfile");
    CHECK(both.exit_code == 2);
}

TEST_CASE("files --dfxml is well-formed DFXML carrying every hashed file's digests",
          "[cli][triage][dfxml]") {
    TempDir dir;
    SourceSeal seal({sample_image()});
    const std::string db = sh_quote((dir / "case.sqlite").string());
    REQUIRE(run_cli("triage " + sh_quote(sample_image().string()) + " --case-db " + db).exit_code ==
            0);
    const std::string xml = sh_quote((dir / "files.dfxml").string());
    REQUIRE(run_cli("files " + db + " --dfxml > " + xml).exit_code == 0);
    auto lint = run("xmllint --noout " + xml, true);
    INFO(lint.out);
    CHECK(lint.exit_code == 0);
    auto count = run("grep -c \"<hashdigest type='sha256'>\" " + xml);
    auto hashed = run_cli("files " + db + " --csv | awk -F, 'NR>1 && $15 != \"\"' | wc -l", false);
    CHECK(std::stoi(count.out) == std::stoi(hashed.out));
    CHECK(std::stoi(count.out) > 25);
    CHECK(seal.unchanged());
}
