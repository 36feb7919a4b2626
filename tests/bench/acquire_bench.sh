#!/usr/bin/env bash
# acquire_bench.sh: time `exhibit acquire` against the read limit, the one-core MD5
# limit, dc3dd (raw) and ewfacquire (E01) on the same page-cached source.
#
# Usage: acquire_bench.sh [--size 2G] [--exhibit PATH] [--work DIR]
#                         [--compression none|fast|best] [--repeat N] [--keep]
# See tests/bench/README.md for what is measured and the targets.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: acquire_bench.sh [OPTIONS]

Times image acquisition of a pseudo-random (incompressible) source held in the page cache:
  cat (read limit), openssl md5 (one-core MD5 limit), md5sum, dd+fdatasync (write, info),
  dc3dd (raw, MD5+SHA-1+SHA-256), ewfacquire (E01, MD5+SHA-1+SHA-256),
  exhibit acquire raw / e01, each with --no-verify and with verification.

Options:
  --size SIZE          source size, e.g. 2G, 1536M, 1073741824 (default 2G; K/M/G/T are
                       binary units). Under 2G is allowed but not comparable with the targets.
  --exhibit PATH       exhibit binary (default: $EXHIBIT_BIN, else build/app/cli/exhibit
                       next to this checkout, else `exhibit` on PATH)
  --work DIR           parent directory for the scratch dir (default: ${TMPDIR:-/tmp});
                       needs free space for the source plus two images
  --compression C      E01 compression for ewfacquire and exhibit: none|fast|best (default none)
  --repeat N           run each timing N times and keep the best (default 1)
  --keep               keep the scratch dir (source, last images, logs) at the end
  -h, --help           show this help
EOF
}

die() { echo "acquire_bench: error: $*" >&2; exit 2; }
note() { echo "== $*" >&2; }
warn() { echo "acquire_bench: warning: $*" >&2; }

# ---------------------------------------------------------------- arguments
SIZE_ARG=2G
EXHIBIT_ARG=""
WORK_PARENT="${TMPDIR:-/tmp}"
COMPRESSION=none
REPEAT=1
KEEP=0

need_value() { [[ $# -ge 2 && -n "$2" ]] || die "$1 needs a value (see --help)"; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --size) need_value "$@"; SIZE_ARG=$2; shift 2 ;;
        --size=*) SIZE_ARG=${1#*=}; shift ;;
        --exhibit) need_value "$@"; EXHIBIT_ARG=$2; shift 2 ;;
        --exhibit=*) EXHIBIT_ARG=${1#*=}; shift ;;
        --work) need_value "$@"; WORK_PARENT=$2; shift 2 ;;
        --work=*) WORK_PARENT=${1#*=}; shift ;;
        --compression) need_value "$@"; COMPRESSION=$2; shift 2 ;;
        --compression=*) COMPRESSION=${1#*=}; shift ;;
        --repeat) need_value "$@"; REPEAT=$2; shift 2 ;;
        --repeat=*) REPEAT=${1#*=}; shift ;;
        --keep) KEEP=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument: $1" ;;
    esac
done

case "$COMPRESSION" in none|fast|best) ;; *) die "--compression must be none, fast or best" ;; esac
[[ "$REPEAT" =~ ^[1-9][0-9]*$ ]] || die "--repeat must be a positive integer"

# "2G", "1.5GiB", "512M", "1073741824" -> bytes (binary units), rounded down to 4 KiB.
to_bytes() {
    local s=$1
    [[ "$s" =~ ^([0-9]+([.][0-9]+)?)([KkMmGgTt]?)(i?B)?$ ]] || return 1
    local num=${BASH_REMATCH[1]} unit=${BASH_REMATCH[3]^^} mult=1
    case "$unit" in K) mult=1024 ;; M) mult=$((1024 ** 2)) ;; G) mult=$((1024 ** 3)) ;;
                    T) mult=$((1024 ** 4)) ;; esac
    awk -v n="$num" -v m="$mult" 'BEGIN { b = int(n * m / 4096) * 4096; printf "%.0f\n", b }'
}
SIZE=$(to_bytes "$SIZE_ARG") || die "cannot parse --size '$SIZE_ARG' (e.g. 2G, 1536M, 1073741824)"
(( SIZE >= 1024 * 1024 )) || die "--size must be at least 1 MiB"
if (( SIZE < 2 * 1024 ** 3 )); then
    warn "source is smaller than 2 GiB: fixed start-up costs weigh more; figures are not comparable with the targets"
