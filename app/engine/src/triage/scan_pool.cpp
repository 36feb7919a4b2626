#include "triage/scan_pool.hpp"

#include <algorithm>
#include <stdexcept>

namespace exhibit::triage_detail {

ScanPool::ScanPool(const std::vector<ScannerFactory>& scanners, unsigned workers, Done done)
    : done_(std::move(done)) {
    if (workers == 0) workers = std::max(1u, std::thread::hardware_concurrency());
    try {
        for (unsigned i = 0; i < workers; ++i) {
            workers_.push_back(std::make_unique<Worker>());
            Worker& w = *workers_.back();
            w.thread = std::thread([this, &w, scanners] { run(w, scanners); });
        }
    } catch (const std::exception& e) {  // no thread: the ones made so far end first
        for (auto& w : workers_) {
            std::unique_lock lock(w->mutex);
            w->changed.wait(lock, [&] { return w->ready || !w->thread.joinable(); });
        }
        stop();
        throw;
    }
    std::string failure;
    for (auto& w : workers_) {
        std::unique_lock lock(w->mutex);
        w->changed.wait(lock, [&] { return w->ready; });
        if (failure.empty()) failure = w->failure;
    }
    if (!failure.empty()) {
        stop();
        throw std::runtime_error(failure);
    }
}

ScanPool::~ScanPool() {
    stop();
}

void ScanPool::stop() {
    for (auto& w : workers_) {
        std::lock_guard lock(w->mutex);
        stopping_ = true;
        w->changed.notify_all();
    }
    for (auto& w : workers_)
        if (w->thread.joinable()) w->thread.join();
}

void ScanPool::push(Item item) {
    Worker& w = *workers_[current_];
    std::unique_lock lock(w.mutex);
    w.changed.wait(lock, [&] { return w.queue.size() < kQueueLimit; });
    if (item.kind == Item::Begin) ++w.pending_files;
    w.queue.push_back(std::move(item));
    w.changed.notify_all();
}

void ScanPool::begin_file(const FileEntry* file, std::uint64_t ordinal) {
    current_ = next_;
    next_ = (next_ + 1) % workers_.size();
    push({Item::Begin, file, ordinal, {}, false, {}});
}

void ScanPool::add_chunk(std::vector<std::byte> bytes) {
    push({Item::Chunk, nullptr, 0, std::move(bytes), false, {}});
}

void ScanPool::end_file(bool complete, std::string error) {
    push({Item::End, nullptr, 0, {}, complete, std::move(error)});
}

void ScanPool::drain() {
    for (auto& w : workers_) {
        std::unique_lock lock(w->mutex);
        w->changed.wait(lock, [&] { return w->pending_files == 0; });
    }
}

void ScanPool::run(Worker& w, const std::vector<ScannerFactory>& factories) {
    // Scanners are made on the worker's own thread (libmagic and YARA want that).
    std::vector<std::unique_ptr<Scanner>> scanners;
    std::string failure;
    try {
        for (const auto& make : factories)
            scanners.push_back(make());
    } catch (const std::exception& e) {
        failure = std::string("a scanner cannot start: ") + e.what();
    }
    {
        std::lock_guard lock(w.mutex);
        w.ready = true;
        w.failure = failure;
        w.changed.notify_all();
    }
    if (!failure.empty()) return;
    const FileEntry* file = nullptr;
    std::uint64_t ordinal = 0;
    for (;;) {
        Item item;
        {
            std::unique_lock lock(w.mutex);
            w.changed.wait(lock, [&] { return stopping_ || !w.queue.empty(); });
            if (w.queue.empty()) return;  // stopping and nothing left
            item = std::move(w.queue.front());
            w.queue.pop_front();
            w.changed.notify_all();
        }
        switch (item.kind) {
            case Item::Begin:
                file = item.file;
                ordinal = item.ordinal;
                for (auto& s : scanners)
                    s->begin(*file);
                break;
            case Item::Chunk:
                for (auto& s : scanners)
                    s->update(item.bytes);
                break;
            case Item::End: {
                ContentResult result;
                for (auto& s : scanners)
                    s->finish(result.findings);
                result.content_read = item.complete;
                result.content_error = std::move(item.error);
                done_(ordinal, std::move(result));
                std::lock_guard lock(w.mutex);
                --w.pending_files;
                w.changed.notify_all();
                break;
            }
        }
    }
}

}  // namespace exhibit::triage_detail
