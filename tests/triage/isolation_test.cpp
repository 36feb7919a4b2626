// Parser isolation: TSK runs in sandboxed worker processes, and a worker that crashes,
// hangs or eats memory costs only what it was doing. The faults are real: the worker
// process really receives SIGSEGV, really spins, really allocates; the test hook only
// chooses the moment (the file whose content is about to be read).
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "exhibit/file_walk.hpp"
#include "test_support.hpp"

using namespace exhibit;
using namespace exhibit::test;

namespace {

// The ext4 file the faults are aimed at.
constexpr const char* kTarget = "home/bob/Documents/meeting notes.txt";

WalkResult walk_sample(const WalkOptions& options) {
    auto src = open_ok(sample_image());
    JobProgress progress;
    std::atomic<bool> cancel{false};
    auto walk = walk_file_systems(*src, progress, cancel, options);
    INFO((walk ? "" : walk.error().message));
    REQUIRE(walk);
    return std::move(*walk);
}

using Hook = std::function<void(const char* stage, const FileEntry&)>;

WalkOptions with_hook(Hook hook) {
    WalkOptions options;
    options.read_content = true;
    options.workers = 2;
    options.worker_test_hook = std::move(hook);
    return options;
}

const FileEntry* find(const WalkResult& walk, const std::string& fs_type, const std::string& path) {
    for (const auto& f : walk.files) {
        if (walk.file_systems[static_cast<std::size_t>(f.file_system)].type == fs_type &&
            f.path == path && !f.deleted()) {
            return &f;
        }
    }
    return nullptr;
}

// Every live file of the truth but `except` was read and hashes as the truth says.
void check_everything_else_read(const WalkResult& walk, const std::string& except) {
    int checked = 0;
    for (const auto& t : sample_truth()) {
        if (t.deleted || t.path == "/" + except) continue;
        INFO(t.fs << " " << t.path);
        const FileEntry* f = find(walk, t.fs, t.path.substr(1));
        REQUIRE(f);
        CHECK(f->content_read);
        CHECK(f->findings.hashes.sha256 == t.sha256);
        ++checked;
    }
    CHECK(checked > 20);
}

// The walk names the fault against the ext4 partition and the target, whose content is
// marked unread with the same reason; returns that reason.
std::string check_fault_recorded(const WalkResult& walk) {
    const FileEntry* target = find(walk, "ext4", kTarget);
    REQUIRE(target);
    CHECK_FALSE(target->content_read);
    INFO(target->content_error);
    CHECK(target->content_error.find("parser worker") != std::string::npos);
    bool named = false;
    for (const auto& e : walk.errors) {
        UNSCOPED_INFO(e.message);
        named = named || (e.message.find(kTarget) != std::string::npos &&
                          e.message.find("ext4") != std::string::npos && e.volume >= 0);
    }
    CHECK(named);
    return target->content_error;
}

}  // namespace

TEST_CASE("the sample device's truth holds the file the faults aim at", "[isolation][sample]") {
    bool present = false;
    for (const auto& t : sample_truth())
        present = present || (t.fs == "ext4" && t.path == std::string("/") + kTarget && !t.deleted);
    REQUIRE(present);
}

TEST_CASE("a parser worker that crashes on a file costs that file only", "[isolation][sample]") {
    SourceSeal seal({sample_image()});
    auto walk = walk_sample(with_hook([](const char* stage, const FileEntry& f) {
        if (std::strcmp(stage, "reading") == 0 && f.path == kTarget) ::raise(SIGSEGV);
    }));
    check_fault_recorded(walk);
    check_everything_else_read(walk, kTarget);
    CHECK(seal.unchanged());
}

TEST_CASE("a parser worker that hangs is stopped by the watchdog", "[isolation][sample]") {
    SourceSeal seal({sample_image()});
    auto options = with_hook([](const char* stage, const FileEntry& f) {
        if (std::strcmp(stage, "reading") != 0 || f.path != kTarget) return;
        for (std::atomic<unsigned long> spin = 0;; spin.fetch_add(1)) {  // busy, sends nothing
        }
    });
    options.worker_stall = std::chrono::seconds(5);  // listing under a sanitizer and load is slow
    auto started = std::chrono::steady_clock::now();
    auto walk = walk_sample(options);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(60));
    auto reason = check_fault_recorded(walk);
    CHECK(reason.find("without progress") != std::string::npos);
    check_everything_else_read(walk, kTarget);
    CHECK(seal.unchanged());
}

TEST_CASE("a parser worker that allocates without bound is stopped", "[isolation][sample]") {
    SourceSeal seal({sample_image()});
    auto options = with_hook([](const char* stage, const FileEntry& f) {
        if (std::strcmp(stage, "reading") != 0 || f.path != kTarget) return;
        for (;;) {  // touch every page, so it is resident, not just reserved
            auto* block = static_cast<char*>(std::malloc(16u << 20));
            if (!block) throw std::bad_alloc();
            std::memset(block, 0x5a, 16u << 20);
        }
    });
    options.worker_memory = 256ull << 20;
    auto walk = walk_sample(options);
    auto reason = check_fault_recorded(walk);
    // RLIMIT_AS makes malloc fail ("ran out of memory"); under AddressSanitizer the
    // supervisor's watchdog stops it ("using more than").
    CHECK(reason.find("memory") != std::string::npos);
    check_everything_else_read(walk, kTarget);
    CHECK(seal.unchanged());
}

