"""Glue between onevox.bench workloads and pytest-benchmark."""

from __future__ import annotations


def run_workload(benchmark, workload, rounds: int, warmup: int = 1):
    """Hands a Workload to pytest-benchmark: `prepare` runs untimed before each round. Under
    --benchmark-disable pytest-benchmark calls it once, with no rounds or warmup."""
    try:
        if workload.prepare is None:
            return benchmark(workload.run)
        return benchmark.pedantic(workload.run, setup=workload.prepare, rounds=rounds, iterations=1,
                                  warmup_rounds=warmup)
    finally:
        workload.close()
