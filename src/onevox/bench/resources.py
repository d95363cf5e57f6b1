"""What a running process costs while it waits: resident memory and CPU, read from /proc (Linux).

    usage = measure_idle(pid, seconds=10.0)   # ProcessUsage(rss_mb=..., cpu_percent=..., peak_rss_mb=...)

CPU is the process's user + system time (all threads) over the interval, as a percentage of one core.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from onevox.errors import OnevoxError

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcessUsage:
    rss_mb: float  # resident memory at the end of the interval (VmRSS)
    peak_rss_mb: float  # the most resident memory the process ever had (VmHWM)
    cpu_percent: float  # user + system CPU over the interval, % of one core
    seconds: float  # length of the interval


def _proc(pid: int, name: str) -> str:
    try:
        return Path(f"/proc/{pid}/{name}").read_text()
    except (FileNotFoundError, ProcessLookupError) as exc:
        raise OnevoxError(f"process {pid} is not running (no /proc/{pid}/{name})") from exc


def memory_mb(pid: int) -> tuple[float, float]:
    """(resident, peak resident) memory of `pid` in MB, from /proc/<pid>/status (VmRSS, VmHWM)."""
    fields: dict[str, float] = {}
    for line in _proc(pid, "status").splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024  # kB -> MB (MiB)
    if len(fields) != 2:
        raise OnevoxError(f"/proc/{pid}/status has no VmRSS/VmHWM (a kernel thread or a zombie?)")
    return fields["VmRSS"], fields["VmHWM"]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time `pid` has used so far (all its threads), from /proc/<pid>/stat."""
    stat = _proc(pid, "stat")
    # the command name (field 2) is in parentheses and may hold spaces: split after its closing one
    fields = stat[stat.rindex(")") + 2:].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of stat(5)
    return (utime + stime) / _CLOCK_TICKS


def measure_idle(pid: int, seconds: float = 10.0) -> ProcessUsage:
    """Watch `pid` for `seconds` (it should be idle meanwhile) and report its memory and CPU use."""
    if seconds <= 0:
        raise ValueError("seconds must be positive")
    cpu0, t0 = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    cpu1, t1 = cpu_seconds(pid), time.monotonic()
    rss, peak = memory_mb(pid)
    return ProcessUsage(rss_mb=rss, peak_rss_mb=peak, cpu_percent=100.0 * (cpu1 - cpu0) / (t1 - t0),
                        seconds=t1 - t0)
