// The station's rules without a screen: touch sizes, hold-to-confirm timing, on-screen
// keyboard editing, estimates, the case store and how findings are arranged.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "exhibit/station/case_store.hpp"
#include "exhibit/station/display_metrics.hpp"
#include "exhibit/station/drag_scroll.hpp"
#include "exhibit/station/estimate.hpp"
#include "exhibit/station/findings.hpp"
#include "exhibit/station/hold_to_confirm.hpp"
#include "exhibit/station/pictures.hpp"
#include "exhibit/station/text_entry.hpp"
#include "exhibit/station/timeline.hpp"
#include "test_support.hpp"

using namespace exhibit;
using namespace exhibit::station;

TEST_CASE("touch targets are 12 mm at the monitor's density", "[station][metrics]") {
    // 1280 px across 338.7 mm is 96 dpi: 12 mm is 45.4 px.
    auto m = display_metrics(1280, 339);
    CHECK(m.dpi_measured);
    CHECK(m.dpi == Approx(95.9).margin(0.2));
    CHECK(m.target_px >= 45);
    CHECK(m.target_px / m.dpi * 25.4f >= kMinTargetMm);
    // A 10.1" 1920x1200 panel (217 mm wide, 225 dpi): targets grow with density.
    auto dense = display_metrics(1920, 217);
    CHECK(dense.target_px / dense.dpi * 25.4f >= kMinTargetMm);
    CHECK(dense.target_px > 100);
    CHECK(dense.font_px > m.font_px);
    CHECK(m.font_px >= 18);
    CHECK(m.title_px > m.font_px);
}

TEST_CASE("an unknown or implausible monitor size falls back to 96 dpi", "[station][metrics]") {
    CHECK_FALSE(display_metrics(1280, 0).dpi_measured);
    CHECK(display_metrics(1280, 0).dpi == 96.0f);
    CHECK(display_metrics(1920, 5).dpi == 96.0f);      // bad EDID: 9754 dpi
    CHECK(display_metrics(1920, 16000).dpi == 96.0f);  // 3 dpi
    CHECK(display_metrics(0, 0).target_px == 46.0f);
    auto forced = display_metrics(1280, 339, 160);
    CHECK(forced.dpi == 160.0f);
    CHECK(forced.target_px == std::ceil(12 * 160 / 25.4f));
}

namespace {

// Moves the finger from `from` to `to` over `seconds` at 60 Hz; returns the content's travel.
float drag_along(DragScroll& d, float from, float to, double& now, double seconds) {
    float moved = 0;
    const int frames = std::max(1, static_cast<int>(seconds * 60));
    for (int i = 1; i <= frames; ++i) {
        now += 1.0 / 60;
        moved += d.move(from + (to - from) * static_cast<float>(i) / frames, now);
    }
    return moved;
}

}  // namespace

TEST_CASE("drag scrolling: the threshold comes from the screen's density", "[station][drag]") {
    auto t96 = drag_scroll_tuning(display_metrics(1280, 0));
    auto t225 = drag_scroll_tuning(display_metrics(1920, 217));
    // 3 mm: 11.3 px at 96 dpi, more on a denser screen; well under a 12 mm target.
    CHECK(t96.threshold_px == Approx(11.34).margin(0.05));
    CHECK(t225.threshold_px > 2 * t96.threshold_px);
    CHECK(t96.threshold_px < display_metrics(1280, 0).target_px / 3);
    CHECK(t96.min_fling_px_s > t96.stop_px_s);
    CHECK(t96.max_fling_px_s > t96.min_fling_px_s);
}

TEST_CASE("drag scrolling: a press is a tap until it moves past the threshold", "[station][drag]") {
    DragScroll d(drag_scroll_tuning(display_metrics(1280, 0)));  // 11.3 px
    double now = 0;
    CHECK_FALSE(d.press(300, now));
    CHECK(d.phase() == DragScroll::Phase::Pressed);
    // A gloved finger rolling 8 px on a tap: no scroll, still a tap.
    CHECK(drag_along(d, 300, 308, now, 0.1) == 0);
    CHECK(drag_along(d, 308, 296, now, 0.1) == 0);
    CHECK_FALSE(d.dragging());
    d.release(now);
    CHECK(d.phase() == DragScroll::Phase::Idle);
    CHECK(d.fling(now + 0.1) == 0);

    // Past the threshold the content follows the whole way from the press, no jump.
    CHECK_FALSE(d.press(300, now));
    CHECK(d.move(311, now += 0.01) == 0);  // 11 px: not yet
    CHECK(d.move(313, now += 0.01) == Approx(13));
    CHECK(d.dragging());
    CHECK(d.move(250, now += 0.01) == Approx(-63));
    CHECK(d.move(250, now += 0.01) == 0);
    // Coming back within the threshold stays a drag.
    CHECK(d.move(301, now += 0.01) == Approx(51));
    CHECK(d.dragging());
}

