"""Stage `dedup` (DESIGN.md 4.5): one example per piece of feedback, and label conflicts caught.

Works on the union of all batches. First a feedback_id seen in two batches keeps its first
occurrence (batch order of params.yaml). Then exact duplicates (normalised prompt + target), then
near duplicates (MinHash LSH candidates confirmed by exact Jaccard); each cluster keeps one
representative by the documented order of corpus/dedup.py and the others are recorded as absorbed.
Near-identical prompts whose corrections disagree are a consistency failure, handled by
params dedup.conflict_action: drop them all, keep the latest, or send them to review.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from corpus.dedup import dedup_frame
from corpus.errors import CorpusError
from corpus.settings import DedupSettings, stage_settings
from corpus.stage import (
    DISTRIBUTION_COLUMNS,
    DROPPED,
    QUARANTINED,
    check_output,
    fate_rows,
    load_params,
    paths_from_env,
    polars_schema,
    read_input,
    run,
    stage_metrics,
    write_outputs,
)
from schemas.classified import ClassifiedFeedback
from schemas.deduped import DedupedFeedback
from schemas.fate import FateRow

STAGE = "dedup"
# (batch_id, line_no) names one raw line: the key that finds a kept row's full record again.
LINE = ["batch_id", "line_no"]


def representative_order(entries: list) -> list[tuple[str, bool]]:
    """params dedup.representative_order: [[column, descending], ...] over ClassifiedFeedback columns."""
    columns = ClassifiedFeedback.to_schema().columns
    order_by = []
    for entry in entries:
        if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], bool) and entry[0] in columns):
            raise CorpusError(
                f"params.yaml: dedup.representative_order entry {entry!r} must be [column, descending] with a "
                f"column of the classify output and descending true or false (columns: {', '.join(columns)})"
            )
        order_by.append((str(entry[0]), entry[1]))
    return order_by


def main() -> None:
    paths = paths_from_env()
    all_params = load_params(paths)
    settings = stage_settings(all_params, DedupSettings)
    order_by = representative_order(settings.representative_order)
    batches = list(all_params.get("batches") or [])
    inputs = [paths.stage_dir("classify") / f"{b}.parquet" for b in batches]
    # Every batch is validated whole, but only the columns dedup reads stay in memory: at 10M raw
    # rows the full records of the union would not fit. Kept rows get theirs back at the end.
    compared_columns = list(
        dict.fromkeys(["feedback_id", *LINE, "prompt", "target", "collected_at_utc", *DISTRIBUTION_COLUMNS, *(c for c, _ in order_by)])
    )
    parts = [read_input(path, ClassifiedFeedback).select(compared_columns) for path in inputs]
    rows = pl.concat(parts) if parts else pl.DataFrame(schema=polars_schema(ClassifiedFeedback)).select(compared_columns)
    rows = rows.with_columns(pl.int_range(pl.len()).alias("_order"))

    repeated_ids = rows.filter(~pl.col("feedback_id").is_first_distinct())
    first_batch = rows.group_by("feedback_id").agg(pl.col("batch_id").sort_by("_order").first().alias("_first"))
    repeated_ids = repeated_ids.join(first_batch, on="feedback_id")
    unique = rows.filter(pl.col("feedback_id").is_first_distinct()).drop("_order") if repeated_ids.height else rows.drop("_order")
    rows_in, before = rows.height, rows.select(DISTRIBUTION_COLUMNS)
    del rows, parts

    result = dedup_frame(
        unique.select(*dict.fromkeys(["feedback_id", "prompt", "target", "collected_at_utc", *(c for c, _ in order_by)])),
        id_column="feedback_id",
        prompt_column="prompt",
        target_column="target",
        order_by=order_by,
        time_column="collected_at_utc",
        threshold=settings.near_duplicate_jaccard,
        lsh_threshold=settings.lsh_threshold,
        num_perm=settings.num_perm,
        shingle_words=settings.shingle_words,
        conflict_threshold=settings.conflict_jaccard_below,
        conflict_action=settings.conflict_action,
    )
    # Only ids and verdicts are kept from here on: the compared texts are let go before the kept
    # rows' full records are read back.
    by_id = unique.select("feedback_id", *LINE)
    kept = by_id.join(result.kept.select("feedback_id", "dedup_cluster_id", "dedup_cluster_size", "dedup_absorbed"), on="feedback_id")
    dropped = result.dropped.join(by_id, on="feedback_id", how="left")
    review = result.review.select("feedback_id").join(by_id, on="feedback_id", how="left")
    conflicts = result.conflicts
    del unique, result
    kept = kept_records(inputs, kept)
    kept = check_output(kept.select(DedupedFeedback.to_schema().columns.keys()).sort("feedback_id"), DedupedFeedback, where="dedup output")
    fate = pl.concat(
        [
            fate_rows(repeated_ids, stage=STAGE, outcome=DROPPED, reason="duplicate_feedback_id",
                      detail=pl.format("feedback_id first seen in batch {}", pl.col("_first"))),
            fate_rows(dropped, stage=STAGE, outcome=DROPPED, reason=pl.col("reason"),
                      detail=pl.format("cluster {} kept {}", pl.col("dedup_cluster_id"), pl.col("kept_feedback_id").fill_null("none"))),
            fate_rows(review, stage=STAGE, outcome=QUARANTINED, reason="conflicting_corrections_review",
                      detail="near-identical prompts with conflicting corrections; see data/interim/dedup/conflicts.parquet"),
        ]
    )
    fate = check_output(fate, FateRow, where="dedup fate")
    metrics = stage_metrics(
        stage=STAGE, scope="all", rows_in=rows_in, before=before, after=kept, fate=fate,
        conflict_clusters=conflicts.height,
        clusters_with_absorbed=int((kept["dedup_cluster_size"] > 1).sum()),
    )
    out = paths.stage_dir(STAGE)
    write_outputs(
        {
            out / "examples.parquet": kept,
            out / "fate.parquet": fate,
            out / "conflicts.parquet": conflicts,
            out / "metrics.json": metrics,
        }
    )
    print(f"dedup: {rows_in} rows -> {kept.height} kept, {fate.height} removed, {conflicts.height} conflict clusters")


def kept_records(inputs: list[Path], kept: pl.DataFrame) -> pl.DataFrame:
    """The full classify records of the kept rows (`kept` holds their LINE keys), joined to `kept`,
    one batch file at a time so only one batch's records are held beside the kept ones."""
    parts = [pl.read_parquet(path).join(kept, on=["feedback_id", *LINE]) for path in inputs]
    if not parts:
        return kept.join(pl.DataFrame(schema=polars_schema(ClassifiedFeedback)), on=["feedback_id", *LINE])
    return pl.concat(parts)


if __name__ == "__main__":
    run(main)
