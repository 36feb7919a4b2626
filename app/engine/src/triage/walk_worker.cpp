#include "triage/walk_worker.hpp"

#include <fcntl.h>
#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <new>
#include <optional>

#include "sandbox/process_sandbox.hpp"

namespace exhibit::triage_detail {

struct WalkWorker::Shared {
    std::atomic<bool> cancel{false};
};

namespace {

constexpr int kWorkerSocket = 3;  // where the socket sits in the worker

using sandbox::kExitFailed;
using sandbox::kExitLostSupervisor;
using sandbox::kExitNoSandbox;
using sandbox::kExitOutOfMemory;

bool send_all(int fd, const std::byte* data, std::size_t size) {
    while (size > 0) {
        ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

bool recv_all(int fd, std::byte* data, std::size_t size) {
    while (size > 0) {
        ssize_t n = ::recv(fd, data, size, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

// The source as the worker reads it itself: the supervisor's read-only descriptors, moved
// to fixed numbers, read with pread and failing as the supervisor's Source would.
class DescriptorSource final : public Source {
  public:
    DescriptorSource(SourceInfo info, std::vector<Source::Descriptor> parts)
        : info_(std::move(info)), parts_(std::move(parts)) {}
    const SourceInfo& info() const override { return info_; }

    Expected<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> buffer) override {
        if (offset >= info_.size || buffer.empty()) return std::size_t{0};
        const std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), info_.size - offset));
        auto it = std::upper_bound(
            parts_.begin(), parts_.end(), offset,
            [](std::uint64_t off, const Source::Descriptor& d) { return off < d.start; });
        const Source::Descriptor& part = *std::prev(it);
        const std::uint64_t within = offset - part.start;
        const std::size_t chunk =
            static_cast<std::size_t>(std::min<std::uint64_t>(want, part.size - within));
        ssize_t n;
        do {
            n = ::pread(part.fd, buffer.data(), chunk, static_cast<off_t>(within));
        } while (n < 0 && errno == EINTR);
        if (n < 0) {
            return errno_error(
                part.device
                    ? "cannot read device " + info_.path + " at offset " + std::to_string(offset)
                    : "cannot read " + part.path + " at offset " + std::to_string(within),
                errno);
        }
        if (n == 0) {
            return make_error(
                ErrorKind::SourceChanged,
                part.device
                    ? "device " + info_.path + " ended at offset " + std::to_string(offset) +
                          " though it reported " + std::to_string(info_.size) + " bytes"
                    : part.path + " ended at offset " + std::to_string(within) + " but was " +
                          std::to_string(part.size) + " bytes when it was opened");
        }
        return static_cast<std::size_t>(n);
    }

  private:
    SourceInfo info_;
    std::vector<Source::Descriptor> parts_;
};

// The worker's end of the socket: frames out, read replies in.
class ChildSide final : public WorkerSide, public Source {
  public:
    ChildSide(SourceInfo info, std::vector<Source::Descriptor> direct,
              const std::atomic<bool>& cancel)
        : info_(info), cancel_(cancel) {
        if (!direct.empty()) direct_.emplace(std::move(info), std::move(direct));
    }

    Source& source() override {
        if (direct_) return *direct_;
        return *this;
    }
    bool cancelled() const override { return cancel_.load(std::memory_order_relaxed); }

    void send(MessageType type, std::span<const std::byte> payload) override {
        std::lock_guard lock(send_mutex_);  // scanner threads report too
        // Small frames (all but content) go in one piece with the held ones: one system
        // call for them all.
        if (held_.size() + kFrameHeader + payload.size() <= kHoldLimit) {
            hold(type, payload);
            flush_held();
            return;
        }
        flush_held();
        send_now(type, payload);
    }

    void send_later(MessageType type, std::span<const std::byte> payload) override {
        std::lock_guard lock(send_mutex_);
        if (held_.size() + kFrameHeader + payload.size() > kHoldLimit) flush_held();
        if (kFrameHeader + payload.size() > kHoldLimit) {  // too big to hold
            send_now(type, payload);
            return;
        }
        hold(type, payload);
    }

    void flush() override {
        std::lock_guard lock(send_mutex_);
        flush_held();
    }

    const SourceInfo& info() const override { return info_; }

    Expected<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> buffer) override {
        std::size_t done = 0;
        // The request and its reply in one piece: no other thread's frame in between.
        std::lock_guard lock(read_mutex_);
        while (done < buffer.size()) {
            const std::size_t want = std::min(buffer.size() - done, kMaxReadRequest);
            send(MessageType::Read, encode_read(offset + done, want));
            std::byte reply[kReadReplyHeader];
            if (!recv_all(kWorkerSocket, reply, sizeof reply)) ::_exit(kExitLostSupervisor);
            std::int32_t err = 0;
            std::uint64_t length = 0;
            std::memcpy(&err, reply, 4);
            std::memcpy(&length, reply + 4, 8);
            if (err != 0) {
                std::string message(length, '\0');
                if (!recv_all(kWorkerSocket, reinterpret_cast<std::byte*>(message.data()), length))
                    ::_exit(kExitLostSupervisor);
                return Error{ErrorKind::Io, message, err};
            }
            if (length > want) ::_exit(kExitLostSupervisor);
            if (!recv_all(kWorkerSocket, buffer.data() + done, length))
                ::_exit(kExitLostSupervisor);
            done += length;
            if (length < want) break;  // the end of the source
        }
        return done;
    }

  private:
    static constexpr std::size_t kHoldLimit = 64 * 1024;

    void hold(MessageType type, std::span<const std::byte> payload) {
        const std::size_t at = held_.size();
        held_.resize(at + kFrameHeader + payload.size());
        put_frame_header(held_.data() + at, type, payload.size());
        if (!payload.empty())  // an empty span may hold a null pointer
            std::memcpy(held_.data() + at + kFrameHeader, payload.data(), payload.size());
    }
    void flush_held() {
        if (held_.empty()) return;
        if (!send_all(kWorkerSocket, held_.data(), held_.size())) ::_exit(kExitLostSupervisor);
        held_.clear();
    }
    void send_now(MessageType type, std::span<const std::byte> payload) {
        std::byte header[kFrameHeader];
        put_frame_header(header, type, payload.size());
        if (!send_all(kWorkerSocket, header, kFrameHeader) ||
            !send_all(kWorkerSocket, payload.data(), payload.size())) {
            ::_exit(kExitLostSupervisor);
        }
    }

    SourceInfo info_;
    std::optional<DescriptorSource> direct_;
    const std::atomic<bool>& cancel_;
    std::mutex send_mutex_, read_mutex_;
    std::vector<std::byte> held_;  // whole frames, in order, not yet sent
};

// Address space (field 0) or resident memory (field 1) of a process, in bytes.

// The supervisor's side of a reply: bounded in time, so a worker that stops reading
// cannot hang the supervisor.
bool send_within(int fd, const std::byte* data, std::size_t size, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (size > 0) {
        ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            data += n;
            size -= static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
        if (std::chrono::steady_clock::now() > deadline) return false;
        pollfd p{fd, POLLOUT, 0};
        ::poll(&p, 1, 50);
    }
    return true;
}

[[noreturn]] void run_child(int socket, std::uint64_t memory, const SourceInfo& info,
                            std::vector<Source::Descriptor> direct, const std::atomic<bool>& cancel,
                            const WalkWorker::Body& body, const WalkWorker::Prepare& prepare) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    // Under AddressSanitizer: take every allocator lock once, then say so (a worker
    // forked while another thread held one hangs here and is replaced by a fresh fork).
    if constexpr (sandbox::kAddressSanitizer) {
        sandbox::exercise_allocator();
        std::byte ready[kFrameHeader];
        put_frame_header(ready, MessageType::Ready, 0);
        if (!send_all(socket, ready, sizeof ready)) ::_exit(kExitLostSupervisor);
    }
    ::signal(SIGINT, SIG_IGN);  // the operator's Ctrl-C is for the supervisor
    ::signal(SIGPIPE, SIG_IGN);
    ::signal(SIGXFSZ, SIG_IGN);
    // The source's read-only descriptors go after the socket (out of the way first: one
    // of them may sit where the socket goes).
    for (auto& d : direct) {
        d.fd = ::fcntl(d.fd, F_DUPFD_CLOEXEC, 512);
        if (d.fd < 0) ::_exit(kExitFailed);
    }
    if (socket != kWorkerSocket) {
        if (::dup2(socket, kWorkerSocket) < 0) ::_exit(kExitFailed);
    }
    int next_fd = kWorkerSocket + 1;
    for (auto& d : direct) {
        if (::dup2(d.fd, next_fd) < 0) ::_exit(kExitFailed);
        d.fd = next_fd++;
    }
    // Nothing else of the supervisor's: not the case database, not the output.
    ::close_range(static_cast<unsigned>(next_fd), ~0u, 0);
    ::close(STDIN_FILENO);
    ::close(STDOUT_FILENO);  // the CLI's output (a --json report) is not the worker's
    if (prepare) {
        try {
            prepare();
        } catch (const std::bad_alloc&) {
            ::_exit(kExitOutOfMemory);
        } catch (...) {
            ::_exit(kExitFailed);
        }
    }
    sandbox::limit_resources(memory);
    // pread64: the source's own read-only descriptors, read directly.
    if (!sandbox::enter({SCMP_SYS(pread64)})) ::_exit(kExitNoSandbox);
    try {
        ChildSide side(info, std::move(direct), cancel);
        body(side);
        side.flush();
    } catch (const std::bad_alloc&) {
        ::_exit(kExitOutOfMemory);
    } catch (...) {
        ::_exit(kExitFailed);
    }
    ::_exit(0);
}

}  // namespace

