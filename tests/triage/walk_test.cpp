// The file-system walk against The Sleuth Kit's own `fls -r -p`, on our sample device and
// on the images other projects publish.
#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <sstream>

#include "exhibit/file_walk.hpp"
#include "test_support.hpp"

using namespace exhibit;
using namespace exhibit::test;

namespace {

// "r/r * 14 path": name/meta type, deleted mark, meta address, path; the form both
// sides are reduced to (fls's attribute suffixes like -128-4 and "(realloc)" dropped).
using Listing = std::multiset<std::string>;

std::string key(char name_type, char meta_type, bool deleted, std::uint64_t inum,
                const std::string& path) {
    std::ostringstream k;
    k << name_type << '/' << meta_type << (deleted ? " * " : " ") << inum << ' ' << path;
    return k.str();
}

Listing fls_listing(const fs::path& image, std::uint64_t sector_offset) {
    auto r = run("fls -r -p -o " + std::to_string(sector_offset) + " " + sh_quote(image.string()));
    REQUIRE(r.exit_code == 0);
    Listing out;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
        auto tab = line.find('\t');
        REQUIRE(tab != std::string::npos);
        std::string head = line.substr(0, tab), path = line.substr(tab + 1);
        bool deleted = head.find(" * ") != std::string::npos;
        auto digits = head.find_first_of("0123456789", 4);
        std::uint64_t inum = std::stoull(head.substr(digits));
        out.insert(key(head[0], head[2], deleted, inum, path));
    }
    return out;
}

Listing our_listing(const WalkResult& walk, int file_system) {
    Listing out;
    for (const auto& f : walk.files) {
        if (f.file_system != file_system) continue;
        out.insert(key(f.name_type, f.meta_type, f.deleted(), f.meta_address, f.path));
    }
    return out;
}

WalkResult walk_ok(Source& source) {
    JobProgress progress;
    std::atomic<bool> cancel{false};
    auto walk = walk_file_systems(source, progress, cancel);
    INFO((walk ? "" : walk.error().message));
    REQUIRE(walk);
    return std::move(*walk);
}

// Every file system found equals fls on the raw bytes of the same media.
void check_against_fls(const WalkResult& walk, const fs::path& raw_image) {
    for (std::size_t i = 0; i < walk.file_systems.size(); ++i) {
        INFO("file system " << i << " (" << walk.file_systems[i].type << ") at byte "
                            << walk.file_systems[i].offset);
        Listing expected = fls_listing(raw_image, walk.file_systems[i].offset / 512);
        Listing ours = our_listing(walk, static_cast<int>(i));
        std::vector<std::string> missing, extra;
        std::set_difference(expected.begin(), expected.end(), ours.begin(), ours.end(),
                            std::back_inserter(missing));
        std::set_difference(ours.begin(), ours.end(), expected.begin(), expected.end(),
                            std::back_inserter(extra));
        for (const auto& m : missing)
            UNSCOPED_INFO("fls has, we lack: " << m);
        for (const auto& e : extra)
            UNSCOPED_INFO("we have, fls lacks: " << e);
        CHECK(missing.empty());
        CHECK(extra.empty());
        CHECK_FALSE(expected.empty());
    }
}

}  // namespace

TEST_CASE("the sample device's partitions list exactly as fls lists them", "[walk][sample]") {
    SourceSeal seal({sample_image()});
    auto src = open_ok(sample_image());
    auto walk = walk_ok(*src);
    CHECK(walk.volume_system == "dos");
    CHECK(walk.errors.empty());
    std::vector<std::string> types;
    for (const auto& f : walk.file_systems)
        types.push_back(f.type);
    CHECK(types == std::vector<std::string>{"fat32", "ext4", "ntfs", "fat16"});
    check_against_fls(walk, sample_image());

    // Every file of the truth manifest is there, deleted ones marked as deleted.
    const auto truth = sample_truth();
    for (const auto& t : truth) {
        bool found = false;
        for (const auto& f : walk.files) {
            if (walk.file_systems[static_cast<std::size_t>(f.file_system)].type == t.fs &&
                "/" + f.path == t.path && f.deleted() == t.deleted) {
                found = found || t.deleted || f.size == t.size;
            }
        }
        INFO(t.path);
        CHECK(found);
    }
    const auto rows = truth.size();
    CHECK(rows > 20);
    CHECK(seal.unchanged());
}

