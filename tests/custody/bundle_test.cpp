// Sealed bundles: a good one verifies; every kind of tampering is caught and named.
//
// Each test seals its own small bundle (a 2 MiB FAT image made by mkfs.vfat and mcopy,
// triaged, imaged raw and sealed: well under a second), then changes one thing.
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "exhibit/acquire.hpp"
#include "exhibit/bundle.hpp"
#include "exhibit/custody.hpp"
#include "exhibit/keys.hpp"
#include "test_support.hpp"

using namespace exhibit;
using namespace exhibit::test;

namespace {

struct Bundle {
    TempDir dir;
    fs::path source;
    fs::path bundle;
    fs::path key_store;
    std::string fingerprint;
    std::unique_ptr<SourceSeal> source_seal;
};

void make_bundle(Bundle& b) {
    b.source = b.dir / "usb.img";
    auto made = run("cd " + sh_quote(b.dir.path().string()) +
                        " && mkfs.vfat -C usb.img 2048 >/dev/null && printf 'minutes of the "
                        "meeting' > minutes.txt && head -c 40000 /dev/urandom > photo.bin && "
                        "MTOOLS_SKIP_CHECK=1 mcopy -i usb.img minutes.txt photo.bin ::/",
                    true);
    INFO(made.out);
    REQUIRE(made.exit_code == 0);
    b.source_seal = std::make_unique<SourceSeal>(std::vector<fs::path>{b.source});

    fs::create_directories(b.dir / "work");
    auto db = CaseDatabase::open(b.dir / "work" / "case.sqlite");
    REQUIRE(db);
    CaseRecord c;
    c.case_reference = "OP-BLUEBIRD";
    c.exhibit_reference = "JD/1";
    c.operator_name = "DC Jane Doe";
    c.operator_id = "4711";
    REQUIRE(open_case(**db, c));
    auto source = open_ok(b.source);
    REQUIRE(record_source(**db, c, source->info()));
    JobProgress progress;
    std::atomic<bool> cancel{false};
    auto run_result = triage_source(*source, **db, {}, progress, cancel);
    REQUIRE(run_result);
    REQUIRE(run_result->files_hashed == 2);
    CustodyLog log(**db);
    REQUIRE(log.append(c.operator_of(), custody_action::kTriageFinished,
                       triage_finished_detail(**db, *run_result)));

    AcquisitionPlan plan;
    plan.format = ImageFormat::Raw;
    plan.out_dir = b.dir / "work" / "image";
    auto acquired = acquire(*source, plan, progress, cancel);
    REQUIRE(acquired);
    REQUIRE(acquired->status == AcquisitionStatus::Completed);
    REQUIRE(log.append(c.operator_of(), custody_action::kAcquisitionFinished,
                       acquisition_finished_detail(*acquired)));

    b.key_store = b.dir / "keys";
    auto key = ApplianceKey::load_or_create(b.key_store);
    REQUIRE(key);
    b.fingerprint = key->fingerprint();
    SealPlan seal;
    seal.out = b.dir / "bundle";
    seal.images = {plan.out_dir};
    auto sealed = seal_bundle(**db, *key, seal, progress, cancel);
    REQUIRE(sealed);
    b.bundle = sealed->bundle;
    CHECK(sealed->images_linked == 2);  // image.raw and its record, same file system
    CHECK_FALSE(fs::exists(b.dir / "bundle.partial"));
}

BundleVerdict verify(const Bundle& b, const std::string& trusted = {}) {
    JobProgress progress;
    std::atomic<bool> cancel{false};
    VerifyOptions options;
    options.trusted_key = trusted;
    return verify_bundle(b.bundle, options, progress, cancel);
}

std::string failures(const BundleVerdict& v) {
    std::string text;
    for (const auto& c : v.checks) {
        if (!c.ok) text += c.name + ": " + c.message + "\n";
    }
    return text;
}

void flip_byte(const fs::path& file) {
    std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
    REQUIRE(f);
    f.seekg(0, std::ios::end);
    auto size = static_cast<std::streamoff>(f.tellg());
    REQUIRE(size > 0);
    f.seekg(size / 2);
    char ch = 0;
    f.read(&ch, 1);
    ch = static_cast<char>(ch ^ 0x20);
    f.seekp(size / 2);
    f.write(&ch, 1);
}

std::vector<std::string> read_lines(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);)
        lines.push_back(l);
    return lines;
}

