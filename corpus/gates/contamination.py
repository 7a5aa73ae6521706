"""Eval contamination: examples that contain an eval probe are dropped, not merely reported.

Training on a probe makes its eval score meaningless, and dropping the example is a complete fix,
so contamination on its own never needs a person. Two kinds of evidence, on lowercased words
(`corpus.gates.text`), prompts without their system message:

- verbatim: an example holds at least `min_ngram_overlap` of the distinct word `ngram`-grams of a
  probe's prompt or of its reference (each part on its own, so a copied question with a new answer
  counts as much as a leaked answer). A shared stock phrase ("let me know if you have any other
  questions") is a few grams out of a probe's dozens and does not count. A probe part shorter than
  `ngram` words has no grams; the near-copy check covers it.
- near copy: the Jaccard similarity of the word `shingle_words`-gram sets of the whole example
  (prompt + target) and the whole probe (prompt + reference) is at least `near_copy_jaccard`.
  Edits every few words break every 8-gram but leave most 3-grams.

The gate fails only when the contaminated share of examples exceeds `max_contaminated_share`
(template default 1%): then something systematic is going on (eval traffic logged as production
feedback, probes published where annotators copy from) and a person should look at the batches
named, even though the rows are dropped either way. 1.0 means "only drop, never fail".

Cost: one pass over the corpus hashes the word k-grams (k = `shingle_words`) made only of probe
words and keeps those that are probe k-grams. Everything else starts from those few: near-copy
candidates through a prefix filter (if J(A, B) >= t then A holds at least ceil(t|B|) of B's
k-grams, so one of the |B| - ceil(t|B|) + 1 that the fewest examples hold), verbatim candidates
through anchors (an example holding a probe n-gram holds the rarest k-gram inside it); n-grams and
exact Jaccard similarities are then computed for the candidates only. No MinHash is needed: with
few probes the candidate pairs are few, and the exact similarity is cheaper than signatures.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
from pydantic import Field, model_validator

from corpus.errors import StageInputError
from corpus.gates import ROW, GateSettings
from corpus.gates.report import GateResult
from corpus.gates.text import ExampleText, Tokens, member, ngrams
from corpus.stage import polars_schema, validate
from schemas.gated import EvalProbe

REASON = "eval_contamination"
_EXAMPLES_SHOWN = 5


class Settings(GateSettings):
    ngram: int = Field(ge=1, le=15)
    min_ngram_overlap: float = Field(gt=0, le=1)
    shingle_words: int = Field(ge=1)
    near_copy_jaccard: float = Field(gt=0, le=1)
    max_contaminated_share: float = Field(ge=0, le=1)

    @model_validator(mode="after")
    def _shingles_inside_ngrams(self) -> Settings:
        # The verbatim check finds its candidates through the shingles inside each n-gram.
        if self.shingle_words > self.ngram:
            raise ValueError("shingle_words must not exceed ngram")
        return self


def _probe_grams(tokens: Tokens, n: int) -> pl.DataFrame:
    return ngrams(tokens, n).frame().rename({"doc": "probe"}).unique()


def _held_shingles(text: ExampleText, k: int, vocabulary: pl.Series, wanted: pl.Series) -> pl.DataFrame:
    """(ROW, hash) of every example k-gram that is also a probe k-gram (repeats kept).

    Only runs made entirely of probe words are hashed at all: the one pass over the whole corpus.
    """
    parts = []
    for tokens in (text.prompt, text.target):
        in_vocabulary = member(tokens.hash, vocabulary.to_numpy())
        grams = ngrams(tokens, k, within=in_vocabulary).frame()
        parts.append(grams.filter(pl.col("hash").is_in(wanted.implode())))
    return pl.concat(parts).rename({"doc": ROW})


def _verbatim(text: ExampleText, probes: ExampleText, held: pl.DataFrame, frequency: pl.DataFrame, settings: Settings) -> pl.DataFrame:
    """Examples holding at least min_ngram_overlap of a probe part's n-grams.

    An example holding a probe n-gram holds each of the k-grams inside it, in particular the one
    fewest examples hold (its anchor). So n-grams are computed only for examples that hold an
    anchor, not for the whole corpus.
    """
    n, k = settings.ngram, settings.shingle_words
    probe_grams, inside = [], []
    for part, tokens in (("prompt", probes.prompt), ("reference", probes.target)):
        long, short = ngrams(tokens, n), ngrams(tokens, k)
        short_at = np.zeros(len(tokens), dtype=np.uint64)
        short_at[short.start] = short.hash
        probe_grams.append(pl.DataFrame({"probe": long.doc, "hash": long.hash}).with_columns(part=pl.lit(part)))
        inside += [pl.DataFrame({"hash": long.hash, "shingle": short_at[long.start + j]}) for j in range(n - k + 1)]
    grams = pl.concat(probe_grams).unique()
    anchors = (
        pl.concat(inside)
        .join(frequency, left_on="shingle", right_on="hash", how="left")
        .with_columns(pl.col("frequency").fill_null(0))
        .sort("hash", "frequency", "shingle")
        .group_by("hash", maintain_order=True)
        .first()
        .filter(pl.col("frequency") > 0)
    )
    rows = held.join(anchors.select(hash="shingle"), on="hash", how="semi")[ROW].unique().to_numpy()
    found = pl.concat(
        [ngrams(text.prompt.of_docs(rows), n).frame(), ngrams(text.target.of_docs(rows), n).frame()]
    ).rename({"doc": ROW})
    return (
        found.join(grams, on="hash")
        .unique([ROW, "probe", "part", "hash"])
        .group_by(ROW, "probe", "part")
        .len("shared")
        .join(grams.group_by("probe", "part").len("part_grams"), on=["probe", "part"])
        .with_columns(score=pl.col("shared") / pl.col("part_grams"))
        .filter(pl.col("score") >= settings.min_ngram_overlap)
        .select(
            ROW,
            "probe",
            "score",
            evidence=pl.format("{}% of the {}'s {}-grams", (pl.col("score") * 100).round(0).cast(pl.Int64), "part", pl.lit(n)),
        )
    )


def _near_copies(
    text: ExampleText, probe_shingles: pl.DataFrame, held: pl.DataFrame, frequency: pl.DataFrame, settings: Settings
) -> pl.DataFrame:
    """Examples whose k-gram set has Jaccard >= near_copy_jaccard with a probe's."""
    k, threshold = settings.shingle_words, settings.near_copy_jaccard
    probe_sizes = probe_shingles.group_by("probe").len("b")
    # Prefix filter: each probe's rarest shingles, of which any example at Jaccard >= threshold
    # must hold at least one.
    prefix = (
        probe_shingles.join(frequency, on="hash", how="left")
        .join(probe_sizes, on="probe")
        .with_columns(pl.col("frequency").fill_null(0))
        .sort("probe", "frequency", "hash")
        .filter(pl.int_range(pl.len()).over("probe") < pl.col("b") - (pl.col("b") * threshold).ceil() + 1)
    )
    candidates = held.join(prefix.select("probe", "hash"), on="hash").select(ROW, "probe").unique()
    shared = (
        candidates.join(probe_shingles, on="probe")
        .join(held, on=[ROW, "hash"], how="semi")
        .group_by(ROW, "probe")
        .len("shared")
    )
    rows = candidates[ROW].unique().to_numpy()
    example_sizes = (
        pl.concat([ngrams(text.prompt.of_docs(rows), k).frame(), ngrams(text.target.of_docs(rows), k).frame()])
        .unique()
        .group_by("doc")
        .len("a")
        .rename({"doc": ROW})
    )
    return (
        shared.join(example_sizes, on=ROW)
        .join(probe_sizes, on="probe")
        .with_columns(score=pl.col("shared") / (pl.col("a") + pl.col("b") - pl.col("shared")))
        .filter(pl.col("score") >= threshold)
        .select(ROW, "probe", "score", evidence=pl.format("near copy, Jaccard {}", pl.col("score").round(2)))
    )


