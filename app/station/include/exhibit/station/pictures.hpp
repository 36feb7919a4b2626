// The picture grid's logic: which files are pictures, their thumbnails decoded off the UI
// thread from content the engine reads back from the source (stb_image, Debian's
// libstb-dev), and the examiner-wellbeing rule that every thumbnail is shown blurred until
// the examiner reveals it, one at a time. Known-bad pictures come first, named by their
// hash-set category, never by their picture.
//
//   auto list = picture_files(index);                       // worker or UI, no I/O
//   auto thumb = load_thumbnail(source_path, row, 192);     // worker thread
//   Thumbnail shown = reveal.shown(i) ? *thumb : blur_thumbnail(*thumb);
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "exhibit/station/findings.hpp"

namespace exhibit::station {

// Indexes into index.files of every picture stb_image can show (libmagic says JPEG, PNG,
// GIF, BMP, PNM or PSD; not TGA, which has no signature and libmagic
// finds in NTFS metadata), known-bad first, then by path.
std::vector<std::size_t> picture_files(const FindingsIndex& index);

struct Thumbnail {
    int width = 0, height = 0;
    std::vector<std::uint8_t> rgba;  // width * height * 4
};

// Decodes `bytes` (JPEG, PNG, GIF, BMP, ...) and scales it to fit `max_side` square.
Expected<Thumbnail> decode_thumbnail(std::span<const std::byte> bytes, int max_side);
// Opens the source read-only, reads the file through the engine (at most `max_bytes`) and
// decodes it.
Expected<Thumbnail> load_thumbnail(const std::string& source_path, const FileRow& file,
                                   int max_side, std::uint64_t max_bytes = 32ull << 20,
                                   const std::string& hardware_blocker = {});
// Blocks of `cells` across the longer side, each the average of its pixels: shape and
// colour remain, content does not.
Thumbnail blur_thumbnail(const Thumbnail& sharp, int cells = 6);

// Which one picture is revealed; revealing another hides the first.
class PictureReveal {
  public:
    void reveal(std::size_t file) { revealed_ = file; }
    void hide() { revealed_.reset(); }
    bool shown(std::size_t file) const { return revealed_ == file; }
    std::optional<std::size_t> revealed() const { return revealed_; }

  private:
    std::optional<std::size_t> revealed_;
};

}  // namespace exhibit::station
