"""`corpusctl sign`: attest the published snapshot with Sigstore (DESIGN.md 6).

Signing refuses anything it could not later prove: a git tree with uncommitted or untracked
files (the predicate names a commit, so the commit must be what was built), and a workspace whose
data differs from dvc.lock (`dvc status` must be empty). The predicate then records, from the
workspace at that commit: the snapshot version and its parent (the previous registry entry), the
commit, the sha256 of every dvc.lock, the resolved params, every listed raw batch with its approval, the
stage code, the Merkle root and example counts from manifest.json, and the gate report.

The predicate (type `corpus.attestation.PREDICATE_TYPE`):

    snapshot         {version, tag, parent: {version, manifest_sha256} | null}
    git_commit       HEAD when signed (in CI: the commit the signing workflow ran on)
    dvc_lock_sha256  sha256 of dvc.lock (the root's: union stages) at that commit
    dvc_locks        {path: sha256} of every dvc.lock at that commit, the root's and each
                     pipelines/<stage>/dvc.lock (the per-batch stages)
    params           params.yaml, parsed (dates as ISO strings)
    raw_batches      [{id, file, sha256, author, approver, approved_at, accepted, rejected_because}]
    stage_code       {algorithm: "sha256", files: {path: sha256}}
    examples         {merkle_root, counts}  (counts exactly as manifest.json's "examples")
    gates            {report, report_sha256, gates, overrides} | null when there is no gate report

Stage code hashes are the sha256 of every Python file a dvc.yaml stage declares as a dependency
(directories contribute their .py files), keyed by repository path. sha256 rather than dvc.lock's
md5 so that an auditor can check them with nothing but `git show <commit>:<path> | sha256sum`;
the dvc.lock files are pinned by their own sha256.

Identity tokens are handed to sigstore and never written, logged or echoed.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping
from contextlib import chdir
from dataclasses import dataclass
from datetime import UTC, date, datetime
from ipaddress import ip_address
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from corpus.errors import CorpusError
from corpus.paths import RepoPaths
from corpus.snapshots import (
    GitError,
    PublishedManifest,
    Registry,
    RegistryEntry,
    SnapshotError,
    WorkspaceMismatch,
    bundle_relpath,
    check_version,
    git,
    git_text,
    published_file_problems,
    read_manifest,
    resolve_commit,
    tag_name,
    write_atomic,
)

GATE_REPORT = Path("data/interim/gates/report.json")
_LISTED_PATHS = 10


class SigningFailed(CorpusError):
    """No signature: no usable identity token, or the Sigstore instance refused."""

    exit_code = 4


@dataclass(frozen=True)
class SignedSnapshot:
    entry: RegistryEntry
    bundle_path: Path
    statement: dict[str, Any]


# ---- trust configs that must not be mistaken for production -------------------------------------


def trust_warning(path: Path) -> str | None:
    """A loud warning if the trust file at `path` describes a local or test Sigstore instance.

    Such an instance (e.g. `corpus.sigstore_local`) marks its operator as a test, or serves from
    loopback; signatures made with it prove nothing to anyone else.
    """
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # unreadable files are reported by the command that loads them
    markers = sorted(_local_markers(document))
    if not markers:
        return None
    bar = "!" * 78
    return (
        f"{bar}\n!! {path} DESCRIBES A LOCAL/TEST SIGSTORE INSTANCE ({', '.join(markers[:3])}).\n"
        "!! Signatures made or checked with it are TEST AND DEMO TRUST ONLY: never publish them as\n"
        f"!! a snapshot's attestation and never accept them in an audit.\n{bar}"
    )


def _local_markers(node: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key == "operator" and isinstance(value, str) and "test" in value.lower():
                found.add(f"operator {value!r}")
            elif key in {"url", "baseUrl", "uri"} and isinstance(value, str) and _is_loopback(value):
                found.add(f"service at {value}")
            else:
                found |= _local_markers(value)
    elif isinstance(node, list):
        for item in node:
            found |= _local_markers(item)
    return found


def _is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


# ---- workspace checks --------------------------------------------------------------------------


def check_clean_tree(root: Path) -> None:
    """Refuse uncommitted changes and untracked files (ignored files, e.g. DVC data, are fine)."""
    lines = git(root, "status", "--porcelain").stdout.decode(errors="replace").splitlines()
    if lines:
        shown = "\n  ".join(lines[:_LISTED_PATHS])
        more = f"\n  ... and {len(lines) - _LISTED_PATHS} more" if len(lines) > _LISTED_PATHS else ""
        raise WorkspaceMismatch(
            f"the git tree is not clean, so the snapshot would not be reproducible from a commit:\n  "
            f"{shown}{more}\ncommit (or remove) these changes, then sign again"
        )


def _describe_dvc_status(status: Mapping[str, Any]) -> list[str]:
    """One line per stage (or .dvc file) of `dvc status`: what differs and how."""
    lines = []
    for stage, changes in status.items():
        parts: list[str] = []
        for change in changes:
            if isinstance(change, Mapping):
                for kind, files in change.items():
                    detail = (
                        ", ".join(f"{name} ({state})" for name, state in files.items())
                        if isinstance(files, Mapping)
                        else str(files)
                    )
                    parts.append(f"{kind}: {detail}")
            else:
                parts.append(str(change))
        lines.append(f"{stage}: {'; '.join(parts)}")
    return lines


def check_dvc_and_hash_code(paths: RepoPaths) -> dict[str, str]:
    """Refuse a workspace that differs from dvc.lock; return the stage code hashes.

    One DVC repo handle serves both: the status, and the stages' resolved dependencies
    (foreach/matrix expanded by DVC itself).
    """
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    from corpus.governance import sha256_file

    if not paths.dvc_lock.is_file():
        raise WorkspaceMismatch("dvc.lock is missing: run `dvc repro` and commit dvc.lock, then sign again")
    try:
        # DVC names stages and files relative to the working directory: report them from the root.
        with chdir(paths.root), Repo(str(paths.root)) as repo:
            status = repo.status()
            deps = [Path(dep.fs_path) for stage in repo.index.stages for dep in stage.deps]
    except DvcException as exc:
        raise WorkspaceMismatch(f"DVC cannot read this workspace: {exc}") from None
    if status:
        listing = "\n  ".join(_describe_dvc_status(status))
        raise WorkspaceMismatch(
            "the workspace does not match dvc.lock (`dvc status`):\n  "
            f"{listing}\nrun `dvc repro` (or `dvc checkout` to restore the locked data), commit dvc.lock, "
            "then sign again"
        )
    root = paths.root.resolve()
    # Code is what git tracks: a .py file inside a DVC-tracked data folder is data, and an auditor
    # could not look it up at the commit.
    tracked = {root / name for name in git(root, "ls-files", "-z").stdout.decode().split("\0") if name}
    code: set[Path] = set()
    for dep in deps:
        if dep.suffix == ".py" and dep.is_file():
            code.add(dep.resolve())
        elif dep.is_dir():
            code.update(p.resolve() for p in dep.rglob("*.py"))
    return {p.relative_to(root).as_posix(): sha256_file(p) for p in sorted(code & tracked)}


# ---- the predicate -----------------------------------------------------------------------------


def _plain(value: Any, where: str) -> Any:
    """`value` as JSON data: YAML dates become ISO strings; anything else non-JSON is an error."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v, where) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, where) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise SnapshotError(f"{where}: value {value!r} of type {type(value).__name__} cannot be recorded as JSON")


