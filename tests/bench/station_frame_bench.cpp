// Frame time of the station's findings views over a large case, the real views in a bare
// ImGui context:
// - the file list: 100,000 listed files (90,000 of them in one folder, 20,000 deleted)
//   scrolled on every frame;
// - the picture grid: 5,000 real pictures (JPEG and PNG written with Debian's
//   stb_image_write) on an ext4 file system (mkfs.ext4 -d), found by the engine's walk
//   with libmagic, listed in the same run, their thumbnails read back through the engine
//   and decoded on the picture worker while the grid scrolls through all of them.
// Prints the CPU and wall time per frame (building the draw lists; the GPU's part is not
// measured here) against the 16 ms budget of 60 Hz, the longest frame (the UI thread
// never waits for the worker), the thumbnails and textures held, and thumbnails per
// second read one source open and worker per picture (load_thumbnail) against one
// opened source and one worker per batch (PictureReader).
//
//   build/tests/station_frame_bench [files] [pictures]
#include <imgui.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <stb_image_write.h>

#include "exhibit/case_db.hpp"
#include "exhibit/file_walk.hpp"
#include "exhibit/station/station_model.hpp"
#include "screens.hpp"
#include "touch_ui.hpp"

using namespace exhibit;
using namespace exhibit::station;
using Clock = std::chrono::steady_clock;

namespace {

// The grid position in a picture tile's button label ("Reveal##pic000042"), or -1.
long tile_of(const std::string& label) {
    auto at = label.find("##pic");
    if (at == std::string::npos || at + 5 >= label.size() ||
        !std::isdigit(static_cast<unsigned char>(label[at + 5])))
        return -1;
    return std::stol(label.substr(at + 5));
}

double thread_cpu_ms() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

double ms_since(Clock::time_point t) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

// `count` pictures, alternately JPEG and PNG, each its own pattern, in folders of 100.
bool write_pictures(const std::filesystem::path& root, std::size_t count) {
    const int w = 240, h = 180;
    std::vector<unsigned char> px(static_cast<std::size_t>(w) * h * 3);
    for (std::size_t i = 0; i < count; ++i) {
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) {
                unsigned char* p = &px[(static_cast<std::size_t>(y) * w + x) * 3];
                p[0] = static_cast<unsigned char>(x + i * 7);
                p[1] = static_cast<unsigned char>(y * 2 + i * 13);
                p[2] = static_cast<unsigned char>(((x / 20 + y / 20 + i) % 2) * 200);
            }
        const auto dir = root / ("d" + std::to_string(i / 100));
        std::filesystem::create_directories(dir);
        const bool jpeg = i % 2 == 0;
        const auto file = dir / ("P" + std::to_string(i) + (jpeg ? ".jpg" : ".png"));
        int ok = jpeg ? stbi_write_jpg(file.c_str(), w, h, 3, px.data(), 80)
                      : stbi_write_png(file.c_str(), w, h, 3, px.data(), w * 3);
        if (!ok) return false;
    }
    return true;
}

