"""Git-tracked governance documents (DESIGN.md 3.2, 3.3): models, loading and the manifest rules.

YAML documents are small and hand-edited, so they are validated with pydantic and parsed with
`yaml.safe_load` only: a manifest is written by people outside the project and must never run code.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from corpus.errors import GovernanceFileError, describe_invalid
from corpus.paths import BATCH_ID_PATTERN, RepoPaths, resolve_inside

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
BatchId = Annotated[str, StringConstraints(pattern=f"^{BATCH_ID_PATTERN}$")]
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class _Document(BaseModel):
    # Unknown keys are refused: in a reviewed document a typo such as `aprover:` must not pass silently.
    model_config = ConfigDict(extra="forbid", frozen=True)


class BatchManifest(_Document):
    batch_id: BatchId
    file: NonEmpty
    sha256: Sha256Hex
    source: NonEmpty
    author: NonEmpty
    justification: NonEmpty
    approver: NonEmpty
    approved_at: datetime
    guideline_version: str | None = None


class Maintainers(_Document):
    maintainers: list[NonEmpty]


class Surface(_Document):
    purpose: NonEmpty
    training_use: Literal["allowed", "forbidden"]


class Surfaces(_Document):
    surfaces: dict[str, Surface]


class Revocation(_Document):
    annotator_id: NonEmpty | None = None
    batch_id: BatchId | None = None
    reason: NonEmpty
    revoked_at: datetime
    by: NonEmpty

    @model_validator(mode="after")
    def _exactly_one_target(self) -> "Revocation":
        if (self.annotator_id is None) == (self.batch_id is None):
            raise ValueError("each revocation names exactly one of annotator_id or batch_id")
        return self


class Revocations(_Document):
    revocations: list[Revocation] = Field(default_factory=list)


class Canaries(_Document):
    triggers: list[NonEmpty] = Field(default_factory=list)


class Tenant(_Document):
    customer_names: list[NonEmpty] = Field(default_factory=list)


class Tenants(_Document):
    """Tenant metadata: the customer names the redact stage must never let through."""

    tenants: dict[str, Tenant] = Field(default_factory=dict)


DocumentT = TypeVar("DocumentT", bound=BaseModel)


def load_document(path: Path, model: type[DocumentT]) -> DocumentT:
    """Parse one YAML document into `model`, or raise GovernanceFileError naming the file and field."""
    if not path.is_file():
        raise GovernanceFileError(f"{path}: file not found")
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise GovernanceFileError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise GovernanceFileError(f"{path}: expected a mapping at the top level")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise GovernanceFileError(f"{path}: {describe_invalid(exc)}") from None


@dataclass(frozen=True)
class Governance:
    maintainers: Maintainers
    surfaces: Surfaces
    revocations: Revocations
    canaries: Canaries
    tenants: Tenants

    @classmethod
    def load(cls, paths: RepoPaths) -> "Governance":
        g = paths.governance_file
        return cls(
            maintainers=load_document(g("maintainers"), Maintainers),
            surfaces=load_document(g("surfaces"), Surfaces),
            revocations=load_document(g("revocations"), Revocations),
            canaries=load_document(g("canaries"), Canaries),
            tenants=load_document(g("tenants"), Tenants),
        )


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _lacks_approval(manifest_path: Path) -> bool:
    try:
        fields = yaml.safe_load(manifest_path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError):
        return False
    return isinstance(fields, dict) and not fields.get("approver") and not fields.get("approved_at")


@dataclass(frozen=True)
class ManifestVerdict:
    """Whether a batch may contribute, and if not the rule it broke (a fate reason) and why."""

    batch_id: str
    accepted: bool
    reason: str | None
    detail: str
    manifest: BatchManifest | None


def check_manifest(
    batch_id: str, paths: RepoPaths, maintainers: Maintainers, *, raw: bytes | None = None
) -> ManifestVerdict:
    """Apply the batch manifest rules of DESIGN.md 3.2 to one batch.

    Approval binds exact bytes: the raw file's sha256 must equal the reviewed manifest's, the approver
    must be a listed maintainer other than the author, and the file must be this batch's tracked file.
    A caller that has read the raw file already passes its bytes as `raw`, so they are not read twice.
    """
    manifest_path = paths.manifest(batch_id)
    # Verdicts end up in the fate ledger and the snapshot: no machine-specific absolute paths.
    shown = manifest_path.relative_to(paths.root).as_posix()

    def reject(reason: str, detail: str, manifest: BatchManifest | None = None) -> ManifestVerdict:
        return ManifestVerdict(batch_id, False, reason, f"{shown}: {detail}", manifest)

    if not manifest_path.is_file():
        return reject("manifest_missing", "no manifest; write one with `corpusctl batch add`")
    try:
        manifest = load_document(manifest_path, BatchManifest)
    except GovernanceFileError as exc:
        if _lacks_approval(manifest_path):
            return reject(
                "not_approved",
                "no approver yet; a maintainer other than the author runs `corpusctl batch approve`",
            )
        return ManifestVerdict(batch_id, False, "manifest_malformed", str(exc).replace(str(manifest_path), shown), None)
    if manifest.batch_id != batch_id:
        return reject(
            "manifest_batch_id_mismatch",
            f"batch_id {manifest.batch_id!r} != file name {batch_id!r}",
            manifest,
        )
    try:
        target = resolve_inside(paths.data, manifest.file)
    except ValueError as exc:
        return reject("manifest_path_outside_data", f"file: {exc}", manifest)
    expected = paths.raw_batch(batch_id).resolve()
    if target != expected:
        return reject(
            "manifest_file_mismatch",
            f"file {manifest.file!r} is not this batch's tracked file raw/feedback/{batch_id}.jsonl",
            manifest,
        )
    if manifest.approver.casefold() == manifest.author.casefold():
        return reject(
            "self_approved",
            f"author {manifest.author} approved their own batch; a different maintainer must approve",
            manifest,
        )
    listed = {m.casefold() for m in maintainers.maintainers}
    if manifest.approver.casefold() not in listed:
        return reject(
            "approver_not_maintainer",
            f"approver {manifest.approver} is not in data/governance/maintainers.yaml",
            manifest,
        )
    if not expected.is_file():
        return reject("raw_file_missing", f"raw file {manifest.file} is absent; run `dvc pull`", manifest)
    actual = sha256_file(expected) if raw is None else hashlib.sha256(raw).hexdigest()
    if actual != manifest.sha256:
        return reject(
            "sha256_mismatch",
            f"raw file bytes changed since approval (sha256 {actual[:12]}... != approved {manifest.sha256[:12]}...); "
            "the batch needs a new review",
            manifest,
        )
    return ManifestVerdict(
        batch_id, True, None, f"{shown}: approved by {manifest.approver}", manifest
    )
