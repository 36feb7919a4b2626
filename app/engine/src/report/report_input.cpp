// Gathering what a report says: from the case database, an acquisition record and the
// custody log, plus the protection summary and the verification steps.
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <type_traits>
#include <utility>

#include "exhibit/hashing.hpp"
#include "exhibit/report.hpp"
#include "io/json_numbers.hpp"

#ifndef EXHIBIT_VERSION
#error "EXHIBIT_VERSION must be defined by the build"
#endif

namespace exhibit {

std::string exhibit_version() {
    return EXHIBIT_VERSION;
}

// The same recipe as README.md's "Verifying a bundle without Exhibit", in steps.
std::vector<VerificationStep> default_verification_steps() {
    return {
        {"Every payload file is exactly as sealed: each line of the payload manifest is a "
         "SHA-256 and a path, checked by coreutils.",
         "sha256sum -c manifest-sha256.txt"},
        {"The tag files (bagit.txt, bag-info.txt, the payload manifest) are exactly as sealed.",
         "sha256sum -c tagmanifest-sha256.txt"},
        {"No payload file was added: the files under data/ are exactly those the manifest lists "
         "(bash; no output from diff).",
         "diff <(sed 's/^[0-9a-f]\\{64\\}  //' manifest-sha256.txt | sort) \\\n"
         "     <(find data -type f | sort)"},
        {"The custody log is one unbroken hash chain: each line's \"prev\" is the SHA-256 of "
         "the line before it (64 zeros on line 1), its \"seq\" counts from 1, and the last "
         "line's SHA-256 is the chain head that seal.json records.",
         "prev=0000000000000000000000000000000000000000000000000000000000000000\n"
         "n=0\n"
         "while IFS= read -r line; do\n"
         "  n=$((n + 1))\n"
         "  [ \"$(printf '%s' \"$line\" | sed -n 's/.*\"prev\":\"\\([0-9a-f]*\\)\".*/\\1/p')\" = "
         "\"$prev\" ] ||\n"
         "    { echo \"custody line $n: prev is not the SHA-256 of line $((n - 1))\"; exit 1; }\n"
         "  [ \"$(printf '%s' \"$line\" | sed -n 's/.*\"seq\":\\([0-9]*\\),.*/\\1/p')\" = \"$n\" ] "
         "||\n"
         "    { echo \"custody line $n: seq is not $n\"; exit 1; }\n"
         "  prev=$(printf '%s' \"$line\" | sha256sum | cut -d' ' -f1)\n"
         "done < data/custody.jsonl\n"
         "grep -q \"\\\"chain_head\\\": \\\"$prev\\\"\" seal.json ||\n"
         "  { echo \"custody: line $n's SHA-256 is not the chain head in seal.json\"; exit 1; }\n"
         "echo \"custody chain: $n lines, head $prev\""},
        {"The seal was made by the appliance's key: an Ed25519 signature over "
         "exhibit-seal-v1, the SHA-256 of tagmanifest-sha256.txt and the chain head, one per "
         "line (run in the same shell as the previous step, which set $prev). Compare the key's "
         "fingerprint with `exhibit key show` on the appliance.",
         "t=$(mktemp -d)\n"
         "sed -n 's/^ *\"public_key_pem\": \"\\(.*\\)\",$/\\1/p' seal.json | sed 's/\\\\n/\\n/g' "
         "> \"$t/pub.pem\"\n"
         "sed -n 's/^ *\"signature\": \"\\(.*\\)\",$/\\1/p' seal.json | base64 -d > "
         "\"$t/sig.bin\"\n"
         "printf 'exhibit-seal-v1\\n%s\\n%s\\n' \"$(sha256sum tagmanifest-sha256.txt | cut -d' ' "
         "-f1)\" \\\n"
         "  \"$prev\" > \"$t/msg.txt\"\n"
         "openssl pkeyutl -verify -rawin -pubin -inkey \"$t/pub.pem\" -sigfile \"$t/sig.bin\" -in "
         "\"$t/msg.txt\"\n"
         "openssl pkey -pubin -in \"$t/pub.pem\" -outform DER | sha256sum"},
        {"The image reads back with the hashes recorded at acquisition (\"hashes\" in "
         "data/image/image.acquisition.json): libewf recomputes them for E01, coreutils for raw.",
         "ewfverify data/image/image.E01        # E01\n"
         "sha256sum data/image/image.raw        # raw; split raw: cat data/image/image.0?? | "
         "sha256sum"},
    };
}

WriteBlockEvidence describe_write_block(const SourceInfo& source,
                                        const std::optional<DeviceWriteCheck>& counters,
                                        const std::optional<WriteBlockCounters>& filter) {
    WriteBlockEvidence w;
    w.counters = counters;
    w.filter = filter;
    switch (source.kind) {
        case SourceKind::BlockDevice:
            if (source.device && source.device->kernel_read_only) {
                w.method =
                    "Kernel read-only flag (BLKROSET) set on the disk and every partition; the "
                    "device was opened read-only.";
                w.state = "Read-only: the flag was confirmed with BLKROGET before the first read.";
                if (!source.device->hardware_blocker.empty()) {
                    w.state += " The operator also declared the hardware write-blocker " +
                               source.device->hardware_blocker + ".";
                }
            } else if (source.device && !source.device->hardware_blocker.empty()) {
                w.method = "Hardware write-blocker declared by the operator: " +
                           source.device->hardware_blocker + ".";
                w.state =
                    "The kernel read-only flag was not set; protection rests on the declared "
                    "hardware write-blocker. The device was opened read-only.";
            } else {
                w.method = "Block device opened read-only.";
                w.state = "No protection was recorded for this device.";
            }
            break;
        case SourceKind::UsbMassStorage:
            w.method =
                "User-space USB mass-storage reader: the kernel driver was detached and every "
                "SCSI command passed the firmware write-block allow-list, which forwards only "
                "read-class commands.";
            w.state = "No kernel block device existed for the device, so nothing could mount it.";
            break;
        case SourceKind::Raw:
        case SourceKind::SplitRaw:
        case SourceKind::Ewf:
            w.method = "Image file(s) opened read-only (O_RDONLY, without updating access times).";
            w.state = "The evidence files were never opened for writing.";
            break;
    }
    return w;
}

namespace {

SourceKind kind_from_text(const std::string& text) {
    for (SourceKind k : {SourceKind::Raw, SourceKind::SplitRaw, SourceKind::Ewf,
                         SourceKind::BlockDevice, SourceKind::UsbMassStorage}) {
        if (text == to_string(k)) return k;
    }
    return SourceKind::Raw;
}

SourceInfo source_from_run(const TriageRunSource& r) {
    SourceInfo s;
    s.kind = kind_from_text(r.kind);
    s.path = r.path;
    s.size = r.size;
    s.sector_size = r.sector_size;
    if (!r.device_model.empty() || !r.device_serial.empty()) {
        DeviceIdentity d;
        d.model = r.device_model;
        d.serial = r.device_serial;
        s.device = d;
    }
    return s;
}

}  // namespace

Status fill_from_case_database(const CaseDatabase& db, ReportInput& in) {
    auto runs = db.runs();
    if (!runs) return runs.error();
    auto volumes = db.volumes();
    if (!volumes) return volumes.error();
    auto file_systems = db.file_systems();
    if (!file_systems) return file_systems.error();
    auto errors = db.scan_errors();
    if (!errors) return errors.error();
    auto hits = db.hits();
    if (!hits) return hits.error();
    auto files = db.files({});
    if (!files) return files.error();

    in.triage.clear();
    for (const TriageRun& run : *runs) {
        ReportTriageRun r;
        r.run = run;
        auto source = db.run_source(run.id);
        if (!source) return source.error();
        r.source = *source;
        auto regions = db.unallocated_regions(run.id);
        if (!regions) return regions.error();
        r.unallocated = std::move(*regions);
        auto region_hits = db.unallocated_hits(run.id);
        if (!region_hits) return region_hits.error();
        r.unallocated_hits = std::move(*region_hits);
        std::vector<const FileSystemRow*> unplaced;
        for (const auto& f : *file_systems) {
            if (f.run_id == run.id) unplaced.push_back(&f);
        }
        auto add_fs = [](PartitionSummary& p, const FileSystemRow& f) {
            p.file_system = f.file_system.type;
            p.block_size = f.file_system.block_size;
            p.block_count = f.file_system.block_count;
            p.entries = f.entries;
            p.deleted = f.deleted;
            p.hashed = f.hashed;
            p.bytes_hashed = f.bytes_hashed;
            p.hits = f.hits;
        };
        for (const auto& v : *volumes) {
            if (v.run_id != run.id) continue;
            PartitionSummary p;
            p.volume_address = v.volume.index;
            p.offset = v.volume.offset;
            p.length = v.volume.length;
            p.description = v.volume.description;
            p.allocated = v.volume.allocated;
            for (auto it = unplaced.begin(); it != unplaced.end(); ++it) {
                if ((*it)->file_system.volume == v.volume.index) {
                    add_fs(p, **it);
                    unplaced.erase(it);
                    break;
                }
            }
            r.partitions.push_back(std::move(p));
        }
        for (const FileSystemRow* f : unplaced) {  // a file system with no partition table
            PartitionSummary p;
            if (f->file_system.volume >= 0) p.volume_address = f->file_system.volume;
            p.offset = f->file_system.offset;
            p.length =
                static_cast<std::uint64_t>(f->file_system.block_size) * f->file_system.block_count;
            p.description = f->file_system.volume >= 0 ? "" : "whole source";
            add_fs(p, *f);
            r.partitions.push_back(std::move(p));
        }
        for (const auto& e : *errors) {
            if (e.run_id == run.id) r.errors.push_back(e);
        }
        in.triage.push_back(std::move(r));
    }
    in.hits = std::move(*hits);
    in.files = std::move(*files);
    if (!in.source && !in.triage.empty()) in.source = source_from_run(in.triage.back().source);
    if (in.write_block.method.empty() && in.source) {
        std::optional<DeviceWriteCheck> counters;
        std::optional<WriteBlockCounters> filter;
        for (const auto& a : in.acquisitions) {
            if (a.device_writes) counters = a.device_writes;
            if (a.write_block) filter = a.write_block;
        }
        in.write_block = describe_write_block(*in.source, counters, filter);
    }
    return ok();
}

namespace {

using nlohmann::json;

std::string str(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A number. For an integer T only a whole number that fits T: a fraction, a negative or
// 1e300 reads as 0, where converting it would be undefined behaviour.
template <typename T>
T num(const json& j, const char* key) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number()) return T{};
    if constexpr (std::is_floating_point_v<T>) {
        return it->get<T>();
    } else {
        return io::json_integer_if<T>(*it).value_or(T{});
    }
}

bool flag(const json& j, const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_boolean() && it->get<bool>();
}

SourceInfo source_from_json(const json& j) {
    SourceInfo s;
    s.kind = kind_from_text(str(j, "kind"));
    s.path = str(j, "path");
    s.size = num<std::uint64_t>(j, "size");
    s.sector_size = num<std::uint32_t>(j, "sector_size");
    if (auto it = j.find("segments"); it != j.end() && it->is_array()) {
        for (const auto& seg : *it) {
            if (seg.is_string()) s.segments.push_back(seg.get<std::string>());
        }
    }
    if (auto it = j.find("device"); it != j.end() && it->is_object()) {
        const json& d = *it;
        DeviceIdentity id;
        id.name = str(d, "name");
        id.bus = str(d, "bus");
        id.vendor = str(d, "vendor");
        id.model = str(d, "model");
        id.serial = str(d, "serial");
        id.usb_id = str(d, "usb_id");
        id.removable = flag(d, "removable");
        id.kernel_read_only = flag(d, "kernel_read_only");
        id.hardware_blocker = str(d, "hardware_blocker");
        s.device = id;
    }
    if (auto it = j.find("ewf"); it != j.end() && it->is_object()) {
        const json& e = *it;
        EwfMetadata m;
        m.format = str(e, "format");
        m.compression = str(e, "compression");
        m.chunk_size = num<std::uint64_t>(e, "chunk_size");
        m.stored_md5 = str(e, "stored_md5");
        m.stored_sha1 = str(e, "stored_sha1");
        if (auto h = e.find("header"); h != e.end() && h->is_object()) {
            for (const auto& [key, value] : h->items()) {
                if (value.is_string()) m.header[key] = value.get<std::string>();
            }
        }
        if (auto a = e.find("acquiry_errors"); a != e.end() && a->is_array()) {
            for (const auto& x : *a) {
                m.acquiry_errors.emplace_back(num<std::uint64_t>(x, "sector"),
                                              num<std::uint64_t>(x, "count"));
            }
        }
        s.ewf = m;
    }
    return s;
}

}  // namespace

