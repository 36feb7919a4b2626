// The Sleuth Kit over our Source: volume systems, file systems, directory entries.
//
// TSK parses hostile bytes, so it runs only in parser workers (walk_worker.hpp): one
// worker reads the volume system, then one per file system lists it and reads its files'
// content, which its own scanner threads (hashes, libmagic, YARA, hash sets) scan there:
// file content never leaves the worker, only each file's findings do. The supervisor
// (this process) serves the reads a worker cannot do itself, checks every message and
// hands everything to the WalkSink. A worker that crashes, hangs or runs out of memory
// costs what it was doing at that moment: the supervisor records it against the
// partition or file and carries on, reading the files it had not reached (and those whose
// scan it had not finished) in a fresh worker.
#include <tsk/libtsk.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <vector>

#include "exhibit/file_walk.hpp"
#include "scanners/yara_stats.hpp"
#include "triage/scan_pool.hpp"
#include "triage/tsk_image.hpp"
#include "triage/walk_messages.hpp"
#include "triage/walk_worker.hpp"

namespace exhibit {

namespace {

using triage_detail::Frame;
using triage_detail::MessageType;
using triage_detail::WalkWorker;
using triage_detail::WorkerLimits;
using triage_detail::WorkerSide;
using namespace triage_detail;  // the message codec

struct VsDeleter {
    void operator()(TSK_VS_INFO* vs) const { tsk_vs_close(vs); }
};
struct FsDeleter {
    void operator()(TSK_FS_INFO* fs) const { tsk_fs_close(fs); }
};

// Content we can vouch for: regular files and streams whose metadata still describes
// them. A deleted name whose MFT entry / inode now belongs to another file ("realloc")
// would hash someone else's bytes, so it is not read.
bool has_own_content(const FileEntry& f) {
    if (f.meta_type != 'r' || f.meta_address == 0) return false;
    return !(f.deleted() && f.meta_allocated);
}

// First block of the file's data, so reads can go in on-disk order (0 for resident data).
// Taken from the file the directory walk already has open.
std::uint64_t first_block(TSK_FS_FILE* file, const FileEntry& f) {
    const TSK_FS_ATTR* attr =
        f.stream.empty() ? tsk_fs_file_attr_get(file) : tsk_fs_file_attr_get_id(file, f.stream_id);
    tsk_error_reset();
    if (!attr || !(attr->flags & TSK_FS_ATTR_NONRES) || !attr->nrd.run) return 0;
    return static_cast<std::uint64_t>(attr->nrd.run->addr);
}

// An entry whose content is read after its file system's directory walk, in disk order.
struct PendingFile {
    FileEntry entry;
    std::uint64_t ordinal;
};

// What the directory-walk callback needs (in the worker).
struct WalkContext {
    WorkerSide* side;
    std::uint64_t* next_ordinal;  // the supervisor numbers entries the same way
    std::vector<PendingFile>* pending;
    int file_system;
    bool ntfs;
    bool read_content;
    const WalkOptions* options;

