// Shared test helpers: external reference tools, temporary directories, the sample
// device, and the "source unchanged" check every test that opens a source makes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "exhibit/source.hpp"

namespace exhibit::test {

namespace fs = std::filesystem;

struct CommandResult {
    int exit_code = -1;
    std::string out;  // stdout (and stderr when asked)
};

// Runs `command` with /bin/sh; stderr is captured too when `with_stderr`.
CommandResult run(const std::string& command, bool with_stderr = false);

// Quotes for /bin/sh.
std::string sh_quote(const std::string& text);

// Digests by coreutils (md5sum, sha1sum, sha256sum), independent of our OpenSSL path.
std::string coreutils_digest(const std::string& tool, const fs::path& file);
std::string coreutils_digest_of_files(const std::string& tool, const std::vector<fs::path>& files);

// A fresh directory under $TMPDIR (or /tmp), removed with everything in it.
class TempDir {
  public:
    TempDir();
    ~TempDir();
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const fs::path& path() const { return path_; }
    fs::path operator/(const std::string& name) const { return path_ / name; }

  private:
    fs::path path_;
};

// Records the SHA-256 of evidence files when made; unchanged() re-hashes and compares.
class SourceSeal {
  public:
    explicit SourceSeal(std::vector<fs::path> files);
    bool unchanged() const;

  private:
    std::vector<std::pair<fs::path, std::string>> sums_;
};

// Writes `size` pseudo-random (incompressible) bytes derived from `seed`.
void write_random_file(const fs::path& path, std::uint64_t size, std::uint32_t seed);
std::vector<unsigned char> read_file(const fs::path& path);
std::string read_file_text(const fs::path& path);

// open_source that must succeed (the test stops with the error message otherwise).
std::unique_ptr<Source> open_ok(const fs::path& path);

// A loop device over `image`, detached on destruction; `device` stays empty when this
// machine does not allow loop devices (not root, no /dev/loop-control).
struct LoopDevice {
    fs::path device;
    LoopDevice(const fs::path& image, bool read_only);
    ~LoopDevice();
    LoopDevice(const LoopDevice&) = delete;
    LoopDevice& operator=(const LoopDevice&) = delete;
};

// One row of the sample device's truth manifest (tests/sample/README.md).
struct TruthRow {
    int partition = 0;
    std::string fs;    // fat32, ext4, ntfs, fat16
    std::string path;  // from the file-system root, with a leading "/"
    std::uint64_t size = 0;
    std::string md5, sha1, sha256;
    bool deleted = false;
    std::string keywords;
    std::string kind;  // text, binary, jpeg, empty
};
std::vector<TruthRow> sample_truth();

fs::path sample_image();  // built by the sample_device ctest fixture
fs::path sample_dir();
// The bytes of the sample device's partition `partition` (as tests/sample/layout.tsv
// numbers them).
std::vector<char> sample_partition(int partition);
// Writes an MBR disk holding each volume in a primary partition of its type (at most four),
// the first at sector 2048 and each next one on the next 1 MiB boundary, zero-padded to
// whole sectors. Returns each volume's first sector.
struct MbrVolume {
    unsigned char type;
    std::vector<char> bytes;
};
std::vector<std::uint64_t> write_mbr_disk(const fs::path& disk,
                                          const std::vector<MbrVolume>& volumes);
// The sample device's 16 MiB FAT16 volume (partition 5) behind a one-partition MBR:
// `dir`/small-disk.img, 17 MiB, for tests that run a whole job many times.
fs::path sample_small_disk(const fs::path& dir);
// ../shared/testdata, or empty when that folder is absent.
fs::path shared_testdata();
fs::path cli_path();
bool is_root();

}  // namespace exhibit::test
