"""Load on `onevox serve`: closed-loop clients, each posting a speech clip again as soon as it has its answer.

    python -m benchmarks.serve_load            # the whole matrix on this machine, printed as a table

A client is a thread with its own HTTP connection (http.client: the load generator should cost little next
to the server). Each run counts 200s, 429s and anything else (errors), and the latency of the 200s; the
server's resident memory is sampled from /proc during the run.
"""

from __future__ import annotations

import argparse
import http.client
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tests.support.serve_proc import ServeProcess
from tests.support.speech import speech_file

CLIP = "arctic-a0024.wav"  # 4 s of read speech: a typical dictation


@dataclass
class LoadResult:
    clients: int
    seconds: float
    ok: int = 0
    busy: int = 0  # 429
    errors: int = 0  # any other status, or no answer
    latencies_s: list[float] = field(default_factory=list)  # of the 200s
    rss_before_mb: float = 0.0
    rss_peak_mb: float = 0.0
    rss_after_mb: float = 0.0

    @property
    def rps(self) -> float:
        return self.ok / self.seconds

    def percentile_ms(self, q: float) -> float:
        return float(np.percentile(self.latencies_s, q) * 1000) if self.latencies_s else float("nan")


def multipart(clip: bytes, filename: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
            "Content-Type: audio/wav\r\n\r\n").encode()
    return head + clip + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def run_load(server: ServeProcess, clients: int, seconds: float, clip: Path, *,
             backoff: bool = True) -> LoadResult:
    """`clients` posting for `seconds`. With `backoff` a client told 429 waits its Retry-After (as OpenAI's
    client does); without, it asks again at once (the overload run)."""
    body, content_type = multipart(clip.read_bytes(), clip.name)
    result = LoadResult(clients, seconds)
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    result.rss_before_mb = result.rss_peak_mb = server.rss_kib() / 1024

    def client() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=300)
        while time.monotonic() < stop:
            start = time.perf_counter()
            try:
                conn.request("POST", "/v1/audio/transcriptions", body, {"Content-Type": content_type})
                response = conn.getresponse()
                response.read()
                status = response.status
                retry_after = float(response.getheader("retry-after", "1") or 1)
                if response.getheader("connection", "").lower() == "close":
                    conn.close()
            except (OSError, http.client.HTTPException):
                status, retry_after = 0, 1.0
                conn.close()
            elapsed = time.perf_counter() - start
            with lock:
                if status == 200:
                    result.ok += 1
                    result.latencies_s.append(elapsed)
                elif status == 429:
                    result.busy += 1
                else:
                    result.errors += 1
            if status == 429 and backoff:
                time.sleep(min(retry_after, max(0.0, stop - time.monotonic())))
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        result.rss_peak_mb = max(result.rss_peak_mb, server.rss_kib() / 1024)
        time.sleep(0.2)
    result.seconds = max(seconds, time.monotonic() - (stop - seconds))  # the last answers come after `stop`
    result.rss_after_mb = server.rss_kib() / 1024
    return result


def row(label: str, r: LoadResult) -> str:
    return (f"{label:<26} {r.clients:>3} clients  {r.rps:5.2f} req/s  p50 {r.percentile_ms(50):6.0f} ms  "
            f"p95 {r.percentile_ms(95):6.0f} ms  200:{r.ok:<4} 429:{r.busy:<5} err:{r.errors:<3} "
            f"RSS {r.rss_before_mb:.0f}->{r.rss_peak_mb:.0f} (after {r.rss_after_mb:.0f}) MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each throughput run")
    parser.add_argument("--overload-seconds", type=float, default=10.0)
    parser.add_argument("--queue", type=int, default=8, help="the servers' --queue")
    args = parser.parse_args()
    clip = speech_file(CLIP)
    root = Path(f"/tmp/onevox-serve-load-{uuid.uuid4().hex[:8]}")
    for workers in (1, 2):
        flags = ("--workers", str(workers), "--queue", str(args.queue))
        with ServeProcess(root / f"w{workers}", *flags) as server:
            run_load(server, 1, 2.0, clip)  # warm: first requests, allocator pools
            for clients in (1, 4, 16):
                print(row(f"--workers {workers}", run_load(server, clients, args.seconds, clip)), flush=True)
            overload = 10 * (workers + args.queue)
            result = run_load(server, overload, args.overload_seconds, clip, backoff=False)
            print(row(f"--workers {workers} 10x overload", result), flush=True)
            print(f"{'':<26} server alive after: {server.alive()}", flush=True)


if __name__ == "__main__":
    main()
