// Error values that cross module boundaries.
//
// Every fallible engine call returns `Expected<T>`: either the value or an `Error`
// that carries a kind (so callers can map it to an exit code or a UI state) and
// one complete sentence for a person, naming what failed and where.
//
//   Expected<std::uint64_t> n = source.size();
//   if (!n) return n.error();          // propagate
//   use(*n);
//
// Asserts are for programmer bugs; a bad image or a full disk is an Error.
#pragma once

#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace exhibit {

enum class ErrorKind {
    InvalidArgument,  // the caller asked for something that makes no sense
    NotFound,         // a named file or device does not exist
    Io,               // the OS refused a read or write
    Format,           // the bytes are not what the format promises (truncated E01, ...)
    NotProtected,     // a device is writable and no hardware blocker was declared
    NoSpace,          // the output ran out of room
    SourceChanged,    // the source vanished, shrank or changed size while we read it
    Cancelled,        // the operator asked us to stop
    Unsupported,      // a valid request this build cannot serve
    Internal,         // a library failed in a way we did not expect
};

const char* to_string(ErrorKind kind);

struct Error {
    ErrorKind kind = ErrorKind::Internal;
    std::string message;  // one sentence: what failed and where
    int sys_errno = 0;    // errno when the OS said no, else 0
};

Error make_error(ErrorKind kind, std::string message, int sys_errno = 0);

// Builds an Io/NotFound/NoSpace error from errno with `what` as the subject,
// e.g. errno_error("cannot open source /dev/sdb", ENOENT).
Error errno_error(const std::string& what, int err);

template <typename T>
class [[nodiscard]] Expected {
  public:
    Expected(T value) : v_(std::move(value)) {}
    Expected(Error error) : v_(std::move(error)) {}

    bool has_value() const { return v_.index() == 0; }
    explicit operator bool() const { return has_value(); }

    T& value() & {
        assert(has_value());
        return std::get<0>(v_);
    }
    const T& value() const& {
        assert(has_value());
        return std::get<0>(v_);
    }
    T&& value() && {
        assert(has_value());
        return std::get<0>(std::move(v_));
    }
    T& operator*() & { return value(); }
    const T& operator*() const& { return value(); }
    T&& operator*() && { return std::move(*this).value(); }
    T* operator->() { return &value(); }
    const T* operator->() const { return &value(); }

    const Error& error() const {
        assert(!has_value());
        return std::get<1>(v_);
    }

  private:
    std::variant<T, Error> v_;
};

// For calls that return nothing on success.
struct Ok {};
using Status = Expected<Ok>;
inline Status ok() {
    return Ok{};
}

}  // namespace exhibit
