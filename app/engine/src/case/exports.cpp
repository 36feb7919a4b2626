#include "exhibit/exports.hpp"

#include <ctime>
#include <map>

namespace exhibit {

namespace {

std::string iso_utc(std::int64_t seconds) {
    if (seconds == 0) return "";
    std::time_t t = static_cast<std::time_t>(seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return text;
}

std::string csv_field(const std::string& text) {
    if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
    std::string quoted = "\"";
    for (char c : text) {
        if (c == '"') quoted += '"';
        quoted += c;
    }
    return quoted + "\"";
}

// XML 1.0 text: escape the five specials, and drop control characters XML cannot carry
// (file names on hostile media can hold anything).
std::string xml_text(const std::string& text) {
    std::string out;
    for (unsigned char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&apos;";
                break;
            default:
                if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
                    out += "\xEF\xBF\xBD";  // U+FFFD
                } else {
                    out += static_cast<char>(c);
                }
        }
    }
    return out;
}

// "r/rrwxr-xr-x", as TSK's bodyfile writes the mode.
std::string mode_string(const FileEntry& f) {
    std::string text = {f.name_type, '/', f.meta_type};
    const char* rwx = "rwxrwxrwx";
    for (int bit = 8; bit >= 0; --bit)
        text += (f.mode >> bit) & 1 ? rwx[8 - bit] : '-';
    return text;
}

}  // namespace

void write_csv(std::ostream& out, const std::vector<FileRow>& rows) {
    out << "run,file_system,fs_offset,path,meta_address,type,size,deleted,modified,accessed,"
           "changed,created,md5,sha1,sha256,mime_type,extension_mismatch\n";
    for (const auto& row : rows) {
        const FileEntry& f = row.entry;
        const Hashes& h = f.findings.hashes;
        out << row.run_id << ',' << row.file_system << ',' << row.fs_offset << ','
            << csv_field(f.path) << ',' << f.meta_address << ',' << f.name_type << '/'
            << f.meta_type << ',' << f.size << ',' << (f.deleted() ? 1 : 0) << ','
            << iso_utc(f.modified) << ',' << iso_utc(f.accessed) << ',' << iso_utc(f.changed) << ','
            << iso_utc(f.created) << ',' << h.md5 << ',' << h.sha1 << ',' << h.sha256 << ','
            << csv_field(f.findings.mime_type) << ',' << (f.findings.extension_mismatch ? 1 : 0)
            << '\n';
    }
}

void write_bodyfile(std::ostream& out, const std::vector<FileRow>& rows) {
    // MD5|name|inode|mode|UID|GID|size|atime|mtime|ctime|crtime
    for (const auto& row : rows) {
        const FileEntry& f = row.entry;
        const std::string& md5 = f.findings.hashes.md5;
        out << (md5.empty() ? "0" : md5) << "|/" << f.path << (f.deleted() ? " (deleted)" : "")
            << '|' << f.meta_address << '|' << mode_string(f) << '|' << f.uid << '|' << f.gid << '|'
            << f.size << '|' << f.accessed << '|' << f.modified << '|' << f.changed << '|'
            << f.created << '\n';
    }
}

void write_dfxml(std::ostream& out, const std::vector<FileRow>& rows) {
    out << "<?xml version='1.0' encoding='UTF-8'?>\n"
           "<dfxml xmlns='http://www.forensicswiki.org/wiki/Category:Digital_Forensics_XML' "
           "xmlns:dc='http://purl.org/dc/elements/1.1/' version='1.0'>\n"
           "  <creator>\n    <program>exhibit</program>\n    <version>0.1.0</version>\n"
           "  </creator>\n";
    // One <volume> per file system, in the order rows name them.
    std::map<std::pair<std::int64_t, std::uint64_t>, std::vector<const FileRow*>> volumes;
    std::vector<std::pair<std::int64_t, std::uint64_t>> order;
    for (const auto& row : rows) {
        auto key = std::make_pair(row.run_id, row.fs_offset);
        if (!volumes.count(key)) order.push_back(key);
        volumes[key].push_back(&row);
    }
    int partition = 0;
    for (const auto& key : order) {
        const auto& files = volumes[key];
        ++partition;
        out << "  <volume offset='" << key.second << "'>\n"
            << "    <ftype_str>" << xml_text(files.front()->file_system) << "</ftype_str>\n";
        for (const FileRow* row : files) {
            const FileEntry& f = row->entry;
            out << "    <fileobject>\n"
                << "      <filename>" << xml_text(f.path) << "</filename>\n"
                << "      <partition>" << partition << "</partition>\n"
                << "      <id>" << row->id << "</id>\n"
                << "      <name_type>" << f.name_type << "</name_type>\n"
                << "      <filesize>" << f.size << "</filesize>\n"
                << "      <alloc_inode>" << (f.meta_allocated ? 1 : 0) << "</alloc_inode>\n"
                << "      <alloc_name>" << (f.name_allocated ? 1 : 0) << "</alloc_name>\n"
                << "      <unalloc>" << (f.deleted() ? 1 : 0) << "</unalloc>\n"
                << "      <inode>" << f.meta_address << "</inode>\n"
                << "      <meta_type>" << f.meta_type << "</meta_type>\n"
                << "      <mode>" << f.mode << "</mode>\n"
                << "      <uid>" << f.uid << "</uid>\n"
                << "      <gid>" << f.gid << "</gid>\n";
            for (auto [tag, t] : {std::pair{"mtime", f.modified}, std::pair{"ctime", f.changed},
                                  std::pair{"atime", f.accessed}, std::pair{"crtime", f.created}}) {
                if (t) out << "      <" << tag << ">" << iso_utc(t) << "</" << tag << ">\n";
            }
            if (!f.findings.mime_type.empty()) {
                out << "      <libmagic>" << xml_text(f.findings.mime_type) << "</libmagic>\n";
            }
            const Hashes& h = f.findings.hashes;
            if (f.content_read) {
                out << "      <hashdigest type='md5'>" << h.md5 << "</hashdigest>\n"
                    << "      <hashdigest type='sha1'>" << h.sha1 << "</hashdigest>\n"
                    << "      <hashdigest type='sha256'>" << h.sha256 << "</hashdigest>\n";
            }
            out << "    </fileobject>\n";
        }
        out << "  </volume>\n";
    }
    out << "</dfxml>\n";
}

}  // namespace exhibit
