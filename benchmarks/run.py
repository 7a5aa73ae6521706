"""`python -m benchmarks.run --rows 1000000`: benchmark the pipeline end to end and write the report.

For each size (`--rows`, or several with `--rows-list 100000,1000000,10000000`), in a fresh
workspace (benchmarks/workspace.py: a copy of this clone's working tree, `git init`, generated
raw batches tracked with `dvc add`):

1. start-up: each stage script's interpreter + import time, and `corpusctl --help` (first size);
2. floor: polars read_ndjson -> write_parquet over the raw batches;
3. `dvc repro`, once, measured in total and per stage from outside (benchmarks/procmon.py);
4. sign the snapshot with a local Sigstore instance on 127.0.0.1, then `corpusctl verify` against
   `sha256sum` of the same files, and audit lookups cold and warm;
5. with `--s3`: `dvc push`/`dvc pull` against moto on 127.0.0.1 (tests/s3servers.py);
6. one ~1% batch added with `corpusctl batch add`/`approve`, and `dvc repro` again;
7. with `--profile K` (largest size only): the K stages with the most wall time, one run each
   under cProfile.

Steps 4 to 7 can be left out of the big sizes (`--full-up-to 1000000`): at 10M rows the memory and
end-to-end figures are what is wanted, and the 1% batch alone re-runs the union stages for another
quarter of an hour.

The report (targets met or not, per-size tables, machine, load average) goes to `--out`
(default benchmarks/results.md) and to stdout. Workspaces are deleted unless `--keep`; they take
several times the raw data's size (1M rows: ~1.2 GB raw).
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from benchmarks import pipeline, probes, workspace
from benchmarks.pipeline import PipelineRun, Stage
from benchmarks.probes import Signed, Skipped
from benchmarks.profiling import HotPath, profile_stage
from benchmarks.report import Results, SizeResult, render, utc_now
from corpus.samplegen import DEFAULT_SEED
from corpus.sigstore_local import LocalSigstore

T = TypeVar("T")
SOURCE_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = Path(__file__).with_name("results.md")


@dataclass(frozen=True)
class Options:
    sizes: list[int]
    out: Path
    workdir: Path | None
    keep: bool
    repeats: int
    profile: int
    s3: bool
    seed: int
    full_up_to: int | None

    def measures_all(self, rows: int) -> bool:
        """Whether steps 4-7 run at this size, not only generation, floor and `dvc repro`."""
        return self.full_up_to is None or rows <= self.full_up_to


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="raw rows to generate (default %(default)s)")
    parser.add_argument("--rows-list", help="several sizes, comma-separated (e.g. 100000,1000000); overrides --rows")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="markdown report (default %(default)s)")
    parser.add_argument("--workdir", type=Path, help="where workspaces go (default: a new temporary directory)")
    parser.add_argument("--keep", action="store_true", help="keep the workspaces (they can take GBs)")
    parser.add_argument("--repeats", type=int, default=5, help="runs per median of short timings (default %(default)s)")
    parser.add_argument("--profile", type=int, default=0, metavar="K",
                        help="cProfile the K slowest stages at the largest size (default: none)")  # fmt: skip
    parser.add_argument("--s3", action="store_true", help="also time dvc push/pull to moto (holds the data in memory)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="sample generator seed")
    parser.add_argument("--full-up-to", type=int, metavar="ROWS",
                        help="above this size only generate, measure the floor and `dvc repro` (no signing, verify, "
                             "audit, S3, 1%% batch or profile); default: everything at every size")  # fmt: skip
    args = parser.parse_args(argv)
    sizes = [int(x) for x in args.rows_list.split(",")] if args.rows_list else [args.rows]
    if args.repeats < 1 or any(n < 400 for n in sizes):
        parser.error("--repeats must be >= 1 and every size >= 400 rows (the sample needs room for its cases)")
    return Options(
        sorted(sizes), args.out, args.workdir, args.keep, args.repeats, args.profile, args.s3, args.seed, args.full_up_to
    )


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def attempt(what: str, action: Callable[[], T | Skipped]) -> T | Skipped:
    """Run one measurement; if it breaks, say why (traceback on stderr) and go on with the others."""
    try:
        return action()
    except Exception as exc:  # one broken probe must not lose an hour of other figures
        traceback.print_exc(file=sys.stderr)
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        say(f"{what} failed: {first}")
        return Skipped(f"failed: {first[:200]}")


def _largest_run(run: PipelineRun, stages: list[Stage], group: str) -> Stage:
    """The run of `group` with the most rows in (the longest among equals): the most per-row work."""
    by_name = {s.name: s for s in stages}
    runs = [r for r in run.measured.processes if by_name[r.name].group == group]
    return by_name[max(runs, key=lambda r: (pipeline.rows_in(by_name[r.name]) or 0, r.seconds)).name]


def hot_paths(ws: workspace.Workspace, run: PipelineRun, count: int, scratch: Path) -> list[HotPath]:
    """Profile one run (the largest) of each of the `count` stages with the most wall time."""
    stages = pipeline.pipeline_stages(ws.root)
    slowest = sorted(run.stages, key=lambda s: s.seconds, reverse=True)[:count]
    profiled = []
    for figures in slowest:
        stage = _largest_run(run, stages, figures.group)
        say(f"profiling {stage.name}")
        profiled.append(profile_stage(ws, stage, scratch / f"{stage.local_name}.prof"))
    return profiled


def run_size(rows: int, base: Path, options: Options, sigstore: LocalSigstore) -> SizeResult:
    scratch = base / "scratch"
    scratch.mkdir(parents=True)
    say(f"{rows:,} rows: generating the workspace in {base}")
    ws = workspace.create(SOURCE_ROOT, base / "repo", rows=rows, home=base / "home", seed=options.seed)
    stages = pipeline.pipeline_stages(ws.root)
    scripts = list(dict.fromkeys(s.command[0] for s in stages))
    say("timing start-up: corpusctl --help and each stage script")
    help_seconds = attempt("corpusctl --help", lambda: probes.help_seconds(ws, options.repeats))
    startup = attempt("start-up", lambda: probes.stage_startup(ws, scripts, options.repeats))
    say("floor: polars read_ndjson -> write_parquet")
    floor = attempt("floor", lambda: probes.floor(ws, scratch))

    say("dvc repro")
    load_before = os.getloadavg()
    full = pipeline.repro(ws, base / "repro.log")
    load_after = os.getloadavg()
    say(f"dvc repro: {full.measured.seconds:.1f} s, exit {full.measured.returncode}")

    increment_rows = max(rows // 100, 1)
    failed = Skipped("not run: `dvc repro` failed")
    signed: Signed | Skipped = failed
    verify: probes.VerifyFigures | Skipped = failed
    audit: probes.AuditFigures | Skipped = failed
    s3: probes.S3Figures | Skipped = failed if options.s3 else Skipped("not measured (pass --s3)")
    incremental: PipelineRun | Skipped = failed
    profiled: list[HotPath] = []
    if full.ok and not options.measures_all(rows):
        signed = verify = audit = incremental = Skipped(f"not measured above {options.full_up_to:,} rows (--full-up-to)")
        if options.s3:
            s3 = signed
    elif full.ok:
        say("signing and verifying")
        signed = attempt("sign", lambda: probes.sign(ws, sigstore))
        if isinstance(signed, Signed):
            snapshot = signed
            verify = attempt("verify", lambda: probes.verify_throughput(ws, snapshot, options.repeats))
            audit = attempt("audit", lambda: probes.audit_latency(ws, snapshot, scratch, options.repeats))
        else:
            verify = audit = Skipped(f"nothing signed ({signed.reason})")
        if options.s3:
            say("S3 push/pull")
            s3 = attempt("s3", lambda: probes.s3_throughput(ws, scratch))
        say(f"adding a {increment_rows:,}-row batch, dvc repro")
        added = attempt("add batch", lambda: workspace.add_increment(ws, increment_rows, scratch / "increment"))
        incremental = added if isinstance(added, Skipped) else pipeline.repro(ws, base / "repro-increment.log")
        if options.profile and rows == max(n for n in options.sizes if options.measures_all(n)):
            profiled = hot_paths(ws, full, options.profile, scratch)
    return SizeResult(
        rows=rows,
        batches=len(ws.batches),
        raw_bytes=ws.raw_bytes,
        generate_seconds=ws.generate_seconds,
        dvc_add_seconds=ws.dvc_add_seconds,
        help_seconds=help_seconds,
        load_before=load_before,
        load_after=load_after,
        pipeline=full,
        startup={} if isinstance(startup, Skipped) else startup,
        floor=floor,
        signed=signed,
        verify=verify,
        audit=audit,
        increment_rows=increment_rows,
        incremental=incremental,
        s3=s3,
        hot_paths=profiled,
    )


def run_benchmark(options: Options, command: str) -> Results:
    """Measure every size in `options`; the report is rendered from the returned results."""
    owned = options.workdir is None
    workdir = options.workdir or Path(tempfile.mkdtemp(prefix="corpus-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    results = Results(
        command=command,
        source=workspace.describe_source(SOURCE_ROOT),
        started=utc_now(),
        repeats=options.repeats,
    )
    try:
        with LocalSigstore() as sigstore:
            for rows in options.sizes:
                base = workdir / f"rows-{rows}"
                try:
                    results.sizes.append(run_size(rows, base, options, sigstore))
                finally:
                    if not options.keep:
                        shutil.rmtree(base, ignore_errors=True)
    finally:
        if owned and not options.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        elif options.keep:
            say(f"workspaces kept in {workdir}")
    results.load_end = os.getloadavg()
    return results


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    command = "python -m benchmarks.run " + shlex.join(sys.argv[1:] if argv is None else argv)
    results = run_benchmark(options, command)
    report = render(results)
    options.out.parent.mkdir(parents=True, exist_ok=True)
    options.out.write_text(report, encoding="utf-8")
    print(report)
    say(f"report written to {options.out}")
    return 0 if all(s.pipeline.ok for s in results.sizes) else 1


if __name__ == "__main__":
    raise SystemExit(main())
