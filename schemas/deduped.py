"""Boundary dedup -> balance: one representative per duplicate cluster."""

from __future__ import annotations

import polars as pl
import pandera.polars as pa

from schemas.classified import ClassifiedFeedback


class DedupedFeedback(ClassifiedFeedback):
    dedup_cluster_id: str = pa.Field(nullable=False)
    dedup_cluster_size: int = pa.Field(nullable=False, ge=1)
    # feedback_ids of the rows this representative absorbed.
    dedup_absorbed: pl.List(pl.String) = pa.Field(nullable=False)

    @pa.dataframe_check
    def feedback_id_unique(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("feedback_id").is_unique())

    class Config:
        strict = True
