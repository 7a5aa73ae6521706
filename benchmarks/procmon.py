"""Run one command and measure it from outside: wall time, peak memory, and the processes inside it.

A sampler thread walks the command's process tree every `INTERVAL_S` seconds (psutil): the sum of
the tree's RSS gives its peak footprint, and each descendant whose command line `watch` recognises
(a DVC stage's `python scripts/<stage>.py [item]`) is followed from its creation time to its exit,
with its CPU time and the kernel's high-water mark of its RSS (VmHWM, so a spike between two
samples still counts). The command itself is reaped with `os.wait4`, whose rusage gives the exact
CPU time of the whole tree and the exact peak RSS of its largest single process. Nothing in the
measured code is changed or wrapped.

CPU time matters on a shared machine: wall time stretches with other people's load, CPU time much
less. Error bars: a watched process's end is known to within half a sampling interval, its CPU time
to within its last interval; its peak is exact unless it grows in its last interval. Linux (/proc);
elsewhere the RSS samples stand in for VmHWM.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil

INTERVAL_S = 0.05

Watch = Callable[[Sequence[str]], str | None]
"""Maps a process's command line to the name it is reported under, or None to ignore it."""


@dataclass
class ProcessRun:
    """One watched process: when it ran (epoch seconds), its CPU seconds and its peak RSS in bytes."""

    name: str
    started: float
    last_seen: float
    peak_rss: int
    cpu_seconds: float
    """User + system time of all its threads, as of the last sample that saw it."""
    gone: float | None = None

    @property
    def seconds(self) -> float:
        # It ended between the last sample that saw it and the first that did not.
        end = self.last_seen if self.gone is None else (self.last_seen + self.gone) / 2
        return max(end - self.started, 0.0)


@dataclass(frozen=True)
class Measured:
    """What one command cost. RSS figures are bytes."""

    returncode: int
    seconds: float
    cpu_seconds: float
    """User + system time of the command and every descendant it waited for (kernel rusage, exact)."""
    peak_tree_rss: int
    """Highest sampled sum of RSS over the command and all its descendants."""
    max_process_rss: int
    """Peak RSS of the largest single process of the tree (kernel rusage, exact)."""
    processes: list[ProcessRun]
    log: Path

    @property
    def peak_rss(self) -> int:
        return max(self.peak_tree_rss, self.max_process_rss)

    def log_tail(self, chars: int = 2000) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]


def _creation_clock_error() -> float:
    """Seconds to add to psutil's `create_time` to get the real start (Linux).

    psutil counts a process's start from the boot time, which Linux gives in whole seconds
    (/proc/stat btime): every creation time is early by the same fraction of a second (0.3 s
    measured here), which added that much to every stage run. /proc/uptime has centiseconds.
    """
    try:
        uptime = float(Path("/proc/uptime").read_text(encoding="ascii").split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    return time.time() - uptime - psutil.boot_time()


def _high_water_mark(pid: int) -> int | None:
    """VmHWM of `pid` in bytes (Linux), or None when it cannot be read."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


@dataclass
class _Sampler:
    root_pid: int
    watch: Watch | None
    interval: float
    peak_tree_rss: int = 0
    runs: dict[tuple[int, float], ProcessRun] = field(default_factory=dict)
    _names: dict[tuple[int, float], str] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _clock_error: float = field(default_factory=_creation_clock_error)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="procmon", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        now = time.time()
        for run in self.runs.values():
            if run.gone is None:
                run.gone = now

    def _loop(self) -> None:
        try:
            root = psutil.Process(self.root_pid)
        except psutil.NoSuchProcess:
            return
        while not self._stop.is_set():
            self._sample(root)
            self._stop.wait(self.interval)

    def _sample(self, root: psutil.Process) -> None:
        now = time.time()
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return
        total = 0
        alive: set[tuple[int, float]] = set()
        for process in tree:
            try:
                rss = process.memory_info().rss
                key = (process.pid, process.create_time())
                # Not cached while unmatched: `sh -c CMD` may exec CMD in the same process later.
                name = self._names.get(key) or (self.watch(process.cmdline()) if self.watch else None)
            except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
                continue
            total += rss
            if name is None:
                continue
            self._names[key] = name
            alive.add(key)
            peak = max(_high_water_mark(process.pid) or 0, rss)
            try:
                times = process.cpu_times()
            except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
                continue
            cpu = times.user + times.system
            run = self.runs.get(key)
            if run is None:
                started = key[1] + self._clock_error
                self.runs[key] = ProcessRun(name=name, started=started, last_seen=now, peak_rss=peak, cpu_seconds=cpu)
            else:
                run.last_seen, run.peak_rss, run.cpu_seconds = now, max(run.peak_rss, peak), cpu
        for key, run in self.runs.items():
            if key not in alive and run.gone is None:
                run.gone = now
        self.peak_tree_rss = max(self.peak_tree_rss, total)


def run_measured(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    log: Path,
    watch: Watch | None = None,
    interval: float = INTERVAL_S,
) -> Measured:
    """Run `argv` to completion (output to `log`) and measure it; Ctrl-C stops the whole tree."""
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with log.open("wb") as out:
        process = subprocess.Popen(
            list(argv), cwd=cwd, env=dict(env), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    sampler = _Sampler(process.pid, watch, interval)
    sampler.start()
    try:
        _, status, usage = os.wait4(process.pid, 0)
    except BaseException:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait()
        raise
    finally:
        sampler.stop()
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return Measured(
        returncode=process.returncode,
        seconds=seconds,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_tree_rss=sampler.peak_tree_rss,
        max_process_rss=usage.ru_maxrss * 1024,  # KiB on Linux
        processes=sorted(sampler.runs.values(), key=lambda r: r.started),
        log=log,
    )


def timed(argv: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> float:
    """Wall seconds of one run of `argv` (output discarded); raises if it fails."""
    started = time.perf_counter()
    subprocess.run(
        list(argv), cwd=cwd, env=dict(env), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    return time.perf_counter() - started
