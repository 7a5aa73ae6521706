"""Building the published snapshot (DESIGN.md 5, contract v1): examples, their content-addressed
ids, the lineage, the fate ledger, the stage code hashes and the manifest.

Canonical JSON of an example (what its id hashes) is RFC 8785 (JCS) applied to the example object
without `example_id`. Examples hold only objects, arrays and strings with ASCII keys, so JCS comes
down to: members sorted by key, no whitespace, UTF-8, and strings escaped minimally (`"` and `\\`
with a backslash; U+0008, U+0009, U+000A, U+000C, U+000D as \\b \\t \\n \\f \\r; other controls below
U+0020 as \\u00xx in lower-case hex; everything else, U+2028 and emoji included, as literal
UTF-8). The canonical text is built column-wise with polars; `example_id_of` recomputes an id with
the independent `rfc8785` package, and the tests hold the two to each other.

    example_id = lowercase hex SHA-256 of the UTF-8 bytes of the canonical example

A JSONL line is the canonical example with `"example_id":"<id>"` inserted as its first member: its
members come in a fixed order and every line is byte-for-byte reproducible. Lines end with "\n"
only; strings may hold U+2028 or U+0085 unescaped (JCS), so split lines on "\n", not with
str.splitlines().
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import polars as pl
import rfc8785
import yaml

# `schemas` before pandera: importing it loads pandera without its pandas layer (see there), which
# a plain `import pandera.polars` would load, ~0.4 s of every publish process's start-up.
import schemas  # noqa: F401, I001
import pandera.polars as pa  # noqa: I001
from corpus.errors import StageInputError, StageOutputError
from corpus.governance import sha256_file
from corpus.paths import RepoPaths
from corpus.stage import polars_schema
from schemas.classified import ClassifiedFeedback
from schemas.published import CONTRACT_VERSION, PREFERENCE_LINE, SFT_LINE
from schemas.redacted import PII_TYPES

_JSON_ESCAPES: dict[str, str] = {
    "\\": "\\\\",
    '"': '\\"',
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}
for _code in range(0x20):
    _JSON_ESCAPES.setdefault(chr(_code), f"\\u{_code:04x}")

# Examples per chunk when hashing ids or writing a JSONL file: bounds memory to one chunk's texts,
# their copies and their parse.
_CHUNK = 50_000


def json_string(text: pl.Expr) -> pl.Expr:
    """A string expression as a JCS JSON string literal. One pass, so no escape is escaped twice."""
    return pl.lit('"') + text.str.replace_many(list(_JSON_ESCAPES), list(_JSON_ESCAPES.values())) + pl.lit('"')


def _message_json(message: pl.Expr) -> pl.Expr:
    # "content" sorts before "role".
    content, role = message.struct.field("content"), message.struct.field("role")
    return pl.lit('{"content":') + json_string(content) + pl.lit(',"role":') + json_string(role) + pl.lit("}")


def example_id_of(example: Mapping[str, Any]) -> str:
    """The id of one parsed example (any `example_id` member is ignored): the audit's recomputation."""
    body = {key: value for key, value in example.items() if key != "example_id"}
    return hashlib.sha256(rfc8785.dumps(body)).hexdigest()


def example_ids(members: pl.Series) -> pl.Series:
    """The id of each canonical example, given its members without braces: SHA-256 of the UTF-8
    bytes of "{" + members + "}". Polars has no SHA-256, so this is the one Python loop; the binary
    cast hands over bytes without re-encoding (about 1 s per million examples here). A chunk at a
    time, so the braced texts and their Python copies exist for one chunk only."""
    digests: list[str] = []
    for start in range(0, members.len(), _CHUNK):
        chunk = members.slice(start, _CHUNK).to_frame("members")
        braced = chunk.select((pl.lit("{") + pl.col("members") + pl.lit("}")).cast(pl.Binary)).to_series()
        digests += [hashlib.sha256(data).hexdigest() for data in braced.to_list()]
    return pl.Series("example_id", digests, dtype=pl.String)


# ---- example sets ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExampleSet:
    """One published example set: which rows feed it and which shape its lines have."""

    name: str
    kinds: tuple[str, ...]
    preference: bool  # prompt/chosen/rejected (DPO) rather than messages (SFT)


