#include "acquire/block_ring.hpp"

#include <algorithm>
#include <cstdlib>
#include <new>

namespace exhibit::acquire_detail {

void BlockRing::FreeDeleter::operator()(std::byte* p) const {
    std::free(p);
}

BlockRing::BlockRing(std::size_t slots, std::size_t block_size, int consumers)
    : slots_(slots), consumed_(static_cast<std::size_t>(consumers), 0) {
    for (std::size_t i = 0; i < slots; ++i) {
        // Page-aligned so the buffers also suit O_DIRECT reads from devices.
        void* p = std::aligned_alloc(4096, (block_size + 4095) / 4096 * 4096);
        if (!p) throw std::bad_alloc();
        memory_.emplace_back(static_cast<std::byte*>(p));
        blocks_.push_back(Block{0, 0, memory_.back().get()});
    }
}

Block* BlockRing::claim() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] {
        if (aborted_) return true;
        auto slowest = *std::min_element(consumed_.begin(), consumed_.end());
        return produced_ - slowest < slots_;
    });
    if (aborted_) return nullptr;
    return &blocks_[produced_ % slots_];
}

void BlockRing::publish() {
    {
        std::lock_guard lock(mutex_);
        ++produced_;
    }
    changed_.notify_all();
}

void BlockRing::close() {
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
    }
    changed_.notify_all();
}

const Block* BlockRing::next(int k) {
    std::unique_lock lock(mutex_);
    auto& mine = consumed_[static_cast<std::size_t>(k)];
    changed_.wait(lock, [&] { return aborted_ || mine < produced_ || closed_; });
    if (aborted_ || mine >= produced_) return nullptr;
    return &blocks_[mine % slots_];
}

void BlockRing::release(int k) {
    {
        std::lock_guard lock(mutex_);
        ++consumed_[static_cast<std::size_t>(k)];
    }
    changed_.notify_all();
}

void BlockRing::abort() {
    {
        std::lock_guard lock(mutex_);
        aborted_ = true;
    }
    changed_.notify_all();
}

bool BlockRing::aborted() const {
    std::lock_guard lock(mutex_);
    return aborted_;
}

}  // namespace exhibit::acquire_detail
