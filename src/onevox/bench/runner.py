"""Times workloads on the user's machine for `onevox bench` (the pytest suite uses pytest-benchmark)."""

from __future__ import annotations

import dataclasses
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from onevox.bench import continuous
from onevox.bench import workloads as wl
from onevox.bench.targets import BY_KEY, Metric
from onevox.config import Config

_UNIT_SCALE = {"ms": 1e3, "us": 1e6}
_BATCH_TARGET_S = 0.002  # micro workloads are timed in batches at least this long (timer resolution)


@dataclass(frozen=True)
class Result:
    key: str
    label: str
    unit: str
    median: float | None  # in `unit`; None when it could not be measured here
    p95: float | None
    rounds: int
    guide: float | None
    stretch: float | None
    goal: float | None
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.median is None:
            return "n/a"
        target = self.goal if self.goal is not None else self.guide
        if target is None:
            return "baseline"
        return "ok" if self.median <= target else "over"

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "verdict": self.verdict}


def time_workload(workload: wl.Workload, rounds: int, warmup: int = 1) -> list[float]:
    """Seconds per unit of each round. Calls without a `prepare` step are batched so each round lasts a
    couple of milliseconds and the timer's own cost disappears."""
    batch = 1 if workload.prepare else _calibrate(workload.run)
    for _ in range(warmup):
        if workload.prepare:
            workload.prepare()
        workload.run()
    samples = []
    for _ in range(rounds):
        if workload.prepare:
            workload.prepare()
        start = time.perf_counter()
        for _ in range(batch):
            workload.run()
        samples.append((time.perf_counter() - start) / batch / workload.per_call)
    return samples


def _calibrate(run: Callable[[], Any]) -> int:
    start = time.perf_counter()
    run()
    once = max(time.perf_counter() - start, 1e-7)
    return max(1, min(100_000, int(_BATCH_TARGET_S / once)))


def summarize(metric: Metric, samples: list[float], note: str = "") -> Result:
    scale = _UNIT_SCALE[metric.unit]
    values = sorted(s * scale for s in samples)
    p95 = float(np.percentile(values, 95)) if values else None
    return Result(metric.key, metric.label, metric.unit, statistics.median(values) if values else None, p95,
                  len(values), metric.guide, metric.stretch, metric.goal, note)


def unmeasured(key: str, why: str) -> Result:
    m = BY_KEY[key]
    return Result(m.key, m.label, m.unit, None, None, 0, m.guide, m.stretch, m.goal, why)


@dataclass(frozen=True)
class Plan:
    micro_rounds: int = 200
    model_rounds: int = 10
    pipeline_rounds: int = 5
    long_rounds: int = 3
    pipeline: bool = True
    injection: bool = True
    idle_s: float = 10.0  # how long the running daemon's idle CPU is watched
    speech_dir: Path | None = None  # real speech clips (manifest.jsonl) for the continuous-speech rows
    longest: bool = True  # also say 30 s and 60 s of continuous speech (90 s of speaking per round)


QUICK = Plan(micro_rounds=50, model_rounds=3, pipeline_rounds=2, long_rounds=1, idle_s=3.0, longest=False)
WER_KEYS = ("wer_whole_segment", "wer_normal", "wer_live")
CONTINUOUS_KEYS = (*(continuous.release_key(s) for s in continuous.LENGTHS_S), "cpu_while_speaking",
                   *WER_KEYS)
WER_TOLERANCE = 0.5  # WER points normal and live mode may lose against the whole-segment decode (issue 9)


def default_speech_dir() -> Path | None:
    """The repository's tests/data/speech, when onevox runs from a checkout (or from its root)."""
    here = Path(__file__).resolve()
    for root in (here.parents[3], Path.cwd()):  # src/onevox/bench/runner.py -> the checkout
        candidate = root / "tests" / "data" / "speech"
        if (candidate / "manifest.jsonl").is_file():
            return candidate
    return None


