#include "exhibit/station/display_metrics.hpp"

#include <algorithm>
#include <cmath>

namespace exhibit::station {

float mm_to_px(float mm, float dpi) {
    return mm * dpi / 25.4f;
}

DisplayMetrics display_metrics(int width_px, int width_mm, float dpi_override) {
    DisplayMetrics m;
    if (dpi_override > 0) {
        m.dpi = dpi_override;
        m.dpi_measured = true;
    } else if (width_px > 0 && width_mm > 0) {
        float dpi = static_cast<float>(width_px) * 25.4f / static_cast<float>(width_mm);
        if (dpi >= 50.0f && dpi <= 600.0f) {
            m.dpi = dpi;
            m.dpi_measured = true;
        }
    }
    m.target_px = std::ceil(mm_to_px(kMinTargetMm, m.dpi));
    // Body text at about half a target (5.5 mm cap-to-descender at 96 dpi is 22 px), never
    // below 18 px: readable in sunlight through a scratched screen protector.
    m.font_px = std::max(18.0f, std::round(m.target_px * 0.48f));
    m.title_px = std::round(m.font_px * 1.45f);
    m.spacing_px = std::max(8.0f, std::round(mm_to_px(2.0f, m.dpi)));
    return m;
}

}  // namespace exhibit::station
