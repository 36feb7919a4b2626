// One hit as the file details pane shows it: a heading naming what matched (hash set and
// category, YARA rule and severity, keyword term) and the context from the hit's detail
// (the matched hash, each YARA string's offset and excerpt, each keyword match's offset and
// surrounding text), in plain lines an investigator can read aloud.
//
//   for (const Hit& h : file.findings.hits) {
//       HitContext c = describe_hit(h);
//       draw(c.heading); for (auto& l : c.lines) draw(l);
//   }
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "exhibit/scanner.hpp"

namespace exhibit::station {

struct HitContext {
    std::string kind;     // hashset, yara, keyword (as the hit's)
    std::string heading;  // "Keyword \"bluebird\"", "YARA high: rule (pack)", "Hash set: x"
    std::vector<std::string> lines;
};

// At most `max_matches` match lines, then one line saying how many more there were. A
// detail that is not the JSON the scanners write is shown as it is, never dropped.
HitContext describe_hit(const Hit& hit, std::size_t max_matches = 12);

}  // namespace exhibit::station
