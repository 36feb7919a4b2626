#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "exhibit/acquire.hpp"
#include "exhibit/platform/sysfs_identity.hpp"
#include "exhibit/source.hpp"
#include "test_support.hpp"

using namespace exhibit;
using namespace exhibit::test;

namespace {

std::string md5_of(Source& source) {
    JobProgress progress;
    std::atomic<bool> cancel{false};
    auto hashes = hash_source(source, progress, cancel);
    REQUIRE(hashes);
    return hashes->md5;
}

// Writes `size` random bytes to DIR/media.raw and images them with libewf's own
// ewfacquire (an independent writer), uncompressed EnCase 6 plus `options`. Returns the
// first segment, DIR/NAME.E01.
fs::path peer_e01(const TempDir& dir, const std::string& name, std::uint64_t size,
                  std::uint32_t seed, const std::string& options = "") {
    const fs::path raw = dir / "media.raw";
    write_random_file(raw, size, seed);
    auto r = run("ewfacquire -u -q -c none -f encase6 " + options + " -t " +
                     sh_quote((dir / name).string()) + " " + sh_quote(raw.string()),
                 true);
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    return dir / (name + ".E01");
}

}  // namespace

TEST_CASE("raw image reads the same bytes as the file, positionally", "[sources][raw]") {
    const fs::path image = sample_image();
    SourceSeal seal({image});
    auto src = open_ok(image);
    CHECK(src->info().kind == SourceKind::Raw);
    CHECK(src->info().size == fs::file_size(image));
    CHECK(src->info().sector_size == 512);

    auto bytes = read_file(image);
    for (std::uint64_t offset :
         {std::uint64_t{0}, std::uint64_t{510}, std::uint64_t{1048573}, src->info().size - 100}) {
        std::vector<std::byte> buf(4096);
        auto n = read_fully(*src, offset, buf);
        REQUIRE(n);
        auto expect = std::min<std::uint64_t>(buf.size(), bytes.size() - offset);
        REQUIRE(*n == expect);
        CHECK(std::memcmp(buf.data(), bytes.data() + offset, *n) == 0);
    }
    std::vector<std::byte> buf(16);
    auto past = src->read_at(src->info().size, buf);
    REQUIRE(past);
    CHECK(*past == 0);
    CHECK(md5_of(*src) == coreutils_digest("md5sum", image));
    CHECK(seal.unchanged());
}

TEST_CASE("split raw images are found from their first segment in every naming scheme",
          "[sources][split]") {
    TempDir dir;
    const fs::path whole = dir / "whole.bin";
    write_random_file(whole, 3 * 1024 * 1024 + 777, 7);
    const std::string md5 = coreutils_digest("md5sum", whole);

    struct Scheme {
        const char* split_args;
        const char* first;
        std::size_t segments;
    };
    for (Scheme s :
         {Scheme{"-d -a 3", "part.000", 4}, Scheme{"--numeric-suffixes=1 -a 3", "part.001", 4},
          Scheme{"", "part.aa", 4}, Scheme{"-d -a 2", "part.00", 4}}) {
        DYNAMIC_SECTION("split " << s.split_args) {
            fs::path sub = dir / ("s" + std::to_string(std::hash<std::string>{}(s.split_args)));
            fs::create_directories(sub);
            REQUIRE(run("cd " + sh_quote(sub.string()) + " && split -b 1M " + s.split_args + " " +
                        sh_quote(whole.string()) + " part.")
                        .exit_code == 0);
            SourceSeal seal({sub / s.first});
            auto src = open_ok(sub / s.first);
            CHECK(src->info().kind == SourceKind::SplitRaw);
            CHECK(src->info().segments.size() == s.segments);
            CHECK(src->info().size == fs::file_size(whole));
            // A read that straddles the first segment boundary.
            std::vector<std::byte> buf(100);
            REQUIRE(read_fully(*src, 1024 * 1024 - 50, buf));
            auto bytes = read_file(whole);
            CHECK(std::memcmp(buf.data(), bytes.data() + 1024 * 1024 - 50, 100) == 0);
            CHECK(md5_of(*src) == md5);
            CHECK(seal.unchanged());
        }
    }
}

