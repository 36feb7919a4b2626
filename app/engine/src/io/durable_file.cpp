#include "io/durable_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace exhibit::io {

Fd::~Fd() {
    if (fd_ >= 0) ::close(fd_);
}

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

Status write_new_file(const std::filesystem::path& path, const std::string& text, mode_t mode) {
    const std::string name = path.string();
    Fd fd(::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
    if (fd.get() < 0) return errno_error("cannot create " + name, errno);
    if (::fchmod(fd.get(), mode) != 0) {  // the umask must not widen or narrow the mode
        Error e = errno_error("cannot set the mode of " + name, errno);
        ::unlink(name.c_str());
        return e;
    }
    if (auto s = write_all(fd.get(), text.data(), text.size(), name); !s) {
        ::unlink(name.c_str());
        return s;
    }
    return sync_close(fd, name);
}

Status replace_file(const std::filesystem::path& path, const std::string& text) {
    const std::string name = path.string();
    const std::string temp = name + ".tmp";
    Fd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (fd.get() < 0) return errno_error("cannot write " + temp, errno);
    Status written = write_all(fd.get(), text.data(), text.size(), name);
    if (written && ::fdatasync(fd.get()) != 0) written = errno_error("cannot store " + name, errno);
    ::close(fd.release());
    if (written && ::rename(temp.c_str(), name.c_str()) != 0)
        written = errno_error("cannot store " + name, errno);
    if (!written) {
        ::unlink(temp.c_str());
        return written;
    }
    // The rename itself reaches the disk only with its directory; a directory that cannot
    // be synced (some file systems refuse) leaves the file whole, so it is not an error.
    (void)sync_directory(path.has_parent_path() ? path.parent_path() : ".");
    return ok();
}

Status sync_directory(const std::filesystem::path& dir) {
    Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0) return errno_error("cannot open directory " + dir.string(), errno);
    if (::fsync(fd.get()) != 0) return errno_error("cannot sync directory " + dir.string(), errno);
    return ok();
}

Status check_regular_file(const std::filesystem::path& path, const std::string& what) {
    std::error_code ec;
    auto st = std::filesystem::status(path, ec);
    if (!std::filesystem::exists(st))
        return make_error(ErrorKind::NotFound, what + " " + path.string() + " does not exist");
    if (!std::filesystem::is_regular_file(st)) {
        return make_error(ErrorKind::InvalidArgument,
                          what + " " + path.string() + " is not a regular file");
    }
    return ok();
}

Expected<int> open_regular_file(const std::filesystem::path& path) {
    Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
    if (fd.get() < 0) return errno_error("cannot read " + path.string(), errno);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return errno_error("cannot read " + path.string(), errno);
    if (!S_ISREG(st.st_mode)) {
        return make_error(ErrorKind::InvalidArgument,
                          "cannot read " + path.string() + ": it is not a regular file");
    }
    int flags = ::fcntl(fd.get(), F_GETFL);
    if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK) != 0)
        return errno_error("cannot read " + path.string(), errno);
    return fd.release();
}

Expected<std::string> read_text(const std::filesystem::path& path) {
    auto opened = open_regular_file(path);
    if (!opened) return opened.error();
    Fd fd(*opened);
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

}  // namespace exhibit::io
