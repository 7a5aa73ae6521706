"""Dedup engine (corpus.dedup) and its similarity primitives (corpus.textsim), on generated chat data.

No mocks: texts come from a seeded generator of support-chat sentences, near duplicates are made by
word edits, and the ground truth is an independent pure-Python shingling.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
import time
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from datasketch import MinHashLSH
from polars.testing import assert_frame_equal

from corpus.dedup import DedupResult, dedup_frame, find_clusters, messages_to_text
from corpus.textsim import (
    jaccard,
    jaccard_upper_bound,
    lsh_candidate_pairs,
    lsh_params,
    minhash_signatures,
    normalise_text,
    shingle_bucket_counts,
    shingle_hashes,
    word_ngrams_hashes,
)

# ---------------------------------------------------------------- generated chat-like text

OPENERS = ["hi", "hello", "hey there", "good morning", "hi team", "quick question",
           "sorry to bother you again", "hello support", "thanks for the help earlier", "good afternoon"]
CLOSERS = ["thanks", "thank you so much", "please advise", "any help appreciated", "cheers",
           "let me know asap", "thanks in advance", "is that possible", "what should i do"]
SLOTS = {
    "city": "paris berlin lisbon madrid rome vienna prague warsaw oslo dublin boston denver austin "
            "seattle chicago toronto montreal tokyo osaka seoul sydney lima bogota quito cairo nairobi "
            "lagos dubai".split(),
    "plan": "basic starter pro premium business enterprise family student annual monthly".split(),
    "lang": "python rust go java kotlin swift typescript javascript ruby scala haskell elixir".split(),
    "error": "keyerror typeerror timeout segfault nullpointerexception panic overflow deadlock".split(),
    "thing": "list dictionary string array map iterator socket thread file buffer query cursor "
             "session".split(),
    "verb": "sort filter merge parse serialize cache retry stream validate reverse flatten batch".split(),
    "status": "delivered pending stuck returned lost delayed cancelled".split(),
    "field": "address tax number name amount currency date".split(),
    "hotel": "grand plaza riverside central harbor garden royal park".split(),
    "device": "iphone android tablet laptop desktop watch".split(),
    "month": "january february march april may june july august september october november december".split(),
}
TEMPLATES = [
    "I was charged {amount} twice for my {plan} plan on {date}.",
    "Can you refund the {amount} charge from {date}?",
    "My invoice {ref} shows the wrong {field} and I need it fixed before {date}.",
    "Why did my {plan} subscription renew without any notice?",
    "I want to downgrade from {plan} to {plan} starting {date}.",
    "I need to change my flight from {city} to {city} on {date}.",
    "Is breakfast included at the {hotel} hotel in {city}?",
    "My booking {ref} for {city} was cancelled and nobody told me!",
    "Can I bring a second bag on the {city} flight for {amount}?",
    "My {lang} function throws a {error} when the {thing} is empty.",
    "How do I {verb} a {thing} in {lang} without copying it?",
    "The {lang} client keeps hitting a {error} after {num} requests.",
    "What is the fastest way to {verb} a large {thing} in {lang}?",
    "Order {ref} has not arrived yet and tracking says {status}.",
    "The package for order {ref} was marked {status} on {date}.",
    "Can you ship to {city} instead of {city}?",
    "I cannot log in on my {device} since the update on {date}.",
    "The app crashes on my {device} whenever I open the {field} page.",
    "Please reset the two factor code for my {device}.",
    "I think someone used my account from {city} on {date}.",
]


class ChatText:
    """Seeded generator of support-chat texts: opener, templated sentences with slot values, closers."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def _pick(self, options: list[str]) -> str:
        return options[int(self.rng.integers(len(options)))]

    def _slot(self, name: str) -> str:
        r = self.rng
        if name == "amount":
            return f"${r.integers(5, 999)}.{r.integers(0, 100):02d}"
        if name == "date":
            return f"{self._pick(SLOTS['month'])} {r.integers(1, 29)}"
        if name == "ref":
            return f"{self._pick(['#', 'INV-', 'BK-', 'ORD-'])}{r.integers(10000, 99999)}"
        if name == "num":
            return str(r.integers(2, 5000))
        return self._pick(SLOTS[name])

    def sentence(self) -> str:
        return re.sub(r"\{(\w+)\}", lambda m: self._slot(m.group(1)), self._pick(TEMPLATES))

    def words(self, low: int, high: int) -> list[str]:
        """A text of between low and high words, as a word list."""
        size = int(self.rng.integers(low, high + 1))
        words = self._pick(OPENERS).capitalize().split() + [","]
        while len(words) < size:
            words += self.sentence().split()
            if self.rng.random() < 0.2:
                words += self._pick(CLOSERS).split()
        return words[:size]

    def mutate(self, words: list[str], edits: int) -> list[str]:
        """Random word swaps, insertions, deletions and substitutions."""
        out = list(words)
        for _ in range(edits):
            op, i = self.rng.integers(4), int(self.rng.integers(len(out)))
            if op == 0 and i + 1 < len(out):
                out[i], out[i + 1] = out[i + 1], out[i]
            elif op == 1:
                out.insert(i, self._pick(SLOTS["thing"] + SLOTS["verb"]))
            elif op == 2 and len(out) > 3:
                del out[i]
            else:
                out[i] = self._pick(SLOTS["city"] + SLOTS["field"])
        return out