def find(text: ExampleText, probes: pl.DataFrame, settings: Settings) -> pl.DataFrame:
    """One row per contaminated example: ROW, probe_id, detail (the strongest evidence, then how many other probes)."""
    probe_text = ExampleText.of(probes["prompt"], probes["reference"])
    vocabulary = pl.Series(np.concatenate([probe_text.prompt.hash, probe_text.target.hash])).unique()
    k = settings.shingle_words
    probe_shingles = pl.concat([_probe_grams(probe_text.prompt, k), _probe_grams(probe_text.target, k)]).unique()
    held = _held_shingles(text, k, vocabulary, probe_shingles["hash"].unique())
    frequency = held.group_by("hash").len("frequency")
    columns = {ROW: pl.UInt32, "probe": pl.UInt32, "score": pl.Float64, "evidence": pl.String}
    hits = pl.concat(
        [
            _verbatim(text, probe_text, held, frequency, settings).cast(columns),
            _near_copies(text, probe_shingles, held, frequency, settings).cast(columns),
        ]
    ).join(probes.select(pl.col("probe_id"), pl.int_range(pl.len(), dtype=pl.UInt32).alias("probe")), on="probe")
    return (
        # Evidence breaks ties (a row may copy a probe's prompt and its reference equally well):
        # the report must name the same evidence on every run.
        hits.sort([ROW, "score", "probe_id", "evidence"], descending=[False, True, False, False])
        .group_by(ROW, maintain_order=True)
        .agg(
            pl.col("probe_id").first(),
            pl.col("evidence").first(),
            pl.col("probe_id").n_unique().alias("probes"),
        )
        .select(
            ROW,
            "probe_id",
            detail=pl.format("probe {}: {}", "probe_id", "evidence")
            + pl.when(pl.col("probes") > 1).then(pl.format(" (and {} other probes)", pl.col("probes") - 1)).otherwise(pl.lit("")),
        )
        .sort(ROW)
    )


