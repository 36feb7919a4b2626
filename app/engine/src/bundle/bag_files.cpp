#include "bundle/bag_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <vector>

#include "exhibit/hashing.hpp"

namespace exhibit::bag {

namespace {

constexpr std::size_t kBlock = 1u << 20;

class Fd {
  public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) ::close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }
    int release() {
        int fd = fd_;
        fd_ = -1;
        return fd;
    }

  private:
    int fd_;
};

Status write_all(int fd, const char* data, std::size_t size, const std::string& name) {
    std::size_t done = 0;
    while (done < size) {
        ssize_t n = ::write(fd, data + done, size - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return errno_error("cannot write " + name, n < 0 ? errno : ENOSPC);
        done += static_cast<std::size_t>(n);
    }
    return ok();
}

Status sync_close(Fd& fd, const std::string& name) {
    int err = ::fsync(fd.get()) != 0 ? errno : 0;
    if (::close(fd.release()) != 0 && err == 0) err = errno;
    if (err) return errno_error("cannot write " + name, err);
    return ok();
}

}  // namespace

Expected<std::string> sha256_file(const std::filesystem::path& path, JobProgress* progress,
                                  const std::atomic<bool>* cancel) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return errno_error("cannot read " + path.string(), errno);
    Digest d(HashAlgorithm::Sha256);
    // Not zero-filled: verifying a bag hashes many small tag files, and clearing 1 MiB
    // for each cost more than reading them.
    auto buf = std::make_unique_for_overwrite<std::byte[]>(kBlock);
    for (;;) {
        if (cancel && cancel->load()) return make_error(ErrorKind::Cancelled, "cancelled");
        ssize_t n = ::read(fd.get(), buf.get(), kBlock);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno_error("cannot read " + path.string(), errno);
        if (n == 0) break;
        d.update(std::span(buf.get(), static_cast<std::size_t>(n)));
        if (progress) progress->add_done(static_cast<std::uint64_t>(n));
    }
    return d.finish_hex();
}

Expected<std::string> copy_hashing(const std::filesystem::path& from,
                                   const std::filesystem::path& to, JobProgress& progress,
                                   const std::atomic<bool>& cancel) {
    Fd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
    if (in.get() < 0) return errno_error("cannot read " + from.string(), errno);
    Fd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (out.get() < 0) return errno_error("cannot create " + to.string(), errno);
    Digest d(HashAlgorithm::Sha256);
    std::vector<std::byte> buf(4 * kBlock);
    for (;;) {
        if (cancel.load()) return make_error(ErrorKind::Cancelled, "sealing cancelled");
        ssize_t n = ::read(in.get(), buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno_error("cannot read " + from.string(), errno);
        if (n == 0) break;
        auto bytes = std::span(buf.data(), static_cast<std::size_t>(n));
        d.update(bytes);
        if (auto s = write_all(out.get(), reinterpret_cast<const char*>(bytes.data()), bytes.size(),
                               to.string());
            !s) {
            return s.error();
        }
        progress.add_done(static_cast<std::uint64_t>(n));
    }
    if (auto s = sync_close(out, to.string()); !s) return s.error();
    return d.finish_hex();
}

Status write_file(const std::filesystem::path& path, const std::string& text) {
    Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (fd.get() < 0) return errno_error("cannot create " + path.string(), errno);
    if (auto s = write_all(fd.get(), text.data(), text.size(), path.string()); !s) return s;
    return sync_close(fd, path.string());
}

Status sync_directory(const std::filesystem::path& dir) {
    Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0) return errno_error("cannot open directory " + dir.string(), errno);
    if (::fsync(fd.get()) != 0) return errno_error("cannot sync directory " + dir.string(), errno);
    return ok();
}

Expected<std::string> read_text(const std::filesystem::path& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return errno_error("cannot read " + path.string(), errno);
    std::string text;
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd.get(), buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return errno_error("cannot read " + path.string(), errno);
        if (n == 0) break;
        text.append(buf, static_cast<std::size_t>(n));
    }
    return text;
}

}  // namespace exhibit::bag
