// <basename>.acquisition.json: the acquisition record written beside the image.
#pragma once

#include "exhibit/acquire.hpp"

namespace exhibit::acquire_detail {

// Writes the record atomically (temporary file, fsync, rename). `phase` is "running",
// "incomplete", "unverified" or "final".
Status write_record(const AcquisitionResult& result, const std::string& phase);

// Replaces `path` with `text` so that a crash leaves the old or the new file, never a
// torn one: temporary file, fdatasync, rename, fsync of the directory.
Status write_durably(const std::filesystem::path& path, const std::string& text);

}  // namespace exhibit::acquire_detail
