"""What every DVC stage script shares: params, boundary validation, the fate ledger, metrics and
all-or-nothing output writing. Stage scripts in scripts/ read top to bottom on top of this."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl
import yaml

from corpus.errors import CorpusError, StageInputError, StageOutputError
from corpus.paths import RepoPaths, check_batch_id, repo_root
from schemas import SchemaError, SchemaErrors

# Final outcomes of a raw line (DESIGN.md 4, the fate ledger).
KEPT, DROPPED, QUARANTINED = "kept", "dropped", "quarantined"

FATE_SCHEMA: dict[str, pl.DataType] = {
    "batch_id": pl.String(),
    "line_no": pl.Int64(),
    "feedback_id": pl.String(),
    "stage": pl.String(),
    "outcome": pl.String(),
    "reason": pl.String(),
    "detail": pl.String(),
}

# Distributions every stage reports before and after itself.
DISTRIBUTION_COLUMNS = ("domain", "intent", "source", "annotator_id")
_TOP_ANNOTATORS = 25


def load_params(paths: RepoPaths) -> dict[str, Any]:
    with paths.params.open(encoding="utf-8") as handle:
        params = yaml.safe_load(handle)
    if not isinstance(params, dict):
        raise CorpusError(f"{paths.params}: expected a mapping of stage name to settings")
    # Batch ids become file names in every per-batch stage: each is checked before any is used.
    batches = params.get("batches") or []
    if not isinstance(batches, list):
        raise CorpusError("params.yaml: batches must be a list of batch ids")
    for batch_id in batches:
        check_batch_id(batch_id, where="params.yaml: batches")
    if repeated := sorted({b for b in batches if batches.count(b) > 1}):
        raise CorpusError(f"params.yaml: batches lists {', '.join(repeated)} more than once")
    return params


def batch_argument() -> str:
    """The batch a per-batch stage runs on: DVC's foreach passes it (`python scripts/<stage>.py ${item}`)."""
    if len(sys.argv) != 2:
        raise CorpusError(f"usage: python {sys.argv[0]} BATCH_ID")
    return check_batch_id(sys.argv[1], where="batch argument")


def stage_params(params: Mapping[str, Any], stage: str) -> dict[str, Any]:
    section = params.get(stage)
    if not isinstance(section, dict):
        raise CorpusError(f"params.yaml: missing section `{stage}:`")
    return section


def _format_failures(model_name: str, where: str, failures: pl.DataFrame, limit: int = 5) -> str:
    lines = [f"{where} breaks the {model_name} contract:"]
    grouped = failures.group_by(["column", "check"], maintain_order=True).agg(
        pl.len().alias("n"),
        pl.col("index").head(limit).alias("rows"),
        pl.col("failure_case").head(limit).alias("cases"),
    )
    for row in grouped.iter_rows(named=True):
        cases = ", ".join(repr(c)[:80] for c in row["cases"])
        lines.append(
            f"  column {row['column']!r} check {row['check']!r}: {row['n']} failing row(s), e.g. rows {row['rows']}: {cases}"
        )
    return "\n".join(lines)


def validate(df: pl.DataFrame, model: Any, *, where: str, error: type[CorpusError]) -> pl.DataFrame:
    """Validate schema and data of `df` against a pandera model, raising `error` with a readable report."""
    return _validate(df, model, model.__name__, where=where, error=error)


def _validate(df: pl.DataFrame, schema: Any, name: str, *, where: str, error: type[CorpusError]) -> pl.DataFrame:
    try:
        return schema.validate(df, lazy=True)
    except SchemaErrors as exc:
        failures = exc.failure_cases
        if "index" not in failures.columns:
            failures = failures.with_columns(pl.lit(None, pl.Int32).alias("index"))
        raise error(_format_failures(name, where, failures)) from None
    except SchemaError as exc:
        raise error(f"{where} breaks the {name} contract: {exc}") from None


def read_input(path: Path, model: Any) -> pl.DataFrame:
    if not path.is_file():
        raise StageInputError(f"{path}: missing; run the upstream stage (`dvc repro`)")
    return validate(pl.read_parquet(path), model, where=str(path), error=StageInputError)


