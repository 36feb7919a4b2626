// File listings in the formats other tools read: DFXML (as fiwalk writes it), TSK 3.x
// bodyfile (for `mactime -b`) and CSV (RFC 4180, one header row).
#pragma once

#include <ostream>
#include <vector>

#include "exhibit/case_db.hpp"

namespace exhibit {

void write_csv(std::ostream& out, const std::vector<FileRow>& rows);
void write_bodyfile(std::ostream& out, const std::vector<FileRow>& rows);
// A <dfxml> document with one <volume> per file system and a <fileobject> per row:
// filename, partition, inode, name_type, meta_type, filesize, alloc flags, mode, uid, gid,
// times (ISO 8601 UTC), MIME type and hash digests.
void write_dfxml(std::ostream& out, const std::vector<FileRow>& rows);

}  // namespace exhibit
