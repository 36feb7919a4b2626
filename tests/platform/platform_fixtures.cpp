#include "platform_fixtures.hpp"

#include <chrono>
#include <thread>

#include "test_support.hpp"

namespace exhibit::test {

fs::path sysfs_fixture(const std::string& name) {
    return fs::path(EXHIBIT_TEST_SOURCE_DIR) / "platform" / "fixtures" / name;
}

void copy_fixture(const std::string& name, const fs::path& to) {
    // Merges into `to`, so several fixtures can share one root; their READMEs stay behind.
    const fs::path from = sysfs_fixture(name);
    for (fs::recursive_directory_iterator it(from), end; it != end; ++it) {
        const fs::path target = to / it->path().lexically_relative(from);
        if (it->is_symlink()) {
            if (!fs::is_symlink(target)) fs::copy_symlink(it->path(), target);
        } else if (it->is_directory()) {
            fs::create_directories(target);
        } else if (it->path().filename() != "README.md" && !fs::exists(target)) {
            fs::copy_file(it->path(), target);
        }
    }
}

bool partition_image(const fs::path& image, const std::vector<int>& sizes_mib) {
    std::string script = "label: dos\n";
    for (int mib : sizes_mib)
        script += mib > 0 ? "," + std::to_string(mib) + "M\n" : ",\n";
    auto r = run("printf " + sh_quote(script) + " | sfdisk -q " + sh_quote(image.string()), true);
    return r.exit_code == 0;
}

PartitionedLoop::PartitionedLoop(const fs::path& image) {
    if (!is_root()) {
        why = "needs root to attach loop devices";
        return;
    }
    if (!fs::exists("/dev/loop-control")) {
        why = "/dev/loop-control is absent";
        return;
    }
    auto r = run("losetup -f --show -P " + sh_quote(image.string()), true);
    if (r.exit_code != 0) {
        why = "losetup failed: " + r.out;
        return;
    }
    device = r.out.substr(0, r.out.find('\n'));
    name = device.filename().string();
    const fs::path sys = fs::path("/sys/block") / name;
    // Kernels built without the DOS partition parser scan nothing: add them with BLKPG.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!fs::exists(sys / (name + "p1"))) run("partx -a " + sh_quote(device.string()), true);
    for (int i = 1; fs::exists(sys / (name + "p" + std::to_string(i))); ++i) {
        partitions.push_back(name + "p" + std::to_string(i));
    }
    // devtmpfs makes the nodes; give it a moment.
    for (int tries = 0; tries < 50; ++tries) {
        bool all = true;
        for (const auto& p : partitions)
            all = all && fs::exists("/dev/" + p);
        if (all) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

PartitionedLoop::~PartitionedLoop() {
    if (device.empty()) return;
    for (const auto& p : partitions)
        run("blockdev --setrw /dev/" + p + " 2>/dev/null", true);
    run("blockdev --setrw " + sh_quote(device.string()), true);
    run("partx -d " + sh_quote(device.string()) + " 2>/dev/null", true);
    run("losetup -d " + sh_quote(device.string()), true);
}

}  // namespace exhibit::test