fi

human() { awk -v b="$1" 'BEGIN { split("B KiB MiB GiB TiB", u); i = 1;
                                  while (b >= 1024 && i < 5) { b /= 1024; i++ }
                                  printf (i == 1 ? "%d %s" : "%.1f %s"), b, u[i] }'; }

# ---------------------------------------------------------------- tools
SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)
if [[ -n "$EXHIBIT_ARG" ]]; then
    EXHIBIT=$EXHIBIT_ARG
elif [[ -n "${EXHIBIT_BIN:-}" ]]; then
    EXHIBIT=$EXHIBIT_BIN
elif [[ -x "$REPO_ROOT/build/app/cli/exhibit" ]]; then
    EXHIBIT=$REPO_ROOT/build/app/cli/exhibit
elif command -v exhibit >/dev/null 2>&1; then
    EXHIBIT=$(command -v exhibit)
else
    die "no exhibit binary: build it (cmake --build build --target exhibit) or pass --exhibit PATH"
fi
[[ -x "$EXHIBIT" ]] || die "exhibit binary '$EXHIBIT' is not executable"
EXHIBIT=$(cd "$(dirname "$EXHIBIT")" && pwd)/$(basename "$EXHIBIT")

missing=()
for t in openssl dc3dd ewfacquire md5sum dd cat sync df awk; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
if command -v jq >/dev/null 2>&1; then JSON=jq
elif command -v python3 >/dev/null 2>&1; then JSON=python3
else missing+=("jq-or-python3"); fi
(( ${#missing[@]} == 0 )) ||
    die "missing tools: ${missing[*]} (Debian/Ubuntu: apt-get install dc3dd ewf-tools openssl jq)"
HAVE_TIME=0
[[ -x /usr/bin/time ]] && HAVE_TIME=1

json_get() {  # json_get FILE dotted.key
    if [[ $JSON == jq ]]; then
        jq -r ".$2 // empty" "$1"
    else
        python3 - "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."):
    d = d.get(k) if isinstance(d, dict) else None
print("" if d is None else (str(d).lower() if isinstance(d, bool) else d))
PY
    fi
}

# ---------------------------------------------------------------- space, memory, work dir
[[ -d "$WORK_PARENT" ]] || mkdir -p "$WORK_PARENT" || die "cannot create work parent $WORK_PARENT"
MARGIN=$((256 * 1024 * 1024))
NEED=$((3 * SIZE + MARGIN))   # source + two images (+ logs, E01 overhead)
AVAIL=$(df -PB1 "$WORK_PARENT" | awk 'NR == 2 { print $4 }')
if (( AVAIL < NEED )); then
    die "not enough free space in $WORK_PARENT: need $(human "$NEED") (a $(human "$SIZE") source plus two images plus $(human "$MARGIN") margin), only $(human "$AVAIL") free. Use --work DIR on a bigger file system or a smaller --size."
fi
FSTYPE=$(stat -f -c %T "$WORK_PARENT" 2>/dev/null || echo unknown)
[[ $FSTYPE == tmpfs || $FSTYPE == ramfs ]] &&
    warn "$WORK_PARENT is $FSTYPE: image writes go to RAM, not a disk; not representative"
MEM_AVAIL=$(awk '/^MemAvailable:/ { printf "%.0f\n", $2 * 1024 }' /proc/meminfo 2>/dev/null || echo 0)
if (( MEM_AVAIL > 0 && MEM_AVAIL < 2 * SIZE + MARGIN )); then
    warn "only $(human "$MEM_AVAIL") of memory available: the source will not stay in the page cache next to an image, so the runs measure the disk, not the tools"
fi

LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v l="${LOAD_START%% *}" 'BEGIN { exit !(l > 0.5) }'; then
    warn "load average is $LOAD_START before we start: other work on this machine will skew the timings"
fi

WORK=$(mktemp -d "$WORK_PARENT/exhibit-acquire-bench.XXXXXX")
cleanup() {
    local rc=$?
    if (( KEEP )); then
        note "kept work dir $WORK"
    else
        rm -rf -- "$WORK"
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

SRC=$WORK/source.bin
# Run a private copy of exhibit so a rebuild during the run cannot swap or remove it
# under us (it links only system libraries).
EXHIBIT_ORIG=$EXHIBIT
mkdir -p "$WORK/bin"
cp -- "$EXHIBIT" "$WORK/bin/exhibit"
EXHIBIT=$WORK/bin/exhibit
OUT=$WORK/out
LOGS=$WORK/logs
mkdir -p "$LOGS"
SEGMENT=$((SIZE + MARGIN))   # one segment for both E01 writers, so they do the same work

# ---------------------------------------------------------------- source
note "writing $(human "$SIZE") of AES-128-CTR keystream (incompressible, reproducible) to $SRC"
# openssl dies of SIGPIPE when head has enough; that is expected, hence the || true.
( openssl enc -aes-128-ctr -nosalt -K 45786869626974206163717569726521 \
      -iv 00000000000000000000000000000000 < /dev/zero 2>/dev/null || true ) |
    head -c "$SIZE" > "$SRC"
[[ $(stat -c %s "$SRC") == "$SIZE" ]] || die "source came out $(stat -c %s "$SRC") bytes, wanted $SIZE"
sync
note "warming the page cache"
cat "$SRC" > /dev/null

# ---------------------------------------------------------------- timing
declare -A SECS CPU FLUSH LABEL
ORDER=()

# timed ID "label" -- command...   Runs prep_ID (if defined) before every repetition,
# `sync`s, times the command, then times the `sync` that flushes what it left dirty.
timed() {
    local id=$1 label=$2; shift 3
    local best="" best_cpu="-" best_flush="" i
    for ((i = 1; i <= REPEAT; i++)); do
        if declare -F "prep_$id" >/dev/null; then "prep_$id"; fi
        sync
        local t0 t1 t2 cpu="-"
        t0=$(date +%s.%N)
        if (( HAVE_TIME )); then
            if ! /usr/bin/time -f '%U %S' -o "$LOGS/$id.time" "$@" \
                    > "$LOGS/$id.stdout" 2> "$LOGS/$id.stderr"; then
                echo "acquire_bench: '$label' failed; last lines of its output:" >&2
                tail -n 20 "$LOGS/$id.stderr" "$LOGS/$id.stdout" >&2
                exit 1
            fi
        else
            if ! "$@" > "$LOGS/$id.stdout" 2> "$LOGS/$id.stderr"; then
                echo "acquire_bench: '$label' failed; last lines of its output:" >&2
                tail -n 20 "$LOGS/$id.stderr" "$LOGS/$id.stdout" >&2
                exit 1
            fi
        fi
        t1=$(date +%s.%N)
        sync
        t2=$(date +%s.%N)
        local wall flush
        wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
        flush=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.3f", b - a }')
        if (( HAVE_TIME )); then
            cpu=$(awk -v w="$wall" 'NR == 1 { printf "%.0f", ($1 + $2) / w * 100 }' "$LOGS/$id.time")
        fi
        if [[ -z $best ]] || awk -v a="$wall" -v b="$best" 'BEGIN { exit !(a < b) }'; then
            best=$wall best_cpu=$cpu best_flush=$flush
        fi
        note "$(printf '%-38s run %d/%d: %7.2f s' "$label" "$i" "$REPEAT" "$wall")"
    done
    SECS[$id]=$best CPU[$id]=$best_cpu FLUSH[$id]=$best_flush LABEL[$id]=$label
    ORDER+=("$id")
}

fresh_out() { rm -rf -- "$OUT"; }
fresh_out_dir() { rm -rf -- "$OUT"; mkdir -p "$OUT"; }
prep_dd() { fresh_out_dir; }
prep_dc3dd() { fresh_out_dir; rm -f "$LOGS/dc3dd.log"; }
prep_ewf() { fresh_out_dir; }
prep_xraw_nv() { fresh_out; }
prep_xraw_v() { fresh_out; }
prep_xe01_nv() { fresh_out; }
prep_xe01_v() { fresh_out; }

META=(--case BENCH-1 --exhibit BENCH/1 --examiner acquire_bench)
note "timing (best of $REPEAT)"
# shellcheck disable=SC2016  # $1 is expanded by the inner shell
timed cat "cat > /dev/null (read limit)" -- sh -c 'exec cat "$1" > /dev/null' cat "$SRC"
timed md5 "openssl md5 (1-core MD5 limit)" -- openssl md5 "$SRC"
timed md5sum "md5sum (info)" -- md5sum "$SRC"
# The three hashes alone, MD5 on one process and SHA-1 then SHA-256 on another, as
# exhibit splits them: the floor for any tool that computes all three on this machine.
# shellcheck disable=SC2016
timed hash3 "md5 & sha1+sha256 in parallel (info)" -- bash -c \
    'openssl md5 "$1" > /dev/null & p=$!; openssl sha1 "$1" > /dev/null;
     openssl sha256 "$1" > /dev/null; wait "$p"' hash3 "$SRC"
timed dd "dd bs=4M conv=fdatasync (info)" -- \
    dd if="$SRC" of="$OUT/copy.dd" bs=4M conv=fdatasync
timed dc3dd "dc3dd raw md5+sha1+sha256" -- \
    dc3dd if="$SRC" of="$OUT/img.dd" hash=md5 hash=sha1 hash=sha256 log="$LOGS/dc3dd.log"
timed ewf "ewfacquire E01 -c $COMPRESSION" -- \
    ewfacquire -u -q -c "$COMPRESSION" -d sha1,sha256 -S "$SEGMENT" -f encase6 \
        -C BENCH-1 -E BENCH/1 -e acquire_bench -D "acquire_bench source" -N acquire_bench \
        -m fixed -M physical -t "$OUT/img" "$SRC"
timed xraw_nv "exhibit raw --no-verify" -- \
    "$EXHIBIT" acquire "$SRC" --out "$OUT" --format raw --no-verify --json "${META[@]}"
cp "$LOGS/xraw_nv.stdout" "$LOGS/xraw_nv.json"
RAW_IMG_SIZE=$(stat -c %s "$OUT/image.raw" 2>/dev/null || echo missing)
timed xraw_v "exhibit raw (verify)" -- \
    "$EXHIBIT" acquire "$SRC" --out "$OUT" --format raw --json "${META[@]}"
cp "$LOGS/xraw_v.stdout" "$LOGS/xraw_v.json"
timed xe01_nv "exhibit e01 -c $COMPRESSION --no-verify" -- \
    "$EXHIBIT" acquire "$SRC" --out "$OUT" --format e01 --compression "$COMPRESSION" \
        --segment-size "$SEGMENT" --no-verify --json "${META[@]}"
cp "$LOGS/xe01_nv.stdout" "$LOGS/xe01_nv.json"
timed xe01_v "exhibit e01 -c $COMPRESSION (verify)" -- \
    "$EXHIBIT" acquire "$SRC" --out "$OUT" --format e01 --compression "$COMPRESSION" \
        --segment-size "$SEGMENT" --json "${META[@]}"
cp "$LOGS/xe01_v.stdout" "$LOGS/xe01_v.json"
fresh_out

# One core's hash speeds, for context (about a second each).
speed() {
    openssl speed -evp "$1" -bytes 4194304 -seconds 1 2>/dev/null |
        awk 'END { v = $NF; sub(/k$/, "", v); printf "%.0f", v * 1000 / 1e6 }'
}
SPEED_MD5=$(speed md5 || echo "?")
SPEED_SHA1=$(speed sha1 || echo "?")
SPEED_SHA256=$(speed sha256 || echo "?")

# ---------------------------------------------------------------- report
f() { awk "BEGIN { $1 }"; }   # tiny float helper: f 'printf "%.2f", 1/3'
mbps() { f "printf \"%.0f\", $SIZE / 1e6 / ${SECS[$1]}"; }
LIMIT=$(f "a = ${SECS[cat]}; b = ${SECS[md5]}; printf \"%.3f\", (a > b ? a : b)")
LIMIT_ID=$(f "exit !(${SECS[cat]} >= ${SECS[md5]})" && echo cat || echo md5)

vs_peer() {  # vs_peer ID PEER_ID PEER_NAME
    local r; r=$(f "printf \"%.2f\", ${SECS[$2]} / ${SECS[$1]}")
    if f "exit !($r >= 1)"; then echo "${r}x faster than $3"; else
        echo "${r}x ($(f "printf \"%.2f\", ${SECS[$1]} / ${SECS[$2]}")x slower than $3)"; fi
}
over_limit() { f "printf \"%+.1f%% over the limit\", (${SECS[$1]} / $LIMIT - 1) * 100"; }
faster() {  # yes/no, flagged when the two are within 3% of each other (run-to-run noise)
    local v; v=$(f "exit !(${SECS[$1]} < ${SECS[$2]})" && echo yes || echo no)
    f "d = ${SECS[$1]} / ${SECS[$2]} - 1; exit !(d < 0.03 && d > -0.03)" && v="$v (a tie: within 3%)"
    echo "$v"
}
within10() { f "exit !(${SECS[$1]} <= $LIMIT * 1.10)" && echo yes || echo no; }

echo
echo "exhibit acquire benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "  host:    $(nproc) CPUs, $(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(uname -r)"
echo "  load:    $LOAD_START at start, $(cut -d' ' -f1-3 /proc/loadavg) at end (1/5/15 min)"
echo "  source:  $(human "$SIZE") ($SIZE bytes) pseudo-random, page-cached, on $FSTYPE ($WORK_PARENT)"
echo "  exhibit: $EXHIBIT_ORIG (copied at start; $(stat -c %y "$EXHIBIT_ORIG" 2>/dev/null | cut -d. -f1))"
echo "  tools:   $("$EXHIBIT" --version 2>/dev/null | head -1), $(dc3dd --version 2>&1 | head -1),"\
     "ewfacquire $(ewfacquire -V 2>/dev/null | head -1 | awk '{ print $NF }'), $(openssl version | awk '{ print $1, $2 }')"
echo "  E01:     compression $COMPRESSION, one segment (-S/--segment-size $SEGMENT); best of $REPEAT run(s)"
echo "  openssl speed, one core, 4 MiB blocks: MD5 $SPEED_MD5 MB/s, SHA-1 $SPEED_SHA1 MB/s, SHA-256 $SPEED_SHA256 MB/s"
# How many cores the machine really gives two busy processes: serial hash time over the
# parallel run's time (2.0 = two real cores; about 1.0 = the vCPUs share one core).
if [[ $SPEED_SHA1 =~ ^[0-9]+$ && $SPEED_SHA256 =~ ^[0-9]+$ && $SPEED_SHA1 -gt 0 && $SPEED_SHA256 -gt 0 ]]; then
    PAR=$(f "s = ${SECS[md5]} + $SIZE / 1e6 / $SPEED_SHA1 + $SIZE / 1e6 / $SPEED_SHA256;
             printf \"%.2f\", s / ${SECS[hash3]}")
    echo "  parallelism: md5 & sha1+sha256 side by side: ${PAR}x the speed of one after another (2 real cores: ~2)"
fi
echo
printf '%-40s %8s %7s %5s %7s  %s\n' "tool" "seconds" "MB/s" "CPU%" "+sync" "comparison"
printf '%-40s %8s %7s %5s %7s  %s\n' "----" "-------" "----" "----" "-----" "----------"
for id in "${ORDER[@]}"; do
    cmp=""
    case $id in
        cat|md5) [[ $id == "$LIMIT_ID" ]] && cmp="<- limit (the slower of cat and openssl md5)" ;;
        xraw_nv) cmp="$(vs_peer xraw_nv dc3dd dc3dd); $(over_limit xraw_nv)" ;;
        xraw_v) cmp="$(vs_peer xraw_v dc3dd dc3dd)" ;;
        xe01_nv) cmp="$(vs_peer xe01_nv ewf ewfacquire); $(over_limit xe01_nv)" ;;
        xe01_v) cmp="$(vs_peer xe01_v ewf ewfacquire)" ;;
    esac
    printf '%-40s %8.2f %7s %5s %7.2f  %s\n' "${LABEL[$id]}" "${SECS[$id]}" "$(mbps "$id")" \
        "${CPU[$id]}" "${FLUSH[$id]}" "$cmp"
