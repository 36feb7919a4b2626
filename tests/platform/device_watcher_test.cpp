#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

#include "exhibit/platform/device_watcher.hpp"
#include "platform_fixtures.hpp"
#include "test_support.hpp"

using namespace exhibit;
using namespace exhibit::test;
using Kind = platform::DeviceEvent::Kind;

namespace {

// Collects events from the watcher thread; wait_for() blocks until one matches or time runs out.
class EventLog {
  public:
    platform::DeviceWatcher::Observer observer() {
        return [this](const platform::DeviceEvent& e) {
            std::lock_guard lock(mutex_);
            events_.push_back(e);
            changed_.notify_all();
        };
    }
    bool wait_for(Kind kind, const std::string& name,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        std::unique_lock lock(mutex_);
        return changed_.wait_for(lock, timeout, [&] {
            for (const auto& e : events_) {
                if (e.kind == kind && e.name == name) return true;
            }
            return false;
        });
    }
    std::vector<platform::DeviceEvent> events() {
        std::lock_guard lock(mutex_);
        return events_;
    }

  private:
    std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<platform::DeviceEvent> events_;
};

void put(const fs::path& file, const std::string& text) {
    std::ofstream(file) << text << "\n";
}

}  // namespace

TEST_CASE("the polling watcher reports disks and partitions added, resized and removed",
          "[platform][watch]") {
    TempDir dir;
    copy_fixture("virtio", dir.path());
    platform::DeviceWatcher::Options options;
    options.sysfs_root = dir.path();
    options.mode = platform::DeviceWatcher::Mode::Polling;
    options.poll_interval = std::chrono::milliseconds(20);
    platform::DeviceWatcher watcher(options);
    EventLog log;
    watcher.add_observer(log.observer());
    REQUIRE_FALSE(watcher.start());
    CHECK(watcher.running());
    CHECK_FALSE(watcher.listening_to_uevents());

    // Plug in a USB stick. Like the kernel, make the device directory complete first and the
    // block/ link last, so no rescan sees it half made.
    TempDir staging;
    copy_fixture("handmade_usb_stick", staging.path());
    const std::string controller = "devices/pci0000:00/0000:00:14.0";
    fs::rename(staging / controller, dir / controller);
    for (const char* link :
         {"class/block/sdb", "class/block/sdb1", "dev/block/8:16", "dev/block/8:17", "block/sdb"}) {
        fs::copy_symlink(staging / link, dir / link);
    }
    REQUIRE(log.wait_for(Kind::Added, "sdb"));
    REQUIRE(log.wait_for(Kind::Added, "sdb1"));

    // A new medium of another size.
    const fs::path sdb = fs::path(dir.path()) / "block" / "sdb";
    put(dir / "size.new", "60062500");
    fs::rename(dir / "size.new", fs::canonical(sdb) / "size");
    REQUIRE(log.wait_for(Kind::Changed, "sdb"));

    // Pull it out.
    fs::remove(dir / "block/sdb");
    fs::remove(dir / "class/block/sdb");
    fs::remove(dir / "class/block/sdb1");
    fs::remove_all(dir / controller);
    REQUIRE(log.wait_for(Kind::Removed, "sdb1"));
    REQUIRE(log.wait_for(Kind::Removed, "sdb"));
    watcher.stop();
    CHECK_FALSE(watcher.running());

    // Devices present at start are not reported; disks come before their partitions when added
    // and after them when removed; nothing is reported twice.
    std::vector<std::string> seen;
    for (const auto& e : log.events())
        seen.push_back(std::string(to_string(e.kind)) + " " + e.name);
    CHECK(seen == std::vector<std::string>{"added sdb", "added sdb1", "changed sdb", "removed sdb1",
                                           "removed sdb"});
    CHECK(log.events()[2].size_bytes == 60062500ull * 512);
}

TEST_CASE("a watcher starts and stops cleanly, repeatedly and without start", "[platform][watch]") {
    TempDir dir;
    copy_fixture("loop", dir.path());
    {
        platform::DeviceWatcher never_started;
        never_started.stop();
    }
    platform::DeviceWatcher::Options options;
    options.sysfs_root = dir.path();
    options.poll_interval = std::chrono::seconds(30);  // stop() must not wait for a tick
    for (int i = 0; i < 3; ++i) {
        platform::DeviceWatcher watcher(options);
        auto started = std::chrono::steady_clock::now();
        REQUIRE_FALSE(watcher.start());
        REQUIRE_FALSE(watcher.start());  // a second start is a no-op
        watcher.stop();
        watcher.stop();
        CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(5));
    }
}

