"""Drift: does this snapshot's make-up match the previous one's?

The previous snapshot's statistics (`data/baseline/stats.json`, git-tracked, copied from a signed
snapshot's stats.json — which publish writes with `snapshot_stats` — by `corpusctl baseline`) are compared with the examples this snapshot will publish, on the
distributions of domain, intent, source, annotator share and prompt and target length. A shift
that nobody planned (a vendor batch that doubles one domain, one new annotator writing a third of
the corpus) must be looked at before it trains a model.

Each distribution has a Population Stability Index (sum (p - q) ln(p / q), shares floored at
`_FLOOR` so that a category new on one side has a finite term) and a Jensen-Shannon divergence
(scipy, base 2: 0 identical, 1 disjoint, needs no floor). It fails when either exceeds its
threshold. A baseline with `"snapshot": null` means there is no previous snapshot: the first one
passes with "no baseline".

Annotator share is the distribution of examples over the baseline's largest annotators, the rest
pooled as "(others)": churn in the long tail is no drift, but a newcomer who writes a large share
is, by design (onboarding a vendor team is then a justified override). Lengths are characters in
fixed buckets (`LENGTH_EDGES`), the prompt counted over all its messages.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from pydantic import Field

from corpus.errors import StageInputError
from corpus.gates import GateSettings
from corpus.gates.report import GateResult

STATS_VERSION = 1
OTHERS = "(others)"
# Annotators are many and come and go; the largest ones are named, the rest pooled.
TOP_ANNOTATORS = 25
# Characters; fixed edges so that two snapshots are always bucketed alike.
LENGTH_EDGES = (64, 128, 256, 512, 1024, 2048, 4096)
_FLOOR = 1e-4
DIMENSIONS = ("domain", "intent", "source", "annotator_share", "prompt_length", "target_length")
_SHIFTS_SHOWN = 3


class Settings(GateSettings):
    max_psi: float = Field(gt=0)
    max_js: float = Field(gt=0, le=1)


def _length_buckets() -> list[str]:
    lows = (0, *LENGTH_EDGES)
    return [f"{low}-{high - 1}" for low, high in zip(lows, LENGTH_EDGES)] + [f"{LENGTH_EDGES[-1]}+"]


def _bucket(lengths: pl.Series) -> pl.Series:
    index = np.searchsorted(LENGTH_EDGES, lengths.fill_null(0).to_numpy(), side="right")
    return pl.Series(_length_buckets()).gather(index)


def _columns(df: pl.DataFrame) -> pl.DataFrame:
    """One column per distribution, one value per example."""
    prompt_chars = df.select(
        pl.col("prompt").list.eval(pl.element().struct.field("content").str.len_chars()).list.sum()
    ).to_series()
    return pl.DataFrame(
        {
            "domain": df["domain"],
            "intent": df["intent"],
            "source": df["source"],
            "annotator_share": df["annotator_id"],
            "prompt_length": _bucket(prompt_chars),
            "target_length": _bucket(df["target"].str.len_chars()),
        }
    )


def _counts(values: pl.Series) -> dict[str, int]:
    counts = values.value_counts(name="n").sort(["n", values.name], descending=[True, False])
    return dict(counts.iter_rows())


def snapshot_stats(df: pl.DataFrame, *, snapshot: str | None = None) -> dict[str, Any]:
    """The statistics of a snapshot's examples, in the form the drift gate reads as its baseline.

    `distributions` holds example counts per value; annotators beyond the largest `TOP_ANNOTATORS`
    are pooled as "(others)". The publish stage passes the snapshot's version as `snapshot`.
    """
    columns = _columns(df)
    distributions = {name: _counts(columns[name]) for name in DIMENSIONS}
    annotators = distributions["annotator_share"]
    if len(annotators) > TOP_ANNOTATORS:
        named = dict(list(annotators.items())[:TOP_ANNOTATORS])
        distributions["annotator_share"] = {**named, OTHERS: sum(annotators.values()) - sum(named.values())}
    return {"version": STATS_VERSION, "snapshot": snapshot, "rows": df.height, "distributions": distributions}


def load_baseline(path: Path) -> dict[str, Any] | None:
    """The previous snapshot's statistics, or None when the baseline says there is none yet."""
    if not path.is_file():
        raise StageInputError(f"{path}: missing; the first snapshot's baseline is {{\"snapshot\": null}}")
    try:
        baseline = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise StageInputError(f"{path}: not valid JSON: {exc}") from None
    if not isinstance(baseline, dict) or "snapshot" not in baseline:
        raise StageInputError(f"{path}: expected an object with a `snapshot` key (null before the first snapshot)")
    if baseline["snapshot"] is None:
        return None
    distributions = baseline.get("distributions")
    if baseline.get("version") != STATS_VERSION or not isinstance(distributions, dict) or not all(
        isinstance(counts, dict) and all(isinstance(n, int) for n in counts.values()) for counts in distributions.values()
    ):
        raise StageInputError(
            f"{path}: expected version {STATS_VERSION} statistics with `distributions` of counts, as written by "
            "corpus.gates.drift.snapshot_stats"
        )
    return baseline


