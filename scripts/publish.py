"""Stage `publish` (DESIGN.md 4.9 and 5): the snapshot under data/published/, contract v1.

Reads what the gates let through (data/interim/gates/: examples.parquet, final_fate.parquet,
report.json), the records dedup absorbed (data/interim/classify/<batch>.parquet) and the batch
manifests, and writes:
  sft/{train,validation}.jsonl         {"example_id", "messages"}: defect fixes and endorsed responses
  preference/{train,validation}.jsonl  {"example_id", "prompt", "chosen", "rejected"}: defect fixes
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
from pathlib import Path
from typing import Any

import polars as pl

from corpus.datacard import BatchEntry, DatasetInfo, SnapshotFacts, render_croissant, render_datacard
from corpus.errors import CorpusError, GovernanceFileError, StageInputError
from corpus.gates.drift import snapshot_stats
from corpus.governance import BatchManifest, load_document
from corpus.merkle import merkle_root
from corpus.snapshot import (
    BuiltSet,
    absorbed_ids,
    build_lineage,
    build_manifest,
    build_sets,
    decode_lines,
    digest_file,
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
from schemas.classified import ClassifiedFeedback
from schemas.gated import FinalFate, GatedFeedback
from schemas.published import LineageRow, PreferenceExample, PublishedFate, SftExample
from schemas.split import SPLITS

STAGE = "publish"
# Written last, from the files before them: the card and Croissant describe the data files, the
# manifest covers everything.
CARD, CROISSANT, MANIFEST = "DATACARD.md", "croissant.json", "manifest.json"


def main() -> None:
    paths = paths_from_env()
    # The snapshot is one directory, rebuilt whole: nothing of an earlier run may survive a failure
    # (it would look like a good result) or a change of params (a stale style/ set).
    shutil.rmtree(paths.published, ignore_errors=True)
    all_params = load_params(paths)
    params = stage_params(all_params, STAGE)
    info = dataset_info(params)
    keep_style = bool(stage_params(all_params, "classify").get("keep_style", False))
    batches = [str(b) for b in all_params.get("batches") or []]

    gates = paths.stage_dir("gates")
    rows = read_input(gates / "examples.parquet", GatedFeedback)
    fate = check_output(
        published_fate(read_input(gates / "final_fate.parquet", FinalFate), rows), PublishedFate, where="fate"
    )
    gate_report = read_gate_report(gates / "report.json")

    built = validated_sets(rows, keep_style=keep_style)
    absorbed = validate(
        read_absorbed_records(paths, batches, absorbed_ids(rows)),
        ClassifiedFeedback,
        where="absorbed records in data/interim/classify",
        error=StageInputError,
    )
    lineage = check_output(build_lineage(built, rows, absorbed), LineageRow, where="lineage")
    # The drift gate's own statistics, so the next snapshot compares like with like.
    stats = snapshot_stats(rows, snapshot=info.version)

    example_files = {f"{b.spec.name}/{split}.jsonl": b.file_examples(split) for b in built for split in SPLITS}
    example_counts = {name: frame.height for name, frame in example_files.items()}
    # One leaf per distinct id: sft and style share a shape, so one example could be in both.
    distinct_ids = pl.concat([frame["example_id"] for frame in example_files.values()]).unique().sort().to_list()
    root = merkle_root(distinct_ids)
    batch_entries = [batch_entry(paths.manifest(b), b) for b in batches]
    code_hashes = stage_code_hashes(paths)

    names = [*example_files, "lineage.parquet", "fate.parquet", "stats.json", CARD, CROISSANT, MANIFEST]
    targets = {name: paths.published / name for name in names}
    metrics_path = paths.stage_dir(STAGE) / "metrics.json"
    with atomic_outputs(*targets.values(), metrics_path) as tmp:
        for name, frame in example_files.items():
            write_jsonl(frame["line"], tmp(targets[name]))
        write_parquet(lineage, tmp(targets["lineage.parquet"]))
        write_parquet(fate, tmp(targets["fate.parquet"]))
        write_json(stats, tmp(targets["stats.json"]))
        data_files = [
            digest_file(tmp(targets[name]), name) for name in sorted(targets) if name not in (CARD, CROISSANT, MANIFEST)
        ]

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
            files=[*data_files, digest_file(tmp(targets[CARD]), CARD), digest_file(tmp(targets[CROISSANT]), CROISSANT)],
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
            lineage_rows=lineage.height,
            merkle_root=root,
        )
        write_json(metrics, tmp(metrics_path))
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


def validated_sets(rows: pl.DataFrame, *, keep_style: bool) -> list[BuiltSet]:
    built = build_sets(rows, keep_style=keep_style)
    for b in built:
        # The lines as written, parsed back: what training code will read is what is checked.
        model = PreferenceExample if b.spec.preference else SftExample
        check_output(decode_lines(b), model, where=f"published {b.spec.name} examples")
    return built


def batch_entry(manifest_path: Path, batch_id: str) -> BatchEntry:
    try:
        return BatchEntry(batch_id, load_document(manifest_path, BatchManifest), None)
    except GovernanceFileError as exc:
        # Ingest accounted for such a batch's lines; the card shows why it contributed nothing.
        return BatchEntry(batch_id, None, f"manifest unreadable: {exc}")


if __name__ == "__main__":
    run(main)
