// case.jsonld: the job in CASE 1.4 / UCO 1.4 terms (https://caseontology.org).
//
// Shape (all nodes in one @graph):
//   case-investigation:Investigation      the case; its warrant as an Authorization
//   uco-identity:Person                   the operator; uco-tool:Tool Exhibit and its version
//   uco-observable:Device                 the exhibit (DeviceFacet; ContentDataFacet with the
//                                         media's size and, once acquired, its hashes)
//   case-investigation:InvestigativeAction  write-block check, acquisition, each triage run:
//                                         performer, instrument, start/end, object, result,
//                                         actionStatus
//   case-investigation:ProvenanceRecord   per action, the exhibit number and what it produced
//   uco-observable:Image                  the acquired image (ImageFacet, ContentDataFacet hashes)
//   uco-observable:DiskPartition / FileSystem   what triage found on the media
//   uco-observable:File                   every entry (FileFacet; ContentDataFacet with MD5,
//                                         SHA-1 and SHA-256 for each file whose content was read)
//   uco-core:Annotation                   each hit, naming the file it is about
// Typed literals as UCO's SHACL shapes require: xsd:dateTime, xsd:hexBinary, xsd:integer,
// xsd:boolean. Node IRIs are name-based (SHA-1, RFC 4122 version 5) UUIDs, so the same job
// always gives the same document.
#include <openssl/evp.h>

#include <ctime>
#include <map>
#include <nlohmann/json.hpp>

#include "exhibit/report.hpp"

namespace exhibit {

namespace {

using nlohmann::json;

const char* const kNamespaceUuid = "6f1c2a4e-8b0d-5e3a-9c47-2d61f0a8b5e9";  // Exhibit's own

class Ids {
  public:
    explicit Ids(std::string seed) : seed_(std::move(seed)) {}
    // kb:<prefix>-<uuid5(namespace, seed + key)>
    std::string operator()(const std::string& prefix, const std::string& key) const {
        return "kb:" + prefix + "-" + uuid5(seed_ + "\n" + prefix + "\n" + key);
    }
    // Hash nodes are named by their value alone, so equal hashes are one node.
    static std::string hash_id(const std::string& method, const std::string& value) {
        return "kb:hash-" + uuid5(method + ":" + value);
    }

  private:
    static std::string uuid5(const std::string& name) {
        unsigned char ns[16];
        std::string hex;
        for (char c : std::string(kNamespaceUuid)) {
            if (c != '-') hex += c;
        }
        for (int i = 0; i < 16; ++i)
            ns[i] = static_cast<unsigned char>(std::stoi(hex.substr(i * 2, 2), nullptr, 16));
        unsigned char digest[EVP_MAX_MD_SIZE];
        unsigned int length = 0;
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        EVP_DigestInit_ex(ctx, EVP_sha1(), nullptr);
        EVP_DigestUpdate(ctx, ns, sizeof ns);
        EVP_DigestUpdate(ctx, name.data(), name.size());
        EVP_DigestFinal_ex(ctx, digest, &length);
        EVP_MD_CTX_free(ctx);
        digest[6] = static_cast<unsigned char>((digest[6] & 0x0F) | 0x50);
        digest[8] = static_cast<unsigned char>((digest[8] & 0x3F) | 0x80);
        static const char* const hexdigits = "0123456789abcdef";
        std::string out;
        for (int i = 0; i < 16; ++i) {
            if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
            out += hexdigits[digest[i] >> 4];
            out += hexdigits[digest[i] & 0x0F];
        }
        return out;
    }

