// exhibit-station: the touch interface. GLFW window, OpenGL 3 renderer, Dear ImGui views
// over the StationModel; all work runs on the model's worker threads.
#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>

#include <GL/gl.h>
#include <stb_image_write.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#include "screens.hpp"
#include "script.hpp"

namespace {

using namespace exhibit::station;

const char* kUsage =
    "usage: exhibit-station [options]\n"
    "  --geometry WxH     window size (default 1280x800)\n"
    "  --fullscreen       fill the primary monitor (the appliance's kiosk mode)\n"
    "  --dpi N            screen density when the monitor reports a wrong one\n"
    "  --theme day|night  starting theme (default day)\n"
    "  --cases DIR        case folder (default $EXHIBIT_CASES, else ~/exhibit-cases)\n"
    "  --image FILE       offer an image file beside the attached devices (repeatable)\n"
    "  --sysfs DIR        sysfs root (default /sys)\n"
    "  --rules DIR        YARA rule packs offered (default the rules/ beside the program)\n"
    "  --no-hotplug       list devices once instead of following hotplug\n"
    "  --font FILE        body font (default DejaVu Sans from fonts-dejavu-core)\n"
    "  --script FILE      drive the station from a script (see app/station/ui/script.hpp)\n";

struct Args {
    int width = 1280, height = 800;
    bool fullscreen = false;
    float dpi = 0;
    ui::Theme theme = ui::Theme::Day;
    StationConfig config;
    std::string font, script;
};

int usage_error(const std::string& why) {
    std::cerr << "exhibit-station: " << why << "\n" << kUsage;
    return 2;
}

std::filesystem::path default_case_root() {
    if (const char* env = std::getenv("EXHIBIT_CASES"); env && *env) return env;
    if (const char* home = std::getenv("HOME"); home && *home)
        return std::filesystem::path(home) / "exhibit-cases";
    return "exhibit-cases";
}

// Parses argv; returns -1 to go on, else the exit status.
int parse(int argc, char** argv, Args& a) {
    a.config.case_root = default_case_root();
    a.config.matching.hash_set_store = exhibit::HashSetStore::default_path();
    a.config.matching.rules_dir = default_rules_dir();
    a.config.matching.keywords_dir = default_keywords_dir();
    for (int i = 1; i < argc; ++i) {
        std::string opt = argv[i];
        auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
        if (opt == "--help" || opt == "-h") {
            std::cout << kUsage;
            return 0;
        } else if (opt == "--fullscreen") {
            a.fullscreen = true;
        } else if (opt == "--no-hotplug") {
            a.config.watch_hotplug = false;
        } else if (opt == "--geometry") {
            const char* v = value();
            if (!v || std::sscanf(v, "%dx%d", &a.width, &a.height) != 2 || a.width < 640 ||
                a.height < 480)
                return usage_error("--geometry takes WxH, at least 640x480");
        } else if (opt == "--dpi") {
            const char* v = value();
            a.dpi = v ? std::strtof(v, nullptr) : 0;
            if (a.dpi < 50 || a.dpi > 600) return usage_error("--dpi takes 50 to 600");
        } else if (opt == "--theme") {
            const char* v = value();
            if (!v || (std::strcmp(v, "day") && std::strcmp(v, "night")))
                return usage_error("--theme takes day or night");
            a.theme = std::strcmp(v, "day") ? ui::Theme::Night : ui::Theme::Day;
        } else if (opt == "--cases" || opt == "--image" || opt == "--sysfs" || opt == "--font" ||
                   opt == "--script" || opt == "--rules") {
            const char* v = value();
            if (!v) return usage_error(opt + " needs a value");
            if (opt == "--cases") a.config.case_root = v;
            if (opt == "--sysfs") a.config.sysfs_root = v;
            if (opt == "--font") a.font = v;
            if (opt == "--script") a.script = v;
            if (opt == "--rules") {
                std::error_code ec;
                if (!std::filesystem::is_directory(v, ec))
                    return usage_error(std::string("--rules ") + v + " is not a folder");
                a.config.matching.rules_dir = v;
            }
            if (opt == "--image") {
                std::error_code ec;
                if (!std::filesystem::is_regular_file(v, ec))
                    return usage_error(std::string("--image ") + v + " is not a file");
                a.config.image_files.emplace_back(v);
            }
        } else {
            return usage_error("unknown option " + opt);
        }
    }
    return -1;
}

// Saves the back buffer (the frame just rendered) as an RGB PNG.
bool save_screenshot(const std::string& path, int width, int height) {
    std::vector<unsigned char> pixels(static_cast<std::size_t>(width) * height * 3);
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    glReadBuffer(GL_BACK);
    glReadPixels(0, 0, width, height, GL_RGB, GL_UNSIGNED_BYTE, pixels.data());
    // OpenGL's rows run bottom-up; PNG's top-down.
    std::vector<unsigned char> flipped(pixels.size());
    std::size_t stride = static_cast<std::size_t>(width) * 3;
    for (int y = 0; y < height; ++y)
        std::copy_n(&pixels[static_cast<std::size_t>(height - 1 - y) * stride], stride,
                    &flipped[static_cast<std::size_t>(y) * stride]);
    // Unfiltered rows: a checker can read any row without decoding the ones above it, and
    // flat UI colours still compress well.
    stbi_write_force_png_filter = 0;
    return stbi_write_png(path.c_str(), width, height, 3, flipped.data(),
                          static_cast<int>(stride)) != 0;
}

void glfw_error(int code, const char* text) {
    std::cerr << "exhibit-station: GLFW error " << code << ": " << text << "\n";
}

}  // namespace

