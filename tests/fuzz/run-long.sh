#!/usr/bin/env bash
# run-long.sh [SECONDS_PER_TARGET=600] [BUILD_DIR=build-fuzz] [TARGET...]
# Fuzzes every target for longer than CI does, on a working copy of its corpus under
# BUILD_DIR/fuzz-long/, and prints one line per target: executions, coverage, corpus size
# and any crash found (left in BUILD_DIR/fuzz-long/<target>/artifacts/ to minimise, fix,
# and commit under tests/fuzz/crashes/<target>/). Targets with a dict/<target>.dict fuzz
# with it. Naming TARGETs runs only those. Build first:
#   cmake -S . -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DEXHIBIT_FUZZ=ON
#   cmake --build build-fuzz --target exhibit_fuzzers
set -uo pipefail
seconds=${1:-600}
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${2:-$here/../../build-fuzz}" && pwd)
status=0
printf '%-22s %10s %8s %8s %6s  %s\n' target execs cov ft corpus crashes
targets=("${@:3}")
for dir in "$here"/corpus/*/; do
  name=$(basename "$dir")
  if ((${#targets[@]})) && [[ ! " ${targets[*]} " == *" $name "* ]]; then continue; fi
  fuzzer=$build/tests/fuzz/$name
  [[ -x $fuzzer ]] || { echo "$name: not built" >&2; status=1; continue; }
  work=$build/fuzz-long/$name
  mkdir -p "$work/corpus" "$work/artifacts"
  cp -rn "$dir." "$work/corpus/"
  dict=()
  [[ -f $here/dict/$name.dict ]] && dict=(-dict="$here/dict/$name.dict")
  "$fuzzer" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" "${dict[@]}" "$work/corpus" >"$work/log" 2>&1
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$work/log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$work/log" | tail -1)
  line=${done_line:-$last}
  execs=$(grep -E '^stat::number_of_executed_units' "$work/log" | awk '{print $2}')
  cov=$(sed -nE 's/.*cov: ([0-9]+).*/\1/p' <<<"$line")
  ft=$(sed -nE 's/.*ft: ([0-9]+).*/\1/p' <<<"$line")
  crashes=$(ls "$work/artifacts" | wc -l)
  ((crashes > 0)) && status=1
  printf '%-22s %10s %8s %8s %6s  %s\n' "$name" "${execs:-?}" "${cov:-?}" "${ft:-?}" \
    "$(ls "$work/corpus" | wc -l)" "$crashes$( ((crashes > 0)) && echo " ($(ls "$work/artifacts" | tr '\n' ' '))")"
done
exit $status
