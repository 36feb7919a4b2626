// The real station views in a bare ImGui context (no window, no OpenGL), driven by scripts
// of synthetic touches through ImGui's input: the whole flow on the sample device, the
// refusal of an unprotected device until the override is held, and a cancel that needs a
// hold. Every control drawn on the way is checked to be touch-sized.
#include <imgui.h>
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "exhibit/case_db.hpp"
#include "exhibit/file_walk.hpp"
#include "exhibit/station/station_model.hpp"
#include "screens.hpp"
#include "script.hpp"
#include "test_support.hpp"
#include "touch_ui.hpp"

using namespace exhibit;
using namespace exhibit::station;
namespace fs = std::filesystem;

namespace {

const fs::path kScripts = fs::path(EXHIBIT_STATION_TEST_DIR);

class HeadlessStation {
  public:
    HeadlessStation(StationConfig config, int width, int height) : model(std::move(config)) {
        ctx_ = ImGui::CreateContext();
        ImGuiIO& io = ImGui::GetIO();
        io.IniFilename = nullptr;
        io.DisplaySize = ImVec2(static_cast<float>(width), static_cast<float>(height));
        for (int k = 0; k < ImGuiKey_COUNT; ++k)
            io.KeyMap[k] = 256 + k;
        ui.metrics = display_metrics(width, 0);  // no monitor: the 96 dpi fallback
        std::string why = ui::load_fonts(ui.metrics, "", ui.fonts);
        INFO(why);
        REQUIRE(why.empty());
        unsigned char* pixels = nullptr;
        int w = 0, h = 0;
        io.Fonts->GetTexDataAsRGBA32(&pixels, &w, &h);
        ui::apply_theme(ui.theme, ui.metrics);
        model.start();
    }
    ~HeadlessStation() { ImGui::DestroyContext(ctx_); }

