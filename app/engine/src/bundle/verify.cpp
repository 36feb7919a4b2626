// Verifying a bundle: every check a lab would make, each failure named.
#include <sqlite3.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "bundle/bag_files.hpp"
#include "exhibit/acquire.hpp"
#include "exhibit/bundle.hpp"
#include "exhibit/custody.hpp"

namespace exhibit {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

bool is_hex64(const std::string& s) {
    return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

// A string field of a JSON object the bag holds: empty when absent or of another type
// (json::value() would throw on the wrong type, and a bag is untrusted input).
std::string text_field(const json& j, const char* key) {
    if (!j.is_object()) return {};
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::vector<std::string> split_lines(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        lines.push_back(text.substr(pos, end - pos));
        pos = end + 1;
    }
    return lines;
}

// `<sha256>  <path>` lines, as sha256sum writes them.
struct ManifestEntries {
    std::map<std::string, std::string> entries;  // path -> sha256
    std::string problem;                         // the first malformed line, if any
};
ManifestEntries parse_manifest(const std::string& name, const std::string& text) {
    ManifestEntries m;
    std::size_t n = 0;
    for (const auto& line : split_lines(text)) {
        ++n;
        if (line.size() < 67 || !is_hex64(line.substr(0, 64)) || line.compare(64, 2, "  ") != 0) {
            m.problem = name + " line " + std::to_string(n) + " is not \"<sha256>  <path>\"";
            return m;
        }
        std::string path = line.substr(66);
        if (path.find("..") != std::string::npos || path.starts_with("/")) {
            m.problem = name + " line " + std::to_string(n) + " names a path outside the bag";
            return m;
        }
        if (!m.entries.emplace(path, line.substr(0, 64)).second) {
            m.problem = name + " lists " + path + " twice";
            return m;
        }
    }
    return m;
}

std::map<std::string, std::string> parse_bag_info(const std::string& text) {
    std::map<std::string, std::string> info;
    std::string last;
    for (const auto& line : split_lines(text)) {
        if (!line.empty() && (line[0] == ' ' || line[0] == '\t') && !last.empty()) {
            // A continuation line (RFC 8493 2.2.2); one of blanks only adds nothing.
            std::size_t start = line.find_first_not_of(" \t");
            if (start != std::string::npos) info[last] += " " + line.substr(start);
            continue;
        }
        auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        last = line.substr(0, colon);
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(" \t"));
        info[last] = value;
    }
    return info;
}

// Lines of custody_events in the bundle's case.sqlite, opened immutable: nothing is
// written, no lock or journal file is made beside it.
Expected<std::vector<std::string>> stored_custody_lines(const fs::path& path) {
    std::string uri = "file:";
    for (char ch : fs::absolute(path).string()) {
        if (ch == '%' || ch == '?' || ch == '#') {
            char hex[4];
            std::snprintf(hex, sizeof hex, "%%%02X", static_cast<unsigned char>(ch));
            uri += hex;
        } else {
            uri += ch;
        }
    }
    uri += "?immutable=1";
    sqlite3* db = nullptr;
    int rc = sqlite3_open_v2(uri.c_str(), &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr);
    std::unique_ptr<sqlite3, int (*)(sqlite3*)> owner(db, sqlite3_close_v2);
    sqlite3_stmt* stmt = nullptr;
    if (rc != SQLITE_OK || sqlite3_prepare_v2(db, "SELECT line FROM custody_events ORDER BY seq",
                                              -1, &stmt, nullptr) != SQLITE_OK) {
        return make_error(ErrorKind::Format, std::string("data/case.sqlite cannot be read: ") +
                                                 (db ? sqlite3_errmsg(db) : "out of memory"));
    }
    std::vector<std::string> lines;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        const auto* t = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
        lines.emplace_back(t ? t : "");
    }
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) {
        return make_error(ErrorKind::Format,
                          std::string("data/case.sqlite cannot be read: ") + sqlite3_errmsg(db));
    }
    return lines;
}

