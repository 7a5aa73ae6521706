"""`LocalSigstore`: OIDC issuer, CA with CT log, and transparency log on loopback, plus trust files."""

from __future__ import annotations

import base64
import logging
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Final, Self, TypeVar

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sigstore_models.common.v1 import (
    DistinguishedName,
    HashAlgorithm,
    LogId,
    PublicKey,
    PublicKeyDetails,
    TimeRange,
    X509Certificate,
    X509CertificateChain,
)
from sigstore_models.trustroot.v1 import (
    CertificateAuthority as CertificateAuthorityModel,
)
from sigstore_models.trustroot.v1 import (
    ClientTrustConfig,
    Service,
    ServiceConfiguration,
    ServiceSelector,
    SigningConfig,
    TransparencyLogInstance,
    TrustedRoot,
)

from corpus.sigstore_local._fulcio import CertificateAuthority, CTLog
from corpus.sigstore_local._keys import key_id, spki_der
from corpus.sigstore_local._oidc import OIDCIssuer, WorkflowRun, workflow_identity
from corpus.sigstore_local._rekor import TransparencyLog

_logger = logging.getLogger("corpus.sigstore_local")
_T = TypeVar("_T")

_OPERATOR = "sigstore-local (TEST ONLY)"
_TRUSTED_ROOT_MEDIA_TYPE: Final = "application/vnd.dev.sigstore.trustedroot+json;version=0.1"
_SIGNING_CONFIG_MEDIA_TYPE: Final = "application/vnd.dev.sigstore.signingconfig.v0.2+json"
_CLIENT_TRUST_CONFIG_MEDIA_TYPE: Final = "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json"


def _b64(data: bytes) -> bytes:
    # sigstore_models takes protobuf `bytes` fields base64-encoded, as they appear in JSON.
    return base64.b64encode(data)


