// The case database's side of the unallocated-space scan: which regions a run has (from
// its volumes and file systems), and their rows and hits written as the scan goes.
#pragma once

#include <atomic>

#include "exhibit/case_db.hpp"
#include "exhibit/unallocated_scan.hpp"

namespace exhibit {

// The regions of run `run_id`: space in no partition, partitions with no file system TSK
// opened, the unallocated blocks of each file system, and (without a volume system) what
// lies past the file system's end; by offset.
Expected<std::vector<UnallocatedRegion>> unallocated_regions_of(const CaseDatabase& db,
                                                                std::int64_t run_id,
                                                                std::uint64_t source_size);

// Scans them and records regions and hits (batched: every 1,000 rows or second, and at
// each region's end). Errors: Cancelled, or the database's own.
Status scan_unallocated_for_run(CaseDatabase& db, std::int64_t run_id, Source& source,
                                const UnallocatedScanOptions& options, JobProgress& progress,
                                const std::atomic<bool>& cancel);

}  // namespace exhibit
