"""`corpusctl verify`: is this snapshot what its publisher signed, built from what it claims?

Checks run in four groups, each with its own exit code; the command exits with the code of the
first failing check in this order (0 if none fails):

  10 signature  the bundle verifies offline against the trusted root and the signer policy
                (issuer, identity, GitHub repository, and the certificate's commit is the
                predicate's commit), and attests this version
  11 files      data/published/manifest.json is the attested subject, and every file under
                data/published/ matches it (bytes, sha256; missing or extra files fail)
  12 sources    the predicate's commit exists; every dvc.lock and the stage code at that commit have
                the recorded sha256; every raw batch in the workspace has the signed sha256
                (a raw file swapped under an unchanged dvc.lock fails here); the tag, if present,
                sits on the attested commit plus attestations only
  13 chain      the registry entry matches the bundle; the parent named in the predicate is the
                registry's previous entry, and so on down to the first snapshot, each bundle verifying
   2 usage      no registry entry or bundle, unedited signer policy, unreadable trust root
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import yaml

from corpus.errors import CorpusError
from corpus.paths import RepoPaths, is_pipeline_lock, resolve_inside
from corpus.snapshots import (
    MANIFEST_NAME,
    POLICY_NAME,
    Registry,
    RegistryEntry,
    SnapshotError,
    SnapshotRef,
    WorkspaceMismatch,
    git,
    parse_ref,
    published_file_problems,
    read_manifest,
    resolve_commit,
    tag_name,
    workspace_snapshot_hint,
)

if TYPE_CHECKING:
    from corpus.attestation import VerifiedAttestation

EXIT_VERIFIED = 0
EXIT_USAGE = 2
EXIT_SIGNATURE = 10
EXIT_FILES = 11
EXIT_SOURCES = 12
EXIT_CHAIN = 13

PLACEHOLDER = "OWNER/REPO"
_SHOWN_PROBLEMS = 5


class VerifyUsageError(CorpusError):
    """Verification cannot start: nothing to verify, or no trustworthy policy or root to verify with."""

    exit_code = EXIT_USAGE


# ---- signer policy and trust -------------------------------------------------------------------


@dataclass(frozen=True)
class SignerPolicy:
    """Who must have signed: OIDC issuer, certificate identity and, for GitHub, the repository.

    With a repository the certificate's commit must also be the predicate's commit; without one
    (a non-GitHub signer of a private deployment) that binding cannot be checked.
    """

    issuer: str
    identity: str
    repository: str | None

    @classmethod
    def resolve(
        cls, policy_file: Path, *, issuer: str | None, identity: str | None, repository: str | None
    ) -> SignerPolicy:
        """The policy file's values, each overridden by the flag of the same name when given."""
        values: dict[str, Any] = {}
        if policy_file.is_file():
            values = _read_policy(policy_file)
        elif identity is None or issuer is None:
            raise VerifyUsageError(
                f"no signer policy: {policy_file} is missing; restore it from git, or pass --identity "
                "and --issuer"
            )
        merged = {
            "issuer": issuer if issuer is not None else values.get("issuer"),
            "identity": identity if identity is not None else values.get("identity"),
            "repository": repository if repository is not None else values.get("repository"),
        }
        if not isinstance(merged["issuer"], str) or not isinstance(merged["identity"], str):
            raise VerifyUsageError(f"{policy_file}: `issuer` and `identity` must be set (strings)")
        if merged["repository"] is not None and not isinstance(merged["repository"], str):
            raise VerifyUsageError(f"{policy_file}: `repository` must be OWNER/REPO or null")
        unedited = [k for k, v in merged.items() if isinstance(v, str) and PLACEHOLDER in v]
        if unedited:
            raise VerifyUsageError(
                f"{policy_file} still holds the template placeholder {PLACEHOLDER} in {', '.join(unedited)}: "
                "replace it with the GitHub owner/repository that publishes the snapshots (identity "
                "https://github.com/<owner>/<repo>/.github/workflows/publish.yml@refs/heads/main, "
                "repository <owner>/<repo>) and commit the file, or pass --identity, --issuer and "
                "--repository"
            )
        return cls(issuer=merged["issuer"], identity=merged["identity"], repository=merged["repository"])


