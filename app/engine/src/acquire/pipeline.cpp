#include "acquire/pipeline.hpp"

#include <signal.h>

#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "acquire/block_ring.hpp"

namespace exhibit::acquire_detail {

namespace {

// Records a zero-filled range, merging it with the previous one when they touch and
// failed the same way.
void add_unreadable(std::vector<UnreadableRange>& ranges, std::uint64_t offset,
                    std::uint64_t length, int err) {
    if (!ranges.empty()) {
        auto& last = ranges.back();
        if (last.offset + last.length == offset && last.sys_errno == err) {
            last.length += length;
            return;
        }
    }
    ranges.push_back({offset, length, err});
}

bool is_vanished(const Error& e) {
    return e.kind == ErrorKind::SourceChanged;
}

class Reader {
  public:
    Reader(Source& source, const PipelineOptions& options, JobProgress& progress)
        : unreadable(options.unreadable),
          source_(source),
          options_(options),
          progress_(progress),
          sector_(source.info().sector_size ? source.info().sector_size : 512) {}

    // Fills `out` with the bytes at `offset`, recovering what can be recovered.
    Status read_block(std::uint64_t offset, std::span<std::byte> out) {
        std::optional<Error> failure;
        for (int attempt = 0; attempt <= options_.retries; ++attempt) {
            auto n = read_fully(source_, offset, out);
            if (n && *n == out.size()) {
                last_good_ = offset;
                return ok();
            }
            if (n) return shrank(offset + *n);
            if (is_vanished(n.error()) || !options_.recover_errors) return n.error();
            failure = n.error();
        }
        if (auto s = still_answering(offset, *failure); !s) return s;
        return narrow(offset, out);
    }

    std::vector<UnreadableRange> unreadable;
    std::uint64_t zero_filled = 0;  // sectors zero-filled by this reader

  private:
    // A pulled USB disk answers every read with EIO, just as a bad sector does. Before a
    // failed block is narrowed down sector by sector, a sector that read earlier is read
    // again: if it fails too, the device is gone (or has failed as a whole), and the run
    // stops as incomplete (and resumable) instead of zero-filling the rest of the media
    // as "unreadable sectors" and calling that a finished image.
    Status still_answering(std::uint64_t failed_at, const Error& failure) {
        if (!last_good_) return ok();
        std::vector<std::byte> probe(sector_);
        for (int attempt = 0; attempt <= options_.retries; ++attempt) {
            auto n = read_fully(source_, *last_good_, probe);
            if (n && *n == probe.size()) return ok();
        }
        return make_error(ErrorKind::SourceChanged,
                          "source " + source_.info().path +
                              " stopped answering: the read at byte " + std::to_string(failed_at) +
                              " failed (" + failure.message + ") and byte " +
                              std::to_string(*last_good_) +
                              ", read earlier, now fails too; it was removed or has failed",
                          failure.sys_errno);
    }

    // Bisects a failed range down to single sectors: the halves that read are kept, the
    // sectors that do not (after retries) are zero-filled and recorded.
    Status narrow(std::uint64_t offset, std::span<std::byte> out) {
        if (out.size() <= sector_) {
            int err = 0;
            for (int attempt = 0; attempt <= options_.retries; ++attempt) {
                auto n = read_fully(source_, offset, out);
                if (n && *n == out.size()) return ok();
                if (n) return shrank(offset + *n);
                if (is_vanished(n.error())) return n.error();
                err = n.error().sys_errno;
            }
            std::memset(out.data(), 0, out.size());
            add_unreadable(unreadable, offset, out.size(), err);
            ++zero_filled;
            progress_.add_unreadable_sectors(1);
            return ok();
        }
        std::size_t sectors = (out.size() + sector_ - 1) / sector_;
        std::size_t half = sectors / 2 * sector_;
        auto n = read_fully(source_, offset, out.first(half));
        if (!n) {
            if (is_vanished(n.error())) return n.error();
            if (auto s = narrow(offset, out.first(half)); !s) return s;
        } else if (*n != half) {
            return shrank(offset + *n);
        }
        auto rest = out.subspan(half);
        auto m = read_fully(source_, offset + half, rest);
        if (!m) {
            if (is_vanished(m.error())) return m.error();
            return narrow(offset + half, rest);
        }
        if (*m != rest.size()) return shrank(offset + half + *m);
        return ok();
    }

    Error shrank(std::uint64_t at) {
        return make_error(ErrorKind::SourceChanged,
                          "source " + source_.info().path + " ended at byte " + std::to_string(at) +
                              " though it reported " + std::to_string(source_.info().size) +
                              " bytes; it was removed or changed during the read");
    }

