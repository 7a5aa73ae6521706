"""Turning the bytes of one raw batch into typed rows, and every line that cannot be into a
quarantine record with its line number and the rule it broke (DESIGN.md 4.1).

The reference is line by line: each line is decoded with Python's `json` and type-checked
(`_line_problem`), and the lines that pass are decoded by Arrow into the contract's types. That
is too slow for a batch of 100k lines, so lines go to Arrow's JSON reader directly, a few thousand
at a time, and only a part Arrow refuses is halved until the parts are small enough to walk line by
line. Arrow accepts a few things Python's `json` does not (invalid UTF-8, `-NaN` and `Inf`, a
byte-order mark, two objects on one line, a null prompt message); lines that could hold one of
those are found with cheap columnar checks first and always walked, so both ways reach the same
result.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from schemas.raw import RAW_FIELDS

_ARROW_TYPES: dict[str, pa.DataType] = {
    "prompt": pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())])),
    "training_consent": pa.bool_(),
}
_ARROW_SCHEMA = pa.schema([(name, _ARROW_TYPES.get(name, pa.string())) for name in RAW_FIELDS])
_ID_SCHEMA = pa.schema([("feedback_id", pa.string())])
_BOOL_FIELDS = {"training_consent"}

# Lines go to Arrow this many at a time; a refused part is halved down to _WALK_LINES, then walked.
_CHUNK_LINES = 4096
_WALK_LINES = 32
_SCAN_BYTES = 1 << 20
_OPEN, _CLOSE = ord("{"), ord("}")
# Non-finite numbers: Arrow reads -NaN, Inf and -Inf as well, Python's json only NaN, Infinity and
# -Infinity. Lines with any of them (or prose that looks like one) are walked.
_NON_FINITE = r"[:,\[][ \t\r]*-?(?:NaN|Inf)"
_NON_FINITE_BYTES = re.compile(_NON_FINITE.encode())
_ARROW_ERROR = re.compile(r"^(?:JSON parse error: )?(.*?)(?: in row \d+)?$", re.DOTALL)  # the readable part


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


class RawLines:
    """The lines of one batch as `split_lines` numbers them, kept as offsets into its bytes.

    Line i (0-based) is data[starts[i]:ends[i]]; its raw span, with its line break, runs to
    spans[i + 1]. Each line's sha256 is computed once here, for the rows and the fate ledger.
    """

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.array = np.frombuffer(data, dtype=np.uint8)
        # Scanned a block at a time: one comparison over the whole file allocates (and page-faults in)
        # a mask as large as the file, which costs ten times the scan.
        blocks = range(0, len(data), _SCAN_BYTES)
        breaks = np.concatenate(
            [np.zeros(0, dtype=np.int64)]
            + [np.flatnonzero(self.array[lo : lo + _SCAN_BYTES] == ord("\n")) + lo for lo in blocks]
        )
        starts = np.concatenate(([0], breaks + 1))
        ends = np.concatenate((breaks, [len(data)]))
        if starts[-1] == len(data):
            starts, ends = starts[:-1], ends[:-1]
        ends = ends - ((ends > starts) & (self.array[np.maximum(ends - 1, 0)] == ord("\r")))
        self.starts: np.ndarray = starts.astype(np.int64)
        self.ends: np.ndarray = ends.astype(np.int64)
        self.spans = np.append(self.starts, len(data))
        self.buffer = pa.py_buffer(data)
        view, sha256 = memoryview(data), hashlib.sha256
        self.sha256 = pl.Series(
            "line_sha256",
            [sha256(view[s:e]).hexdigest() for s, e in zip(self.starts.tolist(), self.ends.tolist())],
            dtype=pl.String,
        )

    def __len__(self) -> int:
        return len(self.starts)

    def line(self, i: int) -> bytes:
        return self.data[self.starts[i] : self.ends[i]]

    @cached_property
    def lengths(self) -> np.ndarray:
        return self.ends - self.starts

    @cached_property
    def braced(self) -> np.ndarray:
        """Lines that start with `{` and end with `}`, as every good line does."""
        braced = np.zeros(len(self), dtype=bool)
        nonempty = self.lengths > 0
        starts, ends = self.starts[nonempty], self.ends[nonempty]
        braced[nonempty] = (self.array[starts] == _OPEN) & (self.array[ends - 1] == _CLOSE)
        return braced

    @cached_property
    def suspect(self) -> np.ndarray:
        """Lines Arrow might read differently from Python's `json`: never trusted to the fast path."""
        suspect = ~self.braced
        spans = pa.LargeBinaryArray.from_buffers(
            pa.large_binary(), len(self), [None, pa.py_buffer(self.spans), self.buffer]
        )
        for lo in range(0, len(self), _CHUNK_LINES):
            part = spans.slice(lo, _CHUNK_LINES)
            try:
                odd = pl.Series(part.cast(pa.large_string())).str.contains(_NON_FINITE).to_numpy()
            except pa.ArrowInvalid:
                odd = np.array([_odd_bytes(raw) for raw in part.to_pylist()], dtype=bool)
            suspect[lo : lo + len(part)] |= odd
        return suspect


