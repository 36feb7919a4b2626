#include "triage/walk_messages.hpp"

#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "io/json_numbers.hpp"

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

std::uint64_t get_u64(const std::span<const std::byte> in, std::size_t at) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i)
        v = (v << 8) | std::to_integer<std::uint64_t>(in[at + static_cast<std::size_t>(i)]);
    return v;
}

void put_u64(std::byte* out, std::uint64_t v) {
    for (int i = 0; i < 8; ++i)
        out[i] = static_cast<std::byte>(v >> (8 * i));
}

json file_entry_json(const FileEntry& e) {
    return json{{"fs", e.file_system},
                {"path", e.path},
                {"name", e.name},
                {"stream", e.stream},
                {"meta", e.meta_address},
                {"nt", std::string(1, e.name_type)},
                {"mt", std::string(1, e.meta_type)},
                {"size", e.size},
                {"na", e.name_allocated},
                {"ma", e.meta_allocated},
                {"m", e.modified},
                {"a", e.accessed},
                {"c", e.changed},
                {"b", e.created},
                {"mode", e.mode},
                {"uid", e.uid},
                {"gid", e.gid},
                {"st", e.stream_type},
                {"sid", e.stream_id},
                {"first", e.first_block}};
}

char one_char(const json& j, const char* key) {
    auto s = field<std::string>(j, key);
    if (s.size() != 1) throw std::invalid_argument(std::string(key) + " is not one character");
    return s[0];
}

}  // namespace

void put_frame_header(std::byte* out, MessageType type, std::size_t size) {
    out[0] = static_cast<std::byte>(type);
    for (int i = 0; i < 4; ++i)
        out[1 + i] = static_cast<std::byte>(size >> (8 * i));
}

