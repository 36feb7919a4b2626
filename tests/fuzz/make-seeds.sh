#!/usr/bin/env bash
# Regenerates the seed inputs under corpus/ (committed; run again only to change them).
# Disk-image seeds are made by the real mkfs tools, kept tiny so mutations stay fast.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
c=$here/corpus
mkdir -p "$c"/{fuzz_bot,fuzz_scsi_filter,fuzz_split_naming,fuzz_sysfs_attribute,fuzz_checkpoint,fuzz_tsk_walk}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# BOT: a READ(10) CBW (31 bytes) and its CSW (13 bytes), little-endian fields.
python3 - "$c/fuzz_bot" <<'PY'
import struct, sys
d = sys.argv[1]
cdb = bytes([0x28, 0, 0, 0, 0, 0, 0, 0, 8, 0]) + bytes(6)
cbw = struct.pack('<IIIBBB', 0x43425355, 7, 4096, 0x80, 0, 10) + cdb
open(f'{d}/cbw-read10', 'wb').write(cbw)
open(f'{d}/csw-passed', 'wb').write(struct.pack('<IIIB', 0x53425355, 7, 0, 0))
open(f'{d}/max-lun-1-cbw', 'wb').write(bytes([1]) + cbw[1:])
PY
# SCSI: first byte picks the command set (0 unknown, 1 block, 2 multimedia), then the CDB.
printf '\x01\x28\x00\x00\x00\x00\x00\x00\x00\x08\x00' > "$c/fuzz_scsi_filter/block-read10"
printf '\x01\x2a\x00\x00\x00\x00\x00\x00\x00\x08\x00' > "$c/fuzz_scsi_filter/block-write10"
printf '\x00\x12\x00\x00\x00\x24\x00' > "$c/fuzz_scsi_filter/unknown-inquiry"
printf '\x01\x85\x08\x0e\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\xec\x00' > "$c/fuzz_scsi_filter/block-ata16-identify"
printf '\x01\x9e\x10\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x20\x00\x00' > "$c/fuzz_scsi_filter/block-read-capacity16"
printf '\x02\x43\x00\x00\x00\x00\x00\x00\x00\x14\x00' > "$c/fuzz_scsi_filter/mmc-read-toc"
# Split naming: names relative to the target's scratch directory.
for n in img.000 img.001 img.aa x.001 a.b.001 z.zz image.raw; do printf '%s' "$n" > "$c/fuzz_split_naming/$n"; done
printf '1\n' > "$c/fuzz_sysfs_attribute/one"
printf '  SanDisk Cruzer  \n' > "$c/fuzz_sysfs_attribute/model"
# A real checkpoint, from an acquisition killed part-way.
head -c $((9 << 20)) /dev/urandom > "$tmp/src.img"
exhibit=${EXHIBIT:-$here/../../build/app/cli/exhibit}
EXHIBIT_TEST_KILL_AFTER_BYTES=$((8 << 20)) "$exhibit" acquire "$tmp/src.img" --out "$tmp/out" \
  --format split --segment-size 5M --checkpoint-every 4M --case C1 --json >/dev/null 2>&1 || true
cp "$tmp/out/image.checkpoint.json" "$c/fuzz_checkpoint/split-at-4M.json"
# File systems: FAT12 and ext2, 64 KiB each, with a directory and two files, one deleted.
printf 'hello exhibit\n' > "$tmp/a.txt"; head -c 3000 /dev/urandom > "$tmp/b.bin"
truncate -s 64K "$tmp/fat.img"; mkfs.vfat -F 12 -n SEED "$tmp/fat.img" >/dev/null
MTOOLS_SKIP_CHECK=1 mmd -i "$tmp/fat.img" ::/DIR
MTOOLS_SKIP_CHECK=1 mcopy -i "$tmp/fat.img" "$tmp/a.txt" ::/DIR/A.TXT
MTOOLS_SKIP_CHECK=1 mcopy -i "$tmp/fat.img" "$tmp/b.bin" ::/B.BIN
MTOOLS_SKIP_CHECK=1 mdel -i "$tmp/fat.img" ::/B.BIN
cp "$tmp/fat.img" "$c/fuzz_tsk_walk/fat12-64k.img"
mkdir -p "$tmp/root/dir"; cp "$tmp/a.txt" "$tmp/root/dir/"; cp "$tmp/b.bin" "$tmp/root/"
truncate -s 128K "$tmp/ext.img"
mkfs.ext2 -q -b 1024 -N 16 -d "$tmp/root" "$tmp/ext.img"
cp "$tmp/ext.img" "$c/fuzz_tsk_walk/ext2-128k.img"
echo "seeds written under $c"
# Parser-worker messages: a selector byte (which decoder) and a CBOR payload as the
# worker sends it (a tiny CBOR encoder: maps, text, unsigned and negative ints, bools).
mkdir -p "$c/fuzz_walk_messages"
python3 - "$c/fuzz_walk_messages" <<'PY'
import struct, sys
d = sys.argv[1]
def head(major, n):
    if n < 24: return bytes([major << 5 | n])
    for add, fmt in ((24, '>B'), (25, '>H'), (26, '>I'), (27, '>Q')):
        if n < 1 << (8 * struct.calcsize(fmt)): return bytes([major << 5 | add]) + struct.pack(fmt, n)
def cbor(v):
    if v is True: return b'\xf5'
    if v is False: return b'\xf4'
    if isinstance(v, int): return head(0, v) if v >= 0 else head(1, -1 - v)
    if isinstance(v, str): b = v.encode(); return head(3, len(b)) + b
    if isinstance(v, list): return head(4, len(v)) + b''.join(cbor(x) for x in v)
    if isinstance(v, dict): return head(5, len(v)) + b''.join(cbor(k) + cbor(x) for k, x in v.items())
entry = {"fs": 0, "path": "Users/alice/notes.txt", "name": "notes.txt", "stream": "", "meta": 14,
         "nt": "r", "mt": "r", "size": 2139, "na": True, "ma": True, "m": 1700000000, "a": 0,
         "c": 1700000000, "b": -1, "mode": 420, "uid": 0, "gid": 0, "st": 0, "sid": 0,
         "first": 1234, "content": True}
seeds = {
    "frame-entry": bytes([0]) + bytes([4]) + struct.pack('<I', 200),
    "volumes": bytes([1]) + cbor({"type": "dos", "volumes": [
        {"i": 0, "o": 0, "l": 512, "d": "Primary Table (#0)", "a": False, "t": True},
        {"i": 2, "o": 1048576, "l": 33554432, "d": "Win95 FAT32 (0x0c)", "a": True, "t": False}]}),
    "file-system": bytes([2]) + cbor({"volume": 2, "offset": 1048576, "type": "fat32", "bs": 512, "bc": 65536}),
    "error": bytes([3]) + cbor({"volume": 3, "offset": 34603008, "message": "no file system"}),
    "entry": bytes([4]) + cbor(entry),
    "listing-done": bytes([5]) + cbor({"files": 40, "bytes": 5000000}),
    "begin": bytes([6]) + cbor({"ordinal": 17}),
    "end": bytes([7]) + cbor({"complete": False, "error": "content unreadable at offset 0"}),
    "read": bytes([8]) + struct.pack('<QQ', 65536, 65536),
}
for name, data in seeds.items(): open(f'{d}/{name}', 'wb').write(data)
PY
