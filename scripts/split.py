"""Stage `split` (DESIGN.md 4.7): train/validation by a stable hash of the conversation.

The group is the session_id (a row without one is its own group), so no conversation straddles
the split; a salted stable hash puts `validation_fraction` of the groups in validation, and a
group stays on its side when other data is added.
"""

from __future__ import annotations

import polars as pl

from corpus.sampling import stable_hash64
from corpus.settings import SplitSettings, stage_settings
from corpus.stage import (
    check_derived_output,
    empty_fate,
    load_params,
    paths_from_env,
    read_input,
    run,
    stage_metrics,
    write_outputs,
)
from schemas.balanced import BalancedFeedback
from schemas.split import SplitFeedback

STAGE = "split"
_BUCKETS = 1_000_000


def main() -> None:
    paths = paths_from_env()
    settings = stage_settings(load_params(paths), SplitSettings)
    rows = read_input(paths.stage_dir("balance") / "examples.parquet", BalancedFeedback)

    grouped = rows.with_columns(pl.coalesce("session_id", "feedback_id").alias("split_group"))
    bucket = stable_hash64(grouped["split_group"], salt=f"split:{settings.seed}") % _BUCKETS
    threshold = int(settings.validation_fraction * _BUCKETS)
    split = grouped.with_columns(
        pl.when(bucket < threshold).then(pl.lit("validation")).otherwise(pl.lit("train")).alias("split")
    ).select(SplitFeedback.to_schema().columns.keys())
    # Input rows, values untouched, plus new columns: only what is new is checked again.
    split = check_derived_output(split, SplitFeedback, base=BalancedFeedback, where="split output")

    fate = empty_fate()
    counts = dict(split.group_by("split").len().iter_rows())
    metrics = stage_metrics(
        stage=STAGE, scope="all", rows_in=rows.height, before=rows, after=split, fate=fate,
        split_rows=counts, split_groups=dict(split.group_by("split").agg(pl.col("split_group").n_unique()).iter_rows()),
    )
    out = paths.stage_dir(STAGE)
    # gates reads these whole: no parquet column statistics to compute.
    write_outputs(
        {out / "examples.parquet": split, out / "fate.parquet": fate, out / "metrics.json": metrics}, statistics=False
    )
    print(f"split: {split.height} rows -> {counts.get('train', 0)} train, {counts.get('validation', 0)} validation")


if __name__ == "__main__":
    run(main)