TEST_CASE("a lone .001 file is a raw image, not a split one", "[sources][split]") {
    TempDir dir;
    write_random_file(dir / "disk.001", 8192, 3);
    SourceSeal seal({dir / "disk.001"});
    auto src = open_ok(dir / "disk.001");
    CHECK(src->info().kind == SourceKind::Raw);
    CHECK(seal.unchanged());
}

TEST_CASE("an E01 written by ewfacquire opens with its metadata and stored hash",
          "[sources][ewf]") {
    TempDir dir;
    const fs::path e01 = peer_e01(dir, "peer", 5 * 1024 * 1024, 11,
                                  "-C CASE-7 -D 'seized laptop' -E JD/1 -e 'DC Jones' "
                                  "-N 'peer made' -S 2MiB");
    const fs::path raw = dir / "media.raw";
    SourceSeal seal({dir / "peer.E01", dir / "peer.E02"});
    auto src = open_ok(e01);
    const auto& info = src->info();
    CHECK(info.kind == SourceKind::Ewf);
    CHECK(info.segments.size() >= 3);
    CHECK(info.size == 5 * 1024 * 1024);
    REQUIRE(info.ewf);
    CHECK(info.ewf->header.at("case_number") == "CASE-7");
    CHECK(info.ewf->header.at("evidence_number") == "JD/1");
    CHECK(info.ewf->header.at("examiner_name") == "DC Jones");
    CHECK(info.ewf->header.at("notes") == "peer made");
    CHECK(info.ewf->stored_md5 == coreutils_digest("md5sum", raw));
    CHECK(md5_of(*src) == coreutils_digest("md5sum", raw));
    CHECK(seal.unchanged());
}

TEST_CASE("every external image in shared/testdata has its authors' size and media MD5",
          "[sources][external]") {
    const fs::path data = shared_testdata();
    if (data.empty()) {
        WARN("SKIPPED: ../shared/testdata is absent, external images not checked");
        return;
    }
    struct Expect {
        const char* file;
        SourceKind kind;
        std::uint64_t size;
        const char* md5;
    };
    for (Expect e :
         {Expect{"dfvfs/ext2.E01", SourceKind::Ewf, 4194304, "196066add11fb71c4c49cf1bb50d6d24"},
          Expect{"dfvfs/ext2.split.E01", SourceKind::Ewf, 4194304,
                 "196066add11fb71c4c49cf1bb50d6d24"},
          Expect{"dfvfs/ext2.splitraw.000", SourceKind::SplitRaw, 4194304,
                 "196066add11fb71c4c49cf1bb50d6d24"},
          Expect{"tsk/image.dd", SourceKind::Raw, 102400, "3ebb0b7dcd6b5fcd59a0020625d70994"},
          Expect{"tsk/image.E01", SourceKind::Ewf, 102400, "3ebb0b7dcd6b5fcd59a0020625d70994"}}) {
        DYNAMIC_SECTION(e.file) {
            auto src = open_ok(data / e.file);
            std::vector<fs::path> files(src->info().segments.begin(), src->info().segments.end());
            SourceSeal seal(files);
            CHECK(src->info().kind == e.kind);
            CHECK(src->info().size == e.size);
            CHECK(md5_of(*src) == e.md5);
            if (e.kind == SourceKind::Ewf) CHECK(src->info().ewf->stored_md5 == e.md5);
            CHECK(seal.unchanged());
        }
    }
}

