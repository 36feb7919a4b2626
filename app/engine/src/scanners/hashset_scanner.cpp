// Hash-set verdicts: after the hash scanner has filled FileFindings::hashes (it comes
// earlier in the scanner list, and finish() runs in list order), look the digests up in
// the chosen sets.
#include <nlohmann/json.hpp>

#include "exhibit/file_walk.hpp"
#include "exhibit/hashset.hpp"

namespace exhibit {

namespace {

class HashSetScanner final : public Scanner {
  public:
    explicit HashSetScanner(std::shared_ptr<const HashSetLibrary> library)
        : library_(std::move(library)) {}

    void begin(const FileEntry& file) override {
        expected_ = file.size;
        seen_ = 0;
    }
    void update(std::span<const std::byte> bytes) override { seen_ += bytes.size(); }
    void finish(FileFindings& findings) override {
        // A partly read file's digests are not the file's: no verdict rather than a wrong
        // one (an unreadable file would otherwise "match" the empty file's hash).
        if (seen_ != expected_ || findings.hashes.sha256.empty()) return;
        HashLookup found = library_->lookup(findings.hashes);
        findings.hash_status = to_string(found.verdict);
        for (const HashSetMatch& m : found.matches) {
            if (m.set->kind == HashSetKind::KnownGood) continue;
            nlohmann::json detail = {{"algorithm", to_string(m.algorithm)},
                                     {"hash", m.hash},
                                     {"set_sha256", m.set->sha256}};
            findings.hits.push_back(
                {"hashset", m.set->name, m.category, to_string(m.set->kind), detail.dump()});
        }
    }

  private:
    std::shared_ptr<const HashSetLibrary> library_;
    std::uint64_t expected_ = 0;
    std::uint64_t seen_ = 0;
};

}  // namespace

ScannerFactory hash_set_scanner(std::shared_ptr<const HashSetLibrary> library) {
    return [library]() -> std::unique_ptr<Scanner> {
        return std::make_unique<HashSetScanner>(library);
    };
}

}  // namespace exhibit
