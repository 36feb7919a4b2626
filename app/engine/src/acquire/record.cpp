#include "acquire/record.hpp"
#include "io/durable_file.hpp"
#include "sources/source_json.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace exhibit {

std::string acquisition_json(const AcquisitionResult& r, const std::string& phase) {
    nlohmann::json j;
    j["tool"] = "exhibit 0.1.0";
    j["record"] = phase;
    j["status"] = to_string(r.status);
    if (phase == "running") j["status"] = "running";
    j["complete"] = phase == "final" && (r.status == AcquisitionStatus::Completed ||
                                         r.status == AcquisitionStatus::CompletedWithErrors);
    j["summary"] = r.summary;
    if (r.error) {
        j["error"] = {{"kind", to_string(r.error->kind)}, {"message", r.error->message}};
    }
    j["source"] = source_json(r.source);
    j["format"] = to_string(r.format);
    j["compression"] = to_string(r.compression);
    j["case"] = {{"case_number", r.case_info.case_number},
                 {"evidence_number", r.case_info.evidence_number},
                 {"examiner", r.case_info.examiner},
                 {"description", r.case_info.description},
                 {"notes", r.case_info.notes}};
    j["started"] = r.started;
    j["finished"] = r.finished;
    j["seconds"] = r.seconds;
    j["bytes"] = r.bytes_read;
    j["hashes"] = {{"md5", r.hashes.md5}, {"sha1", r.hashes.sha1}, {"sha256", r.hashes.sha256}};
    auto& bad = j["unreadable"] = nlohmann::json::array();
    for (const auto& u : r.unreadable) {
        bad.push_back({{"offset", u.offset}, {"length", u.length}, {"errno", u.sys_errno}});
    }
    j["unreadable_sectors"] = r.unreadable_sectors;
    if (r.device_writes) {
        const auto& d = *r.device_writes;
        j["device_writes"] = {{"device", d.device},
                              {"writes_before", d.writes_before},
                              {"writes_after", d.writes_after},
                              {"sectors_written_before", d.sectors_written_before},
                              {"sectors_written_after", d.sectors_written_after},
                              {"write_requests_during", d.write_requests_during}};
    }
    if (r.write_block) {
        const auto& w = *r.write_block;
        auto refused = nlohmann::json::object();
        for (const auto& [opcode, count] : w.refused_by_opcode) {
            char name[8];
            std::snprintf(name, sizeof name, "0x%02x", opcode);
            refused[name] = count;
        }
        j["write_block_filter"] = {{"commands_passed", w.commands_passed},
                                   {"commands_refused", w.commands_refused},
                                   {"refused_by_opcode", refused},
                                   {"bot_resets", w.resets},
                                   {"stalls_cleared", w.stalls},
                                   {"short_reads", w.short_reads},
                                   {"retries", w.retries}};
    }
    j["verified"] = r.verified;
    j["verify_seconds"] = r.verify_seconds;
    auto& checks = j["verification"] = nlohmann::json::array();
    for (const auto& c : r.verification) {
        checks.push_back({{"algorithm", to_string(c.algorithm)},
                          {"acquired", c.acquired},
                          {"verified", c.verified},
                          {"match", c.match}});
    }
    if (!r.resumed.empty()) {
        auto& resumed = j["resumed"] = nlohmann::json::array();
        for (const auto& p : r.resumed) {
            resumed.push_back({{"time", p.time}, {"offset", p.offset}, {"note", p.note}});
        }
    }
    auto& files = j["outputs"] = nlohmann::json::array();
    for (const auto& f : r.outputs)
        files.push_back(f.filename().string());
    return j.dump(2) + "\n";
}

namespace acquire_detail {

Status write_record(const AcquisitionResult& result, const std::string& phase) {
    return io::replace_file(result.record, acquisition_json(result, phase));
}

}  // namespace acquire_detail
}  // namespace exhibit