# ---------------------------------------------------------------- independent ground truth

def reference_shingles(text: str, k: int = 3) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold())
    return {tuple(words[i : i + k]) for i in range(len(words) - k + 1)}


def reference_jaccard(a: str, b: str) -> float:
    sa, sb = reference_shingles(a), reference_shingles(b)
    return len(sa & sb) / len(sa | sb)


# ---------------------------------------------------------------- feedback frames

T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
SYSTEM = "You are the Acme support assistant. Be concise, cite the policy, never invent order data."


def feedback(rows: list[tuple[str, str, str, int]], **extra: list[object]) -> pl.DataFrame:
    """Rows of (feedback_id, user prompt, target, minutes after T0) as a dedup input frame."""
    return pl.DataFrame(
        {
            "feedback_id": [r[0] for r in rows],
            "prompt": [
                [{"role": "system", "content": SYSTEM}, {"role": "user", "content": r[1]}] for r in rows
            ],
            "target": [r[2] for r in rows],
            "collected_at": [T0 + dt.timedelta(minutes=r[3]) for r in rows],
            **extra,
        }
    )


def accounted(result: DedupResult) -> list[str]:
    ids = result.kept["feedback_id"].to_list() + result.dropped["feedback_id"].to_list()
    return sorted(ids + result.review["feedback_id"].to_list())


REFUND_Q = "How do I get a refund for my annual plan? I paid $120 on March 3 and never used it."
REFUND_YES = "You can request a full refund within 30 days from Billing > Invoices > Request refund."
REFUND_NO = "Annual plans are not refundable; you can cancel renewal so you are not charged again."