TEST_CASE("published images list as fls lists them, whatever their container", "[walk][external]") {
    const fs::path data = shared_testdata();
    if (data.empty()) {
        WARN("SKIPPED: ../shared/testdata is absent");
        return;
    }
    SECTION("TSK's image.dd with deleted entries") {
        for (const char* name : {"tsk/image.dd", "tsk/image.E01"}) {
            SourceSeal seal({data / name});
            auto src = open_ok(data / name);
            auto walk = walk_ok(*src);
            REQUIRE(walk.file_systems.size() == 1);
            check_against_fls(walk, data / "tsk/image.dd");
            bool any_deleted = false;
            for (const auto& f : walk.files)
                any_deleted = any_deleted || f.deleted();
            CHECK(any_deleted);
            CHECK(seal.unchanged());
        }
    }
    SECTION("dfVFS ext2 as E01, split E01 and split raw") {
        TempDir dir;
        const fs::path raw = dir / "ext2.raw";
        run("cat " + sh_quote((data / "dfvfs/ext2.splitraw.000").string()) + " " +
            sh_quote((data / "dfvfs/ext2.splitraw.001").string()) + " > " + sh_quote(raw.string()));
        std::vector<Listing> listings;
        for (const char* name :
             {"dfvfs/ext2.E01", "dfvfs/ext2.split.E01", "dfvfs/ext2.splitraw.000"}) {
            auto src = open_ok(data / name);
            auto walk = walk_ok(*src);
            REQUIRE(walk.file_systems.size() == 1);
            CHECK(walk.file_systems[0].type == "ext2");
            check_against_fls(walk, raw);
            listings.push_back(our_listing(walk, 0));
            bool has_file = false;
            for (const auto& f : walk.files) {
                has_file = has_file ||
                           (f.path == "a_directory/a_file" && f.meta_address == 13 && f.size == 53);
            }
            CHECK(has_file);
        }
        CHECK(listings[0] == listings[1]);
        CHECK(listings[1] == listings[2]);
    }
}

TEST_CASE("a partition of random bytes and a truncated one do not stop the others",
          "[walk][errors]") {
    TempDir dir;
    const fs::path disk = dir / "damaged.img";
    fs::copy_file(sample_image(), disk);
    // Overwrite the NTFS partition (3) with random bytes and cut the disk inside the
    // logical FAT16 partition (5); FAT32 and ext4 must still be walked.
    std::string layout = read_file_text(sample_dir() / "layout.tsv");
    auto start_of = [&](const std::string& part) -> std::uint64_t {
        std::istringstream rows(layout);
        for (std::string line; std::getline(rows, line);) {
            std::istringstream cols(line);
            std::string p, type, start;
            cols >> p >> type >> start;
            if (p == part) return std::stoull(start) * 512;
        }
        FAIL("no partition " << part << " in layout.tsv");
        return 0;
    };
    const std::uint64_t ntfs = start_of("3"), fat16 = start_of("5");
    REQUIRE(run("head -c 67108864 /dev/urandom | dd of=" + sh_quote(disk.string()) +
                " bs=1M seek=" + std::to_string(ntfs) +
                " oflag=seek_bytes conv=notrunc status=none")
                .exit_code == 0);
    fs::resize_file(disk, fat16 + 4 * 1024 * 1024);
    SourceSeal seal({disk});
    auto src = open_ok(disk);
    auto walk = walk_ok(*src);
    std::vector<std::string> types;
    for (const auto& f : walk.file_systems)
        types.push_back(f.type);
    CHECK(std::count(types.begin(), types.end(), "fat32") == 1);
    CHECK(std::count(types.begin(), types.end(), "ext4") == 1);
    CHECK(std::count(types.begin(), types.end(), "ntfs") == 0);
    REQUIRE_FALSE(walk.errors.empty());
    bool ntfs_named = false;
    for (const auto& e : walk.errors) {
        UNSCOPED_INFO(e.message);
        ntfs_named = ntfs_named || e.offset == ntfs;
    }
    CHECK(ntfs_named);
    CHECK(seal.unchanged());
}

namespace {

WalkResult walk_with_content(Source& source) {
    JobProgress progress;
    std::atomic<bool> cancel{false};
    WalkOptions options;
    options.read_content = true;
    options.chunk_size = 256 * 1024;  // several chunks for the multi-MB files
    auto walk = walk_file_systems(source, progress, cancel, options);
    INFO((walk ? "" : walk.error().message));
    REQUIRE(walk);
    return std::move(*walk);
}

}  // namespace

