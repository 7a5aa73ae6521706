"""Exception types a user can act on. Stage scripts and `corpusctl` turn them into one clear message
and a meaningful exit code instead of a traceback."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


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


def describe_invalid(error: ValidationError, *, under: str = "") -> str:
    """A pydantic error as `field: problem; ...`, each field's path dotted below `under` (a section
    of params.yaml, say); without `under`, an error of the whole document says "(document)"."""
    parts = []
    for item in error.errors():
        where = ".".join([*([under] if under else []), *(str(p) for p in item["loc"])]) or "(document)"
        parts.append(f"{where}: {item['msg']}")
    return "; ".join(parts)