TEST_CASE("drag scrolling: a slow release stops, a fast one flings and decays", "[station][drag]") {
    const auto tuning = drag_scroll_tuning(display_metrics(1280, 0));
    DragScroll d(tuning);
    double now = 0;
    // Dragged 300 px over a second, then held still for a fifth of a second: no fling.
    d.press(600, now);
    CHECK(drag_along(d, 600, 300, now, 1.0) == Approx(-300));
    drag_along(d, 300, 300, now, 0.2);
    d.release(now);
    CHECK_FALSE(d.flinging());
    CHECK(d.fling(now + 0.5) == 0);

    // Flicked 300 px in a tenth of a second (3000 px/s, upwards): flings on.
    d.press(600, now);
    CHECK(drag_along(d, 600, 300, now, 0.1) == Approx(-300));
    d.release(now);
    REQUIRE(d.flinging());
    CHECK(d.velocity(now) == Approx(-3000).epsilon(0.05));
    // Frame by frame it keeps going the same way, each step shorter than the one before,
    // and ends by itself; the distance is v0 * tau whatever the frame rate.
    float total = 0, last = 1e9f;
    int frames = 0;
    while (d.flinging() && frames < 6000) {
        now += 1.0 / 60;
        float step = d.fling(now);
        CHECK(step <= 0);
        CHECK(std::fabs(step) <= last + 1e-3f);
        last = std::fabs(step);
        total += step;
        ++frames;
    }
    CHECK_FALSE(d.flinging());
    CHECK(frames > 30);   // it kept scrolling after the finger left
    CHECK(frames < 300);  // and stopped within five seconds
    const double expected = d.tuning().time_constant_s * 3000;
    CHECK(-total == Approx(expected).epsilon(0.06));
    CHECK(d.fling(now + 1) == 0);

    // The same flick stepped at 20 Hz travels the same distance.
    DragScroll slow(tuning);
    double t = 0;
    slow.press(600, t);
    drag_along(slow, 600, 300, t, 0.1);
    slow.release(t);
    float total20 = 0;
    while (slow.flinging())
        total20 += slow.fling(t += 0.05);
    CHECK(total20 == Approx(total).epsilon(0.02));
}

TEST_CASE("drag scrolling: a touch catches a fling; stop ends it; speed is capped",
          "[station][drag]") {
    const auto tuning = drag_scroll_tuning(display_metrics(1280, 0));
    DragScroll d(tuning);
    double now = 0;
    d.press(100, now);
    drag_along(d, 100, 700, now, 0.05);  // 12,000 px/s: over the cap
    d.release(now);
    REQUIRE(d.flinging());
    CHECK(d.velocity(now) == Approx(tuning.max_fling_px_s));
    now += 0.1;
    CHECK(d.fling(now) > 0);
    CHECK(d.press(400, now));  // caught: that touch is no tap
    CHECK(d.phase() == DragScroll::Phase::Pressed);
    CHECK(d.fling(now + 0.1) == 0);
    d.release(now + 0.1);
    CHECK_FALSE(d.press(400, now + 0.2));  // nothing to catch now
    d.release(now + 0.2);

    d.press(100, now);
    drag_along(d, 100, 400, now, 0.1);
    d.release(now);
    REQUIRE(d.flinging());
    d.stop();
    CHECK(d.phase() == DragScroll::Phase::Idle);
    CHECK(d.fling(now + 0.1) == 0);
}

TEST_CASE("picture prefetch asks for the rows ahead of the scroll, nearest first",
          "[station][pictures]") {
    // Rows 10..12 on screen of 100, moving down: two screens ahead (13..18), one behind (9).
    CHECK(prefetch_rows(10, 13, 100, 1) == std::vector<int>{13, 9, 14, 15, 16, 17, 18});
    // Moving up: the same upwards.
    CHECK(prefetch_rows(10, 13, 100, -1) == std::vector<int>{9, 13, 8, 7, 6, 5, 4});
    // Still: a row either side.
    CHECK(prefetch_rows(10, 13, 100, 0) == std::vector<int>{13, 9});
    // Never past either end.
    CHECK(prefetch_rows(95, 98, 100, 1) == std::vector<int>{98, 94, 99});
    CHECK(prefetch_rows(0, 3, 100, -1) == std::vector<int>{3});
    CHECK(prefetch_rows(0, 0, 0, 1).empty());
    CHECK(prefetch_rows(0, 2, 10, 1, 3) == std::vector<int>{2, 3, 4, 5, 6, 7});
}