void write_lines(const fs::path& file, const std::vector<std::string>& lines) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    for (const auto& l : lines)
        out << l << '\n';
}

void write_text(const fs::path& file, const std::string& text) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << text;
}

// Every tampering case: the verdict fails and the failing checks name `culprit`.
void expect_caught(const Bundle& b, const std::string& culprit) {
    auto v = verify(b);
    INFO(failures(v));
    CHECK_FALSE(v.ok);
    CHECK_THAT(failures(v), Catch::Contains(culprit));
    CHECK(b.source_seal->unchanged());
}

}  // namespace

TEST_CASE("a sealed bundle verifies, with and without the key pinned", "[bundle]") {
    Bundle b;
    make_bundle(b);
    auto v = verify(b);
    INFO(failures(v));
    CHECK(v.ok);
    CHECK(verify(b, b.fingerprint).ok);
    CHECK(verify(b, (b.key_store / "appliance.pub").string()).ok);

    // Payload as DESIGN.md lists it, and the sealing event is the sealed log's last line.
    for (const char* name :
         {"data/case.sqlite", "data/custody.jsonl", "data/files.dfxml", "data/bodyfile.txt",
          "data/report.html", "data/case.jsonld", "data/image/image.raw",
          "data/image/image.acquisition.json", "bagit.txt", "bag-info.txt", "manifest-sha256.txt",
          "tagmanifest-sha256.txt", "seal.json"}) {
        CHECK(fs::exists(b.bundle / name));
    }
    auto lines = read_lines(b.bundle / "data/custody.jsonl");
    REQUIRE_FALSE(lines.empty());
    auto last = nlohmann::json::parse(lines.back());
    CHECK(last["action"] == "bundle_sealed");
    // The report names the case and carries the acquisition's hash; the JSON-LD parses.
    const std::string report = read_file_text(b.bundle / "data/report.html");
    const auto record =
        nlohmann::json::parse(read_file_text(b.bundle / "data/image/image.acquisition.json"));
    CHECK_THAT(report, Catch::Contains(record.at("hashes").at("sha256").get<std::string>()));
    CHECK(
        nlohmann::json::parse(read_file_text(b.bundle / "data/case.jsonld")).contains("@context"));
    auto seal = nlohmann::json::parse(read_file_text(b.bundle / "seal.json"));
    CHECK(seal["chain_head"] == sha256_hex(lines.back()));
    const std::string info = read_file_text(b.bundle / "bag-info.txt");
    CHECK_THAT(info, Catch::Contains("External-Identifier: JD/1\n"));
    CHECK_THAT(info, Catch::Contains("Contact-Name: DC Jane Doe\n"));
    CHECK_THAT(info, Catch::Contains("Exhibit-Case-Reference: OP-BLUEBIRD\n"));
    CHECK_THAT(info, Catch::Matches("(.|\n)*Payload-Oxum: [0-9]+\\.8\n(.|\n)*"));
    CHECK_THAT(info, Catch::Matches("(.|\n)*Bagging-Date: \\d{4}-\\d\\d-\\d\\d\n(.|\n)*"));
    // coreutils agrees with both manifests.
    auto sums = run("cd " + sh_quote(b.bundle.string()) +
                        " && sha256sum -c --strict manifest-sha256.txt && sha256sum -c --strict "
                        "tagmanifest-sha256.txt",
                    true);
    INFO(sums.out);
    CHECK(sums.exit_code == 0);
    // The raw image is the source, byte for byte.
    CHECK(coreutils_digest("sha256sum", b.bundle / "data/image/image.raw") ==
          coreutils_digest("sha256sum", b.source));
    // Verifying leaves nothing behind (no -wal or -shm beside case.sqlite).
    CHECK(verify(b).ok);
    CHECK_FALSE(fs::exists(b.bundle / "data/case.sqlite-wal"));
    CHECK_FALSE(fs::exists(b.bundle / "data/case.sqlite-shm"));
    CHECK(b.source_seal->unchanged());
}

