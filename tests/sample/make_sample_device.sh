#!/usr/bin/env bash
# make_sample_device.sh OUT_DIR
#
# Builds Exhibit's built-in SAMPLE EVIDENCE DEVICE: a ~211 MiB raw disk image with an
# MBR partition table holding FAT32, ext4, NTFS and (inside an extended partition) a
# logical FAT16 volume, populated with planted content, plus the ground truth:
#
#   OUT_DIR/sample.img   the raw disk image
#   OUT_DIR/truth.tsv    one row per regular file (and NTFS alternate data stream)
#   OUT_DIR/layout.tsv   one row per partition-table entry
#   OUT_DIR/unallocated.tsv  keywords planted outside any file: region, byte offset, keyword
#
# No root, no mounting, no loop devices: every file system is built in its own image file
# with user-space tools and then copied into the disk image at its partition offset.
# File CONTENTS (and so every hash in truth.tsv) are identical on every run: all data
# comes from a fixed-key AES-CTR stream, fixed text and fixed-formula pictures.  The
# FAT and ext4 volumes are byte-for-byte reproducible as well; the NTFS volume is not
# (libntfs-3g stamps new files with the current time and cannot be told otherwise).
#
# Runtime dependencies (Debian 12 packages): bash, coreutils, util-linux/fdisk (sfdisk),
# dosfstools (mkfs.fat), mtools, e2fsprogs (mkfs.ext4, debugfs), ntfs-3g (mkntfs,
# ntfscp, libntfs-3g89), libjpeg-turbo-progs (cjpeg), openssl, mawk/gawk, grep,
# libc-bin (iconv), python3-minimal (only to call libntfs-3g through ctypes, because no
# ntfs-3g command-line tool can create or delete a directory entry without mounting).
set -Eeuo pipefail

PROG=make_sample_device
SECONDS=0

say() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { say "$*"; exit 1; }

