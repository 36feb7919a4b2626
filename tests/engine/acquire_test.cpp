#include <catch2/catch.hpp>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "exhibit/acquire.hpp"
#include "exhibit/source.hpp"
#include "test_support.hpp"

using namespace exhibit;
using namespace exhibit::test;

namespace {

AcquisitionResult acquire_ok(Source& source, AcquisitionPlan plan) {
    JobProgress progress;
    std::atomic<bool> cancel{false};
    auto result = acquire(source, plan, progress, cancel);
    INFO((result ? result->summary : result.error().message));
    REQUIRE(result);
    return std::move(*result);
}

// A raw acquisition into `out` in 1 MiB reads, so small test media span several blocks.
AcquisitionPlan raw_plan(const fs::path& out) {
    AcquisitionPlan plan;
    plan.format = ImageFormat::Raw;
    plan.out_dir = out;
    plan.block_size = 1 << 20;
    return plan;
}

nlohmann::json read_json(const fs::path& path) {
    std::ifstream in(path);
    return nlohmann::json::parse(in);
}

void check_verified(const AcquisitionResult& r) {
    CHECK(r.verified);
    REQUIRE_FALSE(r.verification.empty());
    for (const auto& c : r.verification) {
        INFO(to_string(c.algorithm) << " " << c.acquired << " vs " << c.verified);
        CHECK(c.match);
    }
}

}  // namespace

TEST_CASE("every output format carries the coreutils hashes of the source and verifies",
          "[acquire]") {
    const fs::path image = sample_image();
    SourceSeal seal({image});
    const Hashes expected{coreutils_digest("md5sum", image), coreutils_digest("sha1sum", image),
                          coreutils_digest("sha256sum", image)};
    TempDir out;

    SECTION("raw") {
        auto src = open_ok(image);
        AcquisitionPlan plan;
        plan.format = ImageFormat::Raw;
        plan.out_dir = out / "raw";
        auto r = acquire_ok(*src, plan);
        CHECK(r.status == AcquisitionStatus::Completed);
        CHECK(r.hashes == expected);
        check_verified(r);
        REQUIRE(r.outputs.size() == 2);
        CHECK(r.outputs[0] == out / "raw" / "image.raw");
        CHECK(coreutils_digest("sha256sum", r.outputs[0]) == expected.sha256);
        auto record = read_json(r.record);
        CHECK(record["complete"] == true);
        CHECK(record["hashes"]["md5"] == expected.md5);
    }
    SECTION("split raw concatenates to the source") {
        auto src = open_ok(image);
        AcquisitionPlan plan;
        plan.format = ImageFormat::SplitRaw;
        plan.segment_size = 64ull << 20;
        plan.out_dir = out / "split";
        auto r = acquire_ok(*src, plan);
        CHECK(r.status == AcquisitionStatus::Completed);
        CHECK(r.hashes == expected);
        check_verified(r);
        std::vector<fs::path> segments(r.outputs.begin(), r.outputs.end() - 1);
        CHECK(segments.size() == 4);
        CHECK(segments.front().filename() == "image.001");
        CHECK(coreutils_digest_of_files("md5sum", segments) == expected.md5);
        // And it opens again as a split raw source.
        auto again = open_ok(segments.front());
        CHECK(again->info().kind == SourceKind::SplitRaw);
    }
    for (Compression c : {Compression::None, Compression::Fast}) {
        DYNAMIC_SECTION("E01 compression " << to_string(c)) {
            auto src = open_ok(image);
            AcquisitionPlan plan;
            plan.format = ImageFormat::Ewf;
            plan.compression = c;
            plan.segment_size = 100ull << 20;
            plan.out_dir = out / "e01";
            plan.case_info = {"OP-BLUEBIRD", "JD/1", "DC Jane Doe 4711", "32GB USB stick",
                              "seized at 12 High St"};
            auto r = acquire_ok(*src, plan);
            CHECK(r.status == AcquisitionStatus::Completed);
            CHECK(r.hashes == expected);
            check_verified(r);
            CHECK(r.outputs.front().filename() == "image.E01");
            if (c == Compression::None) CHECK(r.outputs.size() >= 4);  // 3 segments + record

            auto verify = run("ewfverify -q " + sh_quote(r.outputs.front().string()), true);
            INFO(verify.out);
            CHECK(verify.exit_code == 0);
            CHECK_THAT(verify.out, Catch::Contains(expected.md5));
            auto info = run("ewfinfo " + sh_quote(r.outputs.front().string()), true);
            CHECK_THAT(info.out, Catch::Contains("OP-BLUEBIRD"));
            CHECK_THAT(info.out, Catch::Contains("JD/1"));
            CHECK_THAT(info.out, Catch::Contains("DC Jane Doe 4711"));
            CHECK_THAT(info.out, Catch::Contains("32GB USB stick"));
            CHECK_THAT(info.out, Catch::Contains("seized at 12 High St"));
            CHECK_THAT(info.out, Catch::Contains(expected.sha1));
        }
    }
    CHECK(seal.unchanged());
}