    void emit(const FileEntry& e) {
        if (options->worker_test_hook) options->worker_test_hook("listing", e);
        bool content = read_content && has_own_content(e);
        std::uint64_t ordinal = (*next_ordinal)++;
        side->send(MessageType::Entry, encode_entry(e, content));
        if (content) pending->push_back({e, ordinal});
    }
};

FileEntry entry_for(const TSK_FS_FILE* file, const char* parent, int file_system) {
    FileEntry e;
    e.file_system = file_system;
    e.name = file->name->name;
    e.path = std::string(parent) + e.name;
    e.meta_address = file->name->meta_addr;
    e.name_type = tsk_fs_name_type_str[file->name->type][0];
    e.name_allocated = (file->name->flags & TSK_FS_NAME_FLAG_ALLOC) != 0;
    if (const TSK_FS_META* meta = file->meta) {
        e.meta_type = tsk_fs_meta_type_str[meta->type][0];
        e.meta_allocated = (meta->flags & TSK_FS_META_FLAG_ALLOC) != 0;
        e.size = static_cast<std::uint64_t>(meta->size);
        e.modified = meta->mtime;
        e.accessed = meta->atime;
        e.changed = meta->ctime;
        e.created = meta->crtime;
        e.mode = static_cast<std::uint32_t>(meta->mode);
        e.uid = static_cast<std::uint32_t>(meta->uid);
        e.gid = static_cast<std::uint32_t>(meta->gid);
    }
    return e;
}

// NTFS keeps more than one stream per MFT entry: alternate data streams (named $DATA)
// and named indexes ($Secure:$SII, $Quota:$O). Like fls, each becomes its own entry
// "name:stream"; the plain name stands for the unnamed $DATA or the $I30 directory
// index, and for entries with neither (deleted names whose MFT entry is gone).
void add_ntfs_streams(TSK_FS_FILE* file, const FileEntry& entry, WalkContext& ctx) {
    bool plain = false;
    std::vector<FileEntry> streams;
    int count = file->meta ? tsk_fs_file_attr_getsize(file) : 0;
    for (int i = 0; i < count; ++i) {
        const TSK_FS_ATTR* attr = tsk_fs_file_attr_get_idx(file, i);
        if (!attr) continue;
        bool data = attr->type == TSK_FS_ATTR_TYPE_NTFS_DATA;
        bool index = attr->type == TSK_FS_ATTR_TYPE_NTFS_IDXROOT;
        if (!data && !index) continue;
        const char* name = attr->name ? attr->name : "";
        if ((data && (name[0] == '\0' || std::strcmp(name, "$Data") == 0)) ||
            (index && std::strcmp(name, "$I30") == 0)) {
            plain = true;
            continue;
        }
        FileEntry stream = entry;
        stream.stream = name;
        stream.path = entry.path + ":" + name;
        stream.size = static_cast<std::uint64_t>(attr->size);
        stream.stream_type = static_cast<std::uint16_t>(attr->type);
        stream.stream_id = attr->id;
        if (has_own_content(stream)) stream.first_block = first_block(file, stream);
        streams.push_back(std::move(stream));
    }
    if (plain || streams.empty()) ctx.emit(entry);
    for (const auto& s : streams)
        ctx.emit(s);
}

TSK_WALK_RET_ENUM on_entry(TSK_FS_FILE* file, const char* parent, void* data) {
    auto* ctx = static_cast<WalkContext*>(data);
    if (ctx->side->cancelled()) return TSK_WALK_STOP;
    if (!file->name || TSK_FS_ISDOT(file->name->name)) return TSK_WALK_CONT;
    FileEntry entry = entry_for(file, parent, ctx->file_system);
    if (ctx->read_content && has_own_content(entry)) entry.first_block = first_block(file, entry);
    if (ctx->ntfs) {
        add_ntfs_streams(file, entry, *ctx);
    } else {
        ctx->emit(entry);
    }
    return TSK_WALK_CONT;
}

// The first block of `file` that our source cannot read, as a byte offset of the source;
// nullopt when every block reads. Used only after a read failed while TSK read the file.
std::optional<std::uint64_t> first_unreadable_block(TSK_FS_INFO* fs, TSK_FS_FILE* file,
                                                    const FileEntry& f, Source& source) {
    struct Probe {
        TSK_FS_INFO* fs;
        Source* source;
        std::vector<std::byte> buffer;
        std::optional<std::uint64_t> bad;
    } probe{fs, &source, std::vector<std::byte>(fs->block_size), std::nullopt};
    auto visit = [](TSK_FS_FILE*, TSK_OFF_T, TSK_DADDR_T addr, char*, size_t,
                    TSK_FS_BLOCK_FLAG_ENUM flags, void* ptr) -> TSK_WALK_RET_ENUM {
        auto* p = static_cast<Probe*>(ptr);
        if (flags & (TSK_FS_BLOCK_FLAG_SPARSE | TSK_FS_BLOCK_FLAG_RES)) return TSK_WALK_CONT;
        const std::uint64_t at = static_cast<std::uint64_t>(p->fs->offset) +
                                 static_cast<std::uint64_t>(addr) * p->fs->block_size;
        auto n = read_fully(*p->source, at, p->buffer);
        if (n && *n == p->buffer.size()) return TSK_WALK_CONT;
        p->bad = at;
        return TSK_WALK_STOP;
    };
    auto flags = static_cast<TSK_FS_FILE_WALK_FLAG_ENUM>(TSK_FS_FILE_WALK_FLAG_AONLY);
    if (f.stream.empty()) {
        tsk_fs_file_walk(file, flags, visit, &probe);
    } else {
        tsk_fs_file_walk_type(file, static_cast<TSK_FS_ATTR_TYPE_ENUM>(f.stream_type), f.stream_id,
                              flags, visit, &probe);
    }
    tsk_error_reset();
    return probe.bad;
}

struct FileCloser {
    void operator()(TSK_FS_FILE* f) const { tsk_fs_file_close(f); }
};
using TskFile = std::unique_ptr<TSK_FS_FILE, FileCloser>;

// Where evidence usually is first (read_priority), then disk order within a rank.
void sort_for_reading(std::vector<PendingFile>& files) {
    std::vector<std::pair<int, std::size_t>> rank(files.size());  // computed once per file
    for (std::size_t i = 0; i < files.size(); ++i)
        rank[i] = {read_priority(files[i].entry), i};
    std::sort(rank.begin(), rank.end(), [&](const auto& a, const auto& b) {
        if (a.first != b.first) return a.first < b.first;
        const auto ba = files[a.second].entry.first_block, bb = files[b.second].entry.first_block;
        return ba != bb ? ba < bb : a.second < b.second;
    });
    std::vector<PendingFile> sorted;
    sorted.reserve(files.size());
    for (const auto& [priority, i] : rank)
        sorted.push_back(std::move(files[i]));
    files = std::move(sorted);
}

// ---- In the worker -----------------------------------------------------------------

// The worker's scanner threads, made before its sandbox goes on (prepare_scan); each
// file's findings go to the supervisor as one Findings frame.
struct WorkerScan {
    // The worker's own copy of the options. The supervisor's may sit on the stack of
    // another of its threads, which glibc hands to the first thread the worker starts
    // (a forked child reuses the stacks of the threads it did not inherit).
    std::optional<WalkOptions> options;
    std::unique_ptr<triage_detail::ScanPool> pool;
    WorkerSide* side = nullptr;  // set before the first file is handed to the pool

