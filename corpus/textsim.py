"""Stable, vectorised text-similarity primitives: normalisation, shingles, MinHash, LSH, Jaccard.

Shared by the dedup stage and the eval-contamination gate so that both see text the same way.

Choices that matter for reproducibility (DESIGN.md 4.5, 5: same inputs give identical outputs):

- Stable hashing. A token (word or character) hashes by folding its UTF-8 bytes, 8 at a time,
  through the splitmix64 finaliser; an n-gram folds its token hashes the same way; MinHash
  permutations come from BLAKE2b of (seed, index). All of it is fixed 64-bit arithmetic, so values
  are identical on any machine and any library version. polars' `hash` is deliberately not used:
  its values may change between polars releases, which would silently move LSH candidates and
  therefore cluster ids between snapshots.
- No per-row Python. Python loops run over fixed-size blocks of shingles (MinHash), LSH bands,
  bucket anchors and the bytes-per-token chunk index; everything per row is a polars expression or
  a numpy operation on flat arrays (the UTF-8 bytes are read straight from the Arrow buffers).
- MinHash in numpy rather than datasketch. datasketch's `MinHash.bulk` + `MinHashLSH` insert/query
  measured ~8.5k rows/s here (per-row Python objects), below the 20k rows/s target on its own.
  The LSH banding is the same as datasketch's (`lsh_params` reproduces its optimal band/row
  choice), so DESIGN.md 8 still holds: a low LSH threshold for recall, then an exact Jaccard check.
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import overload

import numpy as np
import polars as pl
import pyarrow as pa

from corpus.parallel import over_ranges

__all__ = [
    "jaccard",
    "jaccard_upper_bound",
    "lsh_band_keys",
    "lsh_candidate_batches",
    "lsh_candidate_pairs",
    "lsh_params",
    "messages_to_text",
    "minhash_signatures",
    "normalise_text",
    "shingle_bucket_counts",
    "shingle_hashes",
    "shingles_of_normalised_text",
    "token_text",
    "word_ngrams_hashes",
]

# Seeds of the n-gram hash chains: word and character shingles live in one set per text, so they
# must not collide (the word 3-gram "a b c" and the character gram "abc" would otherwise be equal).
_WORD_SALT = 0x5745_4F52_4453_0001
_CHAR_SALT = 0x4348_4152_5300_0002
# Shingles per MinHash block: a (num_perm x block) uint64 array of 4 MiB at 128 permutations,
# big enough to amortise numpy call overhead, small enough to stay cache friendly (fastest of the
# sizes measured, 256 to 32k; 3.5x faster than a (block x num_perm) layout of 1k shingles).
_MINHASH_BLOCK_SHINGLES = 4096
# Rows per slice for shingling (see `_in_row_chunks`).
_CHUNK_ROWS = 32_768


@cache
def _case_fold_map() -> dict[str, str]:
    """Lowercase characters whose full case folding (then NFKC) differs: ß→ss, ς→σ, Cherokee, ...

    polars has `to_lowercase` but no casefold; lowercasing then applying these ~180 exceptions
    gives `str.casefold()` semantics without a per-row Python call. Built once, ~0.2 s.
    """
    changed = [c for c in map(chr, range(0x110000)) if c.casefold() != c and c.lower() == c]
    return {c: unicodedata.normalize("NFKC", c.casefold()) for c in changed}


def _nfkc(text: pl.Series) -> pl.Series:
    # NFKC leaves ASCII unchanged and polars' NFKC runs at ~45 MB/s, so only rows with a
    # non-ASCII byte are normalised: ~10x faster on mostly-English chat text.
    non_ascii = (text.str.len_bytes() != text.str.len_chars()).fill_null(False)
    if not non_ascii.any():
        return text
    rows = non_ascii.arg_true()
    return text.clone().scatter(rows, text.gather(rows).str.normalize("NFKC"))


def normalise_text(expr: pl.Expr) -> pl.Expr:
    """NFKC, case-folded, whitespace collapsed to single spaces, punctuation stripped at the edges.

    Punctuation inside the text is kept: this is the exact-duplicate key, and "5.3" is not "53".
    """
    return (
        expr.map_batches(_nfkc, return_dtype=pl.String, is_elementwise=True)
        .str.to_lowercase()
        .str.replace_many(_case_fold_map())
        # Only whitespace that is not already a single space matches: replacing every space costs
        # ~300 ns per match and dominated the whole normalisation.
        .str.replace_all(r"\s\s+|[\s&&[^ ]]", " ")
        .str.replace_all(r"^[\p{P}\s]+|[\p{P}\s]+$", "")
    )


def messages_to_text(
    expr: pl.Expr, *, exclude_roles: Sequence[str] = (), normalise: bool = False
) -> pl.Expr:
    """List(Struct{role, content}) → one string "role: content\n...", in message order.

    `exclude_roles` leaves out messages by role (dedup leaves out `system`: a system prompt shared
    by a whole surface would otherwise dominate every similarity). `normalise` applies
    `normalise_text` to each content, so punctuation at the edge of each turn is ignored, not only
    at the edges of the whole conversation. Null content counts as empty.
    """
    msg = pl.element()
    if exclude_roles:
        expr = expr.list.eval(msg.filter(~msg.struct.field("role").is_in(list(exclude_roles))))
    content = msg.struct.field("content").fill_null("")
    if normalise:
        content = normalise_text(content)
    line = pl.concat_str([msg.struct.field("role").fill_null(""), pl.lit(": "), content])
    return expr.list.eval(line).list.join("\n")


def token_text(expr: pl.Expr, *, normalised: bool = False) -> pl.Expr:
    """The words of the normalised text separated by single spaces.

    A word is a run of Unicode word characters (letters, marks, digits, underscore); every run of
    other characters becomes one space. This is the one definition of "word" for shingles and
    n-grams, shared by dedup and the contamination gate. Pass `normalised=True` when `expr` is
    already `normalise_text` output, to skip normalising twice.
    """
    text = expr if normalised else normalise_text(expr)
    return text.str.replace_all(r"[^\w ]+", " ").str.replace_all(" {2,}", " ").str.strip_chars(" ")


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, a fixed bijective 64-bit mixer (wrapping uint64 arithmetic).

    Mixes `x` in place (callers pass a temporary they own) and returns it.
    """
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


