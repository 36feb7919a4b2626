#include "triage/tsk_image.hpp"

#include <cstdio>
#include <cstring>

namespace exhibit::triage_detail {

namespace {

ssize_t read_source(TSK_IMG_INFO* img, TSK_OFF_T offset, char* buffer, size_t length) {
    auto* ext = reinterpret_cast<ExternalImage*>(img);
    auto n = read_fully(*ext->source, static_cast<std::uint64_t>(offset),
                        {reinterpret_cast<std::byte*>(buffer), length});
    if (!n) {
        ++ext->failed_reads;
        tsk_error_reset();
        tsk_error_set_errno(TSK_ERR_IMG_READ);
        tsk_error_set_errstr("%s", n.error().message.c_str());
        return -1;
    }
    return static_cast<ssize_t>(*n);
}

void close_source(TSK_IMG_INFO*) {}  // the ExternalImage is TskImage's, freed with it

void describe_source(TSK_IMG_INFO* img, FILE* out) {
    auto* ext = reinterpret_cast<ExternalImage*>(img);
    std::fprintf(out, "Exhibit source: %s\n", ext->source->info().path.c_str());
}

}  // namespace

TskImage::TskImage(Source& source) {
    std::memset(&image_, 0, sizeof image_);
    image_.source = &source;
    const auto& info = source.info();
    img_.reset(tsk_img_open_external(&image_, static_cast<TSK_OFF_T>(info.size), info.sector_size,
                                     read_source, close_source, describe_source));
}

std::string tsk_message() {
    const char* text = tsk_error_get();
    std::string message = text ? text : "no reason given";
    tsk_error_reset();
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
        message.pop_back();
    }
    return message;
}

}  // namespace exhibit::triage_detail
