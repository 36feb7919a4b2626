// Unallocated space through the YARA rule packs and the case keywords: space in no
// partition, partitions with no file system TSK can open, and the unallocated blocks of
// every file system (TSK's block walk), where deleted files' bytes stay until overwritten.
//
//   auto scan = std::make_shared<UnallocatedScanOptions>();
//   scan->rules = compiled;                      // CompiledRules::build
//   walk_options.unallocated_scan = scan;        // triage_source scans after the walk
//
// or on its own, over regions the caller chose:
//
//   Status s = scan_unallocated(source, regions, *scan, progress, cancel, sink);
//
// Promises
// - Evidence bytes are parsed (by TSK and by libyara) only in sandboxed parser workers
//   (walk_worker.hpp), one per region; a worker that crashes or hangs costs its region,
//   which is recorded with why, and the next region is scanned.
// - Each contiguous stretch is scanned in windows of chunk_size + overlap bytes; a match
//   belongs to the window its first byte is in, so a match up to `overlap` bytes long
//   across a window boundary is reported exactly once.
// - A hit is one rule (or keyword) firing in one window: its offset is the absolute byte
//   offset on the source of its first matched string there; detail lists the first
//   max_strings matched strings with absolute offsets. A rule that fires on its condition
//   alone, with no string matched in the window's own bytes, is not reported (there is no
//   file here for a file-level condition to describe).
// - max_bytes bounds the bytes scanned over all regions (0: no bound), max_hits the hits
//   kept; what was left out is said in the region's message. Cancel stops within a window.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "exhibit/error.hpp"
#include "exhibit/progress.hpp"
#include "exhibit/scanner.hpp"
#include "exhibit/source.hpp"

namespace exhibit {

class CompiledRules;

struct UnallocatedScanOptions {
    std::shared_ptr<const CompiledRules> rules;
    std::uint64_t max_bytes = 0;         // over the whole scan; 0: everything
    std::uint64_t max_hits = 100000;     // kept; the rest are counted in the message
    std::size_t chunk_size = 16u << 20;  // bytes per window, plus the overlap
    std::size_t overlap = 64u << 10;     // longest match found across a window boundary
    int max_strings = 8;                 // matched strings kept per hit
    int timeout_seconds = 60;            // per window
    std::uint64_t worker_memory = 1ull << 30;
};

// One stretch of the source to scan.
struct UnallocatedRegion {
    enum class Kind { Bytes, FileSystemBlocks } kind = Kind::Bytes;
    std::string name;          // "unpartitioned", "partition 2 (ext4)", ...
    int volume = -1;           // the partition (TSK address), -1 for none
    std::int64_t fs_id = 0;    // case database file_systems row, 0 for none
    std::uint64_t offset = 0;  // absolute; for FileSystemBlocks the file system's offset
    std::uint64_t length = 0;  // bytes the region spans
    // Filled by the scan:
    std::uint64_t unallocated_bytes = 0;  // Bytes: length; blocks: the unallocated ones
    std::uint64_t scanned_bytes = 0;
    std::uint64_t hits = 0;
    bool complete = false;  // every unallocated byte of it was scanned
    std::string message;    // what was not done, and why
};

struct UnallocatedHit {
    std::size_t region = 0;  // index into the regions given
    std::uint64_t offset = 0;
    Hit hit;  // kind "yara" or "keyword"; detail as for files, plus "region"
};

class UnallocatedSink {
  public:
    virtual ~UnallocatedSink() = default;
    virtual Status region_started(std::size_t index, const UnallocatedRegion& region) = 0;
    virtual Status hit(const UnallocatedHit& hit) = 0;
    virtual Status region_finished(std::size_t index, const UnallocatedRegion& region) = 0;
};

// Scans every region in order, filling in their results. An Error when the sink fails or
// the operator cancelled (ErrorKind::Cancelled); a region that fails is only its message.
Status scan_unallocated(Source& source, std::vector<UnallocatedRegion>& regions,
                        const UnallocatedScanOptions& options, JobProgress& progress,
                        const std::atomic<bool>& cancel, UnallocatedSink& sink);

}  // namespace exhibit
