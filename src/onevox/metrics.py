"""Per-stage latency numbers and tracing spans for the daemon.

`record(stage, ms)` keeps the last `reservoir` values of each stage (plus a running count), so `summary()`
gives p50/p95 (milliseconds) of recent dictations, whatever the uptime. `span(name)` times a block
and keeps it as a Chrome trace event (bounded too); `export_chrome_trace(path)` writes them in the JSON
format that chrome://tracing and https://ui.perfetto.dev open.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

# The stages the daemon reports, in pipeline order. The meaning of each number (milliseconds):
STAGES: dict[str, str] = {
    "hotkey": "command received -> audio stream reading (begin() returned)",
    "capture": "key release -> last audio read and segmenter flushed (includes the post-roll tail)",
    "vad": "one chunk of audio through the speech segmenter",
    "inference": "one speech segment through the model",
    "postprocess": "joining segments and post-processing the text",
    "history": "writing the dictation to the history database",
    "injection": "delivering the text to the focused window",
    "release_to_text": "key release -> text delivered to the window",
}


class _Series:
    __slots__ = ("count", "last", "values")

    def __init__(self, size: int) -> None:
        self.values: deque[float] = deque(maxlen=size)
        self.count = 0
        self.last = 0.0


class Metrics:
    """Thread-safe latency statistics and trace spans. Every method is O(1) except summary() and export."""

    # ~5 spans per dictation at ~0.4 KB each: 2,000 keeps the last ~400 dictations for a trace in under 1 MB
    # (50,000 grew a long-running daemon by ~2 KB per dictation, to ~20 MB, whether or not a trace was wanted)
    def __init__(self, reservoir: int = 1000, max_trace_events: int = 2_000) -> None:
        if reservoir < 1 or max_trace_events < 1:
            raise ValueError("reservoir and max_trace_events must be positive")
        self._reservoir = reservoir
        self._series: dict[str, _Series] = {}
        self._events: deque[dict[str, Any]] = deque(maxlen=max_trace_events)
        self._thread_names: dict[int, str] = {}
        self._lock = threading.Lock()
        self._origin_ns = time.perf_counter_ns()
        self._pid = os.getpid()

    def record(self, stage: str, ms: float) -> None:
        with self._lock:
            series = self._series.get(stage)
            if series is None:
                series = self._series[stage] = _Series(self._reservoir)
            series.values.append(ms)
            series.count += 1
            series.last = ms

    def summary(self) -> dict[str, dict[str, float]]:
        """{stage: {count, p50, p95, last}} for every stage recorded so far (ms, rounded to 0.01), in
        pipeline order."""
        with self._lock:
            snapshot = {name: (s.count, s.last, list(s.values)) for name, s in self._series.items()}
        result: dict[str, dict[str, float]] = {}
        order = [s for s in STAGES if s in snapshot] + sorted(s for s in snapshot if s not in STAGES)
        for name in order:
            count, last, values = snapshot[name]
            values.sort()
            result[name] = {"count": count, "p50": round(_percentile(values, 50), 2),
                            "p95": round(_percentile(values, 95), 2), "last": round(last, 2)}
        return result

    def reset(self) -> None:
        with self._lock:
            self._series.clear()
            self._events.clear()

    @contextmanager
    def span(self, name: str, *, stage: str | None = None, **args: Any) -> Iterator[dict[str, Any]]:
        """Time the block as a trace event named `name` (args shown in the viewer). With `stage`, the duration
        is also recorded as that stage's latency. The yielded dict can take more args inside the block."""
        extra: dict[str, Any] = dict(args)
        start = time.perf_counter_ns()
        try:
            yield extra
        finally:
            end = time.perf_counter_ns()
            self.add_span(name, start, end, **extra)
            if stage is not None:
                self.record(stage, (end - start) / 1e6)

    def add_span(self, name: str, start_ns: int, end_ns: int, **args: Any) -> None:
        """Keep a span measured elsewhere (perf_counter_ns times), e.g. one that crosses threads."""
        thread = threading.current_thread()
        event = {"name": name, "ph": "X", "pid": self._pid, "tid": thread.ident or 0,
                 "ts": (start_ns - self._origin_ns) / 1000, "dur": max(end_ns - start_ns, 0) / 1000}
        if args:
            event["args"] = {key: _jsonable(value) for key, value in args.items()}
        with self._lock:
            self._events.append(event)
            self._thread_names.setdefault(thread.ident or 0, thread.name)

    def trace_events(self) -> list[dict[str, Any]]:
        with self._lock:
            events = list(self._events)
            names = dict(self._thread_names)
        meta = [{"name": "thread_name", "ph": "M", "pid": self._pid, "tid": tid, "args": {"name": name}}
                for tid, name in names.items()]
        meta.append({"name": "process_name", "ph": "M", "pid": self._pid, "tid": 0,
                     "args": {"name": "onevox"}})
        return meta + events

    def export_chrome_trace(self, path: str | os.PathLike[str]) -> Path:
        """Write the spans as a Chrome trace JSON file (written to a temporary name, then renamed)."""
        target = Path(path).expanduser()
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        doc = {"traceEvents": self.trace_events(), "displayTimeUnit": "ms"}
        tmp.write_text(json.dumps(doc), encoding="utf-8")
        os.replace(tmp, target)
        return target


def _percentile(sorted_values: list[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default method)."""
    if not sorted_values:
        return 0.0
    pos = (len(sorted_values) - 1) * pct / 100
    low = int(pos)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (pos - low)


def _jsonable(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)
