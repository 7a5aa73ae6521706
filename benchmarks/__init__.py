"""Benchmarks of the template's pipeline and tools (issue 8): `python -m benchmarks.run --rows N`.

Modules: `procmon` (run a command, sample its process tree: wall time, peak RSS, the stage
processes inside it), `workspace` (a throw-away copy of the template holding generated raw
batches), `pipeline` (one measured `dvc repro`, attributed to its stages), `probes` (the other
figures: floor, verify vs sha256sum, start-up, audit, incremental batch, S3), `profiling` (cProfile
of a slow stage), `report` (machine, targets, markdown) and `run` (the command).
"""