    void prepare(const WalkOptions& supervisor_options) {
        options.emplace(supervisor_options);
        pool = std::make_unique<triage_detail::ScanPool>(
            options->scanners, options->workers, [this](std::uint64_t ordinal, ContentResult r) {
                side->send(MessageType::Findings, encode_findings(ordinal, r));
            });
    }
    const WalkOptions& options_or(const WalkOptions& supervisor_options) const {
        return options ? *options : supervisor_options;
    }
};

// Reads each file's content once, in the given order, and hands it to the scanner threads.
void scan_contents(WorkerSide& side, WorkerScan& scan, TSK_FS_INFO* fs,
                   const std::vector<PendingFile>& files, const WalkOptions& options) {
    scan.side = &side;
    triage_detail::ScanPool& pool = *scan.pool;
    const std::size_t chunk_size = std::clamp<std::size_t>(options.chunk_size, 4096, 16u << 20);
    constexpr std::uint64_t kProgressEvery = 16u << 20;
    auto* image = reinterpret_cast<ExternalImage*>(fs->img_info);
    for (const PendingFile& p : files) {
        if (side.cancelled()) break;
        const FileEntry& f = p.entry;
        side.send(MessageType::Begin, encode_begin(p.ordinal));
        if (options.worker_test_hook) options.worker_test_hook("reading", f);
        pool.begin_file(&f, p.ordinal);
        bool complete = true;
        std::string error;
        TskFile file(tsk_fs_file_open_meta(fs, nullptr, f.meta_address));
        if (!file) {
            complete = false;
            error = "cannot open inode " + std::to_string(f.meta_address) + ": " + tsk_message();
        }
        const std::uint64_t failures_before = image->failed_reads;
        std::uint64_t unreported = 0;
        for (std::uint64_t offset = 0; file && offset < f.size;) {
            if (side.cancelled()) {
                complete = false;
                error = "the triage was cancelled after " + std::to_string(offset) + " of " +
                        std::to_string(f.size) + " bytes";
                break;
            }
            const std::size_t want =
                static_cast<std::size_t>(std::min<std::uint64_t>(chunk_size, f.size - offset));
            triage_detail::ScanPool::Chunk chunk = pool.take_chunk(chunk_size);
            auto* into = reinterpret_cast<char*>(chunk.data.get());
            ssize_t n = f.stream.empty()
                            ? tsk_fs_file_read(file.get(), static_cast<TSK_OFF_T>(offset), into,
                                               want, TSK_FS_FILE_READ_FLAG_NONE)
                            : tsk_fs_file_read_type(
                                  file.get(), static_cast<TSK_FS_ATTR_TYPE_ENUM>(f.stream_type),
                                  f.stream_id, static_cast<TSK_OFF_T>(offset), into, want,
                                  TSK_FS_FILE_READ_FLAG_NONE);
            if (n <= 0) {
                complete = false;
                error = "content unreadable at offset " + std::to_string(offset) + " of " +
                        std::to_string(f.size) + ": " + tsk_message();
                break;
            }
            chunk.size = static_cast<std::size_t>(n);
            pool.add_chunk(std::move(chunk));
            offset += static_cast<std::uint64_t>(n);
            unreported += static_cast<std::uint64_t>(n);
            if (unreported >= kProgressEvery) {  // also what keeps the watchdog quiet
                side.send(MessageType::Progress, encode_progress(unreported));
                unreported = 0;
            }
        }
        if (file && complete && image->failed_reads != failures_before) {
            if (auto bad = first_unreadable_block(fs, file.get(), f, *image->source)) {
                complete = false;
                error = "content unreadable: the source cannot read byte " + std::to_string(*bad) +
                        ", which holds part of this file";
            }
        }
        // The reading is over (the file is being scanned) before its findings can come; it
        // goes out with them or with the next file's begin, whichever is first, or before
        // the reader waits: a scanner thread that crashed meanwhile must find this file
        // counted as being scanned (read again by the next worker), not as being read.
        side.send_later(MessageType::End, encode_end(complete, error));
        if (pool.end_would_wait()) side.flush();
        pool.end_file(complete, std::move(error));
    }
    side.flush();
    pool.drain();
}

std::unique_ptr<TSK_FS_INFO, FsDeleter> open_fs(TSK_IMG_INFO* img, std::uint64_t offset) {
    return std::unique_ptr<TSK_FS_INFO, FsDeleter>(
        tsk_fs_open_img(img, static_cast<TSK_OFF_T>(offset), TSK_FS_TYPE_DETECT));
}

std::string where(int volume, std::uint64_t offset) {
    return "byte " + std::to_string(offset) +
           (volume >= 0 ? " (partition " + std::to_string(volume) + ")" : "");
}

// Worker task: the volume system, when the source has one.
void list_volumes(WorkerSide& side) {
    TskImage img(side.source());
    if (!img.get()) return;
    std::unique_ptr<TSK_VS_INFO, VsDeleter> vs(tsk_vs_open(img.get(), 0, TSK_VS_TYPE_DETECT));
    if (!vs) return;
    std::vector<VolumeEntry> volumes;
    for (TSK_PNUM_T i = 0; i < vs->part_count; ++i) {
        const TSK_VS_PART_INFO* part = tsk_vs_part_get(vs.get(), i);
        if (!part) continue;
        VolumeEntry v;
        v.index = static_cast<int>(part->addr);
        v.offset = static_cast<std::uint64_t>(part->start) * vs->block_size;
        v.length = static_cast<std::uint64_t>(part->len) * vs->block_size;
        v.description = part->desc ? part->desc : "";
        v.allocated = (part->flags & TSK_VS_PART_FLAG_ALLOC) != 0;
        v.is_table = (part->flags & TSK_VS_PART_FLAG_META) != 0;
        volumes.push_back(v);
    }
    side.send(MessageType::VolumeSystem,
              encode_volume_system(tsk_vs_type_toname(vs->vstype), volumes));
}

// Worker task: open the file system at `offset`, list it, then read its files' content.
void walk_file_system(WorkerSide& side, WorkerScan& scan, int volume, std::uint64_t offset,
                      int index, std::uint64_t first_ordinal, const WalkOptions& options) {
    TskImage img(side.source());
    auto fs = img.get() ? open_fs(img.get(), offset) : nullptr;
    if (!fs) {
        side.send(MessageType::WalkError,
                  encode_walk_error({volume, offset,
                                     "no file system TSK can open at " + where(volume, offset) +
                                         ": " + tsk_message()}));
        return;
    }
    FileSystemEntry fse;
    fse.volume = volume;
    fse.offset = offset;
    fse.type = tsk_fs_type_toname(fs->ftype);
    fse.block_size = fs->block_size;
    fse.block_count = static_cast<std::uint64_t>(fs->block_count);
    side.send(MessageType::FileSystem, encode_file_system(fse));

    std::vector<PendingFile> pending;
    std::uint64_t next_ordinal = first_ordinal;
    WalkContext ctx{&side,
                    &next_ordinal,
                    &pending,
                    index,
                    TSK_FS_TYPE_ISNTFS(fs->ftype) != 0,
                    options.read_content,
                    &options};
    auto flags = static_cast<TSK_FS_DIR_WALK_FLAG_ENUM>(
        TSK_FS_DIR_WALK_FLAG_ALLOC | TSK_FS_DIR_WALK_FLAG_UNALLOC | TSK_FS_DIR_WALK_FLAG_RECURSE);
    if (tsk_fs_dir_walk(fs.get(), fs->root_inum, flags, on_entry, &ctx) != 0 && !side.cancelled()) {
        side.send(
            MessageType::WalkError,
            encode_walk_error({volume, offset,
                               "the " + fse.type + " file system at byte " +
                                   std::to_string(offset) + " failed part-way: " + tsk_message()}));
    }
    if (side.cancelled()) return;
    std::uint64_t bytes = 0;
    for (const auto& p : pending)
        bytes += p.entry.size;
    side.send(MessageType::ListingDone, encode_listing_done(pending.size(), bytes));
    if (pending.empty()) return;
    sort_for_reading(pending);
    scan_contents(side, scan, fs.get(), pending, options);
}

// Worker task: read the content of files a failed worker had not reached.
void read_remaining(WorkerSide& side, WorkerScan& scan, std::uint64_t offset,
                    const std::vector<PendingFile>& files, const WalkOptions& options) {
    TskImage img(side.source());
    auto fs = img.get() ? open_fs(img.get(), offset) : nullptr;
    if (!fs) return;  // the supervisor marks every file not read
    scan_contents(side, scan, fs.get(), files, options);
}

// ---- In the supervisor ---------------------------------------------------------------

// One file system's files awaiting content.
struct FileSystemWork {
    int volume = -1;
    std::uint64_t offset = 0;
    int index = -1;  // once the worker opened it
    std::string type;
    bool listed = false;
    std::uint64_t entries = 0;
    std::string last_path;
    std::map<std::uint64_t, FileEntry> awaiting;  // ordinal -> entry, content not yet in
    std::map<std::uint64_t, FileEntry> started;   // handed to a worker (map nodes stay put)
};

class Supervisor {
  public:
    Supervisor(Source& source, WalkSink& sink, const WalkOptions& options, JobProgress& progress,
               const std::atomic<bool>& cancel)
        : source_(source), sink_(sink), options_(options), progress_(progress), cancel_(cancel) {
        limits_.memory = options.worker_memory;
        limits_.stall = options.worker_stall;
    }

