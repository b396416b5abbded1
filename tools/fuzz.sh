#!/bin/sh
# Runs every fuzz harness (tests/fuzz/fuzz_*.cpp) with libFuzzer for N minutes each, one at a
# time, and prints per harness: executions, coverage (cov/ft from libFuzzer's final status line)
# and findings. New corpus entries and findings go to OUT, never into the source tree.
#   tools/fuzz.sh N [harness ...]
# Environment: BUILD (default build-fuzz: configured and its harnesses built when missing),
#   OUT (default ${TMPDIR:-/tmp}/ctformer-fuzz), FUZZ_FLAGS (extra libFuzzer flags).
# Limits (issue 15: no input under 1 MB may use more than 256 MB or take more than a second):
# -max_len=1048576, -malloc_limit_mb=256 (no allocation of 256 MB or more), -timeout=1, and
# -rss_limit_mb=1024 for the whole process (AddressSanitizer's shadow memory and quarantine count
# there, so 256 would stop a harness that never allocates much; RSS_LIMIT_MB changes it). A
# harness stops at its first finding; the script exits 1 if any.
set -eu

if [ $# -lt 1 ]; then
  echo "usage: $0 MINUTES [harness ...]" >&2
  exit 2
fi
minutes=$1
shift
seconds=$(awk -v m="$minutes" 'BEGIN { s = int(m * 60); print (s < 1 ? 1 : s) }')
root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build-fuzz}
out=${OUT:-${TMPDIR:-/tmp}/ctformer-fuzz}
bin=$build/tests/fuzz/harnesses

if [ ! -d "$bin" ]; then
  cmake -S "$root" -B "$build" -DCTFORMER_BUILD_EXAMPLES=OFF -DCTFORMER_BUILD_BENCHMARKS=OFF >/dev/null
fi
nice -n 10 cmake --build "$build" -j1 --target ctformer_fuzz_harnesses >/dev/null

if [ $# -eq 0 ]; then
  set -- $(cd "$root/tests/fuzz" && ls fuzz_*.cpp | sed 's/^fuzz_//; s/\.cpp$//')
fi

total_findings=0
printf '%-18s %12s %8s %8s %9s  %s\n' harness executions cov ft findings log
for h in "$@"; do
  exe=$bin/fuzz_$h
  [ -x "$exe" ] || { echo "fuzz.sh: no harness $exe" >&2; exit 2; }
  dir=$out/$h
  mkdir -p "$dir/corpus" "$dir/findings"
  seeds=""
  for kind in corpus regressions; do
    [ -d "$root/tests/fuzz/$kind/$h" ] && seeds="$seeds $root/tests/fuzz/$kind/$h"
  done
  before=$(ls "$dir/findings" | wc -l)
  # shellcheck disable=SC2086
  nice -n 10 "$exe" -max_total_time="$seconds" -max_len=1048576 -malloc_limit_mb=256 \
    -rss_limit_mb="${RSS_LIMIT_MB:-1024}" -timeout=1 -print_final_stats=1 \
    -artifact_prefix="$dir/findings/" ${FUZZ_FLAGS:-} "$dir/corpus" $seeds >"$dir/log" 2>&1 || true
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' "$dir/log" | tail -n 1 | sed 's/cov: //')
  ft=$(grep -o 'ft: [0-9]*' "$dir/log" | tail -n 1 | sed 's/ft: //')
  found=$(( $(ls "$dir/findings" | wc -l) - before ))
  total_findings=$((total_findings + found))
  printf '%-18s %12s %8s %8s %9s  %s\n' "$h" "${execs:-?}" "${cov:-?}" "${ft:-?}" "$found" "$dir/log"
done
echo "fuzz.sh: $minutes min per harness; findings in $out/<harness>/findings/ ($total_findings new)"
[ "$total_findings" -eq 0 ]
