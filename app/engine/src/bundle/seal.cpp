// Sealing a case into a signed BagIt bag.
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bundle/bag_files.hpp"
#include "exhibit/acquire.hpp"
#include "exhibit/bundle.hpp"
#include "exhibit/custody.hpp"
#include "exhibit/exports.hpp"
#include "exhibit/report.hpp"

namespace exhibit {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// BagIt tag values are one line each.
std::string tag_value(std::string v) {
    std::replace_if(
        v.begin(), v.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
    return v;
}

// Payload names end up in sha256sum-style manifest lines, which cannot carry these.
bool safe_name(const std::string& name) {
    return !name.empty() && name.find_first_of("\n\r\\%") == std::string::npos;
}

// Every image file to bring in, with the name it gets under data/image/.
Expected<std::vector<fs::path>> image_files(const std::vector<fs::path>& args) {
    std::vector<fs::path> files;
    for (const auto& arg : args) {
        std::error_code ec;
        if (fs::is_directory(arg, ec)) {
            std::vector<fs::path> in_dir;
            for (const auto& e : fs::directory_iterator(arg, ec)) {
                if (e.is_regular_file()) in_dir.push_back(e.path());
            }
            if (ec) return errno_error("cannot list image directory " + arg.string(), ec.value());
            std::sort(in_dir.begin(), in_dir.end());
            files.insert(files.end(), in_dir.begin(), in_dir.end());
        } else if (fs::is_regular_file(arg, ec)) {
            files.push_back(arg);
        } else {
            return make_error(ErrorKind::NotFound,
                              "image " + arg.string() + " is not a file or directory");
        }
    }
    for (const auto& f : files) {
        const std::string name = f.filename().string();
        // Raw segments end in .partial until published; E01 segments are named
        // image.partial.E01 (libewf adds the extension); a checkpoint exists only while
        // an acquisition is unfinished.
        bool unfinished = name.find(".partial") != std::string::npos || name.ends_with(".tmp") ||
                          name.ends_with(".checkpoint.json");
        if (!unfinished && name.ends_with(".acquisition.json")) {
            std::ifstream in(f);
            auto record = json::parse(in, nullptr, false);
            unfinished = !record.is_object() || record.value("record", "") != "final";
        }
        if (unfinished) {
            return make_error(ErrorKind::InvalidArgument,
                              "image file " + f.string() +
                                  " is from an acquisition that did not finish; it cannot be "
                                  "sealed as evidence");
        }
        if (!safe_name(name)) {
            return make_error(ErrorKind::InvalidArgument,
                              "image file name " + f.string() + " cannot go in a manifest");
        }
    }
    for (std::size_t i = 1; i < files.size(); ++i) {
        for (std::size_t j = 0; j < i; ++j) {
            if (files[i].filename() == files[j].filename()) {
                return make_error(ErrorKind::InvalidArgument,
                                  "two image files are both named " + files[i].filename().string());
            }
        }
    }
    return files;
}

// A consistent snapshot of the live database, switched to rollback-journal mode so that
// opening the bundle's copy (even read-only) leaves no -wal/-shm files in the payload.
Status snapshot_database(CaseDatabase& db, const fs::path& to) {
    sqlite3* h = db.handle();
    sqlite3_exec(h, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(h, "VACUUM INTO ?", -1, &stmt, nullptr) != SQLITE_OK) {
        return make_error(ErrorKind::Io,
                          std::string("cannot copy the case database: ") + sqlite3_errmsg(h));
    }
    const std::string target = to.string();
    sqlite3_bind_text(stmt, 1, target.c_str(), -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    if (rc != SQLITE_DONE) {
        ErrorKind kind = sqlite3_errcode(h) == SQLITE_FULL ? ErrorKind::NoSpace : ErrorKind::Io;
        return make_error(kind,
                          "cannot copy the case database to " + target + ": " + sqlite3_errmsg(h));
    }
    sqlite3* copy = nullptr;
    rc = sqlite3_open_v2(target.c_str(), &copy, SQLITE_OPEN_READWRITE, nullptr);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(copy, "PRAGMA journal_mode=DELETE", nullptr, nullptr, nullptr);
    std::string message = copy ? sqlite3_errmsg(copy) : "out of memory";
    sqlite3_close_v2(copy);
    if (rc != SQLITE_OK)
        return make_error(ErrorKind::Io,
                          "cannot finish the case database copy " + target + ": " + message);
    return ok();
}

}  // namespace

std::string seal_message(const std::string& tagmanifest_sha256, const std::string& chain_head) {
    return std::string(bag::kSealFormat) + "\n" + tagmanifest_sha256 + "\n" + chain_head + "\n";
}

Expected<SealResult> seal_bundle(CaseDatabase& db, const ApplianceKey& key, const SealPlan& plan,
                                 JobProgress& progress, const std::atomic<bool>& cancel) {
    auto record = read_case(db);
    if (!record) return record.error();
    if (!*record) {
        return make_error(ErrorKind::InvalidArgument,
                          "case database " + db.path().string() +
                              " has no case record (case and exhibit reference, operator); "
                              "`exhibit run` makes one");
    }
    const CaseRecord& c = **record;
    std::error_code ec;
    if (plan.out.empty() || fs::exists(plan.out, ec)) {
        return make_error(ErrorKind::InvalidArgument,
                          "bundle " + plan.out.string() + " already exists; choose a new name");
    }
    const fs::path staging = plan.out.string() + ".partial";
    if (fs::exists(staging, ec)) {
        return make_error(ErrorKind::InvalidArgument,
                          staging.string() +
                              " is in the way (an earlier seal that did not end); "
                              "remove it first");
    }
    auto images = image_files(plan.images);
    if (!images) return images.error();
    if (!fs::create_directories(staging / "data", ec)) {
        return errno_error("cannot create bundle " + staging.string(), ec.value());
    }

    CustodyLog log(db);
    SealResult result;
    // On any failure: the partial bundle holds only links and copies, so it goes; the
    // live case database says what happened.
    auto failed = [&](Error e) {
        fs::remove_all(staging, ec);
        json detail = {{"during", "sealing bundle " + plan.out.string()}, {"message", e.message}};
        (void)log.append(c.operator_of(), custody_action::kError, detail.dump());
        return e;
    };

    std::map<std::string, std::string> manifest;  // data/... -> sha256
    std::uint64_t payload_bytes = 0;
    json image_detail = json::array();

    if (!images->empty()) {
        if (!fs::create_directory(staging / "data" / "image", ec))
            return failed(
                errno_error("cannot create " + (staging / "data/image").string(), ec.value()));
        std::uint64_t total = 0;
        for (const auto& f : *images)
            total += fs::file_size(f, ec);
        progress.begin_stage("sealing images", total);
        for (const auto& f : *images) {
            const std::string rel = "data/image/" + f.filename().string();
            const fs::path to = staging / rel;
            Expected<std::string> sum = std::string();
            std::string how;
            if (::link(f.c_str(), to.c_str()) == 0) {
                sum = bag::sha256_file(to, &progress, &cancel);
                how = "linked";
                ++result.images_linked;
            } else if (errno == EXDEV || errno == EPERM || errno == EMLINK) {
                sum = bag::copy_hashing(f, to, progress, cancel);
                how = "copied";
                ++result.images_copied;
            } else {
                return failed(
                    errno_error("cannot bring " + f.string() + " into the bundle", errno));
            }
            if (!sum) return failed(sum.error());
            manifest[rel] = *sum;
            payload_bytes += fs::file_size(to, ec);
            image_detail.push_back({{"file", rel}, {"sha256", *sum}, {"how", how}});
        }
    }

    auto rows = db.files({});
    if (!rows) return failed(rows.error());
    std::ostringstream dfxml, bodyfile;
    write_dfxml(dfxml, *rows);
    write_bodyfile(bodyfile, *rows);

    // The examiner's report and the CASE/UCO export, from the case database, the
    // acquisition records among the images and the custody log up to the sealing.
    ReportInput report;
    report.case_info = {c.case_reference, c.exhibit_reference, c.warrant_reference, c.operator_name,
                        c.operator_id,    c.location,          c.seized_from,       c.notes};
    for (const auto& f : *images) {
        if (!f.filename().string().ends_with(".acquisition.json")) continue;
        auto acquired = read_acquisition_record(f);
        if (!acquired) return failed(acquired.error());
        report.acquisitions.push_back(std::move(*acquired));
    }
    if (!report.acquisitions.empty()) {
        const AcquisitionResult& a = report.acquisitions.back();
        report.source = a.source;
        report.write_block = describe_write_block(a.source, a.device_writes, a.write_block);
    }
    if (auto s = fill_from_case_database(db, report); !s) return failed(s.error());
    std::ostringstream custody_so_far;
    if (auto s = log.write_jsonl(custody_so_far); !s) return failed(s.error());
    std::istringstream custody_lines(custody_so_far.str());
    auto timeline = read_custody_jsonl(custody_lines, "the case's custody log");
    if (!timeline) return failed(timeline.error());
    report.custody = std::move(*timeline);
    if (!report.custody.empty()) report.chain_head = report.custody.back().line_sha256;
    std::ostringstream html, jsonld;
    if (auto s = write_report_html(report, html); !s) return failed(s.error());
    if (auto s = write_case_jsonld(report, jsonld); !s) return failed(s.error());

    for (const auto& [name, text] :
         {std::pair<std::string, std::string>{"files.dfxml", dfxml.str()},
          {"bodyfile.txt", bodyfile.str()},
          {"report.html", html.str()},
          {"case.jsonld", jsonld.str()}}) {
        const std::string rel = "data/" + name;
        if (auto s = bag::write_file(staging / rel, text); !s) return failed(s.error());
        manifest[rel] = sha256_hex(text);
        payload_bytes += text.size();
    }

    // The sealing is itself an event, and it must be inside the sealed log: appended
    // before custody.jsonl and case.sqlite are exported. It names what it seals that is
    // already fixed (images and listings); the chain head then is this line's hash.
    json exports = json::object();
    for (const auto& [rel, sum] : manifest) {
        if (!rel.starts_with("data/image/")) exports[rel] = sum;
    }
    json sealed = {{"bundle", plan.out.filename().string()},
                   {"key_fingerprint", key.fingerprint()},
                   {"images", image_detail},
                   {"exports", exports}};
    auto event = log.append(c.operator_of(), custody_action::kBundleSealed, sealed.dump());
    if (!event) return failed(event.error());
    result.chain_head = event->sha256;

    std::ostringstream custody;
    if (auto s = log.write_jsonl(custody); !s) return failed(s.error());
    if (auto s = bag::write_file(staging / "data/custody.jsonl", custody.str()); !s)
        return failed(s.error());
    manifest["data/custody.jsonl"] = sha256_hex(custody.str());
    payload_bytes += custody.str().size();

    if (auto s = snapshot_database(db, staging / "data/case.sqlite"); !s) return failed(s.error());
    auto db_sum = bag::sha256_file(staging / "data/case.sqlite", nullptr, &cancel);
    if (!db_sum) return failed(db_sum.error());
    manifest["data/case.sqlite"] = *db_sum;
    payload_bytes += fs::file_size(staging / "data/case.sqlite", ec);

    std::string manifest_text;
    for (const auto& [rel, sum] : manifest)
        manifest_text += sum + "  " + rel + "\n";
    result.payload_bytes = payload_bytes;
    result.payload_files = manifest.size();

    const std::string oxum = std::to_string(payload_bytes) + "." + std::to_string(manifest.size());
    std::string info;
    auto label = [&](const char* name, const std::string& value) {
        if (!value.empty()) info += std::string(name) + ": " + tag_value(value) + "\n";
    };
    label("External-Identifier", c.exhibit_reference);
    label("Contact-Name", c.operator_name);
    label("Bagging-Date", utc_timestamp().substr(0, 10));
    label("Payload-Oxum", oxum);
    label("Bag-Software-Agent", "exhibit 0.1.0");
    label("Exhibit-Case-Reference", c.case_reference);
    label("Exhibit-Exhibit-Reference", c.exhibit_reference);
    label("Exhibit-Warrant-Reference", c.warrant_reference);
    label("Exhibit-Operator-Name", c.operator_name);
    label("Exhibit-Operator-Id", c.operator_id);
    label("Exhibit-Location", c.location);
    label("Exhibit-Seized-From", c.seized_from);
    label("Exhibit-Notes", c.notes);
    label("Exhibit-Case-Opened", c.opened);
    label("Exhibit-Sealed", utc_timestamp());
    label("Exhibit-Custody-Chain-Head", result.chain_head);
    label("Exhibit-Key-Fingerprint", key.fingerprint());

    std::map<std::string, std::string> tag_files = {
        {bag::kBagit, bag::kBagitText}, {bag::kBagInfo, info}, {bag::kManifest, manifest_text}};
    std::string tagmanifest;
    for (const auto& [name, text] : tag_files) {
        if (auto s = bag::write_file(staging / name, text); !s) return failed(s.error());
        tagmanifest += sha256_hex(text) + "  " + name + "\n";
    }
    if (auto s = bag::write_file(staging / bag::kTagManifest, tagmanifest); !s)
        return failed(s.error());
    result.tagmanifest_sha256 = sha256_hex(tagmanifest);
    result.key_fingerprint = key.fingerprint();

    auto signature = key.sign(seal_message(result.tagmanifest_sha256, result.chain_head));
    if (!signature) return failed(signature.error());
    // One key per line (dump(2)), so the README's sed recipe can lift each value.
    json seal = {{"format", bag::kSealFormat},
                 {"algorithm", "Ed25519"},
                 {"chain_head", result.chain_head},
                 {"custody_lines", event->seq},
                 {"tagmanifest_sha256", result.tagmanifest_sha256},
                 {"public_key_pem", key.public_pem()},
                 {"public_key_fingerprint", key.fingerprint()},
                 {"signature", base64_encode(*signature)},
                 {"software", "exhibit 0.1.0"}};
    if (auto s = bag::write_file(staging / bag::kSeal, seal.dump(2) + "\n"); !s)
        return failed(s.error());

    // Every file is already synced; their names too before the bundle takes its final
    // name, and that name after, so a power cut leaves the staging folder or the bundle.
    for (const fs::path& d : {staging / "data" / "image", staging / "data", staging}) {
        if (!fs::exists(d, ec)) continue;
        if (auto s = bag::sync_directory(d); !s) return failed(s.error());
    }
    if (::rename(staging.c_str(), plan.out.c_str()) != 0)
        return failed(errno_error("cannot rename " + staging.string(), errno));
    fs::path parent = plan.out.parent_path();
    if (auto s = bag::sync_directory(parent.empty() ? fs::path(".") : parent); !s)
        return s.error();  // the bundle is whole; only its name may not be on disk yet
    result.bundle = plan.out;
    return result;
}

}  // namespace exhibit