Expected<AcquisitionResult> read_acquisition_record(const std::filesystem::path& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) return errno_error("cannot open acquisition record " + path.string(), errno);
    json j = json::parse(file, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("hashes")) {
        return make_error(ErrorKind::Format, path.string() +
                                                 " is not an acquisition record (JSON written by "
                                                 "exhibit acquire)");
    }
    AcquisitionResult r;
    const std::string status = str(j, "status");
    r.status = AcquisitionStatus::Failed;
    for (AcquisitionStatus s :
         {AcquisitionStatus::Completed, AcquisitionStatus::CompletedWithErrors,
          AcquisitionStatus::VerificationFailed, AcquisitionStatus::Cancelled}) {
        if (status == to_string(s)) r.status = s;
    }
    r.summary = str(j, "summary");
    if (auto e = j.find("error"); e != j.end() && e->is_object()) {
        r.error = make_error(ErrorKind::Internal, str(*e, "message"));
    }
    if (auto s = j.find("source"); s != j.end() && s->is_object()) r.source = source_from_json(*s);
    const std::string format = str(j, "format");
    r.format = format == "raw"     ? ImageFormat::Raw
               : format == "split" ? ImageFormat::SplitRaw
                                   : ImageFormat::Ewf;
    const std::string compression = str(j, "compression");
    r.compression = compression == "fast"   ? Compression::Fast
                    : compression == "best" ? Compression::Best
                                            : Compression::None;
    if (auto c = j.find("case"); c != j.end() && c->is_object()) {
        r.case_info = {str(*c, "case_number"), str(*c, "evidence_number"), str(*c, "examiner"),
                       str(*c, "description"), str(*c, "notes")};
    }
    r.started = str(j, "started");
    r.finished = str(j, "finished");
    r.seconds = num<double>(j, "seconds");
    r.bytes_read = num<std::uint64_t>(j, "bytes");
    const json& h = j["hashes"];
    r.hashes = {str(h, "md5"), str(h, "sha1"), str(h, "sha256")};
    if (auto u = j.find("unreadable"); u != j.end() && u->is_array()) {
        for (const auto& x : *u) {
            r.unreadable.push_back({num<std::uint64_t>(x, "offset"),
                                    num<std::uint64_t>(x, "length"), num<int>(x, "errno")});
        }
    }
    r.unreadable_sectors = num<std::uint64_t>(j, "unreadable_sectors");
    if (auto d = j.find("device_writes"); d != j.end() && d->is_object()) {
        DeviceWriteCheck w;
        w.device = str(*d, "device");
        w.writes_before = num<std::uint64_t>(*d, "writes_before");
        w.writes_after = num<std::uint64_t>(*d, "writes_after");
        w.sectors_written_before = num<std::uint64_t>(*d, "sectors_written_before");
        w.sectors_written_after = num<std::uint64_t>(*d, "sectors_written_after");
        w.write_requests_during = num<std::uint64_t>(*d, "write_requests_during");
        r.device_writes = w;
    }
    if (auto f = j.find("write_block_filter"); f != j.end() && f->is_object()) {
        WriteBlockCounters w;
        w.commands_passed = num<std::uint64_t>(*f, "commands_passed");
        w.commands_refused = num<std::uint64_t>(*f, "commands_refused");
        if (auto o = f->find("refused_by_opcode"); o != f->end() && o->is_object()) {
            for (const auto& [opcode, count] : o->items()) {
                unsigned long code = std::strtoul(opcode.c_str(), nullptr, 16);
                if (code <= 0xFF && count.is_number()) {
                    w.refused_by_opcode.emplace_back(static_cast<std::uint8_t>(code),
                                                     count.get<std::uint64_t>());
                }
            }
        }
        w.resets = num<std::uint64_t>(*f, "bot_resets");
        w.stalls = num<std::uint64_t>(*f, "stalls_cleared");
        w.short_reads = num<std::uint64_t>(*f, "short_reads");
        w.retries = num<std::uint64_t>(*f, "retries");
        r.write_block = w;
    }
    r.verified = flag(j, "verified");
    r.verify_seconds = num<double>(j, "verify_seconds");
    if (auto v = j.find("verification"); v != j.end() && v->is_array()) {
        for (const auto& x : *v) {
            const std::string a = str(x, "algorithm");
            HashAlgorithm alg = a == "md5"    ? HashAlgorithm::Md5
                                : a == "sha1" ? HashAlgorithm::Sha1
                                              : HashAlgorithm::Sha256;
            r.verification.push_back(
                {alg, str(x, "acquired"), str(x, "verified"), flag(x, "match")});
        }
    }
    const auto dir = path.parent_path();
    if (auto o = j.find("outputs"); o != j.end() && o->is_array()) {
        for (const auto& x : *o) {
            if (x.is_string()) r.outputs.push_back(dir / x.get<std::string>());
        }
    }
    r.record = path;
    return r;
}