TEST_CASE("hold-to-confirm fires once, only after an unbroken hold", "[station][hold]") {
    HoldToConfirm hold(1.5);
    CHECK_FALSE(hold.update(false, 0.0));
    CHECK(hold.progress(0.0) == 0);
    CHECK_FALSE(hold.update(true, 10.0));
    CHECK_FALSE(hold.update(true, 11.0));
    CHECK(hold.progress(11.0) == Approx(1.0 / 1.5));
    // Released early: nothing, and the next hold starts from zero.
    CHECK_FALSE(hold.update(false, 11.2));
    CHECK(hold.progress(11.2) == 0);
    CHECK_FALSE(hold.update(true, 12.0));
    CHECK_FALSE(hold.update(true, 13.4));
    CHECK(hold.update(true, 13.5));
    // Holding on does not fire again.
    CHECK_FALSE(hold.update(true, 14.0));
    CHECK_FALSE(hold.update(true, 20.0));
    CHECK(hold.progress(20.0) == 1);
    // Release and hold again: fires again after the full time.
    CHECK_FALSE(hold.update(false, 21.0));
    CHECK_FALSE(hold.update(true, 22.0));
    CHECK_FALSE(hold.update(true, 23.0));
    CHECK(hold.update(true, 23.6));
}

TEST_CASE("text edits keep whole UTF-8 characters and the length limit", "[station][keyboard]") {
    TextEdit e("Zoë", 8);
    CHECK(e.cursor() == 4);
    e.backspace();
    CHECK(e.text() == "Zo");
    CHECK(e.insert("é"));
    CHECK(e.text() == "Zoé");
    e.left();
    CHECK(e.cursor() == 2);
    e.left();
    CHECK(e.insert("-"));
    CHECK(e.text() == "Z-oé");
    e.end();
    CHECK(e.insert("123"));
    CHECK_FALSE(e.insert("4"));  // 9 bytes > 8
    CHECK(e.text() == "Z-oé123");
    CHECK_FALSE(e.insert("\n"));
    e.home();
    e.delete_forward();
    CHECK(e.text() == "-oé123");
    e.clear();
    CHECK(e.text().empty());
    CHECK(e.cursor() == 0);
    e.backspace();  // nothing to delete
    CHECK(e.text().empty());
}

namespace {
const Key& find_key(KeyboardLayout layout, const std::string& label) {
    for (const auto& row : keyboard_rows(layout))
        for (const Key& k : row)
            if (k.label == label) return k;
    FAIL("no key " << label);
    throw;
}
}  // namespace

TEST_CASE("on-screen keyboard keys edit the field", "[station][keyboard]") {
    TextEdit e;
    KeyboardState s;
    CHECK(press(find_key(KeyboardLayout::Letters, "Shift"), e, s) == KeyResult::Unchanged);
    CHECK(key_label(find_key(KeyboardLayout::Letters, "o"), s) == "O");
    CHECK(press(find_key(KeyboardLayout::Letters, "o"), e, s) == KeyResult::Edited);
    CHECK(press(find_key(KeyboardLayout::Letters, "p"), e, s) == KeyResult::Edited);  // shift used
    CHECK(press(find_key(KeyboardLayout::Letters, "-"), e, s) == KeyResult::Edited);
    CHECK(e.text() == "Op-");
    // Shift twice is caps lock until Shift again.
    press(find_key(KeyboardLayout::Letters, "Shift"), e, s);
    press(find_key(KeyboardLayout::Letters, "Shift"), e, s);
    CHECK(s.caps);
    press(find_key(KeyboardLayout::Letters, "b"), e, s);
    press(find_key(KeyboardLayout::Letters, "b"), e, s);
    press(find_key(KeyboardLayout::Letters, "Shift"), e, s);
    press(find_key(KeyboardLayout::Letters, "b"), e, s);
    CHECK(e.text() == "Op-BBb");
    CHECK(press(find_key(KeyboardLayout::Letters, "Back"), e, s) == KeyResult::Edited);
    press(find_key(KeyboardLayout::Letters, "<"), e, s);
    press(find_key(KeyboardLayout::Letters, "Space"), e, s);
    CHECK(e.text() == "Op-B B");
    // The keypad: digits and separators for collar and exhibit numbers.
    press(find_key(KeyboardLayout::Letters, "123"), e, s);
    CHECK(s.layout == KeyboardLayout::Numeric);
    e.end();
    press(find_key(KeyboardLayout::Numeric, "4"), e, s);
    press(find_key(KeyboardLayout::Numeric, "/"), e, s);
    press(find_key(KeyboardLayout::Numeric, "0"), e, s);
    CHECK(e.text() == "Op-B B4/0");
    CHECK(press(find_key(KeyboardLayout::Numeric, "Done"), e, s) == KeyResult::Done);
    CHECK(press(find_key(KeyboardLayout::Numeric, "Cancel"), e, s) == KeyResult::Cancel);
    press(find_key(KeyboardLayout::Letters, "Clear"), e, s);
    CHECK(e.text().empty());
}

