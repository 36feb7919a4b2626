// The Sleuth Kit over our Source: volume systems, file systems, directory entries.
#include <tsk/libtsk.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "exhibit/file_walk.hpp"
#include "triage/scan_pool.hpp"

namespace exhibit {

namespace {

// TSK_IMG_INFO must come first: TSK casts our struct to it (tsk_img_open_external).
struct ExternalImage {
    TSK_IMG_INFO info;
    Source* source;
    // Reads of the source that failed. TSK 4.11 does not always pass a failed read on
    // (a failed cache fill is retried uncached, and some file-content paths go on with
    // the buffer as it was), so the content reader checks this count itself.
    std::uint64_t failed_reads;
};

ssize_t read_source(TSK_IMG_INFO* img, TSK_OFF_T offset, char* buffer, size_t length) {
    auto* ext = reinterpret_cast<ExternalImage*>(img);
    auto n = read_fully(*ext->source, static_cast<std::uint64_t>(offset),
                        {reinterpret_cast<std::byte*>(buffer), length});
    if (!n) {
        ++ext->failed_reads;
        tsk_error_reset();
        tsk_error_set_errno(TSK_ERR_IMG_READ);
        tsk_error_set_errstr("%s", n.error().message.c_str());
        return -1;
    }
    return static_cast<ssize_t>(*n);
}

void close_source(TSK_IMG_INFO*) {}  // the ExternalImage is ours and freed by its owner

void describe_source(TSK_IMG_INFO* img, FILE* out) {
    auto* ext = reinterpret_cast<ExternalImage*>(img);
    std::fprintf(out, "Exhibit source: %s\n", ext->source->info().path.c_str());
}

std::string tsk_message() {
    const char* text = tsk_error_get();
    std::string message = text ? text : "no reason given";
    tsk_error_reset();
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
        message.pop_back();
    }
    return message;
}

struct VsDeleter {
    void operator()(TSK_VS_INFO* vs) const { tsk_vs_close(vs); }
};
struct FsDeleter {
    void operator()(TSK_FS_INFO* fs) const { tsk_fs_close(fs); }
};

// What the directory-walk callback needs.
struct WalkContext {
    WalkResult* result;
    int file_system;
    bool ntfs;
    JobProgress* progress;
    const std::atomic<bool>* cancel;
    bool read_content;  // note each file's first block, for reading in disk order
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
void add_ntfs_streams(TSK_FS_FILE* file, const FileEntry& entry, WalkResult& result) {
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
    if (plain || streams.empty()) result.files.push_back(entry);
    for (auto& s : streams)
        result.files.push_back(std::move(s));
}

TSK_WALK_RET_ENUM on_entry(TSK_FS_FILE* file, const char* parent, void* data) {
    auto* ctx = static_cast<WalkContext*>(data);
    if (ctx->cancel->load(std::memory_order_relaxed)) return TSK_WALK_STOP;
    if (!file->name || TSK_FS_ISDOT(file->name->name)) return TSK_WALK_CONT;
    FileEntry entry = entry_for(file, parent, ctx->file_system);
    if (ctx->read_content && has_own_content(entry)) entry.first_block = first_block(file, entry);
    if (ctx->ntfs) {
        add_ntfs_streams(file, entry, *ctx->result);
    } else {
        ctx->result->files.push_back(std::move(entry));
    }
    ctx->progress->add_done(1);
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

// Runs after every other scanner of a file: the first file with a hit stops the
// progress snapshot's time-to-first-hit clock.
class HitClock final : public Scanner {
  public:
    explicit HitClock(JobProgress& progress) : progress_(progress) {}
    void begin(const FileEntry&) override {}
    void update(std::span<const std::byte>) override {}
    void finish(FileFindings& findings) override {
        if (!findings.hits.empty()) progress_.note_hit();
    }

  private:
    JobProgress& progress_;
};

std::vector<ScannerFactory> with_hit_clock(std::vector<ScannerFactory> scanners,
                                           JobProgress& progress) {
    scanners.push_back([&progress] { return std::make_unique<HitClock>(progress); });
    return scanners;
}

struct FileCloser {
    void operator()(TSK_FS_FILE* f) const { tsk_fs_file_close(f); }
};
using TskFile = std::unique_ptr<TSK_FS_FILE, FileCloser>;

// Reads each file of file system `fs_index` once, in on-disk order, into the scan pool.
void read_contents(TSK_FS_INFO* fs, int fs_index, WalkResult& result, triage_detail::ScanPool& pool,
                   const WalkOptions& options, JobProgress& progress,
                   const std::atomic<bool>& cancel) {
    std::vector<std::pair<std::uint64_t, std::size_t>> order;
    for (std::size_t i = 0; i < result.files.size(); ++i) {
        const FileEntry& f = result.files[i];
        if (f.file_system == fs_index && has_own_content(f)) {
            order.emplace_back(f.first_block, i);
        }
    }
    // Where evidence usually is first (read_priority), then disk order within a rank.
    std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
        int pa = read_priority(result.files[a.second]), pb = read_priority(result.files[b.second]);
        return pa != pb ? pa < pb : a < b;
    });
    std::vector<char> buffer(options.chunk_size);
    for (auto [block, index] : order) {
        if (cancel.load(std::memory_order_relaxed)) break;
        FileEntry& f = result.files[index];
        pool.begin_file(&f);
        TskFile file(tsk_fs_file_open_meta(fs, nullptr, f.meta_address));
        if (!file) {
            pool.end_file(false, "cannot open inode " + std::to_string(f.meta_address) + ": " +
                                     tsk_message());
            continue;
        }
        bool complete = true;
        std::string error;
        auto* image = reinterpret_cast<ExternalImage*>(fs->img_info);
        const std::uint64_t failures_before = image->failed_reads;
        for (std::uint64_t offset = 0; offset < f.size;) {
            std::size_t want =
                static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), f.size - offset));
            ssize_t n = f.stream.empty()
                            ? tsk_fs_file_read(file.get(), static_cast<TSK_OFF_T>(offset),
                                               buffer.data(), want, TSK_FS_FILE_READ_FLAG_NONE)
                            : tsk_fs_file_read_type(
                                  file.get(), static_cast<TSK_FS_ATTR_TYPE_ENUM>(f.stream_type),
                                  f.stream_id, static_cast<TSK_OFF_T>(offset), buffer.data(), want,
                                  TSK_FS_FILE_READ_FLAG_NONE);
            if (n <= 0) {
                complete = false;
                error = "content unreadable at offset " + std::to_string(offset) + " of " +
                        std::to_string(f.size) + ": " + tsk_message();
                break;
            }
            auto* bytes = reinterpret_cast<const std::byte*>(buffer.data());
            pool.add_chunk(std::vector<std::byte>(bytes, bytes + n));
            progress.add_done(static_cast<std::uint64_t>(n));
            offset += static_cast<std::uint64_t>(n);
        }
        if (complete && image->failed_reads != failures_before) {
            if (auto bad = first_unreadable_block(fs, file.get(), f, *image->source)) {
                complete = false;
                error = "content unreadable: the source cannot read byte " + std::to_string(*bad) +
                        ", which holds part of this file";
            }
        }
        pool.end_file(complete, std::move(error));
    }
    pool.drain();  // workers hold pointers into result.files; the next walk may grow it
}

