// What the libewf worker (ewf_worker.cpp) and its client (ewf_source.cpp) say to each
// other: messages over a SOCK_SEQPACKET socket pair (one message each, so boundaries are
// kept), and the bytes read in a window of memory they share.
//
// Worker -> client: a Reply header then, for status Opened, the media's metadata as JSON,
// for status Failed, one sentence; for status Read, `length` bytes are in the window. In
// AddressSanitizer builds the first message is a bare Ready.
// Client -> worker: ReadRequest (at most kWindow bytes); an empty message or a closed
// socket ends the worker.
//
// Nothing the worker sends is trusted: the client checks every length and field.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

#include "sources/ewf_worker.hpp"

namespace exhibit::ewf_worker {

constexpr std::size_t kWindow = 4u << 20;
constexpr std::size_t kMaxMessage = 1u << 20;

struct Shared {
    std::atomic<std::uint64_t> position{0};  // media offset of the chunk being read
    std::atomic<std::uint64_t> beats{0};     // counts chunks started: the watchdog's pulse
    alignas(64) std::byte window[kWindow];
};

enum class Status : std::uint32_t { Ready = 1, Opened, Failed, Read };

struct Reply {
    Status status = Status::Failed;
    std::uint32_t kind = 0;    // Failed: the ErrorKind
    std::uint64_t length = 0;  // Read: bytes in the window; else the text that follows
};

struct ReadRequest {
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
};

// The worker's body: `socket` is its end of the pair, `window` a memfd holding Shared
// (the supervisor maps it with MADV_DONTFORK, so no other child, a TSK worker for one,
// inherits the mapping; the worker maps it itself). Never returns.
[[noreturn]] void run_worker(int socket, int window, const std::string& first_segment,
                             const EwfWorkerOptions& options);

}  // namespace exhibit::ewf_worker
