// E01 (EnCase 6 format) through libewf, readable by ewfverify, ewfinfo and every
// commercial tool.
#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstring>
#include <thread>

#include "acquire/image_sink.hpp"
#include "ewf/ewf_handle.hpp"
#include "exhibit/platform/block_device.hpp"

namespace exhibit::acquire_detail {

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kDefaultSegment = 1500ull << 20;  // ewfacquire's default, 1.4 GiB
const std::string kVersion = "exhibit 0.1.0";

// One EWF chunk on its way to the file: compressed off the writing thread, written in
// order by it. libewf serialises its own prepare_write_chunk on the handle, so the
// compression is ours (zlib, as libewf itself uses) and libewf_handle_write_chunk
// takes the finished chunk.
struct Chunk {
    const std::byte* data = nullptr;
    std::size_t size = 0;
    std::vector<unsigned char> packed;  // zlib stream when it is smaller than the chunk
    bool compressed = false;
    uint32_t checksum = 0;  // zlib's Adler-32 trailer, or Adler-32 of the raw chunk
};

void pack(Chunk& c, int level) {
    uLongf size = compressBound(static_cast<uLong>(c.size));
    c.packed.resize(size);
    const auto* in = reinterpret_cast<const Bytef*>(c.data);
    c.compressed =
        compress2(c.packed.data(), &size, in, static_cast<uLong>(c.size), level) == Z_OK &&
        size < c.size;
    if (c.compressed) {
        c.packed.resize(size);
        // As libewf does: the stored checksum of a compressed chunk is zlib's own trailer.
        std::memcpy(&c.checksum, c.packed.data() + size - 4, 4);
    } else {
        c.checksum = static_cast<uint32_t>(adler32(1, in, static_cast<uInt>(c.size)));
    }
}

// Compresses every chunk, on every core (the calling thread included).
void pack_all(std::vector<Chunk>& chunks, int level) {
    std::atomic<std::size_t> next{0};
    auto work = [&] {
        for (std::size_t i; (i = next.fetch_add(1)) < chunks.size();)
            pack(chunks[i], level);
    };
    unsigned helpers = std::max(1u, std::thread::hardware_concurrency()) - 1;
    std::vector<std::jthread> threads;
    for (unsigned i = 0; i < helpers && i + 1 < chunks.size(); ++i)
        threads.emplace_back(work);
    work();
}

class EwfSink final : public ImageSink {
  public:
    EwfSink(const AcquisitionPlan& plan, ewf::Handle handle, fs::path partial_base,
            std::size_t chunk_size)
        : plan_(plan),
          handle_(std::move(handle)),
          partial_base_(std::move(partial_base)),
          chunk_size_(chunk_size),
          level_(plan.compression == Compression::Best ? Z_BEST_COMPRESSION : Z_BEST_SPEED) {}

    Status write(std::span<const std::byte> bytes) override {
        if (plan_.compression != Compression::None) return write_compressed(bytes);
        while (!bytes.empty()) {
            ewf::ErrorSlot error;
            ssize_t n =
                libewf_handle_write_buffer(handle_.get(), bytes.data(), bytes.size(), error.out());
            if (n <= 0) return write_error(error);
            written_ += static_cast<std::uint64_t>(n);
            bytes = bytes.subspan(static_cast<std::size_t>(n));
        }
        start_writeback();
        return ok();
    }

    // E01 output is not resumed (libewf 20140813 cannot append to a segment set), so
    // there is nothing a checkpoint could use.
    Status sync() override { return ok(); }

    Status finish(const Hashes& hashes, const std::vector<UnreadableRange>& unreadable) override {
        if (!carry_.empty()) {  // the media's last, short chunk
            std::vector<std::byte> last = std::move(carry_);
            if (auto s = write_chunks(last); !s) return s;
        }
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
        for (const auto& p : files()) {
            if (auto s = flush_and_uncache(p); !s) return s;
        }
        return ok();
    }

