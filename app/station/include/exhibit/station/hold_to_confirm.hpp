// A destructive or irreversible step (cancel a job, override write protection, seal) fires
// only after the button has been held down continuously for a while, so a brushed or
// accidental tap does nothing.
//
//   static HoldToConfirm hold(1.5);
//   if (hold.update(ImGui::IsItemActive(), ImGui::GetTime())) cancel_job();
//   draw_ring(hold.progress(ImGui::GetTime()));
//
// Promises
// - update() returns true exactly once per hold: on the first call at or after `seconds` of
//   uninterrupted holding. Holding on does not fire again; the button must be released first.
// - Releasing early resets progress to 0.
#pragma once

namespace exhibit::station {

class HoldToConfirm {
  public:
    explicit HoldToConfirm(double seconds = 1.5) : seconds_(seconds) {}

    // Call once a frame with whether the control is held and the current time in seconds.
    bool update(bool held, double now);
    // 0 (not held) .. 1 (fired), for the progress ring.
    double progress(double now) const;
    bool holding() const { return held_; }
    double seconds() const { return seconds_; }

  private:
    double seconds_;
    bool held_ = false;
    bool fired_ = false;
    double since_ = 0;
};

}  // namespace exhibit::station
