// Parser isolation for E01: libewf runs in a sandboxed worker process. The faults are
// real: the worker really receives SIGSEGV or SIGKILL, really spins, really allocates;
// the test hook only chooses the moment (the chunk about to be read).
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstring>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "exhibit/acquire.hpp"
#include "exhibit/file_walk.hpp"
#include "exhibit/progress.hpp"
#include "sources/ewf_worker.hpp"
#include "test_support.hpp"

using namespace exhibit;
using namespace exhibit::test;

namespace {

constexpr std::uint64_t kSize = 3 * 1024 * 1024;
constexpr std::uint64_t kChunk = 32768;      // ewfacquire's default: 64 sectors
constexpr std::uint64_t kTarget = 1u << 20;  // the chunk the faults are aimed at

// Random media imaged by ewfacquire (uncompressed, split into 1 MiB segments); returns
// the first segment.
fs::path make_e01(const TempDir& dir) {
    write_random_file(dir / "media.raw", kSize, 17);
    auto r =
        run("ewfacquire -u -q -c none -f encase6 -S 1048576 -t " +
                sh_quote((dir / "img").string()) + " " + sh_quote((dir / "media.raw").string()),
            true);
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    REQUIRE(fs::exists(dir / "img.E02"));
    return dir / "img.E01";
}

// The segment files make_e01 wrote.
std::vector<fs::path> segments(const TempDir& dir) {
    std::vector<fs::path> found;
    for (const auto& e : fs::directory_iterator(dir.path())) {
        if (e.path().filename().string().rfind("img.E", 0) == 0) found.push_back(e.path());
    }
    std::sort(found.begin(), found.end());
    return found;
}

std::vector<std::byte> file_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<std::byte> out(chars.size());
    std::memcpy(out.data(), chars.data(), chars.size());
    return out;
}

// Memory the test and the worker processes share (the hook runs in the worker).
struct SharedCounters {
    std::atomic<int> calls{0};
    std::atomic<int> open_errno{0}, socket_errno{0};
};
SharedCounters* shared_counters() {
    void* p = ::mmap(nullptr, sizeof(SharedCounters), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    REQUIRE(p != MAP_FAILED);
    return new (p) SharedCounters;
}

// Child processes of this process that are still there (zombies included).
int children() {
    int count = 0;
    const std::string self = std::to_string(::getpid());
    for (const auto& entry : fs::directory_iterator("/proc")) {
        std::ifstream stat(entry.path() / "stat");
        std::string line;
        if (!std::getline(stat, line)) continue;
        auto close = line.rfind(')');
        if (close == std::string::npos) continue;
        std::istringstream rest(line.substr(close + 2));
        std::string state, ppid;
        rest >> state >> ppid;
        if (ppid == self) ++count;
    }
    return count;
}

// Reads the whole source in 64 KiB blocks; blocks that fail are listed, the rest compared.
std::vector<std::pair<std::uint64_t, std::string>> read_all(Source& src,
                                                            const std::vector<std::byte>& truth) {
    std::vector<std::pair<std::uint64_t, std::string>> failed;
    std::vector<std::byte> buf(64 * 1024);
    for (std::uint64_t offset = 0; offset < src.info().size; offset += buf.size()) {
        auto n = read_fully(src, offset, buf);
        if (!n) {
            failed.emplace_back(offset, n.error().message);
            continue;
        }
        REQUIRE(*n == buf.size());
        REQUIRE(std::memcmp(buf.data(), truth.data() + offset, buf.size()) == 0);
    }
    return failed;
}

}  // namespace

TEST_CASE("libewf reads an E01 in a sandboxed worker that cannot open files or sockets",
          "[faults][ewf]") {
    TempDir dir;
    const fs::path e01 = make_e01(dir);
    const auto truth = file_bytes(dir / "media.raw");
    SourceSeal seal(segments(dir));
    auto* counters = shared_counters();
    const int before = children();
    {
        EwfWorkerOptions options;
        options.chunk_test_hook = [counters](std::uint64_t offset) {
            if (offset != 0) return;
            errno = 0;
            if (::open("/etc/hostname", O_RDONLY) < 0) counters->open_errno = errno;
            errno = 0;
            if (::socket(AF_INET, SOCK_STREAM, 0) < 0) counters->socket_errno = errno;
        };
        auto src = open_ewf_isolated(e01, options);
        REQUIRE(src);
        CHECK((*src)->info().kind == SourceKind::Ewf);
        CHECK((*src)->info().size == kSize);
        CHECK((*src)->info().segments.size() == segments(dir).size());
        REQUIRE((*src)->info().ewf);
        CHECK((*src)->info().ewf->chunk_size == kChunk);
        CHECK(children() == before + 1);
        CHECK(read_all(**src, truth).empty());
    }
    CHECK(counters->open_errno == EPERM);
    CHECK(counters->socket_errno == EPERM);
    CHECK(children() == before);  // closing the source ends and reaps its worker
    CHECK(seal.unchanged());
}