TEST_CASE("bad sources get one clear sentence naming them", "[sources][errors]") {
    TempDir dir;
    auto missing = open_source(dir / "nope.E01");
    REQUIRE_FALSE(missing);
    CHECK(missing.error().kind == ErrorKind::NotFound);
    CHECK_THAT(missing.error().message, Catch::Contains((dir / "nope.E01").string()));

    auto directory = open_source(dir.path());
    REQUIRE_FALSE(directory);
    CHECK(directory.error().kind == ErrorKind::InvalidArgument);

    auto empty = open_source("");
    REQUIRE_FALSE(empty);
}

TEST_CASE("a truncated E01 is an error, never a crash or silent zeros", "[sources][ewf][errors]") {
    TempDir dir;
    const fs::path whole = peer_e01(dir, "whole", 3 * 1024 * 1024, 5);
    const fs::path cut = dir / "cut.E01";
    fs::copy_file(whole, cut);
    fs::resize_file(cut, fs::file_size(cut) / 2);
    SourceSeal seal({cut});
    auto src = open_source(cut);
    if (src) {
        // libewf may open it from the sections it still finds; reading must then fail.
        JobProgress progress;
        std::atomic<bool> cancel{false};
        auto hashes = hash_source(**src, progress, cancel);
        REQUIRE_FALSE(hashes);
        CHECK_THAT(hashes.error().message, Catch::Contains("cut.E01"));
    } else {
        CHECK(src.error().kind == ErrorKind::Format);
        CHECK_THAT(src.error().message, Catch::Contains("cut.E01"));
    }
    CHECK(seal.unchanged());
}

TEST_CASE("the fault wrapper fails exactly the reads that touch a bad range", "[sources][faults]") {
    TempDir dir;
    write_random_file(dir / "m.bin", 64 * 1024, 1);
    SourceSeal seal({dir / "m.bin"});
    FaultPlan plan;
    plan.unreadable = {{4096, 512}};
    plan.max_read = 1000;
    auto src = make_faulty_source(open_ok(dir / "m.bin"), plan);
    std::vector<std::byte> buf(4096);
    auto n = src->read_at(0, buf);
    REQUIRE(n);
    CHECK(*n == 1000);  // short read
    auto full = read_fully(*src, 0, buf);
    REQUIRE(full);
    CHECK(*full == 4096);
    auto bad = src->read_at(4000, buf);
    REQUIRE_FALSE(bad);
    CHECK(bad.error().sys_errno == EIO);
    auto after = src->read_at(4608, buf);
    CHECK(after);
    CHECK(seal.unchanged());
}

TEST_CASE("sysfs identity of a USB stick is read from the tree", "[sources][sysfs]") {
    TempDir dir;
    // The shape of a real USB mass-storage disk under /sys (usb-storage, SCSI disk sdb).
    const fs::path usb = dir / "devices/pci0000:00/0000:00:14.0/usb2/2-1";
    const fs::path disk = usb / "2-1:1.0/host6/target6:0:0/6:0:0:0/block/sdb";
    fs::create_directories(disk / "sdb1");
    auto put = [](const fs::path& p, const std::string& text) { std::ofstream(p) << text; };
    put(usb / "idVendor", "0781\n");
    put(usb / "idProduct", "5567\n");
    put(usb / "serial", "4C530001230815117172\n");
    put(disk.parent_path().parent_path() / "vendor", "SanDisk \n");
    put(disk.parent_path().parent_path() / "model", "Cruzer Blade    \n");
    fs::create_directory_symlink("../..", disk / "device");  // block/sdb/device -> 6:0:0:0
    put(disk / "removable", "1\n");
    put(disk / "ro", "0\n");
    put(disk / "size", "30031872\n");
    put(disk / "sdb1" / "partition", "1\n");
    put(disk / "sdb1" / "ro", "1\n");
    put(disk / "sdb1" / "size", "30029824\n");
    fs::create_directories(dir / "dev/block");
    fs::create_directory_symlink(fs::relative(disk, dir / "dev/block"), dir / "dev/block/8:16");
    fs::create_directory_symlink(fs::relative(disk / "sdb1", dir / "dev/block"),
                                 dir / "dev/block/8:17");

    platform::SysfsIdentity id;
    REQUIRE(platform::read_sysfs_identity("8:16", id, dir.path()));
    CHECK(id.name == "sdb");
    CHECK(id.bus == "usb");
    CHECK(id.vendor == "SanDisk");
    CHECK(id.model == "Cruzer Blade");
    CHECK(id.serial == "4C530001230815117172");
    CHECK(id.usb_id == "0781:5567");
    CHECK(id.removable);
    CHECK_FALSE(id.read_only);
    CHECK(id.size_bytes == 30031872ull * 512);

    platform::SysfsIdentity part;
    REQUIRE(platform::read_sysfs_identity("8:17", part, dir.path()));
    CHECK(part.name == "sdb1");
    CHECK(part.disk == "sdb");
    CHECK(part.read_only);
    CHECK(part.model == "Cruzer Blade");
    CHECK_FALSE(platform::read_sysfs_identity("8:99", part, dir.path()));
}

