#!/usr/bin/env bash
# make_triage_disk.sh [--small] OUT_DIR
#
# Builds the TRIAGE BENCHMARK DISK: a raw disk image of about 1.8 GiB with an MBR
# partition table holding
#   partition 1  FAT32, ~370 MiB   8,000 files  (a "USB stick" folder tree)
#   partition 2  ext4,  ~1.4 GiB  32,000 files  (home folders of 12 users)
#   16 MiB of unpartitioned space at the end of the disk
# with a realistic mix: many small text and office-like files (0.3 to 40 KiB), JPEG-like
# pictures (40 to 400 KiB), 20 multi-MB files (2 to 40 MiB, incompressible), folders
# nested up to six deep, and a few deleted files on each file system.
#
# Output (the interface other scripts rely on):
#   OUT_DIR/triage-disk.img    the raw disk image
#   OUT_DIR/triage-disk.tsv    one line per partition: number, type, start sector,
#                              sectors, files, bytes of file content
#   OUT_DIR/triage-disk.done   written last; when it exists and names this generator's
#                              version, the script does nothing and exits 0 (a cache)
#
# --small builds a ~200 MiB disk with ~2,500 files instead (same layout and mix), for
# quick trials; it goes to the same names, so use another OUT_DIR.
#
# No root, no mounting, no loop devices: mkfs.ext4 -d from a generated tree (debugfs
# deletes), mkfs.fat + mcopy (mdel deletes), then both copied into the disk at their
# offsets. Contents come from a seeded generator, so the same files (names, sizes,
# bytes) are made every time. Needs: bash, coreutils, python3, e2fsprogs, dosfstools,
# mtools, fdisk (sfdisk). Takes about a minute for the full disk.
set -Eeuo pipefail

PROG=make_triage_disk
VERSION=2
PATH=$PATH:/usr/sbin:/sbin
say() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() {
    say "$*"
    exit 1
}

SMALL=0
if [[ ${1:-} == --small ]]; then
    SMALL=1
    shift