def check_output(df: pl.DataFrame, model: Any, *, where: str) -> pl.DataFrame:
    return validate(df, model, where=where, error=StageOutputError)


def _rules(column: Any) -> list[tuple[Any, ...]]:
    # What a column rule is. Not pandera's Column equality: that also compares the check function
    # as resolved, which changes once a model has validated something. A custom check is told by
    # its function's code; a built-in one (a dispatcher, no code) by its name and statistics. If a
    # pandera release stops exposing `_check_fn` (private), no rule is known to be shared, so every
    # rule runs again: slower, never weaker.
    return [
        (
            check.name,
            check.error,
            repr(check.statistics),
            getattr(check._check_fn, "__code__", None) if hasattr(check, "_check_fn") else object(),
            check.ignore_na,
        )
        for check in column.checks
    ]


def check_derived_output(df: pl.DataFrame, model: Any, *, base: Any, where: str) -> pl.DataFrame:
    """check_output for a frame made of rows that just passed `base` (all of them or some, their
    values untouched) plus the stage's new columns: the column rules `model` shares with `base` are
    not run again.

    Every column rule in schemas/ judges a row by its own value (rules spanning rows, such as
    uniqueness, are frame-level), so rows that passed still pass, whichever of them are kept; those
    rules are a half to four fifths of a boundary check's time (the calendar parse of collected_at,
    the regexes). Still checked: the column set and types, nulls, the new columns' rules, rules
    `model` adds, and every frame-level rule (those span rows, or may read the new columns). And the
    next stage's read_input runs the whole contract on the file again.
    """
    schema = model.to_schema()
    shared = base.to_schema().columns
    unchanged = [name for name, column in schema.columns.items() if name in shared and _rules(shared[name]) == _rules(column)]
    reduced = schema.update_columns({name: {"checks": []} for name in unchanged})
    return _validate(df, reduced, model.__name__, where=where, error=StageOutputError)


def polars_schema(model: Any) -> dict[str, Any]:
    """Column name -> polars dtype of a pandera model, in the model's column order."""
    return {name: column.dtype.type for name, column in model.to_schema().columns.items()}


def empty_fate() -> pl.DataFrame:
    return pl.DataFrame(schema=FATE_SCHEMA)


def fate_rows(
    df: pl.DataFrame, *, stage: str, outcome: str, reason: pl.Expr | str, detail: pl.Expr | str | None = None
) -> pl.DataFrame:
    """Ledger rows for every row of `df` (which carries batch_id, line_no, feedback_id)."""
    reason_expr = pl.lit(reason) if isinstance(reason, str) else reason
    detail_expr = pl.lit(detail, pl.String) if detail is None or isinstance(detail, str) else detail
    return df.select(
        pl.col("batch_id").cast(pl.String),
        pl.col("line_no").cast(pl.Int64),
        pl.col("feedback_id").cast(pl.String),
        pl.lit(stage).alias("stage"),
        pl.lit(outcome).alias("outcome"),
        reason_expr.cast(pl.String).alias("reason"),
        detail_expr.cast(pl.String).alias("detail"),
    )


def distributions(df: pl.DataFrame) -> dict[str, dict[str, int]]:
    """Counts of each distribution column present in `df` (annotators: the largest few plus the rest)."""
    out: dict[str, dict[str, int]] = {}
    for column in DISTRIBUTION_COLUMNS:
        if column not in df.columns:
            continue
        counts = (
            df.group_by(pl.col(column).fill_null("(null)"))
            .agg(pl.len().alias("n"))
            .sort(["n", column], descending=[True, False])
        )
        if column == "annotator_id" and counts.height > _TOP_ANNOTATORS:
            rest = int(counts["n"][_TOP_ANNOTATORS:].sum())
            counts = counts.head(_TOP_ANNOTATORS)
            out[column] = {**dict(zip(counts[column].to_list(), counts["n"].to_list())), "(others)": rest}
        else:
            out[column] = dict(zip(counts[column].to_list(), counts["n"].to_list()))
    return out


