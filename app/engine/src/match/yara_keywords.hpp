// Case keywords as YARA source: one generated rule per term, in the namespace "keywords".
#pragma once

#include <string>
#include <vector>

#include "exhibit/rules.hpp"

namespace exhibit::match_detail {

inline constexpr const char* kKeywordNamespace = "keywords";

// A YARA text-string literal body for `bytes` ("..." without the quotes).
std::string yara_quote(const std::string& bytes);

// The rule for one term, on one line: "rule kw_<line> { meta: term = ... line = N ...".
std::string keyword_rule(const KeywordTerm& term);

}  // namespace exhibit::match_detail
