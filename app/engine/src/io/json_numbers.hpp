// Whole numbers read from JSON that came from outside this process: a store's set.json, an
// acquisition checkpoint, a worker's messages. nlohmann's get<unsigned>() static_casts
// whatever number it finds, so 3.7e130 or -1 in a count is undefined behaviour or a silent
// wrap. These accept only an integer that fits the target type. The report's reader, which
// shows what it can of a damaged case, takes json_integer_if and shows 0.
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

namespace exhibit::io {

// The value as T when it is an integer that fits T; nullopt for anything else (a fraction,
// a negative for an unsigned T, 1e300, a string).
template <std::integral T>
std::optional<T> json_integer_if(const nlohmann::json& value) {
    if (value.is_number_unsigned()) {
        const auto v = value.get<std::uint64_t>();
        if (std::in_range<T>(v)) return static_cast<T>(v);
    } else if (value.is_number_integer()) {
        const auto v = value.get<std::int64_t>();
        if (std::in_range<T>(v)) return static_cast<T>(v);
    }
    return std::nullopt;
}

// The same, throwing json's type_error (which each reader reports as "... is damaged").
template <std::integral T>
T json_integer(const nlohmann::json& value) {
    if (auto v = json_integer_if<T>(value)) return *v;
    throw nlohmann::json::type_error::create(
        302,
        std::string(std::is_signed_v<T> ? "an integer" : "a non-negative integer") +
            " that fits in " + std::to_string(sizeof(T) * 8) + " bits was expected, not " +
            value.dump(),
        &value);
}

}  // namespace exhibit::io
