// The custody log readers: verify_custody_chain (what `exhibit verify` and the bundle check
// trust) and read_custody_jsonl (what the report reads). Any bytes give a verdict or an
// error naming a line, never a crash, and a chain the verifier accepts is consistent.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <string_view>

#include "exhibit/custody.hpp"
#include "exhibit/report.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    exhibit::ChainVerdict v = exhibit::verify_custody_chain(text);
    if (v.ok) {
        // Every line was checked and hashed, the head is the last line's hash.
        if (v.bad_line != 0 || !v.problem.empty()) __builtin_trap();
        if (v.line_hashes.size() != v.lines) __builtin_trap();
        if (v.lines > 0 && v.head != v.line_hashes.back()) __builtin_trap();
        if (v.lines == 0 && !text.empty()) __builtin_trap();
    } else {
        if (v.bad_line == 0 || v.bad_line != v.lines + 1 || v.problem.empty()) __builtin_trap();
        if (v.problem.find("line " + std::to_string(v.bad_line)) == std::string::npos)
            __builtin_trap();
    }

    std::istringstream in{std::string(text)};
    auto entries = exhibit::read_custody_jsonl(in, "fuzz.jsonl");
    // A chain the verifier accepts is one the report can read, one entry per line.
    if (v.ok && (!entries || entries->size() != v.lines)) __builtin_trap();
    return 0;
}
