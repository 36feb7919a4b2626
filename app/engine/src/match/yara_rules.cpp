// Rule packs: find the rule files, compile each in its own namespace (a file that fails
// is left out and reported), add the keyword rules, cache the result by content hash.
// nlohmann/json before yara.h: YARA defines macros (get_string, ...) that break it.
#include <nlohmann/json.hpp>

#include <unistd.h>
#include <yara.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "exhibit/hashing.hpp"
#include "exhibit/rules.hpp"
#include "io/durable_file.hpp"
#include "match/yara_keywords.hpp"

namespace exhibit {

namespace fs = std::filesystem;

namespace {

constexpr const char* kExternals[] = {"filename", "filepath", "extension", "filetype"};
constexpr const char* kCacheFormat = "exhibit-yara-cache-2";

std::string sha256_hex(const std::string& bytes) {
    Digest d(HashAlgorithm::Sha256);
    d.update({reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()});
    return d.finish_hex();
}

Expected<std::string> read_all(const fs::path& path, const std::string& what) {
    if (auto s = io::check_regular_file(path, what); !s) return s.error();
    std::ifstream in(path, std::ios::binary);
    if (!in) return errno_error("cannot read " + what + " " + path.string(), errno);
    std::ostringstream s;
    s << in.rdbuf();
    if (in.bad()) return errno_error("cannot read " + what + " " + path.string(), errno);
    return s.str();
}

bool is_rule_file(const fs::path& p) {
    std::string ext = p.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return ext == ".yar" || ext == ".yara";
}

struct CompilerDeleter {
    void operator()(YR_COMPILER* c) const { yr_compiler_destroy(c); }
};
using Compiler = std::unique_ptr<YR_COMPILER, CompilerDeleter>;
struct RulesDeleter {
    void operator()(YR_RULES* r) const { yr_rules_destroy(r); }
};
using Rules = std::unique_ptr<YR_RULES, RulesDeleter>;

struct Messages {
    std::vector<RuleMessage> list;
    std::string main_file;  // messages from other (included) files name theirs
};

// Files pulled in by `include`, by the path they were read from: the SHA-256 of their
// bytes, or empty when they could not be read. The cache key is computed before compiling,
// so it cannot cover them; the cache report lists them and a load re-hashes each.
struct Includes {
    std::map<std::string, std::string> files;  // path read -> SHA-256, "" when unreadable
    // libyara names an included file, when it includes others, by its name as written
    // in the include; this maps that name to the path it was read from.
    std::map<std::string, fs::path> read_as;
};

// Reads an included file relative to the file that includes it, recording it. The text
// is handed to libyara, which frees it with free_include.
const char* on_include(const char* include_name, const char* calling_file, const char*,
                       void* user) {
    auto& includes = *static_cast<Includes*>(user);
    const std::string name = include_name ? include_name : "";
    fs::path path(name);
    if (path.is_relative() && calling_file && *calling_file) {
        auto known = includes.read_as.find(calling_file);
        fs::path from = known != includes.read_as.end() ? known->second : fs::path(calling_file);
        path = from.parent_path() / path;
    }
    path = path.lexically_normal();
    includes.read_as[name] = path;
    if (!io::check_regular_file(path, "included rule file")) {
        includes.files[path.string()] = "";
        return nullptr;
    }
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    if (in) text << in.rdbuf();
    const bool read = in && !in.bad();
    includes.files[path.string()] = read ? sha256_hex(text.str()) : "";
    return read ? ::strdup(text.str().c_str()) : nullptr;
}

void free_include(const char* text, void*) {
    std::free(const_cast<char*>(text));
}

void on_compiler_message(int level, const char* file_name, int line, const YR_RULE*,
                         const char* message, void* user) {
    auto* m = static_cast<Messages*>(user);
    std::string text = message ? message : "unknown compiler error";
    if (file_name && m->main_file != file_name) text = std::string(file_name) + ": " + text;
    m->list.push_back({line, text, level == YARA_ERROR_LEVEL_WARNING});
}

Expected<Compiler> new_compiler(Messages* messages, Includes* includes = nullptr) {
    YR_COMPILER* c = nullptr;
    if (yr_compiler_create(&c) != ERROR_SUCCESS) {
        return make_error(ErrorKind::Internal, "libyara cannot create a rule compiler");
    }
    Compiler compiler(c);
    yr_compiler_set_callback(c, on_compiler_message, messages);
    if (includes) yr_compiler_set_include_callback(c, on_include, free_include, includes);
    for (const char* name : kExternals) {
        if (yr_compiler_define_string_variable(c, name, "") != ERROR_SUCCESS) {
            return make_error(ErrorKind::Internal,
                              std::string("libyara refused the external variable ") + name);
        }
    }
    return compiler;
}

// Adds `content` (read from `file`) under `name_space`; false when it did not compile.
bool add_rule_file(YR_COMPILER* c, Messages& messages, const fs::path& file,
                   const std::string& content, const std::string& name_space) {
    messages.main_file = file.string();
    // fmemopen: compile exactly the bytes we hashed, while YARA still knows the file's
    // name (for messages and relative `include`s).
    std::string copy = content;
    FILE* f = fmemopen(copy.data(), copy.size(), "r");
    if (!f) {
        messages.list.push_back({0, "cannot open the rule text in memory", false});
        return false;
    }
    int errors = yr_compiler_add_file(c, f, name_space.c_str(), file.c_str());
    std::fclose(f);
    return errors == 0;
}

std::size_t count_rules(YR_RULES* rules) {
    std::size_t n = 0;
    const YR_RULE* rule;
    yr_rules_foreach(rules, rule) {
        ++n;
    }
    return n;
}

// Rule files of one pack, sorted by their path inside it.
Expected<RulePackReport> find_pack(const fs::path& path) {
    RulePackReport pack;
    pack.path = path;
    std::error_code ec;
    auto status = fs::status(path, ec);
    if (ec || !fs::exists(status)) {
        return make_error(ErrorKind::NotFound, "rule pack " + path.string() + " does not exist");
    }
    fs::path canonical = fs::weakly_canonical(path, ec);
    if (ec) canonical = fs::absolute(path);
    if (fs::is_regular_file(status)) {
        pack.name = canonical.filename().string();
        pack.root = canonical.parent_path();
        pack.files.push_back({.file = canonical,
                              .relative = pack.name,
                              .name_space = pack.name,
                              .sha256 = {},
                              .compiled = false,
                              .rules = 0,
                              .messages = {}});
    } else if (fs::is_directory(status)) {
        pack.name = canonical.filename().string();
        pack.root = canonical;
        fs::recursive_directory_iterator it(canonical,
                                            fs::directory_options::follow_directory_symlink, ec);
        for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
            if (!it->is_regular_file() || !is_rule_file(it->path())) continue;
            std::string rel = fs::relative(it->path(), canonical).generic_string();
            pack.files.push_back({.file = it->path(),
                                  .relative = rel,
                                  .name_space = pack.name + "/" + rel,
                                  .sha256 = {},
                                  .compiled = false,
                                  .rules = 0,
                                  .messages = {}});
        }
        if (ec) return errno_error("cannot list the rule pack " + path.string(), ec.value());
        if (pack.files.empty()) {
            return make_error(ErrorKind::InvalidArgument,
                              "rule pack " + path.string() + " holds no .yar or .yara files");
        }
    } else {
        return make_error(ErrorKind::InvalidArgument,
                          "rule pack " + path.string() + " is neither a file nor a directory");
    }
    std::sort(pack.files.begin(), pack.files.end(),
              [](const auto& a, const auto& b) { return a.relative < b.relative; });
    return pack;
}

nlohmann::json report_json(const std::vector<RulePackReport>& packs, const Includes& includes) {
    nlohmann::json files = nlohmann::json::array();
    for (const auto& p : packs) {
        for (const auto& f : p.files) {
            nlohmann::json messages = nlohmann::json::array();
            for (const auto& m : f.messages)
                messages.push_back({{"line", m.line}, {"text", m.text}, {"warning", m.warning}});
            files.push_back({{"file", f.file.string()},
                             {"compiled", f.compiled},
                             {"rules", f.rules},
                             {"messages", messages}});
        }
    }
    nlohmann::json included = nlohmann::json::array();
    for (const auto& [path, sha256] : includes.files)
        included.push_back({{"path", path}, {"sha256", sha256}});
    nlohmann::json pack_includes = nlohmann::json::array();
    for (const auto& p : packs) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& inc : p.includes)
            list.push_back({{"relative", inc.relative}, {"sha256", inc.sha256}});
        pack_includes.push_back(list);
    }
    return {{"format", kCacheFormat},
            {"files", files},
            {"includes", included},
            {"pack_includes", pack_includes}};
}

