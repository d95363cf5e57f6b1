"""A CTranslate2 Whisper folder loaded for the engine: the model with its CPU threads, and the tokenizer. Kept
apart from the decoding in `whisper.py`, which only needs what these return."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import ctranslate2
import tokenizers

from onevox.asr.memory import limit_heap_arenas
from onevox.config import ModelConfig
from onevox.errors import ModelError

# Whisper's decoder works one token at a time through small matrix-vector products; for tiny and base, waking
# a second thread for each of them costs more than it saves (measured on two cores: one thread decoded
# faster, and a dictation's release-to-text fell with it). Only the encoder gains from more threads, on long
# windows, which dictation rarely encodes. Larger models have enough work per token to share.
SMALL_MODEL_BYTES = 200 * 1024 * 1024  # tiny and base in float16 (their usual conversion) or int8
# A decode cannot be stopped inside CTranslate2 once it has begun. One that its caller gives up (an
# incremental pass overtaken by the key's release) runs on to its end on one replica of the model while the
# next decode takes the other: replicas share the weights, so the second costs little memory.
DECODER_REPLICAS = 2
ABANDON_POLL_S = 0.002  # how often a decode that may be given up asks whether it is


def auto_threads(path: Path) -> int:
    """The CPU threads for the model in `path` when `[model] threads` is 0."""
    try:
        small = (path / "model.bin").stat().st_size <= SMALL_MODEL_BYTES
    except OSError:
        small = False
    return 1 if small else len(os.sched_getaffinity(0))


def encoder_threads(path: Path, cfg: ModelConfig) -> int:
    """Threads for a second copy of the model that only encodes, or 0 for none. Where the decoder runs on
    fewer threads than there are cores (`threads` auto on a small model), long windows encode faster on
    every core; the copy costs the model's weights once more in memory, so the engine asks for it only
    where its windows are long (`EngineOptions.split_encoder`). An explicit `threads` means one copy."""
    cores = len(os.sched_getaffinity(0))
    if cfg.threads or cfg.device != "cpu" or auto_threads(path) >= cores:
        return 0
    return cores


class Abandoned(Exception):
    """The caller gave the decode up before it finished (see `finish_or_abandon`)."""


def load_model(path: Path, cfg: ModelConfig, threads: int = 0,
               replicas: int = 1) -> ctranslate2.models.Whisper:
    """The model in `path` on `threads` CPU threads (0: `[model] threads`, or `auto_threads`) per replica;
    `replicas` decodes can run at once."""
    if not (path / "model.bin").is_file():
        raise ModelError(f"{path}: not a CTranslate2 Whisper model folder (no model.bin); "
                         "run `onevox models list` to see the models you can use")
    threads = threads or cfg.threads or auto_threads(path)
    limit_heap_arenas()  # before the model's threads first allocate (see asr/memory.py)
    try:
        return ctranslate2.models.Whisper(str(path), device=cfg.device, compute_type=cfg.compute_type,
                                          intra_threads=threads, inter_threads=replicas)
    except (RuntimeError, ValueError) as exc:
        raise ModelError(f"cannot load the model in {path} (device={cfg.device}, "
                         f"compute_type={cfg.compute_type}): {exc}") from exc


def finish_or_abandon(pending: ctranslate2.models.WhisperGenerationResultAsync,
                      abandon: Callable[[], bool]) -> ctranslate2.models.WhisperGenerationResult:
    """The result of a decode started asynchronously, unless `abandon()` turns true first: then `Abandoned`
    is raised and the decode finishes unread on its replica."""
    while not pending.done():
        if abandon():
            raise Abandoned
        time.sleep(ABANDON_POLL_S)
    return pending.result()


def load_tokenizer(path: Path) -> tokenizers.Tokenizer:
    file = path / "tokenizer.json"
    if not file.is_file():
        raise ModelError(f"{path}: model folder has no tokenizer.json; download the model again with "
                         "`onevox models download`")
    try:
        return tokenizers.Tokenizer.from_file(str(file))
    except Exception as exc:  # the tokenizers library raises its own exception type
        raise ModelError(f"{file}: cannot read the tokenizer: {exc}") from exc
