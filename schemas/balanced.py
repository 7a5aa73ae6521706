"""Boundary balance -> split: no annotator above the configured share."""

from __future__ import annotations

import pandera.polars as pa

from schemas.deduped import DedupedFeedback


class BalancedFeedback(DedupedFeedback):
    # Why this row survived balancing (e.g. "under_cap", "sampled_within_cap"), for the audit trail.
    balance_decision: str = pa.Field(nullable=False)

    class Config:
        strict = True
