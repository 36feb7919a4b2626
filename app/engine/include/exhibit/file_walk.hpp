// The file-system walk: every volume, file system and directory entry on a source,
// allocated and deleted, through The Sleuth Kit reading via our own Source.
//
//   auto walk = walk_file_systems(*source, progress, cancel);
//   for (const FileEntry& f : walk->files) ...
//
// or, without keeping the listing in memory, as it goes:
//
//   struct Rows : WalkSink { ... };      // volume_system, file_system, entry, content, error
//   Rows rows;
//   Status s = walk_file_systems(*source, progress, cancel, options, rows);
//
// Promises
// - TSK never runs in the calling process: it parses the evidence in sandboxed worker
//   processes (no files, no network, capped memory, a watchdog). A worker that crashes,
//   hangs or runs out of memory becomes a WalkError naming the partition (and the file
//   being read, whose content is then marked unread); the rest is still walked.
// - TSK reads only through Source::read_at (tsk_img_open_external), so devices, raw,
//   split raw and E01 share one read-only path and one fault handling.
// - A volume system is used when TSK finds one (DOS/MBR with extended partitions, GPT,
//   ...); otherwise the whole source is tried as one file system.
// - A file system TSK cannot open, or that fails part-way, becomes a WalkError naming the
//   partition and what failed; the other partitions are still walked.
// - The listing matches `fls -r -p` for each file system: same paths, meta addresses,
//   types and allocation.
// - Memory: the streaming form holds only the entries of the file system being read that
//   still await their content (to read them in disk order), plus bounded scan queues.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "exhibit/error.hpp"
#include "exhibit/progress.hpp"
#include "exhibit/scanner.hpp"
#include "exhibit/source.hpp"

namespace exhibit {

// One slot of the volume system, allocated or not.
struct VolumeEntry {
    int index = 0;             // TSK's partition address
    std::uint64_t offset = 0;  // bytes from the start of the source
    std::uint64_t length = 0;  // bytes
    std::string description;   // e.g. "Linux (0x83)", "Unallocated"
    bool allocated = false;    // a real partition (not unallocated space or a table)
    bool is_table = false;     // the partition table or extended-partition container
};

struct FileSystemEntry {
    int volume = -1;           // VolumeEntry::index, -1 when the source has no table
    std::uint64_t offset = 0;  // bytes from the start of the source
    std::string type;          // "fat32", "ext4", "ntfs", ...
    std::uint32_t block_size = 0;
    std::uint64_t block_count = 0;
};

struct FileEntry {
    int file_system = 0;  // index into WalkResult::file_systems
    std::string path;     // from the file-system root, "/"-separated, no leading "/"
    std::string name;
    std::string stream;              // NTFS alternate data stream name, else empty
    std::uint64_t meta_address = 0;  // inode / MFT entry
    char name_type = '-';            // as fls prints it: r d l c b p s h w v -
    char meta_type = '-';
    std::uint64_t size = 0;
    bool name_allocated = false;  // the directory entry is in use
    bool meta_allocated = false;  // the inode / MFT entry is in use
    bool deleted() const { return !name_allocated; }
    // Seconds since 1970 UTC; 0 when the file system does not keep that time.
    std::int64_t modified = 0, accessed = 0, changed = 0, created = 0;
    std::uint32_t mode = 0, uid = 0, gid = 0;
    std::uint16_t stream_type = 0;  // TSK attribute type and id of `stream`
    std::uint16_t stream_id = 0;
    std::uint64_t first_block = 0;  // first data block (0: resident or not noted); read order

