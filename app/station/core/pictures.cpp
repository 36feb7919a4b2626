#include "exhibit/station/pictures.hpp"

#include <stb_image.h>
#include <stb_image_resize.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>
#include <memory>
#include <tuple>

#include "exhibit/file_content.hpp"
#include "exhibit/file_contents.hpp"
#include "exhibit/source.hpp"

namespace exhibit::station {

namespace {
// What stb_image decodes, as libmagic names it.
bool decodable(const std::string& mime) {
    for (const char* m :
         {"image/jpeg", "image/png", "image/gif", "image/bmp", "image/x-ms-bmp",
          "image/x-portable-pixmap", "image/x-portable-greymap", "image/vnd.adobe.photoshop"})
        if (mime == m) return true;
    return false;
}
}  // namespace

std::vector<std::size_t> picture_files(const FindingsIndex& index) {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < index.files.size(); ++i) {
        const FileEntry& f = index.files[i].entry;
        if (f.name_type != 'd' && f.size > 0 && decodable(f.findings.mime_type)) out.push_back(i);
    }
    std::stable_sort(out.begin(), out.end(), [&](std::size_t a, std::size_t b) {
        const FileEntry& fa = index.files[a].entry;
        const FileEntry& fb = index.files[b].entry;
        bool ba = fa.findings.hash_status == "known-bad",
             bb = fb.findings.hash_status == "known-bad";
        return std::tie(bb, fa.path, fa.stream) < std::tie(ba, fb.path, fb.stream);
    });
    return out;
}

Expected<Thumbnail> decode_thumbnail(std::span<const std::byte> bytes, int max_side) {
    int w = 0, h = 0, channels = 0;
    std::unique_ptr<stbi_uc, void (*)(void*)> pixels(
        stbi_load_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()),
                              static_cast<int>(std::min<std::size_t>(bytes.size(), INT32_MAX)), &w,
                              &h, &channels, 4),
        stbi_image_free);
    if (!pixels)
        return make_error(ErrorKind::Format,
                          std::string("not a picture this station can show: ") +
                              (stbi_failure_reason() ? stbi_failure_reason() : "unknown format"));
    max_side = std::max(max_side, 1);
    double scale = std::min(1.0, static_cast<double>(max_side) / std::max(w, h));
    Thumbnail t;
    t.width = std::max(1, static_cast<int>(w * scale));
    t.height = std::max(1, static_cast<int>(h * scale));
    t.rgba.resize(static_cast<std::size_t>(t.width) * t.height * 4);
    if (!stbir_resize_uint8(pixels.get(), w, h, 0, t.rgba.data(), t.width, t.height, 0, 4))
        return make_error(ErrorKind::Internal, "the picture could not be scaled");
    return t;
}

Expected<Thumbnail> load_thumbnail(const std::string& source_path, const FileRow& file,
                                   int max_side, std::uint64_t max_bytes,
                                   const std::string& hardware_blocker) {
    OpenOptions options;
    options.hardware_blocker = hardware_blocker;
    auto source = open_source(source_path, options);
    if (!source) return source.error();
    auto bytes = read_file_content(**source, file.fs_offset, file.entry.meta_address, max_bytes);
    if (!bytes) return bytes.error();
    return decode_thumbnail(*bytes, max_side);
}

std::vector<PictureThumb> PictureReader::load(std::span<const FileRow> files, int max_side,
                                              std::uint64_t max_bytes,
                                              const std::atomic<bool>& cancel) {
    std::vector<PictureThumb> out(files.size());
    for (PictureThumb& t : out)
        t.loading = false;
    if (!source_) {
        OpenOptions options;
        options.hardware_blocker = blocker_;
        auto source = open_source(path_, options);
        if (!source) {
            for (PictureThumb& t : out)
                t.error = source.error().message;
            return out;
        }
        source_ = std::move(*source);
        ++opens_;
    }
    std::vector<FileRef> refs;
    refs.reserve(files.size());
    for (const FileRow& f : files)
        refs.push_back({f.fs_offset, f.entry.meta_address});
    (void)read_file_contents(
        *source_, refs, max_bytes,
        [&](std::size_t i, Expected<std::vector<std::byte>> bytes) {
            if (!bytes) {
                out[i].error = bytes.error().message;
                return;
            }
            auto sharp = decode_thumbnail(*bytes, max_side);
            if (!sharp) {
                out[i].error = sharp.error().message;
                return;
            }
            out[i].blurred = blur_thumbnail(*sharp);
            out[i].sharp = std::move(*sharp);
        },
        cancel);
    return out;
}

