// Ed25519 through OpenSSL's EVP interface; the key store's permissions are checked on
// every load.
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <vector>

#include "exhibit/hashing.hpp"
#include "exhibit/keys.hpp"
#include "io/durable_file.hpp"

namespace exhibit {

namespace {

namespace fs = std::filesystem;

struct PkeyDeleter {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct BioDeleter {
    void operator()(BIO* b) const { BIO_free(b); }
};
struct MdCtxDeleter {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;
using Bio = std::unique_ptr<BIO, BioDeleter>;

std::string bio_text(BIO* bio) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

Expected<std::string> public_pem_of(EVP_PKEY* key) {
    Bio bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1)
        return make_error(ErrorKind::Internal, "OpenSSL could not write a public key");
    return bio_text(bio.get());
}

Expected<Pkey> read_public(const std::string& pem) {
    Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    Pkey key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!key) return make_error(ErrorKind::Format, "the public key is not a PEM public key");
    if (EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_ED25519)
        return make_error(ErrorKind::Format, "the public key is not an Ed25519 key");
    return key;
}

// Group or others may touch it, or someone else owns it: not a store we can trust.
Status check_private(const fs::path& path, bool directory) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return errno_error("cannot inspect " + path.string(), errno);
    if (directory != S_ISDIR(st.st_mode)) {
        return make_error(ErrorKind::InvalidArgument,
                          path.string() + (directory ? " is not a directory" : " is not a file"));
    }
    if (st.st_uid != ::geteuid()) {
        return make_error(ErrorKind::InvalidArgument,
                          "key store " + path.string() + " belongs to another user; refusing it");
    }
    if ((st.st_mode & 077) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        return make_error(ErrorKind::InvalidArgument,
                          "key store " + path.string() + " has mode " + mode +
                              ", readable or writable by others; refusing it (chmod " +
                              (directory ? "0700" : "0600") + ")");
    }
    return ok();
}

}  // namespace

fs::path ApplianceKey::default_store() {
    if (const char* home = std::getenv("EXHIBIT_HOME"); home && *home)
        return fs::path(home) / "keys";
    const char* user_home = std::getenv("HOME");
    return fs::path(user_home && *user_home ? user_home : "/root") / ".local/share/exhibit/keys";
}

Expected<ApplianceKey> ApplianceKey::load_or_create(const fs::path& store) {
    std::error_code ec;
    if (!fs::exists(store, ec)) {
        fs::create_directories(store.parent_path(), ec);
        if (::mkdir(store.c_str(), 0700) != 0 && errno != EEXIST)
            return errno_error("cannot create key store " + store.string(), errno);
        ::chmod(store.c_str(), 0700);
    }
    if (auto s = check_private(store, true); !s) return s.error();
    const fs::path private_path = store / "appliance.key";
    const fs::path public_path = store / "appliance.pub";

    if (!fs::exists(private_path, ec)) {
        EVP_PKEY* raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
        Pkey fresh(raw);
        if (!fresh) return make_error(ErrorKind::Internal, "OpenSSL could not make an Ed25519 key");
        Bio bio(BIO_new(BIO_s_mem()));
        if (!bio || PEM_write_bio_PrivateKey(bio.get(), fresh.get(), nullptr, nullptr, 0, nullptr,
                                             nullptr) != 1) {
            return make_error(ErrorKind::Internal, "OpenSSL could not write the private key");
        }
        auto pub = public_pem_of(fresh.get());
        if (!pub) return pub.error();
        // O_EXCL: when two processes race, one creates and the other loads its key.
        if (auto s = io::write_new_file(private_path, bio_text(bio.get()), 0600);
            !s && s.error().sys_errno != EEXIST) {
            return s.error();
        }
        (void)fs::remove(public_path, ec);
        if (auto s = io::write_new_file(public_path, *pub, 0644);
            !s && s.error().sys_errno != EEXIST)
            return s.error();
    }
    if (auto s = check_private(private_path, false); !s) return s.error();

    std::FILE* f = std::fopen(private_path.c_str(), "re");
    if (!f) return errno_error("cannot read " + private_path.string(), errno);
    Pkey key(PEM_read_PrivateKey(f, nullptr, nullptr, nullptr));
    std::fclose(f);
    if (!key || EVP_PKEY_get_base_id(key.get()) != EVP_PKEY_ED25519) {
        return make_error(ErrorKind::Format,
                          private_path.string() + " is not an Ed25519 private key in PEM");
    }
    ApplianceKey k;
    auto pub = public_pem_of(key.get());
    if (!pub) return pub.error();
    k.public_pem_ = *pub;
    auto fp = public_key_fingerprint(k.public_pem_);
    if (!fp) return fp.error();
    k.fingerprint_ = *fp;
    k.key_ = std::shared_ptr<void>(key.release(),
                                   [](void* p) { EVP_PKEY_free(static_cast<EVP_PKEY*>(p)); });
    return k;
}

Expected<std::string> ApplianceKey::sign(std::string_view message) const {
    std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
    auto* key = static_cast<EVP_PKEY*>(key_.get());
    std::size_t length = 0;
    const auto* data = reinterpret_cast<const unsigned char*>(message.data());
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &length, data, message.size()) != 1) {
        return make_error(ErrorKind::Internal, "OpenSSL could not sign with the appliance key");
    }
    std::string sig(length, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &length, data,
                       message.size()) != 1) {
        return make_error(ErrorKind::Internal, "OpenSSL could not sign with the appliance key");
    }
    sig.resize(length);
    return sig;
}

Expected<std::string> public_key_fingerprint(const std::string& public_pem) {
    auto key = read_public(public_pem);
    if (!key) return key.error();
    unsigned char* der = nullptr;
    int n = i2d_PUBKEY(key->get(), &der);
    if (n <= 0) return make_error(ErrorKind::Internal, "OpenSSL could not encode a public key");
    Digest d(HashAlgorithm::Sha256);
    d.update(std::as_bytes(std::span(der, static_cast<std::size_t>(n))));
    OPENSSL_free(der);
    return d.finish_hex();
}

Expected<bool> verify_ed25519(const std::string& public_pem, std::string_view message,
                              std::string_view signature) {
    auto key = read_public(public_pem);
    if (!key) return key.error();
    std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key->get()) != 1)
        return make_error(ErrorKind::Internal, "OpenSSL could not start a signature check");
    int rc = EVP_DigestVerify(
        ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
        reinterpret_cast<const unsigned char*>(message.data()), message.size());
    return rc == 1;
}

std::string base64_encode(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(bytes.data()),
                            static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

Expected<std::string> base64_decode(std::string_view text) {
    auto bad = [] { return make_error(ErrorKind::Format, "the signature is not base64"); };
    if (text.empty() || text.size() % 4 != 0) return bad();
    std::string out(text.size() / 4 * 3 + 1, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                            reinterpret_cast<const unsigned char*>(text.data()),
                            static_cast<int>(text.size()));
    if (n < 0) return bad();
    // EVP_DecodeBlock keeps the bytes the '=' padding stands for; drop them.
    std::size_t pad = text.ends_with("==") ? 2 : text.ends_with("=") ? 1 : 0;
    out.resize(static_cast<std::size_t>(n) - pad);
    return out;
}

}  // namespace exhibit
