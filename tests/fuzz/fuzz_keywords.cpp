// The case keyword list (`--keywords FILE`): any bytes are a list of terms or an error
// naming the line, never a crash; every term becomes exactly one YARA rule of its own (a
// term can never add rules or conditions of its own making), or the list is refused.
// Regex terms are compiled with libyara; literals are checked to be quoted losslessly.
#include <yara.h>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>

#include "exhibit/rules.hpp"
#include "fuzz_files.hpp"
#include "match/yara_keywords.hpp"

using namespace exhibit;

namespace {

struct CompilerDeleter {
    void operator()(YR_COMPILER* c) const { yr_compiler_destroy(c); }
};

// The number of rules `source` compiles to, or -1 when it does not compile.
int compiled_rules(const std::string& source) {
    YR_COMPILER* raw = nullptr;
    if (yr_compiler_create(&raw) != ERROR_SUCCESS) __builtin_trap();
    std::unique_ptr<YR_COMPILER, CompilerDeleter> c(raw);
    if (yr_compiler_add_string(raw, source.c_str(), match_detail::kKeywordNamespace) != 0)
        return -1;
    YR_RULES* rules = nullptr;
    if (yr_compiler_get_rules(raw, &rules) != ERROR_SUCCESS) return -1;
    int n = 0;
    const YR_RULE* rule;
    yr_rules_foreach(rules, rule) {
        ++n;
    }
    yr_rules_destroy(rules);
    return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static auto yara = YaraLibrary::initialize();
    if (!yara) __builtin_trap();
    const auto file = fuzz::scratch("keywords") / "keywords.txt";
    std::ofstream(file, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    auto terms = read_keyword_list(file);
    if (!terms) {
        if (terms.error().message.find(file.string()) == std::string::npos) __builtin_trap();
        return 0;
    }
    int last_line = 0;
    int compiled = 0;
    for (const KeywordTerm& t : *terms) {
        if (t.term.empty() || t.line <= last_line) __builtin_trap();
        last_line = t.line;
        std::string rule = match_detail::keyword_rule(t);
        if (rule.find('\n') != rule.size() - 1) __builtin_trap();  // one line per term
        // A regex goes in as written. Alone, its rule compiles to exactly one rule or not
        // at all (CompiledRules::build then names its line). Compiling costs milliseconds
        // under ASan, so a few per input.
        if (!t.regex || ++compiled > 4) continue;
        int n = compiled_rules(rule);
        if (n != -1 && n != 1) __builtin_trap();
    }
    // A literal reaches YARA only through yara_quote: printable ASCII and escapes that
    // read back as the term, so it cannot end its string early.
    for (const KeywordTerm& t : *terms) {
        if (t.regex) continue;
        std::string quoted = match_detail::yara_quote(t.term), back;
        for (std::size_t i = 0; i < quoted.size(); ++i) {
            char c = quoted[i];
            if (c < 0x20 || c >= 0x7f || c == '"') __builtin_trap();
            if (c != '\\') {
                back += c;
            } else if (i + 1 < quoted.size() && (quoted[i + 1] == '"' || quoted[i + 1] == '\\')) {
                back += quoted[++i];
            } else if (i + 3 < quoted.size() && quoted[i + 1] == 'x') {
                back += static_cast<char>(std::stoi(quoted.substr(i + 2, 2), nullptr, 16));
                i += 3;
            } else {
                __builtin_trap();
            }
        }
        if (back != t.term) __builtin_trap();
    }
    return 0;
}