Expected<std::filesystem::path> bundle_image(const std::filesystem::path& bundle) {
    namespace fs = std::filesystem;
    const fs::path dir = bundle / "data" / "image";
    std::error_code ec;
    std::vector<fs::path> records;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (it->path().filename().string().ends_with(".acquisition.json"))
            records.push_back(it->path());
    std::sort(records.begin(), records.end());
    for (const fs::path& record : records) {
        std::ifstream in(record);
        auto r = nlohmann::json::parse(in, nullptr, false);
        if (r.is_discarded() || !r.is_object() || !r.contains("outputs") ||
            !r["outputs"].is_array() || r["outputs"].empty() || !r["outputs"][0].is_string())
            return make_error(ErrorKind::Format, record.string() + " is not an acquisition record");
        // The image is a file beside its record, never a path out of the bundle.
        const std::string first = r["outputs"][0].get<std::string>();
        if (first.empty() || first.find('/') != std::string::npos || first == "." ||
            first == ".." || !fs::is_regular_file(dir / first, ec))
            return make_error(ErrorKind::Format, record.string() + " names its image as \"" +
                                                     first + "\", which is not a file beside it");
        return dir / first;
    }
    return make_error(ErrorKind::NotFound,
                      "This bundle holds no image of the exhibit (triage only), so its pictures "
                      "cannot be shown.");
}

const PictureThumb* ThumbnailCache::find(std::size_t file) const {
    auto it = entries_.find(file);
    return it == entries_.end() ? nullptr : &it->second.thumb;
}

bool ThumbnailCache::touch(std::size_t file) {
    auto it = entries_.find(file);
    if (it == entries_.end()) return false;
    order_.splice(order_.begin(), order_, it->second.at);
    return true;
}

void ThumbnailCache::put(std::size_t file, PictureThumb thumb) {
    if (auto it = entries_.find(file); it != entries_.end()) {
        it->second.thumb = std::move(thumb);
        order_.splice(order_.begin(), order_, it->second.at);
        return;
    }
    while (entries_.size() >= capacity_) {
        entries_.erase(order_.back());
        order_.pop_back();
    }
    order_.push_front(file);
    entries_.emplace(file, Entry{std::move(thumb), order_.begin()});
}

void ThumbnailCache::clear() {
    entries_.clear();
    order_.clear();
}

std::vector<int> prefetch_rows(int first, int end, int rows, int direction, int screens_ahead) {
    std::vector<int> out;
    first = std::clamp(first, 0, rows);
    end = std::clamp(end, first, rows);
    const int on_screen = std::max(end - first, 1);
    const int ahead = direction == 0 ? 1 : on_screen * std::max(screens_ahead, 0);
    const int behind = 1;
    const int down = direction >= 0 ? ahead : behind, up = direction >= 0 ? behind : ahead;
    // Interleaved nearest first, the leading side before the trailing one at each distance.
    for (int k = 0; k < std::max(down, up); ++k) {
        const int below = end + k, above = first - 1 - k;
        const bool lead_down = direction >= 0;
        for (int pass = 0; pass < 2; ++pass) {
            const bool is_down = (pass == 0) == lead_down;
            if (is_down && k < down && below < rows) out.push_back(below);
            if (!is_down && k < up && above >= 0) out.push_back(above);
        }
    }
    return out;
}

Thumbnail blur_thumbnail(const Thumbnail& sharp, int cells) {
    Thumbnail out = sharp;
    if (sharp.width <= 0 || sharp.height <= 0) return out;
    cells = std::max(cells, 1);
    const int block = std::max(1, (std::max(sharp.width, sharp.height) + cells - 1) / cells);
    for (int by = 0; by < sharp.height; by += block)
        for (int bx = 0; bx < sharp.width; bx += block) {
            const int ey = std::min(by + block, sharp.height),
                      ex = std::min(bx + block, sharp.width);
            std::uint64_t sum[4] = {0, 0, 0, 0};
            for (int y = by; y < ey; ++y)
                for (int x = bx; x < ex; ++x)
                    for (int c = 0; c < 4; ++c)
                        sum[c] +=
                            sharp.rgba[(static_cast<std::size_t>(y) * sharp.width + x) * 4 + c];
            const std::uint64_t n = static_cast<std::uint64_t>(ey - by) * (ex - bx);
            for (int y = by; y < ey; ++y)
                for (int x = bx; x < ex; ++x)
                    for (int c = 0; c < 4; ++c)
                        out.rgba[(static_cast<std::size_t>(y) * sharp.width + x) * 4 + c] =
                            static_cast<std::uint8_t>(sum[c] / n);
        }
    return out;
}

}  // namespace exhibit::station