TEST_CASE("a libewf worker that crashes mid-read costs the chunk it was in, nothing more",
          "[faults][ewf]") {
    TempDir dir;
    const fs::path e01 = make_e01(dir);
    const auto truth = file_bytes(dir / "media.raw");
    SourceSeal seal(segments(dir));
    EwfWorkerOptions options;
    options.chunk_test_hook = [](std::uint64_t offset) {
        if (offset / kChunk == kTarget / kChunk) ::raise(SIGSEGV);
    };
    auto src = open_ewf_isolated(e01, options);
    REQUIRE(src);
    auto failed = read_all(**src, truth);
    REQUIRE(failed.size() == 1);
    CHECK(failed[0].first == kTarget);
    INFO(failed[0].second);
    CHECK_THAT(failed[0].second, Catch::Contains(e01.string()));
    CHECK_THAT(failed[0].second, Catch::Contains("at offset " + std::to_string(kTarget)));
    // SIGSEGV; under AddressSanitizer its SEGV handler reports the crash and aborts.
    CHECK_THAT(failed[0].second,
               Catch::Contains("signal 11") || Catch::Contains("signal 6 (Aborted)"));
    // The bytes on either side of the chunk still read; the chunk fails at once now.
    std::vector<std::byte> sector(512);
    REQUIRE(read_fully(**src, kTarget - 512, sector));
    CHECK(std::memcmp(sector.data(), truth.data() + kTarget - 512, 512) == 0);
    REQUIRE(read_fully(**src, kTarget + kChunk, sector));
    CHECK(std::memcmp(sector.data(), truth.data() + kTarget + kChunk, 512) == 0);
    auto again = read_fully(**src, kTarget + 4096, sector);
    REQUIRE_FALSE(again);
    CHECK_THAT(again.error().message, Catch::Contains("failed on that chunk before"));
    CHECK(seal.unchanged());
}

TEST_CASE("an acquisition from an E01 whose libewf crashes on one chunk zero-fills that chunk",
          "[faults][ewf]") {
    TempDir dir;
    const fs::path e01 = make_e01(dir);
    SourceSeal seal(segments(dir));
    EwfWorkerOptions options;
    options.chunk_test_hook = [](std::uint64_t offset) {
        if (offset / kChunk == kTarget / kChunk) ::raise(SIGSEGV);
    };
    auto src = open_ewf_isolated(e01, options);
    REQUIRE(src);
    AcquisitionPlan plan;
    plan.format = ImageFormat::Raw;
    plan.out_dir = dir / "out";
    plan.block_size = 1u << 20;
    JobProgress progress;
    std::atomic<bool> cancel{false};
    auto result = acquire(**src, plan, progress, cancel);
    REQUIRE(result);
    INFO(result->summary);
    CHECK(result->status == AcquisitionStatus::CompletedWithErrors);
    REQUIRE(result->unreadable.size() == 1);
    CHECK(result->unreadable[0].offset == kTarget);
    CHECK(result->unreadable[0].length == kChunk);
    // The image is the media with exactly that chunk zeroed.
    auto media = file_bytes(dir / "media.raw");
    std::memset(media.data() + kTarget, 0, kChunk);
    CHECK(file_bytes(dir / "out" / "image.raw") == media);
    CHECK(seal.unchanged());
}

TEST_CASE("a libewf worker killed from outside mid-read is replaced and the read succeeds",
          "[faults][ewf]") {
    TempDir dir;
    const fs::path e01 = make_e01(dir);
    const auto truth = file_bytes(dir / "media.raw");
    auto* counters = shared_counters();
    EwfWorkerOptions options;
    options.chunk_test_hook = [counters](std::uint64_t offset) {
        if (offset / kChunk == 2 * kTarget / kChunk && counters->calls++ == 0) ::raise(SIGKILL);
    };
    auto src = open_ewf_isolated(e01, options);
    REQUIRE(src);
    CHECK(read_all(**src, truth).empty());
    CHECK(counters->calls == 2);  // killed once, then read by a fresh worker
}

