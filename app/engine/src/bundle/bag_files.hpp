// File operations the bundle code shares: hashing, copying while hashing, durable writes,
// and the bundle's fixed names.
#pragma once

#include <atomic>
#include <filesystem>
#include <string>

#include "exhibit/error.hpp"
#include "exhibit/progress.hpp"
#include "io/durable_file.hpp"

namespace exhibit::bag {

inline constexpr const char* kBagit = "bagit.txt";
inline constexpr const char* kBagInfo = "bag-info.txt";
inline constexpr const char* kManifest = "manifest-sha256.txt";
inline constexpr const char* kTagManifest = "tagmanifest-sha256.txt";
inline constexpr const char* kSeal = "seal.json";
inline constexpr const char* kSealFormat = "exhibit-seal-v1";
inline constexpr const char* kBagitText =
    "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n";

// SHA-256 of a file's bytes, read in 1 MiB blocks; adds to `progress` as it goes.
Expected<std::string> sha256_file(const std::filesystem::path& path, JobProgress* progress,
                                  const std::atomic<bool>* cancel);
// Copies `from` to a new file `to` (never overwriting), fsyncs it, and returns the SHA-256
// of the bytes written, computed from the same reads.
Expected<std::string> copy_hashing(const std::filesystem::path& from,
                                   const std::filesystem::path& to, JobProgress& progress,
                                   const std::atomic<bool>& cancel);
// Writes `text` to a new file and fsyncs it.
inline Status write_file(const std::filesystem::path& path, const std::string& text) {
    return io::write_new_file(path, text);
}
using io::read_text;
using io::sync_directory;

}  // namespace exhibit::bag
