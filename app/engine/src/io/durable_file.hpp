// Small files the engine writes so that a crash or power cut leaves them whole or absent:
// acquisition records, checkpoints, keys, the bundle's tag files. Every write loops over
// short writes and EINTR, syncs before it reports success, and names the file on failure.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>

#include "exhibit/error.hpp"

namespace exhibit::io {

// Owns a file descriptor; closes it unless released.
class Fd {
  public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd();
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

// Writes all of `data`; a write that makes no progress is reported as a full drive.
// `name` is the file named in the error.
Status write_all(int fd, const char* data, std::size_t size, const std::string& name);

// fsyncs and closes `fd`, reporting the first failure of either.
Status sync_close(Fd& fd, const std::string& name);

// Creates `path` (never overwriting), writes `text` with exactly `mode` whatever the umask,
// and fsyncs it. A failed write removes the file again.
Status write_new_file(const std::filesystem::path& path, const std::string& text,
                      mode_t mode = 0644);

// Replaces `path` with `text` so that a crash leaves the old or the new file, never a
// torn one: temporary file, fdatasync, rename, fsync of the directory.
Status replace_file(const std::filesystem::path& path, const std::string& text);

// fsyncs a directory, so the names made or renamed in it survive a power cut.
Status sync_directory(const std::filesystem::path& dir);

// For files a person names as input (keyword lists, rule packs): NotFound when `path` does
// not exist, InvalidArgument when it is a directory, FIFO or device (reading a FIFO would
// wait forever). `what` names the file's role in the message, e.g. "keyword list".
Status check_regular_file(const std::filesystem::path& path, const std::string& what);

// Opens an existing regular file for reading. A FIFO, device or directory is refused
// without blocking (a hostile bundle can hold a FIFO where a file should be).
Expected<int> open_regular_file(const std::filesystem::path& path);

// The whole file as bytes (a regular file only, as open_regular_file).
Expected<std::string> read_text(const std::filesystem::path& path);

}  // namespace exhibit::io