if [[ $# -ne 1 || -z ${1:-} || $1 == -h || $1 == --help ]]; then
    printf 'usage: %s OUT_DIR\n' "$0" >&2
    exit 2
fi
OUT_DIR=$1

# ---------------------------------------------------------------------------------------
# Tool check
# ---------------------------------------------------------------------------------------
declare -A PKG=(
    [sfdisk]=fdisk [mkfs.fat]=dosfstools [mcopy]=mtools [mdel]=mtools
    [mkfs.ext4]=e2fsprogs [debugfs]=e2fsprogs [mkntfs]=ntfs-3g [ntfscp]=ntfs-3g
    [cjpeg]=libjpeg-turbo-progs [openssl]=openssl [python3]=python3-minimal
    [awk]=mawk [grep]=grep [iconv]=libc-bin [dd]=coreutils [truncate]=coreutils
    [head]=coreutils [sha256sum]=coreutils [sha1sum]=coreutils [md5sum]=coreutils
    [stat]=coreutils [sort]=coreutils [touch]=coreutils [mktemp]=coreutils
)
# Debian keeps mkfs/sfdisk/debugfs in /usr/sbin, which is not on a normal user's PATH.
PATH=$PATH:/usr/sbin:/sbin
missing=0
for t in $(printf '%s\n' "${!PKG[@]}" | LC_ALL=C sort); do
    if ! command -v "$t" >/dev/null 2>&1; then
        say "required tool '$t' is missing; install the Debian package '${PKG[$t]}'."
        missing=1
    fi
done
((missing == 0)) || exit 1

mkdir -p "$OUT_DIR" || die "cannot create output directory '$OUT_DIR'."
OUT_DIR=$(cd "$OUT_DIR" && pwd)
TMP=$(mktemp -d "$OUT_DIR/.make_sample.XXXXXX") || die "cannot create a temporary directory in '$OUT_DIR'."
cleanup() { rm -rf -- "$TMP"; }
trap cleanup EXIT
trap 'rc=$?; say "internal step failed at line $LINENO (exit $rc): $BASH_COMMAND"; exit $rc' ERR

LOG=$TMP/tool.log
# run TOOL WHAT CMD...   run CMD; if it fails, print one sentence naming TOOL and WHAT,
# then the tool's own output, and exit non-zero.
run() {
    local tool=$1 what=$2 rc=0
    shift 2
    "$@" >"$LOG" 2>&1 || rc=$?
    if ((rc != 0)); then
        trap - ERR
        say "$tool failed (exit $rc) while $what; its output follows."
        sed 's/^/  | /' "$LOG" | tail -n 20 >&2
        exit 1
    fi
}

NSTAGES=9
stage() { say "[$1/$NSTAGES] $2"; }

# ---------------------------------------------------------------------------------------
# Fixed parameters
# ---------------------------------------------------------------------------------------
export LC_ALL=C TZ=UTC
export MTOOLS_SKIP_CHECK=1 MTOOLSRC=/dev/null
FIXED_TIME=1714564800                        # 2024-05-01 12:00:00 UTC
export SOURCE_DATE_EPOCH=$FIXED_TIME        # honoured by mtools
export E2FSPROGS_FAKE_TIME=$FIXED_TIME      # honoured by mke2fs/debugfs
AES_KEY=45786869626974536d706c6544657631      # "ExhibitSmpleDev1"
DISK_ID=0x45584842                          # "EXHB"
FAT32_ID=45584831
FAT16_ID=45584835
EXT4_UUID=45584849-4249-5400-8000-000000000002
EXT4_HASH_SEED=45584849-4249-5400-8000-0000000000a2

MIB=2048                                    # sectors per MiB
P1_START=$((1 * MIB));   P1_SIZE=$((64 * MIB))
P2_START=$((65 * MIB));  P2_SIZE=$((64 * MIB))
P3_START=$((129 * MIB)); P3_SIZE=$((64 * MIB))
P4_START=$((193 * MIB)); P4_SIZE=$((17 * MIB))   # extended container: EBR MiB + p5
P5_START=$((194 * MIB)); P5_SIZE=$((16 * MIB))
DISK_SECTORS=$((211 * MIB))                 # 1 MiB free at the end

STAGE=$TMP/stage                            # $STAGE/pN mirrors partition N's tree
META=$TMP/meta.us                           # part fs path src deleted keywords kind
US=$'\037'                                  # field separator of $META (not whitespace, so
                                            # `read` keeps empty fields)
: >"$META"
KW1='operation bluebird'
KW2='4929-1234-5678-9012'
KW3='darkmarket.onion'

# meta PART FS PATH DELETED KEYWORDS KIND [SRC]   register a truth row; SRC defaults to
# the staged file $STAGE/pPART/PATH.
meta() {
    local src=${7:-$STAGE/p$1$3}
    [[ -f $src ]] || die "internal error: staged file '$src' does not exist."
    printf '%s\037%s\037%s\037%s\037%s\037%s\037%s\n' "$1" "$2" "$3" "$src" "$4" "$5" "$6" >>"$META"
}
# dest PART PATH   create the parent directories of a staged file and print its name
dest() {
    local f=$STAGE/p$1$2
    mkdir -p -- "$(dirname -- "$f")"
    printf '%s' "$f"
}
# prand N SEEDNUM FILE   N pseudo-random bytes from AES-128-CTR with IV = SEEDNUM
prand() {
    local iv
    iv=$(printf '%032x' "$2")
    head -c "$1" /dev/zero |
        openssl enc -aes-128-ctr -K "$AES_KEY" -iv "$iv" -nosalt >"$3" ||
        die "openssl failed while generating pseudo-random data for '$3'."
}
# plant FILE OFFSET STRING   overwrite bytes of FILE at OFFSET with STRING
plant() {
    printf '%s' "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none ||
        die "dd failed while planting a keyword in '$1'."
}
# lines SEED COUNT   deterministic filler prose, one numbered line per row
lines() {
    awk -v seed="$1" -v n="$2" 'BEGIN {
        split("the report was filed after the quarterly review of supplier invoices " \
              "and travel costs for the regional office where staff noted delays in " \
              "shipping schedules budget approvals and network maintenance windows", w, " ")
        nw = length(w); s = seed
        for (i = 1; i <= n; i++) {
            line = sprintf("%04d", i)
            for (j = 0; j < 12; j++) { s = (s * 69069 + 1) % 4294967296; line = line " " w[1 + int(s / 65536) % nw] }
            print line "."
        }
    }'
}
# picture W H STYLE QUALITY FILE   a JPEG made by cjpeg from a generated PPM picture
picture() {
    local w=$1 h=$2 style=$3 q=$4 out=$5 ppm=$TMP/pic.ppm
    awk -v W="$w" -v H="$h" -v S="$style" 'BEGIN {
        printf "P6\n%d %d\n255\n", W, H
        s = W * 7 + H * 13 + S
        for (y = 0; y < H; y++) {
            row = ""
            for (x = 0; x < W; x++) {
                s = (s * 69069 + 1) % 4294967296; n = int(s / 16777216) % 24
                if (S == 0) {            # diagonal gradient with a checkerboard
                    r = int(255 * x / W); g = int(255 * y / H)
                    b = ((int(x / 32) + int(y / 32)) % 2) ? 200 : 40
                } else if (S == 1) {     # concentric rings
                    d = int(sqrt((x - W / 2) ^ 2 + (y - H / 2) ^ 2))
                    r = (d * 5) % 256; g = (d * 3 + 80) % 256; b = 255 - r
                } else if (S == 2) {     # horizontal bands ("sky and sea")
                    r = (y < H / 2) ? 90 + int(100 * y / H) : 20
                    g = (y < H / 2) ? 150 + int(80 * y / H) : 90 + int(60 * y / H)
                    b = (y < H / 2) ? 240 : 160
                } else {                 # plaid
                    r = ((int(x / 16) % 3) == 0) ? 220 : 60
                    g = ((int(y / 24) % 4) == 0) ? 200 : 70
                    b = ((x + y) % 64 < 32) ? 150 : 30
                }
                r += n; g += n; b += n
                if (r > 255) r = 255; if (g > 255) g = 255; if (b > 255) b = 255
                if (r < 1) r = 1; if (g < 1) g = 1; if (b < 1) b = 1
                row = row sprintf("%c%c%c", r, g, b)
            }
            printf "%s", row
        }
    }' >"$ppm" || die "awk failed while drawing a picture for '$out'."
    run cjpeg "compressing the picture '$out'" cjpeg -quality "$q" -optimize -outfile "$out" "$ppm"
}
utf16le() { iconv -f UTF-8 -t UTF-16LE || die "iconv failed while encoding UTF-16LE text."; }