def run_all(config: Config, plan: Plan, progress: Callable[[str], None] = lambda key: None) -> list[Result]:
    """Every metric, in the table's order. `progress(key)` is called as each one starts."""
    results: dict[str, Result] = {}
    short, long = wl.load_clip(wl.SHORT_CLIP), wl.load_clip(wl.LONG_CLIP)

    def run(key: str, build: Callable[[], wl.Workload], rounds: int, note: str = "") -> None:
        progress(key)
        workload = build()
        try:
            results[key] = summarize(BY_KEY[key], time_workload(workload, rounds), note)
        finally:
            workload.close()

    run("ring_write_100ms", wl.ring_write, plan.micro_rounds)
    run("resample_100ms", wl.resample, plan.micro_rounds)
    run("vad_silero_100ms", lambda: wl.vad("silero", long), plan.micro_rounds)
    run("vad_webrtc_100ms", lambda: wl.vad("webrtc", long), plan.micro_rounds)

    from onevox.asr.whisper import load_recognizer

    progress("inference_1s")
    recognizer = load_recognizer(config.model)
    recognizer.warm_up()
    run("inference_1s", lambda: wl.inference(recognizer, short), plan.model_rounds)
    full = load_recognizer(dataclasses.replace(config.model, window="full"))
    run("inference_1s_full_window", lambda: wl.inference(full, short, "inference_1s_full_window"),
        plan.model_rounds)
    baseline = wl.load_faster_whisper(config)
    run("faster_whisper_1s", lambda: wl.faster_whisper(baseline, short, "faster_whisper_1s"),
        plan.model_rounds)

    if plan.injection:
        _measure_injection(config, plan, results, progress)
    if plan.pipeline:
        rig = wl.DictationRig(config, recognizer)
        try:
            run("release_to_text_1s", lambda: wl.release_to_text(rig, short, "release_to_text_1s"),
                plan.pipeline_rounds)
            run("release_to_text_10s", lambda: wl.release_to_text(rig, long, "release_to_text_10s"),
                plan.long_rounds)
            rows, longest = measure_continuous(rig, plan, progress)
            results.update(rows)
            if longest is not None:
                results.update(measure_wer(config, recognizer, longest, rig.texts[-1], progress))
        finally:
            rig.close()
    run("faster_whisper_10s", lambda: wl.faster_whisper(baseline, long, "faster_whisper_10s"),
        plan.long_rounds)
    progress("daemon_idle_rss")
    results.update(_measure_daemon(config, plan.idle_s))
    return [results.get(m.key) or unmeasured(m.key, "skipped") for m in BY_KEY.values()]


def measure_continuous(rig: wl.DictationRig, plan: Plan, progress: Callable[[str], None] = lambda key: None,
                       ) -> tuple[dict[str, Result], continuous.Continuous | None]:
    """Release to text for gap-free speech from the real clips of `plan.speech_dir` (1-3 s, 5 to 60 s), the
    key released on the last word, and the CPU used while speaking it; also the longest speech said (the
    rig's last text is its dictation), None when there are no clips. Rows say why when not measured."""
    try:
        if plan.speech_dir is None:
            raise continuous.SpeechClipsMissing("no speech clips found (tests/data/speech is not here)")
        continuous.load_clips(plan.speech_dir)  # fails here, before any speaking, when clips are missing
    except continuous.SpeechClipsMissing as exc:
        why = f"{exc}; pass --speech DIR (a folder of clips with manifest.jsonl, like tests/data/speech)"
        return {key: unmeasured(key, why) for key in CONTINUOUS_KEYS}, None
    results: dict[str, Result] = {}
    first = len(rig.speaking)
    longest = None
    for length in continuous.LENGTHS_S:
        key = continuous.release_key(length)
        if length > 15 and not plan.longest:
            results[key] = unmeasured(key, "not measured with --quick")
            continue
        progress(key)
        rounds = plan.pipeline_rounds if length < 5 else plan.long_rounds if length < 30 else 1
        said = continuous.build(plan.speech_dir, length)
        samples = time_workload(wl.continuous_release_to_text(rig, said, key), rounds, warmup=0)
        results[key] = summarize(BY_KEY[key], samples, f"{said.duration_s:.1f} s")
        longest = said
    spoken = rig.speaking[first:]
    m = BY_KEY["cpu_while_speaking"]
    seconds = sum(s.wall_s for s in spoken)
    results[m.key] = Result(m.key, m.label, m.unit, 100 * wl.cores_while_speaking(spoken), None, len(spoken),
                            m.guide, m.stretch, m.goal, f"whole process, {seconds:.0f} s")
    return results, longest