TEST_CASE("a hanging libewf worker is stopped by the watchdog", "[faults][ewf]") {
    TempDir dir;
    const fs::path e01 = make_e01(dir);
    const auto truth = file_bytes(dir / "media.raw");
    EwfWorkerOptions options;
    options.stall = std::chrono::seconds(2);
    options.chunk_test_hook = [](std::uint64_t offset) {
        if (offset / kChunk != kTarget / kChunk) return;
        for (std::atomic<unsigned long> spin = 0;; spin.fetch_add(1)) {  // busy, no progress
        }
    };
    auto src = open_ewf_isolated(e01, options);
    REQUIRE(src);
    const auto started = std::chrono::steady_clock::now();
    auto failed = read_all(**src, truth);
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(30));
    REQUIRE(failed.size() == 1);
    CHECK(failed[0].first == kTarget);
    CHECK_THAT(failed[0].second, Catch::Contains("at offset " + std::to_string(kTarget)));
    CHECK_THAT(failed[0].second, Catch::Contains("without progress"));
}

TEST_CASE("a libewf worker that allocates without bound is stopped", "[faults][ewf]") {
    TempDir dir;
    const fs::path e01 = make_e01(dir);
    const auto truth = file_bytes(dir / "media.raw");
    EwfWorkerOptions options;
    options.memory = 256u << 20;
    options.chunk_test_hook = [](std::uint64_t offset) {
        if (offset / kChunk != kTarget / kChunk) return;
        std::vector<std::unique_ptr<char[]>> hoard;
        for (;;) {
            hoard.emplace_back(new char[1u << 20]);
            std::memset(hoard.back().get(), 1, 1u << 20);
        }
    };
    auto src = open_ewf_isolated(e01, options);
    REQUIRE(src);
    auto failed = read_all(**src, truth);
    REQUIRE(failed.size() == 1);
    CHECK(failed[0].first == kTarget);
    INFO(failed[0].second);
    CHECK_THAT(failed[0].second, Catch::Contains("memory"));
}

TEST_CASE("a worker that failed too often ends the source with one sentence", "[faults][ewf]") {
    TempDir dir;
    const fs::path e01 = make_e01(dir);
    EwfWorkerOptions options;
    options.max_failures = 3;
    options.chunk_test_hook = [](std::uint64_t offset) {
        if (offset >= kTarget) ::raise(SIGSEGV);
    };
    auto src = open_ewf_isolated(e01, options);
    REQUIRE(src);
    std::vector<std::byte> buf(4096);
    CHECK(read_fully(**src, 0, buf));
    for (int i = 0; i < 3; ++i)
        CHECK_FALSE(read_fully(**src, kTarget + static_cast<std::uint64_t>(i) * kChunk, buf));
    auto end = read_fully(**src, 0, buf);
    REQUIRE_FALSE(end);
    CHECK_THAT(end.error().message, Catch::Contains("is no longer read"));
    CHECK_THAT(end.error().message, Catch::Contains(e01.string()));
}

TEST_CASE("triage of an E01 whose libewf crashes inside one file carries on with the rest",
          "[faults][ewf][triage]") {
    TempDir dir;
    const fs::path raw = sample_small_disk(dir.path());
    auto r = run("ewfacquire -u -q -c none -f encase6 -t " + sh_quote((dir / "disk").string()) +
                     " " + sh_quote(raw.string()),
                 true);
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    const fs::path e01 = dir / "disk.E01";
    SourceSeal seal({e01});
    JobProgress progress;
    std::atomic<bool> cancel{false};
    WalkOptions options;
    options.read_content = true;
    options.workers = 2;
    // The healthy walk, through the raw disk: every file's hashes and first data block.
    auto healthy = walk_file_systems(*open_ok(raw), progress, cancel, options);
    REQUIRE(healthy);
    const FileEntry* victim = nullptr;
    for (const auto& f : healthy->files) {
        if (f.meta_type == 'r' && f.name_allocated && f.content_read && f.size >= 4096 &&
            f.first_block > 0) {
            victim = &f;
            break;
        }
    }
    REQUIRE(victim);
    const auto& vfs = healthy->file_systems[static_cast<std::size_t>(victim->file_system)];
    const std::uint64_t bad = vfs.offset + victim->first_block * vfs.block_size;
    INFO("libewf crashes on the chunk holding byte " << bad << " (" << victim->path << ")");

    EwfWorkerOptions ewf;
    ewf.chunk_test_hook = [bad](std::uint64_t offset) {
        if (offset / kChunk == bad / kChunk) ::raise(SIGSEGV);
    };
    auto src = open_ewf_isolated(e01, ewf);
    REQUIRE(src);
    auto walk = walk_file_systems(**src, progress, cancel, options);
    REQUIRE(walk);
    REQUIRE(walk->files.size() == healthy->files.size());
    int read = 0, unread = 0;
    bool victim_unread = false;
    for (std::size_t i = 0; i < walk->files.size(); ++i) {
        const FileEntry& f = walk->files[i];
        const FileEntry& h = healthy->files[i];
        REQUIRE(f.path == h.path);
        if (!h.content_read) continue;
        INFO(f.path << ": " << f.content_error);
        if (f.content_read) {
            CHECK(f.findings.hashes.sha256 == h.findings.hashes.sha256);
            ++read;
        } else {
            // Only files with data in the 32 KiB chunk libewf failed on.
            CHECK_FALSE(f.content_error.empty());
            ++unread;
            victim_unread = victim_unread || f.path == victim->path;
        }
    }
    CHECK(victim_unread);
    CHECK(unread <= 8);
    CHECK(read >= 2);
    CHECK(seal.unchanged());
}

