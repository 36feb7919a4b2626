// Worker threads that run the scanners over file content the single reader hands them.
// Each file goes whole to one worker (its bytes in order), the one with the least queued;
// queues are bounded, so memory stays bounded whatever the file sizes. It runs inside the
// parser worker (tsk_walk.cpp): the constructor returns once every thread has made its
// scanners (libmagic opens its database then), so the sandbox can go on after it.
//
// The reader and the workers wake each other as little as they can: a worker is woken when
// its queue stops being empty, the reader when a full queue has drained to half; a small
// file is one queued item; content buffers are handed back and used again rather than
// allocated (and zeroed) for each read.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "exhibit/file_walk.hpp"

namespace exhibit::triage_detail {

class ScanPool {
  public:
    // `done` is called on the worker thread as each file is finished. Throws
    // std::runtime_error when a scanner cannot be made.
    using Done = std::function<void(std::uint64_t ordinal, ContentResult result)>;
    ScanPool(const std::vector<ScannerFactory>& scanners, unsigned workers, Done done);
    ~ScanPool();
    ScanPool(const ScanPool&) = delete;
    ScanPool& operator=(const ScanPool&) = delete;

    // Bytes of a file's content on their way to a worker: `size` of them are valid.
    struct Chunk {
        std::unique_ptr<std::byte[]> data;
        std::size_t capacity = 0, size = 0;
    };

    // Reader side, one file at a time: begin, any number of chunks, end.
    // `file` must stay valid until drain() returns.
    void begin_file(const FileEntry* file, std::uint64_t ordinal);
    // A buffer of at least `capacity` bytes (uninitialised), for the reader to fill.
    Chunk take_chunk(std::size_t capacity);
    void add_chunk(Chunk chunk);
    void end_file(bool complete, std::string error);
    // True when end_file() would wait for room in the file's worker's queue (the reader is
    // the only one adding to it, so the answer holds until it adds).
    bool end_would_wait();
    // Waits until every file handed in so far is finished.
    void drain();

  private:
    // A file's start, some of its bytes, its end, or all three (a small file is one item:
    // the reader holds each chunk back until it knows whether the file ends with it).
    struct Item {
        bool begins = false;
        const FileEntry* file = nullptr;  // when it begins
        std::uint64_t ordinal = 0;
        ScanPool::Chunk bytes;  // may be empty
        bool ends = false;
        bool complete = false;  // when it ends
        std::string error;
    };
    struct Worker {
        std::mutex mutex;
        std::condition_variable changed;   // ready, an item queued, a file finished
        std::condition_variable has_room;  // the reader's wait for a full queue
        bool reader_waiting = false;
        std::deque<Item> queue;
        std::size_t pending_files = 0;
        bool ready = false;
        std::string failure;  // why its scanners could not be made
        std::thread thread;
    };
    void stop();
    void push(Item item);
    void run(Worker& worker, const std::vector<ScannerFactory>& factories);
    void give_back(Chunk chunk);

    Done done_;
    std::vector<std::unique_ptr<Worker>> workers_;
    std::size_t current_ = 0;  // the worker the current file goes to
    Item held_;                // the reader's next item, not yet queued
    std::atomic<bool> stopping_{false};
    std::mutex spare_mutex_;
    std::vector<Chunk> spare_;  // buffers handed back, at most kSpareLimit
    static constexpr std::size_t kQueueLimit = 16;
    static constexpr std::size_t kSpareLimit = 8;
};

}  // namespace exhibit::triage_detail
