"""A Rekor v1-style transparency log: `POST /api/v1/log/entries` for `dsse` and `hashedrekord` entries.

Each accepted entry comes back the way Rekor answers it: the canonicalized body, an RFC 6962
inclusion proof against the current tree with a signed checkpoint (a "signed note"), and a
signed entry timestamp (SET). sigstore-python verifies all three against the log key in the
trusted root, so every detail of the encodings below matters.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import rfc8785
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from pydantic import TypeAdapter, ValidationError
from rekor_types import Dsse, Hashedrekord, ProposedEntry

from corpus.sigstore_local import _merkle
from corpus.sigstore_local._http import HTTPError, LoopbackServer, Request, Response
from corpus.sigstore_local._keys import key_id

_PROPOSED_ENTRY = TypeAdapter(ProposedEntry)
_ENTRIES_PATH = "/api/v1/log/entries"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _bad_request(message: str) -> HTTPError:
    return HTTPError(HTTPStatus.BAD_REQUEST, message)


def _load_verifier(b64_pem: str) -> ec.EllipticCurvePublicKey:
    """The signer's key from a base64 PEM certificate, the only verifier sigstore-python sends."""
    try:
        key = x509.load_pem_x509_certificate(base64.b64decode(b64_pem)).public_key()
    except ValueError as exc:
        raise _bad_request(f"verifier is not a base64 PEM certificate: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise _bad_request("only ECDSA signing keys are supported by the local log")
    return key


def _pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE pre-authentication encoding: what the envelope signature covers."""
    return b"DSSEv1 %d %s %d %s" % (len(payload_type), payload_type.encode(), len(payload), payload)


class TransparencyLog:
    """An append-only log whose key lives only in this object."""

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._log_id = key_id(self._key.public_key())
        # Rekor's checkpoint origin is "<name> - <tree id>"; the tree id tells shards apart.
        self._tree_id = secrets.randbits(63)
        self._leaves: list[bytes] = []
        self._lock = threading.Lock()
        self._server = LoopbackServer("rekor", {("POST", _ENTRIES_PATH): self._create_entry})

    @property
    def url(self) -> str:
        return self._server.url

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._key.public_key()

    def start(self) -> None:
        self._server.start()

    def stop(self) -> None:
        self._server.stop()

    def _create_entry(self, request: Request) -> Response:
        body = self._canonical_body(request.json())
        leaf = _merkle.leaf_hash(body)
        integrated_time = int(time.time())
        with self._lock:
            index = len(self._leaves)
            self._leaves.append(leaf)
            size = len(self._leaves)
            root = _merkle.root_hash(self._leaves)
            proof = _merkle.inclusion_proof(index, self._leaves)
            checkpoint = self._signed_checkpoint(size, root)
        body_b64 = _b64(body)
        set_payload = rfc8785.dumps(
            {
                "body": body_b64,
                "integratedTime": integrated_time,
                "logID": self._log_id.hex(),
                "logIndex": index,
            }
        )
        entry = {
            "body": body_b64,
            "integratedTime": integrated_time,
            "logID": self._log_id.hex(),
            "logIndex": index,
            "verification": {
                "inclusionProof": {
                    "checkpoint": checkpoint,
                    "hashes": [h.hex() for h in proof],
                    "logIndex": index,
                    "rootHash": root.hex(),
                    "treeSize": size,
                },
                "signedEntryTimestamp": _b64(self._sign(set_payload)),
            },
        }
        uuid = f"{self._tree_id:016x}{leaf.hex()}"
        return Response({uuid: entry}, HTTPStatus.CREATED)

    def _sign(self, data: bytes) -> bytes:
        return self._key.sign(data, ec.ECDSA(hashes.SHA256()))

    def _signed_checkpoint(self, size: int, root: bytes) -> str:
        # Clients look for a signature whose name matches the log: the name must be a
        # substring of the log's base URL, so use host:port (unique per instance too).
        name = urlsplit(self.url).netloc
        note = f"{name} - {self._tree_id}\n{size}\n{_b64(root)}\n"
        # The key hint is the first four bytes of the log ID; sigstore-python matches on it.
        signature = self._log_id[:4] + self._sign(note.encode())
        return f"{note}\n\u2014 {name} {_b64(signature)}\n"

    def _canonical_body(self, proposed: Any) -> bytes:
        """Check a proposed entry like Rekor does, and return the body the log stores."""
        try:
            entry = _PROPOSED_ENTRY.validate_python(proposed)
        except ValidationError as exc:
            raise _bad_request(f"not a Rekor v1 proposed entry: {exc}") from exc
        if entry.api_version != "0.0.1":
            raise _bad_request(f"{entry.kind} version {entry.api_version} is not supported (use 0.0.1)")
        if isinstance(entry, Hashedrekord):
            return self._hashedrekord_body(entry)
        if isinstance(entry, Dsse):
            return self._dsse_body(entry)
        raise _bad_request(f"entry kind {entry.kind!r} is not supported (use dsse or hashedrekord)")

    @staticmethod
    def _hashedrekord_body(entry: Hashedrekord) -> bytes:
        spec = entry.spec.root
        digest = spec.data.hash
        if digest is None or digest.algorithm.value != "sha256" or len(digest.value) != 64:
            raise _bad_request("hashedrekord entries must carry a sha256 digest")
        signature_b64 = spec.signature.content
        verifier_b64 = spec.signature.public_key.content if spec.signature.public_key else None
        if not signature_b64 or not verifier_b64:
            raise _bad_request("hashedrekord entries must carry a signature and its certificate")
        key = _load_verifier(verifier_b64)
        try:
            key.verify(
                base64.b64decode(signature_b64),
                bytes.fromhex(digest.value),
                ec.ECDSA(Prehashed(hashes.SHA256())),
            )
        except (InvalidSignature, ValueError) as exc:
            raise _bad_request("signature does not verify against the digest and certificate") from exc
        return rfc8785.dumps(
            {
                "apiVersion": entry.api_version,
                "kind": "hashedrekord",
                "spec": {
                    "data": {"hash": {"algorithm": "sha256", "value": digest.value}},
                    "signature": {"content": signature_b64, "publicKey": {"content": verifier_b64}},
                },
            }
        )

    @staticmethod
    def _dsse_body(entry: Dsse) -> bytes:
        proposed = getattr(entry.spec.root, "proposed_content", None)
        if proposed is None:
            raise _bad_request("dsse entries must carry proposedContent (envelope and verifiers)")
        try:
            envelope = json.loads(proposed.envelope)
            payload = base64.b64decode(envelope["payload"], validate=True)
            payload_type = str(envelope["payloadType"])
            signatures = [base64.b64decode(s["sig"], validate=True) for s in envelope["signatures"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise _bad_request(f"malformed DSSE envelope: {exc}") from exc
        if not signatures or not proposed.verifiers:
            raise _bad_request("a DSSE entry needs at least one signature and one verifier")

        pae = _pae(payload_type, payload)
        recorded = []
        for signature in signatures:
            verifier = next(
                (v for v in proposed.verifiers if _verifies(_load_verifier(v), signature, pae)), None
            )
            if verifier is None:
                raise _bad_request("a DSSE signature does not verify against any of the verifiers")
            recorded.append({"signature": _b64(signature), "verifier": verifier})
        return rfc8785.dumps(
            {
                "apiVersion": entry.api_version,
                "kind": "dsse",
                "spec": {
                    # Clients cannot recompute this (the envelope JSON is not canonical);
                    # like Rekor we hash the envelope exactly as submitted.
                    "envelopeHash": {
                        "algorithm": "sha256",
                        "value": hashlib.sha256(proposed.envelope.encode()).hexdigest(),
                    },
                    "payloadHash": {"algorithm": "sha256", "value": hashlib.sha256(payload).hexdigest()},
                    "signatures": recorded,
                },
            }
        )


def _verifies(key: ec.EllipticCurvePublicKey, signature: bytes, data: bytes) -> bool:
    try:
        key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True
