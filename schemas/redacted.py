"""Boundary redact -> classify: text fields carry typed placeholders instead of PII."""

from __future__ import annotations

import polars as pl
import pandera.polars as pa

from schemas.governed import GovernedFeedback

from corpus.pii import PII_TYPES

PII_COUNTS = pl.Struct({name: pl.UInt32 for name in PII_TYPES})


class RedactedFeedback(GovernedFeedback):
    # Replacements made in this row by type; the values themselves are never recorded.
    pii_counts: PII_COUNTS = pa.Field(nullable=False)
    # Something that looks like PII remained that could not be redacted safely (kept only by param).
    pii_residual: bool = pa.Field(nullable=False)

    class Config:
        strict = True
