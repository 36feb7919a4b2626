// Mounts tests/faults/fault_fs.cpp (exhibit-fault-fs) over an image for one test: the
// image appears as a file on a FUSE mount whose reads fail with real kernel errors at
// chosen places. Unmounted and the helper reaped on destruction.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace exhibit::test {

struct FaultFsPlan {
    struct Range {
        std::uint64_t offset = 0;
        std::uint64_t length = 0;
    };
    std::vector<Range> bad;                  // reads touching these fail with EIO
    std::optional<std::uint64_t> vanish_at;  // the first read reaching here, and all after, fail
    std::optional<std::uint64_t> vanish_after_bytes;  // ... once this much has been served
    std::string vanish_errno = "ENODEV";              // or "EIO"
};

// Empty when FUSE can be mounted here, else why not (for a SKIPPED warning).
std::string fuse_unavailable();

class FaultFsMount {
  public:
    FaultFsMount(const std::filesystem::path& image, const FaultFsPlan& plan);
    ~FaultFsMount();
    FaultFsMount(const FaultFsMount&) = delete;
    FaultFsMount& operator=(const FaultFsMount&) = delete;

    bool mounted() const { return why_.empty(); }
    const std::string& why() const { return why_; }  // why the mount failed
    // The image as the mount shows it.
    std::filesystem::path file() const { return dir_ / name_; }

  private:
    std::filesystem::path dir_;
    std::string name_;
    pid_t pid_ = -1;
    std::string why_;
};

}  // namespace exhibit::test
