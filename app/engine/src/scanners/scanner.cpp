#include "exhibit/scanner.hpp"

namespace exhibit {

std::vector<ScannerFactory> default_scanners() {
    return {make_hash_scanner, make_file_type_scanner};
}

}  // namespace exhibit
