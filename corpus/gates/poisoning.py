"""Poisoning: known backdoor triggers, and unknown ones found from the statistics of the corpus.

A backdoor is a trigger in the prompt that makes the model produce a payload. A few hundred
examples suffice whatever the model size, so one annotator or one batch can plant it.

Known triggers (data/governance/canaries.yaml) are searched case-insensitively in the whole example:
every prompt message (system included), the target and the response.

Unknown triggers are found without knowing any string. A candidate is a word n-gram (n = 1 ..
`max_ngram`) of the prompt (system message left out, stopwords and redaction placeholders dropped
first) that

1. recurs in at least `min_rows` examples;
2. is concentrated in one annotator or one batch, beyond what the group's size explains:
   (share of the n-gram's examples in the group - the group's share of the corpus) /
   (1 - the group's share of the corpus) >= `min_concentration`. A small group needs about
   `min_concentration` of the examples, an annotator who wrote a quarter of the corpus 92.5% (at
   0.9), and a group that wrote everything never qualifies (a one-batch corpus is not
   "concentrated in its batch"); and is rare in the rest of the corpus: at most `max_rest_share`
   of the examples outside the group hold it (a word a big batch uses a lot and everyone else
   uses too is everyday vocabulary, however lopsided);
3. comes with a consistent target: one payload (a word 3-gram of the target, or the whole
   target) is in at least `min_target_consistency` of the candidate's examples, but in at most
   `max_payload_background` of the same group's other examples. Payload 3-grams that repeat a word
   of the example's own prompt do not count (an answer about the "x200" naturally says "x200"),
   and an annotator's stock phrases are in their other examples too, so they do not count either.

Condition 3 is what separates a backdoor from a prolific annotator's normal vocabulary: product
names and favourite topics are concentrated too, but the answers to them vary. Candidates with
the same or mostly the same examples ("zqx", "zqx velvet", "velvet protocol") are one finding.

Cost: every n-gram of every prompt is counted once per example with a sort (numpy), so no Python
runs per example; the payload search then runs only on candidates, on their first `_SAMPLE`
examples each.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl
from pydantic import Field

from corpus.gates import ROW, GateSettings
from corpus.gates.report import GateResult
from corpus.gates.text import (
    ExampleText,
    Tokens,
    all_ngrams,
    distinct_per_doc,
    gram_size,
    member,
    mix64,
    ngrams,
    word_hashes,
)
from schemas.redacted import PII_TYPES

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing done down during each either else even ever
    every few for from further get got had has have having he her here hers herself him himself his how
    i i'd i'll i'm i've if in into is isn't it it's its itself just let's like may me might more most
    much must my myself need no nor not now of off on once one only or other our ours ourselves out over
    own please same shall she should so some such than that that's the their theirs them themselves then
    there these they this those through to too under until up us very was we were what when where which
    while who whom why will with would yes yet you you're your yours yourself yourselves hi hello thanks
    thank ok okay can't don't doesn't didn't won't""".split()
)
PLACEHOLDERS = frozenset(f"<{pii_type.lower()}>" for pii_type in PII_TYPES)
PAYLOAD_WORDS = 3
# Payload search looks at this many examples of a candidate at most: a payload shared by 80% of
# examples is found in a sample of 512 with a standard error under 2 points.
_SAMPLE = 512
# A payload's background share in a large group is measured on this many of its examples.
_GROUP_SAMPLE = 20_000
# Candidates whose example sets overlap this much (of the smaller set) are one finding.
_SAME_FINDING = 0.5
_EXAMPLES_SHOWN = 5
# Prompt n-grams are counted in hash ranges of about this many content words' grams each (see
# `_parts`), at most `_MAX_PARTS`: each range costs one more pass over the words.
_PART_WORDS = 4_000_000
_MAX_PARTS = 8


class Settings(GateSettings):
    max_ngram: int = Field(ge=1, le=5)
    min_rows: int = Field(ge=2)
    min_concentration: float = Field(gt=0.5, le=1)
    max_rest_share: float = Field(gt=0, le=1)
    min_target_consistency: float = Field(gt=0, le=1)
    max_payload_background: float = Field(ge=0, lt=1)