def _odd_bytes(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return _NON_FINITE_BYTES.search(raw) is not None


def _lines_of(data: bytes | RawLines) -> RawLines:
    return data if isinstance(data, RawLines) else RawLines(data)


def _arrow_read(lines: RawLines, idx: np.ndarray, schema: pa.Schema) -> pa.Table | str:
    """Arrow's reading of lines idx (ascending), one row per line; else why it gives none."""
    first, last = int(idx[0]), int(idx[-1])
    if last - first == len(idx) - 1:
        payload = lines.buffer[int(lines.starts[first]) : int(lines.spans[last + 1])]
    else:
        payload = pa.py_buffer(b"\n".join(lines.line(i) for i in idx.tolist()))
    longest = int((lines.spans[idx + 1] - lines.starts[idx]).max())
    try:
        table = pa_json.read_json(
            pa.BufferReader(payload),
            read_options=pa_json.ReadOptions(use_threads=True, block_size=max(1 << 20, longest + 2)),
            parse_options=pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore"),
        )
    except pa.ArrowInvalid as exc:
        return _ARROW_ERROR.sub(r"\1", str(exc))
    if table.num_rows != len(idx):
        return "more than one JSON value on a line"
    if "prompt" in table.column_names and pc.list_flatten(table["prompt"]).null_count:
        return "prompt holds a null message"
    return table


def _in_parts(
    idx: np.ndarray, take: Callable[[np.ndarray], bool], walk: Callable[[np.ndarray], None], *, smallest: int
) -> None:
    """Offer lines idx to `take` a chunk at a time, in order; halve each part it refuses until parts
    of `smallest` lines, which go to `walk`."""

    def visit(part: np.ndarray) -> None:
        if take(part):
            return
        if len(part) <= smallest:
            walk(part)
            return
        half = len(part) // 2
        visit(part[:half])
        visit(part[half:])

    for lo in range(0, len(idx), _CHUNK_LINES):
        visit(idx[lo : lo + _CHUNK_LINES])


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


def _line_problem(line: bytes) -> tuple[str, str] | None:
    """The reference judgement of one line, as (rule, detail); None if Arrow may decode it."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return "invalid_utf8", f"byte {exc.start} is not valid UTF-8"
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return "malformed_json", f"{exc.msg} at column {exc.colno}"
    except RecursionError:
        return "malformed_json", "nested too deeply"
    return _type_problem(value)


def parse_batch(data: bytes | RawLines, *, max_line_bytes: int) -> ParsedBatch:
    lines = _lines_of(data)
    rejected: list[tuple[int, str, str]] = []  # (line index, rule, detail)
    candidate = np.ones(len(lines), dtype=bool)
    # Only a line that is not braced can be blank.
    for i in np.flatnonzero(~lines.braced).tolist():
        if not lines.line(i).strip():
            rejected.append((i, "empty_line", "blank line"))
            candidate[i] = False
    for i in np.flatnonzero(candidate & (lines.lengths > max_line_bytes)).tolist():
        detail = f"{lines.lengths[i]} bytes > ingest.max_line_bytes={max_line_bytes}"
        rejected.append((i, "line_too_long", detail))
        candidate[i] = False

    tables: list[pa.Table] = []
    kept: list[np.ndarray] = []
    refusal = ""

    def take_unwalked(part: np.ndarray) -> bool:
        return not lines.suspect[part].any() and take(part)

    def take(part: np.ndarray) -> bool:
        nonlocal refusal
        table = _arrow_read(lines, part, _ARROW_SCHEMA)
        if isinstance(table, str):
            refusal = table
            return False
        tables.append(table)
        kept.append(part)
        return True

    def walk(part: np.ndarray) -> None:
        good = []
        for i in part.tolist():
            problem = _line_problem(lines.line(i))
            if problem:
                rejected.append((i, *problem))
            else:
                good.append(i)
        _in_parts(np.array(good, dtype=np.int64), take, refuse, smallest=1)

    def refuse(part: np.ndarray) -> None:
        # Python's json took this one line but Arrow cannot (a lone surrogate, a duplicated key, 1e400).
        rejected.append((int(part[0]), "malformed_json", refusal))

    _in_parts(np.flatnonzero(candidate), take_unwalked, walk, smallest=_WALK_LINES)

    if tables:
        frame = pl.from_arrow(pa.concat_tables(tables))
        assert isinstance(frame, pl.DataFrame)
        frame = frame.cast(RAW_FIELDS)
    else:
        frame = pl.DataFrame(schema=RAW_FIELDS)
    kept_idx = pl.Series(np.concatenate(kept) if kept else np.zeros(0, dtype=np.int64), dtype=pl.Int64)
    rows = frame.with_columns((kept_idx + 1).alias("line_no"), lines.sha256.gather(kept_idx))
    rejected.sort()
    rejected_idx = pl.Series([r[0] for r in rejected], dtype=pl.Int64)
    rejected_frame = pl.DataFrame(
        {
            "line_no": rejected_idx + 1,
            "line_sha256": lines.sha256.gather(rejected_idx),
            "rule": pl.Series([r[1] for r in rejected], dtype=pl.String),
            "detail": pl.Series([r[2] for r in rejected], dtype=pl.String),
        }
    )
    return ParsedBatch(rows=rows, rejected=rejected_frame)


def all_lines(data: bytes | RawLines) -> pl.DataFrame:
    """Every line of a batch (line_no, line_sha256): what a rejected batch must account for."""
    lines = _lines_of(data)
    line_no = pl.int_range(1, len(lines) + 1, dtype=pl.Int64, eager=True)
    return pl.DataFrame({"line_no": line_no, "line_sha256": lines.sha256})


_CHECK_NAMES = {"not_nullable": "required", "dtype": "wrong_type"}
# Values of these fields may hold customer text the redact stage has not seen, or (annotator_id
# failing `pseudonymous`) a person's address: never echoed.
_NOT_ECHOED_FIELDS = ["prompt", "response", "correction", "comment", "annotator_id"]


def apply_row_rules(
    rows: pl.DataFrame, *, registered_sources: list[str], batch_source: str
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split decoded rows into those that meet the contract and rejected (line_no, rule, detail).

    The contract's rules live in the pandera model `schemas.raw.RawFeedback`; each failing row is
    reported once per broken rule as `column:check`. Three rules need context the model cannot
    hold: the surface registry, the batch's source (a row of a batch approved as one surface may
    not claim another: a debug export's rows labelled prod_chat would otherwise train), and
    uniqueness of feedback_id within the batch.
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
                pl.when(pl.col("column").is_in(_NOT_ECHOED_FIELDS))
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
    # Only the key columns are searched and joined: copying the wide rows costs more than the rules.
    keys = rows.select(pl.int_range(pl.len(), dtype=pl.Int64).alias("row"), "source", "feedback_id")
    unregistered = keys.filter(pl.col("source").is_not_null() & ~pl.col("source").is_in(registered_sources))
    failures.append(
        unregistered.select(
            "row",
            pl.lit("source:registered_surface").alias("rule"),
            pl.format("source {} is not in data/governance/surfaces.yaml", pl.col("source")).alias("detail"),
        )
    )
    # An unregistered source is reported once, by the rule above.
    foreign = keys.filter(pl.col("source").is_in(registered_sources) & (pl.col("source") != batch_source))
    failures.append(
        foreign.select(
            "row",
            pl.lit("source:batch_source").alias("rule"),
            pl.format(
                "source {} is not this batch's source {} (its approved manifest)", pl.col("source"), pl.lit(batch_source)
            ).alias("detail"),
        )
    )
    repeated = keys.filter(pl.col("feedback_id").is_not_null() & ~pl.col("feedback_id").is_first_distinct())
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
    bad = rows.select(pl.col("line_no", "line_sha256").gather(failed["row"])).with_columns(
        failed["rule"], failed["detail"]
    )
    if failed.is_empty():
        return rows, bad
    keep = np.ones(rows.height, dtype=bool)
    keep[failed["row"].to_numpy()] = False
    return rows.filter(pl.Series(keep)), bad


def _python_feedback_id(line: bytes) -> str | None:
    try:
        value = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        value = None
    found = value.get("feedback_id") if isinstance(value, dict) else None
    return found if isinstance(found, str) and found else None


def recover_feedback_ids(data: bytes | RawLines, line_numbers: Sequence[int]) -> list[str | None]:
    """The feedback_id of each given line where the line is JSON enough to hold one, else None."""
    lines = _lines_of(data)
    wanted = np.unique(np.asarray(line_numbers, dtype=np.int64)) - 1
    found: dict[int, str | None] = {}

    def take(part: np.ndarray) -> bool:
        if lines.suspect[part].any():
            return False
        table = _arrow_read(lines, part, _ID_SCHEMA)
        if isinstance(table, str):
            return False
        ids = table.column("feedback_id").to_pylist()
        found.update(zip(part.tolist(), (i or None for i in ids)))
        return True

    def walk(part: np.ndarray) -> None:
        found.update((i, _python_feedback_id(lines.line(i))) for i in part.tolist())

    _in_parts(wanted, take, walk, smallest=_WALK_LINES)
    return [found[n - 1] for n in line_numbers]
