#include "acquire/checkpoint.hpp"

#include "io/durable_file.hpp"
#include "io/json_numbers.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "acquire/record.hpp"

namespace exhibit::acquire_detail {

namespace fs = std::filesystem;
using nlohmann::json;

SourceIdentity identify_source(Source& source) {
    const SourceInfo& info = source.info();
    SourceIdentity id;
    id.size = info.size;
    id.sector_size = info.sector_size ? info.sector_size : 512;
    id.kind = to_string(info.kind);
    if (info.device) {
        id.model = info.device->model;
        id.serial = info.device->serial;
    }
    if (id.size < id.sector_size) return id;
    const std::uint64_t sectors = id.size / id.sector_size;
    std::set<std::uint64_t> offsets;
    for (std::uint64_t k = 0; k < 8; ++k)
        offsets.insert(sectors * k / 8 * id.sector_size);
    offsets.insert((sectors - 1) * id.sector_size);
    std::vector<std::byte> sector(id.sector_size);
    for (std::uint64_t at : offsets) {
        auto n = read_fully(source, at, sector);
        Digest sha(HashAlgorithm::Sha256);
        if (n && *n == sector.size()) sha.update(sector);
        id.samples.emplace_back(at, n && *n == sector.size() ? sha.finish_hex() : std::string());
    }
    return id;
}

std::optional<std::string> identity_mismatch(const SourceIdentity& was, const SourceIdentity& now) {
    if (was.size != now.size) {
        return "it holds " + std::to_string(now.size) + " bytes, not " + std::to_string(was.size);
    }
    if (was.sector_size != now.sector_size) {
        return "its sectors are " + std::to_string(now.sector_size) + " bytes, not " +
               std::to_string(was.sector_size);
    }
    if (!was.model.empty() && was.model != now.model) {
        return "its model is '" + now.model + "', not '" + was.model + "'";
    }
    if (!was.serial.empty() && was.serial != now.serial) {
        return "its serial number is '" + now.serial + "', not '" + was.serial + "'";
    }
    for (const auto& [offset, sha] : was.samples) {
        std::string seen = "(absent)";
        for (const auto& [o, s] : now.samples) {
            if (o == offset) seen = s;
        }
        if (seen != sha) {
            return "the sector at byte " + std::to_string(offset) +
                   (seen.empty() ? " no longer reads" : " holds different bytes") + " (SHA-256 " +
                   (seen.empty() ? "-" : seen) + ", was " + (sha.empty() ? "unreadable" : sha) +
                   ")";
        }
    }
    return std::nullopt;
}

json identity_json(const SourceIdentity& id, const std::string& path) {
    auto samples = json::array();
    for (const auto& [offset, sha] : id.samples)
        samples.push_back({{"offset", offset}, {"sha256", sha}});
    return {{"path", path},      {"kind", id.kind},
            {"size", id.size},   {"sector_size", id.sector_size},
            {"model", id.model}, {"serial", id.serial},
            {"samples", samples}};
}

SourceIdentity identity_from_json(const json& s) {
    SourceIdentity id;
    id.kind = s.at("kind").get<std::string>();
    id.size = io::json_integer<std::uint64_t>(s.at("size"));
    id.sector_size = io::json_integer<std::uint32_t>(s.at("sector_size"));
    id.model = s.at("model").get<std::string>();
    id.serial = s.at("serial").get<std::string>();
    for (const json& sample : s.at("samples")) {
        id.samples.emplace_back(io::json_integer<std::uint64_t>(sample.at("offset")),
                                sample.at("sha256").get<std::string>());
    }
    return id;
}

fs::path checkpoint_path(const AcquisitionPlan& plan) {
    return plan.out_dir / (plan.basename + ".checkpoint.json");
}

namespace {

ImageFormat format_from(const std::string& text) {
    return text == "raw"     ? ImageFormat::Raw
           : text == "split" ? ImageFormat::SplitRaw
                             : ImageFormat::Ewf;
}

Compression compression_from(const std::string& text) {
    return text == "fast"   ? Compression::Fast
           : text == "best" ? Compression::Best
                            : Compression::None;
}

}  // namespace

Status write_checkpoint(const Checkpoint& c) {
    const AcquisitionPlan& p = c.plan;
    json j;
    j["checkpoint"] = 1;
    j["offset"] = c.offset;
    j["prefix_hashes"] = {
        {"md5", c.prefix.md5}, {"sha1", c.prefix.sha1}, {"sha256", c.prefix.sha256}};
    auto& bad = j["unreadable"] = json::array();
    for (const auto& u : c.unreadable)
        bad.push_back({{"offset", u.offset}, {"length", u.length}, {"errno", u.sys_errno}});
    j["started"] = c.started;
    auto& resumed = j["resumed"] = json::array();
    for (const auto& r : c.resumed)
        resumed.push_back({{"time", r.time}, {"offset", r.offset}, {"note", r.note}});
    j["plan"] = {{"format", to_string(p.format)},
                 {"basename", p.basename},
                 {"segment_size", p.segment_size},
                 {"compression", to_string(p.compression)},
                 {"verify", p.verify},
                 {"block_size", p.block_size},
                 {"retries", p.retries},
                 {"checkpoint_every", p.checkpoint_every},
                 {"case",
                  {{"case_number", p.case_info.case_number},
                   {"evidence_number", p.case_info.evidence_number},
                   {"examiner", p.case_info.examiner},
                   {"description", p.case_info.description},
                   {"notes", p.case_info.notes}}}};
    j["source"] = identity_json(c.identity, c.source_path);
    return io::replace_file(checkpoint_path(p), j.dump(2) + "\n");
}

Expected<Checkpoint> read_checkpoint(const fs::path& path) {
    std::ifstream in(path);
    if (!in) return errno_error("cannot read checkpoint " + path.string(), errno);
    try {
        json j = json::parse(in);
        if (io::json_integer<int>(j.at("checkpoint")) != 1) {
            return make_error(ErrorKind::Format, "checkpoint " + path.string() +
                                                     " has a version this build cannot read");
        }
        Checkpoint c;
        c.offset = io::json_integer<std::uint64_t>(j.at("offset"));
        const json& h = j.at("prefix_hashes");
        c.prefix = {h.at("md5").get<std::string>(), h.at("sha1").get<std::string>(),
                    h.at("sha256").get<std::string>()};
        for (const json& u : j.at("unreadable")) {
            c.unreadable.push_back({io::json_integer<std::uint64_t>(u.at("offset")),
                                    io::json_integer<std::uint64_t>(u.at("length")),
                                    io::json_integer<int>(u.at("errno"))});
        }
        c.started = j.at("started").get<std::string>();
        for (const json& r : j.at("resumed")) {
            c.resumed.push_back({r.at("time").get<std::string>(),
                                 io::json_integer<std::uint64_t>(r.at("offset")),
                                 r.at("note").get<std::string>()});
        }
        const json& p = j.at("plan");
        AcquisitionPlan& plan = c.plan;
        plan.out_dir = path.parent_path();
        plan.format = format_from(p.at("format").get<std::string>());
        plan.basename = p.at("basename").get<std::string>();
        plan.segment_size = io::json_integer<std::uint64_t>(p.at("segment_size"));
        plan.compression = compression_from(p.at("compression").get<std::string>());
        plan.verify = p.at("verify").get<bool>();
        plan.block_size = io::json_integer<std::size_t>(p.at("block_size"));
        plan.retries = io::json_integer<int>(p.at("retries"));
        plan.checkpoint_every = io::json_integer<std::uint64_t>(p.at("checkpoint_every"));
        const json& k = p.at("case");
        plan.case_info = {k.at("case_number").get<std::string>(),
                          k.at("evidence_number").get<std::string>(),
                          k.at("examiner").get<std::string>(),
                          k.at("description").get<std::string>(), k.at("notes").get<std::string>()};
        const json& s = j.at("source");
        c.source_path = s.at("path").get<std::string>();
        c.identity = identity_from_json(s);
        if (plan.basename.empty() || plan.basename.find('/') != std::string::npos ||
            plan.block_size < 4096 || plan.block_size % 4096 != 0 || c.offset > c.identity.size) {
            return make_error(ErrorKind::Format,
                              "checkpoint " + path.string() + " is inconsistent");
        }
        return c;
    } catch (const json::exception& e) {
        return make_error(ErrorKind::Format,
                          "checkpoint " + path.string() + " is damaged: " + std::string(e.what()));
    }
}

}  // namespace exhibit::acquire_detail

namespace exhibit {

Status record_source_identity(Source& source, const std::filesystem::path& file) {
    using namespace acquire_detail;
    return io::replace_file(
        file, identity_json(identify_source(source), source.info().path).dump(2) + "\n");
}

Status check_source_identity(Source& source, const std::filesystem::path& file) {
    using namespace acquire_detail;
    auto text = io::read_text(file);
    if (!text) return text.error();
    SourceIdentity recorded;
    try {
        recorded = identity_from_json(json::parse(*text));
    } catch (const json::exception& e) {
        return make_error(ErrorKind::Format, file.string() + " is damaged: " + e.what());
    }
    if (auto why = identity_mismatch(recorded, identify_source(source))) {
        return make_error(ErrorKind::SourceChanged,
                          source.info().path + " is not the media this job started on: " + *why);
    }
    return ok();
}

}  // namespace exhibit