TEST_CASE("split raw and E01 sources acquire to the media their authors hashed",
          "[acquire][external]") {
    const fs::path data = shared_testdata();
    if (data.empty()) {
        WARN("SKIPPED: ../shared/testdata is absent");
        return;
    }
    for (const char* name : {"dfvfs/ext2.split.E01", "dfvfs/ext2.splitraw.000", "dfvfs/ext2.E01"}) {
        DYNAMIC_SECTION(name) {
            auto src = open_ok(data / name);
            std::vector<fs::path> files(src->info().segments.begin(), src->info().segments.end());
            SourceSeal seal(files);
            TempDir out;
            AcquisitionPlan plan;
            plan.format = ImageFormat::Raw;
            plan.out_dir = out.path();
            auto r = acquire_ok(*src, plan);
            CHECK(r.status == AcquisitionStatus::Completed);
            CHECK(r.hashes.md5 == "196066add11fb71c4c49cf1bb50d6d24");
            CHECK(coreutils_digest("md5sum", r.outputs.front()) ==
                  "196066add11fb71c4c49cf1bb50d6d24");
            CHECK(seal.unchanged());
        }
    }
}

TEST_CASE("injected read errors zero-fill exactly the unreadable sectors", "[acquire][faults]") {
    TempDir dir;
    const fs::path media = dir / "media.bin";
    const std::uint64_t size = 9 * 1024 * 1024 + 512 * 3;  // not a multiple of the block size
    write_random_file(media, size, 42);
    SourceSeal seal({media});

    FaultPlan plan;
    // Five sectors inside a block; two sectors straddling the 4 MiB block boundary; the
    // last sector of the media; plus short reads everywhere.
    plan.unreadable = {
        {1024 * 1024 + 3 * 512, 5 * 512}, {4 * 1024 * 1024 - 512, 1024}, {size - 512, 512}};
    plan.max_read = 1024 * 1024 - 4096;

    auto bytes = read_file(media);
    std::vector<unsigned char> expected = bytes;
    for (const auto& r : plan.unreadable)
        std::memset(expected.data() + r.offset, 0, r.length);
    const fs::path expected_file = dir / "expected.bin";
    std::ofstream(expected_file, std::ios::binary)
        .write(reinterpret_cast<const char*>(expected.data()),
               static_cast<std::streamsize>(expected.size()));

    for (ImageFormat format : {ImageFormat::Raw, ImageFormat::Ewf}) {
        DYNAMIC_SECTION("format " << to_string(format)) {
            auto src = make_faulty_source(open_ok(media), plan);
            AcquisitionPlan ap;
            ap.format = format;
            ap.out_dir = dir / to_string(format);
            ap.retries = 1;
            auto r = acquire_ok(*src, ap);
            CHECK(r.status == AcquisitionStatus::CompletedWithErrors);
            REQUIRE(r.unreadable.size() == 3);
            for (std::size_t i = 0; i < 3; ++i) {
                CHECK(r.unreadable[i].offset == plan.unreadable[i].offset);
                CHECK(r.unreadable[i].length == plan.unreadable[i].length);
                CHECK(r.unreadable[i].sys_errno == EIO);
            }
            CHECK(r.unreadable_sectors == 8);
            CHECK_THAT(r.summary, Catch::Contains("completed with 8 unreadable sectors"));
            CHECK(r.hashes.md5 == coreutils_digest("md5sum", expected_file));
            check_verified(r);
            auto record = read_json(r.record);
            CHECK(record["unreadable"].size() == 3);
            CHECK(record["unreadable_sectors"] == 8);
            if (format == ImageFormat::Raw) {
                CHECK(read_file(r.outputs.front()) == expected);
            } else {
                auto e01 = open_ok(r.outputs.front());
                REQUIRE(e01->info().ewf);
                const auto& errors = e01->info().ewf->acquiry_errors;
                REQUIRE(errors.size() == 3);
                CHECK(errors[0] ==
                      std::pair<std::uint64_t, std::uint64_t>{(1024 * 1024 + 3 * 512) / 512, 5});
                CHECK(errors[1] ==
                      std::pair<std::uint64_t, std::uint64_t>{(4 * 1024 * 1024 - 512) / 512, 2});
            }
        }
    }
    CHECK(seal.unchanged());
}

