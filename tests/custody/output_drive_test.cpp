// The output drive on a real (loop) block device: the only device Exhibit makes writable,
// only when it carries the EXHIBIT-OUT label Exhibit writes, only the picked partition and
// its disk, and each time a custody event. Needs root for loop devices and BLKROSET; the
// loop device's read-only flags are reset by PartitionedLoop's destructor.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <nlohmann/json.hpp>
#include <sstream>

#include "exhibit/case_db.hpp"
#include "exhibit/custody.hpp"
#include "exhibit/output_drive.hpp"
#include "exhibit/platform/block_device.hpp"
#include "exhibit/platform/device_discovery.hpp"
#include "exhibit/platform/write_protection.hpp"
#include "platform_fixtures.hpp"
#include "test_support.hpp"

using namespace exhibit;
using namespace exhibit::test;
using nlohmann::json;

namespace {

CaseRecord a_case() {
    CaseRecord c;
    c.case_reference = "OP-BLUEBIRD";
    c.exhibit_reference = "JD/1";
    c.operator_name = "DC Jane Doe";
    c.operator_id = "4711";
    return c;
}

bool read_only(const std::string& node) {
    platform::FileDescriptor fd;
    REQUIRE_FALSE(platform::open_read_only("/dev/" + node, fd));
    bool ro = false;
    REQUIRE_FALSE(platform::query_read_only(fd.get(), ro));
    return ro;
}

// The events after case_opened and operator_signed_in, as JSON, with the chain checked.
std::vector<json> later_events(CaseDatabase& db) {
    CustodyLog log(db);
    std::ostringstream out;
    REQUIRE(log.write_jsonl(out));
    CHECK(verify_custody_chain(out.str()).ok);
    std::vector<json> events;
    std::istringstream lines(out.str());
    for (std::string line; std::getline(lines, line);) {
        json j = json::parse(line);
        if (j["seq"].get<int>() > 2) events.push_back(j);
    }
    return events;
}

// Tries to write one sector of zeros at the start of the node: 0 when it went through,
// else the errno.
int try_write(const std::string& node) {
    int fd = ::open(("/dev/" + node).c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    std::vector<char> zeros(512, 0);
    int err = ::pwrite(fd, zeros.data(), zeros.size(), 0) == 512 && ::fsync(fd) == 0 ? 0 : errno;
    ::close(fd);
    return err;
}

}  // namespace

TEST_CASE(
    "an output drive is made writable only when Exhibit prepared it, and each time "
    "the custody log says so",
    "[custody][output-drive][loop]") {
    TempDir dir;
    const fs::path image = dir / "drive.img";
    write_random_file(image, 24 * 1024 * 1024, 97);
    REQUIRE(partition_image(image, {8, 0}));
    PartitionedLoop loop(image);
    if (loop.device.empty()) {
        WARN("SKIPPED: loop devices are not available here: " << loop.why);
        return;
    }
    REQUIRE(loop.partitions.size() == 2);
    const std::string disk = loop.name, evidence = loop.partitions[0], out = loop.partitions[1];
    // Partition 1 holds someone's file system: it stands for the evidence on the same disk.
    REQUIRE(run("mkfs.vfat -n EVIDENCE /dev/" + evidence + " >/dev/null 2>&1").exit_code == 0);
    const std::string evidence_sha = coreutils_digest("sha256sum", "/dev/" + evidence);

    // As the appliance's udev rules leave every attached device: read-only throughout.
    auto protect_all = [&] {
        auto d = platform::find_disk(loop.device.string());
        REQUIRE(d);
        REQUIRE(platform::protect(*d).verified);
    };
    protect_all();

    auto db = CaseDatabase::open(dir / "case.sqlite");
    REQUIRE(db);
    REQUIRE(open_case(**db, a_case()));
    const Operator who{"DC Jane Doe", "4711"};

    SECTION("a drive without the label, or holding a file system, is refused and stays read-only") {
        auto opened = open_output_drive(**db, who, "/dev/" + evidence);
        REQUIRE_FALSE(opened);
        CHECK(opened.error().kind == ErrorKind::InvalidArgument);
        CHECK_THAT(opened.error().message, Catch::Contains("/dev/" + evidence) &&
                                               Catch::Contains("'EVIDENCE'") &&
                                               Catch::Contains("EXHIBIT-OUT"));
        auto empty = open_output_drive(**db, who, "/dev/" + out);
        REQUIRE_FALSE(empty);
        CHECK_THAT(empty.error().message, Catch::Contains("no file system"));
        auto prepared = prepare_output_drive(**db, who, "/dev/" + evidence, false);
        REQUIRE_FALSE(prepared);
        CHECK_THAT(prepared.error().message, Catch::Contains("would erase"));
        CHECK(read_only(disk));
        CHECK(read_only(evidence));
        CHECK(read_only(out));
        CHECK(later_events(**db).empty());
        auto missing = open_output_drive(**db, who, "/dev/nonexistent-exhibit-drive");
        REQUIRE_FALSE(missing);
        CHECK(missing.error().kind == ErrorKind::NotFound);
    }

    SECTION("prepare labels the picked partition; open makes only it and its disk writable") {
        auto prepared = prepare_output_drive(**db, who, "/dev/" + out, false);
        REQUIRE(prepared);
        CHECK(prepared->device == "/dev/" + out);
        CHECK(prepared->fs_type == "ext4");
        CHECK(prepared->label == kOutputDriveLabel);
        CHECK(prepared->made_writable == std::vector<std::string>{disk, out});
        CHECK(read_only(evidence));
        auto shown = inspect_output_drive("/dev/" + out);
        REQUIRE(shown);
        CHECK(shown->label == kOutputDriveLabel);
        CHECK(shown->fs_uuid == prepared->fs_uuid);
        CHECK(run("blkid -o value -s LABEL /dev/" + out).out == "EXHIBIT-OUT\n");

        auto events = later_events(**db);
        REQUIRE(events.size() == 2);
        CHECK(events[0]["action"] == custody_action::kOutputDriveOpened);
        CHECK(events[0]["detail"]["made_writable"] == json::array({disk, out}));
        CHECK(events[0]["detail"]["fs_type"] == "");  // what it held before: nothing
        CHECK(events[1]["action"] == custody_action::kOutputDrivePrepared);
        CHECK(events[1]["detail"]["label"] == "EXHIBIT-OUT");
        CHECK(events[1]["detail"]["fs_uuid"] == prepared->fs_uuid);
        CHECK(events[1]["detail"]["device"] == "/dev/" + out);
        CHECK(events[1]["detail"].contains("clock"));

        // Unplugged and plugged in again: read-only again, until the operator picks it.
        protect_all();
        CHECK(try_write(out) != 0);
        auto opened = open_output_drive(**db, who, "/dev/" + out);
        REQUIRE(opened);
        CHECK(opened->made_writable == std::vector<std::string>{disk, out});
        CHECK_FALSE(read_only(disk));
        CHECK_FALSE(read_only(out));
        CHECK(read_only(evidence));
        CHECK(try_write(out) == 0);
        CHECK(try_write(evidence) != 0);
        events = later_events(**db);
        REQUIRE(events.size() == 3);
        CHECK(events[2]["action"] == custody_action::kOutputDriveOpened);
        CHECK(events[2]["detail"]["label"] == "EXHIBIT-OUT");
        CHECK(events[2]["detail"]["size_bytes"] == opened->size_bytes);

        // Picked again while still writable (the zeros went to sector 0, not the ext4
        // superblock at 1 KiB): nothing to change, and still recorded.
        auto again = open_output_drive(**db, who, "/dev/" + out);
        REQUIRE(again);
        CHECK(again->made_writable.empty());
        CHECK(later_events(**db).size() == 4);
    }

    SECTION("the command line: show changes nothing, open refuses, prepare records") {
        const std::string cli = cli_path().string();
        const std::string db_path = (dir / "case.sqlite").string();
        auto shown = run(cli + " output-drive show --json /dev/" + evidence, true);
        REQUIRE(shown.exit_code == 0);
        json j = json::parse(shown.out);
        CHECK(j["label"] == "EVIDENCE");
        CHECK(j["made_writable"].empty());
        auto refused =
            run(cli + " output-drive open /dev/" + evidence + " --case-db " + db_path, true);
        CHECK(refused.exit_code == 4);
        CHECK_THAT(refused.out, Catch::Contains("not one labelled EXHIBIT-OUT"));
        auto prepared =
            run(cli + " output-drive prepare /dev/" + out + " --case-db " + db_path, true);
        CHECK(prepared.exit_code == 0);
        CHECK_THAT(prepared.out, Catch::Contains("made writable: /dev/" + disk + ", /dev/" + out));
        CHECK(later_events(**db).size() == 2);
        CHECK(read_only(evidence));
    }
    CHECK(coreutils_digest("sha256sum", "/dev/" + evidence) == evidence_sha);
}