done
echo "(MB/s = 10^6 bytes/s; CPU% = (user+sys)/wall; +sync = seconds the sync right after took,"
echo " i.e. write-back the tool left behind; exhibit fdatasyncs its image itself)"

# ---------------------------------------------------------------- correctness
echo
FAIL=()
MD5_REF=$(awk '{ print $1 }' "$LOGS/md5sum.stdout")
MD5_OSSL=$(awk '{ print $NF }' "$LOGS/md5.stdout")
DC3_MD5=$(awk '/input results/ { f = 1 } f && /\(md5\)/ { print $1; exit }' "$LOGS/dc3dd.log")
DC3_SHA1=$(awk '/input results/ { f = 1 } f && /\(sha1\)/ { print $1; exit }' "$LOGS/dc3dd.log")
DC3_SHA256=$(awk '/input results/ { f = 1 } f && /\(sha256\)/ { print $1; exit }' "$LOGS/dc3dd.log")
EWF_MD5=$(awk -F'\t+' '/^MD5 hash calculated/ { print $NF }' "$LOGS/ewf.stdout")
[[ $MD5_OSSL == "$MD5_REF" ]] || FAIL+=("openssl md5 $MD5_OSSL != md5sum $MD5_REF")
[[ $DC3_MD5 == "$MD5_REF" ]] || FAIL+=("dc3dd md5 '$DC3_MD5' != md5sum $MD5_REF")
[[ $EWF_MD5 == "$MD5_REF" ]] || FAIL+=("ewfacquire md5 '$EWF_MD5' != md5sum $MD5_REF")
[[ $RAW_IMG_SIZE == "$SIZE" ]] || FAIL+=("exhibit raw image is $RAW_IMG_SIZE bytes, source $SIZE")
for id in xraw_nv xraw_v xe01_nv xe01_v; do
    j=$LOGS/$id.json
    m=$(json_get "$j" hashes.md5); s1=$(json_get "$j" hashes.sha1); s256=$(json_get "$j" hashes.sha256)
    [[ $m == "$MD5_REF" ]] || FAIL+=("${LABEL[$id]}: md5 '$m' != md5sum $MD5_REF")
    [[ $m == "$DC3_MD5" ]] || FAIL+=("${LABEL[$id]}: md5 '$m' != dc3dd $DC3_MD5")
    [[ $s1 == "$DC3_SHA1" ]] || FAIL+=("${LABEL[$id]}: sha1 '$s1' != dc3dd $DC3_SHA1")
    [[ $s256 == "$DC3_SHA256" ]] || FAIL+=("${LABEL[$id]}: sha256 '$s256' != dc3dd $DC3_SHA256")
    [[ $(json_get "$j" complete) == true ]] || FAIL+=("${LABEL[$id]}: record not complete")
    [[ $(json_get "$j" bytes) == "$SIZE" ]] || FAIL+=("${LABEL[$id]}: bytes != $SIZE")
    if [[ $id == *_v ]]; then
        [[ $(json_get "$j" verified) == true ]] || FAIL+=("${LABEL[$id]}: not verified")
    fi
