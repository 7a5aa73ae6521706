"""The Merkle tree over a snapshot's example ids (RFC 6962 section 2.1, RFC 9162 section 2.1).

A snapshot's manifest records one root over all of its example ids, so a single example can later
be shown to be in a signed snapshot with a short audit path, without the corpus.

Conventions (part of contract v1, recorded in manifest.json):
- leaves are the example ids (64 lowercase hex characters) sorted ascending, each id once;
- a leaf's input is the id's ASCII text, not the 32 bytes it spells: leaf = SHA-256(0x00 || id);
- an interior node is SHA-256(0x01 || left || right), splitting n leaves at the largest power of
  two smaller than n; the empty tree's root is SHA-256 of the empty string.

The tree is built level by level: pairing neighbours and carrying an unpaired last node up
unchanged gives exactly RFC 6962's recursive split, in linear time (tests check both agree).
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

_EXAMPLE_ID = re.compile(r"^[0-9a-f]{64}$")
_EXAMPLE_IDS = re.compile(r"(?:[0-9a-f]{64}\n)*[0-9a-f]{64}")
_HASH_HEX = re.compile(r"^[0-9a-f]{64}$")


def leaf_hash(example_id: str) -> bytes:
    return hashlib.sha256(b"\x00" + example_id.encode("ascii")).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


@dataclass(frozen=True)
class InclusionProof:
    """RFC 9162 inclusion proof: the leaf's position, the tree size and the sibling hashes (hex),
    from the leaf up to the root."""

    leaf_index: int
    tree_size: int
    audit_path: list[str]


def _sorted_ids(ids: Iterable[str]) -> list[str]:
    ordered = sorted(ids)
    # One regex pass over all ids; the check per id runs only to name a bad one.
    if ordered and not _EXAMPLE_IDS.fullmatch("\n".join(ordered)):
        for example_id in ordered:
            if not _EXAMPLE_ID.match(example_id):
                raise ValueError(f"not an example id (64 lowercase hex characters): {example_id!r}")
    for previous, current in zip(ordered, ordered[1:], strict=False):
        if previous == current:
            # A repeated id would make its leaf index ambiguous; a snapshot never holds one twice.
            raise ValueError(f"example id {current} appears more than once")
    return ordered


def _levels(ids: list[str]) -> Iterator[list[bytes]]:
    """The tree's levels over sorted `ids`, leaves first, root level last."""
    # leaf_hash and node_hash inlined: a call per hash is a third of the build at a million leaves.
    sha256 = hashlib.sha256
    level = [sha256(b"\x00" + example_id.encode("ascii")).digest() for example_id in ids]
    yield level
    while len(level) > 1:
        paired = [sha256(b"\x01" + left + right).digest() for left, right in zip(level[::2], level[1::2])]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
        yield level


class MerkleTree:
    """All levels of the tree over `ids` (sorted here), so many proofs cost one build."""

    def __init__(self, ids: Iterable[str]) -> None:
        self.ids = _sorted_ids(ids)
        self._levels: list[list[bytes]] = list(_levels(self.ids))

    @property
    def root(self) -> str:
        if not self.ids:
            return hashlib.sha256(b"").hexdigest()
        return self._levels[-1][0].hex()

    def proof(self, example_id: str) -> InclusionProof:
        index = bisect.bisect_left(self.ids, example_id)
        if index == len(self.ids) or self.ids[index] != example_id:
            raise KeyError(f"example {example_id} is not in this tree")
        path: list[str] = []
        position = index
        for level in self._levels[:-1]:
            sibling = position ^ 1
            # The last node of an odd level has no sibling here: it is carried up as is.
            if sibling < len(level):
                path.append(level[sibling].hex())
            position //= 2
        return InclusionProof(leaf_index=index, tree_size=len(self.ids), audit_path=path)


def merkle_root(ids: Iterable[str]) -> str:
    """Hex root over `ids` (sorted here; each id once). Only two levels are held at a time: a
    snapshot's root needs no proofs."""
    level: list[bytes] = []
    for level in _levels(_sorted_ids(ids)):
        pass
    return level[0].hex() if level else hashlib.sha256(b"").hexdigest()


def inclusion_proof(ids: Iterable[str], example_id: str) -> InclusionProof:
    """The audit path proving `example_id` is a leaf of the tree over `ids`; KeyError if absent."""
    return MerkleTree(ids).proof(example_id)


def verify_inclusion(example_id: str, proof: InclusionProof, root: str) -> bool:
    """RFC 9162 section 2.1.3.2: does `proof` lead from `example_id`'s leaf to `root`?

    Malformed input (an id or hash that is not lowercase hex, an index outside the tree) is a
    failed proof, not an exception: the proof may come from anyone. As in RFC 9162, the root does
    not authenticate the tree size (a left-edge path fits several sizes): callers compare
    `proof.tree_size` with the size the signed manifest records.
    """
    if not _EXAMPLE_ID.match(example_id) or not _HASH_HEX.match(root):
        return False
    if not all(_HASH_HEX.match(h) for h in proof.audit_path):
        return False
    if not 0 <= proof.leaf_index < proof.tree_size:
        return False
    fn, sn = proof.leaf_index, proof.tree_size - 1
    result = leaf_hash(example_id)
    for sibling_hex in proof.audit_path:
        if sn == 0:
            return False
        sibling = bytes.fromhex(sibling_hex)
        if fn & 1 or fn == sn:
            result = node_hash(sibling, result)
            if not fn & 1:
                # Skip the levels where this node was carried up without a sibling.
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            result = node_hash(result, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and result.hex() == root
