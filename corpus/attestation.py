"""Sigstore attestation of a published snapshot (DESIGN.md section 6).

One job: turn a snapshot's manifest digest and provenance predicate into an in-toto Statement
v1, sign it keyless as a DSSE envelope in a Sigstore bundle (v0.3 JSON), and verify such a
bundle against an identity policy, offline, with a pinned trusted root.

Trust defaults: signing without `trust_config` uses the public Sigstore instance (refreshing
its trust root over TUF); verifying without `trusted_root`/`trust_config` uses the production
root pinned in `corpus/trust/`, so verification never touches the network.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from cryptography import x509
from cryptography.hazmat import asn1

# sigstore-python raises these from private modules and exports no public alias (4.x).
from sigstore._internal.fulcio.client import ExpiredCertificate, FulcioClientError
from sigstore._internal.rekor import RekorClientError
from sigstore.dsse import Statement
from sigstore.errors import CertValidationError, VerificationError
from sigstore.errors import Error as SigstoreError
from sigstore.models import Bundle, ClientTrustConfig, TrustedRoot
from sigstore.oidc import ExpiredIdentity, IdentityError, IdentityToken, detect_credential
from sigstore.sign import SigningContext
from sigstore.verify import Verifier
from sigstore.verify.policy import (
    AllOf,
    GitHubWorkflowRepository,
    GitHubWorkflowSHA,
    Identity,
    OIDCIssuer,
    VerificationPolicy,
)

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://github.com/feedback-corpus-template/attestation/snapshot/v1"
SUBJECT_NAME = "manifest.json"
PAYLOAD_TYPE = "application/vnd.in-toto+json"
GITHUB_ACTIONS_ISSUER = "https://token.actions.githubusercontent.com"
PRODUCTION_TRUSTED_ROOT = Path(__file__).parent / "trust" / "production_trusted_root.json"

_HEX = frozenset("0123456789abcdef")
_FULCIO_OID = "1.3.6.1.4.1.57264.1"
# Fulcio certificate extensions (fulcio docs/oid-info.md). The first six hold raw bytes,
# the rest a DER UTF8String.
_RAW_EXTENSIONS = {
    1: "oidc_issuer",
    2: "github_workflow_trigger",
    3: "github_workflow_sha",
    4: "github_workflow_name",
    5: "github_workflow_repository",
    6: "github_workflow_ref",
}
_DER_EXTENSIONS = {
    8: "oidc_issuer_v2",
    9: "build_signer_uri",
    10: "build_signer_digest",
    11: "runner_environment",
    12: "source_repository_uri",
    13: "source_repository_digest",
    14: "source_repository_ref",
    15: "source_repository_identifier",
    16: "source_repository_owner_uri",
    17: "source_repository_owner_identifier",
    18: "build_config_uri",
    19: "build_config_digest",
    20: "build_trigger",
    21: "run_invocation_uri",
    22: "source_repository_visibility",
    23: "deployment_environment",
}


class AttestationError(Exception):
    """Base of every failure to sign or verify a snapshot attestation."""


class TrustRootError(AttestationError):
    """The trusted root or client trust configuration cannot be loaded or used."""


class StatementError(AttestationError):
    """The statement is not a snapshot statement of this project."""


class IdentityTokenError(AttestationError):
    """No usable OIDC identity token to sign with."""


class SigningError(AttestationError):
    """The Sigstore instance (CA or transparency log) did not complete the signature."""


class BundleFormatError(AttestationError):
    """The input is not a Sigstore bundle holding a DSSE envelope."""


class TrustRootMismatch(AttestationError):
    """The signing certificate does not chain to a CA of the trusted root in use."""


class SignatureError(AttestationError):
    """Signature, transparency-log proof or certificate timestamp does not verify."""


class SignerMismatch(AttestationError):
    """The signature is valid but the signer is not the one the policy requires."""


class IssuerMismatch(SignerMismatch):
    """The certificate's OIDC issuer differs from the expected one."""


class IdentityMismatch(SignerMismatch):
    """The certificate's identity (workflow URI) differs from the expected one."""


class RepositoryMismatch(SignerMismatch):
    """The certificate's GitHub repository differs from the expected one."""


