"""Reviewed, git-tracked lists the audit writes to: revocations and the training-run ledger.

Both are edited as a change someone reviews (`git diff`, then commit), never committed here. An
entry is appended to the end of the file so that the diff shows exactly one new entry and the
file's comments survive; only when the list cannot be extended that way (empty `[]`, flow style)
is the document re-written with `yaml.safe_dump` under its leading comment block. Either way the
result is validated against its model before anything is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from textwrap import indent
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from corpus.audit.errors import AuditUsageError
from corpus.errors import GovernanceFileError, describe_invalid
from corpus.governance import NonEmpty, Revocation, Revocations, Sha256Hex, load_document
from corpus.paths import RepoPaths, is_batch_id
from corpus.snapshots import Registry, write_atomic

TRAINING_RUNS = "training_runs"


class TrainingRun(BaseModel):
    """One model version and the snapshot it was trained on."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model_version: NonEmpty
    snapshot: NonEmpty
    # Pins the exact snapshot bytes: a registry entry edited later cannot silently re-point a model.
    snapshot_manifest_sha256: Sha256Hex
    recorded_by: NonEmpty
    recorded_at: datetime
    notes: str | None = None


class TrainingRuns(BaseModel):
    """data/governance/training_runs.yaml: `runs: [...]`, one entry per model version."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    runs: list[TrainingRun] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_entry_per_model(self) -> TrainingRuns:
        seen: set[str] = set()
        for run in self.runs:
            if run.model_version in seen:
                raise ValueError(f"model version {run.model_version} is recorded twice")
            seen.add(run.model_version)
        return self

    def get(self, model_version: str) -> TrainingRun | None:
        return next((r for r in self.runs if r.model_version == model_version), None)


def now_utc() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _leading_comments(text: str) -> str:
    lines = []
    for line in text.splitlines(keepends=True):
        if line.strip() and not line.lstrip().startswith("#"):
            break
        lines.append(line)
    return "".join(lines)


def append_entry(path: Path, key: str, entry: Mapping[str, Any], model: type[BaseModel]) -> None:
    """Append `entry` to the list `key` of the YAML document at `path` (created if absent)."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    try:
        document = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        raise GovernanceFileError(f"{path}: not valid YAML ({exc}); fix it before adding to it") from None
    if not isinstance(document, Mapping):
        raise GovernanceFileError(f"{path}: expected a mapping with `{key}:` at the top level")
    existing = document.get(key) or []
    wanted = {**document, key: [*existing, dict(entry)]}

    item = yaml.safe_dump([dict(entry)], sort_keys=False, allow_unicode=True, width=100)
    # Hand-written files indent list items, yaml.safe_dump does not: try both, keep what parses right.
    candidates = (
        [text.rstrip("\n") + "\n" + indent(item, prefix) for prefix in ("  ", "")] if existing else []
    )
    updated = next((c for c in candidates if _parses_to(c, wanted)), None)
    if updated is None:
        updated = _leading_comments(text) + yaml.safe_dump(
            wanted, sort_keys=False, allow_unicode=True, width=100
        )
    try:
        model.model_validate(yaml.safe_load(updated))
    except ValidationError as exc:
        raise GovernanceFileError(f"{path}: the new entry would make the file invalid: {describe_invalid(exc)}") from None
    write_atomic(path, updated)


def _parses_to(text: str, wanted: Mapping[str, Any]) -> bool:
    try:
        return bool(yaml.safe_load(text) == wanted)
    except yaml.YAMLError:
        return False


# ---- revocations -------------------------------------------------------------------------------


def revoke(
    paths: RepoPaths, *, annotator_id: str | None, batch_id: str | None, reason: str, by: str
) -> Revocation:
    """Append a revocation of one annotator or one batch to data/governance/revocations.yaml."""
    if (annotator_id is None) == (batch_id is None):
        raise AuditUsageError("name exactly one of --annotator or --batch")
    if not reason.strip():
        raise AuditUsageError("--reason must say why (it is recorded and shown in every later audit)")
    if annotator_id is not None and not annotator_id.strip():
        raise AuditUsageError("--annotator must name an annotator_id")
    if batch_id is not None and not is_batch_id(batch_id):
        raise AuditUsageError(f"--batch {batch_id!r} is not a batch id (letters, digits, '.', '_', '-')")
    path = paths.governance_file("revocations")
    current = load_document(path, Revocations) if path.is_file() else Revocations()
    for earlier in current.revocations:
        if (annotator_id is not None and earlier.annotator_id == annotator_id) or (
            batch_id is not None and earlier.batch_id == batch_id
        ):
            what = f"annotator {annotator_id}" if annotator_id else f"batch {batch_id}"
            raise AuditUsageError(
                f"{what} is already revoked (on {earlier.revoked_at.isoformat()} by {earlier.by}: {earlier.reason}); "
                "nothing to do"
            )
    target = {"annotator_id": annotator_id} if annotator_id is not None else {"batch_id": batch_id}
    entry = {**target, "reason": reason.strip(), "revoked_at": now_utc(), "by": by}
    append_entry(path, "revocations", entry, Revocations)
    return Revocation.model_validate(entry)


# ---- training runs -----------------------------------------------------------------------------


def load_training_runs(paths: RepoPaths) -> TrainingRuns:
    path = paths.governance_file(TRAINING_RUNS)
    # A clone that never recorded a run may lack the file: same as `runs: []`.
    return load_document(path, TrainingRuns) if path.is_file() else TrainingRuns()


def record_training_run(
    paths: RepoPaths, model_version: str, *, snapshot: str, by: str, notes: str | None
) -> TrainingRun:
    """Append `model_version` -> signed snapshot `snapshot` to the ledger; refuse unknown or repeated."""
    if not model_version.strip():
        raise AuditUsageError("MODEL_VERSION must not be empty")
    entry = Registry.load(paths).require(
        snapshot
    )  # unknown versions are refused here, listing the known ones
    runs = load_training_runs(paths)
    if (earlier := runs.get(model_version)) is not None:
        raise AuditUsageError(
            f"model version {model_version} is already recorded (snapshot {earlier.snapshot}, by "
            f"{earlier.recorded_by}); a model version names one training run: use a new version"
        )
    record: dict[str, Any] = {
        "model_version": model_version,
        "snapshot": entry.version,
        "snapshot_manifest_sha256": entry.manifest_sha256,
        "recorded_by": by,
        "recorded_at": now_utc(),
    }
    if notes:
        record["notes"] = notes
    append_entry(paths.governance_file(TRAINING_RUNS), "runs", record, TrainingRuns)
    return TrainingRun.model_validate(record)
