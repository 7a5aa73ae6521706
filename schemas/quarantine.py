"""The quarantine file of a stage: lines held back for a person, with the rule they broke.

Raw text is not copied here (it may hold PII the redact stage never saw); the line is found again
from its batch and line number, and its sha256 proves it is the same bytes.
"""

from __future__ import annotations

import pandera.polars as pa


class QuarantinedLine(pa.DataFrameModel):
    batch_id: str = pa.Field(nullable=False)
    line_no: int = pa.Field(nullable=False, ge=1)
    feedback_id: str = pa.Field(nullable=True)
    line_sha256: str = pa.Field(nullable=False, str_matches=r"^[0-9a-f]{64}$")
    rule: str = pa.Field(nullable=False)
    detail: str = pa.Field(nullable=False)

    class Config:
        strict = True
