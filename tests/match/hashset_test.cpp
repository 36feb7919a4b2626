// Hash sets: every import format with exact counts of imported, duplicate and malformed
// entries; lookups and verdict precedence; the store's refusals; the sources untouched.
#include <sqlite3.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "exhibit/hashset.hpp"
#include "test_support.hpp"

using namespace exhibit;
using namespace exhibit::test;

namespace {

void write_text(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary);
    out << text;
    REQUIRE(out.good());
}

void append_text(const fs::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::app);
    out << text;
    REQUIRE(out.good());
}

std::string digest_of(const fs::path& file, const std::string& tool) {
    return coreutils_digest(tool, file);
}

std::string upper(std::string s) {
    for (char& c : s)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

std::size_t line_count(const fs::path& file) {
    auto text = read_file_text(file);
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

HashSetInfo import_ok(const HashSetStore& store, const HashSetImport& request) {
    auto info = store.import(request);
    INFO((info ? "" : info.error().message));
    REQUIRE(info);
    return *info;
}

std::shared_ptr<const HashSetLibrary> open_ok(const fs::path& store,
                                              const std::vector<std::string>& names) {
    auto library = HashSetLibrary::open(store, names);
    INFO((library ? "" : library.error().message));
    REQUIRE(library);
    return *library;
}

HashSetImport request(std::vector<fs::path> files, const std::string& name, HashSetKind kind,
                      HashSetFormat format = HashSetFormat::Auto,
                      const std::string& category = "") {
    HashSetImport r;
    r.files = std::move(files);
    r.name = name;
    r.kind = kind;
    r.format = format;
    r.category = category;
    return r;
}

// Three small files with known content, and their digests by coreutils.
struct Samples {
    fs::path a, b, c;
    explicit Samples(const TempDir& dir) : a(dir / "a.txt"), b(dir / "b.txt"), c(dir / "c.txt") {
        write_text(a, "alpha\n");
        write_text(b, "bravo\n");
        write_text(c, "charlie\n");
    }
};

void exec_sql(sqlite3* db, const std::string& sql) {
    char* message = nullptr;
    int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
    INFO((message ? message : ""));
    sqlite3_free(message);
    REQUIRE(rc == SQLITE_OK);
}

}  // namespace

TEST_CASE("plain lists and md5sum/sha1sum/sha256sum output import with exact counts",
          "[hashset][list]") {
    TempDir dir;
    Samples s(dir);
    const fs::path list = dir / "list.txt";
    // Real coreutils output: md5sum of a, b, c; sha1sum --tag (BSD style) of a; an escaped
    // sha256sum line for a name with a newline; then our own lines.
    REQUIRE(run("cd " + sh_quote(dir.path()) + " && md5sum a.txt b.txt c.txt > list.txt && " +
                "sha1sum --tag a.txt >> list.txt && cp c.txt 'odd\nname' && " +
                "sha256sum 'odd\nname' >> list.txt")
                .exit_code == 0);
    REQUIRE(read_file_text(list).find("\\") != std::string::npos);  // sha256sum escaped it
    std::size_t n = line_count(list);
    append_text(list, "# a comment, then a blank line\n\n");
    append_text(list, digest_of(s.a, "md5sum") + "  again a.txt\r\n");    // duplicate, CRLF
    append_text(list, upper(digest_of(s.c, "sha256sum")) + "\n");         // duplicate, capitals
    append_text(list, "zz" + digest_of(s.b, "md5sum").substr(2) + "\n");  // malformed: not hex
    append_text(list, digest_of(s.b, "md5sum").substr(1) + "  b.txt\n");  // malformed: 31 digits
    append_text(list, "   " + digest_of(s.b, "sha1sum"));                 // last line, no newline
    SourceSeal seal({list});

    HashSetStore store(dir / "store");
    auto info = import_ok(store, request({list}, "mixed", HashSetKind::KnownBad));
    CHECK(info.counts.md5 == 3);
    CHECK(info.counts.sha1 == 2);
    CHECK(info.counts.sha256 == 1);
    CHECK(info.counts.imported == 6);
    CHECK(info.counts.duplicates == 2);
    CHECK(info.counts.malformed == 2);
    CHECK(info.counts.first_malformed ==
          std::vector<std::string>{list.string() + ":" + std::to_string(n + 5),
                                   list.string() + ":" + std::to_string(n + 6)});
    CHECK(info.sources.size() == 1);
    CHECK(info.sources[0].format == "list");
    CHECK(info.sha256 == digest_of(list, "sha256sum"));
    CHECK(info.categories.empty());
    CHECK(seal.unchanged());

    auto library = open_ok(store.path(), {"mixed"});
    auto found = library->lookup({digest_of(s.a, "md5sum"), "", ""});
    CHECK(found.verdict == HashVerdict::KnownBad);
    REQUIRE(found.matches.size() == 1);
    CHECK(found.matches[0].set->name == "mixed");
    CHECK(found.matches[0].algorithm == HashAlgorithm::Md5);
    // SHA-256 answers first when the set holds it.
    found = library->lookup(
        {digest_of(s.c, "md5sum"), digest_of(s.c, "sha1sum"), digest_of(s.c, "sha256sum")});
    REQUIRE(found.matches.size() == 1);
    CHECK(found.matches[0].algorithm == HashAlgorithm::Sha256);
    CHECK(library->lookup({"", digest_of(s.b, "sha1sum"), ""}).verdict == HashVerdict::KnownBad);
    CHECK(library->lookup({"", digest_of(s.c, "sha1sum"), ""}).verdict == HashVerdict::Unknown);
    CHECK(library->lookup({}).verdict == HashVerdict::Unknown);
}

TEST_CASE("hashdeep CSV from the real hashdeep imports every digest column",
          "[hashset][hashdeep]") {
    TempDir dir;
    Samples s(dir);
    write_text(dir / "comma, in name.txt", "delta\n");
    const fs::path csv = dir / "hashdeep.csv";
    auto made = run("cd " + sh_quote(dir.path()) +
                    " && hashdeep -c md5,sha256 a.txt b.txt c.txt 'comma, in name.txt' > " +
                    "hashdeep.csv");
    REQUIRE(made.exit_code == 0);
    std::string text = read_file_text(csv);
    REQUIRE(text.starts_with("%%%% HASHDEEP-1.0\n%%%% size,md5,sha256,filename\n"));
    std::size_t n = line_count(csv);
    // A repeated row (two duplicates: its md5 and its sha256), then two malformed rows.
    std::string a_row = text.substr(text.find("\n6,") + 1);
    a_row = a_row.substr(0, a_row.find('\n') + 1);
    append_text(csv, a_row);
    append_text(csv, "6,not-a-digest," + digest_of(s.a, "sha256sum") + ",x.txt\n");
    append_text(csv, "6\n");
    SourceSeal seal({csv});

    HashSetStore store(dir / "store");
    auto info = import_ok(store, request({csv}, "hd", HashSetKind::Watch));
    CHECK(info.sources[0].format == "hashdeep");
    CHECK(info.counts.md5 == 4);
    CHECK(info.counts.sha256 == 4);
    CHECK(info.counts.sha1 == 0);
    CHECK(info.counts.duplicates == 2);
    CHECK(info.counts.malformed == 2);
    CHECK(info.counts.first_malformed ==
          std::vector<std::string>{csv.string() + ":" + std::to_string(n + 2),
                                   csv.string() + ":" + std::to_string(n + 3)});
    CHECK(seal.unchanged());

    auto library = open_ok(store.path(), {"hd"});
    auto found = library->lookup({"", "", digest_of(dir / "comma, in name.txt", "sha256sum")});
    CHECK(found.verdict == HashVerdict::Watch);
    CHECK(library->lookup({digest_of(s.b, "md5sum"), "", ""}).verdict == HashVerdict::Watch);

    // Data before the column header is not hashdeep.
    write_text(dir / "headless.csv", "6," + digest_of(s.a, "md5sum") + ",a.txt\n");
    auto bad = store.import(
        request({dir / "headless.csv"}, "headless", HashSetKind::Watch, HashSetFormat::Hashdeep));
    REQUIRE_FALSE(bad);
    CHECK(bad.error().kind == ErrorKind::Format);
    CHECK(bad.error().message.find("headless.csv:1") != std::string::npos);
}

TEST_CASE("an NSRL RDS v3 SQLite release imports its FILE table's three digests",
          "[hashset][nsrl]") {
    TempDir dir;
    Samples s(dir);
    const fs::path rds = dir / "RDS_2024.03.1_modern_minimal.db";
    {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open(rds.c_str(), &db) == SQLITE_OK);
        // The FILE table as RDS v3 defines it (NIST's published schema), plus a PKG table
        // so the file has more than the one table we read.
        exec_sql(db,
                 "CREATE TABLE FILE (sha256 VARCHAR NOT NULL, sha1 VARCHAR NOT NULL, md5 VARCHAR "
                 "NOT NULL, file_name VARCHAR NOT NULL, file_size INTEGER NOT NULL, package_id "
                 "INTEGER NOT NULL, CONSTRAINT PK_FILE__FILE PRIMARY KEY (sha256, sha1, md5, "
                 "file_name, file_size, package_id));"
                 "CREATE TABLE PKG (package_id INTEGER NOT NULL, name VARCHAR NOT NULL);"
                 "INSERT INTO PKG VALUES (1, 'Demo Suite'), (2, 'Demo Suite 2');");
        auto row = [&](const fs::path& f, const std::string& name, int package) {
            exec_sql(db, "INSERT INTO FILE VALUES ('" + upper(digest_of(f, "sha256sum")) + "','" +
                             upper(digest_of(f, "sha1sum")) + "','" +
                             upper(digest_of(f, "md5sum")) + "','" + name + "', 6, " +
                             std::to_string(package) + ")");
        };
        row(s.a, "a.txt", 1);
        row(s.b, "b.txt", 1);
        row(s.a, "a.txt", 2);  // the same file in another package: three duplicates
        exec_sql(db, "INSERT INTO FILE VALUES ('ABC', '" + upper(digest_of(s.c, "sha1sum")) +
                         "', '" + upper(digest_of(s.c, "md5sum")) + "', 'c.txt', 8, 1)");
        row(s.c, "c.txt", 2);
        REQUIRE(sqlite3_close(db) == SQLITE_OK);
    }
    SourceSeal seal({rds});
    HashSetStore store(dir / "store");
    auto info = import_ok(store, request({rds}, "nsrl", HashSetKind::KnownGood));
    CHECK(info.sources[0].format == "nsrl");
    CHECK(info.counts.md5 == 3);
    CHECK(info.counts.sha1 == 3);
    CHECK(info.counts.sha256 == 3);
    CHECK(info.counts.duplicates == 3);
    CHECK(info.counts.malformed == 1);
    CHECK(info.counts.first_malformed == std::vector<std::string>{rds.string() + ":row 4"});
    CHECK(seal.unchanged());
    CHECK_FALSE(fs::exists(rds.string() + "-wal"));
    CHECK_FALSE(fs::exists(rds.string() + "-shm"));
    CHECK_FALSE(fs::exists(rds.string() + "-journal"));

    auto library = open_ok(store.path(), {"nsrl"});
    auto found = library->lookup({digest_of(s.c, "md5sum"), "", ""});
    CHECK(found.verdict == HashVerdict::KnownGood);

    // Another SQLite file is refused in one sentence.
    {
        sqlite3* db = nullptr;
        REQUIRE(sqlite3_open((dir / "other.db").c_str(), &db) == SQLITE_OK);
        exec_sql(db, "CREATE TABLE t (x);");
        sqlite3_close(db);
    }
    auto bad = store.import(request({dir / "other.db"}, "other", HashSetKind::KnownGood));
    REQUIRE_FALSE(bad);
    CHECK(bad.error().kind == ErrorKind::Format);
    CHECK(bad.error().message.find("not an NSRL RDS v3 database") != std::string::npos);
}

