#!/usr/bin/env bash
# Runs the benchmarks, each beside its baseline, six times, and prints one
# benchstat table per benchmark with lu's ratio to the baseline.
#
#   scripts/bench.sh [output-file]
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v benchstat >/dev/null; then
  go install golang.org/x/perf/cmd/benchstat@v0.0.0-20260908200009-22c9c6c9d4da
  PATH="$(go env GOPATH)/bin:$PATH"
fi

out=${1:-$(mktemp -t lu-bench.XXXXXX)}
go test -run '^$' -bench . -count 6 -timeout 60m . | tee "$out"

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
echo "## Launch growth from N=100 to N=10000"
benchstat -filter ".name:Launch /impl:lu" -col /N "$out"
