#include "triage/walk_messages.hpp"

#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace exhibit::triage_detail {

namespace {

using nlohmann::json;

std::vector<std::byte> to_bytes(const json& j) {
    std::vector<std::uint8_t> cbor = json::to_cbor(j);
    std::vector<std::byte> out(cbor.size());
    std::memcpy(out.data(), cbor.data(), cbor.size());
    return out;
}

Error malformed(const char* what, const std::string& why) {
    return Error{ErrorKind::Format,
                 std::string("the parser worker sent a malformed ") + what + " message: " + why, 0};
}

// Parses a CBOR object and hands it to `read`, which may throw json exceptions for
// missing or mistyped fields; every failure becomes one Error naming the message.
template <typename T, typename Read>
Expected<T> parse(std::span<const std::byte> payload, const char* what, Read read) {
    try {
        const auto* data = reinterpret_cast<const std::uint8_t*>(payload.data());
        json j = json::from_cbor(data, data + payload.size());
        if (!j.is_object()) return malformed(what, "not an object");
        return read(j);
    } catch (const std::exception& e) {  // json's parse and type errors, and ours
        return malformed(what, e.what());
    }
}

template <typename T>
T field(const json& j, const char* key) {
    return j.at(key).get<T>();
}

// The per-file messages (entry, begin, end, findings) are tens of thousands a triage: they
// go as fixed little-endian fields and length-prefixed strings, not CBOR, whose DOM cost
// a sixth of a hash-only triage's CPU time. Writer and Reader are their two halves; the
// Reader trusts nothing (every length is checked against what is left).
class Writer {
  public:
    void u8(std::uint8_t v) { out_.push_back(static_cast<std::byte>(v)); }
    void u16(std::uint16_t v) { put(v, 2); }
    void u32(std::uint32_t v) { put(v, 4); }
    void u64(std::uint64_t v) { put(v, 8); }
    void i64(std::int64_t v) { put(static_cast<std::uint64_t>(v), 8); }
    void str(const std::string& v) {
        if (v.size() > kMaxPayload) throw std::length_error("a string is over the frame limit");
        u32(static_cast<std::uint32_t>(v.size()));
        const auto* p = reinterpret_cast<const std::byte*>(v.data());
        out_.insert(out_.end(), p, p + v.size());
    }
    std::vector<std::byte> take() { return std::move(out_); }

  private:
    void put(std::uint64_t v, int bytes) {
        for (int i = 0; i < bytes; ++i)
            out_.push_back(static_cast<std::byte>(v >> (8 * i)));
    }
    std::vector<std::byte> out_;
};

class Reader {
  public:
    explicit Reader(std::span<const std::byte> in) : in_(in) {}
    std::uint8_t u8() { return static_cast<std::uint8_t>(get(1)); }
    std::uint16_t u16() { return static_cast<std::uint16_t>(get(2)); }
    std::uint32_t u32() { return static_cast<std::uint32_t>(get(4)); }
    std::uint64_t u64() { return get(8); }
    std::int64_t i64() { return static_cast<std::int64_t>(get(8)); }
    bool flag() {
        const std::uint8_t v = u8();
        if (v > 1) throw std::invalid_argument("a flag is neither 0 nor 1");
        return v == 1;
    }
    std::string str() {
        const std::uint32_t n = u32();
        need(n);
        std::string v(reinterpret_cast<const char*>(in_.data() + at_), n);
        at_ += n;
        return v;
    }
    // How many more items of at least `smallest` bytes each there can be.
    std::uint32_t count(std::size_t smallest) {
        const std::uint32_t n = u32();
        if (static_cast<std::uint64_t>(n) * smallest > in_.size() - at_)
            throw std::invalid_argument("a count is more than the rest of the message holds");
        return n;
    }
    void end() const {
        if (at_ != in_.size()) throw std::invalid_argument("bytes after the last field");
    }

