"""The gates' memory-lean array code gives what the plain formulations give: all n-grams written in
place, the top group per gram from one packed sort, prompt words read back without keeping every
joined prompt, the final ledger put in line order without a sort on strings, the fate files
validated once."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from corpus.errors import StageInputError
from corpus.gates import conservation, poisoning
from corpus.gates.text import ExampleText, Tokens, all_ngrams, ngrams, tokenize
from corpus.paths import RepoPaths
from corpus.stage import fate_rows
from tests.test_gates import STAGE_GATES, _write_stage_inputs, build_corpus


def _tokens(seed: int, words: int, docs: int) -> Tokens:
    rng = np.random.default_rng(seed)
    doc = np.sort(rng.integers(0, max(docs, 1), words)).astype(np.uint32)
    return Tokens(doc, rng.integers(0, 2**63, words, dtype=np.uint64) * np.uint64(3))


@pytest.mark.parametrize(("words", "docs"), [(0, 1), (1, 1), (2, 1), (7, 7), (500, 40), (5000, 3)])
@pytest.mark.parametrize("max_n", [1, 2, 3, 5])
def test_all_ngrams_are_every_ngram_grouped_by_n(words: int, docs: int, max_n: int) -> None:
    tokens = _tokens(words + max_n, words, docs)
    before = tokens.hash.copy()
    doc, hashes = all_ngrams(tokens, max_n)
    grams = [ngrams(tokens, n) for n in range(1, min(max_n, max(words, 1)) + 1)]
    assert doc.dtype == np.uint32 and hashes.dtype == np.uint64
    assert doc.tolist() == [d for g in grams for d in g.doc.tolist()]
    assert hashes.tolist() == [h for g in grams for h in g.hash.tolist()]
    assert np.array_equal(tokens.hash, before)  # the caller's words are left alone


def test_top_group_is_the_largest_group_per_gram_smallest_name_on_ties() -> None:
    rng = np.random.default_rng(5)
    gram = np.sort(rng.integers(0, 300, 20_000)).astype(np.uint32)
    group = rng.integers(0, 7, len(gram)).astype(np.uint32)
    occurrences = poisoning._Occurrences(gram, np.zeros(len(gram), dtype=np.uint32), np.zeros(300, dtype=np.uint64))
    top_gram, top, most = poisoning._top_group(occurrences, group)
    expected = []
    for g in np.unique(gram).tolist():
        counts = np.bincount(group[gram == g], minlength=7)
        expected.append((g, int(np.argmax(counts)), int(counts.max())))
    assert list(zip(top_gram.tolist(), top.tolist(), most.tolist())) == expected
    assert top.dtype == np.int64 and most.dtype == np.int64


def test_prompt_words_read_back_are_those_of_the_tokenised_prompts() -> None:
    def message(role: str, content: str | None) -> dict[str, str | None]:
        return {"role": role, "content": content}

    prompts = pl.Series(
        [
            [message("system", "Be brief."), message("user", "Reset my Password, please")],
            [message("user", "Where is my parcel?"), message("assistant", None), message("user", "Still lost!")],
            [message("user", "Refund the invoice")],
        ]
    )
    text = ExampleText.of(prompts, pl.Series(["Done.", "It is on its way.", None]))
    read = text.with_words("prompt", np.array([2, 1, 1]))
    whole = text.prompt.of_docs(np.array([1, 2]))
    assert read.doc.tolist() == whole.doc.tolist() and read.hash.tolist() == whole.hash.tolist()
    assert read.word is not None and read.word.to_list() == ["where", "is", "my", "parcel", "still", "lost", "refund", "the", "invoice"]
    target = text.with_words("target", np.array([1]))
    assert target.word is not None and target.word.to_list() == tokenize(pl.Series(["It is on its way."]), words=True).word.to_list()


def test_final_ledger_in_line_order_is_the_sort_on_batch_line_and_stage() -> None:
    raw_lines = {"b2": 3, "a1": 2, "b10": 4}
    rows = [(batch, line) for batch, n in raw_lines.items() for line in range(1, n + 1)]
    final = pl.DataFrame(
        {
            "batch_id": [b for b, _ in rows],
            "line_no": [n for _, n in rows],
            "stage": ["ingest", "gates", "dedup", "gates", "split", "gates", "ingest", "gates", "gates"],
        }
    ).sample(fraction=1.0, shuffle=True, seed=2)
    assert conservation.in_line_order(final, raw_lines).equals(final.sort("batch_id", "line_no", "stage"))


def test_fate_files_are_validated_once_and_a_broken_one_is_named(tmp_path: Path) -> None:
    examples = build_corpus(60, seed=1, batches=2)
    _write_stage_inputs(tmp_path, examples, STAGE_GATES)
    paths = RepoPaths(tmp_path)
    batches = sorted(examples["batch_id"].unique())
    ledger = conservation.load_ledger(paths, batches)
    assert ledger.fates.height == 2 and sorted(ledger.fates["batch_id"]) == batches
    assert [f.ledger_rows for f in ledger.flows if f.stage == "ingest"] == [1, 1]

    broken = paths.stage_dir("redact") / f"{batches[1]}.fate.parquet"
    fate_rows(examples.head(1).with_columns(line_no=pl.lit(0, pl.Int64)), stage="redact", outcome="dropped", reason="x").write_parquet(broken)
    with pytest.raises(StageInputError, match=f"(?s){re.escape(str(broken))} breaks the FateRow contract.*line_no"):
        conservation.load_ledger(paths, batches)
    pl.DataFrame({"batch_id": [1]}).write_parquet(broken)  # not even the ledger's columns: concatenating fails
    with pytest.raises(StageInputError, match=re.escape(f"{broken} breaks the FateRow contract")):
        conservation.load_ledger(paths, batches)
