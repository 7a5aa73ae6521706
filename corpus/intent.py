"""Intent of each piece of feedback: defect (with subtype), taste, testing, positive, or abstain.

Only real defects go into training, so the thing to avoid above all is taste (tone, length,
wording, layout) leaking in as a defect. Every row gets four columns:

- ``intent``: defect | taste | testing | positive | abstain (abstain = human review queue)
- ``defect_subtype``: factual_error | hallucinated_entity | missed_instruction | broken_format |
  broken_tool_call | unsafe_output when intent is defect, else null
- ``intent_source``: how it was decided: ``reason_code``, ``rule:<name>``, ``model``, ``abstain``
- ``intent_confidence``: 1.0 for reason codes and rules (deterministic); for the model its
  probability of the chosen intent (also for abstentions: the probability that was too low)

Decision order, first match wins:

1. ``reason_code`` when present and not "other": the annotator told us (see ``REASON_CODES``).
2. Rules: few, general, high-precision, vectorised polars expressions (see ``RULES``):
   ``testing_marker`` (the note is only test words / keyboard mash, and the correction says
   nothing either), ``no_evidence`` (a thumbs-down with neither a note nor a correction: nothing
   to judge, so a human decides), ``noop_correction`` (thumbs-down whose correction equals the
   response and no note: at most a preference, never a defect), ``positive_rating`` (thumbs-up with
   no correction and no sign of a complaint in the note). Anything subtler, e.g. a correction that
   only changes length or wording while the note talks about style, is left to the model, which
   sees both.
3. The model: multinomial logistic regression over fine classes (each defect subtype, each
   taste kind, testing, positive; probabilities are summed per intent), trained with every
   intent weighing the same. Features:
   - the comment: TF-IDF word 1-2grams (with the few words after a negation marked, so "no
     factual issues" does not count as a factual complaint) and char_wb 3-5grams (which survive
     typos and shorthand);
   - structural signals of *what the annotator changed*, which generalise across writers better
     than their words do: relative length change, token overlap, tokens removed/added, whether
     numbers changed (list numbering excluded), whether names were removed or added, whether the
     edit is inside machine-readable output (JSON, code, table, YAML, CSV, XML) and fixes its
     brackets or syntax, whether the correction adds words the prompt asked for, whether the
     note repeats the prompt's words; plus the rating and which of note/correction exist.
4. Abstain when the model's top intent probability is below ``abstain_below``, or when
   P(defect) is within ``defect_margin`` of 0.5: a row may only enter training on a clear call.

C and the structural weight were chosen by cross-validation on the seed set grouped by comment
template, so each fold is scored on wordings it never saw; the default thresholds are the
cautious end of what that cross-validation found acceptable (defect_margin 0.3 rather than 0.2:
about a point of precision bought with about a point of recall).

The fitted model serialises to JSON (vocabularies, idf, coefficients), never pickle: loading a
pickle executes code, and this repository treats every input as potentially hostile. Inference
uses only the JSON's numbers and tokenises as scikit-learn's CountVectorizer does (its settings
are in the JSON), reimplemented so that classifying does not import scikit-learn, whose import
alone costs more than classifying a batch; tests/test_intent_inference.py holds the two to the
same bits. Training uses scikit-learn itself and is deterministic: the same seed set and params
give byte-identical JSON.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Final, Literal

import numpy as np
import polars as pl
import scipy.sparse as sp
from numpy.typing import NDArray

Intent = Literal["defect", "taste", "testing", "positive", "abstain"]
INTENTS: Final[tuple[Intent, ...]] = ("defect", "taste", "testing", "positive", "abstain")
LABELS: Final[tuple[str, ...]] = ("defect", "taste", "testing", "positive")  # ground-truth labels
DEFECT_SUBTYPES: Final[tuple[str, ...]] = (
    "factual_error",
    "hallucinated_entity",
    "missed_instruction",
    "broken_format",
    "broken_tool_call",
    "unsafe_output",
)
TASTE_SUBTYPES: Final[tuple[str, ...]] = ("tone", "verbosity", "phrasing", "other_preference")

# reason_code -> (intent, defect_subtype). "other" is absent on purpose: it says nothing.
REASON_CODES: Final[Mapping[str, tuple[str, str | None]]] = {
    **{code: ("defect", code) for code in DEFECT_SUBTYPES},
    **{code: ("taste", None) for code in TASTE_SUBTYPES},
    "testing": ("testing", None),
}
ALL_REASON_CODES: Final[frozenset[str]] = frozenset(REASON_CODES) | {"other"}

INPUT_COLUMNS: Final[tuple[str, ...]] = (
    "rating",
    "reason_code",
    "comment",
    "correction",
    "response",
    "prompt",
)
OUTPUT_COLUMNS: Final[tuple[str, ...]] = (
    "intent",
    "defect_subtype",
    "intent_source",
    "intent_confidence",
)
MODEL_FORMAT: Final[str] = "corpus.intent-model/1"
_ROW: Final[str] = "_intent_row"  # private row index; helper columns are prefixed _sig_ / _feat_

# ---------------------------------------------------------------------------------------------
# Lexicons for the rules. Kept to closed classes of words (function words, test words) and
# keyboard geometry, so they describe *kinds* of notes rather than particular notes.
# ---------------------------------------------------------------------------------------------

# Words that on their own mark a debug click, in the languages test notes commonly use.
_TEST_MARKERS: Final[tuple[str, ...]] = (
    "test",
    "tests",
    "testing",
    "tested",
    "tst",
    "teste",
    "prueba",
    "essai",
    "prova",
    "debug",
    "debugging",
    "dummy",
    "ignore",
    "ignored",
    "disregard",
    "qa",
    "placeholder",
    "lorem",
    "ipsum",
    "foo",
    "bar",
    "baz",
    "misclick",
    "misclicked",
    "accidentally",
)
# Words that may accompany a marker without adding content ("just testing the button, pls ignore").
_TEST_FILLER: Final[tuple[str, ...]] = (
    "a",
    "an",
    "the",
    "this",
    "that",
    "it",
    "is",
    "me",
    "my",
    "just",
    "only",
    "again",
    "please",
    "pls",
    "plz",
    "hello",
    "hi",
    "hey",
    "ok",
    "okay",
    "sorry",
    "oops",
    "button",
    "click",
    "clicked",
    "clicking",
    "thumb",
    "thumbs",
    "down",
    "up",
    "feedback",
    "widget",
    "form",
    "check",
    "checking",
    "see",
    "if",
    "whether",
    "works",
    "working",
    "to",
    "of",
    "on",
    "for",
    "by",
    "and",
    "or",
    "internal",
    "run",
    "round",
    "submission",
    "item",
    "one",
    "two",
    "three",
)
_MAX_TEST_TOKENS: Final[int] = 8  # longer notes say something; let the model read them


def _keyboard_mash_pattern() -> str:
    """Tokens made of runs along one keyboard row ("asdf", "qwerty", "hjkl", "lkjlkj")."""
    rows = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
    runs = {
        row[i : i + n]
        for base in rows
        for row in (base, base[::-1])
        for n in range(3, len(row) + 1)
        for i in range(len(row) - n + 1)
    }
    # Longest first so the alternation prefers whole runs; sorted for a stable pattern string.
    return "^(?:" + "|".join(sorted(runs, key=lambda r: (-len(r), r))) + ")+$"


_KEYBOARD_MASH: Final[str] = _keyboard_mash_pattern()
_NO_VOWELS: Final[str] = r"^[bcdfghjklmnpqrstvwxz]{5,}$"  # "sdfgh", "xcvbn"; y counts as vowel

# Any sign that a thumbs-up note is not plain praise: negation, contrast, complaint, wish.
_CONCERN: Final[str] = (
    r"(?i)\b(?:not|no|never|nothing|none|wrong|incorrect|inaccurate|error|errors|mistake|bug|"
    r"broken|fail\w*|missing|missed|miss|should|instead|but|however|though|tho|although|except|"
    r"invalid|fake|made up|fabricat\w*|hallucinat\w*|invent\w*|outdated|stale|typo|fix\w*|"
    r"issue|issues|problem\w*|unsafe|danger\w*|harm\w*|too|wish|rather|prefer\w*|hate|awful|"
    r"terrible|bad|worse|worst|falsch|faux|errado|incorrecto|sbagliat\w*)\b|n't\b|\?"
)
_WORD: Final[str] = r"[\p{L}\p{N}]+"
_NUMBER: Final[str] = r"\d+(?:[.,:]\d+)*"
_LIST_MARKER: Final[str] = r"(?m)^\s*\d+[.)]\s+"  # "1. ", "2) ": numbering a list changes no fact
# Words that carry no content, for "does the note repeat what the prompt asked for". Only words of
# four letters or more are compared, so this list only needs the longer function words.
_FUNCTION_WORDS: Final[tuple[str, ...]] = (
    "this", "that", "these", "those", "with", "what", "when", "where", "which", "your", "yours",
    "from", "have", "been", "were", "they", "them", "their", "there", "then", "than", "just",
    "only", "also", "please", "thanks", "about", "would", "could", "should", "into", "does",
    "doesn't", "didn't", "it's", "here", "very", "really", "some", "more", "much",
)
# A proper name or identifier: a run of capitalised words inside a sentence (preceded by a word on
# the same line, so sentence openers like "Please", "Dear", "Your" don't count), or `code`. Whole
# runs, so that "Priority Platinum" -> "Priority" is seen as a different name. The leading context
# is stripped after extraction, since the regex engine has no look-behind.
_NAME: Final[str] = r"[\p{L}\p{N})] +\p{Lu}[\p{L}\p{N}]+(?: +\p{Lu}[\p{L}\p{N}]+)*|`[^`\n]+`"
_SYNTAX: Final[str] = r"[{}\[\]\"|\t]"  # characters whose count changes when structure is fixed
# Machine-readable output: a code fence, a JSON object or array, a table row, YAML-ish "key: value",
# a CSV header (comma-separated identifiers), an XML/HTML tag opening a line. An edit inside such
# output changes what a program receives; an edit to prose is often style.
_STRUCTURED: Final[str] = (
    r'(?m)```|^\s*[{\[]|\{\s*"|^\s*\|.*\|\s*$|^[\w-]+: \S'
    r"|^[A-Za-z_][\w ]*(?:,[A-Za-z_][\w ]*)+\s*$|^\s*<[A-Za-z][\w:-]*[ >]"
)


# ---------------------------------------------------------------------------------------------
# Signals: per-row helper columns shared by the rules and the model, all vectorised.
# ---------------------------------------------------------------------------------------------


def _tokens(text: pl.Expr) -> pl.Expr:
    return text.str.to_lowercase().str.extract_all(_WORD).list.unique()


def _content(tokens: pl.Expr) -> pl.Expr:
    keep = (pl.element().str.len_chars() >= 4) & ~pl.element().is_in(_FUNCTION_WORDS)
    return tokens.list.eval(pl.element().filter(keep))


def _canonical(text: pl.Expr) -> pl.Expr:
    """Text up to invisible edits: line endings, trailing spaces, surrounding blank space.

    Case and inner whitespace are kept: ``True`` -> ``true`` or re-indenting code can be the
    fix of a real defect, so they must not count as "no change".
    """
    return text.str.replace_all(r"\r\n?", "\n").str.replace_all(r"(?m)[ \t]+$", "").str.strip_chars()


def _is_testish_token(token: pl.Expr) -> pl.Expr:
    chars = token.str.split("").list.n_unique()
    return (
        token.is_in(_TEST_MARKERS)
        | token.str.contains(_KEYBOARD_MASH)
        | token.str.contains(_NO_VOWELS)
        | ((token.str.len_chars() >= 3) & (chars == 1))  # "xxx", "aaaa"
        | ((token.str.len_chars() >= 4) & (chars == 2))  # "jkjk", "asas"
    )


@dataclass(frozen=True, eq=False)
class _TestVocabulary:
    """Which of a batch's distinct tokens are test words or mash (``markers``), and which a test
    note may consist of (``allowed``: markers, filler, bare numbers). Judging each distinct token
    once instead of every occurrence: the keyboard-mash pattern is the costliest test per token.
    """

    markers: pl.Series
    allowed: pl.Series

    @classmethod
    def of(cls, *token_lists: pl.Series) -> _TestVocabulary:
        token = pl.col("token")
        judged = (
            pl.concat([tokens.explode(empty_as_null=False, keep_nulls=False) for tokens in token_lists])
            .unique()
            .to_frame("token")
            .with_columns(marker=_is_testish_token(token))
        )
        allowed = pl.col("marker") | token.is_in(_TEST_FILLER) | token.str.contains(r"^\d+$")
        return cls(markers=judged.filter("marker")["token"], allowed=judged.filter(allowed)["token"])

    def mentions_test(self, tokens: pl.Expr) -> pl.Expr:
        return tokens.list.eval(pl.element().is_in(self.markers.implode())).list.any()

    def is_testish(self, tokens: pl.Expr) -> pl.Expr:
        """The note is only test words, mash and filler, and has at least one marker or mash."""
        allowed = tokens.list.eval(pl.element().is_in(self.allowed.implode())).list.all()
        size = tokens.list.len()
        return (size > 0) & (size <= _MAX_TEST_TOKENS) & allowed & self.mentions_test(tokens)


def _ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    return pl.when(denominator > 0).then(numerator / denominator).otherwise(0.0)


def _last_user_message(prompt: pl.Expr) -> pl.Expr:
    user = pl.element().struct.field("role") == "user"
    return prompt.list.eval(pl.element().filter(user).struct.field("content")).list.last()


def _signals(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` plus ``_sig_*`` helper columns and the structural feature columns, same row order."""
    return _structural_signals(_rule_signals(df))