  private:
    void need(std::size_t n) const {
        if (n > in_.size() - at_) throw std::invalid_argument("cut short");
    }
    std::uint64_t get(int bytes) {
        need(static_cast<std::size_t>(bytes));
        std::uint64_t v = 0;
        for (int i = bytes - 1; i >= 0; --i)
            v = (v << 8) | std::to_integer<std::uint64_t>(in_[at_ + static_cast<std::size_t>(i)]);
        at_ += static_cast<std::size_t>(bytes);
        return v;
    }
    std::span<const std::byte> in_;
    std::size_t at_ = 0;
};

// Reads a binary message with `read`, which throws on anything malformed; every failure
// becomes one Error naming the message.
template <typename T, typename Read>
Expected<T> parse_binary(std::span<const std::byte> payload, const char* what, Read read) {
    try {
        Reader in(payload);
        T value = read(in);
        in.end();
        return value;
    } catch (const std::exception& e) {
        return malformed(what, e.what());
    }
}

}  // namespace

void put_frame_header(std::byte* out, MessageType type, std::size_t size) {
    out[0] = static_cast<std::byte>(type);
    for (int i = 0; i < 4; ++i)
        out[1 + i] = static_cast<std::byte>(size >> (8 * i));
}

Expected<std::pair<MessageType, std::size_t>> read_frame_header(std::span<const std::byte> in) {
    if (in.size() < kFrameHeader) return malformed("frame", "header cut short");
    Reader header(in.first(kFrameHeader));  // long enough: it cannot throw
    const std::uint8_t type = header.u8();
    if (type < static_cast<std::uint8_t>(MessageType::VolumeSystem) ||
        type > static_cast<std::uint8_t>(MessageType::UnallocatedNote)) {
        return malformed("frame", "unknown type " + std::to_string(type));
    }
    const std::size_t size = header.u32();
    if (size > kMaxPayload)
        return malformed("frame", std::to_string(size) + " bytes is over the limit");
    return std::pair{static_cast<MessageType>(type), size};
}

std::vector<std::byte> encode_volume_system(const std::string& type,
                                            const std::vector<VolumeEntry>& volumes) {
    json list = json::array();
    for (const auto& v : volumes) {
        list.push_back({{"i", v.index},
                        {"o", v.offset},
                        {"l", v.length},
                        {"d", v.description},
                        {"a", v.allocated},
                        {"t", v.is_table}});
    }
    return to_bytes({{"type", type}, {"volumes", list}});
}

std::vector<std::byte> encode_file_system(const FileSystemEntry& fs) {
    return to_bytes({{"volume", fs.volume},
                     {"offset", fs.offset},
                     {"type", fs.type},
                     {"bs", fs.block_size},
                     {"bc", fs.block_count}});
}

std::vector<std::byte> encode_walk_error(const WalkError& error) {
    return to_bytes(
        {{"volume", error.volume}, {"offset", error.offset}, {"message", error.message}});
}

std::vector<std::byte> encode_entry(const FileEntry& e, bool content_follows) {
    Writer out;
    out.u32(static_cast<std::uint32_t>(e.file_system));
    out.str(e.path);
    out.str(e.name);
    out.str(e.stream);
    out.u64(e.meta_address);
    out.u8(static_cast<std::uint8_t>(e.name_type));
    out.u8(static_cast<std::uint8_t>(e.meta_type));
    out.u64(e.size);
    out.u8(e.name_allocated);
    out.u8(e.meta_allocated);
    out.u8(content_follows);
    out.i64(e.modified);
    out.i64(e.accessed);
    out.i64(e.changed);
    out.i64(e.created);
    out.u32(e.mode);
    out.u32(e.uid);
    out.u32(e.gid);
    out.u16(e.stream_type);
    out.u16(e.stream_id);
    out.u64(e.first_block);
    return out.take();
}

std::vector<std::byte> encode_listing_done(std::uint64_t files, std::uint64_t bytes) {
    return to_bytes({{"files", files}, {"bytes", bytes}});
}

