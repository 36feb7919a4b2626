// Unallocated-space regions and hits in the case database (schema version 6).
#include "case/unallocated_rows.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <chrono>

namespace exhibit {

namespace {

struct StatementDeleter {
    void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementDeleter>;

Statement prepare(sqlite3* db, const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) return nullptr;
    return Statement(s);
}

Error db_error(sqlite3* db, const std::string& what) {
    ErrorKind kind = sqlite3_errcode(db) == SQLITE_FULL ? ErrorKind::NoSpace : ErrorKind::Io;
    const char* file = sqlite3_db_filename(db, "main");
    return make_error(kind, what + (file && *file ? std::string(" in case database ") + file : "") +
                                ": " + sqlite3_errmsg(db));
}

void bind_text(sqlite3_stmt* s, int i, const std::string& v) {
    sqlite3_bind_text(s, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}

std::string column_text(sqlite3_stmt* s, int col) {
    auto* t = sqlite3_column_text(s, col);
    return t ? std::string(reinterpret_cast<const char*>(t)) : std::string();
}

std::uint64_t column_u64(sqlite3_stmt* s, int col) {
    return static_cast<std::uint64_t>(sqlite3_column_int64(s, col));
}

// Writes as the scan goes: hits in batches, each region's row at its start and end.
class RegionWriter final : public UnallocatedSink {
  public:
    static constexpr int kBatchRows = 1000;
    static constexpr auto kBatchTime = std::chrono::seconds(1);

    RegionWriter(sqlite3* db, std::int64_t run_id)
        : db_(db),
          run_(run_id),
          insert_region_(prepare(db,
                                 "INSERT INTO unallocated_regions (run_id, name, volume_address, "
                                 "fs_id, byte_offset, byte_length) VALUES (?,?,?,?,?,?)")),
          update_region_(prepare(db,
                                 "UPDATE unallocated_regions SET unallocated_bytes=?, "
                                 "scanned_bytes=?, hits=?, complete=?, message=NULLIF(?,'') "
                                 "WHERE id=?")),
          insert_hit_(prepare(db,
                              "INSERT INTO unallocated_hits (run_id, region_id, volume_address, "
                              "byte_offset, kind, name, category, severity, detail) "
                              "VALUES (?,?,?,?,?,?,NULLIF(?,''),NULLIF(?,''),?)")) {}

    Status check() const {
        if (!insert_region_ || !update_region_ || !insert_hit_)
            return db_error(db_, "cannot prepare the unallocated-space rows");
        return ok();
    }

    Status region_started(std::size_t index, const UnallocatedRegion& r) override {
        if (auto s = begin(); !s) return s;
        sqlite3_stmt* s = insert_region_.get();
        sqlite3_bind_int64(s, 1, run_);
        bind_text(s, 2, r.name);
        if (r.volume >= 0) sqlite3_bind_int(s, 3, r.volume);
        if (r.fs_id > 0) sqlite3_bind_int64(s, 4, r.fs_id);
        sqlite3_bind_int64(s, 5, static_cast<std::int64_t>(r.offset));
        sqlite3_bind_int64(s, 6, static_cast<std::int64_t>(r.length));
        if (!step(s)) return fail("cannot record an unallocated-space region");
        ids_.resize(std::max(ids_.size(), index + 1));
        ids_[index] = sqlite3_last_insert_rowid(db_);
        return commit();
    }

    Status hit(const UnallocatedHit& h) override {
        if (auto s = begin(); !s) return s;
        sqlite3_stmt* s = insert_hit_.get();
        int i = 1;
        sqlite3_bind_int64(s, i++, run_);
        sqlite3_bind_int64(s, i++, ids_.at(h.region));
        if (volume_of_.count(h.region)) sqlite3_bind_int(s, i, volume_of_[h.region]);
        ++i;
        sqlite3_bind_int64(s, i++, static_cast<std::int64_t>(h.offset));
        for (const std::string* v : {&h.hit.kind, &h.hit.name, &h.hit.category, &h.hit.severity})
            bind_text(s, i++, *v);
        bind_text(s, i++, h.hit.detail.empty() ? std::string("{}") : h.hit.detail);
        if (!step(s)) return fail("cannot record a hit in unallocated space");
        if (++rows_ >= kBatchRows || std::chrono::steady_clock::now() - batch_start_ >= kBatchTime)
            return commit();
        return ok();
    }

    Status region_finished(std::size_t index, const UnallocatedRegion& r) override {
        if (auto s = begin(); !s) return s;
        sqlite3_stmt* s = update_region_.get();
        sqlite3_bind_int64(s, 1, static_cast<std::int64_t>(r.unallocated_bytes));
        sqlite3_bind_int64(s, 2, static_cast<std::int64_t>(r.scanned_bytes));
        sqlite3_bind_int64(s, 3, static_cast<std::int64_t>(r.hits));
        sqlite3_bind_int(s, 4, r.complete ? 1 : 0);
        bind_text(s, 5, r.message);
        sqlite3_bind_int64(s, 6, ids_.at(index));
        if (!step(s)) return fail("cannot record an unallocated-space region");
        return commit();
    }

    void set_volume(std::size_t index, int volume) {
        if (volume >= 0) volume_of_[index] = volume;
    }

    void rollback() {
        if (open_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
        open_ = false;
    }

  private:
    bool step(sqlite3_stmt* s) {
        const bool done = sqlite3_step(s) == SQLITE_DONE;
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        return done;
    }
    Status fail(const std::string& what) {
        Error e = db_error(db_, what);
        rollback();
        return e;
    }
    Status begin() {
        if (open_) return ok();
        if (sqlite3_exec(db_, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
            return db_error(db_, "cannot start a transaction");
        open_ = true;
        rows_ = 0;
        batch_start_ = std::chrono::steady_clock::now();
        return ok();
    }
    Status commit() {
        if (!open_) return ok();
        if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
            return fail("cannot commit unallocated-space rows");
        open_ = false;
        return ok();
    }

    sqlite3* db_;
    std::int64_t run_;
    Statement insert_region_, update_region_, insert_hit_;
    std::vector<std::int64_t> ids_;
    std::map<std::size_t, int> volume_of_;
    int rows_ = 0;
    bool open_ = false;
    std::chrono::steady_clock::time_point batch_start_{};
};

}  // namespace

Expected<std::vector<UnallocatedRegion>> unallocated_regions_of(const CaseDatabase& db,
                                                                std::int64_t run_id,
                                                                std::uint64_t source_size) {
    auto volumes = db.volumes(run_id);
    if (!volumes) return volumes.error();
    auto file_systems = db.file_systems(run_id);
    if (!file_systems) return file_systems.error();
    std::vector<UnallocatedRegion> out;
    auto bytes = [&](std::string name, int volume, std::uint64_t offset, std::uint64_t length) {
        UnallocatedRegion r;
        r.kind = UnallocatedRegion::Kind::Bytes;
        r.name = std::move(name);
        r.volume = volume;
        r.offset = offset;
        r.length = std::min(length, source_size > offset ? source_size - offset : 0);
        if (r.length > 0) out.push_back(std::move(r));
    };
    for (const auto& row : *volumes) {
        const VolumeEntry& v = row.volume;
        if (v.is_table) continue;
        if (!v.allocated) {
            bytes("unpartitioned", -1, v.offset, v.length);
            continue;
        }
        bool has_fs = false;
        for (const auto& f : *file_systems)
            has_fs = has_fs || f.file_system.volume == v.index;
        if (!has_fs)
            bytes("partition " + std::to_string(v.index) + " (no file system TSK can open)",
                  v.index, v.offset, v.length);
    }
    for (const auto& f : *file_systems) {
        const FileSystemEntry& fs = f.file_system;
        UnallocatedRegion r;
        r.kind = UnallocatedRegion::Kind::FileSystemBlocks;
        r.name = (fs.volume >= 0 ? "partition " + std::to_string(fs.volume)
                                 : "file system at byte " + std::to_string(fs.offset)) +
                 " (" + fs.type + ")";
        r.volume = fs.volume;
        r.fs_id = f.id;
        r.offset = fs.offset;
        r.length = fs.block_count * fs.block_size;
        out.push_back(std::move(r));
        if (volumes->empty()) {
            const std::uint64_t end = fs.offset + fs.block_count * fs.block_size;
            bytes("past the end of the file system", -1, end,
                  source_size - std::min(end, source_size));
        }
    }
    if (volumes->empty() && file_systems->empty())
        bytes("the whole source (no file system TSK can open)", -1, 0, source_size);
    std::stable_sort(out.begin(), out.end(),
                     [](const auto& a, const auto& b) { return a.offset < b.offset; });
    return out;
}

Status scan_unallocated_for_run(CaseDatabase& db, std::int64_t run_id, Source& source,
                                const UnallocatedScanOptions& options, JobProgress& progress,
                                const std::atomic<bool>& cancel) {
    auto regions = unallocated_regions_of(db, run_id, source.info().size);
    if (!regions) return regions.error();
    RegionWriter writer(db.handle(), run_id);
    if (auto s = writer.check(); !s) return s;
    for (std::size_t i = 0; i < regions->size(); ++i)
        writer.set_volume(i, (*regions)[i].volume);
    Status s = scan_unallocated(source, *regions, options, progress, cancel, writer);
    writer.rollback();  // only open after a failure
    return s;
}

Expected<std::vector<UnallocatedRegionRow>> CaseDatabase::unallocated_regions(
    std::int64_t run_id) const {
    auto s = prepare(db_,
                     "SELECT id, run_id, IFNULL(fs_id,0), name, IFNULL(volume_address,-1), "
                     "byte_offset, byte_length, unallocated_bytes, scanned_bytes, hits, complete, "
                     "IFNULL(message,'') FROM unallocated_regions WHERE run_id=? ORDER BY id");
    if (!s) return db_error(db_, "cannot query unallocated-space regions");
    sqlite3_bind_int64(s.get(), 1, run_id);
    std::vector<UnallocatedRegionRow> out;
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
        sqlite3_stmt* r = s.get();
        UnallocatedRegionRow row;
        row.id = sqlite3_column_int64(r, 0);
        row.run_id = sqlite3_column_int64(r, 1);
        row.fs_id = sqlite3_column_int64(r, 2);
        row.name = column_text(r, 3);
        row.volume = sqlite3_column_int(r, 4);
        row.offset = column_u64(r, 5);
        row.length = column_u64(r, 6);
        row.unallocated_bytes = column_u64(r, 7);
        row.scanned_bytes = column_u64(r, 8);
        row.hits = column_u64(r, 9);
        row.complete = sqlite3_column_int(r, 10) != 0;
        row.message = column_text(r, 11);
        out.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) return db_error(db_, "cannot read unallocated-space regions");
    return out;
}

Expected<std::vector<UnallocatedHitRow>> CaseDatabase::unallocated_hits(std::int64_t run_id) const {
    auto s = prepare(db_,
                     "SELECT h.id, h.run_id, h.region_id, r.name, IFNULL(h.volume_address,-1), "
                     "h.byte_offset, h.kind, h.name, IFNULL(h.category,''), "
                     "IFNULL(h.severity,''), h.detail FROM unallocated_hits h "
                     "JOIN unallocated_regions r ON r.id = h.region_id WHERE h.run_id=? "
                     "ORDER BY h.byte_offset, h.id");
    if (!s) return db_error(db_, "cannot query hits in unallocated space");
    sqlite3_bind_int64(s.get(), 1, run_id);
    std::vector<UnallocatedHitRow> out;
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
        sqlite3_stmt* r = s.get();
        UnallocatedHitRow row;
        row.id = sqlite3_column_int64(r, 0);
        row.run_id = sqlite3_column_int64(r, 1);
        row.region_id = sqlite3_column_int64(r, 2);
        row.region = column_text(r, 3);
        row.volume = sqlite3_column_int(r, 4);
        row.offset = column_u64(r, 5);
        row.hit = {column_text(r, 6), column_text(r, 7), column_text(r, 8), column_text(r, 9),
                   column_text(r, 10)};
        out.push_back(std::move(row));
    }
    if (rc != SQLITE_DONE) return db_error(db_, "cannot read hits in unallocated space");
    return out;
}

Expected<UnallocatedSummary> CaseDatabase::unallocated_summary(std::int64_t run_id) const {
    auto regions = unallocated_regions(run_id);
    if (!regions) return regions.error();
    UnallocatedSummary sum;
    sum.scanned = !regions->empty();
    for (const auto& r : *regions) {
        ++sum.regions;
        sum.incomplete_regions += r.complete ? 0 : 1;
        sum.unallocated_bytes += r.unallocated_bytes;
        sum.scanned_bytes += r.scanned_bytes;
    }
    auto s =
        prepare(db_, "SELECT kind, COUNT(*) FROM unallocated_hits WHERE run_id=? GROUP BY kind");
    if (!s) return db_error(db_, "cannot query hits in unallocated space");
    sqlite3_bind_int64(s.get(), 1, run_id);
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW)
        sum.hits[column_text(s.get(), 0)] = column_u64(s.get(), 1);
    if (rc != SQLITE_DONE) return db_error(db_, "cannot read hits in unallocated space");
    return sum;
}

}  // namespace exhibit
