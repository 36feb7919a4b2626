#!/usr/bin/env bash
# Rebuilds the demo hash sets in this folder from the sample device's truth manifest
# (tests/sample/make_sample_device.sh OUT_DIR writes OUT_DIR/truth.tsv). File contents on
# the sample device are fixed, so the lists only change if the sample's planted files do.
#
#   rules/hashsets/make_demo_sets.sh build/sample/truth.tsv
set -euo pipefail
truth=${1:?usage: make_demo_sets.sh TRUTH.tsv}
here=$(cd "$(dirname "$0")" && pwd)

# truth.tsv columns: partition fs path size md5 sha1 sha256 deleted keywords kind
# pick FIELD PATH-SUFFIX...: "<digest>  <path>" lines, sha256sum style, in the given order.
pick() {
  local field=$1
  shift
  for suffix in "$@"; do
    awk -F'\t' -v f="$field" -v s="$suffix" \
      'NR > 1 && substr($3, length($3) - length(s) + 1) == s { print $f "  " $3; n++ }
       END { if (n != 1) { print "make_demo_sets: " s " matches " n+0 " rows" > "/dev/stderr"; exit 1 } }' \
      "$truth"
  done
}

{
  echo "# Exhibit demo known-bad set: planted files on the built-in sample device."
  echo "# Made by rules/hashsets/make_demo_sets.sh from tests/sample truth.tsv. Not real intelligence."
  echo "# SHA-256 (sha256sum output)"
  pick 7 /bluebird/card_dump_march.txt /bluebird/archive.bin /travel/itinerary.txt:hidden
  echo "# MD5 (md5sum output)"
  pick 5 /market/wallet_keys.txt
  echo "# SHA-1 (sha1sum output)"
  pick 6 /Pictures/drop_location.jpg
} >"$here/demo-known-bad.txt"

{
  echo "# Exhibit demo known-good set: ordinary files on the built-in sample device."
  echo "# Made by rules/hashsets/make_demo_sets.sh from tests/sample truth.tsv. Not real NSRL data."
  echo "# SHA-256 (sha256sum output); the empty file is in every real known-good set"
  pick 7 /README.TXT /Desktop/empty.txt
  echo "# MD5 (md5sum output)"
  pick 5 /holiday_001.jpg /holiday_002.jpg /IMG_0001.JPG
  echo "# SHA-1 (sha1sum output)"
  pick 6 /etc/hostname
} >"$here/demo-known-good.txt"
echo "make_demo_sets: wrote $here/demo-known-bad.txt and $here/demo-known-good.txt" >&2
