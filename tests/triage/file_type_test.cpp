// The file-type scanner: MIME types, libmagic's words and extensions that contradict the
// content. Text is typed with the scanner's own short rule list instead of libmagic's
// full database (which costs ten times as much on text); every text case here is also
// typed with the full database and must get the same MIME type.
#include <magic.h>

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "exhibit/file_walk.hpp"
#include "exhibit/scanner.hpp"

using namespace exhibit;

namespace {

struct Typed {
    std::string mime, words;
    bool mismatch = false;
};

Typed type_of(Scanner& scanner, const std::string& name, const std::string& content) {
    FileEntry entry;
    entry.name = name;
    entry.size = content.size();
    scanner.begin(entry);
    // Two pieces, as the walk feeds chunks.
    auto bytes = std::as_bytes(std::span(content.data(), content.size()));
    std::size_t half = bytes.size() / 2;
    scanner.update(bytes.first(half));
    scanner.update(bytes.subspan(half));
    FileFindings found;
    scanner.finish(found);
    return {found.mime_type, found.type_description, found.extension_mismatch};
}

// libmagic with its whole database on the first 64 KiB: what the short rules stand in for.
std::string full_database_mime(const std::string& content) {
    std::unique_ptr<std::remove_pointer_t<magic_t>, decltype(&magic_close)> m(
        magic_open(MAGIC_MIME_TYPE | MAGIC_NO_CHECK_COMPRESS | MAGIC_ERROR), magic_close);
    REQUIRE(m);
    REQUIRE(magic_load(m.get(), nullptr) == 0);
    const char* out =
        magic_buffer(m.get(), content.data(), std::min<std::size_t>(content.size(), 512));
    return out ? out : "";
}

struct Case {
    const char* name;
    std::string content;
    const char* mime;
    const char* words;  // the start of libmagic's description
};

// Types `c` and checks its MIME type and the start of its words.
Typed check_type(Scanner& scanner, const Case& c) {
    INFO(c.name);
    Typed t = type_of(scanner, c.name, c.content);
    CHECK(t.mime == c.mime);
    CHECK(t.words.starts_with(c.words));
    return t;
}

std::string repeat(const std::string& line, int times) {
    std::string out;
    for (int i = 0; i < times; ++i)
        out += line;
    return out;
}

}  // namespace

TEST_CASE("text is typed by the short rules with the full database's MIME types", "[filetype]") {
    auto scanner = make_file_type_scanner();
    const std::string prose = repeat("The quick brown fox jumps over the lazy dog.\n", 40);
    const std::vector<Case> cases = {
        {"notes.txt", prose, "text/plain", "ASCII text"},
        {"index.html", "<!DOCTYPE html>\n<html><head><title>x</title></head>\n" + prose,
         "text/html", "HTML document"},
        {"page.htm", "<html>\n<body>\n" + prose, "text/html", "HTML document"},
        {"data.xml", "<?xml version=\"1.0\"?>\n<root>\n" + prose + "</root>\n", "text/xml",
         "XML document"},
        {"logo.svg", "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\">\n",
         "image/svg+xml", "SVG Scalable Vector Graphics image"},
        {"run", "#!/bin/bash\necho hello\n" + prose, "text/x-shellscript", "shell script"},
        {"tool", "#!/usr/bin/env python3\nprint(1)\n", "text/x-script.python", "Python script"},
        {"tool.pl", "#!/usr/bin/perl -w\nprint 1;\n", "text/x-perl", "Perl script"},
        {"app", "#!/usr/bin/env node\nconsole.log(1)\n", "application/javascript",
         "Node.js script"},
        {"shell.php", "<?php system($_GET['c']); ?>\n", "text/x-php", "PHP script"},
        {"go.bat", "@echo off\r\ndel /q *.*\r\n", "text/x-msdos-batch", "DOS batch file"},
        {"main.c", "#include <stdio.h>\nint main(void) { return 0; }\n", "text/x-c", "C source"},
        {"id_rsa", "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n", "text/plain",
         "PEM RSA private key"},
        {"key.asc", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBF\n", "application/pgp-keys",
         "PGP public key block"},
        {"secret.asc", "-----BEGIN PGP MESSAGE-----\n\nhQEMA\n", "application/pgp-encrypted",
         "PGP message"},
        {"mail.eml", "Received: from a by b\nFrom: x@y.z\nSubject: s\n\nbody\n", "message/rfc822",
         "RFC 822 mail"},
        {"card.vcf", "BEGIN:VCARD\nVERSION:3.0\nFN:A\nEND:VCARD\n", "text/vcard", "vCard"},
        {"cal.ics", "BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR\n", "text/calendar", "iCalendar"},
        {"run.reg", "Windows Registry Editor Version 5.00\r\n\r\n[HKEY_CURRENT_USER\\X]\r\n",
         "text/x-ms-regedit", "Windows Registry"},
        {"doc.rtf", "{\\rtf1\\ansi\\deff0 hello}\n", "text/rtf", "Rich Text Format"},
        {"page.ps", "%!PS-Adobe-3.0\n%%Pages: 1\n", "application/postscript", "PostScript"},
        {"report.pdf", "%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "application/pdf",
         "PDF document"},
        {"libx.a", "!<arch>\n/               0           0     0     0       4         `\nabcd",
         "application/x-archive", "current ar archive"},
        {"data.json", "{\"a\": [1, 2, 3], \"b\": {\"c\": \"d\"}}\n", "application/json", "JSON"},
    };
    for (const auto& c : cases) {
        Typed t = check_type(*scanner, c);
        INFO(c.name);
        CHECK(t.mime == full_database_mime(c.content));
        CHECK_FALSE(t.mismatch);
    }
}