// Opens and walks the file system at `offset`; failures are recorded, not returned.
void walk_one(TSK_IMG_INFO* img, int volume, std::uint64_t offset, WalkResult& result,
              const WalkOptions& options, triage_detail::ScanPool* pool, JobProgress& progress,
              const std::atomic<bool>& cancel) {
    std::unique_ptr<TSK_FS_INFO, FsDeleter> fs(
        tsk_fs_open_img(img, static_cast<TSK_OFF_T>(offset), TSK_FS_TYPE_DETECT));
    if (!fs) {
        result.errors.push_back(
            {volume, offset,
             "no file system TSK can open at byte " + std::to_string(offset) +
                 (volume >= 0 ? " (partition " + std::to_string(volume) + ")" : "") + ": " +
                 tsk_message()});
        return;
    }
    FileSystemEntry fse;
    fse.volume = volume;
    fse.offset = offset;
    fse.type = tsk_fs_type_toname(fs->ftype);
    fse.block_size = fs->block_size;
    fse.block_count = static_cast<std::uint64_t>(fs->block_count);
    result.file_systems.push_back(fse);

    WalkContext ctx{&result,
                    static_cast<int>(result.file_systems.size() - 1),
                    TSK_FS_TYPE_ISNTFS(fs->ftype) != 0,
                    &progress,
                    &cancel,
                    options.read_content};
    auto flags = static_cast<TSK_FS_DIR_WALK_FLAG_ENUM>(
        TSK_FS_DIR_WALK_FLAG_ALLOC | TSK_FS_DIR_WALK_FLAG_UNALLOC | TSK_FS_DIR_WALK_FLAG_RECURSE);
    if (tsk_fs_dir_walk(fs.get(), fs->root_inum, flags, on_entry, &ctx) != 0 && !cancel.load()) {
        result.errors.push_back({volume, offset,
                                 "the " + fse.type + " file system at byte " +
                                     std::to_string(offset) +
                                     " failed part-way: " + tsk_message()});
    }
    if (pool && options.read_content && !cancel.load()) {
        read_contents(fs.get(), ctx.file_system, result, *pool, options, progress, cancel);
    }
}

}  // namespace

Expected<WalkResult> walk_file_systems(Source& source, JobProgress& progress,
                                       const std::atomic<bool>& cancel,
                                       const WalkOptions& options) {
    auto image = std::make_unique<ExternalImage>();
    std::memset(&image->info, 0, sizeof image->info);
    image->source = &source;
    const auto& info = source.info();
    TSK_IMG_INFO* img =
        tsk_img_open_external(image.get(), static_cast<TSK_OFF_T>(info.size), info.sector_size,
                              read_source, close_source, describe_source);
    if (!img) {
        return make_error(ErrorKind::Format,
                          "TSK cannot read source " + info.path + ": " + tsk_message());
    }
    struct ImgCloser {
        void operator()(TSK_IMG_INFO* i) const { tsk_img_close(i); }
    };
    std::unique_ptr<TSK_IMG_INFO, ImgCloser> img_guard(img);

    progress.begin_stage("walking", 0);
    std::unique_ptr<triage_detail::ScanPool> pool;
    if (options.read_content) {
        pool = std::make_unique<triage_detail::ScanPool>(with_hit_clock(options.scanners, progress),
                                                         options.workers);
    }
    WalkResult result;
    std::unique_ptr<TSK_VS_INFO, VsDeleter> vs(tsk_vs_open(img, 0, TSK_VS_TYPE_DETECT));
    if (!vs) {
        tsk_error_reset();
        walk_one(img, -1, 0, result, options, pool.get(), progress, cancel);
    } else {
        result.volume_system = tsk_vs_type_toname(vs->vstype);
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
            result.volumes.push_back(v);
        }
        for (const auto& v : result.volumes) {
            if (cancel.load()) break;
            if (v.allocated)
                walk_one(img, v.index, v.offset, result, options, pool.get(), progress, cancel);
        }
    }
    if (cancel.load()) {
        return make_error(ErrorKind::Cancelled, "the operator cancelled the file-system walk");
    }
    return result;
}

}  // namespace exhibit
