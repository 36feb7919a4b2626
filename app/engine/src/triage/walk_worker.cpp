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
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define EXHIBIT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EXHIBIT_ASAN 1
#endif
#endif

namespace exhibit::triage_detail {

struct WalkWorker::Shared {
    std::atomic<bool> cancel{false};
};

namespace {

constexpr int kWorkerSocket = 3;  // where the socket sits in the worker

// Worker exit codes the supervisor turns into words.
constexpr int kExitLostSupervisor = 2;
constexpr int kExitOutOfMemory = 3;
constexpr int kExitFailed = 4;
constexpr int kExitNoSandbox = 5;  // the kernel refused the seccomp filter

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

// The worker's end of the socket: frames out, read replies in.
class ChildSide final : public WorkerSide, public Source {
  public:
    ChildSide(SourceInfo info, const std::atomic<bool>& cancel)
        : info_(std::move(info)), cancel_(cancel) {}

    Source& source() override { return *this; }
    bool cancelled() const override { return cancel_.load(std::memory_order_relaxed); }

    void send(MessageType type, std::span<const std::byte> payload) override {
        // Small frames (all but content) go in one piece: one system call each.
        const bool small = payload.size() <= sizeof small_ - kFrameHeader;
        std::byte* header = small ? small_ : large_header_;
        put_frame_header(header, type, payload.size());
        if (small) {
            std::memcpy(small_ + kFrameHeader, payload.data(), payload.size());
            if (!send_all(kWorkerSocket, small_, kFrameHeader + payload.size()))
                ::_exit(kExitLostSupervisor);
            return;
        }
        if (!send_all(kWorkerSocket, header, kFrameHeader) ||
            !send_all(kWorkerSocket, payload.data(), payload.size())) {
            ::_exit(kExitLostSupervisor);
        }
    }

    const SourceInfo& info() const override { return info_; }

