// The station's ImGui widgets for gloved fingers: every control at least
// DisplayMetrics::target_px high, no hover-only affordance, text entered through the
// on-screen keyboard (or the physical one), destructive steps held to confirm.
//
// Each widget records its rectangle under its label for the frame, so a script can tap a
// control by name (see script.hpp) through ImGui's own input, as a finger would.
#pragma once

#include <imgui.h>
#include <imgui_internal.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "exhibit/station/display_metrics.hpp"
#include "exhibit/station/drag_scroll.hpp"
#include "exhibit/station/hold_to_confirm.hpp"
#include "exhibit/station/text_entry.hpp"

namespace exhibit::station::ui {

enum class Theme { Day, Night };

struct Fonts {
    ImFont* body = nullptr;
    ImFont* title = nullptr;
    ImFont* mono = nullptr;
};

// Loads the fonts (TTF from Debian's fonts packages) at the sizes `m` asks for. Returns an
// empty string, or one sentence saying which files were missing.
std::string load_fonts(const DisplayMetrics& m, const std::string& font_override, Fonts& out);
void apply_theme(Theme theme, const DisplayMetrics& m);

// Colours that carry meaning, per theme.
struct Palette {
    ImVec4 ok, bad, warn, info, muted, accent, text_on_badge;
};
const Palette& palette(Theme theme);

class TouchUi {
  public:
    DisplayMetrics metrics;
    Fonts fonts;
    Theme theme = Theme::Day;
    // Multiplies every hold-to-confirm time; 1 except in tests that must finish a hold
    // before a short job ends.
    double hold_scale = 1.0;

    // Pictures: the windowed program uploads RGBA pixels as a texture and frees it; without
    // them (headless tests) the picture grid draws a plain tile where the picture would be.
    std::function<ImTextureID(const std::uint8_t* rgba, int width, int height)> make_texture;
    std::function<void(ImTextureID)> free_texture;

    // Call after ImGui::NewFrame, before any window: forgets the previous frame's widget
    // rectangles and scrolls by touch (see touch_scroll()).
    void begin_frame();

    // Drag scrolling for every scrolled window, in one place: a press on a window's content
    // (not on its scroll bar) that moves more than the drag threshold scrolls the innermost
    // window under it that can scroll vertically, and from then on belongs to that window,
    // so the button or row where the finger went down is not pressed and a hold-to-confirm
    // there is let go. A fast release flings the content on; a touch stops a fling. Runs
    // from begin_frame(), before the widgets see this frame's input.
    const DragScroll& drag_scroll() const { return drag_; }
    // The window being dragged or flung (its ImGuiWindow::ID), or 0.
    ImGuiID scrolling_window() const { return scroll_window_; }

    // A button at least target_px high; `width` 0 fits the label, -1 fills the line.
    bool button(const char* label, float width = 0, bool enabled = true);
    // A big selectable row (device list, file list); `selected` shows it highlighted.
    bool row(const char* label, bool selected, float height = 0);
    // Held for `seconds` to fire; the fill shows how far the hold has come.
    bool hold_button(const char* label, double seconds = 1.5, float width = 0, bool enabled = true);
    // A labelled field: shows the value; a tap opens the keyboard on it.
    void text_field(const char* label, std::string& value,
                    KeyboardLayout layout = KeyboardLayout::Letters, std::size_t max_bytes = 128,
                    float width = -1);
    // Two-or-more-way choice drawn as adjacent buttons; returns true when changed.
    bool choice(const char* id, int& value, std::initializer_list<const char*> labels);
    void badge(const char* text, ImVec4 colour);
    void title(const char* text);

    bool keyboard_open() const { return editing_ != nullptr; }
    // Draws the keyboard over the lower part of the screen when a field is being edited;
    // also takes the physical keyboard's input for it.
    void keyboard_panel();

    // Rectangles of the widgets drawn in the most recent frame, by label (for scripts);
    // keyboard keys as "key:<label>", choices as "<id>/<label>".
    const std::map<std::string, ImRect>& widgets() const { return widgets_; }

  private:
    void note(const char* label);
    void touch_scroll();

    DragScroll drag_;
    ImGuiID scroll_window_ = 0;

    std::map<std::string, ImRect> widgets_;
    std::map<ImGuiID, HoldToConfirm> holds_;
    std::string* editing_ = nullptr;
    std::string editing_label_;
    TextEdit edit_;
    KeyboardState keys_;
};

}  // namespace exhibit::station::ui
