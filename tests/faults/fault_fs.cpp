// exhibit-fault-fs: a FUSE file system for the fault tests. It exposes one image file,
// read-only, and makes the kernel return real I/O errors for chosen byte ranges, the way
// a failing disk does, so the imager and triage meet EIO from read(2) itself rather than
// from our own fault-injection wrapper.
//
//   exhibit-fault-fs --image sample.img --bad 1048576+4096 --bad 3000+100 MOUNTPOINT
//   exhibit-fault-fs --image sample.img --vanish-at 8388608 --vanish-errno ENODEV MOUNTPOINT
//
// --bad OFFSET+LENGTH   any read that touches these bytes fails with EIO (repeatable)
// --vanish-at OFFSET    the first read that reaches OFFSET fails, and so does every read
//                       after it, wherever it is: the device was pulled
// --vanish-after-bytes N  the same once N bytes in all have been served (a pull at a
//                       moment in a sequential read, whatever was sampled before it)
// --vanish-errno NAME   what a vanished device answers: ENODEV (default) or EIO
// --name NAME           the file name under MOUNTPOINT (default: the image's name)
//
// Runs in the foreground until unmounted (fusermount3 -u MOUNTPOINT) or killed; it is
// mounted with auto_unmount, so a killed helper leaves no dead mount behind. Files are
// opened with direct_io: every read(2) reaches us at the offset and length the reader
// asked for, with no page cache or read-ahead widening it, so an error lands on exactly
// the sectors the reader asked for, as on a block device opened with O_DIRECT.
#define FUSE_USE_VERSION 35
#include <fcntl.h>
#include <fuse3/fuse.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Range {
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
};

struct Config {
    std::string image;
    std::string name;
    std::vector<Range> bad;
    bool vanish = false;
    std::uint64_t vanish_at = UINT64_MAX;
    std::uint64_t vanish_after_bytes = UINT64_MAX;
    int vanish_errno = ENODEV;
};

Config g_config;
int g_fd = -1;
std::uint64_t g_size = 0;
std::atomic<bool> g_vanished{false};
std::atomic<std::uint64_t> g_served{0};

bool is_our_file(const char* path) {
    return path[0] == '/' && g_config.name == path + 1;
}

int fs_getattr(const char* path, struct stat* st, fuse_file_info*) {
    std::memset(st, 0, sizeof *st);
    if (std::strcmp(path, "/") == 0) {
        st->st_mode = S_IFDIR | 0555;
        st->st_nlink = 2;
        return 0;
    }
    if (!is_our_file(path)) return -ENOENT;
    if (g_vanished.load()) return -g_config.vanish_errno;
    st->st_mode = S_IFREG | 0444;
    st->st_nlink = 1;
    st->st_size = static_cast<off_t>(g_size);
    return 0;
}

