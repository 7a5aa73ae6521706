"""Coverage: every domain the model is trained on has enough eval probes to tell whether training
helped or hurt it.

A domain in train with fewer than `min_probes_per_domain` probes fails the gate, unless the team
lists it in `exclude_domains_without_probes`: then the domain leaves this snapshot (all its rows,
train and validation, dropped with reason `domain_without_probes`) instead of being trained blind.
"""

from __future__ import annotations

import polars as pl
from pydantic import Field

from corpus.gates import ROW, GateSettings
from corpus.gates.report import GateResult

REASON = "domain_without_probes"


class Settings(GateSettings):
    min_probes_per_domain: int = Field(ge=1)
    exclude_domains_without_probes: list[str]


def check(examples: pl.DataFrame, probes: pl.DataFrame, settings: Settings) -> tuple[GateResult, pl.DataFrame]:
    """The gate's verdict on `examples` (those still in play) and the rows of excluded domains to drop."""
    minimum = settings.min_probes_per_domain
    probe_counts = probes.group_by("domain").agg(pl.col("probe_id").n_unique().alias("probes"))
    train = (
        examples.filter(pl.col("split") == "train")
        .group_by("domain")
        .len("train_rows")
        .join(probe_counts, on="domain", how="left")
        .with_columns(pl.col("probes").fill_null(0))
        .sort("domain")
    )
    short = train.filter(pl.col("probes") < minimum)
    listed = set(settings.exclude_domains_without_probes)
    excluded = short.filter(pl.col("domain").is_in(listed))
    failing = short.filter(~pl.col("domain").is_in(listed))

    leaving = examples.filter(pl.col("domain").is_in(excluded["domain"].implode()))
    drops = leaving.select(
        ROW, reason=pl.lit(REASON), detail=pl.format("domain {} has fewer than {} eval probes", "domain", pl.lit(minimum))
    )
    findings = [
        f"domain {domain}: {rows} train rows, {probes} probe(s) (needs {minimum})"
        for domain, rows, probes in failing.iter_rows()
    ]
    dropped_by_domain = dict(leaving.group_by("domain").len().iter_rows())
    findings += [
        f"domain {domain}: {probes} probe(s), listed in gates.coverage.exclude_domains_without_probes; "
        f"its {dropped_by_domain[domain]} row(s) are dropped"
        for domain, _, probes in excluded.iter_rows()
    ]
    covered = set(train["domain"]) - set(short["domain"])
    needless = sorted(listed & covered)
    if needless:
        findings.append(f"listed for exclusion but covered, so kept: {', '.join(needless)}; remove them from the list")

    if failing.is_empty():
        summary = f"all {train.height} train domain(s) have at least {minimum} probes" + (
            f" after excluding {', '.join(excluded['domain'])}" if excluded.height else ""
        )
    else:
        summary = f"{failing.height} train domain(s) have fewer than {minimum} eval probes: {', '.join(failing['domain'])}"
    resolution = (
        f"add probes for {', '.join(failing['domain'])} to data/raw/eval/probes.jsonl (then `dvc add` it), "
        "or list the domains in params gates.coverage.exclude_domains_without_probes to leave them out of this "
        "snapshot, or override in params gates.overrides.coverage.justification"
    )
    facts = {
        "probes_by_domain": dict(sorted(probe_counts.iter_rows())),
        "uncovered": failing["domain"].to_list(),
        "excluded": excluded["domain"].to_list(),
    }
    return GateResult("coverage", failing.is_empty(), summary, findings, resolution, facts), drops