    Status run() {
        std::optional<VolumeSystemMessage> volumes;
        bool clean = run_worker([](WorkerSide& side) { list_volumes(side); }, {},
                                [&](const Frame& f) {
                                    if (f.type != MessageType::VolumeSystem || volumes)
                                        return false;
                                    auto m = decode_volume_system(f.payload);
                                    if (!m) return false;
                                    volumes = std::move(*m);
                                    return true;
                                });
        if (!clean && !cancel_.load()) {
            sink_.error({-1, 0,
                         "the parser worker reading the volume system " + outcome_ +
                             "; the source is walked as one file system"});
            volumes.reset();
        }
        if (!volumes) {
            if (!cancel_.load()) walk_one(-1, 0);
        } else {
            sink_.volume_system(volumes->type, volumes->volumes);
            for (const auto& v : volumes->volumes) {
                if (cancel_.load()) break;
                if (v.allocated) walk_one(v.index, v.offset);
            }
        }
        if (cancel_.load())
            return make_error(ErrorKind::Cancelled, "the operator cancelled the file-system walk");
        return ok();
    }

  private:
    // A file whose content a worker has begun: being read (current_), or read and being
    // scanned (scanning_).
    struct InFlight {
        const FileEntry* entry = nullptr;
        std::uint64_t bytes = 0;  // read so far, as the worker reported it
    };

