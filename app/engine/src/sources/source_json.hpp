// SourceInfo as JSON, one shape for `exhibit info --json` and the acquisition record.
#pragma once

#include <nlohmann/json.hpp>

#include "exhibit/source.hpp"

namespace exhibit {

nlohmann::json source_json(const SourceInfo& source);

}  // namespace exhibit
