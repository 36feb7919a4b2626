#include "exhibit/station/hold_to_confirm.hpp"

#include <algorithm>

namespace exhibit::station {

bool HoldToConfirm::update(bool held, double now) {
    if (!held) {
        held_ = false;
        fired_ = false;
        return false;
    }
    if (!held_) {
        held_ = true;
        since_ = now;
    }
    if (fired_ || now - since_ < seconds_) return false;
    fired_ = true;
    return true;
}

double HoldToConfirm::progress(double now) const {
    if (!held_) return 0;
    if (fired_) return 1;
    return std::clamp((now - since_) / seconds_, 0.0, 1.0);
}

}  // namespace exhibit::station
