#!/usr/bin/env bash
# triage_bench.sh [--small] [--disk-dir DIR] [--work DIR] [--exhibit PATH] [--repeat N] [--keep]
#
# Times `exhibit triage` (MD5, SHA-1, SHA-256 and the file type of every file, into a case
# database) against the tools an examiner would otherwise use on the same disk image, in
# one run, and prints ratios:
#   fiwalk -x -M -1 DISK               MD5 and SHA-1 of every file (DFXML to a file)
#   tsk_recover -e -o START DISK OUT   every file, allocated and deleted, copied out (one
#                                      run per partition), then
#   hashdeep -r -c md5,sha1,sha256 OUT the three hashes of the copies
# The disk comes from make_triage_disk.sh (cached in --disk-dir, default
# $TMPDIR/exhibit-triage-disk): ~1.8 GiB, MBR, FAT32 + ext4, 40,000 files.
# The page cache is WARM for every tool: the image is read once (cat) before each timed
# run, so each one reads it from memory (dropping the cache would disturb everything else
# on a shared machine, and favours nobody). Target: exhibit at least 2x faster than fiwalk.
set -Eeuo pipefail

PROG=triage_bench
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
note() { printf '== %s\n' "$*" >&2; }
die() {
    printf '%s: %s\n' "$PROG" "$*" >&2
    exit 1
}

SMALL=() DISK_DIR="" WORK_PARENT=${TMPDIR:-/tmp} EXHIBIT=${EXHIBIT_BIN:-} REPEAT=1 KEEP=0
while (($#)); do
    case $1 in
        --small) SMALL=(--small) ;;
        --disk-dir) DISK_DIR=$2; shift ;;
        --work) WORK_PARENT=$2; shift ;;
        --exhibit) EXHIBIT=$2; shift ;;
        --repeat) REPEAT=$2; shift ;;
        --keep) KEEP=1 ;;
        -h | --help) sed -n '2,13p' "$0"; exit 0 ;;
        *) die "unknown option '$1' (see --help)" ;;
    esac
    shift
done
[[ $REPEAT =~ ^[1-9][0-9]*$ ]] || die "--repeat takes a positive number"
if [[ -z $EXHIBIT ]]; then
    if [[ -x $REPO/build/app/cli/exhibit ]]; then EXHIBIT=$REPO/build/app/cli/exhibit
    else EXHIBIT=$(command -v exhibit || true); fi