def load_params(paths: RepoPaths) -> dict[str, Any]:
    try:
        params = yaml.safe_load(paths.params.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SnapshotError(f"{paths.params}: cannot read params ({exc})") from None
    if not isinstance(params, Mapping):
        raise SnapshotError(f"{paths.params}: expected a mapping of stage name to settings")
    return {str(key): _plain(value, str(paths.params)) for key, value in params.items()}


def raw_batches(paths: RepoPaths, params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every batch listed in params, its bytes' sha256 and its approval, accepted or not (and why)."""
    from corpus.governance import Maintainers, check_manifest, load_document, sha256_file

    batch_ids = params.get("batches") or []
    if not isinstance(batch_ids, list) or not all(isinstance(b, str) for b in batch_ids):
        raise SnapshotError(f"{paths.params}: `batches` must be a list of batch ids")
    if not batch_ids:
        return []
    maintainers = load_document(paths.governance_file("maintainers"), Maintainers)
    records = []
    for batch_id in batch_ids:
        raw = paths.raw_batch(batch_id)
        if not raw.is_file():
            raise WorkspaceMismatch(f"raw batch {raw} is missing: run `dvc pull`, then sign again")
        verdict = check_manifest(batch_id, paths, maintainers)
        manifest = verdict.manifest
        records.append(
            {
                "id": batch_id,
                "file": raw.relative_to(paths.root).as_posix(),
                "sha256": sha256_file(raw),
                "author": manifest.author if manifest else None,
                "approver": manifest.approver if manifest else None,
                "approved_at": manifest.approved_at.isoformat() if manifest else None,
                "accepted": verdict.accepted,
                "rejected_because": verdict.reason,
            }
        )
    return records


def gate_results(paths: RepoPaths) -> dict[str, Any] | None:
    """The gates' results and overrides from their report, with the report's sha256; None if absent."""
    from corpus.governance import sha256_file

    path = paths.root / GATE_REPORT
    if not path.is_file():
        return None
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise WorkspaceMismatch(
            f"{path} is not JSON ({exc}); rerun the gates stage with `dvc repro`"
        ) from None
    if not isinstance(report, Mapping):
        raise WorkspaceMismatch(f"{path}: expected a JSON object; rerun the gates stage with `dvc repro`")
    return {
        "report": GATE_REPORT.as_posix(),
        "report_sha256": sha256_file(path),
        "gates": report.get("gates"),
        "overrides": report.get("overrides"),
    }


def build_predicate(
    paths: RepoPaths,
    *,
    version: str,
    commit: str,
    registry: Registry,
    manifest: PublishedManifest,
    stage_code: Mapping[str, str],
) -> dict[str, Any]:
    from corpus.governance import sha256_file

    params = load_params(paths)
    parent = registry.latest
    return {
        "snapshot": {
            "version": version,
            "tag": tag_name(version),
            "parent": None
            if parent is None
            else {"version": parent.version, "manifest_sha256": parent.manifest_sha256},
        },
        "git_commit": commit,
        "dvc_lock_sha256": sha256_file(paths.dvc_lock),
        "dvc_locks": {lock.relative_to(paths.root).as_posix(): sha256_file(lock) for lock in paths.dvc_locks},
        "params": params,
        "raw_batches": raw_batches(paths, params),
        "stage_code": {"algorithm": "sha256", "files": dict(stage_code)},
        "examples": {"merkle_root": manifest.merkle_root, "counts": manifest.examples},
        "gates": gate_results(paths),
    }


# ---- signing -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Signer:
    identity: str
    issuer: str
    workflow_sha: str | None
    signed_at: str | None


def _signer_of(bundle_json: str) -> _Signer:
    """Who signed a freshly made bundle, read from its certificate, and when the log recorded it."""
    from cryptography import x509
    from sigstore.models import Bundle

    from corpus.attestation import certificate_extensions

    cert = Bundle.from_json(bundle_json).signing_certificate
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    names = [
        *san.get_values_for_type(x509.UniformResourceIdentifier),
        *san.get_values_for_type(x509.RFC822Name),
    ]
    extensions = certificate_extensions(cert)
    entry = json.loads(bundle_json)["verificationMaterial"]["tlogEntries"][0]
    integrated = entry.get("integratedTime")
    return _Signer(
        identity=names[0] if names else "",
        issuer=extensions.get("oidc_issuer_v2", extensions.get("oidc_issuer", "")),
        workflow_sha=extensions.get("github_workflow_sha"),
        signed_at=(
            datetime.fromtimestamp(int(integrated), tz=UTC).isoformat().replace("+00:00", "Z")
            if integrated
            else None
        ),
    )


def _refuse_duplicate(paths: RepoPaths, registry: Registry, version: str) -> None:
    if registry.get(version) is not None:
        raise SnapshotError(
            f"snapshot {version} is already signed (see {registry.path}); choose a new version"
        )
    bundle = paths.root / bundle_relpath(version)
    if bundle.exists():
        raise SnapshotError(f"{bundle} already exists; choose a new version (bundles are never overwritten)")
    if resolve_commit(paths.root, f"refs/tags/{tag_name(version)}") is not None:
        raise SnapshotError(f"git tag {tag_name(version)} already exists; choose a new version")


def _consistent_manifest(paths: RepoPaths, version: str) -> PublishedManifest:
    """The snapshot's manifest, refused if signing it would make a bundle that can never verify."""
    manifest = read_manifest(paths)
    problems = published_file_problems(paths, manifest)
    if problems:
        # dvc status was clean, so the publish stage itself wrote files its manifest does not describe.
        raise WorkspaceMismatch(
            "data/published/ does not match its own manifest.json: "
            + "; ".join(problems[:_LISTED_PATHS])
            + "; the publish stage wrote an inconsistent snapshot: fix it and rebuild with `dvc repro`"
        )
    if manifest.snapshot_version is not None and manifest.snapshot_version != version:
        raise WorkspaceMismatch(
            f"manifest.json names snapshot version {manifest.snapshot_version!r}, not {version!r}: sign it "
            f"as {manifest.snapshot_version}, or set the snapshot version to {version} in params.yaml and "
            "rebuild (`dvc repro`)"
        )
    return manifest


def sign_snapshot(
    paths: RepoPaths, version: str, *, identity_token: str | None, trust_config: Path | None
) -> SignedSnapshot:
    """Check the workspace, build the statement, sign it, write the bundle and the registry entry."""
    from corpus.attestation import AttestationError, build_statement, sign_statement

    check_version(version)
    registry = Registry.load(paths)
    _refuse_duplicate(paths, registry, version)
    check_clean_tree(paths.root)
    stage_code = check_dvc_and_hash_code(paths)
    manifest = _consistent_manifest(paths, version)
    commit = git_text(paths.root, "rev-parse", "HEAD")
    predicate = build_predicate(
        paths, version=version, commit=commit, registry=registry, manifest=manifest, stage_code=stage_code
    )
    try:
        statement = build_statement(manifest.sha256, predicate)
        bundle_json = sign_statement(statement, identity_token=identity_token, trust_config=trust_config)
    except AttestationError as exc:
        raise SigningFailed(str(exc)) from None

    signer = _signer_of(bundle_json)
    if signer.workflow_sha is not None and signer.workflow_sha != commit:
        # Verification binds the certificate's commit to the predicate's: such a bundle never verifies.
        raise SigningFailed(
            f"the identity token was issued to a workflow run at commit {signer.workflow_sha}, but HEAD is "
            f"{commit}; sign from a run at HEAD (check out the commit the workflow was started on). "
            "Nothing was written"
        )
    bundle_path = paths.root / bundle_relpath(version)
    write_atomic(bundle_path, bundle_json)
    entry = RegistryEntry(
        version=version,
        tag=tag_name(version),
        commit=commit,
        manifest_sha256=manifest.sha256,
        bundle=bundle_relpath(version),
        parent=registry.latest.ref if registry.latest else None,
        signed_at=signer.signed_at,
        signer_identity=signer.identity,
        signer_issuer=signer.issuer,
    )
    registry.append(entry)
    return SignedSnapshot(entry=entry, bundle_path=bundle_path, statement=statement)


# ---- recording the signature in git -------------------------------------------------------------


def git_commands(signed: SignedSnapshot) -> list[list[str]]:
    """Commit the bundle and registry, then tag that commit `corpus@VERSION` (see corpus.snapshots)."""
    entry = signed.entry
    files = [entry.bundle, "attestations/registry.json"]
    return [
        ["git", "add", "--", *files],
        ["git", "commit", "--message", f"Attest corpus snapshot {entry.version}", "--", *files],
        [
            "git",
            "tag",
            "--annotate",
            entry.tag,
            "--message",
            f"corpus snapshot {entry.version}: manifest sha256 {entry.manifest_sha256}, "
            f"attested commit {entry.commit}",
        ],
    ]


def shell_line(command: list[str]) -> str:
    return shlex.join(command)


def commit_and_tag(paths: RepoPaths, signed: SignedSnapshot) -> str:
    """Run `git_commands`; return the tagged commit."""
    for command in git_commands(signed):
        try:
            git(paths.root, *command[1:])
        except GitError as exc:
            raise GitError(
                f"{exc}\nThe bundle and registry entry are written; finish by hand with:\n  "
                + "\n  ".join(shell_line(c) for c in git_commands(signed))
            ) from None
    return git_text(paths.root, "rev-parse", "HEAD")
