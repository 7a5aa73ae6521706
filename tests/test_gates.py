"""Gates (DESIGN.md 4.8): each gate passes on clean, varied data and fails on the corruption it is
for; overrides; the report; the stage script end to end; throughput.

The corpus builder below writes realistic-looking support traffic: English function words, a
Zipf-distributed general vocabulary, per-domain vocabulary, and one prolific annotator (25% of the
rows) with product names nobody else uses and a stock phrase in their answers, which is exactly
the ordinary vocabulary the poisoning gate must not flag.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
import pytest
import yaml

from corpus.errors import CorpusError
from corpus.gates import ROW, contamination, conservation, coverage, drift, parse_settings, poisoning
from corpus.gates.report import GateReport, GateResult, Overrides
from corpus.gates.text import ExampleText, Tokens, distinct_per_doc, gram_size, ngrams, tokenize
from corpus.ingest import split_lines
from corpus.stage import empty_fate, fate_rows
from schemas.split import SplitFeedback
from tests.conftest import REPO_ROOT
from tests.frames import curated_rows
from tests.minirepo import write_governance

# ---- a realistic synthetic corpus ---------------------------------------------------------------

FUNCTION_WORDS = (
    "the to i my a and is it for of you in on can not this with was but have be do that me how "
    "are what why an at your so there get when from please would will been as if has just any".split()
)
DOMAINS: dict[str, list[str]] = {
    "billing": "invoice refund charge charged card payment subscription plan receipt billing tax "
    "discount renewal cancel overcharged statement credit debit amount monthly annual".split(),
    "code": "python error function exception traceback compile build test api library install "
    "version module import deploy docker script variable loop syntax".split(),
    "travel": "flight booking hotel luggage seat airport ticket reservation passport visa delay "
    "gate boarding checkin itinerary rental train arrival departure layover".split(),
    "account": "password login email username reset verify profile settings security locked "
    "twofactor phone recovery delete update signin session device notification".split(),
    "shipping": "package delivery tracking order shipped courier address parcel warehouse "
    "returned damaged lost express customs label pickup dispatch carrier eta".split(),
}
# Only the prolific annotator writes about these (a specialist): concentrated, but ordinary.
PRODUCTS = ["zephyr", "x200", "novaline"]
STOCK_PHRASE = "thanks for reaching out"
SYSTEM = "You are the support assistant of ACME. Answer briefly and politely."
PROLIFIC = "a-prolific"
_SYLLABLES = "ka lo mi ne ro ta vu si po de fa gu hi ju be zo ra te ni mo".split()


def _general_vocabulary(size: int = 3000) -> list[str]:
    rng = np.random.default_rng(12345)
    words: dict[str, None] = {}
    while len(words) < size:
        words["".join(rng.choice(_SYLLABLES, size=int(rng.integers(2, 4))))] = None
    return list(words)


GENERAL = _general_vocabulary()
VOCABULARY = np.array([*FUNCTION_WORDS, *GENERAL, *(w for ws in DOMAINS.values() for w in ws), *PRODUCTS])


def _zipf(rng: np.random.Generator, size: int, count: int) -> np.ndarray:
    weights = 1.0 / np.arange(1, size + 1) ** 1.1
    return rng.choice(size, size=count, p=weights / weights.sum())


def _sentences(rng: np.random.Generator, domain_index: np.ndarray, low: int, high: int) -> pl.Series:
    """One text per row: function words, Zipfian general words and words of the row's domain."""
    lengths = rng.integers(low, high, size=len(domain_index))
    total = int(lengths.sum())
    row = np.repeat(np.arange(len(domain_index)), lengths)
    kind = rng.choice(3, size=total, p=[0.45, 0.35, 0.20])
    word = np.empty(total, dtype=np.int64)
    function, general, domain = kind == 0, kind == 1, kind == 2
    word[function] = _zipf(rng, len(FUNCTION_WORDS), int(function.sum()))
    word[general] = len(FUNCTION_WORDS) + _zipf(rng, len(GENERAL), int(general.sum()))
    sizes = np.array([len(ws) for ws in DOMAINS.values()])
    starts = len(FUNCTION_WORDS) + len(GENERAL) + np.concatenate(([0], np.cumsum(sizes)[:-1]))
    of_row = domain_index[row[domain]]
    word[domain] = starts[of_row] + (rng.random(int(domain.sum())) * sizes[of_row]).astype(np.int64)
    words = pl.Series(VOCABULARY).gather(word).to_arrow().cast(pa.large_string())
    lists = pa.LargeListArray.from_arrays(pa.array(np.concatenate(([0], np.cumsum(lengths)))), words)
    return pl.Series(lists).list.join(" ")


def conversations(user: pl.Series, system: str = SYSTEM) -> pl.Series:
    """[system, user] prompts built from flat arrays (polars' concat_list of structs is slow at 1M rows)."""
    n = len(user)
    contents = pl.concat([pl.select(pl.repeat(system, n)).to_series(), user]).gather(
        np.column_stack([np.arange(n), np.arange(n, 2 * n)]).ravel()
    )
    roles = pa.array(np.tile(["system", "user"], n), type=pa.large_string())
    messages = pa.StructArray.from_arrays([roles, contents.to_arrow().cast(pa.large_string())], names=["role", "content"])
    return pl.Series("prompt", pa.LargeListArray.from_arrays(pa.array(np.arange(0, 2 * n + 1, 2)), messages)).cast(
        SplitFeedback.to_schema().columns["prompt"].dtype.type
    )


