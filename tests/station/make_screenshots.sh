#!/usr/bin/env bash
# Saves a screenshot of every station screen, day and night, at 1280x800 and 1920x1080, by
# running the real exhibit-station under Xvfb with Mesa's software OpenGL through
# station_tour.script on the sample device, with the demo known-bad hash set of
# rules/hashsets (five planted files, one a picture), the shipped rule packs plus one that
# does not compile (so Findings has its "Not fully scanned" group) and a demo keyword list
# installed in a scratch EXHIBIT_HOME.
#   tests/station/make_screenshots.sh BUILD_DIR OUT_DIR
set -euo pipefail
build=$(cd "$1" && pwd) out=$2
here=$(cd "$(dirname "$0")" && pwd)
export EXHIBIT_HOME=$out/exhibit-home
rm -rf "$EXHIBIT_HOME" && mkdir -p "$EXHIBIT_HOME/keywords"
"$build/app/cli/exhibit" hashset import --name demo-bad --kind known-bad \
  --category "demo planted" "$here/../../rules/hashsets/demo-known-bad.txt" > /dev/null
printf 'darkmarket.onion\noperation bluebird\n' > "$EXHIBIT_HOME/keywords/bluebird.txt"
mkdir -p "$EXHIBIT_HOME/rules"
ln -s "$here"/../../rules/*.yar "$EXHIBIT_HOME/rules/"
printf 'rule demo_broken { condition: no_such_identifier }\n' \
  > "$EXHIBIT_HOME/rules/demo_does_not_compile.yar"
for geometry in 1280x800 1920x1080; do
  dir=$out/$geometry
  rm -rf "$dir" && mkdir -p "$dir"
  OUT=$dir LIBGL_ALWAYS_SOFTWARE=1 xvfb-run -a -s "-screen 0 ${geometry}x24" \
    "$build/app/station/exhibit-station" --geometry "$geometry" --no-hotplug \
    --sysfs "$dir/no-sysfs" --cases "$dir/cases" --image "$build/sample/sample.img" \
    --rules "$EXHIBIT_HOME/rules" \
    --script "$here/station_tour.script"
  rm -rf "$dir/cases"
  echo "$dir: $(ls "$dir" | wc -l) screenshots"
done
