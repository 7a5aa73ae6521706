"""Inference tokenises without scikit-learn; these tests hold it to scikit-learn.

``corpus.intent`` reimplements what ``CountVectorizer(lowercase=True, strip_accents="unicode")``
does over a fixed vocabulary (polars for ASCII text, Python for the rest) and the TF-IDF
normalisation, so that the classify stage need not import scikit-learn. Here the real
CountVectorizer and ``normalize`` are the reference: same terms, same counts, the same bits in the
design matrix, hence the same probabilities.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import polars as pl
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer
from sklearn.preprocessing import normalize

from corpus.intent import (
    STRUCTURAL_FEATURES,
    IntentModel,
    _char_wb_grams,
    _counts,
    _mark_negation,
    _signals,
    _term_index,
    _tfidf,
    _word_grams,
    train_intent_model,
)
from tests.test_intent import REPO_ROOT, labelled

# Texts where Python's and the regex crate's notions of word, space, case and accent part ways,
# plus the shapes of text the tokeniser branches on: empty, one-letter and very long words,
# apostrophes, punctuation runs, negations (single, chained, cut by a clause end).
ADVERSARIAL: list[str] = [
    "",
    " ",
    "\t\n\r\x0b\x0c",
    "a",
    "a b c d e f I x",
    "ab",
    "abc",
    "Café résumé naïve façade ÉCOLE",
    "e\u0301te\u0301 n\u0303 cafe\u0301s",  # combining marks
    "ﬁne ﬂow Ⅻ ① ＡＢＣ",  # NFKD compatibility forms
    "non\u00a0breaking\u2003em\u3000ideographic\u2028line\u2029para\x85next",
    "tabs\tand\nnew\r\nlines   runs \t\t of  space",
    "unit\x1cgroup\x1drecord\x1eunit\x1fseparators",
    "vertical\x0btab\x0cform feed",
    "nul\x00byte and \x7f delete",
    "don't isn't can't won't it's rock'n'roll 'quoted' o'clock ''",
    "!!! ??? ... --- ;;; ()() -- — – ,,, a.b.c e.g. i.e.",
    "no factual issues. just tone",
    "No factual errors, but the tone is off",
    "NOT WRONG AT ALL",
    "no no no no no wrong answer here at all",
    "not not bad, never nothing none without nor",
    "it isn't wrong — just long; doesn't matter",
    "n't n't n't",
    "without any errors or omissions whatsoever",
    "snake_case __dunder__ _ __ 123 4.5 6,000 x2 2x",
    "a" * 3000,
    "z " * 400,
    "word " * 300 + "no " * 20,
    "这个回答不正确，请修改。",
    "日本語のテキストです 한국어 텍스트",
    "👍 great 🎉 👍🏽 👨\u200d👩\u200d👧 ok👌",
    "İSTANBUL ΣΊΣΥΦΟΣ ΟΔΟΣ STRASSE Straße ǅ ǈ",
    "²³ ½ ¾ numbers ٣ ४",
    "Ça n'est pas faux, c'est juste long",
    "Es ist nicht falsch — nur zu lang",
    "the refund amount is wrong, it should be $24.10 not $42.10",
    "asdf qwerty test test 123",
]

WORD_NGRAMS = [(1, 2), (1, 1), (2, 3), (1, 4)]
CHAR_NGRAMS = [(3, 5), (1, 3), (2, 2), (4, 6), (5, 7)]


@pytest.fixture(scope="module")
def seed() -> pl.DataFrame:
    return labelled("seed")


@pytest.fixture(scope="module")
def texts(seed: pl.DataFrame) -> list[str]:
    comments = seed["comment"].fill_null("").to_list()
    # Repeats on purpose: inference tokenises each distinct comment once.
    return [*comments, *ADVERSARIAL, *ADVERSARIAL[::-1], *comments[:50]]


@pytest.fixture(scope="module")
def model(seed: pl.DataFrame) -> IntentModel:
    return train_intent_model(seed)


def reference_counts(analyzer: str, ngram: tuple[int, int], texts: list[str]) -> tuple[list[str], sp.csr_matrix]:
    """CountVectorizer's vocabulary of ``texts`` (every term they contain) and their counts."""
    vectorizer = CountVectorizer(
        analyzer=analyzer, ngram_range=ngram, lowercase=True, strip_accents="unicode", dtype=np.float64
    )
    counts = sp.csr_matrix(vectorizer.fit_transform(texts))
    counts.sort_indices()  # fitting renumbers the terms alphabetically, leaving rows unsorted
    terms = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    return terms, counts


def assert_same_matrix(ours: sp.csr_matrix, reference: sp.csr_matrix) -> None:
    assert ours.shape == reference.shape
    assert np.array_equal(ours.indptr, reference.indptr)
    assert np.array_equal(ours.indices, reference.indices)
    assert np.array_equal(ours.data, reference.data)  # bit for bit, not approximately