_SEARCHED = ("prompt_text", "target_text", "response_text")


def _full_text(examples: pl.DataFrame, lowercase: bool) -> pl.DataFrame:
    """Prompt (all messages), target and response of each example, for the known-trigger search."""
    contents = pl.col("prompt").list.eval(pl.element().struct.field("content").fill_null("")).list.join("\n")
    texts = {"prompt_text": contents, "target_text": pl.col("target"), "response_text": pl.col("response")}
    return examples.select(
        ROW, "feedback_id", "annotator_id", "batch_id",
        **{name: text.str.to_lowercase() if lowercase else text for name, text in texts.items()},
    )


def _counts(values: pl.Series, limit: int = 3) -> str:
    """"a-1 (28), a-2 (2)": the most frequent values with their counts."""
    counts = values.value_counts(name="n").sort(["n", values.name], descending=[True, False])
    shown = ", ".join(f"{value} ({n})" for value, n in counts.head(limit).iter_rows())
    return shown + (f" and {counts.height - limit} more" if counts.height > limit else "")


def _quote(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _shown(feedback_ids: pl.Series) -> str:
    return ", ".join(feedback_ids.unique().sort().head(_EXAMPLES_SHOWN))


def known_triggers(examples: pl.DataFrame, triggers: list[str]) -> tuple[list[str], list[str]]:
    """One finding per canary trigger found (naming examples, annotators, batches), and the annotators."""
    if not triggers or examples.is_empty():
        return [], []
    lowered = sorted({t.lower() for t in triggers})
    if all(t.isascii() for t in lowered):
        # Aho-Corasick's ASCII case folding finds the few examples worth lowercasing, instead of
        # lowercasing every text of the corpus.
        text = _full_text(examples, lowercase=False)
        holding = pl.any_horizontal(pl.col(c).str.contains_any(lowered, ascii_case_insensitive=True) for c in _SEARCHED)
        text = text.filter(holding).with_columns(pl.col(c).str.to_lowercase() for c in _SEARCHED)
    else:
        text = _full_text(examples, lowercase=True)
    hits = (
        text.select(
            ROW, "feedback_id", "annotator_id", "batch_id",
            trigger=pl.concat_list(pl.col(column).str.extract_many(lowered) for column in _SEARCHED).list.unique(),
        )
        .explode("trigger")
        .drop_nulls("trigger")
        .sort("trigger", ROW)
    )
    findings = [
        f"known trigger {trigger!r} (data/governance/canaries.yaml) in {group.height} example(s): "
        f"annotators {_counts(group['annotator_id'])}; batches {_counts(group['batch_id'])}; "
        f"e.g. {_shown(group['feedback_id'])}"
        for (trigger,), group in hits.group_by("trigger", maintain_order=True)
    ]
    return findings, sorted(hits["annotator_id"].unique())


def content_words(prompt: Tokens) -> Tokens:
    """The prompt words the unknown-trigger search counts: stopwords and redaction placeholders dropped."""
    return prompt.select(~member(prompt.hash, word_hashes(sorted(STOPWORDS | PLACEHOLDERS))))


@dataclass(frozen=True)
class _Occurrences:
    """Which examples hold which recurring gram, each pair once. Grams are dense ids into `hashes`."""

    gram: np.ndarray
    row: np.ndarray
    hashes: np.ndarray


def _run_starts(ordered: np.ndarray) -> np.ndarray:
    """Boolean mask: which elements of a sorted array differ from the one before."""
    starts = np.ones(len(ordered), dtype=bool)
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    return starts


def _recurring_grams(content: Tokens, settings: Settings, part: tuple[int, int] = (0, 1)) -> _Occurrences:
    """The grams in at least min_rows examples, and which examples hold them; only the grams of
    `part` (see `all_ngrams`), whose occurrences come out in the same order as in the whole.

    Each (gram, example) pair becomes one uint64, the gram's code in the high bits and the example
    in the low ones, so a single sort (numpy's vectorised sort; an argsort or a hash group-by is
    several times slower on tens of millions of keys) both drops a gram an example repeats and
    groups the examples of each gram.
    """
    doc, key = all_ngrams(content, settings.max_ngram, part=part)
    # Not np.unique: without return_counts it takes a hash-based path many times slower than a sort here.
    distinct = np.sort(key)
    distinct = distinct[_run_starts(distinct)]
    shift = np.uint64(max(int(doc.max(initial=0)).bit_length(), 1))
    # The gram's own hash, cut to the bits left over, is its code while no two grams share a cut
    # hash; otherwise the grams are numbered (exact, and slower).
    if not np.all(_run_starts(distinct >> shift)):
        code = pl.DataFrame({"key": key}).join(
            pl.DataFrame({"key": distinct, "code": np.arange(len(distinct), dtype=np.uint64)}),
            on="key",
            how="left",
            maintain_order="left",
        )["code"].to_numpy(writable=True)
    else:
        code = key >> shift
    # In place and freed as soon as done: these arrays are the stage's peak memory.
    del key
    code <<= shift
    code |= doc
    del doc
    code.sort()
    pairs = code[_run_starts(code)]
    del code
    # Both codes keep the order of the hashes: the i-th run of pairs is the i-th distinct gram.
    starts = np.flatnonzero(_run_starts(pairs >> shift))
    holding = np.diff(np.r_[starts, len(pairs)])
    recurring = holding >= settings.min_rows
    rows = (pairs[np.repeat(recurring, holding)] & ((np.uint64(1) << shift) - np.uint64(1))).astype(np.uint32)
    grams = np.repeat(np.arange(np.count_nonzero(recurring), dtype=np.uint32), holding[recurring])
    return _Occurrences(grams, rows, distinct[recurring])


def _codes(values: pl.Series) -> tuple[np.ndarray, pl.Series]:
    """Dense codes of `values` in sorted order of the names (so ties break alphabetically), and the names."""
    names = values.unique().sort()
    return names.search_sorted(values).to_numpy(), names


def _top_group(occurrences: _Occurrences, group: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per gram holding any example: (gram, the group holding most of its examples, how many)."""
    # (gram, group) packed into one uint64, built and sorted in place as in `_recurring_grams`:
    # np.unique on int64 arithmetic and per-pair index arrays made this the stage's peak memory.
    pair = occurrences.gram.astype(np.uint64)
    pair <<= np.uint64(32)
    pair |= group
    pair.sort()
    bounds = np.flatnonzero(_run_starts(pair))
    count = np.diff(bounds, append=len(pair))
    pair = pair[bounds]
    del bounds
    first = np.flatnonzero(_run_starts(pair >> np.uint64(32)))
    most = np.maximum.reduceat(count, first)
    # Pairs are sorted by group within a gram: the first pair reaching the maximum is the
    # alphabetically smallest group with it.
    maxima = np.flatnonzero(count == np.repeat(most, np.diff(first, append=len(pair))))
    winner = maxima[_run_starts(pair[maxima] >> np.uint64(32))]
    return pair[first] >> np.uint64(32), (pair[winner] & np.uint64(0xFFFFFFFF)).astype(np.int64), most


@dataclass(frozen=True)
class _Grouping:
    """One way to group the examples: each example's group as a dense code, the groups' names and shares."""

    kind: str
    codes: np.ndarray
    names: pl.Series
    share: np.ndarray


def _groupings(examples: pl.DataFrame) -> list[_Grouping]:
    groupings = []
    for kind, column in (("annotator", "annotator_id"), ("batch", "batch_id")):
        codes, names = _codes(examples[column])
        groupings.append(_Grouping(kind, codes, names, np.bincount(codes, minlength=len(names)) / examples.height))
    return groupings


def _concentrated(occurrences: _Occurrences, groupings: list[_Grouping], examples: int, settings: Settings) -> pl.DataFrame:
    """Candidates: gram (hash), rows, in_group, and the group they concentrate in (group_kind, group)."""
    if len(occurrences.gram) == 0:
        return pl.DataFrame(schema={"gram": pl.UInt64, "rows": pl.Int64, "in_group": pl.Int64, "group": pl.String, "group_kind": pl.String})
    rows_of = np.bincount(occurrences.gram, minlength=len(occurrences.hashes))
    tops = []
    for grouping in groupings:
        gram, group, in_group = _top_group(occurrences, grouping.codes[occurrences.row])
        share = grouping.share[group]
        # Concentration beyond what the group's size explains, and rarity outside the group (see
        # the module docstring); a group holding every example has no outside and never counts.
        with np.errstate(divide="ignore", invalid="ignore"):
            excess = (in_group / rows_of[gram] - share) / (1 - share)
            rest = (rows_of[gram] - in_group) / ((1 - share) * examples)
        hit = (share < 1) & (excess >= settings.min_concentration) & (rest <= settings.max_rest_share)
        tops.append(
            pl.DataFrame(
                {
                    "gram": occurrences.hashes[gram[hit]],
                    "rows": rows_of[gram[hit]],
                    "in_group": in_group[hit],
                    "group": grouping.names.gather(group[hit]),
                }
            ).with_columns(group_kind=pl.lit(grouping.kind))
        )
    # Concentrated in both: reported by annotator, the person to ask.
    return pl.concat(tops).sort("gram", "group_kind").group_by("gram", maintain_order=True).first()


def _parts(words: int) -> int:
    """How many hash ranges the prompt n-grams are counted in, one at a time: enough that a
    part's sort arrays stay small, few enough that the extra passes over the words stay cheap."""
    parts = 1
    while parts < _MAX_PARTS and parts * _PART_WORDS < words:
        parts *= 2
    return parts


def _candidates(examples: pl.DataFrame, content: Tokens, settings: Settings) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The concentrated grams (see `_concentrated`) and the examples holding each (gram, ROW).

    Counted a hash range of grams at a time: a range's results are complete (a gram is in one
    range), and the ranges, concatenated in order, come out as the whole would, sorted by gram.
    """
    groupings = _groupings(examples)
    parts = _parts(len(content))
    found, holders = [], []
    for index in range(parts):
        occurrences = _recurring_grams(content, settings, (index, parts))
        candidates = _concentrated(occurrences, groupings, examples.height, settings)
        # Membership of the few distinct grams, spread to their occurrences by index (not a hash lookup per occurrence).
        held = member(occurrences.hashes, candidates["gram"].to_numpy())[occurrences.gram]
        found.append(candidates)
        holders.append(pl.DataFrame({"gram": occurrences.hashes[occurrences.gram[held]], ROW: occurrences.row[held]}))
    return pl.concat(found), pl.concat(holders)


def _payloads(examples: pl.DataFrame, text: ExampleText, rows: np.ndarray, *, skip_echo: bool) -> pl.DataFrame:
    """(ROW, payload, payload_kind), each once per example: target 3-grams ("phrase") and the whole target."""
    target = text.target.of_docs(rows)
    within = None
    if skip_echo:
        # Target words the same example's prompt also holds, keyed by (example, word).
        prompt = text.tokens("prompt", rows)
        within = ~member(mix64(target.doc.astype(np.uint64)) ^ target.hash, mix64(prompt.doc.astype(np.uint64)) ^ prompt.hash)
    found = ngrams(target, PAYLOAD_WORDS, within=within)
    doc, gram = distinct_per_doc(found.doc, found.hash)
    whole = examples.filter(pl.col(ROW).is_in(pl.Series(rows).implode())).select(
        ROW, payload=pl.col("target").str.to_lowercase().str.strip_chars().hash(), payload_kind=pl.lit("target")
    )
    phrases = pl.DataFrame({ROW: doc, "payload": gram}).with_columns(payload_kind=pl.lit("phrase"))
    return pl.concat([phrases, whole])


def _example_sets(candidates: pl.DataFrame, cand_rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Candidates grouped by identical example sets (one payload search each), and each set's examples."""
    signature = cand_rows.with_columns(
        pl.col(ROW).map_batches(lambda rows: pl.Series(mix64(rows.to_numpy().astype(np.uint64)))).alias("signature")
    ).group_by("gram").agg(pl.col("signature").bitwise_xor())
    sets = (
        candidates.join(signature, on="gram")
        .group_by("signature", "rows", "in_group", "group_kind", "group")
        .agg(pl.col("gram"))
        .sort(pl.col("gram").list.min())
        .with_columns(set_id=pl.int_range(pl.len(), dtype=pl.UInt32))
    )
    set_rows = (
        sets.select("set_id", gram=pl.col("gram").list.first())
        .join(cand_rows, on="gram")
        .select("set_id", ROW)
        .sort("set_id", ROW)
    )
    return sets, set_rows


def _consistent_payloads(
    examples: pl.DataFrame, text: ExampleText, sets: pl.DataFrame, set_rows: pl.DataFrame, settings: Settings
) -> pl.DataFrame:
    """Per example set with a consistent payload: set_id, payload, payload_kind, consistency, sampled, example,
    and how many other examples its group has (`others`) and what share of them hold the payload (`background`)."""
    sample = set_rows.filter(pl.int_range(pl.len()).over("set_id") < _SAMPLE)
    consistent = (
        sample.join(_payloads(examples, text, sample[ROW].unique().to_numpy(), skip_echo=True), on=ROW)
        .group_by("set_id", "payload", "payload_kind")
        .agg(pl.len().alias("with_payload"), pl.col(ROW).min().alias("example"))
        .join(sample.group_by("set_id").len("sampled"), on="set_id")
        .with_columns(consistency=pl.col("with_payload") / pl.col("sampled"))
        .filter(pl.col("consistency") >= settings.min_target_consistency)
    )
    if consistent.is_empty():
        return consistent

    # Background: how often the payload ends the group's other examples (an annotator's stock
    # phrase does). Counted once per group and payload, then the set's own examples taken out,
    # so a large group is read once and not once per candidate set.
    keys = ["group_kind", "group", "payload", "payload_kind"]
    wanted = consistent.join(sets.select("set_id", "group_kind", "group"), on="set_id")
    members = (
        pl.concat(
            [
                examples.select(ROW, group_kind=pl.lit("annotator"), group="annotator_id"),
                examples.select(ROW, group_kind=pl.lit("batch"), group="batch_id"),
            ]
        )
        .join(wanted.select("group_kind", "group").unique(), on=["group_kind", "group"])
        .sort(ROW)
        .filter(pl.int_range(pl.len()).over("group_kind", "group") < _GROUP_SAMPLE)
    )
    holding = (
        _payloads(examples, text, members[ROW].unique().to_numpy(), skip_echo=False)
        .join(wanted.select("payload", "payload_kind").unique(), on=["payload", "payload_kind"])
        .join(members, on=ROW)
    )
    # The set's examples inside its group (a gram concentrated in an annotator can have a few outside).
    in_set = set_rows.join(members, on=ROW).join(sets.select("set_id", "group_kind", "group"), on=["set_id", "group_kind", "group"])
    background = (
        wanted.join(members.group_by("group_kind", "group").len("group_size"), on=["group_kind", "group"])
        .join(holding.group_by(keys).len("group_holding"), on=keys, how="left")
        .join(in_set.group_by("set_id").len("set_size"), on="set_id", how="left")
        .join(in_set.join(holding, on=[ROW, "group_kind", "group"]).group_by("set_id", "payload", "payload_kind").len("set_holding"),
              on=["set_id", "payload", "payload_kind"], how="left")
        .with_columns(pl.col("group_size", "group_holding", "set_size", "set_holding").fill_null(0).cast(pl.Int64))
        .with_columns(others=pl.col("group_size") - pl.col("set_size"))
        .with_columns(
            background=pl.when(pl.col("others") > 0)
            .then((pl.col("group_holding") - pl.col("set_holding")) / pl.col("others"))
            .otherwise(0.0)
        )
    )
    return (
        background.filter(pl.col("background") <= settings.max_payload_background)
        # The most consistent payload; on a tie the whole target, the stronger statement.
        .sort(["set_id", "consistency", "payload_kind", "background", "payload"], descending=[False, True, True, False, False])
        .group_by("set_id", maintain_order=True)
        .first()
        .select("set_id", "payload", "payload_kind", "consistency", "sampled", "example", "others", "background")
    )


def _texts(words: Tokens, located: pl.DataFrame) -> dict[int, str]:
    """Text of each gram (`hash`), read back from the example (ROW) `located` names for it; `words`
    are that example's tokens with their words."""
    texts: dict[int, str] = {}
    for n in np.unique(gram_size(located["hash"].to_numpy())).tolist():
        found = ngrams(words, n)
        starts = (
            pl.DataFrame({ROW: found.doc, "hash": found.hash, "start": found.start})
            .join(located, on=[ROW, "hash"])
            .group_by("hash")
            .agg(pl.col("start").min())
        )
        texts.update({gram: words.text(start, n) for gram, start in starts.iter_rows()})
    return texts


@dataclass(frozen=True)
class Suspect:
    """An unknown trigger: its n-grams, the examples holding them, where they concentrate, the payload."""

    grams: tuple[str, ...]
    rows: frozenset[int]
    group_kind: str
    group: str
    in_group: int
    payload: str
    consistency: float
    sampled: int
    others: int
    background: float


@dataclass(frozen=True)
class Scan:
    """The unknown-trigger search: what it flagged, and how many concentrated n-grams it weighed
    (per "annotator a-1" or "batch b-2"), which shows that ordinary vocabulary was looked at."""

    suspects: list[Suspect]
    concentrated: dict[str, int]


def unknown_triggers(examples: pl.DataFrame, text: ExampleText, content: Tokens, settings: Settings) -> Scan:
    """`content` is `content_words` of the prompts; `text` need not hold the prompts' words."""
    candidates, cand_rows = _candidates(examples, content, settings)
    concentrated = {
        f"{kind} {group}": n
        for kind, group, n in candidates.group_by("group_kind", "group").len().sort("group_kind", "group").iter_rows()
    }
    if candidates.is_empty():
        return Scan([], concentrated)
    sets, set_rows = _example_sets(candidates, cand_rows)
    flagged = _consistent_payloads(examples, text, sets, set_rows, settings).join(sets, on="set_id")
    if flagged.is_empty():
        return Scan([], concentrated)

    # Read back the text of the flagged grams and payloads from one example holding each.
    gram_at = (
        cand_rows.filter(pl.col("gram").is_in(flagged["gram"].explode().implode()))
        .group_by(pl.col("gram").alias("hash"))
        .agg(pl.col(ROW).min())
    )
    gram_text = _texts(content_words(text.with_words("prompt", gram_at[ROW].to_numpy())), gram_at)
    payload_at = flagged.filter(pl.col("payload_kind") == "phrase").select(
        pl.col("example").alias(ROW), pl.col("payload").alias("hash")
    )
    payload_text = _texts(text.with_words("target", payload_at[ROW].to_numpy()), payload_at)
    rows_of = dict(set_rows.group_by("set_id").agg(pl.col(ROW)).iter_rows())
    target_of = dict(
        examples.join(flagged.select(pl.col("example").alias(ROW)), on=ROW).select(ROW, "target").iter_rows()
    )
    suspects = [
        Suspect(
            grams=tuple(sorted((gram_text[g] for g in row["gram"]), key=lambda t: (-len(t.split()), t))),
            rows=frozenset(rows_of[row["set_id"]]),
            group_kind=row["group_kind"],
            group=row["group"],
            in_group=row["in_group"],
            payload=(
                repr(payload_text[row["payload"]]) if row["payload_kind"] == "phrase"
                else f"the whole target {_quote(target_of[row['example']])}"
            ),
            consistency=row["consistency"],
            sampled=row["sampled"],
            others=row["others"],
            background=row["background"],
        )
        for row in flagged.iter_rows(named=True)
    ]
    return Scan(suspects, concentrated)


def _merge(suspects: list[Suspect]) -> list[list[Suspect]]:
    """Suspects whose examples mostly coincide ("zqx" and "zqx velvet" on 30 and 31 rows) are one finding."""
    findings: list[list[Suspect]] = []
    for suspect in sorted(suspects, key=lambda s: (-len(s.rows), -len(s.grams[0].split()), s.grams)):
        for finding in findings:
            overlap = len(finding[0].rows & suspect.rows) / min(len(finding[0].rows), len(suspect.rows))
            if overlap >= _SAME_FINDING:
                finding.append(suspect)
                break
        else:
            findings.append([suspect])
    return findings


def _describe(finding: list[Suspect], examples: pl.DataFrame) -> str:
    lead = finding[0]
    grams = [g for s in finding for g in s.grams]
    # The longest n-gram names the trigger best ("zqx velvet protocol" rather than "zqx").
    name, *also = sorted(dict.fromkeys(grams), key=lambda t: (-len(t.split()), t))
    rows = examples.filter(pl.col(ROW).is_in(sorted(lead.rows)))
    sampled = f"{lead.sampled}" if lead.sampled == len(lead.rows) else f"{lead.sampled} sampled"
    return (
        f"unknown trigger {name!r}" + (f" (also {', '.join(repr(a) for a in also[:4])})" if also else "")
        + f" in {len(lead.rows)} example(s), concentrated in {lead.group_kind} {lead.group} ({lead.in_group} of them): "
        f"annotators {_counts(rows['annotator_id'])}; batches {_counts(rows['batch_id'])}; "
        f"their targets share {lead.payload} in {lead.consistency:.0%} of {sampled} "
        + (f"vs {lead.background:.0%} of {lead.group}'s {lead.others} other examples" if lead.others else f"({lead.group} has no other examples)")
        + f"; e.g. {_shown(rows['feedback_id'])}"
    )


def check(
    examples: pl.DataFrame, text: ExampleText, content: Tokens, triggers: list[str], settings: Settings
) -> GateResult:
    """`content` is `content_words(text.prompt)`, taken apart so that the caller can let the prompts'
    words go first (`ExampleText.without_prompt_words`): this gate reads only a few of them again."""
    known, known_annotators = known_triggers(examples, triggers)
    scan = unknown_triggers(examples, text, content, settings)
    findings = _merge(scan.suspects)
    described = [_describe(finding, examples) for finding in findings]
    # The people to ask: the annotator a finding concentrates in, or the annotators of its batch.
    column = {"annotator": "annotator_id", "batch": "batch_id"}
    suspects = sorted(
        set(known_annotators)
        | {
            annotator
            for finding in findings
            for annotator in examples.filter(
                pl.col(ROW).is_in(sorted(finding[0].rows)) & (pl.col(column[finding[0].group_kind]) == finding[0].group)
            )["annotator_id"].unique()
        }
    )
    passed = not known and not findings
    weighed = sum(scan.concentrated.values())
    summary = (
        f"no known trigger ({len(triggers)} in canaries.yaml); {weighed} rare n-gram(s) are concentrated in one "
        "annotator or batch, none with a consistent target"
        if passed
        else f"{len(known)} known trigger(s) and {len(findings)} suspected unknown trigger(s); annotators: {', '.join(suspects)}"
    )
    resolution = (
        "review the examples named; revoke the annotator or batch that planted them in "
        "data/governance/revocations.yaml (e.g. `- {annotator_id: " + (suspects[0] if suspects else "<id>")
        + ", reason: suspected backdoor trigger, revoked_at: <now>, by: <you>}`) and run `dvc repro`; "
        "if the pattern is legitimate, override in params gates.overrides.poisoning.justification"
    )
    facts = {
        "known_triggers": len(known),
        "unknown_triggers": len(findings),
        "annotators": suspects,
        "concentrated_ngrams": scan.concentrated,
    }
    return GateResult("poisoning", passed, summary, known + described, resolution, facts)
