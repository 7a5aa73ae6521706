"""Ingest's chunked decoding gives exactly what judging every line on its own gives.

The reference below is the line-by-line definition: split the batch into lines, hold back blank and
overlong lines, judge each other line with Python's `json`, and let Arrow decode the lines that pass.
Chunks are made tiny here so that bad lines land on chunk and bisection boundaries.
"""

from __future__ import annotations

import hashlib
import io
import json

import polars as pl
import pyarrow.json as pa_json
import pytest

import corpus.ingest as ingest
from corpus.governance import Maintainers, check_manifest
from corpus.ingest import RawLines, parse_batch, recover_feedback_ids, split_lines
from schemas.raw import RAW_FIELDS
from tests.minirepo import MAINTAINERS, good_record, write_batch, write_governance

MAX_LINE_BYTES = 2_000


def reference(data: bytes) -> tuple[pl.DataFrame, pl.DataFrame]:
    lines = split_lines(data)
    hashes = [hashlib.sha256(line).hexdigest() for line in lines]
    rejected, good = [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            rejected.append((number, "empty_line", "blank line"))
        elif len(line) > MAX_LINE_BYTES:
            rejected.append((number, "line_too_long", f"{len(line)} bytes > ingest.max_line_bytes={MAX_LINE_BYTES}"))
        else:
            try:
                value = json.loads(line.decode("utf-8"))
            except UnicodeDecodeError as exc:
                rejected.append((number, "invalid_utf8", f"byte {exc.start} is not valid UTF-8"))
                continue
            except json.JSONDecodeError as exc:
                rejected.append((number, "malformed_json", f"{exc.msg} at column {exc.colno}"))
                continue
            problem = ingest._type_problem(value)
            if problem:
                rejected.append((number, *problem))
            else:
                good.append(number)
    if good:
        table = pa_json.read_json(
            io.BytesIO(b"\n".join(lines[n - 1] for n in good) + b"\n"),
            parse_options=pa_json.ParseOptions(explicit_schema=ingest._ARROW_SCHEMA, unexpected_field_behavior="ignore"),
        )
        frame = pl.from_arrow(table).cast(RAW_FIELDS)
    else:
        frame = pl.DataFrame(schema=RAW_FIELDS)
    rows = frame.with_columns(
        pl.Series("line_no", good, dtype=pl.Int64),
        pl.Series("line_sha256", [hashes[n - 1] for n in good], dtype=pl.String),
    )
    rejected.sort()
    held = pl.DataFrame(
        {
            "line_no": [r[0] for r in rejected],
            "line_sha256": [hashes[r[0] - 1] for r in rejected],
            "rule": [r[1] for r in rejected],
            "detail": [r[2] for r in rejected],
        },
        schema={"line_no": pl.Int64, "line_sha256": pl.String, "rule": pl.String, "detail": pl.String},
    )
    return rows, held


def reference_ids(data: bytes) -> list[str | None]:
    ids: list[str | None] = []
    for line in split_lines(data):
        try:
            value = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            value = None
        found = value.get("feedback_id") if isinstance(value, dict) else None
        ids.append(found if isinstance(found, str) and found else None)
    return ids


@pytest.fixture(autouse=True)
def tiny_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest, "_CHUNK_LINES", 8)
    monkeypatch.setattr(ingest, "_WALK_LINES", 2)


def batch(n: int, bad: dict[int, bytes], *, newline: bytes = b"\n", final_newline: bool = True) -> bytes:
    """n lines of good records, with line i (1-based) replaced by bad[i]."""
    lines = [bad.get(i, json.dumps(good_record(i)).encode()) for i in range(1, n + 1)]
    return newline.join(lines) + (newline if final_newline else b"")


def assert_same_as_reference(data: bytes) -> None:
    parsed = parse_batch(data, max_line_bytes=MAX_LINE_BYTES)
    rows, held = reference(data)
    assert parsed.rejected.equals(held), (parsed.rejected, held)
    assert parsed.rows.schema == rows.schema
    assert parsed.rows.equals(rows)
    everything = list(range(1, len(split_lines(data)) + 1))
    assert recover_feedback_ids(data, everything) == reference_ids(data)


MALFORMED = b'{"feedback_id": "fb-x", "rating": "up",'
WRONG_TYPE = json.dumps(good_record(0, training_consent="yes")).encode()
INVALID_UTF8 = json.dumps(good_record(0)).encode().replace(b'"prod_chat"', b'"prod\xffchat"')


@pytest.mark.parametrize("where", [1, 2, 7, 8, 9, 16, 17, 31, 32, 40])
@pytest.mark.parametrize("line", [MALFORMED, WRONG_TYPE, INVALID_UTF8], ids=["malformed", "wrong_type", "utf8"])
def test_one_bad_line_anywhere(where: int, line: bytes) -> None:
    assert_same_as_reference(batch(40, {where: line}))