class CommitMismatch(SignerMismatch):
    """The certificate's GitHub commit (workflow SHA) differs from the expected one."""


class SubjectMismatch(AttestationError):
    """The statement attests a different manifest digest than the expected one."""


@dataclass(frozen=True)
class VerifiedAttestation:
    """What a verified bundle establishes. Only ever built after full verification."""

    statement: dict[str, Any]
    predicate: dict[str, Any]
    subject_digest: str
    """sha256 (hex) of the snapshot's manifest.json."""
    signer_identity: str
    signer_issuer: str
    cert_extensions: dict[str, str]
    """Fulcio extensions of the signing certificate, by name (e.g. `source_repository_digest`)."""
    log_index: int
    integrated_time: datetime | None
    """When the transparency log recorded the signature (None for logs that give no time)."""


def build_statement(manifest_sha256: str, predicate: Mapping[str, Any]) -> dict[str, Any]:
    """The in-toto Statement v1 whose subject is the snapshot's manifest.json."""
    statement = {
        "_type": STATEMENT_TYPE,
        "subject": [{"name": SUBJECT_NAME, "digest": {"sha256": manifest_sha256}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": dict(predicate),
    }
    _check_statement(statement)
    return statement


def sign_statement(
    statement: Mapping[str, Any],
    *,
    identity_token: str | None = None,
    trust_config: Path | None = None,
) -> str:
    """Sign `statement` keyless and return the Sigstore bundle (v0.3) as JSON.

    `identity_token` None: detect an ambient OIDC credential (GitHub Actions with
    `id-token: write`). `trust_config` None: the public Sigstore instance.
    """
    _check_statement(statement)
    payload = _canonical_json(statement)
    # The token first: without one there is nothing to do, so fail before any network access.
    token = _identity_token(identity_token)
    config = _load_trust_config(trust_config) if trust_config is not None else _production_trust_config()
    try:
        context = SigningContext.from_trust_config(config)
        with context.signer(token) as signer:
            bundle = signer.sign_dsse(Statement(payload))
    except (ExpiredIdentity, ExpiredCertificate) as exc:
        raise IdentityTokenError(
            "the identity token expired before signing finished; request a fresh token and sign again"
        ) from exc
    except FulcioClientError as exc:
        raise SigningError(
            "the certificate authority refused to issue a signing certificate "
            f"({str(exc) or 'no reason given'}); "
            "check that the identity token is fresh, has audience 'sigstore', and comes from an issuer "
            "this Sigstore instance accepts"
        ) from exc
    except RekorClientError as exc:
        raise SigningError(
            f"the transparency log rejected the signature ({exc}); retry, and check that the trust "
            "config's log URL belongs to the same Sigstore instance as its CA"
        ) from exc
    except requests.RequestException as exc:
        raise SigningError(
            f"could not reach the Sigstore instance ({type(exc).__name__}); check the network and "
            "the URLs in the trust config"
        ) from exc
    except SigstoreError as exc:
        raise SigningError(
            f"signing failed: {exc}; check that the trust config describes the Sigstore instance in use"
        ) from exc
    return bundle.to_json()


def verify_attestation(
    bundle_json: str | bytes,
    *,
    issuer: str,
    identity: str,
    repository: str | None = None,
    commit: str | None = None,
    manifest_sha256: str | None = None,
    trusted_root: Path | None = None,
    trust_config: Path | None = None,
) -> VerifiedAttestation:
    """Verify a snapshot attestation bundle offline and return what it proves.

    The signer must match every given constraint: OIDC `issuer`, certificate `identity`
    (e.g. `https://github.com/OWNER/REPO/.github/workflows/publish.yml@refs/heads/main`),
    GitHub `repository` (`OWNER/REPO`) and `commit` (40 hex). `manifest_sha256`, if given,
    must be the attested manifest digest. Trust: `trusted_root` or `trust_config` of a private
    instance, else the pinned production root. Raises an `AttestationError` subclass.
    """
    if commit is not None and not _is_hex(commit, 40):
        raise ValueError(f"commit must be a full 40-character lowercase hex SHA, got {commit!r}")
    if manifest_sha256 is not None and not _is_hex(manifest_sha256, 64):
        raise ValueError(f"manifest_sha256 must be 64 lowercase hex characters, got {manifest_sha256!r}")

    root = load_trusted_root(trusted_root=trusted_root, trust_config=trust_config)
    document, bundle = _parse_bundle(bundle_json)
    try:
        verifier = Verifier(trusted_root=root)
    except SigstoreError as exc:
        raise TrustRootError(
            f"the trusted root cannot verify anything: {exc}; use a complete trusted_root.json"
        ) from exc

    policy = _signer_policy(issuer=issuer, identity=identity, repository=repository, commit=commit)
    try:
        payload_type, payload = verifier.verify_dsse(bundle, policy)
    except _PolicyFailure as exc:
        raise exc.error from exc
    except CertValidationError as exc:
        raise TrustRootMismatch(
            "the signing certificate was not issued by a CA of the trusted root in use; verify with the "
            "root of the Sigstore instance that signed the bundle (the pinned production root for public "
            "Sigstore; that instance's trusted root or trust config for a private one), or reject the "
            f"bundle ({exc})"
        ) from exc
    except SigstoreError as exc:
        raise SignatureError(
            f"the bundle does not verify ({exc}): it was altered or is not genuine; do not use this "
            "snapshot, and obtain the bundle again from its publisher"
        ) from exc

    statement = _parse_statement(payload_type, payload)
    digest = _check_statement(statement)
    if manifest_sha256 is not None and digest != manifest_sha256:
        raise SubjectMismatch(
            f"the attestation covers manifest sha256 {digest}, not {manifest_sha256}; the manifest you "
            "have is not the one that was signed: fetch the snapshot matching this attestation"
        )

    cert = bundle.signing_certificate
    extensions = certificate_extensions(cert)
    entry = document["verificationMaterial"]["tlogEntries"][0]
    integrated = entry.get("integratedTime")
    return VerifiedAttestation(
        statement=statement,
        predicate=statement["predicate"],
        subject_digest=digest,
        signer_identity=_certificate_identity(cert),
        signer_issuer=extensions.get("oidc_issuer_v2", extensions.get("oidc_issuer", "")),
        cert_extensions=extensions,
        log_index=int(entry["logIndex"]),
        integrated_time=datetime.fromtimestamp(int(integrated), tz=UTC) if integrated else None,
    )


def load_trusted_root(*, trusted_root: Path | None = None, trust_config: Path | None = None) -> TrustedRoot:
    """The trusted root to verify with: from a file, from a trust config, or the pinned production one.

    Never touches the network (no TUF refresh).
    """
    if trusted_root is not None and trust_config is not None:
        raise ValueError("pass either trusted_root or trust_config, not both")
    if trust_config is not None:
        try:
            return _load_trust_config(trust_config).trusted_root
        except SigstoreError as exc:
            raise TrustRootError(f"{trust_config}: unusable trusted root in trust config: {exc}") from exc
    path = PRODUCTION_TRUSTED_ROOT if trusted_root is None else trusted_root
    try:
        return TrustedRoot.from_file(str(path))
    except OSError as exc:
        raise TrustRootError(f"cannot read trusted root {path}: {exc.strerror}; check the path") from exc
    except (ValueError, SigstoreError) as exc:
        raise TrustRootError(
            f"{path} is not a Sigstore trusted root (trusted_root.json, media type "
            f"{TrustedRoot.TrustedRootType.TRUSTED_ROOT_0_1}): {exc}"
        ) from exc


def certificate_extensions(cert: x509.Certificate) -> dict[str, str]:
    """The Fulcio extensions present in `cert`, decoded, by name."""
    found: dict[str, str] = {}
    for extension in cert.extensions:
        dotted = extension.oid.dotted_string
        prefix, _, number = dotted.rpartition(".")
        if (
            prefix != _FULCIO_OID
            or not number.isdigit()
            or not isinstance(extension.value, x509.UnrecognizedExtension)
        ):
            continue
        raw: bytes = extension.value.value
        if int(number) in _RAW_EXTENSIONS:
            found[_RAW_EXTENSIONS[int(number)]] = raw.decode("utf-8", errors="replace")
        elif int(number) in _DER_EXTENSIONS:
            found[_DER_EXTENSIONS[int(number)]] = _der_utf8(raw)
    return found


def _der_utf8(raw: bytes) -> str:
    try:
        return asn1.decode_der(str, raw)
    except ValueError:
        # Not the DER UTF8String Fulcio writes; show the bytes rather than fail an audit.
        return raw.decode("utf-8", errors="replace")


class _PolicyFailure(VerificationError):
    """Carries a precise error through sigstore, whose policy protocol raises VerificationError."""

    def __init__(self, error: SignerMismatch) -> None:
        super().__init__(str(error))
        self.error = error


class _Check:
    """A sigstore policy whose failure becomes `error` with a message saying what to do."""

    def __init__(
        self,
        policy: VerificationPolicy,
        error: type[SignerMismatch],
        what: str,
        expected: str,
        actual: Callable[[x509.Certificate], str],
        advice: str,
    ) -> None:
        self._policy, self._error, self._what = policy, error, what
        self._expected, self._actual, self._advice = expected, actual, advice

    def verify(self, cert: x509.Certificate) -> None:
        try:
            self._policy.verify(cert)
        except VerificationError as exc:
            actual = self._actual(cert)
            message = f"signed with {self._what} {actual!r}, expected {self._expected!r}; {self._advice}"
            raise _PolicyFailure(self._error(message)) from exc


def _signer_policy(*, issuer: str, identity: str, repository: str | None, commit: str | None) -> AllOf:
    # Identity(identity, issuer) split into its two checks, so each failure is reported precisely.
    def extension(name: str) -> Callable[[x509.Certificate], str]:
        return lambda cert: certificate_extensions(cert).get(name, "<absent>")

    checks: list[VerificationPolicy] = [
        _Check(
            OIDCIssuer(issuer),
            IssuerMismatch,
            "OIDC issuer",
            issuer,
            extension("oidc_issuer"),
            f"snapshots published from GitHub Actions are signed via {GITHUB_ACTIONS_ISSUER}; "
            "if that is what you passed, this bundle was not signed by the publishing workflow: reject it",
        ),
        _Check(
            Identity(identity=identity),
            IdentityMismatch,
            "identity",
            identity,
            _certificate_identity,
            "pass the publishing workflow's identity "
            "(https://github.com/OWNER/REPO/.github/workflows/FILE@REF); if it is right, this snapshot "
            "was not signed by that workflow: reject it",
        ),
    ]
    if repository is not None:
        checks.append(
            _Check(
                GitHubWorkflowRepository(repository),
                RepositoryMismatch,
                "GitHub repository",
                repository,
                extension("github_workflow_repository"),
                "pass the OWNER/REPO that publishes the snapshots; if it is right, the bundle was "
                "signed in another repository: reject it",
            )
        )
    if commit is not None:
        checks.append(
            _Check(
                GitHubWorkflowSHA(commit),
                CommitMismatch,
                "GitHub commit",
                commit,
                extension("github_workflow_sha"),
                "pass the commit the snapshot's git tag points to; if it is right, the bundle attests "
                "a build of another commit: reject it",
            )
        )
    return AllOf(checks)


def _certificate_identity(cert: x509.Certificate) -> str:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return "<no identity>"
    names = [
        *san.get_values_for_type(x509.UniformResourceIdentifier),
        *san.get_values_for_type(x509.RFC822Name),
    ]
    return names[0] if names else "<no identity>"


def _parse_bundle(bundle_json: str | bytes) -> tuple[dict[str, Any], Bundle]:
    try:
        document = json.loads(bundle_json)
    except ValueError as exc:
        raise BundleFormatError(
            f"the bundle is not JSON ({exc}); pass the .sigstore.json file written when the snapshot "
            "was signed"
        ) from exc
    if not isinstance(document, dict) or "dsseEnvelope" not in document:
        raise BundleFormatError(
            "the bundle holds no DSSE envelope: it is not a snapshot attestation (perhaps a plain file "
            "signature); pass the snapshot's attestation bundle"
        )
    try:
        bundle = Bundle.from_json(bundle_json)
    except (SigstoreError, ValueError) as exc:
        raise BundleFormatError(
            f"not a valid Sigstore bundle ({exc}); it is corrupt or altered: obtain it again from its "
            "publisher"
        ) from exc
    return document, bundle


def _parse_statement(payload_type: str, payload: bytes) -> dict[str, Any]:
    if payload_type != PAYLOAD_TYPE:
        raise StatementError(
            f"the envelope carries {payload_type!r}, not an in-toto statement ({PAYLOAD_TYPE})"
        )
    try:
        statement = json.loads(payload)
    except ValueError as exc:
        raise StatementError(f"the signed payload is not JSON ({exc})") from exc
    if not isinstance(statement, dict):
        raise StatementError("the signed payload is not a JSON object")
    return statement


def _check_statement(statement: Mapping[str, Any]) -> str:
    """Raise `StatementError` unless `statement` is a snapshot statement; return the manifest digest."""
    if statement.get("_type") != STATEMENT_TYPE:
        raise StatementError(f"_type is {statement.get('_type')!r}, expected {STATEMENT_TYPE}")
    if statement.get("predicateType") != PREDICATE_TYPE:
        raise StatementError(
            f"the statement attests {statement.get('predicateType')!r}, not a corpus snapshot "
            f"({PREDICATE_TYPE}): this bundle is for something else"
        )
    if not isinstance(statement.get("predicate"), dict):
        raise StatementError("the statement's predicate must be a JSON object")
    subjects = statement.get("subject")
    if (
        not isinstance(subjects, list)
        or len(subjects) != 1
        or not isinstance(subjects[0], dict)
        or subjects[0].get("name") != SUBJECT_NAME
        or not isinstance(subjects[0].get("digest"), dict)
    ):
        raise StatementError(f"the statement must have exactly one subject, named {SUBJECT_NAME}")
    digest = subjects[0]["digest"].get("sha256")
    if not isinstance(digest, str) or not _is_hex(digest, 64):
        raise StatementError("the manifest subject needs a sha256 digest of 64 lowercase hex characters")
    return digest


def _canonical_json(statement: Mapping[str, Any]) -> bytes:
    # Sorted keys and no whitespace: the same statement always yields the same signed bytes.
    try:
        return json.dumps(
            statement, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode()
    except (TypeError, ValueError) as exc:
        raise StatementError(
            f"the statement is not plain JSON data ({exc}); convert values to str/int/list/dict"
        ) from exc


def _is_hex(value: str, length: int) -> bool:
    return len(value) == length and _HEX.issuperset(value)


def _load_trust_config(path: Path) -> ClientTrustConfig:
    try:
        return ClientTrustConfig.from_json(path.read_text())
    except OSError as exc:
        raise TrustRootError(f"cannot read trust config {path}: {exc.strerror}; check the path") from exc
    except ValueError as exc:
        raise TrustRootError(
            f"{path} is not a Sigstore client trust config "
            f"({ClientTrustConfig.ClientTrustConfigType.CONFIG_0_1}): {exc}"
        ) from exc


def _production_trust_config() -> ClientTrustConfig:
    try:
        return ClientTrustConfig.production()
    except SigstoreError as exc:
        raise TrustRootError(
            f"could not refresh the public Sigstore trust root over TUF ({exc}); signing against public "
            "Sigstore needs network access to tuf-repo-cdn.sigstore.dev, fulcio and rekor"
        ) from exc


def _identity_token(raw: str | None) -> IdentityToken:
    if raw is None:
        try:
            raw = detect_credential()
        except IdentityError as exc:
            raise IdentityTokenError(
                f"ambient OIDC credential detection failed ({exc}); in GitHub Actions the job needs "
                "`permissions: id-token: write`"
            ) from exc
        if raw is None:
            raise IdentityTokenError(
                "no OIDC identity token: pass one explicitly, or sign from a GitHub Actions job with "
                "`permissions: id-token: write` so that it is detected"
            )
    try:
        return IdentityToken(raw)
    except IdentityError as exc:
        raise IdentityTokenError(
            f"the identity token is unusable ({exc}); tokens expire within minutes and need audience "
            "'sigstore': request a fresh one"
        ) from exc
