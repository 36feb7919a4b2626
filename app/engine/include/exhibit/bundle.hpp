// Evidence bundles: sealing a case into a BagIt 1.0 bag (RFC 8493) signed with the
// appliance key, and verifying one.
//
//   auto key = ApplianceKey::load_or_create(ApplianceKey::default_store());
//   SealPlan plan;
//   plan.out = "/media/out/JD1";
//   plan.images = {"/media/out/JD1.case/image"};
//   auto sealed = seal_bundle(*db, *key, plan, progress, cancel);
//   auto verdict = verify_bundle("/media/out/JD1", {}, progress, cancel);
//
// Layout (DESIGN.md, "Interchange formats"):
//   bagit.txt, bag-info.txt, manifest-sha256.txt, tagmanifest-sha256.txt, seal.json
//   data/case.sqlite       a consistent copy of the case database (rollback journal mode,
//                          so opening it read-only creates no side files)
//   data/custody.jsonl     the custody log, ending with the "bundle_sealed" event
//   data/files.dfxml, data/bodyfile.txt   the file listings
//   data/image/...         the image segments and their .acquisition.json record
//
// Promises
// - The bundle is built as `<out>.partial` and renamed to `<out>` only when complete and
//   signed; a failure removes the partial bundle (it holds only copies and links) and logs
//   an "error" custody event.
// - Image files are hard-linked into the bundle when they are on the same file system
//   (the acquisition's own names stay, nothing is ever moved), else copied with their
//   SHA-256 computed in the same pass. Linked files are read once to hash them.
// - The "bundle_sealed" event is appended before custody.jsonl and case.sqlite are
//   exported, so both contain it; the chain head in seal.json is the SHA-256 of that line.
// - seal.json signs, with Ed25519, the text
//   "exhibit-seal-v1\n<SHA-256 of tagmanifest-sha256.txt>\n<chain head>\n".
#pragma once

#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include "exhibit/case_db.hpp"
#include "exhibit/error.hpp"
#include "exhibit/keys.hpp"
#include "exhibit/progress.hpp"

namespace exhibit {

struct SealPlan {
    std::filesystem::path out;  // the bundle directory; must not exist
    // Image directories (every regular file in them) or single files, e.g. the output
    // directory of an acquisition. Files still named *.partial are refused.
    std::vector<std::filesystem::path> images;
};

struct SealResult {
    std::filesystem::path bundle;
    std::string chain_head;
    std::string tagmanifest_sha256;
    std::string key_fingerprint;
    std::uint64_t payload_bytes = 0;
    std::uint64_t payload_files = 0;
    std::size_t images_linked = 0;  // hard-linked from the same file system
    std::size_t images_copied = 0;  // copied and hashed in one pass
};

Expected<SealResult> seal_bundle(CaseDatabase& db, const ApplianceKey& key, const SealPlan& plan,
                                 JobProgress& progress, const std::atomic<bool>& cancel);

// The text the seal signs.
std::string seal_message(const std::string& tagmanifest_sha256, const std::string& chain_head);

struct VerifyOptions {
    // A PEM public key file, a PEM text, or a fingerprint (64 hex); empty: any key.
    std::string trusted_key;
    bool check_images = true;  // re-read the images and compare with the acquisition record
};

struct BundleCheck {
    std::string name;  // bagit, bag-info, payload, manifest, tagmanifest, custody, seal, key, image
    bool ok = false;
    std::string message;  // names the file or log line at fault
};

struct BundleVerdict {
    bool ok = false;
    std::vector<BundleCheck> checks;
};

// Runs every check; never stops at the first failure (each failure is its own check).
BundleVerdict verify_bundle(const std::filesystem::path& bundle, const VerifyOptions& options,
                            JobProgress& progress, const std::atomic<bool>& cancel);

}  // namespace exhibit
