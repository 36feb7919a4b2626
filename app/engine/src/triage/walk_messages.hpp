// What a parser worker and its supervisor say to each other over their socket.
//
// The worker (a child process running The Sleuth Kit on hostile bytes) sends frames:
// one type byte, a 4-byte little-endian payload length, the payload. The messages of each
// file (entry, begin, end, findings) are little-endian fixed-size fields and strings with
// a u32 length before them, in the order walk_messages.cpp writes them; the others are
// CBOR (nlohmann_json); content chunks are raw bytes; read requests are two little-endian
// u64 (offset, length); progress is one little-endian u64. The supervisor answers
// each read request with a 12-byte header (i32 errno, 0 for success; u64 length) and then the bytes
// read, or the failure's message.
//
// Promises
// - Everything a worker sends is untrusted: the decoders check every field and size and
//   return an Error (never throw, never trust a length) on anything malformed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "exhibit/error.hpp"
#include "exhibit/file_walk.hpp"

namespace exhibit::triage_detail {

enum class MessageType : std::uint8_t {
    VolumeSystem = 1,  // {type, volumes[]}
    FileSystem,        // FileSystemEntry
    WalkError,         // WalkError
    Entry,             // FileEntry and whether content follows
    ListingDone,       // {files, bytes}: what the content pass will read
    Begin,             // {ordinal}: the content of this file follows
    Chunk,             // raw bytes of the current file
    End,               // {complete, error}: the current file's content is over
    Done,              // the task finished; the worker exits next
    Read,              // read request: offset, length (u64 each)
    Ready,             // sanitizer builds: the worker's allocator works (walk_worker.cpp)
    Findings,          // {ordinal, ContentResult}: what the worker's scanners found in a file
    Progress,          // u64: more bytes of the current file read (sent every few MiB)
    // The unallocated-space scan's worker (unallocated_scan.cpp encodes and checks these).
    UnallocatedSize,      // {bytes}: unallocated bytes the region holds
    UnallocatedHit,       // one rule or keyword hit, at an absolute byte offset
    UnallocatedProgress,  // {bytes}: scanned since the last one
    UnallocatedNote,      // {message}: a scan that failed or timed out
};

constexpr std::size_t kFrameHeader = 5;
constexpr std::size_t kMaxPayload = 17u << 20;  // a content chunk (at most 16 MiB) and some
constexpr std::size_t kMaxReadRequest = 8u << 20;
constexpr std::size_t kReadReplyHeader = 12;

struct Frame {
    MessageType type = MessageType::Done;
    std::vector<std::byte> payload;
};

// Frame header for a payload of `size` bytes.
void put_frame_header(std::byte* out, MessageType type, std::size_t size);
// Reads a frame header; an Error when the type is unknown or the size is over the limit.
Expected<std::pair<MessageType, std::size_t>> read_frame_header(std::span<const std::byte> in);

std::vector<std::byte> encode_volume_system(const std::string& type,
                                            const std::vector<VolumeEntry>& volumes);
std::vector<std::byte> encode_file_system(const FileSystemEntry& fs);
std::vector<std::byte> encode_walk_error(const WalkError& error);
std::vector<std::byte> encode_entry(const FileEntry& entry, bool content_follows);
std::vector<std::byte> encode_listing_done(std::uint64_t files, std::uint64_t bytes);
std::vector<std::byte> encode_begin(std::uint64_t ordinal);
std::vector<std::byte> encode_end(bool complete, const std::string& error);
std::vector<std::byte> encode_read(std::uint64_t offset, std::uint64_t length);
std::vector<std::byte> encode_findings(std::uint64_t ordinal, const ContentResult& result);
std::vector<std::byte> encode_progress(std::uint64_t bytes);

struct VolumeSystemMessage {
    std::string type;
    std::vector<VolumeEntry> volumes;
};
struct EntryMessage {
    FileEntry entry;
    bool content_follows = false;
};
struct ListingDoneMessage {
    std::uint64_t files = 0, bytes = 0;
};
struct EndMessage {
    bool complete = false;
    std::string error;
};
struct ReadMessage {
    std::uint64_t offset = 0, length = 0;
};

Expected<VolumeSystemMessage> decode_volume_system(std::span<const std::byte> payload);
Expected<FileSystemEntry> decode_file_system(std::span<const std::byte> payload);
Expected<WalkError> decode_walk_error(std::span<const std::byte> payload);
Expected<EntryMessage> decode_entry(std::span<const std::byte> payload);
Expected<ListingDoneMessage> decode_listing_done(std::span<const std::byte> payload);
Expected<std::uint64_t> decode_begin(std::span<const std::byte> payload);
Expected<EndMessage> decode_end(std::span<const std::byte> payload);
Expected<ReadMessage> decode_read(std::span<const std::byte> payload);
struct FindingsMessage {
    std::uint64_t ordinal = 0;
    ContentResult result;
};
Expected<FindingsMessage> decode_findings(std::span<const std::byte> payload);
Expected<std::uint64_t> decode_progress(std::span<const std::byte> payload);

}  // namespace exhibit::triage_detail
