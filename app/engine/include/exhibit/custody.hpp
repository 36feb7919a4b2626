// The case and its chain of custody: who seized what, under which warrant, and every
// action taken on it, in an append-only, hash-chained log kept in the case database.
//
//   auto db = CaseDatabase::open("/cases/JD1/case.sqlite");
//   CaseRecord c{.case_reference = "OP-BLUEBIRD", .exhibit_reference = "JD/1", ...};
//   open_case(**db, c);                          // case_info row + "case_opened" +
//   "operator_signed_in" CustodyLog log(**db); log.append(c.operator_of(),
//   custody_action::kNoteAdded, R"({"text":"bag sealed"})"); std::ofstream out("custody.jsonl",
//   std::ios::binary); log.write_jsonl(out);                        // the exact stored lines,
//   LF-terminated
//
// The log format is the one DESIGN.md fixes ("Custody log"): one JSON object per line with
// `seq`, `time` (UTC, RFC 3339, milliseconds, `Z`), `operator` ({"id","name"}), `action`,
// `detail` (an object) and `prev` (SHA-256 hex of the previous line's bytes; 64 zeros on
// line 1). Keys are sorted and the line is compact, so a line re-serialises to itself.
// Every `detail` carries `clock`: where the appliance's time came from (appliance_clock()).
//
// Promises
// - append() computes seq and prev and inserts the line in one SQLite transaction, so a
//   crash leaves either the whole event or none of it, never a broken chain. Triggers in
//   the database refuse UPDATE and DELETE on custody_events.
// - The stored line is the exported line, byte for byte; its SHA-256 is stored beside it.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "exhibit/case_db.hpp"
#include "exhibit/error.hpp"
#include "exhibit/source.hpp"

namespace exhibit {

struct AcquisitionPlan;
struct AcquisitionResult;

// The person doing the work: name and collar / staff number.
struct Operator {
    std::string name;
    std::string id;
};

// One case, one exhibit (one source device).
struct CaseRecord {
    std::string case_reference;     // e.g. OP-BLUEBIRD
    std::string exhibit_reference;  // e.g. JD/1
    std::string warrant_reference;  // may be empty
    std::string operator_name;
    std::string operator_id;  // collar or staff number
    std::string location;     // where the work is done
    std::string seized_from;  // person or place the exhibit was seized from
    std::string notes;
    std::string opened;  // UTC, set by open_case

    Operator operator_of() const { return {operator_name, operator_id}; }
};

// The action names the log uses (docs/case-database.md lists their details).
namespace custody_action {
inline constexpr const char* kCaseOpened = "case_opened";
inline constexpr const char* kOperatorSignedIn = "operator_signed_in";
inline constexpr const char* kSourceAttached = "source_attached";
inline constexpr const char* kWriteBlockChecked = "write_block_checked";
inline constexpr const char* kAcquisitionStarted = "acquisition_started";
inline constexpr const char* kAcquisitionFinished = "acquisition_finished";
inline constexpr const char* kTriageStarted = "triage_started";
inline constexpr const char* kTriageFinished = "triage_finished";
inline constexpr const char* kNoteAdded = "note_added";
inline constexpr const char* kJobResumed = "job_resumed";  // `exhibit run --resume`
inline constexpr const char* kBundleSealed = "bundle_sealed";
inline constexpr const char* kBundleVerified = "bundle_verified";  // after the seal: live log only
inline constexpr const char* kError = "error";
}  // namespace custody_action

// Where the appliance's clock gets its time, read cheaply on every event: the kernel's
// NTP state (adjtimex), the presence of a hardware clock (/sys/class/rtc/rtc0) and whether
// /etc/adjtime keeps it in UTC or local time.
struct ClockSource {
    std::string source;  // "ntp" (kernel clock disciplined by NTP), "rtc", "system"
    bool ntp_synchronized = false;
    std::string rtc;           // "rtc0", or empty when there is no hardware clock
    std::string rtc_mode;      // "UTC" or "LOCAL" from /etc/adjtime; empty when unknown
    std::string json() const;  // {"ntp_synchronized":..,"rtc":..,"rtc_mode":..,"source":..}
};
ClockSource appliance_clock();

struct CustodyEvent {
    std::int64_t seq = 0;
    std::string line;    // exactly as exported, without the LF
    std::string sha256;  // of `line`
};

class CustodyLog {
  public:
    explicit CustodyLog(CaseDatabase& db) : db_(db) {}

    // Appends one event. `detail_json` must be a JSON object (an empty string means {}).
    // When the drive is full and a custody reserve exists (below), half of what is left
    // of the reserve is given up (all of it the second time) and the event written with
    // its room.
    Expected<CustodyEvent> append(const Operator& who, std::string_view action,
                                  const std::string& detail_json = {});
    // The same, with `also` run inside the event's transaction before the event is
    // inserted: the rows it writes and the event are committed together or not at all.
    using SameTransaction = std::function<Status()>;
    Expected<CustodyEvent> append(const Operator& who, std::string_view action,
                                  const std::string& detail_json, const SameTransaction& also);
    Expected<std::vector<CustodyEvent>> events() const;
    // Every line followed by LF: the content of custody.jsonl.
    Status write_jsonl(std::ostream& out) const;

  private:
    Expected<CustodyEvent> append_once(const Operator& who, std::string_view action,
                                       const std::string& detail_json, const SameTransaction& also);
    CaseDatabase& db_;
};

// Room kept on the case database's drive so that a full output drive can still be
// recorded in the custody log: `<database>.reserve`, `bytes` allocated (fallocate), which
// CustodyLog::append shrinks (first to half, then to nothing) when an event no longer
// fits. A job makes it at its start and removes it at its end with
// release_custody_reserve (true when there was one). Once custody_reserve_intact is
// false the drive is full: a job stops there and records why with the half left.
Status keep_custody_reserve(const CaseDatabase& db, std::uint64_t bytes = 1u << 20);
bool release_custody_reserve(const CaseDatabase& db);
bool custody_reserve_intact(const CaseDatabase& db);

// Stores the case (once: a second call with a case already there is an error) and logs
// "case_opened" and "operator_signed_in".
Status open_case(CaseDatabase& db, CaseRecord record);
// The case as stored, or nullopt when the database has none yet.
Expected<std::optional<CaseRecord>> read_case(CaseDatabase& db);
// Records the source device of the exhibit and logs "source_attached" (type, model,
// serial, size, protection).
Status record_source(CaseDatabase& db, const CaseRecord& c, const SourceInfo& source);

// The JSON object `detail` of the standard events built from engine results.
std::string source_detail(const SourceInfo& source);
std::string acquisition_started_detail(const AcquisitionPlan& plan, const SourceInfo& source);
std::string acquisition_finished_detail(const AcquisitionResult& result);
// Counts from the run plus hit counts by kind from the hits table.
std::string triage_finished_detail(CaseDatabase& db, const TriageRun& run);

// The check of a custody.jsonl text, line by line.
struct ChainVerdict {
    bool ok = false;
    std::size_t lines = 0;     // lines read (all of them when ok)
    std::string head;          // SHA-256 of the last good line; 64 zeros for an empty log
    std::size_t bad_line = 0;  // 1-based line at fault, 0 when ok
    std::string problem;       // one sentence naming the line and why
    std::vector<std::string> line_hashes;  // SHA-256 of each good line, in order
};
ChainVerdict verify_custody_chain(std::string_view text);

// SHA-256 of `text` as lowercase hex.
std::string sha256_hex(std::string_view text);

}  // namespace exhibit