SFT = ExampleSet("sft", ("defect_fix", "endorsed"), preference=False)
PREFERENCE = ExampleSet("preference", ("defect_fix",), preference=True)
STYLE = ExampleSet("style", ("style",), preference=False)


def example_sets(*, keep_style: bool) -> list[ExampleSet]:
    # Style corrections are taste, not defects: a set of their own, and only when classify keeps them.
    return [SFT, PREFERENCE, STYLE] if keep_style else [SFT, PREFERENCE]


@dataclass(frozen=True)
class BuiltSet:
    """A set's examples (one row per distinct example, sorted by split then id, with its JSONL
    `line`) and its sources (one row per gated row that yields an example)."""

    spec: ExampleSet
    examples: pl.DataFrame
    sources: pl.DataFrame
    skipped_identical: int  # preference rows whose correction equals the response: no preference
    # Preference rows whose rated response is blank: a pair needs a non-empty `rejected` (contract
    # 5); the row still trains through its sft example.
    skipped_blank_response: int

    def file_lines(self, split: str) -> pl.Series:
        # A file's lines are one run of the sorted frame: a slice, where a filter would copy them.
        splits = self.examples["split"]
        start, end = (int(splits.search_sorted(split, side=side)) for side in ("left", "right"))
        return self.examples["line"].slice(start, end - start)

    def without_lines(self) -> BuiltSet:
        """The set once its files are written: the lines are most of its memory and no longer needed."""
        return replace(self, examples=self.examples.drop("line"))


def _encode(rows: pl.DataFrame) -> pl.DataFrame:
    """Each row's parts as JSON text, encoded once for every set (a defect fix feeds two)."""
    return rows.select(
        "feedback_id",
        "split",
        "example_kind",
        # The prompt's messages, comma-separated, without brackets: "" for an empty prompt.
        pl.col("prompt").list.eval(_message_json(pl.element())).list.join(",").alias("prompt_items"),
        json_string(pl.col("target")).alias("target_json"),
        json_string(pl.col("response")).alias("response_json"),
        # A correction equal to the response states no preference.
        (pl.col("target") == pl.col("response")).alias("same_as_response"),
        # The model returned nothing (or only blank space): there is no rejected text to publish.
        (pl.col("response").str.strip_chars().str.len_chars() == 0).alias("blank_response"),
    )


def _members(spec: ExampleSet) -> pl.Expr:
    """The canonical example's members in key order, without the enclosing braces."""
    if spec.preference:
        return (
            pl.lit('"chosen":')
            + pl.col("target_json")
            + pl.lit(',"prompt":[')
            + pl.col("prompt_items")
            + pl.lit('],"rejected":')
            + pl.col("response_json")
        )
    # Appended as text: adding a struct to every list (concat_list) costs more than all the encoding.
    prompt = pl.when(pl.col("prompt_items") == "").then(pl.lit("")).otherwise(pl.col("prompt_items") + pl.lit(","))
    return (
        pl.lit('"messages":[')
        + prompt
        + pl.lit('{"content":')
        + pl.col("target_json")
        + pl.lit(',"role":"assistant"}]')
    )


