#!/usr/bin/env bash
# Installs everything (system packages, .venv with test extras) and runs the whole test suite:
# lint, the type check, unit tests, the accuracy test with the real bundled model, and the end-to-end tests on a virtual
# desktop (Xvfb + PulseAudio virtual microphone + a real Tk window; headless sway + a GTK 3 window, run as a test
# user that is created on first use), and the benchmark suite run once as
# tests (its side-by-side speed regression checks included). Extra arguments go to pytest.
#   scripts/test.sh --quick [pytest args]   only lint, the type check and the tests that need no desktop and no long run:
#       pytest -m "not e2e and not slow" over tests/ (pytest's testpaths; no benchmarks), a few minutes.
#       It installs nothing when .venv already has the test tools (no virtual desktop or microphone).
set -euo pipefail
cd "$(dirname "$0")/.."
quick=""
if [ "${1:-}" = "--quick" ]; then quick=1; shift; fi
if [ -z "$quick" ] || [ ! -x .venv/bin/mypy ] || [ ! -x .venv/bin/faster-whisper-server ]; then bash scripts/setup.sh --test; fi
.venv/bin/ruff check src tests benchmarks
.venv/bin/mypy  # strict over src/onevox ([tool.mypy] in pyproject.toml)
set +e
if [ -n "$quick" ]; then set -- -m "not e2e and not slow" "$@"
elif [ "$#" -eq 0 ]; then set -- tests benchmarks --benchmark-disable --durations=25; fi
.venv/bin/python -m pytest "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then echo "no tests were collected" >&2; exit 1; fi
exit "$rc"
