// One file's content read back from the source through The Sleuth Kit, for viewers that need
// the bytes of a file triage listed (the station's picture thumbnails). The source is read
// as triage reads it, never through a mounted file system.
//
//   auto bytes = read_file_content(*source, row.fs_offset, row.entry.meta_address, 8 << 20);
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "exhibit/error.hpp"
#include "exhibit/source.hpp"

namespace exhibit {

// The first `max_bytes` of the default data of the file with metadata address
// `meta_address` in the file system at byte `fs_offset` (deleted files as TSK recovers
// them). An Error naming the file system and address when it cannot be read.
Expected<std::vector<std::byte>> read_file_content(Source& source, std::uint64_t fs_offset,
                                                   std::uint64_t meta_address,
                                                   std::uint64_t max_bytes);

}  // namespace exhibit
