// The Sleuth Kit over one of our Sources: the image adapter every TSK reader in the engine
// uses (the triage walk and read_file_content, both inside a parser worker).
//
//   TskImage img(source);
//   if (!img.get()) ... tsk_message() says why
//   TSK_FS_INFO* fs = tsk_fs_open_img(img.get(), offset, TSK_FS_TYPE_DETECT);
#pragma once

#include <tsk/libtsk.h>

#include <cstdint>
#include <memory>
#include <string>

#include "exhibit/source.hpp"

namespace exhibit::triage_detail {

// TSK_IMG_INFO must come first: TSK casts our struct to it (tsk_img_open_external).
struct ExternalImage {
    TSK_IMG_INFO info;
    Source* source;
    // Reads of the source that failed. TSK 4.11 does not always pass a failed read on
    // (a failed cache fill is retried uncached, and some file-content paths go on with
    // the buffer as it was), so the content reader checks this count itself.
    std::uint64_t failed_reads;
};

// The source opened as a TSK image; get() is null when TSK refuses it.
class TskImage {
  public:
    explicit TskImage(Source& source);
    TSK_IMG_INFO* get() const { return img_.get(); }

  private:
    struct Closer {
        void operator()(TSK_IMG_INFO* i) const { tsk_img_close(i); }
    };
    ExternalImage image_;
    std::unique_ptr<TSK_IMG_INFO, Closer> img_;
};

// TSK's last error in words (trailing blanks trimmed), and the error cleared.
std::string tsk_message();

}  // namespace exhibit::triage_detail
