"""Stage `balance` (DESIGN.md 4.6): one prolific clicker must not set the model's taste.

First optional per-domain caps (params balance.domain_caps), then the annotator cap: the largest
per-annotator count C such that C <= max_annotator_share x (rows kept) is found, and each annotator
above C is downsampled to C rows. Which rows survive is decided by a salted stable hash of the
feedback_id (params balance.seed), so the choice is deterministic and not biased by file order.
"""

from __future__ import annotations

import polars as pl

from corpus.errors import StageInputError
from corpus.sampling import annotator_cap, stable_hash64
from corpus.stage import (
    DROPPED,
    check_output,
    fate_rows,
    load_params,
    paths_from_env,
    read_input,
    run,
    stage_metrics,
    stage_params,
    write_outputs,
)
from schemas.balanced import BalancedFeedback
from schemas.deduped import DedupedFeedback
from schemas.fate import FateRow

STAGE = "balance"


def main() -> None:
    paths = paths_from_env()
    params = stage_params(load_params(paths), STAGE)
    rows = read_input(paths.stage_dir("dedup") / "examples.parquet", DedupedFeedback)
    max_share = float(params["max_annotator_share"])
    domain_caps: dict[str, int] = {str(k): int(v) for k, v in (params.get("domain_caps") or {}).items()}

    ranked = rows.with_columns(stable_hash64(rows["feedback_id"], salt=f"balance:{params['seed']}").alias("_rank"))
    ranked = ranked.with_columns(pl.col("_rank").rank("ordinal").over("domain").alias("_in_domain"))
    over_domain_cap = pl.col("_in_domain") > pl.col("domain").replace_strict(domain_caps, default=None, return_dtype=pl.UInt32)
    capped_by_domain = ranked.filter(over_domain_cap.fill_null(False))
    ranked = ranked.filter(~over_domain_cap.fill_null(False))

    counts = ranked.group_by("annotator_id").len()["len"].to_list()
    cap = annotator_cap(counts, max_share)
    if ranked.height and cap == 0:
        raise StageInputError(
            f"balance: {len(counts)} annotator(s) cannot meet max_annotator_share={max_share} "
            f"(needs at least {int(1 / max_share + 0.999)}); raise the share in params.yaml or add data"
        )
    ranked = ranked.with_columns(
        pl.col("_rank").rank("ordinal").over("annotator_id").alias("_in_annotator"),
        pl.len().over("annotator_id").alias("_annotator_rows"),
    )
    capped_by_annotator = ranked.filter(pl.col("_in_annotator") > cap)
    kept = (
        ranked.filter(pl.col("_in_annotator") <= cap)
        .with_columns(
            pl.when(pl.col("_annotator_rows") > cap)
            .then(pl.lit(f"sampled_to_annotator_cap:{cap}"))
            .otherwise(pl.lit("under_annotator_cap"))
            .alias("balance_decision")
        )
        .drop("_rank", "_in_domain", "_in_annotator", "_annotator_rows")
        .sort("feedback_id")
    )
    kept = check_output(kept, BalancedFeedback, where="balance output")

    fate = pl.concat(
        [
            fate_rows(capped_by_domain, stage=STAGE, outcome=DROPPED, reason="domain_cap",
                      detail=pl.format("domain {} capped at {} rows", pl.col("domain"),
                                       pl.col("domain").replace_strict(domain_caps, default=None, return_dtype=pl.String))),
            fate_rows(capped_by_annotator, stage=STAGE, outcome=DROPPED, reason="annotator_cap",
                      detail=f"annotator above {cap} rows (max share {max_share})"),
        ]
    )
    fate = check_output(fate, FateRow, where="balance fate")
    shares = kept.group_by("annotator_id").len().with_columns((pl.col("len") / max(kept.height, 1)).alias("share"))
    metrics = stage_metrics(
        stage=STAGE, scope="all", rows_in=rows.height, before=rows, after=kept, fate=fate,
        annotator_cap=cap, max_annotator_share_after=float(shares["share"].max() or 0.0),
    )
    out = paths.stage_dir(STAGE)
    write_outputs({out / "examples.parquet": kept, out / "fate.parquet": fate, out / "metrics.json": metrics})
    print(f"balance: {rows.height} rows -> {kept.height} kept (annotator cap {cap}), {fate.height} dropped")


if __name__ == "__main__":
    run(main)
