#include "hashset_commands.hpp"

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "exit_codes.hpp"
#include "terminal.hpp"

namespace exhibit::cli {

namespace fs = std::filesystem;

namespace {

fs::path store_path(const std::string& option) {
    return option.empty() ? HashSetStore::default_path() : fs::path(option);
}

std::string counts_text(const HashSetCounts& c) {
    return std::to_string(c.imported) + " (md5 " + std::to_string(c.md5) + ", sha1 " +
           std::to_string(c.sha1) + ", sha256 " + std::to_string(c.sha256) + ")";
}

std::string malformed_text(const HashSetCounts& c) {
    std::string text = std::to_string(c.malformed);
    if (!c.first_malformed.empty()) {
        text += " (first: ";
        for (std::size_t i = 0; i < c.first_malformed.size(); ++i)
            text += (i ? ", " : "") + c.first_malformed[i];
        text += c.malformed > c.first_malformed.size() ? ", ...)" : ")";
    }
    return text;
}

}  // namespace

void HashSetCommands::add_to(CLI::App& app) {
    hashset_ = app.add_subcommand("hashset",
                                  "Hash sets: import known-good, known-bad and watch "
                                  "lists; list what the store holds");
    hashset_->require_subcommand(1);

    import_ = hashset_->add_subcommand(
        "import",
        "Import hash lists, *sum output, hashdeep CSV, NSRL RDS v3 or VICS JSON as a set");
    import_->add_option("FILE", files_, "Source files, read in this order")->required();
    import_->add_option("--name", name_, "Name of the new set (letters, digits, . _ -)")
        ->required();
    import_->add_option("--kind", kind_, "known-good (ignore), known-bad (alert) or watch")
        ->required()
        ->check(CLI::IsMember({"known-good", "known-bad", "watch"}));
    import_->add_option("--format", format_, "Source format; auto decides per file")
        ->check(CLI::IsMember({"auto", "list", "hashdeep", "nsrl", "vics"}))
        ->capture_default_str();
    import_->add_option("--category", category_,
                        "Category for entries whose source gives none, e.g. malware");
    import_->add_option("--store", import_store_,
                        "Hash-set store (default $EXHIBIT_HOME/hashsets, EXHIBIT_HOME defaulting "
                        "to ~/.local/share/exhibit)");
    import_->add_flag("--json", import_json_, "Print the new set's description as JSON");

    list_ = hashset_->add_subcommand("list", "List the sets in the hash-set store");
    list_->add_option("--store", list_store_, "Hash-set store (default $EXHIBIT_HOME/hashsets)");
    list_->add_flag("--json", list_json_, "Print as JSON (one array)");

    lookup_ = hashset_->add_subcommand(
        "lookup", "Look hashes up in the store's sets: one line per hash with its verdict");
    lookup_->add_option("HASH", lookup_hashes_, "MD5, SHA-1 or SHA-256 digests (hex)");
    lookup_->add_option("--from", lookup_from_,
                        "Also read hashes from FILE, one per line (- for "
                        "standard input)");
    lookup_->add_option("--hashsets", lookup_sets_, "Sets to consult, NAME[,NAME...] or all")
        ->delimiter(',')
        ->capture_default_str();
    lookup_->add_option("--store", lookup_store_,
                        "Hash-set store (default $EXHIBIT_HOME/hashsets)");
    lookup_->add_flag("--count", lookup_count_,
                      "Print only how many hashes got each verdict, not one line per hash");
}

bool HashSetCommands::selected() const {
    return hashset_ && *hashset_;
}

int HashSetCommands::run() {
    if (*import_) return run_import();
    if (*lookup_) return run_lookup();
    return run_list();
}

int HashSetCommands::run_import() {
    HashSetStore store(store_path(import_store_));
    HashSetImport request;
    for (const auto& f : files_) {
        std::error_code ec;
        if (!fs::is_regular_file(f, ec) || !std::ifstream(f))
            return report(make_error(ErrorKind::NotFound, "cannot read hash-set source " + f +
                                                              " (missing, unreadable or not a "
                                                              "regular file)"),
                          kSource);
        request.files.emplace_back(f);
    }
    request.name = name_;
    request.kind = *parse_hash_set_kind(kind_);
    request.format = *parse_hash_set_format(format_);
    request.category = category_;
    std::error_code ec;
    if (!name_.empty() && fs::exists(store.path() / name_, ec))
        return report(make_error(ErrorKind::InvalidArgument, "a hash set named '" + name_ +
                                                                 "' already exists in " +
                                                                 store.path().string()),
                      kOutput);
    auto info = store.import(request);
    if (!info) {
        const Error& e = info.error();
        switch (e.kind) {
            case ErrorKind::InvalidArgument:
                return report(e, kUsage);
            case ErrorKind::Format:
            case ErrorKind::NotFound:
                return report(e, kSource);
            default:
                return report(e, kOutput);
        }
    }
    if (import_json_) {
        std::cout << hash_set_info_json(*info) << "\n";
        return kOk;
    }
    const HashSetCounts& c = info->counts;
    std::cout << "imported hash set '" << info->name << "' (" << to_string(info->kind) << ") into "
              << store.path().string() << "\n"
              << "  imported:   " << counts_text(c) << "\n"
              << "  duplicates: " << c.duplicates << "\n"
              << "  malformed:  " << malformed_text(c) << "\n";
    if (!info->categories.empty()) {
        std::cout << "  categories:";
        for (const auto& cat : info->categories)
            std::cout << ' ' << cat;
        std::cout << "\n";
    }
    std::cout << "  sha256:     " << info->sha256 << "\n";
    return kOk;
}

int HashSetCommands::run_list() {
    HashSetStore store(store_path(list_store_));
    auto sets = store.list();
    if (!sets) return report(sets.error(), kSource);
    if (list_json_) {
        nlohmann::json all = nlohmann::json::array();
        for (const auto& s : *sets)
            all.push_back(nlohmann::json::parse(hash_set_info_json(s)));
        std::cout << all.dump(2) << "\n";
        return kOk;
    }
    if (sets->empty()) {
        std::cout << "no hash sets in " << store.path().string() << "\n";
        return kOk;
    }
    for (const auto& s : *sets) {
        std::cout << s.name << "\t" << to_string(s.kind) << "\t" << s.counts.imported << " hashes\t"
                  << s.counts.duplicates << " duplicates\t" << s.counts.malformed << " malformed\t"
                  << s.imported_at << "\tsha256 " << s.sha256 << "\n";
    }
    return kOk;
}

// "<hash>\t<verdict>\t<set>[:<category>],..." per hash; "malformed" for text that is not a
// digest. Hashes are matched whatever their case and printed as given.
int HashSetCommands::run_lookup() {
    auto library = HashSetLibrary::open(store_path(lookup_store_), lookup_sets_);
    if (!library) return report(library.error(), kUsage);
    std::ifstream file;
    std::istream* in = nullptr;
    if (lookup_from_ == "-") {
        in = &std::cin;
    } else if (!lookup_from_.empty()) {
        file.open(lookup_from_);
        if (!file)
            return report(
                make_error(ErrorKind::NotFound, "cannot read hashes from " + lookup_from_),
                kSource);
        in = &file;
    }
    if (lookup_hashes_.empty() && !in)
        return report(make_error(ErrorKind::InvalidArgument,
                                 "no hashes to look up (give HASH... "
                                 "or --from FILE)"),
                      kUsage);
    std::map<std::string, std::uint64_t> counts;
    std::string out;
    auto one = [&](std::string text) {
        while (!text.empty() && (text.back() == '\r' || text.back() == ' '))
            text.pop_back();
        if (text.empty()) return;
        std::string hex = text;
        for (char& c : hex)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        Hashes hashes;
        if (hex.size() == 32) hashes.md5 = hex;
        if (hex.size() == 40) hashes.sha1 = hex;
        if (hex.size() == 64) hashes.sha256 = hex;
        bool digest = !(hashes.md5.empty() && hashes.sha1.empty() && hashes.sha256.empty()) &&
                      hex.find_first_not_of("0123456789abcdef") == std::string::npos;
        HashLookup found;
        if (digest) found = (*library)->lookup(hashes);
        const char* verdict = digest ? to_string(found.verdict) : "malformed";
        ++counts[verdict];
        if (lookup_count_) return;
        out += text;
        out += '\t';
        out += verdict;
        for (std::size_t i = 0; i < found.matches.size(); ++i) {
            const HashSetMatch& m = found.matches[i];
            out += i ? ',' : '\t';
            out += m.set->name;
            if (!m.category.empty()) out += ":" + m.category;
        }
        out += '\n';
        if (out.size() > (1u << 16)) {
            std::cout << out;
            out.clear();
        }
    };
    for (const auto& h : lookup_hashes_)
        one(h);
    if (in) {
        std::string line;
        while (std::getline(*in, line))
            one(line);
    }
    std::cout << out;
    if (lookup_count_) {
        for (const char* v : {"known-bad", "watch", "known-good", "unknown", "malformed"})
            std::cout << v << "\t" << counts[v] << "\n";
    }
    return kOk;
}

void TriageHashSets::add_options(CLI::App* triage) {
    triage
        ->add_option("--hashsets", names_,
                     "Hash sets to match, NAME[,NAME...] or all (default: none)")
        ->delimiter(',');
    triage->add_option("--hashset-store", store_,
                       "Hash-set store (default $EXHIBIT_HOME/hashsets)");
}

int TriageHashSets::prepare(WalkOptions& options) {
    if (names_.empty()) return kOk;
    auto library = HashSetLibrary::open(store_path(store_), names_);
    if (!library) return report(library.error(), kUsage);
    library_ = *library;
    // The hash scanner is first in the list; finish() runs in list order.
    options.scanners.push_back(hash_set_scanner(library_));
    return kOk;
}

void TriageHashSets::describe(nlohmann::json& scanners) const {
    if (!library_) return;
    std::string names;
    for (const auto& n : names_)
        names += (names.empty() ? "" : ", ") + n;
    scanners.push_back("hash sets: " + names);
}

void TriageHashSets::print_summary(const CaseDatabase& db, std::int64_t run_id,
                                   nlohmann::json* json) const {
    if (!library_) return;
    FileFilter filter;
    filter.run_id = run_id;
    auto rows = db.files(filter);
    std::map<std::string, std::uint64_t> counts = {
        {"known-bad", 0}, {"watch", 0}, {"known-good", 0}, {"unknown", 0}};
    if (!rows) {
        report(rows.error(), kOutput);
        return;
    }
    for (const auto& row : *rows) {
        const std::string& status = row.entry.findings.hash_status;
        if (!status.empty()) ++counts[status];
    }
    nlohmann::json sets = nlohmann::json::array();
    for (const HashSetInfo* s : library_->sets())
        sets.push_back({{"name", s->name}, {"kind", to_string(s->kind)}, {"sha256", s->sha256}});
    if (json) {
        (*json)["hash_sets"] = {{"sets", sets},
                                {"known-bad", counts["known-bad"]},
                                {"watch", counts["watch"]},
                                {"known-good", counts["known-good"]},
                                {"unknown", counts["unknown"]}};
        return;
    }
    std::cout << "hash sets:";
    for (const HashSetInfo* s : library_->sets())
        std::cout << ' ' << s->name << " (" << to_string(s->kind) << ", sha256 " << s->sha256
                  << ")";
    std::cout << "\nhash-set verdicts: " << counts["known-bad"] << " known-bad, " << counts["watch"]
              << " watch, " << counts["known-good"] << " known-good, " << counts["unknown"]
              << " unknown\n";
}

}  // namespace exhibit::cli