    // Runs one worker to its end, handing each frame to `handle` (false: the frame was not
    // one this task sends, and the worker is stopped). True when it ended cleanly.
    template <typename Handle>
    bool run_worker(const WalkWorker::Body& body, const WalkWorker::Prepare& prepare,
                    Handle handle) {
        static_assert(std::is_invocable_r_v<bool, Handle, Frame&>);
        auto worker = WalkWorker::start(source_, limits_, body, prepare);
        if (!worker) {
            outcome_ = "could not start: " + worker.error().message;
            return false;
        }
        bool done = false;
        while (auto frame = (*worker)->next(cancel_)) {
            if (frame->type == MessageType::Done) {
                done = true;
            } else if (done || !handle(*frame)) {
                (*worker)->kill("was stopped for sending a message out of turn");
                break;
            }
        }
        outcome_ = (*worker)->outcome();
        return (*worker)->ended_cleanly();
    }

    // Frames of a file system's listing and content. False when out of turn.
    bool on_frame(FileSystemWork& w, Frame& f) {
        switch (f.type) {
            case MessageType::FileSystem: {
                auto fs = decode_file_system(f.payload);
                if (!fs || w.index >= 0 || fs->volume != w.volume || fs->offset != w.offset)
                    return false;
                w.index = file_systems_++;
                // The progress snapshot keeps the name's pointer: TSK's static one.
                const char* type = tsk_fs_type_toname(tsk_fs_type_toid(fs->type.c_str()));
                w.type = fs->type = type;
                sink_.file_system(w.index, *fs);
                progress_.set_location(type, w.volume, w.offset);
                progress_.set_stage("listing");
                return true;
            }
            case MessageType::WalkError: {
                auto e = decode_walk_error(f.payload);
                if (!e) return false;
                sink_.error(*e);
                return true;
            }
            case MessageType::Entry: {
                auto m = decode_entry(f.payload);
                if (!m || w.index < 0 || w.listed || m->entry.file_system != w.index) return false;
                if (m->content_follows && (!options_.read_content || !has_own_content(m->entry)))
                    return false;
                const std::uint64_t ordinal = next_ordinal_++;
                sink_.entry(ordinal, m->entry, m->content_follows);
                progress_.add_entries(1);
                ++w.entries;
                w.last_path = m->entry.path;
                if (m->content_follows) w.awaiting.emplace(ordinal, std::move(m->entry));
                return true;
            }
            case MessageType::ListingDone: {
                if (w.index < 0 || w.listed || !decode_listing_done(f.payload)) return false;
                listed(w);
                return true;
            }
            case MessageType::Begin: {
                auto ordinal = decode_begin(f.payload);
                if (!ordinal || current_ || !w.listed) return false;
                auto it = w.awaiting.find(*ordinal);
                if (it == w.awaiting.end()) return false;
                auto node = w.started.insert(w.awaiting.extract(it)).position;
                current_ = InFlight{&node->second, 0};
                current_ordinal_ = *ordinal;
                return true;
            }
            case MessageType::Progress: {
                auto bytes = decode_progress(f.payload);
                if (!bytes || !current_ || current_->bytes + *bytes > current_->entry->size)
                    return false;
                current_->bytes += *bytes;
                progress_.add_done(*bytes);
                return true;
            }
            case MessageType::End: {
                if (!current_ || !decode_end(f.payload)) return false;
                scanning_.emplace(current_ordinal_, *current_);
                current_.reset();
                return true;
            }
            case MessageType::Findings: {
                auto m = decode_findings(f.payload);
                if (!m) return false;
                auto it = scanning_.find(m->ordinal);
                if (it == scanning_.end()) return false;
                const InFlight file = it->second;
                scanning_.erase(it);
                if (!m->result.findings.hits.empty()) progress_.note_hit();
                add_to_yara_stats(options_.scanners, m->result.findings);
                finish(m->ordinal, file, std::move(m->result));
                return true;
            }
            default:
                return false;
        }
    }

