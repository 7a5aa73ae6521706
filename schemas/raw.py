"""Input contract v1 (DESIGN.md 3.1): one raw feedback line, as decoded from JSON.

Other tools write these files; every rule here is part of the contract, so change it only with a
new contract version.
"""

from __future__ import annotations

import polars as pl
import pandera.polars as pa

ANNOTATOR_ROLES = ["end_user", "engineer", "vendor_annotator", "model"]
MESSAGE_ROLES = ["system", "user", "assistant", "tool"]
RATINGS = ["up", "down"]
CONTENT_ORIGINS = ["human", "model_generated"]
DEFECT_REASONS = [
    "factual_error",
    "hallucinated_entity",
    "missed_instruction",
    "broken_format",
    "broken_tool_call",
    "unsafe_output",
]
TASTE_REASONS = ["tone", "verbosity", "phrasing", "other_preference"]
REASON_CODES = [*DEFECT_REASONS, *TASTE_REASONS, "testing", "other"]

MESSAGE = pl.Struct({"role": pl.String, "content": pl.String})
MESSAGES = pl.List(MESSAGE)

# RFC 3339 date-time with a mandatory offset; the calendar check is done by parsing (see below).
RFC3339 = r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"

# annotator_id is "pseudonymous" (DESIGN.md 3.1), and it is published in lineage.parquet: an
# e-mail address in it, or a whole international phone number, names a person.
IDENTIFYING_ANNOTATOR_ID = (
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}|^\s*\+[0-9][0-9 ().-]{6,}$"
)

# Field order and types of a decoded line; unknown keys are kept in the raw file and ignored here.
RAW_FIELDS: dict[str, pl.DataType] = {
    "feedback_id": pl.String(),
    "collected_at": pl.String(),
    "source": pl.String(),
    "annotator_id": pl.String(),
    "annotator_role": pl.String(),
    "guideline_version": pl.String(),
    "domain": pl.String(),
    "model_version": pl.String(),
    "prompt": MESSAGES,
    "response": pl.String(),
    "rating": pl.String(),
    "correction": pl.String(),
    "reason_code": pl.String(),
    "comment": pl.String(),
    "training_consent": pl.Boolean(),
    "content_origin": pl.String(),
    "tenant_id": pl.String(),
    "session_id": pl.String(),
}


def parse_collected_at(column: str = "collected_at") -> pl.Expr:
    """RFC 3339 text to a UTC timestamp; null when the text is not a real calendar instant."""
    return (
        pl.col(column)
        .str.replace(r"[Tt ]", "T")
        .str.replace(r"[Zz]$", "+00:00")
        .str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%:z", strict=False, time_unit="us")
        .dt.convert_time_zone("UTC")
    )


class RawFeedback(pa.DataFrameModel):
    """One line of `data/raw/feedback/<batch_id>.jsonl`."""

    feedback_id: str = pa.Field(nullable=False, str_length={"min_value": 1, "max_value": 256})
    collected_at: str = pa.Field(nullable=False, str_matches=RFC3339)
    source: str = pa.Field(nullable=False, str_length={"min_value": 1})
    annotator_id: str = pa.Field(nullable=False, str_length={"min_value": 1})
    annotator_role: str = pa.Field(nullable=False, isin=ANNOTATOR_ROLES)
    guideline_version: str = pa.Field(nullable=True)
    domain: str = pa.Field(nullable=False, str_length={"min_value": 1})
    model_version: str = pa.Field(nullable=False, str_length={"min_value": 1})
    prompt: MESSAGES = pa.Field(nullable=False)
    response: str = pa.Field(nullable=False)
    rating: str = pa.Field(nullable=False, isin=RATINGS)
    correction: str = pa.Field(nullable=True)
    reason_code: str = pa.Field(nullable=True, isin=REASON_CODES)
    comment: str = pa.Field(nullable=True)
    training_consent: bool = pa.Field(nullable=False)
    content_origin: str = pa.Field(nullable=False, isin=CONTENT_ORIGINS)
    tenant_id: str = pa.Field(nullable=True)
    session_id: str = pa.Field(nullable=True)

    @pa.check("collected_at")
    def rfc3339_calendar_instant(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(parse_collected_at(data.key).is_not_null() | pl.col(data.key).is_null())

    @pa.check("annotator_id")
    def pseudonymous(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(~pl.col(data.key).str.contains(IDENTIFYING_ANNOTATOR_ID).fill_null(False))

    @pa.check("prompt")
    def prompt_not_empty(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key).list.len().fill_null(1) > 0)

    @pa.check("prompt")
    def message_role_valid(cls, data: pa.PolarsData) -> pl.LazyFrame:
        roles = pl.col(data.key).list.eval(pl.element().struct.field("role").is_in(MESSAGE_ROLES).fill_null(False))
        return data.lazyframe.select(roles.list.all().fill_null(True))

    @pa.check("prompt")
    def message_content_is_text(cls, data: pa.PolarsData) -> pl.LazyFrame:
        contents = pl.col(data.key).list.eval(pl.element().struct.field("content").is_not_null())
        return data.lazyframe.select(contents.list.all().fill_null(True))

    @pa.check("prompt")
    def last_message_is_user(cls, data: pa.PolarsData) -> pl.LazyFrame:
        last_role = pl.col(data.key).list.last().struct.field("role")
        return data.lazyframe.select((last_role == "user").fill_null(pl.col(data.key).list.len().fill_null(0) == 0))

    class Config:
        strict = False