    Expected<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> buffer) override {
        std::size_t done = 0;
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
    SourceInfo info_;
    const std::atomic<bool>& cancel_;
    std::byte small_[16384];
    std::byte large_header_[kFrameHeader];
};

// Address space (field 0) or resident memory (field 1) of a process, in bytes.
std::uint64_t statm_bytes(const std::string& pid, int field) {
    std::ifstream statm("/proc/" + pid + "/statm");
    std::uint64_t values[2] = {0, 0};
    statm >> values[0] >> values[1];
    return values[field] * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

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

// Allows only what parsing bytes from the socket needs. Anything else fails with EPERM.
bool enter_sandbox() {
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
    if (!ctx) return false;
    bool ok = true;
    auto allow = [&](int syscall) {
        ok = ok && seccomp_rule_add(ctx, SCMP_ACT_ALLOW, syscall, 0) == 0;
    };
    for (int sc : {SCMP_SYS(brk),
                   SCMP_SYS(mmap),
                   SCMP_SYS(munmap),
                   SCMP_SYS(mremap),
                   SCMP_SYS(mprotect),
                   SCMP_SYS(madvise),
                   SCMP_SYS(futex),
                   SCMP_SYS(exit),
                   SCMP_SYS(exit_group),
                   SCMP_SYS(rt_sigreturn),
                   SCMP_SYS(rt_sigprocmask),
                   SCMP_SYS(rt_sigaction),
                   SCMP_SYS(sigaltstack),
                   SCMP_SYS(getpid),
                   SCMP_SYS(gettid),
                   SCMP_SYS(tgkill),
                   SCMP_SYS(clock_gettime),
                   SCMP_SYS(clock_nanosleep),
                   SCMP_SYS(nanosleep),
                   SCMP_SYS(gettimeofday),
                   SCMP_SYS(getrandom),
                   SCMP_SYS(sched_yield),
                   SCMP_SYS(restart_syscall),
                   SCMP_SYS(fstat),
                   SCMP_SYS(newfstatat)}) {
        allow(sc);
    }
    // I/O on what the worker holds: its socket and stderr (everything else was closed
    // before the filter went on, and it cannot open anything), and pipes it makes itself
    // (the sanitizers probe memory by writing it into one).
    for (int sc : {SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
                   SCMP_SYS(recvfrom), SCMP_SYS(sendto), SCMP_SYS(close), SCMP_SYS(pipe2)}) {
        allow(sc);
    }
    ok = ok && seccomp_load(ctx) == 0;
    seccomp_release(ctx);
    return ok;
}

#ifdef EXHIBIT_ASAN
// The fork copies AddressSanitizer's allocator with whatever locks other threads of the
// supervisor held at that instant (GCC 12's libasan takes none around fork), and such a
// lock is never released in the worker. So, before anything else, the worker takes every
// size class's lock once: it allocates past each class's thread cache (forcing a refill)
// and frees it all (a drain, and the quarantine's lock), plus one large allocation. If a
// lock was held, this hangs, the Ready frame never comes, and the supervisor forks anew.
void exercise_allocator() {
    std::vector<void*> chunks;
    for (std::size_t size = 1; size <= (128u << 10); size += std::max<std::size_t>(8, size / 8)) {
        const std::size_t count = std::clamp<std::size_t>((512u << 10) / size, 4, 320);
        for (std::size_t i = 0; i < count; ++i)
            chunks.push_back(std::malloc(size));
        for (void* p : chunks)
            std::free(p);
        chunks.clear();
    }
    std::free(std::malloc(1u << 20));
}
#endif

[[noreturn]] void run_child(int socket, std::uint64_t memory, const SourceInfo& info,
                            const std::atomic<bool>& cancel, const WalkWorker::Body& body) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
#ifdef EXHIBIT_ASAN
    exercise_allocator();
    std::byte ready[kFrameHeader];
    put_frame_header(ready, MessageType::Ready, 0);
    if (!send_all(socket, ready, sizeof ready)) ::_exit(kExitLostSupervisor);
#endif
    ::signal(SIGINT, SIG_IGN);  // the operator's Ctrl-C is for the supervisor
    ::signal(SIGPIPE, SIG_IGN);
    ::signal(SIGXFSZ, SIG_IGN);
    if (socket != kWorkerSocket) {
        if (::dup2(socket, kWorkerSocket) < 0) ::_exit(kExitFailed);
    }
    // Nothing of the supervisor's: not the case database, not the device, not the output.
    ::close_range(kWorkerSocket + 1, ~0u, 0);
    ::close(STDIN_FILENO);
    ::close(STDOUT_FILENO);  // the CLI's output (a --json report) is not the worker's
    const rlimit none{0, 0};
    ::setrlimit(RLIMIT_CORE, &none);
    ::setrlimit(RLIMIT_FSIZE, &none);
#ifndef EXHIBIT_ASAN
    const std::uint64_t cap = statm_bytes("self", 0) + memory;
    const rlimit as{cap, cap};
    ::setrlimit(RLIMIT_AS, &as);
#else
    (void)memory;
#endif
    if (!enter_sandbox()) ::_exit(kExitNoSandbox);
    try {
        ChildSide side(info, cancel);
        body(side);
    } catch (const std::bad_alloc&) {
        ::_exit(kExitOutOfMemory);
    } catch (...) {
        ::_exit(kExitFailed);
    }
    ::_exit(0);
}

}  // namespace

Expected<std::unique_ptr<WalkWorker>> WalkWorker::start(Source& source, const WorkerLimits& limits,
                                                        const Body& body) {
#ifdef EXHIBIT_ASAN
    for (int attempt = 1;; ++attempt) {
        auto w = start_once(source, limits, body);
        if (!w || (*w)->await_ready()) return w;
        (*w)->kill("locked up at its start");
        if (attempt == 5) {
            return make_error(ErrorKind::Internal,
                              "parser workers kept locking up at their start (AddressSanitizer's "
                              "allocator was locked by another thread at each fork)");
        }
    }
#else
    return start_once(source, limits, body);
#endif
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
                                                             const Body& body) {
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
    // The worker starts with the supervisor's pages; only what it adds counts.
    w->resident_at_start_ = statm_bytes("self", 1);
    std::fflush(nullptr);  // nothing buffered is written twice
    pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        return make_error(ErrorKind::Internal, "cannot start a parser worker", errno);
    }
    if (pid == 0) {
        ::close(fds[0]);
        run_child(fds[1], limits.memory, info, w->shared_->cancel, body);
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
    } else if (WIFSIGNALED(status)) {
        const int sig = WTERMSIG(status);
        outcome_ = "was killed by signal " + std::to_string(sig) + " (" + ::strsignal(sig) + ")";
    } else if (WIFEXITED(status)) {
        switch (WEXITSTATUS(status)) {
            case 0:
                outcome_ = "exited normally";
                break;
            case kExitOutOfMemory:
                outcome_ =
                    "ran out of memory (limit " + std::to_string(limits_.memory >> 20) + " MiB)";
                break;
            case kExitNoSandbox:
                outcome_ =
                    "could not enter its sandbox (the kernel refused the seccomp filter; it "
                    "needs a kernel with CONFIG_SECCOMP_FILTER)";
                break;
            default:
                outcome_ = "failed with exit status " + std::to_string(WEXITSTATUS(status));
        }
    }
}

std::uint64_t WalkWorker::resident_bytes() const {
    return statm_bytes(std::to_string(pid_), 1);
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
