"""The example-id Merkle tree: RFC 6962 roots, RFC 9162 inclusion proofs, and refusal of bad proofs."""

from __future__ import annotations

import hashlib
from dataclasses import replace

import pytest

from corpus.merkle import InclusionProof, MerkleTree, inclusion_proof, merkle_root, verify_inclusion

# ---- a reference written from the RFC text, recursion and all ---------------------------------


def ref_mth(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) of RFC 6962 section 2.1, over raw leaf inputs."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + ref_mth(leaves[:k]) + ref_mth(leaves[k:])).digest()


def ref_path(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 6962 section 2.1.1."""
    if len(leaves) == 1:
        return []
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m < k:
        return [*ref_path(m, leaves[:k]), ref_mth(leaves[k:])]
    return [*ref_path(m - k, leaves[k:]), ref_mth(leaves[:k])]


# The Certificate Transparency reference test vectors (leaf inputs and roots of the first n leaves).
CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    bytes(range(0x50, 0x58)),
    bytes(range(0x60, 0x70)),
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_PATH_LEAF0_OF_8 = [
    "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
    "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
    "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
]


def example_ids(n: int) -> list[str]:
    return [hashlib.sha256(f"example {i}".encode()).hexdigest() for i in range(n)]


def test_reference_reproduces_the_ct_vectors() -> None:
    for n in range(1, 9):
        assert ref_mth(CT_LEAVES[:n]).hex() == CT_ROOTS[n - 1]
    assert [h.hex() for h in ref_path(0, CT_LEAVES)] == CT_PATH_LEAF0_OF_8


@pytest.mark.parametrize("n", range(0, 34))
def test_root_matches_the_reference_over_sorted_ascii_ids(n: int) -> None:
    ids = example_ids(n)
    expected = ref_mth([i.encode("ascii") for i in sorted(ids)]).hex()
    assert merkle_root(ids) == expected
    # Order of the input does not matter: the leaves are the sorted ids.
    assert merkle_root(list(reversed(ids))) == expected


@pytest.mark.parametrize("n", range(0, 34))
def test_root_alone_equals_the_full_trees_root(n: int) -> None:
    # merkle_root keeps two levels at a time, MerkleTree all of them: the same tree either way.
    ids = example_ids(n)
    assert merkle_root(ids) == MerkleTree(ids).root


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    assert merkle_root([]) == hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize("n", range(1, 34))
def test_every_leaf_proves_and_matches_the_reference_path(n: int) -> None:
    ids = example_ids(n)
    tree = MerkleTree(ids)
    leaves = [i.encode("ascii") for i in tree.ids]
    for index, example_id in enumerate(tree.ids):
        proof = tree.proof(example_id)
        assert proof == InclusionProof(index, n, [h.hex() for h in ref_path(index, leaves)])
        assert verify_inclusion(example_id, proof, tree.root)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13, 33])
def test_tampered_proofs_fail(n: int) -> None:
    ids = example_ids(n)
    tree = MerkleTree(ids)
    other = hashlib.sha256(b"not in the tree").hexdigest()
    flipped_root = f"{int(tree.root[0], 16) ^ 1:x}{tree.root[1:]}"
    for example_id in tree.ids:
        proof = tree.proof(example_id)
        assert not verify_inclusion(other, proof, tree.root)
        assert not verify_inclusion(example_id, proof, flipped_root)
        assert not verify_inclusion(example_id, replace(proof, leaf_index=n), tree.root)
        if n > 1:
            assert not verify_inclusion(example_id, replace(proof, leaf_index=(proof.leaf_index + 1) % n), tree.root)
        for i, sibling in enumerate(proof.audit_path):
            bad = f"{int(sibling[-1], 16) ^ 1:x}"
            tampered = [*proof.audit_path[:i], sibling[:-1] + bad, *proof.audit_path[i + 1 :]]
            assert not verify_inclusion(example_id, replace(proof, audit_path=tampered), tree.root)
        assert not verify_inclusion(example_id, replace(proof, audit_path=[*proof.audit_path, tree.root]), tree.root)
        if proof.audit_path:
            assert not verify_inclusion(example_id, replace(proof, audit_path=proof.audit_path[:-1]), tree.root)


def test_malformed_input_is_a_failed_proof_not_a_crash() -> None:
    ids = example_ids(4)
    proof = inclusion_proof(ids, sorted(ids)[2])
    root = merkle_root(ids)
    assert not verify_inclusion(sorted(ids)[2].upper(), proof, root)
    assert not verify_inclusion(sorted(ids)[2], replace(proof, audit_path=["zz"]), root)
    assert not verify_inclusion(sorted(ids)[2], proof, "not hex")
    assert not verify_inclusion(sorted(ids)[2], replace(proof, leaf_index=-1), root)


def test_bad_id_sets_are_refused() -> None:
    ids = example_ids(3)
    with pytest.raises(ValueError, match="more than once"):
        merkle_root([*ids, ids[0]])
    with pytest.raises(ValueError, match="not an example id"):
        merkle_root(["ABC"])
    with pytest.raises(KeyError):
        inclusion_proof(ids, hashlib.sha256(b"absent").hexdigest())
