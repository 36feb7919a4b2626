#include "bundle/bag_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <vector>

#include "exhibit/hashing.hpp"
#include "io/durable_file.hpp"

namespace exhibit::bag {

using io::Fd;
using io::sync_close;
using io::write_all;

namespace {

constexpr std::size_t kBlock = 1u << 20;

}  // namespace

Expected<std::string> sha256_file(const std::filesystem::path& path, JobProgress* progress,
                                  const std::atomic<bool>* cancel) {
    auto opened = io::open_regular_file(path);
    if (!opened) return opened.error();
    Fd fd(*opened);
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
    auto opened = io::open_regular_file(from);
    if (!opened) return opened.error();
    Fd in(*opened);
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

}  // namespace exhibit::bag
