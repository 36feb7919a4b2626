// Exit codes of `exhibit`, documented in README.md.
#pragma once

namespace exhibit::cli {

enum Exit : int {
    kOk = 0,
    kInternal = 1,
    kUsage = 2,
    kSource = 3,
    kOutput = 4,
    kVerifyFailed = 5,
    kUnreadable = 6,
    kSourceChanged = 7,
    kCancelled = 8,
    kNotProtected = 9,
};

}  // namespace exhibit::cli
