#include "test_support.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace exhibit::test {

CommandResult run(const std::string& command, bool with_stderr) {
    CommandResult result;
    std::string full = command + (with_stderr ? " 2>&1" : "");
    FILE* pipe = ::popen(full.c_str(), "r");
    if (!pipe) throw std::runtime_error("cannot run " + command);
    std::array<char, 4096> buffer;
    std::size_t n;
    while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
        result.out.append(buffer.data(), n);
    int status = ::pclose(pipe);
    result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return result;
}

std::string sh_quote(const std::string& text) {
    std::string quoted = "'";
    for (char c : text) {
        if (c == '\'') {
            quoted += "'\\''";
        } else {
            quoted += c;
        }
    }
    return quoted + "'";
}

std::string coreutils_digest_of_files(const std::string& tool, const std::vector<fs::path>& files) {
    std::string command = "cat";
    for (const auto& f : files)
        command += " " + sh_quote(f.string());
    auto r = run(command + " | " + tool);
    if (r.exit_code != 0 || r.out.size() < 32) throw std::runtime_error(tool + " failed");
    return r.out.substr(0, r.out.find(' '));
}

std::string coreutils_digest(const std::string& tool, const fs::path& file) {
    auto r = run(tool + " " + sh_quote(file.string()));
    if (r.exit_code != 0) throw std::runtime_error(tool + " failed on " + file.string());
    return r.out.substr(0, r.out.find(' '));
}

TempDir::TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/exhibit-test-XXXXXX";
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
}

TempDir::~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
}

SourceSeal::SourceSeal(std::vector<fs::path> files) {
    for (auto& f : files)
        sums_.emplace_back(f, coreutils_digest("sha256sum", f));
}

bool SourceSeal::unchanged() const {
    for (const auto& [file, sum] : sums_) {
        if (coreutils_digest("sha256sum", file) != sum) return false;
    }
    return true;
}

void write_random_file(const fs::path& path, std::uint64_t size, std::uint32_t seed) {
    std::mt19937_64 rng(seed);
    std::ofstream out(path, std::ios::binary);
    std::vector<std::uint64_t> block(1 << 16);
    while (size > 0) {
        for (auto& w : block)
            w = rng();
        std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(size, block.size() * 8));
        out.write(reinterpret_cast<const char*>(block.data()), static_cast<std::streamsize>(n));
        size -= n;
    }
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::vector<unsigned char> read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string read_file_text(const fs::path& path) {
    auto bytes = read_file(path);
    return {bytes.begin(), bytes.end()};
}

std::unique_ptr<Source> open_ok(const fs::path& path) {
    auto src = open_source(path);
    INFO(path.string() << ": " << (src ? "" : src.error().message));
    REQUIRE(src);
    return std::move(*src);
}

LoopDevice::LoopDevice(const fs::path& image, bool read_only) {
    if (::geteuid() != 0) return;
    auto r = run(std::string("losetup -f --show ") + (read_only ? "-r " : "") +
                 sh_quote(image.string()));
    if (r.exit_code != 0) return;
    device = r.out.substr(0, r.out.find('\n'));
    // A loop device keeps a read-only flag set by BLKROSET after it is detached; a test that
    // asked for a writable one must not inherit an earlier test's protection.
    if (!read_only) run("blockdev --setrw " + sh_quote(device.string()));
}

LoopDevice::~LoopDevice() {
    if (device.empty()) return;
    run("blockdev --setrw " + sh_quote(device.string()));
    run("losetup -d " + sh_quote(device.string()));
}

std::vector<TruthRow> sample_truth() {
    std::istringstream lines(read_file_text(sample_dir() / "truth.tsv"));
    std::string line;
    std::getline(lines, line);  // header
    std::vector<TruthRow> rows;
    while (std::getline(lines, line)) {
        std::vector<std::string> c;
        std::istringstream cols(line);
        for (std::string col; std::getline(cols, col, '\t');)
            c.push_back(col);
        c.resize(10);
        rows.push_back({std::stoi(c[0]), c[1], c[2], std::stoull(c[3]), c[4], c[5], c[6],
                        c[7] == "1", c[8], c[9]});
    }
    return rows;
}

fs::path sample_dir() {
    return EXHIBIT_SAMPLE_DIR;
}

std::vector<char> sample_partition(int partition) {
    std::uint64_t start = 0, count = 0;
    std::ifstream layout(sample_dir() / "layout.tsv");
    const std::string prefix = std::to_string(partition) + "\t";
    for (std::string line; std::getline(layout, line);) {
        if (line.rfind(prefix, 0) != 0) continue;
        std::istringstream f(line);
        std::string part, type;
        f >> part >> type >> start >> count;
    }
    REQUIRE(count > 0);
    std::ifstream in(sample_image(), std::ios::binary);
    std::vector<char> volume(count * 512u);
    in.seekg(static_cast<std::streamoff>(start * 512u));
    in.read(volume.data(), static_cast<std::streamsize>(volume.size()));
    REQUIRE(in.gcount() == static_cast<std::streamsize>(volume.size()));
    return volume;
}

std::vector<std::uint64_t> write_mbr_disk(const fs::path& disk,
                                          const std::vector<MbrVolume>& volumes) {
    REQUIRE(volumes.size() <= 4);
    std::vector<char> image(2048 * 512u, 0);
    std::vector<std::uint64_t> starts;
    std::uint64_t next = 2048;
    for (std::size_t i = 0; i < volumes.size(); ++i) {
        const std::uint64_t sectors = (volumes[i].bytes.size() + 511) / 512;
        char* e = image.data() + 446 + 16 * i;
        e[4] = static_cast<char>(volumes[i].type);
        for (int k = 0; k < 4; ++k) {
            e[8 + k] = static_cast<char>((next >> (8 * k)) & 0xff);
            e[12 + k] = static_cast<char>((sectors >> (8 * k)) & 0xff);
        }
        starts.push_back(next);
        image.resize(next * 512, 0);
        image.insert(image.end(), volumes[i].bytes.begin(), volumes[i].bytes.end());
        image.resize((next + sectors) * 512, 0);
        next = (next + sectors + 2047) / 2048 * 2048;
    }
    image[510] = 0x55;
    image[511] = static_cast<char>(0xaa);
    std::ofstream out(disk, std::ios::binary);
    out.write(image.data(), static_cast<std::streamsize>(image.size()));
    REQUIRE(out.good());
    return starts;
}

fs::path sample_small_disk(const fs::path& dir) {
    const fs::path disk = dir / "small-disk.img";
    write_mbr_disk(disk, {{0x0e, sample_partition(5)}});
    return disk;
}

fs::path sample_image() {
    return sample_dir() / "sample.img";
}

fs::path shared_testdata() {
    fs::path p = EXHIBIT_SHARED_TESTDATA;
    std::error_code ec;
    return fs::is_directory(p, ec) ? p : fs::path();
}

fs::path cli_path() {
    return EXHIBIT_CLI;
}
bool is_root() {
    return ::geteuid() == 0;
}

}  // namespace exhibit::test
