// The shipped rule packs (rules/*.yar), table-style: one line per rule with a generator for
// a sample it must fire on and one it must not. Every shipped rule needs a line; no
// shipped rule may fire on any negative sample.
#include <catch2/catch.hpp>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "exhibit/file_walk.hpp"
#include "exhibit/rules.hpp"
#include "test_support.hpp"

using namespace exhibit;

namespace {

struct Sample {
    std::string name;  // file name (sets filename / extension)
    std::string bytes;
};
using Generator = std::function<Sample()>;

struct RuleCase {
    std::string rule;
    Generator positive;
    Generator negative;
};

std::string random_bytes(std::size_t n, std::uint32_t seed) {
    std::mt19937 gen(seed);
    std::string s(n, '\0');
    for (auto& c : s)
        c = static_cast<char>(gen() & 0xff);
    return s;
}

std::string put(std::string s, std::size_t at, const std::string& what) {
    if (s.size() < at + what.size()) s.resize(at + what.size(), '\0');
    s.replace(at, what.size(), what);
    return s;
}

std::string le16(unsigned v) {
    return {static_cast<char>(v & 0xff), static_cast<char>(v >> 8)};
}
std::string le32(std::uint32_t v) {
    return le16(v & 0xffff) + le16(v >> 16);
}
std::string boot_sector(const std::string& oem) {
    std::string s = put(std::string(512, '\0'), 0, std::string("\xeb\x58\x90", 3) + oem);
    return put(s, 510, "\x55\xaa");
}
const std::string kSqlite("SQLite format 3\0", 16);
std::string sqlite_with(const std::string& schema) {
    return put(put(std::string(4096, '\0'), 0, kSqlite), 200, schema);
}
std::string base64ish(std::size_t n, std::uint32_t seed) {
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::mt19937 gen(seed);
    std::string s;
    for (std::size_t i = 0; i < n; ++i) {
        s += alphabet[gen() % 64];
        if (i % 64 == 63) s += '\n';
    }
    return s;
}
std::string words(int n, std::uint32_t seed) {
    // Not the BIP39 list: any lowercase words of 3-8 letters look the same to the rule.
    const char* list[] = {"orbit", "candle", "tiger",  "window", "silver", "maple",  "river",
                          "frost", "garden", "pencil", "ocean",  "rocket", "velvet", "amber"};
    std::mt19937 gen(seed);
    std::string s;
    for (int i = 0; i < n; ++i)
        s += (i ? " " : "") + std::string(list[gen() % 14]);
    return s;
}
std::string onion_v3(std::uint32_t seed) {
    const char* b32 = "abcdefghijklmnopqrstuvwxyz234567";
    std::mt19937 gen(seed);
    std::string s;
    for (int i = 0; i < 56; ++i)
        s += b32[gen() % 32];
    return s + ".onion";
}

const std::vector<RuleCase>& cases() {
    static const std::vector<RuleCase> table = {
        // encrypted_containers.yar
        {"bitlocker_volume",
         [] {
             return Sample{"p1.raw", boot_sector("-FVE-FS-")};
         },
         [] {
             return Sample{"ntfs.raw", boot_sector("NTFS    ")};
         }},
        {"bitlocker_metadata_block",
         [] {
             return Sample{"fve.bin", put(random_bytes(65536, 1), 4096,
                                          "-FVE-FS-\x02" + std::string(1, '\0'))};
         },
         [] {
             return Sample{"fve.txt", "BitLocker volumes say -FVE-FS- where NTFS says NTFS.\n"};
         }},
        {"luks_header",
         [] {
             return Sample{"disk.img",
                           put(random_bytes(4096, 2), 0, std::string("LUKS\xba\xbe\x00\x02", 8))};
         },
         [] {
             return Sample{"luks.txt", "LUKS headers start with the word LUKS and two bytes.\n"};
         }},
        {"veracrypt_truecrypt_container_candidate",
         [] {
             return Sample{"vault.hc", random_bytes(299008, 3)};
         },
         [] {
             return Sample{"vault.hc", std::string(299008, '\0')};
         }},
        {"veracrypt_truecrypt_software",
         [] {
             return Sample{"Configuration.xml",
                           "<?xml version=\"1.0\" "
                           "encoding=\"utf-8\"?>\n<VeraCrypt>\n\t<configuration>\n\t\t<config "
                           "key=\"OpenExplorerWindowAfterMount\">0</config>\n\t</configuration>\n</"
                           "VeraCrypt>\n"};
         },
         [] {
             return Sample{"settings.xml",
                           "<?xml "
                           "version=\"1.0\"?>\n<Settings>\n<favorite-color>blue</"
                           "favorite-color>\n</Settings>\n"};
         }},
        {"filevault_corestorage",
         [] {
             return Sample{
                 "p2.raw",
                 put(put(put(std::string(512, '\0'), 8, le16(1)), 10, le16(0x10)), 88, "CS\x01")};
         },
         [] {
             return Sample{
                 "p2.raw",
                 put(put(put(std::string(512, '\0'), 8, le16(1)), 10, le16(0x10)), 88, "XS\x01")};
         }},
        {"filevault_encrypted_image",
         [] {
             return Sample{"secret.dmg", put(random_bytes(8192, 4), 0, "encrcdsa")};
         },
         [] {
             return Sample{"notes.txt", "Encrypted DMGs begin with encrcdsa, a magic string.\n"};
         }},
        // crypto_wallets.yar
        {"bitcoin_core_wallet_bdb",
         [] {
             return Sample{
                 "wallet.dat",
                 put(put(put(put(std::string(8192, '\0'), 12, le32(0x00053162)), 900, "\x04mkey"),
                         1200,
                         "\x0a"
                         "defaultkey"),
                     1500,
                     "\x09"
                     "bestblock")};
         },
         [] {
             return Sample{"users.db", put(put(std::string(8192, '\0'), 12, le32(0x00053162)), 900,
                                           "\x05users")};
         }},
        {"bitcoin_core_wallet_sqlite",
         [] {
             return Sample{"wallet.dat",
                           put(sqlite_with("CREATE TABLE main(key BLOB PRIMARY KEY, value BLOB)"),
                               2000, "\x10walletdescriptorkey")};
         },
         [] {
             return Sample{"kv.sqlite",
                           sqlite_with("CREATE TABLE main(key BLOB PRIMARY KEY, value BLOB)")};
         }},
        {"electrum_wallet",
         [] {
             return Sample{
                 "default_wallet",
                 "{\n    \"addr_history\": {},\n    \"keystore\": {\"type\": \"bip32\"},\n    "
                 "\"seed_version\": 18,\n    \"wallet_type\": \"standard\"\n}\n"};
         },
         [] {
             return Sample{"config.json",
                           "{\"seed\": 42, \"version\": \"1.0\", \"type\": \"standard\"}\n"};
         }},
        {"electrum_encrypted_wallet",
         [] {
             return Sample{"default_wallet", "QklFMQ" + base64ish(1024, 5)};
         },
         [] {
             return Sample{"notes.txt", "Encrypted Electrum wallets start with QklFMQ.\n"};
         }},
        {"bip39_seed_phrase",
         [] {
             return Sample{"backup.txt", "My wallet backup\nRecovery phrase:\n" + words(12, 6) +
                                             "\nkeep it safe\n"};
         },
         [] {
             return Sample{"garden.txt",
                           "The seed catalogue: Tomatoes, Beans, Peas.\nRecovery plan: call the "
                           "office at nine and ask for the keys.\n"};
         }},
        // private_keys.yar
        {"pgp_private_key",
         [] {
             return Sample{"secret.asc", "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n" +
                                             base64ish(300, 7) +
                                             "\n-----END PGP PRIVATE KEY BLOCK-----\n"};
         },
         [] {
             return Sample{"public.asc", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n" +
                                             base64ish(300, 7) +
                                             "\n-----END PGP PUBLIC KEY BLOCK-----\n"};
         }},
        {"openssh_private_key",
         [] {
             return Sample{
                 "id_ed25519",
                 "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ" +
                     base64ish(200, 8) + "\n-----END OPENSSH PRIVATE KEY-----\n"};
         },
         [] {
             return Sample{"id_ed25519.pub",
                           "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHc0bWFya2V0cGxhY2U user@host\n"};
         }},
        {"putty_private_key",
         [] {
             return Sample{"key.ppk",
                           "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: "
                           "demo\nPublic-Lines: 2\n" +
                               base64ish(80, 9) + "\nPrivate-Lines: 1\n" + base64ish(44, 10) +
                               "\nPrivate-MAC: 00\n"};
         },
         [] {
             return Sample{"key.pub", "---- BEGIN SSH2 PUBLIC KEY ----\nComment: demo\n" +
                                          base64ish(80, 9) + "\n---- END SSH2 PUBLIC KEY ----\n"};
         }},
        {"pem_private_key",
         [] {
             return Sample{"server.key", "-----BEGIN EC PRIVATE KEY-----\n" + base64ish(160, 11) +
                                             "\n-----END EC PRIVATE KEY-----\n"};
         },
         [] {
             return Sample{"server.crt", "-----BEGIN CERTIFICATE-----\n" + base64ish(600, 12) +
                                             "\n-----END CERTIFICATE-----\n"};
         }},
        // password_managers.yar
        {"keepass_database",
         [] {
             return Sample{"Passwords.kdbx",
                           put(random_bytes(4096, 13), 0, le32(0x9AA2D903) + le32(0xB54BFB67))};
         },
         [] {
             return Sample{"other.bin",
                           put(std::string(4096, '\0'), 0, le32(0x9AA2D903) + le32(0xB54BFB66))};
         }},
        {"onepassword_export",
         [] {
             return Sample{"export.1pux", put(put(put(std::string(2048, '\0'), 0, "PK\x03\x04"), 30,
                                                  "export.attributes"),
                                              600, "export.data")};
         },
         [] {
             return Sample{"report.docx", put(put(std::string(2048, '\0'), 0, "PK\x03\x04"), 30,
                                              "word/document.xml")};
         }},
        {"bitwarden_export",
         [] {
             return Sample{
                 "bitwarden_export.json",
                 "{\n  \"encrypted\": false,\n  \"folders\": [],\n  \"items\": [\n    {\"id\": "
                 "\"1\", \"organizationId\": null, \"type\": 1, \"name\": \"mail\",\n     "
                 "\"login\": {\"username\": \"a\", \"password\": \"b\"}}\n  ]\n}\n"};
         },
         [] {
             return Sample{
                 "todo.json",
                 "{\"folders\": [\"home\"], \"items\": [{\"id\": 1, \"title\": \"milk\"}]}\n"};
         }},
        // anonymity_tools.yar
        {"tor_browser_files",
         [] {
             return Sample{"prefs.js",
                           "user_pref(\"extensions.torlauncher.prompt_at_startup\", "
                           "false);\nuser_pref(\"browser.startup.homepage\", \"about:tor\");\n"};
         },
         [] {
             return Sample{"prefs.js",
                           "user_pref(\"browser.startup.homepage\", \"https://example.org\");\n"};
         }},
        {"torrc_config",
         [] {
             return Sample{"torrc",
                           "## Configuration file\nSocksPort 9050\nHiddenServiceDir "
                           "/var/lib/tor/hs/\nHiddenServicePort 80 127.0.0.1:8080\n"};
         },
         [] {
             return Sample{"nginx.conf", "server {\n    listen 80;\n    root /var/www;\n}\n"};
         }},
        {"onion_address",
         [] {
             return Sample{"links.txt", "mirror: http://" + onion_v3(14) + "/login\n"};
         },
         [] {
             return Sample{"links.txt",
                           "escrow via darkmarket.onion and http://example.org/onion\n"};
         }},
        // messaging_databases.yar
        {"whatsapp_msgstore",
         [] {
             return Sample{"msgstore.db",
                           sqlite_with("CREATE TABLE messages (_id INTEGER PRIMARY KEY "
                                       "AUTOINCREMENT, key_remote_jid TEXT NOT NULL, data TEXT)")};
         },
         [] {
             return Sample{"wa.db",
                           sqlite_with("CREATE TABLE contacts (jid TEXT, display_name TEXT)")};
         }},
        {"whatsapp_encrypted_backup",
         [] {
             return Sample{"msgstore-2024-05-01.1.db.crypt14", random_bytes(4096, 15)};
         },
         [] {
             return Sample{"msgstore.db.bak", std::string(4096, '\0')};
         }},
        {"signal_data",
         [] {
             return Sample{"signal-2024-05-01-12-00-00.backup", random_bytes(4096, 16)};
         },
         [] {
             return Sample{"signal-notes.txt", "signal strength was poor near the station\n"};
         }},
        {"telegram_data",
         [] {
             return Sample{"key_datas", put(random_bytes(1024, 17), 0, "TDF$")};
         },
         [] {
             return Sample{"readme.txt", "Telegram Desktop keeps TDF files in its tdata folder.\n"};
         }},
        {"sqlite_message_tables",
         [] {
             return Sample{
                 "mmssms.db",
                 sqlite_with(
                     "CREATE TABLE sms (_id INTEGER PRIMARY KEY, address TEXT, body TEXT)")};
         },
         [] {
             return Sample{
                 "places.sqlite",
                 sqlite_with("CREATE TABLE bookmarks (id INTEGER PRIMARY KEY, url TEXT)")};
         }},
        // remote_access.yar
        {"anydesk_traces",
         [] {
             return Sample{
                 "system.conf",
                 "ad.anynet.id=123456789\nad.anynet.pwd_hash=6f1ed002ab5595859014ebf0951522d9\n"};
         },
         [] {
             return Sample{"notes.txt", "anydesk is a remote desktop tool; uninstall it.\n"};
         }},
        {"teamviewer_traces",
         [] {
             return Sample{"tv.reg",
                           "Windows Registry Editor Version "
                           "5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\TeamViewer]\r\n\"ClientID\"="
                           "dword:4d2\r\n"};
         },
         [] {
             return Sample{"notes.txt", "install TeamViewer later for the support call\n"};
         }},
        {"ngrok_config",
         [] {
             return Sample{"ngrok.yml",
                           "version: \"2\"\nauthtoken: 2AbCdEfGhIjKlMnOpQrStUvWxYz_0123\n"};
         },
         [] {
             return Sample{"config.yml", "version: \"2\"\ntoken: none\n"};
         }},
    };
    return table;
}

std::filesystem::path shipped_rules() {
    return std::filesystem::path(EXHIBIT_SOURCE_DIR) / "rules";
}

std::shared_ptr<YaraLibrary> yara_library() {
    auto y = YaraLibrary::initialize();
    REQUIRE(y);
    return *y;
}

std::shared_ptr<const CompiledRules> compile(const RuleSetOptions& o) {
    auto rules = CompiledRules::build(yara_library(), o);
    if (!rules) FAIL(rules.error().message);
    return *rules;
}

// Runs the scanner the way a triage worker does: begin, chunks, finish.
std::vector<Hit> scan(const std::shared_ptr<const CompiledRules>& rules, const Sample& s,
                      YaraScanOptions options = {}, std::shared_ptr<YaraScanStats> stats = {},
                      std::size_t chunk = 1 << 20, const std::string& mime = "") {
    auto scanner = make_yara_scanner_factory(rules, options, stats)();
    FileEntry f;
    f.name = s.name;
    f.path = "Users/x/" + s.name;
    f.size = s.bytes.size();
    scanner->begin(f);
    for (std::size_t at = 0; at < s.bytes.size(); at += chunk) {
        auto* p = reinterpret_cast<const std::byte*>(s.bytes.data()) + at;
        scanner->update({p, std::min(chunk, s.bytes.size() - at)});
    }
    FileFindings findings;
    findings.mime_type = mime;
    scanner->finish(findings);
    return findings.hits;
}

std::set<std::string> names(const std::vector<Hit>& hits) {
    std::set<std::string> out;
    for (const auto& h : hits)
        out.insert(h.name);
    return out;
}

}  // namespace

