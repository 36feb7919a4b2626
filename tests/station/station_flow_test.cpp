// The station's flow through its model, with real engine jobs on the sample device: sign in,
// case, device, plan, triage, findings; a refused start on an unprotected device; a cancel.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "exhibit/custody.hpp"
#include "exhibit/hashset.hpp"
#include "exhibit/rules.hpp"
#include "exhibit/station/station_model.hpp"
#include "test_support.hpp"

using namespace exhibit;
using namespace exhibit::station;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// A model that sees no real disks (an empty sysfs) and offers the given image files.
StationConfig config_for(const test::TempDir& dir, std::vector<fs::path> images,
                         fs::path sysfs = {}) {
    StationConfig c;
    c.case_root = dir.path() / "cases";
    c.sysfs_root = sysfs.empty() ? dir.path() / "no-sysfs" : sysfs;
    c.image_files = std::move(images);
    c.watch_hotplug = false;
    return c;
}

void sign_in_and_open_case(StationModel& m) {
    CHECK(m.sign_in_blocker());
    m.who.name = "Jane Doe";
    m.sign_in();
    CHECK(m.screen() == Screen::SignIn);  // no number yet
    m.who.number = "4711";
    REQUIRE_FALSE(m.sign_in_blocker());
    m.sign_in();
    REQUIRE(m.screen() == Screen::Case);
    m.case_details.case_ref = "OP-BLUEBIRD";
    CHECK(m.case_blocker());
    m.case_details.exhibit_ref = "JD-1";
    m.case_details.location = "Leeds";
    m.confirm_case();
    REQUIRE(m.settle(10s));
    REQUIRE(m.screen() == Screen::Device);
}

std::size_t index_of(const StationModel& m, const std::string& path) {
    const auto& d = m.devices();
    auto it =
        std::find_if(d.begin(), d.end(), [&](const DeviceEntry& e) { return e.path == path; });
    REQUIRE(it != d.end());
    return static_cast<std::size_t>(it - d.begin());
}

bool recorded(const StationModel& m, const std::string& action) {
    return std::any_of(m.actions().begin(), m.actions().end(),
                       [&](const OperatorAction& a) { return a.action == action; });
}

}  // namespace

