"""What each stage's section of params.yaml may say, checked before the stage reads any data.

params.yaml is written by people: a wrong value must stop the stage with the key and the rule it
breaks (`error: params.yaml: balance.max_annotator_share: Input should be greater than 0`),
never with a traceback from deep inside the stage, and never be taken silently (a share of 2, a
negative retention). Each model spells out every key of its section, so a misspelt key is an error
too. The gates' sections have their models next to each gate (corpus/gates/), built on the same base.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, ClassVar, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)

from corpus.errors import CorpusError, describe_invalid


class Settings(BaseModel):
    """A section of params.yaml. `section` is its dotted name there (for error messages)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    section: ClassVar[str] = ""


SettingsT = TypeVar("SettingsT", bound=Settings)


def parse_section(model: type[SettingsT], section: Any, name: str) -> SettingsT:
    """`section` (the value under `name` in params.yaml) as `model`, or a CorpusError naming each
    broken key."""
    if not isinstance(section, Mapping):
        raise CorpusError(f"params.yaml: missing section `{name}:`")
    try:
        return model.model_validate(dict(section))
    except ValidationError as exc:
        raise CorpusError(f"params.yaml: {describe_invalid(exc, under=name)}") from None


def stage_settings(params: Mapping[str, Any], model: type[SettingsT]) -> SettingsT:
    return parse_section(model, params.get(model.section), model.section)


class IngestSettings(Settings):
    section: ClassVar[str] = "ingest"
    max_line_bytes: int = Field(ge=1)


class GovernSettings(Settings):
    section: ClassVar[str] = "govern"
    as_of: date
    retention_days: int = Field(ge=1)
    include_model_generated: StrictBool

    @field_validator("as_of", mode="before")
    @classmethod
    def _a_calendar_date(cls, value: Any) -> Any:
        # pydantic would read a number as seconds since 1970: 20261120 is not a date here.
        if not isinstance(value, (str, date)):
            raise ValueError('must be a date such as "2026-11-20"')
        return value


class RedactSettings(Settings):
    section: ClassVar[str] = "redact"
    engine: Literal["patterns", "presidio"]
    default_phone_region: str
    unsafe_action: Literal["drop", "quarantine", "keep"]

    @field_validator("default_phone_region")
    @classmethod
    def _a_phonenumbers_region(cls, value: str) -> str:
        import phonenumbers  # only the redact stage reads this section; the library loads in ~0.1 s

        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not a region code phonenumbers knows (such as US, GB, DE)")
        return value


class TrainIntentSettings(Settings):
    section: ClassVar[str] = "train_intent"
    seed: int


class ClassifySettings(Settings):
    section: ClassVar[str] = "classify"
    abstain_below: float = Field(ge=0, le=1)
    defect_margin: float = Field(ge=0, le=1)
    keep_endorsed: StrictBool
    keep_style: StrictBool


class DedupSettings(Settings):
    section: ClassVar[str] = "dedup"
    near_duplicate_jaccard: float = Field(gt=0, le=1)
    lsh_threshold: float = Field(gt=0, le=1)
    num_perm: int = Field(ge=1)
    shingle_words: int = Field(ge=1)
    # Checked against the classify output's columns by the dedup stage, which knows them.
    representative_order: list[Any]
    conflict_jaccard_below: float = Field(ge=0, le=1)
    conflict_action: Literal["drop", "keep_latest", "review"]

    @model_validator(mode="after")
    def _candidates_below_the_threshold(self) -> DedupSettings:
        if self.lsh_threshold > self.near_duplicate_jaccard:
            raise ValueError(
                f"lsh_threshold {self.lsh_threshold} must not exceed near_duplicate_jaccard "
                f"{self.near_duplicate_jaccard}: LSH only proposes candidates, below the real threshold"
            )
        return self


class BalanceSettings(Settings):
    section: ClassVar[str] = "balance"
    max_annotator_share: float = Field(gt=0, le=1)
    # Rows kept per domain at most (0 keeps none of it).
    domain_caps: dict[str, NonNegativeInt] = {}
    seed: int


class SplitSettings(Settings):
    section: ClassVar[str] = "split"
    # 0 puts every session in train; 1 would leave nothing to train on.
    validation_fraction: float = Field(ge=0, lt=1)
    seed: int