TEST_CASE("Project VIC VICS JSON imports MD5 and SHA1 with each media's category",
          "[hashset][vics]") {
    TempDir dir;
    Samples s(dir);
    const fs::path vics = dir / "vics.json";
    const std::string a_md5 = upper(digest_of(s.a, "md5sum"));
    const std::string a_sha1 = upper(digest_of(s.a, "sha1sum"));
    const std::string b_md5 = upper(digest_of(s.b, "md5sum"));
    const std::string c_sha1 = upper(digest_of(s.c, "sha1sum"));
    write_text(
        vics,
        R"({"@odata.context":"http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media",
"value":[
 {"MediaID":1,"Category":1,"MD5":")" +
            a_md5 + R"(","SHA1":")" + a_sha1 + R"(","MediaSize":6},
 {"MediaID":2,"Category":2,"MD5":")" +
            b_md5 + R"(","MediaSize":6},
 {"MediaID":3,"Category":1,"MD5":")" +
            a_md5 + R"(","SHA1":")" + c_sha1 + R"("},
 {"MediaID":4,"Category":3,"MD5":"not-a-digest"},
 {"MediaID":5,"Category":1},
 {"MediaID":6,"MediaFiles":[{"MD5":")" +
            b_md5 + R"("},{"SHA1":"12"}]}
]})");
    SourceSeal seal({vics});
    HashSetStore store(dir / "store");
    auto info = import_ok(store, request({vics}, "vic", HashSetKind::KnownBad));
    CHECK(info.sources[0].format == "vics");
    CHECK(info.counts.md5 == 2);
    CHECK(info.counts.sha1 == 2);
    CHECK(info.counts.duplicates == 2);  // entry 3's MD5, entry 6's first file
    CHECK(info.counts.malformed == 3);
    CHECK(info.counts.first_malformed ==
          std::vector<std::string>{vics.string() + ":entry 4", vics.string() + ":entry 5",
                                   vics.string() + ":entry 6 file 2"});
    CHECK(info.categories == std::vector<std::string>{"1", "2"});
    CHECK(seal.unchanged());

    auto library = open_ok(store.path(), {"vic"});
    auto found = library->lookup({"", digest_of(s.c, "sha1sum"), ""});
    REQUIRE(found.matches.size() == 1);
    CHECK(found.matches[0].category == "1");
    found = library->lookup({digest_of(s.b, "md5sum"), "", ""});
    REQUIRE(found.matches.size() == 1);
    CHECK(found.matches[0].category == "2");
    CHECK(found.matches[0].hash == digest_of(s.b, "md5sum"));

    write_text(dir / "odata.json", R"({"value": 3})");
    auto bad = store.import(request({dir / "odata.json"}, "bad", HashSetKind::KnownBad));
    REQUIRE_FALSE(bad);
    CHECK(bad.error().message.find("no VICS \"value\" array") != std::string::npos);
}