def _rule_signals(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` plus the ``_sig_*`` columns the rules read. Every signal is a function of its own row
    only, so computing them on a subset of rows gives those rows the same values."""
    comment = pl.col("comment").fill_null("")
    correction = pl.col("correction").fill_null("")
    response = pl.col("response").fill_null("")
    tokens = df.with_columns(
        _sig_comment_tokens=_tokens(comment),
        _sig_correction_tokens=_tokens(correction),
        _sig_noop=pl.col("correction").is_not_null() & (_canonical(correction) == _canonical(response)),
    )
    test = _TestVocabulary.of(tokens["_sig_comment_tokens"], tokens["_sig_correction_tokens"])
    return tokens.with_columns(
        _sig_has_comment=pl.col("_sig_comment_tokens").list.len() > 0,
        _sig_comment_testish=test.is_testish(pl.col("_sig_comment_tokens")),
        _sig_correction_testish=test.is_testish(pl.col("_sig_correction_tokens")),
        _sig_comment_concern=comment.str.contains(_CONCERN),
        _sig_comment_mentions_test=test.mentions_test(pl.col("_sig_comment_tokens")),
    ).with_columns(
        _sig_has_correction=(pl.col("_sig_correction_tokens").list.len() > 0)
        & ~pl.col("_sig_noop")
        & ~pl.col("_sig_correction_testish"),
    )


def _structural_signals(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` (with the rule signals) plus the structural feature columns the model reads."""
    comment = pl.col("comment").fill_null("")
    correction = pl.col("correction").fill_null("")
    response = pl.col("response").fill_null("")
    asked = _last_user_message(pl.col("prompt")).fill_null("")
    base = df.with_columns(
        _sig_response_tokens=_tokens(response),
        _sig_prompt_tokens=_tokens(asked),
    ).with_columns(
        _sig_comment_content=_content(pl.col("_sig_comment_tokens")),
        _sig_prompt_content=_content(pl.col("_sig_prompt_tokens")),
    )

    # Structural features are computed only where a real correction exists; elsewhere they are
    # 0 and ``has_correction`` tells the model why.
    real = pl.col("_sig_has_correction")
    resp_tok, corr_tok = pl.col("_sig_response_tokens"), pl.col("_sig_correction_tokens")
    added = corr_tok.list.set_difference(resp_tok)
    # Signed: polars string lengths and counts are unsigned, and differences must not wrap.
    len_r = response.str.len_chars().cast(pl.Int64)
    len_c = correction.str.len_chars().cast(pl.Int64)
    longest = pl.max_horizontal(len_r, len_c)

    def numbers(text: pl.Expr) -> pl.Expr:
        return text.str.replace_all(_LIST_MARKER, "").str.extract_all(_NUMBER).list.unique()

    def names(text: pl.Expr) -> pl.Expr:
        found = text.str.extract_all(_NAME)
        return found.list.eval(pl.element().str.replace(r"^[\p{L}\p{N})] +", "")).list.unique()

    def syntax_delta() -> pl.Expr:
        before = response.str.count_matches(_SYNTAX).cast(pl.Int64)
        delta = (before - correction.str.count_matches(_SYNTAX).cast(pl.Int64)).abs()
        return pl.min_horizontal(delta.cast(pl.Float64) / 4.0, pl.lit(1.0))

    def unbalanced(text: pl.Expr) -> pl.Expr:
        return (text.str.count_matches(r"\{") != text.str.count_matches(r"\}")) | (
            text.str.count_matches(r"\[") != text.str.count_matches(r"\]")
        )

    comment_content = pl.col("_sig_comment_content")
    structural = {
        "rating_up": pl.col("rating") == "up",
        "has_comment": pl.col("_sig_has_comment"),
        # A note repeating the prompt's words is about what was asked ("where are the bullet
        # points?"); a wish the prompt never expressed ("bullets please") is a preference.
        "comment_echoes_prompt": _ratio(
            comment_content.list.set_intersection(pl.col("_sig_prompt_content")).list.len().cast(pl.Float64),
            comment_content.list.len(),
        ),
        "comment_has_number": comment.str.contains(r"\d"),
        "has_correction": real,
        "correction_shrinks": real * _ratio((len_r - len_c).clip(0).cast(pl.Float64), longest),
        "correction_grows": real * _ratio((len_c - len_r).clip(0).cast(pl.Float64), longest),
        "token_jaccard": real
        * _ratio(
            corr_tok.list.set_intersection(resp_tok).list.len().cast(pl.Float64),
            corr_tok.list.set_union(resp_tok).list.len(),
        ),
        "tokens_removed": real
        * _ratio(resp_tok.list.set_difference(corr_tok).list.len().cast(pl.Float64), resp_tok.list.len()),
        "tokens_added": real * _ratio(added.list.len().cast(pl.Float64), corr_tok.list.len()),
        "added_from_prompt": real
        * _ratio(
            added.list.set_intersection(pl.col("_sig_prompt_tokens")).list.len().cast(pl.Float64),
            added.list.len(),
        ),
        "numbers_changed": real
        & (numbers(response).list.set_symmetric_difference(numbers(correction)).list.len() > 0),
        # Removing a name is how a hallucinated entity gets fixed; removing filler is not.
        "names_removed": real & (names(response).list.set_difference(names(correction)).list.len() > 0),
        "names_added": real & (names(correction).list.set_difference(names(response)).list.len() > 0),
        "code_fence_changed": real
        & (response.str.count_matches("```") != correction.str.count_matches("```")),
        "syntax_changed": real * syntax_delta(),
        "brackets_fixed": real & unbalanced(response) & ~unbalanced(correction),
        "edits_structured_output": real & response.str.contains(_STRUCTURED),
    }
    return base.with_columns(**{f"_feat_{name}": expr.cast(pl.Float64) for name, expr in structural.items()})


STRUCTURAL_FEATURES: Final[tuple[str, ...]] = (
    "rating_up",
    "has_comment",
    "comment_echoes_prompt",
    "comment_has_number",
    "has_correction",
    "correction_shrinks",
    "correction_grows",
    "token_jaccard",
    "tokens_removed",
    "tokens_added",
    "added_from_prompt",
    "numbers_changed",
    "names_removed",
    "names_added",
    "code_fence_changed",
    "syntax_changed",
    "brackets_fixed",
    "edits_structured_output",
)


# ---------------------------------------------------------------------------------------------
# Rules.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    name: str
    intent: Intent
    when: pl.Expr  # over the ``_sig_*`` columns
    why: str


RULES: Final[tuple[Rule, ...]] = (
    Rule(
        "testing_marker",
        "testing",
        (pl.col("_sig_comment_testish") & ~pl.col("_sig_has_correction"))
        | (~pl.col("_sig_has_comment") & pl.col("_sig_correction_testish")),
        "the note is only test words or keyboard mash and no real correction was given",
    ),
    Rule(
        "no_evidence",
        "abstain",
        (pl.col("rating") == "down")
        & ~pl.col("_sig_has_comment")
        & (pl.col("_sig_correction_tokens").list.len() == 0),
        "a thumbs-down with no note and no correction: nothing to judge, a human decides",
    ),
    Rule(
        "noop_correction",
        "taste",
        (pl.col("rating") == "down") & pl.col("_sig_noop") & ~pl.col("_sig_has_comment"),
        "the correction equals the response: whatever was disliked, nothing was wrong enough to fix",
    ),
    Rule(
        "positive_rating",
        "positive",
        (pl.col("rating") == "up")
        & ~pl.col("_sig_has_correction")
        & ~pl.col("_sig_comment_concern")
        & ~pl.col("_sig_comment_mentions_test"),
        "thumbs-up, no correction, and no negation, contrast, complaint or test word in the note",
    ),
)


# ---------------------------------------------------------------------------------------------
# The model.
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainParams:
    """Knobs of ``train_intent_model``; the stage reads them from params.yaml."""

    C: float = 30.0  # inverse L2 strength; chosen by template-grouped cross-validation on the seed set
    word_ngram: tuple[int, int] = (1, 2)
    char_ngram: tuple[int, int] = (3, 5)
    min_df: int = 2  # n-grams seen once are mostly typos of one row; they would only memorise it
    structural_weight: float = 2.0  # scale of the structural block against the unit-norm TF-IDF blocks
    # "intent": every intent weighs the same in the loss, shared equally by its subtypes; so
    # defect (six subtypes) cannot outvote taste (four) just by having more classes.
    # "class": every fine class weighs the same. "none": rows weigh 1.
    balance: Literal["intent", "class", "none"] = "intent"
    max_iter: int = 5000


def _class_of(label: str, subtype: str | None) -> str:
    return f"{label}:{subtype}" if label in ("defect", "taste") and subtype else label


def _intent_of(model_class: str) -> str:
    return model_class.partition(":")[0]


def _sample_weights(targets: Sequence[str], balance: str) -> NDArray[np.float64]:
    """Row weights such that each intent (or class) contributes equally; mean weight 1."""
    counts = {c: targets.count(c) for c in set(targets)}
    if balance == "none":
        return np.ones(len(targets))
    if balance == "class":
        share = {c: 1.0 / len(counts) for c in counts}
    else:
        intents = {_intent_of(c) for c in counts}
        per_intent = {i: sum(_intent_of(c) == i for c in counts) for i in intents}
        share = {c: 1.0 / (len(intents) * per_intent[_intent_of(c)]) for c in counts}
    return np.asarray([share[c] * len(targets) / counts[c] for c in targets])


def _round(values: NDArray[np.float64]) -> list[float]:
    """10 significant digits: exact JSON round-trip, and last-bit differences between numeric
    libraries (BLAS builds, CPUs) almost never reach the serialised model."""
    return [float(f"{v:.10g}") for v in values.tolist()]


@dataclass(frozen=True, eq=False)
class IntentModel:
    """A fitted intent model; everything needed for inference, nothing executable."""

    params: TrainParams
    seed_value: int
    classes: tuple[str, ...]
    word_terms: tuple[str, ...]
    word_idf: NDArray[np.float64]
    char_terms: tuple[str, ...]
    char_idf: NDArray[np.float64]
    coef: NDArray[np.float64]  # (n_classes, n_word + n_char + n_structural)
    intercept: NDArray[np.float64]
    training: Mapping[str, object]  # provenance: rows, class counts, sha256 of the seed rows

    @cached_property
    def _word_index(self) -> pl.DataFrame:
        return _term_index(self.word_terms)

    @cached_property
    def _char_index(self) -> pl.DataFrame:
        return _term_index(self.char_terms)

    def features(self, signals: pl.DataFrame) -> sp.csr_matrix:
        """Design matrix of rows prepared by ``_signals``."""
        comments = signals["comment"].fill_null("")
        # Notes repeat themselves ("thanks", canned wording): each distinct one is tokenised once.
        distinct = comments.unique(maintain_order=True)
        row_of = comments.replace_strict(distinct, pl.int_range(distinct.len(), eager=True)).to_numpy()
        word = _counts(_word_grams(distinct, self.params.word_ngram), self._word_index, distinct.len())
        char = _counts(_char_wb_grams(distinct, self.params.char_ngram), self._char_index, distinct.len())
        structural = signals.select(f"_feat_{n}" for n in STRUCTURAL_FEATURES).to_numpy()
        return sp.hstack(
            [
                _tfidf(word, self.word_idf)[row_of],
                _tfidf(char, self.char_idf)[row_of],
                sp.csr_matrix(structural * self.params.structural_weight),
            ],
            format="csr",
        )

    def predict_proba(self, signals: pl.DataFrame) -> NDArray[np.float64]:
        """Class probabilities, columns in ``self.classes`` order (softmax of the linear scores)."""
        scores = np.asarray(self.features(signals) @ self.coef.T, dtype=np.float64) + self.intercept
        exp: NDArray[np.float64] = np.exp(scores - scores.max(axis=1, keepdims=True))
        proba: NDArray[np.float64] = exp / exp.sum(axis=1, keepdims=True)
        return proba

    def to_json(self) -> str:
        document = {
            "format": MODEL_FORMAT,
            "params": asdict(self.params),
            "seed_value": self.seed_value,
            "classes": list(self.classes),
            "structural_features": list(STRUCTURAL_FEATURES),
            "word": {"terms": list(self.word_terms), "idf": _round(self.word_idf)},
            "char": {"terms": list(self.char_terms), "idf": _round(self.char_idf)},
            "coef": [_round(row) for row in self.coef],
            "intercept": _round(self.intercept),
            "training": dict(self.training),
        }
        return json.dumps(document, sort_keys=True, ensure_ascii=True, separators=(",", ":")) + "\n"

    @classmethod
    def from_json(cls, text: str) -> IntentModel:
        document = json.loads(text)
        if document.get("format") != MODEL_FORMAT:
            raise ValueError(f"not an intent model of format {MODEL_FORMAT}: {document.get('format')!r}")
        if tuple(document["structural_features"]) != STRUCTURAL_FEATURES:
            raise ValueError("model was trained with different structural features; retrain it")
        raw = document["params"]
        params = TrainParams(
            **{**raw, "word_ngram": tuple(raw["word_ngram"]), "char_ngram": tuple(raw["char_ngram"])}
        )
        model = cls(
            params=params,
            seed_value=int(document["seed_value"]),
            classes=tuple(document["classes"]),
            word_terms=tuple(document["word"]["terms"]),
            word_idf=np.asarray(document["word"]["idf"], dtype=np.float64),
            char_terms=tuple(document["char"]["terms"]),
            char_idf=np.asarray(document["char"]["idf"], dtype=np.float64),
            coef=np.asarray(document["coef"], dtype=np.float64),
            intercept=np.asarray(document["intercept"], dtype=np.float64),
            training=document["training"],
        )
        width = len(model.word_terms) + len(model.char_terms) + len(STRUCTURAL_FEATURES)
        if model.coef.shape != (len(model.classes), width) or model.intercept.shape != (len(model.classes),):
            raise ValueError("model coefficients do not match its vocabulary and classes")
        return model


_NEGATOR: Final = re.compile(r"^(?:no|not|never|nothing|none|without|nor|n't|\w+n't)$")
_CLAUSE_END: Final = re.compile(r"^(?:[.,;:!?()\-–—]+|but|though|tho|however|just|only)$")
_NEGATION_SCOPE: Final[int] = 3


def _mark_negation(text: str) -> str:
    """Prefix the few words after a negation with ``neg_``: "no factual issues" -> "no neg_factual
    neg_issues". Taste notes often deny a defect ("content is not wrong", "no factual issues");
    without this the defect words in them would count for a defect.
    """
    out: list[str] = []
    scope = 0
    for token in re.findall(r"\w+'\w+|\w+|[^\w\s]+", text.lower()):
        if _CLAUSE_END.match(token):
            scope = 0
        elif scope:
            token, scope = f"neg_{token}", scope - 1
        elif _NEGATOR.match(token):
            scope = _NEGATION_SCOPE
        out.append(token)
    return " ".join(out)


# ---------------------------------------------------------------------------------------------
# Tokenising for inference: what scikit-learn's CountVectorizer(lowercase=True,
# strip_accents="unicode", default token_pattern) does with a fixed vocabulary, without importing
# scikit-learn (over a second of start-up in every classify process). ASCII comments, nearly all
# of them, are tokenised by polars: below U+0080 Python's and the regex crate's \w, \b and
# lowercasing agree, and \s does once spelled out. Other comments take the same steps in Python,
# as scikit-learn does. tests/test_intent_inference.py holds both paths to CountVectorizer.
# ---------------------------------------------------------------------------------------------

_SKLEARN_TOKEN: Final = re.compile(r"(?u)\b\w\w+\b")  # CountVectorizer's default token_pattern
_SKLEARN_WHITE_SPACES: Final = re.compile(r"\s\s+")
_ASCII_WORD: Final[str] = "0-9A-Za-z_"
_ASCII_SPACE: Final[str] = r"\t\n\x0B\x0C\r\x1C-\x1F "  # str.isspace() and re's \s, below U+0080
_ASCII_NEGATION_TOKENS: Final[str] = (
    f"[{_ASCII_WORD}]+'[{_ASCII_WORD}]+|[{_ASCII_WORD}]+|[^{_ASCII_WORD}{_ASCII_SPACE}]+"
)
_NOT_ASCII: Final[str] = r"[^\x00-\x7F]"


def _strip_accents(text: str) -> str:
    """scikit-learn's ``strip_accents_unicode``: NFKD, then drop combining characters."""
    if text.isascii():
        return text
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _sklearn_word_terms(text: str, ngram: tuple[int, int]) -> list[str]:
    tokens = _SKLEARN_TOKEN.findall(_strip_accents(text.lower()))
    low, high = ngram
    return [" ".join(tokens[i : i + n]) for n in range(low, high + 1) for i in range(len(tokens) - n + 1)]


def _sklearn_char_wb_terms(text: str, ngram: tuple[int, int]) -> list[str]:
    low, high = ngram
    terms: list[str] = []
    for word in _SKLEARN_WHITE_SPACES.sub(" ", _strip_accents(text.lower())).split():
        padded = f" {word} "
        for n in range(low, high + 1):
            terms.extend(padded[i : i + n] for i in range(max(len(padded) - n + 1, 1)))
            if len(padded) <= n:  # a word no longer than n is counted once, whole
                break
    return terms


def _python_grams(texts: pl.DataFrame, terms_of: Callable[[str], list[str]]) -> pl.DataFrame:
    docs: list[int] = []
    terms: list[str] = []
    for doc, text in texts.iter_rows():
        found = terms_of(text)
        docs.extend([doc] * len(found))
        terms.extend(found)
    return pl.DataFrame({"doc": docs, "term": terms}, schema={"doc": pl.UInt32, "term": pl.String})


def _word_grams(texts: pl.Series, ngram: tuple[int, int]) -> pl.DataFrame:
    """``doc`` (position in ``texts``), ``term``: every word n-gram of ``_mark_negation(text)``."""
    docs = texts.to_frame("text").with_row_index("doc")
    doc, token = pl.col("doc"), pl.col("token")
    new_clause = (doc != doc.shift(1)).fill_null(True) | token.str.contains(_CLAUSE_END.pattern)
    tokens = (
        docs.filter(~pl.col("text").str.contains(_NOT_ASCII))
        .select("doc", token=pl.col("text").str.to_lowercase().str.extract_all(_ASCII_NEGATION_TOKENS))
        .explode("token", empty_as_null=False, keep_nulls=False)
        .with_columns(clause=new_clause.cum_sum(), negator=token.str.contains(_NEGATOR.pattern))
    )
    # ``_mark_negation``'s scope: a token is in it when one of the few tokens before it in its clause
    # is a negator. That holds while no negator falls in another's scope; texts where one does
    # (chained negations) take the Python path.
    in_scope = pl.any_horizontal(
        (pl.col("negator").shift(d) & (pl.col("clause").shift(d) == pl.col("clause"))).fill_null(False)
        for d in range(1, _NEGATION_SCOPE + 1)
    )
    tokens = tokens.with_columns(in_scope=in_scope)
    chained = tokens.filter(pl.col("negator") & pl.col("in_scope"))["doc"].unique().implode()
    marked = pl.when("in_scope").then(pl.lit("neg_") + token).otherwise(token)
    words = (
        tokens.filter(~doc.is_in(chained))
        .select("doc", word=marked.str.extract_all(_SKLEARN_TOKEN.pattern))
        .explode("word", empty_as_null=False, keep_nulls=False)
    )
    low, high = ngram
    vectorised = [
        words.select("doc", term=pl.concat_str([pl.col("word").shift(-k) for k in range(n)], separator=" "))
        .filter(doc.shift(-(n - 1)) == doc)
        for n in range(low, high + 1)
    ]
    rest = docs.filter(pl.col("text").str.contains(_NOT_ASCII) | doc.is_in(chained))
    by_python = _python_grams(rest, lambda text: _sklearn_word_terms(_mark_negation(text), ngram))
    return pl.concat([*vectorised, by_python])


def _char_wb_grams(texts: pl.Series, ngram: tuple[int, int]) -> pl.DataFrame:
    """``doc`` (position in ``texts``), ``term``: every char_wb n-gram of the text."""
    docs = texts.to_frame("text").with_row_index("doc")
    padded = (
        docs.filter(~pl.col("text").str.contains(_NOT_ASCII))
        .select("doc", word=pl.col("text").str.to_lowercase().str.extract_all(f"[^{_ASCII_SPACE}]+"))
        .explode("word", empty_as_null=False, keep_nulls=False)
        .select("doc", word=pl.lit(" ") + pl.col("word") + pl.lit(" "))
        .with_columns(length=pl.col("word").str.len_bytes().cast(pl.Int64))
    )
    low, high = ngram
    length, word = pl.col("length"), pl.col("word")
    vectorised = [
        padded.filter(length >= n)
        .select("doc", "word", offset=pl.int_ranges(0, length - n + 1))
        .explode("offset")
        .select("doc", term=word.str.slice(pl.col("offset"), n))
        for n in range(low, high + 1)
    ]
    short = padded.filter(length < low).select("doc", term=word)
    by_python = _python_grams(
        docs.filter(pl.col("text").str.contains(_NOT_ASCII)), lambda text: _sklearn_char_wb_terms(text, ngram)
    )
    return pl.concat([*vectorised, short, by_python])


def _term_index(terms: Sequence[str]) -> pl.DataFrame:
    return pl.DataFrame(
        {"term": terms, "column": range(len(terms))}, schema={"term": pl.String, "column": pl.UInt32}
    )


def _counts(grams: pl.DataFrame, index: pl.DataFrame, n_docs: int) -> sp.csr_matrix:
    """Document-term counts over the vocabulary ``index``, columns sorted within each row."""
    found = grams.join(index, on="term")
    n_terms = index.height
    # One sort of (doc, column) packed into an integer counts and orders the entries at once.
    cells, counts = np.unique(
        found["doc"].to_numpy().astype(np.int64) * n_terms + found["column"].to_numpy(), return_counts=True
    )
    doc, column = np.divmod(cells, n_terms)
    return sp.csr_matrix(
        (counts.astype(np.float64), column, np.searchsorted(doc, np.arange(n_docs + 1))),
        shape=(n_docs, n_terms),
    )


def _tfidf(counts: sp.csr_matrix, idf: NDArray[np.float64]) -> sp.csr_matrix:
    """Sublinear tf x idf, L2-normalised: TfidfVectorizer's arithmetic in its order, so the same bits."""
    counts.data = 1.0 + np.log(counts.data)
    counts.data *= idf[counts.indices]
    norms = _row_norms(counts)
    counts.data /= np.repeat(np.where(norms == 0.0, 1.0, norms), np.diff(counts.indptr))
    return counts


def _row_norms(matrix: sp.csr_matrix) -> NDArray[np.float64]:
    """Each row's L2 norm, its squares summed left to right as scikit-learn's ``normalize`` does
    (numpy's pairwise summation can differ in the last bit, and so then would probabilities)."""
    squares = matrix.data * matrix.data
    starts, lengths = matrix.indptr[:-1], np.diff(matrix.indptr)
    longest_first = np.argsort(-lengths, kind="stable")
    descending = -lengths[longest_first]
    sums = np.zeros(len(lengths))
    for k in range(int(lengths.max(initial=0))):
        rows = longest_first[: np.searchsorted(descending, -k, side="left")]
        sums[rows] += squares[starts[rows] + k]
    return np.sqrt(sums)


def _fit_vocabulary(
    analyzer: Literal["word", "char_wb"], ngram: tuple[int, int], min_df: int, texts: list[str]
) -> tuple[tuple[str, ...], NDArray[np.float64]]:
    from sklearn.feature_extraction.text import TfidfVectorizer  # training only: slow to import

    vectorizer = TfidfVectorizer(
        analyzer=analyzer,
        ngram_range=tuple(ngram),
        lowercase=True,
        strip_accents="unicode",
        min_df=min_df,
        sublinear_tf=True,
        dtype=np.float64,
    ).fit(texts)
    vocabulary: dict[str, int] = vectorizer.vocabulary_
    terms = tuple(sorted(vocabulary, key=vocabulary.__getitem__))
    idf = np.asarray(_round(vectorizer.idf_), dtype=np.float64)
    return terms, idf


def _seed_digest(seed: pl.DataFrame) -> str:
    """sha256 of the seed rows the model saw, so a model JSON names its training data."""
    digest = hashlib.sha256()
    for row in seed.select(*INPUT_COLUMNS, "label", "label_subtype").iter_rows():
        digest.update(json.dumps(row, sort_keys=True, ensure_ascii=True, default=str).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _check_input(df: pl.DataFrame, extra: Sequence[str] = ()) -> None:
    missing = [c for c in (*INPUT_COLUMNS, *extra) if c not in df.columns]
    if missing:
        raise ValueError(f"intent input lacks columns {missing}")
    ratings = set(df["rating"].drop_nulls().unique().to_list())
    if df["rating"].null_count() or not ratings <= {"up", "down"}:
        raise ValueError(
            f"rating must be 'up' or 'down', got {sorted(ratings)} (nulls: {df['rating'].null_count()})"
        )
    unknown = set(df["reason_code"].drop_nulls().unique().to_list()) - ALL_REASON_CODES
    if unknown:
        raise ValueError(f"unknown reason_code values {sorted(unknown)}")


def train_intent_model(
    seed: pl.DataFrame, *, seed_value: int = 0, params: TrainParams = TrainParams()
) -> IntentModel:
    """Fit the model on a labelled seed set (input columns plus ``label``, ``label_subtype``).

    All seed rows are used, including ones rules would decide: they show the model the full
    range of each intent, which helps on rows the rules do not catch.
    """
    from sklearn.linear_model import LogisticRegression  # training only: slow to import
    from threadpoolctl import threadpool_limits

    _check_input(seed, extra=("label", "label_subtype"))
    bad = set(seed["label"].unique().to_list()) - set(LABELS)
    if bad:
        raise ValueError(f"seed labels must be among {LABELS}, got {sorted(map(str, bad))}")
    defects = seed.filter(pl.col("label") == "defect")
    if not set(defects["label_subtype"].unique().to_list()) <= set(DEFECT_SUBTYPES):
        raise ValueError(f"every defect row needs a label_subtype among {DEFECT_SUBTYPES}")

    comments = seed["comment"].fill_null("").to_list()
    word_terms, word_idf = _fit_vocabulary(
        "word", params.word_ngram, params.min_df, [_mark_negation(c) for c in comments]
    )
    char_terms, char_idf = _fit_vocabulary("char_wb", params.char_ngram, params.min_df, comments)
    targets = [_class_of(label, sub) for label, sub in seed.select("label", "label_subtype").iter_rows()]
    classes = tuple(sorted(set(targets)))

    unfitted = IntentModel(
        params=params,
        seed_value=seed_value,
        classes=classes,
        word_terms=word_terms,
        word_idf=word_idf,
        char_terms=char_terms,
        char_idf=char_idf,
        coef=np.zeros((len(classes), 0)),
        intercept=np.zeros(len(classes)),
        training={},
    )
    # lbfgs is deterministic; random_state is pinned anyway so a change of solver cannot quietly
    # make the model depend on global state. One thread: at this size threads only contend
    # (measured 25x slower on a busy 2-core runner), and a fixed thread count fixes BLAS's
    # summation order, hence the last bits of the coefficients.
    with threadpool_limits(limits=1):
        regression = LogisticRegression(
            C=params.C, max_iter=params.max_iter, random_state=seed_value
        ).fit(
            unfitted.features(_signals(seed)),
            targets,
            sample_weight=_sample_weights(targets, params.balance),
        )
    if tuple(regression.classes_) != classes:
        raise RuntimeError("logistic regression reordered the classes")
    return IntentModel(
        params=params,
        seed_value=seed_value,
        classes=classes,
        word_terms=word_terms,
        word_idf=word_idf,
        char_terms=char_terms,
        char_idf=char_idf,
        coef=np.asarray([_round(row) for row in regression.coef_], dtype=np.float64),
        intercept=np.asarray(_round(regression.intercept_), dtype=np.float64),
        training={
            "rows": seed.height,
            "class_counts": {c: targets.count(c) for c in classes},
            "seed_sha256": _seed_digest(seed),
        },
    )


# ---------------------------------------------------------------------------------------------
# Classification.
# ---------------------------------------------------------------------------------------------


def _model_decisions(
    signals: pl.DataFrame, model: IntentModel, abstain_below: float, defect_margin: float
) -> pl.DataFrame:
    """Row index, intent, defect_subtype, intent_source, intent_confidence of the model's rows."""
    proba = model.predict_proba(signals)
    intents = [i for i in LABELS if any(_intent_of(c) == i for c in model.classes)]
    by_intent = np.column_stack(
        [
            proba[:, [j for j, c in enumerate(model.classes) if _intent_of(c) == i]].sum(axis=1)
            for i in intents
        ]
    )
    best = by_intent.argmax(axis=1)
    confidence = by_intent[np.arange(len(best)), best]
    defect_columns = [j for j, c in enumerate(model.classes) if _intent_of(c) == "defect"]
    p_defect = proba[:, defect_columns].sum(axis=1)
    abstain = (confidence < abstain_below) | (np.abs(2.0 * p_defect - 1.0) < defect_margin)
    subtypes = [model.classes[j].partition(":")[2] for j in defect_columns]
    chosen = pl.Series(intents, dtype=pl.String).gather(best)
    likeliest_defect = pl.Series(subtypes, dtype=pl.String).gather(proba[:, defect_columns].argmax(axis=1))
    return pl.DataFrame(
        {_ROW: signals[_ROW], "chosen": chosen, "subtype": likeliest_defect, "abstain": abstain}
    ).select(
        _ROW,
        intent=pl.when("abstain").then(pl.lit("abstain")).otherwise("chosen"),
        defect_subtype=pl.when(~pl.col("abstain") & (pl.col("chosen") == "defect")).then("subtype"),
        intent_source=pl.when("abstain").then(pl.lit("abstain")).otherwise(pl.lit("model")),
        intent_confidence=pl.Series(confidence, dtype=pl.Float64),
    )


def classify_frame(
    df: pl.DataFrame,
    model: IntentModel,
    *,
    abstain_below: float = 0.6,
    defect_margin: float = 0.3,
) -> pl.DataFrame:
    """``df`` with ``intent``, ``defect_subtype``, ``intent_source``, ``intent_confidence`` added.

    ``abstain_below``: minimum model probability of the chosen intent.
    ``defect_margin``: the model abstains while |P(defect) - P(not defect)| < this, i.e. with the
    default 0.3 a row is called defect (or not) by the model only when P(defect) >= 0.65 (<= 0.35).
    """
    _check_input(df)
    clash = [c for c in OUTPUT_COLUMNS if c in df.columns]
    if clash:
        raise ValueError(f"input already has output columns {clash}")
    code = pl.col("reason_code")
    reason_intent = code.replace_strict({k: v[0] for k, v in REASON_CODES.items()}, default=None)
    reason_subtype = code.replace_strict({k: v[1] for k, v in REASON_CODES.items()}, default=None)
    decided = df.with_row_index(_ROW).with_columns(
        intent=reason_intent,
        defect_subtype=reason_subtype,
        intent_source=pl.when(reason_intent.is_not_null()).then(pl.lit("reason_code")),
        intent_confidence=pl.lit(1.0, dtype=pl.Float64),
    )
    # Each stage of the decision order computes its signals only for the rows still undecided:
    # most rows carry a reason code, and most of the rest meet a rule.
    undecided = decided.filter(pl.col("intent_source").is_null())
    if undecided.height:
        signals = _rule_signals(undecided)
        ruled = signals.select(
            _ROW,
            intent=pl.coalesce([pl.when(rule.when).then(pl.lit(rule.intent)) for rule in RULES]),
            intent_source=pl.coalesce([pl.when(rule.when).then(pl.lit(f"rule:{rule.name}")) for rule in RULES]),
        )
        decided = decided.update(ruled, on=_ROW, how="left")
        for_model = signals.filter(ruled["intent_source"].is_null())
        if for_model.height:
            by_model = _model_decisions(_structural_signals(for_model), model, abstain_below, defect_margin)
            decided = decided.update(by_model, on=_ROW, how="left")
    return decided.select(*df.columns, *OUTPUT_COLUMNS)
