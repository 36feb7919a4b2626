#include "exhibit/station/live_counts.hpp"

#include "exhibit/case_db.hpp"

namespace exhibit::station {

Expected<LiveCounts> read_live_counts(const std::filesystem::path& case_database) {
    LiveCounts live;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(case_database, ec)) return live;
    auto db = CaseDatabase::open_read_only(case_database);
    if (!db) return db.error();
    auto runs = (*db)->runs();
    if (!runs) return runs.error();
    if (runs->empty()) return live;
    const TriageRun& r = runs->back();  // ordered by id
    live.run_id = r.id;
    live.status = r.status;
    live.files = r.files;
    live.files_hashed = r.files_hashed;
    auto hits = (*db)->hit_counts(r.id);
    if (!hits) return hits.error();
    live.hits = std::move(*hits);
    return live;
}

}  // namespace exhibit::station