namespace {

std::uint32_t adler32(const std::byte* data, std::size_t size) {
    std::uint32_t a = 1, b = 0;
    for (std::size_t i = 0; i < size; ++i) {
        a = (a + static_cast<std::uint8_t>(data[i])) % 65521;
        b = (b + a) % 65521;
    }
    return (b << 16) | a;
}

}  // namespace

TEST_CASE("an E01 whose volume section claims media its segments cannot hold is refused",
          "[faults][ewf]") {
    // Found by mutating the sector count of a real E01's volume and data sections (with
    // their Adler-32 recomputed, which is all libewf checks): libewf then reports 16 EiB of
    // media, fails on every chunk past the real ones, and an acquisition zero-filled the
    // "unreadable" rest until the output drive was full.
    TempDir dir;
    write_random_file(dir / "media.raw", 256 * 1024, 23);
    auto r = run("ewfacquire -u -q -c fast -f encase6 -t " + sh_quote((dir / "img").string()) +
                     " " + sh_quote((dir / "media.raw").string()),
                 true);
    REQUIRE(r.exit_code == 0);
    auto bytes = file_bytes(dir / "img.E01");
    int patched = 0;
    for (std::size_t off = 13; off + 76 <= bytes.size();) {
        const std::string type(reinterpret_cast<const char*>(bytes.data() + off));
        std::uint64_t next = 0;
        std::memcpy(&next, bytes.data() + off + 16, 8);
        if (type == "volume" || type == "data") {
            std::byte* data = bytes.data() + off + 76;
            const std::uint64_t sectors = ~std::uint64_t{0};
            std::memcpy(data + 16, &sectors, 8);
            const std::uint32_t sum = adler32(data, 1048);
            std::memcpy(data + 1048, &sum, 4);
            ++patched;
        }
        if (type == "done" || next <= off) break;
        off = next;
    }
    REQUIRE(patched == 2);
    const fs::path hostile = dir / "hostile.E01";
    {
        std::ofstream out(hostile, std::ios::binary);
        out.write(reinterpret_cast<const char*>(bytes.data()),
                  static_cast<std::streamsize>(bytes.size()));
    }
    // libewf itself accepts it and reports the claimed size.
    auto info = run("ewfinfo " + sh_quote(hostile.string()), true);
    CHECK_THAT(info.out, Catch::Contains("18446744073709551104"));
    SourceSeal seal({hostile});
    auto src = open_source(hostile);
    REQUIRE_FALSE(src);
    CHECK(src.error().kind == ErrorKind::Format);
    CHECK_THAT(src.error().message, Catch::Contains(hostile.string()) &&
                                        Catch::Contains("claims 18446744073709551104 bytes"));
    CHECK(seal.unchanged());
}

TEST_CASE("an E01 opened on a thread that has ended still reads on another", "[faults][ewf]") {
    // The worker dies with the thread that forked it (PR_SET_PDEATHSIG); that is not a
    // failure of libewf, so it is replaced without counting against the source.
    TempDir dir;
    const fs::path e01 = make_e01(dir);
    const auto truth = file_bytes(dir / "media.raw");
    EwfWorkerOptions options;
    options.max_failures = 1;
    std::optional<Expected<std::unique_ptr<Source>>> opened;
    std::thread([&] { opened = open_ewf_isolated(e01, options); }).join();
    REQUIRE(opened);
    REQUIRE(*opened);
    Source& src = ***opened;
    for (int pass = 0; pass < 2; ++pass) {
        auto failed = read_all(src, truth);
        for (const auto& [offset, why] : failed)
            UNSCOPED_INFO(offset << ": " << why);
        CHECK(failed.empty());
    }
}