TEST_CASE("tamper: a byte flipped in the image", "[bundle][tamper]") {
    Bundle b;
    make_bundle(b);
    flip_byte(b.bundle / "data/image/image.raw");
    expect_caught(b, "manifest: data/image/image.raw: SHA-256 is");
    expect_caught(b, "image: image.raw: the media reads back with a different MD5, SHA-1, SHA-256");
}

TEST_CASE("tamper: a byte flipped in the acquisition record", "[bundle][tamper]") {
    Bundle b;
    make_bundle(b);
    flip_byte(b.bundle / "data/image/image.acquisition.json");
    expect_caught(b, "manifest: data/image/image.acquisition.json: SHA-256 is");
}

TEST_CASE("tamper: an acquisition record naming an image outside the bag", "[bundle][tamper]") {
    Bundle b;
    make_bundle(b);
    // The image moved out of the bag and the record pointed at it: verify must not read
    // (and vouch for) a file the bag does not hold.
    fs::copy_file(b.bundle / "data/image/image.raw", b.dir / "outside.raw");
    const fs::path record = b.bundle / "data/image/image.acquisition.json";
    std::ifstream in(record);
    auto j = nlohmann::json::parse(in);
    in.close();
    j["outputs"][0] = "../../../outside.raw";
    write_text(record, j.dump(2));
    auto v = verify(b);
    INFO(failures(v));
    CHECK_THAT(failures(v),
               Catch::Contains("image: data/image/image.acquisition.json names its image as "
                               "\"../../../outside.raw\", which is not a payload file beside it"));
    for (const auto& c : v.checks)
        CHECK_FALSE((c.name == "image" && c.ok));
    CHECK(b.source_seal->unchanged());
}

TEST_CASE("tamper: a byte flipped in case.sqlite", "[bundle][tamper]") {
    Bundle b;
    make_bundle(b);
    flip_byte(b.bundle / "data/case.sqlite");
    expect_caught(b, "manifest: data/case.sqlite: SHA-256 is");
}

TEST_CASE("tamper: a byte flipped in custody.jsonl", "[bundle][tamper]") {
    Bundle b;
    make_bundle(b);
    flip_byte(b.bundle / "data/custody.jsonl");
    expect_caught(b, "manifest: data/custody.jsonl: SHA-256 is");
    expect_caught(b, "custody: custody.jsonl line ");
}

TEST_CASE("tamper: a byte flipped in files.dfxml", "[bundle][tamper]") {
    Bundle b;
    make_bundle(b);
    flip_byte(b.bundle / "data/files.dfxml");
    expect_caught(b, "manifest: data/files.dfxml: SHA-256 is");
}

TEST_CASE("tamper: a byte flipped in bodyfile.txt", "[bundle][tamper]") {
    Bundle b;
    make_bundle(b);
    flip_byte(b.bundle / "data/bodyfile.txt");
    expect_caught(b, "manifest: data/bodyfile.txt: SHA-256 is");
}

TEST_CASE("tamper: a byte flipped in report.html", "[bundle][tamper]") {
    Bundle b;
    make_bundle(b);
    flip_byte(b.bundle / "data/report.html");
    expect_caught(b, "manifest: data/report.html: SHA-256 is");
}

TEST_CASE("tamper: a byte flipped in case.jsonld", "[bundle][tamper]") {
    Bundle b;
    make_bundle(b);
    flip_byte(b.bundle / "data/case.jsonld");
    expect_caught(b, "manifest: data/case.jsonld: SHA-256 is");
}

