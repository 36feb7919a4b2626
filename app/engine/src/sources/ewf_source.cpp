// E01/Ex01 (and split E01) through libewf.
#include <mutex>

#include "ewf/ewf_handle.hpp"
#include "exhibit/source.hpp"

namespace exhibit {

namespace fs = std::filesystem;

namespace {

const char* format_name(uint8_t format) {
    switch (format) {
        case LIBEWF_FORMAT_ENCASE1:
            return "EnCase 1";
        case LIBEWF_FORMAT_ENCASE2:
            return "EnCase 2";
        case LIBEWF_FORMAT_ENCASE3:
            return "EnCase 3";
        case LIBEWF_FORMAT_ENCASE4:
            return "EnCase 4";
        case LIBEWF_FORMAT_ENCASE5:
            return "EnCase 5";
        case LIBEWF_FORMAT_ENCASE6:
            return "EnCase 6";
        case LIBEWF_FORMAT_ENCASE7:
            return "EnCase 7";
        case LIBEWF_FORMAT_SMART:
            return "SMART";
        case LIBEWF_FORMAT_FTK_IMAGER:
            return "FTK Imager";
        case LIBEWF_FORMAT_LINEN5:
            return "linen 5";
        case LIBEWF_FORMAT_LINEN6:
            return "linen 6";
        case LIBEWF_FORMAT_LINEN7:
            return "linen 7";
        case LIBEWF_FORMAT_EWF:
            return "EWF";
        case LIBEWF_FORMAT_EWFX:
            return "EWFX";
        default:
            return "unknown";
    }
}

class EwfSource final : public Source {
  public:
    EwfSource(SourceInfo info, ewf::Handle handle)
        : info_(std::move(info)), handle_(std::move(handle)) {}

    const SourceInfo& info() const override { return info_; }

    Expected<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> buffer) override {
        if (offset >= info_.size || buffer.empty()) return std::size_t{0};
        // libewf keeps a chunk cache per handle; one reader at a time keeps it coherent.
        std::lock_guard lock(mutex_);
        ewf::ErrorSlot error;
        ssize_t n = libewf_handle_read_random(handle_.get(), buffer.data(), buffer.size(),
                                              static_cast<off64_t>(offset), error.out());
        if (n < 0) {
            return make_error(ErrorKind::Format, "cannot read E01 " + info_.path + " at offset " +
                                                     std::to_string(offset) + ": " + error.take());
        }
        // libewf hands back a zero-filled chunk when the chunk's checksum fails and only
        // counts it; data we cannot vouch for must be an error, not zeros.
        uint32_t checksum_errors = 0;
        libewf_handle_get_number_of_checksum_errors(handle_.get(), &checksum_errors, nullptr);
        if (checksum_errors > checksum_errors_seen_) {
            checksum_errors_seen_ = checksum_errors;
            return make_error(ErrorKind::Format,
                              "E01 " + info_.path + " is corrupt: a chunk read at offset " +
                                  std::to_string(offset) + " fails its checksum");
        }
        return static_cast<std::size_t>(n);
    }

