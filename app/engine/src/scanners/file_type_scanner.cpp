// File type from content (libmagic on the first bytes), and names that lie about it.
#include <magic.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>

#include "exhibit/file_walk.hpp"
#include "exhibit/scanner.hpp"

namespace exhibit {

namespace {

constexpr std::size_t kSniff = 64 * 1024;  // what libmagic needs for nearly every type

// The types of text, in libmagic's own rule language, for the files libmagic's built-in
// tests (encoding, JSON, CSV) already call text. Its full database (5.44: 3,154 binary and
// 395 text rules) finds no early match for plain text, so it tries every rule: 0.4 to 2 ms a
// file, two thirds of a triage's CPU time. These few rules cost about a tenth of that and
// give the MIME types libmagic's database gives for the text an examiner filters on
// (markup, scripts by interpreter, keys and certificates, mail, contacts, registry exports,
// and documents that may be all ASCII: PDF, PostScript, RTF), with the same names.
// Syntax: magic(5). A pattern starting with < or ^ is escaped, or it reads as an operator;
// search and regex ranges end within the first 527 bytes, so a longer buffer finds the same
// rules.
constexpr const char* kTextRules = R"(
# Documents that may be all ASCII at the start
0 string/t %PDF- PDF document
!:mime application/pdf
0 string/t %! PostScript document
!:mime application/postscript
0 string/t {\\rtf Rich Text Format data
!:mime text/rtf
0 string/t \!<arch>\n current ar archive
!:mime application/x-archive
# Markup
0 string/t \<?xml
>0 search/512/t \<svg SVG Scalable Vector Graphics image
!:mime image/svg+xml
>0 default x XML document
!:mime text/xml
# One case-insensitive regex looks for all eight markers at once (eight searches of their
# own cost a third of a text file's typing); only a file that has one goes on to the
# searches, each the first to apply, in the order libmagic's strengths once gave them.
# Its strength is that of the strongest search it stands for, so rules tried before any
# of them still are.
0 regex/527/c [<](!doctype\ html|html|body|[?]php|svg|script|iframe|head>)
!:strength - 42
>0 search/512/ct \<!doctype\ html HTML document
!:mime text/html
>0 default x
>>0 search/512/ct \<html HTML document
!:mime text/html
>>0 default x
>>>0 search/512/ct \<body HTML document
!:mime text/html
>>>0 default x
>>>>0 search/512/ct \<?php PHP script
!:mime text/x-php
>>>>0 default x
>>>>>0 search/512/ct \<svg SVG Scalable Vector Graphics image
!:mime image/svg+xml
>>>>>0 default x
>>>>>>0 search/512/ct \<script HTML document
!:mime text/html
>>>>>>0 default x
>>>>>>>0 search/512/ct \<iframe HTML document
!:mime text/html
>>>>>>>0 default x
>>>>>>>>0 search/512/ct \<head> HTML document
!:mime text/html
# Scripts, by the interpreter their first line names
0 string/t #!
>0 regex/1l \^#!.*[/[:space:]](ba|da|k|z|c|tc|fi)?sh([[:space:]]|$) shell script
!:mime text/x-shellscript
>0 regex/1l \^#!.*[/[:space:]]python[0-9.]*([[:space:]]|$) Python script
!:mime text/x-script.python
>0 regex/1l \^#!.*[/[:space:]]perl[0-9.]*([[:space:]]|$) Perl script
!:mime text/x-perl
>0 regex/1l \^#!.*[/[:space:]]ruby[0-9.]*([[:space:]]|$) Ruby script
!:mime text/x-ruby
>0 regex/1l \^#!.*[/[:space:]](node|nodejs)([[:space:]]|$) Node.js script
!:mime application/javascript
>0 regex/1l \^#!.*[/[:space:]]php[0-9.]*([[:space:]]|$) PHP script
!:mime text/x-php
>0 regex/1l \^#!.*[/[:space:]](g|m|n)?awk([[:space:]]|$) awk script
!:mime text/x-awk
>0 regex/1l \^#!.*[/[:space:]](tclsh|wish)[0-9.]*([[:space:]]|$) Tcl script
!:mime text/x-tcl
>0 regex/1l \^#!.*[/[:space:]]lua[0-9.]*([[:space:]]|$) Lua script
!:mime text/x-lua
0 string/ct @echo\ off DOS batch file
!:mime text/x-msdos-batch
# Source code (the first 512 bytes only)
0 regex/512 \^#include[[:space:]]*[<"] C source
!:mime text/x-c
0 regex/512 \^#(ifndef|define|pragma)[[:space:]]+[A-Za-z_] C source
!:mime text/x-c
0 regex/512 \^(from[[:space:]]+[A-Za-z_.]+[[:space:]]+)?import[[:space:]]+[A-Za-z_.]+[[:space:]]*$ Python script
!:mime text/x-script.python
0 regex/512 \^def[[:space:]]+[A-Za-z_]+[[:space:]]*[(] Python script
!:mime text/x-script.python
# Keys, certificates, signed and encrypted messages
0 string/t -----BEGIN\ CERTIFICATE----- PEM certificate
0 string/t -----BEGIN\ CERTIFICATE\ REQUEST----- PEM certificate request
0 string/t -----BEGIN\ OPENSSH\ PRIVATE\ KEY----- OpenSSH private key
0 string/t -----BEGIN\ RSA\ PRIVATE\ KEY----- PEM RSA private key
0 string/t -----BEGIN\ DSA\ PRIVATE\ KEY----- PEM DSA private key
0 string/t -----BEGIN\ EC\ PRIVATE\ KEY----- PEM EC private key
0 string/t -----BEGIN\ PRIVATE\ KEY----- PEM private key
0 string/t -----BEGIN\ ENCRYPTED\ PRIVATE\ KEY----- PEM encrypted private key
0 string/t -----BEGIN\ PGP\ PUBLIC\ KEY\ BLOCK----- PGP public key block
!:mime application/pgp-keys
0 string/t -----BEGIN\ PGP\ PRIVATE\ KEY\ BLOCK----- PGP private key block
!:mime application/pgp-keys
0 string/t -----BEGIN\ PGP\ MESSAGE----- PGP message
!:mime application/pgp-encrypted
0 string/t -----BEGIN\ PGP\ SIGNATURE----- PGP signature
!:mime application/pgp-signature
0 string/t -----BEGIN\ PGP\ SIGNED\ MESSAGE----- PGP signed message
0 string/t ssh-rsa\ AAAA OpenSSH RSA public key
0 string/t ssh-ed25519\ AAAA OpenSSH ED25519 public key
0 string/t ecdsa-sha2-nistp OpenSSH ECDSA public key
# Mail, contacts, calendars, registry exports
0 string/t Received: RFC 822 mail
!:mime message/rfc822
0 string/t Return-Path: RFC 822 mail
!:mime message/rfc822
0 string/t Delivered-To: RFC 822 mail
!:mime message/rfc822
0 string/t Message-ID: RFC 822 mail
!:mime message/rfc822
0 string/t From:\  RFC 822 mail
!:mime message/rfc822
0 regex/1l \^From\ [^[:space:]]+\ +(Mon|Tue|Wed|Thu|Fri|Sat|Sun)\  mbox mailbox
!:mime application/mbox
0 string/ct begin:vcard vCard visiting card
!:mime text/vcard
0 string/ct begin:vcalendar iCalendar calendar file
!:mime text/calendar
0 string/t Windows\ Registry\ Editor\ Version\ 5.00 Windows Registry text
!:mime text/x-ms-regedit
0 string/t REGEDIT4 Windows Registry text
!:mime text/x-ms-regedit
)";

struct MagicCloser {
    void operator()(magic_t m) const { magic_close(m); }
};
using Magic = std::unique_ptr<std::remove_pointer_t<magic_t>, MagicCloser>;

// `rules` empty: the system's magic database; else rules in magic(5) source form.
Magic open_magic(int flags, const char* rules = nullptr) {
    Magic m(magic_open(flags | MAGIC_NO_CHECK_COMPRESS | MAGIC_ERROR));
    if (!m) throw std::runtime_error("libmagic cannot start");
    if (!rules) {
        if (magic_load(m.get(), nullptr) != 0) {
            throw std::runtime_error("libmagic cannot load its database");
        }
        return m;
    }
    // libmagic reads rules only from a file: hand it an anonymous one in memory, so that
    // nothing is written anywhere and no installed path has to be found.
    int fd = memfd_create("exhibit-text-magic", MFD_CLOEXEC);
    if (fd < 0) throw std::runtime_error("cannot create the text-type rules in memory");
    std::string_view text(rules);
    bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    std::string path = "/proc/self/fd/" + std::to_string(fd);
    int loaded = written ? magic_load(m.get(), path.c_str()) : -1;
    ::close(fd);
    if (loaded != 0) {
        const char* why = magic_error(m.get());
        throw std::runtime_error(std::string("libmagic cannot load the text-type rules: ") +
                                 (why ? why : "write failed"));
    }
    return m;
}

// What the database's handles need not test again (see FileTypeScanner): the text
// encoding, and the built-in tests of types that are not in the database.
constexpr int kBuiltinsDone = MAGIC_NO_CHECK_ENCODING | MAGIC_NO_CHECK_JSON | MAGIC_NO_CHECK_CSV |
                              MAGIC_NO_CHECK_TAR | MAGIC_NO_CHECK_CDF;

class FileTypeScanner final : public Scanner {
  public:
    // One libmagic handle per worker: a magic_t is not safe to share between threads.
    FileTypeScanner()
        // Content that reaches the database has been through the built-in tests already
        // (text_mime_ below): they found it binary and of no type of theirs (JSON, CSV, tar,
        // OLE2), so the database's handles skip them (a third of its time on binary content).
        : mime_(open_magic(MAGIC_MIME_TYPE | kBuiltinsDone)),
          text_(open_magic(kBuiltinsDone)),
          builtin_text_(open_magic(MAGIC_NO_CHECK_SOFT)),
          text_mime_(open_magic(MAGIC_MIME_TYPE, kTextRules)),
          text_words_(open_magic(MAGIC_NONE, kTextRules)) {}

    void begin(const FileEntry& file) override {
        head_.clear();
        name_ = file.name;
    }
    void update(std::span<const std::byte> bytes) override {
        std::size_t take = std::min(bytes.size(), kSniff - head_.size());
        head_.insert(head_.end(), bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(take));
    }
    void finish(FileFindings& findings) override {
        // The built-in tests and the text rules first: text, or a type the built-in tests
        // settle (empty, JSON, CSV, tar, OLE2 documents), where the database would stop too.
        findings.mime_type = describe(text_mime_);
        if (findings.mime_type != "application/octet-stream") {
            findings.type_description = describe(text_words_);
        } else {
            findings.mime_type = describe(mime_);
            findings.type_description = findings.mime_type == "application/octet-stream"
                                            ? describe(builtin_text_)  // "data"
                                            : describe(text_);
        }
        findings.extension_mismatch = extension_contradicts(name_, findings.mime_type);
    }

  private:
    std::string describe(const Magic& magic) const {
        const char* out = magic_buffer(magic.get(), head_.data(), head_.size());
        return out ? out : "";
    }

    Magic mime_;  // the system's database
    Magic text_;
    Magic builtin_text_;  // the built-in tests only
    Magic text_mime_;     // the built-in tests and kTextRules
    Magic text_words_;
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