TEST_CASE("every keyboard layout can finish, cancel, delete and switch", "[station][keyboard]") {
    for (auto layout :
         {KeyboardLayout::Letters, KeyboardLayout::Symbols, KeyboardLayout::Numeric}) {
        bool done = false, cancel = false, back = false, other = false;
        for (const auto& row : keyboard_rows(layout))
            for (const Key& k : row) {
                done |= k.action == KeyAction::Done;
                cancel |= k.action == KeyAction::Cancel;
                back |= k.action == KeyAction::Backspace;
                other |= k.action == KeyAction::Layout && k.to != layout;
            }
        CHECK(done);
        CHECK(cancel);
        CHECK(back);
        CHECK(other);
    }
}

TEST_CASE("estimated time from size and measured speed", "[station][estimate]") {
    auto triage = estimate_job(1'000'000'000, 50e6, false, true);
    CHECK(triage.measured);
    CHECK(triage.total_seconds == Approx(20));
    CHECK(triage.image_seconds == 0);
    auto image = estimate_job(1'000'000'000, 50e6, true, true);
    CHECK(image.total_seconds == Approx(60));
    CHECK(estimate_job(1'000'000'000, 50e6, true, false).total_seconds == Approx(40));
    auto assumed = estimate_job(250'000'000, 0, false, true);
    CHECK_FALSE(assumed.measured);
    CHECK(assumed.rate == kAssumedReadRate);
    CHECK(assumed.total_seconds == Approx(10));
    CHECK(format_duration(45) == "45 s");
    CHECK(format_duration(754) == "12 min 34 s");
    CHECK(format_duration(3900) == "1 h 05 min");
    CHECK(format_duration(-1) == "--");
    CHECK(format_duration(0.2) == "under 1 s");
    CHECK(format_bytes(221'000'000) == "221 MB");
    CHECK(format_bytes(1'500'000'000) == "1.50 GB");
    CHECK(format_rate(31e6) == "31.0 MB/s");
}

TEST_CASE("the case store keeps cases by reference, newest first", "[station][cases]") {
    test::TempDir dir;
    CaseStore store(dir.path() / "cases");
    auto none = store.recent();
    REQUIRE(none);
    CHECK(none->empty());
    CHECK(folder_name_for("OP/23 x") == "OP_23_x");
    CHECK(folder_name_for("..") == "_..");
    OperatorIdentity who{"Jane Doe", "4711"};
    CaseDetails a{"OP/1", "JD-1", "W-9", "Leeds", "first"};
    CaseDetails b{"OP-2", "JD-7", "", "", ""};
    REQUIRE(store.save(a, who));
    REQUIRE(store.save(b, who));
    CHECK(store.case_database(a) == dir.path() / "cases" / "OP_1" / "JD-1" / "case.sqlite");
    CHECK(std::filesystem::is_directory(store.case_database(a).parent_path()));
    auto recent = store.recent();
    REQUIRE(recent);
    REQUIRE(recent->size() == 2);
    CHECK((*recent)[0].details.case_ref == "OP-2");
    CHECK((*recent)[1].details.case_ref == "OP/1");  // exact text kept
    CHECK((*recent)[1].details.location == "Leeds");
    CHECK((*recent)[1].operator_name == "Jane Doe");
    CHECK_FALSE(store.save(CaseDetails{"", "JD-1", "", "", ""}, who));
}

namespace {
FileRow row(const std::string& path, char type, bool deleted, std::string fs = "fat32",
            std::uint64_t offset = 1048576) {
    FileRow r;
    r.file_system = std::move(fs);
    r.fs_offset = offset;
    r.entry.path = path;
    r.entry.name = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
    r.entry.name_type = type;
    r.entry.name_allocated = !deleted;
    return r;
}
}  // namespace

TEST_CASE("findings put hits first and browse by partition and folder", "[station][findings]") {
    std::vector<FileRow> files;
    files.push_back(row("docs", 'd', false));
    files.push_back(row("docs/b.txt", 'r', false));
    files.push_back(row("docs/a.txt", 'r', true));
    files.push_back(row("zeta.jpg", 'r', false));
    files.push_back(row("docs/sub", 'd', false));
    files.push_back(row("home", 'd', false, "ext4", 200000000));
    files[3].entry.findings.extension_mismatch = true;
    files[1].entry.findings.hash_status = "known-bad";
    Hit hit;
    hit.kind = "yara";
    hit.name = "Demo_Rule";
    hit.severity = "high";
    files[3].entry.findings.hits.push_back(hit);
    auto idx = index_findings(files, 4);
    CHECK(idx.deleted == 1);
    REQUIRE(idx.groups.size() == 4);
    CHECK(idx.groups[0].title == "Known-bad hash");
    CHECK(idx.groups[0].files == std::vector<std::size_t>{1});
    CHECK(idx.groups[1].title == "YARA high: Demo_Rule");
    CHECK(idx.groups[2].title == "Extension mismatch");
    CHECK(idx.groups[3].title == "Deleted files");
    REQUIRE(idx.partitions.size() == 2);
    CHECK(idx.partitions[0].file_system == "fat32");
    CHECK(idx.partitions[0].file_count == 5);
    CHECK(idx.partitions[1].file_system == "ext4");
    // Folders first, then by name.
    CHECK(idx.partitions[0].children.at("docs") == std::vector<std::size_t>{4, 2, 1});
    CHECK(idx.partitions[0].children.at("") == std::vector<std::size_t>{0, 3});
    CHECK(parent_folder("a/b/c") == "a/b");
    CHECK(parent_folder("c") == "");
}

namespace {
FileRow timed_file(const std::string& name, std::int64_t modified, char type = 'r') {
    FileRow r;
    r.entry.name = name;
    r.entry.path = name;
    r.entry.name_type = type;
    r.entry.modified = modified;
    return r;
}
}  // namespace

TEST_CASE("the timeline picks the finest unit that fits and keeps empty stretches",
          "[station][timeline]") {
    // 2024-03-05 14:10, 16:00 and 2024-03-07 09:30 UTC; a folder and an undated file.
    std::vector<FileRow> files = {timed_file("a", 1709647800), timed_file("b", 1709654400),
                                  timed_file("c", 1709803800), timed_file("dir", 1709647800, 'd'),
                                  timed_file("undated", 0)};
    Timeline hours = build_timeline(files, TimeField::Modified);
    CHECK(hours.unit == TimeUnit::Hour);
    CHECK(hours.without_time == 1);
    REQUIRE(hours.buckets.size() == 44);  // 14:00 on the 5th to 09:00 on the 7th
    CHECK(bucket_label(hours, hours.buckets.front()) == "2024-03-05 14:00");
    CHECK(hours.buckets.front().files == std::vector<std::size_t>{0});
    CHECK(hours.buckets[2].files == std::vector<std::size_t>{1});
    CHECK(hours.buckets.back().files == std::vector<std::size_t>{2});
    CHECK(hours.max_count == 1);

    Timeline days = build_timeline(files, TimeField::Modified, 10);
    CHECK(days.unit == TimeUnit::Day);
    REQUIRE(days.buckets.size() == 3);
    CHECK(bucket_label(days, days.buckets[0]) == "2024-03-05");
    CHECK(days.buckets[0].files.size() == 2);
    CHECK(days.buckets[1].files.empty());
    CHECK(days.buckets[2].files.size() == 1);
    CHECK(days.max_count == 2);
    for (const auto& b : days.buckets)
        CHECK(b.end - b.start == 86400);

    // Years apart: months while they fit, then years (an old outlier).
    files.push_back(timed_file("2019", 1548979200));  // 2019-02-01
    Timeline months = build_timeline(files, TimeField::Modified);
    CHECK(months.unit == TimeUnit::Month);
    CHECK(bucket_label(months, months.buckets.front()) == "2019-02");
    CHECK(bucket_label(months, months.buckets.back()) == "2024-03");
    CHECK(months.buckets.size() == 62);
    files.push_back(timed_file("1990", 631152000));  // 1990-01-01
    Timeline years = build_timeline(files, TimeField::Modified);
    CHECK(years.unit == TimeUnit::Year);
    CHECK(years.buckets.size() == 35);
    CHECK(bucket_label(years, years.buckets.front()) == "1990");
    CHECK(years.buckets.back().files.size() == 3);

    // Created times are their own timeline; none here.
    Timeline created = build_timeline(files, TimeField::Created);
    CHECK(created.buckets.empty());
    CHECK(created.without_time == 6);
}