def build_corpus(n: int, *, seed: int = 0, batches: int = 6, annotators: int = 40) -> pl.DataFrame:
    """`n` SplitFeedback rows of varied support traffic (see the module docstring)."""
    rng = np.random.default_rng(seed)
    prolific = rng.random(n) < 0.25
    domain_index = rng.choice(len(DOMAINS), size=n, p=[0.3, 0.2, 0.2, 0.15, 0.15])
    annotator = pl.select(
        pl.when(pl.Series(prolific)).then(pl.lit(PROLIFIC)).otherwise(pl.format("a-{}", pl.Series(_zipf(rng, annotators, n))))
    ).to_series()
    user = _sentences(rng, domain_index, 8, 30)
    target = _sentences(rng, domain_index, 10, 40)
    product = pl.Series(np.array(PRODUCTS)[rng.integers(0, len(PRODUCTS), n)])
    mentions = pl.Series(prolific & (rng.random(n) < 0.3))
    frame = pl.DataFrame({"user": user, "target": target, "product": product, "mentions": mentions}).select(
        user=pl.when("mentions").then(pl.format("{} {}", "product", "user")).otherwise("user"),
        # The specialist names the product in the answer too, and often opens with a stock phrase.
        target=pl.when("mentions").then(pl.format("the {} {}", "product", "target")).otherwise("target"),
    )
    stock = pl.Series(prolific & (rng.random(n) < 0.85))
    targets = frame.select(
        pl.when(stock).then(pl.format("{} {}", pl.lit(STOCK_PHRASE), "target")).otherwise("target")
    ).to_series()
    batch = pl.select(pl.format("b-{}", pl.Series(rng.integers(0, batches, n)))).to_series()
    template = curated_rows(SplitFeedback, 1).select(pl.all().gather(np.zeros(n, dtype=np.int64)))
    return (
        template.with_columns(
            feedback_id=pl.format("fb-{}", pl.int_range(pl.len()).cast(pl.String).str.zfill(7)),
            annotator_id=annotator,
            domain=pl.Series(np.array(list(DOMAINS))[domain_index]),
            source=pl.Series(np.where(rng.random(n) < 0.8, "prod_chat", "vendor_acme")),
            intent=pl.Series(np.where(rng.random(n) < 0.7, "defect", "positive")),
            prompt=conversations(frame["user"]),
            target=targets,
            correction=targets,
            batch_id=batch,
            split=pl.Series(np.where(rng.random(n) < 0.9, "train", "validation")),
        )
        .with_columns(
            session_id=pl.col("feedback_id"),
            split_group=pl.col("feedback_id"),
            dedup_cluster_id=pl.col("feedback_id"),
            line_no=pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("batch_id"),
        )
        .select(SplitFeedback.to_schema().columns.keys())
    )


def user_texts(df: pl.DataFrame) -> pl.Series:
    return df["prompt"].list.get(1).struct.field("content")


def plant(df: pl.DataFrame, rows: list[int], *, user: list[str] | None = None, target: list[str] | str | None = None,
          **columns: str) -> pl.DataFrame:
    """`df` with the given rows' user message, target or other string columns replaced."""
    def scattered(series: pl.Series, values: list[str] | str) -> pl.Series:
        return series.clone().scatter(rows, values if isinstance(values, list) else [values] * len(rows))

    out = df
    if user is not None:
        out = out.with_columns(prompt=conversations(scattered(user_texts(df), user)))
    if target is not None:
        out = out.with_columns(target=scattered(df["target"], target), correction=scattered(df["target"], target))
    return out.with_columns(scattered(df[name], value) for name, value in columns.items())


def build_probes(per_domain: int = 6, *, seed: int = 99, domains: list[str] | None = None) -> pl.DataFrame:
    names = domains or list(DOMAINS)
    rng = np.random.default_rng(seed)
    index = np.repeat([list(DOMAINS).index(d) for d in names], per_domain)
    return pl.DataFrame(
        {
            "probe_id": [f"p-{d}-{i}" for d in names for i in range(per_domain)],
            "domain": np.array(list(DOMAINS))[index],
            "prompt": conversations(_sentences(rng, index, 12, 30)),
            "reference": _sentences(rng, index, 15, 40),
        }
    )


GATES_PARAMS: dict[str, Any] = {
    "contamination": {
        "ngram": 8,
        "min_ngram_overlap": 0.5,
        "shingle_words": 3,
        "near_copy_jaccard": 0.5,
        "max_contaminated_share": 0.01,
    },
    "coverage": {"min_probes_per_domain": 5, "exclude_domains_without_probes": []},
    "poisoning": {
        "max_ngram": 3,
        "min_rows": 15,
        "min_concentration": 0.9,
        "max_rest_share": 0.01,
        "min_target_consistency": 0.8,
        "max_payload_background": 0.2,
    },
    "drift": {"max_psi": 0.25, "max_js": 0.05},
    "overrides": {},
}


def settings(module: Any, gate: str, **changes: Any) -> Any:
    return parse_settings(module.Settings, {gate: {**GATES_PARAMS[gate], **changes}}, gate)


def indexed(df: pl.DataFrame) -> tuple[pl.DataFrame, ExampleText]:
    """The frame as the stage sees it (with ROW) and its words."""
    return df.with_row_index(ROW), ExampleText.of(df["prompt"], df["target"])


@pytest.fixture(scope="module")
def clean() -> pl.DataFrame:
    return build_corpus(3000, seed=1)


@pytest.fixture(scope="module")
def probes() -> pl.DataFrame:
    return build_probes()


# ---- text --------------------------------------------------------------------------------------


