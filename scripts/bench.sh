#!/usr/bin/env bash
# Runs the benchmarks, each beside its baseline, six times, and prints one
# benchstat table per benchmark with lu's ratio to the baseline.
#
#   scripts/bench.sh [output-file]
#   BENCH_BASE=<git revision> scripts/bench.sh [output-file]
#
# The six runs are interleaved: the test binary runs every benchmark once,
# six times over, so that lu and its baseline are measured close together
# in time and a machine whose speed drifts (a virtual machine sharing its
# host) moves both columns alike. BenchmarkLaunchPaired goes further and
# alternates lu and the errgroup within one benchmark, reporting their
# ratio as lu/errgroup. `-count 6` would give the same number of samples but
# run all six of one benchmark back to back; BENCH_MODE=count does exactly
# that instead. BENCH_MODE=report only prints the tables of an earlier
# run's output file.
#
# With BENCH_BASE, the test binary of that revision is built too (in a
# temporary worktree) and the two binaries take turns, run by run; the
# output file then has a .base twin, and benchstat compares them.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v benchstat >/dev/null; then
  go install golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
  PATH="$(go env GOPATH)/bin:$PATH"
fi

out=${1:-$(mktemp -t lu-bench.XXXXXX)}
bench=${BENCH:-.}
if [[ ${BENCH_MODE:-interleave} == report ]]; then
  : # report on an existing output file
elif [[ ${BENCH_MODE:-interleave} == count ]]; then
  go test -run '^$' -bench "$bench" -count 6 -timeout 60m . | tee "$out"
else
  bin=$(mktemp -t lu-bench-bin.XXXXXX)
  base=""
  trap 'rm -f "$bin" ${base:+"$base"}' EXIT
  go test -c -o "$bin" .
  if [[ -n ${BENCH_BASE:-} ]]; then
    base=$(mktemp -t lu-bench-base.XXXXXX)
    tree=$(mktemp -d -t lu-bench-tree.XXXXXX)
    git worktree add -q --detach "$tree" "$BENCH_BASE"
    (cd "$tree" && go test -c -o "$base" .)
    git worktree remove --force "$tree"
    : >"$out.base"
  fi
  : >"$out"
  for run in 1 2 3 4 5 6; do
    echo "# run $run of 6" >&2
    if [[ -n $base ]]; then
      "$base" -test.run '^$' -test.bench "$bench" -test.count 1 -test.timeout 60m | tee -a "$out.base"
    fi
    "$bin" -test.run '^$' -test.bench "$bench" -test.count 1 -test.timeout 60m | tee -a "$out"
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
echo "## LaunchPaired (lu and errgroup alternating; lu/errgroup is their ratio)"
benchstat -filter ".name:LaunchPaired" "$out"
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
if [[ -f $out.base ]]; then
  echo
  echo "## Before ($BENCH_BASE, left) and after (right), run by run in turn"
  benchstat "$out.base" "$out"
fi
