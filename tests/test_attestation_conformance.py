"""Production bundles from the sigstore-conformance suite, verified offline with the pinned root.

Each case directory (see its README.md) holds `bundle.sigstore.json` and optionally `artifact`
(default: ../a.txt; for DSSE bundles it is the attested subject), `identity`, `issuer`,
`key.pub` and `trusted_root.json` (default: public-good production, i.e. our pinned root).
Names ending in `_fail` must fail verification; every other case must pass.

Cases rejected *before* the named defect is reached, because sigstore-python 4.5.1 refuses the
bundle format outright, still count as failing (they do fail, and must keep failing):
- intoto-expired-certificate_fail, intoto-log-entry-mismatch_fail,
  intoto-set-outside-signing-cert-validity_fail, intoto-tsa-timestamp-outside-cert-validity_fail:
  legacy `intoto` log entries are unsupported ("Integrated time only supported for dsse/hashedrekord").
- managed-key-wrong-key_fail: bundles signed with a managed key are unsupported (no certificate).
- bundle-with-root-cert_fail: a v0.1 bundle whose inclusion proof has no checkpoint, which
  sigstore-python requires; about the root certificate in the chain it would only log a warning.
- invalid-inclusion-proof_fail: the proof has no checkpoint (mandatory in v0.2 bundles), so the
  stale proof itself is never evaluated.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sigstore.errors import Error as SigstoreError
from sigstore.models import Bundle, TrustedRoot
from sigstore.verify import Verifier, policy

from corpus.attestation import (
    GITHUB_ACTIONS_ISSUER,
    PRODUCTION_TRUSTED_ROOT,
    CommitMismatch,
    IdentityMismatch,
    StatementError,
    load_trusted_root,
    verify_attestation,
)

FIXTURES_ENV = "CORPUS_SIGSTORE_FIXTURES"
REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_IDENTITY = (
    "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/"
    ".github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main"
)

# Happy paths sigstore-python 4.5.1 cannot verify. Strict: a fix upstream makes these fail loudly.
KNOWN_LIMITATIONS = {
    "intoto-with-custom-trust-root": "log entry of the legacy `intoto` kind: sigstore-python verifies "
    "only dsse and hashedrekord entries",
    "managed-key-happy-path": "signed with a managed key (key.pub): sigstore-python has no API to verify "
    "keyed bundles, it requires a Fulcio certificate",
    "managed-key-and-trusted-root": "signed with a managed key (key.pub): sigstore-python has no API to "
    "verify keyed bundles, it requires a Fulcio certificate",
    "trust-root-tsa-validity-end-inclusive": "sigstore-python treats a TSA's validFor.end as exclusive "
    "(verifier.py: gen_time < validity_period_end); the spec's TimeRange is a closed interval",
}


def _conformance_dir() -> Path | None:
    """The bundle-verify directory, from $CORPUS_SIGSTORE_FIXTURES or ../shared/fixtures of the repo."""
    configured = os.environ.get(FIXTURES_ENV)
    base = Path(configured) if configured else REPO_ROOT.parent / "shared" / "fixtures"
    for candidate in (base, base / "bundle-verify", base / "sigstore-conformance" / "bundle-verify"):
        if (candidate / "README.md").is_file() and (candidate / "a.txt").is_file():
            return candidate
    return None


CONFORMANCE_DIR = _conformance_dir()
MISSING_REASON = (
    f"sigstore-conformance bundle-verify fixtures not found: set {FIXTURES_ENV} to their "
    "bundle-verify/ directory or one of its parents (sigstore-conformance/, fixtures/), or place "
    "them under ../shared/fixtures next to the repository"
)


def _cases() -> list[Any]:
    if CONFORMANCE_DIR is None:
        return [pytest.param(None, id="fixtures-missing", marks=pytest.mark.skip(reason=MISSING_REASON))]
    params = []
    for case in sorted(p for p in CONFORMANCE_DIR.iterdir() if p.is_dir()):
        marks = []
        if case.name in KNOWN_LIMITATIONS:
            marks.append(
                pytest.mark.xfail(reason=KNOWN_LIMITATIONS[case.name], raises=SigstoreError, strict=True)
            )
        params.append(pytest.param(case, id=case.name, marks=marks))
    return params


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any attempt to open a network connection: verification must be offline."""

    def refuse(_: socket.socket, address: object) -> None:
        raise AssertionError(f"verification attempted a network connection to {address!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


def test_no_network_guard_blocks_connections(no_network: None) -> None:
    with pytest.raises(AssertionError, match="network connection"):
        socket.create_connection(("127.0.0.1", 9), timeout=1)


class SubjectNotFound(Exception):
    """The DSSE statement does not name the artifact's digest."""


def _verify_case(case: Path) -> None:
    """What `sigstore verify identity --bundle ... <artifact>` does, with our trust root loading."""
    assert CONFORMANCE_DIR is not None
    artifact = case / "artifact" if (case / "artifact").is_file() else CONFORMANCE_DIR / "a.txt"
    identity = _read(case / "identity") or DEFAULT_IDENTITY
    issuer = _read(case / "issuer") or GITHUB_ACTIONS_ISSUER
    custom_root = case / "trusted_root.json"
    trusted_root = TrustedRoot.from_file(str(custom_root)) if custom_root.is_file() else load_trusted_root()

    raw_bundle = (case / "bundle.sigstore.json").read_bytes()
    bundle = Bundle.from_json(raw_bundle)
    verifier = Verifier(trusted_root=trusted_root)
    identity_policy = policy.Identity(identity=identity, issuer=issuer)
    digest = hashlib.sha256(artifact.read_bytes()).hexdigest()
    if "dsseEnvelope" in json.loads(raw_bundle):
        payload_type, payload = verifier.verify_dsse(bundle, identity_policy)
        assert payload_type == "application/vnd.in-toto+json"
        subjects = json.loads(payload)["subject"]
        if not any(subject["digest"].get("sha256") == digest for subject in subjects):
            raise SubjectNotFound(digest)
    else:
        verifier.verify_artifact(artifact.read_bytes(), bundle, identity_policy)


def _read(path: Path) -> str | None:
    return path.read_text().strip() if path.is_file() else None


@pytest.mark.usefixtures("no_network")
@pytest.mark.parametrize("case", _cases())
def test_conformance_bundle(case: Path) -> None:
    if case.name.endswith("_fail"):
        with pytest.raises((SigstoreError, ValidationError, SubjectNotFound)):
            _verify_case(case)
    else:
        _verify_case(case)


@pytest.fixture
def production_dsse_bundle() -> str:
    if CONFORMANCE_DIR is None:
        pytest.skip(MISSING_REASON)
    return (CONFORMANCE_DIR / "happy-path-intoto-in-dsse-v3" / "bundle.sigstore.json").read_text()


# The conformance beacon's commit, repository and workflow, as recorded in that bundle's certificate.
BEACON_REPOSITORY = "sigstore-conformance/extremely-dangerous-public-oidc-beacon"
BEACON_COMMIT = "82a3bfe6dd50fe9c71d6315eae66da15307856cf"


@pytest.mark.usefixtures("no_network")
def test_verify_attestation_checks_a_production_bundle_offline_with_the_pinned_root(
    production_dsse_bundle: str,
) -> None:
    # Signature, log proofs and signer policy all pass against the pinned root; the bundle is
    # then refused only because it attests SLSA provenance, not one of our snapshots.
    with pytest.raises(StatementError, match=r"https://slsa\.dev/provenance/v1"):
        verify_attestation(
            production_dsse_bundle,
            issuer=GITHUB_ACTIONS_ISSUER,
            identity=DEFAULT_IDENTITY,
            repository=BEACON_REPOSITORY,
            commit=BEACON_COMMIT,
        )
    with pytest.raises(CommitMismatch):
        verify_attestation(
            production_dsse_bundle, issuer=GITHUB_ACTIONS_ISSUER, identity=DEFAULT_IDENTITY, commit="1" * 40
        )
    with pytest.raises(IdentityMismatch):
        verify_attestation(
            production_dsse_bundle,
            issuer=GITHUB_ACTIONS_ISSUER,
            identity=DEFAULT_IDENTITY.replace("@refs/heads/main", "@refs/heads/evil"),
        )


def test_pinned_root_is_the_public_good_instance() -> None:
    document = json.loads(PRODUCTION_TRUSTED_ROOT.read_text())
    assert "https://rekor.sigstore.dev" in {log["baseUrl"] for log in document["tlogs"]}
    assert "https://fulcio.sigstore.dev" in {ca["uri"] for ca in document["certificateAuthorities"]}
