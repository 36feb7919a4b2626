#include "exhibit/source.hpp"

namespace exhibit {

const char* to_string(SourceKind kind) {
    switch (kind) {
        case SourceKind::Raw:
            return "raw";
        case SourceKind::SplitRaw:
            return "split raw";
        case SourceKind::Ewf:
            return "ewf";
        case SourceKind::BlockDevice:
            return "block device";
        case SourceKind::UsbMassStorage:
            return "usb mass storage";
    }
    return "unknown";
}

Expected<std::size_t> read_fully(Source& source, std::uint64_t offset,
                                 std::span<std::byte> buffer) {
    std::size_t done = 0;
    while (done < buffer.size()) {
        auto n = source.read_at(offset + done, buffer.subspan(done));
        if (!n) return n.error();
        if (*n == 0) break;
        done += *n;
    }
    return done;
}

}  // namespace exhibit