fi
if [[ $# -ne 1 || -z ${1:-} || $1 == -h || $1 == --help ]]; then
    printf 'usage: %s [--small] OUT_DIR\n' "$0" >&2
    exit 2
fi
OUT_DIR=$1
STAMP="$PROG version $VERSION small=$SMALL"
if [[ -f $OUT_DIR/triage-disk.done && $(cat "$OUT_DIR/triage-disk.done") == "$STAMP" &&
    -f $OUT_DIR/triage-disk.img ]]; then
    say "using the disk already in $OUT_DIR"
    exit 0
fi
for t in python3 mkfs.ext4 debugfs mkfs.fat mcopy mdel sfdisk dd truncate; do
    command -v "$t" >/dev/null 2>&1 || die "required tool '$t' is missing (apt-get install e2fsprogs dosfstools mtools fdisk python3)"
done
mkdir -p "$OUT_DIR" || die "cannot create $OUT_DIR"
rm -f "$OUT_DIR/triage-disk.done"
TMP=$(mktemp -d "$OUT_DIR/.make_triage_disk.XXXXXX")
trap 'rm -rf -- "$TMP"' EXIT

if ((SMALL)); then
    FAT_FILES=600 EXT_FILES=1900 BIG=3 BIG_MIB=6
else
    FAT_FILES=8000 EXT_FILES=32000 BIG=20 BIG_MIB=40
fi
GAP_MIB=16

# ------------------------------------------------------------------ the file trees
say "generating $FAT_FILES + $EXT_FILES files"
python3 - "$TMP" "$FAT_FILES" "$EXT_FILES" "$BIG" "$BIG_MIB" <<'PY'
import os, random, sys

out, fat_files, ext_files, big, big_mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rng = random.Random(20261122)
words = ("the of and to in is for on that with as by this from report invoice meeting "
         "transfer account shipment password contact budget project draft final notes "
         "schedule customer supplier payment wallet delivery address phone agenda minutes "
         "quarterly review contract signed attached please regards summary").split()
corpus = "\n".join(" ".join(rng.choice(words) for _ in range(rng.randrange(4, 16)))
                   for _ in range(90_000)).encode()
JPEG_HEAD = bytes.fromhex("ffd8ffe000104a46494600010101004800480000")
# A zip local header naming [Content_Types].xml, as every Office Open XML file starts.
DOCX_HEAD = (b"PK\x03\x04" + bytes.fromhex("1400060008000000210000000000000000000000000013000000")
             + b"[Content_Types].xml")
PDF_HEAD = b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n"
deleted = {"fat": [], "ext": []}
totals = {}

def text(n):
    at = rng.randrange(0, len(corpus) - n - 1)
    return corpus[at:at + n]

def one_file(kind):
    """(extension, bytes) for a file of the mix."""
    r = rng.random()
    if r < 0.55:
        return ".txt", text(int(rng.lognormvariate(8.3, 1.0)) % 40000 + 300)
    if r < 0.70:
        n = int(rng.lognormvariate(8.5, 0.8)) % 40000 + 2000
        return ".docx", DOCX_HEAD + rng.randbytes(n)
    if r < 0.78:
        n = int(rng.lognormvariate(9.0, 0.8)) % 60000 + 3000
        return ".pdf", PDF_HEAD + text(n // 2) + rng.randbytes(n // 2)
    if r < 0.86:
        return ".html", b"<!DOCTYPE html>\n<html><body><p>" + text(rng.randrange(800, 20000)) + b"</p></body></html>\n"
    if r < 0.91:
        return ".jpg", JPEG_HEAD + rng.randbytes(rng.randrange(40_000, 400_000))
    return ".csv", b"id,name,amount\n" + text(rng.randrange(500, 30000))

def tree(root, count, users, tag):
    folders = []
    for u in users:
        for top in ("Documents", "Pictures", "Downloads", "Desktop", "Mail", "Projects"):
            base = os.path.join(root, u, top)
            folders.append(base)
            for i in range(rng.randrange(2, 6)):
                sub = os.path.join(base, "%s_%02d" % (rng.choice(words), i))
                folders.append(sub)
                for j in range(rng.randrange(0, 4)):
                    deep = os.path.join(sub, "%s %d" % (rng.choice(words), j), "archive", str(2015 + j))
                    folders.append(deep)
    for d in folders:
        os.makedirs(d, exist_ok=True)
    size = 0
    for n in range(count):
        d = rng.choice(folders)
        ext, data = one_file(tag)
        if "Pictures" in d and rng.random() < 0.25:
            ext, data = ".jpg", JPEG_HEAD + rng.randbytes(rng.randrange(40_000, 400_000))
        path = os.path.join(d, "%s_%s_%05d%s" % (rng.choice(words), rng.choice(words), n, ext))
        with open(path, "wb") as f:
            f.write(data)
        size += len(data)
        if n % 997 == 0:
            deleted[tag].append(os.path.relpath(path, root))
    return size, folders

fat_users = ["USB_STICK/%s" % u for u in ("work", "photos", "backup")]
ext_users = ["home/user%02d" % i for i in range(1, 13)]
totals["fat"], _ = tree(os.path.join(out, "fat"), fat_files, fat_users, "fat")
totals["ext"], ext_folders = tree(os.path.join(out, "ext"), ext_files, ext_users, "ext")
# A few big files: videos, disk images, archives (incompressible), mostly on ext4.
for i in range(big):
    tag = "fat" if i % 5 == 0 else "ext"
    root = os.path.join(out, tag)
    d = os.path.join(root, (fat_users if tag == "fat" else ext_users)[i % 3], "Downloads")
    os.makedirs(d, exist_ok=True)
    n = rng.randrange(2, big_mib + 1) << 20
    name = os.path.join(d, "big_%02d%s" % (i, rng.choice([".mp4", ".iso", ".zip", ".vmdk"])))
    with open(name, "wb") as f:
        left = n
        while left:
            k = min(left, 4 << 20)
            f.write(rng.randbytes(k))
            left -= k
    totals[tag] += n
for tag in ("fat", "ext"):
    with open(os.path.join(out, tag + ".deleted"), "w") as f:
        f.write("\n".join(deleted[tag]) + "\n")
    with open(os.path.join(out, tag + ".bytes"), "w") as f:
        f.write(str(totals[tag]))
PY

# ------------------------------------------------------------------ file systems
# Each partition is sized from what it will hold: the data plus room for the metadata.
FAT_MIB=$(($(du -sm "$TMP/fat" | cut -f1) * 11 / 10 + 32))
EXT_MIB=$(($(du -sm "$TMP/ext" | cut -f1) * 11 / 10 + 96))
FAT_START=2048
FAT_SECTORS=$((FAT_MIB * 2048))
EXT_START=$((FAT_START + FAT_SECTORS))
EXT_SECTORS=$((EXT_MIB * 2048))
DISK_SECTORS=$((EXT_START + EXT_SECTORS + GAP_MIB * 2048))

say "FAT32: mkfs.fat, mcopy, mdel"
mkfs.fat -C -F 32 -S 512 -h "$FAT_START" -n TRIAGEFAT "$TMP/fat.img" $((FAT_SECTORS / 2)) >/dev/null
mcopy -s -m -Q -i "$TMP/fat.img" "$TMP"/fat/* ::/
mapfile -t fat_del <"$TMP/fat.deleted"
mdel -i "$TMP/fat.img" "${fat_del[@]/#/::}"

say "ext4: mkfs.ext4 -d, debugfs"
mkfs.ext4 -q -F -b 4096 -L TRIAGEEXT -E root_owner=0:0 -d "$TMP/ext" "$TMP/ext.img" "$((EXT_SECTORS / 2))K" >/dev/null
while IFS= read -r p; do printf 'rm "/%s"\n' "$p"; done <"$TMP/ext.deleted" >"$TMP/debugfs.cmds"
debugfs -w -f "$TMP/debugfs.cmds" "$TMP/ext.img" >/dev/null 2>"$TMP/debugfs.err" || die "debugfs failed"
if grep -v '^debugfs [0-9]' "$TMP/debugfs.err" | grep -q .; then
    cat "$TMP/debugfs.err" >&2
    die "debugfs could not delete the files listed in $TMP/ext.deleted"
fi

say "disk: MBR, both partitions, ${GAP_MIB} MiB unpartitioned at the end"
IMG=$TMP/triage-disk.img
truncate -s $((DISK_SECTORS * 512)) "$IMG"
sfdisk -q "$IMG" >/dev/null <<EOF
label: dos
label-id: 0x7a1a6e01
start=$FAT_START, size=$FAT_SECTORS, type=c
start=$EXT_START, size=$EXT_SECTORS, type=83
EOF
dd if="$TMP/fat.img" of="$IMG" bs=1M seek=$((FAT_START * 512)) oflag=seek_bytes conv=notrunc,sparse status=none
dd if="$TMP/ext.img" of="$IMG" bs=1M seek=$((EXT_START * 512)) oflag=seek_bytes conv=notrunc,sparse status=none

{
    printf '1\tfat32\t%s\t%s\t%s\t%s\n' "$FAT_START" "$FAT_SECTORS" \
        "$(find "$TMP/fat" -type f | wc -l)" "$(cat "$TMP/fat.bytes")"
    printf '2\text4\t%s\t%s\t%s\t%s\n' "$EXT_START" "$EXT_SECTORS" \
        "$(find "$TMP/ext" -type f | wc -l)" "$(cat "$TMP/ext.bytes")"
} >"$OUT_DIR/triage-disk.tsv"
mv -f "$IMG" "$OUT_DIR/triage-disk.img"
echo "$STAMP" >"$OUT_DIR/triage-disk.done"
say "wrote $OUT_DIR/triage-disk.img ($(($(stat -c %s "$OUT_DIR/triage-disk.img") >> 20)) MiB) in ${SECONDS}s"
