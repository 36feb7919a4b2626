// E01/Ex01 (and split E01): the supervisor's side. libewf itself runs only in the worker
// process (ewf_worker.cpp); this Source asks it for metadata and ranges and watches it.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <vector>

#include "exhibit/source.hpp"
#include "sandbox/process_sandbox.hpp"
#include "sources/ewf_worker.hpp"
#include "sources/ewf_worker_protocol.hpp"

namespace exhibit {

namespace fs = std::filesystem;
using ewf_worker::kMaxMessage;
using ewf_worker::kWindow;
using ewf_worker::Reply;
using ewf_worker::Shared;

namespace {

using Clock = std::chrono::steady_clock;

// The metadata a worker reported, checked field by field.
Expected<SourceInfo> parse_metadata(const std::string& text, const std::string& path) {
    auto bad = [&](const std::string& what) {
        return make_error(ErrorKind::Internal, "libewf's worker for E01 " + path +
                                                   " sent malformed metadata (" + what + ")");
    };
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
    auto string_field = [&](const char* key, std::string& out) {
        auto it = j.find(key);
        if (it == j.end() || !it->is_string()) return false;
        out = it->get<std::string>();
        return true;
    };
    auto number_field = [&](const char* key, std::uint64_t& out) {
        auto it = j.find(key);
        if (it == j.end() || !it->is_number_unsigned()) return false;
        out = it->get<std::uint64_t>();
        return true;
    };
    SourceInfo info;
    info.kind = SourceKind::Ewf;
    info.path = path;
    auto segments = j.find("segments");
    if (segments == j.end() || !segments->is_array() || segments->empty()) return bad("segments");
    for (const auto& s : *segments) {
        if (!s.is_string()) return bad("segments");
        info.segments.push_back(s.get<std::string>());
    }
    std::uint64_t sector = 0;
    if (!number_field("size", info.size) || !number_field("sector_size", sector) ||
        sector > (1u << 20)) {
        return bad("size");
    }
    info.sector_size = sector ? static_cast<std::uint32_t>(sector) : 512;
    EwfMetadata meta;
    auto header = j.find("header");
    if (header == j.end() || !header->is_object()) return bad("header");
    for (const auto& [key, value] : header->items()) {
        if (!value.is_string()) return bad("header " + key);
        meta.header[key] = value.get<std::string>();
    }
    if (!string_field("stored_md5", meta.stored_md5) ||
        !string_field("stored_sha1", meta.stored_sha1) || !string_field("format", meta.format) ||
        !string_field("compression", meta.compression) ||
        !number_field("chunk_size", meta.chunk_size)) {
        return bad("hashes or format");
    }
    auto errors = j.find("acquiry_errors");
    if (errors == j.end() || !errors->is_array()) return bad("acquiry errors");
    for (const auto& e : *errors) {
        if (!e.is_array() || e.size() != 2 || !e[0].is_number_unsigned() ||
            !e[1].is_number_unsigned()) {
            return bad("acquiry errors");
        }
        meta.acquiry_errors.emplace_back(e[0].get<std::uint64_t>(), e[1].get<std::uint64_t>());
    }
    info.ewf = std::move(meta);
    return info;
}

class EwfClientSource final : public Source {
  public:
    EwfClientSource(std::string path, const EwfWorkerOptions& options)
        : path_(std::move(path)), options_(options) {}

    ~EwfClientSource() override {
        stop_worker();
        if (shared_) ::munmap(shared_, sizeof(Shared));
        if (window_ >= 0) ::close(window_);
    }

    // Starts the first worker and takes the media's identity from it.
    Status open() {
        window_ = ::memfd_create("exhibit-ewf-window", MFD_CLOEXEC);
        if (window_ < 0 || ::ftruncate(window_, sizeof(Shared)) != 0)
            return make_error(ErrorKind::Internal, "cannot share memory with libewf's worker",
                              errno);
        void* page =
            ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED, window_, 0);
        if (page == MAP_FAILED)
            return make_error(ErrorKind::Internal, "cannot share memory with libewf's worker",
                              errno);
        // Not inherited by other children (TSK workers, other E01s' workers): only the
        // worker that maps the memfd itself sees this window.
        ::madvise(page, sizeof(Shared), MADV_DONTFORK);
        shared_ = new (page) Shared;
        auto opened = start_worker();
        if (!opened) return opened.error();
        auto info = parse_metadata(*opened, path_);
        if (!info) {
            stop_worker();
            return info.error();
        }
        info_ = std::move(*info);
        chunk_ = info_.ewf->chunk_size > 0 && info_.ewf->chunk_size <= kWindow
                     ? info_.ewf->chunk_size
                     : 32768;
        return ok();
    }

