"""The published snapshot, contract v1 (DESIGN.md 5): the rows of each file under data/published/.

Training code, the audit and the next snapshot's drift gate read these files; change a rule here
only with a new contract version.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl

from schemas.gated import FinalFate
from schemas.raw import MESSAGE_ROLES, MESSAGES
from schemas.split import SPLITS

CONTRACT_VERSION = "1"
SHA256_HEX = r"^[0-9a-f]{64}$"
DEDUP_ROLES = ["representative", "absorbed"]
# Example sets and their files: `<set>/<split>.jsonl`. `style` exists only when classify keeps it.
EXAMPLE_SETS = ["sft", "preference", "style"]
EXAMPLE_FILES = [f"{name}/{split}.jsonl" for name in EXAMPLE_SETS for split in SPLITS]
# A JSONL line of each shape, as polars decodes it.
SFT_LINE = pl.Struct({"example_id": pl.String, "messages": MESSAGES})
PREFERENCE_LINE = pl.Struct({"example_id": pl.String, "prompt": MESSAGES, "chosen": pl.String, "rejected": pl.String})


def _roles_valid(column: str) -> pl.Expr:
    return pl.col(column).list.eval(pl.element().struct.field("role").is_in(MESSAGE_ROLES).fill_null(False)).list.all()


def _contents_present(column: str) -> pl.Expr:
    return pl.col(column).list.eval(pl.element().struct.field("content").is_not_null()).list.all()


class SftExample(pa.DataFrameModel):
    """A line of sft/*.jsonl (and style/*.jsonl): the conversation, ending in the assistant target."""

    example_id: str = pa.Field(nullable=False, unique=True, str_matches=SHA256_HEX)
    messages: MESSAGES = pa.Field(nullable=False)

    @pa.check("messages", name="prompt_then_target")
    def _at_least_two(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key).list.len() >= 2)

    @pa.check("messages", name="message_role_valid")
    def _roles(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(_roles_valid(data.key))

    @pa.check("messages", name="message_content_is_text")
    def _contents(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(_contents_present(data.key))

    @pa.check("messages", name="ends_with_assistant_target")
    def _last_is_assistant(cls, data: pa.PolarsData) -> pl.LazyFrame:
        last = pl.col(data.key).list.last().struct
        return data.lazyframe.select((last.field("role") == "assistant") & (last.field("content").str.len_chars() > 0))

    @pa.check("messages", name="target_follows_user")
    def _user_before_target(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key).list.get(-2, null_on_oob=True).struct.field("role") == "user")

    class Config:
        strict = True


class PreferenceExample(pa.DataFrameModel):
    """A line of preference/*.jsonl: a human correction (chosen) against the rated response (rejected)."""

    example_id: str = pa.Field(nullable=False, unique=True, str_matches=SHA256_HEX)
    prompt: MESSAGES = pa.Field(nullable=False)
    chosen: str = pa.Field(nullable=False, str_length={"min_value": 1})
    rejected: str = pa.Field(nullable=False, str_length={"min_value": 1})

    @pa.check("prompt", name="message_role_valid")
    def _roles(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(_roles_valid(data.key))

    @pa.check("prompt", name="message_content_is_text")
    def _contents(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(_contents_present(data.key))

    @pa.check("prompt", name="last_message_is_user")
    def _last_is_user(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key).list.last().struct.field("role") == "user")

    @pa.dataframe_check(name="chosen_differs_from_rejected")
    def _a_real_preference(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("chosen") != pl.col("rejected"))

    class Config:
        strict = True


class LineageRow(pa.DataFrameModel):
    """lineage.parquet: one row per (example, contributing raw record)."""

    example_id: str = pa.Field(nullable=False, str_matches=SHA256_HEX)
    example_file: str = pa.Field(nullable=False, isin=EXAMPLE_FILES)
    feedback_id: str = pa.Field(nullable=False)
    batch_id: str = pa.Field(nullable=False)
    line_no: int = pa.Field(nullable=False, ge=1)
    # sha256 of the raw line's bytes: proves which exact line of the batch file this is.
    line_sha256: str = pa.Field(nullable=False, str_matches=SHA256_HEX)
    annotator_id: str = pa.Field(nullable=False)
    annotator_role: str = pa.Field(nullable=False)
    source: str = pa.Field(nullable=False)
    domain: str = pa.Field(nullable=False)
    model_version: str = pa.Field(nullable=False)
    # The guideline in force: the record's own, else its batch manifest's.
    guideline_version: str = pa.Field(nullable=True)
    collected_at: pl.Datetime(time_unit="us", time_zone="UTC") = pa.Field(nullable=False)
    intent: str = pa.Field(nullable=False)
    defect_subtype: str = pa.Field(nullable=True)
    # How the intent was decided: reason_code, rule:<name>, model, ...
    intent_source: str = pa.Field(nullable=False)
    intent_confidence: float = pa.Field(nullable=False, ge=0.0, le=1.0)
    example_kind: str = pa.Field(nullable=False)
    # PII replaced in this record, by type ("EMAIL:1,PHONE:2"); empty when none. Never the values.
    redactions: str = pa.Field(nullable=False)
    pii_residual: bool = pa.Field(nullable=False)
    dedup_cluster_id: str = pa.Field(nullable=False)
    dedup_role: str = pa.Field(nullable=False, isin=DEDUP_ROLES)
    # The balance decision and split of the example (absorbed records share their representative's).
    balance_decision: str = pa.Field(nullable=False)
    split: str = pa.Field(nullable=False, isin=SPLITS)

    @pa.dataframe_check(name="one_row_per_example_and_record")
    def _unique(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.struct("example_file", "example_id", "feedback_id").is_unique())

    @pa.dataframe_check(name="file_matches_split")
    def _file_split(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col("example_file").str.ends_with(pl.format("/{}.jsonl", pl.col("split"))))

    class Config:
        strict = True


class PublishedFate(FinalFate):
    """fate.parquet: the final fate of every raw line, exactly once, in (batch_id, line_no) order."""

    @pa.dataframe_check(name="sorted_by_batch_and_line")
    def _sorted(cls, data: pa.PolarsData) -> pl.LazyFrame:
        batch, line = pl.col("batch_id"), pl.col("line_no")
        after_previous = (batch > batch.shift(1)) | ((batch == batch.shift(1)) & (line > line.shift(1)))
        return data.lazyframe.select(after_previous.fill_null(True))

    class Config:
        strict = True
