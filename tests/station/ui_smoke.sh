#!/usr/bin/env bash
# Runs the real exhibit-station under Xvfb with Mesa's software OpenGL, drives it with a
# script at each size given and checks every screenshot it saved is a real picture (the
# right size, many colours, no single colour filling it).
#   ui_smoke.sh STATION SCRIPT SAMPLE_IMAGE OUT_DIR WxH...
# Exits 77 (ctest's skip) when Xvfb cannot be run here.
set -euo pipefail
station=$1 script=$2 sample=$3 out=$4
shift 4
command -v xvfb-run >/dev/null || { echo "SKIPPED: xvfb-run is not installed"; exit 77; }
command -v python3 >/dev/null || { echo "SKIPPED: python3 is not installed"; exit 77; }
# In the sanitizer build, LeakSanitizer reports 112 bytes from Mesa's software driver, which
# is dlopen'd and unloaded before exit, so LSan sees only "<unknown module>" frames it can
# neither attribute nor suppress. Leaks stay checked for the station's own code by
# station_test and station_ui_test (the same views, headless, leak detection on).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
for geometry in "$@"; do
  dir=$out/$geometry
  rm -rf "$dir" && mkdir -p "$dir"
  if ! xvfb-run -a -s "-screen 0 ${geometry}x24" true 2>/dev/null; then
    echo "SKIPPED: Xvfb cannot start here"; exit 77
  fi
  OUT=$dir LIBGL_ALWAYS_SOFTWARE=1 xvfb-run -a -s "-screen 0 ${geometry}x24" \
    "$station" --geometry "$geometry" --no-hotplug --sysfs "$dir/no-sysfs" \
    --cases "$dir/cases" --image "$sample" --script "$script"
  python3 - "$dir" "$geometry" <<'PY'
import pathlib, struct, sys, zlib
dir, geometry = pathlib.Path(sys.argv[1]), sys.argv[2]
want_w, want_h = map(int, geometry.split("x"))
shots = sorted(dir.glob("*.png"))
assert shots, f"no screenshots in {dir}"
for shot in shots:
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{shot} is not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, colour = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    assert (w, h) == (want_w, want_h), f"{shot} is {w}x{h}, not {geometry}"
    assert depth == 8 and colour == 2, f"{shot}: expected 8-bit RGB"
    raw = zlib.decompress(idat)
    stride, counts = w * 3, {}
    # exhibit-station writes unfiltered rows (filter type 0), so rows decode independently.
    for y in range(0, h, 4):
        start = y * (stride + 1)
        assert raw[start] == 0, f"{shot}: row {y} is filtered"
        line = raw[start + 1:start + 1 + stride]
        for x in range(0, stride, 12):
            px = line[x:x + 3]
            counts[px] = counts.get(px, 0) + 1
    total = sum(counts.values())
    assert len(counts) >= 16, f"{shot}: only {len(counts)} colours"
    assert max(counts.values()) < 0.97 * total, f"{shot}: one colour fills it"
    print(f"{shot.name}: {w}x{h}, {len(counts)} colours sampled")
PY
done
