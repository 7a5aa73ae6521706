"""Intent classification: decision order, each rule, the JSON model, determinism, held-out quality.

Real scikit-learn throughout; one model is trained per test module (a few seconds) and shared.
The labelled sets are built in memory by ``corpus.seedset`` (the files under data/raw/seed are
DVC-tracked and may not be checked out); ``test_labelled_sets_match_the_generator`` checks that
the files, where present, are exactly those bytes.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from corpus import seedset
from corpus.intent import (
    INTENTS,
    OUTPUT_COLUMNS,
    IntentModel,
    TrainParams,
    _signals,
    classify_frame,
    train_intent_model,
)

REPO_ROOT = Path(__file__).resolve().parents[1]

# The bar of the design: what is kept as a defect must be a defect; most defects must be kept;
# what the classifier cannot call goes to people, and that queue must stay workable.
MIN_DEFECT_PRECISION = 0.95
MIN_DEFECT_RECALL = 0.85
MAX_ABSTAIN_RATE = 0.20

RESPONSE = "Your refund of $42.10 goes back to the card on file within 5-7 business days."
PROMPT = [
    {"role": "system", "content": "You are the billing assistant."},
    {"role": "user", "content": "How much will I get back if I cancel today?"},
]


def labelled(split: seedset.Split) -> pl.DataFrame:
    """The split as the pipeline reads it: the generator's JSONL bytes through read_ndjson."""
    return pl.read_ndjson(io.BytesIO(seedset.render_jsonl(seedset.build_rows(split)).encode()))


@pytest.fixture(scope="module")
def seed() -> pl.DataFrame:
    return labelled("seed")


@pytest.fixture(scope="module")
def heldout() -> pl.DataFrame:
    return labelled("heldout")


@pytest.fixture(scope="module")
def model(seed: pl.DataFrame) -> IntentModel:
    return train_intent_model(seed)


def feedback(
    *,
    rating: str = "down",
    comment: str | None = None,
    correction: str | None = None,
    reason_code: str | None = None,
    response: str = RESPONSE,
) -> dict[str, object]:
    return {
        "rating": rating,
        "reason_code": reason_code,
        "comment": comment,
        "correction": correction,
        "response": response,
        "prompt": PROMPT,
        "annotator_role": "end_user",
    }


def classify(model: IntentModel, *rows: dict[str, object]) -> list[dict[str, object]]:
    frame = pl.DataFrame(
        list(rows),
        schema={
            "rating": pl.String,
            "reason_code": pl.String,
            "comment": pl.String,
            "correction": pl.String,
            "response": pl.String,
            "prompt": pl.List(pl.Struct({"role": pl.String, "content": pl.String})),
            "annotator_role": pl.String,
        },
    )
    return classify_frame(frame, model).select(OUTPUT_COLUMNS).to_dicts()


# --- decision order ----------------------------------------------------------------------------


def test_reason_code_wins_over_rules_and_model(model: IntentModel) -> None:
    taste_code, defect_code, other = classify(
        model,
        # The note reads like a factual error, but the annotator picked a taste code.
        feedback(comment="the refund amount is wrong, it should be $24.10", reason_code="tone"),
        # The note reads like a debug click, but the annotator picked a defect code.
        feedback(comment="test", reason_code="factual_error"),
        # "other" says nothing: the row falls through to the rules.
        feedback(comment="asdf", reason_code="other"),
    )
    assert taste_code == {
        "intent": "taste",
        "defect_subtype": None,
        "intent_source": "reason_code",
        "intent_confidence": 1.0,
    }
    assert defect_code["intent"] == "defect"
    assert defect_code["defect_subtype"] == "factual_error"
    assert defect_code["intent_source"] == "reason_code"
    assert other["intent_source"] == "rule:testing_marker"


def test_unknown_reason_code_is_rejected(model: IntentModel) -> None:
    with pytest.raises(ValueError, match="unknown reason_code"):
        classify(model, feedback(comment="meh", reason_code="vibes"))


# --- rules ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "comment",
    ["test", "TESTING 123", "asdf", "jkl;jkl", "qwerty", "zxcvb", "xxx", "hjkhjk", "sdfgh",
     "just checking the button, pls ignore", "prueba", "ignore this"],
)
def test_testing_marker_rule_catches_test_words_and_keyboard_mash(model: IntentModel, comment: str) -> None:
    (row,) = classify(model, feedback(comment=comment))
    assert (row["intent"], row["intent_source"]) == ("testing", "rule:testing_marker")


def test_testing_marker_rule_also_reads_junk_corrections(model: IntentModel) -> None:
    (row,) = classify(model, feedback(correction="asdfasdf"))
    assert (row["intent"], row["intent_source"]) == ("testing", "rule:testing_marker")