def measure_wer(config: Config, recognizer: Any, said: continuous.Continuous, normal_text: str,
                progress: Callable[[str], None] = lambda key: None) -> dict[str, Result]:
    """WER of `said` decoded whole by the recogniser, as dictated in normal mode (`normal_text`) and as
    dictated in live mode (said once more, to a daemon with [injection] live), against the clips' texts.
    Normal and live are held to the whole-segment figure + WER_TOLERANCE points, measured here."""
    from onevox.bench import wer
    from onevox.errors import OnevoxError

    if not wer.available():
        return {key: unmeasured(key, wer.MISSING) for key in WER_KEYS}
    progress("wer_whole_segment")

    def row(key: str, text: str, goal: float | None) -> Result:
        m = BY_KEY[key]
        got = wer.best_errors([said.reference, said.alt_reference], text)
        return Result(m.key, m.label, m.unit, 100 * got.wer, None, 1, m.guide, m.stretch, goal,
                      f"{got.errors}/{got.ref_words} words, {said.duration_s:.0f} s")

    whole = row("wer_whole_segment", recognizer.transcribe(said.audio).text, None)
    goal = (whole.median or 0.0) + WER_TOLERANCE
    out = {"wer_whole_segment": whole, "wer_normal": row("wer_normal", normal_text, goal)}
    progress("wer_live")
    try:
        live = wl.DictationRig(config.with_changes("injection", live=True), recognizer)
    except (TypeError, OnevoxError) as exc:  # a onevox without live mode, or one that cannot start it
        out["wer_live"] = unmeasured("wer_live", f"no live mode: {exc}")
        return out
    try:
        live.speak(said.audio, wl.release_hold_s(said))
        out["wer_live"] = row("wer_live", live.release(), goal)
    except (RuntimeError, TimeoutError) as exc:
        out["wer_live"] = unmeasured("wer_live", f"live mode failed: {exc}")
    finally:
        live.close()
    return out


def _measure_injection(config: Config, plan: Plan, results: dict[str, Result],
                       progress: Callable[[str], None]) -> None:
    import os

    from onevox.inject import create_injector

    progress("injection_100_chars")
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        results["injection_100_chars"] = unmeasured("injection_100_chars", "no display to type into")
        return
    injector = create_injector(config.injection)
    if not injector.available():
        results["injection_100_chars"] = unmeasured("injection_100_chars", "no injection method available")
        return
    samples = time_workload(wl.injection(injector), min(plan.model_rounds, 10))
    results["injection_100_chars"] = summarize(BY_KEY["injection_100_chars"], samples,
                                               f"method {injector.name}; types into the focused window")


def _measure_daemon(config: Config, seconds: float) -> dict[str, Result]:
    """Idle and peak resources of the user's running daemon (its warm microphone stream included)."""
    from onevox.bench.resources import measure_idle
    from onevox.errors import IpcError
    from onevox.ipc.client import IpcClient

    keys = ("daemon_idle_rss", "daemon_idle_cpu", "daemon_peak_rss")
    try:
        status = IpcClient(config.socket_path(), timeout=2.0).request("status")
    except IpcError:
        return {k: unmeasured(k, "no daemon running: start one with `onevox daemon`") for k in keys}
    if status.get("state") != "idle":
        return {k: unmeasured(k, f"the daemon is {status.get('state')}, not idle") for k in keys}
    usage = measure_idle(int(status["pid"]), seconds)
    values = {"daemon_idle_rss": usage.rss_mb, "daemon_idle_cpu": usage.cpu_percent,
              "daemon_peak_rss": usage.peak_rss_mb}
    out = {}
    for key, value in values.items():
        m = BY_KEY[key]
        out[key] = Result(m.key, m.label, m.unit, value, None, 1, m.guide, m.stretch, m.goal,
                          f"pid {status['pid']}, {seconds:g} s")
    return out
