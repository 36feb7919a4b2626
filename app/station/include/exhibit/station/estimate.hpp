// How long a plan will take, from the device's size and the read speed measured on it.
#pragma once

#include <cstdint>
#include <string>

namespace exhibit::station {

// A USB 2 stick reads at 20-35 MB/s; assumed until the device's own speed is measured.
inline constexpr double kAssumedReadRate = 25e6;

struct Estimate {
    double rate = 0;        // bytes per second used
    bool measured = false;  // `rate` was measured on this device
    double triage_seconds = 0;
    double image_seconds = 0;
    double verify_seconds = 0;
    double total_seconds = 0;
};

// Triage reads at most every byte once; an image reads every byte once and its verification
// reads the image back, taken to run at the same speed. `measured_rate` <= 0: not measured.
Estimate estimate_job(std::uint64_t device_bytes, double measured_rate, bool image, bool verify);

// "under 1 s", "45 s", "12 min 34 s", "1 h 05 min"; "--" for a negative (unknown) duration.
std::string format_duration(double seconds);
// "1.5 GB", "211 MB" (decimal units, as drive labels use).
std::string format_bytes(std::uint64_t bytes);
// "31 MB/s"
std::string format_rate(double bytes_per_second);

}  // namespace exhibit::station
