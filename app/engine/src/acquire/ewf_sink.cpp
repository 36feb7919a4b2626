// E01 (EnCase 6 format) through libewf, readable by ewfverify, ewfinfo and every
// commercial tool.
#include <unistd.h>

#include <algorithm>
#include <cctype>

#include "acquire/image_sink.hpp"
#include "ewf/ewf_handle.hpp"
#include "exhibit/platform/block_device.hpp"

namespace exhibit::acquire_detail {

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kDefaultSegment = 1500ull << 20;  // ewfacquire's default, 1.4 GiB
const std::string kVersion = "exhibit 0.1.0";

class EwfSink final : public ImageSink {
  public:
    EwfSink(const AcquisitionPlan& plan, ewf::Handle handle, fs::path partial_base)
        : plan_(plan), handle_(std::move(handle)), partial_base_(std::move(partial_base)) {}

    Status write(std::span<const std::byte> bytes) override {
        while (!bytes.empty()) {
            ewf::ErrorSlot error;
            ssize_t n =
                libewf_handle_write_buffer(handle_.get(), bytes.data(), bytes.size(), error.out());
            if (n <= 0) {
                std::string why = error.take();
                // libewf reports a full disk only in its text; say it in ours.
                bool full = why.find("No space") != std::string::npos ||
                            why.find("unable to write") != std::string::npos;
                return make_error(full ? ErrorKind::NoSpace : ErrorKind::Io,
                                  "cannot write E01 segment under " + plan_.out_dir.string() +
                                      " at media offset " + std::to_string(written_) + ": " + why);
            }
            written_ += static_cast<std::uint64_t>(n);
            bytes = bytes.subspan(static_cast<std::size_t>(n));
        }
        return ok();
    }

    Status finish(const Hashes& hashes, const std::vector<UnreadableRange>& unreadable) override {
        ewf::ErrorSlot error;
        uint32_t sector = 512;
        libewf_handle_get_bytes_per_sector(handle_.get(), &sector, nullptr);
        for (const auto& r : unreadable) {
            if (libewf_handle_append_acquiry_error(handle_.get(), r.offset / sector,
                                                   (r.length + sector - 1) / sector,
                                                   error.out()) != 1) {
                return fail("cannot record an unreadable range in the E01", error);
            }
        }
        auto md5 = from_hex(hashes.md5);
        auto sha1 = from_hex(hashes.sha1);
        if (libewf_handle_set_md5_hash(handle_.get(), md5.data(), md5.size(), error.out()) != 1 ||
            libewf_handle_set_sha1_hash(handle_.get(), sha1.data(), sha1.size(), error.out()) !=
                1) {
            return fail("cannot store the hashes in the E01", error);
        }
        if (libewf_handle_write_finalize(handle_.get(), error.out()) < 0) {
            return fail("cannot finish the E01", error);
        }
        if (libewf_handle_close(handle_.get(), error.out()) != 0) {
            return fail("cannot close the E01", error);
        }
        handle_.reset();  // its deleter's second close is a no-op on a closed handle

        auto partial = files();
        std::vector<fs::path> finals;
        for (const auto& p : partial) {
            // image.partial.E01 -> image.E01
            fs::path final_name = plan_.out_dir / (plan_.basename + p.extension().string());
            if (platform::FileDescriptor fd; !platform::open_read_only(p, fd)) ::fsync(fd.get());
            std::error_code ec;
            fs::rename(p, final_name, ec);
            if (ec) return errno_error("cannot rename " + p.string(), ec.value());
            finals.push_back(final_name);
        }
        final_files_ = finals;
        platform::FileDescriptor dir;
        if (!platform::open_read_only(plan_.out_dir, dir)) ::fsync(dir.get());
        return ok();
    }

    std::vector<fs::path> files() const override {
        if (!final_files_.empty()) return final_files_;
        std::vector<fs::path> found;
        std::error_code ec;
        const std::string prefix = partial_base_.filename().string() + ".";
        for (const auto& entry : fs::directory_iterator(plan_.out_dir, ec)) {
            std::string name = entry.path().filename().string();
            if (name.rfind(prefix, 0) == 0 && name.size() == prefix.size() + 3) {
                found.push_back(entry.path());
            }
        }
        // E01..E99 then EAA..: compare the extension as the segment order libewf uses.
        std::sort(found.begin(), found.end(), [](const fs::path& a, const fs::path& b) {
            auto ka = a.extension().string(), kb = b.extension().string();
            bool da = std::isdigit(static_cast<unsigned char>(ka[1])),
                 db = std::isdigit(static_cast<unsigned char>(kb[1]));
            if (da != db) return da;
            return ka < kb;
        });
        return found;
    }