int main(int argc, char** argv) {
    Args args;
    if (int status = parse(argc, argv, args); status >= 0) return status;

    ui::Script script;
    if (!args.script.empty()) {
        if (auto why = script.load(args.script); !why.empty()) return usage_error(why);
    }

    glfwSetErrorCallback(glfw_error);
    if (!glfwInit()) {
        std::cerr << "exhibit-station: cannot open the display (is DISPLAY set?)\n";
        return 1;
    }
    glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 0);
    GLFWmonitor* monitor = glfwGetPrimaryMonitor();
    const GLFWvidmode* mode = monitor ? glfwGetVideoMode(monitor) : nullptr;
    int mm_w = 0, mm_h = 0;
    if (monitor) glfwGetMonitorPhysicalSize(monitor, &mm_w, &mm_h);
    if (args.fullscreen && mode) {
        args.width = mode->width;
        args.height = mode->height;
    }
    GLFWwindow* window = glfwCreateWindow(args.width, args.height, "Exhibit station",
                                          args.fullscreen ? monitor : nullptr, nullptr);
    if (!window) {
        std::cerr << "exhibit-station: cannot create an OpenGL 3 window\n";
        glfwTerminate();
        return 1;
    }
    glfwMakeContextCurrent(window);
    glfwSwapInterval(1);

    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;  // a kiosk keeps no layout state between runs

    ui::TouchUi touch;
    touch.make_texture = [](const std::uint8_t* rgba, int width, int height) {
        GLuint id = 0;
        glGenTextures(1, &id);
        glBindTexture(GL_TEXTURE_2D, id);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
        glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
        glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
        glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA, width, height, 0, GL_RGBA, GL_UNSIGNED_BYTE, rgba);
        return reinterpret_cast<ImTextureID>(static_cast<std::uintptr_t>(id));
    };
    touch.free_texture = [](ImTextureID texture) {
        GLuint id = static_cast<GLuint>(reinterpret_cast<std::uintptr_t>(texture));
        glDeleteTextures(1, &id);
    };
    touch.metrics = display_metrics(mode ? mode->width : 0, mm_w, args.dpi);
    touch.theme = args.theme;
    if (auto why = ui::load_fonts(touch.metrics, args.font, touch.fonts); !why.empty()) {
        std::cerr << "exhibit-station: " << why << "\n";
        ImGui::DestroyContext();
        glfwDestroyWindow(window);
        glfwTerminate();
        return 1;
    }
    ui::apply_theme(touch.theme, touch.metrics);
    std::cerr << "exhibit-station: " << args.width << "x" << args.height << ", "
              << static_cast<int>(touch.metrics.dpi) << " dpi"
              << (touch.metrics.dpi_measured ? "" : " (assumed)") << ", touch targets "
              << touch.metrics.target_px << " px, text " << touch.metrics.font_px << " px\n";

    ImGui_ImplGlfw_InitForOpenGL(window, true);
    ImGui_ImplOpenGL3_Init("#version 130");

    int status = 0;
    {
        StationModel model(args.config);
        model.start();
        ui::Screens screens(model, touch);
        while (!glfwWindowShouldClose(window)) {
            // Wake at least 30 times a second so progress moves without input.
            if (script.active())
                glfwPollEvents();
            else
                glfwWaitEventsTimeout(1.0 / 30);
            model.frame(glfwGetTime());
            ImGui_ImplOpenGL3_NewFrame();
            ImGui_ImplGlfw_NewFrame();
            if (script.active()) script.before_frame(model, touch, glfwGetTime());
            ImGui::NewFrame();
            touch.begin_frame();
            screens.draw();
            ImGui::Render();
            int fb_w, fb_h;
            glfwGetFramebufferSize(window, &fb_w, &fb_h);
            glViewport(0, 0, fb_w, fb_h);
            ImVec4 bg = ImGui::GetStyle().Colors[ImGuiCol_WindowBg];
            glClearColor(bg.x, bg.y, bg.z, 1);
            glClear(GL_COLOR_BUFFER_BIT);
            ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
            if (script.active()) {
                if (auto shot = script.take_screenshot();
                    !shot.empty() && !save_screenshot(shot, fb_w, fb_h))
                    script.fail_screenshot("cannot write the screenshot " + shot);
            }
            glfwSwapBuffers(window);
            if (script.active() && script.finished()) {
                status = script.failed() ? 3 : 0;
                break;
            }
        }
    }
    ImGui_ImplOpenGL3_Shutdown();
    ImGui_ImplGlfw_Shutdown();
    ImGui::DestroyContext();
    glfwDestroyWindow(window);
    glfwTerminate();
    return status;
}
