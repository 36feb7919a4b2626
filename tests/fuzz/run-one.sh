#!/usr/bin/env bash
# run-one.sh FUZZER SOURCE_DIR SECONDS [extra libFuzzer flags...]
# Replays corpus/<target> and crashes/<target> (every committed input must pass), then
# fuzzes for SECONDS on a scratch copy of the corpus, with dict/<target>.dict when there is
# one. Prints libFuzzer's final stats.
set -euo pipefail
fuzzer=$1 src=$2 seconds=$3; shift 3
name=$(basename "$fuzzer")
scratch=$(mktemp -d); trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/corpus" "$scratch/artifacts"
inputs=("$src/corpus/$name")
[[ -d $src/crashes/$name ]] && inputs+=("$src/crashes/$name")
flags=(-timeout=25 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$scratch/artifacts/")
[[ -f $src/dict/$name.dict ]] && flags+=(-dict="$src/dict/$name.dict")
"$fuzzer" "${flags[@]}" -runs=0 "${inputs[@]}" 2>"$scratch/replay.log" ||
  { cat "$scratch/replay.log"; echo "run-one: $name fails on a committed input" >&2; exit 1; }
cp -r "$src/corpus/$name/." "$scratch/corpus/"
if ! "$fuzzer" "${flags[@]}" -max_total_time="$seconds" "$@" "$scratch/corpus" 2>"$scratch/fuzz.log"; then
  tail -n 60 "$scratch/fuzz.log"
  for f in "$scratch"/artifacts/*; do
    [[ -e $f ]] && { echo "run-one: $name found $(basename "$f"):"; od -A d -t x1 "$f" | head -20; }
  done
  exit 1
fi
grep -E '^stat::|^#[0-9]+.*DONE' "$scratch/fuzz.log" || true
echo "run-one: $name: $(ls "$scratch/corpus" | wc -l) corpus inputs after ${seconds}s"
