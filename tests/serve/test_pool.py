"""WorkerPool: a fixed number of workers, a bounded queue, Busy past it; with a test-double model that
blocks until released, so what runs and what waits is visible."""

from __future__ import annotations

import asyncio
import threading

import pytest

from onevox.serve.pool import Busy, WorkerPool


class Model:
    def __init__(self, index: int) -> None:
        self.index = index
        self.thread = threading.current_thread().name


def job(gate: threading.Event):
    def run(model: Model) -> tuple[int, str]:
        assert gate.wait(10)
        return model.index, threading.current_thread().name
    return run


def test_each_worker_loads_and_runs_on_its_own_thread():
    pool = WorkerPool(Model, workers=2, queue=0)
    pool.start()
    try:
        assert [m.index for m in pool.models] == [0, 1]
        assert pool.models[0].thread != pool.models[1].thread

        async def main():
            gate = threading.Event()
            gate.set()
            return await asyncio.gather(pool.admit().run(job(gate)), pool.admit().run(job(gate)))

        results = asyncio.run(main())
        assert sorted(index for index, _ in results) == [0, 1]
        for index, thread in results:
            assert thread == pool.models[index].thread
    finally:
        pool.close()


def test_full_pool_refuses_at_once_and_frees_slots_when_jobs_end():
    pool = WorkerPool(Model, workers=1, queue=2)
    pool.start()
    gate = threading.Event()

    async def main():
        first = asyncio.ensure_future(pool.admit().run(job(gate)))
        queued = [asyncio.ensure_future(pool.admit().run(job(gate))) for _ in range(2)]
        await asyncio.sleep(0.05)
        assert (pool.running, pool.waiting) == (1, 2)
        with pytest.raises(Busy) as refused:
            pool.admit()
        assert refused.value.retry_after_s >= 1 and "retry in" in str(refused.value)
        gate.set()
        await asyncio.gather(first, *queued)
        assert (pool.running, pool.waiting) == (0, 0)
        slot = pool.admit()  # room again
        slot.release()
        slot.release()  # twice is harmless
        assert pool.waiting == 0

    try:
        asyncio.run(main())
    finally:
        pool.close()


def test_a_cancelled_request_keeps_its_worker_until_the_thread_is_done():
    pool = WorkerPool(Model, workers=1, queue=1)
    pool.start()
    gate = threading.Event()

    async def main():
        running = asyncio.ensure_future(pool.admit().run(job(gate)))
        await asyncio.sleep(0.05)
        running.cancel()  # the client went away; its decode cannot be stopped
        await asyncio.sleep(0.05)
        assert pool.running == 1  # still decoding: the worker is not handed to anyone else yet
        after = asyncio.ensure_future(pool.admit().run(job(gate)))
        await asyncio.sleep(0.05)
        assert not after.done()
        gate.set()
        assert (await after)[0] == 0

    try:
        asyncio.run(main())
    finally:
        pool.close()


def test_a_load_that_fails_is_raised():
    def broken(index: int) -> Model:
        raise RuntimeError(f"model {index} cannot load")

    with pytest.raises(RuntimeError, match="cannot load"):
        WorkerPool(broken, workers=2, queue=1).start()
