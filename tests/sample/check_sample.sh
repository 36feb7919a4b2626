#!/usr/bin/env bash
# check_sample.sh OUT_DIR
#
# Independent self-check of the sample evidence device written by make_sample_device.sh,
# using only The Sleuth Kit's command-line tools (mmls, fsstat, fls, icat) and coreutils:
#
#   * every row of layout.tsv is in the partition table as mmls reads it;
#   * every file system is recognised by fsstat with the expected type;
#   * every non-deleted truth row (including NTFS alternate data streams) is listed by
#     `fls -r -p` as an allocated entry, and its content read back with icat has the
#     recorded SHA-256;
#   * every deleted truth row is listed by `fls -r -p -d` (recovering deleted content is
#     not required; how many recover intact is printed for information only);
#   * the allocated regular files fls lists on each file system are exactly the
#     non-deleted truth rows (nothing missing, nothing extra; TSK's own $-prefixed
#     virtual/metadata files and FAT volume-label entries are ignored).
#
# Prints one line per failure, a per-partition summary, then "N passed, M failed";
# exits 0 only if nothing failed.  Set VERBOSE=1 to also print every passing check.
set -euo pipefail

PROG=check_sample
if [[ $# -ne 1 ]]; then
    printf 'usage: %s OUT_DIR\n' "$0" >&2
    exit 2
fi
DIR=$1
IMG=$DIR/sample.img TRUTH=$DIR/truth.tsv LAYOUT=$DIR/layout.tsv
for t in mmls fsstat fls icat; do
    command -v "$t" >/dev/null 2>&1 ||
        { printf '%s: required tool %s is missing; install the Debian package sleuthkit.\n' "$PROG" "$t" >&2; exit 2; }
done
for f in "$IMG" "$TRUTH" "$LAYOUT"; do
    [[ -f $f ]] || { printf '%s: %s does not exist; run make_sample_device.sh first.\n' "$PROG" "$f" >&2; exit 2; }
done
export LC_ALL=C

TMP=$(mktemp -d)
trap 'rm -rf -- "$TMP"' EXIT

PASS=0 FAIL=0
ok()   { PASS=$((PASS + 1)); [[ ${VERBOSE:-0} == 1 ]] && printf 'ok:   %s\n' "$*"; return 0; }
fail() { FAIL=$((FAIL + 1)); printf 'FAIL: %s\n' "$*"; }

# --- truth.tsv header ------------------------------------------------------------------
want_hdr=$'partition\tfs\tpath\tsize\tmd5\tsha1\tsha256\tdeleted\tkeywords\tkind'
if [[ $(head -n 1 "$TRUTH") == "$want_hdr" ]]; then ok "truth.tsv header"; else fail "truth.tsv header is not: $want_hdr"; fi

# --- partition table -------------------------------------------------------------------
if ! mmls "$IMG" >"$TMP/mmls" 2>&1; then
    fail "mmls cannot read the partition table: $(head -n 1 "$TMP/mmls")"
fi
declare -A FS_OF START_OF
while IFS=$'\t' read -r part type start count fs; do
    [[ $part == partition ]] && continue
    START_OF[$part]=$start FS_OF[$part]=$fs
    # mmls line: "005:  Meta  0000395264  0000430079  0000034816  DOS Extended (0x05)"
    if awk -v s="$start" -v c="$count" -v t="(0x$type)" \
        '$3 + 0 == s && $5 + 0 == c && index($0, t) { found = 1 } END { exit !found }' "$TMP/mmls"; then
        ok "partition $part ($fs) at sector $start, $count sectors, type 0x$type"
    else
        fail "mmls does not list partition $part ($fs) at sector $start with $count sectors and type 0x$type"
    fi
done <"$LAYOUT"

# --- per file system -------------------------------------------------------------------
# truth rows as: partition \037 path \037 sha256 \037 deleted  (\037 keeps empty fields)
awk -F'\t' -v OFS='\037' 'NR > 1 { print $1, $3, $7, $8 }' "$TRUTH" >"$TMP/truth.us"

for part in $(printf '%s\n' "${!FS_OF[@]}" | sort -n); do
    fs=${FS_OF[$part]}
    [[ $fs == extended ]] && continue
    off=${START_OF[$part]}
    case $fs in
        fat32) want_type=FAT32 ;; fat16) want_type=FAT16 ;; ext4) want_type=Ext4 ;; ntfs) want_type=NTFS ;;
        *) want_type=$fs ;;
    esac
    got_type=$(fsstat -o "$off" "$IMG" 2>/dev/null | sed -n 's/^File System Type: *//p' | head -n 1) || true
    if [[ $got_type == "$want_type" ]]; then
        ok "partition $part: fsstat reports $got_type"
    else
        fail "partition $part: fsstat reports file system type '${got_type:-none}', expected $want_type"
        continue
    fi

    # fls lines: "r/r 12:<TAB>path", "r/r * 26(realloc):<TAB>path", "-/r * 73-128-2:<TAB>path".
    # Output: alloc(0|1) \037 type \037 inode \037 /path
    for mode in all deleted; do
        flag=(); [[ $mode == deleted ]] && flag=(-d)
        if ! fls -r -p "${flag[@]}" -o "$off" "$IMG" >"$TMP/fls.$mode" 2>"$TMP/fls.err"; then
            fail "partition $part: fls ${flag[*]} failed: $(head -n 1 "$TMP/fls.err")"
        fi
        awk -F'\t' -v OFS='\037' '{
            meta = $1; path = $0; sub(/^[^\t]*\t/, "", path)
            n = split(meta, f, " "); inode = f[n]; sub(/:$/, "", inode); sub(/\(realloc\)$/, "", inode)
            print (meta ~ / \* /) ? 0 : 1, f[1], inode, "/" path
        }' "$TMP/fls.$mode" >"$TMP/fls.$mode.us"
    done
    # allocated regular files, excluding TSK virtual/metadata entries and FAT volume labels
    awk -F'\037' '$1 == 1 && $2 ~ /\/r$/ && $4 !~ /^\/\$/ && $4 !~ /\/\$/ && $4 !~ /\(Volume Label Entry\)$/ { print $4 }' \
        "$TMP/fls.all.us" | sort >"$TMP/alloc.paths"

    hashed=0 listed=0 recovered=0 ndel=0
    while IFS=$'\037' read -r tpart path sha256 deleted; do
        [[ $tpart == "$part" ]] || continue
        if [[ $deleted == 0 ]]; then
            inode=$(awk -F'\037' -v p="$path" '$1 == 1 && $4 == p { print $3; exit }' "$TMP/fls.all.us")
            if [[ -z $inode ]]; then
                fail "partition $part: $path is not listed by fls as an allocated file"
                continue
            fi
            got=$(icat -o "$off" "$IMG" "$inode" 2>/dev/null | sha256sum) || got="icat-error"
            got=${got%% *}
            if [[ $got == "$sha256" ]]; then
                ok "partition $part: $path (inode $inode) sha256 matches"
                hashed=$((hashed + 1))
            else
                fail "partition $part: $path (inode $inode) sha256 is $got, truth says $sha256"
            fi
        else
            ndel=$((ndel + 1))
            inode=$(awk -F'\037' -v p="$path" '$1 == 0 && $4 == p { print $3; exit }' "$TMP/fls.deleted.us")
            if [[ -n $inode ]]; then
                ok "partition $part: deleted $path listed by fls -d (inode $inode)"
                listed=$((listed + 1))
                got=$(icat -r -o "$off" "$IMG" "$inode" 2>/dev/null | sha256sum) || got=x
                [[ ${got%% *} == "$sha256" ]] && recovered=$((recovered + 1))
            else
                fail "partition $part: deleted $path is not listed by fls -d"
            fi
        fi
    done <"$TMP/truth.us"

    awk -F'\037' -v p="$part" '$1 == p && $4 == 0 { print $2 }' "$TMP/truth.us" | sort >"$TMP/truth.paths"
    if cmp -s "$TMP/alloc.paths" "$TMP/truth.paths"; then
        ok "partition $part: allocated files listed by fls match truth exactly"
    else
        fail "partition $part: allocated files listed by fls differ from truth (< fls only, > truth only):"
        diff "$TMP/alloc.paths" "$TMP/truth.paths" | grep '^[<>]' | sed 's/^/      /' || true
    fi
    printf 'partition %s (%s at sector %s): %d files hash-verified, %d of %d deleted listed, %d deleted recovered intact (info)\n' \
        "$part" "$fs" "$off" "$hashed" "$listed" "$ndel" "$recovered"
done

# --- keywords planted outside any file (unallocated.tsv) -------------------------------
UNALLOC=$DIR/unallocated.tsv
if [[ -f $UNALLOC ]]; then
    while IFS=$'\t' read -r region at kw; do
        [[ $region == region ]] && continue
        got=$(dd if="$IMG" bs=1 skip="$at" count=${#kw} status=none)
        # mmls lists the slot holding the byte as Unallocated (no partition).
        sector=$((at / 512))
        if [[ $got == "$kw" ]] && awk -v s="$sector" '$3 + 0 <= s && $4 + 0 >= s && /Unallocated/ { f = 1 } END { exit !f }' "$TMP/mmls"; then
            ok "'$kw' at byte $at, in $region space"
        else
            fail "'$kw' is not at byte $at in $region space (found '$got')"
        fi
    done <"$UNALLOC"
else
    fail "unallocated.tsv is missing"
fi

printf '%d passed, %d failed\n' "$PASS" "$FAIL"
((FAIL == 0))
