#!/usr/bin/env bash
# Runs the benchmarks, each beside its baseline, six times, and prints one
# benchstat table per benchmark with lu's ratio to the baseline.
#
#   scripts/bench.sh [output-file]
#
# The six runs are interleaved: the test binary runs every benchmark once,
# six times over, so that lu and its baseline are measured close together
# in time and a machine whose speed drifts (a virtual machine sharing its
# host) moves both columns alike. `-count 6` would give the same number of
# samples but run all six of one benchmark back to back; BENCH_MODE=count
# does exactly that instead. BENCH_MODE=report only prints the tables of an
# earlier run's output file.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v benchstat >/dev/null; then
  go install golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
  PATH="$(go env GOPATH)/bin:$PATH"
fi

out=${1:-$(mktemp -t lu-bench.XXXXXX)}
if [[ ${BENCH_MODE:-interleave} == report ]]; then
  : # report on an existing output file
elif [[ ${BENCH_MODE:-interleave} == count ]]; then
  go test -run '^$' -bench . -count 6 -timeout 60m . | tee "$out"
else
  bin=$(mktemp -t lu-bench-bin.XXXXXX)
  trap 'rm -f "$bin"' EXIT
  go test -c -o "$bin" .
  : >"$out"
  for run in 1 2 3 4 5 6; do
    echo "# run $run of 6" >&2
    "$bin" -test.run '^$' -test.bench . -test.count 1 -test.timeout 60m | tee -a "$out"
  done
fi

echo
echo "# Results ($out)"
for pair in Launch:errgroup ShutdownLatency:errgroup Hooks:loop Emit:call; do
  name=${pair%%:*}
  base=${pair#*:}
  echo
  echo "## $name (baseline: $base)"
  benchstat -filter ".name:$name" -col "/impl@($base lu)" "$out"
done
echo
echo "## RegisterHooks (no baseline: growth from N=100 to N=10000)"
benchstat -filter ".name:RegisterHooks" -col /N "$out"
echo
echo "## Launch growth from N=100 to N=10000, lu and errgroup"
benchstat -filter ".name:Launch" -row /impl -col /N "$out"
echo
echo "## lu's ratio to its baseline in each run (the two measured moments apart)"
awk '/^Benchmark(Launch|ShutdownLatency|Hooks)\//{
  key = $1; sub(/impl=[a-z]+\//, "", key); sub(/^Benchmark/, "", key)
  if ($1 ~ /impl=lu/) { r[key] = r[key] sprintf(" %.2f", $3 / base[key]) } else { base[key] = $3 }
} END { for (k in r) printf "%-26s%s\n", k, r[k] }' "$out" | sort