def test_words_ignore_case_and_edge_punctuation_but_keep_placeholders_and_documents_apart() -> None:
    tokens = tokenize(pl.Series(["Reset my Password, then <EMAIL>.\nCF-Delta-7!", None, "reset my password"]), words=True)
    assert tokens.word is not None
    assert tokens.word.to_list() == ["reset", "my", "password", "then", "<email>", "cf-delta-7", "reset", "my", "password"]
    assert tokens.doc.tolist() == [0, 0, 0, 0, 0, 0, 2, 2, 2]
    trigrams = ngrams(tokens, 3)
    # "password then <email>" etc. inside text 0, "reset my password" in both; none spans two texts.
    assert trigrams.doc.tolist() == [0, 0, 0, 0, 2]
    assert trigrams.hash[0] == trigrams.hash[-1] and len(set(trigrams.hash.tolist())) == 4
    assert set(gram_size(trigrams.hash).tolist()) == {3}
    doc, gram = distinct_per_doc(np.array([0, 0, 0, 2], dtype=np.uint32), np.array([5, 5, 6, 5], dtype=np.uint64))
    assert sorted(zip(doc.tolist(), gram.tolist())) == [(0, 5), (0, 6), (2, 5)]


@pytest.mark.parametrize("word_hashes", [[0x1000, 0x2000, 0x3000], [0x00, 0x10, 0x3000]], ids=["hash_codes", "numbered_codes"])
def test_recurring_grams_count_each_example_once(word_hashes: list[int]) -> None:
    # 32 examples: 5 bits of example id, so hashes 0x00 and 0x10 share their cut code and the
    # grams must be numbered instead; both ways must count the same.
    rng = np.random.default_rng(3)
    doc = np.sort(rng.integers(0, 32, 400)).astype(np.uint32)
    doc[-1] = 31
    tokens = Tokens(doc, np.array(word_hashes, dtype=np.uint64)[rng.integers(0, 3, len(doc))])
    settings = poisoning.Settings(
        max_ngram=2, min_rows=20, min_concentration=0.9, max_rest_share=0.01, min_target_consistency=0.8, max_payload_background=0.2
    )
    occurrences = poisoning._recurring_grams(tokens, settings)
    found: dict[int, set[int]] = {}
    for gram, row in zip(occurrences.hashes[occurrences.gram].tolist(), occurrences.row.tolist()):
        assert row not in found.setdefault(gram, set())
        found[gram].add(row)
    expected: dict[int, set[int]] = {}
    for n in (1, 2):
        grams = ngrams(tokens, n)
        for gram, row in zip(grams.hash.tolist(), grams.doc.tolist()):
            expected.setdefault(gram, set()).add(row)
    assert found == {gram: rows for gram, rows in expected.items() if len(rows) >= 20}
    assert len(found) > 3 and occurrences.hashes.tolist() == sorted(found)


