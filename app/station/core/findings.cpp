#include "exhibit/station/findings.hpp"

#include <algorithm>
#include <map>
#include <tuple>

#include "exhibit/station/estimate.hpp"

namespace exhibit::station {

std::string parent_folder(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

namespace {

int severity_rank(const std::string& s) {
    if (s == "known-bad" || s == "critical") return 0;
    if (s == "high") return 1;
    if (s == "watch" || s == "medium") return 2;
    return 3;
}

int kind_rank(const std::string& k) {
    if (k == "hashset") return 0;
    if (k == "verdict") return 0;
    if (k == "yara") return 1;
    if (k == "keyword") return 2;
    return 3;
}

}  // namespace

FindingsIndex index_findings(std::vector<FileRow> files, std::int64_t run_id,
                             std::vector<ScanNote> notes) {
    FindingsIndex idx;
    idx.run_id = run_id;
    idx.files = std::move(files);

    // Hits by (kind, severity, category or name), then verdicts and flags the walk records.
    std::map<std::tuple<int, int, std::string, std::string>, FindingGroup> hit_groups;
    FindingGroup known_bad{"Known-bad hash", "verdict", {}};
    FindingGroup watch{"Watch-list hash", "verdict", {}};
    FindingGroup mismatch{"Extension mismatch", "flag", {}};
    FindingGroup deleted{"Deleted files", "flag", {}};
    std::map<std::pair<std::string, std::uint64_t>, std::size_t> partition_of;

    for (std::size_t i = 0; i < idx.files.size(); ++i) {
        const FileRow& row = idx.files[i];
        const FileEntry& f = row.entry;
        for (const Hit& h : f.findings.hits) {
            std::string what = h.category.empty() ? h.name : h.category;
            std::string title = h.kind == "hashset"   ? "Hash set: " + what
                                : h.kind == "yara"    ? "YARA " + h.severity + ": " + what
                                : h.kind == "keyword" ? "Keyword: " + h.name
                                                      : h.kind + ": " + what;
            auto key = std::make_tuple(kind_rank(h.kind), severity_rank(h.severity), title, h.kind);
            auto& g = hit_groups[key];
            g.title = title;
            g.kind = h.kind;
            if (g.files.empty() || g.files.back() != i) g.files.push_back(i);
        }
        if (f.findings.hash_status == "known-bad") known_bad.files.push_back(i);
        if (f.findings.hash_status == "watch") watch.files.push_back(i);
        if (f.findings.extension_mismatch) mismatch.files.push_back(i);
        if (f.deleted()) {
            deleted.files.push_back(i);
            ++idx.deleted;
        }

        auto pkey = std::make_pair(row.file_system, row.fs_offset);
        auto [it, added] = partition_of.emplace(pkey, idx.partitions.size());
        if (added) {
            PartitionView p;
            p.file_system = row.file_system;
            p.offset = row.fs_offset;
            p.label = row.file_system + " at " + format_bytes(row.fs_offset);
            idx.partitions.push_back(std::move(p));
        }
        PartitionView& part = idx.partitions[it->second];
        ++part.file_count;
        part.children[parent_folder(f.path)].push_back(i);
    }

    // Scan notes name an evidence file by its path from the file-system root.
    FindingGroup not_scanned{"Not fully scanned", "scan-note", {}};
    if (!notes.empty()) {
        std::unordered_map<std::string, std::vector<std::size_t>> by_path;
        for (std::size_t i = 0; i < idx.files.size(); ++i)
            if (idx.files[i].entry.name_type != 'd' && idx.files[i].entry.stream.empty())
                by_path["/" + idx.files[i].entry.path].push_back(i);
        for (ScanNote& n : notes) {
            ScanNoteView v;
            if (n.kind != "rule-file")
                if (auto it = by_path.find(n.path); it != by_path.end()) v.files = it->second;
            for (std::size_t f : v.files)
                not_scanned.files.push_back(f);
            v.note = std::move(n);
            idx.scan_notes.push_back(std::move(v));
        }
        std::sort(not_scanned.files.begin(), not_scanned.files.end());
        not_scanned.files.erase(std::unique(not_scanned.files.begin(), not_scanned.files.end()),
                                not_scanned.files.end());
    }

    if (!known_bad.files.empty()) idx.groups.push_back(std::move(known_bad));
    for (auto& [key, g] : hit_groups)
        idx.groups.push_back(std::move(g));
    if (!watch.files.empty()) idx.groups.push_back(std::move(watch));
    if (!mismatch.files.empty()) idx.groups.push_back(std::move(mismatch));
    // Shown even when no listed file is named (a rule file left out): the examiner must
    // see that the scan was not complete.
    if (!idx.scan_notes.empty()) idx.groups.push_back(std::move(not_scanned));
    if (!deleted.files.empty()) idx.groups.push_back(std::move(deleted));

    idx.modified = build_timeline(idx.files, TimeField::Modified);
    idx.created = build_timeline(idx.files, TimeField::Created);

    std::sort(idx.partitions.begin(), idx.partitions.end(),
              [](const PartitionView& a, const PartitionView& b) { return a.offset < b.offset; });
    for (auto& part : idx.partitions) {
        for (auto& [folder, list] : part.children) {
            std::sort(list.begin(), list.end(), [&](std::size_t a, std::size_t b) {
                const FileEntry& fa = idx.files[a].entry;
                const FileEntry& fb = idx.files[b].entry;
                bool da = fa.name_type == 'd', db = fb.name_type == 'd';
                if (da != db) return da;
                return std::tie(fa.name, fa.stream, a) < std::tie(fb.name, fb.stream, b);
            });
        }
    }
    return idx;
}

std::vector<std::string> scan_notes_for(const FindingsIndex& index, std::size_t file) {
    std::vector<std::string> out;
    for (const ScanNoteView& v : index.scan_notes)
        if (std::find(v.files.begin(), v.files.end(), file) != v.files.end())
            out.push_back(v.note.message);
    return out;
}

Expected<FindingsIndex> load_findings(const std::filesystem::path& case_database,
                                      std::int64_t run_id, bool read_only) {
    auto db =
        read_only ? CaseDatabase::open_read_only(case_database) : CaseDatabase::open(case_database);
    if (!db) return db.error();
    if (run_id == 0) {
        auto runs = (*db)->runs();
        if (!runs) return runs.error();
        for (const auto& r : *runs)
            run_id = std::max(run_id, r.id);
        if (run_id == 0)
            return make_error(ErrorKind::NotFound,
                              "the case database " + case_database.string() + " has no triage run");
    }
    FileFilter filter;
    filter.run_id = run_id;
    auto files = (*db)->files(filter);
    if (!files) return files.error();
    // The file rows carry no hits: each file gets its own from the hits table.
    auto hits = (*db)->hits(run_id);
    if (!hits) return hits.error();
    std::unordered_map<std::int64_t, std::size_t> by_id;
    by_id.reserve(files->size());
    for (std::size_t i = 0; i < files->size(); ++i)
        by_id.emplace((*files)[i].id, i);
    std::vector<HitRow> outside;
    for (auto& h : *hits) {
        auto it = by_id.find(h.file_id);
        if (it != by_id.end())
            (*files)[it->second].entry.findings.hits.push_back(std::move(h.hit));
        else
            outside.push_back(std::move(h));
    }
    auto notes = (*db)->scan_notes(run_id);
    if (!notes) return notes.error();
    std::vector<ScanNote> run_notes;
    run_notes.reserve(notes->size());
    for (auto& n : *notes)
        run_notes.push_back(std::move(n.note));
    auto idx = index_findings(std::move(*files), run_id, std::move(run_notes));
    idx.hits_outside_files = std::move(outside);
    return idx;
}

}  // namespace exhibit::station