    const SourceInfo& info() const override { return info_; }

    Expected<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> buffer) override {
        if (offset >= info_.size || buffer.empty()) return std::size_t{0};
        const std::size_t length =
            static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), info_.size - offset));
        // One request at a time: the worker is a single libewf handle.
        std::lock_guard lock(mutex_);
        if (!given_up_.empty()) return make_error(ErrorKind::Format, given_up_);
        if (auto s = check_unreadable(offset, length); !s) return s.error();
        std::size_t done = 0;
        while (done < length) {
            const std::size_t want = std::min(length - done, kWindow);
            auto got = read_window(offset + done, want);
            if (!got) return got.error();
            std::memcpy(buffer.data() + done, shared_->window, *got);
            done += *got;
            if (*got < want) break;
        }
        return done;
    }

  private:
    enum class Ended { No, BySignal, Otherwise };

    Status check_unreadable(std::uint64_t offset, std::size_t length) const {
        auto it = unreadable_.lower_bound(offset / chunk_);
        if (it == unreadable_.end() || *it * chunk_ >= offset + length) return ok();
        return make_error(ErrorKind::Format, "cannot read E01 " + path_ + " at offset " +
                                                 std::to_string(*it * chunk_) +
                                                 ": libewf failed on that chunk before (" +
                                                 reasons_.at(*it) + ")");
    }

    // One window's worth through the worker, restarting it when it is gone.
    Expected<std::size_t> read_window(std::uint64_t offset, std::size_t length) {
        for (int attempt = 0;; ++attempt) {
            // A worker that ended between requests (the thread that started it exited, and
            // PR_SET_PDEATHSIG went with it) is not this read's fault, nor counted: a
            // fresh one is started below.
            if (pid_ > 0) (void)ended_by_itself();
            if (!given_up_.empty()) return make_error(ErrorKind::Format, given_up_);
            if (pid_ <= 0) {
                auto opened = start_worker();
                if (!opened) {
                    note_failure(opened.error().message);
                    return opened.error();
                }
                auto info = parse_metadata(*opened, path_);
                if (!info || info->size != info_.size) {
                    stop_worker();
                    const std::string why = "libewf's worker for E01 " + path_ +
                                            " no longer sees the media it saw at first";
                    note_failure(why);
                    return make_error(ErrorKind::SourceChanged, why);
                }
            }
            ewf_worker::ReadRequest request;
            request.offset = offset;
            request.length = length;
            shared_->position.store(offset, std::memory_order_relaxed);
            if (::send(socket_, &request, sizeof request, MSG_NOSIGNAL) !=
                static_cast<ssize_t>(sizeof request)) {
                kill_worker("stopped taking requests");
                reap();
                note_failure(outcome_);
                continue;
            }
            std::string text;
            auto reply = await(text);
            if (reply) {
                if (reply->status == ewf_worker::Status::Read && reply->length <= length)
                    return static_cast<std::size_t>(reply->length);
                if (reply->status == ewf_worker::Status::Failed) {
                    // libewf answered: the chunk is bad, the worker is fine.
                    return make_error(ErrorKind::Format, text);
                }
                kill_worker("was stopped for a reply that does not fit its request");
                reap();
            }
            // The worker failed while reading: pin it to the chunk it was in.
            std::uint64_t at = shared_->position.load(std::memory_order_relaxed);
            if (at < offset || at >= offset + length) at = offset;
            const std::string what = outcome_;
            if (ended_ == Ended::BySignal && attempt == 0) {
                // Killed from outside (the OOM killer, an operator, or the thread that
                // started it ended) or a crash: try once more before blaming the chunk.
                continue;
            }
            unreadable_.insert(at / chunk_);
            reasons_[at / chunk_] = "its worker " + what;
            note_failure(what);
            return make_error(ErrorKind::Format,
                              "libewf failed on E01 " + path_ + " at offset " + std::to_string(at) +
                                  ": its worker process " + what +
                                  "; that chunk is left unread and the rest is read by a fresh "
                                  "worker");
        }
    }

    void note_failure(const std::string& what) {
        ++failures_;
        if (failures_ >= options_.max_failures && given_up_.empty()) {
            given_up_ = "E01 " + path_ + " is no longer read: libewf's worker failed " +
                        std::to_string(failures_) + " times, last: " + what;
        }
    }

    // Forks a worker and waits for what it says about the media: the metadata's text.
    Expected<std::string> start_worker() {
        for (int attempt = 1;; ++attempt) {
            auto r = start_once();
            if (r || !locked_at_start_) return r;
            if (attempt == 5) {
                return make_error(ErrorKind::Internal,
                                  "libewf's worker kept locking up at its start "
                                  "(AddressSanitizer's allocator was locked at each fork)");
            }
        }
    }

    Expected<std::string> start_once() {
        locked_at_start_ = false;
        int fds[2];
        if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) != 0)
            return make_error(ErrorKind::Internal, "cannot make a socket for libewf's worker",
                              errno);
        const int buffer = 2 << 20;
        for (int fd : fds) {
            ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buffer, sizeof buffer);
            ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
        }
        resident_at_start_ = sandbox::statm_bytes(::getpid(), 1);
        std::fflush(nullptr);  // nothing buffered is written twice
        const pid_t pid = ::fork();
        if (pid < 0) {
            ::close(fds[0]);
            ::close(fds[1]);
            return make_error(ErrorKind::Internal, "cannot start libewf's worker", errno);
        }
        if (pid == 0) {
            ::close(fds[0]);
            ewf_worker::run_worker(fds[1], window_, path_, options_);
        }
        ::close(fds[1]);
        pid_ = pid;
        socket_ = fds[0];
        ended_ = Ended::No;
        outcome_.clear();
        std::string text;
        if constexpr (sandbox::kAddressSanitizer) {
            auto ready = await(text, std::chrono::seconds(10));
            if (!ready || ready->status != ewf_worker::Status::Ready) {
                if (ready) {
                    kill_worker("was stopped for an answer out of turn");
                    reap();
                }
                locked_at_start_ = stalled_;
                return make_error(ErrorKind::Internal,
                                  "libewf's worker for E01 " + path_ + " " + outcome_);
            }
        }
        // Opening parses every segment's tables: allow it more than one chunk's time.
        auto reply = await(
            text, std::max<std::chrono::milliseconds>(options_.stall, std::chrono::minutes(2)));
        if (!reply) {
            return make_error(ErrorKind::Format, "libewf failed opening E01 " + path_ +
                                                     ": its worker process " + outcome_);
        }
        if (reply->status == ewf_worker::Status::Failed) {
            stop_worker();
            const auto kind = reply->kind <= static_cast<std::uint32_t>(ErrorKind::Internal)
                                  ? static_cast<ErrorKind>(reply->kind)
                                  : ErrorKind::Internal;
            return make_error(kind, text);
        }
        if (reply->status != ewf_worker::Status::Opened) {
            kill_worker("was stopped for an answer out of turn");
            reap();
            return make_error(ErrorKind::Internal,
                              "libewf's worker for E01 " + path_ + " " + outcome_);
        }
        return text;
    }

    // The worker's next message, watching it meanwhile. Nullopt when it ended or was
    // stopped (outcome_ says how).
    std::optional<Reply> await(std::string& text,
                               std::optional<std::chrono::milliseconds> limit = std::nullopt) {
        const auto stall = limit.value_or(options_.stall);
        stalled_ = false;
        auto last_activity = Clock::now();
        auto memory_checked = Clock::time_point{};
        std::uint64_t beats = shared_->beats.load(std::memory_order_acquire);
        auto& message = inbox_;
        message.resize(sizeof(Reply) + kMaxMessage);
        for (;;) {
            pollfd p{socket_, POLLIN, 0};
            const int ready = ::poll(&p, 1, 50);
            if (ready > 0) {
                ssize_t n = ::recv(socket_, message.data(), message.size(), MSG_TRUNC);
                if (n < 0 && errno == EINTR) continue;
                if (n <= 0) {  // it closed its end: it has ended
                    reap();
                    return std::nullopt;
                }
                if (static_cast<std::size_t>(n) > message.size() ||
                    static_cast<std::size_t>(n) < sizeof(Reply)) {
                    kill_worker("was stopped for sending a message of " + std::to_string(n) +
                                " bytes");
                    reap();
                    return std::nullopt;
                }
                Reply reply;
                std::memcpy(&reply, message.data(), sizeof reply);
                const std::size_t rest = static_cast<std::size_t>(n) - sizeof reply;
                if (reply.status == ewf_worker::Status::Read ? rest != 0 : reply.length != rest) {
                    kill_worker("was stopped for sending a malformed message");
                    reap();
                    return std::nullopt;
                }
                text.assign(reinterpret_cast<const char*>(message.data()) + sizeof reply, rest);
                return reply;
            }
            if (ready < 0 && errno != EINTR) {
                kill_worker("was stopped: cannot wait for it (" +
                            std::string(std::strerror(errno)) + ")");
                reap();
                return std::nullopt;
            }
            const auto now = Clock::now();
            if (const auto b = shared_->beats.load(std::memory_order_acquire); b != beats) {
                beats = b;
                last_activity = now;
            }
            if (now - last_activity > stall) {
                stalled_ = true;
                kill_worker("was stopped after " +
                            std::to_string(
                                std::chrono::duration_cast<std::chrono::seconds>(stall).count()) +
                            " s without progress");
                reap();
                return std::nullopt;
            }
            if (now - memory_checked > std::chrono::milliseconds(50)) {
                memory_checked = now;
                if (sandbox::statm_bytes(pid_, 1) > resident_at_start_ + options_.memory) {
                    kill_worker("was stopped for using more than " +
                                std::to_string(options_.memory >> 20) + " MiB of memory");
                    reap();
                    return std::nullopt;
                }
            }
        }
    }

    bool ended_by_itself() {
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
        finish(status);
        return true;
    }

    void kill_worker(const std::string& why) {
        if (pid_ <= 0) return;
        kill_reason_ = why;
        ::kill(pid_, SIGKILL);
    }

    void reap() {
        if (pid_ <= 0) return;
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        finish(status);
    }

    void finish(int status) {
        if (!kill_reason_.empty()) {
            outcome_ = kill_reason_;
            ended_ = Ended::Otherwise;
        } else {
            outcome_ = sandbox::describe_exit(status, options_.memory);
            ended_ = WIFSIGNALED(status) ? Ended::BySignal : Ended::Otherwise;
        }
        kill_reason_.clear();
        pid_ = -1;
        if (socket_ >= 0) ::close(socket_);
        socket_ = -1;
    }

    void stop_worker() {
        if (socket_ >= 0) ::shutdown(socket_, SHUT_RDWR);  // it exits when it sees this
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            reap();
        }
    }

    std::string path_;
    EwfWorkerOptions options_;
    SourceInfo info_;
    std::uint64_t chunk_ = 32768;
    std::mutex mutex_;
    int window_ = -1;  // memfd behind shared_
    Shared* shared_ = nullptr;
    pid_t pid_ = -1;
    int socket_ = -1;
    std::uint64_t resident_at_start_ = 0;
    Ended ended_ = Ended::No;
    std::string outcome_, kill_reason_;
    bool locked_at_start_ = false, stalled_ = false;
    std::vector<std::byte> inbox_;
    int failures_ = 0;
    std::set<std::uint64_t> unreadable_;  // chunk numbers libewf failed on
    std::map<std::uint64_t, std::string> reasons_;
    std::string given_up_;
};

}  // namespace

Expected<std::unique_ptr<Source>> open_ewf_isolated(const fs::path& first_segment,
                                                    const EwfWorkerOptions& options) {
    const std::string path = first_segment.string();
    std::error_code ec;
    if (!fs::exists(first_segment, ec)) {
        return make_error(ErrorKind::NotFound, "E01 image " + path + " does not exist");
    }
    auto source = std::make_unique<EwfClientSource>(path, options);
    if (auto s = source->open(); !s) return s.error();
    return std::unique_ptr<Source>(std::move(source));
}

Expected<std::unique_ptr<Source>> open_ewf(const fs::path& first_segment) {
    return open_ewf_isolated(first_segment, {});
}

}  // namespace exhibit
