// Bad input to every command, as a table: missing, unreadable, wrong-type, empty and huge
// arguments. Each row must end within the time limit (a FIFO must never block a
// command), with its documented exit code and exactly one sentence on stderr that names
// the problem, no crash or stack trace, and nothing left behind: no output created, no
// input changed.
#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>

#include "test_support.hpp"

using namespace exhibit::test;

namespace {

struct Row {
    std::string what;      // what the operator did wrong
    std::string args;      // the command line after `exhibit`, quoted for sh
    int code;              // the documented exit code (README "Exit codes")
    std::string mentions;  // the sentence must contain this
    std::string creates;   // a path that must not exist afterwards ("" when none)
};

}  // namespace

TEST_CASE("every command refuses bad input in one sentence with its exit code",
          "[cli][errors][table]") {
    TempDir dir;
    const fs::path empty = dir / "empty";
    const fs::path text = dir / "notes.txt";
    const fs::path fifo = dir / "fifo";
    const fs::path folder = dir / "folder";
    const fs::path bag = dir / "bag-with-fifo";
    { std::ofstream(empty, std::ios::binary); }
    { std::ofstream(text) << "just text\n"; }
    REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
    fs::create_directories(folder);
    fs::create_directories(bag / "data");
    REQUIRE(::mkfifo((bag / "bagit.txt").c_str(), 0644) == 0);
    REQUIRE(::mkfifo((bag / "data/custody.jsonl").c_str(), 0644) == 0);

    auto q = [](const fs::path& p) { return sh_quote(p.string()); };
    const std::string sample = q(sample_image());
    const std::string huge(5000, 'x');  // longer than any file name may be
    const std::string out = q(dir / "out");
    const std::string job = " --case C1 --exhibit JD/1 --operator Doe --operator-id 4711";
    const std::string run_sample = "run " + sample + " --out " + out + job;

    const std::vector<Row> rows = {
        {"no command", "", 2, "subcommand is required", ""},
        {"an unknown command", "frobnicate", 2, "frobnicate", ""},
        {"an unknown option", "triage " + sample + " --case-db " + q(dir / "c.sqlite") + " --bogus",
         2, "--bogus", (dir / "c.sqlite").string()},
        {"info without a source", "info", 2, "SOURCE is required", ""},
        {"info on a missing file", "info " + q(dir / "nope.E01"), 3, "does not exist", ""},
        {"info on a folder", "info " + q(folder), 2, "is a directory", ""},
        {"info on a FIFO", "info " + q(fifo), 2, "neither an image file nor a block device", ""},
        {"info on an empty file", "info " + q(empty), 3, "is empty (0 bytes)", ""},
        {"info on a name too long for any file system", "info " + huge, 3, "too long", ""},
        {"acquire of an empty file", "acquire " + q(empty) + " --out " + out, 3,
         "is empty (0 bytes)", (dir / "out").string()},
        {"acquire into a FIFO", "acquire " + sample + " --out " + q(fifo), 4,
         "exists and is not a directory", ""},
        {"acquire with a huge segment size",
         "acquire " + sample + " --out " + out + " --segment-size 99999999999T", 2, "99999999999T",
         (dir / "out").string()},
        {"triage of a FIFO", "triage " + q(fifo) + " --case-db " + q(dir / "c.sqlite"), 2,
         "neither an image file nor a block device", (dir / "c.sqlite").string()},
        {"triage of an empty file", "triage " + q(empty) + " --case-db " + q(dir / "c.sqlite"), 3,
         "is empty (0 bytes)", (dir / "c.sqlite").string()},
        {"triage into an unnamed case database", "triage " + sample + " --case-db ''", 4,
         "no case database was named", ""},
        {"triage into a FIFO", "triage " + sample + " --case-db " + q(fifo), 4,
         "not a regular file", ""},
        {"files of an empty file", "files " + q(empty), 3, "the file is empty", ""},
        {"files of a FIFO", "files " + q(fifo), 3, "not a regular file", ""},
        {"files of a text file", "files " + q(text), 3, "not an SQLite file", ""},
        {"files of a disk image", "files " + sample, 3, "not an SQLite file", ""},
        {"seal of an empty file", "seal " + q(empty) + " --out " + out, 3, "the file is empty",
         (dir / "out").string()},
        {"seal of a text file", "seal " + q(text) + " --out " + out, 3, "not an SQLite file",
         (dir / "out").string()},
        {"note in an empty file", "note " + q(empty) + " 'seen'", 3, "the file is empty", ""},
        {"note in a missing case", "note " + q(dir / "nope.sqlite") + " 'seen'", 2,
         "does not exist", (dir / "nope.sqlite").string()},
        {"report of an empty file", "report " + q(empty) + " --out " + q(dir / "r.html"), 3,
         "the file is empty", (dir / "r.html").string()},
        {"custody of a FIFO", "custody " + q(fifo), 3, "not a regular file", ""},
        {"custody of an empty log", "custody " + q(empty), 5, "is empty: it holds no events", ""},
        {"custody of a text file", "custody " + q(text), 5, "line 1: is not a JSON object", ""},
        {"verify of a missing bundle", "verify " + q(dir / "nope"), 5, "not a directory", ""},
        {"verify of a file", "verify " + q(text), 5, "not a directory", ""},
        {"verify of a bag holding FIFOs", "verify " + q(bag), 5, "failed verification", ""},
        {"hashset import of a FIFO",
         "hashset import " + q(fifo) + " --name x --kind known-bad --store " + q(dir / "store"), 3,
         "not a regular file", (dir / "store").string()},
        {"hashset import of an empty list",
         "hashset import " + q(empty) + " --name x --kind known-bad --store " + q(dir / "store"), 3,
         "no hashes found", (dir / "store").string()},
        {"hashset import of a wrong kind",
         "hashset import " + q(text) + " --name x --kind bad --store " + q(dir / "store"), 2,
         "--kind", (dir / "store").string()},
        {"run with a FIFO as keyword list", run_sample + " --keywords " + q(fifo), 2,
         "keyword list " + fifo.string() + " is not a regular file", (dir / "out").string()},
        {"run with an empty keyword list", run_sample + " --keywords " + q(empty), 2, "no terms",
         (dir / "out").string()},
        {"run with a missing rule pack", run_sample + " --rules " + q(dir / "nope.yar"), 2,
         "does not exist", (dir / "out").string()},
        {"run with a FIFO as rule pack", run_sample + " --rules " + q(fifo), 2,
         "neither a file nor a directory", (dir / "out").string()},
        {"run without an operator id",
         "run " + sample + " --out " + out + " --case C1 --exhibit JD/1 --operator Doe", 2,
         "--operator-id", (dir / "out").string()},
        {"run with a parser stall of 0 s", run_sample + " --parser-stall 0", 2, "--parser-stall",
         (dir / "out").string()},
        {"triage with a parser stall that is not a number",
         "triage " + sample + " --case-db " + q(dir / "c.sqlite") + " --parser-stall soon", 2,
         "--parser-stall", (dir / "c.sqlite").string()},
        {"protect of a regular file", "protect " + q(text), 3, "is not a block device", ""},
    };

    SourceSeal seal({sample_image(), text});
    const fs::path err = dir / "stderr";
    for (const Row& row : rows) {
        INFO(row.what << ": exhibit " << row.args.substr(0, 300));
        // KILL, not TERM: the CLI treats TERM as a cancel and would wait on a blocked read.
        auto r = run("EXHIBIT_HOME=" + q(dir / "home") + " timeout -s KILL 30 " +
                     sh_quote(cli_path().string()) + " " + row.args + " >/dev/null 2>" + q(err));
        const std::string said = read_file_text(err);
        INFO("stderr: " << said.substr(0, 600));
        CHECK(r.exit_code != 137);  // it did not hang
        CHECK(r.exit_code == row.code);
        CHECK_THAT(said, Catch::StartsWith("exhibit: "));
        CHECK(std::count(said.begin(), said.end(), '\n') == 1);
        CHECK_THAT(said, Catch::Contains(row.mentions));
        for (const char* crash : {"terminate called", "Aborted", "Segmentation", "what():"})
            CHECK_THAT(said, !Catch::Contains(crash));
        if (!row.creates.empty()) CHECK_FALSE(fs::exists(row.creates));
        CHECK(fs::file_size(empty) == 0);  // never turned into a database or a log
        CHECK(fs::is_fifo(fifo));
    }
    CHECK(seal.unchanged());
}