Expected<std::unique_ptr<WalkWorker>> WalkWorker::start(Source& source, const WorkerLimits& limits,
                                                        const Body& body, const Prepare& prepare) {
    if constexpr (!sandbox::kAddressSanitizer) return start_once(source, limits, body, prepare);
    for (int attempt = 1;; ++attempt) {
        auto w = start_once(source, limits, body, prepare);
        if (!w || (*w)->await_ready()) return w;
        (*w)->kill("locked up at its start");
        if (attempt == 5) {
            return make_error(ErrorKind::Internal,
                              "parser workers kept locking up at their start (AddressSanitizer's "
                              "allocator was locked by another thread at each fork)");
        }
    }
}

bool WalkWorker::await_ready() {
    pollfd p{socket_, POLLIN, 0};
    if (::poll(&p, 1, 10000) <= 0) return false;
    std::byte header[kFrameHeader];
    if (::recv(socket_, header, sizeof header, MSG_WAITALL) != static_cast<ssize_t>(sizeof header))
        return false;
    auto h = read_frame_header(header);
    return h && h->first == MessageType::Ready && h->second == 0;
}

Expected<std::unique_ptr<WalkWorker>> WalkWorker::start_once(Source& source,
                                                             const WorkerLimits& limits,
                                                             const Body& body,
                                                             const Prepare& prepare) {
    std::unique_ptr<WalkWorker> w(new WalkWorker(source, limits));
    void* page =
        ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        return make_error(ErrorKind::Internal, "cannot share memory with a parser worker", errno);
    w->shared_ = new (page) Shared;
    w->buffer_ = std::make_unique_for_overwrite<std::byte[]>(kBufferSize);
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
        return make_error(ErrorKind::Internal, "cannot make a socket for a parser worker", errno);
    const int buffer = 4 << 20;
    for (int fd : fds) {
        ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
    }
    const SourceInfo info = source.info();
    std::vector<Source::Descriptor> direct = source.read_descriptors();
    // The worker starts with the supervisor's pages; only what it adds counts.
    w->resident_at_start_ = sandbox::statm_bytes(::getpid(), 1);
    std::fflush(nullptr);  // nothing buffered is written twice
    pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        return make_error(ErrorKind::Internal, "cannot start a parser worker", errno);
    }
    if (pid == 0) {
        ::close(fds[0]);
        run_child(fds[1], limits.memory, info, std::move(direct), w->shared_->cancel, body,
                  prepare);
    }
    ::close(fds[1]);
    w->pid_ = pid;
    w->socket_ = fds[0];
    return w;
}

