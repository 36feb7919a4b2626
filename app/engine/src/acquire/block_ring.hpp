// A fixed ring of large buffers between one reader and several consumers (hash
// workers, the image writer). Each block is read once; every consumer sees every block
// in order; a slot is refilled only after all consumers have released it.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

namespace exhibit::acquire_detail {

struct Block {
    std::uint64_t offset = 0;
    std::size_t length = 0;
    std::byte* data = nullptr;
    std::span<const std::byte> bytes() const { return {data, length}; }
};

class BlockRing {
  public:
    BlockRing(std::size_t slots, std::size_t block_size, int consumers);

    // Producer: the next slot to fill, waiting for consumers to free it. nullptr once
    // aborted.
    Block* claim();
    // Producer: hands the claimed slot (with offset and length set) to the consumers.
    void publish();
    // Producer: no more blocks.
    void close();

    // Consumer `k`: the next block, or nullptr at the end or after abort.
    const Block* next(int k);
    // Consumer `k`: done with the block `next` returned.
    void release(int k);

    // Anyone: stop everything (an error or a cancel); waiting calls return nullptr.
    void abort();
    bool aborted() const;

  private:
    std::size_t slots_;
    struct FreeDeleter {
        void operator()(std::byte* p) const;
    };
    std::vector<std::unique_ptr<std::byte, FreeDeleter>> memory_;
    std::vector<Block> blocks_;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::uint64_t produced_ = 0;
    std::vector<std::uint64_t> consumed_;
    bool closed_ = false;
    bool aborted_ = false;
};

}  // namespace exhibit::acquire_detail