# ---------------------------------------------------------------------------------------
stage 1 "generating planted content"
# ---------------------------------------------------------------------------------------
# Partition 1: FAT32 --------------------------------------------------------------------
f=$(dest 1 /README.TXT)
printf 'Property of Northwind Logistics. If found please return to reception.\r\n' >"$f"
meta 1 fat32 /README.TXT 0 "" text

f=$(dest 1 /Users/alice/Documents/projects/bluebird/plan.txt)
{ printf 'Project memo - confidential\n\nAgenda for operation bluebird:\n'
  lines 11 40
  printf 'Next sync after the shipment clears customs.\n'; } >"$f"
meta 1 fat32 /Users/alice/Documents/projects/bluebird/plan.txt 0 "$KW1" text

f=$(dest 1 /Users/alice/Documents/projects/bluebird/archive.bin)
prand $((5 * 1048576 + 4321)) 101 "$f"
plant "$f" $((1048576 - 7)) "$KW3"          # straddles the 1 MiB boundary
meta 1 fat32 /Users/alice/Documents/projects/bluebird/archive.bin 0 "$KW3" binary

f=$(dest 1 /Users/alice/Documents/projects/bluebird/card_dump_march.txt)
{ printf 'name,card,expiry\n'
  printf 'J SMITH,%s,09/27\n' "$KW2"
  printf 'escrow via %s\n' "$KW3"; } >"$f"
meta 1 fat32 /Users/alice/Documents/projects/bluebird/card_dump_march.txt 1 "$KW2,$KW3" text

f=$(dest 1 /Users/alice/Documents/notes.txt)
lines 12 25 >"$f"
meta 1 fat32 /Users/alice/Documents/notes.txt 0 "" text

f=$(dest 1 "/Users/alice/Documents/Quarterly Report.txt")
{ printf 'Quarterly report Q1\n'; lines 13 120; } >"$f"
meta 1 fat32 "/Users/alice/Documents/Quarterly Report.txt" 0 "" text

f=$(dest 1 /Users/alice/Documents/invoice_scan.dat)   # a JPEG with the wrong extension
picture 640 480 3 80 "$f"
meta 1 fat32 /Users/alice/Documents/invoice_scan.dat 0 "" jpeg

f=$(dest 1 /Users/alice/Pictures/holiday_001.jpg)
picture 800 600 0 90 "$f"
meta 1 fat32 /Users/alice/Pictures/holiday_001.jpg 0 "" jpeg

