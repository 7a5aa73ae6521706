"""The audit index of one signed snapshot, cached under `.corpus-cache/audit/<manifest sha256>/`.

Built once per snapshot from the data at its attested commit (see `corpus.audit.sources`), after
checking every file it reads against the signed manifest, and only ever used while its cached
manifest.json still hashes to the registry's `manifest_sha256`; otherwise it is rebuilt. The
cache is derived data: deleting `.corpus-cache/` is always safe.

    manifest.json     the snapshot's manifest, byte for byte
    examples.parquet  example_id, example_file, row, line    (row: 1-based line number in the file)
    lineage.parquet   the snapshot's lineage.parquet + row   (one row per example and raw record)
    texts.parquet     example_id, example_file, row, field, text, norm   (one row per message or
                      chosen/rejected text; norm: NFKC, lower case, whitespace collapsed)
    fate.parquet      the snapshot's fate.parquet, by feedback_id
    meta.json         index format, version, commit, manifest sha256

Tables keyed by example_id (or feedback_id) are sorted by it and written in small row groups, so
a lookup reads the parquet footer and one row group: polars skips the others by their min/max
statistics. That keeps `lookup_example` fast on a million-example snapshot without loading it.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from corpus.audit.errors import SnapshotDataError
from corpus.audit.sources import SnapshotData
from corpus.governance import sha256_file
from corpus.paths import RepoPaths
from corpus.snapshots import RegistryEntry

INDEX_FORMAT = 1
CACHE_DIR = Path(".corpus-cache") / "audit"
ROW_GROUP = 16_384
_FILES = (
    "manifest.json",
    "examples.parquet",
    "lineage.parquet",
    "texts.parquet",
    "fate.parquet",
    "meta.json",
)

# The lineage columns the audit reads (contract v1, DESIGN.md 5). Files of another publish version
# may lack some: those become nulls, so an older snapshot stays auditable.
LINEAGE_REQUIRED = ("example_id", "example_file", "feedback_id", "batch_id")
LINEAGE_OPTIONAL = (
    "line_no",
    "annotator_id",
    "annotator_role",
    "source",
    "domain",
    "guideline_version",
    "collected_at",
    "intent",
    "defect_subtype",
    "intent_source",
    "intent_confidence",
    "example_kind",
    "redactions",
    "dedup_cluster_id",
    "dedup_role",
    "balance_decision",
    "split",
)
FATE_COLUMNS = ("batch_id", "line_no", "feedback_id", "stage", "outcome", "reason", "detail")

_TEXTS_SCHEMA = {
    "example_id": pl.String,
    "example_file": pl.String,
    "row": pl.Int64,
    "field": pl.String,
    "text": pl.String,
    "norm": pl.String,
}
_MESSAGES = pl.List(pl.Struct({"role": pl.String, "content": pl.String}))
_SFT_SHAPE = pl.Struct({"messages": _MESSAGES})
_PREFERENCE_SHAPE = pl.Struct({"prompt": _MESSAGES, "chosen": pl.String, "rejected": pl.String})


def normalise(text: pl.Expr) -> pl.Expr:
    """How `--text` compares loosely: Unicode compatibility form, lower case, whitespace collapsed."""
    return text.str.normalize("NFKC").str.to_lowercase().str.replace_all(r"\s+", " ").str.strip_chars()


def normalise_text(text: str) -> str:
    """`normalise` of one query string, by the same polars expression as the indexed column."""
    return str(pl.select(normalise(pl.lit(text, dtype=pl.String))).item())


@dataclass(frozen=True)
class SnapshotIndex:
    version: str
    commit: str
    manifest_sha256: str
    directory: Path
    manifest: dict[str, Any]

    @property
    def examples_path(self) -> Path:
        return self.directory / "examples.parquet"

    @property
    def lineage_path(self) -> Path:
        return self.directory / "lineage.parquet"

    @property
    def texts_path(self) -> Path:
        return self.directory / "texts.parquet"

    @property
    def fate_path(self) -> Path:
        return self.directory / "fate.parquet"

    @property
    def merkle_root(self) -> str | None:
        merkle = self.manifest.get("merkle")
        root = self.manifest.get("merkle_root", merkle.get("root") if isinstance(merkle, Mapping) else None)
        return root if isinstance(root, str) else None

    @property
    def tree_size(self) -> int | None:
        merkle = self.manifest.get("merkle")
        size = merkle.get("tree_size") if isinstance(merkle, Mapping) else None
        return size if isinstance(size, int) else None

    @property
    def example_counts(self) -> Any:
        return self.manifest.get("examples")

    def scan_examples(self) -> pl.LazyFrame:
        return pl.scan_parquet(self.examples_path)

    def scan_lineage(self) -> pl.LazyFrame:
        return pl.scan_parquet(self.lineage_path)

    def scan_fate(self) -> pl.LazyFrame:
        return pl.scan_parquet(self.fate_path)


# ---- opening and building ----------------------------------------------------------------------


def cache_root(paths: RepoPaths) -> Path:
    return paths.root / CACHE_DIR


def open_index(paths: RepoPaths, entry: RegistryEntry) -> SnapshotIndex:
    """The index of signed snapshot `entry`, built (or rebuilt) if the cache lacks a valid one."""
    directory = cache_root(paths) / entry.manifest_sha256
    index = _load_valid(directory, entry)
    if index is not None:
        return index
    return _build(paths, entry, directory)


def _load_valid(directory: Path, entry: RegistryEntry) -> SnapshotIndex | None:
    """The cached index if it is complete and its manifest is still the signed one, else None."""
    if not all((directory / name).is_file() for name in _FILES):
        return None
    try:
        meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
        manifest = json.loads((directory / "manifest.json").read_bytes())
    except (OSError, ValueError):
        return None
    if (
        not isinstance(meta, Mapping)
        or meta.get("format") != INDEX_FORMAT
        or sha256_file(directory / "manifest.json") != entry.manifest_sha256
    ):
        return None
    return SnapshotIndex(entry.version, entry.commit, entry.manifest_sha256, directory, manifest)


def _build(paths: RepoPaths, entry: RegistryEntry, directory: Path) -> SnapshotIndex:
    directory.parent.mkdir(parents=True, exist_ok=True)
    # Built aside and renamed into place: an interrupted build never looks like a valid index.
    work = directory.parent / f".build-{entry.manifest_sha256[:16]}-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        _build_into(work, paths, entry)
        shutil.rmtree(directory, ignore_errors=True)
        try:
            os.rename(work, directory)
        except OSError:
            # Another process built the same snapshot meanwhile; theirs is as good as ours.
            if _load_valid(directory, entry) is None:
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    index = _load_valid(directory, entry)
    if index is None:
        raise SnapshotDataError(f"the audit index in {directory} could not be written; delete it and retry")
    return index


def _manifest_files(manifest: Any, version: str) -> dict[str, Mapping[str, Any]]:
    files = manifest.get("files") if isinstance(manifest, Mapping) else None
    if not isinstance(files, list) or not all(
        isinstance(f, Mapping) and isinstance(f.get("path"), str) and isinstance(f.get("sha256"), str)
        for f in files
    ):
        raise SnapshotDataError(f"snapshot {version}'s manifest.json has no valid `files` list (contract v1)")
    return {f["path"]: f for f in files}


def _build_into(work: Path, paths: RepoPaths, entry: RegistryEntry) -> None:
    data = SnapshotData(paths.root, entry.commit)
    manifest_file = work / "manifest.json"
    data.fetch("manifest.json", manifest_file)
    digest = sha256_file(manifest_file)
    if digest != entry.manifest_sha256:
        raise SnapshotDataError(
            f"the manifest.json of snapshot {entry.version} at commit {entry.commit[:12]} has sha256 {digest}, "
            f"but the signed one is {entry.manifest_sha256}: the data at that commit is not what was signed; "
            f"run `corpusctl verify {entry.version}` after `git checkout {entry.tag} && dvc pull`"
        )
    manifest = json.loads(manifest_file.read_bytes())
    listed = _manifest_files(manifest, entry.version)
    for required in ("lineage.parquet", "fate.parquet"):
        if required not in listed:
            raise SnapshotDataError(
                f"snapshot {entry.version}'s manifest lists no {required}: nothing to audit"
            )

    downloads = work / "download"
    downloads.mkdir()

    def fetch_checked(relative: str) -> Path:
        target = downloads / relative.replace("/", "__")
        data.fetch(relative, target)
        if sha256_file(target) != listed[relative]["sha256"]:
            raise SnapshotDataError(
                f"{relative} of snapshot {entry.version} (fetched at commit {entry.commit[:12]}) differs from its "
                "signed manifest: the DVC cache or remote holds altered data; do not use it, and run "
                f"`corpusctl verify {entry.version}` on a checkout of {entry.tag}"
            )
        return target

    example_files = sorted(p for p in listed if p.endswith(".jsonl") and "/" in p)
    examples = pl.concat(
        [_read_examples(fetch_checked(name), name) for name in example_files] or [_empty_examples()]
    ).sort("example_id", "example_file")
    lineage = _lineage(pl.read_parquet(fetch_checked("lineage.parquet")), entry.version)
    lineage = lineage.join(
        examples.select("example_id", "example_file", "row"), on=["example_id", "example_file"], how="left"
    )
    lineage = lineage.sort(
        "example_id", "example_file", "dedup_role", "feedback_id", descending=[False, False, True, False]
    )
    fate = _fate(pl.read_parquet(fetch_checked("fate.parquet")), entry.version)

    _write(examples, work / "examples.parquet")
    _write(lineage, work / "lineage.parquet")
    _write(_texts(examples), work / "texts.parquet")
    _write(fate.sort("feedback_id", "batch_id", "line_no", nulls_last=True), work / "fate.parquet")
    shutil.rmtree(downloads)
    meta = {
        "format": INDEX_FORMAT,
        "version": entry.version,
        "commit": entry.commit,
        "manifest_sha256": digest,
    }
    (work / "meta.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")


def _write(frame: pl.DataFrame, path: Path) -> None:
    frame.write_parquet(path, compression="zstd", statistics=True, row_group_size=ROW_GROUP)


def _empty_examples() -> pl.DataFrame:
    return pl.DataFrame(
        schema={"example_id": pl.String, "example_file": pl.String, "row": pl.Int64, "line": pl.String}
    )


def _read_examples(path: Path, name: str) -> pl.DataFrame:
    """One row per line of a published JSONL file. Lines end with "\\n" only and strings may hold
    U+2028 unescaped (corpus.snapshot), so split on b"\\n", never with str.splitlines()."""
    lines = path.read_bytes().split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if not lines:
        return _empty_examples()
    try:
        text = pl.Series("line", lines, dtype=pl.Binary).cast(pl.String)
    except pl.exceptions.PolarsError:
        raise SnapshotDataError(f"{name} is not UTF-8 text: it is not a contract v1 example file") from None
    frame = pl.DataFrame({"line": text}).with_row_index("row", offset=1)
    frame = frame.select(
        pl.col("line").str.json_path_match("$.example_id").alias("example_id"),
        pl.lit(name).alias("example_file"),
        pl.col("row").cast(pl.Int64),
        "line",
    )
    missing = frame.filter(pl.col("example_id").is_null())
    if missing.height:
        raise SnapshotDataError(
            f"{name}: line {missing['row'][0]} has no example_id (contract v1 requires one)"
        )
    return frame


def _texts(examples: pl.DataFrame) -> pl.DataFrame:
    """Every text of every example as its own row, in the shape of its file (SFT or preference)."""
    keys = ["example_id", "example_file", "row"]
    parts: list[pl.DataFrame] = []
    # SFT-shaped lines (sft/, style/) have a "messages" key, preference lines do not; a quote inside
    # a JSON string is escaped, so example text cannot fake the key.
    shapes = examples.select(
        *keys,
        pl.col("line").str.contains('"messages":', literal=True).alias("is_sft"),
        "line",
    )
    sft = shapes.filter(pl.col("is_sft"))
    if sft.height:
        messages = sft.select(
            *keys, pl.col("line").str.json_decode(_SFT_SHAPE).struct.field("messages").alias("m")
        )
        parts.append(_message_texts(messages, prefix=""))
    preference = shapes.filter(~pl.col("is_sft"))
    if preference.height:
        decoded = preference.select(*keys, pl.col("line").str.json_decode(_PREFERENCE_SHAPE).alias("p"))
        parts.append(
            _message_texts(
                decoded.select(*keys, pl.col("p").struct.field("prompt").alias("m")), prefix="prompt:"
            )
        )
        for field in ("chosen", "rejected"):
            parts.append(
                decoded.select(
                    *keys, pl.lit(field).alias("field"), pl.col("p").struct.field(field).alias("text")
                )
            )
    if not parts:
        return pl.DataFrame(schema=_TEXTS_SCHEMA)
    texts = pl.concat(parts).drop_nulls("text")
    return texts.with_columns(normalise(pl.col("text")).alias("norm")).sort(
        "example_id", "example_file", "row"
    )


def _message_texts(frame: pl.DataFrame, *, prefix: str) -> pl.DataFrame:
    return (
        frame.explode("m")
        .drop_nulls("m")
        .select(
            "example_id",
            "example_file",
            "row",
            (pl.lit(prefix) + pl.col("m").struct.field("role")).alias("field"),
            pl.col("m").struct.field("content").alias("text"),
        )
    )


def _as_text(frame: pl.DataFrame, column: str) -> pl.Expr:
    """A column as text for display: timestamps as RFC 3339 UTC."""
    dtype = frame.schema[column]
    if isinstance(dtype, pl.Datetime):
        expr = pl.col(column)
        if dtype.time_zone is not None:
            expr = expr.dt.convert_time_zone("UTC")
        return expr.dt.to_string("%Y-%m-%dT%H:%M:%SZ").alias(column)
    return pl.col(column)


def _lineage(frame: pl.DataFrame, version: str) -> pl.DataFrame:
    missing = [c for c in LINEAGE_REQUIRED if c not in frame.columns]
    if missing:
        raise SnapshotDataError(
            f"snapshot {version}'s lineage.parquet lacks {', '.join(missing)}: it predates contract v1 and "
            "cannot be audited"
        )
    frame = frame.with_columns(
        [pl.lit(None, dtype=pl.String).alias(c) for c in LINEAGE_OPTIONAL if c not in frame.columns]
    )
    frame = frame.with_columns(_as_text(frame, c) for c in frame.columns)
    return frame.with_columns(pl.col("line_no").cast(pl.Int64, strict=False))


def _fate(frame: pl.DataFrame, version: str) -> pl.DataFrame:
    missing = [c for c in ("batch_id", "line_no", "stage", "outcome", "reason") if c not in frame.columns]
    if missing:
        raise SnapshotDataError(f"snapshot {version}'s fate.parquet lacks {', '.join(missing)} (contract v1)")
    frame = frame.with_columns(
        [pl.lit(None, dtype=pl.String).alias(c) for c in FATE_COLUMNS if c not in frame.columns]
    )
    return frame.select(*FATE_COLUMNS).with_columns(pl.col("line_no").cast(pl.Int64))


# ---- lookups -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExampleRows:
    """Where one example sits in a snapshot (file, row, line) and its lineage rows."""

    example_id: str
    placements: pl.DataFrame
    lineage: pl.DataFrame

    @property
    def found(self) -> bool:
        return self.placements.height > 0


def lookup_example(index: SnapshotIndex, example_id: str) -> ExampleRows:
    """Placements and lineage of `example_id` in this snapshot (empty frames if it is not there).

    The function the latency benchmark times: two predicate-pushdown scans that each decode one
    row group of a table sorted by example_id.
    """
    key = pl.col("example_id") == example_id
    placements = index.scan_examples().filter(key).select("example_file", "row", "line").collect()
    lineage = index.scan_lineage().filter(key).collect() if placements.height else pl.DataFrame()
    return ExampleRows(example_id, placements, lineage)


def ids_with_prefix(index: SnapshotIndex, prefix: str, limit: int) -> list[str]:
    """Up to `limit` distinct example ids starting with `prefix`, ascending."""
    # The range (not only starts_with) lets the row-group statistics skip the rest of the file.
    upper = prefix + "\U0010ffff"
    matching = (
        index.scan_examples()
        .filter((pl.col("example_id") >= prefix) & (pl.col("example_id") < upper))
        .filter(pl.col("example_id").str.starts_with(prefix))
        .select("example_id")
        .unique()
        .sort("example_id")
        .head(limit)
        .collect()
    )
    return matching["example_id"].to_list()


def id_at(index: SnapshotIndex, example_file: str, row: int) -> str | None:
    """The example id on line `row` (1-based) of `example_file`, or None."""
    found = (
        index.scan_examples()
        .filter((pl.col("example_file") == example_file) & (pl.col("row") == row))
        .select("example_id")
        .collect()
    )
    return found["example_id"][0] if found.height else None


def file_rows(index: SnapshotIndex) -> dict[str, int]:
    """Example files of the snapshot and their number of lines."""
    counts = index.scan_examples().group_by("example_file").agg(pl.len().alias("n")).collect()
    return dict(zip(counts["example_file"].to_list(), counts["n"].to_list(), strict=True))


def find_text(index: SnapshotIndex, text: str) -> tuple[str, pl.DataFrame]:
    """Texts equal to `text` exactly, else after `normalise`: ("exact" | "normalised", matches)."""
    scan = pl.scan_parquet(index.texts_path)
    exact = scan.filter(pl.col("text") == text).select("example_id", "example_file", "row", "field").collect()
    if exact.height:
        return "exact", exact
    loose = normalise_text(text)
    matches = (
        scan.filter(pl.col("norm") == loose).select("example_id", "example_file", "row", "field").collect()
    )
    return "normalised", matches


def fate_of(index: SnapshotIndex, feedback_id: str) -> pl.DataFrame:
    return index.scan_fate().filter(pl.col("feedback_id") == feedback_id).collect()


def lineage_of_record(index: SnapshotIndex, feedback_id: str) -> pl.DataFrame:
    return index.scan_lineage().filter(pl.col("feedback_id") == feedback_id).collect()