TEST_CASE("each file's content is read once and hashed and typed as the truth says",
          "[walk][content][sample]") {
    SourceSeal seal({sample_image()});
    auto src = open_ok(sample_image());
    auto walk = walk_with_content(*src);
    int checked = 0, deleted_recovered = 0;
    for (const auto& t : sample_truth()) {
        const FileEntry* match = nullptr;
        for (const auto& f : walk.files) {
            if (walk.file_systems[static_cast<std::size_t>(f.file_system)].type == t.fs &&
                "/" + f.path == t.path && f.deleted() == t.deleted && f.meta_type == 'r') {
                match = &f;
            }
        }
        INFO(t.path);
        REQUIRE(match);
        if (t.deleted) {
            // Deleted content is hashed only when TSK can still read it; then it must match.
            if (match->content_read) {
                CHECK(match->findings.hashes.sha256 == t.sha256);
                ++deleted_recovered;
            }
            continue;
        }
        CHECK(match->content_read);
        CHECK(match->content_error.empty());
        CHECK(match->findings.hashes.md5 == t.md5);
        CHECK(match->findings.hashes.sha1 == t.sha1);
        CHECK(match->findings.hashes.sha256 == t.sha256);
        if (t.kind == "jpeg") {
            CHECK(match->findings.mime_type == "image/jpeg");
            bool jpeg_name = match->name.ends_with(".jpg") || match->name.ends_with(".jpeg") ||
                             match->name.ends_with(".JPG");
            CHECK(match->findings.extension_mismatch == !jpeg_name);
        }
        if (t.kind == "text") CHECK_FALSE(match->findings.extension_mismatch);
        ++checked;
    }
    CHECK(checked > 20);
    CHECK(deleted_recovered > 0);
    // Reads were ordered by the first data block the walk noted for each file.
    int placed = 0;
    for (const auto& f : walk.files)
        placed += f.first_block > 0 ? 1 : 0;
    CHECK(placed > 20);
    CHECK(seal.unchanged());
}

TEST_CASE("content hashes equal fiwalk's for TSK's image.dd", "[walk][content][external]") {
    const fs::path data = shared_testdata();
    if (data.empty()) {
        WARN("SKIPPED: ../shared/testdata is absent");
        return;
    }
    // fiwalk's DFXML: one <fileobject> per entry, with filename, name_type and digests.
    std::string xml = read_file_text(data / "tsk/image_dd.fiwalk.xml");
    auto field = [](const std::string& obj, const std::string& open) {
        auto a = obj.find(open);
        if (a == std::string::npos) return std::string();
        a += open.size();
        return obj.substr(a, obj.find('<', a) - a);
    };
    std::map<std::string, std::pair<std::string, std::string>> expected;
    for (std::size_t at = 0; (at = xml.find("<fileobject>", at)) != std::string::npos;) {
        auto end = xml.find("</fileobject>", at);
        std::string obj = xml.substr(at, end - at);
        at = end;
        if (field(obj, "<name_type>") != "r") continue;
        std::string md5 = field(obj, "<hashdigest type='md5'>");
        if (md5.empty()) continue;
        expected[field(obj, "<filename>")] = {md5, field(obj, "<hashdigest type='sha1'>")};
    }
    REQUIRE(expected.size() >= 3);
    for (const char* name : {"tsk/image.dd", "tsk/image.E01"}) {
        SourceSeal seal({data / name});
        auto src = open_ok(data / name);
        auto walk = walk_with_content(*src);
        int compared = 0;
        for (const auto& f : walk.files) {
            auto it = expected.find(f.path);
            if (it == expected.end() || !f.content_read || f.name_type != 'r') continue;
            INFO(name << ": " << f.path);
            CHECK(f.findings.hashes.md5 == it->second.first);
            CHECK(f.findings.hashes.sha1 == it->second.second);
            ++compared;
        }
        CHECK(compared >= static_cast<int>(expected.size()));
        CHECK(seal.unchanged());
    }
}

TEST_CASE("the progress snapshot counts entries, files and bytes to read, and where it is",
          "[walk][progress][sample]") {
    SourceSeal seal({sample_image()});
    auto src = open_ok(sample_image());
    JobProgress progress;
    std::atomic<bool> cancel{false};
    WalkOptions options;
    options.read_content = true;
    auto walk = walk_file_systems(*src, progress, cancel, options);
    REQUIRE(walk);
    const ProgressSnapshot p = progress.snapshot();
    std::uint64_t files = 0, bytes = 0;
    for (const auto& f : walk->files) {
        if (f.content_read || !f.content_error.empty()) {
            ++files;
            bytes += f.size;
        }
    }
    CHECK(p.entries == walk->files.size());
    CHECK(p.files_total == files);
    CHECK(p.files_done == p.files_total);
    CHECK(p.total == bytes);
    CHECK(p.done == p.total);  // bytes of unreadable deleted content count as done
    CHECK(p.total > 1000000);
    // The last file system walked: the logical FAT16 volume in the extended partition.
    CHECK(std::string(p.file_system) == "fat16");
    CHECK(p.partition == walk->file_systems.back().volume);
    CHECK(p.partition_offset == walk->file_systems.back().offset);
    CHECK(seal.unchanged());
}