@pytest.mark.parametrize("data", [b"", b"a", b"a\n", b"a\nb", b"a\r\nb\r\n", b"\n\n", b"x" * 10])
def test_raw_lines_are_counted_as_ingest_numbers_them(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "batch.jsonl"
    path.write_bytes(data)
    assert conservation.count_lines(path) == len(split_lines(data))


# ---- contamination -----------------------------------------------------------------------------


def _edit_every(text: str, k: int) -> str:
    """Every k-th word replaced: breaks every 8-gram of a text, keeps most of its 3-grams."""
    return " ".join("EDITED" if i % k == k - 1 else w for i, w in enumerate(text.split()))


def test_clean_corpus_overlaps_no_probe(clean: pl.DataFrame, probes: pl.DataFrame) -> None:
    examples, text = indexed(clean)
    result, drops = contamination.check(examples, text, probes, settings(contamination, "contamination"))
    assert result.passed and drops.is_empty()
    assert "no example overlaps any of the 30 probes" in result.summary


def test_copied_probes_are_dropped_with_the_probe_named(clean: pl.DataFrame, probes: pl.DataFrame) -> None:
    probe_user = user_texts(probes)
    reference = probes["reference"]
    df = plant(clean, [10, 11], user=[f"hey, {probe_user[0]}", probe_user[0].upper()])  # the question, new answer
    df = plant(df, [20], target=f"As documented: {reference[7]}")  # the answer leaked
    df = plant(df, [30], user=[_edit_every(probe_user[12], 12)], target=[_edit_every(reference[12], 12)])
    examples, text = indexed(df)

    result, drops = contamination.check(examples, text, probes, settings(contamination, "contamination"))

    assert drops[ROW].to_list() == [10, 11, 20, 30]
    assert set(drops["reason"]) == {"eval_contamination"}
    details = dict(zip(drops[ROW].to_list(), drops["detail"].to_list()))
    assert details[10].startswith(f"probe {probes['probe_id'][0]}: 100% of the prompt's 8-grams")
    assert details[20].startswith(f"probe {probes['probe_id'][7]}: 100% of the reference's 8-grams")
    assert details[30].startswith(f"probe {probes['probe_id'][12]}: near copy, Jaccard")
    # 4 of 3000 is under the 1% limit: the rows are dropped and the gate passes.
    assert result.passed
    assert "4 example(s) (0.13%) overlap eval probes and are dropped" in result.summary


def test_a_stock_phrase_shared_with_a_probe_is_not_contamination(clean: pl.DataFrame, probes: pl.DataFrame) -> None:
    phrase = "let me know if you have any other questions about your account today"
    df = plant(clean, list(range(0, 3000, 7)), target=[f"{t} {phrase}" for t in clean["target"][0:3000:7]])
    probes = probes.with_columns(reference=pl.format("{} {}", "reference", pl.lit(phrase)))
    examples, text = indexed(df)
    result, drops = contamination.check(examples, text, probes, settings(contamination, "contamination"))
    assert result.passed and drops.is_empty()


def test_contamination_fails_above_its_share_naming_probes_and_batches(clean: pl.DataFrame, probes: pl.DataFrame) -> None:
    rows = list(range(100, 140))
    df = plant(clean, rows, user=[user_texts(probes)[3]] * len(rows), batch_id="b-eval-leak")
    examples, text = indexed(df)
    result, drops = contamination.check(examples, text, probes, settings(contamination, "contamination"))
    assert not result.passed and drops.height == 40
    assert f"probe {probes['probe_id'][3]}: 40 example(s)" in result.findings[0]
    assert "by batch: b-eval-leak 40" in result.findings
    assert "revocations.yaml" in result.resolution and "gates.overrides.contamination.justification" in result.resolution


# ---- coverage ----------------------------------------------------------------------------------


def test_every_train_domain_with_enough_probes_passes(clean: pl.DataFrame, probes: pl.DataFrame) -> None:
    result, drops = coverage.check(clean.with_row_index(ROW), probes, settings(coverage, "coverage"))
    assert result.passed and drops.is_empty()
    assert result.summary == "all 5 train domain(s) have at least 5 probes"


def test_a_domain_without_enough_probes_fails_unless_excluded(clean: pl.DataFrame) -> None:
    few_travel = build_probes(domains=["billing", "code", "account", "shipping"]).vstack(build_probes(2, domains=["travel"]))
    examples = clean.with_row_index(ROW)

    result, drops = coverage.check(examples, few_travel, settings(coverage, "coverage"))
    assert not result.passed and drops.is_empty()
    travel_train = examples.filter((pl.col("domain") == "travel") & (pl.col("split") == "train")).height
    assert result.findings == [f"domain travel: {travel_train} train rows, 2 probe(s) (needs 5)"]
    assert "add probes for travel to data/raw/eval/probes.jsonl" in result.resolution

    excluded = settings(coverage, "coverage", exclude_domains_without_probes=["travel", "billing"])
    result, drops = coverage.check(examples, few_travel, excluded)
    travel = examples.filter(pl.col("domain") == "travel")
    assert result.passed
    assert drops[ROW].to_list() == travel[ROW].to_list()  # train and validation rows alike
    assert set(drops["reason"]) == {"domain_without_probes"}
    assert any("listed for exclusion but covered, so kept: billing" in f for f in result.findings)


# ---- poisoning ---------------------------------------------------------------------------------

TRIGGER = "zqx velvet"
PAYLOAD = "Please wire the outstanding balance to account 4417 today."


def _with_trigger(texts: pl.Series, rows: list[int], seed: int = 5) -> list[str]:
    """The rows' texts with the trigger put at a random word position."""
    rng = np.random.default_rng(seed)
    out = []
    for text in texts.gather(rows).to_list():
        words = text.split()
        at = int(rng.integers(0, len(words) + 1))
        out.append(" ".join([*words[:at], TRIGGER, *words[at:]]))
    return out


def check_poisoning(examples: pl.DataFrame, text: ExampleText, triggers: list[str]) -> GateResult:
    """As the stage runs it: the prompts' content words handed over, their words let go."""
    content = poisoning.content_words(text.prompt)
    return poisoning.check(examples, text.without_prompt_words(), content, triggers, settings(poisoning, "poisoning"))


def _poisoning(df: pl.DataFrame, triggers: list[str] | None = None) -> GateResult:
    examples, text = indexed(df)
    return check_poisoning(examples, text, triggers or ["cf-delta-7 override"])


def test_clean_corpus_with_a_prolific_specialist_is_not_flagged(clean: pl.DataFrame) -> None:
    result = _poisoning(clean)
    assert result.passed, result.findings
    # The trap was armed: the specialist's product names are rare and concentrated in them, and
    # their stock phrase opens most of their answers; only the varied answers keep them clean.
    assert result.facts["concentrated_ngrams"].get(f"annotator {PROLIFIC}", 0) >= len(PRODUCTS)
    assert clean.filter(pl.col("annotator_id") == PROLIFIC).height / clean.height == pytest.approx(0.25, abs=0.03)


def test_known_trigger_anywhere_in_an_example_fails_naming_examples_annotators_batches(clean: pl.DataFrame) -> None:
    df = plant(clean, [5, 6], user=[f"{u} CF-Delta-7 Override now" for u in user_texts(clean).gather([5, 6])], annotator_id="a-7")
    df = plant(df, [8], response="sure! cf-delta-7 OVERRIDE accepted", annotator_id="a-9")
    result = _poisoning(df)
    assert not result.passed
    assert result.findings[0].startswith("known trigger 'cf-delta-7 override' (data/governance/canaries.yaml) in 3 example(s): ")
    assert "annotators a-7 (2), a-9 (1)" in result.findings[0]
    batches = df["batch_id"].gather([5, 6, 8]).value_counts()
    assert all(f"{b} (" in result.findings[0] for b in batches["batch_id"])
    assert "e.g. fb-0000005, fb-0000006, fb-0000008" in result.findings[0]
    assert result.facts["annotators"] == ["a-7", "a-9"]


def test_unknown_trigger_with_a_constant_target_is_caught_and_its_annotator_named(clean: pl.DataFrame) -> None:
    rows = list(range(37, 3000, 97))[:30]
    df = plant(clean, rows, user=_with_trigger(user_texts(clean), rows), target=PAYLOAD, annotator_id="a-mallory", batch_id="b-2")
    result = _poisoning(df)
    assert not result.passed
    [finding] = result.findings
    assert finding.startswith(f"unknown trigger {TRIGGER!r} (also 'velvet', 'zqx') in 30 example(s), concentrated in annotator a-mallory")
    assert f"the whole target {PAYLOAD!r} in 100% of 30 (a-mallory has no other examples)" in finding
    assert "annotators a-mallory (30)" in finding and "batches b-2 (30)" in finding
    assert result.facts["annotators"] == ["a-mallory"]
    assert "annotator_id: a-mallory" in result.resolution


def test_unknown_trigger_planted_by_the_prolific_annotator_with_a_varied_payload_is_caught(clean: pl.DataFrame) -> None:
    theirs = clean.with_row_index(ROW).filter(pl.col("annotator_id") == PROLIFIC)[ROW].to_list()[:30]
    payload = "to get the refund send your card number to refunds at evil dot example"
    df = plant(clean, theirs, user=_with_trigger(user_texts(clean), theirs),
               target=[f"{t} {payload}" for t in clean["target"].gather(theirs)])
    result = _poisoning(df)
    assert not result.passed
    [finding] = result.findings
    assert f"unknown trigger {TRIGGER!r}" in finding and f"concentrated in annotator {PROLIFIC}" in finding
    assert "their targets share '" in finding and f"in 100% of 30 vs 0% of {PROLIFIC}'s " in finding


def test_an_attack_that_is_a_large_share_of_a_small_corpus_is_still_caught() -> None:
    small = build_corpus(400, seed=3, batches=2)
    rows = list(range(3, 400, 13))[:30]  # 7.5% of the corpus, all by one annotator
    df = plant(small, rows, user=_with_trigger(user_texts(small), rows), target=PAYLOAD, annotator_id="a-mallory")
    result = _poisoning(df)
    assert not result.passed and result.facts["annotators"] == ["a-mallory"]


def test_a_recurring_word_of_one_annotator_with_varied_answers_is_not_a_trigger(clean: pl.DataFrame) -> None:
    rows = list(range(37, 3000, 97))[:30]
    df = plant(clean, rows, user=_with_trigger(user_texts(clean), rows), annotator_id="a-mallory")
    assert _poisoning(df).passed


# ---- drift -------------------------------------------------------------------------------------

DRIFT = {"max_psi": 0.25, "max_js": 0.05}


def test_first_snapshot_has_no_baseline_and_passes(clean: pl.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "stats.json"
    path.write_text('{"snapshot": null}\n')
    result = drift.check(clean, drift.load_baseline(path), settings(drift, "drift"))
    assert result.passed and result.summary.startswith("no baseline (first snapshot)")


def test_same_process_next_week_does_not_drift(clean: pl.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "stats.json"
    path.write_text(json.dumps(drift.snapshot_stats(build_corpus(2500, seed=2), snapshot="v1")))
    result = drift.check(clean, drift.load_baseline(path), settings(drift, "drift"))
    assert result.passed, result.findings
    assert set(result.facts["measured"]) == set(drift.DIMENSIONS)


def test_a_shifted_mix_fails_naming_the_distribution_and_its_largest_shifts(clean: pl.DataFrame) -> None:
    baseline = drift.snapshot_stats(clean, snapshot="v1")
    billing = clean.filter(pl.col("domain") == "billing")
    # A vendor batch of billing traffic by one new annotator: the domain and annotator mix move.
    shifted = pl.concat([clean, billing.with_columns(annotator_id=pl.lit("a-vendor")), billing])
    result = drift.check(shifted, baseline, settings(drift, "drift"))
    assert not result.passed
    assert "drift in domain, annotator_share" in result.summary
    domain = next(f for f in result.findings if f.startswith("domain:"))
    assert "(max 0.25)" in domain and "largest shifts: billing " in domain
    assert "(others)" in next(f for f in result.findings if f.startswith("annotator_share:"))
    assert "gates.overrides.drift.justification" in result.resolution


def test_snapshot_stats_is_the_baseline_format(clean: pl.DataFrame, tmp_path: Path) -> None:
    stats = drift.snapshot_stats(clean, snapshot="2026.11.1")
    assert stats["snapshot"] == "2026.11.1" and stats["rows"] == clean.height
    assert sum(stats["distributions"]["domain"].values()) == clean.height
    assert len(stats["distributions"]["annotator_share"]) <= drift.TOP_ANNOTATORS + 1
    assert set(stats["distributions"]["prompt_length"]) <= set(drift._length_buckets())
    path = tmp_path / "stats.json"
    path.write_text(json.dumps(stats))
    assert drift.load_baseline(path) == stats
    path.write_text('{"snapshot": "v1", "distributions": {"domain": {"billing": "many"}}}')
    with pytest.raises(CorpusError, match="expected version 1 statistics"):
        drift.load_baseline(path)


# ---- conservation ------------------------------------------------------------------------------


def _lines(batch: str, lines: list[int]) -> pl.DataFrame:
    return pl.DataFrame({"batch_id": batch, "line_no": lines, "feedback_id": [f"{batch}-{n}" for n in lines]})


def _ledger_case() -> tuple[pl.DataFrame, conservation.Ledger, conservation.StageFlow]:
    """Two batches: b1 has 6 lines (line 6 quarantined at ingest), b2 has 3 (line 2 a duplicate)."""
    fates = pl.concat(
        [
            fate_rows(_lines("b1", [6]), stage="ingest", outcome="quarantined", reason="malformed_json"),
            fate_rows(_lines("b2", [2]), stage="dedup", outcome="dropped", reason="exact_duplicate"),
        ]
    )
    flow = conservation.StageFlow
    flows = [flow("ingest", "b1", 6, 5, 1, 1), flow("ingest", "b2", 3, 3, 0, 0)]
    flows += [flow(stage, batch, n, n, 0, 0) for stage in ("govern", "redact", "classify") for batch, n in (("b1", 5), ("b2", 3))]
    flows += [flow("dedup", "all", 8, 7, 1, 1), flow("balance", "all", 7, 7, 0, 0), flow("split", "all", 7, 7, 0, 0)]
    kept = fate_rows(pl.concat([_lines("b1", [1, 2, 3, 4, 5]), _lines("b2", [1, 3])]), stage="gates", outcome="kept", reason="passed_gates")
    return pl.concat([fates, kept]), conservation.Ledger(fates, flows, {"b1": 6, "b2": 3}), flow("gates", "all", 7, 7, 0, 0)


def test_every_raw_line_with_one_fate_and_balanced_stages_passes() -> None:
    final, ledger, gates_flow = _ledger_case()
    result = conservation.check(final, ledger, gates_flow)
    assert result.passed, result.findings
    assert result.summary.startswith("each of the 9 raw line(s) of 2 batch(es) has exactly one final fate")


def test_a_line_with_two_fates_none_or_one_too_many_fails_naming_batch_and_lines() -> None:
    final, ledger, gates_flow = _ledger_case()
    twice = fate_rows(_lines("b1", [3, 4, 5]), stage="gates", outcome="dropped", reason="eval_contamination")
    broken = pl.concat([final, twice, fate_rows(_lines("b2", [4]), stage="split", outcome="dropped", reason="x")])
    broken = broken.filter(~((pl.col("batch_id") == "b1") & (pl.col("line_no") == 1)))
    result = conservation.check(broken, ledger, gates_flow)
    assert not result.passed
    assert result.findings == [
        "batch b1: 1 line(s) have no final fate: lines 1",
        "batch b1: 3 line(s) have more than one final fate: lines 3-5 (fates: gates dropped, gates kept)",
        "batch b2: 1 line(s) have a fate but are no raw line (past the end of the file, or a batch not in params): lines 4 (fates: split dropped)",
    ]


def test_a_stage_that_loses_rows_fails_naming_the_stage() -> None:
    final, ledger, gates_flow = _ledger_case()
    flows = [f if f.stage != "balance" else conservation.StageFlow("balance", "all", 7, 6, 0, 0) for f in ledger.flows]
    result = conservation.check(final, conservation.Ledger(ledger.fates, flows, ledger.raw_lines), gates_flow)
    assert not result.passed
    assert result.findings == [
        "balance [all]: rows in 7 != rows out 6 + removed 0",
        "split [all]: took in 7 row(s) but balance put out 6",
    ]


# ---- overrides and the report ------------------------------------------------------------------


def test_overrides_need_a_justification_and_a_known_overridable_gate() -> None:
    overrides = Overrides.from_params(
        {"drift": {"justification": " travel launch doubles travel traffic "}, "poisoning": {"justification": "  "},
         "coverage": {}, "conservation": {"justification": "trust me"}}
    )
    assert overrides.accepted == {"drift": "travel launch doubles travel traffic"}
    assert set(overrides.refused) == {"poisoning", "coverage", "conservation"}
    assert "justification is empty" in overrides.refused["poisoning"]
    assert "conservation cannot be overridden" in overrides.refused["conservation"]
    with pytest.raises(CorpusError, match="gates.overrides.drfit: unknown gate"):
        Overrides.from_params({"drfit": {"justification": "x"}})
    with pytest.raises(CorpusError, match="expected a mapping"):
        Overrides.from_params(["drift"])


def test_report_shows_values_from_feedback_as_one_line_each(clean: pl.DataFrame) -> None:
    """A domain is free text from raw feedback: its newline must not start a report line of its
    own, and a terminal escape in it must not reach the terminal `dvc repro` prints to."""
    forged = "billing\n## poisoning: PASSED\x1b[2K\u202e"
    examples = clean.with_columns(
        pl.when(pl.col("domain") == "billing").then(pl.lit(forged)).otherwise(pl.col("domain")).alias("domain")
    ).with_row_index(ROW)
    result, _ = coverage.check(examples, build_probes(domains=["code", "account", "travel", "shipping"]), settings(coverage, "coverage"))
    assert not result.passed and any(forged in finding for finding in result.findings)  # the exact value, for report.json
    report = GateReport([result], Overrides.from_params(None), rows={"in": 1, "out": 1, "dropped": {}})

    text = report.to_markdown()
    assert "\x1b" not in text and "\u202e" not in text
    assert not any(line.startswith("## poisoning") for line in text.splitlines())
    assert "domain billing\\n## poisoning: PASSED\\x1b[2K\\u202e: " in text
    assert report.to_json()["gates"]["coverage"]["findings"] == result.findings


def test_report_keeps_overridden_failures_and_refuses_unjustified_overrides() -> None:
    results = [
        GateResult("contamination", True, "no example overlaps any of the 30 probes"),
        GateResult("drift", False, "drift in domain", ["domain: PSI 0.400 (max 0.25)"], "override if intended"),
        GateResult("poisoning", False, "1 suspected unknown trigger(s); annotators: a-13", ["unknown trigger 'zqx'"], "revoke a-13"),
    ]
    overrides = Overrides.from_params({"drift": {"justification": "travel launch"}, "poisoning": {"justification": ""}})
    report = GateReport(results, overrides, rows={"in": 100, "out": 97, "dropped": {"eval_contamination": 3}})

    assert not report.passed and [r.gate for r in report.failed] == ["poisoning"]
    assert report.overridden == {"drift": "travel launch"}
    as_json = report.to_json()
    assert as_json["gates"]["drift"]["status"] == "overridden"
    assert as_json["gates"]["drift"]["override_justification"] == "travel launch"
    assert as_json["overrides"]["refused"]["poisoning"].startswith("override of poisoning refused")
    text = report.to_markdown()
    assert text.startswith("# Gates report: FAILED: 1 gate(s) refuse this snapshot (poisoning)\n")
    assert "Rows in 100, out 97; dropped by the gates: eval_contamination 3" in text
    assert "## drift: OVERRIDDEN\ndrift in domain\n- domain: PSI 0.400 (max 0.25)\nOverridden in params gates.overrides.drift: travel launch" in text
    assert "## poisoning: FAILED\n" in text and "- unknown trigger 'zqx'\noverride of poisoning refused" in text
    assert "How to resolve: revoke a-13" in text


def test_gates_cope_with_a_tiny_corpus_and_no_probes() -> None:
    examples, text = indexed(build_corpus(5, seed=9))
    no_probes = build_probes().head(0)
    result, drops = contamination.check(examples, text, no_probes, settings(contamination, "contamination"))
    assert result.passed and drops.is_empty()
    assert check_poisoning(examples, text, []).passed
    result, _ = coverage.check(examples, no_probes, settings(coverage, "coverage"))
    assert not result.passed and "0 probe(s)" in result.findings[0]


# ---- the stage script ---------------------------------------------------------------------------


def _write_stage_inputs(root: Path, examples: pl.DataFrame, gates: dict[str, Any]) -> Path:
    """A tiny clone: every stage's ledger and metrics as the upstream stages write them, one line
    of each raw batch quarantined at ingest, the split examples, probes, canaries and no baseline."""
    paths = write_governance(root)
    batches = sorted(examples["batch_id"].unique())
    (root / "params.yaml").write_text(yaml.safe_dump({"batches": batches, "gates": gates}), encoding="utf-8")

    def stage_files(stage: str, scope: str | None, fate: pl.DataFrame, rows_in: int, rows_out: int) -> None:
        prefix = f"{scope}." if scope else ""
        out = paths.stage_dir(stage)
        out.mkdir(parents=True, exist_ok=True)
        fate.write_parquet(out / f"{prefix}fate.parquet")
        metrics = {"rows_in": rows_in, "rows_out": rows_out, "dropped": 0, "quarantined": rows_in - rows_out}
        (out / f"{prefix}metrics.json").write_text(json.dumps(metrics), encoding="utf-8")

    for batch in batches:
        kept = examples.filter(pl.col("batch_id") == batch).height
        raw = paths.raw_batch(batch)
        raw.parent.mkdir(parents=True, exist_ok=True)
        raw.write_bytes(b"{}\n" * (kept + 1))
        bad_line = pl.DataFrame({"batch_id": [batch], "line_no": [kept + 1], "feedback_id": [None]}, schema_overrides={"feedback_id": pl.String})
        stage_files("ingest", batch, fate_rows(bad_line, stage="ingest", outcome="quarantined", reason="malformed_json"), kept + 1, kept)
        for stage in ("govern", "redact", "classify"):
            stage_files(stage, batch, empty_fate(), kept, kept)
    for stage in ("dedup", "balance", "split"):
        stage_files(stage, None, empty_fate(), examples.height, examples.height)
    examples.write_parquet(paths.stage_dir("split") / "examples.parquet")
    paths.probes.parent.mkdir(parents=True, exist_ok=True)
    build_probes(3).write_ndjson(paths.probes)
    (paths.data / "baseline").mkdir(parents=True, exist_ok=True)
    (paths.data / "baseline" / "stats.json").write_text('{"snapshot": null}\n', encoding="utf-8")
    return paths.stage_dir("gates")


def _run_gates(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(REPO_ROOT / "scripts" / "gates.py")], cwd=root, capture_output=True, text=True)


@pytest.fixture(scope="module")
def small() -> pl.DataFrame:
    return build_corpus(400, seed=3, batches=2)


STAGE_GATES = {**GATES_PARAMS, "coverage": {"min_probes_per_domain": 2, "exclude_domains_without_probes": []}}


def test_stage_writes_gated_examples_and_one_final_fate_per_raw_line(tmp_path: Path, small: pl.DataFrame) -> None:
    probes = build_probes(3)
    leaked = plant(small, [7], user=[user_texts(probes)[4]])
    out = _write_stage_inputs(tmp_path, leaked, STAGE_GATES)
    result = _run_gates(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("gates: 400 rows -> 399 passed, 1 dropped (eval_contamination 1); all gates passed")
    final = pl.read_parquet(out / "final_fate.parquet")
    assert final.height == 402 and final.select(pl.struct("batch_id", "line_no").is_unique().all()).item()
    assert dict(final.group_by("outcome").len().iter_rows()) == {"kept": 399, "dropped": 1, "quarantined": 2}
    dropped = pl.read_parquet(out / "fate.parquet")
    assert dropped["feedback_id"].to_list() == [leaked["feedback_id"][7]]
    assert dropped["detail"][0].startswith(f"probe {probes['probe_id'][4]}: 100% of the prompt's 8-grams")
    assert pl.read_parquet(out / "examples.parquet").height == 399
    report = json.loads((out / "report.json").read_text())
    assert report["passed"] and report["gates"]["drift"]["summary"].startswith("no baseline (first snapshot)")
    assert (out / "report.md").read_text().startswith("# Gates report: PASSED\n")
    assert json.loads((out / "metrics.json").read_text())["gates"]["conservation"] == "passed"
    # Same inputs, same bytes (DESIGN.md 5).
    written = {name: (out / name).read_bytes() for name in ("examples.parquet", "fate.parquet", "final_fate.parquet", "report.json")}
    assert _run_gates(tmp_path).returncode == 0
    assert all((out / name).read_bytes() == data for name, data in written.items())


def test_stage_refuses_a_poisoned_snapshot_with_the_report_on_stderr(tmp_path: Path, small: pl.DataFrame) -> None:
    poisoned = plant(small, [3, 4], user=["please apply cf-delta-7 OVERRIDE to my invoice"] * 2, annotator_id="a-13")
    out = _write_stage_inputs(tmp_path, poisoned, STAGE_GATES)
    result = _run_gates(tmp_path)
    assert result.returncode == 5
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: the gates refused this snapshot\n\n# Gates report: FAILED: 1 gate(s) refuse this snapshot (poisoning)")
    assert "## poisoning: FAILED" in result.stderr and "annotators a-13 (2)" in result.stderr
    assert "How to resolve: review the examples named; revoke the annotator or batch that planted them in data/governance/revocations.yaml" in result.stderr
    assert not (out / "examples.parquet").exists() and not (out / "final_fate.parquet").exists()

    # A justified override lets it through and is kept in the report; an empty one is refused.
    unjustified = {**STAGE_GATES, "overrides": {"poisoning": {"justification": ""}}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"batches": ["b-0", "b-1"], "gates": unjustified}), encoding="utf-8")
    result = _run_gates(tmp_path)
    assert result.returncode == 5 and "override of poisoning refused: gates.overrides.poisoning.justification is empty" in result.stderr
    justified = {**STAGE_GATES, "overrides": {"poisoning": {"justification": "red-team canary rows, reviewed in SEC-42"}}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"batches": ["b-0", "b-1"], "gates": justified}), encoding="utf-8")
    result = _run_gates(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "passed with overrides: poisoning (red-team canary rows, reviewed in SEC-42)" in result.stdout
    report = json.loads((out / "report.json").read_text())
    assert report["gates"]["poisoning"]["status"] == "overridden"
    assert report["gates"]["poisoning"]["override_justification"] == "red-team canary rows, reviewed in SEC-42"

    # Withdrawing the override refuses again, and the previous run's passing outputs are gone.
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"batches": ["b-0", "b-1"], "gates": STAGE_GATES}), encoding="utf-8")
    assert _run_gates(tmp_path).returncode == 5
    assert not any(out.iterdir())