// True when every included file the report lists still has the bytes it was compiled
// from (or is still unreadable, if it was then).
bool includes_unchanged(const nlohmann::json& j) {
    if (!j.contains("includes")) return false;
    for (const auto& inc : j.at("includes")) {
        Includes now;
        const std::string path = inc.at("path").get<std::string>();
        if (const char* text = on_include(path.c_str(), nullptr, nullptr, &now))
            free_include(text, nullptr);
        if (now.files[path] != inc.at("sha256").get<std::string>()) return false;
    }
    return true;
}

// Restores per-file results from the cache's report; false when it does not fit.
bool apply_report(const nlohmann::json& j, std::vector<RulePackReport>& packs) {
    if (!j.is_object() || j.value("format", "") != kCacheFormat) return false;
    const auto& files = j.at("files");
    std::size_t i = 0;
    for (auto& p : packs) {
        for (auto& f : p.files) {
            if (i >= files.size() || files[i].at("file") != f.file.string()) return false;
            f.compiled = files[i].at("compiled");
            f.rules = files[i].at("rules");
            for (const auto& m : files[i].at("messages"))
                f.messages.push_back({m.at("line"), m.at("text"), m.at("warning")});
            ++i;
        }
    }
    const auto& pack_includes = j.at("pack_includes");
    if (pack_includes.size() != packs.size()) return false;
    for (std::size_t k = 0; k < packs.size(); ++k) {
        for (const auto& inc : pack_includes[k])
            packs[k].includes.push_back({inc.at("relative"), inc.at("sha256")});
    }
    return i == files.size();
}

