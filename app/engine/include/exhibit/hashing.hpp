// Message digests through OpenSSL's EVP interface (SHA-NI where the CPU has it).
//
//   Digest md5(HashAlgorithm::Md5);
//   md5.update(bytes);
//   std::string hex = md5.finish_hex();
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace exhibit {

enum class HashAlgorithm { Md5, Sha1, Sha256 };
const char* to_string(HashAlgorithm algorithm);  // "md5", "sha1", "sha256"

// One whole-media or whole-file set of digests, lowercase hex; empty when not computed.
struct Hashes {
    std::string md5;
    std::string sha1;
    std::string sha256;
    bool operator==(const Hashes&) const = default;
};

class Digest {
  public:
    explicit Digest(HashAlgorithm algorithm);
    Digest(Digest&&) noexcept;
    Digest& operator=(Digest&&) noexcept;
    ~Digest();

    void update(std::span<const std::byte> data);
    // Ends the digest and returns it as lowercase hex; the Digest is then reset for reuse.
    std::string finish_hex();
    // The digest of everything so far, as lowercase hex, leaving the Digest running
    // (acquisition checkpoints record the hashes of the image prefix with it).
    std::string peek_hex() const;

  private:
    struct State;
    std::unique_ptr<State> state_;
};

std::string to_hex(std::span<const unsigned char> bytes);
// Inverse of to_hex; returns an empty vector for text that is not even-length hex.
std::vector<unsigned char> from_hex(const std::string& hex);

}  // namespace exhibit
