"""Dedup engine of the `dedup` stage (DESIGN.md 4.5): exact and near-duplicate clusters, one
representative per cluster, and the consistency check on near-identical prompts.

Two clusterings, both made by `find_clusters`:

- prompt clusters (near-identical prompts): a cluster whose targets disagree materially is a
  conflict, i.e. a consistency failure, resolved by `conflict_action`;
- duplicate clusters (near-identical prompt + target): one representative is kept per cluster.

Conflicts are resolved first and duplicates are clustered among the rows still in play, so every
input row ends in exactly one of `kept`, `dropped` or `review`, with one reason.

Near-duplicate clustering: exact duplicates (same normalised text) collapse first; the distinct texts
get shingle sets (`textsim.shingle_hashes`), MinHash signatures and LSH candidates at a low
threshold (recall), then every candidate pair is confirmed by the exact Jaccard of the shingle sets
at the real threshold (precision), after two cheap filters that can only reject pairs the exact
check would reject too: set sizes too different, and an upper bound on the intersection from each
set's shingle counts in 128 hash buckets (`textsim.shingle_bucket_counts`).
Clusters are the connected components of the confirmed pairs (scipy's connected_components: the
same components a union-find would build, without a Python loop); pairs already known to be
connected are not re-checked, which keeps large families of near-identical texts linear.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, get_args

import numpy as np
import polars as pl
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from corpus.parallel import over_ranges
from corpus.textsim import (
    jaccard,
    jaccard_upper_bound,
    lsh_band_keys,
    lsh_candidate_batches,
    messages_to_text,
    minhash_signatures,
    normalise_text,
    shingle_bucket_counts,
    shingle_hashes,
    shingles_of_normalised_text,
)

__all__ = [
    "DEFAULT_ORDER_BY",
    "ConflictAction",
    "DedupResult",
    "DropReason",
    "dedup_frame",
    "find_clusters",
    "messages_to_text",
    "normalise_text",
]

ConflictAction = Literal["drop", "keep_latest", "review"]
DropReason = Literal["exact_duplicate", "near_duplicate", "conflicting_corrections"]

# Representative rule when the stage passes nothing else: most recent first. The id is always
# appended as the last, ascending key, so the order is total and the choice deterministic.
DEFAULT_ORDER_BY: tuple[tuple[str, bool], ...] = (("collected_at", True),)

# Candidate pairs are checked in batches so gathered bucket counts and shingle lists stay bounded
# in memory (~16 MiB of bucket counts per batch).
_VERIFY_BATCH_PAIRS = 65_536
# Distinct texts gathered per slice for shingling (see `_shingles_of_rows`).
_GATHER_ROWS = 131_072
# Internal columns carry this prefix; input frames must not use it.
_INTERNAL = "__dd_"


@dataclass(frozen=True)
class DedupResult:
    """Outcome of `dedup_frame`. Each input row is in exactly one of kept, dropped, review.

    kept: the input columns of each representative, plus `dedup_cluster_id`, `dedup_cluster_size`
        and `dedup_absorbed` (sorted ids of every dropped row this row now stands for).
    dropped: `<id>`, `reason` (a `DropReason`), `dedup_cluster_id`, `kept_<id>` (the kept row that
        replaces it; null when a conflict was dropped whole).
    review: the input columns of rows sent to human review, plus `dedup_cluster_id` and `reason`.
    conflicts: one row per conflicting prompt cluster: `cluster_id`, `member_ids`, `n_members`,
        `min_target_jaccard`, `action`, `reason` (a short readable sentence).
    """

    kept: pl.DataFrame
    dropped: pl.DataFrame
    review: pl.DataFrame
    conflicts: pl.DataFrame


def _check_ids(df: pl.DataFrame, id_column: str) -> None:
    ids = df.get_column(id_column)
    if ids.null_count() or ids.n_unique() != len(ids):
        raise ValueError(f"{id_column!r} must be non-null and unique")


def _cluster_id(sorted_member_ids: str) -> str:
    """Content-addressed: the same members give the same id in any run or snapshot."""
    return hashlib.sha256(sorted_member_ids.encode()).hexdigest()[:16]


class _RejectedPairs:
    """Pairs whose exact Jaccard was found below the threshold, as sorted runs of uint64 codes.

    LSH proposes a pair once per band in which it shares a bucket: candidates just under the
    threshold share ~2 of 25 bands, so on generated 1M-row feedback 35% of the exact checks were
    repeats. Runs merge when the newer one is at least half the size of the older (a log-structured
    merge), so membership costs a few binary searches and the sorts stay O(n log n) overall.
    """

    def __init__(self) -> None:
        self._runs: list[np.ndarray] = []

    @staticmethod
    def codes(left: np.ndarray, right: np.ndarray) -> np.ndarray:
        low, high = np.minimum(left, right).astype(np.uint64), np.maximum(left, right).astype(np.uint64)
        return (low << np.uint64(32)) | high

    def contains(self, codes: np.ndarray) -> np.ndarray:
        found = np.zeros(len(codes), dtype=bool)
        for run in self._runs:
            at = np.minimum(np.searchsorted(run, codes), len(run) - 1)
            found |= run[at] == codes
        return found

    def add(self, codes: np.ndarray) -> None:
        run = np.sort(codes)
        while self._runs and 2 * len(run) >= len(self._runs[-1]):
            run = np.sort(np.concatenate([self._runs.pop(), run]))
        if len(run):
            self._runs.append(run)


@dataclass(frozen=True)
class _PairCheck:
    """Confirms candidate pairs (row indices of `shingles` and `bucket_counts`) at the threshold."""

    shingles: pl.Series
    sizes: np.ndarray
    # `shingle_bucket_counts` of the shingle sets, coarse (64 buckets) then fine (128): each gives
    # an upper bound on a pair's Jaccard.
    bucket_counts: tuple[np.ndarray, np.ndarray]
    threshold: float
    rejected: _RejectedPairs = field(default_factory=_RejectedPairs)

    @classmethod
    def of(cls, shingles: pl.Series, threshold: float) -> _PairCheck:
        fine = shingle_bucket_counts(shingles, buckets=128)
        # Bucket h & 63 is the union of buckets h & 127 and (h & 127) + 64; a sum never exceeds the
        # set's size, which the type holds.
        coarse = fine[:, :64] + fine[:, 64:]
        return cls(shingles, shingles.list.len().to_numpy(), (coarse, fine), threshold)

    def passes(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        passed = np.zeros(len(left), dtype=bool)
        for start in range(0, len(left), _VERIFY_BATCH_PAIRS):
            batch = slice(start, start + _VERIFY_BATCH_PAIRS)
            passed[batch] = self._passes(left[batch], right[batch])
        return passed

    def _upper_bound(self, counts: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        bound = np.empty(len(left))

        def bound_of(lo: int, hi: int) -> None:
            pair_left, pair_right = left[lo:hi], right[lo:hi]
            bound[lo:hi] = jaccard_upper_bound(
                counts[pair_left], counts[pair_right], self.sizes[pair_left], self.sizes[pair_right]
            )

        over_ranges(bound_of, len(bound))
        return bound

    def _passes(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        # Most LSH candidates sit well below the threshold. Filters that can only reject pairs
        # whose exact Jaccard is below it come before the costly set intersection:
        # Jaccard <= min(|A|,|B|) / max(|A|,|B|), which reads two integers per pair, then the
        # bucket-count bounds, which read one then two cache lines per text (on generated 1M-row
        # feedback they leave 785k of 31M pairs, where a 4.5-sigma MinHash-agreement filter left 10.5M).
        sizes_left, sizes_right = self.sizes[left], self.sizes[right]
        likely = np.minimum(sizes_left, sizes_right) >= self.threshold * np.maximum(sizes_left, sizes_right)
        for counts in self.bucket_counts:
            likely[likely] = self._upper_bound(counts, left[likely], right[likely]) >= self.threshold
        codes = self.rejected.codes(left[likely], right[likely])
        fresh = ~self.rejected.contains(codes)
        likely[likely] = fresh
        if not likely.any():
            return likely
        pairs = pl.DataFrame({"a": self.shingles.gather(left[likely]), "b": self.shingles.gather(right[likely])})
        # One lazy query per core, run together: a single select intersects the lists on one
        # thread (measured 1.6x faster on 2 cores).
        size = -(-pairs.height // pl.thread_pool_size())
        parts = pl.collect_all(
            [
                pairs.slice(start, size).lazy().select(jaccard(pl.col("a"), pl.col("b")) >= self.threshold)
                for start in range(0, pairs.height, size)
            ]
        )
        passed = np.concatenate([part.to_series().to_numpy() for part in parts])
        self.rejected.add(codes[fresh][~passed])
        likely[likely] = passed
        return likely


def _components(n: int, left: list[np.ndarray], right: list[np.ndarray]) -> np.ndarray:
    """Connected-component label of each of n nodes given edge lists."""
    edges_left = np.concatenate(left) if left else np.zeros(0, dtype=np.int64)
    edges_right = np.concatenate(right) if right else np.zeros(0, dtype=np.int64)
    graph = coo_array((np.ones(len(edges_left), dtype=np.int8), (edges_left, edges_right)), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def _shingles_of_rows(texts: pl.Series, rows: np.ndarray, **shingles: int) -> pl.Series:
    """Shingle sets of texts[rows] (`normalise_text` output), gathered a slice at a time: gathering
    every distinct text at once would copy nearly the whole column."""
    parts = [
        shingles_of_normalised_text(texts.gather(rows[start : start + _GATHER_ROWS]), **shingles)
        for start in range(0, len(rows), _GATHER_ROWS)
    ]
    return pl.concat(parts, rechunk=True) if parts else shingles_of_normalised_text(texts.clear(), **shingles)


def _near_duplicate_components(
    shingles: pl.Series, *, threshold: float, lsh_threshold: float, num_perm: int, seed: int
) -> np.ndarray:
    """Component label of each shingle set in the graph of pairs whose exact Jaccard is >=
    threshold, among the pairs LSH proposes."""
    n_texts = len(shingles)
    # Texts without a single word character have no shingles: they can only be exact duplicates.
    has = np.flatnonzero(shingles.list.len().to_numpy() > 0)
    if len(has) < n_texts:
        shingles = shingles.gather(has)
    # The signatures only place texts in LSH buckets: they go once the band keys are made.
    band_keys = lsh_band_keys(minhash_signatures(shingles, num_perm=num_perm, seed=seed), threshold=lsh_threshold)
    check = _PairCheck.of(shingles, threshold)

    # Rows with equal labels are known to be connected. Pairs inside one label are skipped: they
    # cannot change the components, and skipping them is what keeps a family of thousands of
    # near-identical texts linear (each row is confirmed once, not against every anchor and band).
    labels = np.arange(len(has))
    accepted_left: list[np.ndarray] = []
    accepted_right: list[np.ndarray] = []
    current_band = 0
    for band, anchors, members in lsh_candidate_batches(band_keys):
        if band != current_band:
            labels, current_band = _components(len(has), accepted_left, accepted_right), band
        fresh = labels[anchors] != labels[members]
        anchors, members = anchors[fresh], members[fresh]
        passed = check.passes(anchors, members)
        accepted_left.append(anchors[passed])
        accepted_right.append(members[passed])
        # A member joins its anchor's label: still "equal label => connected", and the band's
        # later anchors then skip it. Other rows of its old label are refreshed at the next band.
        labels[members[passed]] = labels[anchors[passed]]
    return _components(n_texts, [has[a] for a in accepted_left], [has[m] for m in accepted_right])


def find_clusters(
    df: pl.DataFrame,
    *,
    id_column: str,
    text_column: str,
    threshold: float = 0.7,
    lsh_threshold: float = 0.5,
    num_perm: int = 128,
    shingle_words: int = 3,
    seed: int = 1,
    short_text_words: int = 10,
    char_ngram: int = 5,
    normalised: bool = False,
) -> pl.DataFrame:
    """Cluster rows whose texts are exact or near duplicates.

    Returns one row per input row, sorted by `id_column`: [id_column, "cluster_id", "cluster_size",
    "match"]. `cluster_id` is the first 16 hex digits of the sha256 of the sorted member ids (as
    strings, newline-joined), so it depends only on membership. `match` describes the cluster:
    "unique" (size 1), "exact" (all members share one normalised text) or "near".

    Two texts are near duplicates when the exact Jaccard of their shingle sets
    (`textsim.shingle_hashes`: word `shingle_words`-grams, character `char_ngram`-grams below
    `short_text_words` words) is >= `threshold`; clusters are the connected components of such
    pairs, so membership can chain. MinHash (`num_perm`, `seed`) + LSH at `lsh_threshold` only
    proposes the candidate pairs. Null text counts as empty. The result depends only on the set of
    (id, text) rows, not on their order. Pass `normalised=True` when the texts are already
    `normalise_text` output (it is idempotent), to skip normalising them again.
    """
    _check_ids(df, id_column)
    if not 0.0 < lsh_threshold <= threshold <= 1.0:
        raise ValueError(f"need 0 < lsh_threshold <= threshold <= 1, got {lsh_threshold}, {threshold}")
    texts = df.select(
        pl.col(text_column).fill_null("") if normalised else normalise_text(pl.col(text_column).fill_null(""))
    ).to_series()
    # Canonical order (rank by id): candidate generation picks bucket anchors by position. The
    # texts are not sorted or filtered into copies (at millions of rows each copy is gigabytes):
    # the ranks order them, and only slices of the distinct ones are ever gathered.
    by_id = df.get_column(id_column).arg_sort().to_numpy()
    rank = np.empty(len(by_id), dtype=np.int64)
    rank[by_id] = np.arange(len(by_id))
    # Exact duplicates collapse onto their first row; only distinct texts get MinHash, so a text
    # repeated 10k times costs one signature and cannot flood an LSH bucket.
    first = (
        pl.DataFrame({"_norm": texts, "_rank": rank}).select(pl.col("_rank").min().over("_norm")).to_series().to_numpy()
    )
    distinct = by_id[first[by_id] == rank[by_id]]
    component_of = np.empty(len(rank), dtype=np.int64)
    component_of[rank[distinct]] = _near_duplicate_components(
        _shingles_of_rows(
            texts, distinct, words=shingle_words, short_text_words=short_text_words, char_ngram=char_ngram
        ),
        threshold=threshold,
        lsh_threshold=lsh_threshold,
        num_perm=num_perm,
        seed=seed,
    )
    rows = pl.DataFrame({id_column: df.get_column(id_column), "_first": first, "_component": component_of[first]})
    clusters = rows.group_by("_component").agg(
        cluster_size=pl.len().cast(pl.Int64),
        _texts=pl.col("_first").n_unique(),
        _members=pl.col(id_column).cast(pl.String).sort().str.join("\n"),
    )
    clusters = clusters.with_columns(
        cluster_id=pl.Series([_cluster_id(m) for m in clusters["_members"]], dtype=pl.String),
        match=pl.when(pl.col("cluster_size") == 1)
        .then(pl.lit("unique"))
        .when(pl.col("_texts") == 1)
        .then(pl.lit("exact"))
        .otherwise(pl.lit("near")),
    )
    return (
        rows.join(clusters, on="_component")
        .select(id_column, "cluster_id", "cluster_size", "match")
        .sort(id_column)
    )


def _conflicting_prompt_clusters(
    work: pl.DataFrame, *, id_column: str, conflict_threshold: float, shingles: dict[str, int]
) -> pl.DataFrame:
    """Prompt clusters in which some member's target has Jaccard < conflict_threshold with the
    target of the cluster's representative (its best row by the representative rule).

    Comparing against the representative keeps the check linear in cluster size; it asks the
    question that matters for curation: is the row we would keep contradicted? Jaccard distance is
    a metric, so targets that all pass are within 2·(1 - conflict_threshold) of each other.
    """
    p = _INTERNAL
    multi = (
        work.filter(pl.col(f"{p}psize") > 1)
        .select(id_column, f"{p}pcluster", f"{p}rank", f"{p}target")
        .with_columns(_t=shingle_hashes(pl.col(f"{p}target"), **shingles))
        .with_columns(
            _anchor=pl.col(id_column).sort_by(f"{p}rank").first().over(f"{p}pcluster"),
            _anchor_t=pl.col("_t").sort_by(f"{p}rank").first().over(f"{p}pcluster"),
        )
        .with_columns(_j=jaccard(pl.col("_t"), pl.col("_anchor_t")))
    )
    return (
        multi.group_by(f"{p}pcluster")
        .agg(
            member_ids=pl.col(id_column).sort(),
            n_members=pl.len().cast(pl.Int64),
            min_target_jaccard=pl.col("_j").min(),
            _worst=pl.col(id_column).sort_by(["_j", f"{p}rank"]).first(),
            _anchor=pl.col("_anchor").first(),
        )
        .filter(pl.col("min_target_jaccard") < conflict_threshold)
        .with_columns(
            reason=pl.format(
                "{} rows share a near-identical prompt; the target of {} has Jaccard {} < {} "
                "with the target of {}",
                "n_members",
                "_worst",
                pl.col("min_target_jaccard").round(2),
                pl.lit(conflict_threshold),
                "_anchor",
            )
        )
        .select(
            cluster_id=pl.col(f"{p}pcluster"),
            member_ids="member_ids",
            n_members="n_members",
            min_target_jaccard="min_target_jaccard",
            reason="reason",
        )
        .sort("cluster_id")
    )


def dedup_frame(
    df: pl.DataFrame,
    *,
    id_column: str = "feedback_id",
    prompt_column: str = "prompt",
    target_column: str = "target",
    order_by: Sequence[tuple[str, bool]] = DEFAULT_ORDER_BY,
    time_column: str = "collected_at",
    threshold: float = 0.7,
    lsh_threshold: float = 0.5,
    num_perm: int = 128,
    shingle_words: int = 3,
    short_text_words: int = 10,
    char_ngram: int = 5,
    seed: int = 1,
    conflict_threshold: float = 0.5,
    conflict_action: ConflictAction = "drop",
    ignore_roles: Sequence[str] = ("system",),
) -> DedupResult:
    """Deduplicate feedback rows and flag near-identical prompts with conflicting targets.

    `prompt_column` is List(Struct{role, content}); `target_column` the text that would be trained
    on (null counts as empty). Messages whose role is in `ignore_roles` are left out of both keys:
    a system prompt shared by a whole surface would otherwise dominate every similarity (caveat:
    rows differing only in system prompt are therefore duplicates).

    1. Prompt clusters: `find_clusters` on the prompt text. A cluster is a conflict when the target
       of some member has Jaccard < `conflict_threshold` with the representative's target.
       `conflict_action`: "drop" drops every member; "keep_latest" keeps only the member with the
       greatest `time_column` (it then takes part in step 2); "review" sends every member to review.
    2. Duplicate clusters: `find_clusters` on "prompt\\nassistant: target" among the remaining rows;
       the representative is kept, the others are dropped as "exact_duplicate" (same normalised
       text as the representative) or "near_duplicate".

    Representative rule: sort by `order_by`, a list of (column, descending) applied in turn, nulls
    last, then by id ascending. Recommended in params.yaml: prefer human corrections, then defect
    intent, then recency, e.g. [("has_human_correction", True), ("is_defect", True),
    ("collected_at", True)] with those boolean columns derived by the stage. `time_column` and
    `order_by` columns should be datetimes, not RFC 3339 strings with mixed offsets.

    The similarity knobs are those of `find_clusters` and apply to both clusterings.
    """
    if conflict_action not in get_args(ConflictAction):
        raise ValueError(
            f"conflict_action must be one of {get_args(ConflictAction)}, got {conflict_action!r}"
        )
    needed = {id_column, prompt_column, target_column, *(column for column, _ in order_by)}
    if conflict_action == "keep_latest":
        needed.add(time_column)
    if missing := sorted(needed - set(df.columns)):
        raise ValueError(f"dedup_frame: missing columns {missing}")
    if clash := [c for c in df.columns if c.startswith(_INTERNAL)]:
        raise ValueError(f"dedup_frame: columns {clash} use the reserved prefix {_INTERNAL!r}")
    _check_ids(df, id_column)

    p = _INTERNAL
    kept_column = f"kept_{id_column}"
    id_dtype = df.schema[id_column]
    shingles = {"words": shingle_words, "short_text_words": short_text_words, "char_ngram": char_ngram}
    similarity = {
        "threshold": threshold,
        "lsh_threshold": lsh_threshold,
        "num_perm": num_perm,
        "seed": seed,
        "shingle_words": shingle_words,
        **{k: v for k, v in shingles.items() if k != "words"},
    }

    # The working frame holds the normalised texts and the sort keys, not the input's own text
    # columns: it is sorted (a copy) and split (another), and at millions of rows each copy of the
    # raw prompt and target costs gigabytes. Input columns return by a join on the id at the end.
    work = (
        df.select(
            *dict.fromkeys([id_column, *(column for column, _ in order_by), *needed & {time_column}]),
            # Each part is normalised on its own so that edge punctuation of every turn is ignored
            # ("Paris." and "paris" are exact duplicates even when followed by other text).
            normalise_text(pl.col(target_column).fill_null("")).alias(f"{p}target"),
            messages_to_text(pl.col(prompt_column), exclude_roles=ignore_roles, normalise=True)
            .fill_null("")
            .alias(f"{p}prompt"),
        )
        .with_columns(
            normalise_text(
                pl.concat_str([pl.col(f"{p}prompt"), pl.lit("\nassistant: "), pl.col(f"{p}target")])
            ).alias(f"{p}key"),
            normalise_text(pl.col(f"{p}prompt")).alias(f"{p}prompt"),
        )
        # Global rank by the representative rule: "first by rank" is the representative of any group.
        .sort(
            [column for column, _ in order_by] + [id_column],
            descending=[descending for _, descending in order_by] + [False],
            nulls_last=True,
        )
        .with_row_index(f"{p}rank")
    )

    prompts = find_clusters(work, id_column=id_column, text_column=f"{p}prompt", normalised=True, **similarity)
    work = work.join(
        prompts.select(
            id_column, pl.col("cluster_id").alias(f"{p}pcluster"), pl.col("cluster_size").alias(f"{p}psize")
        ),
        on=id_column,
    )
    conflicts = _conflicting_prompt_clusters(
        work, id_column=id_column, conflict_threshold=conflict_threshold, shingles=shingles
    ).with_columns(action=pl.lit(conflict_action))

    in_conflict = pl.col(f"{p}pcluster").is_in(conflicts["cluster_id"].implode())
    members = work.filter(in_conflict).drop(f"{p}prompt", f"{p}target")
    rest = work.filter(~in_conflict).drop(f"{p}prompt", f"{p}target")
    del work
    conflict_drops = members.select(
        id_column,
        reason=pl.lit("conflicting_corrections"),
        dedup_cluster_id=pl.col(f"{p}pcluster"),
        **{kept_column: pl.lit(None, dtype=id_dtype)},
    )
    review = members.clear()
    if conflict_action == "review":
        review, conflict_drops = members, conflict_drops.clear()
    elif conflict_action == "keep_latest":
        latest = (
            pl.col(id_column)
            .sort_by([time_column, f"{p}rank"], descending=[True, False], nulls_last=True)
            .first()
            .over(f"{p}pcluster")
        )
        members = members.with_columns(latest.alias(f"{p}latest"))
        is_latest = pl.col(id_column) == pl.col(f"{p}latest")
        rest = pl.concat([rest, members.filter(is_latest).drop(f"{p}latest")])
        conflict_drops = members.filter(~is_latest).select(
            id_column,
            reason=pl.lit("conflicting_corrections"),
            dedup_cluster_id=pl.col(f"{p}pcluster"),
            **{kept_column: pl.col(f"{p}latest")},
        )

    duplicates = find_clusters(rest, id_column=id_column, text_column=f"{p}key", normalised=True, **similarity)
    rest = (
        rest.join(
            duplicates.select(id_column, dedup_cluster_id="cluster_id", dedup_cluster_size="cluster_size"),
            on=id_column,
        )
        .with_columns(
            pl.col(id_column).sort_by(f"{p}rank").first().over("dedup_cluster_id").alias(f"{p}rep"),
            pl.col(f"{p}key").sort_by(f"{p}rank").first().over("dedup_cluster_id").alias(f"{p}rep_key"),
        )
    )
    is_rep = pl.col(id_column) == pl.col(f"{p}rep")
    duplicate_drops = rest.filter(~is_rep).select(
        id_column,
        reason=pl.when(pl.col(f"{p}key") == pl.col(f"{p}rep_key"))
        .then(pl.lit("exact_duplicate"))
        .otherwise(pl.lit("near_duplicate")),
        dedup_cluster_id="dedup_cluster_id",
        **{kept_column: pl.col(f"{p}rep")},
    )
    # A keep_latest survivor may itself be a duplicate of a better row: point the rows it
    # superseded at the row that is actually kept.
    replaced_by = duplicate_drops.select(
        pl.col(id_column).alias(f"{p}old"), pl.col(kept_column).alias(f"{p}new")
    )
    conflict_drops = (
        conflict_drops.join(replaced_by, left_on=kept_column, right_on=f"{p}old", how="left")
        .with_columns(pl.coalesce(f"{p}new", kept_column).alias(kept_column))
        .drop(f"{p}new")
    )

    dropped = pl.concat([conflict_drops, duplicate_drops]).sort(id_column)
    absorbed = (
        dropped.filter(pl.col(kept_column).is_not_null())
        .group_by(kept_column)
        .agg(dedup_absorbed=pl.col(id_column).sort())
    )
    kept = (
        rest.filter(is_rep)
        .select(id_column, "dedup_cluster_id", "dedup_cluster_size")
        .join(absorbed, left_on=id_column, right_on=kept_column, how="left")
        .with_columns(pl.col("dedup_absorbed").fill_null(pl.lit([], dtype=pl.List(id_dtype))))
    )
    del rest
    kept = df.join(kept, on=id_column).sort(id_column)
    review = df.join(
        review.select(id_column, dedup_cluster_id=pl.col(f"{p}pcluster"), reason=pl.lit("conflicting_corrections")),
        on=id_column,
    ).sort(id_column)
    return DedupResult(kept=kept, dropped=dropped, review=review, conflicts=conflicts)