def _read_policy(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise VerifyUsageError(f"{path}: unreadable signer policy ({exc})") from None
    if not isinstance(document, dict):
        raise VerifyUsageError(f"{path}: expected a mapping with issuer, identity and repository")
    unknown = set(document) - {"issuer", "identity", "repository"}
    if unknown:
        # A typo such as `identiy:` must not silently drop a constraint.
        raise VerifyUsageError(
            f"{path}: unknown key(s) {sorted(unknown)}; allowed: issuer, identity, repository"
        )
    return document


def default_policy_file(paths: RepoPaths) -> Path:
    return paths.attestations / POLICY_NAME


@dataclass(frozen=True)
class Trust:
    """What to verify against: a trusted root, a private instance's trust config, or (both None)
    the production root pinned in corpus/trust/."""

    trusted_root: Path | None = None
    trust_config: Path | None = None

    def check(self) -> None:
        from corpus.attestation import TrustRootError, load_trusted_root

        try:
            load_trusted_root(trusted_root=self.trusted_root, trust_config=self.trust_config)
        except (TrustRootError, ValueError) as exc:
            raise VerifyUsageError(str(exc)) from None


# ---- results -----------------------------------------------------------------------------------

Status = Literal["ok", "fail", "skip"]


@dataclass(frozen=True)
class CheckResult:
    check: str
    status: Status
    exit_code: int
    """The code this check's group exits with when it fails."""
    message: str


@dataclass
class VerifyReport:
    version: str
    bundle: str
    checks: list[CheckResult] = field(default_factory=list)
    attestation: VerifiedAttestation | None = None

    @property
    def exit_code(self) -> int:
        return next((c.exit_code for c in self.checks if c.status == "fail"), EXIT_VERIFIED)

    def to_json(self) -> dict[str, Any]:
        attestation = None
        if self.attestation is not None:
            predicate = self.attestation.predicate
            attestation = {
                "manifest_sha256": self.attestation.subject_digest,
                "commit": predicate.get("git_commit"),
                "parent": (predicate.get("snapshot") or {}).get("parent"),
                "signer_identity": self.attestation.signer_identity,
                "signer_issuer": self.attestation.signer_issuer,
                "signed_at": self.attestation.integrated_time.isoformat()
                if self.attestation.integrated_time
                else None,
                "log_index": self.attestation.log_index,
            }
        return {
            "version": self.version,
            "bundle": self.bundle,
            "verified": self.exit_code == EXIT_VERIFIED,
            "exit_code": self.exit_code,
            "checks": [asdict(c) for c in self.checks],
            "attestation": attestation,
        }


class CheckFailed(Exception):
    """A check's failure, with the message the user sees."""


class _Skipped(CheckFailed):
    """Nothing to check (e.g. an optional git tag is absent): reported, but not a failure."""


# ---- verification ------------------------------------------------------------------------------


def verify_snapshot(
    paths: RepoPaths, version: str | None, policy: SignerPolicy, trust: Trust
) -> VerifyReport:
    """Run every check on `version` (default: the registry's latest) and report each verdict."""
    trust.check()
    registry = Registry.load(paths)
    entry = registry.require(version)
    bundle_json = _read_bundle(paths, entry)
    report = VerifyReport(version=entry.version, bundle=entry.bundle)

    def run(check: str, code: int, body: Callable[[], str]) -> bool:
        try:
            report.checks.append(CheckResult(check, "ok", code, body()))
            return True
        except _Skipped as exc:
            report.checks.append(CheckResult(check, "skip", code, str(exc)))
            return True
        except CheckFailed as exc:
            report.checks.append(CheckResult(check, "fail", code, str(exc)))
            return False

    def skip(check: str, code: int, why: str) -> None:
        report.checks.append(CheckResult(check, "skip", code, why))

    try:
        attestation = verify_signature(bundle_json, entry.version, policy, trust)
    except CheckFailed as exc:
        report.checks.append(CheckResult("signature", "fail", EXIT_SIGNATURE, str(exc)))
        for check, code in _LATER_CHECKS:
            skip(
                check, code, "not checked: the attestation did not verify, so nothing it says can be trusted"
            )
        return report
    report.attestation = attestation
    report.checks.append(
        CheckResult("signature", "ok", EXIT_SIGNATURE, _describe_signer(attestation, policy))
    )
    predicate = attestation.predicate
    commit: str = predicate["git_commit"]

    manifest_ok = run(
        "manifest", EXIT_FILES, lambda: _check_manifest_subject(paths, registry, entry.version, attestation)
    )
    if manifest_ok:
        run("files", EXIT_FILES, lambda: _check_published_files(paths))
    else:
        skip("files", EXIT_FILES, "not checked: the workspace's manifest.json is not the signed one")

    if run("commit", EXIT_SOURCES, lambda: _check_commit_exists(paths, commit)):
        run("dvc.lock", EXIT_SOURCES, lambda: _check_dvc_lock(paths, commit, predicate))
        run("stage code", EXIT_SOURCES, lambda: _check_stage_code(paths, commit, predicate))
        run("tag", EXIT_SOURCES, lambda: _check_tag(paths, entry.version, commit))
    else:
        for check in ("dvc.lock", "stage code", "tag"):
            skip(check, EXIT_SOURCES, "not checked: the attested commit is not in this clone")
    run("raw batches", EXIT_SOURCES, lambda: _check_raw_batches(paths, predicate))

    run("registry", EXIT_CHAIN, lambda: _check_registry_entry(entry, attestation))
    run("chain", EXIT_CHAIN, lambda: _check_chain(paths, registry, entry, attestation, policy, trust))
    return report


_LATER_CHECKS = (
    ("manifest", EXIT_FILES),
    ("files", EXIT_FILES),
    ("commit", EXIT_SOURCES),
    ("dvc.lock", EXIT_SOURCES),
    ("stage code", EXIT_SOURCES),
    ("tag", EXIT_SOURCES),
    ("raw batches", EXIT_SOURCES),
    ("registry", EXIT_CHAIN),
    ("chain", EXIT_CHAIN),
)


def _read_bundle(paths: RepoPaths, entry: RegistryEntry) -> str:
    try:
        path = resolve_inside(paths.root, entry.bundle)
    except ValueError as exc:
        raise VerifyUsageError(
            f"registry entry {entry.version}: bundle {exc}; restore the registry from git"
        ) from None
    if not path.is_file():
        raise VerifyUsageError(
            f"{path} is missing: `git pull` (bundles are committed next to attestations/registry.json)"
        )
    return path.read_text(encoding="utf-8")


def _peek_commit(bundle_json: str) -> str | None:
    """The predicate's commit, read before verification only to tell the verifier what the
    certificate must say; verification then proves the two agree."""
    try:
        envelope = json.loads(bundle_json)["dsseEnvelope"]
        commit = json.loads(base64.b64decode(envelope["payload"]))["predicate"]["git_commit"]
    except (ValueError, KeyError, TypeError):
        return None
    return commit if isinstance(commit, str) and len(commit) == 40 else None


def verify_signature(bundle_json: str, version: str, policy: SignerPolicy, trust: Trust) -> VerifiedAttestation:
    """Signature, signer policy (commit bound when the policy names a repository) and version."""
    from corpus.attestation import AttestationError, verify_attestation

    commit = _peek_commit(bundle_json) if policy.repository is not None else None
    try:
        attestation = verify_attestation(
            bundle_json,
            issuer=policy.issuer,
            identity=policy.identity,
            repository=policy.repository,
            commit=commit,
            trusted_root=trust.trusted_root,
            trust_config=trust.trust_config,
        )
    except (AttestationError, ValueError) as exc:
        raise CheckFailed(str(exc)) from None
    predicate = attestation.predicate
    if not isinstance(predicate.get("git_commit"), str):
        raise CheckFailed("the predicate names no git commit: this is not a snapshot attestation of corpusctl")
    if policy.repository is not None and predicate["git_commit"] != commit:
        raise CheckFailed(
            "the predicate's commit could not be bound to the certificate's commit: reject this bundle"
        )
    attested_version = (predicate.get("snapshot") or {}).get("version")
    if attested_version != version:
        raise CheckFailed(
            f"the bundle attests snapshot {attested_version!r}, not {version}: it was replaced by another "
            f"snapshot's bundle; restore it with `git checkout {tag_name(version)} -- attestations/` "
            "and reject the copy"
        )
    return attestation


def _describe_signer(attestation: VerifiedAttestation, policy: SignerPolicy) -> str:
    when = attestation.integrated_time.isoformat() if attestation.integrated_time else "an unrecorded time"
    commit = attestation.predicate["git_commit"]
    binding = (
        f"certificate bound to {policy.repository} at commit {commit}"
        if policy.repository is not None
        else "no GitHub repository in the policy, so the certificate's commit is not checked"
    )
    return (
        f"signed by {attestation.signer_identity} (issuer {attestation.signer_issuer}), logged at {when} "
        f"(log index {attestation.log_index}); {binding}"
    )


def _check_manifest_subject(
    paths: RepoPaths, registry: Registry, version: str, attestation: VerifiedAttestation
) -> str:
    from corpus.governance import sha256_file

    manifest = paths.published / MANIFEST_NAME
    actual = sha256_file(manifest) if manifest.is_file() else None
    if actual != attestation.subject_digest:
        raise CheckFailed(workspace_snapshot_hint(registry, actual, version))
    return f"data/published/manifest.json is the attested subject (sha256 {actual})"


def _check_published_files(paths: RepoPaths) -> str:
    try:
        manifest = read_manifest(paths)
    except WorkspaceMismatch as exc:
        raise CheckFailed(str(exc)) from None
    problems = published_file_problems(paths, manifest)
    if problems:
        more = f"; and {len(problems) - _SHOWN_PROBLEMS} more" if len(problems) > _SHOWN_PROBLEMS else ""
        raise CheckFailed(
            "data/published/ differs from the signed manifest: "
            + "; ".join(problems[:_SHOWN_PROBLEMS])
            + more
            + ". Restore the snapshot with `dvc checkout data/published` (or `dvc pull`), and do not "
            "use the altered files"
        )
    return f"{len(manifest.files)} files under data/published/ match the manifest (bytes, sha256), none extra"


def _check_commit_exists(paths: RepoPaths, commit: str) -> str:
    if resolve_commit(paths.root, commit) != commit:
        raise CheckFailed(
            f"the attested commit {commit} is not in this clone: fetch the full history "
            "(`git fetch --tags --unshallow` or `git fetch --tags`); if it is still absent, the published "
            "history was rewritten"
        )
    return f"attested commit {commit} is in the git history"


def _blob_sha256(paths: RepoPaths, commit: str, path: str) -> str | None:
    result = git(paths.root, "show", f"{commit}:{path}", check=False)
    return hashlib.sha256(result.stdout).hexdigest() if result.returncode == 0 else None


def _check_dvc_lock(paths: RepoPaths, commit: str, predicate: Mapping[str, Any]) -> str:
    expected = predicate.get("dvc_lock_sha256")
    actual = _blob_sha256(paths, commit, "dvc.lock")
    if actual is None or actual != expected:
        found = "has no dvc.lock" if actual is None else f"has dvc.lock sha256 {actual}"
        raise CheckFailed(
            f"commit {commit[:12]} {found}, but the attestation records {expected}: reject this snapshot"
        )
    locks = predicate.get("dvc_locks")
    if locks is None:
        # Attested before the per-batch stages had their own dvc.lock files: the root's is all.
        return f"dvc.lock at {commit[:12]} has the attested sha256 {actual}"
    if not isinstance(locks, Mapping):
        raise CheckFailed("the attestation's dvc_locks is not a mapping of path to sha256: reject this snapshot")
    listed = git(paths.root, "ls-tree", "-r", "-z", "--name-only", commit).stdout.decode().split("\0")
    at_commit = {name for name in listed if is_pipeline_lock(name)}
    problems = [f"{path} is not attested" for path in sorted(at_commit - set(locks))]
    for path, digest in sorted(locks.items()):
        found = _blob_sha256(paths, commit, str(path)) if path in at_commit else None
        if found != digest:
            problems.append(f"{path} {'is missing' if found is None else f'has sha256 {found}'}, attested {digest}")
    if problems:
        raise CheckFailed(
            f"dvc.lock files at {commit[:12]} differ from the attestation: "
            + "; ".join(problems[:_SHOWN_PROBLEMS])
            + ": reject this snapshot"
        )
    return f"{len(locks)} dvc.lock files at {commit[:12]} have the attested sha256"


def _check_stage_code(paths: RepoPaths, commit: str, predicate: Mapping[str, Any]) -> str:
    files = (predicate.get("stage_code") or {}).get("files")
    if not isinstance(files, Mapping):
        raise CheckFailed("the attestation records no stage code hashes")
    wrong = [path for path, digest in sorted(files.items()) if _blob_sha256(paths, commit, path) != digest]
    if wrong:
        raise CheckFailed(
            f"stage code at {commit[:12]} differs from the attested sha256 for "
            f"{', '.join(wrong[:_SHOWN_PROBLEMS])}: reject this snapshot"
        )
    return f"{len(files)} stage code files at {commit[:12]} have the attested sha256"


def _check_raw_batches(paths: RepoPaths, predicate: Mapping[str, Any]) -> str:
    from corpus.governance import sha256_file

    batches = predicate.get("raw_batches")
    if not isinstance(batches, list):
        raise CheckFailed("the attestation records no raw batches")
    problems = []
    for batch in batches:
        try:
            path = resolve_inside(paths.root, str(batch["file"]))
        except (KeyError, TypeError, ValueError):
            problems.append(f"{batch!r}: malformed raw batch record")
            continue
        if not path.is_file():
            problems.append(f"{batch['id']}: {batch['file']} is missing (run `dvc pull`)")
        elif (digest := sha256_file(path)) != batch.get("sha256"):
            problems.append(
                f"{batch['id']}: {batch['file']} has sha256 {digest}, the attestation records "
                f"{batch.get('sha256')}"
            )
    if problems:
        raise CheckFailed(
            "raw batches differ from the signed ones: "
            + "; ".join(problems[:_SHOWN_PROBLEMS])
            + ". A raw file changed under an unchanged dvc.lock is a swapped batch: restore it with "
            "`dvc checkout` (or `dvc pull`) and investigate who replaced it"
        )
    return f"{len(batches)} raw batches in the workspace have the attested sha256"


def _check_tag(paths: RepoPaths, version: str, commit: str) -> str:
    tag = tag_name(version)
    tagged = resolve_commit(paths.root, f"refs/tags/{tag}")
    if tagged is None:
        # Not yet created (verifying before tagging) or not fetched: nothing to contradict.
        raise _Skipped(f"tag {tag} is not in this clone (not created yet, or run `git fetch --tags`)")
    is_ancestor = git(paths.root, "merge-base", "--is-ancestor", commit, tagged, check=False).returncode == 0
    changed = git(paths.root, "diff", "--name-only", commit, tagged).stdout.decode().split()
    outside = [p for p in changed if not p.startswith("attestations/")]
    if not is_ancestor or outside:
        why = (
            "does not descend from it"
            if not is_ancestor
            else f"changes {', '.join(outside[:_SHOWN_PROBLEMS])}"
        )
        raise CheckFailed(
            f"tag {tag} points to {tagged[:12]}, which {why}; the tag must sit on the attested commit "
            f"{commit[:12]} plus attestations/ only. Someone moved the tag: re-create it from the registry"
        )
    return f"tag {tag} points to {tagged[:12]}: the attested commit plus attestations/ only"


def _check_registry_entry(entry: RegistryEntry, attestation: VerifiedAttestation) -> str:
    predicate = attestation.predicate
    mismatches = []
    if entry.manifest_sha256 != attestation.subject_digest:
        mismatches.append(f"manifest_sha256 {entry.manifest_sha256} (signed: {attestation.subject_digest})")
    if entry.commit != predicate["git_commit"]:
        mismatches.append(f"commit {entry.commit} (signed: {predicate['git_commit']})")
    signed_parent = _signed_parent(predicate)
    if entry.parent != signed_parent:
        mismatches.append(f"parent {_describe_ref(entry.parent)} (signed: {_describe_ref(signed_parent)})")
    if entry.tag != tag_name(entry.version):
        mismatches.append(f"tag {entry.tag!r} (convention: {tag_name(entry.version)})")
    if mismatches:
        raise CheckFailed(
            f"registry entry {entry.version} disagrees with its signed attestation: {'; '.join(mismatches)}; "
            "the registry was edited: restore attestations/registry.json from git history"
        )
    return f"registry entry {entry.version} agrees with its attestation"


def _describe_ref(ref: SnapshotRef | None) -> str:
    return "none" if ref is None else f"{ref.version} (manifest sha256 {ref.manifest_sha256})"


def _signed_parent(predicate: Mapping[str, Any]) -> SnapshotRef | None:
    try:
        return parse_ref((predicate.get("snapshot") or {}).get("parent"), "the signed predicate")
    except SnapshotError as exc:
        raise CheckFailed(str(exc)) from None


def _check_chain(
    paths: RepoPaths,
    registry: Registry,
    entry: RegistryEntry,
    attestation: VerifiedAttestation,
    policy: SignerPolicy,
    trust: Trust,
) -> str:
    """Walk from `entry` to the first snapshot: each signed parent is the previous registry entry."""
    position = registry.index(entry.version)
    current, predicate = entry, attestation.predicate
    while True:
        signed_parent = _signed_parent(predicate)
        previous = registry.entries[position - 1] if position > 0 else None
        if signed_parent is None and previous is None:
            break
        if signed_parent is None or previous is None or signed_parent != previous.ref:
            raise CheckFailed(
                f"snapshot {current.version}'s signed predicate names parent "
                f"{_describe_ref(signed_parent)}, but the registry has "
                f"{_describe_ref(previous.ref if previous else None)} before it: an entry was removed or "
                "altered; restore attestations/registry.json from git history"
            )
        try:
            parent_attestation = verify_signature(
                _read_bundle(paths, previous), previous.version, policy, trust
            )
        except (CheckFailed, VerifyUsageError) as exc:
            raise CheckFailed(f"parent snapshot {previous.version}'s bundle does not verify: {exc}") from None
        _check_registry_entry(previous, parent_attestation)
        current, predicate, position = previous, parent_attestation.predicate, position - 1
    chain = " -> ".join(e.version for e in registry.entries[: registry.index(entry.version) + 1])
    return f"chain {chain}: each signed parent is the previous registry entry, and every bundle verifies"
