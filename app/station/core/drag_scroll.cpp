#include "exhibit/station/drag_scroll.hpp"

#include <algorithm>
#include <cmath>

namespace exhibit::station {

DragScrollTuning drag_scroll_tuning(const DisplayMetrics& m) {
    DragScrollTuning t;
    t.threshold_px = mm_to_px(3.0f, m.dpi);
    t.min_fling_px_s = mm_to_px(50.0f, m.dpi);
    t.stop_px_s = mm_to_px(5.0f, m.dpi);
    t.max_fling_px_s = mm_to_px(2500.0f, m.dpi);
    return t;
}

bool DragScroll::press(float y, double now) {
    const bool caught = phase_ == Phase::Flinging && std::fabs(velocity(now)) >= t_.stop_px_s;
    phase_ = Phase::Pressed;
    start_y_ = last_y_ = y;
    samples_.clear();
    samples_.emplace_back(now, y);
    v0_ = 0;
    return caught;
}

float DragScroll::move(float y, double now) {
    if (phase_ != Phase::Pressed && phase_ != Phase::Dragging) return 0;
    samples_.emplace_back(now, y);
    // Keep what the release speed needs, and one sample older than that as its base.
    while (samples_.size() > 2 && samples_[1].first < now - t_.velocity_window_s)
        samples_.pop_front();
    if (phase_ == Phase::Pressed) {
        if (std::fabs(y - start_y_) <= t_.threshold_px) return 0;
        phase_ = Phase::Dragging;
        last_y_ = start_y_;
    }
    const float d = y - last_y_;
    last_y_ = y;
    return d;
}

float DragScroll::release_velocity(double now) const {
    // Over the last velocity_window_s before the release: a finger that stopped before
    // lifting throws nothing.
    const double from = now - t_.velocity_window_s;
    std::size_t first = 0;
    while (first + 1 < samples_.size() && samples_[first + 1].first <= from)
        ++first;
    const auto& a = samples_[first];
    const auto& b = samples_.back();
    const double span = std::max(b.first - std::max(a.first, from), 0.0);
    if (samples_.size() < 2 || b.first < from || span <= 1e-4) return 0;
    // The finger's travel over the window (the base sample may be older: scale its part).
    double y_from = a.second;
    if (a.first < from && first + 1 < samples_.size()) {
        const auto& n = samples_[first + 1];
        const double f = (from - a.first) / std::max(n.first - a.first, 1e-9);
        y_from = a.second + f * (n.second - a.second);
    }
    return static_cast<float>((b.second - y_from) / span);
}

void DragScroll::release(double now) {
    if (phase_ == Phase::Dragging) {
        float v = release_velocity(now);
        if (std::fabs(v) >= t_.min_fling_px_s) {
            v0_ = std::clamp(v, -t_.max_fling_px_s, t_.max_fling_px_s);
            fling_start_ = fling_last_ = now;
            phase_ = Phase::Flinging;
            samples_.clear();
            return;
        }
    }
    stop();
}

float DragScroll::velocity(double now) const {
    if (phase_ != Phase::Flinging) return 0;
    return v0_ * static_cast<float>(std::exp(-(now - fling_start_) / t_.time_constant_s));
}

float DragScroll::fling(double now) {
    if (phase_ != Phase::Flinging || now <= fling_last_) return 0;
    // The distance travelled between the two times: the integral of v0 e^(-t/tau).
    const double tau = t_.time_constant_s;
    const double a = std::exp(-(fling_last_ - fling_start_) / tau);
    const double b = std::exp(-(now - fling_start_) / tau);
    const float d = static_cast<float>(v0_ * tau * (a - b));
    fling_last_ = now;
    if (std::fabs(velocity(now)) < t_.stop_px_s) stop();
    return d;
}

void DragScroll::stop() {
    phase_ = Phase::Idle;
    samples_.clear();
    v0_ = 0;
}

}  // namespace exhibit::station
