"""A fixed pool of model workers behind a bounded queue.

Each worker is one thread that owns one loaded model (a model is not thread-safe; CTranslate2 releases the
GIL, so workers decode in parallel). A request first takes a slot: there are `workers + queue` of them, and
with none free the request is refused at once (`Busy`, which the server turns into 429 with Retry-After)
before its body is even read. So the server holds at most that many uploads, and decodes at most `workers`
of them into memory at a time, however many clients call.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
M = TypeVar("M")  # what a worker owns: a loaded model (onevox.transcribe.FileTranscriber)


class Busy(Exception):
    """Every worker is busy and the queue is full."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"the server is busy: every worker is decoding and the queue is full; "
                         f"retry in {retry_after_s} s")
        self.retry_after_s = retry_after_s


@dataclass
class _Worker(Generic[M]):
    executor: ThreadPoolExecutor
    model: M


class WorkerPool(Generic[M]):
    """`workers` threads, each with the model `load(index)` built on that thread."""

    def __init__(self, load: Callable[[int], M], workers: int, queue: int) -> None:
        self.workers = workers
        self.capacity = workers + queue
        self._load = load
        self._all: list[_Worker[M]] = []
        self._idle: asyncio.Queue[_Worker[M]] | None = None
        self._admitted = 0  # requests holding a slot: waiting for a worker or being decoded
        self._running = 0
        self._mean_s = 1.0  # running mean of a job's time, for Retry-After

    def start(self) -> None:
        """Load every worker's model (in parallel, each on its own thread); raises what a load raised."""
        executors = [ThreadPoolExecutor(1, thread_name_prefix=f"onevox-serve-{i}")
                     for i in range(self.workers)]
        loads: list[Future[M]] = [ex.submit(self._load, i) for i, ex in enumerate(executors)]
        try:
            self._all = [_Worker(ex, load.result()) for ex, load in zip(executors, loads, strict=True)]
        except BaseException:
            for ex in executors:
                ex.shutdown(wait=False, cancel_futures=True)
            raise

    def close(self) -> None:
        for worker in self._all:
            worker.executor.shutdown(wait=True, cancel_futures=True)

    @property
    def models(self) -> list[M]:
        return [worker.model for worker in self._all]

    @property
    def waiting(self) -> int:
        return self._admitted - self._running

    @property
    def running(self) -> int:
        return self._running

    def admit(self) -> Slot[M]:
        """A slot for one request, or Busy when all are taken. Release it with `Slot.release` (or by
        running a job through it)."""
        if self._admitted >= self.capacity:
            raise Busy(self.retry_after_s())
        self._admitted += 1
        return Slot(self)

    def retry_after_s(self) -> int:
        """Seconds until a slot is likely free: the queue ahead drained by all workers."""
        return max(1, math.ceil(self._mean_s * self._admitted / self.workers))

    def _idle_queue(self) -> asyncio.Queue[_Worker[M]]:
        if self._idle is None:  # made on the event loop that serves the requests
            self._idle = asyncio.Queue()
            for worker in self._all:
                self._idle.put_nowait(worker)
        return self._idle

    def _finish(self, started: float | None) -> None:
        self._admitted -= 1
        if started is not None:
            self._running -= 1
            self._mean_s = 0.8 * self._mean_s + 0.2 * (time.perf_counter() - started)


class Slot(Generic[M]):
    """One admitted request's place in the pool."""

    def __init__(self, pool: WorkerPool[M]) -> None:
        self._pool = pool
        self._released = False

    async def run(self, job: Callable[[M], T]) -> T:
        """`job(model)` on the next free worker's thread; the slot is released when the job ends (even
        when the client has gone: the worker is only handed on once its thread is done)."""
        if self._released:
            raise RuntimeError("slot already released")
        self._released = True
        pool = self._pool
        idle = pool._idle_queue()
        try:
            worker = await idle.get()
        except BaseException:
            pool._finish(None)
            raise
        pool._running += 1
        started = time.perf_counter()
        future = asyncio.get_running_loop().run_in_executor(worker.executor, job, worker.model)

        def done(_: object) -> None:
            idle.put_nowait(worker)
            pool._finish(started)

        future.add_done_callback(done)
        return await asyncio.shield(future)

    def release(self) -> None:
        """Give the slot back without running a job (the request failed before it got that far)."""
        if not self._released:
            self._released = True
            self._pool._finish(None)