TEST_CASE("verdicts: known-bad over watch over known-good, every matching set named",
          "[hashset][lookup]") {
    TempDir dir;
    Samples s(dir);
    write_text(dir / "bad.txt", digest_of(s.a, "sha256sum") + "\n");
    write_text(dir / "watch.txt",
               digest_of(s.a, "md5sum") + "\n" + digest_of(s.b, "md5sum") + "\n");
    write_text(dir / "good.txt", digest_of(s.a, "sha1sum") + "\n" + digest_of(s.b, "sha1sum") +
                                     "\n" + digest_of(s.c, "sha1sum") + "\n");
    HashSetStore store(dir / "store");
    import_ok(store, request({dir / "bad.txt"}, "bad", HashSetKind::KnownBad, HashSetFormat::List,
                             "cat-x"));
    import_ok(store, request({dir / "watch.txt"}, "watch", HashSetKind::Watch));
    import_ok(store, request({dir / "good.txt"}, "good", HashSetKind::KnownGood));

    auto listed = store.list();
    REQUIRE(listed);
    REQUIRE(listed->size() == 3);
    CHECK((*listed)[0].name == "bad");
    CHECK((*listed)[0].categories == std::vector<std::string>{"cat-x"});

    auto library = open_ok(store.path(), {"all"});
    auto hashes = [&](const fs::path& f) {
        return Hashes{digest_of(f, "md5sum"), digest_of(f, "sha1sum"), digest_of(f, "sha256sum")};
    };
    auto a = library->lookup(hashes(s.a));
    CHECK(a.verdict == HashVerdict::KnownBad);
    REQUIRE(a.matches.size() == 3);
    CHECK(a.matches[0].set->name == "bad");
    CHECK(a.matches[0].category == "cat-x");
    CHECK(a.matches[1].set->name == "good");
    CHECK(a.matches[1].algorithm == HashAlgorithm::Sha1);
    CHECK(a.matches[2].set->name == "watch");
    CHECK(a.matches[2].algorithm == HashAlgorithm::Md5);
    CHECK(library->lookup(hashes(s.b)).verdict == HashVerdict::Watch);
    CHECK(library->lookup(hashes(s.c)).verdict == HashVerdict::KnownGood);
    write_text(dir / "d.txt", "delta\n");
    auto d = library->lookup(hashes(dir / "d.txt"));
    CHECK(d.verdict == HashVerdict::Unknown);
    CHECK(d.matches.empty());

    // Only the sets asked for.
    CHECK(open_ok(store.path(), {"good"})->lookup(hashes(s.a)).verdict == HashVerdict::KnownGood);
}

