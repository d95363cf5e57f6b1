#!/usr/bin/env bash
# The long-run soak: the real daemon code in-process (onevox.daemon.app.Daemon), a FileAudioSource playing the
# clips of tests/data/speech in fast mode as the microphone, the real Silero VAD, the real bundled tiny.en model
# and the stdout injector writing into memory.
#   scripts/soak.sh                      1,000 consecutive dictations + a 10-minute hands-free session
#   scripts/soak.sh --dictations 200 --session-minutes 3      a shorter run
#   scripts/soak.sh --fuzz               ... and then 10,000 fuzzed IPC messages at a running daemon
# Checks: every dictation's text delivered and within 0.15 normalised WER of `onevox transcribe` on the same
# clip; resident memory (VmRSS after gc + malloc_trim, sampled once per cycle through the clips) growing
# < 5 MB after warm-up; the hands-free session (toggle mode, VAD-cut segments) containing every clip
# occurrence in order, once, with no run of more than 6 missing or extra words.
# The summary (all figures) is printed and written to .test-artifacts/soak.json; exit status 1 on a failure.
# CI runs the shortened versions: pytest -m slow tests/soak tests/fuzz (90 dictations, a 2-minute session).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || bash scripts/setup.sh --test
fuzz=0
args=()
for arg in "$@"; do
  if [ "$arg" = "--fuzz" ]; then fuzz=1; else args+=("$arg"); fi
done
mkdir -p .test-artifacts
.venv/bin/python -m tests.soak.soak --json .test-artifacts/soak.json "${args[@]}"
if [ "$fuzz" = 1 ]; then
  .venv/bin/python -m pytest -p no:cacheprovider -q -s tests/fuzz/test_ipc_daemon.py
fi