TEST_CASE("triage of the sample device from sign-in to findings", "[station][flow]") {
    const fs::path image = test::sample_image();
    test::SourceSeal seal({image});
    test::TempDir dir;
    StationModel m(config_for(dir, {image}));
    m.start();
    REQUIRE(m.settle(10s));
    sign_in_and_open_case(m);

    REQUIRE(m.devices().size() == 1);
    CHECK(m.devices()[0].protection == Protection::ImageFile);
    CHECK(m.device_blocker());  // nothing chosen yet
    m.select_device(index_of(m, image.string()));
    REQUIRE_FALSE(m.device_blocker());
    m.confirm_device();
    REQUIRE(m.screen() == Screen::Plan);
    REQUIRE(m.settle(30s));
    auto e = m.estimate();
    CHECK(e.measured);  // the read speed was measured on the device itself
    CHECK(e.total_seconds > 0);

    REQUIRE(m.start_job());
    CHECK(m.screen() == Screen::Running);
    REQUIRE(m.settle(120s));
    REQUIRE(m.outcome());
    CHECK(m.outcome()->completed);
    REQUIRE(m.outcome()->triage);
    CHECK(m.outcome()->triage->status == "completed");
    const auto stages = m.job().stages();
    REQUIRE(stages.size() == 1);
    CHECK(stages[0].state == StageState::Done);

    m.show_findings();
    REQUIRE(m.settle(30s));
    CHECK(m.screen() == Screen::Findings);
    const FindingsIndex* f = m.findings();
    REQUIRE(f);
    // Every file of the truth manifest is listed, deleted ones marked.
    auto truth = test::sample_truth();
    std::size_t truth_deleted = 0;
    for (const auto& t : truth) {
        truth_deleted += t.deleted;
        bool found = std::any_of(f->files.begin(), f->files.end(), [&](const FileRow& r) {
            return "/" + r.entry.path == t.path && r.file_system == t.fs &&
                   r.entry.deleted() == t.deleted;
        });
        CHECK(found);
    }
    CHECK(f->deleted >= truth_deleted);
    CHECK(f->partitions.size() == 4);  // FAT32, ext4, NTFS, FAT16

    // The picture grid's thumbnails load on their worker as the grid asks for them.
    REQUIRE_FALSE(m.pictures().empty());
    for (std::size_t i : m.pictures()) {
        CHECK_FALSE(m.thumbnail(i));
        m.request_thumbnail(i);
        REQUIRE(m.thumbnail(i));
    }
    REQUIRE(m.settle(60s));
    std::size_t shown = 0;
    for (std::size_t i : m.pictures()) {
        const auto* t = m.thumbnail(i);
        REQUIRE(t);
        CHECK_FALSE(t->loading);
        if (!f->files[i].entry.deleted()) {
            INFO(f->files[i].entry.path << ": " << t->error);
            CHECK(t->error.empty());
        }
        if (t->error.empty()) {
            CHECK(std::max(t->sharp.width, t->sharp.height) == StationModel::kThumbnailSide);
            CHECK(t->blurred.rgba.size() == t->sharp.rgba.size());
            CHECK(t->blurred.rgba != t->sharp.rgba);
            ++shown;
        }
    }
    CHECK(shown >= 3);
    // One opened source for the job; the requests read in batches, not one worker each.
    CHECK(m.picture_source_opens() == 1);
    CHECK(m.picture_batches() <=
          static_cast<int>((m.pictures().size() + StationModel::kThumbnailBatch - 1) /
                           StationModel::kThumbnailBatch));
    CHECK_FALSE(m.reveal.revealed());  // nothing revealed until the examiner asks
    CHECK(recorded(m, "sign in"));
    CHECK(recorded(m, "job started"));
    CHECK(recorded(m, "job finished"));
    CHECK(fs::exists(dir.path() / "cases" / "OP-BLUEBIRD" / "case.json"));

    // The job kept the custody log in the case database, a chain that verifies.
    auto db = CaseDatabase::open(m.case_store().case_database(m.case_details));
    REQUIRE(db);
    auto stored = read_case(**db);
    REQUIRE(stored);
    REQUIRE(*stored);
    CHECK((*stored)->operator_name == "Jane Doe");
    CHECK((*stored)->operator_id == "4711");
    CHECK((*stored)->location == "Leeds");
    std::ostringstream jsonl;
    REQUIRE(CustodyLog(**db).write_jsonl(jsonl));
    auto verdict = verify_custody_chain(jsonl.str());
    INFO(verdict.problem);
    CHECK(verdict.ok);
    for (const char* action : {"case_opened", "operator_signed_in", "source_attached",
                               "write_block_checked", "triage_started", "triage_finished"})
        CHECK(jsonl.str().find(std::string("\"action\":\"") + action + "\"") != std::string::npos);
    CHECK(seal.unchanged());
}

TEST_CASE("a job cancelled from the station stops and says so", "[station][flow]") {
    const fs::path image = test::sample_image();
    test::SourceSeal seal({image});
    test::TempDir dir;
    StationModel m(config_for(dir, {image}));
    m.start();
    REQUIRE(m.settle(10s));
    sign_in_and_open_case(m);
    m.select_device(index_of(m, image.string()));
    m.confirm_device();
    REQUIRE(m.settle(30s));
    m.plan.kind = JobKind::TriageAndImage;
    m.plan.format = ImageFormat::Raw;
    REQUIRE(m.start_job());
    m.cancel_job();
    CHECK(m.job().cancel_requested());
    REQUIRE(m.settle(60s));
    REQUIRE(m.outcome());
    CHECK(m.outcome()->cancelled);
    CHECK_FALSE(m.outcome()->completed);
    auto stages = m.job().stages();
    REQUIRE(stages.size() == 2);
    CHECK(stages[0].state == StageState::Cancelled);
    CHECK(stages[1].state == StageState::Skipped);
    CHECK(recorded(m, "cancel requested"));
    CHECK(recorded(m, "job cancelled"));
    CHECK(seal.unchanged());
}

