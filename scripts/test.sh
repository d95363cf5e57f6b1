#!/usr/bin/env bash
# Installs everything (system packages, .venv with test extras) and runs the whole test suite:
# lint, unit tests, the accuracy test with the real bundled model, and the end-to-end tests on a virtual
# desktop (Xvfb + PulseAudio virtual microphone + a real Tk window), and the benchmark suite run once as
# tests (its side-by-side speed regression checks included). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test
.venv/bin/ruff check src tests benchmarks
set +e
if [ "$#" -eq 0 ]; then set -- tests benchmarks --benchmark-disable; fi
.venv/bin/python -m pytest "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then echo "no tests were collected" >&2; exit 1; fi
exit "$rc"