@pytest.mark.parametrize(
    "row",
    [
        # "test" inside a real defect about unit tests: more than test words.
        feedback(comment="the unit test it wrote asserts 5 but the function returns 6"),
        # A test word, but the annotator also wrote a real correction: the model must read both.
        feedback(comment="test", correction=RESPONSE.replace("$42.10", "$24.10")),
        # Typed words, not keyboard runs.
        feedback(comment="typo"),
        feedback(comment="property tax is missing"),
    ],
)
def test_testing_marker_rule_leaves_real_notes_alone(model: IntentModel, row: dict[str, object]) -> None:
    (result,) = classify(model, row)
    assert result["intent_source"] != "rule:testing_marker"


def test_no_evidence_rule_sends_a_bare_thumbs_down_to_people(model: IntentModel) -> None:
    bare, punctuation_only = classify(model, feedback(), feedback(comment=" ... "))
    for row in (bare, punctuation_only):
        assert (row["intent"], row["intent_source"]) == ("abstain", "rule:no_evidence")
        assert row["defect_subtype"] is None


def test_noop_correction_rule(model: IntentModel) -> None:
    invisible_edit = "  " + RESPONSE + " \r\n"
    noop, case_change, with_note = classify(
        model,
        feedback(correction=invisible_edit),
        # Case is not invisible: `True` -> `true` can be the whole fix of a broken payload.
        feedback(correction=RESPONSE.replace("Your", "your")),
        # With a note, the note is the evidence: the model reads it.
        feedback(correction=RESPONSE, comment="the amount is wrong"),
    )
    assert (noop["intent"], noop["intent_source"]) == ("taste", "rule:noop_correction")
    assert case_change["intent_source"] != "rule:noop_correction"
    assert with_note["intent_source"] != "rule:noop_correction"


def test_positive_rating_rule(model: IntentModel) -> None:
    praise, silent, complaint, corrected, mentions_test = classify(
        model,
        feedback(rating="up", comment="great, thanks!"),
        feedback(rating="up"),
        feedback(rating="up", comment="great but the date is wrong"),
        feedback(rating="up", comment="great", correction=RESPONSE.replace("$42.10", "$24.10")),
        feedback(rating="up", comment="tested the new widget, works"),
    )
    for row in (praise, silent):
        assert (row["intent"], row["intent_source"]) == ("positive", "rule:positive_rating")
    for row in (complaint, corrected, mentions_test):
        assert row["intent_source"] != "rule:positive_rating"


def test_list_numbering_is_not_a_changed_fact() -> None:
    frame = pl.DataFrame(
        [
            feedback(correction="1. " + RESPONSE),
            feedback(correction=RESPONSE.replace("$42.10", "$24.10")),
        ]
    )
    changed = _signals(frame)["_feat_numbers_changed"].to_list()
    assert changed == [0.0, 1.0]


# --- output contract ------------------------------------------------------------------------------


def test_output_columns_and_invariants(model: IntentModel, heldout: pl.DataFrame) -> None:
    out = classify_frame(heldout, model)
    assert out.columns == [*heldout.columns, *OUTPUT_COLUMNS]
    assert out.height == heldout.height
    assert out.select(OUTPUT_COLUMNS).schema == pl.Schema(
        {
            "intent": pl.String,
            "defect_subtype": pl.String,
            "intent_source": pl.String,
            "intent_confidence": pl.Float64,
        }
    )
    assert set(out["intent"]) <= set(INTENTS)
    assert out.filter((pl.col("intent") == "defect") != pl.col("defect_subtype").is_not_null()).is_empty()
    sources = set(out["intent_source"])
    assert all(s in ("reason_code", "model", "abstain") or re.fullmatch(r"rule:\w+", s) for s in sources)
    abstained = out.filter(pl.col("intent") == "abstain")
    assert set(abstained["intent_source"]) <= {"abstain", "rule:no_evidence"}
    assert (out.filter(pl.col("intent_source") == "abstain")["intent"] == "abstain").all()
    assert out["intent_confidence"].is_between(0.0, 1.0).all()
    # A batch whose every line was quarantined upstream still classifies, to nothing.
    empty = classify_frame(heldout.head(0), model)
    assert empty.is_empty() and empty.columns == out.columns


# --- the model as data ------------------------------------------------------------------------------


def test_json_round_trip_gives_identical_predictions(model: IntentModel, heldout: pl.DataFrame) -> None:
    text = model.to_json()
    loaded = IntentModel.from_json(text)
    prepared = _signals(heldout)
    assert np.array_equal(model.predict_proba(prepared), loaded.predict_proba(prepared))
    assert classify_frame(heldout, model).equals(classify_frame(heldout, loaded))
    assert loaded.to_json() == text