  private:
    SourceInfo info_;
    ewf::Handle handle_;
    std::mutex mutex_;
    uint32_t checksum_errors_seen_ = 0;
};

std::string utf8_header(libewf_handle_t* h, const std::string& id) {
    size_t size = 0;
    if (libewf_handle_get_utf8_header_value_size(h, reinterpret_cast<const uint8_t*>(id.data()),
                                                 id.size(), &size, nullptr) != 1 ||
        size == 0) {
        return {};
    }
    std::string value(size, '\0');
    if (libewf_handle_get_utf8_header_value(h, reinterpret_cast<const uint8_t*>(id.data()),
                                            id.size(), reinterpret_cast<uint8_t*>(value.data()),
                                            size, nullptr) != 1) {
        return {};
    }
    value.resize(value.find('\0') == std::string::npos ? value.size() : value.find('\0'));
    return value;
}

std::string utf8_hash(libewf_handle_t* h, const std::string& id) {
    uint8_t value[128] = {};
    if (libewf_handle_get_utf8_hash_value(h, reinterpret_cast<const uint8_t*>(id.data()), id.size(),
                                          value, sizeof value, nullptr) != 1) {
        return {};
    }
    std::string hex(reinterpret_cast<char*>(value));
    for (char& c : hex)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return hex;
}

EwfMetadata read_metadata(libewf_handle_t* h) {
    EwfMetadata meta;
    uint32_t count = 0;
    if (libewf_handle_get_number_of_header_values(h, &count, nullptr) == 1) {
        for (uint32_t i = 0; i < count; ++i) {
            size_t size = 0;
            if (libewf_handle_get_header_value_identifier_size(h, i, &size, nullptr) != 1) continue;
            std::string id(size, '\0');
            if (libewf_handle_get_header_value_identifier(
                    h, i, reinterpret_cast<uint8_t*>(id.data()), size, nullptr) != 1) {
                continue;
            }
            id.resize(id.find('\0') == std::string::npos ? id.size() : id.find('\0'));
            std::string value = utf8_header(h, id);
            if (!value.empty()) meta.header[id] = value;
        }
    }
    meta.stored_md5 = utf8_hash(h, "MD5");
    meta.stored_sha1 = utf8_hash(h, "SHA1");
    uint8_t format = 0;
    if (libewf_handle_get_format(h, &format, nullptr) == 1) meta.format = format_name(format);
    int8_t level = 0;
    uint8_t flags = 0;
    if (libewf_handle_get_compression_values(h, &level, &flags, nullptr) == 1) {
        meta.compression = level == LIBEWF_COMPRESSION_NONE   ? "none"
                           : level == LIBEWF_COMPRESSION_FAST ? "fast"
                           : level == LIBEWF_COMPRESSION_BEST ? "best"
                                                              : "unknown";
    }
    uint32_t chunk = 0;
    if (libewf_handle_get_chunk_size(h, &chunk, nullptr) == 1) meta.chunk_size = chunk;
    uint32_t errors = 0;
    if (libewf_handle_get_number_of_acquiry_errors(h, &errors, nullptr) == 1) {
        for (uint32_t i = 0; i < errors; ++i) {
            uint64_t start = 0, sectors = 0;
            if (libewf_handle_get_acquiry_error(h, i, &start, &sectors, nullptr) == 1) {
                meta.acquiry_errors.emplace_back(start, sectors);
            }
        }
    }
    return meta;
}

}  // namespace

Expected<std::unique_ptr<Source>> open_ewf(const fs::path& first_segment) {
    const std::string path = first_segment.string();
    std::error_code ec;
    if (!fs::exists(first_segment, ec)) {
        return make_error(ErrorKind::NotFound, "E01 image " + path + " does not exist");
    }
    char** names = nullptr;
    int count = 0;
    ewf::ErrorSlot error;
    if (libewf_glob(path.c_str(), path.size(), LIBEWF_FORMAT_UNKNOWN, &names, &count,
                    error.out()) != 1) {
        return make_error(ErrorKind::Format,
                          "cannot find the segments of E01 " + path + ": " + error.take());
    }
    std::vector<std::string> segments(names, names + count);
    libewf_glob_free(names, count, nullptr);

    std::string why;
    ewf::Handle handle = ewf::make_handle(why);
    if (!handle) return make_error(ErrorKind::Internal, "libewf could not start: " + why);
    std::vector<char*> argv;
    for (auto& s : segments)
        argv.push_back(s.data());
    if (libewf_handle_open(handle.get(), argv.data(), static_cast<int>(argv.size()),
                           LIBEWF_OPEN_READ, error.out()) != 1) {
        return make_error(ErrorKind::Format, "cannot open E01 " + path + " (" +
                                                 std::to_string(segments.size()) +
                                                 " segments): " + error.take());
    }
    if (libewf_handle_segment_files_corrupted(handle.get(), nullptr) == 1) {
        return make_error(ErrorKind::Format,
                          "E01 " + path + " is truncated or corrupt: its segment files (" +
                              std::to_string(segments.size()) +
                              ") do not hold a complete image; a segment may be missing or cut "
                              "short");
    }
    SourceInfo info;
    info.kind = SourceKind::Ewf;
    info.path = path;
    info.segments = segments;
    size64_t media_size = 0;
    uint32_t bytes_per_sector = 0;
    if (libewf_handle_get_media_size(handle.get(), &media_size, error.out()) != 1 ||
        libewf_handle_get_bytes_per_sector(handle.get(), &bytes_per_sector, error.out()) != 1) {
        return make_error(ErrorKind::Format,
                          "E01 " + path + " has no readable media size: " + error.take());
    }
    info.size = media_size;
    info.sector_size = bytes_per_sector ? bytes_per_sector : 512;
    info.ewf = read_metadata(handle.get());
    return std::unique_ptr<Source>(new EwfSource(std::move(info), std::move(handle)));
}

}  // namespace exhibit
