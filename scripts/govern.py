"""Stage `govern@<batch_id>` (DESIGN.md 4.2): keep only rows the organisation may train on.

A row is dropped, with the first rule it breaks as its fate, when: the data subject gave no
training consent; its surface is registered for a purpose that forbids training (debugging);
it is older than the retention window; its annotator or batch has been revoked; its correction
was written by a model (`content_origin: model_generated`, or an annotator whose role is `model`),
unless params allow model-generated corrections, which stay tagged by `content_origin`.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import polars as pl

from corpus.governance import Governance
from corpus.settings import GovernSettings, stage_settings
from corpus.stage import (
    DROPPED,
    batch_argument,
    check_output,
    fate_rows,
    load_params,
    paths_from_env,
    read_input,
    run,
    stage_metrics,
    write_outputs,
)
from schemas.fate import FateRow
from schemas.governed import GovernedFeedback
from schemas.ingested import IngestedFeedback

STAGE = "govern"


def main() -> None:
    batch_id = batch_argument()
    paths = paths_from_env()
    settings = stage_settings(load_params(paths), GovernSettings)
    governance = Governance.load(paths)
    rows = read_input(paths.stage_dir("ingest") / f"{batch_id}.parquet", IngestedFeedback)

    forbidden = sorted(name for name, s in governance.surfaces.surfaces.items() if s.training_use == "forbidden")
    as_of = settings.as_of
    oldest = datetime.combine(as_of, datetime.min.time(), tzinfo=timezone.utc) - timedelta(days=settings.retention_days)
    revoked_annotators = {r.annotator_id: r.reason for r in governance.revocations.revocations if r.annotator_id}
    revoked_batches = {r.batch_id: r.reason for r in governance.revocations.revocations if r.batch_id}

    # The first rule a row breaks is its fate; the order is the order of the module docstring.
    rules: list[tuple[str, pl.Expr, pl.Expr | str]] = [
        ("no_training_consent", ~pl.col("training_consent"), "training_consent is false"),
        (
            "surface_not_for_training",
            pl.col("source").is_in(forbidden),
            pl.format("surface {} has training_use: forbidden", pl.col("source")),
        ),
        (
            "retention_expired",
            pl.col("collected_at_utc") < pl.lit(oldest),
            f"collected before {oldest.date()} ({settings.retention_days} days before as_of {as_of})",
        ),
        (
            "revoked_annotator",
            pl.col("annotator_id").is_in(list(revoked_annotators)),
            pl.col("annotator_id").replace_strict(revoked_annotators, default=None, return_dtype=pl.String),
        ),
        (
            "revoked_batch",
            pl.col("batch_id").is_in(list(revoked_batches)),
            pl.col("batch_id").replace_strict(revoked_batches, default=None, return_dtype=pl.String),
        ),
    ]
    if not settings.include_model_generated:
        rules.append(
            (
                "model_generated_correction",
                # An annotator that is a model writes model corrections, whatever content_origin says.
                (pl.col("content_origin") == "model_generated") | (pl.col("annotator_role") == "model"),
                "correction written by a model",
            )
        )

    reason = pl.when(pl.lit(False)).then(pl.lit(None, pl.String))
    detail = pl.when(pl.lit(False)).then(pl.lit(None, pl.String))
    for name, broken, why in rules:
        reason = reason.when(broken).then(pl.lit(name))
        detail = detail.when(broken).then(why if isinstance(why, pl.Expr) else pl.lit(why))
    judged = rows.with_columns(reason.otherwise(None).alias("_reason"), detail.otherwise(None).alias("_detail"))
    dropped = pl.col("_reason").is_not_null()

    kept = judged.filter(~dropped).drop("_reason", "_detail").with_columns(
        pl.coalesce("guideline_version", "batch_guideline_version").alias("effective_guideline_version")
    )
    kept = check_output(kept, GovernedFeedback, where=f"govern output for {batch_id}")
    # Only the ledger's columns are filtered: copying the dropped rows' text would be wasted.
    ledger = judged.select("batch_id", "line_no", "feedback_id", "_reason", "_detail").filter(dropped)
    fate = check_output(
        fate_rows(ledger, stage=STAGE, outcome=DROPPED, reason=pl.col("_reason"), detail=pl.col("_detail")),
        FateRow,
        where=f"govern fate for {batch_id}",
    )
    metrics = stage_metrics(stage=STAGE, scope=batch_id, rows_in=rows.height, before=rows, after=kept, fate=fate)

    out = paths.stage_dir(STAGE)
    write_outputs({out / f"{batch_id}.parquet": kept, out / f"{batch_id}.fate.parquet": fate, out / f"{batch_id}.metrics.json": metrics})
    print(f"govern {batch_id}: {rows.height} rows -> {kept.height} kept, {fate.height} dropped")


if __name__ == "__main__":
    run(main)