def build_set(encoded: pl.DataFrame, spec: ExampleSet) -> BuiltSet:
    """One set from `encode_rows`' output; sets are built one at a time so only one set's lines are
    in memory at once."""
    selected = encoded.filter(pl.col("example_kind").is_in(spec.kinds))
    skipped_identical = skipped_blank = 0
    if spec.preference:
        identical, blank = pl.col("same_as_response"), pl.col("blank_response") & ~pl.col("same_as_response")
        skipped_identical, skipped_blank = selected.select(identical.sum(), blank.sum()).row(0)
        selected = selected.filter(~pl.col("same_as_response") & ~pl.col("blank_response"))
    per_row = selected.select("feedback_id", "split", _members(spec).alias("members"))
    ids = example_ids(per_row["members"])
    per_row = per_row.with_columns(
        ids.alias("example_id"), pl.format("{}/{}.jsonl", pl.lit(spec.name), pl.col("split")).alias("example_file")
    )
    straddling = per_row.group_by("example_id").agg(pl.col("split").n_unique().alias("n")).filter(pl.col("n") > 1)
    if straddling.height:
        sample = per_row.join(straddling, on="example_id").sort("example_id", "feedback_id").head(6)
        raise StageInputError(
            f"{spec.name}: {straddling.height} example(s) would be in both train and validation (identical content "
            f"from different sessions that dedup did not merge), e.g. feedback {', '.join(sample['feedback_id'])}"
        )
    # Identical examples from several rows are one example with several sources (lineage rows).
    examples = (
        per_row.unique(subset="example_id", keep="first")
        .sort("split", "example_id")
        .select(
            "example_id",
            "split",
            "example_file",
            (pl.lit('{"example_id":"') + pl.col("example_id") + pl.lit('",') + pl.col("members") + pl.lit("}")).alias(
                "line"
            ),
        )
    )
    sources = per_row.select("example_id", "example_file", "feedback_id")
    return BuiltSet(
        spec=spec,
        examples=examples,
        sources=sources,
        skipped_identical=skipped_identical,
        skipped_blank_response=skipped_blank,
    )


def encode_rows(rows: pl.DataFrame, *, keep_style: bool) -> pl.DataFrame:
    """The gated rows (GatedFeedback) as the JSON parts every set is built from; a row no set takes
    is an error, never a silent loss."""
    sets = example_sets(keep_style=keep_style)
    published_kinds = sorted({kind for spec in sets for kind in spec.kinds})
    stray = rows.filter(~pl.col("example_kind").is_in(published_kinds))
    if stray.height:
        raise StageInputError(
            f"{stray.height} gated row(s) of example_kind {sorted(set(stray['example_kind']))} belong to no published "
            "set (style rows need params classify.keep_style: true)"
        )
    return _encode(rows)


def build_sets(rows: pl.DataFrame, *, keep_style: bool) -> list[BuiltSet]:
    """Every published set from the gated rows, all in memory (the publish stage builds them one by one)."""
    encoded = encode_rows(rows, keep_style=keep_style)
    return [build_set(encoded, spec) for spec in example_sets(keep_style=keep_style)]


def decode_lines(lines: pl.Series, spec: ExampleSet) -> pl.DataFrame:
    """Lines parsed back into columns, so the published rows are validated as written."""
    dtype = PREFERENCE_LINE if spec.preference else SFT_LINE
    try:
        return lines.to_frame("line").select(pl.col("line").str.json_decode(dtype).struct.unnest())
    except pl.exceptions.PolarsError as exc:
        raise StageOutputError(f"{spec.name}: a line written for training does not parse back: {exc}") from None


def write_jsonl(lines: pl.Series, path: Path, relative: str, *, check: Callable[[pl.Series], None]) -> FileDigest:
    """One line per example, '\\n'-terminated, UTF-8, written in chunks to bound memory; `check`
    sees each chunk before it is written. The digest is taken from the bytes as they are written,
    so the file is not read back to hash it."""
    digest, size = hashlib.sha256(), 0
    with path.open("wb") as handle:
        for start in range(0, lines.len(), _CHUNK):
            chunk = lines.slice(start, _CHUNK)
            check(chunk)
            # Joined and handed over as bytes: a Python str of the chunk would cost a decode and an encode.
            data = chunk.str.join("\n").cast(pl.Binary).item()
            # The newline apart: appending it to the chunk's bytes would copy them.
            for part in (data, b"\n"):
                handle.write(part)
                digest.update(part)
                size += len(part)
    return FileDigest(path=relative, bytes=size, sha256=digest.hexdigest())


# ---- lineage -----------------------------------------------------------------------------------


