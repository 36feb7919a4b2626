// Scrolling a list by dragging a finger on its content, as on a phone: the press stays a
// tap until the finger has moved `threshold_px`; from then on the content follows the
// finger and the press belongs to the list, never to the button where it began. A fast
// release flings the content on, its speed decaying exponentially; a touch during a fling
// catches it.
//
//   DragScroll drag(drag_scroll_tuning(metrics));
//   if (clicked) caught = drag.press(y, now);           // true: the touch stopped a fling
//   if (down)    content_y += drag.move(y, now);         // 0 until dragging()
//   if (released) drag.release(now);
//   if (!down)   content_y += drag.fling(now);           // 0 when idle
//
// Pure arithmetic in pixels and seconds: no ImGui, tested without a window. One axis (the
// station's lists scroll vertically); the caller turns "finger moved by d" into its scroll.
#pragma once

#include <cstddef>
#include <deque>
#include <utility>

#include "exhibit/station/display_metrics.hpp"

namespace exhibit::station {

struct DragScrollTuning {
    float threshold_px = 12;         // movement before a press becomes a drag
    float min_fling_px_s = 200;      // released slower: the content stops at once
    float max_fling_px_s = 9000;     // a flick never throws faster than this
    float stop_px_s = 20;            // a fling slower than this ends
    double time_constant_s = 0.4;    // the fling's speed falls by 1/e in this time
    double velocity_window_s = 0.1;  // the release speed is measured over this last stretch
};

// From the screen's density: a 3 mm slop (a gloved fingertip rolls about that much on a
// tap), flings from 50 mm/s, ending under 5 mm/s, at most 2.5 m/s.
DragScrollTuning drag_scroll_tuning(const DisplayMetrics& m);

class DragScroll {
  public:
    enum class Phase { Idle, Pressed, Dragging, Flinging };

    explicit DragScroll(DragScrollTuning tuning = {}) : t_(tuning) {}

    // The finger went down at `y`. Returns true when it caught a running fling: that touch
    // is the list's (it stops the content) and must not tap what is under it.
    bool press(float y, double now);
    // The finger is at `y` (call every frame it is down). Returns how far the finger moved
    // the content since the last call: 0 until the press has become a drag; on the frame it
    // becomes one, the whole way from where it went down, so the content stays under it.
    float move(float y, double now);
    // The finger lifted: a drag released fast enough starts a fling.
    void release(double now);
    // While flinging (call every frame the finger is up): how far the content moves since
    // the last call, in the finger's direction; 0 when idle. Independent of the frame rate.
    float fling(double now);
    // Ends a drag or fling at once (the content reached its end, the list went away).
    void stop();

    Phase phase() const { return phase_; }
    bool dragging() const { return phase_ == Phase::Dragging; }
    bool flinging() const { return phase_ == Phase::Flinging; }
    // The fling's current speed in px/s (signed, finger direction); 0 unless flinging.
    float velocity(double now) const;
    const DragScrollTuning& tuning() const { return t_; }

  private:
    float release_velocity(double now) const;

    DragScrollTuning t_;
    Phase phase_ = Phase::Idle;
    float start_y_ = 0, last_y_ = 0;
    std::deque<std::pair<double, float>> samples_;  // (time, y) of the last moves
    float v0_ = 0;                                  // fling speed at fling_start_
    double fling_start_ = 0, fling_last_ = 0;
};

}  // namespace exhibit::station