def test_bad_lines_on_both_sides_of_chunk_boundaries() -> None:
    assert_same_as_reference(batch(33, {8: MALFORMED, 9: WRONG_TYPE, 16: INVALID_UTF8, 17: b"[1]", 24: b"null", 25: b"   "}))


def test_first_and_last_lines_bad() -> None:
    assert_same_as_reference(batch(20, {1: MALFORMED, 20: WRONG_TYPE}))


def test_all_lines_bad() -> None:
    assert_same_as_reference(batch(19, {i: [MALFORMED, WRONG_TYPE, INVALID_UTF8, b"", b"7"][i % 5] for i in range(1, 20)}))


def test_crlf_and_final_line_without_newline() -> None:
    assert_same_as_reference(batch(20, {}, newline=b"\r\n", final_newline=False))
    assert_same_as_reference(batch(20, {5: MALFORMED, 20: WRONG_TYPE}, newline=b"\r\n"))
    assert_same_as_reference(batch(20, {20: MALFORMED}, final_newline=False))
    assert_same_as_reference(batch(3, {}) + b"\r")


def test_lines_held_back_before_decoding_split_a_chunk() -> None:
    overlong = json.dumps(good_record(0, comment="x" * MAX_LINE_BYTES)).encode()
    assert_same_as_reference(batch(30, {4: b"", 5: b" \t\x0b", 11: overlong, 12: MALFORMED, 30: b"\x0c"}))


@pytest.mark.parametrize(
    "line",
    [
        INVALID_UTF8,
        b'{"feedback_id": "fb-1", "extra": -NaN}',
        b'{"feedback_id": "fb-1", "extra": [Inf, -Inf]}',
        b'{"feedback_id": "fb-1", "extra": NaN}',
        b'\xef\xbb\xbf{"feedback_id": "fb-1"}',
        b'{"feedback_id": "fb-1"}{"feedback_id": "fb-2"}',
        b'{"feedback_id": "fb-1"} {"feedback_id": "fb-2"}',
        b'{"feedback_id": "fb-1", "prompt": [null]}',
        b'  {"feedback_id": "fb-1"}  ',
        b"null",
    ],
)
def test_lines_arrow_alone_would_read_differently_are_judged_like_the_reference(line: bytes) -> None:
    # Arrow takes each of these (or crashes on `null`); Python's json and the contract do not all.
    assert_same_as_reference(batch(12, {6: line}))
    assert_same_as_reference(batch(3, {2: line}))


@pytest.mark.parametrize(
    ("line", "detail"),
    [
        (b'{"feedback_id": "fb-1", "comment": "\\ud800"}', "surrogate"),
        (b'{"feedback_id": "fb-1", "rating": "up", "rating": "down"}', "specified twice"),
        (b'{"feedback_id": "fb-1", "extra": 1e400}', "Number too big"),
    ],
)
def test_lines_python_takes_but_arrow_cannot_are_quarantined_not_a_crash(line: bytes, detail: str) -> None:
    data = batch(12, {6: line})
    parsed = parse_batch(data, max_line_bytes=MAX_LINE_BYTES)
    assert parsed.rejected["line_no"].to_list() == [6]
    assert parsed.rejected["rule"].to_list() == ["malformed_json"]
    assert detail in parsed.rejected["detail"][0]
    rows, _ = reference(batch(12, {6: b""}))
    assert parsed.rows.equals(rows)


def test_full_size_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()
    size = ingest._CHUNK_LINES
    assert_same_as_reference(batch(2 * size + 3, {1: MALFORMED, size: WRONG_TYPE, size + 1: INVALID_UTF8, 2 * size + 3: b"{"}))


def test_empty_batch() -> None:
    assert_same_as_reference(b"")
    assert_same_as_reference(b"\n\n")


def test_recovering_ids_of_some_lines_keeps_their_order() -> None:
    data = batch(20, {3: MALFORMED, 9: WRONG_TYPE})
    assert recover_feedback_ids(RawLines(data), [9, 3, 12]) == [reference_ids(data)[i - 1] for i in (9, 3, 12)]


def test_manifest_check_of_bytes_already_read_matches_reading_the_file(tmp_path) -> None:
    paths = write_governance(tmp_path)
    maintainers = Maintainers(maintainers=MAINTAINERS)
    write_batch(paths, "b1", [good_record(1)])
    data = paths.raw_batch("b1").read_bytes()
    assert check_manifest("b1", paths, maintainers, raw=data) == check_manifest("b1", paths, maintainers)
    changed = check_manifest("b1", paths, maintainers, raw=data + b"\n")
    assert changed.reason == "sha256_mismatch"
    paths.raw_batch("b1").write_bytes(data + b"\n")
    assert check_manifest("b1", paths, maintainers) == changed
