// The findings' timeline: how many files were modified (or created) in each hour, day,
// month or year, from the first time to the last, empty stretches included, so activity
// shows as a histogram. Built on the worker that loads the findings; each bucket keeps its
// files so a tap on a bar lists them.
//
//   Timeline t = build_timeline(index.files, TimeField::Modified);
//   for (auto& b : t.buckets) draw_bar(bucket_label(t, b), b.files.size(), t.max_count);
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "exhibit/case_db.hpp"

namespace exhibit::station {

enum class TimeField { Modified, Created };
enum class TimeUnit { Hour, Day, Month, Year };

struct TimelineBucket {
    std::int64_t start = 0, end = 0;  // UTC seconds, [start, end)
    std::vector<std::size_t> files;   // indexes into the rows given
};

struct Timeline {
    TimeField field = TimeField::Modified;
    TimeUnit unit = TimeUnit::Day;
    std::vector<TimelineBucket> buckets;  // consecutive, first to last
    std::size_t max_count = 0;            // the fullest bucket's size
    std::size_t without_time = 0;         // files with no such time recorded
};

// Files only (not folders). The unit is the finest of hour, day, month and year that needs
// at most `max_buckets` buckets (calendar months and years, UTC).
Timeline build_timeline(const std::vector<FileRow>& files, TimeField field,
                        std::size_t max_buckets = 120);

// "2024-03-05 14:00", "2024-03-05", "2024-03" or "2024".
std::string bucket_label(const Timeline& timeline, const TimelineBucket& bucket);
const char* to_string(TimeField field);
const char* to_string(TimeUnit unit);

}  // namespace exhibit::station
