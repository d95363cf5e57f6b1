#!/usr/bin/env bash
# The benchmark suite (pytest-benchmark), run from one command.
#   scripts/bench.sh                   every benchmark, results saved under benchmarks/results/
#   scripts/bench.sh --compare         ... and compared with the newest saved run: fails when a median is
#                                      more than 50 % slower (machines are noisy; use the same machine)
#   scripts/bench.sh --regression      only the side-by-side ratio checks (what CI runs): each compares
#                                      onevox with the slower reference measured in the same run, so it
#                                      holds on any machine
# Extra arguments go to pytest (e.g. -k inference).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || bash scripts/setup.sh --test
args=(benchmarks -p no:cacheprovider --benchmark-storage=file://benchmarks/results
      --benchmark-columns=median,iqr,min,rounds --benchmark-sort=name)
case "${1:-}" in
  --compare) shift; args+=(--benchmark-autosave --benchmark-compare --benchmark-compare-fail=median:50%) ;;
  --regression) shift; args+=(-m regression --benchmark-disable) ;;
  *) args+=(--benchmark-autosave) ;;
esac
exec .venv/bin/python -m pytest "${args[@]}" "$@"
