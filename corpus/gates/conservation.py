"""Conservation: every raw line has exactly one final fate, and every stage accounts for its rows.

The fate ledger is what answers "what happened to feedback X"; a line that vanished or ended up
both kept and dropped would make that answer wrong, so the snapshot is refused (and this gate
cannot be overridden, see `report.NOT_OVERRIDABLE`).

Two checks, both naming batches and lines or stages:

- per line: the raw files define the lines (counted like `corpus.ingest.split_lines`: a final
  newline does not start another line); the final ledger must hold each (batch_id, line_no) once,
  and nothing else;
- per stage: every stage's metrics say rows in = rows out + removed, its fate file holds exactly
  the rows it removed, and each stage took in what the previous one put out (per batch up to
  classify, then the union).

Every stage's fate and metrics file is required, also when it removed nothing: a missing file
means the stage did not run, not that it dropped nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from corpus.errors import StageInputError
from corpus.gates.report import GateResult
from corpus.parallel import in_parallel
from corpus.paths import RepoPaths
from corpus.stage import validate
from schemas.fate import FateRow

PER_BATCH_STAGES = ("ingest", "govern", "redact", "classify")
UNION_STAGES = ("dedup", "balance", "split")
ALL = "all"
_LINES_SHOWN = 10


@dataclass(frozen=True)
class StageFlow:
    """What one stage run reports about itself: rows in, out and removed, and its ledger rows."""

    stage: str
    scope: str
    rows_in: int
    rows_out: int
    removed: int
    ledger_rows: int


@dataclass(frozen=True)
class Ledger:
    fates: pl.DataFrame
    flows: list[StageFlow]
    raw_lines: dict[str, int]


def count_lines(path: Path) -> int:
    """Lines of a raw batch as ingest numbers them, read in blocks (a batch can be larger than memory)
    into one reused buffer: a fresh block per read costs page faults on every read."""
    lines, last = 0, ord("\n")
    buffer = bytearray(1 << 24)
    with path.open("rb", buffering=0) as handle:
        while size := handle.readinto(buffer):
            lines += buffer.count(b"\n", 0, size)
            last = buffer[size - 1]
    return lines + int(last != ord("\n"))


def _metrics(path: Path) -> dict[str, int]:
    if not path.is_file():
        raise StageInputError(f"{path}: missing; run the upstream stage (`dvc repro`)")
    try:
        metrics = json.loads(path.read_text(encoding="utf-8"))
        return {key: int(metrics[key]) for key in ("rows_in", "rows_out", "dropped", "quarantined")}
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise StageInputError(f"{path}: not a stage metrics file ({exc})") from None


def _stage_run(paths: RepoPaths, stage: str, scope: str) -> tuple[Path, pl.DataFrame, StageFlow]:
    prefix = "" if scope == ALL else f"{scope}."
    path = paths.stage_dir(stage) / f"{prefix}fate.parquet"
    if not path.is_file():
        raise StageInputError(f"{path}: missing; run the upstream stage (`dvc repro`)")
    fates = pl.read_parquet(path)
    metrics = _metrics(paths.stage_dir(stage) / f"{prefix}metrics.json")
    flow = StageFlow(
        stage, scope, metrics["rows_in"], metrics["rows_out"], metrics["dropped"] + metrics["quarantined"], fates.height
    )
    return path, fates, flow


def _validated(files: list[tuple[Path, pl.DataFrame]]) -> pl.DataFrame:
    """The fate files as one frame, validated once: there are four per batch, some 400 at 10M raw
    rows, and validating each on its own costs more than its rows. Only when that fails is each
    file validated, so that the error names the one breaking the contract."""
    try:
        return validate(pl.concat([fates for _, fates in files]), FateRow, where="the fate files", error=StageInputError)
    except (StageInputError, pl.exceptions.PolarsError):
        for path, fates in files:
            validate(fates, FateRow, where=str(path), error=StageInputError)
        raise


def load_ledger(paths: RepoPaths, batches: list[str]) -> Ledger:
    """Every stage's fate rows and flow before the gates, and the line count of every raw batch."""
    for batch in batches:
        raw = paths.raw_batch(batch)
        if not raw.is_file():
            raise StageInputError(f"{raw}: missing; run `dvc pull` (batch {batch} is listed in params `batches`)")
    # Counting is a read of every raw byte; reads overlap on all cores (file reads release the GIL).
    raw_lines = dict(zip(batches, in_parallel(lambda batch: count_lines(paths.raw_batch(batch)), batches)))
    runs = [_stage_run(paths, stage, batch) for stage in PER_BATCH_STAGES for batch in batches]
    runs += [_stage_run(paths, stage, ALL) for stage in UNION_STAGES]
    return Ledger(_validated([(path, fates) for path, fates, _ in runs]), [flow for _, _, flow in runs], raw_lines)


def _ranges(lines: list[int]) -> str:
    """[1, 2, 3, 7, 9, 10] -> "1-3, 7, 9-10"; long lists are cut with a count of the rest."""
    runs: list[list[int]] = []
    for line in lines:
        if runs and line == runs[-1][1] + 1:
            runs[-1][1] = line
        else:
            runs.append([line, line])
    shown = ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in runs[:_LINES_SHOWN])
    return shown + (f" (+{len(runs) - _LINES_SHOWN} more ranges)" if len(runs) > _LINES_SHOWN else "")