std::vector<std::byte> encode_begin(std::uint64_t ordinal) {
    Writer out;
    out.u64(ordinal);
    return out.take();
}

std::vector<std::byte> encode_end(bool complete, const std::string& error) {
    Writer out;
    out.u8(complete);
    out.str(error);
    return out.take();
}

std::vector<std::byte> encode_read(std::uint64_t offset, std::uint64_t length) {
    Writer out;
    out.u64(offset);
    out.u64(length);
    return out.take();
}

std::vector<std::byte> encode_findings(std::uint64_t ordinal, const ContentResult& r) {
    const FileFindings& f = r.findings;
    Writer out;
    out.u64(ordinal);
    out.u8(r.content_read);
    out.str(r.content_error);
    out.str(f.hashes.md5);
    out.str(f.hashes.sha1);
    out.str(f.hashes.sha256);
    out.str(f.mime_type);
    out.str(f.type_description);
    out.u8(f.extension_mismatch);
    out.str(f.hash_status);
    out.u32(static_cast<std::uint32_t>(f.hits.size()));
    for (const Hit& h : f.hits) {
        for (const std::string* v : {&h.kind, &h.name, &h.category, &h.severity, &h.detail})
            out.str(*v);
    }
    out.u32(static_cast<std::uint32_t>(f.notes.size()));
    for (const ScanNote& n : f.notes) {
        for (const std::string* v : {&n.kind, &n.path, &n.message})
            out.str(*v);
    }
    for (std::uint64_t v : {f.yara.files, f.yara.bytes, f.yara.truncated, f.yara.errors})
        out.u64(v);
    return out.take();
}

std::vector<std::byte> encode_progress(std::uint64_t bytes) {
    Writer out;
    out.u64(bytes);
    return out.take();
}

Expected<VolumeSystemMessage> decode_volume_system(std::span<const std::byte> payload) {
    return parse<VolumeSystemMessage>(payload, "volume-system", [](const json& j) {
        VolumeSystemMessage m;
        m.type = field<std::string>(j, "type");
        for (const auto& v : j.at("volumes")) {
            VolumeEntry e;
            e.index = field<int>(v, "i");
            e.offset = field<std::uint64_t>(v, "o");
            e.length = field<std::uint64_t>(v, "l");
            e.description = field<std::string>(v, "d");
            e.allocated = field<bool>(v, "a");
            e.is_table = field<bool>(v, "t");
            m.volumes.push_back(std::move(e));
        }
        return m;
    });
}

Expected<FileSystemEntry> decode_file_system(std::span<const std::byte> payload) {
    return parse<FileSystemEntry>(payload, "file-system", [](const json& j) {
        FileSystemEntry fs;
        fs.volume = field<int>(j, "volume");
        fs.offset = field<std::uint64_t>(j, "offset");
        fs.type = field<std::string>(j, "type");
        fs.block_size = field<std::uint32_t>(j, "bs");
        fs.block_count = field<std::uint64_t>(j, "bc");
        return fs;
    });
}

Expected<WalkError> decode_walk_error(std::span<const std::byte> payload) {
    return parse<WalkError>(payload, "error", [](const json& j) {
        WalkError e;
        e.volume = field<int>(j, "volume");
        e.offset = field<std::uint64_t>(j, "offset");
        e.message = field<std::string>(j, "message");
        return e;
    });
}

Expected<EntryMessage> decode_entry(std::span<const std::byte> payload) {
    return parse_binary<EntryMessage>(payload, "entry", [](Reader& in) {
        EntryMessage m;
        FileEntry& e = m.entry;
        e.file_system = static_cast<int>(in.u32());
        e.path = in.str();
        e.name = in.str();
        e.stream = in.str();
        e.meta_address = in.u64();
        e.name_type = static_cast<char>(in.u8());
        e.meta_type = static_cast<char>(in.u8());
        e.size = in.u64();
        e.name_allocated = in.flag();
        e.meta_allocated = in.flag();
        m.content_follows = in.flag();
        e.modified = in.i64();
        e.accessed = in.i64();
        e.changed = in.i64();
        e.created = in.i64();
        e.mode = in.u32();
        e.uid = in.u32();
        e.gid = in.u32();
        e.stream_type = in.u16();
        e.stream_id = in.u16();
        e.first_block = in.u64();
        return m;
    });
}