TEST_CASE("a device that fails from some point on is imaged up to there and the rest is listed",
          "[acquire][faults]") {
    TempDir dir;
    write_random_file(dir / "m.bin", 2 * 1024 * 1024, 9);
    SourceSeal seal({dir / "m.bin"});
    FaultPlan plan;
    plan.eio_from = 1536 * 1024 + 512;
    auto src = make_faulty_source(open_ok(dir / "m.bin"), plan);
    AcquisitionPlan ap = raw_plan(dir / "out");
    ap.retries = 0;
    auto r = acquire_ok(*src, ap);
    CHECK(r.status == AcquisitionStatus::CompletedWithErrors);
    REQUIRE(r.unreadable.size() == 1);
    CHECK(r.unreadable[0].offset == *plan.eio_from);
    CHECK(r.unreadable[0].length == 2 * 1024 * 1024 - *plan.eio_from);
    CHECK(seal.unchanged());
}

TEST_CASE("a vanished or shrinking source fails loudly and leaves only .partial output",
          "[acquire][faults]") {
    TempDir dir;
    write_random_file(dir / "m.bin", 12 * 1024 * 1024, 4);
    SourceSeal seal({dir / "m.bin"});
    for (int variant = 0; variant < 2; ++variant) {
        DYNAMIC_SECTION((variant == 0 ? "device vanishes" : "device shrinks")) {
            FaultPlan plan;
            if (variant == 0) plan.vanish_from = 6 * 1024 * 1024;
            if (variant == 1) plan.ends_at = 5 * 1024 * 1024;
            auto src = make_faulty_source(open_ok(dir / "m.bin"), plan);
            for (ImageFormat format : {ImageFormat::Raw, ImageFormat::Ewf}) {
                AcquisitionPlan ap;
                ap.format = format;
                ap.out_dir = dir / ("out" + std::to_string(variant) + to_string(format));
                auto r = acquire_ok(*src, ap);
                CHECK(r.status == AcquisitionStatus::Failed);
                REQUIRE(r.error);
                CHECK(r.error->kind == ErrorKind::SourceChanged);
                CHECK_THAT(r.summary, Catch::Contains("incomplete"));
                for (const auto& f : r.outputs) {
                    bool partial = f.string().find(".partial") != std::string::npos ||
                                   f.filename() == "image.acquisition.json";
                    INFO(f.string());
                    CHECK(partial);
                }
                CHECK_FALSE(fs::exists(ap.out_dir / "image.raw"));
                CHECK_FALSE(fs::exists(ap.out_dir / "image.E01"));
                auto record = read_json(r.record);
                CHECK(record["complete"] == false);
                CHECK(record["record"] == "incomplete");
            }
        }
    }
    CHECK(seal.unchanged());
}

TEST_CASE("cancelling leaves a clearly incomplete output", "[acquire][cancel]") {
    TempDir dir;
    write_random_file(dir / "m.bin", 64 * 1024 * 1024, 2);
    SourceSeal seal({dir / "m.bin"});
    auto src = open_ok(dir / "m.bin");
    AcquisitionPlan ap = raw_plan(dir / "out");
    JobProgress progress;
    std::atomic<bool> cancel{false};
    std::thread stopper([&] {
        while (progress.snapshot().done < (8u << 20))
            std::this_thread::yield();
        cancel = true;
    });
    auto r = acquire(*src, ap, progress, cancel);
    stopper.join();
    REQUIRE(r);
    CHECK(r->status == AcquisitionStatus::Cancelled);
    CHECK(fs::exists(ap.out_dir / "image.raw.partial"));
    CHECK_FALSE(fs::exists(ap.out_dir / "image.raw"));
    CHECK(read_json(r->record)["status"] == "cancelled");
    CHECK(seal.unchanged());
}

TEST_CASE("an acquisition never overwrites earlier work", "[acquire][errors]") {
    TempDir dir;
    write_random_file(dir / "m.bin", 1024 * 1024, 2);
    SourceSeal seal({dir / "m.bin"});
    auto src = open_ok(dir / "m.bin");
    AcquisitionPlan ap;
    ap.format = ImageFormat::Ewf;
    ap.out_dir = dir / "out";
    acquire_ok(*src, ap);
    JobProgress progress;
    std::atomic<bool> cancel{false};
    auto again = acquire(*src, ap, progress, cancel);
    REQUIRE_FALSE(again);
    CHECK_THAT(again.error().message, Catch::Contains("already exists"));

    ap.out_dir = dir / "m.bin";  // a file, not a directory
    auto onto_file = acquire(*src, ap, progress, cancel);
    REQUIRE_FALSE(onto_file);
    CHECK_THAT(onto_file.error().message, Catch::Contains("not a directory"));
    CHECK(seal.unchanged());
}

