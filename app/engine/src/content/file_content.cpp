#include "exhibit/file_content.hpp"

#include <tsk/libtsk.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "triage/tsk_image.hpp"
#include "triage/walk_worker.hpp"

namespace exhibit {

namespace {

constexpr std::size_t kChunk = 1u << 20;

// In the parser worker: the bytes, or why not.
Expected<std::vector<std::byte>> read_in_worker(Source& source, std::uint64_t fs_offset,
                                                std::uint64_t meta_address, std::uint64_t max_bytes,
                                                const std::string& where) {
    using triage_detail::tsk_message;
    const SourceInfo& info = source.info();
    triage_detail::TskImage img(source);
    if (!img.get())
        return make_error(ErrorKind::Format, "TSK cannot read " + info.path + ": " + tsk_message());
    TSK_FS_INFO* fs =
        tsk_fs_open_img(img.get(), static_cast<TSK_OFF_T>(fs_offset), TSK_FS_TYPE_DETECT);
    if (!fs)
        return make_error(ErrorKind::Format, "no file system at byte " + std::to_string(fs_offset) +
                                                 " of " + info.path + ": " + tsk_message());
    std::unique_ptr<TSK_FS_INFO, void (*)(TSK_FS_INFO*)> fs_guard(fs, tsk_fs_close);
    TSK_FS_FILE* file = tsk_fs_file_open_meta(fs, nullptr, static_cast<TSK_INUM_T>(meta_address));
    if (!file)
        return make_error(ErrorKind::NotFound, "cannot open " + where + ": " + tsk_message());
    std::unique_ptr<TSK_FS_FILE, void (*)(TSK_FS_FILE*)> file_guard(file, tsk_fs_file_close);
    std::uint64_t size =
        file->meta && file->meta->size > 0 ? static_cast<std::uint64_t>(file->meta->size) : 0;
    std::vector<std::byte> out(static_cast<std::size_t>(std::min(size, max_bytes)));
    std::size_t done = 0;
    while (done < out.size()) {
        ssize_t n = tsk_fs_file_read(file, static_cast<TSK_OFF_T>(done),
                                     reinterpret_cast<char*>(out.data() + done), out.size() - done,
                                     TSK_FS_FILE_READ_FLAG_NONE);
        if (n < 0) return make_error(ErrorKind::Io, "cannot read " + where + ": " + tsk_message());
        if (n == 0) break;
        done += static_cast<std::size_t>(n);
    }
    out.resize(done);
    return out;
}

}  // namespace

Expected<std::vector<std::byte>> read_file_content(Source& source, std::uint64_t fs_offset,
                                                   std::uint64_t meta_address,
                                                   std::uint64_t max_bytes) {
    using namespace triage_detail;
    const std::string where = "file " + std::to_string(meta_address) +
                              " of the file system at byte " + std::to_string(fs_offset) + " of " +
                              source.info().path;
    // TSK parses the evidence in a parser worker, as in triage (walk_worker.hpp).
    auto worker = WalkWorker::start(source, WorkerLimits{}, [&](WorkerSide& side) {
        auto bytes = read_in_worker(side.source(), fs_offset, meta_address, max_bytes, where);
        if (!bytes) {
            side.send(MessageType::End, encode_end(false, bytes.error().message));
            return;
        }
        const std::span<const std::byte> all(*bytes);
        for (std::size_t at = 0; at < all.size(); at += kChunk)
            side.send(MessageType::Chunk, all.subspan(at, std::min(kChunk, all.size() - at)));
        side.send(MessageType::End, encode_end(true, ""));
    });
    if (!worker) return worker.error();
    std::vector<std::byte> out;
    std::optional<Error> failed;
    bool ended = false;
    const std::atomic<bool> never{false};
    while (auto frame = (*worker)->next(never)) {
        if (!ended && frame->type == MessageType::Chunk &&
            out.size() + frame->payload.size() <= max_bytes) {
            out.insert(out.end(), frame->payload.begin(), frame->payload.end());
        } else if (!ended && frame->type == MessageType::End) {
            auto end = decode_end(frame->payload);
            if (!end) {
                failed = end.error();
            } else if (!end->complete) {
                failed = Error{ErrorKind::Format, end->error, 0};
            }
            ended = true;
        } else if (ended && frame->type == MessageType::Done) {
        } else {
            (*worker)->kill("was stopped for sending a message out of turn");
            break;
        }
    }
    if (failed) return *failed;
    if (!ended || !(*worker)->ended_cleanly())
        return make_error(ErrorKind::Format,
                          "the parser worker reading " + where + " " + (*worker)->outcome());
    return out;
}

}  // namespace exhibit
