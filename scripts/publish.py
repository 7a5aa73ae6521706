"""Stage `publish` (DESIGN.md 4.9 and 5): the snapshot under data/published/, contract v1.

Reads what the gates let through (data/interim/gates/: examples.parquet, final_fate.parquet,
report.json), the records dedup absorbed (data/interim/classify/<batch>.parquet) and the batch
manifests, and writes:
  sft/{train,validation}.jsonl         {"example_id", "messages"}: defect fixes and endorsed responses
  preference/{train,validation}.jsonl  {"example_id", "prompt", "chosen", "rejected"}: defect fixes whose
                                       rated response is not blank and differs from the correction
  style/{train,validation}.jsonl       messages format, only when params classify.keep_style is true
  lineage.parquet  one row per (example, contributing raw record), absorbed duplicates included
  fate.parquet     the final fate of every raw line
  stats.json       distributions: the next snapshot's drift baseline
  DATACARD.md, croissant.json   the three pre-training questions, for people and for machines
  manifest.json    every other file's bytes and sha256, example counts, the example-id Merkle root
Everything is deterministic (rows sorted by example id, fixed JSON formatting, fixed parquet
settings), so the same inputs give byte-identical files; a failed run leaves no snapshot at all.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from corpus.datacard import BatchEntry, DatasetInfo, SnapshotFacts, render_croissant, render_datacard
from corpus.errors import CorpusError, GovernanceFileError, StageInputError, StageOutputError
from corpus.gates.drift import snapshot_stats
from corpus.governance import BatchManifest, load_document
from corpus.merkle import merkle_root
from corpus.settings import ClassifySettings, stage_settings
from corpus.snapshot import (
    AbsorbedRecord,
    BuiltSet,
    FileDigest,
    absorbed_ids,
    build_lineage,
    build_manifest,
    build_set,
    decode_lines,
    digest_file,
    encode_rows,
    example_sets,
    published_fate,
    read_absorbed_records,
    stage_code_hashes,
    write_jsonl,
)
from corpus.stage import (
    atomic_outputs,
    check_output,
    empty_fate,
    load_params,
    paths_from_env,
    read_input,
    run,
    stage_metrics,
    stage_params,
    validate,
    write_json,
    write_parquet,
)
from schemas.gated import FinalFate, GatedFeedback
from schemas.published import LineageRow, PreferenceExample, PublishedFate, SftExample
from schemas.split import SPLITS

STAGE = "publish"
# Written last, from the files before them: the card and Croissant describe the data files, the
# manifest covers everything.
CARD, CROISSANT, MANIFEST = "DATACARD.md", "croissant.json", "manifest.json"
# Gated columns only the example encoding and the statistics read.
TEXT_COLUMNS = ["prompt", "response", "target", "correction", "comment"]


def main() -> None:
    paths = paths_from_env()
    # The snapshot is one directory, rebuilt whole: nothing of an earlier run may survive a failure
    # (it would look like a good result) or a change of params (a stale style/ set).
    shutil.rmtree(paths.published, ignore_errors=True)
    all_params = load_params(paths)
    params = stage_params(all_params, STAGE)
    info = dataset_info(params)
    keep_style = stage_settings(all_params, ClassifySettings).keep_style
    batches = [str(b) for b in all_params.get("batches") or []]

    gates = paths.stage_dir("gates")
    rows = read_input(gates / "examples.parquet", GatedFeedback)
    fate = check_output(
        published_fate(read_input(gates / "final_fate.parquet", FinalFate), rows), PublishedFate, where="fate"
    )
    gate_report = read_gate_report(gates / "report.json")

    # The drift gate's own statistics, so the next snapshot compares like with like.
    stats = snapshot_stats(rows, snapshot=info.version)
    encoded = encode_rows(rows, keep_style=keep_style)
    # Nothing after the statistics and the encoding reads the texts, most of the rows' memory.
    rows = rows.drop(TEXT_COLUMNS)
    absorbed = validate(
        read_absorbed_records(paths, batches, absorbed_ids(rows)),
        AbsorbedRecord,
        where="absorbed records in data/interim/classify",
        error=StageInputError,
    )
    sets = example_sets(keep_style=keep_style)
    batch_entries = [batch_entry(paths.manifest(b), b) for b in batches]
    code_hashes = stage_code_hashes(paths)

    jsonl_names = [f"{spec.name}/{split}.jsonl" for spec in sets for split in SPLITS]
    names = [*jsonl_names, "lineage.parquet", "fate.parquet", "stats.json", CARD, CROISSANT, MANIFEST]
    targets = {name: paths.published / name for name in names}
    metrics_path = paths.stage_dir(STAGE) / "metrics.json"
    # The files are written as the sets are built, so a failure can come after some are written:
    # atomic_outputs removes them, and the directories made for them go too (no snapshot at all).
    try:
        with atomic_outputs(*targets.values(), metrics_path) as tmp:
            # One set at a time, written as soon as it is built: only one set's lines are ever in memory.
            built: list[BuiltSet] = []
            digests: dict[str, FileDigest] = {}
            for spec in sets:
                built_set = build_set(encoded, spec)
                digests.update(write_set(built_set, lambda name: tmp(targets[name])))
                built.append(built_set.without_lines())
                del built_set  # else its lines live on while the next set is built
            del encoded
            example_counts = {
                f"{b.spec.name}/{split}.jsonl": b.examples.filter(pl.col("split") == split).height
                for b in built
                for split in SPLITS
            }
            # One leaf per distinct id: sft and style share a shape, so one example could be in both.
            distinct_ids = pl.concat([b.examples["example_id"] for b in built]).unique().sort().to_list()
            root = merkle_root(distinct_ids)

            lineage = check_output(build_lineage(built, rows, absorbed), LineageRow, where="lineage")
            del absorbed

            write_parquet(lineage, tmp(targets["lineage.parquet"]))
            write_parquet(fate, tmp(targets["fate.parquet"]))
            write_json(stats, tmp(targets["stats.json"]))
            for name in ("lineage.parquet", "fate.parquet", "stats.json"):
                digests[name] = digest_file(tmp(targets[name]), name)
            data_files = [digests[name] for name in sorted(digests)]

            facts = SnapshotFacts(
                info=info,
                sets=[b.spec.name for b in built],
                data_files=data_files,
                example_counts=example_counts,
                merkle_root=root,
                distinct_examples=len(distinct_ids),
                batches=batch_entries,
                lineage=lineage,
                fate=fate,
                stats=stats,
                gate_report=gate_report,
                code_hashes=code_hashes,
                params=all_params,
            )
            tmp(targets[CARD]).write_text(render_datacard(facts), encoding="utf-8")
            write_json(
                render_croissant(facts, lineage_schema=lineage.schema, fate_schema=fate.schema), tmp(targets[CROISSANT])
            )
            manifest = build_manifest(
                files=[
                    *data_files,
                    digest_file(tmp(targets[CARD]), CARD),
                    digest_file(tmp(targets[CROISSANT]), CROISSANT),
                ],
                example_counts=example_counts,
                root=root,
                tree_size=len(distinct_ids),
                snapshot_version=info.version,
            )
            write_json(manifest, tmp(targets[MANIFEST]))
            metrics = stage_metrics(
                stage=STAGE,
                scope="all",
                rows_in=rows.height,
                before=rows,
                after=rows,
                fate=empty_fate(),
                examples=manifest["examples"],
                rows_merged_into_identical_examples={b.spec.name: b.sources.height - b.examples.height for b in built},
                preference_skipped_identical=sum(b.skipped_identical for b in built),
                preference_skipped_blank_response=sum(b.skipped_blank_response for b in built),
                lineage_rows=lineage.height,
                merkle_root=root,
            )
            write_json(metrics, tmp(metrics_path))
    except BaseException:
        shutil.rmtree(paths.published, ignore_errors=True)
        raise
    counts = ", ".join(f"{name} {n}" for name, n in example_counts.items())
    print(f"publish: {rows.height} gated rows -> {counts}; merkle root {root[:16]}...")


def dataset_info(params: dict[str, Any]) -> DatasetInfo:
    dataset = params.get("dataset")
    fields = ("name", "description", "license", "url", "creator")
    if not isinstance(dataset, dict) or any(not dataset.get(f) for f in fields):
        raise CorpusError(f"params.yaml: publish.dataset needs {', '.join(fields)} (they go into croissant.json)")
    version, date_published = params.get("version"), params.get("date_published")
    if version is not None and not isinstance(version, str):
        # YAML reads 1.10 as the number 1.1: a version must be quoted to survive.
        raise CorpusError(f'params.yaml: publish.version must be a quoted string such as "1.0", not {version!r}')
    return DatasetInfo(
        **{f: str(dataset[f]) for f in fields},
        version=version,
        date_published=None if date_published is None else str(date_published),
    )


def read_gate_report(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise StageInputError(f"{path}: missing; run the gates stage (`dvc repro`)")
    report = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(report, dict):
        raise StageInputError(f"{path}: expected a JSON object")
    return report


def write_set(built: BuiltSet, path_of: Callable[[str], Path]) -> dict[str, FileDigest]:
    """A set's JSONL files, each line parsed back before it is written: what training code will
    read is what is checked."""
    model = PreferenceExample if built.spec.preference else SftExample
    where = f"published {built.spec.name} examples"
    ids: list[pl.Series] = []

    def check(chunk: pl.Series) -> None:
        ids.append(check_output(decode_lines(chunk, built.spec), model, where=where)["example_id"])

    digests = {}
    for split in SPLITS:
        name = f"{built.spec.name}/{split}.jsonl"
        digests[name] = write_jsonl(built.file_lines(split), path_of(name), name, check=check)
    # The model checks a chunk at a time; an id must also be unique across the whole set.
    written = pl.concat(ids) if ids else pl.Series(dtype=pl.String)
    repeated = written.filter(written.is_duplicated())
    if repeated.len():
        raise StageOutputError(f"{where}: example_id {repeated[0]} is written more than once")
    return digests


def batch_entry(manifest_path: Path, batch_id: str) -> BatchEntry:
    try:
        return BatchEntry(batch_id, load_document(manifest_path, BatchManifest), None)
    except GovernanceFileError as exc:
        # Ingest accounted for such a batch's lines; the card shows why it contributed nothing.
        return BatchEntry(batch_id, None, f"manifest unreadable: {exc}")


if __name__ == "__main__":
    run(main)
