"""Audit failures a user can act on, each with the exit code `corpusctl audit` ends with.

Codes shared by every audit command:
   2  usage: malformed reference, ambiguous prefix, unknown snapshot version, bad flags
   3  not found: no snapshot holds the example, record, annotator or model version
   4  snapshot data unavailable: DVC cannot fetch it, or it differs from the signed manifest
  10  a snapshot's bundle did not verify: the answer is printed, but its signer is not established
  11  (check-proof) the proof does not hold for this example and bundle
"""

from __future__ import annotations

from corpus.errors import CorpusError

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_DATA = 4
EXIT_UNVERIFIED = 10
EXIT_PROOF_REJECTED = 11


class AuditUsageError(CorpusError):
    """The question cannot be asked as given (bad reference, ambiguous prefix, unknown version)."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, candidates: list[str] | None = None) -> None:
        super().__init__(message)
        self.candidates = candidates or []


class NotFound(CorpusError):
    """Nothing matches: the example, record, annotator or model version is in no signed snapshot."""

    exit_code = EXIT_NOT_FOUND


class SnapshotDataError(CorpusError):
    """A snapshot's data cannot be read, or is not the data its signed manifest describes."""

    exit_code = EXIT_DATA


class ProofRejected(CorpusError):
    """An inclusion proof does not hold: example, proof and bundle do not agree."""

    exit_code = EXIT_PROOF_REJECTED