  private:
    Status fail(const std::string& what, ewf::ErrorSlot& error) {
        return make_error(ErrorKind::Io,
                          what + " under " + plan_.out_dir.string() + ": " + error.take());
    }

    AcquisitionPlan plan_;
    ewf::Handle handle_;
    fs::path partial_base_;
    std::uint64_t written_ = 0;
    std::vector<fs::path> final_files_;
};

Status set_header(libewf_handle_t* h, const char* id, const std::string& value) {
    if (value.empty()) return ok();
    ewf::ErrorSlot error;
    if (libewf_handle_set_utf8_header_value(
            h, reinterpret_cast<const uint8_t*>(id), std::char_traits<char>::length(id),
            reinterpret_cast<const uint8_t*>(value.data()), value.size(), error.out()) != 1) {
        return make_error(ErrorKind::InvalidArgument,
                          std::string("libewf refused the E01 header ") + id + ": " + error.take());
    }
    return ok();
}

}  // namespace

Expected<std::unique_ptr<ImageSink>> make_ewf_sink(const AcquisitionPlan& plan,
                                                   const SourceInfo& source) {
    std::string why;
    ewf::Handle handle = ewf::make_handle(why);
    if (!handle) return make_error(ErrorKind::Internal, "libewf could not start: " + why);
    libewf_handle_t* h = handle.get();
    fs::path base = plan.out_dir / (plan.basename + ".partial");
    std::string base_name = base.string();
    char* names[] = {base_name.data()};
    ewf::ErrorSlot error;
    if (libewf_handle_open(h, names, 1, LIBEWF_OPEN_WRITE, error.out()) != 1) {
        return make_error(ErrorKind::Io,
                          "cannot create E01 " + base_name + ".E01: " + error.take());
    }
    const std::uint64_t segment = plan.segment_size ? plan.segment_size : kDefaultSegment;
    int8_t level = plan.compression == Compression::None   ? LIBEWF_COMPRESSION_NONE
                   : plan.compression == Compression::Fast ? LIBEWF_COMPRESSION_FAST
                                                           : LIBEWF_COMPRESSION_BEST;
    uint8_t flags = plan.compression == Compression::None
                        ? 0
                        : static_cast<uint8_t>(LIBEWF_COMPRESS_FLAG_USE_EMPTY_BLOCK_COMPRESSION);
    bool device = source.device.has_value();
    uint8_t media_type =
        device && source.device->removable ? LIBEWF_MEDIA_TYPE_REMOVABLE : LIBEWF_MEDIA_TYPE_FIXED;
    uint8_t media_flags = device ? LIBEWF_MEDIA_FLAG_PHYSICAL : 0;
    if (libewf_handle_set_format(h, LIBEWF_FORMAT_ENCASE6, error.out()) != 1 ||
        libewf_handle_set_bytes_per_sector(h, source.sector_size, error.out()) != 1 ||
        libewf_handle_set_media_size(h, source.size, error.out()) != 1 ||
        libewf_handle_set_media_type(h, media_type, error.out()) != 1 ||
        libewf_handle_set_media_flags(h, media_flags, error.out()) != 1 ||
        libewf_handle_set_compression_values(h, level, flags, error.out()) != 1) {
        return make_error(ErrorKind::InvalidArgument,
                          "libewf refused the E01 settings: " + error.take());
    }
    if (libewf_handle_set_maximum_segment_size(h, segment, error.out()) != 1) {
        return make_error(
            ErrorKind::InvalidArgument,
            "libewf refused the E01 segment size " + std::to_string(segment) + ": " + error.take());
    }
    const CaseInfo& c = plan.case_info;
    for (auto [id, value] : std::initializer_list<std::pair<const char*, std::string>>{
             {"case_number", c.case_number},
             {"evidence_number", c.evidence_number},
             {"examiner_name", c.examiner},
             {"description", c.description},
             {"notes", c.notes},
             {"acquiry_software_version", kVersion},
             {"acquiry_operating_system", "Linux"},
             {"model", device ? source.device->model : std::string()},
             {"serial_number", device ? source.device->serial : std::string()}}) {
        if (auto s = set_header(h, id, value); !s) return s.error();
    }
    return std::unique_ptr<ImageSink>(new EwfSink(plan, std::move(handle), base));
}

}  // namespace exhibit::acquire_detail
