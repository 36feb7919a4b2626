#!/usr/bin/env bash
# hashset_bench.sh: import a 10-million-line hash list into the hash-set store and look
# up a million hashes (half of them present), against peers measured in the same run:
# `sort -u` (making a sorted, de-duplicated list), `sort` + `join` (set membership with
# coreutils), SQLite with a primary key (row-by-row SQL), and `grep -F -f` on a subset.
#
# Usage: hashset_bench.sh [--lines N] [--queries N] [--exhibit PATH] [--work DIR] [--keep]
# See tests/bench/README.md for what is measured.
set -euo pipefail

LINES=10000000
QUERIES=1000000
EXHIBIT_ARG=""
WORK_PARENT="${TMPDIR:-/tmp}"
KEEP=0
die() { echo "hashset_bench: error: $*" >&2; exit 2; }
note() { echo "== $*" >&2; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --lines) LINES=${2:?}; shift 2 ;;
        --queries) QUERIES=${2:?}; shift 2 ;;
        --exhibit) EXHIBIT_ARG=${2:?}; shift 2 ;;
        --work) WORK_PARENT=${2:?}; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done

here=$(cd "$(dirname "$0")" && pwd)
if [[ -n $EXHIBIT_ARG ]]; then EXHIBIT=$EXHIBIT_ARG
elif [[ -n ${EXHIBIT_BIN:-} ]]; then EXHIBIT=$EXHIBIT_BIN
elif [[ -x $here/../../build/app/cli/exhibit ]]; then EXHIBIT=$here/../../build/app/cli/exhibit
else EXHIBIT=$(command -v exhibit) || die "no exhibit binary (build it or pass --exhibit)"; fi
for tool in python3 sort join /usr/bin/time; do
    command -v "$tool" >/dev/null || die "$tool is missing (scripts/install-deps)"
done
HAVE_SQLITE=0
command -v sqlite3 >/dev/null && HAVE_SQLITE=1

WORK=$(mktemp -d "$WORK_PARENT/hashset_bench.XXXXXX")
cleanup() { if ((KEEP)); then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi; }
trap cleanup EXIT
cp "$EXHIBIT" "$WORK/exhibit"
EXHIBIT=$WORK/exhibit
export LC_ALL=C

# ------------------------------------------------------------------------ data
# LINES SHA-256-length random digests (fixed seed), of which 0.1% repeat an earlier line
# and 0.01% are malformed; QUERIES queries, half drawn from the list, half new, shuffled.
note "generating $LINES list lines and $QUERIES queries"
python3 - "$WORK" "$LINES" "$QUERIES" <<'EOF'
import random, sys
work, lines, queries = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(20261122)
dups, bad = lines // 1000, lines // 10000
unique = lines - dups - bad
hashes = []
for start in range(0, unique, 100000):
    n = min(100000, unique - start)
    blob = rng.randbytes(32 * n).hex()
    hashes.extend(blob[i * 64:(i + 1) * 64] for i in range(n))
out = hashes + [hashes[rng.randrange(unique)] for _ in range(dups)] + \
      ["not-a-hash-%d" % i for i in range(bad)]
rng.shuffle(out)
with open(work + "/list.txt", "w") as f:
    f.write("\n".join(out))
    f.write("\n")
half = queries // 2
q = rng.sample(hashes, half) + [rng.randbytes(32).hex() for _ in range(queries - half)]
rng.shuffle(q)
with open(work + "/queries.txt", "w") as f:
    f.write("\n".join(q))
    f.write("\n")
with open(work + "/expect.txt", "w") as f:
    f.write("%d %d %d %d\n" % (unique, dups, bad, half))
EOF
read -r UNIQUE DUPS BAD PRESENT <"$WORK/expect.txt"
cat "$WORK/list.txt" "$WORK/queries.txt" >/dev/null  # into the page cache for everyone

# timed NAME COMMAND...: wall seconds, peak RSS (KiB), user and system CPU seconds into
# $WORK/NAME.time; output to NAME.out
timed() {
    local name=$1
    shift
    sync
    /usr/bin/time -f "%e %M %U %S" -o "$WORK/$name.time" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" ||
        { cat "$WORK/$name.err" >&2; die "$name failed"; }
}
secs() { cut -d' ' -f1 "$WORK/$1.time"; }
mib() { echo $(($(cut -d' ' -f2 "$WORK/$1.time") / 1024)); }
cpu() { awk '{ printf "%.2f", $3 + $4 }' "$WORK/$1.time"; }

note "exhibit hashset import"
timed import "$EXHIBIT" hashset import "$WORK/list.txt" --name bench --kind known-bad \
    --store "$WORK/store" --json
