"""Where a slow stage spends its time: one of its runs again, its `main()` under cProfile.

benchmarks/stage_profiler.py runs the stage in the workspace, imports first (timed, not profiled),
then `main()` profiled. The run rewrites that stage's outputs with identical bytes (stages are
deterministic), so it comes after every other measurement. cProfile slows Python-level calls, not
time spent inside polars, numpy or other native code, so pure-Python hot spots look somewhat worse
than they are; the ranking is what matters.
"""

from __future__ import annotations

import json
import pstats
import subprocess
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from benchmarks.pipeline import Stage, rows_in
from benchmarks.workspace import Tools, Workspace

PROFILER = Path(__file__).with_name("stage_profiler.py")
# Code of the project (not of its libraries), for the cumulative view.
PROJECT_DIRS = ("corpus/", "scripts/", "schemas/")
STDLIB = Path(sysconfig.get_paths()["stdlib"])


@dataclass(frozen=True)
class HotFunction:
    function: str
    """path:line(name); paths relative to the workspace, site-packages or the standard library."""
    calls: int
    own_seconds: float
    cumulative_seconds: float


@dataclass(frozen=True)
class HotPath:
    stage: str
    rows_in: int | None
    import_seconds: float
    main_seconds: float
    """Under cProfile."""
    by_own_time: list[HotFunction]
    project_by_cumulative: list[HotFunction]


def _label(root: Path, filename: str, line: int, name: str) -> str:
    path = Path(filename)
    if "site-packages/" in filename:
        filename = filename.split("site-packages/", 1)[1]
    else:
        for base in (root, STDLIB):
            if path.is_absolute() and path.is_relative_to(base):
                filename = path.relative_to(base).as_posix()
    return f"{filename}:{line}({name})" if line else name


def profile_stage(workspace: Workspace, stage: Stage, output: Path, top: int = 10) -> HotPath:
    """Profile `stage`'s `main()` and rank its functions by own time, and the project's by cumulative time."""
    root = workspace.root.resolve()
    result = subprocess.run(
        [Tools.path("python"), str(PROFILER), str(output), *stage.command],
        cwd=root, env=workspace.tools.env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    seconds = json.loads(result.stdout.strip().splitlines()[-1])
    entries = [
        HotFunction(_label(root, filename, line, name), calls, own, cumulative)
        for (filename, line, name), (_, calls, own, cumulative, _) in pstats.Stats(str(output)).stats.items()  # type: ignore[attr-defined]
    ]
    project = [e for e in entries if e.function.startswith(PROJECT_DIRS)]
    return HotPath(
        stage=stage.name,
        rows_in=rows_in(stage),
        import_seconds=seconds["import_seconds"],
        main_seconds=seconds["main_seconds"],
        by_own_time=sorted(entries, key=lambda e: e.own_seconds, reverse=True)[:top],
        project_by_cumulative=sorted(project, key=lambda e: e.cumulative_seconds, reverse=True)[:top],
    )