f=$(dest 1 /Users/alice/Pictures/holiday_002.jpg)
picture 320 240 1 75 "$f"
meta 1 fat32 /Users/alice/Pictures/holiday_002.jpg 0 "" jpeg

f=$(dest 1 /Users/alice/Pictures/meeting_point.jpg)
picture 400 300 2 85 "$f"
meta 1 fat32 /Users/alice/Pictures/meeting_point.jpg 1 "" jpeg

f=$(dest 1 /Users/alice/Desktop/empty.txt)
: >"$f"
meta 1 fat32 /Users/alice/Desktop/empty.txt 0 "" empty

# Partition 2: ext4 ---------------------------------------------------------------------
f=$(dest 2 /etc/hostname)
printf 'bob-laptop\n' >"$f"
meta 2 ext4 /etc/hostname 0 "" text

f=$(dest 2 /home/bob/.bash_history)
printf 'ls -la\ncd Documents/projects/market\ntorsocks curl -s http://%s/login\nshred -u wallet_keys.txt\nexit\n' "$KW3" >"$f"
meta 2 ext4 /home/bob/.bash_history 0 "$KW3" text

f=$(dest 2 /home/bob/Documents/projects/market/listing.txt)
{ printf 'Vendor listing mirror: http://%s/vendor/4411\n' "$KW3"; lines 21 30; } >"$f"
meta 2 ext4 /home/bob/Documents/projects/market/listing.txt 0 "$KW3" text

f=$(dest 2 /home/bob/Documents/projects/market/orders.csv)
{ printf 'order,item,qty,card\n'
  printf '1001,widgets,4,%s\n' "$KW2"
  printf '1002,gadgets,1,5555-0000-1111-2222\n'; } >"$f"
meta 2 ext4 /home/bob/Documents/projects/market/orders.csv 0 "$KW2" text

f=$(dest 2 /home/bob/Documents/projects/market/wallet_keys.txt)
{ printf 'wallet seed (do not share)\n'; lines 22 6
  printf 'fallback card %s\n' "$KW2"; } >"$f"
meta 2 ext4 /home/bob/Documents/projects/market/wallet_keys.txt 1 "$KW2" text

f=$(dest 2 "/home/bob/Documents/meeting notes.txt")
{ printf 'Meeting notes\n- status of operation bluebird: on hold\n'; lines 23 15; } >"$f"
meta 2 ext4 "/home/bob/Documents/meeting notes.txt" 0 "$KW1" text

f=$(dest 2 /home/bob/Documents/café.txt)
printf 'Café order: deux cafés, un croissant. Total 7,40 €.\n' >"$f"
meta 2 ext4 /home/bob/Documents/café.txt 0 "" text

f=$(dest 2 /home/bob/backup/disk_chunk.bin)
prand $((4 * 1048576 + 777)) 201 "$f"
meta 2 ext4 /home/bob/backup/disk_chunk.bin 0 "" binary

f=$(dest 2 /home/bob/Pictures/screenshot.jpg)
picture 1024 768 0 85 "$f"
meta 2 ext4 /home/bob/Pictures/screenshot.jpg 0 "" jpeg

f=$(dest 2 /home/bob/Pictures/drop_location.jpg)
picture 512 384 1 80 "$f"
meta 2 ext4 /home/bob/Pictures/drop_location.jpg 1 "" jpeg

f=$(dest 2 /home/bob/.cache/empty.lock)
: >"$f"
meta 2 ext4 /home/bob/.cache/empty.lock 0 "" empty

# Partition 3: NTFS ---------------------------------------------------------------------
f=$(dest 3 /Users/carol/Documents/notes_unicode.txt)   # Notepad-style UTF-16LE with BOM
{ printf '\xff\xfe'
  printf 'Reminder: operation bluebird starts Friday.\r\nBring the blue folder.\r\n' | utf16le; } >"$f"
meta 3 ntfs /Users/carol/Documents/notes_unicode.txt 0 "$KW1" text

f=$(dest 3 /Users/carol/Documents/projects/travel/itinerary.txt)
{ printf 'Itinerary\r\n'; lines 31 20 | sed 's/$/\r/'; } >"$f"
meta 3 ntfs /Users/carol/Documents/projects/travel/itinerary.txt 0 "" text
mkdir -p "$TMP/ads"
printf 'pickup code 7731, confirm on %s\r\n' "$KW3" >"$TMP/ads/itinerary.hidden"
meta 3 ntfs /Users/carol/Documents/projects/travel/itinerary.txt:hidden 0 "$KW3" text "$TMP/ads/itinerary.hidden"