TEST_CASE("the uevent watcher follows a loop device's partitions appearing and going",
          "[platform][watch][loop]") {
    TempDir dir;
    const fs::path image = dir / "evidence.img";
    write_random_file(image, 8 * 1024 * 1024, 63);
    REQUIRE(partition_image(image, {3, 0}));
    SourceSeal seal({image});
    if (!is_root()) {
        WARN("SKIPPED: needs root to attach loop devices");
        return;
    }
    // A rescan tick far beyond the test's waits: events arriving in time came from uevents.
    EventLog log;
    platform::DeviceWatcher::Options options;
    options.poll_interval = std::chrono::minutes(5);
    auto watcher = std::make_unique<platform::DeviceWatcher>(options);
    watcher->add_observer(log.observer());
    REQUIRE_FALSE(watcher->start());
    if (!watcher->listening_to_uevents()) {
        WARN("netlink uevents are not available here; checking the polling fallback instead");
        options.poll_interval = std::chrono::milliseconds(200);
        watcher = std::make_unique<platform::DeviceWatcher>(options);
        watcher->add_observer(log.observer());
        REQUIRE_FALSE(watcher->start());
    }
    std::string name;
    {
        PartitionedLoop loop(image);
        if (loop.device.empty()) {
            WARN("SKIPPED: loop devices are not available here: " << loop.why);
            return;
        }
        name = loop.name;
        REQUIRE(loop.partitions.size() == 2);
        CHECK(log.wait_for(Kind::Added, name + "p1"));
        CHECK(log.wait_for(Kind::Added, name + "p2"));
    }
    CHECK(log.wait_for(Kind::Removed, name + "p1"));
    CHECK(log.wait_for(Kind::Removed, name + "p2"));
    watcher->stop();
    CHECK(seal.unchanged());
}

TEST_CASE("`exhibit devices --watch` prints a loop device's partitions as they come and go",
          "[platform][watch][loop][cli]") {
    TempDir dir;
    const fs::path image = dir / "evidence.img";
    write_random_file(image, 8 * 1024 * 1024, 64);
    REQUIRE(partition_image(image, {3, 0}));
    SourceSeal seal({image});
    if (!is_root()) {
        WARN("SKIPPED: needs root to attach loop devices");
        return;
    }
    // SIGINT after 4 s is the operator's Ctrl-C: a clean end, exit code 0.
    auto watching = std::async(std::launch::async, [&] {
        return run("timeout --preserve-status -s INT 4 " + sh_quote(cli_path().string()) +
                   " devices --watch --json");
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    std::string name;
    {
        PartitionedLoop loop(image);
        if (loop.device.empty()) {
            WARN("SKIPPED: loop devices are not available here: " << loop.why);
            return;
        }
        name = loop.name;
        std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    }
    auto r = watching.get();
    INFO(r.out);
    CHECK(r.exit_code == 0);
    // The listing first, then one JSON line per event.
    CHECK_THAT(r.out, Catch::StartsWith("{\"devices\":"));
    CHECK_THAT(r.out, Catch::Contains("{\"event\":\"added\",\"name\":\"" + name + "p1\""));
    CHECK_THAT(r.out, Catch::Contains("{\"event\":\"removed\",\"name\":\"" + name + "p1\""));
    CHECK(seal.unchanged());
}

TEST_CASE("a kernel uevent is parsed into its action, devpath and fields", "[platform][uevent]") {
    using namespace std::string_view_literals;
    auto e = platform::parse_uevent(
        "add@/devices/virtual/block/loop3\0ACTION=add\0SUBSYSTEM=block\0DEVNAME=loop3\0"
        "DEVTYPE=disk\0PARTNAME=a=b"sv);  // the last field without its NUL
    REQUIRE(e);
    CHECK(e->action == "add");
    CHECK(e->devpath == "/devices/virtual/block/loop3");
    CHECK(e->fields.at("SUBSYSTEM") == "block");
    CHECK(e->fields.at("DEVNAME") == "loop3");
    CHECK(e->fields.at("PARTNAME") == "a=b");
    CHECK(e->fields.size() == 5);
    // udev's re-broadcast, a header without '@', fields without '=' or key: not uevents.
    CHECK_FALSE(platform::parse_uevent("libudev\0\xfe\xed\xca\xfe"sv));
    CHECK_FALSE(platform::parse_uevent("add\0SUBSYSTEM=block\0"sv));
    CHECK_FALSE(platform::parse_uevent("@/devices/x\0"sv));
    CHECK_FALSE(platform::parse_uevent("add@\0"sv));
    CHECK_FALSE(platform::parse_uevent("add@/devices/x\0SUBSYSTEM\0"sv));
    CHECK_FALSE(platform::parse_uevent("add@/devices/x\0=block\0"sv));
    CHECK_FALSE(platform::parse_uevent(""sv));
}