done
if (( ${#FAIL[@]} == 0 )); then
    echo "correctness: OK (md5 $MD5_REF: md5sum = openssl = dc3dd = ewfacquire = all 4 exhibit runs;"
    echo "             exhibit SHA-1/SHA-256 = dc3dd's; verify runs verified)"
else
    echo "correctness: FAILED"
    printf '  - %s\n' "${FAIL[@]}"
fi

# ---------------------------------------------------------------- verdicts
echo
echo "raw faster than dc3dd: $(faster xraw_nv dc3dd)  (no-verify, like for like: $(vs_peer xraw_nv dc3dd dc3dd); with verify: $(faster xraw_v dc3dd), $(vs_peer xraw_v dc3dd dc3dd))"
echo "e01 faster than ewfacquire: $(faster xe01_nv ewf)  (no-verify, like for like: $(vs_peer xe01_nv ewf ewfacquire); with verify: $(faster xe01_v ewf), $(vs_peer xe01_v ewf ewfacquire))"
W_RAW=$(within10 xraw_nv)
W_E01=$(within10 xe01_nv)
if [[ $COMPRESSION == none ]]; then
    W_ALL=$([[ $W_RAW == yes && $W_E01 == yes ]] && echo yes || echo no)
    echo "within 10% of limit: $W_ALL  (limit $LIMIT s = $LIMIT_ID; raw no-verify $(over_limit xraw_nv) [$W_RAW], e01 no-verify $(over_limit xe01_nv) [$W_E01])"
else
    echo "within 10% of limit: $W_RAW  (limit $LIMIT s = $LIMIT_ID; raw no-verify $(over_limit xraw_nv); e01 -c $COMPRESSION $(over_limit xe01_nv) [$W_E01], compression is not held to this target)"
fi

(( ${#FAIL[@]} == 0 )) || exit 1