TEST_CASE("no start on an unprotected device without the recorded override", "[station][flow]") {
    if (!test::is_root()) {
        WARN("SKIPPED: needs root for a loop device");
        return;
    }
    test::TempDir dir;
    // A writable loop device over a copy of the sample: a real, unprotected block device.
    fs::path copy = dir.path() / "exhibit.img";
    test::write_random_file(copy, 8u << 20, 7);  // no file system needed: nothing is started
    test::SourceSeal seal({copy});
    test::LoopDevice loop(copy, false);
    if (loop.device.empty()) {
        WARN("SKIPPED: no loop device available");
        return;
    }

    StationModel m(config_for(dir, {}, "/sys"));
    m.start();
    REQUIRE(m.settle(10s));
    sign_in_and_open_case(m);
    std::size_t i = index_of(m, loop.device.string());
    m.select_device(i);
    REQUIRE(m.selected_device()->protection == Protection::NotProtected);
    REQUIRE(m.device_blocker());
    m.confirm_device();
    CHECK(m.screen() == Screen::Device);  // refused
    CHECK_FALSE(m.start_job());           // and the job refuses too
    CHECK(recorded(m, "start refused"));
    CHECK_FALSE(m.job().running());

    // The override needs the blocker described, and is recorded.
    CHECK(m.override_blocker());
    m.hardware_blocker = "Tableau T8u 000ecc55";
    REQUIRE_FALSE(m.override_blocker());
    m.apply_override();
    CHECK(m.override_active());
    CHECK(recorded(m, "hardware blocker override"));
    CHECK_FALSE(m.device_blocker());

    // Choosing another device drops the override; making it read-only needs none.
    m.protect_selected();
    REQUIRE(m.settle(10s));
    CHECK(recorded(m, "device protected"));
    i = index_of(m, loop.device.string());
    CHECK(m.devices()[i].protection == Protection::Protected);
    CHECK_FALSE(m.device_blocker());
    CHECK(seal.unchanged());
}

TEST_CASE("the plan offers what is installed and triage matches with it", "[station][flow]") {
    const fs::path image = test::sample_image();
    test::SourceSeal seal({image});
    test::TempDir dir;
    // A known-bad set of every JPEG on the sample, imported with the engine's store; the
    // shipped rule packs; a keyword list.
    std::ofstream(dir.path() / "bad.txt") << [] {
        std::string s;
        for (const auto& t : test::sample_truth())
            if (t.kind == "jpeg") s += t.md5 + "\n";
        return s;
    }();
    HashSetImport import;
    import.files = {dir.path() / "bad.txt"};
    import.name = "demo-pictures";
    import.kind = HashSetKind::KnownBad;
    import.category = "demo";
    REQUIRE(HashSetStore(dir.path() / "hashsets").import(import));
    fs::create_directories(dir.path() / "keywords");
    std::ofstream(dir.path() / "keywords" / "bluebird.txt") << "operation bluebird\n";

    StationConfig config = config_for(dir, {image});
    config.matching.hash_set_store = dir.path() / "hashsets";
    config.matching.rules_dir = fs::path(EXHIBIT_STATION_RULES_DIR);
    config.matching.keywords_dir = dir.path() / "keywords";
    config.live_poll_seconds = 0.05;  // many polls even when the job is quick
    StationModel m(config);
    m.start();
    REQUIRE(m.settle(10s));
    sign_in_and_open_case(m);
    m.select_device(index_of(m, image.string()));
    m.confirm_device();
    REQUIRE(m.settle(30s));
    const InstalledMatching& inst = m.installed();
    REQUIRE(inst.hash_sets.size() == 1);
    CHECK(inst.rule_packs.size() >= 1);
    REQUIRE(inst.keyword_lists.size() == 1);
    // Everything installed starts chosen; a second tap leaves a pack out.
    CHECK(m.plan.hash_sets == std::vector<std::string>{"demo-pictures"});
    CHECK(m.plan.rule_packs.size() == inst.rule_packs.size());
    m.toggle_rule_pack(inst.rule_packs[0]);
    CHECK(m.plan.rule_packs.size() == inst.rule_packs.size() - 1);
    m.toggle_rule_pack(inst.rule_packs[0]);
    m.plan.keyword_list = inst.keyword_lists[0];
    m.plan.case_keywords = "darkmarket.onion, 4929-1234";

    REQUIRE(m.start_job());
    // Frames as the UI runs them: the live counters are polled on a worker meanwhile.
    auto until = std::chrono::steady_clock::now() + 180s;
    while (!m.outcome() && std::chrono::steady_clock::now() < until) {
        m.frame(std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
                    .count());
        std::this_thread::sleep_for(16ms);
    }
    REQUIRE(m.settle(30s));
    REQUIRE(m.outcome());
    INFO(m.outcome()->summary);
    REQUIRE(m.outcome()->completed);
    CHECK(m.live_polls() >= 1);
    // Once the job ends the counters show its final figures.
    CHECK(m.live().hits == m.outcome()->hit_counts);
    CHECK(m.live().files == m.outcome()->triage->files);
    std::size_t jpegs = 0, keyword_files = 0;
    for (const auto& t : test::sample_truth()) {
        jpegs += t.kind == "jpeg";
        keyword_files += t.keywords.find("bluebird") != std::string::npos ||
                         t.keywords.find("darkmarket") != std::string::npos ||
                         t.keywords.find("4929") != std::string::npos;
    }
    const auto& hits = m.outcome()->hit_counts;
    REQUIRE(hits.count("hashset"));
    CHECK(hits.at("hashset") == jpegs);
    REQUIRE(hits.count("keyword"));
    CHECK(hits.at("keyword") >= keyword_files);
    // The typed terms and the chosen list's are kept with the exhibit.
    std::ifstream kw(m.case_store().case_database(m.case_details).parent_path() / "keywords.txt");
    std::string text((std::istreambuf_iterator<char>(kw)), {});
    CHECK(text.find("darkmarket.onion\n") != std::string::npos);
    CHECK(text.find("4929-1234\n") != std::string::npos);
    CHECK(text.find("operation bluebird\n") != std::string::npos);

    m.show_findings();
    REQUIRE(m.settle(30s));
    REQUIRE(m.findings());
    bool known_bad_group = false;
    for (const auto& g : m.findings()->groups)
        if (g.title == "Known-bad hash") known_bad_group = g.files.size() >= jpegs;
    CHECK(known_bad_group);
    CHECK(seal.unchanged());
}