    // Filled when the walk reads content (WalkOptions::read_content), for regular files.
    bool content_read = false;  // every byte of the content was read and scanned
    std::string content_error;  // why not, when it was attempted and failed
    FileFindings findings;
};

struct WalkError {
    int volume = -1;
    std::uint64_t offset = 0;
    std::string message;  // one sentence: what failed and where
};

struct WalkResult {
    std::string volume_system;  // "dos", "gpt", ... or empty
    std::vector<VolumeEntry> volumes;
    std::vector<FileSystemEntry> file_systems;
    std::vector<FileEntry> files;
    std::vector<WalkError> errors;
};

struct UnallocatedScanOptions;  // unallocated_scan.hpp

struct WalkOptions {
    // Read every regular file's content (allocated, and deleted where TSK can still
    // recover it) once, in on-disk order, and feed it to the scanners on worker threads.
    bool read_content = false;
    std::vector<ScannerFactory> scanners = default_scanners();
    // triage_source: notes kept with the run from its first commit (rule files left out);
    // the scanners' own notes come with each file's findings.
    std::vector<ScanNote> notes;
    // triage_source: after the walk, scan unallocated space with these rules
    // (unallocated_scan.hpp); null: not scanned.
    std::shared_ptr<const UnallocatedScanOptions> unallocated_scan;
    unsigned workers = 0;               // 0: one per core
    std::size_t chunk_size = 1u << 20;  // bytes per read; memory stays bounded per worker
    // The parser workers (TSK runs in child processes, see tsk_walk.cpp): memory each may
    // add before it is stopped, and how long it may go without sending anything.
    std::uint64_t worker_memory = 2ull << 30;
    std::chrono::milliseconds worker_stall{std::chrono::minutes(2)};
    // Tests only: runs inside the parser worker as each entry is listed (stage "listing")
    // and before each file's content is read ("reading"), to make the worker crash, hang
    // or misbehave on purpose at a chosen point.
    std::function<void(const char* stage, const FileEntry&)> worker_test_hook;
};

// Read order within a file system: lower first, then on-disk order within a rank.
// 0: small files (up to 4 MiB) in user areas (Users/, home/, Documents, Desktop, Pictures,
//    Downloads, DCIM, Recent, ...); 1: other small files outside system folders;
// 2: larger files in user areas; 3: everything else (system folders, file-system
// metadata, large files). Evidence usually sits in rank 0, so first hits come early.
int read_priority(const FileEntry& file);
// What reading one file's content gave.
struct ContentResult {
    bool content_read = false;  // every byte was read and scanned
    std::string content_error;  // why not
    FileFindings findings;
};

// Receives a walk as it happens. Every call but content() comes from the thread running
// walk_file_systems, in walk order; content() comes from the scan worker threads, one
// call per file, concurrently with each other and with the walking thread, and always
// after that file's entry(). Implementations must be thread-safe accordingly and may
// block (that is how a slow consumer bounds the walk's memory).
class WalkSink {
  public:
    virtual ~WalkSink() = default;
    // Once, before any file system, when the source has a volume system ("dos", "gpt",
    // ...); every slot, allocated or not.
    virtual void volume_system(const std::string& type,
                               const std::vector<VolumeEntry>& volumes) = 0;
    // A file system was opened; `index` is what its entries carry in FileEntry::file_system.
    virtual void file_system(int index, const FileSystemEntry& fs) = 0;
    // A directory entry (or NTFS stream). `ordinal` numbers entries from 0 across the whole
    // walk. When `content_follows`, a content() call with the same ordinal comes later.
    virtual void entry(std::uint64_t ordinal, const FileEntry& entry, bool content_follows) = 0;
    virtual void content(std::uint64_t ordinal, ContentResult result) = 0;
    virtual void error(const WalkError& error) = 0;
};

// Walks everything. Returns an Error only when the source itself cannot be read by TSK
// at all or the walk was cancelled; per-partition failures are in WalkResult::errors.
Expected<WalkResult> walk_file_systems(Source& source, JobProgress& progress,
                                       const std::atomic<bool>& cancel,
                                       const WalkOptions& options = {});

// The same walk, handed to `sink` as it goes (per-partition failures to sink.error()).
// On cancel, files already handed to the scanners are finished (a file cut short by the
// cancel reports content_read false) before this returns.
Status walk_file_systems(Source& source, JobProgress& progress, const std::atomic<bool>& cancel,
                         const WalkOptions& options, WalkSink& sink);

}  // namespace exhibit
