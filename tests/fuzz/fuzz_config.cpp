// The files the appliance reads back as its own state and settings. The first byte picks:
//   0 the station's case.json (CaseStore::recent lists the cases on the start screen)
//   1 an acquisition record, <basename>.acquisition.json (the report and the bundle read it)
// the rest is the file. (The hash-set store's set.json and tables are in
// fuzz_hashset_formats, the acquisition checkpoint in fuzz_checkpoint.) Anything gives a
// value or a clear error, never a crash.
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string_view>

#include "exhibit/report.hpp"
#include "exhibit/station/case_store.hpp"
#include "fuzz_files.hpp"

namespace fs = std::filesystem;

namespace {

void write(const fs::path& file, std::string_view bytes) {
    std::error_code ec;
    fs::create_directories(file.parent_path(), ec);
    std::ofstream(file, std::ios::binary | std::ios::trunc)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
    const fs::path dir = fuzz::scratch("config");
    switch (data[0] % 2) {
        case 0: {
            write(dir / "cases/OP-1/case.json", bytes);
            exhibit::station::CaseStore store(dir / "cases");
            auto cases = store.recent();
            if (!cases) __builtin_trap();  // the root exists: a bad case.json is skipped
            if (cases->size() > 1) __builtin_trap();
            for (const auto& c : *cases) {
                if (c.details.case_ref.empty() || c.folder != dir / "cases/OP-1") __builtin_trap();
            }
            break;
        }
        case 1: {
            const fs::path record = dir / "image.acquisition.json";
            write(record, bytes);
            auto r = exhibit::read_acquisition_record(record);
            if (!r && r.error().message.find(record.string()) == std::string::npos)
                __builtin_trap();
            break;
        }
    }
    return 0;
}