@pytest.mark.parametrize("ngram", WORD_NGRAMS)
def test_word_terms_match_count_vectorizer(texts: list[str], ngram: tuple[int, int]) -> None:
    terms, reference = reference_counts("word", ngram, [_mark_negation(t) for t in texts])
    series = pl.Series(texts, dtype=pl.String)
    assert_same_matrix(_counts(_word_grams(series, ngram), _term_index(terms), len(texts)), reference)


@pytest.mark.parametrize("ngram", CHAR_NGRAMS)
def test_char_wb_terms_match_count_vectorizer(texts: list[str], ngram: tuple[int, int]) -> None:
    terms, reference = reference_counts("char_wb", ngram, texts)
    series = pl.Series(texts, dtype=pl.String)
    assert_same_matrix(_counts(_char_wb_grams(series, ngram), _term_index(terms), len(texts)), reference)


@pytest.mark.parametrize("text", ADVERSARIAL)
def test_each_adversarial_text_alone(text: str) -> None:
    """One text per call: the vectorised negation scope and n-grams must not lean on neighbours."""
    for analyzer, ngram, grams, document in (
        ("word", (1, 2), _word_grams, _mark_negation(text)),
        ("char_wb", (3, 5), _char_wb_grams, text),
    ):
        vectorizer = CountVectorizer(analyzer=analyzer, ngram_range=ngram, lowercase=True, strip_accents="unicode")
        expected = sorted(vectorizer.build_analyzer()(document))
        assert sorted(grams(pl.Series([text], dtype=pl.String), ngram)["term"].to_list()) == expected, analyzer


def test_tfidf_sums_squares_in_scikit_learns_order() -> None:
    """Rows of many terms, where numpy's pairwise summation would differ from normalize's loop."""
    rng = np.random.default_rng(0)
    counts = sp.random(300, 400, density=0.3, format="csr", random_state=rng, dtype=np.float64)
    counts.data = rng.integers(1, 20, size=counts.nnz).astype(np.float64)
    counts.sort_indices()
    idf = rng.uniform(1.0, 10.0, size=400)
    expected = counts.copy()
    expected.data = 1.0 + np.log(expected.data)
    expected.data *= idf[expected.indices]
    assert_same_matrix(_tfidf(counts, idf), normalize(expected, norm="l2"))


def reference_features(model: IntentModel, signals: pl.DataFrame) -> sp.csr_matrix:
    """The design matrix as built with scikit-learn's CountVectorizer and normalize."""
    comments = signals["comment"].fill_null("").to_list()

    def tfidf(analyzer: str, ngram: tuple[int, int], terms: tuple[str, ...], idf: np.ndarray,
              docs: list[str]) -> sp.csr_matrix:
        counter = CountVectorizer(
            analyzer=analyzer,
            ngram_range=ngram,
            lowercase=True,
            strip_accents="unicode",
            vocabulary={term: i for i, term in enumerate(terms)},
            dtype=np.float64,
        )
        matrix = sp.csr_matrix(counter.transform(docs), dtype=np.float64)
        matrix.data = 1.0 + np.log(matrix.data)
        matrix.data *= idf[matrix.indices]
        return normalize(matrix, norm="l2", copy=False)

    structural = signals.select(f"_feat_{n}" for n in STRUCTURAL_FEATURES).to_numpy()
    return sp.hstack(
        [
            tfidf("word", model.params.word_ngram, model.word_terms, model.word_idf,
                  [_mark_negation(c) for c in comments]),
            tfidf("char_wb", model.params.char_ngram, model.char_terms, model.char_idf, comments),
            sp.csr_matrix(structural * model.params.structural_weight),
        ],
        format="csr",
    )


def test_features_and_probabilities_match_scikit_learn(model: IntentModel, seed: pl.DataFrame) -> None:
    heldout = labelled("heldout")
    adversarial = seed.head(2 * len(ADVERSARIAL) + 1).with_columns(
        comment=pl.Series([*ADVERSARIAL, *(t.upper() for t in ADVERSARIAL), None], dtype=pl.String)
    )
    frame = pl.concat([seed, heldout, adversarial], how="vertical_relaxed")
    signals = _signals(frame)
    ours, reference = model.features(signals), reference_features(model, signals)
    assert_same_matrix(ours, reference)
    scores = np.asarray(reference @ model.coef.T) + model.intercept
    expected = np.exp(scores - scores.max(axis=1, keepdims=True))
    expected /= expected.sum(axis=1, keepdims=True)
    assert np.array_equal(model.predict_proba(signals), expected)


def test_classify_stage_imports_neither_scikit_learn_nor_scipy_stats() -> None:
    """As DVC runs it: the script's folder first on sys.path, its imports executed."""
    script = REPO_ROOT / "scripts" / "classify.py"
    code = (
        "import importlib.util, sys\n"
        f"sys.path.insert(0, {str(script.parent)!r})\n"
        f"spec = importlib.util.spec_from_file_location('classify', {str(script)!r})\n"
        "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "slow = ('sklearn', 'threadpoolctl')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in slow or m == 'scipy.stats'))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    assert result.stdout.strip() == "[]"

