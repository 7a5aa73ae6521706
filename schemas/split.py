"""Boundary split -> gates: every row assigned to train or validation by its session."""

from __future__ import annotations

import polars as pl
import pandera.polars as pa

from schemas.balanced import BalancedFeedback

SPLITS = ["train", "validation"]


class SplitFeedback(BalancedFeedback):
    split: str = pa.Field(nullable=False, isin=SPLITS)
    # The grouping key: session_id, else feedback_id (a row without a session is its own group).
    split_group: str = pa.Field(nullable=False)

    @pa.dataframe_check
    def no_group_straddles_splits(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("split").n_unique().over("split_group") == 1)

    class Config:
        strict = True
