"""Run one stage script with its `main()` under cProfile, imports outside the profile.

`python benchmarks/stage_profiler.py OUT.prof scripts/<stage>.py [ARGS...]` (in a clone, as DVC
would run the stage): imports the script as DVC's `python scripts/<stage>.py` would (its folder
first on sys.path), then profiles `main()` into OUT.prof, and prints
`{"import_seconds": ..., "main_seconds": ...}`. Stage scripts keep their work in `main()` behind
`if __name__ == "__main__"`, so importing one does no work.
"""

from __future__ import annotations

import cProfile
import importlib.util
import json
import sys
import time
from pathlib import Path


def main(output: Path, script: Path, args: list[str]) -> None:
    started = time.perf_counter()
    sys.path.insert(0, str(script.parent))
    spec = importlib.util.spec_from_file_location("profiled_stage", script)
    if spec is None or spec.loader is None:
        raise SystemExit(f"{script}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    imported = time.perf_counter()
    sys.argv = [str(script), *args]
    profiler = cProfile.Profile()
    profiler.runcall(module.main)
    finished = time.perf_counter()
    profiler.dump_stats(output)
    print(json.dumps({"import_seconds": imported - started, "main_seconds": finished - imported}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:])
