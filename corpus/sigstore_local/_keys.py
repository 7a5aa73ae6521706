"""Key helpers shared by the local CA, CT log and transparency log."""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec


def spki_der(key: ec.EllipticCurvePublicKey) -> bytes:
    """DER SubjectPublicKeyInfo: the form trusted roots carry and key IDs hash."""
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_id(key: ec.EllipticCurvePublicKey) -> bytes:
    """SHA-256 of the SPKI: how RFC 6962 names a log and sigstore-python matches keys."""
    return hashlib.sha256(spki_der(key)).digest()
