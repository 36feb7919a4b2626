// Parser isolation: runs code that parses evidence (The Sleuth Kit) in a child process,
// so a crash, a hang or a runaway allocation costs one task, never the process that owns
// the case database and the custody log.
//
//   auto worker = WalkWorker::start(source, limits, [&](WorkerSide& side) {
//       ... parse side.source(), side.send(MessageType::Entry, bytes) ...
//   });
//   while (auto frame = (*worker)->next(cancel)) { ... }   // nullopt: the worker ended
//   (*worker)->outcome();   // how it ended, in words
//
// Promises
// - The worker reads plain files and block devices (Source::read_descriptors) itself,
//   with pread on the source's read-only descriptors, which it inherits; every other
//   source (E01, usb:, fault wrappers) only through the supervisor: its Source forwards
//   each read over the socket and the supervisor serves it from the real Source. The
//   worker keeps no other file descriptor (everything but stderr, its socket and those
//   read-only descriptors is closed).
// - `prepare` (optional) runs in the worker before the sandbox goes on, with the files
//   and threads it needs (libmagic's database, scanner threads): whatever it starts is
//   sandboxed with the rest (the filter is synchronised onto every thread).
// - Sandbox: seccomp allows only memory management, time, signals for its own death and
//   I/O on what it holds (its socket, stderr, pipes it makes); no open, no network, no
//   exec, no fork.
//   RLIMIT_FSIZE 0 and RLIMIT_CORE 0; RLIMIT_AS caps its memory (not under AddressSanitizer,
//   whose shadow memory needs the address space; the supervisor's RSS watchdog still
//   applies). It dies with the supervisor (PR_SET_PDEATHSIG).
// - Watchdog: a worker that sends nothing for `stall` (reads count as activity), or whose
//   resident memory passes `memory`, is killed with SIGKILL and outcome() says why.
// - The supervisor never trusts a frame: unknown types, oversized payloads and read
//   requests beyond kMaxReadRequest end the worker as misbehaving.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "exhibit/source.hpp"
#include "triage/walk_messages.hpp"

namespace exhibit::triage_detail {

struct WorkerLimits {
    std::uint64_t memory = 2ull << 30;
    std::chrono::milliseconds stall{std::chrono::minutes(2)};
};

// The worker's end: its view of the source and its way to report.
class WorkerSide {
  public:
    virtual ~WorkerSide() = default;
    virtual Source& source() = 0;
    // Sends one frame, after any held ones; a lost supervisor ends the worker.
    virtual void send(MessageType type, std::span<const std::byte> payload) = 0;
    // Holds a frame back, to go with the next send() in one write (or when the task
    // ends): for a frame that something else always follows soon, and that may wait for
    // it, such as a file's end (its findings or the next file's begin follow). Never for a
    // frame that must be out before the worker does something risky (a file's begin, a
    // listing entry), nor for one nothing may follow for long (a file's findings).
    virtual void send_later(MessageType type, std::span<const std::byte> payload) = 0;
    // Sends whatever is held now: before waiting for anything that may take long.
    virtual void flush() = 0;
    // The supervisor's cancel, as of now.
    virtual bool cancelled() const = 0;
};

class WalkWorker {
  public:
    using Body = std::function<void(WorkerSide&)>;
    using Prepare = std::function<void()>;
    // Forks the worker, which runs `prepare` (when given), enters its sandbox, runs `body`
    // and exits. Reads it asks for are served from `source` while next() runs.
    static Expected<std::unique_ptr<WalkWorker>> start(Source& source, const WorkerLimits& limits,
                                                       const Body& body,
                                                       const Prepare& prepare = {});
    ~WalkWorker();  // kills the worker if it still runs, and reaps it
    WalkWorker(const WalkWorker&) = delete;
    WalkWorker& operator=(const WalkWorker&) = delete;

    // The next frame the worker sends (read requests are served on the way), or nullopt
    // once it has ended (then outcome() tells how). The operator's cancel is passed on.
    std::optional<Frame> next(const std::atomic<bool>& cancel);
    // True when the worker exited by itself with status 0.
    bool ended_cleanly() const { return ended_ && clean_; }
    // How it ended: "exited normally", "was killed by signal 11 (Segmentation fault)",
    // "was stopped after 120 s without progress", ...
    const std::string& outcome() const { return outcome_; }
    // Ends it now (SIGKILL) with `why` as its outcome.
    void kill(const std::string& why);

  private:
    WalkWorker(Source& source, const WorkerLimits& limits) : source_(source), limits_(limits) {}
    static Expected<std::unique_ptr<WalkWorker>> start_once(Source& source,
                                                            const WorkerLimits& limits,
                                                            const Body& body,
                                                            const Prepare& prepare);
    bool await_ready();  // sanitizer builds: the worker's Ready frame within 10 s
    bool serve_read(const Frame& frame);
    void reap();
    void finish(int status);
    std::uint64_t resident_bytes() const;

    Source& source_;
    WorkerLimits limits_;
    pid_t pid_ = -1;
    int socket_ = -1;
    struct Shared;
    Shared* shared_ = nullptr;  // one shared page: the cancel flag
    // Frames as received: [begin_, end_) is not yet handed out.
    static constexpr std::size_t kReceive = 1u << 20;
    static constexpr std::size_t kBufferSize = kFrameHeader + kMaxPayload + kReceive;
    std::unique_ptr<std::byte[]> buffer_;
    std::size_t begin_ = 0, end_ = 0;
    std::uint64_t resident_at_start_ = 0;
    std::chrono::steady_clock::time_point memory_checked_{};            // the watchdog's last look
    std::optional<std::chrono::steady_clock::time_point> cancel_sent_;  // passed on to it
    bool eof_ = false, ended_ = false, clean_ = false;
    std::string outcome_, kill_reason_;
};

}  // namespace exhibit::triage_detail