def stage_metrics(
    *,
    stage: str,
    scope: str,
    rows_in: int,
    before: pl.DataFrame,
    after: pl.DataFrame,
    fate: pl.DataFrame,
    **extra: Any,
) -> dict[str, Any]:
    """The metrics every stage reports; `rows_in == rows_out + dropped + quarantined` is asserted."""
    by_outcome: dict[str, dict[str, int]] = {DROPPED: {}, QUARANTINED: {}}
    if fate.height:
        grouped = fate.group_by(["outcome", "reason"]).agg(pl.len().alias("n")).sort(["outcome", "reason"])
        for row in grouped.iter_rows(named=True):
            by_outcome.setdefault(row["outcome"], {})[row["reason"]] = row["n"]
    removed = sum(sum(v.values()) for v in by_outcome.values())
    if rows_in != after.height + removed:
        raise StageOutputError(
            f"{stage} [{scope}]: conservation broken: rows in {rows_in} != rows out {after.height} + removed {removed}"
        )
    return {
        "stage": stage,
        "scope": scope,
        "rows_in": rows_in,
        "rows_out": after.height,
        "dropped": sum(by_outcome[DROPPED].values()),
        "quarantined": sum(by_outcome[QUARANTINED].values()),
        "dropped_by_reason": by_outcome[DROPPED],
        "quarantined_by_reason": by_outcome[QUARANTINED],
        "distributions": {"before": distributions(before), "after": distributions(after)},
        **extra,
    }


def _tmp(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp")


@contextmanager
def atomic_outputs(*paths: Path) -> Iterator[Callable[[Path], Path]]:
    """Write outputs to temporary names and move them into place only if the whole stage succeeds.

    Existing outputs are removed first, so a failed run never leaves an old or partial file that
    looks like a good result.
    """
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
    try:
        yield _tmp
    except BaseException:
        for path in paths:
            _tmp(path).unlink(missing_ok=True)
        raise
    for path in paths:
        if not _tmp(path).exists():
            raise StageOutputError(f"stage did not write {path}")
    for path in paths:
        os.replace(_tmp(path), path)


def write_parquet(df: pl.DataFrame, path: Path, *, statistics: bool = True) -> None:
    # Fixed compression and no statistics timestamps: byte-identical files for identical data.
    # zstd level 1: measured 2x faster to write than level 3 and 2x faster to read back, for files
    # ~5% larger; every stage boundary pays both.
    df.write_parquet(path, compression="zstd", compression_level=1, statistics=statistics)


def write_json(data: Any, path: Path) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def write_outputs(outputs: Mapping[Path, pl.DataFrame | Mapping[str, Any] | str], *, statistics: bool = True) -> None:
    """Write all of a stage's outputs, all or nothing (`atomic_outputs`): a frame as parquet (as
    JSON lines when the name ends in .jsonl), a mapping as JSON, a string as text.

    statistics=False leaves out parquet column statistics (min/max/null counts), ~15% of a write
    (0.2 s CPU at 330k rows), for outputs the next stage reads whole, never filtering on them.
    """
    with atomic_outputs(*outputs) as tmp:
        for path, value in outputs.items():
            if isinstance(value, pl.DataFrame):
                if path.suffix == ".jsonl":
                    value.write_ndjson(tmp(path))
                else:
                    write_parquet(value, tmp(path), statistics=statistics)
            elif isinstance(value, str):
                tmp(path).write_text(value, encoding="utf-8")
            else:
                write_json(value, tmp(path))


def run(main: Callable[[], None]) -> None:
    """Run a stage's main; a user-facing problem ends with its message and exit code, not a traceback."""
    try:
        main()
    except CorpusError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(exc.exit_code) from None
    # The outputs are written and closed: skip the interpreter's teardown of every loaded module
    # (polars, pandera, numpy...), measured at 0.15-0.2 s per stage process, paid some 40 times by
    # a `dvc repro` of 10 batches.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def paths_from_env() -> RepoPaths:
    return RepoPaths(repo_root())
