#include "exhibit/error.hpp"

#include <cerrno>
#include <cstring>

namespace exhibit {

const char* to_string(ErrorKind kind) {
    switch (kind) {
        case ErrorKind::InvalidArgument:
            return "invalid argument";
        case ErrorKind::NotFound:
            return "not found";
        case ErrorKind::Io:
            return "I/O error";
        case ErrorKind::Format:
            return "format error";
        case ErrorKind::NotProtected:
            return "not write-protected";
        case ErrorKind::NoSpace:
            return "no space";
        case ErrorKind::SourceChanged:
            return "source changed";
        case ErrorKind::Cancelled:
            return "cancelled";
        case ErrorKind::Unsupported:
            return "unsupported";
        case ErrorKind::Internal:
            return "internal error";
    }
    return "unknown error";
}

Error make_error(ErrorKind kind, std::string message, int sys_errno) {
    return Error{kind, std::move(message), sys_errno};
}

Error errno_error(const std::string& what, int err) {
    ErrorKind kind = ErrorKind::Io;
    if (err == ENOENT || err == ENOTDIR) kind = ErrorKind::NotFound;
    if (err == ENOSPC || err == EDQUOT || err == EFBIG) kind = ErrorKind::NoSpace;
    if (err == ENODEV || err == ENXIO || err == ENOMEDIUM) kind = ErrorKind::SourceChanged;
    return Error{kind, what + ": " + std::strerror(err), err};
}

}  // namespace exhibit