def _record_columns() -> list[pl.Expr]:
    """Lineage columns that describe one raw record as it stood after classify."""
    redactions = pl.concat_str(
        [
            pl.when(pl.col("pii_counts").struct.field(kind) > 0).then(
                pl.format("{}:{}", pl.lit(kind), pl.col("pii_counts").struct.field(kind))
            )
            for kind in PII_TYPES
        ],
        separator=",",
        ignore_nulls=True,
    )
    return [
        pl.col("feedback_id"),
        pl.col("batch_id"),
        pl.col("line_no").cast(pl.Int64),
        pl.col("line_sha256"),
        pl.col("annotator_id"),
        pl.col("annotator_role"),
        pl.col("source"),
        pl.col("domain"),
        pl.col("model_version"),
        pl.col("effective_guideline_version").alias("guideline_version"),
        pl.col("collected_at_utc").alias("collected_at"),
        pl.col("intent"),
        pl.col("defect_subtype"),
        pl.col("intent_source"),
        pl.col("intent_confidence"),
        pl.col("example_kind"),
        redactions.alias("redactions"),
        pl.col("pii_residual"),
    ]


# The classified columns `_record_columns` reads: all an absorbed record is read back with.
RECORD_SOURCE_COLUMNS = list(dict.fromkeys(name for expr in _record_columns() for name in expr.meta.root_names()))


class AbsorbedRecord(ClassifiedFeedback):
    """ClassifiedFeedback's rules on the columns an absorbed record is read back with: its texts
    (most of its bytes) are never published, so they are not read."""

    @classmethod
    def to_schema(cls) -> pa.DataFrameSchema:
        return ClassifiedFeedback.to_schema().select_columns(RECORD_SOURCE_COLUMNS)


def absorbed_ids(rows: pl.DataFrame) -> list[str]:
    return sorted(set(rows.select(pl.col("dedup_absorbed").explode().drop_nulls()).to_series().to_list()))


def read_absorbed_records(paths: RepoPaths, batches: Iterable[str], wanted: list[str]) -> pl.DataFrame:
    """The classified records dedup absorbed, read back from classify's per-batch outputs.

    Dedup keeps the first occurrence of a feedback_id in the batch order of params.yaml, so the same
    order decides here which record an absorbed id names.
    """
    files = [paths.stage_dir("classify") / f"{batch}.parquet" for batch in batches]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise StageInputError(f"classify outputs missing: {', '.join(missing[:5])}; run `dvc repro`")
    if not wanted:
        return pl.DataFrame(schema=polars_schema(AbsorbedRecord))
    found = (
        pl.scan_parquet(files)
        .select(RECORD_SOURCE_COLUMNS)
        .filter(pl.col("feedback_id").is_in(wanted))
        .unique(subset="feedback_id", keep="first", maintain_order=True)
        .collect()
    )
    absent = sorted(set(wanted) - set(found["feedback_id"].to_list()))
    if absent:
        raise StageInputError(
            f"{len(absent)} absorbed feedback_id(s) are in no classify output, e.g. {', '.join(absent[:5])}: "
            "the gates output and the classify outputs come from different runs; run `dvc repro`"
        )
    return found


def build_lineage(built: list[BuiltSet], rows: pl.DataFrame, absorbed: pl.DataFrame) -> pl.DataFrame:
    """One row per (example, contributing raw record): the representative row that yielded the
    example and every record dedup absorbed into it."""
    sources = pl.concat([b.sources for b in built])
    # The record's columns and the example-level ones in one join (a gated feedback_id is unique).
    gated = rows.select(*_record_columns(), "dedup_cluster_id", "balance_decision", "split", "dedup_absorbed")
    representatives = sources.join(gated, on="feedback_id").with_columns(pl.lit("representative").alias("dedup_role"))
    absorbed_rows = (
        representatives.select(
            "example_id", "example_file", "dedup_cluster_id", "balance_decision", "split", "dedup_absorbed"
        )
        .explode("dedup_absorbed")
        .drop_nulls("dedup_absorbed")
        .rename({"dedup_absorbed": "feedback_id"})
        .join(absorbed.select(_record_columns()), on="feedback_id")
        .with_columns(pl.lit("absorbed").alias("dedup_role"))
    )
    order = [
        "example_id",
        "example_file",
        "feedback_id",
        "batch_id",
        "line_no",
        "line_sha256",
        "annotator_id",
        "annotator_role",
        "source",
        "domain",
        "model_version",
        "guideline_version",
        "collected_at",
        "intent",
        "defect_subtype",
        "intent_source",
        "intent_confidence",
        "example_kind",
        "redactions",
        "pii_residual",
        "dedup_cluster_id",
        "dedup_role",
        "balance_decision",
        "split",
    ]
    return pl.concat([representatives.select(order), absorbed_rows.select(order)]).sort(
        ["example_file", "example_id", "feedback_id"]
    )


