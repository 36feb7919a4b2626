// The bundle reader: verify_bundle over a bag whose files come from the input, so the
// BagIt tag files (bagit.txt, bag-info.txt, the two manifests), seal.json, the custody log,
// the case database copy and the acquisition records are all fuzzed together. Any bag
// gives a verdict naming each failed check, never a crash. The input is a fuzz_files.hpp
// container; make-seeds.sh packs real sealed bundles into it.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "exhibit/bundle.hpp"
#include "fuzz_files.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto bag = fuzz::scratch("bag") / "bag";
    fuzz::unpack(std::string_view(reinterpret_cast<const char*>(data), size), bag);
    exhibit::JobProgress progress;
    std::atomic<bool> cancel{false};
    exhibit::BundleVerdict v = exhibit::verify_bundle(bag, {}, progress, cancel);
    if (v.checks.empty()) __builtin_trap();
    bool all = true;
    for (const auto& c : v.checks) {
        if (c.name.empty() || c.message.empty()) __builtin_trap();
        all = all && c.ok;
    }
    if (v.ok != all) __builtin_trap();
    return 0;
}