// Notes the files `included` pulled into `pack` (by the path they were read from) with
// their paths relative to the pack; unreadable ones have no bytes to hash and are left out.
void add_pack_includes(RulePackReport& pack, const fs::path& root, const Includes& included) {
    for (const auto& [path, sha256] : included.files) {
        if (sha256.empty()) continue;
        std::string rel = fs::path(path).lexically_relative(root).generic_string();
        if (rel.empty()) rel = path;
        bool known = false;
        for (const auto& f : pack.files)
            known = known || f.relative == rel;
        for (const auto& inc : pack.includes)
            known = known || inc.relative == rel;
        if (!known) pack.includes.push_back({rel, sha256});
    }
}

// The pack's SHA-256: its sha256sum-style manifest over the rule files and every file they
// include, sorted by path.
void seal_pack_hash(RulePackReport& pack) {
    std::vector<std::pair<std::string, std::string>> lines;
    for (const auto& f : pack.files)
        lines.emplace_back(f.relative, f.sha256);
    for (const auto& inc : pack.includes)
        lines.emplace_back(inc.relative, inc.sha256);
    std::sort(lines.begin(), lines.end());
    std::string manifest;
    for (const auto& [rel, sha] : lines)
        manifest += sha + "  " + rel + "\n";
    pack.sha256 = sha256_hex(manifest);
}

}  // namespace

Expected<std::shared_ptr<YaraLibrary>> YaraLibrary::initialize() {
    int rc = yr_initialize();
    if (rc != ERROR_SUCCESS) {
        return make_error(ErrorKind::Internal,
                          "libyara failed to initialise (error " + std::to_string(rc) + ")");
    }
    return std::shared_ptr<YaraLibrary>(new YaraLibrary());
}

YaraLibrary::~YaraLibrary() {
    yr_finalize();
}

std::string YaraLibrary::version() {
    return YR_VERSION;
}

fs::path default_rules_cache_dir() {
    if (const char* home = std::getenv("EXHIBIT_HOME"); home && *home) {
        return fs::path(home) / "cache";
    }
    const char* user_home = std::getenv("HOME");
    return fs::path(user_home && *user_home ? user_home : "/tmp") / ".local/share/exhibit/cache";
}

CompiledRules::~CompiledRules() {
    if (rules_) yr_rules_destroy(rules_);
}

std::vector<std::string> CompiledRules::rule_names() const {
    std::vector<std::string> out;
    const YR_RULE* rule;
    yr_rules_foreach(rules_, rule) {
        out.push_back(rule->identifier);
    }
    return out;
}

std::size_t CompiledRules::failed_files() const {
    std::size_t n = 0;
    for (const auto& p : packs_)
        for (const auto& f : p.files)
            n += f.compiled ? 0 : 1;
    return n;
}

