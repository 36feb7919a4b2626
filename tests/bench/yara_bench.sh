#!/usr/bin/env bash
# yara_bench.sh [--small] [SCRATCH_DIR]
#
# What YARA costs inside `exhibit triage`, and how that compares with the separate run an
# examiner would otherwise do. On the triage benchmark disk (tests/bench/make_triage_disk.sh
# when it is there; otherwise a smaller ext4 disk this script makes itself, and says so):
#
#   hash-only      exhibit triage DISK --case-db A                      (hashes + file type)
#   hash+yara      exhibit triage DISK --case-db B --rules builtin      (the shipped packs)
#   hash+yara+kw   ... --rules builtin --keywords (3 terms)             (info)
#   tsk_recover    tsk_recover -e of every file system into a folder    (the peer's extraction)
#   yara -r -p 2   yara -r -p 2 over the extracted files, the same packs (the peer's scan)
#
# Every command reads from the page cache (the disk is read once first); each exhibit row
# runs RUNS times (default 3, alternating) and the fastest run counts, since this machine
# is shared. Prints the times and the ratios the issue sets targets for: YARA adds < 30%
# to triage, and exhibit's triage with YARA beats the separate yara run.
set -Eeuo pipefail

PROG=yara_bench
say() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() {
    say "$*"
    exit 1
}

SMALL=()
if [[ ${1:-} == --small ]]; then
    SMALL=(--small)
    shift
fi
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SCRATCH=${1:-${TMPDIR:-/tmp}/exhibit-yara-bench}
RUNS=${RUNS:-3}
EXHIBIT_BIN=${EXHIBIT:-$ROOT/build/app/cli/exhibit}
[[ -x /usr/bin/time ]] || die "GNU time is missing (apt-get install time)"
[[ -x $EXHIBIT_BIN ]] || die "no exhibit program at $EXHIBIT_BIN (build it, or set EXHIBIT=path)"
for t in yara tsk_recover mmls python3 mkfs.ext4; do
    command -v "$t" >/dev/null 2>&1 || die "required tool '$t' is missing (scripts/install-deps)"
done
mkdir -p "$SCRATCH" || die "cannot create $SCRATCH"

# The disk.
DISK_DIR=$SCRATCH/disk
if [[ -x $HERE/make_triage_disk.sh ]]; then
    GENERATOR="tests/bench/make_triage_disk.sh ${SMALL[*]}"
    "$HERE/make_triage_disk.sh" "${SMALL[@]}" "$DISK_DIR" || die "make_triage_disk.sh failed"
    DISK=$DISK_DIR/triage-disk.img
