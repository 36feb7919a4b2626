// Shared by the platform tests: the committed sysfs fixture trees, and a loop device with
// partitions that is always put back and detached.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace exhibit::test {

// tests/platform/fixtures/<name>: a sysfs root (see the README.md in each).
std::filesystem::path sysfs_fixture(const std::string& name);

// Copies a fixture tree (symlinks as symlinks) to `to`, so a test can change it.
void copy_fixture(const std::string& name, const std::filesystem::path& to);

// A loop device over `image` with partition scanning. The destructor sets the disk and its
// partitions back to read-write (the kernel keeps BLKROSET across detach and re-attach, so a
// protected loop device would otherwise stay read-only for whoever gets it next), removes
// the partitions and detaches it. `device` is empty when this machine does not allow loop
// devices; `why` then says why.
class PartitionedLoop {
  public:
    explicit PartitionedLoop(const std::filesystem::path& image);
    ~PartitionedLoop();
    PartitionedLoop(const PartitionedLoop&) = delete;
    PartitionedLoop& operator=(const PartitionedLoop&) = delete;

    std::filesystem::path device;         // /dev/loopN
    std::string name;                     // loopN
    std::vector<std::string> partitions;  // loopNp1, ... as the kernel made them
    std::string why;
};

// Writes a DOS partition table with partitions of the given sizes in MiB (the last one takes
// the rest when 0) into `image` with sfdisk.
bool partition_image(const std::filesystem::path& image, const std::vector<int>& sizes_mib);

}  // namespace exhibit::test
