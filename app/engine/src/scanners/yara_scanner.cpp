// YARA rules and case keywords over each file's content, from the single read.
// nlohmann/json before yara.h: YARA defines macros (get_string, ...) that break it.
#include <nlohmann/json.hpp>

#include <yara.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <stdexcept>

#include "exhibit/file_walk.hpp"
#include "exhibit/rules.hpp"
#include "match/yara_keywords.hpp"
#include "scanners/yara_stats.hpp"

namespace exhibit {

namespace {

using nlohmann::json;

constexpr std::size_t kExcerpt = 64;  // bytes of a matched string shown
constexpr std::size_t kContext = 40;  // bytes either side of a keyword

// True when `bytes` look like ASCII as UTF-16LE (every second byte zero).
bool looks_utf16le(const std::uint8_t* bytes, std::size_t n) {
    if (n < 2 || n % 2 != 0) return false;
    for (std::size_t i = 1; i < n; i += 2)
        if (bytes[i] != 0) return false;
    return true;
}

// Printable ASCII as is, anything else as \xNN, so the detail is always valid JSON text.
std::string printable(const std::uint8_t* bytes, std::size_t n, bool wide) {
    std::string out;
    for (std::size_t i = 0; i < n; i += wide ? 2 : 1) {
        std::uint8_t c = bytes[i];
        if (wide && i + 1 < n && bytes[i + 1] != 0) {
            out += "\\u";
            const char* hex = "0123456789abcdef";
            for (std::uint8_t b : {bytes[i + 1], c}) {
                out += hex[b >> 4];
                out += hex[b & 15];
            }
        } else if (c >= 0x20 && c < 0x7f) {
            out += static_cast<char>(c);
        } else {
            const char* hex = "0123456789abcdef";
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::string lowercase_extension(const std::string& name) {
    auto dot = name.find_last_of('.');
    if (dot == std::string::npos || dot == 0) return "";
    std::string ext = name.substr(dot + 1);
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return ext;
}

class YaraScanner final : public Scanner {
  public:
    YaraScanner(std::shared_ptr<const CompiledRules> rules, YaraScanOptions options,
                std::shared_ptr<YaraScanStats> stats)
        : rules_(std::move(rules)), options_(options), stats_(std::move(stats)) {
        YR_SCANNER* s = nullptr;
        if (yr_scanner_create(rules_->yr_rules(), &s) != ERROR_SUCCESS) {
            throw std::runtime_error("libyara cannot create a scanner");
        }
        scanner_.reset(s);
        yr_scanner_set_callback(s, &YaraScanner::on_message, this);
        yr_scanner_set_timeout(s, options_.timeout_seconds);
        // It scans our own buffer, never a mapped file that can shrink under it: no signal
        // handlers to install and remove around every file (two system calls each); a
        // fault would end the parser worker, which the supervisor survives.
        yr_scanner_set_flags(s, SCAN_FLAGS_NO_TRYCATCH);
    }

    void begin(const FileEntry& file) override {
        buffer_.clear();
        size_ = file.size;
        seen_ = 0;
        path_ = "/" + file.path;
        name_ = file.name;
        if (buffer_.capacity() > (16u << 20) && size_ < (1u << 20)) {
            buffer_.shrink_to_fit();  // one huge file should not pin its buffer forever
        }
        buffer_.reserve(
            static_cast<std::size_t>(std::min<std::uint64_t>(size_, options_.max_bytes)));
    }

    void update(std::span<const std::byte> bytes) override {
        seen_ += bytes.size();
        std::size_t room = static_cast<std::size_t>(options_.max_bytes) - buffer_.size();
        std::size_t take = std::min(room, bytes.size());
        auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
        buffer_.insert(buffer_.end(), p, p + take);
    }

    void finish(FileFindings& findings) override {
        YR_SCANNER* s = scanner_.get();
        yr_scanner_define_string_variable(s, "filename", name_.c_str());
        yr_scanner_define_string_variable(s, "filepath", path_.c_str());
        yr_scanner_define_string_variable(s, "extension", lowercase_extension(name_).c_str());
        yr_scanner_define_string_variable(s, "filetype", findings.mime_type.c_str());
        hits_ = &findings.hits;
        too_many_.clear();
        truncated_ = seen_ > buffer_.size();
        int rc = yr_scanner_scan_mem(s, buffer_.data(), buffer_.size());
        hits_ = nullptr;
        findings_ = &findings;
        stats_->files_scanned.fetch_add(1, std::memory_order_relaxed);
        stats_->bytes_scanned.fetch_add(buffer_.size(), std::memory_order_relaxed);
        findings.yara.files += 1;
        findings.yara.bytes += buffer_.size();
        if (truncated_) {
            stats_->files_truncated.fetch_add(1, std::memory_order_relaxed);
            findings.yara.truncated += 1;
            note("yara-truncated", path_ + ": YARA scanned the first " +
                                       std::to_string(buffer_.size()) + " of " +
                                       std::to_string(seen_) + " bytes (--yara-max-size)");
        }
        if (rc != ERROR_SUCCESS) {
            stats_->scan_errors.fetch_add(1, std::memory_order_relaxed);
            findings.yara.errors += 1;
            note("yara-error", path_ + ": YARA scan " +
                                   (rc == ERROR_SCAN_TIMEOUT
                                        ? std::string("timed out after ") +
                                              std::to_string(options_.timeout_seconds) + " s"
                                        : "failed with libyara error " + std::to_string(rc)) +
                                   "; hits found before that are kept");
        }
    }

  private:
    void note(const char* kind, std::string text) {
        findings_->notes.push_back({kind, path_, text});
        std::lock_guard lock(stats_->mutex);
        stats_->notes.push_back({kind, path_, std::move(text)});
    }

    static int on_message(YR_SCAN_CONTEXT* context, int message, void* data, void* user) {
        auto* self = static_cast<YaraScanner*>(user);
        if (message == CALLBACK_MSG_RULE_MATCHING) {
            self->add_hit(context, static_cast<const YR_RULE*>(data));
        } else if (message == CALLBACK_MSG_TOO_MANY_MATCHES) {
            const auto* string = static_cast<const YR_STRING*>(data);
            self->too_many_.push_back(string->identifier);
        }
        return CALLBACK_CONTINUE;
    }

    void add_hit(YR_SCAN_CONTEXT* context, const YR_RULE* rule) {
        if (!hits_) return;
        const std::string ns = rule->ns && rule->ns->name ? rule->ns->name : "";
        const bool keyword = ns == match_detail::kKeywordNamespace;
        Hit hit;
        hit.kind = keyword ? "keyword" : "yara";
        hit.name = rule->identifier;
        hit.category = keyword ? "" : ns;
        json meta = json::object();
        const YR_META* m;
        yr_rule_metas_foreach(rule, m) {
            json value;
            if (m->type == META_TYPE_INTEGER) {
                value = m->integer;
            } else if (m->type == META_TYPE_BOOLEAN) {
                value = m->integer != 0;
            } else {
                value = m->string ? m->string : "";
            }
            if (!meta.contains(m->identifier)) meta[m->identifier] = value;
        }
        if (keyword) {
            hit.name = meta.value("term", hit.name);
        } else if (meta.contains("severity")) {
            hit.severity = meta["severity"].is_string() ? meta["severity"].get<std::string>()
                                                        : meta["severity"].dump();
        }
        json tags = json::array();
        const char* tag;
        yr_rule_tags_foreach(rule, tag) {
            tags.push_back(tag);
        }
        json strings = json::array();
        std::uint64_t total = 0;
        const YR_STRING* string;
        yr_rule_strings_foreach(rule, string) {
            // libyara 4.2 keeps matches in a notebook that does not align them, so each
            // is copied out before its fields are read (UBSan flags direct access).
            for (const YR_MATCH* at = context->matches[string->idx].head; at;) {
                YR_MATCH copy;
                std::memcpy(&copy, at, sizeof copy);
                at = copy.next;
                if (copy.is_private) continue;
                const YR_MATCH* match = &copy;
                ++total;
                if (strings.size() >= static_cast<std::size_t>(options_.max_strings)) continue;
                auto offset = static_cast<std::uint64_t>(match->base + match->offset);
                auto length = static_cast<std::size_t>(match->match_length);
                bool wide = looks_utf16le(buffer_.data() + offset,
                                          std::min<std::size_t>(length, buffer_.size() - offset));
                json s = {{"offset", offset}, {"length", length}};
                if (keyword) {
                    std::size_t from = offset >= kContext * (wide ? 2 : 1)
                                           ? offset - kContext * (wide ? 2 : 1)
                                           : offset % 2 * (wide ? 1 : 0);
                    std::size_t to =
                        std::min(buffer_.size(), offset + length + kContext * (wide ? 2 : 1));
                    s["encoding"] = wide ? "utf-16le" : "ascii";
                    s["context"] = printable(buffer_.data() + from, to - from, wide);
                } else {
                    s["identifier"] = string->identifier;
                    s["excerpt"] =
                        printable(buffer_.data() + offset,
                                  std::min({length, kExcerpt, buffer_.size() - offset}), false);
                }
                strings.push_back(std::move(s));
            }
        }
        json detail;
        if (keyword) {
            detail = {
                {"line", meta.value("line", 0)}, {"match_count", total}, {"matches", strings}};
        } else {
            detail = {
                {"rule", rule->identifier}, {"namespace", ns},   {"tags", tags}, {"meta", meta},
                {"match_count", total},     {"strings", strings}};
        }
        if (truncated_) {
            detail["scanned_bytes"] = buffer_.size();
            detail["file_size"] = seen_;
        }
        if (!too_many_.empty()) detail["too_many_matches"] = too_many_;
        hit.detail = detail.dump(-1, ' ', false, json::error_handler_t::replace);
        hits_->push_back(std::move(hit));
    }

    struct ScannerDeleter {
        void operator()(YR_SCANNER* s) const { yr_scanner_destroy(s); }
    };
    std::shared_ptr<const CompiledRules> rules_;
    YaraScanOptions options_;
    std::shared_ptr<YaraScanStats> stats_;
    std::unique_ptr<YR_SCANNER, ScannerDeleter> scanner_;
    std::vector<std::uint8_t> buffer_;
    std::uint64_t size_ = 0, seen_ = 0;
    std::string path_, name_;
    bool truncated_ = false;
    std::vector<std::string> too_many_;
    std::vector<Hit>* hits_ = nullptr;
    FileFindings* findings_ = nullptr;
};

// A named type, so that the walk can find the stats of a factory it was given
// (add_to_yara_stats).
struct YaraScannerFactory {
    std::shared_ptr<const CompiledRules> rules;
    YaraScanOptions options;
    std::shared_ptr<YaraScanStats> stats;
    std::unique_ptr<Scanner> operator()() const {
        return std::make_unique<YaraScanner>(rules, options, stats);
    }
};

}  // namespace

ScannerFactory make_yara_scanner_factory(std::shared_ptr<const CompiledRules> rules,
                                         YaraScanOptions options,
                                         std::shared_ptr<YaraScanStats> stats) {
    if (!stats) stats = std::make_shared<YaraScanStats>();
    return YaraScannerFactory{std::move(rules), options, std::move(stats)};
}

void add_to_yara_stats(const std::vector<ScannerFactory>& scanners, const FileFindings& findings) {
    if (findings.yara.files == 0 && findings.notes.empty()) return;
    for (const ScannerFactory& factory : scanners) {
        const auto* yara = factory.target<YaraScannerFactory>();
        if (!yara) continue;
        YaraScanStats& stats = *yara->stats;
        stats.files_scanned.fetch_add(findings.yara.files, std::memory_order_relaxed);
        stats.bytes_scanned.fetch_add(findings.yara.bytes, std::memory_order_relaxed);
        stats.files_truncated.fetch_add(findings.yara.truncated, std::memory_order_relaxed);
        stats.scan_errors.fetch_add(findings.yara.errors, std::memory_order_relaxed);
        std::lock_guard lock(stats.mutex);
        stats.notes.insert(stats.notes.end(), findings.notes.begin(), findings.notes.end());
        return;  // the first YARA scanner's stats hold the run's totals
    }
}

}  // namespace exhibit