class Checks {
  public:
    void pass(const std::string& name, const std::string& message) {
        v_.checks.push_back({name, true, message});
    }
    void fail(const std::string& name, const std::string& message) {
        v_.checks.push_back({name, false, message});
    }
    BundleVerdict done() {
        v_.ok = !v_.checks.empty() &&
                std::all_of(v_.checks.begin(), v_.checks.end(), [](const auto& c) { return c.ok; });
        return std::move(v_);
    }

  private:
    BundleVerdict v_;
};

// The fingerprint `trusted` stands for: a PEM file, PEM text or a fingerprint.
Expected<std::string> trusted_fingerprint(const std::string& trusted) {
    std::string lower = trusted;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    std::erase(lower, ':');
    if (is_hex64(lower)) return lower;
    if (trusted.find("-----BEGIN") != std::string::npos) return public_key_fingerprint(trusted);
    auto text = bag::read_text(trusted);
    if (!text) {
        return make_error(ErrorKind::InvalidArgument,
                          "--trusted-key " + trusted +
                              " is neither a fingerprint (64 hex) nor a readable PEM file");
    }
    return public_key_fingerprint(*text);
}

void check_images(const fs::path& bundle, const std::map<std::string, std::string>& manifest,
                  Checks& checks, JobProgress& progress, const std::atomic<bool>& cancel) {
    std::size_t records = 0;
    for (const auto& [rel, sum] : manifest) {
        (void)sum;
        if (!rel.ends_with(".acquisition.json")) continue;
        ++records;
        const fs::path record_path = bundle / rel;
        auto text = bag::read_text(record_path);
        if (!text) {
            checks.fail("image", rel + ": " + text.error().message);
            continue;
        }
        json r = json::parse(*text, nullptr, false);
        if (r.is_discarded() || !r.is_object() || !r.contains("outputs") ||
            !r["outputs"].is_array() || r["outputs"].empty() || !r["outputs"][0].is_string() ||
            !r.contains("hashes") || !r["hashes"].is_object()) {
            checks.fail("image", rel + " is not an acquisition record");
            continue;
        }
        if (auto c = r.find("complete"); c == r.end() || !c->is_boolean() || !c->get<bool>()) {
            checks.fail("image", rel + " records an acquisition that did not complete");
            continue;
        }
        // The image is a file beside its record in the bag, never a path out of it.
        const std::string first = r["outputs"][0].get<std::string>();
        const std::string dir = rel.substr(0, rel.rfind('/') + 1);
        if (first.empty() || first.find('/') != std::string::npos || first == "." ||
            first == ".." || !manifest.count(dir + first)) {
            checks.fail("image", rel + " names its image as \"" + first +
                                     "\", which is not a payload file beside it");
            continue;
        }
        const fs::path image = record_path.parent_path() / first;
        auto source = open_source(image);
        if (!source) {
            checks.fail("image", rel + ": its image " + first +
                                     " cannot be opened: " + source.error().message);
            continue;
        }
        const std::string recorded[3] = {text_field(r["hashes"], "md5"),
                                         text_field(r["hashes"], "sha1"),
                                         text_field(r["hashes"], "sha256")};
        const SourceInfo& info = (*source)->info();
        if (info.ewf) {
            if (info.ewf->stored_md5 != recorded[0] || info.ewf->stored_sha1 != recorded[1]) {
                checks.fail("image",
                            first + ": the MD5/SHA-1 stored in the E01 differ from " + rel);
                continue;
            }
        }
        auto hashes = hash_source(**source, progress, cancel);
        if (!hashes) {
            checks.fail("image", first + " cannot be read to the end: " + hashes.error().message);
            continue;
        }
        const std::string got[3] = {hashes->md5, hashes->sha1, hashes->sha256};
        const char* names[3] = {"MD5", "SHA-1", "SHA-256"};
        std::string mismatch;
        for (int i = 0; i < 3; ++i) {
            if (got[i] != recorded[i])
                mismatch += std::string(mismatch.empty() ? "" : ", ") + names[i];
        }
        if (!mismatch.empty()) {
            checks.fail("image", first + ": the media reads back with a different " + mismatch +
                                     " than " + rel + " recorded at acquisition");
        } else {
            checks.pass("image", first + ": " + std::to_string(info.size) +
                                     " bytes of media read back with the MD5, SHA-1 and "
                                     "SHA-256 recorded at acquisition (" +
                                     recorded[2] + ")" + (info.ewf ? " through libewf" : ""));
        }
    }
    if (records == 0)
        checks.pass("image", "no acquisition in this bundle (sealed without an image)");
}

}  // namespace

