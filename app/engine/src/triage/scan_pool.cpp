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
        w->has_room.notify_all();
    }
    for (auto& w : workers_)
        if (w->thread.joinable()) w->thread.join();
}

void ScanPool::push(Item item) {
    Worker& w = *workers_[current_];
    std::unique_lock lock(w.mutex);
    if (w.queue.size() >= kQueueLimit) {
        w.reader_waiting = true;
        w.has_room.wait(lock, [&] { return w.queue.size() < kQueueLimit; });
        w.reader_waiting = false;
    }
    if (item.begins) ++w.pending_files;
    w.queue.push_back(std::move(item));
    if (w.queue.size() == 1) w.changed.notify_all();  // it may be waiting for work
}

void ScanPool::begin_file(const FileEntry* file, std::uint64_t ordinal) {
    // The worker with the least queued: taking turns would leave one idle while the reader
    // waits for room in the other's queue behind a large file.
    std::size_t least = SIZE_MAX;
    for (std::size_t i = 0; i < workers_.size(); ++i) {
        std::lock_guard lock(workers_[i]->mutex);
        if (workers_[i]->queue.size() < least) {
            least = workers_[i]->queue.size();
            current_ = i;
        }
    }
    held_ = Item{};
    held_.begins = true;
    held_.file = file;
    held_.ordinal = ordinal;
}

ScanPool::Chunk ScanPool::take_chunk(std::size_t capacity) {
    {
        std::lock_guard lock(spare_mutex_);
        while (!spare_.empty()) {
            Chunk c = std::move(spare_.back());
            spare_.pop_back();
            if (c.capacity >= capacity) {
                c.size = 0;
                return c;
            }
        }
    }
    return Chunk{std::make_unique_for_overwrite<std::byte[]>(capacity), capacity, 0};
}

void ScanPool::give_back(Chunk chunk) {
    std::lock_guard lock(spare_mutex_);
    if (spare_.size() < kSpareLimit) spare_.push_back(std::move(chunk));
}

void ScanPool::add_chunk(Chunk chunk) {
    if (held_.bytes.data) {  // the chunk before is not the last: on its way
        push(std::move(held_));
        held_ = Item{};
    }
    held_.bytes = std::move(chunk);
}

void ScanPool::end_file(bool complete, std::string error) {
    held_.ends = true;
    held_.complete = complete;
    held_.error = std::move(error);
    push(std::move(held_));
    held_ = Item{};
}

bool ScanPool::end_would_wait() {
    Worker& w = *workers_[current_];
    std::lock_guard lock(w.mutex);
    return w.queue.size() >= kQueueLimit;
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
            // The reader, when it waits for room, is woken once half the queue is free.
            if (w.reader_waiting && w.queue.size() <= kQueueLimit / 2) w.has_room.notify_one();
        }
        if (item.begins) {
            file = item.file;
            ordinal = item.ordinal;
            for (auto& sc : scanners)
                sc->begin(*file);
        }
        if (item.bytes.data) {
            for (auto& sc : scanners)
                sc->update(std::span<const std::byte>(item.bytes.data.get(), item.bytes.size));
            give_back(std::move(item.bytes));
        }
        if (item.ends) {
            ContentResult result;
            for (auto& sc : scanners)
                sc->finish(result.findings);
            result.content_read = item.complete;
            result.content_error = std::move(item.error);
            done_(ordinal, std::move(result));
            std::lock_guard lock(w.mutex);
            --w.pending_files;
            w.changed.notify_all();
        }
    }
}

}  // namespace exhibit::triage_detail