@dataclass(frozen=True)
class _Utf8:
    """The UTF-8 bytes of a String column, as numpy views of its Arrow buffers."""

    data: np.ndarray  # uint8, all rows back to back
    offsets: np.ndarray  # int64, n_rows + 1; row i is data[offsets[i]:offsets[i+1]]
    nulls: np.ndarray | None  # bool mask of null rows, None when there are none

    @classmethod
    def of(cls, text: pl.Series) -> _Utf8:
        arr = text.rechunk().to_arrow(compat_level=pl.CompatLevel.oldest()).cast(pa.large_string())
        _, offsets_buffer, data_buffer = arr.buffers()
        offsets = np.frombuffer(offsets_buffer, dtype=np.int64)[arr.offset : arr.offset + len(arr) + 1]
        data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(0, np.uint8)
        # Rebase so positions are relative to the first row (the array may be a slice).
        data = data[offsets[0] : offsets[-1]]
        nulls = text.is_null().to_numpy() if text.null_count() else None
        return cls(data=data, offsets=offsets - offsets[0], nulls=nulls)

    def per_row(self, starts: np.ndarray) -> np.ndarray:
        """How many of the given sorted byte positions fall in each row."""
        return np.diff(np.searchsorted(starts, self.offsets))

    def words(self) -> tuple[np.ndarray, np.ndarray]:
        """(start, length) in bytes of each space-separated word, in row order."""
        data, offsets = self.data, self.offsets
        is_word = data != 0x20
        begin, end = is_word.copy(), is_word.copy()
        begin[1:] &= ~is_word[:-1]
        end[:-1] &= ~is_word[1:]
        # A word never spans two rows: row edges are word edges.
        filled = offsets[:-1] < offsets[1:]
        first, last = offsets[:-1][filled], offsets[1:][filled] - 1
        begin[first], end[last] = is_word[first], is_word[last]
        starts = np.flatnonzero(begin)
        return starts, np.flatnonzero(end) + 1 - starts

    def chars(self) -> tuple[np.ndarray, np.ndarray]:
        """(start, length) in bytes of each character (rows always start on a character)."""
        starts = np.flatnonzero((self.data & 0xC0) != 0x80)
        return starts, np.diff(np.append(starts, len(self.data)))

    def hash_spans(self, starts: np.ndarray, lengths: np.ndarray, salt: int) -> np.ndarray:
        """Stable 64-bit hash of each byte span: splitmix64 folded over its little-endian 8-byte
        chunks (the last one zero-padded), seeded with the salt and the span length."""
        padded = np.concatenate([self.data, np.zeros(8, dtype=np.uint8)])
        # Overlapping unaligned view: element i is the 8 bytes starting at byte i.
        chunk_at = np.ndarray((len(self.data) + 1,), dtype="<u8", buffer=padded, strides=(1,))
        acc = _mix64(lengths.astype(np.uint64) ^ np.uint64(salt))
        # Most words fit in one chunk: fold the first chunk of every span without fancy indexing,
        # then loop over the few long spans only.
        acc = _mix64(acc ^ (chunk_at[starts] & _low_bytes_mask(lengths)))
        active = np.flatnonzero(lengths > 8)
        chunk = 1
        while len(active):
            left = lengths[active] - 8 * chunk
            value = chunk_at[starts[active] + 8 * chunk] & _low_bytes_mask(left)
            acc[active] = _mix64(acc[active] ^ value)
            active = active[left > 8]
            chunk += 1
        return acc


