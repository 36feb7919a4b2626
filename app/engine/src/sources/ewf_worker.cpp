// The libewf worker: the only code that lets libewf parse evidence when an E01 is read.
// It runs in a child process (see ewf_worker.hpp for the rules it lives under).
#include <libbfio.h>
#define LIBEWF_HAVE_BFIO 1  // declares libewf_handle_open_file_io_pool
#include <fcntl.h>
#include <libewf.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <new>
#include <nlohmann/json.hpp>
#include <vector>

#include "ewf/ewf_handle.hpp"
#include "sandbox/process_sandbox.hpp"
#include "sources/ewf_worker_protocol.hpp"

namespace exhibit::ewf_worker {

namespace {

constexpr int kSocket = 3;  // where the socket sits in the worker

const char* format_name(uint8_t format) {
    switch (format) {
        case LIBEWF_FORMAT_ENCASE1:
            return "EnCase 1";
        case LIBEWF_FORMAT_ENCASE2:
            return "EnCase 2";
        case LIBEWF_FORMAT_ENCASE3:
            return "EnCase 3";
        case LIBEWF_FORMAT_ENCASE4:
            return "EnCase 4";
        case LIBEWF_FORMAT_ENCASE5:
            return "EnCase 5";
        case LIBEWF_FORMAT_ENCASE6:
            return "EnCase 6";
        case LIBEWF_FORMAT_ENCASE7:
            return "EnCase 7";
        case LIBEWF_FORMAT_SMART:
            return "SMART";
        case LIBEWF_FORMAT_FTK_IMAGER:
            return "FTK Imager";
        case LIBEWF_FORMAT_LINEN5:
            return "linen 5";
        case LIBEWF_FORMAT_LINEN6:
            return "linen 6";
        case LIBEWF_FORMAT_LINEN7:
            return "linen 7";
        case LIBEWF_FORMAT_EWF:
            return "EWF";
        case LIBEWF_FORMAT_EWFX:
            return "EWFX";
        default:
            return "unknown";
    }
}

std::string utf8_header(libewf_handle_t* h, const std::string& id) {
    size_t size = 0;
    if (libewf_handle_get_utf8_header_value_size(h, reinterpret_cast<const uint8_t*>(id.data()),
                                                 id.size(), &size, nullptr) != 1 ||
        size == 0) {
        return {};
    }
    std::string value(size, '\0');
    if (libewf_handle_get_utf8_header_value(h, reinterpret_cast<const uint8_t*>(id.data()),
                                            id.size(), reinterpret_cast<uint8_t*>(value.data()),
                                            size, nullptr) != 1) {
        return {};
    }
    value.resize(value.find('\0') == std::string::npos ? value.size() : value.find('\0'));
    return value;
}

std::string utf8_hash(libewf_handle_t* h, const std::string& id) {
    uint8_t value[128] = {};
    if (libewf_handle_get_utf8_hash_value(h, reinterpret_cast<const uint8_t*>(id.data()), id.size(),
                                          value, sizeof value, nullptr) != 1) {
        return {};
    }
    std::string hex(reinterpret_cast<char*>(value));
    for (char& c : hex)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return hex;
}

EwfMetadata read_metadata(libewf_handle_t* h) {
    EwfMetadata meta;
    uint32_t count = 0;
    if (libewf_handle_get_number_of_header_values(h, &count, nullptr) == 1) {
        for (uint32_t i = 0; i < count; ++i) {
            size_t size = 0;
            if (libewf_handle_get_header_value_identifier_size(h, i, &size, nullptr) != 1) continue;
            std::string id(size, '\0');
            if (libewf_handle_get_header_value_identifier(
                    h, i, reinterpret_cast<uint8_t*>(id.data()), size, nullptr) != 1) {
                continue;
            }
            id.resize(id.find('\0') == std::string::npos ? id.size() : id.find('\0'));
            std::string value = utf8_header(h, id);
            if (!value.empty()) meta.header[id] = value;
        }
    }
    meta.stored_md5 = utf8_hash(h, "MD5");
    meta.stored_sha1 = utf8_hash(h, "SHA1");
    uint8_t format = 0;
    if (libewf_handle_get_format(h, &format, nullptr) == 1) meta.format = format_name(format);
    int8_t level = 0;
    uint8_t flags = 0;
    if (libewf_handle_get_compression_values(h, &level, &flags, nullptr) == 1) {
        meta.compression = level == LIBEWF_COMPRESSION_NONE   ? "none"
                           : level == LIBEWF_COMPRESSION_FAST ? "fast"
                           : level == LIBEWF_COMPRESSION_BEST ? "best"
                                                              : "unknown";
    }
    uint32_t chunk = 0;
    if (libewf_handle_get_chunk_size(h, &chunk, nullptr) == 1) meta.chunk_size = chunk;
    uint32_t errors = 0;
    if (libewf_handle_get_number_of_acquiry_errors(h, &errors, nullptr) == 1) {
        for (uint32_t i = 0; i < errors; ++i) {
            uint64_t start = 0, sectors = 0;
            if (libewf_handle_get_acquiry_error(h, i, &start, &sectors, nullptr) == 1) {
                meta.acquiry_errors.emplace_back(start, sectors);
            }
        }
    }
    return meta;
}

void send_message(Status status, std::uint32_t kind, const std::string& text,
                  std::uint64_t length) {
    std::vector<std::byte> message(sizeof(Reply) + text.size());
    Reply reply;
    reply.status = status;
    reply.kind = kind;
    reply.length = status == Status::Read ? length : text.size();
    std::memcpy(message.data(), &reply, sizeof reply);
    std::memcpy(message.data() + sizeof reply, text.data(), text.size());
    ssize_t n;
    do {
        n = ::send(kSocket, message.data(), message.size(), MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    if (n != static_cast<ssize_t>(message.size())) ::_exit(sandbox::kExitLostSupervisor);
}

[[noreturn]] void fail(ErrorKind kind, const std::string& message) {
    send_message(Status::Failed, static_cast<std::uint32_t>(kind),
                 message.substr(0, kMaxMessage - sizeof(Reply)), 0);
    ::_exit(0);
}

struct PoolDeleter {
    void operator()(libbfio_pool_t* pool) const { libbfio_pool_free(&pool, nullptr); }
};

class Worker {
  public:
    Worker(Shared* shared, std::string path, const EwfWorkerOptions& options)
        : shared_(shared), path_(std::move(path)), options_(options) {}

    // Finds and opens the segment files: before the sandbox, which forbids open.
    void open_segments() {
        char** names = nullptr;
        int count = 0;
        ewf::ErrorSlot error;
        if (libewf_glob(path_.c_str(), path_.size(), LIBEWF_FORMAT_UNKNOWN, &names, &count,
                        error.out()) != 1) {
            fail(ErrorKind::Format,
                 "cannot find the segments of E01 " + path_ + ": " + error.take());
        }
        segments_.assign(names, names + count);
        libewf_glob_free(names, count, nullptr);
        for (const auto& segment : segments_) {
            std::error_code ec;
            segment_bytes_ += std::filesystem::file_size(segment, ec);
        }
        libbfio_pool_t* pool = nullptr;
        if (libbfio_pool_initialize(&pool, 0, LIBBFIO_POOL_UNLIMITED_NUMBER_OF_OPEN_HANDLES,
                                    nullptr) != 1) {
            fail(ErrorKind::Internal, "libewf could not start for E01 " + path_);
        }
        pool_.reset(pool);
        for (const auto& segment : segments_) {
            libbfio_handle_t* file = nullptr;
            if (libbfio_file_initialize(&file, nullptr) != 1 ||
                libbfio_file_set_name(file, segment.c_str(), segment.size(), nullptr) != 1) {
                if (file) libbfio_handle_free(&file, nullptr);
                fail(ErrorKind::Internal, "libewf could not start for E01 " + path_);
            }
            errno = 0;
            if (libbfio_handle_open(file, LIBBFIO_OPEN_READ, nullptr) != 1) {
                const int err = errno;
                libbfio_handle_free(&file, nullptr);
                fail(err == ENOENT ? ErrorKind::NotFound : ErrorKind::Io,
                     "cannot open segment " + segment + " of E01 " + path_ +
                         (err ? std::string(": ") + std::strerror(err) : std::string()));
            }
            int entry = 0;
            // The pool owns the handle from here on.
            if (libbfio_pool_append_handle(pool, &entry, file, LIBBFIO_OPEN_READ, nullptr) != 1) {
                libbfio_handle_free(&file, nullptr);
                fail(ErrorKind::Internal, "libewf could not start for E01 " + path_);
            }
        }
    }

    // Inside the sandbox: libewf parses the segments.
    void open_image() {
        std::string why;
        handle_ = ewf::make_handle(why);
        if (!handle_) fail(ErrorKind::Internal, "libewf could not start: " + why);
        ewf::ErrorSlot error;
        if (libewf_handle_open_file_io_pool(handle_.get(), pool_.get(), LIBEWF_OPEN_READ,
                                            error.out()) != 1) {
            fail(ErrorKind::Format, "cannot open E01 " + path_ + " (" +
                                        std::to_string(segments_.size()) +
                                        " segments): " + error.take());
        }
        if (libewf_handle_segment_files_corrupted(handle_.get(), nullptr) == 1) {
            fail(ErrorKind::Format,
                 "E01 " + path_ + " is truncated or corrupt: its segment files (" +
                     std::to_string(segments_.size()) +
                     ") do not hold a complete image; a segment may be missing or cut short");
        }
        size64_t media_size = 0;
        uint32_t bytes_per_sector = 0;
        if (libewf_handle_get_media_size(handle_.get(), &media_size, error.out()) != 1 ||
            libewf_handle_get_bytes_per_sector(handle_.get(), &bytes_per_sector, error.out()) !=
                1) {
            fail(ErrorKind::Format,
                 "E01 " + path_ + " has no readable media size: " + error.take());
        }
        size_ = media_size;
        const EwfMetadata meta = read_metadata(handle_.get());
        chunk_ = meta.chunk_size > 0 && meta.chunk_size <= kWindow ? meta.chunk_size : 32768;
        // Every chunk costs at least a 4-byte table entry in the segment files, so they can
        // hold no more media than this. A volume section claiming more (its sector count
        // is only checked against the copy in the data section) would have a reader chase,
        // or an imager zero-fill, media that is not there.
        const std::uint64_t chunk_bytes = std::max<std::uint64_t>(meta.chunk_size, 1);
        const std::uint64_t most = (segment_bytes_ / 4 + 1) * chunk_bytes;
        if (media_size > most) {
            fail(ErrorKind::Format, "E01 " + path_ + " is corrupt: it claims " +
                                        std::to_string(media_size) +
                                        " bytes of media, more than its segment files (" +
                                        std::to_string(segment_bytes_) + " bytes) can hold");
        }
        nlohmann::json j;
        j["segments"] = segments_;
        j["size"] = size_;
        j["sector_size"] = bytes_per_sector;
        j["header"] = meta.header;
        j["stored_md5"] = meta.stored_md5;
        j["stored_sha1"] = meta.stored_sha1;
        j["format"] = meta.format;
        j["compression"] = meta.compression;
        j["chunk_size"] = meta.chunk_size;
        j["acquiry_errors"] = meta.acquiry_errors;
        const std::string text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        if (text.size() > kMaxMessage - sizeof(Reply)) {
            fail(ErrorKind::Format, "E01 " + path_ + " carries more metadata than Exhibit reads (" +
                                        std::to_string(text.size()) + " bytes)");
        }
        send_message(Status::Opened, 0, text, 0);
    }

    [[noreturn]] void serve() {
        for (;;) {
            ReadRequest request;
            ssize_t n;
            do {
                n = ::recv(kSocket, &request, sizeof request, 0);
            } while (n < 0 && errno == EINTR);
            if (n == 0) ::_exit(0);  // the client closed the source
            if (n != static_cast<ssize_t>(sizeof request) || request.length > kWindow)
                ::_exit(sandbox::kExitLostSupervisor);
            read(request);
        }
    }

  private:
    // Reads chunk by chunk, publishing each chunk's offset first, so a crash or a hang
    // is pinned to the chunk that caused it.
    void read(const ReadRequest& request) {
        std::uint64_t done = 0;
        while (done < request.length) {
            const std::uint64_t offset = request.offset + done;
            if (offset >= size_) break;
            const std::uint64_t piece =
                std::min({request.length - done, chunk_ - offset % chunk_, size_ - offset});
            shared_->position.store(offset, std::memory_order_relaxed);
            shared_->beats.fetch_add(1, std::memory_order_release);
            if (options_.chunk_test_hook) options_.chunk_test_hook(offset);
            ewf::ErrorSlot error;
            ssize_t n = libewf_handle_read_random(handle_.get(), shared_->window + done, piece,
                                                  static_cast<off64_t>(offset), error.out());
            if (n < 0) {
                send_message(Status::Failed, static_cast<std::uint32_t>(ErrorKind::Format),
                             "cannot read E01 " + path_ + " at offset " + std::to_string(offset) +
                                 ": " + error.take(),
                             0);
                return;
            }
            // libewf hands back a zero-filled chunk when the chunk's checksum fails and
            // only counts it; data we cannot vouch for must be an error, not zeros.
            uint32_t checksum_errors = 0;
            libewf_handle_get_number_of_checksum_errors(handle_.get(), &checksum_errors, nullptr);
            if (checksum_errors > checksum_errors_seen_) {
                checksum_errors_seen_ = checksum_errors;
                send_message(Status::Failed, static_cast<std::uint32_t>(ErrorKind::Format),
                             "E01 " + path_ + " is corrupt: the chunk read at offset " +
                                 std::to_string(offset) + " fails its checksum",
                             0);
                return;
            }
            if (n == 0) break;
            done += static_cast<std::uint64_t>(n);
            if (static_cast<std::uint64_t>(n) < piece) break;
        }
        send_message(Status::Read, 0, {}, done);
    }

    Shared* shared_;
    std::string path_;
    const EwfWorkerOptions& options_;
    std::vector<std::string> segments_;
    std::unique_ptr<libbfio_pool_t, PoolDeleter> pool_;
    ewf::Handle handle_;
    std::uint64_t size_ = 0, chunk_ = 32768;
    std::uint64_t segment_bytes_ = 0;  // the segment files' sizes, added up
    uint32_t checksum_errors_seen_ = 0;
};

}  // namespace

void run_worker(int socket, int window, const std::string& first_segment,
                const EwfWorkerOptions& options) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    sandbox::exercise_allocator();
    ::signal(SIGINT, SIG_IGN);  // the operator's Ctrl-C is for the supervisor
    ::signal(SIGPIPE, SIG_IGN);
    ::signal(SIGXFSZ, SIG_IGN);
    // The socket to 3 (both out of the way first, so that neither lands on the other).
    const int high_socket = ::fcntl(socket, F_DUPFD, 10);
    const int high_window = ::fcntl(window, F_DUPFD, 10);
    if (high_socket < 0 || high_window < 0 || ::dup2(high_socket, kSocket) < 0)
        ::_exit(sandbox::kExitFailed);
    void* page =
        ::mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED, high_window, 0);
    if (page == MAP_FAILED) ::_exit(sandbox::kExitFailed);
    auto* shared = static_cast<Shared*>(page);
    // Nothing of the supervisor's: not the case database, not the output, not a device.
    ::close_range(kSocket + 1, ~0u, 0);
    // stdin and stdout (a --json report) are not the worker's; stderr stays for sanitizers.
    if (int null = ::open("/dev/null", O_RDWR | O_CLOEXEC); null >= 0) {
        ::dup2(null, STDIN_FILENO);
        ::dup2(null, STDOUT_FILENO);
        ::close(null);
    }
    if constexpr (sandbox::kAddressSanitizer) send_message(Status::Ready, 0, {}, 0);
    ::tzset();  // libewf reads header dates as local time; /etc/localtime cannot be opened later
    try {
        Worker worker(shared, first_segment, options);
        worker.open_segments();
        sandbox::limit_resources(options.memory);
        if (!sandbox::enter({SCMP_SYS(lseek), SCMP_SYS(pread64), SCMP_SYS(preadv),
                             SCMP_SYS(recvmsg), SCMP_SYS(sendmsg)}))
            ::_exit(sandbox::kExitNoSandbox);
        worker.open_image();
        worker.serve();
    } catch (const std::bad_alloc&) {
        ::_exit(sandbox::kExitOutOfMemory);
    } catch (...) {
        ::_exit(sandbox::kExitFailed);
    }
}

}  // namespace exhibit::ewf_worker