TEST_CASE("a parser worker cannot open files, write them or reach the network",
          "[isolation][sample]") {
    SourceSeal seal({sample_image()});
    TempDir dir;
    const std::string planted = (dir / "written-by-worker").string();
    const std::string existing = sample_image().string();
    // Any forbidden thing that succeeds makes the worker crash, which the walk records.
    auto walk = walk_sample(with_hook([planted, existing](const char* stage, const FileEntry& f) {
        if (std::strcmp(stage, "reading") != 0 || f.path != kTarget) return;
        if (::open(planted.c_str(), O_WRONLY | O_CREAT, 0644) >= 0) ::raise(SIGSEGV);
        if (::open(existing.c_str(), O_RDONLY) >= 0) ::raise(SIGSEGV);
        if (::socket(AF_INET, SOCK_STREAM, 0) >= 0) ::raise(SIGSEGV);
        if (::fork() >= 0) ::raise(SIGSEGV);
        // It keeps the source's descriptor (fd 4, the sample is one raw file), read-only:
        // writing through it fails. Every other descriptor of the supervisor's is closed.
        // (fcntl is not allowed in the sandbox: a zero-byte read tells open from closed.)
        char byte = 0;
        if (::read(4, &byte, 0) != 0) ::raise(SIGSEGV);
        if (::pwrite(4, "x", 1, 0) >= 0 || ::write(4, "x", 1) >= 0) ::raise(SIGSEGV);
        for (int fd = 5; fd < 64; ++fd) {
            if (::read(fd, &byte, 0) >= 0 || errno != EBADF) ::raise(SIGSEGV);
        }
    }));
    CHECK(walk.errors.empty());
    for (const auto& e : walk.errors)
        UNSCOPED_INFO(e.message);
    check_everything_else_read(walk, "");
    CHECK_FALSE(fs::exists(planted));
    CHECK(seal.unchanged());
}

TEST_CASE("a worker crash while listing keeps what was listed and reads its content",
          "[isolation][sample]") {
    SourceSeal seal({sample_image()});
    auto walk = walk_sample(with_hook([](const char* stage, const FileEntry& f) {
        if (std::strcmp(stage, "listing") == 0 && f.path == "home/bob/Pictures") ::raise(SIGSEGV);
    }));
    bool named = false;
    for (const auto& e : walk.errors) {
        UNSCOPED_INFO(e.message);
        named = named || (e.message.find("while listing") != std::string::npos &&
                          e.message.find("ext4") != std::string::npos);
    }
    CHECK(named);
    // Listed before the crash (TSK lists a directory before descending): read and hashed.
    const FileEntry* before = find(walk, "ext4", "home/bob/.bash_history");
    REQUIRE(before);
    CHECK(before->content_read);
    // Never listed: absent, and the other file systems are whole.
    CHECK_FALSE(find(walk, "ext4", "home/bob/Pictures/screenshot.jpg"));
    const FileEntry* fat = find(walk, "fat32", "README.TXT");
    REQUIRE(fat);
    CHECK(fat->content_read);
    CHECK(seal.unchanged());
}

TEST_CASE("a worker that crashes on every file: restarts run out, the rest is marked unread",
          "[isolation][sample]") {
    SourceSeal seal({sample_image()});
    auto walk = walk_sample(with_hook([](const char* stage, const FileEntry& f) {
        if (std::strcmp(stage, "reading") == 0 && f.path.starts_with("home/")) ::raise(SIGSEGV);
    }));
    int ext4_unread = 0, ext4_files = 0;
    for (const auto& f : walk.files) {
        if (walk.file_systems[static_cast<std::size_t>(f.file_system)].type != "ext4") continue;
        if (!f.path.starts_with("home/") || f.meta_type != 'r' || f.deleted()) continue;
        ++ext4_files;
        if (!f.content_read) {
            ++ext4_unread;
            INFO(f.path << ": " << f.content_error);
            CHECK(f.content_error.find("parser worker") != std::string::npos);
        }
    }
    CHECK(ext4_files > 4);
    CHECK(ext4_unread == ext4_files);
    const FileEntry* fat = find(walk, "fat32", "README.TXT");
    REQUIRE(fat);
    CHECK(fat->content_read);
    CHECK(seal.unchanged());
}

TEST_CASE("a cancel reaches a worker stuck in a file: it is stopped and the walk ends",
          "[isolation][cancel][sample]") {
    SourceSeal seal({sample_image()});
    auto options = with_hook([](const char* stage, const FileEntry& f) {
        if (std::strcmp(stage, "reading") != 0 || f.path != kTarget) return;
        for (std::atomic<unsigned long> spin = 0;; spin.fetch_add(1)) {  // deaf to the cancel
        }
    });
    options.worker_stall = std::chrono::minutes(10);  // only the cancel may end it
    auto src = open_ok(sample_image());
    JobProgress progress;
    std::atomic<bool> cancel{false};
    std::thread canceller([&] {
        // Once the ext4 file system is being read, give the worker time to reach the file.
        while (!cancel) {
            auto snap = progress.snapshot();
            if (std::strcmp(snap.file_system, "ext4") == 0 &&
                std::strcmp(snap.stage, "reading") == 0) {
                std::this_thread::sleep_for(std::chrono::seconds(2));
                cancel = true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
    });
    auto started = std::chrono::steady_clock::now();
    auto walk = walk_file_systems(*src, progress, cancel, options);
    canceller.join();
    REQUIRE_FALSE(walk);
    CHECK(walk.error().kind == ErrorKind::Cancelled);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(90));
    CHECK(seal.unchanged());
}
