#include <openssl/evp.h>

#include <cassert>
#include <stdexcept>

#include "exhibit/hashing.hpp"

namespace exhibit {

namespace {

struct MdDeleter {
    void operator()(EVP_MD* md) const { EVP_MD_free(md); }
};
struct CtxDeleter {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// Fetched once: EVP_MD_fetch looks the algorithm up in the provider tables, which is too
// slow to repeat for every small file a triage hashes.
const EVP_MD* fetched(HashAlgorithm algorithm) {
    static const std::unique_ptr<EVP_MD, MdDeleter> md5(EVP_MD_fetch(nullptr, "MD5", nullptr));
    static const std::unique_ptr<EVP_MD, MdDeleter> sha1(EVP_MD_fetch(nullptr, "SHA1", nullptr));
    static const std::unique_ptr<EVP_MD, MdDeleter> sha256(
        EVP_MD_fetch(nullptr, "SHA256", nullptr));
    switch (algorithm) {
        case HashAlgorithm::Md5:
            return md5.get();
        case HashAlgorithm::Sha1:
            return sha1.get();
        case HashAlgorithm::Sha256:
            return sha256.get();
    }
    return nullptr;
}

}  // namespace

const char* to_string(HashAlgorithm algorithm) {
    switch (algorithm) {
        case HashAlgorithm::Md5:
            return "md5";
        case HashAlgorithm::Sha1:
            return "sha1";
        case HashAlgorithm::Sha256:
            return "sha256";
    }
    return "unknown";
}

struct Digest::State {
    std::unique_ptr<EVP_MD_CTX, CtxDeleter> ctx{EVP_MD_CTX_new()};
    const EVP_MD* md = nullptr;
};

Digest::Digest(HashAlgorithm algorithm) : state_(std::make_unique<State>()) {
    state_->md = fetched(algorithm);
    // Without these the build's OpenSSL is unusable; nothing sensible can continue.
    if (!state_->md || !state_->ctx ||
        EVP_DigestInit_ex2(state_->ctx.get(), state_->md, nullptr) != 1) {
        throw std::runtime_error(std::string("OpenSSL cannot compute ") + to_string(algorithm));
    }
}

Digest::Digest(Digest&&) noexcept = default;
Digest& Digest::operator=(Digest&&) noexcept = default;
Digest::~Digest() = default;

void Digest::update(std::span<const std::byte> data) {
    EVP_DigestUpdate(state_->ctx.get(), data.data(), data.size());
}

std::string Digest::peek_hex() const {
    std::unique_ptr<EVP_MD_CTX, CtxDeleter> copy(EVP_MD_CTX_new());
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (!copy || EVP_MD_CTX_copy_ex(copy.get(), state_->ctx.get()) != 1 ||
        EVP_DigestFinal_ex(copy.get(), out, &length) != 1) {
        throw std::runtime_error("OpenSSL cannot copy a digest state");
    }
    return to_hex({out, length});
}

std::string Digest::finish_hex() {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(state_->ctx.get(), out, &length);
    EVP_DigestInit_ex2(state_->ctx.get(), state_->md, nullptr);
    return to_hex({out, length});
}

std::string to_hex(std::span<const unsigned char> bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(bytes.size() * 2);
    for (unsigned char b : bytes) {
        hex.push_back(digits[b >> 4]);
        hex.push_back(digits[b & 15]);
    }
    return hex;
}

std::vector<unsigned char> from_hex(const std::string& hex) {
    auto value = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    if (hex.size() % 2 != 0) return {};
    std::vector<unsigned char> bytes;
    bytes.reserve(hex.size() / 2);
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        int hi = value(hex[i]), lo = value(hex[i + 1]);
        if (hi < 0 || lo < 0) return {};
        bytes.push_back(static_cast<unsigned char>(hi * 16 + lo));
    }
    return bytes;
}

}  // namespace exhibit