// Does the work of CompiledRules::build with access to its members.
struct RulesBuilder {
    static Expected<std::shared_ptr<const CompiledRules>> build(
        const std::shared_ptr<YaraLibrary>& yara, const RuleSetOptions& options) {
        if (!yara) return make_error(ErrorKind::Internal, "libyara is not initialised");
        std::shared_ptr<CompiledRules> out(new CompiledRules());
        out->yara_ = yara;

        // Read and hash every source; the cache key covers all of them.
        std::vector<std::string> contents;
        std::string key_material = std::string(kCacheFormat) + '\0' + YR_VERSION + '\0';
        for (const auto& path : options.packs) {
            auto pack = find_pack(path);
            if (!pack) return pack.error();
            for (auto& f : pack->files) {
                auto content = read_all(f.file, "the rule file");
                if (!content) return content.error();
                f.sha256 = sha256_hex(*content);
                key_material += f.file.string() + '\0' + std::to_string(content->size()) + '\0' +
                                *content + '\0';
                contents.push_back(std::move(*content));
            }
            out->packs_.push_back(std::move(*pack));
        }
        // Two packs with the same name get distinct namespaces.
        for (std::size_t i = 0; i < out->packs_.size(); ++i) {
            int same = 0;
            for (std::size_t k = 0; k < i; ++k)
                same += out->packs_[k].name == out->packs_[i].name ? 1 : 0;
            if (same == 0) continue;
            for (auto& f : out->packs_[i].files)
                f.name_space =
                    out->packs_[i].name + "#" + std::to_string(same + 1) + "/" + f.relative;
        }
        if (options.keywords) {
            auto text = read_all(*options.keywords, "the keyword list");
            if (!text) return text.error();
            out->keywords_sha256_ = sha256_hex(*text);
            auto terms = read_keyword_list(*options.keywords);
            if (!terms) return terms.error();
            out->keywords_ = std::move(*terms);
            key_material += std::string("keywords") + '\0' + *text;
        }
        out->cache_key_ = sha256_hex(key_material);

        if (!options.cache_dir.empty() && load_cached(*out, options.cache_dir)) {
            for (auto& pack : out->packs_)
                seal_pack_hash(pack);
            return std::shared_ptr<const CompiledRules>(out);
        }

        if (options.keywords) {
            if (auto s = check_keywords(*out, *options.keywords); !s) return s.error();
        }
        Includes includes;
        if (auto s = compile(*out, contents, includes); !s) return s.error();
        for (auto& pack : out->packs_)
            seal_pack_hash(pack);
        if (!options.cache_dir.empty()) save_cached(*out, options.cache_dir, includes);
        return std::shared_ptr<const CompiledRules>(out);
    }

    static bool load_cached(CompiledRules& out, const fs::path& dir) {
        fs::path yarc = dir / ("yara-" + out.cache_key_ + ".yarc");
        fs::path report = dir / ("yara-" + out.cache_key_ + ".json");
        std::error_code ec;
        if (!fs::exists(yarc, ec) || !fs::exists(report, ec)) return false;
        auto text = read_all(report, "the rule cache report");
        if (!text) return false;
        auto j = nlohmann::json::parse(*text, nullptr, false);
        std::vector<RulePackReport> packs = out.packs_;
        try {
            if (!apply_report(j, packs) || !includes_unchanged(j)) return false;
        } catch (const nlohmann::json::exception&) {
            return false;
        }
        YR_RULES* rules = nullptr;
        if (yr_rules_load(yarc.c_str(), &rules) != ERROR_SUCCESS) {
            out.cache_warning_ = "the cached rules " + yarc.string() + " do not load; recompiled";
            return false;
        }
        out.rules_ = rules;
        out.packs_ = std::move(packs);
        out.rule_count_ = count_rules(rules);
        out.from_cache_ = true;
        return true;
    }

    static void save_cached(CompiledRules& out, const fs::path& dir, const Includes& includes) {
        std::error_code ec;
        fs::create_directories(dir, ec);
        fs::path yarc = dir / ("yara-" + out.cache_key_ + ".yarc");
        fs::path report = dir / ("yara-" + out.cache_key_ + ".json");
        fs::path tmp = dir / ("yara-" + out.cache_key_ + ".tmp" + std::to_string(::getpid()));
        bool ok = !ec && yr_rules_save(out.rules_, tmp.c_str()) == ERROR_SUCCESS;
        if (ok) fs::rename(tmp, yarc, ec);
        ok = ok && !ec;
        if (ok) {
            std::ofstream r(tmp, std::ios::binary | std::ios::trunc);
            r << report_json(out.packs_, includes).dump(1);
            r.close();
            ok = r.good();
            if (ok) fs::rename(tmp, report, ec);
            ok = ok && !ec;
        }
        if (!ok) {
            fs::remove(tmp, ec);
            out.cache_warning_ = "cannot write the rule cache in " + dir.string();
        }
    }

