#include "exhibit/file_contents.hpp"

#include <tsk/libtsk.h>

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "triage/tsk_image.hpp"
#include "triage/walk_worker.hpp"

namespace exhibit {

namespace {

using namespace triage_detail;

constexpr std::size_t kChunk = 1u << 20;

std::string where(const Source& source, const FileRef& f) {
    return "file " + std::to_string(f.meta_address) + " of the file system at byte " +
           std::to_string(f.fs_offset) + " of " + source.info().path;
}

struct FsCloser {
    void operator()(TSK_FS_INFO* fs) const { tsk_fs_close(fs); }
};
struct FileCloser {
    void operator()(TSK_FS_FILE* f) const { tsk_fs_file_close(f); }
};

// In the parser worker: every file as Begin, Chunk..., End; a file system is opened the
// first time a file in it is asked for and kept for the rest.
void read_all(WorkerSide& side, std::span<const FileRef> files, std::uint64_t max_bytes) {
    Source& source = side.source();
    TskImage img(source);
    std::map<std::uint64_t, std::unique_ptr<TSK_FS_INFO, FsCloser>> opened;
    std::map<std::uint64_t, std::string> refused;  // file systems TSK cannot open, and why
    std::vector<std::byte> buffer;
    for (std::size_t i = 0; i < files.size(); ++i) {
        if (side.cancelled()) return;
        const FileRef& ref = files[i];
        side.send(MessageType::Begin, encode_begin(i));
        auto fail = [&](const std::string& why) {
            side.send(MessageType::End, encode_end(false, why));
        };
        if (!img.get()) {
            fail("TSK cannot read " + source.info().path + ": " + tsk_message());
            continue;
        }
        TSK_FS_INFO* fs = nullptr;
        if (auto it = opened.find(ref.fs_offset); it != opened.end()) {
            fs = it->second.get();
        } else if (auto r = refused.find(ref.fs_offset); r != refused.end()) {
            fail(r->second);
            continue;
        } else {
            fs = tsk_fs_open_img(img.get(), static_cast<TSK_OFF_T>(ref.fs_offset),
                                 TSK_FS_TYPE_DETECT);
            if (!fs) {
                std::string why = "no file system at byte " + std::to_string(ref.fs_offset) +
                                  " of " + source.info().path + ": " + tsk_message();
                refused.emplace(ref.fs_offset, why);
                fail(why);
                continue;
            }
            opened.emplace(ref.fs_offset, std::unique_ptr<TSK_FS_INFO, FsCloser>(fs));
        }
        std::unique_ptr<TSK_FS_FILE, FileCloser> file(
            tsk_fs_file_open_meta(fs, nullptr, static_cast<TSK_INUM_T>(ref.meta_address)));
        if (!file) {
            fail("cannot open " + where(source, ref) + ": " + tsk_message());
            continue;
        }
        const std::uint64_t size =
            file->meta && file->meta->size > 0 ? static_cast<std::uint64_t>(file->meta->size) : 0;
        const std::uint64_t want = std::min(size, max_bytes);
        std::uint64_t done = 0;
        std::optional<std::string> error;
        while (done < want) {
            buffer.resize(static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, want - done)));
            ssize_t n = tsk_fs_file_read(file.get(), static_cast<TSK_OFF_T>(done),
                                         reinterpret_cast<char*>(buffer.data()), buffer.size(),
                                         TSK_FS_FILE_READ_FLAG_NONE);
            if (n < 0) {
                error = "cannot read " + where(source, ref) + ": " + tsk_message();
                break;
            }
            if (n == 0) break;
            side.send(MessageType::Chunk,
                      std::span<const std::byte>(buffer.data(), static_cast<std::size_t>(n)));
            done += static_cast<std::uint64_t>(n);
        }
        side.send(MessageType::End, encode_end(!error, error.value_or("")));
    }
}

}  // namespace

Status read_file_contents(Source& source, std::span<const FileRef> files, std::uint64_t max_bytes,
                          const FileContentSink& each, const std::atomic<bool>& cancel) {
    std::size_t next = 0;  // the first file not yet handed to `each`
    auto give_up = [&](const Error& e) -> Status {
        for (; next < files.size(); ++next)
            each(next, Error{e.kind, where(source, files[next]) + " was not read: " + e.message,
                             e.sys_errno});
        return e;
    };
    if (files.empty()) return ok();
    auto worker = WalkWorker::start(source, WorkerLimits{},
                                    [&](WorkerSide& side) { read_all(side, files, max_bytes); });
    if (!worker) return give_up(worker.error());

    std::optional<std::size_t> current;  // the file whose content is arriving
    std::vector<std::byte> content;
    bool over_limit = false;
    auto misbehaved = [&](const char* why) { (*worker)->kill(why); };
    while (auto frame = (*worker)->next(cancel)) {
        if (frame->type == MessageType::Begin && !current) {
            auto ordinal = decode_begin(frame->payload);
            if (!ordinal || *ordinal != next) {
                misbehaved("was stopped for sending files out of order");
                break;
            }
            current = next;
            content.clear();
            over_limit = false;
        } else if (frame->type == MessageType::Chunk && current) {
            if (content.size() + frame->payload.size() > max_bytes) {
                over_limit = true;  // never kept: the worker sent more than asked
                continue;
            }
            content.insert(content.end(), frame->payload.begin(), frame->payload.end());
        } else if (frame->type == MessageType::End && current) {
            auto end = decode_end(frame->payload);
            if (!end) {
                misbehaved("was stopped for sending a malformed end of file");
                break;
            }
            if (over_limit)
                each(next, make_error(ErrorKind::Format, where(source, files[next]) +
                                                             ": the parser worker sent more "
                                                             "than was asked for"));
            else if (!end->complete)
                each(next, Error{ErrorKind::Format, end->error, 0});
            else
                each(next, std::move(content));
            content = {};
            current.reset();
            ++next;
        } else if (frame->type == MessageType::Done && !current && next == files.size()) {
        } else {
            misbehaved("was stopped for sending a message out of turn");
            break;
        }
    }
    if (next < files.size() || !(*worker)->ended_cleanly()) {
        if (cancel.load())
            return give_up(make_error(ErrorKind::Cancelled, "reading was cancelled"));
        return give_up(make_error(
            ErrorKind::Format,
            "the parser worker reading " + source.info().path + " " + (*worker)->outcome()));
    }
    return ok();
}

}  // namespace exhibit