    std::string seed_;
};

json node_ref(const std::string& id) {
    return {{"@id", id}};
}

json typed(const char* type, const std::string& value) {
    return {{"@type", type}, {"@value", value}};
}

json integer(std::uint64_t n) {
    return typed("xsd:integer", std::to_string(n));
}

json boolean(bool b) {
    return typed("xsd:boolean", b ? "true" : "false");
}

// RFC 3339 times as we record them are valid xsd:dateTime lexical forms.
json date_time(const std::string& rfc3339) {
    return typed("xsd:dateTime", rfc3339);
}

json date_time(std::int64_t seconds) {
    std::time_t t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return date_time(std::string(text));
}

json hash_nodes(const Hashes& hashes) {
    json list = json::array();
    for (auto [method, value] : {std::pair{"MD5", &hashes.md5}, std::pair{"SHA1", &hashes.sha1},
                                 std::pair{"SHA256", &hashes.sha256}}) {
        if (value->empty()) continue;
        list.push_back({{"@id", Ids::hash_id(method, *value)},
                        {"@type", "uco-types:Hash"},
                        {"uco-types:hashMethod", method},
                        {"uco-types:hashValue", typed("xsd:hexBinary", *value)}});
    }
    return list;
}

const char* action_status(AcquisitionStatus s) {
    switch (s) {
        case AcquisitionStatus::Completed:
            return "Success";
        case AcquisitionStatus::CompletedWithErrors:
            return "Complete/Finish";
        case AcquisitionStatus::VerificationFailed:
        case AcquisitionStatus::Cancelled:
            return "Fail";
        case AcquisitionStatus::Failed:
            return "Error";
    }
    return "Unknown";
}

const char* action_status(const std::string& run_status) {
    if (run_status == "completed") return "Success";
    if (run_status == "running") return "Ongoing";
    if (run_status == "cancelled") return "Fail";
    return "Error";
}

std::string extension_of(const std::string& name) {
    auto dot = name.rfind('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == name.size()) return "";
    return name.substr(dot + 1);
}

}  // namespace

Status write_case_jsonld(const ReportInput& in, std::ostream& out) {
    const ReportCase& c = in.case_info;
    const std::string version = in.exhibit_version.empty() ? exhibit_version() : in.exhibit_version;
    std::string first_time;
    if (!in.acquisitions.empty()) first_time = in.acquisitions.front().started;
    if (first_time.empty() && !in.triage.empty()) first_time = in.triage.front().run.started;
    const Ids id(c.case_reference + "\n" + c.exhibit_reference + "\n" +
                 (in.source ? in.source->path : std::string()) + "\n" + first_time);

    json graph = json::array();
    json investigation_objects = json::array();
    auto add = [&](json node) {
        investigation_objects.push_back(node_ref(node["@id"].get<std::string>()));
        graph.push_back(std::move(node));
    };

    // Who, with what, where.
    const std::string person = id("person", c.operator_name + "\n" + c.operator_number);
    json person_node = {{"@id", person}, {"@type", "uco-identity:Person"}};
    if (!c.operator_name.empty()) person_node["uco-core:name"] = c.operator_name;
    if (!c.operator_number.empty())
        person_node["uco-core:description"] = "Collar / staff number " + c.operator_number;
    add(person_node);

    const std::string tool = id("tool", "exhibit " + version);
    add({{"@id", tool},
         {"@type", "uco-tool:Tool"},
         {"uco-core:name", "Exhibit"},
         {"uco-tool:version", version},
         {"uco-tool:toolType", "Digital forensic triage and acquisition"}});

    std::string location;
    if (!c.location.empty()) {
        location = id("location", c.location);
        add({{"@id", location},
             {"@type", "uco-location:Location"},
             {"uco-core:description", c.location}});
    }
    auto with_context = [&](json& action) {
        action["uco-action:performer"] = node_ref(person);
        action["uco-action:instrument"] = json::array({node_ref(tool)});
        if (!location.empty()) action["uco-action:location"] = json::array({node_ref(location)});
    };

    // The exhibit.
    const std::string device = id("device", in.source ? in.source->path : "");
    {
        json node = {{"@id", device}, {"@type", "uco-observable:Device"}};
        if (!c.exhibit_reference.empty()) node["uco-core:name"] = c.exhibit_reference;
        json facets = json::array();
        json df = {{"@id", id("device-facet", device)}, {"@type", "uco-observable:DeviceFacet"}};
        if (in.source) {
            const SourceInfo& s = *in.source;
            df["uco-observable:deviceType"] = std::string(to_string(s.kind));
            if (s.device) {
                if (!s.device->model.empty()) df["uco-observable:model"] = s.device->model;
                if (!s.device->serial.empty()) df["uco-observable:serialNumber"] = s.device->serial;
            }
            std::string description = "Source " + s.path;
            if (s.device && !s.device->vendor.empty())
                description += ", vendor " + s.device->vendor;
            if (!c.seized_from.empty()) description += ", seized from " + c.seized_from;
            node["uco-core:description"] = description;
        }
        facets.push_back(df);
        json content = {{"@id", id("device-content-facet", device)},
                        {"@type", "uco-observable:ContentDataFacet"}};
        if (in.source && in.source->size)
            content["uco-observable:sizeInBytes"] = integer(in.source->size);
        for (const auto& a : in.acquisitions) {
            if (a.status == AcquisitionStatus::Completed ||
                a.status == AcquisitionStatus::CompletedWithErrors) {
                content["uco-observable:hash"] = hash_nodes(a.hashes);
            }
        }
        if (content.size() > 2) facets.push_back(content);
        node["uco-core:hasFacet"] = facets;
        add(node);
    }

    json actions = json::array();
    auto provenance = [&](const std::string& action_id, const std::string& description,
                          json objects) {
        const std::string pid = id("provenance-record", action_id);
        json node = {{"@id", pid},
                     {"@type", "case-investigation:ProvenanceRecord"},
                     {"uco-core:description", description},
                     {"uco-core:object", std::move(objects)}};
        if (!c.exhibit_reference.empty()) {
            node["case-investigation:exhibitNumber"] = c.exhibit_reference;
            node["case-investigation:rootExhibitNumber"] = c.exhibit_reference;
        }
        add(node);
        return pid;
    };

    // Write protection, as an action of its own: what was checked and how.
    if (!in.write_block.method.empty()) {
        const std::string aid = id("investigative-action", "write-block");
        json action = {{"@id", aid},
                       {"@type", "case-investigation:InvestigativeAction"},
                       {"uco-core:name", "write-block check"},
                       {"uco-core:description", in.write_block.method + " " + in.write_block.state},
                       {"uco-action:object", json::array({node_ref(device)})}};
        if (in.write_block.counters) {
            const auto& w = *in.write_block.counters;
            action["uco-core:description"] =
                action["uco-core:description"].get<std::string>() + " Block-layer counters of " +
                w.device + ": " + std::to_string(w.writes_before) + " -> " +
                std::to_string(w.writes_after) + " write requests, " +
                std::to_string(w.write_requests_during) + " during the acquisition.";
            action["uco-action:actionStatus"] = w.write_requests_during == 0 ? "Success" : "Fail";
        }
        if (in.write_block.filter) {
            const auto& f = *in.write_block.filter;
            action["uco-core:description"] =
                action["uco-core:description"].get<std::string>() +
                " SCSI write-block filter: " + std::to_string(f.commands_passed) +
                " commands passed, " + std::to_string(f.commands_refused) + " refused.";
        }
        with_context(action);
        add(action);
    }

    // Acquisitions: the image as the result.
    int n = 0;
    for (const auto& a : in.acquisitions) {
        ++n;
        const std::string aid = id("investigative-action", "acquisition " + std::to_string(n));
        const std::string image = id("image", "acquisition " + std::to_string(n));
        json image_node = {{"@id", image}, {"@type", "uco-observable:Image"}};
        std::string files;
        for (const auto& f : a.outputs)
            files += (files.empty() ? "" : ", ") + f.filename().string();
        image_node["uco-core:description"] =
            "Image of exhibit " + c.exhibit_reference + ": " + files;
        json facets = json::array({{{"@id", id("image-facet", image)},
                                    {"@type", "uco-observable:ImageFacet"},
                                    {"uco-observable:imageType", to_string(a.format)}}});
        json content = {{"@id", id("image-content-facet", image)},
                        {"@type", "uco-observable:ContentDataFacet"},
                        {"uco-observable:sizeInBytes", integer(a.bytes_read)}};
        json hashes = hash_nodes(a.hashes);
        if (!hashes.empty()) content["uco-observable:hash"] = hashes;
        facets.push_back(content);
        image_node["uco-core:hasFacet"] = facets;
        add(image_node);

        std::string result_text = a.summary;
        for (const auto& chk : a.verification) {
            result_text += std::string(" Verification ") + to_string(chk.algorithm) + ": " +
                           (chk.match ? "match." : "MISMATCH.");
        }
        if (!a.unreadable.empty()) {
            result_text += " " + std::to_string(a.unreadable_sectors) +
                           " unreadable sectors zero-filled at byte offsets";
            for (const auto& u : a.unreadable) {
                result_text += " " + std::to_string(u.offset) + "+" + std::to_string(u.length);
            }
            result_text += ".";
        }
        const std::string pid = provenance(aid, "Acquisition of exhibit " + c.exhibit_reference,
                                           json::array({node_ref(image)}));
        json action = {{"@id", aid},
                       {"@type", "case-investigation:InvestigativeAction"},
                       {"uco-core:name", "acquisition"},
                       {"uco-core:description", result_text},
                       {"uco-action:actionStatus", action_status(a.status)},
                       {"uco-action:object", json::array({node_ref(device)})},
                       {"uco-action:result", json::array({node_ref(image), node_ref(pid)})}};
        if (!a.started.empty()) action["uco-action:startTime"] = date_time(a.started);
        if (!a.finished.empty()) action["uco-action:endTime"] = date_time(a.finished);
        with_context(action);
        add(action);
    }

    // Triage runs: partitions, file systems and every file as results.
    std::map<std::int64_t, std::string> file_ids;
    for (const auto& t : in.triage) {
        const std::string run_key = "triage " + std::to_string(t.run.id);
        const std::string aid = id("investigative-action", run_key);
        json produced = json::array();
        std::map<std::uint64_t, std::string> fs_by_offset;
        for (const auto& p : t.partitions) {
            std::string part_key = run_key + " @" + std::to_string(p.offset);
            if (p.allocated && p.volume_address) {
                const std::string pid = id("disk-partition", part_key);
                json facet = {{"@id", id("disk-partition-facet", part_key)},
                              {"@type", "uco-observable:DiskPartitionFacet"},
                              {"uco-observable:partitionOffset", integer(p.offset)},
                              {"uco-observable:partitionLength", integer(p.length)},
                              {"uco-observable:partitionID", std::to_string(*p.volume_address)}};
                if (!p.description.empty())
                    facet["uco-observable:diskPartitionType"] = p.description;
                graph.push_back({{"@id", pid},
                                 {"@type", "uco-observable:DiskPartition"},
                                 {"uco-core:hasFacet", json::array({facet})}});
                produced.push_back(node_ref(pid));
            }
            if (!p.file_system.empty()) {
                const std::string fid = id("file-system", part_key);
                json facet = {{"@id", id("file-system-facet", part_key)},
                              {"@type", "uco-observable:FileSystemFacet"},
                              {"uco-observable:fileSystemType", p.file_system}};
                if (p.block_size) facet["uco-observable:clusterSize"] = integer(p.block_size);
                graph.push_back({{"@id", fid},
                                 {"@type", "uco-observable:FileSystem"},
                                 {"uco-core:description", p.file_system + " file system at byte " +
                                                              std::to_string(p.offset)},
                                 {"uco-core:hasFacet", json::array({facet})}});
                produced.push_back(node_ref(fid));
                fs_by_offset[p.offset] = fid;
            }
        }
        for (const FileRow& row : in.files) {
            if (row.run_id != t.run.id) continue;
            const FileEntry& f = row.entry;
            const std::string key = run_key + " file " + std::to_string(row.id);
            const std::string fid = id("file", key);
            file_ids[row.id] = fid;
            json ff = {
                {"@id", id("file-facet", key)},
                {"@type", "uco-observable:FileFacet"},
                {"uco-observable:fileName", f.stream.empty() ? f.name : f.name + ":" + f.stream},
                {"uco-observable:filePath", "/" + f.path},
                {"uco-observable:fileSystemType", row.file_system},
                {"uco-observable:isDirectory", boolean(f.name_type == 'd')},
                {"uco-observable:allocationStatus", f.deleted() ? "deleted" : "allocated"},
                {"uco-observable:sizeInBytes", integer(f.size)}};
            std::string ext = extension_of(f.name);
            if (!ext.empty() && f.name_type != 'd') ff["uco-observable:extension"] = ext;
            if (f.modified) ff["uco-observable:modifiedTime"] = date_time(f.modified);
            if (f.accessed) ff["uco-observable:accessedTime"] = date_time(f.accessed);
            if (f.changed) ff["uco-observable:metadataChangeTime"] = date_time(f.changed);
            if (f.created) ff["uco-observable:observableCreatedTime"] = date_time(f.created);
            json facets = json::array({ff});
            if (f.content_read) {
                json cd = {{"@id", id("content-data-facet", key)},
                           {"@type", "uco-observable:ContentDataFacet"},
                           {"uco-observable:sizeInBytes", integer(f.size)},
                           {"uco-observable:hash", hash_nodes(f.findings.hashes)}};
                if (!f.findings.mime_type.empty())
                    cd["uco-observable:mimeType"] = f.findings.mime_type;
                facets.push_back(cd);
            }
            json node = {
                {"@id", fid}, {"@type", "uco-observable:File"}, {"uco-core:hasFacet", facets}};
            graph.push_back(std::move(node));
            produced.push_back(node_ref(fid));
        }
        const std::string pid =
            provenance(aid,
                       "Triage run " + std::to_string(t.run.id) + " of exhibit " +
                           c.exhibit_reference + ": " + std::to_string(t.run.files) + " entries, " +
                           std::to_string(t.run.files_hashed) + " files hashed",
                       produced);
        json action = {
            {"@id", aid},
            {"@type", "case-investigation:InvestigativeAction"},
            {"uco-core:name", "triage"},
            {"uco-core:description",
             "File-system walk with The Sleuth Kit; every readable file hashed (MD5, "
             "SHA-1, SHA-256) and typed. Status " +
                 t.run.status + (t.run.stopped_at.empty() ? "" : ": " + t.run.stopped_at)},
            {"uco-action:actionStatus", action_status(t.run.status)},
            {"uco-action:object", json::array({node_ref(device)})},
            {"uco-action:result", json::array({node_ref(pid)})}};
        if (!t.run.started.empty()) action["uco-action:startTime"] = date_time(t.run.started);
        if (!t.run.finished.empty()) action["uco-action:endTime"] = date_time(t.run.finished);
        with_context(action);
        add(action);
    }

    // Hits as annotations on the files they are about.
    for (const auto& hit : in.hits) {
        auto file = file_ids.find(hit.file_id);
        if (file == file_ids.end()) continue;  // hits outside any file have no observable
        std::string statement = hit.hit.kind == "hashset" ? "Hash-set match: " + hit.hit.name
                                : hit.hit.kind == "yara"  ? "YARA rule match: " + hit.hit.name
                                                          : "Keyword found: " + hit.hit.name;
        if (!hit.hit.category.empty()) statement += " (category " + hit.hit.category + ")";
        if (!hit.hit.severity.empty()) statement += ", severity " + hit.hit.severity;
        graph.push_back({{"@id", id("annotation", "hit " + std::to_string(hit.id))},
                         {"@type", "uco-core:Annotation"},
                         {"uco-core:statement", statement},
                         {"uco-core:description", hit.hit.detail},
                         {"uco-core:tag", json::array({hit.hit.kind})},
                         {"uco-core:object", json::array({node_ref(file->second)})}});
    }

    // The case itself, compiling the top-level nodes.
    json investigation = {{"@id", id("investigation", c.case_reference)},
                          {"@type", "case-investigation:Investigation"},
                          {"case-investigation:investigationForm", "case"},
                          {"uco-core:object", investigation_objects}};
    if (!c.case_reference.empty()) investigation["uco-core:name"] = c.case_reference;
    if (!c.notes.empty()) investigation["uco-core:description"] = c.notes;
    if (!c.warrant_reference.empty()) {
        const std::string auth = id("authorization", c.warrant_reference);
        graph.push_back({{"@id", auth},
                         {"@type", "case-investigation:Authorization"},
                         {"case-investigation:authorizationType", "warrant"},
                         {"case-investigation:authorizationIdentifier", c.warrant_reference}});
        investigation["case-investigation:relevantAuthorization"] = json::array({node_ref(auth)});
    }
    graph.insert(graph.begin(), investigation);

    json doc = {{"@context",
                 {{"kb", "urn:exhibit:kb:"},
                  {"case-investigation", "https://ontology.caseontology.org/case/investigation/"},
                  {"uco-action", "https://ontology.unifiedcyberontology.org/uco/action/"},
                  {"uco-core", "https://ontology.unifiedcyberontology.org/uco/core/"},
                  {"uco-identity", "https://ontology.unifiedcyberontology.org/uco/identity/"},
                  {"uco-location", "https://ontology.unifiedcyberontology.org/uco/location/"},
                  {"uco-observable", "https://ontology.unifiedcyberontology.org/uco/observable/"},
                  {"uco-tool", "https://ontology.unifiedcyberontology.org/uco/tool/"},
                  {"uco-types", "https://ontology.unifiedcyberontology.org/uco/types/"},
                  {"xsd", "http://www.w3.org/2001/XMLSchema#"}}},
                {"@graph", std::move(graph)}};
    // Strings from evidence may not be UTF-8; JSON cannot carry such bytes, so they become
    // U+FFFD here (the case database keeps the original bytes).
    out << doc.dump(1, '\t', false, json::error_handler_t::replace) << "\n";
    out.flush();
    if (!out) return make_error(ErrorKind::Io, "cannot write the CASE/UCO JSON-LD export");
    return ok();
}

}  // namespace exhibit