    void listed(FileSystemWork& w) {
        w.listed = true;
        std::uint64_t bytes = 0;
        for (const auto& [ordinal, e] : w.awaiting)
            bytes += e.size;
        progress_.add_files_total(w.awaiting.size());
        progress_.add_total(bytes);
        progress_.set_stage("reading");
    }

    void finish(std::uint64_t ordinal, const InFlight& file, ContentResult result) {
        if (file.bytes < file.entry->size) progress_.add_done(file.entry->size - file.bytes);
        progress_.add_files_done(1);
        sink_.content(ordinal, std::move(result));
    }

    void unread(std::uint64_t ordinal, const InFlight& file, std::string why) {
        ContentResult result;
        result.content_error = std::move(why);
        finish(ordinal, file, std::move(result));
    }

    // After a worker failed: the file it was reading ends unread; files it had read but
    // not finished scanning are read again by the next worker, unless a worker already
    // failed with them in hand once before (then they end unread too).
    std::string settle_in_flight(FileSystemWork& w, const std::string& failure) {
        std::string where;
        if (current_) {
            where = " while reading " + current_->entry->path;
            unread(current_ordinal_, *current_,
                   "not read: " + failure + " while reading this file");
            current_.reset();
        }
        std::size_t named = 0;
        for (const auto& [ordinal, file] : scanning_) {
            if (named < 3) {
                where += (where.empty() ? " while scanning "
                          : named == 0  ? " and scanning "
                                        : ", ") +
                         file.entry->path;
            }
            ++named;
            if (++strikes_[ordinal] >= 2) {
                unread(ordinal, file, "not read: " + failure + " while scanning this file");
            } else {
                w.awaiting.insert(w.started.extract(ordinal));
            }
        }
        if (named > 3) where += " (" + std::to_string(named) + " files in all)";
        scanning_.clear();
        return where;
    }