    // Runs the script to its end; returns false when it failed or took over `limit`.
    bool run(const fs::path& script_file, std::chrono::seconds limit = std::chrono::seconds(180)) {
        ui::Script script;
        std::string why = script.load(script_file.string());
        INFO(why);
        REQUIRE(why.empty());
        ui::Screens screens(model, ui);
        ImGuiIO& io = ImGui::GetIO();
        auto start = std::chrono::steady_clock::now();
        double previous = 0;
        while (!script.finished()) {
            double now =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            if (now > static_cast<double>(limit.count())) return false;
            io.DeltaTime = static_cast<float>(std::max(1e-4, now - previous));
            previous = now;
            model.frame(now);
            script.before_frame(model, ui, now);
            ImGui::NewFrame();
            ui.begin_frame();
            screens.draw();
            ImGui::Render();
            (void)script.take_screenshot();  // no pixels without a window
            for (const auto& [label, rect] : ui.widgets()) {
                smallest_height = std::min(smallest_height, rect.GetHeight());
                smallest_width = std::min(smallest_width, rect.GetWidth());
                if (rect.GetHeight() < ui.metrics.target_px - 0.5f ||
                    rect.GetWidth() < ui.metrics.target_px - 0.5f)
                    too_small.push_back(label);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        return !script.failed();
    }

    bool recorded(const std::string& action) const {
        return std::any_of(model.actions().begin(), model.actions().end(),
                           [&](const OperatorAction& a) { return a.action == action; });
    }

    StationModel model;
    ui::TouchUi ui;
    float smallest_height = 1e9f, smallest_width = 1e9f;
    std::vector<std::string> too_small;

  private:
    ImGuiContext* ctx_ = nullptr;
};

StationConfig config_for(const test::TempDir& dir, std::vector<fs::path> images,
                         fs::path sysfs = {}) {
    StationConfig c;
    c.case_root = dir.path() / "cases";
    c.sysfs_root = sysfs.empty() ? dir.path() / "no-sysfs" : sysfs;
    c.image_files = std::move(images);
    c.watch_hotplug = false;
    return c;
}

fs::path write_script(const test::TempDir& dir, const std::string& name, const std::string& text) {
    fs::path p = dir.path() / name;
    std::ofstream(p) << text;
    return p;
}

const char* kSignInAndCase = R"(
tap Operator name
keys Jane Doe
tap key:Done
tap Collar or staff number
keys 4711
tap key:Done
tap Sign in
expect-screen case
tap Case reference
type OP-BLUEBIRD
press enter
tap Exhibit reference
keys JD-1
tap key:Done
tap Continue
settle 10
expect-screen device
)";

}  // namespace

TEST_CASE("the whole flow by touch, at both screen sizes", "[station][ui]") {
    const fs::path image = test::sample_image();
    test::SourceSeal seal({image});
    for (auto [w, h] : {std::pair{1280, 800}, std::pair{1920, 1080}}) {
        DYNAMIC_SECTION(w << "x" << h) {
            test::TempDir dir;
            StationConfig config = config_for(dir, {image});
            config.key_store = dir.path() / "keys";
            // A rule pack that does not compile: the tour visits "Not fully scanned".
            config.matching.rules_dir = dir.path() / "rules";
            fs::create_directories(config.matching.rules_dir);
            std::ofstream(config.matching.rules_dir / "broken.yar")
                << "rule broken { condition: no_such_identifier }\n";
            HeadlessStation station(std::move(config), w, h);
            REQUIRE(station.run(kScripts / "station_tour.script"));
            const auto& m = station.model;
            REQUIRE(m.outcome());
            CHECK(m.outcome()->completed);
            REQUIRE(m.findings());
            CHECK(m.findings()->files.size() == m.outcome()->triage->files);
            // The rule file left out is kept with the run and shown as a scan note.
            REQUIRE(m.findings()->scan_notes.size() == 1);
            CHECK(m.findings()->scan_notes[0].note.kind == "rule-file");
            CHECK(std::any_of(m.findings()->groups.begin(), m.findings()->groups.end(),
                              [](const FindingGroup& g) { return g.kind == "scan-note"; }));
            // Sealed by a hold, verified, and `exhibit verify` accepts the bundle.
            REQUIRE(m.bundle_result());
            REQUIRE(m.bundle_result()->sealed);
            REQUIRE(m.bundle_result()->verdict);
            CHECK(m.bundle_result()->verdict->ok);
            const fs::path bundle = m.bundle_result()->sealed->bundle;
            auto cli = test::run(test::cli_path().string() + " verify " + bundle.string(), true);
            INFO(cli.out);
            CHECK(cli.exit_code == 0);

            // The lab: the same station opens the bundle from the sign-in screen by touch.
            auto review = write_script(dir, "review.script", R"(
expect-screen signin
tap Bundle folder
type )" + bundle.string() + R"(
press enter
tap Open bundle
expect-screen review
settle 60
frames 2
tap Findings (read-only)
settle 30
expect-screen findings
frames 2
tap Back
expect-screen review
tap Back
expect-screen signin
quit
)");
            REQUIRE(station.run(review));
            CHECK(station.recorded("bundle opened"));
            CHECK(station.recorded("bundle verified"));
            CHECK(m.who.name == "Jane Doe");  // typed on the on-screen keyboard
            CHECK(m.who.number == "4711");
            CHECK(m.case_details.location == "Leeds, 12 High Street");  // physical keyboard
            for (const char* action : {"sign in", "case details", "device chosen", "job started",
                                       "job finished", "picture revealed", "seal", "bundle sealed"})
                CHECK(station.recorded(action));
            // Every control on every screen is at least 12 mm both ways.
            INFO("too small: " << (station.too_small.empty() ? "" : station.too_small.front()));
            CHECK(station.too_small.empty());
            CHECK(station.smallest_height >= station.ui.metrics.target_px - 0.5f);
        }
    }
    CHECK(seal.unchanged());
}

TEST_CASE("a tap does not cancel a job; a hold does", "[station][ui]") {
    const fs::path image = test::sample_image();
    test::SourceSeal seal({image});
    test::TempDir dir;
    HeadlessStation station(config_for(dir, {image}), 1280, 800);
    // Holds last 0.1 of their time here (0.2 s for cancel), so the hold ends well inside the
    // job; a tap (three frames) stays far shorter than that.
    station.ui.hold_scale = 0.1;
    auto script = write_script(dir, "cancel.script", std::string(kSignInAndCase) + R"(
tap-containing sample.img
tap Continue
expect-screen plan
settle 30
tap kind/Triage and image
tap Start
expect-screen running
tap Hold to cancel
frames 3
expect-text Hold to cancel
hold Hold to cancel 0.3
settle 120
expect-screen running
)");
    REQUIRE(station.run(script));
    const auto& m = station.model;
    REQUIRE(m.outcome());
    CHECK(m.outcome()->cancelled);
    CHECK_FALSE(m.outcome()->completed);
    auto cancels =
        std::count_if(m.actions().begin(), m.actions().end(),
                      [](const OperatorAction& a) { return a.action == "cancel requested"; });
    CHECK(cancels == 1);
    CHECK(seal.unchanged());
}

TEST_CASE("an unprotected device is refused by touch until the override is held", "[station][ui]") {
    if (!test::is_root()) {
        WARN("SKIPPED: needs root for a loop device");
        return;
    }
    test::TempDir dir;
    fs::path copy = dir.path() / "stick.img";
    test::write_random_file(copy, 8u << 20, 7);  // no file system needed: nothing is started
    test::SourceSeal seal({copy});
    test::LoopDevice loop(copy, false);
    if (loop.device.empty()) {
        WARN("SKIPPED: no loop device available");
        return;
    }
    HeadlessStation station(config_for(dir, {}, "/sys"), 1280, 800);
    auto script = write_script(dir, "override.script", std::string(kSignInAndCase) + R"(
tap-containing ##dev)" + loop.device.string() + R"(
tap Continue
expect-screen device
tap Write-blocker make, model, serial
keys Tableau T8u 000ecc55
tap key:Done
tap Hold to declare write-blocker
expect-text Hold to declare write-blocker
hold Hold to declare write-blocker 2.2
tap Continue
expect-screen plan
)");
    REQUIRE(station.run(script));
    CHECK(station.recorded("hardware blocker override"));
    CHECK(station.model.override_text() == "Tableau T8u 000ecc55");
    CHECK(station.model.hardware_blocker == "Tableau T8u 000ecc55");
    auto overrides = std::count_if(
        station.model.actions().begin(), station.model.actions().end(),
        [](const OperatorAction& a) { return a.action == "hardware blocker override"; });
    CHECK(overrides == 1);
    CHECK(seal.unchanged());
}

// --- Scrolling by touch ------------------------------------------------------------------

namespace {

// TouchUi alone in a bare ImGui context: one window with a scrolled list of 60 buttons (a
// hold-to-confirm among them), driven frame by frame at 60 Hz with a synthetic finger.
class TouchRig {
  public:
    TouchRig() {
        ctx_ = ImGui::CreateContext();
        ImGuiIO& io = ImGui::GetIO();
        io.IniFilename = nullptr;
        io.DisplaySize = ImVec2(1280, 800);
        ui.metrics = display_metrics(1280, 0);
        REQUIRE(ui::load_fonts(ui.metrics, "", ui.fonts).empty());
        unsigned char* pixels = nullptr;
        int w = 0, h = 0;
        io.Fonts->GetTexDataAsRGBA32(&pixels, &w, &h);
        ui::apply_theme(ui.theme, ui.metrics);
        frame({5, 5}, false);
        frame({5, 5}, false);
    }
    ~TouchRig() { ImGui::DestroyContext(ctx_); }