TEST_CASE("tamper: a payload file added", "[bundle][tamper]") {
    Bundle b;
    make_bundle(b);
    write_text(b.bundle / "data/planted.jpg", "not evidence");
    expect_caught(b, "data/planted.jpg is in data/ but not in manifest-sha256.txt");
    expect_caught(b, "bag-info: Payload-Oxum");
}

TEST_CASE("tamper: a payload file removed", "[bundle][tamper]") {
    Bundle b;
    make_bundle(b);
    fs::remove(b.bundle / "data/files.dfxml");
    expect_caught(b, "data/files.dfxml is listed in manifest-sha256.txt but missing");
}

TEST_CASE("tamper: a payload file renamed", "[bundle][tamper]") {
    Bundle b;
    make_bundle(b);
    fs::rename(b.bundle / "data/bodyfile.txt", b.bundle / "data/bodyfile.old");
    expect_caught(b, "data/bodyfile.txt is listed in manifest-sha256.txt but missing");
    expect_caught(b, "data/bodyfile.old is in data/ but not in manifest-sha256.txt");
}

TEST_CASE("tamper: a custody line edited", "[bundle][tamper]") {
    Bundle b;
    make_bundle(b);
    auto lines = read_lines(b.bundle / "data/custody.jsonl");
    auto j = nlohmann::json::parse(lines[0]);
    j["detail"]["case_reference"] = "OP-OTHER";
    lines[0] = j.dump();  // still valid, canonical JSON: only the chain gives it away
    write_lines(b.bundle / "data/custody.jsonl", lines);
    expect_caught(b, "custody: custody.jsonl line 2: prev is not the SHA-256 of line 1");
}

TEST_CASE("tamper: the last custody line edited", "[bundle][tamper]") {
    Bundle b;
    make_bundle(b);
    auto lines = read_lines(b.bundle / "data/custody.jsonl");
    auto j = nlohmann::json::parse(lines.back());
    j["operator"]["name"] = "Someone Else";
    lines.back() = j.dump();
    write_lines(b.bundle / "data/custody.jsonl", lines);
    expect_caught(b, "(the last): its SHA-256 is not the chain head in seal.json");
}

TEST_CASE("tamper: a custody line deleted", "[bundle][tamper]") {
    Bundle b;
    make_bundle(b);
    auto lines = read_lines(b.bundle / "data/custody.jsonl");
    lines.erase(lines.begin() + 2);
    write_lines(b.bundle / "data/custody.jsonl", lines);
    expect_caught(b, "custody: custody.jsonl line 3: seq is 4, expected 3");
}

TEST_CASE("tamper: custody lines reordered", "[bundle][tamper]") {
    Bundle b;
    make_bundle(b);
    auto lines = read_lines(b.bundle / "data/custody.jsonl");
    std::swap(lines[1], lines[2]);
    write_lines(b.bundle / "data/custody.jsonl", lines);
    expect_caught(b, "custody: custody.jsonl line 2: seq is 3, expected 2");
}

TEST_CASE("tamper: a custody line appended after sealing", "[bundle][tamper]") {
    Bundle b;
    make_bundle(b);
    auto lines = read_lines(b.bundle / "data/custody.jsonl");
    // A perfectly chained extra line: only the seal's chain head can tell.
    nlohmann::json extra = {{"seq", lines.size() + 1},
                            {"time", "2026-11-22T09:00:00.000Z"},
                            {"operator", {{"name", "DC Jane Doe"}, {"id", "4711"}}},
                            {"action", "note_added"},
                            {"detail", {{"text", "device returned to owner"}}},
                            {"prev", sha256_hex(lines.back())}};
    lines.push_back(extra.dump());
    write_lines(b.bundle / "data/custody.jsonl", lines);
    expect_caught(b, "come after the sealed chain head");
    expect_caught(b, "manifest: data/custody.jsonl");
}