else
    # Stand-in until the triage benchmark disk generator lands: one ext4 file system of
    # seeded files (small text, mid-size binaries, a few large ones), no partition table.
    GENERATOR="yara_bench.sh's own ext4 stand-in (make_triage_disk.sh not present)"
    say "tests/bench/make_triage_disk.sh is not here; making a stand-in ext4 disk"
    DISK=$DISK_DIR/standin.img
    FILES=${FILES:-6000}
    [[ ${#SMALL[@]} -gt 0 ]] && FILES=1500
    if [[ ! -f $DISK_DIR/standin.done || $(cat "$DISK_DIR/standin.done") != "files=$FILES" ]]; then
        rm -rf "$DISK_DIR" && mkdir -p "$DISK_DIR/tree"
        python3 - "$DISK_DIR/tree" "$FILES" >/dev/null <<'PY' || die "generating the stand-in files failed"
import os, random, sys
root, count = sys.argv[1], int(sys.argv[2])
rng = random.Random(20241122)
words = ("report meeting invoice project budget travel notes summary client order "
         "schedule contract photo draft final review office market quarter team").split()
users = ["alice", "bob", "carol", "dave", "erin", "frank"]
total = 0
for i in range(count):
    user = users[i % len(users)]
    folder = os.path.join(root, "home", user, rng.choice(["Documents", "Downloads", "Pictures",
                                                          "Desktop", "projects/a", "projects/b/c"]))
    os.makedirs(folder, exist_ok=True)
    r = rng.random()
    if r < 0.70:
        n = rng.randint(300, 40 * 1024)
        text = []
        size = 0
        while size < n:
            line = " ".join(rng.choice(words) for _ in range(rng.randint(5, 14))) + "\n"
            text.append(line)
            size += len(line)
        data = "".join(text).encode()[:n]
        name = "%s_%05d.txt" % (rng.choice(words), i)
    elif r < 0.97:
        data = rng.randbytes(rng.randint(40 * 1024, 400 * 1024))
        name = "IMG_%05d.jpg" % i
    else:
        data = rng.randbytes(rng.randint(2 << 20, 12 << 20))
        name = "archive_%05d.bin" % i
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)
    total += len(data)
print(total)
PY
        bytes=$(du -sb "$DISK_DIR/tree" | cut -f1)
        mb=$((bytes * 13 / 10 / 1048576 + 64))
        mkfs.ext4 -q -F -b 4096 -d "$DISK_DIR/tree" "$DISK" "${mb}M" >/dev/null ||
            die "mkfs.ext4 -d failed"
        rm -rf "$DISK_DIR/tree"
        echo "files=$FILES" >"$DISK_DIR/standin.done"
    fi
fi
[[ -f $DISK ]] || die "no disk image at $DISK"

# exhibit and the shipped packs beside it, so `--rules builtin` finds them and a rebuild
# during the run changes nothing.
BIN=$SCRATCH/bin
rm -rf "$BIN" && mkdir -p "$BIN"
cp "$EXHIBIT_BIN" "$BIN/exhibit"
mkdir -p "$BIN/rules" && cp "$ROOT"/rules/*.yar "$BIN/rules/"
export EXHIBIT_HOME=$SCRATCH/home
rm -rf "$EXHIBIT_HOME"
KW=$SCRATCH/keywords.txt
printf 'operation bluebird\n4929-1234-5678-9012\n/darkmarket[a-z0-9]*\\.onion/\n' >"$KW"

cat "$DISK" >/dev/null
# timed OUT COMMAND...: runs it with stdout to OUT and stderr to $SCRATCH/stderr.txt,
# echoes "WALL CPU" (seconds; CPU = user + sys of it and its threads). On a shared
# machine CPU seconds are the steadier figure.
timed() {
    local out=$1
    shift
    /usr/bin/time -f '%e %U %S' -o "$SCRATCH/time.txt" "$@" >"$out" 2>"$SCRATCH/stderr.txt" || return 1
    awk '{printf "%.2f %.2f\n", $1, $2 + $3}' "$SCRATCH/time.txt"
}
# Runs exhibit triage with extra args; echoes "WALL CPU".
triage_once() {
    local db=$SCRATCH/case.sqlite
    rm -f "$db" "$db"-wal "$db"-shm
    timed "$SCRATCH/last.json" "$BIN/exhibit" triage "$DISK" --case-db "$db" --json "$@" ||
        die "exhibit triage $* failed: $(tail -3 "$SCRATCH/stderr.txt")"
}
# fastest "WALL CPU" pair of several (by wall), and the smallest CPU, as "WALL CPU".
best() { printf '%s\n' "$@" | awk 'NR == 1 || $1 < w {w = $1} NR == 1 || $2 < c {c = $2} END {printf "%.2f %.2f\n", w, c}'; }
wall() { echo "${1% *}"; }
cpu() { echo "${1#* }"; }

say "disk: $DISK ($(du -h "$DISK" | cut -f1)), generator: $GENERATOR"
triage_once --rules builtin >/dev/null  # warms the rule cache and the page cache
FILES_READ=$(python3 -c "import json;print(json.load(open('$SCRATCH/last.json'))['files_hashed'])")
BYTES_READ=$(python3 -c "import json;print(json.load(open('$SCRATCH/last.json'))['bytes_read'])")
YARA_HITS=$(python3 -c "import json;print(json.load(open('$SCRATCH/last.json'))['hits'].get('yara',0))")
hash_runs=() yara_runs=() kw_runs=()
for ((i = 0; i < RUNS; ++i)); do
    hash_runs+=("$(triage_once)")
    yara_runs+=("$(triage_once --rules builtin)")
    kw_runs+=("$(triage_once --rules builtin --keywords "$KW")")
done
T_HASH=$(best "${hash_runs[@]}")
T_YARA=$(best "${yara_runs[@]}")
T_KW=$(best "${kw_runs[@]}")

# The peer: extract every file system with tsk_recover, then yara -r -p 2.
OUT=$SCRATCH/recovered
rm -rf "$OUT" && mkdir -p "$OUT"
offsets=$(mmls "$DISK" 2>/dev/null | awk '$2 ~ /^[0-9]+:/ && $3 ~ /^[0-9]+$/ && $0 !~ /Unallocated|Table|Extended/ {print $3+0}' || true)
[[ -n $offsets ]] || offsets=0
recover_runs=()
for o in $offsets; do
    recover_runs+=("$(timed /dev/null tsk_recover -e -o "$o" "$DISK" "$OUT/p$o")") ||
        die "tsk_recover failed at sector $o: $(tail -3 "$SCRATCH/stderr.txt")"
done
T_RECOVER=$(printf '%s\n' "${recover_runs[@]}" | awk '{w += $1; c += $2} END {printf "%.2f %.2f\n", w, c}')
peer_runs=()
for ((i = 0; i < RUNS; ++i)); do
    peer_runs+=("$(timed "$SCRATCH/yara.out" yara -r -p 2 -d filename= -d filepath= \
        -d extension= -d filetype= "$BIN"/rules/*.yar "$OUT")") ||
        die "yara failed: $(head -3 "$SCRATCH/stderr.txt")"
done
T_PEER=$(best "${peer_runs[@]}")
T_HASHDEEP=""
if command -v hashdeep >/dev/null 2>&1; then  # the rest of the separate workflow (info)
    T_HASHDEEP=$(timed /dev/null hashdeep -c md5,sha1,sha256 -r -j 2 "$OUT") ||
        die "hashdeep failed: $(head -3 "$SCRATCH/stderr.txt")"
fi
PEER_HITS=$(wc -l <"$SCRATCH/yara.out")
rm -rf "$OUT"

ratio() { python3 -c "print('%.2f' % (($1) / ($2)))"; }
pct() { python3 -c "print('%+.0f%%' % (100 * ($1 - $2) / $2))"; }
printf '\n%s: %s files, %s bytes read by triage; %s rules\n' "$PROG" "$FILES_READ" "$BYTES_READ" \
    "$(grep -c '^rule ' "$BIN"/rules/*.yar | awk -F: '{s+=$2} END {print s}')"
row() { printf '%-34s %8s %8s   %s\n' "$1" "$(wall "$2")" "$(cpu "$2")" "${3:-}"; }
printf '%-34s %8s %8s\n' "command (best of $RUNS)" "wall s" "cpu s"
row "exhibit triage (hash only)" "$T_HASH"
row "exhibit triage --rules builtin" "$T_YARA" "$YARA_HITS yara hits"
row "  ... and --keywords (3 terms)" "$T_KW"
row "tsk_recover -e (extraction)" "$T_RECOVER"
row "yara -r -p 2 (extracted files)" "$T_PEER" "$PEER_HITS matches"
[[ -n $T_HASHDEEP ]] && row "hashdeep md5,sha1,sha256 -j 2 (info)" "$T_HASHDEEP"
T_SEP="$(python3 -c "print('%.2f %.2f' % ($(wall "$T_RECOVER") + $(wall "$T_PEER"), $(cpu "$T_RECOVER") + $(cpu "$T_PEER")))")"
printf '\n%-44s %8s %8s\n' "" wall cpu
printf '%-44s %8s %8s   (target < +30%%)\n' "YARA adds to triage" "$(pct "$(wall "$T_YARA")" "$(wall "$T_HASH")")" \
    "$(pct "$(cpu "$T_YARA")" "$(cpu "$T_HASH")")"
printf '%-44s %8s %8s   (only what YARA adds; info)\n' "YARA's share / yara -r -p 2 alone" \
    "$(ratio "$(wall "$T_YARA") - $(wall "$T_HASH")" "$(wall "$T_PEER")")" \
    "$(ratio "$(cpu "$T_YARA") - $(cpu "$T_HASH")" "$(cpu "$T_PEER")")"
printf '%-44s %8s %8s   (target < 1)\n' "exhibit hash+yara / yara -r -p 2 alone" \
    "$(ratio "$(wall "$T_YARA")" "$(wall "$T_PEER")")" "$(ratio "$(cpu "$T_YARA")" "$(cpu "$T_PEER")")"
printf '%-44s %8s %8s\n' "exhibit hash+yara / tsk_recover + yara" \
    "$(ratio "$(wall "$T_YARA")" "$(wall "$T_SEP")")" "$(ratio "$(cpu "$T_YARA")" "$(cpu "$T_SEP")")"
if [[ -n $T_HASHDEEP ]]; then
    T_ALL="$(python3 -c "print('%.2f %.2f' % ($(wall "$T_SEP") + $(wall "$T_HASHDEEP"), $(cpu "$T_SEP") + $(cpu "$T_HASHDEEP")))")"
    printf '%-44s %8s %8s   (the same work done separately)\n' \
        "exhibit hash+yara / tsk_recover+hashdeep+yara" \
        "$(ratio "$(wall "$T_YARA")" "$(wall "$T_ALL")")" "$(ratio "$(cpu "$T_YARA")" "$(cpu "$T_ALL")")"
fi
printf 'load average at the end: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
