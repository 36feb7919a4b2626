// Many files' content read back from the source in one go, for viewers that show many
// files of one triage run (the station's picture grid): one parser worker, one TSK image,
// each file system opened once, instead of a worker and a file-system open per file as
// read_file_content does.
//
//   std::vector<FileRef> refs = {{row.fs_offset, row.entry.meta_address}, ...};
//   read_file_contents(*source, refs, 8 << 20, [&](std::size_t i, auto bytes) { ... }, cancel);
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "exhibit/error.hpp"
#include "exhibit/source.hpp"

namespace exhibit {

struct FileRef {
    std::uint64_t fs_offset = 0;     // the file system's first byte on the source
    std::uint64_t meta_address = 0;  // the file's metadata address (inode, MFT entry)
};

using FileContentSink =
    std::function<void(std::size_t index, Expected<std::vector<std::byte>> content)>;

// Calls `each` once for every file of `files`, in order, with the first `max_bytes` of its
// default data (deleted files as TSK recovers them) or an Error naming the file. The reading
// runs in a sandboxed parser worker, as triage's walk does. When the worker cannot start, is
// cancelled or dies, the files it did not reach get an Error saying so and that Error is
// returned.
Status read_file_contents(Source& source, std::span<const FileRef> files, std::uint64_t max_bytes,
                          const FileContentSink& each, const std::atomic<bool>& cancel);

}  // namespace exhibit
