// Worker threads that run the scanners over file content the single reader hands them.
// Each file goes whole to one worker (its bytes in order); queues are bounded, so memory
// stays bounded whatever the file sizes. It runs inside the parser worker (tsk_walk.cpp):
// the constructor returns once every thread has made its scanners (libmagic opens its
// database then), so the sandbox can go on after it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
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

    // Reader side, one file at a time: begin, any number of chunks, end.
    // `file` must stay valid until drain() returns.
    void begin_file(const FileEntry* file, std::uint64_t ordinal);
    void add_chunk(std::vector<std::byte> bytes);
    void end_file(bool complete, std::string error);
    // Waits until every file handed in so far is finished.
    void drain();

  private:
    struct Item {
        enum Kind { Begin, Chunk, End } kind = Begin;
        const FileEntry* file = nullptr;
        std::uint64_t ordinal = 0;
        std::vector<std::byte> bytes;
        bool complete = false;
        std::string error;
    };
    struct Worker {
        std::mutex mutex;
        std::condition_variable changed;
        std::deque<Item> queue;
        std::size_t pending_files = 0;
        bool ready = false;
        std::string failure;  // why its scanners could not be made
        std::thread thread;
    };
    void stop();
    void push(Item item);
    void run(Worker& worker, const std::vector<ScannerFactory>& factories);

    Done done_;
    std::vector<std::unique_ptr<Worker>> workers_;
    std::size_t current_ = 0;
    std::size_t next_ = 0;
    std::atomic<bool> stopping_{false};
    static constexpr std::size_t kQueueLimit = 16;
};

}  // namespace exhibit::triage_detail
