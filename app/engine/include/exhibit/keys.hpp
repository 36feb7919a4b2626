// The appliance's signing key: one Ed25519 key pair (OpenSSL), made on first use and kept
// in a key store only its owner can read.
//
//   auto key = ApplianceKey::load_or_create(ApplianceKey::default_store());
//   std::string sig = key->sign("exhibit-seal-v1\n...");       // 64 raw bytes
//   verify_ed25519(key->public_pem(), message, sig);             // true
//
// Key store: `$EXHIBIT_HOME/keys`, or `~/.local/share/exhibit/keys` without EXHIBIT_HOME.
// The directory is 0700, `appliance.key` (PKCS#8 PEM) is 0600, `appliance.pub` (PEM
// SubjectPublicKeyInfo) is 0644. A key file or directory that group or others may read or
// write, or that another user owns, is refused rather than used.
// The fingerprint is the SHA-256 (hex) of the DER SubjectPublicKeyInfo, as
// `openssl pkey -pubin -in appliance.pub -outform DER | sha256sum` prints it.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "exhibit/error.hpp"

namespace exhibit {

class ApplianceKey {
  public:
    static std::filesystem::path default_store();
    // Loads the key in `store`, creating the directory and a new key pair when absent.
    static Expected<ApplianceKey> load_or_create(const std::filesystem::path& store);

    const std::string& public_pem() const { return public_pem_; }
    const std::string& fingerprint() const { return fingerprint_; }
    // The raw 64-byte Ed25519 signature of `message`.
    Expected<std::string> sign(std::string_view message) const;

  private:
    std::shared_ptr<void> key_;  // EVP_PKEY
    std::string public_pem_;
    std::string fingerprint_;
};

// SHA-256 hex of the DER SubjectPublicKeyInfo of a PEM public key.
Expected<std::string> public_key_fingerprint(const std::string& public_pem);
// True when `signature` (raw bytes) is `message` signed by the Ed25519 key `public_pem`.
Expected<bool> verify_ed25519(const std::string& public_pem, std::string_view message,
                              std::string_view signature);

std::string base64_encode(std::string_view bytes);
// Empty optional-like: an Error for text that is not base64.
Expected<std::string> base64_decode(std::string_view text);

}  // namespace exhibit
