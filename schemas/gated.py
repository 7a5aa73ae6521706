"""Boundary gates -> publish: the examples that passed every gate, the final fate of every raw line,
and the eval probes the gates read (DESIGN.md 3.4)."""

from __future__ import annotations

import polars as pl
import pandera.polars as pa

from schemas.fate import FateRow
from schemas.raw import MESSAGES
from schemas.split import SplitFeedback


class GatedFeedback(SplitFeedback):
    """An example that passed the gates: no probe overlap, a domain with eval probes."""

    class Config:
        strict = True


class FinalFate(FateRow):
    """Exactly one final outcome per raw line; `kept` rows are the gated examples."""

    @pa.dataframe_check
    def one_fate_per_line(cls, data: pa.PolarsData) -> pl.LazyFrame:
        # Per batch, on the integer column: no row encoding of a string struct over the whole ledger.
        return data.lazyframe.select(pl.col("line_no").is_unique().over("batch_id"))

    class Config:
        strict = True


class EvalProbe(pa.DataFrameModel):
    """One line of data/raw/eval/probes.jsonl."""

    probe_id: str = pa.Field(nullable=False, unique=True, str_length={"min_value": 1})
    domain: str = pa.Field(nullable=False, str_length={"min_value": 1})
    prompt: MESSAGES = pa.Field(nullable=False)
    reference: str = pa.Field(nullable=False)

    class Config:
        strict = True
