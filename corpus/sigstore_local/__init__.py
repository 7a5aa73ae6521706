"""A local, in-process Sigstore instance (OIDC issuer, Fulcio-style CA with CT log, Rekor-style
transparency log) on 127.0.0.1. TEST AND DEMO TRUST ONLY: never a default, never a pinned root.

It is accepted by the unmodified sigstore-python `Signer` and `Verifier`, so tests exercise the
same signing and verification code as production, keyless, without network access.
"""

from corpus.sigstore_local._instance import LocalSigstore

__all__ = ["LocalSigstore"]
