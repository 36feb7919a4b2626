// The one place libewf handles and errors are wrapped (reader and writer share it).
#pragma once

#include <libewf.h>

#include <memory>
#include <string>

namespace exhibit::ewf {

struct HandleDeleter {
    void operator()(libewf_handle_t* handle) const;
};
using Handle = std::unique_ptr<libewf_handle_t, HandleDeleter>;

// Owns a libewf_error_t* filled by a failed call and turns it into text.
class ErrorSlot {
  public:
    ErrorSlot() = default;
    ErrorSlot(const ErrorSlot&) = delete;
    ErrorSlot& operator=(const ErrorSlot&) = delete;
    ~ErrorSlot();

    libewf_error_t** out() { return &error_; }
    // libewf's own description of what went wrong (its last, innermost line), then cleared.
    std::string take();

  private:
    libewf_error_t* error_ = nullptr;
};

// A fresh handle, or nullptr with `why` filled.
Handle make_handle(std::string& why);

}  // namespace exhibit::ewf