    Source& source_;
    const PipelineOptions& options_;
    JobProgress& progress_;
    std::size_t sector_;
    std::optional<std::uint64_t> last_good_;  // start of a block that read whole
};

}  // namespace

// Test hook for the kill tests (tests/faults): with EXHIBIT_TEST_KILL_AFTER_BYTES=N in
// the environment, the process kills itself with SIGKILL once the image writer has
// written N or more bytes of media, as a power cut would stop it: no handler, no flush.
std::uint64_t kill_after_bytes() {
    static const std::uint64_t at = [] {
        const char* text = std::getenv("EXHIBIT_TEST_KILL_AFTER_BYTES");
        return text && *text ? std::strtoull(text, nullptr, 10) : UINT64_MAX;
    }();
    return at;
}

Expected<PipelineOutput> run_pipeline(Source& source, ImageSink* sink,
                                      const PipelineOptions& options, JobProgress& progress,
                                      const std::atomic<bool>& cancel) {
    const std::uint64_t size = source.info().size;
    const int consumers = sink ? 3 : 2;
    BlockRing ring(options.slots, options.block_size, consumers);

    RunningDigests fresh;
    RunningDigests& digests = options.digests ? *options.digests : fresh;
    std::optional<Error> sink_error;

    // Checkpoints: the hash workers note the prefix hashes at each checkpoint offset as
    // they pass it; the writer, having flushed the image to that offset, waits for both
    // notes and saves them with the unreadable ranges the reader found before it.
    const std::uint64_t every = sink && options.checkpoints ? options.checkpoint_every : 0;
    auto is_checkpoint = [&](std::uint64_t end) { return every && end % every == 0 && end < size; };
    std::mutex notes_mutex;
    std::condition_variable notes_changed;
    std::map<std::uint64_t, Hashes> notes;
    int hashers_gone = 0;
    std::vector<UnreadableRange> found = options.unreadable;  // as of the reader's latest block
    auto note = [&](std::uint64_t end, auto&& fill) {
        if (!is_checkpoint(end)) return;
        std::lock_guard lock(notes_mutex);
        fill(notes[end]);
        notes_changed.notify_all();
    };
    auto hasher_gone = [&] {
        std::lock_guard lock(notes_mutex);
        ++hashers_gone;
        notes_changed.notify_all();
    };
    auto checkpoint = [&](std::uint64_t end) -> Status {
        if (auto s = sink->sync(); !s) return s;
        Hashes prefix;
        std::vector<UnreadableRange> before;
        {
            std::unique_lock lock(notes_mutex);
            auto complete = [&] { return !notes[end].md5.empty() && !notes[end].sha256.empty(); };
            // A hasher leaves only after the last block it will ever see, so both gone
            // without this note means the ring was aborted: the run is ending anyway.
            notes_changed.wait(lock, [&] { return complete() || hashers_gone == 2; });
            if (!complete()) return ok();
            prefix = notes[end];
            notes.erase(notes.begin(), notes.upper_bound(end));
            for (auto r : found) {
                if (r.offset >= end) continue;
                r.length = std::min(r.length, end - r.offset);
                before.push_back(r);
            }
        }
        return options.checkpoints->save(end, prefix, before);
    };
    {
        std::jthread md5_worker([&] {
            while (const Block* b = ring.next(0)) {
                digests.md5.update(b->bytes());
                note(b->offset + b->length, [&](Hashes& h) { h.md5 = digests.md5.peek_hex(); });
                ring.release(0);
            }
            hasher_gone();
        });
        std::jthread sha_worker([&] {
            while (const Block* b = ring.next(1)) {
                digests.sha1.update(b->bytes());
                digests.sha256.update(b->bytes());
                note(b->offset + b->length, [&](Hashes& h) {
                    h.sha1 = digests.sha1.peek_hex();
                    h.sha256 = digests.sha256.peek_hex();
                });
                ring.release(1);
            }
            hasher_gone();
        });
        std::jthread writer;
        if (sink) {
            writer = std::jthread([&] {
                while (const Block* b = ring.next(2)) {
                    if (auto s = sink->write(b->bytes()); !s) {
                        sink_error = s.error();
                        ring.abort();
                        return;
                    }
                    const std::uint64_t end = b->offset + b->length;
                    if (end >= kill_after_bytes()) ::raise(SIGKILL);
                    if (is_checkpoint(end)) {
                        if (auto s = checkpoint(end); !s) {
                            sink_error = s.error();
                            ring.abort();
                            return;
                        }
                    }
                    progress.add_done(b->length);
                    ring.release(2);
                }
            });
        }

        Reader reader(source, options, progress);
        std::optional<Error> read_error;
        if (options.start > 0) progress.add_done(options.start);
        for (std::uint64_t offset = options.start; offset < size;) {
            if (cancel.load(std::memory_order_relaxed)) {
                read_error =
                    make_error(ErrorKind::Cancelled,
                               "the operator cancelled the read at byte " + std::to_string(offset));
                break;
            }
            Block* block = ring.claim();
            if (!block) break;  // the writer failed; its error says why
            std::size_t length = static_cast<std::size_t>(
                std::min<std::uint64_t>(options.block_size, size - offset));
            block->offset = offset;
            block->length = length;
            const std::uint64_t filled_before = reader.zero_filled;
            if (auto s = reader.read_block(offset, {block->data, length}); !s) {
                read_error = s.error();
                break;
            }
            if (every && reader.zero_filled != filled_before) {
                std::lock_guard lock(notes_mutex);
                found = reader.unreadable;
            }
            ring.publish();
            if (!sink) progress.add_done(length);
            offset += length;
        }
        // Also after a read error or a cancel, the blocks already read are hashed and
        // written (and checkpointed) before the run ends, so a resume repeats as little as
        // possible. A failed writer has aborted the ring itself.
        ring.close();
        // The workers join here, at the end of this scope.
        md5_worker.join();
        sha_worker.join();
        if (writer.joinable()) writer.join();
        if (read_error) return *read_error;
        if (sink_error) return *sink_error;
        PipelineOutput out;
        out.unreadable = std::move(reader.unreadable);
        out.bytes = size;
        out.hashes = {digests.md5.peek_hex(), digests.sha1.peek_hex(), digests.sha256.peek_hex()};
        return out;
    }
}

}  // namespace exhibit::acquire_detail
