"""`onevox serve` under load (the full matrix: `python -m benchmarks.serve_load`).

Here: requests per second and p50/p95 latency of one client and of four against `--workers 1`, then ten
times as many clients as the server holds (workers + queue) asking again at once on every 429: each request
gets 200 or 429, the server stays up, and its memory stays near where it started."""

from __future__ import annotations

import pytest

from benchmarks.serve_load import CLIP, row, run_load
from tests.support.serve_proc import ServeProcess
from tests.support.speech import speech_file

RUN_S = 5.0
MAX_RSS_GROWTH_MB = 200.0  # one decoded upload per worker plus request buffers; unbounded growth is far more


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with ServeProcess(tmp_path_factory.mktemp("serve-load"), "--workers", "1", "--queue", "2") as proc:
        run_load(proc, 1, 1.0, speech_file(CLIP))  # warm
        yield proc


@pytest.mark.parametrize("clients", [1, 4])
def test_throughput(benchmark, server, clients):
    result = benchmark.pedantic(run_load, args=(server, clients, RUN_S, speech_file(CLIP)), rounds=1,
                                iterations=1)
    print("\n" + row("--workers 1 --queue 2", result))
    benchmark.extra_info.update(rps=round(result.rps, 2), p50_ms=round(result.percentile_ms(50)),
                                p95_ms=round(result.percentile_ms(95)), busy=result.busy)
    assert result.errors == 0 and result.ok > 0


def test_overload_answers_everyone_and_memory_stays_bounded(benchmark, server):
    clients = 10 * 3  # ten times workers + queue
    result = benchmark.pedantic(run_load, args=(server, clients, RUN_S, speech_file(CLIP)),
                                kwargs={"backoff": False}, rounds=1, iterations=1)
    print("\n" + row("--workers 1 --queue 2 10x", result))
    benchmark.extra_info.update(ok=result.ok, busy=result.busy, errors=result.errors,
                                rss_before_mb=round(result.rss_before_mb),
                                rss_peak_mb=round(result.rss_peak_mb))
    assert result.errors == 0, "a request got neither an answer nor a 429"
    assert result.ok > 0 and result.busy > 0
    assert server.alive()
    assert result.rss_peak_mb - result.rss_before_mb < MAX_RSS_GROWTH_MB