    Status publish() override {
        auto partial = files();
        std::vector<fs::path> finals;
        for (const auto& p : partial) {
            // image.partial.E01 -> image.E01
            fs::path final_name = plan_.out_dir / (plan_.basename + p.extension().string());
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
    // libewf writes through the page cache; left alone, every dirty page of a segment
    // waits for the fsync at the end. Every 32 MiB this asks the kernel to start writing
    // the newest segment back (without waiting), so the disk works while we read.
    void start_writeback() {
        constexpr std::uint64_t kEvery = 32u << 20;
        if (written_ - kicked_at_ < kEvery) return;
        kicked_at_ = written_;
        auto segments = files();
        if (segments.empty()) return;
        if (segments.back() != kicked_segment_) {
            kicked_fd_ = platform::FileDescriptor();
            if (platform::open_read_only(segments.back(), kicked_fd_)) return;
            kicked_segment_ = segments.back();
        }
        ::sync_file_range(kicked_fd_.get(), 0, 0, SYNC_FILE_RANGE_WRITE);
    }

    // Flushes a finished segment to the disk and drops it from the page cache, so the
    // verification pass reads what the disk holds, not the kernel's copy.
    static Status flush_and_uncache(const fs::path& segment) {
        platform::FileDescriptor fd;
        if (auto ec = platform::open_read_only(segment, fd)) {
            return errno_error("cannot reopen " + segment.string(), ec.value());
        }
        if (::fsync(fd.get()) != 0) return errno_error("cannot flush " + segment.string(), errno);
        ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_DONTNEED);
        return ok();
    }

    // Whole chunks go out as they come; a tail shorter than a chunk waits in carry_.
    Status write_compressed(std::span<const std::byte> bytes) {
        if (!carry_.empty()) {
            std::size_t take = std::min(bytes.size(), chunk_size_ - carry_.size());
            carry_.insert(carry_.end(), bytes.begin(),
                          bytes.begin() + static_cast<std::ptrdiff_t>(take));
            bytes = bytes.subspan(take);
            if (carry_.size() < chunk_size_) return ok();
            std::vector<std::byte> full = std::move(carry_);
            carry_.clear();
            if (auto s = write_chunks(full); !s) return s;
        }
        std::size_t whole = bytes.size() / chunk_size_ * chunk_size_;
        if (auto s = write_chunks(bytes.first(whole)); !s) return s;
        carry_.assign(bytes.begin() + static_cast<std::ptrdiff_t>(whole), bytes.end());
        return ok();
    }

    Status write_chunks(std::span<const std::byte> bytes) {
        std::vector<Chunk> chunks;
        for (std::size_t off = 0; off < bytes.size(); off += chunk_size_) {
            Chunk& c = chunks.emplace_back();
            c.data = bytes.data() + off;
            c.size = std::min(chunk_size_, bytes.size() - off);
        }
        pack_all(chunks, level_);
        for (auto& c : chunks) {
            ewf::ErrorSlot error;
            uint8_t checksum[4] = {
                static_cast<uint8_t>(c.checksum), static_cast<uint8_t>(c.checksum >> 8),
                static_cast<uint8_t>(c.checksum >> 16), static_cast<uint8_t>(c.checksum >> 24)};
            const void* data = c.compressed ? static_cast<const void*>(c.packed.data()) : c.data;
            std::size_t size = c.compressed ? c.packed.size() : c.size;
            if (libewf_handle_write_chunk(handle_.get(), data, size, c.size, c.compressed ? 1 : 0,
                                          checksum, c.checksum, c.compressed ? 0 : 1,
                                          error.out()) < 0) {
                return write_error(error);
            }
            written_ += c.size;
        }
        start_writeback();
        return ok();
    }

    Error write_error(ewf::ErrorSlot& error) {
        const int err = errno;  // what libewf's failed write(2) left
        std::string why = error.take();
        // libewf's text often says only "unable to write new chunk": a full drive is
        // told by errno or by the room left on it, and said in our message.
        struct statvfs vfs {};
        const bool no_room = ::statvfs(plan_.out_dir.c_str(), &vfs) == 0 &&
                             static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize < (1u << 20);
        const bool said = why.find("No space") != std::string::npos;
        const bool full = said || err == ENOSPC || err == EDQUOT || no_room;
        if (full && !said) {
            while (!why.empty() && (why.back() == '.' || why.back() == ' '))
                why.pop_back();
            why += " (No space left on device)";
        }
        return make_error(full ? ErrorKind::NoSpace : ErrorKind::Io,
                          "cannot write E01 segment under " + plan_.out_dir.string() +
                              " at media offset " + std::to_string(written_) + ": " + why);
    }

    Status fail(const std::string& what, ewf::ErrorSlot& error) {
        return make_error(ErrorKind::Io,
                          what + " under " + plan_.out_dir.string() + ": " + error.take());
    }

    AcquisitionPlan plan_;
    ewf::Handle handle_;
    fs::path partial_base_;
    std::size_t chunk_size_;
    int level_;
    std::vector<std::byte> carry_;
    std::uint64_t kicked_at_ = 0;
    fs::path kicked_segment_;
    platform::FileDescriptor kicked_fd_;
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
    uint32_t chunk_size = 0;
    if (libewf_handle_get_chunk_size(h, &chunk_size, error.out()) != 1 || chunk_size == 0) {
        return make_error(ErrorKind::Internal, "libewf has no chunk size: " + error.take());
    }
    return std::unique_ptr<ImageSink>(new EwfSink(plan, std::move(handle), base, chunk_size));
}

}  // namespace exhibit::acquire_detail