fi
[[ -n $EXHIBIT && -x $EXHIBIT ]] || die "no exhibit binary (build it, or pass --exhibit PATH)"
missing=()
for t in fiwalk tsk_recover hashdeep python3 awk sort comm; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
((${#missing[@]} == 0)) ||
    die "missing tools: ${missing[*]} (Debian: apt-get install sleuthkit hashdeep python3)"
HAVE_TIME=0
[[ -x /usr/bin/time ]] && HAVE_TIME=1

# ---------------------------------------------------------------- disk and work dir
DISK_DIR=${DISK_DIR:-$WORK_PARENT/exhibit-triage-disk${SMALL:+-small}}
"$HERE/make_triage_disk.sh" "${SMALL[@]}" "$DISK_DIR"
DISK=$DISK_DIR/triage-disk.img
DISK_SIZE=$(stat -c %s "$DISK")
CONTENT=$(awk -F'\t' '{ s += $6 } END { print s }' "$DISK_DIR/triage-disk.tsv")
NEED=$((CONTENT + 512 * 1024 * 1024))   # tsk_recover's copies, the DFXML, the database
AVAIL=$(df -PB1 "$WORK_PARENT" | awk 'NR == 2 { print $4 }')
((AVAIL >= NEED)) || die "not enough free space in $WORK_PARENT: tsk_recover needs about $((NEED >> 20)) MiB, $((AVAIL >> 20)) MiB free; use --work DIR"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
awk -v l="${LOAD_START%% *}" 'BEGIN { exit !(l > 0.5) }' &&
    note "warning: load average is $LOAD_START before we start: other work will skew the timings"

WORK=$(mktemp -d "$WORK_PARENT/exhibit-triage-bench.XXXXXX")
cleanup() {
    local rc=$?
    if ((KEEP)); then note "kept work dir $WORK"; else rm -rf -- "$WORK"; fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$WORK/bin" "$WORK/logs"
cp -- "$EXHIBIT" "$WORK/bin/exhibit"   # a rebuild during the run cannot swap it
LOGS=$WORK/logs

# ---------------------------------------------------------------- timing
declare -A SECS CPU CPUSECS LABEL
ORDER=()
# timed ID LABEL -- command...: best of REPEAT, each after prep_ID, a sync and a warm cache.
timed() {
    local id=$1 label=$2 best="" best_cpu="-" best_cpus="-" i
    shift 3
    for ((i = 1; i <= REPEAT; i++)); do
        if declare -F "prep_$id" >/dev/null; then "prep_$id"; fi
        sync
        cat "$DISK" >/dev/null
        local t0 t1 wall cpu="-" cpus="-"
        t0=$(date +%s.%N)
        local -a timer=()
        ((HAVE_TIME)) && timer=(/usr/bin/time -f '%U %S' -o "$LOGS/$id.time")
        if ! "${timer[@]}" "$@" >"$LOGS/$id.stdout" 2>"$LOGS/$id.stderr"; then
            echo "$PROG: '$label' failed; last lines of its output:" >&2
            tail -n 20 "$LOGS/$id.stderr" >&2
            exit 1
        fi
        t1=$(date +%s.%N)
        wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
        if ((HAVE_TIME)); then
            cpu=$(awk -v w="$wall" 'NR == 1 { printf "%.0f", ($1 + $2) / w * 100 }' "$LOGS/$id.time")
            cpus=$(awk 'NR == 1 { printf "%.2f", $1 + $2 }' "$LOGS/$id.time")
        fi
        if [[ -z $best ]] || awk -v a="$wall" -v b="$best" 'BEGIN { exit !(a < b) }'; then
            best=$wall best_cpu=$cpu best_cpus=$cpus
        fi
        note "$(printf '%-44s run %d/%d: %7.2f s' "$label" "$i" "$REPEAT" "$wall")"
    done
    SECS[$id]=$best CPU[$id]=$best_cpu CPUSECS[$id]=$best_cpus LABEL[$id]=$label
    ORDER+=("$id")
}

prep_exhibit() { rm -f "$WORK"/case.sqlite*; }
prep_recover() { rm -rf "$WORK/recovered"; }
note "disk $DISK ($((DISK_SIZE >> 20)) MiB, $(awk -F'\t' '{ s += $5 } END { print s }' "$DISK_DIR/triage-disk.tsv") files); timing, best of $REPEAT"
timed exhibit "exhibit triage (md5+sha1+sha256+type)" -- \
    "$WORK/bin/exhibit" triage "$DISK" --case-db "$WORK/case.sqlite" --json
timed fiwalk "fiwalk -x -M -1 (md5+sha1)" -- \
    sh -c 'exec fiwalk -x -M -1 "$1" > "$2"' fiwalk "$DISK" "$WORK/fiwalk.xml"
# tsk_recover without -o stops at the first slot it cannot open, so one run per partition.
mapfile -t STARTS < <(cut -f3 "$DISK_DIR/triage-disk.tsv")
# shellcheck disable=SC2016  # expanded by the inner shell
timed recover "tsk_recover -e (per partition)" -- sh -c \
    'disk=$1 out=$2; shift 2; for s; do tsk_recover -e -o "$s" "$disk" "$out/p$s" || exit 1; done' \
    recover "$DISK" "$WORK/recovered" "${STARTS[@]}"
timed hashdeep "hashdeep -r -c md5,sha1,sha256" -- \
    sh -c 'exec hashdeep -r -c md5,sha1,sha256 "$1" > "$2"' hashdeep "$WORK/recovered" "$WORK/hashdeep.txt"
RECOVER_HASH=$(awk -v a="${SECS[recover]}" -v b="${SECS[hashdeep]}" 'BEGIN { printf "%.3f", a + b }')

# ---------------------------------------------------------------- what each found
python3 - "$WORK/case.sqlite" >"$LOGS/exhibit.md5" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
for (m,) in db.execute("SELECT md5 FROM files WHERE content_read AND md5 IS NOT NULL"):
    print(m)
PY
# fiwalk also hashes directories and FAT's virtual files; compare regular files.
python3 - "$WORK/fiwalk.xml" >"$LOGS/fiwalk.md5" <<'PY'
import re, sys
for obj in re.findall(r"<fileobject>(.*?)</fileobject>", open(sys.argv[1], errors="replace").read(), re.S):
    kind = re.search(r"<name_type>(\w)</name_type>", obj)
    md5 = re.search(r"<hashdigest type='md5'>([0-9a-f]+)<", obj)
    if kind and kind.group(1) == "r" and md5:
        print(md5.group(1))
PY
awk -F, 'NF >= 5 && $1 ~ /^[0-9]+$/ { print $2 }' "$WORK/hashdeep.txt" >"$LOGS/hashdeep.md5"
count() { wc -l <"$1" | tr -d ' '; }
N_EXHIBIT=$(count "$LOGS/exhibit.md5") N_FIWALK=$(count "$LOGS/fiwalk.md5") N_HASHDEEP=$(count "$LOGS/hashdeep.md5")
for t in exhibit fiwalk hashdeep; do sort -u "$LOGS/$t.md5" >"$LOGS/$t.md5.u"; done
FIWALK_ONLY=$(comm -13 "$LOGS/exhibit.md5.u" "$LOGS/fiwalk.md5.u" | wc -l)
HASHDEEP_ONLY=$(comm -13 "$LOGS/exhibit.md5.u" "$LOGS/hashdeep.md5.u" | wc -l)
STATUS=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["status"])' "$LOGS/exhibit.stdout")

# ---------------------------------------------------------------- report
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo
echo "exhibit triage benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "  host:   $(nproc) CPUs, $(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(uname -r)"
echo "  load:   $LOAD_START at start, $(cut -d' ' -f1-3 /proc/loadavg) at end (1/5/15 min)"
echo "  disk:   $DISK, $((DISK_SIZE >> 20)) MiB, $((CONTENT >> 20)) MiB in $(awk -F'\t' '{ s += $5 } END { print s }' "$DISK_DIR/triage-disk.tsv") files (make_triage_disk.sh${SMALL:+ --small})"
echo "  cache:  warm: the image is read (cat) before every timed run; best of $REPEAT"
echo "  tools:  $("$WORK/bin/exhibit" --version 2>/dev/null | head -1), fiwalk/TSK $(fiwalk -h 2>&1 | awk '/SleuthKit Version/ { print $3 }'), $(hashdeep -V 2>&1 | head -1 | sed 's/^/hashdeep /')"
echo
printf '%-40s %8s %8s %5s %7s  %s\n' "tool" "seconds" "CPU s" "CPU%" "files" "exhibit is"
printf '%-40s %8s %8s %5s %7s  %s\n' "----" "-------" "-----" "----" "-----" "----------"
for id in "${ORDER[@]}"; do
    n="" cmp=""
    case $id in
        exhibit) n=$N_EXHIBIT ;;
        fiwalk) n=$N_FIWALK cmp="$(ratio "${SECS[fiwalk]}" "${SECS[exhibit]}")x faster" ;;
        hashdeep) n=$N_HASHDEEP ;;
    esac
    printf '%-40s %8.2f %8s %5s %7s  %s\n' "${LABEL[$id]}" "${SECS[$id]}" "${CPUSECS[$id]}" \
        "${CPU[$id]}" "$n" "$cmp"
done
RH_CPU=$(awk -v a="${CPUSECS[recover]}" -v b="${CPUSECS[hashdeep]}" 'BEGIN { printf "%.2f", a + b }')
printf '%-40s %8.2f %8s %5s %7s  %s\n' "tsk_recover -e + hashdeep (sum)" "$RECOVER_HASH" "$RH_CPU" "" "" \
    "$(ratio "$RECOVER_HASH" "${SECS[exhibit]}")x faster"
echo "(files = regular files hashed; CPU s = user+sys seconds; CPU% = CPU s / wall, 200 = both"
echo " cores busy. On a loaded machine compare CPU s: wall time there measures the other work.)"
echo
FAIL=()
[[ $STATUS == completed ]] || FAIL+=("exhibit triage ended '$STATUS'")
((FIWALK_ONLY == 0)) || FAIL+=("$FIWALK_ONLY MD5s fiwalk reports are not among exhibit's")
if ((${#FAIL[@]} == 0)); then
    echo "correctness: OK (every MD5 fiwalk reports is among exhibit's; $HASHDEEP_ONLY of hashdeep's recovered-file MD5s are not, e.g. files tsk_recover writes out that exhibit does not read)"
else
    echo "correctness: FAILED"
    printf '  - %s\n' "${FAIL[@]}"
fi
TWICE=$(awk -v f="${SECS[fiwalk]}" -v e="${SECS[exhibit]}" 'BEGIN { print (f >= 2 * e) ? "yes" : "no" }')
echo "at least 2x faster than fiwalk: $TWICE ($(ratio "${SECS[fiwalk]}" "${SECS[exhibit]}")x, with three hashes and the file type against two hashes)"
((${#FAIL[@]} == 0)) || exit 1