    // Walks the file system at `offset`; a failed worker costs what it was doing, and
    // the files it had not reached are read by a fresh one.
    void walk_one(int volume, std::uint64_t offset) {
        FileSystemWork w;
        w.volume = volume;
        w.offset = offset;
        const int index = file_systems_;
        const std::uint64_t first = next_ordinal_;
        auto handle = [&](Frame& f) { return on_frame(w, f); };
        // Lives in the worker: the supervisor's copy is never filled.
        WorkerScan scan;
        WalkWorker::Prepare prepare;
        if (options_.read_content) prepare = [&] { scan.prepare(options_); };
        bool clean = run_worker(
            [&](WorkerSide& side) {
                walk_file_system(side, scan, volume, offset, index, first,
                                 scan.options_or(options_));
            },
            prepare, handle);
        for (int restarts = 0; !clean && !cancel_.load(); ++restarts) {
            const std::string failure = "the parser worker for the " +
                                        (w.type.empty() ? std::string("file system") : w.type) +
                                        " at " + where(volume, offset) + " " + outcome_;
            const std::string in_hand = settle_in_flight(w, failure);
            if (!in_hand.empty()) {
                sink_.error({volume, offset, failure + in_hand});
            } else if (w.index < 0) {
                sink_.error({volume, offset, failure + " while opening it"});
            } else if (!w.listed) {
                sink_.error(
                    {volume, offset,
                     failure + " while listing it, after " + std::to_string(w.entries) +
                         " entries" +
                         (w.last_path.empty() ? "" : " (the last was " + w.last_path + ")")});
                listed(w);  // what was listed is all there will be
            } else {
                sink_.error({volume, offset, failure});
            }
            if (w.awaiting.empty()) break;
            if (restarts == kMaxRestarts) {
                give_up(w, "not read: the parser worker for this file system failed " +
                               std::to_string(kMaxRestarts + 1) + " times");
                break;
            }
            std::vector<PendingFile> rest;
            for (const auto& [ordinal, e] : w.awaiting)
                rest.push_back({e, ordinal});
            sort_for_reading(rest);
            clean = run_worker(
                [&](WorkerSide& side) {
                    read_remaining(side, scan, offset, rest, scan.options_or(options_));
                },
                prepare, handle);
        }
        // A worker stopped after a cancel may leave files begun: they end unread.
        if (current_) {
            unread(current_ordinal_, *current_,
                   "not read to the end: the operator cancelled the triage");
            current_.reset();
        }
        for (const auto& [ordinal, file] : scanning_)
            unread(ordinal, file, "not scanned: the operator cancelled the triage");
        scanning_.clear();
        if (!w.awaiting.empty() && !cancel_.load())
            give_up(w, "not read: the parser worker ended without reading it");
    }