TEST_CASE("a large list imports and answers exactly", "[hashset][large]") {
    TempDir dir;
    // 200,000 pseudo-random SHA-256 digests (every 1000th repeated) and every 5th MD5.
    std::string text;
    std::vector<std::string> present;
    std::uint64_t x = 0x9E3779B97F4A7C15ull;
    auto next = [&] {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return x;
    };
    char hex[17];
    for (int i = 0; i < 200000; ++i) {
        std::string h;
        for (int w = 0; w < 4; ++w) {
            std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(next()));
            h += hex;
        }
        if (i % 5 == 0) h.resize(32);
        present.push_back(h);
        text += h + "\n";
        if (i % 1000 == 0) text += h + "\n";
    }
    write_text(dir / "big.txt", text);
    HashSetStore store(dir / "store");
    auto info = import_ok(store, request({dir / "big.txt"}, "big", HashSetKind::KnownBad));
    CHECK(info.counts.imported == 200000);
    CHECK(info.counts.md5 == 40000);
    CHECK(info.counts.duplicates == 200);
    CHECK(info.counts.malformed == 0);
    auto library = open_ok(store.path(), {"big"});
    for (std::size_t i = 0; i < present.size(); i += 997) {
        const std::string& h = present[i];
        Hashes hashes = h.size() == 32 ? Hashes{h, "", ""} : Hashes{"", "", h};
        CHECK(library->lookup(hashes).verdict == HashVerdict::KnownBad);
        std::string other = h;
        other.back() = other.back() == '0' ? '1' : '0';
        hashes = h.size() == 32 ? Hashes{other, "", ""} : Hashes{"", "", other};
        CHECK(library->lookup(hashes).verdict == HashVerdict::Unknown);
    }
}

