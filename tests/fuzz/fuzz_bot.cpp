// BOT framing: a CBW as a device receives it, and a CSW as the host receives it in answer
// to a CBW itself built from fuzzed fields.
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "exhibit/firmware/bot.hpp"

using namespace exhibit::firmware;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    CommandBlockWrapper cbw;
    std::uint8_t max_lun = size > 0 ? data[0] : 0;
    auto decoded = decode_cbw({data, size}, cbw, max_lun);
    (void)to_string(decoded);
    if (size >= 31 && decoded == CbwError::None) {
        auto again = encode_cbw(cbw);
        CommandBlockWrapper round;
        if (decode_cbw(again, round, max_lun) != CbwError::None) __builtin_trap();
    }
    CommandStatusWrapper csw;
    auto check = check_csw({data, size}, cbw, csw);
    (void)to_string(check);
    (void)recovery_for(check);
    return 0;
}