int fs_readdir(const char* path, void* buf, fuse_fill_dir_t fill, off_t, fuse_file_info*,
               fuse_readdir_flags) {
    if (std::strcmp(path, "/") != 0) return -ENOENT;
    fill(buf, ".", nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
    fill(buf, "..", nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
    fill(buf, g_config.name.c_str(), nullptr, 0, static_cast<fuse_fill_dir_flags>(0));
    return 0;
}

int fs_open(const char* path, fuse_file_info* fi) {
    if (!is_our_file(path)) return -ENOENT;
    if ((fi->flags & O_ACCMODE) != O_RDONLY) return -EROFS;
    if (g_vanished.load()) return -g_config.vanish_errno;
    fi->direct_io = 1;
    fi->keep_cache = 0;
    return 0;
}

int fs_read(const char* path, char* buf, size_t size, off_t off, fuse_file_info*) {
    if (!is_our_file(path)) return -ENOENT;
    const auto offset = static_cast<std::uint64_t>(off);
    if (offset >= g_size) return 0;
    const std::uint64_t end = offset + std::min<std::uint64_t>(size, g_size - offset);
    if (g_config.vanish && (g_vanished.load() || end > g_config.vanish_at ||
                            g_served.load() + (end - offset) > g_config.vanish_after_bytes)) {
        g_vanished.store(true);
        return -g_config.vanish_errno;
    }
    for (const auto& r : g_config.bad) {
        if (offset < r.offset + r.length && r.offset < end) return -EIO;
    }
    std::size_t done = 0;
    const std::size_t want = static_cast<std::size_t>(end - offset);
    while (done < want) {
        ssize_t n = ::pread(g_fd, buf + done, want - done, static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -errno;
        if (n == 0) break;
        done += static_cast<std::size_t>(n);
    }
    g_served += done;
    return static_cast<int>(done);
}

void* fs_init(fuse_conn_info*, fuse_config* cfg) {
    // No attribute or entry caching: a vanished file must look vanished at once.
    cfg->attr_timeout = 0;
    cfg->entry_timeout = 0;
    cfg->negative_timeout = 0;
    cfg->direct_io = 1;
    return nullptr;
}

[[noreturn]] void usage(const char* why) {
    std::fprintf(stderr,
                 "exhibit-fault-fs: %s\nusage: exhibit-fault-fs --image FILE [--name NAME] "
                 "[--bad OFFSET+LENGTH]... [--vanish-at OFFSET | --vanish-after-bytes N] "
                 "[--vanish-errno ENODEV|EIO] "
                 "MOUNTPOINT\n",
                 why);
    std::exit(2);
}

std::uint64_t number(const char* text) {
    char* end = nullptr;
    errno = 0;
    unsigned long long v = std::strtoull(text, &end, 0);
    if (errno != 0 || end == text || *end != '\0') usage("not a number");
    return v;
}

}  // namespace

int main(int argc, char** argv) {
    std::string mountpoint;
    for (int i = 1; i < argc; ++i) {
        std::string arg = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) usage(("missing value after " + arg).c_str());
            return argv[++i];
        };
        if (arg == "--image") {
            g_config.image = value();
        } else if (arg == "--name") {
            g_config.name = value();
        } else if (arg == "--bad") {
            std::string r = value();
            auto plus = r.find('+');
            if (plus == std::string::npos) usage("--bad takes OFFSET+LENGTH");
            g_config.bad.push_back(
                {number(r.substr(0, plus).c_str()), number(r.substr(plus + 1).c_str())});
        } else if (arg == "--vanish-at") {
            g_config.vanish = true;
            g_config.vanish_at = number(value());
        } else if (arg == "--vanish-after-bytes") {
            g_config.vanish = true;
            g_config.vanish_after_bytes = number(value());
        } else if (arg == "--vanish-errno") {
            std::string e = value();
            if (e == "ENODEV")
                g_config.vanish_errno = ENODEV;
            else if (e == "EIO")
                g_config.vanish_errno = EIO;
            else
                usage("--vanish-errno takes ENODEV or EIO");
        } else if (!arg.empty() && arg[0] != '-' && mountpoint.empty()) {
            mountpoint = arg;
        } else {
            usage(("unknown argument " + arg).c_str());
        }
    }
    if (g_config.image.empty() || mountpoint.empty()) usage("--image and MOUNTPOINT are needed");
    if (g_config.name.empty()) {
        auto slash = g_config.image.rfind('/');
        g_config.name =
            slash == std::string::npos ? g_config.image : g_config.image.substr(slash + 1);
    }
    g_fd = ::open(g_config.image.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat st {};
    if (g_fd < 0 || ::fstat(g_fd, &st) != 0) {
        std::fprintf(stderr, "exhibit-fault-fs: cannot open %s: %s\n", g_config.image.c_str(),
                     std::strerror(errno));
        return 1;
    }
    g_size = static_cast<std::uint64_t>(st.st_size);

    fuse_operations ops{};
    ops.getattr = fs_getattr;
    ops.readdir = fs_readdir;
    ops.open = fs_open;
    ops.read = fs_read;
    ops.init = fs_init;
    std::string self = argv[0];
    std::string opts = "ro,fsname=exhibit-fault-fs,subtype=exhibit-fault-fs,auto_unmount";
    std::vector<char*> fuse_argv = {
        self.data(), const_cast<char*>("-f"), const_cast<char*>("-s"), const_cast<char*>("-o"),
        opts.data(), mountpoint.data()};
    return fuse_main(static_cast<int>(fuse_argv.size()), fuse_argv.data(), &ops, nullptr);
}