    void frame(ImVec2 finger, bool down) {
        ImGuiIO& io = ImGui::GetIO();
        io.DeltaTime = 1.0f / 60;
        io.MousePos = finger;
        io.MouseDown[0] = down;
        ImGui::NewFrame();
        ui.begin_frame();
        ImGui::SetNextWindowPos(ImVec2(0, 0));
        ImGui::SetNextWindowSize(io.DisplaySize);
        ImGui::Begin("##rig", nullptr,
                     ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                         ImGuiWindowFlags_NoSavedSettings);
        ImGui::BeginChild("##list", ImVec2(600, 600), true);
        for (int i = 0; i < 60; ++i) {
            std::string label = "Row " + std::to_string(i);
            if (i == 4) {
                if (ui.hold_button("Hold to seal", 0.5, -1)) ++fired;
            } else if (ui.button(label.c_str(), -1)) {
                pressed.push_back(i);
            }
        }
        scroll = ImGui::GetScrollY();
        scroll_max = ImGui::GetScrollMaxY();
        if (ImGui::GetCurrentWindow()->ScrollbarY)
            scrollbar = ImGui::GetWindowScrollbarRect(ImGui::GetCurrentWindow(), ImGuiAxis_Y);
        ImGui::EndChild();
        ImGui::End();
        ImGui::Render();
    }
    ImVec2 at(const std::string& label) const { return ui.widgets().at(label).GetCenter(); }
    // Press at `from`, move by `dy` in `frames` frames, hold still `still` frames, lift.
    void drag(ImVec2 from, float dy, int frames, int still = 0) {
        frame(from, true);
        for (int i = 1; i <= frames; ++i)
            frame(ImVec2(from.x, from.y + dy * static_cast<float>(i) / frames), true);
        for (int i = 0; i < still; ++i)
            frame(ImVec2(from.x, from.y + dy), true);
        frame(ImVec2(from.x, from.y + dy), false);
    }
    void tap(ImVec2 at) {
        frame(at, false);
        frame(at, true);
        frame(at, false);
    }

