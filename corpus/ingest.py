"""Turning the bytes of one raw batch into typed rows, and every line that cannot be into a
quarantine record with its line number and the rule it broke (DESIGN.md 4.1).

The fast path decodes a whole batch at once with Arrow's JSON reader into the contract's types.
Only a batch that fails that (malformed JSON, bad UTF-8, a wrong type) is walked line by line, to
find out which lines are at fault; its good lines then go through the fast path again.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass

import polars as pl
import pyarrow as pa
import pyarrow.json as pa_json

from schemas.raw import RAW_FIELDS

_ARROW_TYPES: dict[str, pa.DataType] = {
    "prompt": pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())])),
    "training_consent": pa.bool_(),
}
_ARROW_SCHEMA = pa.schema([(name, _ARROW_TYPES.get(name, pa.string())) for name in RAW_FIELDS])
_BOOL_FIELDS = {"training_consent"}


@dataclass(frozen=True)
class ParsedBatch:
    rows: pl.DataFrame  # RAW_FIELDS + line_no + line_sha256
    rejected: pl.DataFrame  # line_no, line_sha256, rule, detail


def split_lines(data: bytes) -> list[bytes]:
    """Lines as a person numbers them: a final newline does not start another line."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [line[:-1] if line.endswith(b"\r") else line for line in lines]


def _sha256_hex(lines: list[bytes]) -> list[str]:
    return [hashlib.sha256(line).hexdigest() for line in lines]


def _decode_fast(lines: list[bytes]) -> pl.DataFrame:
    payload = b"\n".join(lines) + b"\n"
    longest = max((len(line) for line in lines), default=0)
    table = pa_json.read_json(
        io.BytesIO(payload),
        read_options=pa_json.ReadOptions(use_threads=True, block_size=max(1 << 22, longest + 2)),
        parse_options=pa_json.ParseOptions(explicit_schema=_ARROW_SCHEMA, unexpected_field_behavior="ignore"),
    )
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame.cast(RAW_FIELDS)


def _type_problem(value: object) -> tuple[str, str] | None:
    """Why one decoded JSON value cannot be a feedback record, as (rule, detail); None if it can."""
    if not isinstance(value, dict):
        return "not_a_json_object", f"line holds a JSON {type(value).__name__}, not an object"
    for name in RAW_FIELDS:
        field = value.get(name)
        if field is None:
            continue
        if name in _BOOL_FIELDS:
            if not isinstance(field, bool):
                return "wrong_type", f"{name} must be true or false, got {type(field).__name__}"
        elif name == "prompt":
            if not isinstance(field, list):
                return "wrong_type", f"prompt must be a list of messages, got {type(field).__name__}"
            for i, message in enumerate(field):
                if not isinstance(message, dict):
                    return "wrong_type", f"prompt[{i}] must be an object with role and content"
                for key in ("role", "content"):
                    if message.get(key) is not None and not isinstance(message[key], str):
                        return "wrong_type", f"prompt[{i}].{key} must be a string"
        elif not isinstance(field, str):
            return "wrong_type", f"{name} must be a string, got {type(field).__name__}"
    return None


def _find_bad_lines(
    lines: list[bytes], line_numbers: list[int]
) -> tuple[list[int], list[tuple[int, str, str]]]:
    good: list[int] = []
    bad: list[tuple[int, str, str]] = []
    for index, (line, number) in enumerate(zip(lines, line_numbers)):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad.append((index, "invalid_utf8", f"byte {exc.start} is not valid UTF-8"))
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            bad.append((index, "malformed_json", f"{exc.msg} at column {exc.colno}"))
            continue
        problem = _type_problem(value)
        if problem:
            bad.append((index, *problem))
        else:
            good.append(index)
    return good, bad


def parse_batch(data: bytes, *, max_line_bytes: int) -> ParsedBatch:
    lines = split_lines(data)
    hashes = _sha256_hex(lines)
    rejected: list[tuple[int, str, str]] = []  # (line_no, rule, detail)
    candidates: list[int] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            rejected.append((number, "empty_line", "blank line"))
        elif len(line) > max_line_bytes:
            rejected.append(
                (number, "line_too_long", f"{len(line)} bytes > ingest.max_line_bytes={max_line_bytes}")
            )
        else:
            candidates.append(number)

    kept_numbers = candidates
    candidate_lines = [lines[n - 1] for n in candidates]
    try:
        frame = _decode_fast(candidate_lines) if candidate_lines else pl.DataFrame(schema=RAW_FIELDS)
    except (pa.ArrowInvalid, UnicodeDecodeError):
        good, bad = _find_bad_lines(candidate_lines, candidates)
        rejected.extend((candidates[i], rule, detail) for i, rule, detail in bad)
        kept_numbers = [candidates[i] for i in good]
        frame = _decode_fast([candidate_lines[i] for i in good]) if good else pl.DataFrame(schema=RAW_FIELDS)

    rows = frame.with_columns(
        pl.Series("line_no", kept_numbers, dtype=pl.Int64),
        pl.Series("line_sha256", [hashes[n - 1] for n in kept_numbers], dtype=pl.String),
    )
    rejected.sort()
    rejected_frame = pl.DataFrame(
        {
            "line_no": [r[0] for r in rejected],
            "line_sha256": [hashes[r[0] - 1] for r in rejected],
            "rule": [r[1] for r in rejected],
            "detail": [r[2] for r in rejected],
        },
        schema={"line_no": pl.Int64, "line_sha256": pl.String, "rule": pl.String, "detail": pl.String},
    )
    return ParsedBatch(rows=rows, rejected=rejected_frame)


