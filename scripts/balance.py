"""Stage `balance` (DESIGN.md 4.6): one prolific clicker must not set the model's taste.

First optional per-domain caps (params balance.domain_caps), then the annotator cap: the largest
per-annotator count C such that C <= max_annotator_share x (rows kept) is found, and each annotator
above C is downsampled to C rows. Which rows survive is decided by a salted stable hash of the
feedback_id (params balance.seed), so the choice is deterministic and not biased by file order.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from corpus.errors import StageInputError
from corpus.sampling import annotator_cap, stable_hash64
from corpus.settings import BalanceSettings, stage_settings
from corpus.stage import (
    DROPPED,
    check_derived_output,
    check_output,
    fate_rows,
    load_params,
    paths_from_env,
    read_input,
    run,
    stage_metrics,
    write_outputs,
)
from schemas.balanced import BalancedFeedback
from schemas.deduped import DedupedFeedback
from schemas.fate import FateRow

STAGE = "balance"
ROW = "_row"
# What the sampling and the fate ledger read of each row.
KEY_COLUMNS = ["batch_id", "line_no", "feedback_id", "domain", "annotator_id"]


def _hash_rank(frame: pl.DataFrame, group: str, cut: pl.Expr, salt: str) -> pl.Series:
    """Each row's 1-based place within its `group` in salted-hash order of feedback_id, for the rows
    of the groups that `cut` marks (a property of the whole group); null for the other rows.

    Only the groups a cap cuts need an order, and hashing is the costly part (a Python call per
    row), so the others are not hashed: at 1M raw rows 111k of 376k rows are.
    """
    needed = frame.select(cut.fill_null(False)).to_series()
    hashes = np.zeros(frame.height, dtype=np.uint64)
    hashes[needed.to_numpy()] = stable_hash64(frame["feedback_id"].filter(needed), salt=salt).to_numpy()
    keyed = frame.select(group, pl.when(needed).then(pl.Series(hashes)).alias("_hash"))
    return keyed.select(pl.col("_hash").rank("ordinal").over(group)).to_series()


def main() -> None:
    paths = paths_from_env()
    settings = stage_settings(load_params(paths), BalanceSettings)
    rows = read_input(paths.stage_dir("dedup") / "examples.parquet", DedupedFeedback)
    max_share = settings.max_annotator_share
    domain_caps = settings.domain_caps

    # The sampling works on a few narrow columns; the wide text columns are copied once, at the end.
    keys = rows.select(KEY_COLUMNS).with_row_index(ROW)
    salt = f"balance:{settings.seed}"
    domain_cap = pl.col("domain").replace_strict(domain_caps, default=None, return_dtype=pl.UInt32)
    ranked = keys.with_columns(_hash_rank(keys, "domain", domain_cap.is_not_null(), salt).alias("_in_domain"))
    over_domain_cap = (pl.col("_in_domain") > domain_cap).fill_null(False)
    capped_by_domain = ranked.filter(over_domain_cap)
    ranked = ranked.filter(~over_domain_cap)

    counts = ranked.group_by("annotator_id").len()["len"].to_list()
    cap = annotator_cap(counts, max_share)
    if ranked.height and cap == 0:
        raise StageInputError(
            f"balance: {len(counts)} annotator(s) cannot meet max_annotator_share={max_share} "
            f"(needs at least {int(1 / max_share + 0.999)}); raise the share in params.yaml or add data"
        )
    ranked = ranked.with_columns(pl.len().over("annotator_id").alias("_annotator_rows"))
    ranked = ranked.with_columns(
        _hash_rank(ranked, "annotator_id", pl.col("_annotator_rows") > cap, salt).alias("_in_annotator")
    )
    over_annotator_cap = (pl.col("_in_annotator") > cap).fill_null(False)
    capped_by_annotator = ranked.filter(over_annotator_cap)
    decisions = (
        ranked.filter(~over_annotator_cap)
        .select(
            ROW,
            "feedback_id",
            pl.when(pl.col("_annotator_rows") > cap)
            .then(pl.lit(f"sampled_to_annotator_cap:{cap}"))
            .otherwise(pl.lit("under_annotator_cap"))
            .alias("balance_decision"),
        )
        .sort("feedback_id")
    )
    # dedup writes its rows sorted by feedback_id, so the kept rows are usually already in output
    # order: a filter then copies them, several times cheaper than a gather of the wide columns.
    # One chunk, as a gather gives: the parquet writer cuts row groups along chunks.
    if decisions[ROW].is_sorted():
        is_kept = np.zeros(rows.height, dtype=bool)
        is_kept[decisions[ROW].to_numpy()] = True
        kept = rows.filter(pl.Series(is_kept)).rechunk()
    else:
        kept = rows[decisions[ROW]]
    kept = kept.with_columns(decisions["balance_decision"])
    # Input rows, values untouched, plus new columns: only what is new is checked again.
    kept = check_derived_output(kept, BalancedFeedback, base=DedupedFeedback, where="balance output")

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
    # split reads these whole: no parquet column statistics to compute.
    write_outputs(
        {out / "examples.parquet": kept, out / "fate.parquet": fate, out / "metrics.json": metrics}, statistics=False
    )
    print(f"balance: {rows.height} rows -> {kept.height} kept (annotator cap {cap}), {fate.height} dropped")


if __name__ == "__main__":
    run(main)
