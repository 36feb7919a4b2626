// Whole numbers read from JSON that came from outside this process: a store's set.json, an
// acquisition checkpoint, a worker's messages. nlohmann's get<unsigned>() static_casts
// whatever number it finds, so 3.7e130 or -1 in a count is undefined behaviour or a silent
// wrap. These accept only an integer that fits the target type and otherwise throw the
// library's own type_error, which every reader already turns into "... is damaged".
#pragma once

#include <concepts>
#include <cstdint>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

namespace exhibit::io {

template <std::integral T>
T json_integer(const nlohmann::json& value) {
    if (value.is_number_unsigned()) {
        const auto v = value.get<std::uint64_t>();
        if (v <= static_cast<std::uint64_t>(std::numeric_limits<T>::max()))
            return static_cast<T>(v);
    } else if (value.is_number_integer()) {
        const auto v = value.get<std::int64_t>();
        if constexpr (std::is_signed_v<T>) {
            if (v >= std::numeric_limits<T>::min() && v <= std::numeric_limits<T>::max())
                return static_cast<T>(v);
        } else if (v >= 0 && static_cast<std::uint64_t>(v) <= std::numeric_limits<T>::max()) {
            return static_cast<T>(v);
        }
    }
    throw nlohmann::json::type_error::create(
        302,
        std::string(std::is_signed_v<T> ? "an integer" : "a non-negative integer") +
            " that fits in " + std::to_string(sizeof(T) * 8) + " bits was expected, not " +
            value.dump(),
        &value);
}

}  // namespace exhibit::io