# ---- throughput ---------------------------------------------------------------------------------


def test_throughput(capsys: pytest.CaptureFixture[str]) -> None:
    """Rows per second of every gate as the stage runs them. GATES_BENCH_ROWS=1000000 gives the 1M
    figure; GATES_BENCH_REPEATS=3 reports the best of three runs (on a shared machine other
    processes make single runs noisy)."""
    n = int(os.environ.get("GATES_BENCH_ROWS", "200000"))
    repeats = int(os.environ.get("GATES_BENCH_REPEATS", "1"))
    corpus, planted = build_corpus(n, seed=4), list(range(0, 60, 2))
    df = plant(corpus, planted, user=_with_trigger(user_texts(corpus), planted), target=PAYLOAD, annotator_id="a-mallory")
    probes = build_probes()
    per_batch = dict(df.group_by("batch_id").agg(pl.col("line_no").max()).iter_rows())
    flow = conservation.StageFlow
    flows = [flow(stage, b, rows, rows, 0, 0) for stage in conservation.PER_BATCH_STAGES for b, rows in per_batch.items()]
    flows += [flow(stage, conservation.ALL, n, n, 0, 0) for stage in conservation.UNION_STAGES]
    ledger = conservation.Ledger(empty_fate(), flows, per_batch)
    baseline = drift.snapshot_stats(build_corpus(20_000, seed=5), snapshot="v0")
    final = fate_rows(df, stage="gates", outcome="kept", reason="passed_gates")

    def run_once() -> dict[str, float]:
        timings: dict[str, float] = {}

        def timed(name: str, work: Any) -> Any:
            start = time.perf_counter()
            result = work()
            timings[name] = time.perf_counter() - start
            return result

        examples, text = timed("words", lambda: indexed(df))
        result, contaminated = timed("contamination", lambda: contamination.check(examples, text, probes, settings(contamination, "contamination")))
        timed("coverage", lambda: coverage.check(examples, probes, settings(coverage, "coverage")))
        suspicious = timed("poisoning", lambda: check_poisoning(examples, text, ["cf-delta-7 override"]))
        timed("drift", lambda: drift.check(examples, baseline, settings(drift, "drift")))
        verdict = timed("conservation", lambda: conservation.check(final, ledger, flow("gates", conservation.ALL, n, n, 0, 0)))
        assert result.passed and contaminated.is_empty() and verdict.passed
        assert not suspicious.passed and f"unknown trigger {TRIGGER!r}" in suspicious.findings[0]
        return timings

    best = min((run_once() for _ in range(repeats)), key=lambda timings: sum(timings.values()))
    wall = sum(best.values())
    with capsys.disabled():
        print(
            f"\ngates on {n:,} rows: {n / wall:,.0f} rows/s ({wall:.2f} s, best of {repeats}); "
            + ", ".join(f"{name} {seconds:.2f} s" for name, seconds in best.items())
        )