TEST_CASE("case keywords are written one term per line", "[station][flow]") {
    test::TempDir dir;
    auto n = write_case_keywords(" alpha , beta\n/gam+a/ ,, ", dir.path() / "k" / "keywords.txt");
    REQUIRE(n);
    CHECK(*n == 3);
    auto terms = read_keyword_list(dir.path() / "k" / "keywords.txt");
    REQUIRE(terms);
    REQUIRE(terms->size() == 3);
    CHECK((*terms)[0].term == "alpha");
    CHECK((*terms)[2].regex);
    auto none = write_case_keywords(" , ", dir.path() / "none.txt");
    REQUIRE(none);
    CHECK(*none == 0);
    CHECK_FALSE(fs::exists(dir.path() / "none.txt"));
}

TEST_CASE("seal the case into a bundle, verify it, and review it read-only in the lab",
          "[station][flow][seal]") {
    const fs::path image = test::sample_image();
    test::SourceSeal seal({image});
    test::TempDir dir;
    StationConfig config = config_for(dir, {image});
    config.key_store = dir.path() / "keys";
    StationModel m(config);
    m.start();
    REQUIRE(m.settle(10s));
    sign_in_and_open_case(m);
    m.select_device(index_of(m, image.string()));
    CHECK(m.seal_blocker());  // nothing to seal before triage
    m.confirm_device();
    REQUIRE(m.settle(30s));
    m.plan.kind = JobKind::TriageAndImage;
    m.plan.format = ImageFormat::Raw;
    REQUIRE(m.start_job());
    REQUIRE(m.settle(180s));
    REQUIRE(m.outcome());
    INFO(m.outcome()->summary);
    REQUIRE(m.outcome()->completed);
    REQUIRE(m.image_result());

    m.show_findings();
    REQUIRE(m.settle(30s));
    m.show_seal();
    CHECK(m.screen() == Screen::Seal);
    REQUIRE_FALSE(m.seal_blocker());
    const fs::path bundle = m.seal_destination();
    CHECK(bundle.parent_path() == m.case_store().case_database(m.case_details).parent_path());
    REQUIRE(m.seal_case());
    REQUIRE(m.settle(180s));
    REQUIRE(m.bundle_result());
    const BundleResult& sealed = *m.bundle_result();
    INFO(sealed.error);
    REQUIRE(sealed.sealed);
    CHECK(sealed.sealed->bundle == bundle);
    CHECK(sealed.sealed->images_linked + sealed.sealed->images_copied >= 1);
    REQUIRE(sealed.verdict);
    CHECK(sealed.verdict->ok);
    CHECK(verdict_headline(*sealed.verdict).rfind("Verified: ", 0) == 0);
    for (const auto& c : sealed.verdict->checks) {
        INFO(c.name << ": " << c.message);
        CHECK(c.ok);
    }
    CHECK(std::any_of(sealed.verdict->checks.begin(), sealed.verdict->checks.end(),
                      [](const BundleCheck& c) { return c.name == "image"; }));
    CHECK(recorded(m, "seal"));
    CHECK(recorded(m, "bundle sealed"));
    CHECK(m.seal_blocker());  // sealed once
    CHECK_FALSE(m.seal_case());

    // The CLI accepts the bundle, and its log holds the station's seal action.
    auto cli = test::run(test::cli_path().string() + " verify " + bundle.string(), true);
    INFO(cli.out);
    CHECK(cli.exit_code == 0);
    std::ifstream custody(bundle / "data" / "custody.jsonl");
    std::string log((std::istreambuf_iterator<char>(custody)), {});
    CHECK(log.find("\"station_action\":\"seal\"") != std::string::npos);
    CHECK(log.find("\"action\":\"bundle_sealed\"") != std::string::npos);

    // The lab: the bundle opened, verified, its findings and pictures read without writing
    // anything: every file of the bundle keeps its bytes.
    std::vector<fs::path> bundle_files;
    for (const auto& e : fs::recursive_directory_iterator(bundle))
        if (e.is_regular_file()) bundle_files.push_back(e.path());
    test::SourceSeal bundle_db(bundle_files);
    test::TempDir lab_dir;
    StationModel lab(config_for(lab_dir, {}));
    lab.start();
    REQUIRE(lab.settle(10s));
    lab.review_path = (lab_dir.path() / "nothing").string();
    CHECK(lab.review_blocker());
    lab.review_path = bundle.string();
    REQUIRE_FALSE(lab.review_blocker());
    lab.open_bundle();
    CHECK(lab.screen() == Screen::Review);
    REQUIRE(lab.settle(120s));
    REQUIRE(lab.bundle_result());
    REQUIRE(lab.bundle_result()->verdict);
    CHECK(lab.bundle_result()->verdict->ok);
    // The same checks but the trusted key's: the lab trusts whichever key signed it.
    CHECK(lab.bundle_result()->verdict->checks.size() + 1 == sealed.verdict->checks.size());
    CHECK(lab.seal_blocker());  // nothing to seal in review
    lab.review_findings();
    REQUIRE(lab.settle(30s));
    CHECK(lab.screen() == Screen::Findings);
    REQUIRE(lab.findings());
    REQUIRE(m.findings());
    CHECK(lab.findings()->files.size() == m.findings()->files.size());
    // The picture grid shows the bundle's own image, blurred as on scene.
    CHECK(lab.picture_source().rfind((bundle / "data" / "image").string(), 0) == 0);
    REQUIRE(lab.pictures() == m.pictures());
    for (std::size_t i : m.pictures())
        m.request_thumbnail(i);
    REQUIRE(m.settle(60s));
    for (std::size_t i : lab.pictures())
        lab.request_thumbnail(i);
    REQUIRE(lab.settle(60s));
    std::size_t lab_shown = 0;
    for (std::size_t i : lab.pictures()) {
        const auto* t = lab.thumbnail(i);
        REQUIRE(t);
        CHECK_FALSE(t->loading);
        if (!lab.findings()->files[i].entry.deleted()) {
            INFO(lab.findings()->files[i].entry.path << ": " << t->error);
            CHECK(t->error.empty());
        }
        if (t->error.empty()) {
            CHECK(t->blurred.rgba != t->sharp.rgba);
            const auto* scene = m.thumbnail(i);
            REQUIRE(scene);
            CHECK(scene->sharp.rgba == t->sharp.rgba);  // the same picture as on scene
            ++lab_shown;
        }
    }
    CHECK(lab_shown >= 3);
    CHECK_FALSE(lab.reveal.revealed());
    lab.go_back();
    CHECK(lab.screen() == Screen::Review);
    CHECK(bundle_db.unchanged());
    std::error_code ec;
    for (const char* side : {"case.sqlite-wal", "case.sqlite-shm", "case.sqlite-journal"})
        CHECK_FALSE(fs::exists(bundle / "data" / side, ec));

    // A changed byte in the bundle: the review says so, check by check.
    {
        std::fstream f(bundle / "data" / "bodyfile.txt",
                       std::ios::in | std::ios::out | std::ios::binary);
        REQUIRE(f);
        char c = 0;
        f.seekg(10);
        f.get(c);
        f.seekp(10);
        f.put(c == 'x' ? 'y' : 'x');
    }
    lab.go_back();
    CHECK(lab.screen() == Screen::SignIn);
    lab.open_bundle();
    REQUIRE(lab.settle(120s));
    REQUIRE(lab.bundle_result());
    REQUIRE(lab.bundle_result()->verdict);
    const BundleVerdict& bad = *lab.bundle_result()->verdict;
    CHECK_FALSE(bad.ok);
    CHECK(verdict_headline(bad).rfind("NOT verified: ", 0) == 0);
    bool names_file = false;
    for (const auto& c : bad.checks)
        names_file = names_file || (!c.ok && c.message.find("bodyfile.txt") != std::string::npos);
    CHECK(names_file);
    CHECK(seal.unchanged());
}
