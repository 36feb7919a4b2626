#!/usr/bin/env bash
# Regenerates the seed inputs under corpus/ (committed; run again only to change them).
# Disk-image seeds are made by the real mkfs tools, kept tiny so mutations stay fast.
#   make-seeds.sh                  every target's seeds
#   make-seeds.sh fuzz_bag ...     only those targets' seeds
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
c=$here/corpus
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
exhibit=${EXHIBIT:-$here/../../build/app/cli/exhibit}
want() { [[ ${#only[@]} -eq 0 || " ${only[*]} " == *" $1 "* ]]; }
only=("$@")
for t in fuzz_bot fuzz_scsi_filter fuzz_split_naming fuzz_sysfs_attribute fuzz_checkpoint \
  fuzz_tsk_walk fuzz_walk_messages fuzz_custody_log fuzz_bag fuzz_hashset_formats fuzz_keywords \
  fuzz_config; do
  want $t && mkdir -p "$c/$t"
done

if want fuzz_bot; then

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
fi
if want fuzz_scsi_filter; then
# SCSI: first byte picks the command set (0 unknown, 1 block, 2 multimedia), then the CDB.
printf '\x01\x28\x00\x00\x00\x00\x00\x00\x00\x08\x00' > "$c/fuzz_scsi_filter/block-read10"
printf '\x01\x2a\x00\x00\x00\x00\x00\x00\x00\x08\x00' > "$c/fuzz_scsi_filter/block-write10"
printf '\x00\x12\x00\x00\x00\x24\x00' > "$c/fuzz_scsi_filter/unknown-inquiry"
printf '\x01\x85\x08\x0e\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\xec\x00' > "$c/fuzz_scsi_filter/block-ata16-identify"
printf '\x01\x9e\x10\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x20\x00\x00' > "$c/fuzz_scsi_filter/block-read-capacity16"
printf '\x02\x43\x00\x00\x00\x00\x00\x00\x00\x14\x00' > "$c/fuzz_scsi_filter/mmc-read-toc"
fi
if want fuzz_split_naming; then
# Split naming: names relative to the target's scratch directory.
for n in img.000 img.001 img.aa x.001 a.b.001 z.zz image.raw; do printf '%s' "$n" > "$c/fuzz_split_naming/$n"; done
fi
if want fuzz_sysfs_attribute; then
printf '1\n' > "$c/fuzz_sysfs_attribute/one"
printf '  SanDisk Cruzer  \n' > "$c/fuzz_sysfs_attribute/model"
fi
if want fuzz_checkpoint; then
# A real checkpoint, from an acquisition killed part-way.
head -c $((9 << 20)) /dev/urandom > "$tmp/src.img"
EXHIBIT_TEST_KILL_AFTER_BYTES=$((8 << 20)) "$exhibit" acquire "$tmp/src.img" --out "$tmp/out" \
  --format split --segment-size 5M --checkpoint-every 4M --case C1 --json >/dev/null 2>&1 || true
cp "$tmp/out/image.checkpoint.json" "$c/fuzz_checkpoint/split-at-4M.json"
fi
if want fuzz_tsk_walk; then
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
fi

# pack DIR FILE...: a fuzz_files.hpp container of DIR's FILEs (paths relative to DIR).
pack() {
  local dir=$1; shift
  for f in "$@"; do printf '=== %s\n' "$f"; cat "$dir/$f"; done
}
# A real sealed bundle: `exhibit run` on a 4 KiB raw source (no file system), and on a
# 64 KiB FAT12 one with a file, so the case has file rows and the report has content.
if want fuzz_custody_log || want fuzz_bag || want fuzz_config; then
  head -c 4096 /dev/urandom > "$tmp/src.raw"
  printf 'hello exhibit\n' > "$tmp/a.txt"
  truncate -s 64K "$tmp/fat.img"; mkfs.vfat -F 12 -n SEED "$tmp/fat.img" >/dev/null
  MTOOLS_SKIP_CHECK=1 mcopy -i "$tmp/fat.img" "$tmp/a.txt" ::/A.TXT
  for src in src.raw fat.img; do
    EXHIBIT_HOME=$tmp/home "$exhibit" run "$tmp/$src" --out "$tmp/bag-$src" --case OP-SEED \
      --exhibit JD/1 --operator 'DC Seed' --operator-id 4711 --image raw >/dev/null
  done
fi
if want fuzz_custody_log; then
  cp "$tmp/bag-src.raw/data/custody.jsonl" "$c/fuzz_custody_log/run-raw.jsonl"
  cp "$tmp/bag-fat.img/data/custody.jsonl" "$c/fuzz_custody_log/run-fat.jsonl"
  head -n 2 "$tmp/bag-src.raw/data/custody.jsonl" > "$c/fuzz_custody_log/opened.jsonl"
fi
if want fuzz_bag; then
  b=$tmp/bag-src.raw
  tags=(bagit.txt bag-info.txt manifest-sha256.txt tagmanifest-sha256.txt seal.json)
  pack "$b" "${tags[@]}" $(cd "$b" && find data -type f | sort) > "$c/fuzz_bag/sealed-raw"
  # The same bag without its larger payload files (the manifest still lists them).
  pack "$b" "${tags[@]}" data/custody.jsonl data/image/image.acquisition.json \
    data/image/image.raw > "$c/fuzz_bag/tags-and-image"
fi
if want fuzz_config; then
  { printf '\x01'; cat "$tmp/bag-fat.img/data/image/image.acquisition.json"; } \
    > "$c/fuzz_config/acquisition-record"
  # The station's case.json, with the keys CaseStore::save writes.
  printf '\x00{\n  "case": "OP-BLUEBIRD",\n  "exhibit": "JD/1",\n  "location": "Custody suite 2",\n  "notes": "",\n  "operator": "DC Jane Doe",\n  "operator_number": "4711",\n  "updated": "2026-11-22T04:43:25.811Z",\n  "warrant": "W/2026/118"\n}\n' \
    > "$c/fuzz_config/station-case-json"
fi
if want fuzz_hashset_formats; then
  h=$c/fuzz_hashset_formats
  mkdir -p "$tmp/files"; printf 'alpha\n' > "$tmp/files/a.txt"; printf 'beta\n' > "$tmp/files/b.txt"
  head -c 300 /dev/urandom > "$tmp/files/c.bin"
  (cd "$tmp/files" && { printf '\x00'; md5sum a.txt b.txt c.bin; }) > "$h/list-md5sum"
  (cd "$tmp/files" && { printf '\x00'; sha256sum --tag a.txt b.txt; sha1sum c.bin; }) > "$h/list-tags"
  (cd "$tmp/files" && { printf '\x01'; hashdeep -c md5,sha256 a.txt b.txt c.bin; }) > "$h/hashdeep"
  md5() { md5sum "$tmp/files/$1" | cut -c1-32 | tr a-f A-F; }
  sha1() { sha1sum "$tmp/files/$1" | cut -c1-40 | tr a-f A-F; }
  printf '{"@odata.context":"http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/Default/$metadata#Media","value":[{"MediaID":1,"Category":1,"MD5":"%s","SHA1":"%s","MediaSize":6},{"MediaID":2,"Category":2,"MediaFiles":[{"MD5":"%s"}]}]}\n' \
    "$(md5 a.txt)" "$(sha1 a.txt)" "$(md5 c.bin)" > "$tmp/vics.json"
  { printf '\x02'; cat "$tmp/vics.json"; } > "$h/vics"
  # NSRL RDS v3's FILE table (its published schema), two rows.
  sqlite3 "$tmp/rds.db" "CREATE TABLE FILE (sha256 VARCHAR NOT NULL, sha1 VARCHAR NOT NULL,
    md5 VARCHAR NOT NULL, file_name VARCHAR NOT NULL, file_size INTEGER NOT NULL,
    package_id INTEGER NOT NULL, CONSTRAINT PK_FILE__FILE PRIMARY KEY (sha256, sha1, md5,
    file_name, file_size, package_id));
    INSERT INTO FILE VALUES ('$(sha256sum "$tmp/files/a.txt" | cut -c1-64 | tr a-f A-F)',
      '$(sha1 a.txt)', '$(md5 a.txt)', 'a.txt', 6, 1);
    INSERT INTO FILE VALUES ('', '$(sha1 b.txt)', '$(md5 b.txt)', 'b.txt', 5, 1);"
  { printf '\x03'; cat "$tmp/rds.db"; } > "$h/nsrl"
  # A real store: set.json alone, and the set with its tables.
  EXHIBIT_HOME=$tmp/home "$exhibit" hashset import "$tmp/vics.json" --name vic --kind known-bad \
    --format vics >/dev/null
  (cd "$tmp/files" && md5sum a.txt b.txt > list.md5 && sha256sum c.bin >> list.md5)
  EXHIBIT_HOME=$tmp/home "$exhibit" hashset import "$tmp/files/list.md5" --name sums \
    --kind known-good >/dev/null
  { printf '\x04'; cat "$tmp/home/hashsets/vic/set.json"; } > "$h/set-json"
  s=$tmp/home/hashsets
  { printf '\x05'; pack "$s/vic" set.json md5.bin sha1.bin; } > "$h/store-vic"
  { printf '\x05'; pack "$s/sums" set.json md5.bin sha256.bin; } > "$h/store-sums"
fi
if want fuzz_keywords; then
  # The sample device's planted terms, as the keyword triage test lists them, and a regex.
  printf '# OP-BLUEBIRD case terms\noperation bluebird\n4929-1234-5678-9012\ndarkmarket.onion\n' \
    > "$c/fuzz_keywords/sample-terms"
  printf '\xef\xbb\xbfcafé\r\n  /bluebird[0-9]{2}/  \r\n\t# note\nstraße\n' > "$c/fuzz_keywords/utf8-regex-crlf"
fi
# Parser-worker messages: a selector byte (which decoder) and a CBOR payload as the
# worker sends it (a tiny CBOR encoder: maps, text, unsigned and negative ints, bools).
if want fuzz_walk_messages; then
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
# The per-file messages: little-endian fields, strings with a u32 length first.
def s32(v): b = v.encode(); return struct.pack('<I', len(b)) + b
entry = (struct.pack('<I', 0) + s32("Users/alice/notes.txt") + s32("notes.txt") + s32("") +
         struct.pack('<Q', 14) + b"rr" + struct.pack('<Q', 2139) + bytes([1, 1, 1]) +
         struct.pack('<qqqq', 1700000000, 0, 1700000000, -1) + struct.pack('<III', 420, 0, 0) +
         struct.pack('<HH', 0, 0) + struct.pack('<Q', 1234))
findings = (struct.pack('<Q', 17) + bytes([1]) + s32("") + s32("d41d8cd98f00b204e9800998ecf8427e") +
            s32("da39a3ee5e6b4b0d3255bfef95601890afd80709") +
            s32("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") +
            s32("text/plain") + s32("ASCII text") + bytes([0]) + s32("unknown") +
            struct.pack('<I', 1) + s32("yara") + s32("pem_private_key") + s32("private_keys") +
            s32("high") + s32('{"strings":[]}') +
            struct.pack('<I', 1) + s32("yara-truncated") + s32("/big.bin") + s32("first 1024 of 4096 bytes") +
            struct.pack('<QQQQ', 1, 1024, 1, 0))
seeds = {
    "frame-entry": bytes([0]) + bytes([4]) + struct.pack('<I', 200),
    "volumes": bytes([1]) + cbor({"type": "dos", "volumes": [
        {"i": 0, "o": 0, "l": 512, "d": "Primary Table (#0)", "a": False, "t": True},
        {"i": 2, "o": 1048576, "l": 33554432, "d": "Win95 FAT32 (0x0c)", "a": True, "t": False}]}),
    "file-system": bytes([2]) + cbor({"volume": 2, "offset": 1048576, "type": "fat32", "bs": 512, "bc": 65536}),
    "error": bytes([3]) + cbor({"volume": 3, "offset": 34603008, "message": "no file system"}),
    "entry": bytes([4]) + entry,
    "listing-done": bytes([5]) + cbor({"files": 40, "bytes": 5000000}),
    "begin": bytes([6]) + struct.pack('<Q', 17),
    "end": bytes([7]) + bytes([0]) + s32("content unreadable at offset 0"),
    "read": bytes([8]) + struct.pack('<QQ', 65536, 65536),
    "findings": bytes([9]) + findings,
}
for name, data in seeds.items(): open(f'{d}/{name}', 'wb').write(data)
PY
fi
echo "seeds written under $c"