    ui::TouchUi ui;
    std::vector<int> pressed;
    int fired = 0;
    float scroll = 0, scroll_max = 0;
    ImRect scrollbar;

  private:
    ImGuiContext* ctx_ = nullptr;
};

}  // namespace

TEST_CASE("a tap on a row in a scrolled list presses it and scrolls nothing",
          "[station][ui][drag]") {
    TouchRig rig;
    REQUIRE(rig.scroll_max > 1000);
    rig.tap(rig.at("Row 2"));
    CHECK(rig.pressed == std::vector<int>{2});
    // A gloved finger rolls a little on a tap: under the threshold it is still a tap.
    rig.drag(rig.at("Row 7"), rig.ui.drag_scroll().tuning().threshold_px * 0.7f, 3);
    CHECK(rig.pressed == std::vector<int>{2, 7});
    CHECK(rig.scroll == 0);
}

TEST_CASE("a drag on a list scrolls it and presses nothing", "[station][ui][drag]") {
    TouchRig rig;
    const ImVec2 start = rig.at("Row 8");
    // 240 px up in half a second, held still before lifting: the content follows the
    // finger exactly, and stops when it lifts.
    rig.drag(start, -240, 30, 12);
    CHECK(rig.pressed.empty());
    CHECK(rig.scroll == Approx(240).margin(1));
    rig.frame(start, false);  // the rows are where the scroll put them in the next frame
    CHECK(rig.at("Row 8").y == Approx(start.y - 240).margin(1));
    for (int i = 0; i < 20; ++i)
        rig.frame(start, false);
    CHECK(rig.scroll == Approx(240).margin(1));  // no fling after a still finger
    CHECK(rig.ui.drag_scroll().phase() == DragScroll::Phase::Idle);
    // Dragging down brings it back, and not past the top.
    rig.drag(rig.at("Row 9"), 400, 30, 12);
    CHECK(rig.pressed.empty());
    CHECK(rig.scroll == 0);
    // A tap after the drag still presses.
    rig.tap(rig.at("Row 3"));
    CHECK(rig.pressed == std::vector<int>{3});
}

TEST_CASE("a drag lets go of a hold-to-confirm", "[station][ui][drag]") {
    TouchRig rig;
    // Held still for 0.7 s: the 0.5 s hold fires (the rig's hold works at all).
    rig.drag(rig.at("Hold to seal"), 0, 1, 42);
    CHECK(rig.fired == 1);
    // Pressed there, then dragged: held 0.7 s in all, it never fires.
    rig.drag(rig.at("Hold to seal"), -60, 6, 40);
    CHECK(rig.fired == 1);
    CHECK(rig.scroll == Approx(60).margin(1));
    CHECK(rig.pressed.empty());
}

TEST_CASE("a fling keeps scrolling after the finger lifts, then stops", "[station][ui][drag]") {
    TouchRig rig;
    // 150 px up in 6 frames (1,500 px/s), lifted while moving.
    rig.drag(rig.at("Row 9"), -150, 6);
    CHECK(rig.pressed.empty());
    const float at_release = rig.scroll;
    CHECK(at_release == Approx(150).margin(1));
    REQUIRE(rig.ui.drag_scroll().flinging());
    std::vector<float> seen;
    for (int i = 0; i < 240 && rig.ui.drag_scroll().flinging(); ++i) {
        rig.frame(ImVec2(700, 700), false);
        seen.push_back(rig.scroll);
    }
    CHECK_FALSE(rig.ui.drag_scroll().flinging());
    REQUIRE(seen.size() > 20);  // it went on for a while
    CHECK(std::is_sorted(seen.begin(), seen.end()));
    CHECK(seen.back() > at_release + 300);  // 1,500 px/s * 0.4 s = 600 px more
    const float settled = rig.scroll;
    for (int i = 0; i < 30; ++i)
        rig.frame(ImVec2(700, 700), false);
    CHECK(rig.scroll == settled);  // and then it stopped
    CHECK(rig.pressed.empty());
}

TEST_CASE("a touch during a fling stops it and taps nothing", "[station][ui][drag]") {
    TouchRig rig;
    rig.drag(rig.at("Row 9"), -200, 6);
    rig.frame(ImVec2(700, 700), false);
    rig.frame(ImVec2(700, 700), false);
    REQUIRE(rig.ui.drag_scroll().flinging());
    // Whatever row is under the finger now, the touch only catches the list.
    const ImVec2 finger(300, 300);
    rig.frame(finger, true);
    const float caught = rig.scroll;
    rig.frame(finger, true);
    rig.frame(finger, false);
    CHECK(rig.pressed.empty());
    for (int i = 0; i < 20; ++i)
        rig.frame(finger, false);
    CHECK(rig.scroll == Approx(caught).margin(1));
    // The next tap presses again (on a row that is inside the list now).
    int visible = -1;
    for (int i = 5; i < 60 && visible < 0; ++i)
        if (const float y = rig.at("Row " + std::to_string(i)).y; y > 100 && y < 550) visible = i;
    REQUIRE(visible >= 0);
    rig.tap(rig.at("Row " + std::to_string(visible)));
    CHECK(rig.pressed == std::vector<int>{visible});
}

TEST_CASE("the scroll bar still drags the list its own way", "[station][ui][drag]") {
    TouchRig rig;
    REQUIRE(rig.scrollbar.GetWidth() >= rig.ui.metrics.target_px * 0.5f);
    // Grabbing the bar and moving down scrolls the content down (a content drag down
    // would scroll up, to the top, where it already is).
    const ImVec2 grab(rig.scrollbar.GetCenter().x, rig.scrollbar.Min.y + 20);
    rig.drag(grab, 150, 10, 2);
    CHECK(rig.scroll > 150);
    CHECK(rig.pressed.empty());
}

TEST_CASE("the findings file browser scrolls by a drag that opens no folder",
          "[station][ui][drag]") {
    // A case whose one file system holds 80 folders: the browser lists them as rows.
    test::TempDir dir;
    StationConfig config = config_for(dir, {});
    CaseDetails details{"OP-DRAG", "EX-1", "", "", ""};
    CaseStore store(config.case_root);
    REQUIRE(store.save(details, {"Tester", "1"}));
    {
        WalkResult walk;
        FileSystemEntry fs;
        fs.type = "ntfs";
        fs.offset = 1 << 20;
        walk.file_systems.push_back(fs);
        for (int i = 0; i < 80; ++i) {
            char name[16];
            std::snprintf(name, sizeof name, "Folder%02d", i);
            FileEntry d;
            d.path = d.name = name;
            d.name_type = d.meta_type = 'd';
            d.name_allocated = d.meta_allocated = true;
            d.meta_address = 100 + static_cast<std::uint64_t>(i);
            walk.files.push_back(d);
            FileEntry f;
            f.name = "inside.txt";
            f.path = std::string(name) + "/" + f.name;
            f.name_type = f.meta_type = 'r';
            f.name_allocated = f.meta_allocated = true;
            f.meta_address = 1000 + static_cast<std::uint64_t>(i);
            f.size = 10;
            walk.files.push_back(f);
        }
        auto db = CaseDatabase::open(store.case_database(details));
        REQUIRE(db);
        auto run = (*db)->begin_run(SourceInfo{});
        REQUIRE(run);
        REQUIRE((*db)->record_walk(*run, walk));
        REQUIRE((*db)->finish_run(*run, "completed", ""));
    }
    HeadlessStation station(std::move(config), 1280, 800);
    station.model.case_details = details;
    station.model.show_findings();
    REQUIRE(station.model.settle(std::chrono::seconds(60)));
    REQUIRE(station.model.findings());
    ui::Screens screens(station.model, station.ui);
    ImGuiIO& io = ImGui::GetIO();
    auto frame = [&](ImVec2 finger, bool down) {
        io.DeltaTime = 1.0f / 60;
        io.MousePos = finger;
        io.MouseDown[0] = down;
        station.model.frame(ImGui::GetTime());
        ImGui::NewFrame();
        station.ui.begin_frame();
        screens.draw();
        ImGui::Render();
    };
    auto row = [&](const std::string& part) -> std::optional<ImRect> {
        for (const auto& [label, rect] : station.ui.widgets())
            if (label.find(part) != std::string::npos) return rect;
        return std::nullopt;
    };
    for (int i = 0; i < 3; ++i)
        frame(ImVec2(5, 5), false);
    REQUIRE(row("[dir] Folder00##"));
    // Rows above the list's top are scrolled off (ImGui's clipper still lays out the row
    // last pressed, for keyboard navigation, wherever it is).
    const float list_top = row("[dir] Folder00##")->Min.y;
    auto first_folder = [&] {
        int first = 1000;
        for (const auto& [label, rect] : station.ui.widgets())
            if (label.rfind("[dir] Folder", 0) == 0 && rect.Max.y > list_top + 1)
                first = std::min(first, std::stoi(label.substr(12, 2)));
        return first;
    };
    REQUIRE(first_folder() == 0);
    REQUIRE(row("[dir] Folder03##"));
    REQUIRE_FALSE(row("[dir] Folder40##"));  // far below: not drawn (the list is clipped)
    const ImVec2 start = row("[dir] Folder03##")->GetCenter();

    // Dragged up 300 px and held before lifting: the list moved, no folder opened.
    frame(start, true);
    for (int i = 1; i <= 30; ++i)
        frame(ImVec2(start.x, start.y - 10.0f * static_cast<float>(i)), true);
    for (int i = 0; i < 12; ++i)
        frame(ImVec2(start.x, start.y - 300), true);
    frame(ImVec2(start.x, start.y - 300), false);
    frame(ImVec2(start.x, start.y - 300), false);
    CHECK_FALSE(row("inside.txt"));  // still the root: Folder03 was not opened
    CHECK(first_folder() == 5);      // 300 px at a row pitch of 54 px: rows 0 to 4 are off the top
    REQUIRE(row("[dir] Folder09##"));
    const float pitch = station.ui.metrics.target_px + ImGui::GetStyle().ItemSpacing.y;
    CHECK(row("[dir] Folder09##")->GetCenter().y == Approx(start.y + 6 * pitch - 300).margin(1));

    // A fling takes it further down the list, by itself.
    const int before_fling = first_folder();
    CHECK(before_fling == 5);
    const ImVec2 from = row("[dir] Folder09##")->GetCenter();
    frame(from, true);
    for (int i = 1; i <= 6; ++i)
        frame(ImVec2(from.x, from.y - 25.0f * static_cast<float>(i)), true);
    frame(ImVec2(from.x, from.y - 150), false);
    const int at_release = first_folder();
    for (int i = 0; i < 150; ++i)
        frame(ImVec2(5, 5), false);
    CHECK_FALSE(row("inside.txt"));
    // 150 px (under 3 rows) by the finger, 1,500 px/s * 0.4 s = 600 px (11 rows) flung.
    CHECK(at_release <= before_fling + 3);
    CHECK(first_folder() >= at_release + 8);

    // And a tap still opens a folder.
    const std::string target = "[dir] Folder" + std::to_string(first_folder() + 2) + "##";
    REQUIRE(row(target));
    const ImVec2 tap = row(target)->GetCenter();
    frame(tap, false);
    frame(tap, true);
    frame(tap, false);
    frame(tap, false);
    CHECK(row("inside.txt"));
}
