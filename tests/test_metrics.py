"""Metrics: per-stage percentiles over a bounded reservoir, tracing spans, Chrome trace export."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from onevox.metrics import STAGES, Metrics


def test_summary_reports_count_p50_p95_last() -> None:
    m = Metrics()
    for value in range(1, 101):
        m.record("inference", float(value))
    s = m.summary()["inference"]
    assert s["count"] == 100 and s["last"] == 100.0
    assert s["p50"] == pytest.approx(np.percentile(np.arange(1, 101), 50))
    assert s["p95"] == pytest.approx(np.percentile(np.arange(1, 101), 95))


@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=200))
def test_percentiles_match_numpy(values: list[float]) -> None:
    m = Metrics()
    for v in values:
        m.record("x", v)
    s = m.summary()["x"]
    assert s["p50"] == pytest.approx(round(float(np.percentile(values, 50)), 2), abs=0.01)
    assert s["p95"] == pytest.approx(round(float(np.percentile(values, 95)), 2), abs=0.01)


def test_reservoir_keeps_only_the_most_recent_values_but_counts_all() -> None:
    m = Metrics(reservoir=10)
    for _ in range(1000):
        m.record("vad", 100.0)
    for _ in range(10):
        m.record("vad", 1.0)
    s = m.summary()["vad"]
    assert s["count"] == 1010 and s["p95"] == 1.0 and s["p50"] == 1.0


def test_empty_summary_and_unknown_stages() -> None:
    m = Metrics()
    assert m.summary() == {}
    m.record("custom_stage", 3.0)
    assert set(m.summary()) == {"custom_stage"}
    assert "release_to_text" in STAGES and "inference" in STAGES


def test_record_is_thread_safe() -> None:
    m = Metrics(reservoir=100_000)
    def work() -> None:
        for _ in range(5000):
            m.record("hotkey", 1.0)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert m.summary()["hotkey"]["count"] == 40_000


def test_span_keeps_a_trace_event_and_can_record_a_stage() -> None:
    m = Metrics()
    with m.span("decode", stage="inference", segment=1) as args:
        args["tokens"] = 7
    events = [e for e in m.trace_events() if e["ph"] == "X"]
    assert len(events) == 1
    event = events[0]
    assert event["name"] == "decode" and event["dur"] >= 0 and event["args"] == {"segment": 1, "tokens": 7}
    assert m.summary()["inference"]["count"] == 1


def test_span_is_recorded_even_when_the_block_raises() -> None:
    m = Metrics()
    with pytest.raises(RuntimeError), m.span("boom"):
        raise RuntimeError("x")
    assert [e["name"] for e in m.trace_events() if e["ph"] == "X"] == ["boom"]


def test_trace_is_bounded() -> None:
    m = Metrics(max_trace_events=5)
    for i in range(20):
        with m.span(f"s{i}"):
            pass
    names = [e["name"] for e in m.trace_events() if e["ph"] == "X"]
    assert names == [f"s{i}" for i in range(15, 20)]


def test_chrome_trace_export(tmp_path: Path) -> None:
    m = Metrics()
    with m.span("outer"), m.span("inner", note=object()):
        pass
    worker = threading.Thread(target=lambda: m.add_span("worker", 0, 1000), name="onevox-asr")
    worker.start()
    worker.join()
    path = m.export_chrome_trace(tmp_path / "sub" / "trace.json")
    doc = json.loads(path.read_text())
    events = doc["traceEvents"]
    complete = [e for e in events if e["ph"] == "X"]
    assert {e["name"] for e in complete} == {"outer", "inner", "worker"}
    for e in complete:
        assert {"name", "ph", "ts", "dur", "pid", "tid"} <= set(e)
    outer = next(e for e in complete if e["name"] == "outer")
    inner = next(e for e in complete if e["name"] == "inner")
    assert outer["ts"] <= inner["ts"] and inner["ts"] + inner["dur"] <= outer["ts"] + outer["dur"] + 1
    thread_names = {e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    assert "onevox-asr" in thread_names
    assert not (tmp_path / "sub" / "trace.json.tmp").exists()


def test_reset_forgets_everything() -> None:
    m = Metrics()
    m.record("a", 1.0)
    with m.span("s"):
        pass
    m.reset()
    assert m.summary() == {} and [e for e in m.trace_events() if e["ph"] == "X"] == []


def test_summary_lists_stages_in_pipeline_order() -> None:
    m = Metrics()
    for stage in ("zeta_custom", "release_to_text", "inference", "hotkey"):
        m.record(stage, 1.0)
    assert list(m.summary()) == ["hotkey", "inference", "release_to_text", "zeta_custom"]