def test_model_json_is_plain_data(model: IntentModel, seed: pl.DataFrame) -> None:
    document = json.loads(model.to_json())
    assert document["format"] == "corpus.intent-model/1"
    assert document["training"]["rows"] == seed.height
    assert len(document["coef"]) == len(document["classes"])
    with pytest.raises(ValueError, match="format"):
        IntentModel.from_json(json.dumps({**document, "format": "pickle"}))


def test_training_is_deterministic(seed: pl.DataFrame, model: IntentModel) -> None:
    again = train_intent_model(seed)
    assert again.to_json() == model.to_json()
    # A different seed set is named differently in the model's provenance.
    other = train_intent_model(seed.head(1500), params=TrainParams())
    digest = json.loads(model.to_json())["training"]["seed_sha256"]
    assert json.loads(other.to_json())["training"]["seed_sha256"] != digest


# --- the labelled sets --------------------------------------------------------------------------------


@pytest.mark.parametrize("split", ["seed", "heldout"])
def test_labelled_sets_match_the_generator(split: seedset.Split) -> None:
    path = REPO_ROOT / seedset.OUTPUT_PATHS[split]
    if not path.exists():
        pytest.skip(f"{path.relative_to(REPO_ROOT)} is not checked out (dvc pull)")
    assert path.read_text(encoding="utf-8") == seedset.render_jsonl(seedset.build_rows(split)), (
        "the labelled file differs from `python -m corpus.seedset` output; regenerate, never hand-edit"
    )


def _bank_strings(bank: seedset.Bank) -> set[str]:
    voiced = [*bank.comments.values(), bank.testing, bank.positive]
    return {
        *(t for templates in voiced for voice in templates.values() for t in voice),
        *(t for _, t in bank.code_test_defects),
        *bank.polite_openers,
        *bank.strong_taste,
        *(t for _, t in bank.preferences),
        *(c.ask for c in bank.constraints),
        *(c.what for c in bank.constraints),
        *(request for _, request in bank.format_requests),
        *bank.tone_styles,
        *bank.fillers,
        *bank.awkward_preambles,
        *(s.ask for d in bank.domains for s in d.scenarios),
        *(s.answer for d in bank.domains for s in d.scenarios),
        *(d.system for d in bank.domains),
    } - {"{a}"}  # the bare answer is a layout, not wording


def test_heldout_wording_is_disjoint_from_seed(seed: pl.DataFrame, heldout: pl.DataFrame) -> None:
    assert _bank_strings(seedset.SEED_BANK).isdisjoint(_bank_strings(seedset.HELDOUT_BANK))
    seed_comments = set(seed["comment"].drop_nulls())
    shared = seed_comments & set(heldout["comment"].drop_nulls())
    assert not shared, f"comments in both sets: {sorted(shared)[:5]}"
    assert set(heldout["domain"]) - set(seed["domain"]), "held-out should have a domain seed never shows"


# --- quality on wording the model has never seen ---------------------------------------------------


def test_quality_on_heldout(model: IntentModel, heldout: pl.DataFrame) -> None:
    out = classify_frame(heldout, model)
    kept = out.filter(pl.col("intent") == "defect")
    true_defects = out.filter(pl.col("label") == "defect")
    hits = kept.filter(pl.col("label") == "defect").height
    precision = hits / kept.height
    recall = hits / true_defects.height
    abstain_rate = float((out["intent"] == "abstain").sum()) / out.height
    leakage = kept.filter(pl.col("label") == "taste").height
    subtype_accuracy = kept.filter(pl.col("label") == "defect").select(
        (pl.col("defect_subtype") == pl.col("label_subtype")).mean()
    ).item()

    with pl.Config(tbl_rows=40, tbl_cols=12):
        print("\nconfusion (rows: true label, columns: decided intent)")
        print(
            out.pivot(on="intent", index="label", values="intent_confidence", aggregate_function="len")
            .fill_null(0)
            .select("label", *[c for c in INTENTS if c in out["intent"]])
            .sort("label")
        )
        print(out.group_by("intent_source").len().sort("len", descending=True))
        print(
            true_defects.group_by("case")
            .agg(rows=pl.len(), kept=(pl.col("intent") == "defect").mean().round(3))
            .sort("case")
        )
    print(
        f"defect precision {precision:.3f}  recall {recall:.3f}  abstain rate {abstain_rate:.3f}  "
        f"taste->defect leakage {leakage}  subtype accuracy of kept defects {subtype_accuracy:.3f}"
    )

    assert precision >= MIN_DEFECT_PRECISION
    assert recall >= MIN_DEFECT_RECALL
    assert abstain_rate <= MAX_ABSTAIN_RATE
