"""Boundary ingest -> govern: raw feedback that passed the contract, with where it came from."""

from __future__ import annotations

import polars as pl
import pandera.polars as pa

from schemas.raw import RawFeedback


class IngestedFeedback(RawFeedback):
    """A valid raw line from an approved batch, tagged with its batch, line number and bytes."""

    batch_id: str = pa.Field(nullable=False)
    line_no: int = pa.Field(nullable=False, ge=1)
    line_sha256: str = pa.Field(nullable=False, str_matches=r"^[0-9a-f]{64}$")
    collected_at_utc: pl.Datetime(time_unit="us", time_zone="UTC") = pa.Field(nullable=False)
    batch_guideline_version: str = pa.Field(nullable=True)

    @pa.dataframe_check
    def feedback_id_unique_in_batch(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("feedback_id").is_first_distinct())

    class Config:
        strict = True
