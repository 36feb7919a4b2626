// The SCSI write-block filter: any CDB, under each command set. Besides not crashing, a
// command that writes the medium must never pass.
#include <cstddef>
#include <cstdint>

#include "exhibit/firmware/scsi_filter.hpp"

using namespace exhibit::firmware;

namespace {

bool writes_medium(std::uint8_t opcode) {
    switch (opcode) {
        case 0x04:  // FORMAT UNIT
        case 0x0A:  // WRITE(6)
        case 0x2A:  // WRITE(10)
        case 0x2E:  // WRITE AND VERIFY(10)
        case 0x3B:  // WRITE BUFFER
        case 0x41:  // WRITE SAME(10)
        case 0x42:  // UNMAP
        case 0x8A:  // WRITE(16)
        case 0x8E:  // WRITE AND VERIFY(16)
        case 0x93:  // WRITE SAME(16)
        case 0xAA:  // WRITE(12)
        case 0xAE:  // WRITE AND VERIFY(12)
            return true;
        default:
            return false;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const CommandSet set = static_cast<CommandSet>(data[0] % 3);
    std::span<const std::uint8_t> cdb(data + 1, size - 1);
    FilterDecision d = evaluate_cdb(cdb, set);
    if (d.name == nullptr) __builtin_trap();
    (void)to_string(d.reason);
    (void)to_string(d.command_class);
    if (d.verdict == Verdict::Pass && !cdb.empty() && writes_medium(cdb[0])) __builtin_trap();
    if (d.verdict == Verdict::Pass && d.command_class == CommandClass::Forbidden) __builtin_trap();
    return 0;
}
