// MD5, SHA-1 and SHA-256 of each file's content.
#include "exhibit/file_walk.hpp"
#include "exhibit/scanner.hpp"

namespace exhibit {

namespace {

class HashScanner final : public Scanner {
  public:
    void begin(const FileEntry&) override {}
    void update(std::span<const std::byte> bytes) override {
        md5_.update(bytes);
        sha1_.update(bytes);
        sha256_.update(bytes);
    }
    void finish(FileFindings& findings) override {
        findings.hashes = {md5_.finish_hex(), sha1_.finish_hex(), sha256_.finish_hex()};
    }

  private:
    Digest md5_{HashAlgorithm::Md5};
    Digest sha1_{HashAlgorithm::Sha1};
    Digest sha256_{HashAlgorithm::Sha256};
};

}  // namespace

std::unique_ptr<Scanner> make_hash_scanner() {
    return std::make_unique<HashScanner>();
}

}  // namespace exhibit