Expected<std::vector<CustodyTimelineEntry>> read_custody_jsonl(const std::filesystem::path& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) return errno_error("cannot open custody log " + path.string(), errno);
    return read_custody_jsonl(file, path.string());
}

Expected<std::vector<CustodyTimelineEntry>> read_custody_jsonl(std::istream& file,
                                                               const std::string& name) {
    std::vector<CustodyTimelineEntry> out;
    std::string line;
    std::size_t number = 0;
    while (std::getline(file, line)) {
        ++number;
        if (line.empty() && file.peek() == std::char_traits<char>::eof()) break;
        json j = json::parse(line, nullptr, false);
        if (j.is_discarded() || !j.is_object() || !j.contains("seq") || !j.contains("action")) {
            return make_error(ErrorKind::Format, "custody log " + name + " line " +
                                                     std::to_string(number) +
                                                     " is not a custody event (JSON object with "
                                                     "seq, time, operator, action, detail, prev)");
        }
        CustodyTimelineEntry e;
        e.seq = num<std::uint64_t>(j, "seq");
        e.time = str(j, "time");
        // The operator is a name, or an object with the name and a collar / staff number.
        if (auto op = j.find("operator"); op != j.end() && op->is_object()) {
            e.operator_name = str(*op, "name");
            const std::string id = str(*op, "id");
            if (!id.empty()) e.operator_name += " (" + id + ")";
        } else {
            e.operator_name = str(j, "operator");
        }
        e.action = str(j, "action");
        auto d = j.find("detail");
        e.detail_json = d != j.end() ? d->dump() : "{}";
        Digest sha(HashAlgorithm::Sha256);
        sha.update(std::as_bytes(std::span(line.data(), line.size())));
        e.line_sha256 = sha.finish_hex();
        out.push_back(std::move(e));
    }
    return out;
}

}  // namespace exhibit