def near_duplicate_pairs(families: int, seed: int) -> Iterator[tuple[str, str, float]]:
    """Isolated (base, edited copy) pairs with their true Jaccard; light and heavy edits."""
    gen = ChatText(seed)
    for family in range(families):
        base = gen.words(15, 80)
        if family % 4 == 0:  # heavy edits: mostly pairs with Jaccard < 0.5
            edits = int(gen.rng.integers(len(base) // 3, len(base)))
        else:
            edits = int(gen.rng.integers(1, max(2, len(base) // 8)))
        a, b = " ".join(base), " ".join(gen.mutate(base, edits))
        yield a, b, reference_jaccard(a, b)


def chat_feedback(rows: int, seed: int) -> pl.DataFrame:
    """Feedback rows like production: ~70% distinct, the rest exact copies (case and spacing),
    near copies (a word edited) and contradictory corrections of the same prompt."""
    gen = ChatText(seed)
    rng = gen.rng
    pool = np.array([gen.sentence() for _ in range(min(20_000, 2 * rows))], dtype=object)
    distinct = int(rows * 0.7)

    def texts(count: int, low: int, high: int) -> list[str]:
        picks = rng.integers(0, len(pool), (count, high))
        sizes = rng.integers(low, high + 1, count)
        return [" ".join(pool[picks[i, : sizes[i]]]) for i in range(count)]

    prompts, targets = texts(distinct, 2, 3), texts(distinct, 1, 4)
    source = rng.integers(0, distinct, rows - distinct)
    for k, i in enumerate(source):
        prompt, target = prompts[i], targets[i]
        if k % 4 == 0:
            prompt, target = prompt.upper() + "  ", " " + target
        elif k % 4 in (1, 2):
            words = target.split()
            words[int(rng.integers(len(words)))] = "changed"
            target = " ".join(words)
        else:
            target = texts(1, 1, 3)[0]
        prompts.append(prompt)
        targets.append(target)
    # Rows in random order, ids unrelated to which row is the original.
    order, minutes = rng.permutation(rows), rng.integers(0, 10_000, rows)
    return feedback(
        [(f"fb-{int(j):07d}", prompts[j], targets[j], int(m)) for j, m in zip(order, minutes, strict=True)]
    )



# ---------------------------------------------------------------- text primitives

def test_normalise_text_folds_case_width_space_and_edge_punctuation() -> None:
    raw = ["  Hello,\tWORLD!! ", "hello, world", "STRASSE", "straße", "ﬁle\u00a0NAME", "File name",
           "¿Qué?", "5.3 vs 53"]
    out = pl.select(normalise_text(pl.lit(pl.Series(raw)))).to_series().to_list()
    assert out == ["hello, world", "hello, world", "strasse", "strasse", "file name", "file name",
                   "qué", "5.3 vs 53"]


def test_messages_to_text_formats_turns_and_leaves_out_roles() -> None:
    turns = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi  THERE!"}]
    frame = pl.DataFrame({"p": [turns]})
    assert frame.select(messages_to_text(pl.col("p"))).item() == "system: Be brief.\nuser: Hi  THERE!"
    left_out = frame.select(messages_to_text(pl.col("p"), exclude_roles=["system"], normalise=True)).item()
    assert left_out == "user: hi there"


def test_word_ngram_hashes_are_stable_and_position_free() -> None:
    texts = pl.Series(["The quick brown fox jumps!", "Straße café 東京", "two words", None])
    grams = word_ngrams_hashes(texts, 2)
    # Pinned values: contamination hashes and cluster ids are compared across snapshots, so a
    # change of tokenisation or hashing must be a deliberate, visible change.
    assert grams.to_list() == [
        [1546571831993941262, 3554100409331544623, 1301176827683606657, 14488261184362358667],
        [9516299123219492006, 13456745655978932969],
        [3099645074165656605],
        None,
    ]
    assert pl.DataFrame({"t": texts}).select(word_ngrams_hashes(pl.col("t"), 2)).to_series().equals(grams)
    # The same n-gram hashes the same wherever it occurs; a text shorter than n has none.
    fox = word_ngrams_hashes(pl.Series(["a quick brown fox", "QUICK, brown FOX."]), 3).to_list()
    assert fox[1][0] in fox[0] and word_ngrams_hashes(pl.Series(["too short"]), 8).to_list() == [[]]


def test_short_texts_use_character_shingles() -> None:
    sets = shingle_hashes(pl.Series(["Hi there", "hi there!", "hi thera", "x"])).to_list()
    assert sets[0] == sets[1]
    assert 0 < len(set(sets[0]) & set(sets[2])) < len(sets[0])
    assert len(sets[3]) == 1


def test_lsh_banding_matches_datasketch() -> None:
    for threshold, num_perm in [(0.5, 128), (0.3, 128), (0.7, 64), (0.8, 256)]:
        lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        assert lsh_params(threshold, num_perm) == (lsh.b, lsh.r)


def test_minhash_estimates_jaccard_and_lsh_proposes_near_pairs() -> None:
    pairs = list(near_duplicate_pairs(600, seed=21))
    texts = pl.Series([text for a, b, _ in pairs for text in (a, b)])
    sets = shingle_hashes(texts)
    pairwise = pl.DataFrame({"a": sets[0::2], "b": sets[1::2]})
    exact = pairwise.select(jaccard(pl.col("a"), pl.col("b"))).to_series()
    truth = np.array([j for _, _, j in pairs])
    assert np.allclose(exact.to_numpy(), truth)
    signatures = minhash_signatures(sets, num_perm=128, seed=1)
    estimate = (signatures[0::2] == signatures[1::2]).mean(axis=1)
    # Unbiased with binomial noise: sd <= 0.044 at 128 permutations.
    assert abs(float(np.mean(estimate - truth))) < 0.01 and float(np.std(estimate - truth)) < 0.05
    candidates = lsh_candidate_pairs(signatures, threshold=0.5)
    assert candidates.equals(candidates.unique().sort("left", "right"))
    assert (candidates["left"] < candidates["right"]).all()
    proposed = set(candidates.filter(pl.col("right") == pl.col("left") + 1, pl.col("left") % 2 == 0)["left"])
    near = [2 * i for i, j in enumerate(truth) if j >= 0.7]
    assert sum(i in proposed for i in near) / len(near) >= 0.97



def test_the_bucket_count_bound_is_never_below_the_exact_jaccard() -> None:
    """The filter before the exact check may only reject pairs the check would reject."""
    rng = np.random.default_rng(3)
    universe = rng.integers(0, 2**64, size=4_000, dtype=np.uint64)
    sets: list[list[int]] = []
    for _ in range(3_000):
        size = int(rng.choice([0, 1, 5, 40, 80, 300]))
        sets.append(sorted({int(v) for v in rng.choice(universe[: int(rng.integers(1, 4_000))], size=size)}))
    shingles = pl.Series(sets, dtype=pl.List(pl.UInt64))
    left, right = rng.integers(0, len(sets), size=20_000), rng.integers(0, len(sets), size=20_000)
    exact = pl.DataFrame({"a": shingles.gather(left), "b": shingles.gather(right)}).select(
        jaccard(pl.col("a"), pl.col("b"))
    ).to_series().to_numpy()
    sizes = shingles.list.len().to_numpy()
    for buckets in (64, 128):
        counts = shingle_bucket_counts(shingles, buckets=buckets)
        # A set of 300 shingles can put more than 255 in a bucket only in theory; the type follows the
        # largest set, so no count can wrap.
        assert counts.dtype == np.uint16 and counts.shape == (len(sets), buckets)
        assert np.array_equal(counts.sum(axis=1), sizes)
        bound = jaccard_upper_bound(counts[left], counts[right], sizes[left], sizes[right])
        assert (bound >= exact).all()
        # Not vacuous: most pairs of unrelated sets are rejected at 0.7 by the bound alone.
        unrelated = exact < 0.3
        assert (bound[unrelated] < 0.7).mean() > 0.9
    assert shingle_bucket_counts(shingles.head(0)).shape == (0, 128)
    assert shingle_bucket_counts(pl.Series([[1, 2], [3]], dtype=pl.List(pl.UInt64))).dtype == np.uint8
    with pytest.raises(ValueError, match="power of two"):
        shingle_bucket_counts(shingles, buckets=100)


def test_clusters_are_the_components_of_every_lsh_candidate_at_the_threshold() -> None:
    """No filter of the pair check loses a pair: clustering equals the exact Jaccard of every pair LSH
    proposes (all pairs of each bucket at this size), joined transitively."""
    pairs = list(near_duplicate_pairs(600, seed=29))
    # Distinct normalised texts, so that each text is one node of the candidate graph.
    raw = pl.Series("text", [text for a, b, _ in pairs for text in (a, b)])
    texts = raw.to_frame().select(normalise_text(pl.col("text"))).to_series().unique(maintain_order=True)
    frame = pl.DataFrame({"id": [f"t{i:05d}" for i in range(len(texts))], "text": texts})
    clusters = find_clusters(frame, id_column="id", text_column="text", threshold=0.7, lsh_threshold=0.5)

    sets = shingle_hashes(texts)
    assert (sets.list.len() > 0).all()
    candidates = lsh_candidate_pairs(minhash_signatures(sets, num_perm=128, seed=1), threshold=0.5, max_anchors=10_000)
    left, right = candidates["left"].to_numpy(), candidates["right"].to_numpy()
    exact = pl.DataFrame({"a": sets.gather(left), "b": sets.gather(right)}).select(
        jaccard(pl.col("a"), pl.col("b"))
    ).to_series().to_numpy()
    confirmed = exact >= 0.7
    # Near-threshold pairs are where a filter would slip: some must be proposed and rejected.
    assert confirmed.sum() >= 250 and ((exact >= 0.5) & ~confirmed).sum() >= 50
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components

    graph = coo_array((np.ones(confirmed.sum()), (left[confirmed], right[confirmed])), shape=(len(texts),) * 2)
    reference = connected_components(graph, directed=False)[1]
    cluster = clusters.sort("id")["cluster_id"].to_numpy()
    # Same partition: each reference component is one cluster and each cluster one component.
    partition = pl.DataFrame({"reference": reference, "cluster": cluster})
    assert partition.group_by("reference").agg(pl.col("cluster").n_unique())["cluster"].max() == 1
    assert partition.group_by("cluster").agg(pl.col("reference").n_unique())["reference"].max() == 1


# ---------------------------------------------------------------- clusters

def test_exact_duplicates_differing_in_case_and_whitespace() -> None:
    texts = {
        "a": "Where is my order #48213? It says delivered.",
        "b": "  where is MY order #48213?  it says   DELIVERED ",
        "c": "WHERE IS MY ORDER #48213?\nIT SAYS DELIVERED!!",
        "d": "Where is my refund for invoice INV-48213? It was approved.",
        "e": "Completely different question about invoices and tax numbers for my company account",
    }
    frame = pl.DataFrame({"id": list(texts), "text": list(texts.values())})
    out = find_clusters(frame, id_column="id", text_column="text")
    by_id = {r["id"]: r for r in out.iter_rows(named=True)}
    assert by_id["a"]["cluster_id"] == by_id["b"]["cluster_id"] == by_id["c"]["cluster_id"]
    assert (by_id["a"]["match"], by_id["a"]["cluster_size"]) == ("exact", 3)
    assert by_id["d"]["cluster_id"] != by_id["a"]["cluster_id"]
    assert by_id["e"]["match"] == "unique"


def test_near_duplicate_recall_and_precision() -> None:
    pairs = list(near_duplicate_pairs(2400, seed=11))
    frame = pl.DataFrame(
        {
            "id": [f"{i:05d}{side}" for i in range(len(pairs)) for side in "ab"],
            "text": [text for a, b, _ in pairs for text in (a, b)],
        }
    )
    clusters = find_clusters(frame, id_column="id", text_column="text")
    cluster = dict(clusters.select("id", "cluster_id").iter_rows())
    together = [cluster[f"{i:05d}a"] == cluster[f"{i:05d}b"] for i in range(len(pairs))]
    positives = [same for (_, _, j), same in zip(pairs, together, strict=True) if j >= 0.7]
    negatives = [same for (_, _, j), same in zip(pairs, together, strict=True) if j < 0.5]
    recall = sum(positives) / len(positives)
    # Families are isolated, so any cluster spanning two families is a false merge.
    families = pl.DataFrame({"cluster": list(cluster.values()), "family": [k[:5] for k in cluster]})
    spanning = families.group_by("cluster").agg(pl.col("family").n_unique()).filter(pl.col("family") > 1)
    merged_pairs = sum(together)
    true_merged = sum(same for (_, _, j), same in zip(pairs, together, strict=True) if j >= 0.7)
    precision = true_merged / merged_pairs
    print(
        f"\nnear duplicates: {len(positives)} pairs with J>=0.7, recall {recall:.4f}; "
        f"{len(negatives)} pairs with J<0.5, merged {sum(negatives)}; pair precision {precision:.4f}; "
        f"clusters spanning families {spanning.height}"
    )
    assert len(positives) >= 1000 and len(negatives) >= 400
    assert recall >= 0.95
    assert sum(negatives) == 0 and spanning.height == 0 and precision == 1.0


# ---------------------------------------------------------------- conflicts and actions

def conflict_frame() -> pl.DataFrame:
    return feedback(
        [
            ("fb-1", REFUND_Q, REFUND_YES, 10),
            ("fb-2", REFUND_Q.upper().replace(" ", "  "), REFUND_NO, 20),
            ("fb-3", REFUND_Q.replace("never used it", "never used it at all"), REFUND_YES.lower(), 5),
            ("fb-4", "Can you ship order ORD-55123 to Lisbon instead of Madrid?", "Yes, update the address.", 1),
            ("fb-5", "Can you ship order ORD-55123 to Lisbon instead of Madrid", "Yes, update the address", 2),
        ]
    )


def test_contradictory_corrections_are_flagged() -> None:
    result = dedup_frame(conflict_frame(), conflict_action="drop")
    assert result.conflicts.height == 1
    conflict = result.conflicts.row(0, named=True)
    assert conflict["member_ids"] == ["fb-1", "fb-2", "fb-3"]
    assert conflict["min_target_jaccard"] < 0.5 and "fb-1" in conflict["reason"]
    dropped = result.dropped.filter(pl.col("reason") == "conflicting_corrections")
    assert dropped["feedback_id"].to_list() == ["fb-1", "fb-2", "fb-3"]


def test_near_identical_corrections_are_plain_duplicates() -> None:
    rows = conflict_frame().filter(pl.col("feedback_id") != "fb-2")
    result = dedup_frame(rows)
    assert result.conflicts.height == 0
    assert result.kept["feedback_id"].to_list() == ["fb-1", "fb-5"]
    dropped = {r["feedback_id"]: r for r in result.dropped.iter_rows(named=True)}
    assert dropped["fb-3"]["reason"] == "near_duplicate" and dropped["fb-3"]["kept_feedback_id"] == "fb-1"
    assert dropped["fb-4"]["reason"] == "exact_duplicate" and dropped["fb-4"]["kept_feedback_id"] == "fb-5"
    assert result.kept.filter(pl.col("feedback_id") == "fb-1")["dedup_absorbed"].to_list() == [["fb-3"]]


@pytest.mark.parametrize(
    ("action", "kept", "dropped", "review"),
    [
        ("drop", ["fb-5"], ["fb-1", "fb-2", "fb-3", "fb-4"], []),
        ("keep_latest", ["fb-2", "fb-5"], ["fb-1", "fb-3", "fb-4"], []),
        ("review", ["fb-5"], ["fb-4"], ["fb-1", "fb-2", "fb-3"]),
    ],
)
def test_conflict_actions(action: str, kept: list[str], dropped: list[str], review: list[str]) -> None:
    frame = conflict_frame()
    result = dedup_frame(frame, conflict_action=action)
    assert result.kept["feedback_id"].to_list() == kept
    assert result.dropped["feedback_id"].to_list() == dropped
    assert result.review["feedback_id"].to_list() == review
    assert accounted(result) == sorted(frame["feedback_id"])
    assert result.conflicts["action"].to_list() == [action]
    if action == "keep_latest":
        superseded = result.dropped.filter(pl.col("reason") == "conflicting_corrections")
        assert superseded["kept_feedback_id"].to_list() == ["fb-2", "fb-2"]
        survivor = result.kept.filter(pl.col("feedback_id") == "fb-2")
        assert survivor["dedup_absorbed"].to_list() == [["fb-1", "fb-3"]]
    if action == "review":
        assert set(result.review["reason"]) == {"conflicting_corrections"}
        assert result.review.columns[: len(frame.columns)] == frame.columns


def test_representative_order_is_a_parameter() -> None:
    frame = feedback(
        [
            ("fb-1", REFUND_Q, REFUND_YES, 30),
            ("fb-2", REFUND_Q, REFUND_YES + ".", 10),
            ("fb-3", REFUND_Q, REFUND_YES, 20),
        ],
        human_correction=[False, True, False],
    )
    assert dedup_frame(frame).kept["feedback_id"].to_list() == ["fb-1"]  # most recent by default
    by_human = dedup_frame(frame, order_by=[("human_correction", True), ("collected_at", True)])
    assert by_human.kept["feedback_id"].to_list() == ["fb-2"]
    assert by_human.kept["dedup_absorbed"].to_list() == [["fb-1", "fb-3"]]
    assert set(by_human.dropped["reason"]) == {"exact_duplicate"}
    # Ties fall back to the smallest id.
    tied = frame.with_columns(collected_at=pl.lit(T0))
    assert dedup_frame(tied).kept["feedback_id"].to_list() == ["fb-1"]


def test_nulls_integer_ids_and_bad_input() -> None:
    frame = pl.DataFrame(
        {
            "id": [3, 1, 2],
            "prompt": [[{"role": "user", "content": "hi"}], None, [{"role": "user", "content": "HI"}]],
            "target": ["", "x", None],
            "collected_at": [T0, T0, T0],
        }
    )
    result = dedup_frame(frame, id_column="id")
    assert result.kept["id"].to_list() == [1, 2] and result.dropped["kept_id"].to_list() == [2]
    assert result.kept.schema["dedup_absorbed"] == pl.List(pl.Int64)
    with pytest.raises(ValueError, match="unique"):
        dedup_frame(pl.concat([frame, frame]), id_column="id")
    with pytest.raises(ValueError, match="conflict_action"):
        dedup_frame(frame, id_column="id", conflict_action="ignore")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="missing columns"):
        dedup_frame(frame, id_column="id", order_by=[("annotator_trust", True)])
    empty = dedup_frame(frame.clear(), id_column="id")
    assert (empty.kept.height, empty.dropped.height, empty.review.height) == (0, 0, 0)


# ---------------------------------------------------------------- determinism and throughput

def test_same_input_same_output_whatever_the_row_order() -> None:
    frame = chat_feedback(4_000, seed=3)
    first = dedup_frame(frame, conflict_action="keep_latest")
    again = dedup_frame(frame, conflict_action="keep_latest")
    shuffled = dedup_frame(frame.sample(fraction=1.0, shuffle=True, seed=9), conflict_action="keep_latest")
    for result in (again, shuffled):
        for name in ("kept", "dropped", "review", "conflicts"):
            assert_frame_equal(getattr(result, name), getattr(first, name))
    clusters = find_clusters(frame, id_column="feedback_id", text_column="target")
    assert_frame_equal(find_clusters(frame.reverse(), id_column="feedback_id", text_column="target"), clusters)
    assert first.kept.height < frame.height and first.conflicts.height > 0


def test_throughput_on_100k_rows() -> None:
    frame = chat_feedback(100_000, seed=5)
    user = pl.col("prompt").list.last().struct.field("content")
    text = frame.select("feedback_id", text=pl.concat_str([user, pl.col("target")], separator="\n"))
    # Wall time depends on what else runs on the machine; CPU time (all threads) is printed beside it.
    start, cpu = time.perf_counter(), time.process_time()
    clusters = find_clusters(text, id_column="feedback_id", text_column="text")
    cluster_seconds, cluster_cpu = time.perf_counter() - start, time.process_time() - cpu
    start, cpu = time.perf_counter(), time.process_time()
    result = dedup_frame(frame, conflict_action="review")
    dedup_seconds, dedup_cpu = time.perf_counter() - start, time.process_time() - cpu
    print(
        f"\nfind_clusters: {frame.height / cluster_seconds:,.0f} rows/s wall ({cluster_seconds:.1f} s, "
        f"{cluster_cpu:.1f} CPU-s); dedup_frame: {frame.height / dedup_seconds:,.0f} rows/s wall "
        f"({dedup_seconds:.1f} s, {dedup_cpu:.1f} CPU-s); "
        f"kept {result.kept.height}, dropped {result.dropped.height}, review {result.review.height}, "
        f"conflicts {result.conflicts.height}; clusters {clusters['cluster_id'].n_unique()}"
    )
    assert accounted(result) == sorted(frame["feedback_id"])
    assert set(result.dropped["reason"]) == {"exact_duplicate", "near_duplicate"}
    # A floor far below the measured figure: catches an accidental per-row Python loop, not noise.
    assert frame.height / cluster_seconds > 3_000


def test_rejected_pairs_remembers_exactly_the_pairs_added() -> None:
    from corpus.dedup import _RejectedPairs

    rng = np.random.default_rng(7)
    memo, reference = _RejectedPairs(), set()
    for _ in range(40):
        left = rng.integers(0, 5_000, size=int(rng.integers(0, 3_000)))
        right = rng.integers(0, 5_000, size=len(left))
        codes = _RejectedPairs.codes(left, right)
        expected = np.array([int(c) in reference for c in codes], dtype=bool)
        assert np.array_equal(memo.contains(codes), expected)
        # Either order of a pair is the same pair.
        assert np.array_equal(memo.contains(_RejectedPairs.codes(right, left)), expected)
        added = codes[rng.random(len(codes)) < 0.5]
        memo.add(added)
        reference.update(int(c) for c in added)
    # Runs were merged along the way: a handful, not one per add.
    assert len(memo._runs) <= 12


# ---------------------------------------------------------------- the stage script


def run_stage(root: Path, params: dict) -> subprocess.CompletedProcess[str]:
    """scripts/dedup.py in a bare repo at `root` holding only params.yaml (and dvc.yaml)."""
    (root / "params.yaml").write_text(yaml.safe_dump(params), encoding="utf-8")
    (root / "dvc.yaml").write_text("stages: {}\n", encoding="utf-8")
    script = Path(__file__).resolve().parents[1] / "scripts" / "dedup.py"
    return subprocess.run(
        [sys.executable, str(script)], cwd=root, capture_output=True, text=True,
        env={"CORPUS_REPO": str(root), "PATH": "/usr/bin:/bin"},
    )


@pytest.mark.parametrize(
    "entry",
    [["no_such_column", True], ["collected_at_utc", "yes"], "collected_at_utc", ["collected_at_utc"]],
)
def test_a_bad_representative_order_is_named_not_a_traceback(tmp_path, entry) -> None:
    params = yaml.safe_load((Path(__file__).resolve().parents[1] / "params.yaml").read_text(encoding="utf-8"))
    result = run_stage(tmp_path, {"batches": [], "dedup": {**params["dedup"], "representative_order": [entry]}})
    assert result.returncode == 1, result.stderr
    assert "dedup.representative_order" in result.stderr and repr(entry) in result.stderr
    assert "Traceback" not in result.stderr


def test_the_stage_runs_on_no_batches(tmp_path) -> None:
    params = yaml.safe_load((Path(__file__).resolve().parents[1] / "params.yaml").read_text(encoding="utf-8"))
    result = run_stage(tmp_path, {**params, "batches": []})
    assert result.returncode == 0, result.stderr
    out = tmp_path / "data" / "interim" / "dedup"
    assert pl.read_parquet(out / "examples.parquet").height == 0
    assert pl.read_parquet(out / "fate.parquet").height == 0
