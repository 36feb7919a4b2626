// The custody log and the appliance key store.
#include <sqlite3.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "exhibit/custody.hpp"
#include "exhibit/keys.hpp"
#include "test_support.hpp"

using namespace exhibit;
using namespace exhibit::test;

namespace {

CaseRecord sample_case() {
    CaseRecord c;
    c.case_reference = "OP-BLUEBIRD";
    c.exhibit_reference = "JD/1";
    c.warrant_reference = "W/2026/118";
    c.operator_name = "DC Jane Doe";
    c.operator_id = "4711";
    c.location = "Custody suite 2";
    c.seized_from = "12 Acacia Avenue";
    return c;
}

std::string jsonl(CustodyLog& log) {
    std::ostringstream out;
    REQUIRE(log.write_jsonl(out));
    return out.str();
}

unsigned mode_of(const fs::path& p) {
    struct stat st {};
    REQUIRE(::stat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("custody events chain by SHA-256 and verify line by line", "[custody]") {
    TempDir dir;
    auto db = CaseDatabase::open(dir / "case.sqlite");
    REQUIRE(db);
    REQUIRE(open_case(**db, sample_case()));
    CustodyLog log(**db);
    auto note = log.append({"DC Jane Doe", "4711"}, custody_action::kNoteAdded,
                           R"({"text":"bag JD/1 sealed with tamper tape 0042"})");
    REQUIRE(note);
    CHECK(note->seq == 3);

    const std::string text = jsonl(log);
    std::istringstream in(text);
    std::string prev(64, '0'), last_line;
    int n = 0;
    for (std::string line; std::getline(in, line);) {
        last_line = line;
        ++n;
        auto j = nlohmann::json::parse(line);
        CHECK(j["seq"] == n);
        CHECK(j["prev"] == prev);
        CHECK_THAT(j["time"].get<std::string>(),
                   Catch::Matches(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)"));
        CHECK(j["operator"]["id"] == "4711");
        CHECK(j["detail"].contains("clock"));
        CHECK(j["detail"]["clock"]["source"].is_string());
        // The chain uses the line's bytes exactly as exported; sha256sum agrees.
        prev = sha256_hex(line);
    }
    CHECK(n == 3);
    CHECK(nlohmann::json::parse(text.substr(0, text.find('\n')))["action"] == "case_opened");

    auto v = verify_custody_chain(text);
    INFO(v.problem);
    CHECK(v.ok);
    CHECK(v.lines == 3);
    CHECK(v.head == note->sha256);
    CHECK(v.head == prev);

    // The same hash coreutils computes over the line without its LF.
    fs::path last = dir / "last.txt";
    {
        std::ofstream f(last, std::ios::binary);
        f << last_line;
    }
    CHECK(coreutils_digest("sha256sum", last) == note->sha256);
}

TEST_CASE("the custody log refuses UPDATE and DELETE", "[custody]") {
    TempDir dir;
    auto db = CaseDatabase::open(dir / "case.sqlite");
    REQUIRE(db);
    REQUIRE(open_case(**db, sample_case()));
    CHECK(sqlite3_exec((*db)->handle(), "UPDATE custody_events SET line = 'x' WHERE seq = 1",
                       nullptr, nullptr, nullptr) != SQLITE_OK);
    CHECK(sqlite3_exec((*db)->handle(), "DELETE FROM custody_events", nullptr, nullptr, nullptr) !=
          SQLITE_OK);
    CustodyLog log(**db);
    CHECK(verify_custody_chain(jsonl(log)).ok);
    // A second case in the same database is refused.
    CHECK_FALSE(open_case(**db, sample_case()));
}

TEST_CASE("a case is recorded only together with its case_opened event", "[custody]") {
    TempDir dir;
    auto db = CaseDatabase::open(dir / "case.sqlite");
    REQUIRE(db);
    sqlite3* h = (*db)->handle();
    // Any failure to write the event (here a trigger; in the field a power cut or a full
    // drive) must take the case row with it, so that a rerun can open the case again.
    REQUIRE(sqlite3_exec(h,
                         "CREATE TEMP TRIGGER refuse BEFORE INSERT ON custody_events "
                         "BEGIN SELECT RAISE(ABORT, 'refused'); END",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    CHECK_FALSE(open_case(**db, sample_case()));
    auto none = read_case(**db);
    REQUIRE(none);
    CHECK_FALSE(none->has_value());
    REQUIRE(sqlite3_exec(h, "DROP TRIGGER temp.refuse", nullptr, nullptr, nullptr) == SQLITE_OK);

    REQUIRE(open_case(**db, sample_case()));
    auto opened = read_case(**db);
    REQUIRE(opened);
    REQUIRE(opened->has_value());
    CHECK((*opened)->case_reference == "OP-BLUEBIRD");
    CustodyLog log(**db);
    auto events = log.events();
    REQUIRE(events);
    REQUIRE(events->size() == 2);
    CHECK(nlohmann::json::parse(events->front().line)["action"] == "case_opened");
    CHECK(verify_custody_chain(jsonl(log)).ok);
}

TEST_CASE("custody chain faults are named by line", "[custody]") {
    TempDir dir;
    auto db = CaseDatabase::open(dir / "case.sqlite");
    REQUIRE(db);
    REQUIRE(open_case(**db, sample_case()));
    CustodyLog log(**db);
    for (int i = 0; i < 3; ++i)
        REQUIRE(log.append({"DC Jane Doe", "4711"}, custody_action::kNoteAdded,
                           nlohmann::json{{"text", "note " + std::to_string(i)}}.dump()));
    std::vector<std::string> lines;
    {
        std::istringstream in(jsonl(log));
        for (std::string l; std::getline(in, l);)
            lines.push_back(l);
    }
    auto join = [](const std::vector<std::string>& ls) {
        std::string t;
        for (const auto& l : ls)
            t += l + "\n";
        return t;
    };
    auto edited = lines;
    edited[2].replace(edited[2].find("note 0"), 6, "note X");
    auto v = verify_custody_chain(join(edited));
    CHECK_FALSE(v.ok);
    CHECK(v.bad_line == 4);
    CHECK_THAT(v.problem, Catch::Contains("not the SHA-256 of line 3"));

    auto removed = lines;
    removed.erase(removed.begin() + 1);
    v = verify_custody_chain(join(removed));
    CHECK(v.bad_line == 2);
    CHECK_THAT(v.problem, Catch::Contains("seq is 3, expected 2"));

    auto swapped = lines;
    std::swap(swapped[1], swapped[2]);
    v = verify_custody_chain(join(swapped));
    CHECK(v.bad_line == 2);

    std::string no_lf = join(lines);
    no_lf.pop_back();
    v = verify_custody_chain(no_lf);
    CHECK(v.bad_line == 5);
    CHECK_THAT(v.problem, Catch::Contains("no line feed"));

    auto spaced = lines;
    spaced[4].insert(1, " ");
    v = verify_custody_chain(join(spaced));
    CHECK(v.bad_line == 5);
    CHECK_THAT(v.problem, Catch::Contains("canonical"));
}

TEST_CASE("the key store is private and the fingerprint is the SPKI SHA-256", "[custody][keys]") {
    TempDir dir;
    const fs::path store = dir / "home" / "keys";
    auto key = ApplianceKey::load_or_create(store);
    REQUIRE(key);
    CHECK(mode_of(store) == 0700);
    CHECK(mode_of(store / "appliance.key") == 0600);
    CHECK(key->public_pem().starts_with("-----BEGIN PUBLIC KEY-----"));
    CHECK(key->fingerprint().size() == 64);

    // openssl computes the same fingerprint from the public key file.
    auto fp = run("openssl pkey -pubin -in " + sh_quote((store / "appliance.pub").string()) +
                  " -outform DER | sha256sum | cut -d' ' -f1");
    CHECK(fp.out == key->fingerprint() + "\n");

    // The same key comes back on the next load.
    auto again = ApplianceKey::load_or_create(store);
    REQUIRE(again);
    CHECK(again->fingerprint() == key->fingerprint());

    auto sig = key->sign("exhibit-seal-v1\nabc\ndef\n");
    REQUIRE(sig);
    CHECK(sig->size() == 64);
    CHECK(*verify_ed25519(key->public_pem(), "exhibit-seal-v1\nabc\ndef\n", *sig));
    CHECK_FALSE(*verify_ed25519(key->public_pem(), "exhibit-seal-v1\nabc\ndeg\n", *sig));
    auto round = base64_decode(base64_encode(*sig));
    REQUIRE(round);
    CHECK(*round == *sig);

    SECTION("a private key others can read is refused") {
        ::chmod((store / "appliance.key").c_str(), 0644);
        auto loose = ApplianceKey::load_or_create(store);
        REQUIRE_FALSE(loose);
        CHECK_THAT(loose.error().message, Catch::Contains("mode 0644"));
        CHECK_THAT(loose.error().message, Catch::Contains("appliance.key"));
    }
    SECTION("a key store directory others can enter is refused") {
        ::chmod(store.c_str(), 0755);
        auto loose = ApplianceKey::load_or_create(store);
        REQUIRE_FALSE(loose);
        CHECK_THAT(loose.error().message, Catch::Contains("mode 0755"));
    }
}

TEST_CASE("EXHIBIT_HOME chooses the key store", "[custody][keys]") {
    TempDir dir;
    ::setenv("EXHIBIT_HOME", dir.path().c_str(), 1);
    CHECK(ApplianceKey::default_store() == dir.path() / "keys");
    ::unsetenv("EXHIBIT_HOME");
    CHECK_THAT(ApplianceKey::default_store().string(),
               Catch::EndsWith(".local/share/exhibit/keys"));
}