def check(examples: pl.DataFrame, text: ExampleText, probes: pl.DataFrame, settings: Settings) -> tuple[GateResult, pl.DataFrame]:
    """The gate's verdict and the rows to drop (ROW, reason, detail)."""
    found = find(text, probes, settings)
    drops = found.select(ROW, reason=pl.lit(REASON), detail="detail")
    share = found.height / examples.height if examples.height else 0.0
    passed = share <= settings.max_contaminated_share
    if found.is_empty():
        return GateResult("contamination", True, f"no example overlaps any of the {probes.height} probes"), drops

    hit = examples.join(found, on=ROW)
    by_probe = (
        hit.group_by("probe_id")
        .agg(
            pl.len().alias("n"),
            (pl.col("split") == "train").sum().alias("train"),
            (pl.col("split") == "validation").sum().alias("validation"),
            pl.col("feedback_id").sort().head(_EXAMPLES_SHOWN).str.join(", ").alias("examples"),
        )
        .sort(["n", "probe_id"], descending=[True, False])
    )
    findings = [
        f"probe {probe_id}: {n} example(s) (train {train}, validation {validation}), e.g. {shown}"
        for probe_id, n, train, validation, shown in by_probe.head(10).iter_rows()
    ]
    if by_probe.height > 10:
        findings.append(f"... and {by_probe.height - 10} more probes")
    by_batch = hit.group_by("batch_id").len().sort(["len", "batch_id"], descending=[True, False])
    findings.append("by batch: " + ", ".join(f"{b} {n}" for b, n in by_batch.iter_rows()))
    summary = (
        f"{found.height} example(s) ({share:.2%}) overlap eval probes and are dropped (reason {REASON}); "
        f"limit gates.contamination.max_contaminated_share {settings.max_contaminated_share:.2%}"
    )
    resolution = (
        "the contaminated rows are already dropped; a share this high means probes reach the feedback stream "
        "systematically: check the batches above for eval traffic logged as production feedback and revoke them "
        "in data/governance/revocations.yaml (batch_id, reason), or override in params "
        "gates.overrides.contamination.justification"
    )
    facts = {"contaminated": found.height, "share": round(share, 6), "by_batch": dict(by_batch.iter_rows())}
    return GateResult("contamination", passed, summary, findings, resolution, facts), drops


def read_probes(path: Path) -> pl.DataFrame:
    """data/raw/eval/probes.jsonl (DESIGN.md 3.4), validated against the EvalProbe contract."""
    if not path.is_file():
        raise StageInputError(f"{path}: missing; add the eval probes and `dvc add` them (or `dvc pull`)")
    try:
        probes = pl.read_ndjson(path, schema=polars_schema(EvalProbe))
    except pl.exceptions.PolarsError as exc:
        raise StageInputError(f"{path}: not JSON lines of {{probe_id, domain, prompt, reference}}: {exc}") from None
    return validate(probes, EvalProbe, where=str(path), error=StageInputError)