python3 - "$WORK/import.out" "$UNIQUE" "$DUPS" "$BAD" <<'EOF' || die "import counts are wrong"
import json, sys
c = json.load(open(sys.argv[1]))["counts"]
want = tuple(int(x) for x in sys.argv[2:5])
got = (c["imported"], c["duplicates"], c["malformed"])
print("import counts: imported %d, duplicates %d, malformed %d" % got, file=sys.stderr)
sys.exit(0 if got == want else 1)
EOF
note "exhibit hashset lookup"
timed lookup "$EXHIBIT" hashset lookup --from "$WORK/queries.txt" --count --hashsets bench \
    --store "$WORK/store"
found=$(awk '$1 == "known-bad" { print $2 }' "$WORK/lookup.out")
[[ $found == "$PRESENT" ]] || die "exhibit found $found of $PRESENT present hashes"
note "exhibit hashset lookup, 1,000 hashes (start-up and open cost)"
head -n 1000 "$WORK/queries.txt" >"$WORK/q1k.txt"
timed lookup1k "$EXHIBIT" hashset lookup --from "$WORK/q1k.txt" --count --hashsets bench \
    --store "$WORK/store"

note "sort -u (a sorted, de-duplicated list: what the import builds)"
timed sort_list sort -u -S 1G -o "$WORK/sorted.txt" "$WORK/list.txt"
note "sort + join (membership of the queries in the sorted list)"
timed join sh -c "sort -u -S 256M '$WORK/queries.txt' | join - '$WORK/sorted.txt' | wc -l"
[[ $(tr -d ' ' <"$WORK/join.out") == "$PRESENT" ]] || die "join found $(cat "$WORK/join.out")"
note "grep -F -f with 1,000 of the queries over the list"
head -n 1000 "$WORK/queries.txt" >"$WORK/q1k-grep.txt"
timed grep sh -c "grep -c -F -f '$WORK/q1k-grep.txt' '$WORK/list.txt' || true"
if ((HAVE_SQLITE)); then
    note "sqlite3: import into a primary-keyed table, then join the queries"
    timed sqlite_import sqlite3 "$WORK/h.db" \
        "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" \
        "CREATE TABLE raw(x TEXT);" ".import '$WORK/list.txt' raw" \
        "CREATE TABLE h(x TEXT PRIMARY KEY) WITHOUT ROWID;" \
        "INSERT OR IGNORE INTO h SELECT lower(x) FROM raw WHERE length(x) = 64;" "DROP TABLE raw;"
    timed sqlite_lookup sqlite3 "$WORK/h.db" "CREATE TEMP TABLE q(x TEXT);" \
        ".import '$WORK/queries.txt' q" "SELECT count(*) FROM q JOIN h USING (x);"
    [[ $(cat "$WORK/sqlite_lookup.out") == "$PRESENT" ]] || die "sqlite found $(cat "$WORK/sqlite_lookup.out")"
fi

# ------------------------------------------------------------------------ report
ratio() { python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print('%.1fx' % (a / b) if b > 0 else '-')" "$1" "$2"; }
printf '\n%-50s %8s %8s %8s  %s\n' "step ($LINES lines, $QUERIES queries)" "wall s" "CPU s" \
    "peak MiB" "vs exhibit (wall, CPU)"
row() { printf '%-50s %8s %8s %8s  %s\n' "$1" "$(secs "$2")" "$(cpu "$2")" "$(mib "$2")" "${3:-}"; }
row "exhibit hashset import" import
row "  sort -u -S 1G (sorted list only)" sort_list "$(ratio "$(secs sort_list)" "$(secs import)"), $(ratio "$(cpu sort_list)" "$(cpu import)")"
if ((HAVE_SQLITE)); then
    row "  sqlite3 .import + PRIMARY KEY table" sqlite_import \
        "$(ratio "$(secs sqlite_import)" "$(secs import)"), $(ratio "$(cpu sqlite_import)" "$(cpu import)")"
fi
row "exhibit hashset lookup (all queries)" lookup
row "  sort queries + join with the sorted list" join "$(ratio "$(secs join)" "$(secs lookup)"), $(ratio "$(cpu join)" "$(cpu lookup)")"
if ((HAVE_SQLITE)); then
    row "  sqlite3 .import queries + JOIN on the key" sqlite_lookup \
        "$(ratio "$(secs sqlite_lookup)" "$(secs lookup)"), $(ratio "$(cpu sqlite_lookup)" "$(cpu lookup)")"
fi
row "exhibit hashset lookup (1,000 queries: start-up)" lookup1k
row "  grep -F -f, 1,000 queries only (info)" grep
echo "store: $(du -sh "$WORK/store/bench" | cut -f1) for $UNIQUE digests; list $(du -sh "$WORK/list.txt" | cut -f1)"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
