"""A Fulcio-style CA (`POST /api/v2/signingCert`) and the CT log whose SCT it embeds.

Certificates copy the shape of public-good Fulcio ones issued to GitHub Actions (checked
against a real one): empty subject, critical URI SAN set to the workflow identity, code-signing
EKU, the OIDC issuer extensions (.1.1 raw, .1.8 DER) and the GitHub workflow extensions
(.1.2-.1.6 raw, .1.9-.1.22 DER UTF8String), and one embedded precertificate SCT.
"""

from __future__ import annotations

import base64
import json
import struct
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat import asn1
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from corpus.sigstore_local._http import HTTPError, LoopbackServer, Request, Response
from corpus.sigstore_local._keys import key_id
from corpus.sigstore_local._oidc import DISCOVERY_PATH, GITHUB_URL

_SIGNING_CERT_PATH = "/api/v2/signingCert"
# Public-good Fulcio issues certificates valid for ten minutes.
_LEAF_LIFETIME = timedelta(minutes=10)
_CA_LIFETIME = timedelta(days=1)
_FULCIO_OID = "1.3.6.1.4.1.57264.1"


class CTLog:
    """Signs RFC 6962 SCTs for precertificates; the key lives only in this object."""

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._log_id = key_id(self._key.public_key())

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._key.public_key()

    def sct_extension(
        self, issuer: ec.EllipticCurvePublicKey, tbs_precertificate: bytes
    ) -> x509.UnrecognizedExtension:
        """The SCT list extension for a certificate whose TBS (minus this extension) is given."""
        timestamp_ms = int(time.time() * 1000)
        no_extensions = struct.pack(">H", 0)
        # RFC 6962 3.2 digitally-signed struct: v1, certificate_timestamp, precert_entry.
        signed = (
            struct.pack(">BBQH", 0, 0, timestamp_ms, 1)
            + key_id(issuer)
            + len(tbs_precertificate).to_bytes(3, "big")
            + tbs_precertificate
            + no_extensions
        )
        signature = self._key.sign(signed, ec.ECDSA(hashes.SHA256()))
        sct = (
            struct.pack(">B", 0)
            + self._log_id
            + struct.pack(">Q", timestamp_ms)
            + no_extensions
            + bytes([4, 3])  # hash sha256, signature ecdsa
            + struct.pack(">H", len(signature))
            + signature
        )
        sct_list = struct.pack(">HH", len(sct) + 2, len(sct)) + sct
        # cryptography cannot build SCT objects, but writes an unrecognized extension's
        # value verbatim: the TLS list wrapped in an OCTET STRING, as RFC 6962 3.3 says.
        return x509.UnrecognizedExtension(
            ExtensionOID.PRECERT_SIGNED_CERTIFICATE_TIMESTAMPS, asn1.encode_der(sct_list)
        )


def _ca_name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "sigstore-local (TEST ONLY)"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _ca_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def _github_extensions(claims: dict[str, Any]) -> list[x509.UnrecognizedExtension]:
    """Fulcio's GitHub Actions claim mapping (fulcio docs/oid-info.md)."""

    def claim(name: str) -> str:
        value = claims.get(name)
        if not isinstance(value, str) or not value:
            raise HTTPError(
                HTTPStatus.BAD_REQUEST,
                f"identity token lacks the GitHub Actions claim {name!r}; "
                "mint tokens with LocalSigstore.mint_token",
            )
        return value

    repository, owner = claim("repository"), claim("repository_owner")
    raw = {  # .1.1 to .1.6: raw bytes, kept by Fulcio for older verifiers
        1: claim("iss"),
        2: claim("event_name"),
        3: claim("sha"),
        4: claim("workflow"),
        5: repository,
        6: claim("ref"),
    }
    der = {  # .1.8 onwards: DER UTF8String
        8: claim("iss"),
        9: f"{GITHUB_URL}/{claim('job_workflow_ref')}",
        10: claim("job_workflow_sha"),
        11: claim("runner_environment"),
        12: f"{GITHUB_URL}/{repository}",
        13: claim("sha"),
        14: claim("ref"),
        15: claim("repository_id"),
        16: f"{GITHUB_URL}/{owner}",
        17: claim("repository_owner_id"),
        18: f"{GITHUB_URL}/{claim('workflow_ref')}",
        19: claim("workflow_sha"),
        20: claim("event_name"),
        21: f"{GITHUB_URL}/{repository}/actions/runs/{claim('run_id')}/attempts/{claim('run_attempt')}",
        22: claim("repository_visibility"),
    }
    if "environment" in claims:
        der[23] = claim("environment")
    return [
        *(
            x509.UnrecognizedExtension(x509.ObjectIdentifier(f"{_FULCIO_OID}.{n}"), v.encode())
            for n, v in raw.items()
        ),
        *(
            x509.UnrecognizedExtension(x509.ObjectIdentifier(f"{_FULCIO_OID}.{n}"), asn1.encode_der(v))
            for n, v in der.items()
        ),
    ]