f=$(dest 3 /Users/carol/Documents/burn_after_reading.txt)
printf 'After operation bluebird wipe this laptop.\r\n' >"$f"
meta 3 ntfs /Users/carol/Documents/burn_after_reading.txt 1 "$KW1" text

f=$(dest 3 /Users/carol/Downloads/setup_data.bin)
prand $((3 * 1048576 + 1234)) 301 "$f"
meta 3 ntfs /Users/carol/Downloads/setup_data.bin 0 "" binary
printf '[ZoneTransfer]\r\nZoneId=3\r\nHostUrl=http://%s/files/setup_data.bin\r\n' "$KW3" >"$TMP/ads/setup.zone"
meta 3 ntfs /Users/carol/Downloads/setup_data.bin:Zone.Identifier 0 "$KW3" text "$TMP/ads/setup.zone"

f=$(dest 3 /Users/carol/Pictures/family.jpg)
picture 640 480 2 88 "$f"
meta 3 ntfs /Users/carol/Pictures/family.jpg 0 "" jpeg

f=$(dest 3 /Users/carol/Desktop/todo.txt)
printf 'buy milk\r\ncall the bank about card %s\r\n' "$KW2" >"$f"
meta 3 ntfs /Users/carol/Desktop/todo.txt 0 "$KW2" text

# Partition 5: FAT16 (logical, inside the extended partition) ----------------------------
f=$(dest 5 /DCIM/100CAM/IMG_0001.JPG)
picture 480 360 3 92 "$f"
meta 5 fat16 /DCIM/100CAM/IMG_0001.JPG 0 "" jpeg

f=$(dest 5 /DCIM/100CAM/beach_party.jpg)
picture 640 480 1 70 "$f"
meta 5 fat16 /DCIM/100CAM/beach_party.jpg 1 "" jpeg

f=$(dest 5 /notes.txt)
printf 'card for deposit: %s\r\n' "$KW2" >"$f"
meta 5 fat16 /notes.txt 0 "$KW2" text

# Fixed modification times on everything staged (mcopy -m, mkfs.ext4 -d and ntfscp -t copy them).
find "$STAGE" "$TMP/ads" -exec touch -h -d "@$FIXED_TIME" {} +

# ---------------------------------------------------------------------------------------
stage 2 "checking planted keywords and computing hashes"
# ---------------------------------------------------------------------------------------
# Every file is searched for every keyword (ASCII case-insensitive and UTF-16LE) and the
# result must equal what was declared above, so truth.tsv cannot drift from the content.
u16pat() { printf '%s' "$1" | sed 's/./&\\x00/g'; }
detect() {
    local file=$1 kw found=()
    for kw in "$KW1" "$KW2" "$KW3"; do
        if grep -qiaF -e "$kw" -- "$file" || grep -qiaP -e "$(u16pat "$kw")" -- "$file"; then
            found+=("$kw")
        fi
    done
    local IFS=,
    printf '%s' "${found[*]}"
}
TRUTH_ROWS=$TMP/truth.rows
: >"$TRUTH_ROWS"
while IFS=$US read -r part fs path src deleted kws kind; do
    got=$(detect "$src")
    [[ $got == "$kws" ]] || die "internal error: '$path' should contain keywords '$kws' but contains '$got'."
    size=$(stat -c %s -- "$src")
    if [[ $kind == empty && $size -ne 0 || $kind != empty && $size -eq 0 ]]; then
        die "internal error: '$path' has kind '$kind' but size $size."
    fi
    md5=$(md5sum <"$src"); sha1=$(sha1sum <"$src"); sha256=$(sha256sum <"$src")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$part" "$fs" "$path" "$size" \
        "${md5%% *}" "${sha1%% *}" "${sha256%% *}" "$deleted" "$kws" "$kind" >>"$TRUTH_ROWS"
done <"$META"

# List helpers over the metadata: files to copy (no ADS), ADS rows, rows to delete.
files_of()   { awk -F'\037' -v p="$1" '$1 == p && $3 !~ /:/ { print $3 }' "$META"; }
ads_of()     { awk -F'\037' -v p="$1" '$1 == p && $3 ~ /:/ { print $3 "\t" $4 }' "$META"; }
deleted_of() { awk -F'\037' -v p="$1" '$1 == p && $5 == 1 { print $3 }' "$META"; }

