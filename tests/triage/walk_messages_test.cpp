// The per-file messages a parser worker sends (entry, begin, end, findings): what goes in
// comes out, and anything malformed is one Error naming the message, never a throw or a
// read past the payload (the worker is untrusted).
#include <catch2/catch.hpp>
#include <cstring>
#include <string>
#include <vector>

#include "triage/walk_messages.hpp"

using namespace exhibit;
using namespace exhibit::triage_detail;

namespace {

FileEntry sample_entry() {
    FileEntry e;
    e.file_system = 1;
    e.path = "Users/alice/Documents/report.docx:Zone.Identifier";
    e.name = "report.docx";
    e.stream = "Zone.Identifier";
    e.meta_address = 123456789012ull;
    e.name_type = 'r';
    e.meta_type = 'r';
    e.size = 5ull << 32;
    e.name_allocated = false;
    e.meta_allocated = true;
    e.modified = 1700000000;
    e.accessed = -1;
    e.changed = 0;
    e.created = -86400;
    e.mode = 0100644;
    e.uid = 1000;
    e.gid = 4294967295u;
    e.stream_type = 128;
    e.stream_id = 4;
    e.first_block = 777;
    return e;
}

ContentResult sample_findings() {
    ContentResult r;
    r.content_read = true;
    FileFindings& f = r.findings;
    f.hashes.md5 = "d41d8cd98f00b204e9800998ecf8427e";
    f.hashes.sha1 = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
    f.hashes.sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    f.mime_type = "application/pdf";
    f.type_description = "PDF document, version 1.5";
    f.extension_mismatch = true;
    f.hash_status = "known-bad";
    f.hits.push_back({"yara", "pem_private_key", "private_keys", "high", R"({"strings":[]})"});
    f.hits.push_back({"hashset", "demo", "csam", "known-bad", "{}"});
    f.notes.push_back({"yara-truncated", "/big.bin", "first 1024 of 4096 bytes"});
    f.yara = {1, 1024, 1, 0};
    return r;
}

std::string error_of(const Error& e) {
    return e.message;
}

}  // namespace

TEST_CASE("an entry, a begin, an end and findings come out as they went in", "[walk]") {
    const FileEntry e = sample_entry();
    auto entry = decode_entry(encode_entry(e, true));
    REQUIRE(entry);
    CHECK(entry->content_follows);
    const FileEntry& d = entry->entry;
    CHECK(d.file_system == e.file_system);
    CHECK(d.path == e.path);
    CHECK(d.name == e.name);
    CHECK(d.stream == e.stream);
    CHECK(d.meta_address == e.meta_address);
    CHECK(d.name_type == 'r');
    CHECK(d.meta_type == 'r');
    CHECK(d.size == e.size);
    CHECK_FALSE(d.name_allocated);
    CHECK(d.meta_allocated);
    CHECK(d.modified == e.modified);
    CHECK(d.accessed == -1);
    CHECK(d.changed == 0);
    CHECK(d.created == -86400);
    CHECK(d.mode == e.mode);
    CHECK(d.uid == e.uid);
    CHECK(d.gid == e.gid);
    CHECK(d.stream_type == e.stream_type);
    CHECK(d.stream_id == e.stream_id);
    CHECK(d.first_block == e.first_block);

    auto begin = decode_begin(encode_begin(42));
    REQUIRE(begin);
    CHECK(*begin == 42);
    auto end = decode_end(encode_end(false, "content unreadable at offset 0"));
    REQUIRE(end);
    CHECK_FALSE(end->complete);
    CHECK(end->error == "content unreadable at offset 0");

    const ContentResult r = sample_findings();
    auto found = decode_findings(encode_findings(9, r));
    REQUIRE(found);
    CHECK(found->ordinal == 9);
    const FileFindings& f = found->result.findings;
    CHECK(found->result.content_read);
    CHECK(f.hashes.md5 == r.findings.hashes.md5);
    CHECK(f.hashes.sha1 == r.findings.hashes.sha1);
    CHECK(f.hashes.sha256 == r.findings.hashes.sha256);
    CHECK(f.mime_type == "application/pdf");
    CHECK(f.type_description == "PDF document, version 1.5");
    CHECK(f.extension_mismatch);
    CHECK(f.hash_status == "known-bad");
    REQUIRE(f.hits.size() == 2);
    CHECK(f.hits[0].name == "pem_private_key");
    CHECK(f.hits[0].detail == R"({"strings":[]})");
    CHECK(f.hits[1].severity == "known-bad");
    REQUIRE(f.notes.size() == 1);
    CHECK(f.notes[0].message == "first 1024 of 4096 bytes");
    CHECK(f.yara.bytes == 1024);
    CHECK(f.yara.truncated == 1);
}

TEST_CASE("malformed per-file messages are one Error each, whatever is wrong", "[walk]") {
    const auto entry = encode_entry(sample_entry(), true);
    const auto findings = encode_findings(9, sample_findings());

    SECTION("cut short anywhere") {
        for (std::size_t n = 0; n < entry.size(); ++n) {
            auto d = decode_entry(std::span(entry).first(n));
            REQUIRE_FALSE(d);
            CHECK(error_of(d.error()).starts_with(
                "the parser worker sent a malformed entry message"));
        }
        for (std::size_t n = 0; n < findings.size(); ++n)
            REQUIRE_FALSE(decode_findings(std::span(findings).first(n)));
        const auto begin = encode_begin(1);
        CHECK_FALSE(decode_begin(std::span(begin).first(7)));
        CHECK_FALSE(decode_end({}));
    }
    SECTION("bytes after the last field") {
        auto longer = entry;
        longer.push_back(std::byte{0});
        auto d = decode_entry(longer);
        REQUIRE_FALSE(d);
        CHECK(error_of(d.error()).find("bytes after the last field") != std::string::npos);
        auto begin = encode_begin(1);
        begin.push_back(std::byte{0});
        CHECK_FALSE(decode_begin(begin));
    }
    SECTION("a string longer than the message") {
        auto bad = entry;
        const std::uint32_t huge = 0xfffffff0u;
        std::memcpy(bad.data() + 4, &huge, 4);  // the path's length
        CHECK_FALSE(decode_entry(bad));
    }
    SECTION("a flag that is neither 0 nor 1") {
        auto bad = encode_end(true, "");
        bad[0] = std::byte{2};
        auto d = decode_end(bad);
        REQUIRE_FALSE(d);
        CHECK(error_of(d.error()).find("neither 0 nor 1") != std::string::npos);
    }
    SECTION("more hits than the message could hold") {
        ContentResult none;
        auto bad = encode_findings(1, none);
        // ordinal 8, read 1, five empty strings 20, mismatch 1, status 4: the hit count.
        const std::size_t at = 8 + 1 + 4 + 4 + 4 + 4 + 4 + 4 + 1 + 4;
        const std::uint32_t many = 100000000;
        std::memcpy(bad.data() + at, &many, 4);
        auto d = decode_findings(bad);
        REQUIRE_FALSE(d);
        CHECK(error_of(d.error()).find("more than the rest of the message holds") !=
              std::string::npos);
    }
    SECTION("a digest that is not one") {
        ContentResult r = sample_findings();
        r.findings.hashes.md5 = std::string(32, 'Z');
        CHECK_FALSE(decode_findings(encode_findings(1, r)));
    }
}
