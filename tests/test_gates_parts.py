"""The poisoning gate's prompt n-grams counted a hash range at a time give what counting them all at
once gives, and the prompt words re-read for a few examples are those of the whole tokenisation."""

from __future__ import annotations

import numpy as np
import pytest

from corpus.gates import poisoning
from corpus.gates.text import ExampleText, all_ngrams
from tests.test_gates import PAYLOAD, _with_trigger, build_corpus, indexed, plant, settings, user_texts
from tests.test_gates_scale import _tokens


@pytest.mark.parametrize("parts", [2, 4, 256])
@pytest.mark.parametrize(("words", "docs", "max_n"), [(0, 1, 3), (1, 1, 2), (5000, 40, 3), (3000, 3, 5)])
def test_all_ngrams_in_parts_are_the_whole_split_by_hash_range(parts: int, words: int, docs: int, max_n: int) -> None:
    tokens = _tokens(words + parts, words, docs)
    doc, hashes = all_ngrams(tokens, max_n)
    top = (hashes >> np.uint64(64 - (parts.bit_length() - 1))).astype(np.int64)
    for index in range(parts):
        part_doc, part_hashes = all_ngrams(tokens, max_n, part=(index, parts))
        # Each part is the whole's grams in that hash range, in the whole's order.
        assert part_doc.tolist() == doc[top == index].tolist()
        assert part_hashes.tolist() == hashes[top == index].tolist()


@pytest.mark.parametrize("part", [(0, 3), (2, 2), (-1, 4), (0, 512)])
def test_a_part_that_is_no_power_of_two_range_is_refused(part: tuple[int, int]) -> None:
    with pytest.raises(ValueError, match="power of two"):
        all_ngrams(_tokens(1, 10, 2), 2, part=part)


def test_candidates_counted_in_parts_equal_those_counted_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    clean = build_corpus(3000, seed=4)
    rows = list(range(11, 3000, 89))[:30]
    df = plant(clean, rows, user=_with_trigger(user_texts(clean), rows), target=PAYLOAD, annotator_id="a-mallory", batch_id="b-2")
    examples, text = indexed(df)
    content = poisoning.content_words(text.prompt)
    gate = settings(poisoning, "poisoning")
    monkeypatch.setattr(poisoning, "_PART_WORDS", len(content) + 1)
    assert poisoning._parts(len(content)) == 1
    whole, whole_rows = poisoning._candidates(examples, content, gate)
    monkeypatch.setattr(poisoning, "_PART_WORDS", len(content) // 5)
    assert poisoning._parts(len(content)) == 8  # capped at _MAX_PARTS
    parted, parted_rows = poisoning._candidates(examples, content, gate)
    assert whole.height > 0 and whole["group"].to_list().count("a-mallory") > 0
    assert parted.equals(whole) and parted_rows.equals(whole_rows)


def test_prompt_tokens_read_again_are_those_of_the_whole_tokenisation() -> None:
    df = build_corpus(200, seed=3)
    text = ExampleText.of(df["prompt"], df["target"])
    lean = text.without_prompt_words()
    assert lean.prompt is None and lean.target is text.target
    rows = np.array([150, 3, 3, 77, 0, 199])
    again, whole = lean.tokens("prompt", rows), text.prompt.of_docs(rows)
    assert again.word is None
    assert again.doc.tolist() == whole.doc.tolist() and again.hash.tolist() == whole.hash.tolist()
