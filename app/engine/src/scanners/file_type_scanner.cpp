// File type from content (libmagic on the first bytes), and names that lie about it.
#include <magic.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <stdexcept>

#include "exhibit/file_walk.hpp"
#include "exhibit/scanner.hpp"

namespace exhibit {

namespace {

constexpr std::size_t kSniff = 64 * 1024;  // what libmagic needs for nearly every type
// Text gets the full magic database over its first 512 bytes only. No early rule claims
// plain text, so libmagic (5.44) tries every rule of its database on it: about 2 ms per
// call at 512 bytes, 7 to 10 ms at 64 KiB, which made typing most of a triage's time.
// The rules for text (markup, scripts, mail, PEM, ...) look at the start.
constexpr std::size_t kTextSniff = 512;

struct MagicCloser {
    void operator()(magic_t m) const { magic_close(m); }
};
using Magic = std::unique_ptr<std::remove_pointer_t<magic_t>, MagicCloser>;

Magic open_magic(int flags) {
    Magic m(magic_open(flags | MAGIC_NO_CHECK_COMPRESS | MAGIC_ERROR));
    if (!m || magic_load(m.get(), nullptr) != 0) {
        throw std::runtime_error("libmagic cannot load its database");
    }
    return m;
}

class FileTypeScanner final : public Scanner {
  public:
    // One libmagic handle per worker: a magic_t is not safe to share between threads.
    FileTypeScanner()
        : mime_(open_magic(MAGIC_MIME_TYPE)),
          text_(open_magic(MAGIC_NONE)),
          builtin_mime_(open_magic(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_SOFT)),
          builtin_text_(open_magic(MAGIC_NO_CHECK_SOFT)) {}

    void begin(const FileEntry& file) override {
        head_.clear();
        name_ = file.name;
    }
    void update(std::span<const std::byte> bytes) override {
        std::size_t take = std::min(bytes.size(), kSniff - head_.size());
        head_.insert(head_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(take));
    }
    void finish(FileFindings& findings) override {
        // A cheap first look without the magic database: text or not.
        std::string plain = describe(builtin_mime_, head_.size());
        if (plain.starts_with("text/")) {
            std::size_t n = std::min(head_.size(), kTextSniff);
            findings.mime_type = describe(mime_, n);
            // When the database adds nothing, its words would be the built-in ones.
            findings.type_description = findings.mime_type == plain
                                            ? describe(builtin_text_, head_.size())
                                            : describe(text_, n);
        } else {
            findings.mime_type = describe(mime_, head_.size());
            findings.type_description = findings.mime_type == "application/octet-stream"
                                            ? describe(builtin_text_, head_.size())  // "data"
                                            : describe(text_, head_.size());
        }
        findings.extension_mismatch = extension_contradicts(name_, findings.mime_type);
    }

  private:
    std::string describe(const Magic& magic, std::size_t bytes) const {
        const char* out = magic_buffer(magic.get(), head_.data(), bytes);
        return out ? out : "";
    }

    Magic mime_;
    Magic text_;
    Magic builtin_mime_;
    Magic builtin_text_;
    std::vector<std::byte> head_;
    std::string name_;
};

}  // namespace

std::unique_ptr<Scanner> make_file_type_scanner() {
    return std::make_unique<FileTypeScanner>();
}

bool extension_contradicts(const std::string& file_name, const std::string& mime_type) {
    static const std::map<std::string, std::set<std::string>> known = {
        {"image/jpeg", {"jpg", "jpeg", "jpe", "jfif"}},
        {"image/png", {"png"}},
        {"image/gif", {"gif"}},
        {"image/bmp", {"bmp", "dib"}},
        {"image/tiff", {"tif", "tiff"}},
        {"image/webp", {"webp"}},
        {"application/pdf", {"pdf"}},
        {"application/zip",
         {"zip", "jar", "apk", "docx", "xlsx", "pptx", "odt", "ods", "odp", "epub", "kmz"}},
        {"application/x-7z-compressed", {"7z"}},
        {"application/x-rar", {"rar"}},
        {"application/gzip", {"gz", "tgz"}},
        {"application/x-dosexec", {"exe", "dll", "sys", "scr", "com", "ocx", "cpl", "efi"}},
        {"application/x-executable", {"", "bin", "elf", "so", "out"}},
        {"video/mp4", {"mp4", "m4v", "m4a", "mov"}},
        {"audio/mpeg", {"mp3"}},
        {"application/vnd.sqlite3", {"sqlite", "sqlite3", "db", "db3", "sqlitedb"}},
    };
    auto it = known.find(mime_type);
    if (it == known.end()) return false;
    auto dot = file_name.find_last_of('.');
    std::string ext = dot == std::string::npos ? "" : file_name.substr(dot + 1);
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return it->second.count(ext) == 0;
}

}  // namespace exhibit
