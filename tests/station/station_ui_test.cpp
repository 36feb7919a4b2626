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
#include <thread>

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
            HeadlessStation station(std::move(config), w, h);
            REQUIRE(station.run(kScripts / "station_tour.script"));
            const auto& m = station.model;
            REQUIRE(m.outcome());
            CHECK(m.outcome()->completed);
            REQUIRE(m.findings());
            CHECK(m.findings()->files.size() == m.outcome()->triage->files);
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
