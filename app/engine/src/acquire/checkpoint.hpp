// <basename>.checkpoint.json: where an acquisition can be taken up again. Written when
// it starts (offset 0) and then at every checkpoint, always after the image itself is
// flushed to that offset, so the file never claims bytes the disk does not hold.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>

#include "exhibit/acquire.hpp"

namespace exhibit::acquire_detail {

// What tells one medium from another without reading all of it: size, geometry, the
// device's model and serial, and the SHA-256 of sampled sectors (the first, seven
// spread evenly, the last). An unreadable sample is kept as an empty string.
struct SourceIdentity {
    std::uint64_t size = 0;
    std::uint32_t sector_size = 512;
    std::string kind, model, serial;
    std::vector<std::pair<std::uint64_t, std::string>> samples;  // (offset, sha256)
};
SourceIdentity identify_source(Source& source);
// Why `now` is not the medium `recorded` describes, or nullopt when it is.
std::optional<std::string> identity_mismatch(const SourceIdentity& recorded,
                                             const SourceIdentity& now);
// As the checkpoint and a job's source-identity file keep it (with the path then used).
nlohmann::json identity_json(const SourceIdentity& id, const std::string& path);
SourceIdentity identity_from_json(const nlohmann::json& j);  // throws json::exception

struct Checkpoint {
    AcquisitionPlan plan;
    std::string source_path;
    SourceIdentity identity;
    std::string started;
    std::uint64_t offset = 0;  // image bytes flushed
    Hashes prefix;             // of image bytes [0, offset)
    std::vector<UnreadableRange> unreadable;
    std::vector<ResumePoint> resumed;
};

std::filesystem::path checkpoint_path(const AcquisitionPlan& plan);
Status write_checkpoint(const Checkpoint& checkpoint);
Expected<Checkpoint> read_checkpoint(const std::filesystem::path& path);

}  // namespace exhibit::acquire_detail
