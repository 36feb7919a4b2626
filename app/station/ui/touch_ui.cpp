#include "touch_ui.hpp"

#include <algorithm>
#include <filesystem>
#include <vector>

namespace exhibit::station::ui {

namespace {

const char* first_existing(const std::vector<const char*>& candidates) {
    std::error_code ec;
    for (const char* c : candidates)
        if (std::filesystem::is_regular_file(c, ec)) return c;
    return nullptr;
}

ImVec4 rgb(int r, int g, int b, float a = 1.0f) {
    return ImVec4(static_cast<float>(r) / 255.0f, static_cast<float>(g) / 255.0f,
                  static_cast<float>(b) / 255.0f, a);
}

}  // namespace

std::string load_fonts(const DisplayMetrics& m, const std::string& font_override, Fonts& out) {
    const char* body = font_override.empty()
                           ? first_existing({"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                                             "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf"})
                           : font_override.c_str();
    const char* bold = first_existing({"/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
                                       "/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf"});
    const char* mono = first_existing({"/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
                                       "/usr/share/fonts/truetype/noto/NotoSansMono-Regular.ttf"});
    std::error_code ec;
    if (!body || !std::filesystem::is_regular_file(body, ec))
        return font_override.empty()
                   ? "no font found: install fonts-dejavu-core (looked for "
                     "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf and Noto Sans)"
                   : "the font " + font_override + " does not exist";
    ImGuiIO& io = ImGui::GetIO();
    // Latin, Latin-1 and Latin Extended-A cover names across Europe; dashes, bullets, ticks.
    static const ImWchar ranges[] = {0x0020, 0x017F, 0x2010, 0x2027, 0x2713, 0x2713, 0};
    out.body = io.Fonts->AddFontFromFileTTF(body, m.font_px, nullptr, ranges);
    out.title = io.Fonts->AddFontFromFileTTF(bold ? bold : body, m.title_px, nullptr, ranges);
    out.mono = io.Fonts->AddFontFromFileTTF(mono ? mono : body, m.font_px * 0.9f, nullptr, ranges);
    if (!out.body || !out.title || !out.mono) return std::string("cannot load the font ") + body;
    return {};
}

const Palette& palette(Theme theme) {
    // Day: saturated, dark enough for black-on-white contrast in sunlight. Night: muted, no
    // large bright areas that would dazzle a dark-adapted eye.
    static const Palette day{rgb(0, 110, 40), rgb(190, 0, 0),  rgb(170, 95, 0),   rgb(0, 80, 170),
                             rgb(80, 80, 80), rgb(0, 80, 170), rgb(255, 255, 255)};
    static const Palette night{rgb(70, 150, 90),  rgb(190, 70, 60),   rgb(190, 140, 50),
                               rgb(90, 130, 190), rgb(130, 130, 130), rgb(90, 130, 190),
                               rgb(10, 10, 10)};
    return theme == Theme::Day ? day : night;
}

void apply_theme(Theme theme, const DisplayMetrics& m) {
    ImGuiStyle style;
    if (theme == Theme::Day)
        ImGui::StyleColorsLight(&style);
    else
        ImGui::StyleColorsDark(&style);
    style.FramePadding = ImVec2(m.spacing_px * 1.5f, std::max(4.0f, (m.target_px - m.font_px) / 2));
    style.ItemSpacing = ImVec2(m.spacing_px, m.spacing_px);
    style.ItemInnerSpacing = ImVec2(m.spacing_px, m.spacing_px);
    style.WindowPadding = ImVec2(m.spacing_px * 2, m.spacing_px * 2);
    style.ScrollbarSize = std::round(m.target_px * 0.6f);  // a finger can drag it
    style.GrabMinSize = m.target_px * 0.6f;
    style.FrameRounding = 6;
    style.GrabRounding = 6;
    style.WindowRounding = 0;
    style.ChildRounding = 6;
    style.FrameBorderSize = 2;
    style.WindowBorderSize = 0;
    style.TouchExtraPadding = ImVec2(2, 2);
    style.SelectableTextAlign = ImVec2(0.0f, 0.5f);
    ImVec4* c = style.Colors;
    if (theme == Theme::Day) {
        c[ImGuiCol_WindowBg] = rgb(250, 250, 250);
        c[ImGuiCol_ChildBg] = rgb(255, 255, 255);
        c[ImGuiCol_Text] = rgb(0, 0, 0);
        c[ImGuiCol_TextDisabled] = rgb(95, 95, 95);
        c[ImGuiCol_Border] = rgb(40, 40, 40);
        c[ImGuiCol_Button] = rgb(225, 230, 240);
        c[ImGuiCol_ButtonHovered] = rgb(225, 230, 240);  // no hover-only cues on touch
        c[ImGuiCol_ButtonActive] = rgb(170, 190, 225);
        c[ImGuiCol_Header] = rgb(200, 215, 245);
        c[ImGuiCol_HeaderHovered] = rgb(255, 255, 255, 0);
        c[ImGuiCol_HeaderActive] = rgb(170, 190, 225);
        c[ImGuiCol_FrameBg] = rgb(255, 255, 255);
        c[ImGuiCol_PlotHistogram] = rgb(130, 180, 240);  // black text on it stays readable
        c[ImGuiCol_PlotLines] = rgb(0, 80, 170);
    } else {
        c[ImGuiCol_WindowBg] = rgb(12, 12, 14);
        c[ImGuiCol_ChildBg] = rgb(20, 20, 23);
        c[ImGuiCol_Text] = rgb(185, 185, 180);
        c[ImGuiCol_TextDisabled] = rgb(110, 110, 110);
        c[ImGuiCol_Border] = rgb(75, 75, 80);
        c[ImGuiCol_Button] = rgb(38, 40, 48);
        c[ImGuiCol_ButtonHovered] = rgb(38, 40, 48);
        c[ImGuiCol_ButtonActive] = rgb(60, 70, 95);
        c[ImGuiCol_Header] = rgb(45, 60, 90);
        c[ImGuiCol_HeaderHovered] = rgb(0, 0, 0, 0);
        c[ImGuiCol_HeaderActive] = rgb(60, 70, 95);
        c[ImGuiCol_FrameBg] = rgb(25, 25, 30);
        c[ImGuiCol_PlotHistogram] = rgb(40, 70, 115);
        c[ImGuiCol_PlotLines] = rgb(80, 115, 170);
    }
    ImGui::GetStyle() = style;
}

void TouchUi::begin_frame() {
    widgets_.clear();
    touch_scroll();
}

namespace {

// The innermost window at `pos`, from `w` outwards through its parent child windows, whose
// content can scroll vertically; nullptr when the press is on its scroll bar (ImGui drags
// that itself) or nothing there scrolls.
ImGuiWindow* scrollable_at(ImGuiWindow* w, ImVec2 pos) {
    for (; w; w = w->ParentWindow) {
        if (!(w->Flags & ImGuiWindowFlags_NoScrollWithMouse) && w->ScrollMax.y > 0) {
            if (w->ScrollbarY && ImGui::GetWindowScrollbarRect(w, ImGuiAxis_Y).Contains(pos))
                return nullptr;
            return w;
        }
        if (!(w->Flags & ImGuiWindowFlags_ChildWindow)) break;
    }
    return nullptr;
}

// Moves `w`'s content by `d` (the finger's direction); false when it was already at that
// end, so a fling there stops.
bool scroll_content(ImGuiWindow* w, float d) {
    const float target = std::clamp(w->Scroll.y - d, 0.0f, w->ScrollMax.y);
    if (target == w->Scroll.y) return d == 0;
    ImGui::SetScrollY(w, target);
    return true;
}

}  // namespace

void TouchUi::touch_scroll() {
    ImGuiContext& g = *GImGui;
    const ImGuiIO& io = g.IO;
    const double now = ImGui::GetTime();
    static const ImGuiID kDragId = ImHashStr("##touch-scroll");
    if (drag_.phase() == DragScroll::Phase::Idle) drag_ = DragScroll(drag_scroll_tuning(metrics));
    // Takes the press from whatever widget has it: that button is not pressed on release
    // and a hold there ends; nothing else highlights under the finger while it drags.
    auto take = [&](ImGuiWindow* w) {
        if (g.ActiveId != kDragId) ImGui::SetActiveID(kDragId, w);
        ImGui::KeepAliveID(kDragId);
    };
    ImGuiWindow* w = scroll_window_ ? ImGui::FindWindowByID(scroll_window_) : nullptr;
    if (io.MouseClicked[0]) {
        w = scrollable_at(g.HoveredWindow, io.MousePos);
        scroll_window_ = w ? w->ID : 0;
        if (!w) {
            drag_.stop();
            return;
        }
        if (drag_.press(io.MousePos.y, now)) take(w);  // caught a fling: no tap
        return;
    }
    if (io.MouseDown[0]) {
        if (!w) {
            drag_.stop();
            return;
        }
        const float d = drag_.move(io.MousePos.y, now);
        if (drag_.dragging() || g.ActiveId == kDragId) take(w);
        if (d != 0) scroll_content(w, d);
        return;
    }
    if (drag_.phase() == DragScroll::Phase::Pressed || drag_.dragging()) drag_.release(now);
    if (g.ActiveId == kDragId) ImGui::ClearActiveID();
    if (drag_.flinging()) {
        const float d = drag_.fling(now);
        if (!w || !scroll_content(w, d)) drag_.stop();
    }
    if (!drag_.flinging()) scroll_window_ = 0;
}

void TouchUi::note(const char* label) {
    widgets_.emplace(label, ImRect(ImGui::GetItemRectMin(), ImGui::GetItemRectMax()));
}

bool TouchUi::button(const char* label, float width, bool enabled) {
    ImGui::BeginDisabled(!enabled);
    bool pressed = ImGui::Button(label, ImVec2(width, metrics.target_px));
    ImGui::EndDisabled();
    note(label);
    return pressed && enabled;
}

bool TouchUi::row(const char* label, bool selected, float height) {
    bool pressed = ImGui::Selectable(label, selected, ImGuiSelectableFlags_None,
                                     ImVec2(0, std::max(height, metrics.target_px)));
    note(label);
    return pressed;
}

bool TouchUi::hold_button(const char* label, double seconds, float width, bool enabled) {
    ImGuiID id = ImGui::GetID(label);
    auto [it, added] = holds_.try_emplace(id, seconds * hold_scale);
    HoldToConfirm& hold = it->second;
    const Palette& p = palette(theme);
    ImGui::PushStyleColor(ImGuiCol_Button, p.bad);
    ImGui::PushStyleColor(ImGuiCol_ButtonHovered, p.bad);
    ImGui::PushStyleColor(ImGuiCol_ButtonActive, p.bad);
    ImGui::PushStyleColor(ImGuiCol_Text, p.text_on_badge);
    ImGui::BeginDisabled(!enabled);
    ImGui::Button(label, ImVec2(width, metrics.target_px));
    ImGui::EndDisabled();
    ImGui::PopStyleColor(4);
    note(label);
    double now = ImGui::GetTime();
    bool fired = hold.update(enabled && ImGui::IsItemActive(), now);
    double f = hold.progress(now);
    if (f > 0) {
        ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
        float h = std::max(6.0f, metrics.target_px * 0.15f);
        ImDrawList* dl = ImGui::GetWindowDrawList();
        dl->AddRectFilled(ImVec2(a.x, b.y - h), ImVec2(b.x, b.y), IM_COL32(0, 0, 0, 120));
        dl->AddRectFilled(ImVec2(a.x, b.y - h),
                          ImVec2(a.x + static_cast<float>(f) * (b.x - a.x), b.y),
                          IM_COL32(255, 255, 255, 255));
    }
    return fired;
}

void TouchUi::text_field(const char* label, std::string& value, KeyboardLayout layout,
                         std::size_t max_bytes, float width) {
    ImGui::PushID(label);
    ImGui::TextUnformatted(label);
    const bool active = editing_ == &value;
    std::string shown = active ? edit_.text() : value;
    if (shown.empty() && !active) shown = "Tap to enter";
    ImGui::PushStyleColor(ImGuiCol_Button, ImGui::GetStyleColorVec4(ImGuiCol_FrameBg));
    ImGui::PushStyleColor(ImGuiCol_ButtonHovered, ImGui::GetStyleColorVec4(ImGuiCol_FrameBg));
    if (active) ImGui::PushStyleColor(ImGuiCol_Border, palette(theme).accent);
    ImGui::PushStyleVar(ImGuiStyleVar_ButtonTextAlign, ImVec2(0.0f, 0.5f));
    ImGui::PushStyleVar(ImGuiStyleVar_FrameBorderSize, active ? 4.0f : 2.0f);
    if (value.empty() && !active)
        ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
    bool tapped = ImGui::Button((shown + "###field").c_str(), ImVec2(width, metrics.target_px));
    if (value.empty() && !active) ImGui::PopStyleColor();
    ImGui::PopStyleVar(2);
    ImGui::PopStyleColor(active ? 3 : 2);
    ImGui::PopID();
    note(label);
    if (tapped && !active) {
        if (editing_) *editing_ = edit_.text();  // moving to another field keeps the first
        editing_ = &value;
        editing_label_ = label;
        edit_ = TextEdit(value, max_bytes);
        keys_ = KeyboardState{};
        keys_.layout = layout;
    }
}

bool TouchUi::choice(const char* id, int& value, std::initializer_list<const char*> labels) {
    ImGui::PushID(id);
    bool changed = false;
    int i = 0;
    const Palette& p = palette(theme);
    for (const char* label : labels) {
        if (i > 0) ImGui::SameLine(0, 0);
        bool on = value == i;
        if (on) {
            ImGui::PushStyleColor(ImGuiCol_Button, p.accent);
            ImGui::PushStyleColor(ImGuiCol_ButtonHovered, p.accent);
            ImGui::PushStyleColor(ImGuiCol_Text, p.text_on_badge);
        }
        std::string text = (on ? "\xE2\x80\xA2 " : "") + std::string(label);  // bullet marks it
        if (ImGui::Button(text.c_str(), ImVec2(0, metrics.target_px)) && !on) {
            value = i;
            changed = true;
        }
        if (on) ImGui::PopStyleColor(3);
        widgets_.emplace(std::string(id) + "/" + label,
                         ImRect(ImGui::GetItemRectMin(), ImGui::GetItemRectMax()));
        ++i;
    }
    ImGui::PopID();
    return changed;
}

void TouchUi::badge(const char* text, ImVec4 colour) {
    ImVec2 size = ImGui::CalcTextSize(text);
    float pad = metrics.spacing_px;
    ImVec2 a = ImGui::GetCursorScreenPos();
    ImVec2 b(a.x + size.x + 2 * pad, a.y + size.y + pad);
    ImGui::GetWindowDrawList()->AddRectFilled(a, b, ImGui::GetColorU32(colour), 6);
    ImGui::GetWindowDrawList()->AddText(ImVec2(a.x + pad, a.y + pad / 2),
                                        ImGui::GetColorU32(palette(theme).text_on_badge), text);
    ImGui::Dummy(ImVec2(b.x - a.x, b.y - a.y));
}

void TouchUi::title(const char* text) {
    ImGui::PushFont(fonts.title);
    ImGui::TextUnformatted(text);
    ImGui::PopFont();
}

void TouchUi::keyboard_panel() {
    if (!editing_) return;
    ImGuiIO& io = ImGui::GetIO();
    KeyResult result = KeyResult::Unchanged;

    // The physical keyboard edits the same text.
    for (ImWchar c : io.InputQueueCharacters) {
        char utf8[5] = {};
        ImTextCharToUtf8(utf8, c);
        edit_.insert(utf8);
    }
    io.InputQueueCharacters.resize(0);
    auto pressed = [](ImGuiKey k) { return ImGui::IsKeyPressed(ImGui::GetKeyIndex(k)); };
    if (pressed(ImGuiKey_Backspace)) edit_.backspace();
    if (pressed(ImGuiKey_Delete)) edit_.delete_forward();
    if (pressed(ImGuiKey_LeftArrow)) edit_.left();
    if (pressed(ImGuiKey_RightArrow)) edit_.right();
    if (pressed(ImGuiKey_Home)) edit_.home();
    if (pressed(ImGuiKey_End)) edit_.end();
    if (pressed(ImGuiKey_Enter) || pressed(ImGuiKey_KeyPadEnter)) result = KeyResult::Done;
    if (pressed(ImGuiKey_Escape)) result = KeyResult::Cancel;

    const auto& rows = keyboard_rows(keys_.layout);
    float max_units = 0;
    for (const auto& r : rows) {
        float u = 0;
        for (const Key& k : r)
            u += k.width;
        max_units = std::max(max_units, u);
    }
    ImVec2 display = io.DisplaySize;
    float gap = metrics.spacing_px * 0.75f;
    float key_h =
        std::max(metrics.target_px, std::min(display.y * 0.075f, metrics.target_px * 1.4f));
    float panel_h = (key_h + gap) * static_cast<float>(rows.size()) + metrics.target_px * 2.4f +
                    metrics.spacing_px * 4;
    float panel_w =
        keys_.layout == KeyboardLayout::Numeric ? std::min(display.x, display.y * 0.9f) : display.x;
    ImGui::SetNextWindowPos(ImVec2((display.x - panel_w) / 2, display.y - panel_h));
    ImGui::SetNextWindowSize(ImVec2(panel_w, panel_h));
    ImGui::SetNextWindowFocus();
    ImGui::PushStyleColor(ImGuiCol_WindowBg, ImGui::GetStyleColorVec4(ImGuiCol_ChildBg));
    ImGui::PushStyleVar(ImGuiStyleVar_WindowBorderSize, 3.0f);
    ImGui::Begin("##keyboard", nullptr,
                 ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                     ImGuiWindowFlags_NoSavedSettings | ImGuiWindowFlags_NoScrollWithMouse);
    ImGui::TextUnformatted(editing_label_.c_str());
    // The text being edited, with a bar at the cursor.
    {
        std::string before = edit_.text().substr(0, edit_.cursor());
        std::string after = edit_.text().substr(edit_.cursor());
        ImVec2 a = ImGui::GetCursorScreenPos();
        float w = ImGui::GetContentRegionAvail().x;
        ImDrawList* dl = ImGui::GetWindowDrawList();
        dl->AddRectFilled(a, ImVec2(a.x + w, a.y + metrics.target_px),
                          ImGui::GetColorU32(ImGuiCol_FrameBg), 6);
        dl->AddRect(a, ImVec2(a.x + w, a.y + metrics.target_px),
                    ImGui::GetColorU32(palette(theme).accent), 6, 0, 3);
        float ty = a.y + (metrics.target_px - ImGui::GetFontSize()) / 2;
        float x = a.x + metrics.spacing_px;
        dl->AddText(ImVec2(x, ty), ImGui::GetColorU32(ImGuiCol_Text), before.c_str());
        x += ImGui::CalcTextSize(before.c_str()).x;
        dl->AddRectFilled(ImVec2(x + 1, ty), ImVec2(x + 4, ty + ImGui::GetFontSize()),
                          ImGui::GetColorU32(palette(theme).accent));
        dl->AddText(ImVec2(x + 6, ty), ImGui::GetColorU32(ImGuiCol_Text), after.c_str());
        ImGui::Dummy(ImVec2(w, metrics.target_px));
    }
    float unit = (ImGui::GetContentRegionAvail().x - gap * (max_units - 1)) / max_units;
    ImGui::PushStyleVar(ImGuiStyleVar_ItemSpacing, ImVec2(gap, gap));
    int n = 0;
    for (const auto& r : rows) {
        bool first = true;
        for (const Key& k : r) {
            if (!first) ImGui::SameLine();
            first = false;
            std::string label = key_label(k, keys_);
            std::string id = label + "##key" + std::to_string(n++);
            bool is_done = k.action == KeyAction::Done;
            if (is_done) {
                ImGui::PushStyleColor(ImGuiCol_Button, palette(theme).accent);
                ImGui::PushStyleColor(ImGuiCol_ButtonHovered, palette(theme).accent);
                ImGui::PushStyleColor(ImGuiCol_Text, palette(theme).text_on_badge);
            }
            float w = unit * k.width + gap * (k.width - 1);
            if (ImGui::Button(id.c_str(), ImVec2(w, key_h))) {
                KeyResult r2 = press(k, edit_, keys_);
                if (r2 == KeyResult::Done || r2 == KeyResult::Cancel) result = r2;
            }
            if (is_done) ImGui::PopStyleColor(3);
            widgets_.emplace("key:" + label,
                             ImRect(ImGui::GetItemRectMin(), ImGui::GetItemRectMax()));
        }
    }
    ImGui::PopStyleVar();
    ImGui::End();
    ImGui::PopStyleVar();
    ImGui::PopStyleColor();

    if (result == KeyResult::Done) *editing_ = edit_.text();
    if (result == KeyResult::Done || result == KeyResult::Cancel) editing_ = nullptr;
}

}  // namespace exhibit::station::ui
