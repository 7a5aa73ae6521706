"""Exception types a user can act on. Stage scripts and `corpusctl` turn them into one clear message
and a meaningful exit code instead of a traceback."""

from __future__ import annotations


class CorpusError(Exception):
    """A problem with the user's input or workspace; the message says what to do."""

    exit_code = 1


class GovernanceFileError(CorpusError):
    """A governance file or manifest is missing or does not follow its contract."""

    exit_code = 2


class StageInputError(CorpusError):
    """A stage was given data that breaks the contract of its input boundary."""

    exit_code = 3


class StageOutputError(CorpusError):
    """A stage produced data that breaks the contract of its output boundary (a bug, not user input)."""

    exit_code = 4


class GateFailure(CorpusError):
    """A safety gate refused the snapshot."""

    exit_code = 5