# _LOW_BYTES[k] keeps the low k bytes of a uint64.
_LOW_BYTES = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=np.uint64)


def _low_bytes_mask(n_bytes: np.ndarray) -> np.ndarray:
    return _LOW_BYTES[np.minimum(n_bytes, 8)]


def _ngrams(
    token_hashes: np.ndarray, counts: np.ndarray, n: int, *, salt: int, whole_if_short: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Hash of every run of n consecutive tokens within a row: (flat hashes, grams per row).

    A row with fewer than n tokens has no n-gram; with `whole_if_short` it gets one shingle made of
    all its tokens instead, so that short texts still have a comparable, non-empty set.
    """
    if n < 1:
        raise ValueError(f"n-gram size must be >= 1, got {n}")
    counts = counts.astype(np.int64)
    grams = np.maximum(counts - n + 1, 0)
    narrow = (counts > 0) & (counts < n) if whole_if_short else np.zeros(len(counts), dtype=bool)
    grams[narrow] = 1
    # Gram g of a row starts at the row's first token + g.
    first_token, first_gram = np.cumsum(counts) - counts, np.cumsum(grams) - grams
    starts = np.arange(int(grams.sum())) + np.repeat(first_token - first_gram, grams)

    acc = np.full(len(starts), salt, dtype=np.uint64)
    # Whole short texts are narrower than n: they stop folding after their last token.
    width = np.repeat(np.minimum(counts, n), grams) if narrow.any() else None
    for j in range(n):
        if width is None:
            acc ^= token_hashes[starts + j]
            _mix64(acc)
        else:
            use = width > j
            acc[use] = _mix64(acc[use] ^ token_hashes[starts[use] + j])
    return acc, grams


def _list_series(name: str, values: np.ndarray, counts: np.ndarray, nulls: np.ndarray | None) -> pl.Series:
    """A List(UInt64) Series from flat values and per-row counts, built on the numpy buffers
    (`pa.array(ndarray)` would import pandas, ~1 s per process)."""
    offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
    child = pa.Array.from_buffers(pa.uint64(), len(values), [None, pa.py_buffer(np.ascontiguousarray(values))])
    validity = None if nulls is None else pa.py_buffer(np.packbits(~nulls, bitorder="little"))
    lists = pa.Array.from_buffers(
        pa.large_list(pa.uint64()), len(counts), [validity, pa.py_buffer(offsets)], children=[child]
    )
    return pl.Series(name, lists)


def _in_row_chunks(fn: Callable[[pl.Series], pl.Series], text: pl.Series) -> pl.Series:
    """Apply a row-wise function to slices of `_CHUNK_ROWS` rows: its flat per-byte and per-token
    temporaries then stay small (peak memory ~10x lower at 200k rows) and cache friendly."""
    if len(text) <= _CHUNK_ROWS:
        return fn(text)
    parts = [fn(text.slice(start, _CHUNK_ROWS)) for start in range(0, len(text), _CHUNK_ROWS)]
    return pl.concat(parts, rechunk=True)


def _token_text_series(text: pl.Series, *, normalised: bool = False) -> pl.Series:
    return text.to_frame("text").select(token_text(pl.col("text"), normalised=normalised)).to_series()


def _word_ngrams_series(text: pl.Series, n: int) -> pl.Series:
    def chunk(part: pl.Series) -> pl.Series:
        utf8 = _Utf8.of(_token_text_series(part))
        starts, lengths = utf8.words()
        words = utf8.hash_spans(starts, lengths, _WORD_SALT)
        grams, counts = _ngrams(words, utf8.per_row(starts), n, salt=_WORD_SALT, whole_if_short=False)
        return _list_series(text.name, grams, counts, utf8.nulls)

    return _in_row_chunks(chunk, text)


@overload
def word_ngrams_hashes(text: pl.Series, n: int) -> pl.Series: ...
@overload
def word_ngrams_hashes(text: pl.Expr, n: int) -> pl.Expr: ...
def word_ngrams_hashes(text: pl.Series | pl.Expr, n: int) -> pl.Series | pl.Expr:
    """Stable 64-bit hashes of the word n-grams of each text, as List(UInt64), in text order.

    Words are those of `token_text`; a text with fewer than n words has no n-gram (empty list).
    Null stays null. Hashes are pure arithmetic on the UTF-8 bytes, so the same text gives the
    same values on any machine and any polars/numpy version: they can be stored and compared
    across snapshots.
    """
    if isinstance(text, pl.Series):
        return _word_ngrams_series(text, n)
    return text.map_batches(
        lambda s: _word_ngrams_series(s, n), return_dtype=pl.List(pl.UInt64), is_elementwise=True
    )


def shingles_of_normalised_text(
    text: pl.Series, *, words: int = 3, short_text_words: int = 10, char_ngram: int = 5
) -> pl.Series:
    """`shingle_hashes` of `normalise_text` output (it is not normalised again)."""
    return _shingles_series(text, words, short_text_words, char_ngram, normalised=True)


def _shingles_chunk(words_text: pl.Series, words: int, short_text_words: int, char_ngram: int) -> pl.Series:
    utf8 = _Utf8.of(words_text)
    word_starts, word_lengths = utf8.words()
    word_counts = utf8.per_row(word_starts)
    short = word_counts < short_text_words

    # Word n-grams for long rows: the words of short rows are left out before building grams.
    long_word = ~np.repeat(short, word_counts)
    word_hashes = utf8.hash_spans(word_starts[long_word], word_lengths[long_word], _WORD_SALT)
    by_words, n_word_grams = _ngrams(
        word_hashes, np.where(short, 0, word_counts), words, salt=_WORD_SALT, whole_if_short=True
    )
    # Character n-grams of the space-joined words, for short rows only.
    short_utf8 = _Utf8.of(words_text.filter(pl.Series(short)))
    char_starts, char_lengths = short_utf8.chars()
    char_hashes = short_utf8.hash_spans(char_starts, char_lengths, _CHAR_SALT)
    by_chars, n_char_grams = _ngrams(
        char_hashes, short_utf8.per_row(char_starts), char_ngram, salt=_CHAR_SALT, whole_if_short=True
    )
    # Each row has grams of one kind only (short rows have no word grams); interleave them back
    # into row order.
    counts = n_word_grams
    counts[short] = n_char_grams
    is_char_gram = np.repeat(short, counts)
    values = np.empty(int(counts.sum()), dtype=np.uint64)
    values[~is_char_gram], values[is_char_gram] = by_words, by_chars
    # Sets; first-occurrence order keeps the value deterministic (and is 5x cheaper than sorting).
    return _list_series(words_text.name, values, counts, utf8.nulls).list.unique(maintain_order=True)


def _shingles_series(
    text: pl.Series, words: int, short_text_words: int, char_ngram: int, *, normalised: bool = False
) -> pl.Series:
    # Tokenised a slice at a time too: the token text of a whole column of millions of rows would
    # be another copy of all of it.
    def chunk(part: pl.Series) -> pl.Series:
        return _shingles_chunk(_token_text_series(part, normalised=normalised), words, short_text_words, char_ngram)

    return _in_row_chunks(chunk, text).alias(text.name)


@overload
def shingle_hashes(
    text: pl.Series, *, words: int = 3, short_text_words: int = 10, char_ngram: int = 5
) -> pl.Series: ...
@overload
def shingle_hashes(
    text: pl.Expr, *, words: int = 3, short_text_words: int = 10, char_ngram: int = 5
) -> pl.Expr: ...
def shingle_hashes(
    text: pl.Series | pl.Expr, *, words: int = 3, short_text_words: int = 10, char_ngram: int = 5
) -> pl.Series | pl.Expr:
    """The shingle set of each text used for near-duplicate similarity: unique List(UInt64).

    Texts of at least `short_text_words` words use word `words`-grams. Shorter texts use character
    `char_ngram`-grams of their space-joined words: with word 3-grams a single substituted word
    changes 3 of the w-2 shingles, so below ~19 words one edit already drops Jaccard under 0.7, and
    below 10 words (at most 8 shingles) the similarity is too coarse to threshold; character grams
    keep it proportional to the edit. A text shorter than one gram is a single shingle; a text
    without word characters has the empty set; null stays null. Caveat: a short and a long text
    are never near duplicates of each other, even just around the word-count boundary.
    """
    if isinstance(text, pl.Series):
        return _shingles_series(text, words, short_text_words, char_ngram)
    return text.map_batches(
        lambda s: _shingles_series(s, words, short_text_words, char_ngram),
        return_dtype=pl.List(pl.UInt64),
        is_elementwise=True,
    )


def _permutation_params(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Multipliers (odd) and offsets of the hash permutations, derived with BLAKE2b.

    numpy's Generator promises no stream stability across versions; a digest of (seed, index) does.
    """
    raw = b"".join(
        hashlib.blake2b(f"{seed}:{i}".encode(), digest_size=16, person=b"minhash-perm").digest()
        for i in range(num_perm)
    )
    pairs = np.frombuffer(raw, dtype="<u8").reshape(num_perm, 2)
    return pairs[:, 0] | np.uint64(1), pairs[:, 1].copy()


def minhash_signatures(shingles: pl.Series, *, num_perm: int = 128, seed: int = 1) -> np.ndarray:
    """MinHash signature of each shingle set: an (n_rows, num_perm) uint32 array.

    Permutation i maps a shingle x (its low 32 bits) to ((a_i·x + b_i) mod 2^64) >> 32, the
    multiply-add-shift universal hash family: no modulo, so numpy does it in two passes over a
    cache-sized block, then a segmented minimum per row. Every row must have a non-empty set (the
    MinHash of an empty set is undefined); filter those out first.
    """
    lengths = shingles.list.len().to_numpy().astype(np.int64)
    if shingles.null_count() or (lengths == 0).any():
        raise ValueError("minhash_signatures needs non-empty shingle sets; filter empty rows first")
    a, b = _permutation_params(num_perm, seed)

    n_rows = len(lengths)
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    out = np.empty((n_rows, num_perm), dtype=np.uint32)
    block_size = max(_MINHASH_BLOCK_SHINGLES, int(lengths.max(initial=0))) * num_perm

    def rows(first: int, stop: int) -> None:
        block = np.empty(block_size, np.uint64)
        # Flattened a slice of rows at a time: all shingles of millions of rows, flat, would be
        # another copy of the whole column (two, with the masking).
        for c0 in range(first, stop, _CHUNK_ROWS):
            c1 = min(c0 + _CHUNK_ROWS, stop)
            flat = shingles.slice(c0, c1 - c0).explode().to_numpy().astype(np.uint64, copy=False)
            values = flat & np.uint64(0xFFFF_FFFF)
            base = offsets[c0]
            r0 = c0
            while r0 < c1:
                fits = int(np.searchsorted(offsets, offsets[r0] + _MINHASH_BLOCK_SHINGLES, side="right")) - 1
                r1 = min(max(fits, r0 + 1), c1)
                s0, s1 = offsets[r0] - base, offsets[r1] - base
                # Permutations x shingles: each permutation's values are contiguous for the reduction.
                m = block[: (s1 - s0) * num_perm].reshape(num_perm, s1 - s0)
                np.multiply(a[:, None], values[None, s0:s1], out=m)
                m += b[:, None]
                # The >> 32 is monotonic, so it is applied after the minimum, on n_rows values only.
                out[r0:r1] = (np.minimum.reduceat(m, offsets[r0:r1] - base - s0, axis=1) >> np.uint64(32)).T
                r0 = r1

    over_ranges(rows, n_rows)
    return out


def shingle_bucket_counts(shingles: pl.Series, *, buckets: int = 128) -> np.ndarray:
    """How many shingles of each set fall in each of `buckets` hash buckets (the low bits of the
    shingle hash): an (n_rows, buckets) array of the narrowest unsigned type that holds the
    largest set's size.

    For any two sets A and B, |A∩B| <= sum over buckets of min(count_A, count_B): a shared shingle
    lands in the same bucket of both. `jaccard_upper_bound` turns that into an upper bound on
    Jaccard that rejects most candidate pairs before their sets are intersected, and never rejects
    a pair that would pass. `buckets` must be a power of two. Null and empty sets count nothing.
    """
    if buckets <= 0 or buckets & (buckets - 1):
        raise ValueError(f"buckets must be a power of two, got {buckets}")
    lengths = shingles.list.len().fill_null(0).to_numpy().astype(np.int64)
    # No count exceeds the largest set: the narrowest type that holds it (one byte on chat text).
    largest = int(lengths.max(initial=0))
    dtype = np.uint8 if largest <= 0xFF else np.uint16 if largest <= 0xFFFF else np.uint32
    counts = np.empty((len(lengths), buckets), dtype=dtype)
    mask = np.uint64(buckets - 1)
    # A slice of rows at a time, as in `minhash_signatures`: the flat shingles of millions of rows
    # would be another copy of the whole column.
    for start in range(0, len(lengths), _CHUNK_ROWS):
        part = shingles.slice(start, _CHUNK_ROWS)
        flat = part.explode(empty_as_null=False, keep_nulls=False).to_numpy().astype(np.uint64, copy=False)
        rows = np.repeat(np.arange(len(part)), lengths[start : start + len(part)])
        counts[start : start + len(part)] = np.bincount(
            rows * buckets + (flat & mask).astype(np.int64), minlength=len(part) * buckets
        ).reshape(len(part), buckets)
    return counts


def jaccard_upper_bound(
    counts_left: np.ndarray, counts_right: np.ndarray, sizes_left: np.ndarray, sizes_right: np.ndarray
) -> np.ndarray:
    """An upper bound on the Jaccard of each pair of sets, from their `shingle_bucket_counts` rows
    and set sizes: |A∩B| <= sum(min(counts)), and |A∪B| = |A| + |B| - |A∩B| falls as |A∩B| grows,
    so the bound is sum(min) / (|A| + |B| - sum(min)). Two empty sets give 1.0, as `jaccard` does.
    """
    # The sum cannot exceed the smaller set's size, which the counts' type holds (two bytes suffice
    # for one-byte counts): a narrow sum is ~1.5x faster than an int64 one.
    shared = np.minimum(counts_left, counts_right).sum(
        axis=1, dtype=np.uint16 if counts_left.dtype == np.uint8 else counts_left.dtype
    ).astype(np.int64)
    union = sizes_left.astype(np.int64) + sizes_right.astype(np.int64) - shared
    return np.divide(shared, union, out=np.ones(len(shared)), where=union > 0)


def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """(bands, rows per band) minimising the equally weighted false-positive and false-negative
    areas under the LSH S-curve around `threshold`: the same objective as datasketch's MinHashLSH,
    so the banding matches the library named in DESIGN.md 8 (0.5 at 128 permutations → 25 x 5).
    """
    s = np.linspace(0.0, 1.0, 2001)
    below, above = s <= threshold, s >= threshold
    best: tuple[float, int, int] = (np.inf, 0, 0)
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            p = 1.0 - (1.0 - s**rows) ** bands
            error = 0.5 * np.trapezoid(p[below], s[below]) + 0.5 * np.trapezoid(1.0 - p[above], s[above])
            if error < best[0]:
                best = (error, bands, rows)
    return best[1], best[2]


def lsh_band_keys(signatures: np.ndarray, *, threshold: float = 0.5) -> np.ndarray:
    """The LSH bucket key of each row in each band: a (bands, n_rows) uint64 array of 64-bit hashes
    of the band's signature values (`lsh_params` bands and rows). A quarter of the signatures'
    size at 128 permutations, so a caller can let the signatures go before generating candidates.
    """
    n_rows, num_perm = signatures.shape
    bands, rows = lsh_params(threshold, num_perm)
    keys = np.empty((bands, n_rows), dtype=np.uint64)
    for band in range(bands):
        key = np.full(n_rows, band, dtype=np.uint64)
        for column in signatures[:, band * rows : (band + 1) * rows].T.astype(np.uint64):
            key = _mix64(key ^ column)
        keys[band] = key
    return keys


def lsh_candidate_batches(
    band_keys: np.ndarray, *, max_anchors: int = 32
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """LSH candidates in batches of (band, anchors, members): row indices into the rows of
    `band_keys` (`lsh_band_keys` output).

    Rows whose band values all agree share a bucket. Within a bucket rows are ranked by index, and
    each of the first `max_anchors` rows (an anchor) is paired with every row ranked after it, so
    the anchor is always the smaller index. A bucket of m rows thus yields at most m·max_anchors
    pairs instead of m²/2: buckets up to max_anchors+1 rows give all pairs, and a huge family of
    near-identical texts still connects through its anchors while memory stays linear. Each band
    gives two batches: pairs with the bucket's first row, then pairs with its later anchors; the
    first usually connects a whole family, so a caller that tracks components can skip most of the
    second. Band keys are 64-bit hashes of the band's values; a collision only adds a candidate.
    """
    bands, n_rows = band_keys.shape
    position = np.arange(n_rows)
    for band in range(bands):
        key = band_keys[band]
        # Stable sort: a bucket's rows become adjacent and stay in index order.
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        opens = np.ones(n_rows, dtype=bool)
        opens[1:] = sorted_key[1:] != sorted_key[:-1]
        bucket_start = np.maximum.accumulate(np.where(opens, position, 0))
        rank = position - bucket_start
        member = np.flatnonzero(rank > 0)
        later_anchors, later_members = [], []
        for anchor in range(min(max_anchors, int(rank.max(initial=0)))):
            member = member[rank[member] > anchor]
            if anchor == 0:
                yield band, order[bucket_start[member]], order[member]
            else:
                later_anchors.append(order[bucket_start[member] + anchor])
                later_members.append(order[member])
        if later_anchors:
            yield band, np.concatenate(later_anchors), np.concatenate(later_members)


def lsh_candidate_pairs(
    signatures: np.ndarray, *, threshold: float = 0.5, max_anchors: int = 32
) -> pl.DataFrame:
    """All pairs of `lsh_candidate_batches`, as columns left < right (UInt32), unique and sorted."""
    found = [np.zeros(0, dtype=np.uint64)]
    band_keys = lsh_band_keys(signatures, threshold=threshold)
    for _, anchors, members in lsh_candidate_batches(band_keys, max_anchors=max_anchors):
        found.append((anchors.astype(np.uint64) << np.uint64(32)) | members.astype(np.uint64))
    # Sort and drop repeats: np.unique takes a hash path on numpy 2 that measured ~200x slower here.
    codes = np.sort(np.concatenate(found))
    first = np.ones(len(codes), dtype=bool)
    first[1:] = codes[1:] != codes[:-1]
    codes = codes[first]
    return pl.DataFrame(
        {
            "left": (codes >> np.uint64(32)).astype(np.uint32),
            "right": (codes & np.uint64(0xFFFF_FFFF)).astype(np.uint32),
        }
    )


def jaccard(left: pl.Expr, right: pl.Expr) -> pl.Expr:
    """Exact Jaccard similarity |A∩B| / |A∪B| of two List columns of sets (Float64): lists without
    repeated values, such as `shingle_hashes` output.

    Two empty sets are identical, so their similarity is 1.0; a null list gives null.
    """
    inter = left.list.set_intersection(right).list.len()
    # |A∪B| = |A| + |B| - |A∩B| for sets: one set operation instead of two.
    union = left.list.len() + right.list.len() - inter
    return pl.when(union == 0).then(pl.lit(1.0)).otherwise(inter / union)
