#include "acquire/record.hpp"
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
    return write_durably(result.record, acquisition_json(result, phase));
}

Status write_durably(const std::filesystem::path& target, const std::string& text) {
    const std::string path = target.string();
    const std::string temp = path + ".tmp";
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return errno_error("cannot write " + temp, errno);
    std::size_t done = 0;
    while (done < text.size()) {
        ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            int err = n < 0 ? errno : ENOSPC;
            ::close(fd);
            ::unlink(temp.c_str());
            return errno_error("cannot write " + path, err);
        }
        done += static_cast<std::size_t>(n);
    }
    int err = ::fdatasync(fd) != 0 ? errno : 0;
    ::close(fd);
    if (err != 0 || ::rename(temp.c_str(), path.c_str()) != 0) {
        if (err == 0) err = errno;
        ::unlink(temp.c_str());
        return errno_error("cannot store " + path, err);
    }
    // The rename itself reaches the disk only with its directory.
    const std::string dir = target.has_parent_path() ? target.parent_path().string() : ".";
    int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        ::fsync(dfd);
        ::close(dfd);
    }
    return ok();
}

}  // namespace acquire_detail
}  // namespace exhibit