Expected<ListingDoneMessage> decode_listing_done(std::span<const std::byte> payload) {
    return parse<ListingDoneMessage>(payload, "listing-done", [](const json& j) {
        return ListingDoneMessage{field<std::uint64_t>(j, "files"),
                                  field<std::uint64_t>(j, "bytes")};
    });
}

Expected<std::uint64_t> decode_begin(std::span<const std::byte> payload) {
    return parse_binary<std::uint64_t>(payload, "begin", [](Reader& in) { return in.u64(); });
}

Expected<EndMessage> decode_end(std::span<const std::byte> payload) {
    return parse_binary<EndMessage>(payload, "end", [](Reader& in) {
        EndMessage m;
        m.complete = in.flag();
        m.error = in.str();
        return m;
    });
}

Expected<ReadMessage> decode_read(std::span<const std::byte> payload) {
    if (payload.size() != 16) return malformed("read", "payload is not 16 bytes");
    Reader in(payload);
    ReadMessage m{in.u64(), in.u64()};
    if (m.length == 0 || m.length > kMaxReadRequest)
        return malformed("read", "asks for " + std::to_string(m.length) + " bytes");
    return m;
}

}  // namespace exhibit::triage_detail

namespace exhibit::triage_detail {

namespace {

// A digest as the hash scanner writes it: lowercase hex of its size, or empty.
std::string hex_digest(Reader& in, const char* name, std::size_t size) {
    std::string s = in.str();
    if (s.empty()) return s;
    if (s.size() != size || s.find_first_not_of("0123456789abcdef") != std::string::npos) {
        throw std::invalid_argument(std::string(name) + " is not a digest");
    }
    return s;
}

}  // namespace

Expected<FindingsMessage> decode_findings(std::span<const std::byte> payload) {
    return parse_binary<FindingsMessage>(payload, "findings", [](Reader& in) {
        FindingsMessage m;
        m.ordinal = in.u64();
        ContentResult& r = m.result;
        r.content_read = in.flag();
        r.content_error = in.str();
        FileFindings& f = r.findings;
        f.hashes.md5 = hex_digest(in, "md5", 32);
        f.hashes.sha1 = hex_digest(in, "sha1", 40);
        f.hashes.sha256 = hex_digest(in, "sha256", 64);
        f.mime_type = in.str();
        f.type_description = in.str();
        f.extension_mismatch = in.flag();
        f.hash_status = in.str();
        for (std::uint32_t i = 0, n = in.count(5 * 4); i < n; ++i) {
            Hit h;
            for (std::string* v : {&h.kind, &h.name, &h.category, &h.severity, &h.detail})
                *v = in.str();
            f.hits.push_back(std::move(h));
        }
        for (std::uint32_t i = 0, n = in.count(3 * 4); i < n; ++i) {
            ScanNote note;
            for (std::string* v : {&note.kind, &note.path, &note.message})
                *v = in.str();
            f.notes.push_back(std::move(note));
        }
        f.yara.files = in.u64();
        f.yara.bytes = in.u64();
        f.yara.truncated = in.u64();
        f.yara.errors = in.u64();
        return m;
    });
}

Expected<std::uint64_t> decode_progress(std::span<const std::byte> payload) {
    if (payload.size() != 8) return malformed("progress", "payload is not 8 bytes");
    const std::uint64_t bytes = Reader(payload).u64();
    if (bytes == 0) return malformed("progress", "no bytes");
    return bytes;
}

}  // namespace exhibit::triage_detail
