// <basename>.acquisition.json: the acquisition record written beside the image.
#pragma once

#include "exhibit/acquire.hpp"

namespace exhibit::acquire_detail {

// Writes the record atomically (temporary file, fsync, rename). `phase` is "running",
// "incomplete", "unverified" or "final".
Status write_record(const AcquisitionResult& result, const std::string& phase);

}  // namespace exhibit::acquire_detail