Expected<std::pair<MessageType, std::size_t>> read_frame_header(std::span<const std::byte> in) {
    if (in.size() < kFrameHeader) return malformed("frame", "header cut short");
    const auto type = std::to_integer<std::uint8_t>(in[0]);
    if (type < static_cast<std::uint8_t>(MessageType::VolumeSystem) ||
        type > static_cast<std::uint8_t>(MessageType::UnallocatedNote)) {
        return malformed("frame", "unknown type " + std::to_string(type));
    }
    std::size_t size = 0;
    for (int i = 3; i >= 0; --i)
        size = (size << 8) | std::to_integer<std::size_t>(in[1 + static_cast<std::size_t>(i)]);
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

std::vector<std::byte> encode_entry(const FileEntry& entry, bool content_follows) {
    json j = file_entry_json(entry);
    j["content"] = content_follows;
    return to_bytes(j);
}

std::vector<std::byte> encode_listing_done(std::uint64_t files, std::uint64_t bytes) {
    return to_bytes({{"files", files}, {"bytes", bytes}});
}

std::vector<std::byte> encode_begin(std::uint64_t ordinal) {
    return to_bytes({{"ordinal", ordinal}});
}

std::vector<std::byte> encode_end(bool complete, const std::string& error) {
    return to_bytes({{"complete", complete}, {"error", error}});
}

std::vector<std::byte> encode_read(std::uint64_t offset, std::uint64_t length) {
    std::vector<std::byte> out(16);
    put_u64(out.data(), offset);
    put_u64(out.data() + 8, length);
    return out;
}

std::vector<std::byte> encode_findings(std::uint64_t ordinal, const ContentResult& r) {
    const FileFindings& f = r.findings;
    json hits = json::array();
    for (const Hit& h : f.hits)
        hits.push_back(json::array({h.kind, h.name, h.category, h.severity, h.detail}));
    json notes = json::array();
    for (const ScanNote& n : f.notes)
        notes.push_back(json::array({n.kind, n.path, n.message}));
    return to_bytes(
        {{"ordinal", ordinal},
         {"read", r.content_read},
         {"error", r.content_error},
         {"md5", f.hashes.md5},
         {"sha1", f.hashes.sha1},
         {"sha256", f.hashes.sha256},
         {"mime", f.mime_type},
         {"desc", f.type_description},
         {"mismatch", f.extension_mismatch},
         {"status", f.hash_status},
         {"hits", hits},
         {"notes", notes},
         {"yara", json::array({f.yara.files, f.yara.bytes, f.yara.truncated, f.yara.errors})}});
}

std::vector<std::byte> encode_progress(std::uint64_t bytes) {
    std::vector<std::byte> out(8);
    put_u64(out.data(), bytes);
    return out;
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
    return parse<EntryMessage>(payload, "entry", [](const json& j) {
        EntryMessage m;
        FileEntry& e = m.entry;
        e.file_system = field<int>(j, "fs");
        e.path = field<std::string>(j, "path");
        e.name = field<std::string>(j, "name");
        e.stream = field<std::string>(j, "stream");
        e.meta_address = field<std::uint64_t>(j, "meta");
        e.name_type = one_char(j, "nt");
        e.meta_type = one_char(j, "mt");
        e.size = field<std::uint64_t>(j, "size");
        e.name_allocated = field<bool>(j, "na");
        e.meta_allocated = field<bool>(j, "ma");
        e.modified = field<std::int64_t>(j, "m");
        e.accessed = field<std::int64_t>(j, "a");
        e.changed = field<std::int64_t>(j, "c");
        e.created = field<std::int64_t>(j, "b");
        e.mode = field<std::uint32_t>(j, "mode");
        e.uid = field<std::uint32_t>(j, "uid");
        e.gid = field<std::uint32_t>(j, "gid");
        e.stream_type = field<std::uint16_t>(j, "st");
        e.stream_id = field<std::uint16_t>(j, "sid");
        e.first_block = field<std::uint64_t>(j, "first");
        m.content_follows = field<bool>(j, "content");
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
    return parse<std::uint64_t>(payload, "begin",
                                [](const json& j) { return field<std::uint64_t>(j, "ordinal"); });
}

Expected<EndMessage> decode_end(std::span<const std::byte> payload) {
    return parse<EndMessage>(payload, "end", [](const json& j) {
        return EndMessage{field<bool>(j, "complete"), field<std::string>(j, "error")};
    });
}

Expected<ReadMessage> decode_read(std::span<const std::byte> payload) {
    if (payload.size() != 16) return malformed("read", "payload is not 16 bytes");
    ReadMessage m{get_u64(payload, 0), get_u64(payload, 8)};
    if (m.length == 0 || m.length > kMaxReadRequest)
        return malformed("read", "asks for " + std::to_string(m.length) + " bytes");
    return m;
}

}  // namespace exhibit::triage_detail

namespace exhibit::triage_detail {

namespace {

// A digest as the hash scanner writes it: lowercase hex of its size, or empty.
std::string hex_digest(const json& j, const char* key, std::size_t size) {
    auto s = field<std::string>(j, key);
    if (s.empty()) return s;
    if (s.size() != size || s.find_first_not_of("0123456789abcdef") != std::string::npos) {
        throw std::invalid_argument(std::string(key) + " is not a digest");
    }
    return s;
}

std::string string_at(const json& list, std::size_t i) {
    return list.at(i).get<std::string>();
}

}  // namespace

Expected<FindingsMessage> decode_findings(std::span<const std::byte> payload) {
    return parse<FindingsMessage>(payload, "findings", [](const json& j) {
        FindingsMessage m;
        m.ordinal = field<std::uint64_t>(j, "ordinal");
        ContentResult& r = m.result;
        r.content_read = field<bool>(j, "read");
        r.content_error = field<std::string>(j, "error");
        FileFindings& f = r.findings;
        f.hashes.md5 = hex_digest(j, "md5", 32);
        f.hashes.sha1 = hex_digest(j, "sha1", 40);
        f.hashes.sha256 = hex_digest(j, "sha256", 64);
        f.mime_type = field<std::string>(j, "mime");
        f.type_description = field<std::string>(j, "desc");
        f.extension_mismatch = field<bool>(j, "mismatch");
        f.hash_status = field<std::string>(j, "status");
        for (const auto& h : j.at("hits")) {
            if (!h.is_array() || h.size() != 5)
                throw std::invalid_argument("a hit is not 5 strings");
            f.hits.push_back({string_at(h, 0), string_at(h, 1), string_at(h, 2), string_at(h, 3),
                              string_at(h, 4)});
        }
        for (const auto& n : j.at("notes")) {
            if (!n.is_array() || n.size() != 3)
                throw std::invalid_argument("a note is not 3 strings");
            f.notes.push_back({string_at(n, 0), string_at(n, 1), string_at(n, 2)});
        }
        const json& y = j.at("yara");
        if (!y.is_array() || y.size() != 4) throw std::invalid_argument("yara is not 4 counts");
        f.yara = {
            io::json_integer<std::uint64_t>(y.at(0)), io::json_integer<std::uint64_t>(y.at(1)),
            io::json_integer<std::uint64_t>(y.at(2)), io::json_integer<std::uint64_t>(y.at(3))};
        return m;
    });
}

Expected<std::uint64_t> decode_progress(std::span<const std::byte> payload) {
    if (payload.size() != 8) return malformed("progress", "payload is not 8 bytes");
    const std::uint64_t bytes = get_u64(payload, 0);
    if (bytes == 0) return malformed("progress", "no bytes");
    return bytes;
}

}  // namespace exhibit::triage_detail
