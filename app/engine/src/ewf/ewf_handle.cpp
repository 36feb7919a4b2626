#include "ewf/ewf_handle.hpp"

#include <vector>

namespace exhibit::ewf {

void HandleDeleter::operator()(libewf_handle_t* handle) const {
    // Closing a handle opened for writing without write_finalize leaves the image without
    // its closing sections, which ewfverify then reports: exactly what an interrupted
    // acquisition should look like.
    libewf_handle_close(handle, nullptr);
    libewf_handle_free(&handle, nullptr);
}

ErrorSlot::~ErrorSlot() {
    if (error_) libewf_error_free(&error_);
}

std::string ErrorSlot::take() {
    if (!error_) return "libewf gave no reason";
    std::vector<char> text(4096);
    int n = libewf_error_sprint(error_, text.data(), text.size());
    libewf_error_free(&error_);
    if (n <= 0) return "libewf gave no reason";
    std::string all(text.data());
    // libewf prints a backtrace, outermost call first; the last line is the root cause.
    while (!all.empty() && (all.back() == '\n' || all.back() == ' '))
        all.pop_back();
    auto nl = all.find_last_of('\n');
    std::string last = nl == std::string::npos ? all : all.substr(nl + 1);
    if (auto colon = last.find(": "); colon != std::string::npos && colon < 60) {
        last = last.substr(colon + 2);  // drop "libewf_function_name: "
    }
    return last;
}

Handle make_handle(std::string& why) {
    libewf_handle_t* raw = nullptr;
    ErrorSlot error;
    if (libewf_handle_initialize(&raw, error.out()) != 1) {
        why = error.take();
        return nullptr;
    }
    return Handle(raw);
}

}  // namespace exhibit::ewf