class CertificateAuthority:
    """Root and intermediate CA in memory, issuing Fulcio-style leaf certificates over HTTP.

    It trusts ID tokens whose signature verifies against the JWKS of `oidc_url`, found through
    OIDC discovery as Fulcio does. The `iss` claim is taken as given: every token the paired
    local issuer signs is one this process asked for, which is what lets a token claim GitHub's
    issuer URL for demos (certificates then say so, but chain only to this local root).
    """

    def __init__(self, ct_log: CTLog, *, oidc_url: str, valid_from: datetime) -> None:
        self._ct_log = ct_log
        self._oidc_url = oidc_url
        self._jwks_client: jwt.PyJWKClient | None = None
        self._jwks_lock = threading.Lock()

        self._root_key = ec.generate_private_key(ec.SECP384R1())
        self._intermediate_key = ec.generate_private_key(ec.SECP384R1())
        root_ski = x509.SubjectKeyIdentifier.from_public_key(self._root_key.public_key())
        root_name = _ca_name("sigstore-local-root")
        self.root_cert = (
            x509.CertificateBuilder()
            .subject_name(root_name)
            .issuer_name(root_name)
            .public_key(self._root_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(valid_from)
            .not_valid_after(valid_from + _CA_LIFETIME)
            .add_extension(_ca_key_usage(), critical=True)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(root_ski, critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(root_ski), critical=False
            )
            .sign(self._root_key, hashes.SHA384())
        )
        self._intermediate_ski = x509.SubjectKeyIdentifier.from_public_key(
            self._intermediate_key.public_key()
        )
        self.intermediate_cert = (
            x509.CertificateBuilder()
            .subject_name(_ca_name("sigstore-local-intermediate"))
            .issuer_name(root_name)
            .public_key(self._intermediate_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(valid_from)
            .not_valid_after(valid_from + _CA_LIFETIME)
            .add_extension(_ca_key_usage(), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(self._intermediate_ski, critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(root_ski), critical=False
            )
            .sign(self._root_key, hashes.SHA384())
        )
        self._server = LoopbackServer("fulcio", {("POST", _SIGNING_CERT_PATH): self._signing_cert})

    @property
    def url(self) -> str:
        return self._server.url

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()

    def _signing_cert(self, request: Request) -> Response:
        claims = self._verify_token(request.bearer_token())
        body = request.json()
        try:
            pem = base64.b64decode(body["certificateSigningRequest"], validate=True)
            csr = x509.load_pem_x509_csr(pem)
        except (KeyError, TypeError, ValueError) as exc:
            raise HTTPError(
                HTTPStatus.BAD_REQUEST, f"expected {{'certificateSigningRequest': base64 PEM CSR}}: {exc}"
            ) from exc
        # The CSR signature is the proof of possession of the private key.
        if not csr.is_signature_valid:
            raise HTTPError(
                HTTPStatus.BAD_REQUEST, "CSR signature does not verify: proof of possession failed"
            )
        public_key = csr.public_key()
        if not isinstance(public_key, ec.EllipticCurvePublicKey):
            raise HTTPError(HTTPStatus.BAD_REQUEST, "only ECDSA keys are supported by the local CA")

        leaf = self._issue(public_key, claims)
        chain = [leaf, self.intermediate_cert, self.root_cert]
        pems = [c.public_bytes(serialization.Encoding.PEM).decode() for c in chain]
        return Response(
            {"signedCertificateEmbeddedSct": {"chain": {"certificates": pems}}}, HTTPStatus.CREATED
        )

    def _issue(self, public_key: ec.EllipticCurvePublicKey, claims: dict[str, Any]) -> x509.Certificate:
        # Whole seconds: X.509 times have no fractions, and the log's integrated time
        # (also whole seconds) must not fall before notBefore.
        now = datetime.fromtimestamp(int(time.time()), tz=UTC)
        # Validates every claim the certificate needs before anything is signed.
        extensions = _github_extensions(claims)
        identity = f"{GITHUB_URL}/{claims['job_workflow_ref']}"
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(self.intermediate_cert.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now)
            .not_valid_after(now + _LEAF_LIFETIME)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(self._intermediate_ski),
                critical=False,
            )
            # An empty subject makes the SAN critical (RFC 5280 4.2.1.6), as in Fulcio certificates.
            .add_extension(
                x509.SubjectAlternativeName([x509.UniformResourceIdentifier(identity)]), critical=True
            )
        )
        for extension in extensions:
            builder = builder.add_extension(extension, critical=False)
        # The SCT signs the TBS without the SCT extension itself, which is exactly the TBS of
        # the same certificate built without it (extension order and fields are unchanged).
        precertificate = builder.sign(self._intermediate_key, hashes.SHA384())
        sct = self._ct_log.sct_extension(
            self._intermediate_key.public_key(), precertificate.tbs_certificate_bytes
        )
        return builder.add_extension(sct, critical=False).sign(self._intermediate_key, hashes.SHA384())

    def _verify_token(self, token: str) -> dict[str, Any]:
        try:
            signing_key = self._jwks().get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                signing_key.key,
                algorithms=["ES256"],
                audience="sigstore",
                options={"require": ["iss", "sub", "aud", "exp", "iat"]},
                leeway=5,
            )
        except jwt.PyJWTError as exc:
            raise HTTPError(HTTPStatus.UNAUTHORIZED, f"identity token rejected: {exc}") from exc
        return claims

    def _jwks(self) -> jwt.PyJWKClient:
        with self._jwks_lock:
            if self._jwks_client is None:
                try:
                    with urllib.request.urlopen(f"{self._oidc_url}{DISCOVERY_PATH}", timeout=5) as resp:
                        discovery = json.load(resp)
                    jwks_uri = discovery["jwks_uri"]
                except (OSError, ValueError, KeyError) as exc:
                    raise HTTPError(
                        HTTPStatus.SERVICE_UNAVAILABLE, f"cannot read the OIDC discovery document: {exc}"
                    ) from exc
                self._jwks_client = jwt.PyJWKClient(jwks_uri, cache_keys=True)
            return self._jwks_client
