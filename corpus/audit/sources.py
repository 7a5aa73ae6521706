"""Files of a signed snapshot as they were at its attested commit.

Reviewed files (batch manifests, revocations, params) come from git (`git show COMMIT:PATH`);
DVC-tracked data (data/published/) through `dvc.api.DVCFileSystem` at that commit, which reads the
local DVC cache when it has the data and the DVC remote otherwise, so an auditor's fresh clone
needs no `git checkout` or `dvc pull` of old snapshots.

The attested commit (the registry's `commit`, which verification binds to the signed predicate)
rather than the tag `corpus@VERSION`: the tag adds only attestations/ on top of it, and a signed
snapshot whose tag was not pushed yet is still auditable.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from corpus.audit.errors import SnapshotDataError
from corpus.snapshots import git

if TYPE_CHECKING:
    from dvc.api import DVCFileSystem

    from corpus.governance import Revocations

PUBLISHED = "data/published"
REVOCATIONS = "data/governance/revocations.yaml"


def git_show(root: Path, commit: str, path: str) -> bytes | None:
    """The bytes of `path` at `commit`, or None if the commit has no such file."""
    result = git(root, "show", f"{commit}:{path}", check=False)
    return result.stdout if result.returncode == 0 else None


def _plain(value: Any) -> Any:
    """YAML timestamps as ISO strings, so documents read at a commit print and serialise as JSON."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat().replace("+00:00", "Z")
    return value


def yaml_at(root: Path, commit: str, path: str) -> dict[str, Any] | None:
    """A reviewed YAML document at `commit` as plain data; None if absent or not a mapping.

    Deliberately lenient: the audit reports what was there (a malformed batch manifest is itself
    an answer: its lines were rejected), it does not re-apply the rules.
    """
    data = git_show(root, commit, path)
    if data is None:
        return None
    try:
        document = yaml.safe_load(data.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        return None
    return _plain(document) if isinstance(document, Mapping) else None


def batch_manifest_at(root: Path, commit: str, batch_id: str) -> dict[str, Any] | None:
    return yaml_at(root, commit, f"data/batches/{batch_id}.yaml")


def revocations_at(root: Path, commit: str) -> Revocations:
    """data/governance/revocations.yaml at `commit` (none if the file did not exist then)."""
    from pydantic import ValidationError

    from corpus.governance import Revocations

    data = git_show(root, commit, REVOCATIONS)
    if data is None:
        return Revocations()
    try:
        return Revocations.model_validate(yaml.safe_load(data.decode("utf-8")) or {})
    except (yaml.YAMLError, UnicodeDecodeError, ValidationError) as exc:
        raise SnapshotDataError(
            f"{REVOCATIONS} at commit {commit[:12]} is not a valid revocation list ({exc}); "
            "the snapshot was built from it, so investigate how it was committed"
        ) from None


class SnapshotData:
    """The DVC view of the repository at one commit: fetch files of data/published/ from it."""

    def __init__(self, root: Path, commit: str) -> None:
        self.root = root
        self.commit = commit
        self._fs: DVCFileSystem | None = None

    def _filesystem(self) -> DVCFileSystem:
        if self._fs is None:
            from dvc.api import DVCFileSystem
            from dvc.exceptions import DvcException

            try:
                self._fs = DVCFileSystem(str(self.root), rev=self.commit)
            except (DvcException, OSError) as exc:
                raise SnapshotDataError(
                    f"DVC cannot open the repository at commit {self.commit[:12]}: {exc}; "
                    "fetch the full history (`git fetch --tags`)"
                ) from None
        return self._fs

    def fetch(self, relative: str, target: Path) -> None:
        """Copy data/published/`relative` at this commit to `target`."""
        from dvc.exceptions import DvcException

        path = f"{PUBLISHED}/{relative}"
        try:
            self._filesystem().get_file(path, str(target))
        except FileNotFoundError:
            raise SnapshotDataError(
                f"{path} is not in the snapshot at commit {self.commit[:12]}, although its signed manifest "
                "lists it: the snapshot was not published completely"
            ) from None
        except (DvcException, OSError) as exc:
            raise SnapshotDataError(
                f"cannot fetch {path} at commit {self.commit[:12]} from the DVC cache or remote ({exc}); "
                "check the remote in .dvc/config and your credentials (`dvc fetch` shows the details)"
            ) from None
