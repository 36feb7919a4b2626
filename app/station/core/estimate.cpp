#include "exhibit/station/estimate.hpp"

#include <cmath>
#include <cstdio>

namespace exhibit::station {

Estimate estimate_job(std::uint64_t device_bytes, double measured_rate, bool image, bool verify) {
    Estimate e;
    e.measured = measured_rate > 0;
    e.rate = e.measured ? measured_rate : kAssumedReadRate;
    double pass = static_cast<double>(device_bytes) / e.rate;
    e.triage_seconds = pass;
    e.image_seconds = image ? pass : 0;
    e.verify_seconds = image && verify ? pass : 0;
    e.total_seconds = e.triage_seconds + e.image_seconds + e.verify_seconds;
    return e;
}

std::string format_duration(double seconds) {
    if (seconds < 0 || !std::isfinite(seconds)) return "--";
    if (seconds < 0.5) return "under 1 s";
    auto s = static_cast<long long>(std::llround(seconds));
    char buf[48];
    if (s < 60) {
        std::snprintf(buf, sizeof buf, "%lld s", s);
    } else if (s < 3600) {
        std::snprintf(buf, sizeof buf, "%lld min %02lld s", s / 60, s % 60);
    } else {
        std::snprintf(buf, sizeof buf, "%lld h %02lld min", s / 3600, (s % 3600) / 60);
    }
    return buf;
}

std::string format_bytes(std::uint64_t bytes) {
    static const char* units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= 1000 && u < 5) {
        v /= 1000;
        ++u;
    }
    char buf[32];
    if (u == 0)
        std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
    else
        std::snprintf(buf, sizeof buf,
                      v < 10    ? "%.2f %s"
                      : v < 100 ? "%.1f %s"
                                : "%.0f %s",
                      v, units[u]);
    return buf;
}

std::string format_rate(double bytes_per_second) {
    if (bytes_per_second <= 0) return "--";
    return format_bytes(static_cast<std::uint64_t>(bytes_per_second)) + "/s";
}

}  // namespace exhibit::station
