#include "sources/source_json.hpp"

namespace exhibit {

nlohmann::json source_json(const SourceInfo& s) {
    nlohmann::json j = {{"kind", to_string(s.kind)},
                        {"path", s.path},
                        {"size", s.size},
                        {"sector_size", s.sector_size},
                        {"segments", s.segments}};
    if (s.device) {
        const auto& d = *s.device;
        j["device"] = {{"name", d.name},
                       {"bus", d.bus},
                       {"vendor", d.vendor},
                       {"model", d.model},
                       {"serial", d.serial},
                       {"usb_id", d.usb_id},
                       {"removable", d.removable},
                       {"kernel_read_only", d.kernel_read_only},
                       {"hardware_blocker", d.hardware_blocker}};
    }
    if (s.ewf) {
        nlohmann::json errors = nlohmann::json::array();
        for (auto [sector, count] : s.ewf->acquiry_errors) {
            errors.push_back({{"sector", sector}, {"count", count}});
        }
        j["ewf"] = {{"format", s.ewf->format},         {"compression", s.ewf->compression},
                    {"chunk_size", s.ewf->chunk_size}, {"header", s.ewf->header},
                    {"stored_md5", s.ewf->stored_md5}, {"stored_sha1", s.ewf->stored_sha1},
                    {"acquiry_errors", errors}};
    }
    return j;
}

std::string source_info_json(const SourceInfo& source) {
    return source_json(source).dump(2) + "\n";
}

}  // namespace exhibit
