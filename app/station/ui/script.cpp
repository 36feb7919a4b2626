#include "script.hpp"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

namespace exhibit::station::ui {

std::string Script::load(const std::string& path) {
    path_ = path;
    std::ifstream in(path);
    if (!in) return "cannot read the script " + path;
    std::string text;
    int n = 0;
    while (std::getline(in, text)) {
        ++n;
        auto start = text.find_first_not_of(" \t");
        if (start == std::string::npos || text[start] == '#') continue;
        text = text.substr(start);
        // $NAME is replaced by the environment variable NAME.
        for (std::size_t d = text.find('$'); d != std::string::npos; d = text.find('$', d)) {
            std::size_t e = d + 1;
            while (e < text.size() &&
                   (std::isupper(static_cast<unsigned char>(text[e])) || text[e] == '_'))
                ++e;
            const char* value = std::getenv(text.substr(d + 1, e - d - 1).c_str());
            std::string v = value ? value : "";
            text.replace(d, e - d, v);
            d += v.size();
        }
        Line line;
        line.number = n;
        auto space = text.find(' ');
        line.command = text.substr(0, space);
        if (space != std::string::npos) line.arg = text.substr(space + 1);
        lines_.push_back(line);
    }
    if (lines_.empty()) return "the script " + path + " has no commands";
    return {};
}

void Script::fail(const std::string& why) {
    std::cerr << "script " << path_ << ":" << lines_[pc_].number << ": " << why << "\n";
    failed_ = true;
}

void Script::next() {
    ++pc_;
    step_ = 0;
    if (pc_ >= lines_.size()) done_ = true;
}

void Script::before_frame(StationModel& model, TouchUi& ui, double now) {
    if (finished()) return;
    ImGuiIO& io = ImGui::GetIO();
    const Line& line = lines_[pc_];
    if (step_ == 0) started_ = now;
    ++step_;
    auto find = [&](const std::string& label, ImVec2& centre) {
        auto it = ui.widgets().find(label);
        if (it == ui.widgets().end()) return false;
        centre = it->second.GetCenter();
        return true;
    };
    // A tap spans three frames: move there, press, release.
    auto tap = [&](const std::string& label) -> bool {
        ImVec2 c;
        if (!find(label, c)) {
            // A screen that just changed draws its widgets in the next frame: look again.
            if (++missing_frames_ <= 5) {
                step_ = 0;
                return false;
            }
            fail("no widget labelled \"" + label + "\" on the " + to_string(model.screen()) +
                 " screen");
            return false;
        }
        missing_frames_ = 0;
        io.MousePos = c;
        io.MouseDown[0] = step_ == 2;
        return step_ >= 3;
    };

    const std::string& cmd = line.command;
    if (cmd == "tap") {
        if (tap(line.arg)) next();
    } else if (cmd == "tap-containing") {
        std::string label;
        for (const auto& [l, rect] : ui.widgets())
            if (l.find(line.arg) != std::string::npos) {
                label = l;
                break;
            }
        if (tap(label.empty() ? line.arg : label)) next();
    } else if (cmd == "hold") {
        auto space = line.arg.rfind(' ');
        std::string label = line.arg.substr(0, space);
        double seconds = space == std::string::npos ? 0 : std::atof(line.arg.c_str() + space + 1);
        ImVec2 c;
        if (!find(label, c)) {
            // A hold that fired may take its button away (the override, once declared).
            if (step_ > 2) {
                io.MouseDown[0] = false;
                return next();
            }
            return fail("no widget labelled \"" + label + "\"");
        }
        io.MousePos = c;
        bool holding = step_ >= 2 && now - started_ < seconds + 0.05;
        io.MouseDown[0] = holding;
        if (step_ >= 2 && !holding) next();
    } else if (cmd == "keys") {
        if (step_ == 1) {
            chars_.clear();
            for (char ch : line.arg)
                chars_.push_back(std::string(1, ch));
            key_step_ = 0;
        }
        if (chars_.empty()) return next();
        // Each key is a three-frame tap; an upper-case letter is Shift, a frame for the
        // keyboard to redraw in upper case, then the letter.
        const std::string& ch = chars_.front();
        bool upper = ch[0] >= 'A' && ch[0] <= 'Z';
        int phase = key_step_++;
        if (upper && phase == 3) return;
        int tap_phase = upper && phase > 3 ? phase - 4 : phase;
        std::string target = upper && phase < 3 ? "Shift" : ch == " " ? "Space" : ch;
        ImVec2 c;
        if (!find("key:" + target, c)) {
            // Key labels change case the frame after Shift is used: look again next frame.
            if (++missing_frames_ <= 3) {
                --key_step_;
                return;
            }
            return fail("the on-screen keyboard shows no key \"" + target + "\"");
        }
        missing_frames_ = 0;
        io.MousePos = c;
        io.MouseDown[0] = tap_phase == 1;
        if (phase == (upper ? 6 : 2)) {
            chars_.erase(chars_.begin());
            key_step_ = 0;
        }
    } else if (cmd == "type") {
        for (char ch : line.arg)
            io.AddInputCharacter(static_cast<unsigned char>(ch));
        next();
    } else if (cmd == "press") {
        // Through the platform backend's own key map, as its key callback would.
        ImGuiKey_ named = line.arg == "enter"       ? ImGuiKey_Enter
                          : line.arg == "escape"    ? ImGuiKey_Escape
                          : line.arg == "backspace" ? ImGuiKey_Backspace
                          : line.arg == "tab"       ? ImGuiKey_Tab
                                                    : ImGuiKey_COUNT;
        if (named == ImGuiKey_COUNT) return fail("unknown key " + line.arg);
        int key = io.KeyMap[named];
        if (key < 0 || key >= IM_ARRAYSIZE(io.KeysDown))
            return fail("the platform backend maps no key to " + line.arg);
        io.KeysDown[key] = step_ == 1;
        if (step_ >= 2) next();
    } else if (cmd == "frames") {
        if (step_ > std::atoi(line.arg.c_str())) next();
    } else if (cmd == "settle") {
        double limit = line.arg.empty() ? 60 : std::atof(line.arg.c_str());
        if (step_ > 2 && !model.busy()) return next();
        if (now - started_ > limit) fail("still busy after " + line.arg + " s");
    } else if (cmd == "expect-screen") {
        if (line.arg != to_string(model.screen()))
            return fail("expected the " + line.arg + " screen, showing " +
                        to_string(model.screen()));
        next();
    } else if (cmd == "expect-text") {
        for (const auto& [label, rect] : ui.widgets())
            if (label.find(line.arg) != std::string::npos) return next();
        fail("no widget showing \"" + line.arg + "\"");
    } else if (cmd == "theme") {
        ui.theme = line.arg == "night" ? Theme::Night : Theme::Day;
        apply_theme(ui.theme, ui.metrics);
        next();
    } else if (cmd == "screenshot") {
        // Let one frame draw with the current state, then grab it.
        if (step_ == 1) return;
        pending_screenshot_ = line.arg;
        next();
    } else if (cmd == "quit") {
        done_ = true;
    } else {
        fail("unknown command " + cmd);
    }
}

std::string Script::take_screenshot() {
    std::string path;
    path.swap(pending_screenshot_);
    return path;
}

}  // namespace exhibit::station::ui
