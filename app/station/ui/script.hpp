// Scripted runs (`exhibit-station --script FILE`): drive the real station through ImGui's own
// input, as a finger and a keyboard would, and save screenshots. Used by the UI test under
// Xvfb and to make the README's screenshots.
//
// One command per line; blank lines and lines starting with # are ignored; $NAME is
// replaced by the environment variable NAME:
//   tap LABEL             press and release the middle of the widget labelled LABEL
//   tap-containing TEXT   the same, for the first widget whose label contains TEXT
//   hold LABEL SECONDS    press it for SECONDS, then release
//   keys TEXT             type TEXT on the on-screen keyboard (taps its keys)
//   type TEXT             type TEXT on the physical keyboard
//   press KEY             enter, escape, backspace or tab on the physical keyboard
//   frames N              let N frames pass
//   settle [SECONDS]      wait (drawing frames) until background work and the job end
//   expect-screen NAME    fail unless the screen is NAME (signin, case, device, ...)
//   expect-text TEXT      fail unless a widget whose label contains TEXT is on screen
//   theme day|night
//   screenshot FILE       save the next frame as PNG
//   quit
// A failing command prints "script FILE:LINE: why" and the station exits with status 3.
#pragma once

#include <string>
#include <vector>

#include "exhibit/station/station_model.hpp"
#include "touch_ui.hpp"

namespace exhibit::station::ui {

class Script {
  public:
    // Reads the file; an error sentence, or empty.
    std::string load(const std::string& path);
    bool active() const { return !lines_.empty(); }

    // Before ImGui::NewFrame: feeds this frame's synthetic input into ImGui's IO, using the
    // widget rectangles of the previous frame.
    void before_frame(StationModel& model, TouchUi& ui, double now);
    // After rendering: the file the frame just drawn should be saved to, once, or empty.
    std::string take_screenshot();
    void fail_screenshot(const std::string& why) { fail(why); }

    bool finished() const { return done_ || failed_; }
    bool failed() const { return failed_; }

  private:
    struct Line {
        int number = 0;
        std::string command, arg;
    };
    void fail(const std::string& why);
    void next();

    std::string path_;
    std::vector<Line> lines_;
    std::size_t pc_ = 0;
    int step_ = 0;        // frames spent on the current command
    double started_ = 0;  // when the current command began
    std::string pending_screenshot_;
    std::vector<std::string> chars_;  // keys: the characters still to type
    int key_step_ = 0;
    int missing_frames_ = 0;
    bool done_ = false, failed_ = false;
};

}  // namespace exhibit::station::ui
