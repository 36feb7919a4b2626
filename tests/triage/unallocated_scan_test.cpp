// The unallocated-space scan (--scan-unallocated): keywords in deleted files' freed blocks
// and in space outside every partition, found once each, at their byte on the source.
#include <catch2/catch.hpp>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "exhibit/case_db.hpp"
#include "exhibit/rules.hpp"
#include "exhibit/unallocated_scan.hpp"
#include "test_support.hpp"

using namespace exhibit;
using namespace exhibit::test;

namespace {

// Collects what the scan reports.
struct Collect : UnallocatedSink {
    std::vector<UnallocatedHit> hits;
    std::vector<UnallocatedRegion> regions;
    Status region_started(std::size_t, const UnallocatedRegion&) override { return ok(); }
    Status hit(const UnallocatedHit& h) override {
        hits.push_back(h);
        return ok();
    }
    Status region_finished(std::size_t, const UnallocatedRegion& r) override {
        regions.push_back(r);
        return ok();
    }
};

std::string lower(std::string s) {
    for (auto& c : s)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

}  // namespace

TEST_CASE("triage --scan-unallocated finds keywords in freed blocks and outside partitions",
          "[unallocated][triage][sample]") {
    TempDir dir;
    SourceSeal seal({sample_image()});
    fs::path list = dir / "keywords.txt";
    std::ofstream(list) << "operation bluebird\n4929-1234-5678-9012\ndarkmarket.onion\n";
    fs::path db_path = dir / "case.sqlite";
    auto t = run("EXHIBIT_HOME=" + sh_quote(dir.path().string()) + " " +
                 sh_quote(cli_path().string()) + " triage " + sh_quote(sample_image().string()) +
                 " --case-db " + sh_quote(db_path.string()) + " --keywords " +
                 sh_quote(list.string()) + " --scan-unallocated --json");
    INFO(t.out);
    REQUIRE(t.exit_code == 0);
    auto j = nlohmann::json::parse(t.out);
    CHECK(j["status"] == "completed");
    REQUIRE(j.contains("unallocated"));
    const auto& u = j["unallocated"];
    CHECK(u["incomplete_regions"] == 0);
    CHECK(u["scanned_bytes"] == u["unallocated_bytes"]);
    CHECK(u["unallocated_bytes"].get<std::uint64_t>() > (1u << 20));

    auto db = CaseDatabase::open_read_only(db_path);
    REQUIRE(db);
    auto hits = (*db)->unallocated_hits(j["run"].get<std::int64_t>());
    REQUIRE(hits);
    const auto image = read_file(sample_image());
    auto regions = (*db)->unallocated_regions(j["run"].get<std::int64_t>());
    REQUIRE(regions);
    std::map<std::int64_t, std::uint64_t> region_offset;
    for (const auto& r : *regions)
        region_offset[r.id] = r.offset;
    // Regions by offset; the partitions of layout.tsv start at these bytes.
    const std::uint64_t p1 = 2048 * 512, p2 = 133120 * 512;
    std::set<std::pair<std::uint64_t, std::string>> found;  // region offset, keyword
    std::set<std::uint64_t> offsets;
    bool planted = false;
    for (const auto& h : *hits) {
        INFO(h.region << " " << h.offset << " " << h.hit.name);
        CHECK(h.hit.kind == "keyword");
        CHECK(offsets.insert(h.offset).second);  // each match once
        // The keyword is at that byte of the source, as ASCII or UTF-16LE.
        std::string ascii, wide;
        for (std::size_t i = 0; i < h.hit.name.size() && h.offset + 2 * i + 1 < image.size(); ++i) {
            ascii += static_cast<char>(image[h.offset + i]);
            wide += static_cast<char>(image[h.offset + 2 * i]);
        }
        CHECK((lower(ascii) == h.hit.name || lower(wide) == h.hit.name));
        auto d = nlohmann::json::parse(h.hit.detail);
        CHECK(d["region"] == h.region);
        CHECK(d["matches"][0]["offset"] == h.offset);
        found.insert({region_offset.at(h.region_id), h.hit.name});
        if (h.region == "unpartitioned" && h.offset == 220725368 && h.volume == -1)
            planted = h.hit.name == "operation bluebird";
    }
    // unallocated.tsv: the keyword planted outside every partition.
    std::istringstream tsv(read_file_text(sample_dir() / "unallocated.tsv"));
    std::string header, region, kw;
    std::uint64_t at = 0;
    std::getline(tsv, header);
    REQUIRE(tsv >> region >> at);
    CHECK(at == 220725368);
    CHECK(planted);
    // Deleted files whose blocks were freed: card_dump_march.txt (FAT32) and wallet_keys.txt
    // (ext4). The NTFS one is resident in its MFT entry, which is not unallocated space.
    CHECK(found.count({p1, "4929-1234-5678-9012"}) == 1);
    CHECK(found.count({p1, "darkmarket.onion"}) == 1);
    CHECK(found.count({p2, "4929-1234-5678-9012"}) == 1);
    // Every partition's file system, and the space in no partition (TSK numbers the
    // slots of the volume system, the table and the gaps included).
    std::set<std::string> names;
    for (const auto& r : *regions) {
        names.insert(r.name);
        CHECK(r.complete);
    }
    for (const char* name : {"partition 2 (fat32)", "partition 3 (ext4)", "partition 4 (ntfs)",
                             "partition 8 (fat16)", "unpartitioned"})
        CHECK(names.count(name) == 1);
    CHECK(seal.unchanged());
}

TEST_CASE("a match across a window boundary is found once, and the byte limit is kept and said",
          "[unallocated]") {
    TempDir dir;
    std::string bytes(3 * 4096, '\0');
    const std::string needle = "needle-across";
    bytes.replace(4096 - 5, needle.size(), needle);  // straddles the first boundary
    bytes.replace(8192 + 100, needle.size(), needle);
    std::ofstream(dir / "space.bin", std::ios::binary) << bytes;
    std::ofstream(dir / "n.yar")
        << "rule needle { strings: $a = \"needle-across\" condition: $a }\n";
    SourceSeal seal({dir / "space.bin"});
    auto yara = YaraLibrary::initialize();
    REQUIRE(yara);
    auto rules =
        CompiledRules::build(*yara, {.packs = {dir / "n.yar"}, .keywords = {}, .cache_dir = {}});
    REQUIRE(rules);
    auto source = open_ok(dir / "space.bin");
    UnallocatedScanOptions options;
    options.rules = *rules;
    options.chunk_size = 4096;
    options.overlap = 64;
    UnallocatedRegion region;
    region.name = "unpartitioned";
    region.length = bytes.size();
    std::vector<UnallocatedRegion> regions{region};
    JobProgress progress;
    std::atomic<bool> cancel{false};
    Collect all;
    REQUIRE(scan_unallocated(*source, regions, options, progress, cancel, all));
    REQUIRE(all.hits.size() == 2);
    CHECK(all.hits[0].offset == 4096 - 5);
    CHECK(all.hits[1].offset == 8192 + 100);
    CHECK(all.hits[0].hit.name == "needle");
    CHECK(regions[0].complete);
    CHECK(regions[0].scanned_bytes == bytes.size());

    options.max_bytes = 4096;
    std::vector<UnallocatedRegion> limited{region};
    Collect some;
    REQUIRE(scan_unallocated(*source, limited, options, progress, cancel, some));
    REQUIRE(some.hits.size() == 1);  // the window past the limit was not scanned
    CHECK(some.hits[0].offset == 4096 - 5);
    CHECK_FALSE(limited[0].complete);
    CHECK(limited[0].scanned_bytes == 4096);
    CHECK_THAT(limited[0].message, Catch::Contains("4096 of 12288"));
    CHECK(seal.unchanged());
}
