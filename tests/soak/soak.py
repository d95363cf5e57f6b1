"""Long runs through the real daemon code: many consecutive dictations, and one long hands-free session.

The CI suite runs short versions (tests/soak/test_soak.py, marked slow + model); the full soak is
    python -m tests.soak.soak --dictations 1000 --session-minutes 10 --json .test-artifacts/soak.json
(scripts/soak.sh). Each check raises AssertionError with the figures; the summary dict has them all.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any

import jiwer
import numpy as np

from onevox.audio import SAMPLE_RATE
from onevox.audio.files import load_audio
from tests.soak.rig import SoakRig, rss_kb, settled_rss_kb, soak_config
from tests.support.speech import SPEECH_DIR
from tests.support.wer import normalize, word_errors

MAX_GROWTH_MB = 5.0
MATCH_WER = 0.15  # a delivered text vs `onevox transcribe` of the same clip (live segmentation differs a bit)
SESSION_PAUSE_S = 1.2  # silence between clips in the hands-free session (a VAD cut, as a speaker's pause)
MIN_OCCURRENCE_HITS = 0.6  # share of a clip occurrence's words the session transcript must contain
MAX_RUN = 6  # longest run of inserted or deleted words tolerated (a lost or doubled segment is longer)


@dataclass(frozen=True)
class Clip:
    id: str
    text: str  # the reference transcript
    audio: np.ndarray  # 16 kHz mono float32


def load_clips(speech_dir: Path = SPEECH_DIR) -> list[Clip]:
    """The speech clips with plain references (no non-speech clips, none with a digit/spoken alt_text)."""
    entries = [json.loads(line) for line in (speech_dir / "manifest.jsonl").read_text().splitlines()
               if line.strip()]
    return [Clip(e["id"], e["text"], load_audio(speech_dir / e["file"])) for e in entries
            if e["text"].strip() and not e.get("alt_text")]


def transcribe_references(clips: list[Clip], config: Any, recognizer: Any) -> dict[str, str]:
    """What `onevox transcribe` prints for each clip (the same FileTranscriber, the same warm model)."""
    from onevox.transcribe import FileTranscriber

    transcriber = FileTranscriber(config, recognizer=recognizer)
    return {c.id: transcriber.transcribe_loaded(c.id, c.audio).text for c in clips}


# -- consecutive dictations ---------------------------------------------------------------------------------

def run_dictations(rig: SoakRig, clips: list[Clip], references: dict[str, str], count: int,
                   *, warm_up: int | None = None, progress: bool = False) -> dict[str, Any]:
    """`count` dictations cycling through `clips`; the summary has every figure `check_dictations` needs.

    Memory is sampled after each full cycle through the clips (like for like: the same clip came last), and
    growth is the median of the last few samples minus the median of the first few after `warm_up`
    dictations: single samples swing by several MB with the threads' allocation timing."""
    warm_up = max(10, count // 10) if warm_up is None else warm_up
    rss: list[tuple[int, int]] = []  # (dictations done, KiB)
    worst: tuple[float, str, str] = (0.0, "", "")
    texts: dict[str, Counter[str]] = {c.id: Counter() for c in clips}
    delivered = empty = mismatched = 0
    began = time.monotonic()
    for i, clip in zip(range(count), itertools.cycle(clips), strict=False):
        event, text = rig.dictate(clip.audio)
        text = text.strip()
        if text and not event["empty"]:
            delivered += 1
        else:
            empty += 1
        texts[clip.id][text] += 1
        wer = word_errors(references[clip.id], text).wer
        if wer > MATCH_WER:
            mismatched += 1
        worst = max(worst, (wer, clip.id, text))
        if (i + 1) % len(clips) == 0:
            rss.append((i + 1, settled_rss_kb()))
        if progress and (i + 1) % 50 == 0:
            print(f"  {i + 1}/{count} dictations, RSS {rss_kb() / 1024:.1f} MB", file=sys.stderr, flush=True)
    after = [kb for done, kb in rss if done >= warm_up]
    window = max(1, min(5, len(after) // 3))
    first, last = median(after[:window]), median(after[-window:])
    return {
        "dictations": count, "delivered": delivered, "empty": empty, "mismatched": mismatched,
        "worst_wer": round(worst[0], 3), "worst_clip": worst[1], "worst_text": worst[2],
        "distinct_texts": {k: len(v) for k, v in texts.items() if v}, "warm_up": warm_up,
        "rss_mb_after_warm_up": round(first / 1024, 2), "rss_mb_end": round(last / 1024, 2),
        "rss_mb_max_after_warm_up": round(max(after) / 1024, 2), "growth_mb": round((last - first) / 1024, 2),
        "rss_mb_per_cycle": [round(kb / 1024, 1) for _, kb in rss],
        "wall_s": round(time.monotonic() - began, 1), "errors": len(rig.errors),
    }


def check_delivery(summary: dict[str, Any]) -> None:
    assert summary["delivered"] == summary["dictations"], summary
    assert summary["mismatched"] == 0, summary
    assert summary["errors"] == 0, summary


def check_dictations(summary: dict[str, Any]) -> None:
    check_delivery(summary)
    assert summary["growth_mb"] < MAX_GROWTH_MB, summary


# -- hands-free session -------------------------------------------------------------------------------------

def session_audio(clips: list[Clip], minutes: float) -> tuple[np.ndarray, list[Clip]]:
    """The clips back to back with pauses, repeated until `minutes` of audio; returns (audio, order)."""
    pause = np.zeros(int(SESSION_PAUSE_S * SAMPLE_RATE), np.float32)
    parts: list[np.ndarray] = [pause]
    order: list[Clip] = []
    total = pause.size
    for clip in itertools.cycle(clips):
        if total >= minutes * 60 * SAMPLE_RATE:
            break
        parts += [clip.audio, pause]
        order.append(clip)
        total += clip.audio.size + pause.size
    return np.concatenate(parts), order


def score_session(order: list[Clip], transcript: str) -> dict[str, Any]:
    """Aligns the transcript with the concatenated references: which clip occurrences are there (in order,
    since the alignment is monotonic), and the longest runs of missing (gap) or extra (duplicate) words."""
    spans: list[tuple[str, int, int]] = []  # (clip id, first word, end) in the reference word sequence
    ref_words: list[str] = []
    for clip in order:
        words = normalize(clip.text).split()
        spans.append((clip.id, len(ref_words), len(ref_words) + len(words)))
        ref_words += words
    hyp = normalize(transcript)
    hits = np.zeros(len(ref_words), dtype=bool)
    longest = {"insert": 0, "delete": 0}
    errors = 0
    if hyp:
        out = jiwer.process_words(" ".join(ref_words), hyp)
        errors = out.substitutions + out.deletions + out.insertions
        for chunk in out.alignments[0]:
            if chunk.type == "equal":
                hits[chunk.ref_start_idx:chunk.ref_end_idx] = True
            elif chunk.type == "insert":
                longest["insert"] = max(longest["insert"], chunk.hyp_end_idx - chunk.hyp_start_idx)
            elif chunk.type == "delete":
                longest["delete"] = max(longest["delete"], chunk.ref_end_idx - chunk.ref_start_idx)
    else:
        errors = longest["delete"] = len(ref_words)
    found: Counter[str] = Counter()
    missing: list[tuple[int, str, float]] = []
    for index, (clip_id, start, end) in enumerate(spans):
        share = float(hits[start:end].mean()) if end > start else 1.0
        if share >= MIN_OCCURRENCE_HITS:
            found[clip_id] += 1
        else:
            missing.append((index, clip_id, round(share, 2)))
    return {"occurrences": len(order), "found": sum(found.values()), "missing": missing,
            "fed_per_clip": dict(Counter(c.id for c in order)), "found_per_clip": dict(found),
            "wer": round(errors / max(len(ref_words), 1), 4), "ref_words": len(ref_words),
            "hyp_words": len(hyp.split()), "longest_insert_run": longest["insert"],
            "longest_delete_run": longest["delete"]}


def run_session(rig: SoakRig, clips: list[Clip], minutes: float, timeout: float) -> dict[str, Any]:
    audio, order = session_audio(clips, minutes)
    began = time.monotonic()
    event, text = rig.hands_free(audio, timeout)
    wall = time.monotonic() - began
    return {"audio_minutes": round(audio.size / SAMPLE_RATE / 60, 2), "segments": event["segments"],
            "early_segments": event["early_segments"], "wall_s": round(wall, 1),
            "errors": len(rig.errors),
            **score_session(order, text)}


def check_session(summary: dict[str, Any], max_wer: float = 0.15) -> None:
    assert summary["missing"] == [], summary
    assert summary["found_per_clip"] == summary["fed_per_clip"], summary
    assert summary["longest_insert_run"] <= MAX_RUN and summary["longest_delete_run"] <= MAX_RUN, summary
    assert summary["wer"] <= max_wer, summary
    assert summary["errors"] == 0, summary


# -- the documented soak command ----------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dictations", type=int, default=1000)
    parser.add_argument("--warm-up", type=int, default=None, help="dictations before memory is watched")
    parser.add_argument("--session-minutes", type=float, default=10.0)
    parser.add_argument("--json", type=Path, default=None, help="write the summary here")
    args = parser.parse_args(argv)
    from onevox.asr.whisper import load_recognizer
    from onevox.config import ModelConfig

    recognizer = load_recognizer(ModelConfig())
    recognizer.warm_up()
    clips = load_clips()
    summary: dict[str, Any] = {"started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="onevox-soak-") as folder:
        config = soak_config(Path(folder))
        references = transcribe_references(clips, config, recognizer)
        if args.dictations > 0:
            with SoakRig(config, recognizer) as rig:
                summary["dictations"] = run_dictations(rig, clips, references, args.dictations,
                                                       warm_up=args.warm_up, progress=True)
            failures += _check("dictations", check_dictations, summary["dictations"])
        if args.session_minutes > 0:
            session_cfg = soak_config(Path(folder), mode="toggle", max_dictation_s=7200)
            with SoakRig(session_cfg, recognizer) as rig:
                summary["session"] = run_session(rig, clips, args.session_minutes, timeout=3600)
            failures += _check("session", check_session, summary["session"])
    summary["failures"] = failures
    summary["passed"] = not failures
    text = json.dumps(summary, indent=2, sort_keys=True)
    print(text)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")
    return 0 if not failures else 1


def _check(name: str, check: Any, summary: dict[str, Any]) -> list[str]:
    try:
        check(summary)
    except AssertionError as exc:
        return [f"{name}: {exc}"]
    return []


if __name__ == "__main__":
    sys.exit(main())