def _line_findings(final: pl.DataFrame, raw_lines: dict[str, int]) -> list[str]:
    # Raw line (batch, n) is number offset[batch] + n - 1 of all raw lines: counting fates per line
    # is then a bincount, and only the lines in trouble are looked at by name.
    offsets = dict(zip(raw_lines, np.cumsum([0, *raw_lines.values()])[:-1].tolist()))
    located = final.with_columns(
        line=pl.col("batch_id").replace_strict(offsets, default=None, return_dtype=pl.Int64) + pl.col("line_no") - 1,
        last=pl.col("batch_id").replace_strict(raw_lines, default=None, return_dtype=pl.Int64),
    )
    known = pl.col("last").is_not_null() & pl.col("line_no").is_between(1, pl.col("last"))
    fates = np.bincount(located.select(pl.col("line").filter(known)).to_series().to_numpy(), minlength=sum(raw_lines.values()))

    missing = np.flatnonzero(fates == 0)
    starts = np.array(list(offsets.values()), dtype=np.int64)
    batch_index = np.searchsorted(starts, missing, side="right") - 1
    lines_without = pl.DataFrame(
        {
            "batch_id": pl.Series(list(raw_lines), dtype=pl.String).gather(batch_index),
            "line_no": missing - starts[batch_index] + 1,
        }
    )
    repeated = located.filter(known & pl.col("line").is_in(pl.Series(np.flatnonzero(fates > 1)).implode()))
    problems = [
        ("have no final fate", lines_without),
        ("have more than one final fate", repeated),
        ("have a fate but are no raw line (past the end of the file, or a batch not in params)", located.filter(~known)),
    ]
    findings = []
    for what, rows in problems:
        for (batch,), group in rows.sort("batch_id", "line_no").group_by("batch_id", maintain_order=True):
            lines = group["line_no"].unique().sort()
            fates = group.select(pl.format("{} {}", "stage", "outcome")).to_series().unique().sort() if "stage" in group.columns else None
            stages = f" (fates: {', '.join(fates)})" if fates is not None else ""
            findings.append(f"batch {batch}: {len(lines)} line(s) {what}: lines {_ranges(lines.to_list())}{stages}")
    return findings


def in_line_order(final: pl.DataFrame, raw_lines: dict[str, int]) -> pl.DataFrame:
    """A final ledger that passed `check`, ordered by batch_id, then line_no.

    Passing means one row per raw line: each row's number among all raw lines (batches in name
    order) is then a unique key in that order, and one integer sort key costs half of sorting on
    a string and a number.
    """
    batches = sorted(raw_lines)
    offsets = dict(zip(batches, np.cumsum([0, *(raw_lines[b] for b in batches)])[:-1].tolist()))
    return final.sort(pl.col("batch_id").replace_strict(offsets, return_dtype=pl.Int64) + pl.col("line_no"))


def _flow_findings(flows: list[StageFlow], raw_lines: dict[str, int]) -> list[str]:
    findings = []
    for f in flows:
        where = f"{f.stage} [{f.scope}]"
        if f.rows_in != f.rows_out + f.removed:
            findings.append(f"{where}: rows in {f.rows_in} != rows out {f.rows_out} + removed {f.removed}")
        if f.removed != f.ledger_rows:
            findings.append(f"{where}: metrics count {f.removed} removed row(s) but its fate file holds {f.ledger_rows}")
    by_key = {(f.stage, f.scope): f for f in flows}
    for batch, lines in raw_lines.items():
        taken = by_key[("ingest", batch)].rows_in
        if taken != lines:
            findings.append(f"ingest [{batch}]: read {taken} line(s) but the raw file has {lines}")
        for before, stage in zip(PER_BATCH_STAGES, PER_BATCH_STAGES[1:]):
            given, taken = by_key[(before, batch)].rows_out, by_key[(stage, batch)].rows_in
            if given != taken:
                findings.append(f"{stage} [{batch}]: took in {taken} row(s) but {before} put out {given}")
    union = [(PER_BATCH_STAGES[-1], sum(by_key[(PER_BATCH_STAGES[-1], b)].rows_out for b in raw_lines))]
    union += [(stage, by_key[(stage, ALL)].rows_out) for stage in UNION_STAGES]
    following = [*UNION_STAGES, "gates"]
    for (before, given), stage in zip(union, following):
        taken = by_key[(stage, ALL)].rows_in
        if given != taken:
            findings.append(f"{stage} [{ALL}]: took in {taken} row(s) but {before} put out {given}")
    return findings


def check(final: pl.DataFrame, ledger: Ledger, gates_flow: StageFlow) -> GateResult:
    """`final` is the final ledger: the fates of all stages plus one `kept` row per published example."""
    line_findings = _line_findings(final, ledger.raw_lines)
    flow_findings = _flow_findings([*ledger.flows, gates_flow], ledger.raw_lines)
    lines = sum(ledger.raw_lines.values())
    passed = not line_findings and not flow_findings
    summary = (
        f"each of the {lines} raw line(s) of {len(ledger.raw_lines)} batch(es) has exactly one final fate; every stage balances"
        if passed
        else f"the fate ledger does not account for every raw line exactly once ({lines} raw lines)"
    )
    resolution = (
        "a stage lost, duplicated or invented rows: the stage named above (or the first stage of the batch named) has a "
        "bug or stale outputs; rerun it with `dvc repro --force <stage>` and, if the problem stays, fix the stage"
    )
    facts = {"raw_lines": lines, "final_fates": final.height, "batches": len(ledger.raw_lines)}
    return GateResult("conservation", passed, summary, line_findings + flow_findings, resolution, facts)
