// The run's YARA totals when the scanners run in a parser worker: each file's findings
// carry the YARA scanner's counts and notes for that file (FileFindings::yara, notes), and
// the walk adds them here, in the process that owns the case, to the YaraScanStats of the
// YARA scanner factory in `scanners` (the first, when there are several).
#pragma once

#include <vector>

#include "exhibit/scanner.hpp"

namespace exhibit {

void add_to_yara_stats(const std::vector<ScannerFactory>& scanners, const FileFindings& findings);

}  // namespace exhibit
