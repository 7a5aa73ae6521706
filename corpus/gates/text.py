"""Words and word n-grams of many texts at once, as flat numpy arrays: the shared text model of the
contamination and poisoning gates.

Why not `corpus.textsim` (dedup's): it hands out one list of n-gram hashes per text, while the
gates work on the flat word stream: n-grams over runs of probe words only, n-grams after dropping
stopwords, 1- to 3-grams counted once per text, words read back for a report. Its hashes are
stable across library versions because dedup's cluster ids outlive a run; here hashes are only
compared with hashes of the same run and no output depends on their values (only on which are
equal), so polars' hash, deterministic for a given version and seed, is enough.

A word is a run of non-blank characters, lowercased, with punctuation stripped from its edges:
"Password," and "password" are one word, "cf-delta-7" and "<email>" (a redaction placeholder)
stay whole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl
import pyarrow as pa

from corpus.parallel import in_parallel

_SEED = 0x6A7E5
_EDGE_PUNCTUATION = "\"'`.,;:!?()[]{}*_~|/\\-–—…“”‘’«»"
_BLANKS = ["\n", "\r", "\t", "\u00a0"]
# Multiplier of the polynomial n-gram fold (odd, so each step is a bijection of the accumulator).
_FOLD = np.uint64(0x9E3779B97F4A7C15)
# The low bits of an n-gram's hash hold its n: grams of different n never share a hash, and a
# table of hashes alone tells each gram's length.
_SIZE_MASK = np.uint64(0xF)
# Small enough that the chunks spread evenly over the cores and few exploded strings are alive at once.
_CHUNK_TEXTS = 50_000
# `member` hands polars this many values at a time (see there).
_MEMBER_SLICE = 1 << 21


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser (wrapping uint64 arithmetic): a well-spread 64-bit value of each uint64."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@dataclass(frozen=True)
class Tokens:
    """The words of a list of texts ("documents"), flattened in text order.

    `doc[i]` is the index of the text word i comes from (non-decreasing) and `hash[i]` its 64-bit
    hash. `word[i]`, the word itself, is only there when asked for (`tokenize(..., words=True)`):
    tens of millions of small strings would cost more memory than everything else together, and
    only the few findings a report shows need them.
    """

    doc: np.ndarray
    hash: np.ndarray
    word: pl.Series | None = None

    def __len__(self) -> int:
        return len(self.doc)

    def select(self, keep: np.ndarray) -> Tokens:
        """Only the words where `keep` is true; n-grams then run over the words that remain."""
        word = None if self.word is None else self.word.filter(pl.Series(keep))
        return Tokens(self.doc[keep], self.hash[keep], word)

    def of_docs(self, docs: np.ndarray) -> Tokens:
        """Only the words of the given documents."""
        return self.select(member(self.doc, docs))

    def text(self, start: int, n: int) -> str:
        if self.word is None:
            raise ValueError("these tokens were made without their words; tokenize(..., words=True)")
        return " ".join(self.word.slice(start, n).to_list())


def member(values: np.ndarray, of: np.ndarray) -> np.ndarray:
    """Boolean mask: which of `values` occur in `of` (a hash set; numpy's isin would sort both).

    A slice of `values` at a time: polars' copy of the values and its result stay a slice's size
    on the corpus-wide word stream.
    """
    of_list = pl.Series(of).implode()
    mask = np.empty(len(values), dtype=bool)
    for start in range(0, len(values), _MEMBER_SLICE):
        part = values[start : start + _MEMBER_SLICE]
        mask[start : start + len(part)] = pl.Series(part).is_in(of_list).to_numpy()
    return mask


def word_hashes(words: list[str]) -> np.ndarray:
    """The hash `tokenize` gives each of `words` (already lowercased words, e.g. a stopword list)."""
    return pl.Series(words, dtype=pl.String).hash(_SEED).to_numpy()


def _tokenize_chunk(texts: pl.Series, first_doc: int, words: bool) -> Tokens:
    exploded = (
        texts.to_frame("text")
        .select(
            pl.int_range(first_doc, first_doc + pl.len(), dtype=pl.UInt32).alias("doc"),
            pl.col("text")
            .fill_null("")
            .str.to_lowercase()
            .str.replace_many(_BLANKS, [" "] * len(_BLANKS))
            .str.split(" ")
            .alias("word"),
        )
        .explode("word")
        .with_columns(pl.col("word").str.strip_chars(_EDGE_PUNCTUATION))
        .filter(pl.col("word").str.len_bytes() > 0)
    )
    return Tokens(
        exploded["doc"].to_numpy(), exploded["word"].hash(_SEED).to_numpy(), exploded["word"] if words else None
    )


def tokenize(
    texts: pl.Series, *, words: bool = False, prepare: Callable[[pl.Series], pl.Series] | None = None
) -> Tokens:
    """Split every text of `texts` into words; a null text has none.

    Chunks of texts are split in parallel, and only one chunk's exploded strings per core are
    alive at a time. `prepare` turns a chunk of `texts` into the strings to split (e.g. joins a
    conversation's messages), a chunk at a time, so the whole prepared column never exists.
    """

    def split(offset: int) -> Tokens:
        chunk = texts.slice(offset, _CHUNK_TEXTS)
        return _tokenize_chunk(chunk if prepare is None else prepare(chunk), offset, words)

    chunks = in_parallel(split, range(0, max(len(texts), 1), _CHUNK_TEXTS))
    word = pl.concat([c.word for c in chunks if c.word is not None]) if words else None
    docs, hashes = [c.doc for c in chunks], [c.hash for c in chunks]
    # One column joined and its chunks let go before the next: the chunks and both joined arrays
    # are never alive at once.
    del chunks
    doc = np.concatenate(docs)
    del docs
    return Tokens(doc, np.concatenate(hashes), word)


@dataclass(frozen=True)
class Grams:
    """Word n-grams: the document of each, the index of its first word in the Tokens, its hash."""

    doc: np.ndarray
    start: np.ndarray
    hash: np.ndarray

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame({"doc": self.doc, "hash": self.hash})


def _finish(acc: np.ndarray, n: int) -> np.ndarray:
    # The fold of well-spread word hashes is itself well spread (its grams collide like random
    # 60-bit values), so no finaliser pass is spent on tens of millions of grams.
    acc &= ~_SIZE_MASK
    acc |= np.uint64(n)
    return acc


def ngrams(tokens: Tokens, n: int, *, within: np.ndarray | None = None) -> Grams:
    """Every run of `n` consecutive words inside one document, hashed.

    `within` (a boolean per word) keeps only runs made entirely of allowed words; the contamination
    gate passes "word occurs in some probe", so the corpus-wide work shrinks to the runs that could
    match a probe at all. Grams of different n never share a hash: the hash's low bits are n (see
    `gram_size`).
    """
    if not 1 <= n <= int(_SIZE_MASK):
        raise ValueError(f"n-gram size must be 1..{int(_SIZE_MASK)}, got {n}")
    count = len(tokens) - n + 1
    if count <= 0:
        return Grams(tokens.doc[:0], np.empty(0, dtype=np.int64), np.empty(0, dtype=np.uint64))
    valid = tokens.doc[:count] == tokens.doc[n - 1 :]
    if within is not None:
        # Blocked words before each position; a window is clean when none lies inside it. int32
        # when it fits: the int64 default is several times slower to write at this size.
        blocked_before = np.zeros(len(tokens) + 1, dtype=np.int32 if len(tokens) < 2**31 else np.int64)
        np.cumsum(~within, out=blocked_before[1:])
        valid &= blocked_before[n:] == blocked_before[:count]
    starts = np.flatnonzero(valid)
    acc = tokens.hash[starts]
    for offset in range(1, n):
        acc *= _FOLD
        acc += tokens.hash[offset:][starts]
    return Grams(tokens.doc[starts], starts, _finish(acc, n))


def _top_byte(values: np.ndarray) -> np.ndarray:
    """The most significant byte of each uint64, as a strided view (no 8-byte-per-value temporary)."""
    return values.view(np.uint8)[7 if np.little_endian else 0 :: 8]


def all_ngrams(tokens: Tokens, max_n: int, *, part: tuple[int, int] = (0, 1)) -> tuple[np.ndarray, np.ndarray]:
    """(doc, hash) of every 1- to max_n-gram, grouped by n (not in document order), hashed as `ngrams` does.

    The outputs are sized first and each n's grams written straight into their slice, with one
    running accumulator updated in place: per-n arrays and their concatenation held the grams
    twice, on the corpus-wide word stream.

    `part=(index, parts)` (parts a power of two up to 256) keeps only the grams whose hash's top
    bits are `index`: the parts, in index order, are the grams in ascending hash ranges, so a
    caller can count a corpus's grams a part at a time, with a part's arrays alive instead of all.
    Sizing a part takes one extra pass of the accumulator, which is cheap beside the sorting.
    """
    index, parts = part
    if not (0 < parts <= 256 and parts & (parts - 1) == 0 and 0 <= index < parts):
        raise ValueError(f"part must be (index, parts) with parts a power of two up to 256, got {part}")
    total = len(tokens)
    top_shift = 8 - (parts.bit_length() - 1)

    def folds():
        """Each n's unfinished gram hashes, one in-place accumulator (finishing only sets the low bits)."""
        acc = tokens.hash.copy()
        yield acc
        for k in range(1, min(max_n, total)):
            acc = acc[: total - k]
            acc *= _FOLD
            acc += tokens.hash[k:]
            yield acc

    # Documents are non-decreasing, so equal documents at both ends mean one document throughout.
    keep = [None, *(tokens.doc[: total - k] == tokens.doc[k:] for k in range(1, min(max_n, total)))]
    if parts > 1:
        for n, acc in enumerate(folds()):
            in_part = (_top_byte(acc) >> top_shift) == index
            if keep[n] is None:
                keep[n] = in_part
            else:
                keep[n] &= in_part
    sizes = [total if k is None else int(np.count_nonzero(k)) for k in keep]
    doc = np.empty(sum(sizes), dtype=tokens.doc.dtype)
    hashes = np.empty(sum(sizes), dtype=np.uint64)
    at = 0
    for n, (acc, mask, size) in enumerate(zip(folds(), keep, sizes)):
        if mask is None:
            doc[at : at + size] = tokens.doc
            hashes[at : at + size] = acc
        else:
            np.compress(mask, tokens.doc[: len(acc)], out=doc[at : at + size])
            np.compress(mask, acc, out=hashes[at : at + size])
        _finish(hashes[at : at + size], n + 1)
        at += size
    return doc, hashes


def gram_size(hashes: np.ndarray) -> np.ndarray:
    """The n of each n-gram hash made by `ngrams`."""
    return (hashes & _SIZE_MASK).astype(np.int64)


def distinct_per_doc(doc: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each (doc, value) pair once, e.g. a gram a text repeats counts for that text once.

    `doc` must be non-decreasing (as in Tokens and Grams); each document's values are deduplicated
    as one small list, which is far cheaper than a global sort or hash of (doc, value) pairs.
    """
    if len(doc) == 0:
        return doc, values
    offsets = np.concatenate(([0], np.flatnonzero(np.diff(doc)) + 1, [len(doc)]))
    lists = pl.Series(pa.LargeListArray.from_arrays(pa.array(offsets), pa.array(values))).list.unique()
    return np.repeat(doc[offsets[:-1]], lists.list.len().to_numpy()), lists.explode().to_numpy()


def prompt_text(prompt: pl.Expr) -> pl.Expr:
    """The prompt's messages except `system`, one per line.

    System messages are the deployment's boilerplate, shared by whole surfaces and by probes alike;
    they carry neither a probe's content nor an annotator's trigger.
    """
    message = pl.element()
    return prompt.list.eval(
        message.filter(message.struct.field("role") != "system").struct.field("content").fill_null("")
    ).list.join("\n")


@dataclass(frozen=True)
class ExampleText:
    """The words of each example's prompt and target (document i = example i), and the columns they
    came from, to read a few of them back. `prompt` is None once let go (`without_prompt_words`)."""

    prompt: Tokens | None
    target: Tokens
    prompts: pl.Series
    targets: pl.Series

    @classmethod
    def of(cls, prompts: pl.Series, targets: pl.Series) -> ExampleText:
        """`prompts` are List(Struct{role, content}) conversations, `targets` strings."""
        return cls(tokenize(prompts, prepare=_prompt_texts), tokenize(targets), prompts, targets)

    def without_prompt_words(self) -> ExampleText:
        """The same texts without the prompts' words, the largest part: a gate that needs only a
        few prompts' words again reads them with `tokens`."""
        return ExampleText(None, self.target, self.prompts, self.targets)

    def tokens(self, part: str, docs: np.ndarray, *, words: bool = False) -> Tokens:
        """The tokens of the given documents of `part` ("prompt" or "target"), tokenised again."""
        docs = np.unique(docs)
        # The prompt texts are joined again for these few documents only: keeping every joined
        # prompt for this would cost as much memory as a quarter of the tokens.
        if part == "prompt":
            tokens = tokenize(self.prompts.gather(docs), words=words, prepare=_prompt_texts)
        else:
            tokens = tokenize(self.targets.gather(docs), words=words)
        return Tokens(docs[tokens.doc].astype(np.uint32), tokens.hash, tokens.word)

    def with_words(self, part: str, docs: np.ndarray) -> Tokens:
        """The tokens of the given documents of `part` ("prompt" or "target"), words included."""
        return self.tokens(part, docs, words=True)


def _prompt_texts(prompts: pl.Series) -> pl.Series:
    return prompts.to_frame("prompt").select(prompt_text(pl.col("prompt"))).to_series()
