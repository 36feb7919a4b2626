#include "exhibit/file_content.hpp"

#include <tsk/libtsk.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

namespace exhibit {

namespace {

// The source as a TSK image (TSK_IMG_INFO first: TSK casts the struct to it).
struct SourceImage {
    TSK_IMG_INFO info;
    Source* source;
};

ssize_t read_image(TSK_IMG_INFO* img, TSK_OFF_T offset, char* buffer, size_t length) {
    auto* self = reinterpret_cast<SourceImage*>(img);
    auto n = read_fully(*self->source, static_cast<std::uint64_t>(offset),
                        {reinterpret_cast<std::byte*>(buffer), length});
    if (!n) {
        tsk_error_reset();
        tsk_error_set_errno(TSK_ERR_IMG_READ);
        tsk_error_set_errstr("%s", n.error().message.c_str());
        return -1;
    }
    return static_cast<ssize_t>(*n);
}

void close_image(TSK_IMG_INFO*) {}

void describe_image(TSK_IMG_INFO* img, FILE* out) {
    std::fprintf(out, "Exhibit source: %s\n",
                 reinterpret_cast<SourceImage*>(img)->source->info().path.c_str());
}

std::string tsk_text() {
    const char* text = tsk_error_get();
    std::string s = text ? text : "unknown TSK error";
    tsk_error_reset();
    return s;
}

}  // namespace

Expected<std::vector<std::byte>> read_file_content(Source& source, std::uint64_t fs_offset,
                                                   std::uint64_t meta_address,
                                                   std::uint64_t max_bytes) {
    const SourceInfo& info = source.info();
    const std::string where = "file " + std::to_string(meta_address) +
                              " of the file system at byte " + std::to_string(fs_offset) + " of " +
                              info.path;
    auto image = std::make_unique<SourceImage>();
    std::memset(&image->info, 0, sizeof image->info);
    image->source = &source;
    TSK_IMG_INFO* img =
        tsk_img_open_external(image.get(), static_cast<TSK_OFF_T>(info.size), info.sector_size,
                              read_image, close_image, describe_image);
    if (!img)
        return make_error(ErrorKind::Format, "TSK cannot read " + info.path + ": " + tsk_text());
    std::unique_ptr<TSK_IMG_INFO, void (*)(TSK_IMG_INFO*)> img_guard(img, tsk_img_close);
    TSK_FS_INFO* fs = tsk_fs_open_img(img, static_cast<TSK_OFF_T>(fs_offset), TSK_FS_TYPE_DETECT);
    if (!fs)
        return make_error(ErrorKind::Format, "no file system at byte " + std::to_string(fs_offset) +
                                                 " of " + info.path + ": " + tsk_text());
    std::unique_ptr<TSK_FS_INFO, void (*)(TSK_FS_INFO*)> fs_guard(fs, tsk_fs_close);
    TSK_FS_FILE* file = tsk_fs_file_open_meta(fs, nullptr, static_cast<TSK_INUM_T>(meta_address));
    if (!file) return make_error(ErrorKind::NotFound, "cannot open " + where + ": " + tsk_text());
    std::unique_ptr<TSK_FS_FILE, void (*)(TSK_FS_FILE*)> file_guard(file, tsk_fs_file_close);
    std::uint64_t size =
        file->meta && file->meta->size > 0 ? static_cast<std::uint64_t>(file->meta->size) : 0;
    std::vector<std::byte> out(static_cast<std::size_t>(std::min(size, max_bytes)));
    std::size_t done = 0;
    while (done < out.size()) {
        ssize_t n = tsk_fs_file_read(file, static_cast<TSK_OFF_T>(done),
                                     reinterpret_cast<char*>(out.data() + done), out.size() - done,
                                     TSK_FS_FILE_READ_FLAG_NONE);
        if (n < 0) return make_error(ErrorKind::Io, "cannot read " + where + ": " + tsk_text());
        if (n == 0) break;
        done += static_cast<std::size_t>(n);
    }
    out.resize(done);
    return out;
}

}  // namespace exhibit
