"""The fate ledger (DESIGN.md 4): one row per raw line that left the pipeline at a stage, and at the
end one final row per raw line."""

from __future__ import annotations

import pandera.polars as pa

OUTCOMES = ["kept", "dropped", "quarantined"]


class FateRow(pa.DataFrameModel):
    batch_id: str = pa.Field(nullable=False)
    line_no: int = pa.Field(nullable=False, ge=1)
    feedback_id: str = pa.Field(nullable=True)
    stage: str = pa.Field(nullable=False)
    outcome: str = pa.Field(nullable=False, isin=OUTCOMES)
    reason: str = pa.Field(nullable=False)
    detail: str = pa.Field(nullable=True)

    class Config:
        strict = True