TEST_CASE("tamper: bag-info.txt edited", "[bundle][tamper]") {
    Bundle b;
    make_bundle(b);
    std::string info = read_file_text(b.bundle / "bag-info.txt");
    info.replace(info.find("JD/1"), 4, "JD/2");
    write_text(b.bundle / "bag-info.txt", info);
    expect_caught(b, "tagmanifest: bag-info.txt: SHA-256 is");
}

TEST_CASE("tamper: the seal re-signed with another key is caught by --trusted-key",
          "[bundle][tamper]") {
    Bundle b;
    make_bundle(b);
    // A forger with their own key rebuilds everything a key change touches.
    auto other = ApplianceKey::load_or_create(b.dir / "forger-keys");
    REQUIRE(other);
    std::string info = read_file_text(b.bundle / "bag-info.txt");
    info.replace(info.find(b.fingerprint), 64, other->fingerprint());
    write_text(b.bundle / "bag-info.txt", info);
    std::string tagmanifest;
    for (const char* name : {"bag-info.txt", "bagit.txt", "manifest-sha256.txt"}) {
        tagmanifest += sha256_hex(read_file_text(b.bundle / name)) + "  " + name + "\n";
    }
    write_text(b.bundle / "tagmanifest-sha256.txt", tagmanifest);
    auto seal = nlohmann::json::parse(read_file_text(b.bundle / "seal.json"));
    seal["tagmanifest_sha256"] = sha256_hex(tagmanifest);
    seal["public_key_pem"] = other->public_pem();
    seal["public_key_fingerprint"] = other->fingerprint();
    auto sig = other->sign(seal_message(sha256_hex(tagmanifest), seal["chain_head"]));
    REQUIRE(sig);
    seal["signature"] = base64_encode(*sig);
    write_text(b.bundle / "seal.json", seal.dump(2) + "\n");

    // Self-consistent, so only pinning the appliance's key catches it.
    CHECK(verify(b).ok);
    for (const std::string& trusted : {b.fingerprint, (b.key_store / "appliance.pub").string()}) {
        auto v = verify(b, trusted);
        INFO(failures(v));
        CHECK_FALSE(v.ok);
        CHECK_THAT(failures(v),
                   Catch::Contains("key: the bundle was sealed with key " + other->fingerprint() +
                                   ", not the trusted key " + b.fingerprint));
    }
    CHECK(b.source_seal->unchanged());
}

TEST_CASE("seal refuses an existing bundle and unfinished images", "[bundle]") {
    Bundle b;
    make_bundle(b);
    auto db = CaseDatabase::open(b.dir / "work" / "case.sqlite");
    REQUIRE(db);
    auto key = ApplianceKey::load_or_create(b.key_store);
    REQUIRE(key);
    JobProgress progress;
    std::atomic<bool> cancel{false};
    SealPlan again;
    again.out = b.bundle;
    auto refused = seal_bundle(**db, *key, again, progress, cancel);
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.error().message, Catch::Contains("already exists"));

    write_text(b.dir / "image.raw.partial", "half an image");
    SealPlan partial;
    partial.out = b.dir / "bundle2";
    partial.images = {b.dir / "image.raw.partial"};
    auto refused2 = seal_bundle(**db, *key, partial, progress, cancel);
    REQUIRE_FALSE(refused2);
    CHECK_THAT(refused2.error().message, Catch::Contains("did not finish"));
    CHECK_FALSE(fs::exists(b.dir / "bundle2"));
    CHECK_FALSE(fs::exists(b.dir / "bundle2.partial"));

    // A second seal of the same case is a new bundle with a longer chain.
    SealPlan second;
    second.out = b.dir / "bundle3";
    auto sealed = seal_bundle(**db, *key, second, progress, cancel);
    REQUIRE(sealed);
    auto v = verify_bundle(second.out, {}, progress, cancel);
    INFO(failures(v));
    CHECK(v.ok);
}