BundleVerdict verify_bundle(const fs::path& bundle, const VerifyOptions& options,
                            JobProgress& progress, const std::atomic<bool>& cancel) {
    Checks checks;
    std::error_code ec;
    if (!fs::is_directory(bundle, ec)) {
        checks.fail("bagit", bundle.string() + " is not a directory");
        return checks.done();
    }

    // Structure: bagit.txt, and nothing at the root beyond the tag files and data/.
    auto bagit = bag::read_text(bundle / bag::kBagit);
    if (!bagit) {
        checks.fail("bagit", "bagit.txt is missing");
    } else if (*bagit != bag::kBagitText) {
        checks.fail("bagit", "bagit.txt does not declare BagIt-Version 1.0 in UTF-8");
    } else {
        checks.pass("bagit", "bagit.txt: BagIt 1.0, UTF-8");
    }
    const std::set<std::string> root_names = {bag::kBagit,       bag::kBagInfo, bag::kManifest,
                                              bag::kTagManifest, bag::kSeal,    "data"};
    for (const auto& e : fs::directory_iterator(bundle, ec)) {
        const std::string name = e.path().filename().string();
        if (!root_names.count(name))
            checks.fail("bagit", "unexpected file " + name + " at the bag root");
    }
    if (!fs::is_directory(bundle / "data", ec)) checks.fail("bagit", "data/ is missing");

    // Payload on disk.
    std::map<std::string, std::uint64_t> on_disk;  // data/... -> size
    if (fs::is_directory(bundle / "data", ec)) {
        for (auto it = fs::recursive_directory_iterator(bundle / "data", ec);
             it != fs::recursive_directory_iterator(); it.increment(ec)) {
            if (ec) break;
            const std::string rel = fs::relative(it->path(), bundle, ec).generic_string();
            if (it->is_symlink()) {
                checks.fail("payload", rel + " is a symbolic link, not a payload file");
            } else if (it->is_regular_file()) {
                on_disk[rel] = it->file_size();
            } else if (!it->is_directory()) {
                checks.fail("payload", rel + " is not a regular file");
            }
        }
    }

    auto info_text = bag::read_text(bundle / bag::kBagInfo);
    std::map<std::string, std::string> info;
    if (!info_text) {
        checks.fail("bag-info", "bag-info.txt is missing");
    } else {
        info = parse_bag_info(*info_text);
        std::uint64_t bytes = 0;
        for (const auto& [rel, size] : on_disk)
            bytes += size;
        const std::string oxum = std::to_string(bytes) + "." + std::to_string(on_disk.size());
        if (!info.count("Payload-Oxum")) {
            checks.fail("bag-info", "bag-info.txt has no Payload-Oxum");
        } else if (info["Payload-Oxum"] != oxum) {
            checks.fail("bag-info", "Payload-Oxum in bag-info.txt is " + info["Payload-Oxum"] +
                                        " but data/ holds " + oxum + " (bytes.files)");
        } else {
            checks.pass("bag-info", "Payload-Oxum " + oxum + " matches data/; exhibit " +
                                        info["External-Identifier"] + ", operator " +
                                        info["Contact-Name"]);
        }
    }

    // Payload manifest: every entry's hash, nothing missing, nothing extra.
    std::map<std::string, std::string> manifest;
    auto manifest_text = bag::read_text(bundle / bag::kManifest);
    if (!manifest_text) {
        checks.fail("manifest", "manifest-sha256.txt is missing");
    } else {
        auto parsed = parse_manifest(bag::kManifest, *manifest_text);
        if (!parsed.problem.empty()) checks.fail("manifest", parsed.problem);
        manifest = parsed.entries;
        std::uint64_t total = 0;
        for (const auto& [rel, size] : on_disk)
            total += size;
        progress.begin_stage("checking payload", total);
        std::size_t good = 0;
        for (const auto& [rel, sum] : manifest) {
            if (!rel.starts_with("data/")) {
                checks.fail("manifest", "manifest-sha256.txt lists " + rel + ", outside data/");
                continue;
            }
            if (!on_disk.count(rel)) {
                checks.fail("manifest", rel + " is listed in manifest-sha256.txt but missing");
                continue;
            }
            auto got = bag::sha256_file(bundle / rel, &progress, &cancel);
            if (!got) {
                checks.fail("manifest", rel + ": " + got.error().message);
            } else if (*got != sum) {
                checks.fail("manifest",
                            rel + ": SHA-256 is " + *got + ", manifest-sha256.txt says " + sum);
            } else {
                ++good;
            }
        }
        for (const auto& [rel, size] : on_disk) {
            if (!manifest.count(rel)) {
                checks.fail("manifest",
                            rel + " is in data/ but not in manifest-sha256.txt (an added file)");
            }
        }
        if (good == manifest.size() && good == on_disk.size()) {
            checks.pass("manifest", std::to_string(good) +
                                        " payload files match manifest-sha256.txt; none "
                                        "missing, none extra");
        }
    }

    // Tag manifest: must cover the other tag files.
    std::string tagmanifest_sha;
    auto tag_text = bag::read_text(bundle / bag::kTagManifest);
    if (!tag_text) {
        checks.fail("tagmanifest", "tagmanifest-sha256.txt is missing");
    } else {
        tagmanifest_sha = sha256_hex(*tag_text);
        auto parsed = parse_manifest(bag::kTagManifest, *tag_text);
        bool good = parsed.problem.empty();
        if (!good) checks.fail("tagmanifest", parsed.problem);
        for (const char* name : {bag::kBagit, bag::kBagInfo, bag::kManifest}) {
            if (!parsed.entries.count(name)) {
                checks.fail("tagmanifest",
                            std::string("tagmanifest-sha256.txt does not cover ") + name);
                good = false;
            }
        }
        for (const auto& [rel, sum] : parsed.entries) {
            auto got = bag::sha256_file(bundle / rel, nullptr, &cancel);
            if (!got) {
                checks.fail("tagmanifest",
                            rel + " is listed in tagmanifest-sha256.txt but missing");
                good = false;
            } else if (*got != sum) {
                checks.fail("tagmanifest", rel + ": SHA-256 is " + *got +
                                               ", tagmanifest-sha256.txt says " + sum +
                                               " (the tag file was changed)");
                good = false;
            }
        }
        if (good)
            checks.pass(
                "tagmanifest",
                "bagit.txt, bag-info.txt and manifest-sha256.txt match tagmanifest-sha256.txt");
    }

    // seal.json.
    json seal;
    auto seal_text = bag::read_text(bundle / bag::kSeal);
    if (!seal_text) {
        checks.fail("seal", "seal.json is missing");
    } else {
        seal = json::parse(*seal_text, nullptr, false);
        if (seal.is_discarded() || !seal.is_object() ||
            text_field(seal, "format") != bag::kSealFormat) {
            checks.fail("seal", "seal.json is not an exhibit-seal-v1 document");
            seal = json();
        }
    }
    const std::string sealed_head = text_field(seal, "chain_head");

    // Custody chain, line by line, then against the seal and the case database copy.
    auto custody = bag::read_text(bundle / "data/custody.jsonl");
    if (!custody) {
        checks.fail("custody", "data/custody.jsonl is missing");
    } else {
        ChainVerdict chain = verify_custody_chain(*custody);
        if (!chain.ok) {
            checks.fail("custody", chain.problem);
        } else if (chain.lines == 0) {
            checks.fail("custody", "data/custody.jsonl is empty");
        } else if (!sealed_head.empty() && chain.head != sealed_head) {
            auto at = std::find(chain.line_hashes.begin(), chain.line_hashes.end(), sealed_head);
            if (at != chain.line_hashes.end()) {
                std::size_t n = static_cast<std::size_t>(at - chain.line_hashes.begin()) + 1;
                checks.fail("custody", "custody.jsonl lines " + std::to_string(n + 1) + "-" +
                                           std::to_string(chain.lines) +
                                           " come after the sealed chain head (line " +
                                           std::to_string(n) + "): appended after sealing");
            } else {
                checks.fail("custody", "custody.jsonl line " + std::to_string(chain.lines) +
                                           " (the last): its SHA-256 is not the chain head in "
                                           "seal.json (the line was changed or the log cut)");
            }
        } else {
            checks.pass("custody", std::to_string(chain.lines) +
                                       " custody events chain from line 1 to the sealed head " +
                                       chain.head);
        }
        if (on_disk.count("data/case.sqlite")) {
            auto stored = stored_custody_lines(bundle / "data/case.sqlite");
            if (!stored) {
                checks.fail("custody", stored.error().message);
            } else {
                auto lines = split_lines(*custody);
                if (*stored != lines) {
                    std::size_t i = 0;
                    while (i < lines.size() && i < stored->size() && lines[i] == (*stored)[i])
                        ++i;
                    checks.fail("custody", "custody.jsonl line " + std::to_string(i + 1) +
                                               " differs from the custody log in data/case.sqlite");
                } else {
                    checks.pass("custody", "custody.jsonl equals the log in data/case.sqlite");
                }
            }
        }
    }

    // The signature over the tag manifest and the chain head, then the key.
    std::string seal_fingerprint;
    if (seal.is_object()) {
        const std::string pem = text_field(seal, "public_key_pem");
        auto fp = public_key_fingerprint(pem);
        auto sig = base64_decode(text_field(seal, "signature"));
        if (!fp) {
            checks.fail("seal", "seal.json: " + fp.error().message);
        } else if (!sig) {
            checks.fail("seal", "seal.json: " + sig.error().message);
        } else {
            seal_fingerprint = *fp;
            if (text_field(seal, "tagmanifest_sha256") != tagmanifest_sha) {
                checks.fail("seal", "seal.json names tagmanifest SHA-256 " +
                                        text_field(seal, "tagmanifest_sha256") +
                                        " but tagmanifest-sha256.txt hashes to " + tagmanifest_sha);
            }
            auto good = verify_ed25519(pem, seal_message(tagmanifest_sha, sealed_head), *sig);
            if (!good || !*good) {
                checks.fail("seal",
                            "the Ed25519 signature in seal.json does not match "
                            "tagmanifest-sha256.txt and the chain head");
            } else {
                checks.pass("seal", "Ed25519 signature good, key " + seal_fingerprint);
            }
            if (info.count("Exhibit-Key-Fingerprint") &&
                info["Exhibit-Key-Fingerprint"] != seal_fingerprint) {
                checks.fail("seal", "seal.json's key is not the one bag-info.txt names");
            }
        }
    }
    if (!options.trusted_key.empty()) {
        auto trusted = trusted_fingerprint(options.trusted_key);
        if (!trusted) {
            checks.fail("key", trusted.error().message);
        } else if (seal_fingerprint != *trusted) {
            checks.fail("key", "the bundle was sealed with key " +
                                   (seal_fingerprint.empty() ? "(none)" : seal_fingerprint) +
                                   ", not the trusted key " + *trusted);
        } else {
            checks.pass("key", "sealed with the trusted key " + *trusted);
        }
    }

    if (options.check_images) check_images(bundle, manifest, checks, progress, cancel);
    return checks.done();
}

}  // namespace exhibit
