#include "exhibit/station/timeline.hpp"

#include <algorithm>
#include <ctime>
#include <limits>

namespace exhibit::station {

namespace {

std::tm utc(std::int64_t t) {
    std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    return tm;
}

// A bucket number that grows by one per unit.
std::int64_t index_of(std::int64_t t, TimeUnit unit) {
    auto floor_div = [](std::int64_t a, std::int64_t b) { return a / b - (a % b < 0 ? 1 : 0); };
    switch (unit) {
        case TimeUnit::Hour:
            return floor_div(t, 3600);
        case TimeUnit::Day:
            return floor_div(t, 86400);
        case TimeUnit::Month: {
            std::tm tm = utc(t);
            return (static_cast<std::int64_t>(tm.tm_year) + 1900) * 12 + tm.tm_mon;
        }
        case TimeUnit::Year:
            return static_cast<std::int64_t>(utc(t).tm_year) + 1900;
    }
    return 0;
}

std::int64_t start_of(std::int64_t index, TimeUnit unit) {
    std::tm tm{};
    switch (unit) {
        case TimeUnit::Hour:
            return index * 3600;
        case TimeUnit::Day:
            return index * 86400;
        case TimeUnit::Month:
            tm.tm_year = static_cast<int>(index / 12 - 1900);
            tm.tm_mon = static_cast<int>(index % 12);
            break;
        case TimeUnit::Year:
            tm.tm_year = static_cast<int>(index - 1900);
            break;
    }
    tm.tm_mday = 1;
    return static_cast<std::int64_t>(timegm(&tm));
}

std::int64_t time_of(const FileEntry& f, TimeField field) {
    return field == TimeField::Modified ? f.modified : f.created;
}

}  // namespace

const char* to_string(TimeField field) {
    return field == TimeField::Modified ? "modified" : "created";
}

const char* to_string(TimeUnit unit) {
    switch (unit) {
        case TimeUnit::Hour:
            return "hour";
        case TimeUnit::Day:
            return "day";
        case TimeUnit::Month:
            return "month";
        case TimeUnit::Year:
            return "year";
    }
    return "?";
}

Timeline build_timeline(const std::vector<FileRow>& files, TimeField field,
                        std::size_t max_buckets) {
    Timeline t;
    t.field = field;
    std::int64_t lo = std::numeric_limits<std::int64_t>::max();
    std::int64_t hi = std::numeric_limits<std::int64_t>::min();
    std::vector<std::size_t> dated;
    for (std::size_t i = 0; i < files.size(); ++i) {
        const FileEntry& f = files[i].entry;
        if (f.name_type == 'd') continue;
        std::int64_t when = time_of(f, field);
        if (when <= 0) {
            ++t.without_time;
            continue;
        }
        lo = std::min(lo, when);
        hi = std::max(hi, when);
        dated.push_back(i);
    }
    if (dated.empty()) return t;
    max_buckets = std::max<std::size_t>(max_buckets, 1);
    t.unit = TimeUnit::Year;
    for (TimeUnit u : {TimeUnit::Hour, TimeUnit::Day, TimeUnit::Month}) {
        if (static_cast<std::uint64_t>(index_of(hi, u) - index_of(lo, u)) + 1 <= max_buckets) {
            t.unit = u;
            break;
        }
    }
    const std::int64_t first = index_of(lo, t.unit), last = index_of(hi, t.unit);
    t.buckets.resize(static_cast<std::size_t>(last - first + 1));
    for (std::int64_t k = first; k <= last; ++k) {
        auto& b = t.buckets[static_cast<std::size_t>(k - first)];
        b.start = start_of(k, t.unit);
        b.end = start_of(k + 1, t.unit);
    }
    for (std::size_t i : dated) {
        auto k = index_of(time_of(files[i].entry, field), t.unit) - first;
        t.buckets[static_cast<std::size_t>(k)].files.push_back(i);
    }
    for (const auto& b : t.buckets)
        t.max_count = std::max(t.max_count, b.files.size());
    return t;
}

std::string bucket_label(const Timeline& timeline, const TimelineBucket& bucket) {
    std::tm tm = utc(bucket.start);
    const char* format = timeline.unit == TimeUnit::Hour    ? "%Y-%m-%d %H:00"
                         : timeline.unit == TimeUnit::Day   ? "%Y-%m-%d"
                         : timeline.unit == TimeUnit::Month ? "%Y-%m"
                                                            : "%Y";
    char buf[32];
    std::strftime(buf, sizeof buf, format, &tm);
    return buf;
}

}  // namespace exhibit::station