TEST_CASE("the store refuses bad names, taken names, empty sources and damaged tables",
          "[hashset][errors]") {
    TempDir dir;
    Samples s(dir);
    write_text(dir / "one.txt", digest_of(s.a, "md5sum") + "\n");
    write_text(dir / "junk.txt", "hello\nworld\n");
    HashSetStore store(dir / "store");
    import_ok(store, request({dir / "one.txt"}, "one", HashSetKind::KnownBad));

    auto taken = store.import(request({dir / "one.txt"}, "one", HashSetKind::KnownBad));
    REQUIRE_FALSE(taken);
    CHECK(taken.error().message.find("already exists") != std::string::npos);
    for (const char* name : {"", ".hidden", "a/b", "all", "sp ace"}) {
        auto bad = store.import(request({dir / "one.txt"}, name, HashSetKind::KnownBad));
        REQUIRE_FALSE(bad);
        CHECK(bad.error().kind == ErrorKind::InvalidArgument);
    }
    auto junk = store.import(request({dir / "junk.txt"}, "junk", HashSetKind::KnownBad));
    REQUIRE_FALSE(junk);
    CHECK(junk.error().kind == ErrorKind::Format);
    CHECK(junk.error().message.find("junk.txt:1") != std::string::npos);
    CHECK_FALSE(fs::exists(store.path() / "junk"));
    auto missing = store.import(request({dir / "nope.txt"}, "nope", HashSetKind::KnownBad));
    REQUIRE_FALSE(missing);
    CHECK(missing.error().kind == ErrorKind::NotFound);

    auto absent = HashSetLibrary::open(store.path(), {"two"});
    REQUIRE_FALSE(absent);
    CHECK(absent.error().message.find("no hash set named 'two'") != std::string::npos);
    auto empty = HashSetLibrary::open(dir / "empty-store", {"all"});
    REQUIRE_FALSE(empty);

    fs::resize_file(store.path() / "one" / "md5.bin", 70);
    auto damaged = HashSetLibrary::open(store.path(), {"one"});
    REQUIRE_FALSE(damaged);
    CHECK(damaged.error().kind == ErrorKind::Format);
    CHECK(damaged.error().message.find("md5.bin is damaged") != std::string::npos);

    // A count in set.json that is not a whole number that fits (a float far out of range,
    // a negative size) is damage, said in one sentence, never converted.
    import_ok(store, request({dir / "one.txt"}, "three", HashSetKind::KnownBad));
    const fs::path meta = store.path() / "three" / "set.json";
    const std::string text = read_file_text(meta);
    for (const auto& [from, to] :
         {std::pair<std::string, std::string>{"\"md5\": 1,", "\"md5\": 3.66667e+130,"},
          {"\"md5\": 1,", "\"md5\": -1,"},
          {"\"md5\": 1,", "\"md5\": 1.5,"}}) {
        const auto at = text.find(from);
        REQUIRE(at != std::string::npos);
        write_text(meta, std::string(text).replace(at, from.size(), to));
        auto bad_count = HashSetLibrary::open(store.path(), {"three"});
        REQUIRE_FALSE(bad_count);
        CHECK(bad_count.error().kind == ErrorKind::Format);
        CHECK(bad_count.error().message.find("set.json is damaged") != std::string::npos);
        CHECK(bad_count.error().message.find("non-negative integer") != std::string::npos);
    }
    // No temporary import directories left behind.
    for (const auto& e : fs::directory_iterator(store.path()))
        CHECK(e.path().filename().string().front() != '.');
}

TEST_CASE("several source files make one set whose SHA-256 is of their concatenation",
          "[hashset][list]") {
    TempDir dir;
    Samples s(dir);
    write_text(dir / "p1.txt", digest_of(s.a, "md5sum") + "\n");
    write_text(dir / "p2.txt", digest_of(s.b, "md5sum") + "\n" + digest_of(s.a, "md5sum") + "\n");
    HashSetStore store(dir / "store");
    auto info =
        import_ok(store, request({dir / "p1.txt", dir / "p2.txt"}, "parts", HashSetKind::KnownBad));
    CHECK(info.counts.imported == 2);
    CHECK(info.counts.duplicates == 1);
    REQUIRE(info.sources.size() == 2);
    CHECK(info.sources[1].sha256 == digest_of(dir / "p2.txt", "sha256sum"));
    auto cat = run("cat " + sh_quote((dir / "p1.txt").string()) + " " +
                   sh_quote((dir / "p2.txt").string()) + " | sha256sum");
    CHECK(cat.out.substr(0, 64) == info.sha256);
}
