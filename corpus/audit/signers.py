"""Who signed each snapshot, established by verifying its bundle, never read from a field.

The registry's `signer` field is what `corpusctl sign` wrote; anyone can edit it. The audit
reports the identity of a bundle that verifies against the trusted root and the signer policy
(the signature check of `corpusctl verify`), and only predicates of such bundles are used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from corpus.attestation import VerifiedAttestation
from corpus.paths import RepoPaths, resolve_inside
from corpus.snapshots import RegistryEntry

# The signature check of `corpusctl verify` (signature, signer policy, commit binding, version),
# reused so that the audit accepts exactly what verify accepts.
from corpus.verification import CheckFailed, SignerPolicy, Trust, verify_signature


class BundleRejected(Exception):
    """The bundle does not verify, or does not attest the expected version; the message says why."""


def verify_bundle(bundle_json: str, version: str, policy: SignerPolicy, trust: Trust) -> VerifiedAttestation:
    """Verify a snapshot bundle exactly as `corpusctl verify`'s signature check does."""
    try:
        return verify_signature(bundle_json, version, policy, trust)
    except CheckFailed as exc:
        raise BundleRejected(str(exc)) from None


@dataclass(frozen=True)
class Signer:
    """The outcome of verifying one snapshot's bundle."""

    version: str
    verified: bool
    identity: str | None = None
    issuer: str | None = None
    signed_at: str | None = None
    log_index: int | None = None
    error: str | None = None
    predicate: dict[str, Any] | None = None
    """The signed predicate; only set when the bundle verified."""

    def to_json(self) -> dict[str, Any]:
        return {
            "verified": self.verified,
            "identity": self.identity,
            "issuer": self.issuer,
            "signed_at": self.signed_at,
            "log_index": self.log_index,
            "error": self.error,
        }


class Signers:
    """Verifies each snapshot's bundle once per command."""

    def __init__(self, paths: RepoPaths, policy: SignerPolicy, trust: Trust) -> None:
        self._paths, self._policy, self._trust = paths, policy, trust
        self._done: dict[str, Signer] = {}

    def of(self, entry: RegistryEntry) -> Signer:
        if entry.version not in self._done:
            self._done[entry.version] = self._verify(entry)
        return self._done[entry.version]

    @property
    def all_verified(self) -> bool:
        return all(s.verified for s in self._done.values())

    def _verify(self, entry: RegistryEntry) -> Signer:
        def failed(why: str) -> Signer:
            return Signer(entry.version, verified=False, error=why)

        try:
            bundle = resolve_inside(self._paths.root, entry.bundle)
        except ValueError as exc:
            return failed(f"registry entry names bundle {exc}; restore attestations/registry.json from git")
        if not bundle.is_file():
            return failed(f"{entry.bundle} is missing: `git pull` (bundles are committed with the registry)")
        try:
            attestation = verify_bundle(
                bundle.read_text(encoding="utf-8"), entry.version, self._policy, self._trust
            )
        except BundleRejected as exc:
            return failed(str(exc))
        predicate = attestation.predicate
        # The audit reads data at the registry's commit and trusts the registry's manifest digest to
        # key its cache: both must be the signed ones.
        if attestation.subject_digest != entry.manifest_sha256 or predicate.get("git_commit") != entry.commit:
            return failed(
                f"registry entry {entry.version} disagrees with its signed attestation (manifest "
                f"{attestation.subject_digest}, commit {predicate.get('git_commit')}); restore "
                "attestations/registry.json from git history and run `corpusctl verify`"
            )
        when = attestation.integrated_time
        return Signer(
            entry.version,
            verified=True,
            identity=attestation.signer_identity,
            issuer=attestation.signer_issuer,
            signed_at=when.isoformat().replace("+00:00", "Z") if when else None,
            log_index=attestation.log_index,
            predicate=predicate,
        )