// The eight markup markers are found by one regex, then told apart in the order their
// separate rules had: libmagic tried them by strength (the doctype first, the head tag
// last), whatever their order in the text, and each looked for a start in the first 512
// bytes.
TEST_CASE("markup with several markers gets the type its strongest marker gives", "[filetype]") {
    auto scanner = make_file_type_scanner();
    const std::string pad(508, 'a');
    const std::vector<Case> cases = {
        {"a.txt", "<?php echo 1; ?>\n<html>\n", "text/html", "HTML document"},
        {"b.txt", "some words first\n<?php echo 1; ?>\n", "text/x-php", "PHP script"},
        {"c.txt", "<svg width=\"1\">\n<script>x()</script>\n", "image/svg+xml",
         "SVG Scalable Vector Graphics image"},
        {"d.txt", "<svg width=\"1\"></svg>\n<BODY>\n", "text/html", "HTML document"},
        {"e.txt", "<HTML>\n<Body>upper case</Body>\n", "text/html", "HTML document"},
        {"f.txt", "a frame: <IFRAME src=1>\n", "text/html", "HTML document"},
        {"g.txt", "only <Head> here\n", "text/html", "HTML document"},
        {"h.txt", "<?xml version=\"1.0\"?>\n<html>\n", "text/xml", "XML document"},
        {"i.txt", "no markup at all, only < and > signs\n", "text/plain", "ASCII text"},
        {"j.txt", pad + "<html>\n", "text/html", "HTML document"},     // starts at 508
        {"k.txt", pad + "xxxxx<html>\n", "text/plain", "ASCII text"},  // starts at 513
    };
    for (const auto& c : cases)
        check_type(*scanner, c);
}

TEST_CASE("names that contradict the content are flagged, text and binary", "[filetype]") {
    auto scanner = make_file_type_scanner();
    std::string jpeg("\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00", 20);
    jpeg += std::string(2000, '\x11');
    const unsigned char png_head[] = {0x89, 'P',  'N', 'G',  '\r', '\n', 0x1A, '\n', 0, 0,
                                      0,    0x0D, 'I', 'H',  'D',  'R',  0,    0,    0, 0x10,
                                      0,    0,    0,   0x10, 8,    2,    0,    0,    0};
    std::string png(reinterpret_cast<const char*>(png_head), sizeof png_head);
    png += std::string(200, '\0');
    std::string gif("GIF89a\x10\x00\x10\x00\x80\x00\x00", 13);
    gif += std::string(300, '\x01');
    std::string binary_pdf = "%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<<>>\nendobj\n";
    std::string ascii_pdf = "%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n";

    struct Named {
        const char* name;
        const std::string& content;
        const char* mime;
        bool mismatch;
    };
    const std::vector<Named> cases = {
        {"holiday.jpg", jpeg, "image/jpeg", false},
        {"holiday.JPEG", jpeg, "image/jpeg", false},
        {"minutes.txt", jpeg, "image/jpeg", true},
        {"icon.png", png, "image/png", false},
        {"icon.dll", png, "image/png", true},
        {"anim.gif", gif, "image/gif", false},
        {"anim.mp3", gif, "image/gif", true},
        {"paper.pdf", binary_pdf, "application/pdf", false},
        {"paper.doc", binary_pdf, "application/pdf", true},
        // A PDF that is all ASCII takes the text path and is still a PDF.
        {"plain.pdf", ascii_pdf, "application/pdf", false},
        {"plain.txt", ascii_pdf, "application/pdf", true},
    };
    for (const auto& c : cases) {
        INFO(c.name);
        Typed t = type_of(*scanner, c.name, c.content);
        CHECK(t.mime == c.mime);
        CHECK(t.mismatch == c.mismatch);
    }
}

TEST_CASE("empty and one-byte files get libmagic's plain answers", "[filetype]") {
    auto scanner = make_file_type_scanner();
    Typed empty = type_of(*scanner, "empty.jpg", "");
    CHECK(empty.mime == "application/x-empty");
    CHECK_FALSE(empty.mismatch);
    Typed one = type_of(*scanner, "one.png", "x");
    CHECK(one.mime == "application/octet-stream");
    CHECK_FALSE(one.mismatch);
}