WalkWorker::~WalkWorker() {
    if (pid_ > 0 && !ended_) {
        ::kill(pid_, SIGKILL);
        reap();
    }
    if (socket_ >= 0) ::close(socket_);
    if (shared_) ::munmap(shared_, sizeof(Shared));
}

void WalkWorker::kill(const std::string& why) {
    if (ended_ || pid_ <= 0) return;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {  // it had already ended by itself
        finish(status);
        return;
    }
    kill_reason_ = why;
    ::kill(pid_, SIGKILL);
    reap();
}

void WalkWorker::reap() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    finish(status);
}

void WalkWorker::finish(int status) {
    ended_ = true;
    clean_ = kill_reason_.empty() && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!kill_reason_.empty()) {
        outcome_ = kill_reason_;
    } else {
        outcome_ = sandbox::describe_exit(status, limits_.memory);
    }
}

std::uint64_t WalkWorker::resident_bytes() const {
    return sandbox::statm_bytes(pid_, 1);
}

bool WalkWorker::serve_read(const Frame& frame) {
    auto request = decode_read(frame.payload);
    if (!request) {
        kill("was stopped for sending a bad read request (" + request.error().message + ")");
        return false;
    }
    std::vector<std::byte> reply(kReadReplyHeader + request->length);
    auto n =
        read_fully(source_, request->offset,
                   {reply.data() + kReadReplyHeader, static_cast<std::size_t>(request->length)});
    std::int32_t err = 0;
    std::uint64_t length = 0;
    if (n) {
        length = *n;
        reply.resize(kReadReplyHeader + length);
    } else {
        err = n.error().sys_errno != 0 ? n.error().sys_errno : EIO;
        const std::string& message = n.error().message;
        length = message.size();
        reply.resize(kReadReplyHeader + length);
        std::memcpy(reply.data() + kReadReplyHeader, message.data(), length);
    }
    std::memcpy(reply.data(), &err, 4);
    std::memcpy(reply.data() + 4, &length, 8);
    if (!send_within(socket_, reply.data(), reply.size(), limits_.stall)) {
        kill("was stopped: it did not take the bytes it asked for");
        return false;
    }
    return true;
}

