"""Boundary govern -> redact: rows allowed for training use, with the guideline version in force."""

from __future__ import annotations

import pandera.polars as pa

from schemas.ingested import IngestedFeedback


class GovernedFeedback(IngestedFeedback):
    # The row's own guideline_version, else the one its batch manifest declares.
    effective_guideline_version: str = pa.Field(nullable=True)

    class Config:
        strict = True