def all_lines(data: bytes) -> pl.DataFrame:
    """Every line of a batch (line_no, line_sha256): what a rejected batch must account for."""
    hashes = _sha256_hex(split_lines(data))
    return pl.DataFrame(
        {"line_no": list(range(1, len(hashes) + 1)), "line_sha256": hashes},
        schema={"line_no": pl.Int64, "line_sha256": pl.String},
    )


_CHECK_NAMES = {"not_nullable": "required", "dtype": "wrong_type"}
# Values of these fields may hold customer text the redact stage has not seen: never echoed.
_FREE_TEXT_FIELDS = ["prompt", "response", "correction", "comment"]


def apply_row_rules(
    rows: pl.DataFrame, *, registered_sources: list[str]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split decoded rows into those that meet the contract and rejected (line_no, rule, detail).

    The contract's rules live in the pandera model `schemas.raw.RawFeedback`; each failing row is
    reported once per broken rule as `column:check`. Two rules need context the model cannot hold:
    the surface registry and uniqueness of feedback_id within the batch.
    """
    from pandera.errors import SchemaErrors

    from schemas.raw import RawFeedback

    failures: list[pl.DataFrame] = []
    try:
        RawFeedback.validate(rows.select(RAW_FIELDS.keys()), lazy=True)
    except SchemaErrors as exc:
        cases = exc.failure_cases.filter(pl.col("index").is_not_null())
        failures.append(
            cases.select(
                pl.col("index").cast(pl.Int64).alias("row"),
                (
                    pl.col("column") + ":" + pl.col("check").str.replace(r"\(.*$", "").replace(_CHECK_NAMES)
                ).alias("rule"),
                pl.when(pl.col("column").is_in(_FREE_TEXT_FIELDS))
                .then(pl.format("{} failed {}", pl.col("column"), pl.col("check")))
                .otherwise(
                    pl.format(
                        "{} failed {} (value {})",
                        pl.col("column"),
                        pl.col("check"),
                        pl.col("failure_case").str.slice(0, 80),
                    )
                )
                .alias("detail"),
            )
        )
    indexed = rows.with_row_index("row").with_columns(pl.col("row").cast(pl.Int64))
    unregistered = indexed.filter(
        pl.col("source").is_not_null() & ~pl.col("source").is_in(registered_sources)
    )
    failures.append(
        unregistered.select(
            "row",
            pl.lit("source:registered_surface").alias("rule"),
            pl.format("source {} is not in data/governance/surfaces.yaml", pl.col("source")).alias("detail"),
        )
    )
    repeated = indexed.filter(
        pl.col("feedback_id").is_not_null() & ~pl.col("feedback_id").is_first_distinct()
    )
    failures.append(
        repeated.select(
            "row",
            pl.lit("feedback_id:unique").alias("rule"),
            pl.format("feedback_id {} already appears earlier in this batch", pl.col("feedback_id")).alias(
                "detail"
            ),
        )
    )
    failed = (
        pl.concat(failures)
        .sort(["row", "rule"])
        .group_by("row", maintain_order=True)
        .agg(pl.col("rule").str.join("; "), pl.col("detail").str.join("; "))
    )
    bad = indexed.join(failed, on="row", how="inner").select("line_no", "line_sha256", "rule", "detail")
    good = indexed.join(failed, on="row", how="anti").drop("row")
    return good, bad


def recover_feedback_ids(data: bytes, line_numbers: list[int]) -> list[str | None]:
    """The feedback_id of each given line where the line is JSON enough to hold one, else None."""
    lines = split_lines(data)
    ids: list[str | None] = []
    for number in line_numbers:
        try:
            value = json.loads(lines[number - 1].decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            value = None
        found = value.get("feedback_id") if isinstance(value, dict) else None
        ids.append(found if isinstance(found, str) and found else None)
    return ids