std::optional<Frame> WalkWorker::next(const std::atomic<bool>& cancel) {
    using Clock = std::chrono::steady_clock;
    auto last_activity = Clock::now();
    for (;;) {
        if (ended_) return std::nullopt;
        // A whole frame buffered?
        const std::span<const std::byte> pending(buffer_.get() + begin_, end_ - begin_);
        if (pending.size() >= kFrameHeader) {
            auto header = read_frame_header(pending);
            if (!header) {
                kill("was stopped for sending garbage (" + header.error().message + ")");
                return std::nullopt;
            }
            if (pending.size() >= kFrameHeader + header->second) {
                Frame frame;
                frame.type = header->first;
                const std::byte* payload = pending.data() + kFrameHeader;
                frame.payload.assign(payload, payload + header->second);
                begin_ += kFrameHeader + header->second;
                if (begin_ == end_) begin_ = end_ = 0;
                if (frame.type != MessageType::Read) return frame;
                if (!serve_read(frame)) return std::nullopt;
                last_activity = Clock::now();
                continue;
            }
        }
        if (eof_) {
            reap();
            return std::nullopt;
        }
        const auto now = Clock::now();
        if (cancel.load(std::memory_order_relaxed) && !cancel_sent_) {
            shared_->cancel.store(true, std::memory_order_relaxed);
            cancel_sent_ = now;
        }
        if (cancel_sent_ && now - *cancel_sent_ > std::chrono::seconds(10)) {
            kill("was stopped 10 s after the operator cancelled");
            return std::nullopt;
        }
        if (now - last_activity > limits_.stall) {
            kill("was stopped after " +
                 std::to_string(
                     std::chrono::duration_cast<std::chrono::seconds>(limits_.stall).count()) +
                 " s without progress");
            return std::nullopt;
        }
        if (now - memory_checked_ > std::chrono::milliseconds(50)) {
            memory_checked_ = now;
            if (resident_bytes() > resident_at_start_ + limits_.memory) {
                kill("was stopped for using more than " + std::to_string(limits_.memory >> 20) +
                     " MiB of memory");
                return std::nullopt;
            }
        }
        pollfd p{socket_, POLLIN, 0};
        const int ready = ::poll(&p, 1, 50);
        if (ready < 0 && errno != EINTR) {
            kill("was stopped: cannot wait for it (" + std::string(std::strerror(errno)) + ")");
            return std::nullopt;
        }
        if (ready <= 0) continue;
        if (kBufferSize - end_ < kReceive) {  // room for the next receive, at the front
            std::memmove(buffer_.get(), buffer_.get() + begin_, end_ - begin_);
            end_ -= begin_;
            begin_ = 0;
        }
        ssize_t n = ::recv(socket_, buffer_.get() + end_, kReceive, 0);
        if (n > 0) end_ += static_cast<std::size_t>(n);
        if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) eof_ = true;
        if (n > 0) last_activity = Clock::now();
    }
}

}  // namespace exhibit::triage_detail
