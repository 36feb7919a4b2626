#include "exhibit/station/pictures.hpp"

#include <stb_image.h>
#include <stb_image_resize.h>

#include <algorithm>
#include <memory>
#include <tuple>

#include "exhibit/file_content.hpp"
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