    // Every term compiled on its own first, so a bad one is named by its line.
    static Status check_keywords(const CompiledRules& out, const fs::path& list) {
        std::string problems;
        int bad = 0;
        for (const auto& term : out.keywords_) {
            Messages messages;
            auto c = new_compiler(&messages);
            if (!c) return c.error();
            std::string source = match_detail::keyword_rule(term);
            if (yr_compiler_add_string(c->get(), source.c_str(), nullptr) == 0) continue;
            std::string why;
            for (const auto& m : messages.list) {
                if (!m.warning) why += (why.empty() ? "" : "; ") + m.text;
            }
            problems += (bad++ ? "; " : "") + std::string("line ") + std::to_string(term.line) +
                        " (" + term.term + "): " + why;
        }
        if (bad == 0) return ok();
        return make_error(ErrorKind::InvalidArgument,
                          "keyword list " + list.string() + " has " + std::to_string(bad) +
                              (bad == 1 ? " bad term: " : " bad terms: ") + problems);
    }

    static Status compile(CompiledRules& out, const std::vector<std::string>& contents,
                          Includes& includes) {
        // Each file alone first (a failed yr_compiler_add_file spoils its compiler), then
        // the good ones together.
        std::size_t i = 0;
        for (auto& pack : out.packs_) {
            const fs::path root = pack.root;
            for (auto& f : pack.files) {
                Messages messages;
                Includes own;  // what this file pulls in, for its pack's manifest
                auto c = new_compiler(&messages, &own);
                if (!c) return c.error();
                f.compiled = add_rule_file(c->get(), messages, f.file, contents[i++], f.name_space);
                if (f.compiled) {
                    YR_RULES* r = nullptr;
                    if (yr_compiler_get_rules(c->get(), &r) == ERROR_SUCCESS) {
                        Rules rules(r);
                        f.rules = static_cast<int>(count_rules(r));
                    } else {
                        f.compiled = false;
                        messages.list.push_back({0, "libyara could not finish the rules", false});
                    }
                }
                f.messages = std::move(messages.list);
                add_pack_includes(pack, root, own);
                includes.files.insert(own.files.begin(), own.files.end());
            }
        }
        Messages messages;
        auto c = new_compiler(&messages, &includes);
        if (!c) return c.error();
        i = 0;
        for (auto& pack : out.packs_) {
            for (auto& f : pack.files) {
                const std::string& content = contents[i++];
                if (f.compiled &&
                    !add_rule_file(c->get(), messages, f.file, content, f.name_space)) {
                    return make_error(
                        ErrorKind::Internal,
                        "rule file " + f.file.string() + " compiled alone but not with the others");
                }
            }
        }
        if (!out.keywords_.empty()) {
            std::string source;
            for (const auto& term : out.keywords_)
                source += match_detail::keyword_rule(term);
            if (yr_compiler_add_string(c->get(), source.c_str(), match_detail::kKeywordNamespace) !=
                0) {
                return make_error(ErrorKind::Internal, "the keyword rules do not compile together");
            }
        }
        YR_RULES* rules = nullptr;
        if (yr_compiler_get_rules(c->get(), &rules) != ERROR_SUCCESS) {
            return make_error(ErrorKind::Internal, "libyara could not finish the compiled rules");
        }
        out.rules_ = rules;
        out.rule_count_ = count_rules(rules);
        return ok();
    }
};

std::vector<ScanNote> scan_notes(const CompiledRules* rules, YaraScanStats* stats) {
    std::vector<ScanNote> out;
    if (rules) {
        for (const auto& pack : rules->packs()) {
            for (const auto& f : pack.files) {
                if (f.compiled) continue;
                std::string why;
                for (const auto& m : f.messages) {
                    if (m.warning) continue;
                    why += (why.empty() ? "" : "; ") +
                           (m.line > 0 ? "line " + std::to_string(m.line) + ": " : "") + m.text;
                }
                out.push_back({"rule-file", f.file.string(),
                               "rule file " + f.file.string() +
                                   " does not compile and was left out" +
                                   (why.empty() ? "" : ": " + why)});
            }
        }
    }
    if (stats) {
        std::lock_guard lock(stats->mutex);
        out.insert(out.end(), stats->notes.begin(), stats->notes.end());
    }
    return out;
}

Expected<std::shared_ptr<const CompiledRules>> CompiledRules::build(
    const std::shared_ptr<YaraLibrary>& yara, const RuleSetOptions& options) {
    return RulesBuilder::build(yara, options);
}

}  // namespace exhibit