TEST_CASE("every shipped rule fires on its positive sample and nothing fires on negatives",
          "[yara][rules]") {
    auto rules = compile({.packs = {shipped_rules()}, .keywords = {}, .cache_dir = {}});
    CHECK(rules->failed_files() == 0);

    std::set<std::string> shipped;
    for (const auto& r : rules->rule_names())
        shipped.insert(r);
    std::set<std::string> tabled;
    for (const auto& c : cases())
        tabled.insert(c.rule);
    CHECK(shipped == tabled);  // a rule without a table line (or a line without a rule)

    for (const auto& c : cases()) {
        INFO("rule " << c.rule);
        auto pos = scan(rules, c.positive());
        auto fired = names(pos);
        CHECK(fired.count(c.rule) == 1);
        for (const auto& h : pos) {
            if (h.name != c.rule) continue;
            CHECK(h.kind == "yara");
            auto d = nlohmann::json::parse(h.detail);
            CHECK(d["meta"]["author"] == "Exhibit project");
            CHECK(!d["meta"].value("description", "").empty());
            CHECK(d["meta"].value("reference", "").rfind("https://", 0) == 0);
            CHECK(std::set<std::string>{"low", "medium", "high"}.count(h.severity) == 1);
            CHECK_THAT(h.category, Catch::StartsWith("rules/"));
        }
        auto neg = scan(rules, c.negative());
        INFO("negative fired: " << nlohmann::json(names(neg)).dump());
        CHECK(neg.empty());
    }
}

TEST_CASE("matched strings are reported with identifier, offset and excerpt", "[yara][rules]") {
    auto rules = compile({.packs = {shipped_rules()}, .keywords = {}, .cache_dir = {}});
    std::string text = std::string(100, ' ') + "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n";
    auto hits = scan(rules, {"k.pem", text});
    REQUIRE(hits.size() == 1);
    auto d = nlohmann::json::parse(hits[0].detail);
    CHECK(d["rule"] == "pem_private_key");
    CHECK(d["namespace"] == "rules/private_keys.yar");
    REQUIRE(d["strings"].size() == 1);
    CHECK(d["strings"][0]["identifier"] == "$rsa");
    CHECK(d["strings"][0]["offset"] == 100);
    CHECK(d["strings"][0]["excerpt"] == "-----BEGIN RSA PRIVATE KEY-----");
}