TEST_CASE("sizes parse as binary units", "[acquire][parse]") {
    CHECK(*parse_size("2G") == 2ull << 30);
    CHECK(*parse_size("640M") == 640ull << 20);
    CHECK(*parse_size("1.5G") == 3ull << 29);
    CHECK(*parse_size("4096") == 4096);
    CHECK(*parse_size("2GiB") == 2ull << 30);
    CHECK(*parse_size("64k") == 65536);
    for (const char* bad : {"", "G", "abc", "-1G", "2X", "0", "1e30T"}) {
        INFO(bad);
        CHECK_FALSE(parse_size(bad));
    }
}

TEST_CASE("progress reports the stage, bytes and rate while acquiring", "[acquire][progress]") {
    TempDir dir;
    write_random_file(dir / "m.bin", 32 * 1024 * 1024, 8);
    SourceSeal seal({dir / "m.bin"});
    auto src = open_ok(dir / "m.bin");
    AcquisitionPlan ap = raw_plan(dir / "out");
    JobProgress progress;
    std::atomic<bool> cancel{false};
    std::atomic<bool> saw_reading{false};
    std::atomic<bool> finished{false};
    std::thread watcher([&] {
        while (!finished) {
            auto s = progress.snapshot();
            if (std::string(s.stage) == "reading" && s.total == 32u * 1024 * 1024 &&
                s.done <= s.total) {
                saw_reading = true;
            }
        }
    });
    auto r = acquire(*src, ap, progress, cancel);
    finished = true;
    watcher.join();
    REQUIRE(r);
    CHECK(saw_reading);
    CHECK(std::string(progress.snapshot().stage) == "done");
    CHECK(seal.unchanged());
}

TEST_CASE("compressed E01 of media that ends mid-chunk reads back whole", "[acquire][ewf]") {
    TempDir dir;
    const fs::path media = dir / "media.bin";
    // Half incompressible, half zeros, and a length that is not a whole number of chunks.
    write_random_file(media, 3 * 1024 * 1024 + 512 * 5, 77);
    run("head -c 2097152 /dev/zero >> " + sh_quote(media.string()));
    SourceSeal seal({media});
    for (Compression c : {Compression::Fast, Compression::Best}) {
        DYNAMIC_SECTION(to_string(c)) {
            auto src = open_ok(media);
            AcquisitionPlan ap;
            ap.format = ImageFormat::Ewf;
            ap.compression = c;
            ap.block_size = 1 << 20;
            ap.out_dir = dir / to_string(c);
            auto r = acquire_ok(*src, ap);
            CHECK(r.status == AcquisitionStatus::Completed);
            check_verified(r);
            CHECK(r.hashes.md5 == coreutils_digest("md5sum", media));
            auto verify = run("ewfverify -q " + sh_quote(r.outputs.front().string()), true);
            INFO(verify.out);
            CHECK(verify.exit_code == 0);
            CHECK(fs::file_size(r.outputs.front()) < fs::file_size(media));
        }
    }
    CHECK(seal.unchanged());
}

TEST_CASE("acquiring a protected block device records that no write reached it",
          "[acquire][device]") {
    TempDir dir;
    const fs::path image = dir / "disk.img";
    write_random_file(image, 8 * 1024 * 1024, 31);
    SourceSeal seal({image});
    {
        LoopDevice loop(image, true);
        if (loop.device.empty()) {
            WARN("SKIPPED: loop devices are not available here (needs root)");
            return;
        }
        auto src = open_ok(loop.device);
        auto r = acquire_ok(*src, raw_plan(dir / "out"));
        CHECK(r.status == AcquisitionStatus::Completed);
        CHECK(r.hashes.sha256 == coreutils_digest("sha256sum", image));
        REQUIRE(r.device_writes);
        CHECK(r.device_writes->device == loop.device.filename().string());
        CHECK(r.device_writes->write_requests_during == 0);
        CHECK(r.device_writes->writes_after == r.device_writes->writes_before);
        auto record = read_json(r.record);
        CHECK(record["device_writes"]["write_requests_during"] == 0);
    }
    CHECK(seal.unchanged());
}