TEST_CASE("a block device is read only when the kernel will refuse writes to it",
          "[sources][device]") {
    TempDir dir;
    const fs::path image = dir / "disk.img";
    write_random_file(image, 4 * 1024 * 1024, 21);
    SourceSeal seal({image});
    {
        LoopDevice ro(image, true);
        if (ro.device.empty()) {
            WARN("SKIPPED: loop devices are not available here (needs root and /dev/loop-control)");
            return;
        }
        auto src = open_ok(ro.device);
        CHECK(src->info().kind == SourceKind::BlockDevice);
        REQUIRE(src->info().device);
        CHECK(src->info().device->kernel_read_only);
        CHECK(src->info().device->bus == "virtual");
        CHECK(src->info().size == 4 * 1024 * 1024);
        CHECK(md5_of(*src) == coreutils_digest("md5sum", image));
    }
    {
        LoopDevice rw(image, false);
        REQUIRE_FALSE(rw.device.empty());
        auto refused = open_source(rw.device);
        REQUIRE_FALSE(refused);
        CHECK(refused.error().kind == ErrorKind::NotProtected);
        CHECK_THAT(refused.error().message, Catch::Contains("blockdev --setro"));
        CHECK_THAT(refused.error().message, Catch::Contains("--hardware-blocker"));

        OpenOptions declared;
        declared.hardware_blocker = "Tableau T8u 000ecc";
        auto src = open_source(rw.device, declared);
        REQUIRE(src);
        CHECK((*src)->info().device->hardware_blocker == "Tableau T8u 000ecc");
        CHECK_FALSE((*src)->info().device->kernel_read_only);
    }
    CHECK(seal.unchanged());
}

TEST_CASE("an E01 with a flipped byte in a chunk fails its checksum instead of reading zeros",
          "[sources][ewf][errors]") {
    TempDir dir;
    const fs::path e01 = peer_e01(dir, "img", 2 * 1024 * 1024, 6);
    {
        // Flip one byte well inside the chunk data (uncompressed chunks carry Adler-32).
        std::fstream f(e01, std::ios::in | std::ios::out | std::ios::binary);
        f.seekg(1024 * 1024);
        char c = 0;
        f.read(&c, 1);
        c = static_cast<char>(c ^ 0x5a);
        f.seekp(1024 * 1024);
        f.write(&c, 1);
    }
    SourceSeal seal({e01});
    auto src = open_source(e01);
    REQUIRE(src);
    JobProgress progress;
    std::atomic<bool> cancel{false};
    auto hashes = hash_source(**src, progress, cancel);
    REQUIRE_FALSE(hashes);
    CHECK(hashes.error().kind == ErrorKind::Format);
    CHECK_THAT(hashes.error().message, Catch::Contains("checksum"));
    CHECK(seal.unchanged());
}
