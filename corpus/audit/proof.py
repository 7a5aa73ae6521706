"""Merkle inclusion proofs: one example is in a signed snapshot, checkable without the corpus.

A proof file holds the example itself, its id, the RFC 9162 audit path to the snapshot's example
Merkle root (corpus.merkle), the snapshot version, and the snapshot's manifest.json (a few KB, so
the tree size can be checked against what was signed). `check_proof` needs only that file and the
snapshot's Sigstore bundle:

  signature  the bundle verifies (trusted root + signer policy) and attests this version
  manifest   the proof's manifest is the attested subject, and gives the proof's tree size
  root       the proof's root is the Merkle root in the signed predicate
  example    the example's content hashes to the proof's example id (ids are content-addressed)
  inclusion  the audit path leads from that id's leaf to the signed root
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from corpus.audit.errors import EXIT_OK, EXIT_PROOF_REJECTED, EXIT_UNVERIFIED, NotFound, SnapshotDataError
from corpus.audit.index import SnapshotIndex
from corpus.merkle import InclusionProof, MerkleTree, verify_inclusion
from corpus.verification import SignerPolicy, Trust

PROOF_FORMAT = "corpus-inclusion-proof/v1"


def make_proof(index: SnapshotIndex, example_id: str) -> dict[str, Any]:
    """The inclusion proof of `example_id` in snapshot `index`, as a JSON document."""
    placement = index.scan_examples().filter(pl.col("example_id") == example_id).head(1).collect()
    if not placement.height:
        raise NotFound(f"example {example_id} is not in snapshot {index.version}")
    ids = index.scan_examples().select("example_id").unique().sort("example_id").collect()["example_id"]
    tree = MerkleTree(ids.to_list())
    if tree.root != index.merkle_root or index.tree_size not in (None, len(ids)):
        raise SnapshotDataError(
            f"the Merkle tree over snapshot {index.version}'s {len(ids)} example ids has root {tree.root}, but "
            f"its manifest says {index.merkle_root} over {index.tree_size} ids: the example files and the "
            f"manifest disagree; delete .corpus-cache/ and retry, and if it persists run "
            f"`corpusctl verify {index.version}`"
        )
    proof = tree.proof(example_id)
    manifest_text = (index.directory / "manifest.json").read_text(encoding="utf-8")
    return {
        "format": PROOF_FORMAT,
        "version": index.version,
        "example_id": example_id,
        "example": json.loads(placement["line"][0]),
        "leaf_index": proof.leaf_index,
        "tree_size": proof.tree_size,
        "audit_path": proof.audit_path,
        "merkle_root": tree.root,
        "manifest_sha256": index.manifest_sha256,
        "manifest": manifest_text,
    }


@dataclass
class ProofCheck:
    version: str | None
    example_id: str | None
    checks: list[dict[str, str]] = field(default_factory=list)
    signer: dict[str, Any] | None = None

    @property
    def exit_code(self) -> int:
        failed = [c["check"] for c in self.checks if c["status"] == "fail"]
        if not failed:
            return EXIT_OK
        return EXIT_UNVERIFIED if "signature" in failed else EXIT_PROOF_REJECTED

    def ok(self, check: str, message: str) -> None:
        self.checks.append({"check": check, "status": "ok", "message": message})

    def fail(self, check: str, message: str) -> None:
        self.checks.append({"check": check, "status": "fail", "message": message})

    def to_json(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "example_id": self.example_id,
            "holds": self.exit_code == EXIT_OK,
            "exit_code": self.exit_code,
            "signer": self.signer,
            "checks": self.checks,
        }


def _proof_fields(proof: Any) -> tuple[str, str, InclusionProof, str, str] | str:
    """(version, example_id, inclusion proof, root, manifest sha256), or why the document is not a proof."""
    if not isinstance(proof, Mapping) or proof.get("format") != PROOF_FORMAT:
        return f"not an inclusion proof ({PROOF_FORMAT}); write one with `corpusctl audit proof`"
    try:
        version, example_id = proof["version"], proof["example_id"]
        inclusion = InclusionProof(
            leaf_index=proof["leaf_index"], tree_size=proof["tree_size"], audit_path=list(proof["audit_path"])
        )
        root, manifest_sha256 = proof["merkle_root"], proof["manifest_sha256"]
    except (KeyError, TypeError) as exc:
        return f"the proof lacks or mangles field {exc}"
    if not all(isinstance(v, str) for v in (version, example_id, root, manifest_sha256)) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in (inclusion.leaf_index, inclusion.tree_size)
    ):
        return "the proof's fields have the wrong types (strings, integer leaf_index and tree_size)"
    return version, example_id, inclusion, root, manifest_sha256


def check_proof(
    proof: Any, bundle_json: str, policy: SignerPolicy, trust: Trust, *, example: Any | None = None
) -> ProofCheck:
    """Check `proof` against the snapshot's bundle; `example`, if given, is a copy of the example
    held elsewhere (e.g. a line of a training file) that must be the proven one."""
    from corpus.audit.signers import BundleRejected, verify_bundle
    from corpus.snapshot import example_id_of

    fields = _proof_fields(proof)
    if isinstance(fields, str):
        report = ProofCheck(None, None)
        report.fail("proof", fields)
        return report
    version, example_id, inclusion, root, manifest_sha256 = fields
    report = ProofCheck(version, example_id)

    try:
        attestation = verify_bundle(bundle_json, version, policy, trust)
    except BundleRejected as exc:
        report.fail("signature", f"{exc}; nothing in the proof can be trusted against this bundle")
        return report
    when = attestation.integrated_time
    report.signer = {
        "identity": attestation.signer_identity,
        "issuer": attestation.signer_issuer,
        "signed_at": when.isoformat().replace("+00:00", "Z") if when else None,
        "commit": attestation.predicate.get("git_commit"),
    }
    report.ok("signature", f"snapshot {version} signed by {attestation.signer_identity}")

    subject = attestation.subject_digest
    manifest_text = proof.get("manifest")
    if manifest_sha256 != subject:
        report.fail(
            "manifest", f"the proof names manifest sha256 {manifest_sha256}, the bundle signs {subject}"
        )
    elif not isinstance(manifest_text, str) or hashlib.sha256(manifest_text.encode()).hexdigest() != subject:
        report.fail(
            "manifest", "the manifest embedded in the proof is not the signed manifest.json (altered)"
        )
    else:
        signed_size = _tree_size(manifest_text)
        if signed_size is not None and signed_size != inclusion.tree_size:
            report.fail(
                "manifest",
                f"the proof claims {inclusion.tree_size} leaves, the signed manifest {signed_size}",
            )
        else:
            report.ok("manifest", f"the proof's manifest is the signed one (sha256 {subject})")

    signed_root = (attestation.predicate.get("examples") or {}).get("merkle_root")
    if root != signed_root:
        report.fail("root", f"the proof's Merkle root {root} is not the signed root {signed_root}")
    else:
        report.ok("root", f"Merkle root {root} is the one in the signed predicate")

    copies = [("embedded example", proof.get("example"))] + (
        [("--example", example)] if example is not None else []
    )
    for label, body in copies:
        if body is None:
            continue
        try:
            recomputed = example_id_of(body) if isinstance(body, Mapping) else None
        except (TypeError, ValueError):  # not canonicalisable JSON data: it cannot be the example
            recomputed = None
        if recomputed != example_id:
            report.fail(
                "example", f"the {label}'s content hashes to {recomputed}, not the proven id {example_id}"
            )
        else:
            report.ok("example", f"the {label}'s content hashes to {example_id}")

    if isinstance(signed_root, str) and verify_inclusion(example_id, inclusion, signed_root):
        report.ok(
            "inclusion", f"leaf {inclusion.leaf_index} of {inclusion.tree_size} leads to the signed root"
        )
    else:
        report.fail(
            "inclusion",
            f"the audit path does not lead from example {example_id} to the signed root: the example id or the "
            "proof was altered, or the example is not in this snapshot",
        )
    return report


def _tree_size(manifest_text: str) -> int | None:
    try:
        merkle = json.loads(manifest_text).get("merkle")
    except (ValueError, AttributeError):
        return None
    size = merkle.get("tree_size") if isinstance(merkle, Mapping) else None
    return size if isinstance(size, int) else None