WalkResult synthetic_walk(std::size_t n) {
    WalkResult walk;
    FileSystemEntry fs;
    fs.type = "ntfs";
    fs.offset = 1 << 20;
    walk.file_systems.push_back(fs);
    auto dir = [&](const std::string& path) {
        FileEntry d;
        d.path = path;
        d.name = path.substr(path.rfind('/') + 1);
        d.name_type = d.meta_type = 'd';
        d.name_allocated = d.meta_allocated = true;
        walk.files.push_back(d);
    };
    dir("DCIM");
    dir("DCIM/big");
    for (std::size_t i = 0; i < n; ++i) {
        FileEntry f;
        bool picture = false;  // the pictures are real, on the ext4 file system
        std::string folder = i < n * 9 / 10 ? "DCIM/big" : "Users/u" + std::to_string(i % 100);
        f.name = (picture ? "IMG_" : "file_") + std::to_string(i) + (picture ? ".jpg" : ".txt");
        f.path = folder + "/" + f.name;
        f.name_type = f.meta_type = 'r';
        f.meta_address = 100 + i;
        f.size = 1000 + i;
        f.name_allocated = f.meta_allocated = i % 5 != 0;  // 20,000 deleted
        f.modified = 1700000000 + static_cast<std::int64_t>(i);
        f.content_read = true;
        f.findings.mime_type = picture ? "image/jpeg" : "text/plain";
        f.findings.hashes.md5 = std::string(32, 'a');
        f.findings.hashes.sha1 = std::string(40, 'b');
        f.findings.hashes.sha256 = std::string(64, 'c');
        walk.files.push_back(std::move(f));
    }
    return walk;
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t n = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100000;
    std::size_t pictures = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 5000;
    std::string pattern =
        (std::filesystem::temp_directory_path() / "station-bench-XXXXXX").string();
    if (!mkdtemp(pattern.data())) return std::perror("mkdtemp"), 1;
    const std::filesystem::path dir = pattern;
    struct Cleanup {
        std::filesystem::path p;
        ~Cleanup() { std::filesystem::remove_all(p); }
    } cleanup{dir};
    StationConfig config;
    config.case_root = dir / "cases";
    config.sysfs_root = dir / "no-sysfs";
    config.watch_hotplug = false;
    CaseDetails details{"OP-BENCH", "EX-1", "", "", ""};
    CaseStore store(config.case_root);
    if (!store.save(details, {"Bench", "1"})) return 1;
    // The pictures: real files on a real file system the engine walks and reads.
    const std::filesystem::path image = dir / "pictures.ext4";
    WalkResult walk;
    {
        auto t = Clock::now();
        if (!write_pictures(dir / "pics", pictures))
            return std::fprintf(stderr, "stb_image_write failed\n"), 1;
        std::string cmd = "mkfs.ext4 -q -F -b 4096 -N " + std::to_string(pictures + 1000) +
                          " -d '" + (dir / "pics").string() + "' '" + image.string() + "' " +
                          std::to_string(pictures / 20 + 64) + "M";
        if (std::system(("PATH=$PATH:/usr/sbin:/sbin " + cmd).c_str()) != 0)
            return std::fprintf(stderr, "failed: %s\n", cmd.c_str()), 1;
        std::filesystem::remove_all(dir / "pics");
        auto source = open_source(image);
        if (!source) return std::fprintf(stderr, "%s\n", source.error().message.c_str()), 1;
        JobProgress progress;
        const std::atomic<bool> never{false};
        WalkOptions options;
        options.read_content = true;  // hashes and libmagic's type, as triage has them
        auto walked = walk_file_systems(**source, progress, never, options);
        if (!walked) return std::fprintf(stderr, "%s\n", walked.error().message.c_str()), 1;
        walk = std::move(*walked);
        std::printf("%zu pictures written, put on ext4 and walked in %.0f ms\n", pictures,
                    ms_since(t));
    }
    {
        auto db = CaseDatabase::open(store.case_database(details));
        if (!db) return std::fprintf(stderr, "%s\n", db.error().message.c_str()), 1;
        auto t = Clock::now();
        WalkResult all = synthetic_walk(n);
        const int base = static_cast<int>(all.file_systems.size());
        for (auto& f : walk.files) {
            f.file_system += base;  // the ext4 comes after the synthetic one
            all.files.push_back(std::move(f));
        }
        all.file_systems.insert(all.file_systems.end(), walk.file_systems.begin(),
                                walk.file_systems.end());
        auto run = (*db)->begin_run(SourceInfo{});
        if (!run || !(*db)->record_walk(*run, all) || !(*db)->finish_run(*run, "completed", ""))
            return 1;
        std::printf("case database with %zu files written in %.0f ms\n", all.files.size(),
                    ms_since(t));
    }

    for (auto [w, h] : {std::pair{1280, 800}, std::pair{1920, 1080}}) {
        StationModel model(config);
        model.case_details = details;
        ImGuiContext* ctx = ImGui::CreateContext();
        ImGuiIO& io = ImGui::GetIO();
        io.IniFilename = nullptr;
        io.DisplaySize = ImVec2(static_cast<float>(w), static_cast<float>(h));
        ui::TouchUi touch;
        touch.metrics = display_metrics(w, 0);
        if (auto why = ui::load_fonts(touch.metrics, "", touch.fonts); !why.empty())
            return std::fprintf(stderr, "%s\n", why.c_str()), 1;
        unsigned char* px;
        int tw, th;
        io.Fonts->GetTexDataAsRGBA32(&px, &tw, &th);
        ui::apply_theme(touch.theme, touch.metrics);
        ui::Screens screens(model, touch);

        auto t = Clock::now();
        model.show_findings();
        if (!model.settle(std::chrono::seconds(120)) || !model.findings())
            return std::fprintf(stderr, "findings did not load: %s\n", model.message().c_str()), 1;
        double load_ms = ms_since(t);

        // Open DCIM/big by tapping it as a finger would, then scroll on every frame.
        auto frame = [&](double now) {
            io.DeltaTime = 1.0f / 60;
            model.frame(now);
            ImGui::NewFrame();
            touch.begin_frame();
            screens.draw();
            ImGui::Render();
        };
        auto tap = [&](const std::string& part, double now) {
            for (int k = 0; k < 3; ++k) {
                for (const auto& [label, rect] : touch.widgets())
                    if (label.find(part) != std::string::npos) {
                        io.MousePos = rect.GetCenter();
                        break;
                    }
                io.MouseDown[0] = k == 1;
                frame(now);
            }
            frame(now);  // the new folder's rows are drawn in the frame after the tap
        };
        frame(0);
        tap("[dir] DCIM##", 0);
        tap("[dir] big##", 0);
        std::size_t rows = 0;
        for (const auto& [label, rect] : touch.widgets())
            rows += label.find("##f") != std::string::npos;
        if (rows == 0) return std::fprintf(stderr, "the big folder did not open\n"), 1;
        // Wall time is what the operator sees; thread CPU time is the frame's own cost,
        // which other processes on a shared machine cannot inflate.
        std::vector<double> wall, cpu;
        for (int i = 0; i < 600; ++i) {
            io.MouseWheel = -3;  // over the list, where the last tap left the pointer
            auto f = Clock::now();
            double c = thread_cpu_ms();
            frame(i / 60.0);
            cpu.push_back(thread_cpu_ms() - c);
            wall.push_back(ms_since(f));
        }
        auto stats = [](std::vector<double> v) {
            std::sort(v.begin(), v.end());
            double mean = 0;
            for (double x : v)
                mean += x;
            char buf[96];
            std::snprintf(buf, sizeof buf, "mean %.2f ms, p99 %.2f ms, max %.2f ms",
                          mean / static_cast<double>(v.size()), v[v.size() * 99 / 100], v.back());
            return std::string(buf);
        };
        std::printf(
            "%dx%d: %zu files indexed in %.0f ms; %zu rows drawn per frame while scrolling\n"
            "  frame CPU time:  %s\n  frame wall time: %s (budget 16 ms)\n",
            w, h, model.findings()->files.size(), load_ms, rows, stats(cpu).c_str(),
            stats(wall).c_str());

        // The picture grid: thumbnails from the ext4 image, read on the picture worker.
        // Textures are counted as the windowed program would make and free them.
        std::size_t live_textures = 0, max_textures = 0, made = 0;
        touch.make_texture = [&](const std::uint8_t*, int, int) {
            max_textures = std::max(max_textures, ++live_textures);
            return reinterpret_cast<ImTextureID>(static_cast<std::uintptr_t>(++made));
        };
        touch.free_texture = [&](ImTextureID) { --live_textures; };
        model.use_picture_source(image.string());
        tap("Pictures (", 0);
        if (model.pictures().size() != pictures)
            return std::fprintf(stderr, "%zu pictures in the grid, not %zu\n",
                                model.pictures().size(), pictures),
                   1;
        for (const auto& [label, rect] : touch.widgets())
            if (tile_of(label) >= 0) {
                io.MousePos = rect.GetCenter();  // over the grid
                break;
            }
        // At 60 Hz, as the screen would run: scroll until the last picture is on screen.
        auto last_seen = [&] {
            std::size_t last = 0;
            for (const auto& [label, rect] : touch.widgets())
                if (long k = tile_of(label); k >= 0)
                    last = std::max<std::size_t>(last, static_cast<std::size_t>(k));
            return last;
        };
        auto loaded_on_screen = [&] {
            std::size_t on = 0, ready = 0;
            for (const auto& [label, rect] : touch.widgets())
                if (long k = tile_of(label); k >= 0) {
                    ++on;
                    const auto* thumb =
                        model.thumbnail(model.pictures()[static_cast<std::size_t>(k)]);
                    ready += thumb && !thumb->loading;
                }
            return std::pair{on, ready};
        };
        std::vector<double> pwall, pcpu;
        std::size_t over_budget = 0, filled_while_scrolling = 0;
        const auto start = Clock::now();
        auto paced = [&](int i) {
            auto due = start + std::chrono::microseconds(static_cast<long>(i * 16667.0));
            std::this_thread::sleep_until(due);
            auto f = Clock::now();
            double c = thread_cpu_ms();
            frame(i / 60.0);
            pcpu.push_back(thread_cpu_ms() - c);
            pwall.push_back(ms_since(f));
            over_budget += pwall.back() > 16.0;
        };
        int i = 0;
        for (; last_seen() + 1 < pictures && i < 60 * 120; ++i) {
            io.MouseWheel = -2;
            paced(i);
            auto [on, ready] = loaded_on_screen();
            filled_while_scrolling += ready;
            (void)on;
        }
        const double scroll_s = ms_since(start) / 1000;
        const int scroll_frames = i;
        const std::size_t reached = last_seen() + 1;
        // Stopped at the end: how long until every tile on screen has its thumbnail.
        auto stopped = Clock::now();
        std::pair<std::size_t, std::size_t> screen{0, 0};
        for (; i < scroll_frames + 60 * 20; ++i) {
            paced(i);
            screen = loaded_on_screen();
            if (screen.first > 0 && screen.second == screen.first) break;
        }
        std::printf(
            "  picture grid: %zu pictures, scrolled to picture %zu in %.1f s (%d frames);\n"
            "    thumbnails asked for in %d batches (at most %zu each) on the worker, %zu kept "
            "(cache cap %zu),\n"
            "    %.1f tiles on screen had theirs per frame while scrolling; after stopping, all "
            "%zu/%zu tiles in %.0f ms\n"
            "    textures: at most %zu alive, %zu made\n"
            "    frame CPU time:  %s\n    frame wall time: %s; %zu of %zu frames over 16 ms\n",
            model.pictures().size(), reached, scroll_s, scroll_frames, model.picture_batches(),
            StationModel::kThumbnailBatch, model.thumbnail_cache().size(),
            model.thumbnail_cache().capacity(),
            static_cast<double>(filled_while_scrolling) / std::max(scroll_frames, 1), screen.second,
            screen.first, ms_since(stopped), max_textures, made, stats(pcpu).c_str(),
            stats(pwall).c_str(), over_budget, pwall.size());

        // Flung by a finger back from the end, as an examiner would: 30 flicks of 300 px in
        // a tenth of a second (3,000 px/s), each left to run out (about 2 s). Counts the
        // tiles on screen that still showed the placeholder while the grid was moving.
        // The finger goes down in the middle of the tiles on screen (a top row may be
        // partly scrolled off above the grid).
        ImVec2 finger(0, 0);
        int tiles = 0;
        for (const auto& [label, rect] : touch.widgets())
            if (tile_of(label) >= 0) {
                finger = ImVec2(finger.x + rect.GetCenter().x, finger.y + rect.GetCenter().y);
                ++tiles;
            }
        if (tiles == 0) return std::fprintf(stderr, "no tiles on screen\n"), 1;
        finger = ImVec2(finger.x / static_cast<float>(tiles), finger.y / static_cast<float>(tiles));
        // From an empty cache: every tile the fling reaches is read and decoded anew.
        model.use_picture_source(image.string());
        const float flick = 300;
        std::vector<double> fwall, fcpu;
        std::size_t tiles_moving = 0, ready_moving = 0, fover = 0;
        int flicks = 0, fling_frames = 0;
        const auto fstart = Clock::now();
        auto fling_frame = [&](int j, ImVec2 at, bool down) {
            io.MousePos = at;
            io.MouseDown[0] = down;
            auto due = fstart + std::chrono::microseconds(static_cast<long>(j * 16667.0));
            std::this_thread::sleep_until(due);
            auto f = Clock::now();
            double c = thread_cpu_ms();
            frame((i + j) / 60.0);
            fcpu.push_back(thread_cpu_ms() - c);
            fwall.push_back(ms_since(f));
            fover += fwall.back() > 16.0;
        };
        auto first_seen = [&] {
            long first = -1;
            for (const auto& [label, rect] : touch.widgets())
                if (long k = tile_of(label); k >= 0 && (first < 0 || k < first)) first = k;
            return first;
        };
        int j = 0;
        while (first_seen() > 0 && flicks < 30) {
            ++flicks;
            const float top = std::min(finger.y, io.DisplaySize.y - flick - 20);
            for (int k = 0; k <= 6; ++k)
                fling_frame(j++, ImVec2(finger.x, top + flick * static_cast<float>(k) / 6), k < 6);
            while (touch.drag_scroll().flinging()) {
                fling_frame(j++, ImVec2(finger.x, top + flick), false);
                ++fling_frames;
                auto [on, ready] = loaded_on_screen();
                tiles_moving += on;
                ready_moving += ready;
            }
        }
        std::printf(
            "    flung back from the end: %d flicks, %d frames flinging, %.1f%% of the tiles on "
            "screen showed their thumbnail while flung (%zu placeholder tile-frames)\n"
            "    frame CPU time:  %s\n    frame wall time: %s; %zu of %zu frames over 16 ms\n",
            flicks, fling_frames,
            tiles_moving ? 100.0 * static_cast<double>(ready_moving) / tiles_moving : 0.0,
            tiles_moving - ready_moving, stats(fcpu).c_str(), stats(fwall).c_str(), fover,
            fwall.size());
        touch.make_texture = nullptr;  // the counters go before the screens
        touch.free_texture = nullptr;
        ImGui::DestroyContext(ctx);
    }

    // Thumbnails of a few hundred pictures: a source open and a parser worker per picture
    // (load_thumbnail, as before) against one opened source and a worker per batch.
    {
        StationModel model(config);
        model.case_details = details;
        model.show_findings();
        if (!model.settle(std::chrono::seconds(120)) || !model.findings()) return 1;
        const std::size_t count = std::min<std::size_t>(300, model.pictures().size());
        std::vector<FileRow> rows;
        for (std::size_t k = 0; k < count; ++k)
            rows.push_back(model.findings()->files[model.pictures()[k]]);
        auto t = Clock::now();
        std::size_t ok_single = 0;
        for (const FileRow& row : rows)
            ok_single += load_thumbnail(image.string(), row, StationModel::kThumbnailSide) ? 1 : 0;
        const double single_ms = ms_since(t);
        t = Clock::now();
        PictureReader reader(image.string());
        const std::atomic<bool> never{false};
        std::size_t ok_batch = 0;
        for (std::size_t k = 0; k < rows.size(); k += StationModel::kThumbnailBatch) {
            auto part = std::span(rows).subspan(
                k, std::min(StationModel::kThumbnailBatch, rows.size() - k));
            for (const auto& th :
                 reader.load(part, StationModel::kThumbnailSide, 32ull << 20, never))
                ok_batch += th.error.empty();
        }
        const double batch_ms = ms_since(t);
        std::printf(
            "thumbnails of %zu pictures: per picture (open + worker each) %.0f ms = %.0f/s, "
            "%zu decoded;\n  one source, a worker per %zu: %.0f ms = %.0f/s, %zu decoded; "
            "%.1fx faster\n",
            count, single_ms, count / (single_ms / 1000), ok_single, StationModel::kThumbnailBatch,
            batch_ms, count / (batch_ms / 1000), ok_batch, single_ms / batch_ms);
    }
    return 0;
}