    // Every file still awaiting content ends unread, with `why`.
    void give_up(FileSystemWork& w, const std::string& why) {
        while (!w.awaiting.empty()) {
            auto node = w.started.insert(w.awaiting.extract(w.awaiting.begin())).position;
            unread(node->first, InFlight{&node->second, 0}, why);
        }
    }

    static constexpr int kMaxRestarts = 3;
    Source& source_;
    WalkSink& sink_;
    const WalkOptions& options_;
    JobProgress& progress_;
    const std::atomic<bool>& cancel_;
    WorkerLimits limits_;
    std::string outcome_;
    int file_systems_ = 0;
    std::uint64_t next_ordinal_ = 0;
    std::optional<InFlight> current_;
    std::uint64_t current_ordinal_ = 0;
    std::map<std::uint64_t, InFlight> scanning_;
    std::map<std::uint64_t, int> strikes_;  // failures a file was in a worker's hands for
};

// Gathers a streamed walk back into one WalkResult.
class CollectingSink : public WalkSink {
  public:
    explicit CollectingSink(WalkResult& result) : result_(result) {}
    void volume_system(const std::string& type, const std::vector<VolumeEntry>& volumes) override {
        std::lock_guard lock(mutex_);
        result_.volume_system = type;
        result_.volumes = volumes;
    }
    void file_system(int, const FileSystemEntry& fs) override {
        std::lock_guard lock(mutex_);
        result_.file_systems.push_back(fs);
    }
    void entry(std::uint64_t, const FileEntry& entry, bool) override {
        std::lock_guard lock(mutex_);
        result_.files.push_back(entry);  // ordinals count from 0 in this same order
    }
    void content(std::uint64_t ordinal, ContentResult r) override {
        std::lock_guard lock(mutex_);
        FileEntry& f = result_.files.at(ordinal);
        f.content_read = r.content_read;
        f.content_error = std::move(r.content_error);
        f.findings = std::move(r.findings);
    }
    void error(const WalkError& error) override {
        std::lock_guard lock(mutex_);
        result_.errors.push_back(error);
    }

  private:
    std::mutex mutex_;
    WalkResult& result_;
};

}  // namespace

Status walk_file_systems(Source& source, JobProgress& progress, const std::atomic<bool>& cancel,
                         const WalkOptions& options, WalkSink& sink) {
    if (source.info().size == 0)
        return make_error(ErrorKind::Format,
                          "TSK cannot read source " + source.info().path + ": it is empty");
    progress.begin_stage("listing", 0);
    Supervisor supervisor(source, sink, options, progress, cancel);
    return supervisor.run();
}

Expected<WalkResult> walk_file_systems(Source& source, JobProgress& progress,
                                       const std::atomic<bool>& cancel,
                                       const WalkOptions& options) {
    WalkResult result;
    CollectingSink sink(result);
    if (auto s = walk_file_systems(source, progress, cancel, options, sink); !s) return s.error();
    return result;
}

}  // namespace exhibit
