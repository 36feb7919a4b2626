#!/usr/bin/env bash
# Saves a screenshot of every station screen, day and night, at 1280x800 and 1920x1080, by
# running the real exhibit-station under Xvfb with Mesa's software OpenGL through
# station_tour.script on the sample device.
#   tests/station/make_screenshots.sh BUILD_DIR OUT_DIR
set -euo pipefail
build=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
for geometry in 1280x800 1920x1080; do
  dir=$out/$geometry
  rm -rf "$dir" && mkdir -p "$dir"
  OUT=$dir LIBGL_ALWAYS_SOFTWARE=1 xvfb-run -a -s "-screen 0 ${geometry}x24" \
    "$build/app/station/exhibit-station" --geometry "$geometry" --no-hotplug \
    --sysfs "$dir/no-sysfs" --cases "$dir/cases" --image "$build/sample/sample.img" \
    --script "$here/station_tour.script"
  rm -rf "$dir/cases"
  echo "$dir: $(ls "$dir" | wc -l) screenshots"
done
