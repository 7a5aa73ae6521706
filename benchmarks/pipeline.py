"""One measured `dvc repro`, attributed to its stages.

The stages and their commands come from DVC itself (foreach expanded), so new stages are measured
without changes here. `dvc repro` runs once, unmodified; `procmon` follows each stage's process
inside it. A stage's figures are summed over its runs (one per batch for foreach stages): wall
and CPU seconds, rows in (the `rows_in` of the metrics JSON each run writes; `seed_rows` for a
training stage), and the peak RSS of its largest run. What is left of the total is DVC's own work: start-up,
hashing inputs and outputs, caching outputs, writing dvc.lock.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from contextlib import chdir
from dataclasses import dataclass
from pathlib import Path

from benchmarks.procmon import Measured, ProcessRun, Watch, run_measured
from benchmarks.workspace import Tools, Workspace

# The metrics keys that count a stage's input rows, first match wins.
ROWS_IN_KEYS = ("rows_in", "seed_rows")


@dataclass(frozen=True)
class Stage:
    name: str
    """DVC's address, e.g. pipelines/ingest/dvc.yaml:ingest@prod-chat-2026-10-12 or dedup."""
    command: tuple[str, ...]
    """The command's arguments after the interpreter, e.g. (scripts/ingest.py, prod-chat-2026-10-12)."""
    metrics: tuple[Path, ...]

    @property
    def local_name(self) -> str:
        """The name within its dvc.yaml, e.g. ingest@prod-chat-2026-10-12: a stage of another
        dvc.yaml than the root's is addressed as <file>:<name>."""
        return self.name.rpartition(":")[2]

    @property
    def group(self) -> str:
        """The stage definition it comes from, e.g. ingest."""
        return self.local_name.split("@", 1)[0]


@dataclass(frozen=True)
class StageFigures:
    group: str
    runs: int
    rows_in: int | None
    seconds: float
    cpu_seconds: float
    peak_rss: int
    script: str

    @property
    def rows_per_second(self) -> float | None:
        return self.rows_in / self.seconds if self.rows_in is not None and self.seconds > 0 else None


@dataclass(frozen=True)
class PipelineRun:
    measured: Measured
    stages: list[StageFigures]
    """In the order DVC ran them."""

    @property
    def ok(self) -> bool:
        return self.measured.returncode == 0

    @property
    def dvc_seconds(self) -> float:
        return max(self.measured.seconds - sum(s.seconds for s in self.stages), 0.0)


def pipeline_stages(root: Path) -> list[Stage]:
    """Every stage with a command in the workspace's dvc.yaml files, as DVC resolves it."""
    from dvc.repo import Repo

    stages = []
    with chdir(root), Repo(str(root)) as repo:
        for stage in repo.index.stages:
            if not getattr(stage, "cmd", None):
                continue  # a .dvc file, not a stage
            stages.append(
                Stage(
                    name=stage.addressing,
                    command=tuple(shlex.split(stage.cmd)[1:]),
                    metrics=tuple(Path(out.fs_path) for out in stage.outs if out.metric),
                )
            )
    return stages


def _watch(stages: Sequence[Stage]) -> Watch:
    by_command = {s.command: s.name for s in stages}

    def watch(cmdline: Sequence[str]) -> str | None:
        if not cmdline or not Path(cmdline[0]).name.startswith("python"):
            return None  # e.g. the `/bin/sh -c` DVC starts the command with
        return by_command.get(tuple(cmdline[1:]))

    return watch


def rows_in(stage: Stage) -> int | None:
    """The input rows its last run recorded in its metrics JSON; None if it records none."""
    for path in stage.metrics:
        if path.is_file():
            metrics = json.loads(path.read_text(encoding="utf-8"))
            for key in ROWS_IN_KEYS:
                if isinstance(metrics.get(key), int):
                    return int(metrics[key])
    return None


def _figures(stages: Sequence[Stage], runs: Sequence[ProcessRun]) -> list[StageFigures]:
    by_name = {s.name: s for s in stages}
    groups: dict[str, list[ProcessRun]] = {}
    for run in runs:  # in start order, so groups come out in the order DVC ran them
        groups.setdefault(by_name[run.name].group, []).append(run)
    figures = []
    for group, members in groups.items():
        rows = [rows_in(by_name[run.name]) for run in members]
        figures.append(
            StageFigures(
                group=group,
                runs=len(members),
                rows_in=None if None in rows else sum(r for r in rows if r is not None),
                seconds=sum(run.seconds for run in members),
                cpu_seconds=sum(run.cpu_seconds for run in members),
                peak_rss=max(run.peak_rss for run in members),
                script=by_name[members[0].name].command[0],
            )
        )
    return figures


def repro(workspace: Workspace, log: Path) -> PipelineRun:
    """`dvc repro` in the workspace, measured as a whole and per stage."""
    stages = pipeline_stages(workspace.root)
    measured = run_measured(
        [Tools.path("dvc"), "repro"], cwd=workspace.root, env=workspace.tools.env, log=log, watch=_watch(stages)
    )
    return PipelineRun(measured=measured, stages=_figures(stages, measured.processes))