# ---------------------------------------------------------------------------------------
stage 3 "building FAT32 file system for partition 1 (mkfs.fat, mtools)"
# ---------------------------------------------------------------------------------------
FAT32_IMG=$TMP/p1.fat32
run mkfs.fat "creating the FAT32 file system for partition 1" \
    mkfs.fat -C -F 32 -s 1 -S 512 -g 255/63 -h "$P1_START" --invariant -i "$FAT32_ID" \
    -n EVIDENCE "$FAT32_IMG" $((P1_SIZE / 2))
run mcopy "copying files into the FAT32 file system" \
    mcopy -s -m -Q -i "$FAT32_IMG" "$STAGE"/p1/* ::/
mapfile -t dels < <(deleted_of 1)
run mdel "deleting files from the FAT32 file system" \
    mdel -i "$FAT32_IMG" "${dels[@]/#/::}"

# ---------------------------------------------------------------------------------------
stage 4 "building ext4 file system for partition 2 (mkfs.ext4 -d, debugfs)"
# ---------------------------------------------------------------------------------------
EXT4_IMG=$TMP/p2.ext4
run mkfs.ext4 "creating the ext4 file system for partition 2" \
    mkfs.ext4 -q -F -T default -b 4096 -L EXT_EVID -U "$EXT4_UUID" \
    -E "hash_seed=$EXT4_HASH_SEED,root_owner=0:0,lazy_itable_init=0" \
    -d "$STAGE/p2" "$EXT4_IMG" $((P2_SIZE / 2))K
DEBUGFS_CMDS=$TMP/debugfs.cmds
: >"$DEBUGFS_CMDS"
# mkfs.ext4 -d copies atime and ctime from the staged files, which differ run to run, so
# pin them (and mtime) to the fixed time before deleting, to make the volume reproducible.
while IFS= read -r p; do
    for field in atime ctime mtime; do
        printf 'set_inode_field "%s" %s @%s\n' "${p:-/}" "$field" "$FIXED_TIME" >>"$DEBUGFS_CMDS"
    done
done < <(cd "$STAGE/p2" && find . | sed 's/^\.//' | sort)
while IFS= read -r p; do printf 'rm "%s"\n' "$p" >>"$DEBUGFS_CMDS"; done < <(deleted_of 2)
# debugfs exits 0 even when a command fails, so any error line on stderr is a failure.
if ! debugfs -w -f "$DEBUGFS_CMDS" "$EXT4_IMG" >"$LOG" 2>"$TMP/debugfs.err" ||
    grep -v '^debugfs [0-9]' "$TMP/debugfs.err" | grep -q .; then
    trap - ERR
    say "debugfs failed while deleting files from the ext4 file system; its output follows."
    sed 's/^/  | /' "$TMP/debugfs.err" >&2
    exit 1
fi

# ---------------------------------------------------------------------------------------
stage 5 "building NTFS file system for partition 3 (mkntfs, ntfscp, libntfs-3g)"
# ---------------------------------------------------------------------------------------
# ntfscp can create a file in an existing directory but cannot create directories, and no
# ntfs-3g command deletes a file without mounting.  This helper calls libntfs-3g (the
# library ntfscp itself uses) through Python's standard ctypes module to do both.
NTFS_HELPER=$TMP/ntfs_helper.py
cat >"$NTFS_HELPER" <<'PY'
import ctypes, stat, sys
try:
    lib = ctypes.CDLL("libntfs-3g.so.89")
except OSError as e:
    sys.exit("cannot load libntfs-3g.so.89 (Debian package libntfs-3g89): %s" % e)
vp = ctypes.c_void_p
lib.ntfs_mount.restype = vp
lib.ntfs_mount.argtypes = [ctypes.c_char_p, ctypes.c_ulong]
lib.ntfs_umount.argtypes = [vp, ctypes.c_int]
lib.ntfs_pathname_to_inode.restype = vp
lib.ntfs_pathname_to_inode.argtypes = [vp, vp, ctypes.c_char_p]
lib.ntfs_create.restype = vp
lib.ntfs_create.argtypes = [vp, ctypes.c_uint32, vp, ctypes.c_uint8, ctypes.c_uint]
lib.ntfs_delete.argtypes = [vp, ctypes.c_char_p, vp, vp, vp, ctypes.c_uint8]
lib.ntfs_inode_close.argtypes = [vp]
image, ops = sys.argv[1], sys.argv[2:]
vol = lib.ntfs_mount(image.encode(), 0)
if not vol:
    sys.exit("cannot open the NTFS volume %s" % image)
def lookup(path):
    ni = lib.ntfs_pathname_to_inode(vol, None, path.encode())
    if not ni:
        sys.exit("NTFS path not found: %s" % path)
    return ni
for op in ops:
    verb, path = op.split(":", 1)
    parent, name = path.rsplit("/", 1)
    uname = name.encode("utf-16-le")
    ubuf = ctypes.create_string_buffer(uname, len(uname) + 2)
    dir_ni = lookup(parent or "/")
    if verb == "mkdir":
        ni = lib.ntfs_create(dir_ni, 0, ubuf, len(uname) // 2, stat.S_IFDIR)
        if not ni:
            sys.exit("cannot create NTFS directory %s" % path)
        lib.ntfs_inode_close(ni)
    elif verb == "rm":
        ni = lookup(path)
        if lib.ntfs_delete(vol, path.encode(), ni, dir_ni, ubuf, len(uname) // 2):
            sys.exit("cannot delete NTFS file %s" % path)   # ni is closed by ntfs_delete
    else:
        sys.exit("unknown operation %s" % op)
    lib.ntfs_inode_close(dir_ni)
if lib.ntfs_umount(vol, 0):
    sys.exit("cannot close the NTFS volume cleanly")
PY
NTFS_IMG=$TMP/p3.ntfs
run truncate "creating the NTFS volume file" truncate -s $((P3_SIZE * 512)) "$NTFS_IMG"
run mkntfs "creating the NTFS file system for partition 3" \
    mkntfs -F -Q -T -q -s 512 -c 4096 -p "$P3_START" -H 255 -S 63 -L NTFS_EVID "$NTFS_IMG" "$P3_SIZE"
mapfile -t mk < <(cd "$STAGE/p3" && find . -mindepth 1 -type d | sed 's/^\./mkdir:/' | sort)
run python3 "creating NTFS directories through libntfs-3g" python3 "$NTFS_HELPER" "$NTFS_IMG" "${mk[@]}"
while IFS= read -r p; do
    run ntfscp "copying '$p' into the NTFS file system" ntfscp -t "$NTFS_IMG" "$STAGE/p3$p" "$p"
done < <(files_of 3 | sort)
while IFS=$'\t' read -r p src; do
    run ntfscp "writing the alternate data stream '$p'" ntfscp -N "${p##*:}" "$NTFS_IMG" "$src" "${p%:*}"
done < <(ads_of 3)
mapfile -t rmops < <(deleted_of 3 | sed 's/^/rm:/')
if ((${#rmops[@]})); then
    run python3 "deleting NTFS files through libntfs-3g" python3 "$NTFS_HELPER" "$NTFS_IMG" "${rmops[@]}"
fi

# ---------------------------------------------------------------------------------------
stage 6 "building FAT16 file system for logical partition 5 (mkfs.fat, mtools)"
# ---------------------------------------------------------------------------------------
FAT16_IMG=$TMP/p5.fat16
run mkfs.fat "creating the FAT16 file system for partition 5" \
    mkfs.fat -C -F 16 -s 4 -S 512 -g 255/63 -h "$P5_START" --invariant -i "$FAT16_ID" \
    -n CAMERA "$FAT16_IMG" $((P5_SIZE / 2))
run mcopy "copying files into the FAT16 file system" \
    mcopy -s -m -Q -i "$FAT16_IMG" "$STAGE"/p5/* ::/
mapfile -t dels < <(deleted_of 5)
run mdel "deleting files from the FAT16 file system" \
    mdel -i "$FAT16_IMG" "${dels[@]/#/::}"

# ---------------------------------------------------------------------------------------
stage 7 "writing the MBR partition table (sfdisk)"
# ---------------------------------------------------------------------------------------
DISK=$TMP/sample.img
run truncate "creating the disk image file" truncate -s $((DISK_SECTORS * 512)) "$DISK"
cat >"$TMP/sfdisk.in" <<EOF
label: dos
label-id: $DISK_ID
unit: sectors
sector-size: 512

start=$P1_START, size=$P1_SIZE, type=c
start=$P2_START, size=$P2_SIZE, type=83
start=$P3_START, size=$P3_SIZE, type=7
start=$P4_START, size=$P4_SIZE, type=5
start=$P5_START, size=$P5_SIZE, type=e
EOF
run sfdisk "writing the partition table" sfdisk --no-reread --no-tell-kernel -q "$DISK" <"$TMP/sfdisk.in"

# Cross-check what sfdisk actually wrote against the intended layout.
LAYOUT=$TMP/layout.tsv
printf 'partition\ttype_hex\tstart_sector\tsector_count\tfs\n' >"$LAYOUT"
printf '%s\t%s\t%s\t%s\t%s\n' \
    1 0c "$P1_START" "$P1_SIZE" fat32 \
    2 83 "$P2_START" "$P2_SIZE" ext4 \
    3 07 "$P3_START" "$P3_SIZE" ntfs \
    4 05 "$P4_START" "$P4_SIZE" extended \
    5 0e "$P5_START" "$P5_SIZE" fat16 >>"$LAYOUT"
run sfdisk "reading back the partition table" sfdisk -d "$DISK"
want=$(awk -F'\t' 'NR > 1 { printf "%d %d %d %s\n", $1, $3, $4, $2 }' "$LAYOUT")
got=$(sed -n 's/^.*img\([0-9]*\) : start= *\([0-9]*\), size= *\([0-9]*\), type=\([0-9a-f]*\).*$/\1 \2 \3 \4/p' "$LOG" |
      awk '{ printf "%d %d %d %02x\n", $1, $2, $3, strtonum_hex($4) } function strtonum_hex(h,  i, v) { v = 0; for (i = 1; i <= length(h); i++) v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1; return v }')
[[ $want == "$got" ]] || die "sfdisk wrote an unexpected partition table: wanted [$want] but found [$got]."

# ---------------------------------------------------------------------------------------
stage 8 "copying file systems into the disk image (dd)"
# ---------------------------------------------------------------------------------------
for pair in "$FAT32_IMG:$P1_START:$P1_SIZE" "$EXT4_IMG:$P2_START:$P2_SIZE" \
            "$NTFS_IMG:$P3_START:$P3_SIZE" "$FAT16_IMG:$P5_START:$P5_SIZE"; do
    IFS=: read -r img start count <<<"$pair"
    [[ $(stat -c %s "$img") -eq $((count * 512)) ]] ||
        die "internal error: $(basename "$img") is $(stat -c %s "$img") bytes, expected $((count * 512))."
    run dd "copying $(basename "$img") into the disk image" \
        dd if="$img" of="$DISK" bs=1M seek=$((start * 512)) oflag=seek_bytes conv=notrunc,fsync status=none
done

# A keyword in no partition: the unpartitioned last MiB, for the unallocated-space scan.
UNPART_TEXT="left in free space: $KW1"
UNPART_AT=$(((DISK_SECTORS - MIB / 2) * 512 + 100))
printf '%s' "$UNPART_TEXT" | dd of="$DISK" bs=1 seek="$UNPART_AT" conv=notrunc status=none ||
    die "dd failed while planting a keyword in unpartitioned space."
UNALLOC=$TMP/unallocated.tsv
printf 'region\tbyte_offset\tkeyword\n' >"$UNALLOC"
printf 'unpartitioned\t%s\t%s\n' $((UNPART_AT + ${#UNPART_TEXT} - ${#KW1})) "$KW1" >>"$UNALLOC"

# ---------------------------------------------------------------------------------------
stage 9 "writing truth.tsv, layout.tsv and unallocated.tsv"
# ---------------------------------------------------------------------------------------
{
    printf 'partition\tfs\tpath\tsize\tmd5\tsha1\tsha256\tdeleted\tkeywords\tkind\n'
    sort -t $'\t' -k1,1n -k3,3 "$TRUTH_ROWS"
} >"$TMP/truth.tsv"
mv -f "$DISK" "$OUT_DIR/sample.img"
mv -f "$TMP/truth.tsv" "$OUT_DIR/truth.tsv"
mv -f "$LAYOUT" "$OUT_DIR/layout.tsv"
mv -f "$UNALLOC" "$OUT_DIR/unallocated.tsv"
rows=$(($(wc -l <"$OUT_DIR/truth.tsv") - 1))
ndel=$(awk -F'\t' 'NR > 1 && $8 == 1' "$OUT_DIR/truth.tsv" | wc -l)
say "done in ${SECONDS}s: $OUT_DIR/sample.img ($((DISK_SECTORS / MIB)) MiB), truth.tsv ($rows rows, $ndel deleted), layout.tsv"
