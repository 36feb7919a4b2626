#include "fault_fs_mount.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

#include "test_support.hpp"

namespace exhibit::test {

namespace fs = std::filesystem;

std::string fuse_unavailable() {
    int fd = ::open("/dev/fuse", O_RDWR | O_CLOEXEC);
    if (fd < 0) return std::string("/dev/fuse cannot be opened: ") + std::strerror(errno);
    ::close(fd);
    if (run("command -v fusermount3").exit_code != 0) return "fusermount3 is not installed";
    return {};
}

FaultFsMount::FaultFsMount(const fs::path& image, const FaultFsPlan& plan) {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/exhibit-fuse-XXXXXX";
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    name_ = image.filename().string();

    std::vector<std::string> args = {EXHIBIT_FAULT_FS, "--image", image.string()};
    for (const auto& r : plan.bad) {
        args.push_back("--bad");
        args.push_back(std::to_string(r.offset) + "+" + std::to_string(r.length));
    }
    if (plan.vanish_at) args.insert(args.end(), {"--vanish-at", std::to_string(*plan.vanish_at)});
    if (plan.vanish_after_bytes) {
        args.insert(args.end(), {"--vanish-after-bytes", std::to_string(*plan.vanish_after_bytes)});
    }
    if (plan.vanish_at || plan.vanish_after_bytes) {
        args.insert(args.end(), {"--vanish-errno", plan.vanish_errno});
    }
    args.push_back(dir_.string());
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);

    struct stat parent {};
    ::stat(dir_.c_str(), &parent);
    pid_ = ::fork();
    if (pid_ == 0) {
        ::execv(argv[0], argv.data());
        std::_Exit(127);
    }
    if (pid_ < 0) {
        why_ = "fork failed";
        return;
    }
    // Ready when the image shows up on a file system other than the one the empty
    // mount point lives on.
    for (int i = 0; i < 500; ++i) {
        struct stat st {};
        if (::stat(file().c_str(), &st) == 0 && st.st_dev != parent.st_dev) return;
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            why_ = "exhibit-fault-fs exited with status " + std::to_string(status);
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    why_ = "exhibit-fault-fs did not mount within 5 s";
}

FaultFsMount::~FaultFsMount() {
    if (pid_ > 0) {
        ::umount2(dir_.c_str(), MNT_DETACH);
        // The helper leaves its loop once the kernel drops the connection; make sure.
        for (int i = 0; i < 200; ++i) {
            if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
                pid_ = -1;
                break;
            }
            if (i == 100) ::kill(pid_, SIGTERM);
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    ::rmdir(dir_.c_str());
}

}  // namespace exhibit::test