def _current_counts(values: pl.Series, baseline: dict[str, int], dimension: str) -> dict[str, int]:
    counts = _counts(values)
    if dimension != "annotator_share" or OTHERS not in baseline:
        return counts
    # Annotators the baseline pooled are pooled here too, so a long tail that changes hands is no drift,
    # while a new annotator with a large share grows "(others)" and shows.
    pooled = {name: n for name, n in counts.items() if name in baseline}
    return {**pooled, OTHERS: sum(counts.values()) - sum(pooled.values())}


def divergence(baseline: dict[str, int], current: dict[str, int]) -> tuple[float, float, list[tuple[str, float, float]]]:
    """(PSI, JS divergence, shifts) between two count tables; shifts are (value, before, after) shares, largest first."""
    values = sorted(set(baseline) | set(current))
    before = np.array([baseline.get(v, 0) for v in values], dtype=float)
    after = np.array([current.get(v, 0) for v in values], dtype=float)
    p, q = before / max(before.sum(), 1), after / max(after.sum(), 1)
    p_floor, q_floor = np.maximum(p, _FLOOR), np.maximum(q, _FLOOR)
    psi = float(np.sum((q_floor - p_floor) * np.log(q_floor / p_floor)))
    # Imported here: publish imports this module for `snapshot_stats` only, and scipy.spatial
    # costs ~0.15 s of a process's start-up.
    from scipy.spatial.distance import jensenshannon

    js = float(jensenshannon(p, q, base=2) ** 2) if p.sum() and q.sum() else 0.0
    order = np.argsort(-np.abs(q - p), kind="stable")
    return psi, js, [(values[i], float(p[i]), float(q[i])) for i in order]


def check(df: pl.DataFrame, baseline: dict[str, Any] | None, settings: Settings) -> GateResult:
    if baseline is None:
        return GateResult("drift", True, "no baseline (first snapshot): nothing to compare with", facts={"baseline": None})
    columns = _columns(df)
    findings, measured, drifted = [], {}, []
    for dimension in DIMENSIONS:
        before = baseline["distributions"].get(dimension)
        if before is None:
            findings.append(f"{dimension}: not in the baseline, not compared")
            continue
        psi, js, shifts = divergence(before, _current_counts(columns[dimension], before, dimension))
        measured[dimension] = {"psi": round(psi, 6), "js": round(js, 6)}
        if psi > settings.max_psi or js > settings.max_js:
            drifted.append(dimension)
            moves = ", ".join(f"{value} {p:.1%} -> {q:.1%}" for value, p, q in shifts[:_SHIFTS_SHOWN])
            findings.append(
                f"{dimension}: PSI {psi:.3f} (max {settings.max_psi}), JS {js:.3f} (max {settings.max_js}); largest shifts: {moves}"
            )
    summary = (
        f"against snapshot {baseline['snapshot']} ({baseline.get('rows', '?')} examples -> {df.height}): "
        + (f"drift in {', '.join(drifted)}" if drifted else "no distribution drifted beyond its threshold")
    )
    resolution = (
        "if the shift is intended (a launch, a new vendor), override in params gates.overrides.drift.justification "
        "saying so; otherwise find the batches behind it (data/interim/<stage>/*.metrics.json distributions), "
        "then revoke them in data/governance/revocations.yaml or cap them (params balance.domain_caps, "
        "balance.max_annotator_share)"
    )
    facts = {"baseline": baseline["snapshot"], "measured": measured}
    return GateResult("drift", not drifted, summary, findings, resolution, facts)
