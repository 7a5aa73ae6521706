"""Signed snapshots as the repository records them: the version and tag convention, the registry
(`attestations/registry.json`), the published manifest as read for signing, and the drift baseline.

Conventions (one each, relied on by `corpusctl sign`, `verify`, `baseline` and the audit):
- VERSION: digits separated by dots, optionally a pre-release suffix (`1.4.0`, `2026.11.1`,
  `3.0.0-rc.1`). It names the bundle `attestations/<VERSION>.sigstore.json` and the tag.
- Tag `corpus@VERSION`: on the commit that adds the bundle and registry entry. Its parent chain
  contains the attested commit (the predicate's `git_commit`, which is also the commit the signing
  workflow ran on), and the two differ only under `attestations/`, so `git checkout corpus@VERSION
  && dvc pull` restores exactly the attested data together with its bundle.
- Registry: `{"snapshots": [...]}`, append-only, in signing order; each entry's parent is the entry
  before it, which is what the signed predicates chain to.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from corpus.errors import CorpusError
from corpus.paths import RepoPaths

TAG_PREFIX = "corpus@"
REGISTRY_NAME = "registry.json"
POLICY_NAME = "signer-policy.yaml"
BUNDLE_SUFFIX = ".sigstore.json"
MANIFEST_NAME = "manifest.json"
STATS_NAME = "stats.json"

# Files DVC writes into output folders for git's sake; they are not part of a snapshot.
_BOOKKEEPING = frozenset({".gitignore"})
_VERSION = re.compile(r"^[0-9]+(\.[0-9]+){0,3}(-[0-9A-Za-z]+(\.[0-9A-Za-z]+)*)?$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")


class SnapshotError(CorpusError):
    """A usage problem: bad or duplicate version, unknown snapshot, unreadable registry or manifest."""

    exit_code = 2


class WorkspaceMismatch(CorpusError):
    """The workspace does not hold what the command needs (clean tree, the snapshot's data)."""

    exit_code = 3


class GitError(CorpusError):
    """A git command failed."""

    exit_code = 5


# ---- version and tag ---------------------------------------------------------------------------


def check_version(version: str) -> str:
    if len(version) > 64 or not _VERSION.match(version):
        raise SnapshotError(
            f"version {version!r} is not a snapshot version: use dot-separated numbers with an optional "
            "pre-release suffix, e.g. 1.0.0, 2026.11.1 or 3.0.0-rc.1"
        )
    return version


def tag_name(version: str) -> str:
    return f"{TAG_PREFIX}{version}"


def bundle_relpath(version: str) -> str:
    return f"attestations/{version}{BUNDLE_SUFFIX}"


# ---- git ---------------------------------------------------------------------------------------


def git(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    """Run git in `root`; output is bytes because `git show` returns file contents verbatim."""
    try:
        result = subprocess.run(["git", *args], cwd=root, capture_output=True, check=False)
    except FileNotFoundError:
        raise GitError("git is not installed or not on PATH") from None
    if check and result.returncode != 0:
        detail = result.stderr.decode(errors="replace").strip() or f"exit code {result.returncode}"
        raise GitError(f"`git {' '.join(args)}` failed in {root}: {detail}")
    return result


def git_text(root: Path, *args: str) -> str:
    return git(root, *args).stdout.decode().strip()


def resolve_commit(root: Path, ref: str) -> str | None:
    """The full SHA `ref` names, or None if there is no such commit here."""
    result = git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False)
    return result.stdout.decode().strip() if result.returncode == 0 else None


# ---- registry ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SnapshotRef:
    """A snapshot as another one refers to it: the parent link of the chain."""

    version: str
    manifest_sha256: str


@dataclass(frozen=True)
class RegistryEntry:
    version: str
    tag: str
    commit: str
    """The attested commit (the predicate's `git_commit`), not the commit the tag points to."""
    manifest_sha256: str
    bundle: str
    """Repository-relative path of the Sigstore bundle."""
    parent: SnapshotRef | None
    signed_at: str | None
    """The transparency log's integrated time (RFC 3339, UTC), when the log gives one."""
    signer_identity: str
    signer_issuer: str

    @property
    def ref(self) -> SnapshotRef:
        return SnapshotRef(self.version, self.manifest_sha256)

    def to_json(self) -> dict[str, Any]:
        entry = asdict(self)
        entry["signer"] = {"identity": entry.pop("signer_identity"), "issuer": entry.pop("signer_issuer")}
        return entry


def parse_ref(value: Any, where: str) -> SnapshotRef | None:
    """A parent link as JSON (`null` or `{"version", "manifest_sha256"}`), checked."""
    if value is None:
        return None
    if (
        not isinstance(value, Mapping)
        or not isinstance(value.get("version"), str)
        or not isinstance(value.get("manifest_sha256"), str)
        or not _SHA256.match(value["manifest_sha256"])
    ):
        raise SnapshotError(f'{where}: parent must be null or {{"version", "manifest_sha256"}}')
    return SnapshotRef(value["version"], value["manifest_sha256"])


def _entry(raw: Any, where: str) -> RegistryEntry:
    if not isinstance(raw, Mapping):
        raise SnapshotError(f"{where}: expected an object")
    try:
        signer = raw["signer"]
        entry = RegistryEntry(
            version=check_version(raw["version"]),
            tag=raw["tag"],
            commit=raw["commit"],
            manifest_sha256=raw["manifest_sha256"],
            bundle=raw["bundle"],
            parent=parse_ref(raw.get("parent"), where),
            signed_at=raw.get("signed_at"),
            signer_identity=signer["identity"],
            signer_issuer=signer["issuer"],
        )
    except (KeyError, TypeError) as exc:
        raise SnapshotError(f"{where}: missing or malformed field {exc}; restore the file from git") from None
    if not _COMMIT.match(str(entry.commit)) or not _SHA256.match(str(entry.manifest_sha256)):
        raise SnapshotError(
            f"{where}: commit or manifest_sha256 is not a full hex digest; restore it from git"
        )
    return entry


class Registry:
    """`attestations/registry.json`: every signed snapshot in signing order."""

    def __init__(self, path: Path, entries: Sequence[RegistryEntry]) -> None:
        self.path = path
        self.entries = list(entries)

    @classmethod
    def load(cls, paths: RepoPaths) -> Registry:
        path = paths.attestations / REGISTRY_NAME
        if not path.is_file():
            # A fresh clone of the template ships `{"snapshots": []}`; a missing file means the same.
            return cls(path, [])
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SnapshotError(f"{path}: unreadable registry ({exc}); restore it from git") from None
        if not isinstance(document, Mapping) or not isinstance(document.get("snapshots"), list):
            raise SnapshotError(f'{path}: expected {{"snapshots": [...]}}; restore it from git')
        entries = [_entry(raw, f"{path} snapshot #{i + 1}") for i, raw in enumerate(document["snapshots"])]
        versions = [e.version for e in entries]
        if len(set(versions)) != len(versions):
            raise SnapshotError(f"{path}: a version appears twice; restore the file from git")
        return cls(path, entries)

    def get(self, version: str) -> RegistryEntry | None:
        return next((e for e in self.entries if e.version == version), None)

    def index(self, version: str) -> int:
        return next(i for i, e in enumerate(self.entries) if e.version == version)

    @property
    def latest(self) -> RegistryEntry | None:
        return self.entries[-1] if self.entries else None

    def require(self, version: str | None) -> RegistryEntry:
        """The entry of `version`, or the latest one when `version` is None."""
        if version is None:
            if self.latest is None:
                raise SnapshotError(
                    f"{self.path}: no signed snapshot yet; sign one with `corpusctl sign VERSION`"
                )
            return self.latest
        entry = self.get(check_version(version))
        if entry is None:
            known = ", ".join(e.version for e in self.entries) or "none"
            raise SnapshotError(
                f"snapshot {version} is not in {self.path} (signed: {known}); if it was signed on another "
                "branch, `git pull` first"
            )
        return entry

    def append(self, entry: RegistryEntry) -> None:
        self.entries.append(entry)
        document = {"snapshots": [e.to_json() for e in self.entries]}
        write_atomic(self.path, json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so an interrupted command never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


# ---- the published manifest --------------------------------------------------------------------


@dataclass(frozen=True)
class ManifestFile:
    path: str
    """Relative to data/published, '/' separated."""
    bytes: int
    sha256: str


@dataclass(frozen=True)
class PublishedManifest:
    """The parts of `data/published/manifest.json` that signing and verification rely on."""

    sha256: str
    """Of manifest.json's exact bytes: the attestation's subject."""
    files: list[ManifestFile]
    examples: Any
    """Example counts exactly as the publish stage wrote them."""
    merkle_root: str
    snapshot_version: str | None


def manifest_path(paths: RepoPaths) -> Path:
    return paths.published / MANIFEST_NAME


def read_manifest(paths: RepoPaths) -> PublishedManifest:
    """Read and check manifest.json; raise WorkspaceMismatch if it is absent or malformed."""
    from corpus.governance import sha256_file

    path = manifest_path(paths)
    if not path.is_file():
        raise WorkspaceMismatch(
            f"{path} is missing: build the snapshot with `dvc repro`, or fetch it with `dvc pull`"
        )
    try:
        document = json.loads(path.read_bytes())
    except ValueError as exc:
        raise WorkspaceMismatch(f"{path} is not JSON ({exc}); rebuild it with `dvc repro`") from None

    def bad(what: str) -> WorkspaceMismatch:
        return WorkspaceMismatch(f"{path}: {what}; this is not a snapshot manifest (contract v1)")

    if not isinstance(document, Mapping):
        raise bad("expected a JSON object")
    raw_files = document.get("files")
    if not isinstance(raw_files, list):
        raise bad('no "files" list')
    files: list[ManifestFile] = []
    for raw in raw_files:
        if not (
            isinstance(raw, Mapping)
            and isinstance(raw.get("path"), str)
            and isinstance(raw.get("bytes"), int)
            and isinstance(raw.get("sha256"), str)
            and _SHA256.match(raw["sha256"])
        ):
            raise bad(f'file entry {raw!r} needs "path", integer "bytes" and hex "sha256"')
        relative = raw["path"]
        if (
            relative.startswith("/")
            or "\\" in relative
            or ".." in relative.split("/")
            or relative == MANIFEST_NAME
        ):
            raise bad(
                f"file path {relative!r} must be relative to data/published/ and not the manifest itself"
            )
        files.append(ManifestFile(relative, raw["bytes"], raw["sha256"]))
    if len({f.path for f in files}) != len(files):
        raise bad("a file is listed twice")
    if "examples" not in document:
        raise bad('no "examples" counts')
    # The publish stage writes the root either flat or inside a `merkle` object; accept both.
    merkle = document.get("merkle")
    root = document.get("merkle_root", merkle.get("root") if isinstance(merkle, Mapping) else None)
    if not isinstance(root, str) or not _SHA256.match(root):
        raise bad('no example Merkle root ("merkle_root" or "merkle": {"root"}) of 64 hex characters')
    version = document.get("snapshot_version")
    return PublishedManifest(
        sha256=sha256_file(path),
        files=files,
        examples=document["examples"],
        merkle_root=root,
        snapshot_version=version if isinstance(version, str) else None,
    )


def published_file_problems(paths: RepoPaths, manifest: PublishedManifest) -> list[str]:
    """How data/published/ differs from `manifest`: missing, extra, resized or changed files."""
    from corpus.governance import sha256_file

    listed = {f.path: f for f in manifest.files}
    present = {
        p.relative_to(paths.published).as_posix()
        for p in paths.published.rglob("*")
        if p.is_file() and p.name not in _BOOKKEEPING
    } - {MANIFEST_NAME}
    problems = [f"{name}: listed in the manifest but missing" for name in sorted(set(listed) - present)]
    problems += [f"{name}: present but not in the manifest" for name in sorted(present - set(listed))]
    for name in sorted(present & set(listed)):
        path, expected = paths.published / name, listed[name]
        size = path.stat().st_size
        if size != expected.bytes:
            problems.append(f"{name}: {size} bytes, the manifest says {expected.bytes}")
        elif (digest := sha256_file(path)) != expected.sha256:
            problems.append(f"{name}: sha256 {digest}, the manifest says {expected.sha256}")
    return problems


def workspace_snapshot_hint(registry: Registry, workspace_sha256: str | None, version: str) -> str:
    """What the workspace holds instead of `version`, and how to get `version`'s data."""
    fetch = f"to check {version}, run `git checkout {tag_name(version)} && dvc pull`"
    if workspace_sha256 is None:
        return f"the workspace has no data/published/manifest.json; {fetch}"
    other = next((e for e in registry.entries if e.manifest_sha256 == workspace_sha256), None)
    if other is not None:
        return f"the workspace holds snapshot {other.version}, not {version}; {fetch}"
    return (
        f"the workspace's manifest.json (sha256 {workspace_sha256}) is not the one signed for {version}: "
        f"it was edited, or comes from an unsigned build; {fetch}"
    )


# ---- the drift baseline ------------------------------------------------------------------------


def set_baseline(paths: RepoPaths, version: str) -> Path:
    """Make `version`'s stats.json the drift baseline of the next snapshot.

    The baseline is stats.json with `snapshot` set to `version` and `snapshot_manifest_sha256`
    added (`{"snapshot": null}` means no baseline yet). Only the signed snapshot's exact stats are
    accepted: the workspace must hold that snapshot, and stats.json must match its manifest.
    """
    from corpus.governance import sha256_file

    registry = Registry.load(paths)
    entry = registry.require(version)
    manifest = read_manifest(paths)
    if manifest.sha256 != entry.manifest_sha256:
        raise WorkspaceMismatch(workspace_snapshot_hint(registry, manifest.sha256, version))
    listed = next((f for f in manifest.files if f.path == STATS_NAME), None)
    if listed is None:
        raise WorkspaceMismatch(f"snapshot {version}'s manifest lists no {STATS_NAME}; nothing to baseline")
    stats_file = paths.published / STATS_NAME
    if not stats_file.is_file() or sha256_file(stats_file) != listed.sha256:
        raise WorkspaceMismatch(
            f"{stats_file} is missing or differs from snapshot {version}'s manifest; restore it with "
            "`dvc checkout` (or `dvc pull`)"
        )
    stats = json.loads(stats_file.read_text(encoding="utf-8"))
    if not isinstance(stats, Mapping):
        raise WorkspaceMismatch(f"{stats_file} must be a JSON object")
    if stats.get("snapshot") not in (None, version):
        raise WorkspaceMismatch(
            f"{stats_file} says it describes snapshot {stats['snapshot']!r}, not {version}; the snapshot is "
            "inconsistent: rebuild it"
        )
    # The drift gate reads `snapshot` (null: no baseline); the manifest digest says which bytes.
    baseline = {**stats, "snapshot": version, "snapshot_manifest_sha256": entry.manifest_sha256}
    target = paths.baseline_stats
    write_atomic(target, json.dumps(baseline, indent=2, ensure_ascii=False) + "\n")
    return target
