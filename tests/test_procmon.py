"""The benchmark's process monitor: a watched process's wall time is its own, not the clock's error."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from benchmarks.procmon import run_measured


def test_a_watched_process_is_timed_from_its_real_start(tmp_path: Path) -> None:
    # Three children that each sleep 0.6 s, one after the other, inside a shell that sleeps too.
    child = f"{sys.executable} -c 'import time; time.sleep(0.6)'"
    script = f"sleep 0.3; {child}; {child}; {child}; sleep 0.3"
    measured = run_measured(
        ["/bin/sh", "-c", script],
        cwd=tmp_path,
        env=dict(os.environ),
        log=tmp_path / "log",
        watch=lambda argv: "child" if argv and argv[0] == sys.executable else None,
    )
    assert measured.returncode == 0
    runs = [p for p in measured.processes if p.name == "child"]
    assert len(runs) == 3
    # Each run is 0.6 s plus interpreter start-up, known to within half a sampling interval; psutil's
    # creation time alone runs early by the fraction of a second of the boot time it counts from.
    for run in runs:
        assert 0.55 < run.seconds < 0.95, run
    assert sum(run.seconds for run in runs) < measured.seconds - 0.5