class LocalSigstore:
    """A complete, throwaway Sigstore instance on 127.0.0.1. TEST AND DEMO TRUST ONLY.

    Usage::

        with LocalSigstore() as ss:
            token = ss.mint_token(repository="org/repo", sha="<40 hex>")
            # sign with trust config ss.trust_config_path, verify with ss.trusted_root_path,
            # policy: identity ss.workflow_identity("org/repo"), issuer ss.oidc_issuer

    Every key lives in memory and dies with the instance; only public material is written,
    to `trust_config_path` (a sigstore `ClientTrustConfig`: signing config plus trusted root)
    and `trusted_root_path`. Nothing signed here means anything to anyone else.
    """

    def __init__(self, directory: Path | None = None) -> None:
        """`directory` receives the trust files; by default a temporary one, removed on stop."""
        self._requested_directory = directory
        self._directory: Path | None = None
        self._owns_directory = False
        self._oidc: OIDCIssuer | None = None
        self._ca: CertificateAuthority | None = None
        self._rekor: TransparencyLog | None = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        if self._oidc is not None:
            raise RuntimeError("LocalSigstore is already running")
        # Trust-root validity starts a minute back so that clients with a slightly
        # different clock (or a second boundary) still see every key as active.
        valid_from = datetime.fromtimestamp(int(time.time()) - 60, tz=UTC)
        oidc, rekor, ct_log = OIDCIssuer(), TransparencyLog(), CTLog()
        self._oidc, self._rekor = oidc, rekor
        try:
            oidc.start()
            rekor.start()
            self._ca = CertificateAuthority(ct_log, oidc_url=oidc.url, valid_from=valid_from)
            self._ca.start()
            if self._requested_directory is None:
                self._directory = Path(tempfile.mkdtemp(prefix="sigstore-local-"))
                self._owns_directory = True
            else:
                self._directory = self._requested_directory
                self._directory.mkdir(parents=True, exist_ok=True)
            trusted_root = self._trusted_root(ct_log, valid_from)
            self.trusted_root_path.write_text(trusted_root.to_json())
            self.trust_config_path.write_text(self._client_trust_config(trusted_root, valid_from).to_json())
        except BaseException:
            self.stop()
            raise
        self._warn()

    def stop(self) -> None:
        """Stop every server, and remove the trust files if they live in our temporary directory.

        Idempotent; the keys are gone afterwards, so nothing more can be signed for this root.
        """
        for service in (self._ca, self._rekor, self._oidc):
            if service is not None:
                service.stop()
        self._ca = self._rekor = self._oidc = None
        if self._owns_directory and self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
        self._directory = None
        self._owns_directory = False

    @property
    def oidc_issuer(self) -> str:
        """URL of the local OIDC issuer: the certificate issuer of tokens minted without `issuer=`."""
        return self._running(self._oidc).url

    @property
    def fulcio_url(self) -> str:
        return self._running(self._ca).url

    @property
    def rekor_url(self) -> str:
        return self._running(self._rekor).url

    @property
    def trust_config_path(self) -> Path:
        """ClientTrustConfig JSON for `SigningContext` / `sigstore --trust-config`."""
        return self._running(self._directory) / "trust_config.json"

    @property
    def trusted_root_path(self) -> Path:
        """TrustedRoot JSON for `Verifier(trusted_root=TrustedRoot.from_file(...))`."""
        return self._running(self._directory) / "trusted_root.json"

    @staticmethod
    def workflow_identity(
        repository: str, workflow: str = "publish.yml", ref: str = "refs/heads/main"
    ) -> str:
        """A run's certificate identity (SAN URI).

        E.g. `https://github.com/org/repo/.github/workflows/publish.yml@refs/heads/main`.
        """
        return workflow_identity(repository, workflow, ref)

    def mint_token(
        self,
        *,
        repository: str,
        sha: str,
        workflow: str = "publish.yml",
        ref: str = "refs/heads/main",
        issuer: str | None = None,
        event_name: str = "push",
        email: str | None = None,
        audience: str = "sigstore",
        lifetime: timedelta = timedelta(minutes=5),
    ) -> str:
        """A GitHub Actions-shaped ID token for a run of `workflow` in `repository` at commit `sha`.

        `issuer` overrides the `iss` claim (default: `oidc_issuer`), e.g. with GitHub's
        `https://token.actions.githubusercontent.com` for demos of `sigstore verify github`.
        The token is a credential: pass it on, never log or store it.
        """
        run = WorkflowRun(repository=repository, sha=sha, workflow=workflow, ref=ref, event_name=event_name)
        return self._running(self._oidc).mint(
            run, issuer=issuer, audience=audience, email=email, lifetime_seconds=int(lifetime.total_seconds())
        )

    def github_actions_env(
        self,
        *,
        repository: str,
        sha: str,
        workflow: str = "publish.yml",
        ref: str = "refs/heads/main",
        issuer: str | None = None,
        event_name: str = "push",
    ) -> dict[str, str]:
        """Environment variables under which ambient OIDC detection finds a token for this run.

        They mimic a GitHub Actions job with `permissions: id-token: write`; set them (e.g. with
        `monkeypatch.setenv`) to exercise `identity_token=None` code paths end to end.
        """
        run = WorkflowRun(repository=repository, sha=sha, workflow=workflow, ref=ref, event_name=event_name)
        request_url, request_token = self._running(self._oidc).register_run(run, issuer=issuer)
        return {
            "GITHUB_ACTIONS": "true",
            "ACTIONS_ID_TOKEN_REQUEST_URL": request_url,
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN": request_token,
        }

    def _trusted_root(self, ct_log: CTLog, valid_from: datetime) -> TrustedRoot:
        ca, rekor = self._running(self._ca), self._running(self._rekor)
        since = TimeRange(start=valid_from)

        def ecdsa_p256(key: ec.EllipticCurvePublicKey) -> PublicKey:
            return PublicKey(
                raw_bytes=_b64(spki_der(key)),
                key_details=PublicKeyDetails.PKIX_ECDSA_P256_SHA_256,
                valid_for=since,
            )

        return TrustedRoot(
            media_type=_TRUSTED_ROOT_MEDIA_TYPE,
            tlogs=[
                TransparencyLogInstance(
                    base_url=rekor.url,
                    hash_algorithm=HashAlgorithm.SHA2_256,
                    public_key=ecdsa_p256(rekor.public_key),
                    log_id=LogId(key_id=_b64(key_id(rekor.public_key))),
                    operator=_OPERATOR,
                )
            ],
            certificate_authorities=[
                CertificateAuthorityModel(
                    subject=DistinguishedName(organization=_OPERATOR, common_name="sigstore-local"),
                    uri=ca.url,
                    cert_chain=X509CertificateChain(
                        certificates=[
                            X509Certificate(raw_bytes=_b64(c.public_bytes(serialization.Encoding.DER)))
                            for c in (ca.intermediate_cert, ca.root_cert)
                        ]
                    ),
                    valid_for=since,
                    operator=_OPERATOR,
                )
            ],
            ctlogs=[
                # The CT log has no HTTP API here (the CA embeds SCTs itself); the URL is a label.
                TransparencyLogInstance(
                    base_url=f"{ca.url}/ct",
                    hash_algorithm=HashAlgorithm.SHA2_256,
                    public_key=ecdsa_p256(ct_log.public_key),
                    log_id=LogId(key_id=_b64(key_id(ct_log.public_key))),
                    operator=_OPERATOR,
                )
            ],
            timestamp_authorities=[],
        )

    def _client_trust_config(self, trusted_root: TrustedRoot, valid_from: datetime) -> ClientTrustConfig:
        since = TimeRange(start=valid_from)
        return ClientTrustConfig(
            media_type=_CLIENT_TRUST_CONFIG_MEDIA_TYPE,
            trusted_root=trusted_root,
            signing_config=SigningConfig(
                media_type=_SIGNING_CONFIG_MEDIA_TYPE,
                ca_urls=[
                    Service(url=self.fulcio_url, major_api_version=1, valid_for=since, operator=_OPERATOR)
                ],
                rekor_tlog_urls=[
                    Service(url=self.rekor_url, major_api_version=1, valid_for=since, operator=_OPERATOR)
                ],
                rekor_tlog_config=ServiceConfiguration(selector=ServiceSelector.ANY),
                tsa_config=ServiceConfiguration(selector=ServiceSelector.ANY),
            ),
        )

    def _warn(self) -> None:
        banner = (
            "\n"
            "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
            "!!  LOCAL SIGSTORE INSTANCE: TEST AND DEMO TRUST ONLY, NOT A PRODUCTION ROOT  !!\n"
            "!!  Anything signed here proves nothing: the CA, CT and log keys live in this  !!\n"
            "!!  process and vanish with it. Never pin or ship its trusted root.           !!\n"
            "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!\n"
            f"   OIDC {self.oidc_issuer}  CA {self.fulcio_url}  log {self.rekor_url}\n"
            f"   trusted root {self.trusted_root_path}\n"
        )
        # With logging unconfigured, Python's last-resort handler prints warnings to stderr.
        _logger.warning(banner)

    @staticmethod
    def _running(value: _T | None) -> _T:
        if value is None:
            raise RuntimeError("LocalSigstore is not running: use it as a context manager or call start()")
        return value
