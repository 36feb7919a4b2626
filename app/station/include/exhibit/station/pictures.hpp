// The picture grid's logic: which files are pictures, their thumbnails decoded off the UI
// thread from content the engine reads back from the source (stb_image, Debian's
// libstb-dev), and the examiner-wellbeing rule that every thumbnail is shown blurred until
// the examiner reveals it, one at a time. Known-bad pictures come first, named by their
// hash-set category, never by their picture.
//
//   auto list = picture_files(index);                       // worker or UI, no I/O
//   PictureReader reader(source_path);                      // one per job
//   auto thumbs = reader.load(rows, 192, 32 << 20, cancel);  // worker thread, many at once
//   Thumbnail shown = reveal.shown(i) ? *thumb : blur_thumbnail(*thumb);
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "exhibit/source.hpp"
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
// decodes it: one source open and one parser worker per picture (PictureReader shares
// both across many).
Expected<Thumbnail> load_thumbnail(const std::string& source_path, const FileRow& file,
                                   int max_side, std::uint64_t max_bytes = 32ull << 20,
                                   const std::string& hardware_blocker = {});
// A thumbnail as the grid shows it: loading, or sharp and blurred, or why not.
struct PictureThumb {
    bool loading = true;
    Thumbnail sharp, blurred;
    std::string error;  // why it cannot be shown
};

// Thumbnails of many files of one source, the source opened once and kept (read-only)
// for every batch after it, each batch read in one parser worker (read_file_contents).
// Not thread-safe: one worker thread uses it.
class PictureReader {
  public:
    PictureReader(std::string source_path, std::string hardware_blocker = {})
        : path_(std::move(source_path)), blocker_(std::move(hardware_blocker)) {}
    // One thumbnail (sharp and blurred, or why not) per file, in order.
    std::vector<PictureThumb> load(std::span<const FileRow> files, int max_side,
                                   std::uint64_t max_bytes, const std::atomic<bool>& cancel);
    int opens() const { return opens_; }  // how often the source was opened (tests)

  private:
    std::string path_, blocker_;
    std::unique_ptr<Source> source_;
    int opens_ = 0;
};

// The decoded thumbnails kept, by file, at most `capacity`: adding one beyond that drops
// the one used longest ago.
class ThumbnailCache {
  public:
    explicit ThumbnailCache(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {}
    const PictureThumb* find(std::size_t file) const;
    // Marks `file` as just used; false when it is not kept.
    bool touch(std::size_t file);
    void put(std::size_t file, PictureThumb thumb);
    void clear();
    std::size_t size() const { return entries_.size(); }
    std::size_t capacity() const { return capacity_; }

  private:
    std::size_t capacity_;
    std::list<std::size_t> order_;  // most recently used first
    struct Entry {
        PictureThumb thumb;
        std::list<std::size_t>::iterator at;
    };
    std::unordered_map<std::size_t, Entry> entries_;
};

// The image a sealed bundle holds of its exhibit (data/image/, named by the first output of
// its .acquisition.json record), for review: the pictures are read from it. An Error
// saying so when the bundle holds no image (a triage-only case).
Expected<std::filesystem::path> bundle_image(const std::filesystem::path& bundle);

// Blocks of `cells` across the longer side, each the average of its pixels: shape and
// colour remain, content does not.
Thumbnail blur_thumbnail(const Thumbnail& sharp, int cells = 6);

// The grid rows whose thumbnails to ask for before they scroll into view, nearest first:
// `screens_ahead` screens' worth beyond the rows on screen [first, end) in the direction
// the grid moves (`direction` > 0: towards the end, < 0: towards the start), and one row
// the other way; a still grid gets one row either side. Never a row outside [0, rows).
std::vector<int> prefetch_rows(int first, int end, int rows, int direction, int screens_ahead = 2);

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
