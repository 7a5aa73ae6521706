"""Boundary classify -> dedup: each row's intent, how it was decided, and the example it yields."""

from __future__ import annotations

import pandera.polars as pa

from schemas.raw import DEFECT_REASONS
from schemas.redacted import RedactedFeedback

INTENTS = ["defect", "taste", "testing", "positive", "abstain"]
INTENT_SOURCES_PREFIXES = ("reason_code", "rule:", "model", "abstain")
# defect_fix: a human correction of a real defect (SFT target and DPO chosen, response rejected);
# endorsed: a thumbs-up response (SFT target); style: a taste correction kept only by param.
EXAMPLE_KINDS = ["defect_fix", "endorsed", "style"]


class ClassifiedFeedback(RedactedFeedback):
    intent: str = pa.Field(nullable=False, isin=INTENTS)
    defect_subtype: str = pa.Field(nullable=True, isin=DEFECT_REASONS)
    intent_source: str = pa.Field(nullable=False)
    intent_confidence: float = pa.Field(nullable=False, ge=0.0, le=1.0)
    example_kind: str = pa.Field(nullable=False, isin=EXAMPLE_KINDS)
    target: str = pa.Field(nullable=False, str_length={"min_value": 1})

    class Config:
        strict = True
