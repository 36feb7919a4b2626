// The custody log and the case record in the case database.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/timex.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "exhibit/acquire.hpp"
#include "exhibit/custody.hpp"
#include "exhibit/hashing.hpp"
#include "sources/source_json.hpp"

namespace exhibit {

namespace {

using nlohmann::json;

const std::string kZeroHash(64, '0');

// A prepared statement on the case database's connection.
class Query {
  public:
    Query(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr); }
    ~Query() { sqlite3_finalize(stmt_); }
    Query(const Query&) = delete;
    Query& operator=(const Query&) = delete;
    bool ok() const { return stmt_ != nullptr; }
    void bind(int i, const std::string& v) {
        sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    }
    void bind(int i, std::int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
    int step() { return sqlite3_step(stmt_); }
    std::int64_t integer(int col) { return sqlite3_column_int64(stmt_, col); }
    std::string text(int col) {
        const auto* t = sqlite3_column_text(stmt_, col);
        return t ? std::string(reinterpret_cast<const char*>(t),
                               static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
                 : std::string();
    }

  private:
    sqlite3_stmt* stmt_ = nullptr;
};

Error sql_error(sqlite3* db, const std::string& what) {
    ErrorKind kind = sqlite3_errcode(db) == SQLITE_FULL ? ErrorKind::NoSpace : ErrorKind::Io;
    return make_error(kind, what + ": " + sqlite3_errmsg(db));
}

Status exec(sqlite3* db, const char* sql, const std::string& what) {
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return sql_error(db, what);
    return ok();
}

// Compact, sorted keys (nlohmann's object is a std::map), UTF-8 kept as is; bytes that
// are not UTF-8 become U+FFFD rather than an exception, and the stored line is what counts.
std::string canonical(const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string read_small_file(const char* path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace

std::string sha256_hex(std::string_view text) {
    Digest d(HashAlgorithm::Sha256);
    d.update(std::as_bytes(std::span(text.data(), text.size())));
    return d.finish_hex();
}

ClockSource appliance_clock() {
    ClockSource c;
    // adjtimex only reads when modes is 0; TIME_ERROR means the kernel clock is not
    // synchronised (STA_UNSYNC), whatever daemon would otherwise discipline it.
    struct timex tx {};
    int state = ::adjtimex(&tx);
    c.ntp_synchronized = state >= 0 && state != TIME_ERROR && !(tx.status & STA_UNSYNC);
    std::error_code ec;
    if (std::filesystem::exists("/sys/class/rtc/rtc0", ec)) c.rtc = "rtc0";
    // /etc/adjtime (hwclock): the third line says whether the RTC keeps UTC or local time.
    std::string adj = read_small_file("/etc/adjtime");
    if (adj.find("\nUTC") != std::string::npos) c.rtc_mode = "UTC";
    if (adj.find("\nLOCAL") != std::string::npos) c.rtc_mode = "LOCAL";
    c.source = c.ntp_synchronized ? "ntp" : !c.rtc.empty() ? "rtc" : "system";
    return c;
}

std::string ClockSource::json() const {
    nlohmann::json j = {{"source", source}, {"ntp_synchronized", ntp_synchronized}};
    j["rtc"] = rtc.empty() ? nlohmann::json(nullptr) : nlohmann::json(rtc);
    j["rtc_mode"] = rtc_mode.empty() ? nlohmann::json(nullptr) : nlohmann::json(rtc_mode);
    return canonical(j);
}

namespace {

constexpr std::uint64_t kReserveBytes = 1u << 20;

// Gives up half of the reserve, or the rest of it when half is already gone; false when
// there was none.
bool shrink_custody_reserve(const CaseDatabase& db) {
    const std::string path = db.path().string() + ".reserve";
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return false;
    const auto size = static_cast<std::uint64_t>(st.st_size);
    if (size > kReserveBytes / 2 && ::truncate(path.c_str(), static_cast<off_t>(size / 2)) == 0)
        return true;
    return ::unlink(path.c_str()) == 0;
}

}  // namespace

bool custody_reserve_intact(const CaseDatabase& db) {
    struct stat st {};
    const std::string path = db.path().string() + ".reserve";
    return ::stat(path.c_str(), &st) == 0 &&
           static_cast<std::uint64_t>(st.st_size) >= kReserveBytes;
}

Status keep_custody_reserve(const CaseDatabase& db, std::uint64_t bytes) {
    const std::string path = db.path().string() + ".reserve";
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return errno_error("cannot create " + path, errno);
    int err = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes));
    ::close(fd);
    if (err != 0) {
        ::unlink(path.c_str());
        return errno_error("cannot reserve room for the custody log in " + path, err);
    }
    return ok();
}

bool release_custody_reserve(const CaseDatabase& db) {
    const std::string path = db.path().string() + ".reserve";
    return ::unlink(path.c_str()) == 0;
}

Expected<CustodyEvent> CustodyLog::append(const Operator& who, std::string_view action,
                                          const std::string& detail_json) {
    return append(who, action, detail_json, {});
}

Expected<CustodyEvent> CustodyLog::append(const Operator& who, std::string_view action,
                                          const std::string& detail_json,
                                          const SameTransaction& also) {
    auto event = append_once(who, action, detail_json, also);
    // The output drive is full: give up (part of) the reserve kept for this and try once
    // more, so that the log still says what happened.
    if (!event && event.error().kind == ErrorKind::NoSpace && shrink_custody_reserve(db_))
        event = append_once(who, action, detail_json, also);
    return event;
}

Expected<CustodyEvent> CustodyLog::append_once(const Operator& who, std::string_view action,
                                               const std::string& detail_json,
                                               const SameTransaction& also) {
    json detail = json::object();
    if (!detail_json.empty()) {
        detail = json::parse(detail_json, nullptr, false);
        if (!detail.is_object()) {
            return make_error(ErrorKind::InvalidArgument,
                              "custody event '" + std::string(action) +
                                  "' has a detail that is not a JSON object");
        }
    }
    if (!detail.contains("clock")) detail["clock"] = json::parse(appliance_clock().json());
    sqlite3* db = db_.handle();
    // The case database runs WAL with synchronous=NORMAL, where a commit can be lost to a
    // power cut until the next checkpoint. A custody event must be on disk when it is
    // reported, so its commit syncs the WAL (FULL); bulk triage rows stay batched.
    if (auto s = exec(db, "PRAGMA synchronous=FULL", "cannot make a custody event durable"); !s)
        return s.error();
    struct NormalAgain {
        sqlite3* db;
        ~NormalAgain() { sqlite3_exec(db, "PRAGMA synchronous=NORMAL", nullptr, nullptr, nullptr); }
    } normal_again{db};
    if (auto s = exec(db, "BEGIN IMMEDIATE", "cannot start a custody event"); !s) return s.error();
    auto fail = [&](const std::string& what) {
        Error e = sql_error(db, what + " in " + db_.path().string());
        sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        return e;
    };
    if (also) {
        if (auto s = also(); !s) {
            sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
            return s.error();
        }
    }
    CustodyEvent event;
    std::string prev = kZeroHash;
    {
        Query last(db, "SELECT seq, sha256 FROM custody_events ORDER BY seq DESC LIMIT 1");
        if (!last.ok()) return fail("cannot read the custody log");
        int rc = last.step();
        if (rc == SQLITE_ROW) {
            event.seq = last.integer(0);
            prev = last.text(1);
        } else if (rc != SQLITE_DONE) {
            return fail("cannot read the custody log");
        }
    }
    event.seq += 1;
    json line = {{"seq", event.seq},
                 {"time", utc_timestamp()},
                 {"operator", {{"name", who.name}, {"id", who.id}}},
                 {"action", std::string(action)},
                 {"detail", detail},
                 {"prev", prev}};
    event.line = canonical(line);
    event.sha256 = sha256_hex(event.line);
    Query insert(db, "INSERT INTO custody_events (seq, line, sha256) VALUES (?,?,?)");
    if (!insert.ok()) return fail("cannot prepare a custody event");
    insert.bind(1, event.seq);
    insert.bind(2, event.line);
    insert.bind(3, event.sha256);
    if (insert.step() != SQLITE_DONE) return fail("cannot record a custody event");
    if (sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK)
        return fail("cannot commit a custody event");
    return event;
}

Expected<std::vector<CustodyEvent>> CustodyLog::events() const {
    Query q(db_.handle(), "SELECT seq, line, sha256 FROM custody_events ORDER BY seq");
    if (!q.ok()) return sql_error(db_.handle(), "cannot read the custody log");
    std::vector<CustodyEvent> out;
    int rc;
    while ((rc = q.step()) == SQLITE_ROW)
        out.push_back({q.integer(0), q.text(1), q.text(2)});
    if (rc != SQLITE_DONE) return sql_error(db_.handle(), "cannot read the custody log");
    return out;
}

Status CustodyLog::write_jsonl(std::ostream& out) const {
    auto all = events();
    if (!all) return all.error();
    for (const auto& e : *all)
        out << e.line << '\n';
    if (!out) return make_error(ErrorKind::Io, "cannot write the custody log");
    return ok();
}

Status open_case(CaseDatabase& db, CaseRecord c) {
    if (c.case_reference.empty() || c.exhibit_reference.empty() || c.operator_name.empty() ||
        c.operator_id.empty()) {
        return make_error(ErrorKind::InvalidArgument,
                          "a case needs a case reference, an exhibit reference and the "
                          "operator's name and collar or staff number");
    }
    auto existing = read_case(db);
    if (!existing) return existing.error();
    if (*existing) {
        return make_error(ErrorKind::InvalidArgument,
                          "case database " + db.path().string() + " already holds case " +
                              (*existing)->case_reference + " exhibit " +
                              (*existing)->exhibit_reference);
    }
    c.opened = utc_timestamp();
    // The case row and its case_opened event are one transaction: a power cut leaves
    // either both or neither, never a case that the log does not say was opened.
    auto record_case = [&]() -> Status {
        Query q(db.handle(),
                "INSERT INTO case_info (id, case_reference, exhibit_reference, "
                "warrant_reference, operator_name, operator_id, location, seized_from, notes, "
                "opened) VALUES (1,?,?,?,?,?,?,?,?,?)");
        if (!q.ok()) return sql_error(db.handle(), "cannot prepare the case record");
        int i = 1;
        for (const std::string* v :
             {&c.case_reference, &c.exhibit_reference, &c.warrant_reference, &c.operator_name,
              &c.operator_id, &c.location, &c.seized_from, &c.notes, &c.opened}) {
            q.bind(i++, *v);
        }
        if (q.step() != SQLITE_DONE) return sql_error(db.handle(), "cannot record the case");
        return ok();
    };
    CustodyLog log(db);
    json opened = {{"case_reference", c.case_reference},
                   {"exhibit_reference", c.exhibit_reference},
                   {"warrant_reference", c.warrant_reference},
                   {"location", c.location},
                   {"seized_from", c.seized_from},
                   {"notes", c.notes},
                   {"software", "exhibit 0.1.0"}};
    if (auto e = log.append(c.operator_of(), custody_action::kCaseOpened, canonical(opened),
                            record_case);
        !e) {
        return e.error();
    }
    json signed_in = {{"name", c.operator_name}, {"id", c.operator_id}};
    if (auto e =
            log.append(c.operator_of(), custody_action::kOperatorSignedIn, canonical(signed_in));
        !e) {
        return e.error();
    }
    return ok();
}

Expected<std::optional<CaseRecord>> read_case(CaseDatabase& db) {
    Query q(db.handle(),
            "SELECT case_reference, exhibit_reference, warrant_reference, operator_name, "
            "operator_id, location, seized_from, notes, opened FROM case_info WHERE id = 1");
    if (!q.ok()) return sql_error(db.handle(), "cannot read the case record");
    int rc = q.step();
    if (rc == SQLITE_DONE) return std::optional<CaseRecord>();
    if (rc != SQLITE_ROW) return sql_error(db.handle(), "cannot read the case record");
    CaseRecord c;
    int i = 0;
    for (std::string* v :
         {&c.case_reference, &c.exhibit_reference, &c.warrant_reference, &c.operator_name,
          &c.operator_id, &c.location, &c.seized_from, &c.notes, &c.opened}) {
        *v = q.text(i++);
    }
    return std::optional<CaseRecord>(std::move(c));
}

std::string source_detail(const SourceInfo& s) {
    // The source as `exhibit info --json` and the acquisition record describe it, with
    // the custody format's "type" for "kind", and how it is protected.
    json j = source_json(s);
    j["type"] = j["kind"];
    j.erase("kind");
    if (s.device) {
        const auto& d = *s.device;
        j["protection"] = d.kernel_read_only
                              ? "kernel read-only flag"
                              : "hardware write-blocker declared: " + d.hardware_blocker;
    } else {
        j["protection"] = s.kind == SourceKind::UsbMassStorage
                              ? "user-space USB reader (read-class SCSI commands only)"
                              : "image file opened read-only";
    }
    return canonical(j);
}

Status record_source(CaseDatabase& db, const CaseRecord& c, const SourceInfo& s) {
    Query q(db.handle(),
            "INSERT INTO sources (exhibit_reference, kind, path, size, sector_size, vendor, "
            "model, serial, bus, usb_id, hardware_blocker, attached) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)");
    if (!q.ok()) return sql_error(db.handle(), "cannot prepare the source record");
    q.bind(1, c.exhibit_reference);
    q.bind(2, std::string(to_string(s.kind)));
    q.bind(3, s.path);
    q.bind(4, static_cast<std::int64_t>(s.size));
    q.bind(5, static_cast<std::int64_t>(s.sector_size));
    if (s.device) {
        q.bind(6, s.device->vendor);
        q.bind(7, s.device->model);
        q.bind(8, s.device->serial);
        q.bind(9, s.device->bus);
        q.bind(10, s.device->usb_id);
        q.bind(11, s.device->hardware_blocker);
    }
    q.bind(12, utc_timestamp());
    if (q.step() != SQLITE_DONE) return sql_error(db.handle(), "cannot record the source");
    CustodyLog log(db);
    if (auto e = log.append(c.operator_of(), custody_action::kSourceAttached, source_detail(s)); !e)
        return e.error();
    return ok();
}

std::string acquisition_started_detail(const AcquisitionPlan& plan, const SourceInfo& source) {
    json j = {{"format", to_string(plan.format)},
              {"compression", to_string(plan.compression)},
              {"segment_size", plan.segment_size},
              {"verify", plan.verify},
              {"output", plan.out_dir.string()},
              {"source", source.path},
              {"size", source.size}};
    return canonical(j);
}

std::string acquisition_finished_detail(const AcquisitionResult& r) {
    json j = {{"status", to_string(r.status)},
              {"summary", r.summary},
              {"format", to_string(r.format)},
              {"bytes", r.bytes_read},
              {"md5", r.hashes.md5},
              {"sha1", r.hashes.sha1},
              {"sha256", r.hashes.sha256},
              {"unreadable_sectors", r.unreadable_sectors},
              {"started", r.started},
              {"finished", r.finished},
              {"record", r.record.filename().string()}};
    json bad = json::array();
    for (const auto& u : r.unreadable)
        bad.push_back({{"offset", u.offset}, {"length", u.length}, {"errno", u.sys_errno}});
    j["unreadable"] = bad;
    bool all_match = r.verified && !r.verification.empty();
    for (const auto& c : r.verification)
        all_match = all_match && c.match;
    j["verification"] = !r.verified ? "not run" : all_match ? "matched" : "mismatch";
    json files = json::array();
    for (const auto& f : r.outputs)
        files.push_back(f.filename().string());
    j["outputs"] = files;
    if (r.error) j["error"] = r.error->message;
    if (r.device_writes) {
        j["device_write_requests_during"] = r.device_writes->write_requests_during;
    }
    return canonical(j);
}

std::string triage_finished_detail(CaseDatabase& db, const TriageRun& run) {
    json j = {{"run", run.id},
              {"status", run.status},
              {"started", run.started},
              {"finished", run.finished},
              {"files", run.files},
              {"files_hashed", run.files_hashed},
              {"bytes_read", run.bytes_read},
              {"file_system_errors", run.errors}};
    if (!run.stopped_at.empty()) j["stopped_at"] = run.stopped_at;
    json hits = json::object();
    for (const char* kind : {"hashset", "yara", "keyword"})
        hits[kind] = 0;
    if (auto counts = db.hit_counts(run.id)) {
        for (const auto& [kind, count] : *counts)
            hits[kind] = count;
    }
    j["hits"] = hits;
    if (auto u = db.unallocated_summary(run.id); u && u->scanned) {
        j["unallocated"] = {{"regions", u->regions},
                            {"incomplete_regions", u->incomplete_regions},
                            {"unallocated_bytes", u->unallocated_bytes},
                            {"scanned_bytes", u->scanned_bytes},
                            {"hits", u->hits}};
    }
    return canonical(j);
}

ChainVerdict verify_custody_chain(std::string_view text) {
    static const std::regex kTime(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
    ChainVerdict v;
    v.head = kZeroHash;
    std::size_t pos = 0;
    auto bad = [&](std::size_t line, const std::string& why) {
        v.ok = false;
        v.bad_line = line;
        v.problem = "custody.jsonl line " + std::to_string(line) + ": " + why;
        return v;
    };
    while (pos < text.size()) {
        std::size_t n = v.lines + 1;
        std::size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) return bad(n, "the last line has no line feed");
        std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        json j = json::parse(line.begin(), line.end(), nullptr, false);
        if (j.is_discarded() || !j.is_object()) return bad(n, "is not a JSON object");
        for (const char* key : {"seq", "time", "operator", "action", "detail", "prev"}) {
            if (!j.contains(key)) return bad(n, std::string("has no \"") + key + "\"");
        }
        if (j.size() != 6)
            return bad(n,
                       "has fields other than seq, time, operator, action, "
                       "detail and prev");
        if (!j["seq"].is_number_integer() || j["seq"].get<std::int64_t>() != std::int64_t(n)) {
            return bad(n, "seq is " + j["seq"].dump() + ", expected " + std::to_string(n) +
                              " (a line was removed, inserted or moved)");
        }
        if (!j["time"].is_string() || !std::regex_match(j["time"].get<std::string>(), kTime))
            return bad(n, "time is not UTC RFC 3339 with milliseconds");
        if (!j["action"].is_string() || j["action"].get<std::string>().empty())
            return bad(n, "action is not a name");
        if (!j["detail"].is_object()) return bad(n, "detail is not an object");
        if (!j["operator"].is_object()) return bad(n, "operator is not an object");
        if (!j["prev"].is_string() || j["prev"].get<std::string>() != v.head) {
            return bad(n, n == 1 ? "prev is not 64 zeros"
                                 : "prev is not the SHA-256 of line " + std::to_string(n - 1) +
                                       " (that line was changed, or lines were removed or "
                                       "inserted)");
        }
        if (canonical(j) != line)
            return bad(n, "is not in the log's canonical form (the line was edited)");
        v.head = sha256_hex(line);
        v.line_hashes.push_back(v.head);
        v.lines = n;
    }
    v.ok = true;
    return v;
}

}  // namespace exhibit
