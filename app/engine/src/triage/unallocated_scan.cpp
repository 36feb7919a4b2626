// The unallocated-space scan: one parser worker per region finds the unallocated stretches
// (TSK's block walk, for a file system), reads them through the supervisor in windows and
// runs libyara over each window itself; the supervisor only checks and forwards what the
// worker reports. The worker inherits the compiled rules with the fork.
// nlohmann/json before yara.h: YARA defines macros (get_string, ...) that break it.
#include <nlohmann/json.hpp>

#include <tsk/libtsk.h>
#include <yara.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "exhibit/rules.hpp"
#include "exhibit/unallocated_scan.hpp"
#include "io/json_numbers.hpp"
#include "match/yara_keywords.hpp"
#include "triage/tsk_image.hpp"
#include "triage/walk_messages.hpp"
#include "triage/walk_worker.hpp"

namespace exhibit {

namespace {

using nlohmann::json;
using triage_detail::Frame;
using triage_detail::MessageType;
using triage_detail::WalkWorker;
using triage_detail::WorkerLimits;
using triage_detail::WorkerSide;

constexpr std::size_t kExcerpt = 64;  // bytes of a matched string shown
constexpr std::size_t kContext = 40;  // bytes either side of a keyword

std::vector<std::byte> cbor(const json& j) {
    auto bytes = json::to_cbor(j);
    std::vector<std::byte> out(bytes.size());
    std::memcpy(out.data(), bytes.data(), bytes.size());
    return out;
}

// A worker's message as JSON; an Error for anything that is not a CBOR object.
Expected<json> decode(const Frame& frame, const char* what) {
    try {
        const auto* p = reinterpret_cast<const std::uint8_t*>(frame.payload.data());
        json j = json::from_cbor(p, p + frame.payload.size());
        if (j.is_object()) return j;
    } catch (const json::exception&) {
    }
    return make_error(
        ErrorKind::Format,
        std::string("the unallocated-space worker sent a malformed ") + what + " message");
}

// Printable ASCII as is, anything else as \xNN (UTF-16LE text as its characters).
std::string printable(const std::uint8_t* bytes, std::size_t n, bool wide) {
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (std::size_t i = 0; i < n; i += wide ? 2 : 1) {
        const std::uint8_t c = bytes[i];
        if (c >= 0x20 && c < 0x7f && (!wide || i + 1 >= n || bytes[i + 1] == 0)) {
            out += static_cast<char>(c);
        } else {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

bool looks_utf16le(const std::uint8_t* bytes, std::size_t n) {
    if (n < 2 || n % 2 != 0) return false;
    for (std::size_t i = 1; i < n; i += 2)
        if (bytes[i] != 0) return false;
    return true;
}

// ---- In the worker -----------------------------------------------------------------

struct Extent {
    std::uint64_t offset, length;  // absolute
};

class WindowScanner {
  public:
    WindowScanner(WorkerSide& side, const UnallocatedScanOptions& options,
                  std::uint64_t byte_budget, std::uint64_t hit_budget)
        : side_(side), options_(options), bytes_left_(byte_budget), hits_left_(hit_budget) {
        YR_SCANNER* s = nullptr;
        if (yr_scanner_create(options.rules->yr_rules(), &s) != ERROR_SUCCESS)
            throw std::runtime_error("libyara cannot create a scanner");
        scanner_.reset(s);
        yr_scanner_set_callback(s, &WindowScanner::on_message, this);
        yr_scanner_set_timeout(s, options.timeout_seconds);
        const std::size_t chunk = std::max<std::size_t>(options.chunk_size, 4096);
        buffer_.resize(chunk + options.overlap);
    }

    // False once cancelled or out of budget.
    bool scan(const Extent& e) {
        const std::size_t chunk = buffer_.size() - options_.overlap;
        for (std::uint64_t pos = 0; pos < e.length; pos += chunk) {
            if (side_.cancelled() || bytes_left_ == 0) return false;
            const std::uint64_t rest = e.length - pos;
            std::size_t window = static_cast<std::size_t>(
                std::min<std::uint64_t>({rest, buffer_.size(), bytes_left_ + options_.overlap}));
            owned_ = static_cast<std::size_t>(std::min<std::uint64_t>({rest, chunk, bytes_left_}));
            window = std::max(window, owned_);
            auto n = read_fully(side_.source(), e.offset + pos,
                                {reinterpret_cast<std::byte*>(buffer_.data()), window});
            if (!n) {
                note("cannot read byte " + std::to_string(e.offset + pos) + ": " +
                     n.error().message);
                return true;  // the next extent may read
            }
            length_ = *n;
            owned_ = std::min(owned_, length_);
            base_ = e.offset + pos;
            int rc = yr_scanner_scan_mem(scanner_.get(), buffer_.data(), length_);
            if (rc != ERROR_SUCCESS) {
                note("YARA scan of bytes " + std::to_string(base_) + " to " +
                     std::to_string(base_ + length_) +
                     (rc == ERROR_SCAN_TIMEOUT
                          ? " timed out"
                          : " failed (libyara error " + std::to_string(rc) + ")") +
                     "; hits found before that are kept");
            }
            bytes_left_ -= owned_;
            side_.send(MessageType::UnallocatedProgress, cbor({{"bytes", owned_}}));
            if (length_ < window) return true;  // the end of the source
        }
        return true;
    }

    std::uint64_t hits_dropped() const { return dropped_; }

  private:
    void note(const std::string& message) {
        side_.send(MessageType::UnallocatedNote, cbor({{"message", message}}));
    }

    static int on_message(YR_SCAN_CONTEXT* context, int message, void* data, void* user) {
        if (message == CALLBACK_MSG_RULE_MATCHING)
            static_cast<WindowScanner*>(user)->add_hit(context, static_cast<const YR_RULE*>(data));
        return CALLBACK_CONTINUE;
    }

    void add_hit(YR_SCAN_CONTEXT* context, const YR_RULE* rule) {
        const std::string ns = rule->ns && rule->ns->name ? rule->ns->name : "";
        const bool keyword = ns == match_detail::kKeywordNamespace;
        json strings = json::array();
        std::uint64_t total = 0;
        std::optional<std::uint64_t> first;
        const YR_STRING* string;
        yr_rule_strings_foreach(rule, string) {
            // libyara 4.2's notebook does not align matches: copy each out first.
            for (const YR_MATCH* at = context->matches[string->idx].head; at;) {
                YR_MATCH m;
                std::memcpy(&m, at, sizeof m);
                at = m.next;
                if (m.is_private) continue;
                const auto offset = static_cast<std::uint64_t>(m.base + m.offset);
                if (offset >= owned_) continue;  // the next window's
                ++total;
                first = std::min(first.value_or(offset), offset);
                if (strings.size() >= static_cast<std::size_t>(options_.max_strings)) continue;
                const auto length = static_cast<std::size_t>(m.match_length);
                const std::size_t avail = std::min<std::size_t>(length, length_ - offset);
                const bool wide = looks_utf16le(buffer_.data() + offset, avail);
                json s = {{"offset", base_ + offset}, {"length", length}};
                if (keyword) {
                    const std::size_t around = kContext * (wide ? 2 : 1);
                    const std::size_t from = offset >= around ? offset - around : 0;
                    const std::size_t to = std::min(length_, offset + length + around);
                    s["encoding"] = wide ? "utf-16le" : "ascii";
                    s["context"] = printable(buffer_.data() + from, to - from, wide);
                } else {
                    s["identifier"] = string->identifier;
                    s["excerpt"] =
                        printable(buffer_.data() + offset, std::min(avail, kExcerpt), false);
                }
                strings.push_back(std::move(s));
            }
        }
        if (!first) return;  // nothing of it in this window's own bytes
        if (hits_left_ == 0) {
            ++dropped_;
            return;
        }
        --hits_left_;
        json meta = json::object();
        const YR_META* m;
        yr_rule_metas_foreach(rule, m) {
            json value;
            if (m->type == META_TYPE_INTEGER)
                value = m->integer;
            else if (m->type == META_TYPE_BOOLEAN)
                value = m->integer != 0;
            else
                value = m->string ? m->string : "";
            if (!meta.contains(m->identifier)) meta[m->identifier] = value;
        }
        json tags = json::array();
        const char* tag;
        yr_rule_tags_foreach(rule, tag) {
            tags.push_back(tag);
        }
        json detail;
        std::string name = rule->identifier, severity;
        if (keyword) {
            name = meta.value("term", name);
            detail = {
                {"line", meta.value("line", 0)}, {"match_count", total}, {"matches", strings}};
        } else {
            if (meta.contains("severity"))
                severity = meta["severity"].is_string() ? meta["severity"].get<std::string>()
                                                        : meta["severity"].dump();
            detail = {
                {"rule", rule->identifier}, {"namespace", ns},   {"tags", tags}, {"meta", meta},
                {"match_count", total},     {"strings", strings}};
        }
        side_.send(MessageType::UnallocatedHit,
                   cbor({{"offset", base_ + *first},
                         {"kind", keyword ? "keyword" : "yara"},
                         {"name", name},
                         {"category", keyword ? "" : ns},
                         {"severity", severity},
                         {"detail", detail.dump(-1, ' ', false, json::error_handler_t::replace)}}));
    }

    struct ScannerDeleter {
        void operator()(YR_SCANNER* s) const { yr_scanner_destroy(s); }
    };
    WorkerSide& side_;
    const UnallocatedScanOptions& options_;
    std::unique_ptr<YR_SCANNER, ScannerDeleter> scanner_;
    std::vector<std::uint8_t> buffer_;
    std::size_t length_ = 0, owned_ = 0;
    std::uint64_t base_ = 0;
    std::uint64_t bytes_left_, hits_left_, dropped_ = 0;
};

// The file system's unallocated blocks as extents of the source, adjacent blocks merged.
std::vector<Extent> unallocated_extents(WorkerSide& side, std::uint64_t fs_offset,
                                        std::string& error) {
    triage_detail::TskImage img(side.source());
    struct FsCloser {
        void operator()(TSK_FS_INFO* fs) const { tsk_fs_close(fs); }
    };
    std::unique_ptr<TSK_FS_INFO, FsCloser> fs(
        img.get()
            ? tsk_fs_open_img(img.get(), static_cast<TSK_OFF_T>(fs_offset), TSK_FS_TYPE_DETECT)
            : nullptr);
    std::vector<Extent> extents;
    if (!fs) {
        error = "TSK cannot open the file system: " + triage_detail::tsk_message();
        return extents;
    }
    struct Walk {
        WorkerSide* side;
        std::vector<Extent>* extents;
        std::uint64_t base, block_size;
    } walk{&side, &extents, static_cast<std::uint64_t>(fs->offset), fs->block_size};
    auto visit = [](const TSK_FS_BLOCK* block, void* ptr) -> TSK_WALK_RET_ENUM {
        auto* w = static_cast<Walk*>(ptr);
        if (w->side->cancelled()) return TSK_WALK_STOP;
        const std::uint64_t at = w->base + static_cast<std::uint64_t>(block->addr) * w->block_size;
        if (!w->extents->empty() && w->extents->back().offset + w->extents->back().length == at)
            w->extents->back().length += w->block_size;
        else
            w->extents->push_back({at, w->block_size});
        return TSK_WALK_CONT;
    };
    auto flags = static_cast<TSK_FS_BLOCK_WALK_FLAG_ENUM>(TSK_FS_BLOCK_WALK_FLAG_UNALLOC |
                                                          TSK_FS_BLOCK_WALK_FLAG_AONLY);
    if (tsk_fs_block_walk(fs.get(), fs->first_block, fs->last_block, flags, visit, &walk) != 0)
        error = "TSK's block walk failed part-way: " + triage_detail::tsk_message();
    return extents;
}

void scan_region_in_worker(WorkerSide& side, const UnallocatedRegion& region,
                           const UnallocatedScanOptions& options, std::uint64_t byte_budget,
                           std::uint64_t hit_budget) {
    std::vector<Extent> extents;
    if (region.kind == UnallocatedRegion::Kind::FileSystemBlocks) {
        std::string error;
        extents = unallocated_extents(side, region.offset, error);
        if (!error.empty()) side.send(MessageType::UnallocatedNote, cbor({{"message", error}}));
    } else {
        extents.push_back({region.offset, region.length});
    }
    std::uint64_t total = 0;
    for (const auto& e : extents)
        total += e.length;
    side.send(MessageType::UnallocatedSize, cbor({{"bytes", total}}));
    WindowScanner scanner(side, options, byte_budget, hit_budget);
    for (const auto& e : extents) {
        if (!scanner.scan(e)) break;
    }
    if (scanner.hits_dropped() > 0) {
        side.send(MessageType::UnallocatedNote,
                  cbor({{"message", std::to_string(scanner.hits_dropped()) +
                                        " further hits were not kept (the limit of " +
                                        std::to_string(options.max_hits) + " was reached)"}}));
    }
    side.send(MessageType::Done, {});
}

// ---- In the supervisor -------------------------------------------------------------

std::string join_message(const std::string& a, const std::string& b) {
    return a.empty() ? b : a + "; " + b;
}

}  // namespace

Status scan_unallocated(Source& source, std::vector<UnallocatedRegion>& regions,
                        const UnallocatedScanOptions& options, JobProgress& progress,
                        const std::atomic<bool>& cancel, UnallocatedSink& sink) {
    if (!options.rules)
        return make_error(ErrorKind::InvalidArgument, "the unallocated-space scan has no rules");
    progress.begin_stage("unallocated", 0);
    std::uint64_t scanned_total = 0, hits_total = 0;
    WorkerLimits limits;
    limits.memory = options.worker_memory;
    for (std::size_t index = 0; index < regions.size(); ++index) {
        UnallocatedRegion& region = regions[index];
        if (auto s = sink.region_started(index, region); !s) return s;
        const std::uint64_t byte_budget =
            options.max_bytes == 0
                ? (1ull << 62)
                : (options.max_bytes > scanned_total ? options.max_bytes - scanned_total : 0);
        const std::uint64_t hit_budget =
            options.max_hits > hits_total ? options.max_hits - hits_total : 0;
        bool sized = false, done = false;
        if (byte_budget > 0 && !cancel.load()) {
            auto worker = WalkWorker::start(source, limits, [&](WorkerSide& side) {
                scan_region_in_worker(side, region, options, byte_budget, hit_budget);
            });
            if (!worker) return worker.error();
            while (auto frame = (*worker)->next(cancel)) {
                if (frame->type == MessageType::Done) {
                    done = true;
                    continue;
                }
                Expected<json> j = decode(*frame, "unallocated-space");
                std::string bad;
                try {
                    if (!j) {
                        bad = j.error().message;
                    } else if (frame->type == MessageType::UnallocatedSize) {
                        region.unallocated_bytes = io::json_integer<std::uint64_t>(j->at("bytes"));
                        progress.add_total(region.unallocated_bytes);
                        sized = true;
                    } else if (frame->type == MessageType::UnallocatedProgress) {
                        const auto n = io::json_integer<std::uint64_t>(j->at("bytes"));
                        region.scanned_bytes += n;
                        scanned_total += n;
                        progress.add_done(n);
                    } else if (frame->type == MessageType::UnallocatedNote) {
                        region.message =
                            join_message(region.message, j->at("message").get<std::string>());
                    } else if (frame->type == MessageType::UnallocatedHit) {
                        UnallocatedHit h;
                        h.region = index;
                        h.offset = io::json_integer<std::uint64_t>(j->at("offset"));
                        h.hit.kind = j->at("kind").get<std::string>();
                        h.hit.name = j->at("name").get<std::string>();
                        h.hit.category = j->at("category").get<std::string>();
                        h.hit.severity = j->at("severity").get<std::string>();
                        json detail = json::parse(j->at("detail").get<std::string>());
                        const bool in_region =
                            h.offset >= region.offset && h.offset - region.offset < region.length;
                        if ((h.hit.kind != "yara" && h.hit.kind != "keyword") ||
                            !detail.is_object() || !in_region) {
                            bad = "a hit that is not one";
                        } else {
                            detail["region"] = region.name;
                            h.hit.detail =
                                detail.dump(-1, ' ', false, json::error_handler_t::replace);
                            ++region.hits;
                            ++hits_total;
                            progress.note_hit();
                            if (auto s = sink.hit(h); !s) return s;
                        }
                    } else {
                        bad = "a message of the file walk";
                    }
                } catch (const json::exception& e) {
                    bad = e.what();
                }
                if (!bad.empty()) {
                    (*worker)->kill("was stopped for sending a malformed message (" + bad + ")");
                    break;
                }
            }
            if (!(*worker)->ended_cleanly() && !cancel.load()) {
                region.message = join_message(
                    region.message, "the parser worker " + (*worker)->outcome() + " after " +
                                        std::to_string(region.scanned_bytes) + " bytes");
            }
        }
        if (!sized && region.kind == UnallocatedRegion::Kind::Bytes)
            region.unallocated_bytes = region.length;
        region.complete = done && region.scanned_bytes >= region.unallocated_bytes;
        if (!region.complete && byte_budget == 0)
            region.message = join_message(region.message, "not scanned: the limit of " +
                                                              std::to_string(options.max_bytes) +
                                                              " bytes was reached");
        else if (done && !region.complete && !cancel.load())
            region.message =
                join_message(region.message, "scanned " + std::to_string(region.scanned_bytes) +
                                                 " of " + std::to_string(region.unallocated_bytes) +
                                                 " bytes (the unallocated-space limit)");
        if (cancel.load() && !region.complete)
            region.message = join_message(region.message, "cancelled");
        if (auto s = sink.region_finished(index, region); !s) return s;
        if (cancel.load())
            return make_error(ErrorKind::Cancelled, "the unallocated-space scan was cancelled");
    }
    return ok();
}

}  // namespace exhibit