# ---- fate --------------------------------------------------------------------------------------


def published_fate(final_fate: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """The gates' final fate, sorted, after checking that its `kept` lines are exactly the gated rows."""
    kept = final_fate.filter(pl.col("outcome") == "kept").select("batch_id", "line_no")
    gated = rows.select("batch_id", pl.col("line_no").cast(pl.Int64))
    unexplained = gated.join(kept, on=["batch_id", "line_no"], how="anti")
    phantom = kept.join(gated, on=["batch_id", "line_no"], how="anti")
    if unexplained.height or phantom.height:
        raise StageInputError(
            f"gates outputs disagree: {unexplained.height} gated row(s) without a `kept` fate and "
            f"{phantom.height} `kept` fate(s) without a gated row; run `dvc repro`"
        )
    return final_fate.sort(["batch_id", "line_no"])


# ---- provenance and manifest -------------------------------------------------------------------


def _stage_definitions(dvc_yaml: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    for stage in (dvc_yaml.get("stages") or {}).values():
        if isinstance(stage, Mapping):
            # foreach stages keep their definition under `do`.
            yield stage.get("do", stage) if "foreach" in stage else stage


def stage_code_hashes(paths: RepoPaths) -> dict[str, str]:
    """sha256 of every Python file a stage of the pipeline's dvc.yaml files declares as a dependency
    (a file or a folder of them): the code the dvc.lock files pin, by repo-relative path."""
    files: set[Path] = set()
    for pipeline in paths.pipeline_files:
        dvc_yaml = yaml.safe_load(pipeline.read_text(encoding="utf-8")) or {}
        for stage in _stage_definitions(dvc_yaml):
            # Deps are relative to the stage's working directory, which is relative to its dvc.yaml.
            wdir = pipeline.parent / str(stage.get("wdir", "."))
            for dep in stage.get("deps") or []:
                if not isinstance(dep, str) or "${" in dep:
                    continue
                # `..` collapsed without following links: the key is the path in the repository.
                target = Path(os.path.normpath(wdir / dep))
                declared = f"{pipeline.relative_to(paths.root).as_posix()} declares {dep}"
                if not target.is_relative_to(paths.root):
                    raise StageInputError(f"{declared}, which is outside the repository")
                if dep.endswith(".py"):
                    if not target.is_file():
                        raise StageInputError(f"{declared}, which does not exist")
                    files.add(target)
                elif target.is_dir():
                    files.update(p for p in target.rglob("*.py") if "__pycache__" not in p.parts)
    return {p.relative_to(paths.root).as_posix(): sha256_file(p) for p in sorted(files)}


@dataclass(frozen=True)
class FileDigest:
    path: str  # relative to data/published, '/' separated
    bytes: int
    sha256: str


def digest_file(path: Path, relative: str) -> FileDigest:
    return FileDigest(path=relative, bytes=path.stat().st_size, sha256=sha256_file(path))


MERKLE_SCHEME = {
    "leaves": "distinct example ids of all example files, sorted ascending; leaf input: the id's 64 ASCII hex digits",
    "leaf_hash": "SHA-256(0x00 || leaf input)",
    "node_hash": "SHA-256(0x01 || left || right), RFC 6962 split at the largest power of two below n",
    "empty_root": "SHA-256 of the empty string",
}


def build_manifest(
    *,
    files: list[FileDigest],
    example_counts: Mapping[str, int],
    root: str,
    tree_size: int,
    snapshot_version: str | None,
) -> dict[str, Any]:
    """manifest.json: what the snapshot's attestation signs (DESIGN.md 5 and 6)."""
    return {
        "contract_version": CONTRACT_VERSION,
        "snapshot_version": snapshot_version,
        "files": [{"path": f.path, "bytes": f.bytes, "sha256": f.sha256} for f in sorted(files, key=lambda f: f.path)],
        "examples": {"per_file": dict(sorted(example_counts.items())), "total": sum(example_counts.values())},
        "merkle": {"root": root, "tree_size": tree_size, **MERKLE_SCHEME},
    }
