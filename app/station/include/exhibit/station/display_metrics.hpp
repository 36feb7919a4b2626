// Sizes for a touch screen used with gloves: every target at least 12 mm across at the
// screen's real density, type large enough to read at arm's length.
//
//   int mm_w, mm_h; glfwGetMonitorPhysicalSize(monitor, &mm_w, &mm_h);
//   auto m = display_metrics(mode->width, mm_w);
//   style.FramePadding.y = (m.target_px - m.font_px) / 2;
//
// Pure arithmetic: no ImGui, no GLFW, so the rules are tested headless.
#pragma once

namespace exhibit::station {

inline constexpr float kMinTargetMm = 12.0f;  // gloved fingertip
inline constexpr float kFallbackDpi = 96.0f;  // when the monitor does not report its size

struct DisplayMetrics {
    float dpi = kFallbackDpi;
    bool dpi_measured = false;  // from the monitor's physical size, not the fallback
    float target_px = 0;        // smallest touch target: kMinTargetMm at `dpi`
    float font_px = 0;          // body text
    float title_px = 0;         // screen titles and the figures read aloud
    float spacing_px = 0;       // gap between neighbouring targets
};

float mm_to_px(float mm, float dpi);

// `width_px` and `width_mm` describe the monitor (glfwGetVideoMode, glfwGetMonitorPhysicalSize).
// A size of 0 or an implausible density (under 50 or over 600 dpi, as bad EDIDs report)
// falls back to 96 dpi. `dpi_override` > 0 wins over both (operator's --dpi).
DisplayMetrics display_metrics(int width_px, int width_mm, float dpi_override = 0);

}  // namespace exhibit::station
