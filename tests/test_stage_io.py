"""check_derived_output: an output made of validated input rows plus new columns is checked for what
is new (new columns, frame-level rules, column set, types, nulls), the same whichever models pandera
has already used in the process."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import polars as pl
import pandera.polars as pa
import pytest

from corpus.errors import StageOutputError
from corpus.stage import _rules, check_derived_output, check_output
from schemas.balanced import BalancedFeedback
from schemas.deduped import DedupedFeedback
from tests.frames import curated_rows

N = 30


class _StricterBalanced(BalancedFeedback):
    """A model that adds a rule to an inherited column: that rule must still run."""

    @pa.check("domain")
    def not_travel(cls, data: pa.PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(pl.col(data.key) != "travel")

    class Config:
        strict = True


def _balanced(rows: pl.DataFrame) -> pl.DataFrame:
    return rows.with_columns(pl.lit("under_annotator_cap").alias("balance_decision"))


@pytest.fixture(params=["fresh", "after_use"])
def rows(request: pytest.FixtureRequest) -> pl.DataFrame:
    frame = curated_rows(DedupedFeedback, N)
    if request.param == "after_use":
        # pandera re-resolves a model's check functions when it first validates with it.
        check_output(frame, DedupedFeedback, where="input")
        check_output(_balanced(frame), BalancedFeedback, where="output")
    return frame


def test_a_valid_derived_output_passes_unchanged(rows: pl.DataFrame) -> None:
    out = _balanced(rows).filter(pl.col("line_no") % 3 != 0)
    assert check_derived_output(out, BalancedFeedback, base=DedupedFeedback, where="t").equals(out)


@pytest.mark.parametrize(
    "breaking",
    [
        pytest.param(lambda df: df.with_columns(pl.lit(None, pl.String).alias("balance_decision")), id="new column null"),
        pytest.param(lambda df: pl.concat([df, df.head(1)]), id="frame rule: duplicate feedback_id"),
        pytest.param(lambda df: df.with_columns(pl.col("line_no").cast(pl.Int32)), id="inherited column type"),
        pytest.param(lambda df: df.with_columns(pl.lit(None, pl.String).alias("domain")), id="inherited column null"),
        pytest.param(lambda df: df.drop("comment"), id="missing column"),
        pytest.param(lambda df: df.with_columns(pl.lit(1).alias("extra")), id="extra column"),
    ],
)
def test_what_is_new_is_still_checked(rows: pl.DataFrame, breaking) -> None:
    with pytest.raises(StageOutputError, match="balance output breaks the BalancedFeedback contract"):
        check_derived_output(breaking(_balanced(rows)), BalancedFeedback, base=DedupedFeedback, where="balance output")


def test_a_rule_the_model_adds_to_an_inherited_column_still_runs(rows: pl.DataFrame) -> None:
    out = _balanced(rows).with_columns(pl.lit("travel").alias("domain"))
    with pytest.raises(StageOutputError, match="not_travel"):
        check_derived_output(out, _StricterBalanced, base=DedupedFeedback, where="t")


def test_the_inherited_column_rules_are_not_run_again(rows: pl.DataFrame) -> None:
    # They passed on the input rows; the next stage's read_input runs the whole contract again.
    out = _balanced(rows).with_columns(pl.lit("feature").alias("intent"))
    assert check_derived_output(out, BalancedFeedback, base=DedupedFeedback, where="t").equals(out)
    with pytest.raises(StageOutputError, match="intent"):
        check_output(out, BalancedFeedback, where="t")



class _HidesCheckFn:
    """A pandera Check as a release without the private `_check_fn` would show it."""

    def __init__(self, check: Any) -> None:
        self._check = check

    def __getattr__(self, name: str) -> Any:
        if name == "_check_fn":
            raise AttributeError(name)
        return getattr(self._check, name)


def test_without_pandera_s_private_check_function_no_rule_counts_as_shared() -> None:
    """`_check_fn` is private: a pandera release without it must make every rule run again, not
    make every rule look shared (and skipped)."""
    column = BalancedFeedback.to_schema().columns["intent"]
    assert column.checks and _rules(column) == _rules(column)
    hidden = SimpleNamespace(checks=[_HidesCheckFn(check) for check in column.checks])
    assert _rules(hidden) != _rules(hidden)
