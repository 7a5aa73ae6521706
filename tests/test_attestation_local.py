"""Keyless signing and verification of snapshot attestations through a local Sigstore instance.

Real machinery end to end: the unmodified sigstore-python Signer/Verifier (and its CLI) talk
HTTP to the local OIDC issuer, CA and transparency log on 127.0.0.1.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jwt
import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sigstore.models import Bundle, TrustedRoot
from sigstore.verify import Verifier, policy

from corpus.attestation import (
    GITHUB_ACTIONS_ISSUER,
    PREDICATE_TYPE,
    BundleFormatError,
    CommitMismatch,
    IdentityMismatch,
    IdentityTokenError,
    IssuerMismatch,
    RepositoryMismatch,
    SignatureError,
    StatementError,
    SubjectMismatch,
    TrustRootMismatch,
    VerifiedAttestation,
    build_statement,
    sign_statement,
    verify_attestation,
)
from corpus.sigstore_local import LocalSigstore


REPOSITORY = "acme/feedback-corpus"
COMMIT = "3f5e1c0a9b8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f"
MANIFEST_SHA256 = "9b" * 32
PREDICATE: dict[str, Any] = {
    "snapshot": {"version": "2025.06.1", "parent": {"version": "2025.05.1", "manifest_sha256": "a1" * 32}},
    "git_commit": COMMIT,
    "dvc_lock_sha256": "c4" * 32,
    "raw_batches": [{"id": "b-001", "sha256": "d5" * 32, "author": "ana", "approver": "bo"}],
    "examples": {"merkle_root": "e6" * 32, "sft": 1200, "preference": 340},
}
AMBIENT_OIDC_VARS = (
    "GITHUB_ACTIONS",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "GOOGLE_SERVICE_ACCOUNT_NAME",
    "BUILDKITE",
    "GITLAB_CI",
    "CIRCLECI",
)


def _sign(instance: LocalSigstore, **token_args: Any) -> str:
    token = instance.mint_token(**{"repository": REPOSITORY, "sha": COMMIT, **token_args})
    statement = build_statement(MANIFEST_SHA256, PREDICATE)
    return sign_statement(statement, identity_token=token, trust_config=instance.trust_config_path)


def _verify(instance: LocalSigstore, bundle_json: str, **overrides: Any) -> VerifiedAttestation:
    arguments: dict[str, Any] = {
        "issuer": instance.oidc_issuer,
        "identity": LocalSigstore.workflow_identity(REPOSITORY),
        "repository": REPOSITORY,
        "commit": COMMIT,
        "manifest_sha256": MANIFEST_SHA256,
        "trusted_root": instance.trusted_root_path,
    }
    arguments.update(overrides)
    return verify_attestation(bundle_json, **arguments)


def _edit(bundle_json: str, change: Callable[[dict[str, Any]], None]) -> str:
    document = json.loads(bundle_json)
    change(document)
    return json.dumps(document)


@pytest.fixture(scope="module")
def bundle_json(local_sigstore: LocalSigstore) -> str:
    return _sign(local_sigstore)


def test_signed_statement_verifies_with_the_full_policy(
    local_sigstore: LocalSigstore, bundle_json: str
) -> None:
    verified = _verify(local_sigstore, bundle_json)

    assert verified.predicate == PREDICATE
    assert verified.statement["predicateType"] == PREDICATE_TYPE
    assert verified.statement["subject"] == [{"name": "manifest.json", "digest": {"sha256": MANIFEST_SHA256}}]
    assert verified.subject_digest == MANIFEST_SHA256
    assert (
        verified.signer_identity
        == f"https://github.com/{REPOSITORY}/.github/workflows/publish.yml@refs/heads/main"
    )
    assert verified.signer_issuer == local_sigstore.oidc_issuer
    extensions = verified.cert_extensions
    assert extensions["github_workflow_sha"] == extensions["source_repository_digest"] == COMMIT
    assert extensions["github_workflow_repository"] == REPOSITORY
    assert extensions["source_repository_uri"] == f"https://github.com/{REPOSITORY}"
    assert extensions["build_config_uri"] == verified.signer_identity
    assert extensions["build_signer_uri"] == verified.signer_identity
    assert extensions["runner_environment"] == "github-hosted"
    assert extensions["build_trigger"] == extensions["github_workflow_trigger"] == "push"
    assert verified.log_index >= 0
    assert verified.integrated_time is not None
    assert abs(datetime.now(UTC) - verified.integrated_time) < timedelta(minutes=5)


def test_bundle_is_a_v03_dsse_bundle_the_plain_sigstore_verifier_accepts(
    local_sigstore: LocalSigstore, bundle_json: str
) -> None:
    document = json.loads(bundle_json)
    assert document["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    assert document["dsseEnvelope"]["payloadType"] == "application/vnd.in-toto+json"

    verifier = Verifier(trusted_root=TrustedRoot.from_file(str(local_sigstore.trusted_root_path)))
    identity = policy.Identity(
        identity=LocalSigstore.workflow_identity(REPOSITORY), issuer=local_sigstore.oidc_issuer
    )
    payload_type, payload = verifier.verify_dsse(Bundle.from_json(bundle_json), identity)
    assert payload_type == "application/vnd.in-toto+json"
    assert json.loads(payload)["predicate"] == PREDICATE


def test_trust_config_works_in_place_of_a_trusted_root(
    local_sigstore: LocalSigstore, bundle_json: str
) -> None:
    verified = _verify(
        local_sigstore, bundle_json, trusted_root=None, trust_config=local_sigstore.trust_config_path
    )
    assert verified.subject_digest == MANIFEST_SHA256


def test_altered_payload_is_a_signature_error(local_sigstore: LocalSigstore, bundle_json: str) -> None:
    def inflate_counts(document: dict[str, Any]) -> None:
        statement = json.loads(base64.b64decode(document["dsseEnvelope"]["payload"]))
        statement["predicate"]["examples"]["sft"] += 1
        document["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()

    with pytest.raises(SignatureError, match="altered or is not genuine"):
        _verify(local_sigstore, _edit(bundle_json, inflate_counts))


def test_altered_log_entry_is_a_signature_error(local_sigstore: LocalSigstore, bundle_json: str) -> None:
    def move_integration_time(document: dict[str, Any]) -> None:
        entry = document["verificationMaterial"]["tlogEntries"][0]
        entry["integratedTime"] = str(int(entry["integratedTime"]) + 1)

    with pytest.raises(SignatureError):
        _verify(local_sigstore, _edit(bundle_json, move_integration_time))


def test_wrong_identity(local_sigstore: LocalSigstore, bundle_json: str) -> None:
    other_workflow = LocalSigstore.workflow_identity(REPOSITORY, workflow="debug.yml")
    with pytest.raises(IdentityMismatch, match=r"publish\.yml") as caught:
        _verify(local_sigstore, bundle_json, identity=other_workflow)
    assert "reject it" in str(caught.value)


def test_wrong_issuer(local_sigstore: LocalSigstore, bundle_json: str) -> None:
    with pytest.raises(IssuerMismatch, match=re.escape(GITHUB_ACTIONS_ISSUER)):
        _verify(local_sigstore, bundle_json, issuer=GITHUB_ACTIONS_ISSUER)


def test_wrong_repository(local_sigstore: LocalSigstore, bundle_json: str) -> None:
    with pytest.raises(RepositoryMismatch, match=REPOSITORY):
        _verify(local_sigstore, bundle_json, repository="acme/other")


def test_wrong_commit(local_sigstore: LocalSigstore, bundle_json: str) -> None:
    with pytest.raises(CommitMismatch, match=COMMIT):
        _verify(local_sigstore, bundle_json, commit="0" * 40)


def test_wrong_manifest_digest(local_sigstore: LocalSigstore, bundle_json: str) -> None:
    with pytest.raises(SubjectMismatch, match=MANIFEST_SHA256):
        _verify(local_sigstore, bundle_json, manifest_sha256="00" * 32)


def test_trust_root_of_another_instance(
    local_sigstore_factory: Callable[[], LocalSigstore], bundle_json: str
) -> None:
    stranger = local_sigstore_factory()
    with pytest.raises(TrustRootMismatch, match="not issued by a CA of the trusted root"):
        _verify(stranger, bundle_json)


def test_local_certificates_claiming_github_do_not_pass_the_production_root(
    local_sigstore: LocalSigstore,
) -> None:
    bundle = _sign(local_sigstore, issuer=GITHUB_ACTIONS_ISSUER)

    verified = _verify(local_sigstore, bundle, issuer=GITHUB_ACTIONS_ISSUER)
    assert verified.signer_issuer == GITHUB_ACTIONS_ISSUER
    with pytest.raises(TrustRootMismatch):
        _verify(local_sigstore, bundle, issuer=GITHUB_ACTIONS_ISSUER, trusted_root=None)


@pytest.mark.parametrize(
    "bundle",
    [
        pytest.param("{not json", id="not-json"),
        pytest.param(
            json.dumps({"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json"}), id="no-dsse"
        ),
        pytest.param(json.dumps({"dsseEnvelope": {}}), id="not-a-bundle"),
    ],
)
def test_malformed_bundles(local_sigstore: LocalSigstore, bundle: str) -> None:
    with pytest.raises(BundleFormatError):
        _verify(local_sigstore, bundle)


def test_ambient_github_actions_credential_is_detected(
    local_sigstore: LocalSigstore, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in local_sigstore.github_actions_env(repository=REPOSITORY, sha=COMMIT).items():
        monkeypatch.setenv(name, value)
    statement = build_statement(MANIFEST_SHA256, PREDICATE)

    bundle = sign_statement(statement, identity_token=None, trust_config=local_sigstore.trust_config_path)

    assert _verify(local_sigstore, bundle).predicate == PREDICATE


def test_signing_without_any_token_says_how_to_get_one(
    local_sigstore: LocalSigstore, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in AMBIENT_OIDC_VARS:
        monkeypatch.delenv(name, raising=False)
    statement = build_statement(MANIFEST_SHA256, PREDICATE)
    with pytest.raises(IdentityTokenError, match="id-token: write"):
        sign_statement(statement, identity_token=None, trust_config=local_sigstore.trust_config_path)


@pytest.mark.parametrize(
    "token_args",
    [
        pytest.param({"lifetime": timedelta(seconds=-60)}, id="expired"),
        pytest.param({"audience": "not-sigstore"}, id="wrong-audience"),
    ],
)
def test_unusable_tokens_are_rejected_before_signing(
    local_sigstore: LocalSigstore, token_args: dict[str, Any]
) -> None:
    token = local_sigstore.mint_token(repository=REPOSITORY, sha=COMMIT, **token_args)
    statement = build_statement(MANIFEST_SHA256, PREDICATE)
    with pytest.raises(IdentityTokenError, match="request a fresh one"):
        sign_statement(statement, identity_token=token, trust_config=local_sigstore.trust_config_path)


def test_only_snapshot_statements_are_signed(local_sigstore: LocalSigstore) -> None:
    statement = {
        **build_statement(MANIFEST_SHA256, PREDICATE),
        "predicateType": "https://slsa.dev/provenance/v1",
    }
    token = local_sigstore.mint_token(repository=REPOSITORY, sha=COMMIT)
    with pytest.raises(StatementError, match="not a corpus snapshot"):
        sign_statement(statement, identity_token=token, trust_config=local_sigstore.trust_config_path)
    with pytest.raises(StatementError, match="64 lowercase hex"):
        build_statement("ABC", PREDICATE)


def _sigstore_cli(trust_config: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sigstore", "--trust-config", str(trust_config), "verify", *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_standard_sigstore_cli_verifies_the_bundle_by_manifest_digest(
    local_sigstore: LocalSigstore, bundle_json: str, tmp_path: Path
) -> None:
    bundle = tmp_path / "snapshot.sigstore.json"
    bundle.write_text(bundle_json)
    common = ["--bundle", str(bundle), "--cert-oidc-issuer", local_sigstore.oidc_issuer]

    ok = _sigstore_cli(
        local_sigstore.trust_config_path,
        "identity",
        *common,
        "--cert-identity",
        LocalSigstore.workflow_identity(REPOSITORY),
        f"sha256:{MANIFEST_SHA256}",
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["predicate"] == PREDICATE

    wrong_identity = _sigstore_cli(
        local_sigstore.trust_config_path,
        "identity",
        *common,
        "--cert-identity",
        LocalSigstore.workflow_identity("acme/other"),
        f"sha256:{MANIFEST_SHA256}",
    )
    assert wrong_identity.returncode == 1
    assert "FAIL" in wrong_identity.stderr


def test_standard_sigstore_cli_verify_github_checks_repository_and_commit(
    local_sigstore: LocalSigstore, tmp_path: Path
) -> None:
    bundle = tmp_path / "snapshot.sigstore.json"
    bundle.write_text(_sign(local_sigstore, issuer=GITHUB_ACTIONS_ISSUER))
    common = ["github", "--bundle", str(bundle), "--repository", REPOSITORY]

    ok = _sigstore_cli(
        local_sigstore.trust_config_path, *common, "--sha", COMMIT, f"sha256:{MANIFEST_SHA256}"
    )
    assert ok.returncode == 0, ok.stderr

    wrong_commit = _sigstore_cli(
        local_sigstore.trust_config_path, *common, "--sha", "0" * 40, f"sha256:{MANIFEST_SHA256}"
    )
    assert wrong_commit.returncode == 1
    assert "GitHubWorkflowSHA" in wrong_commit.stderr


def test_oidc_issuer_publishes_discovery_and_jwks_that_verify_its_tokens(
    local_sigstore: LocalSigstore,
) -> None:
    discovery = requests.get(
        f"{local_sigstore.oidc_issuer}/.well-known/openid-configuration", timeout=5
    ).json()
    assert discovery["issuer"] == local_sigstore.oidc_issuer
    token = local_sigstore.mint_token(repository=REPOSITORY, sha=COMMIT, email="bot@acme.invalid")

    key = jwt.PyJWKClient(discovery["jwks_uri"]).get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key.key, algorithms=["ES256"], audience="sigstore")

    assert claims["iss"] == local_sigstore.oidc_issuer
    assert claims["sub"] == f"repo:{REPOSITORY}:ref:refs/heads/main"
    assert claims["email"] == "bot@acme.invalid"
    expected_ref = f"{REPOSITORY}/.github/workflows/publish.yml@refs/heads/main"
    assert claims["job_workflow_ref"] == claims["workflow_ref"] == expected_ref
    assert (claims["repository"], claims["sha"], claims["ref"]) == (REPOSITORY, COMMIT, "refs/heads/main")
    assert claims["event_name"] == "push"


def test_log_rejects_entries_whose_signature_does_not_verify(
    local_sigstore: LocalSigstore, bundle_json: str
) -> None:
    document = json.loads(bundle_json)
    certificate = base64.b64decode(document["verificationMaterial"]["certificate"]["rawBytes"])
    pem = x509.load_der_x509_certificate(certificate).public_bytes(Encoding.PEM)
    envelope = {**document["dsseEnvelope"], "payload": base64.b64encode(b"{}").decode()}
    proposed: dict[str, Any] = {
        "apiVersion": "0.0.1",
        "kind": "dsse",
        "spec": {
            "proposedContent": {
                "envelope": json.dumps(envelope),
                "verifiers": [base64.b64encode(pem).decode()],
            }
        },
    }
    response = requests.post(f"{local_sigstore.rekor_url}/api/v1/log/entries", json=proposed, timeout=5)
    assert response.status_code == 400
    assert "does not verify" in response.json()["message"]


def test_instance_warns_loudly_and_stops_every_server(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level("WARNING", logger="corpus.sigstore_local"), LocalSigstore() as instance:
        endpoints = [instance.oidc_issuer, instance.fulcio_url, instance.rekor_url]
        trust_dir = instance.trust_config_path.parent
        assert instance.trusted_root_path.is_file()
        assert all(urlsplit(url).hostname == "127.0.0.1" for url in endpoints)
    assert "TEST AND DEMO TRUST ONLY" in caplog.text

    assert not trust_dir.exists()
    for url in endpoints:
        parts = urlsplit(url)
        with (
            pytest.raises(ConnectionRefusedError),
            socket.create_connection((parts.hostname, parts.port), timeout=1),
        ):
            pass


def test_every_entry_of_a_growing_log_verifies(local_sigstore: LocalSigstore) -> None:
    # Each bundle carries an inclusion proof for a different leaf and tree size.
    bundles = [_sign(local_sigstore) for _ in range(5)]
    indices = [_verify(local_sigstore, bundle).log_index for bundle in bundles]
    assert indices == sorted(set(indices))
    assert json.loads(bundles[-1])["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]["hashes"]
