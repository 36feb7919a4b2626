// What a parser worker sends its supervisor is untrusted (the worker parsed hostile
// bytes and may be under their control): every decoder must turn garbage into an Error.
// The first byte picks the decoder; the rest is the frame header or payload.
#include <cstddef>
#include <cstdint>
#include <span>

#include "triage/walk_messages.hpp"

using namespace exhibit::triage_detail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data + 1), size - 1);
    switch (data[0] % 10) {
        case 0: {
            auto h = read_frame_header(in);
            if (h && h->second > kMaxPayload) __builtin_trap();
            break;
        }
        case 1:
            (void)decode_volume_system(in);
            break;
        case 2:
            (void)decode_file_system(in);
            break;
        case 3:
            (void)decode_walk_error(in);
            break;
        case 4: {
            auto e = decode_entry(in);
            // A decoded entry re-encodes to something that decodes to the same entry.
            if (e) {
                auto again = decode_entry(encode_entry(e->entry, e->content_follows));
                if (!again || again->entry.path != e->entry.path ||
                    again->entry.size != e->entry.size) {
                    __builtin_trap();
                }
            }
            break;
        }
        case 5:
            (void)decode_listing_done(in);
            break;
        case 6:
            (void)decode_begin(in);
            break;
        case 7:
            (void)decode_end(in);
            break;
        case 8: {
            auto r = decode_read(in);
            if (r && (r->length == 0 || r->length > kMaxReadRequest)) __builtin_trap();
            break;
        }
        case 9: {
            auto f = decode_findings(in);
            // Decoded findings re-encode to something that decodes to the same findings.
            if (f) {
                auto again = decode_findings(encode_findings(f->ordinal, f->result));
                if (!again || again->ordinal != f->ordinal ||
                    again->result.findings.hashes.sha256 != f->result.findings.hashes.sha256 ||
                    again->result.findings.hits.size() != f->result.findings.hits.size() ||
                    again->result.findings.notes.size() != f->result.findings.notes.size()) {
                    __builtin_trap();
                }
            }
            break;
        }
    }
    return 0;
}
