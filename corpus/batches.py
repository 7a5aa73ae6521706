"""Adding and approving raw batches: the manifest (DESIGN.md 3.2), DVC tracking and the batch list.

Approval is a separate, second step by a different person: `batch add` writes a manifest that
binds the file's sha256 but has no approver, so the batch contributes nothing until a maintainer
runs `batch approve` (and the change is reviewed like code).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

import yaml

from corpus.errors import CorpusError
from corpus.governance import BatchManifest, Governance, load_document, sha256_file
from corpus.paths import RepoPaths, check_batch_id

_BATCH_LIST = re.compile(r"^batches:.*?(?=^\S|\Z)", re.MULTILINE | re.DOTALL)


def listed_batches(paths: RepoPaths) -> list[str]:
    params = yaml.safe_load(paths.params.read_text(encoding="utf-8")) or {}
    return list(params.get("batches") or [])


def write_batch_list(paths: RepoPaths, batch_ids: list[str]) -> None:
    """Rewrite only the `batches:` entry of params.yaml, keeping every comment and other knob."""
    text = paths.params.read_text(encoding="utf-8")
    block = "batches:\n" + "".join(f"  - {b}\n" for b in batch_ids) if batch_ids else "batches: []\n"
    if not _BATCH_LIST.search(text):
        raise CorpusError(f"{paths.params}: no top-level `batches:` entry to update")
    updated = _BATCH_LIST.sub(lambda _: block + "\n", text, count=1)
    paths.params.write_text(updated.replace("\n\n\n", "\n\n"), encoding="utf-8")


def _dump_manifest(fields: dict[str, object], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(fields, sort_keys=False, allow_unicode=True), encoding="utf-8")


def add_batch(
    paths: RepoPaths,
    source_file: Path,
    *,
    batch_id: str,
    source: str,
    author: str,
    justification: str,
    guideline_version: str | None,
    run_dvc: bool = True,
) -> Path:
    """Copy a raw export into data/raw/feedback/, DVC-track it, write its unapproved manifest, list it."""
    check_batch_id(batch_id, where="--batch-id")
    if not source_file.is_file():
        raise CorpusError(f"{source_file}: no such file")
    governance = Governance.load(paths)
    if source not in governance.surfaces.surfaces:
        raise CorpusError(
            f"source {source!r} is not registered in data/governance/surfaces.yaml; add it there first"
        )
    target = paths.raw_batch(batch_id)
    manifest_path = paths.manifest(batch_id)
    if manifest_path.exists() or batch_id in listed_batches(paths):
        raise CorpusError(f"batch {batch_id} already exists; choose a new batch id (batches are immutable)")
    target.parent.mkdir(parents=True, exist_ok=True)
    if source_file.resolve() != target.resolve():
        shutil.copyfile(source_file, target)
    _dump_manifest(
        {
            "batch_id": batch_id,
            "file": f"raw/feedback/{batch_id}.jsonl",
            "sha256": sha256_file(target),
            "source": source,
            "author": author,
            "justification": justification,
            "guideline_version": guideline_version,
        },
        manifest_path,
    )
    if run_dvc:
        _dvc("add", str(target.relative_to(paths.root)), cwd=paths.root)
    write_batch_list(paths, [*listed_batches(paths), batch_id])
    return manifest_path


def approve_batch(
    paths: RepoPaths, batch_id: str, *, approver: str, now: datetime | None = None
) -> BatchManifest:
    """Record `approver`'s approval of the exact bytes the manifest names, enforcing the two-person rule."""
    manifest_path = paths.manifest(batch_id)
    if not manifest_path.is_file():
        raise CorpusError(f"{manifest_path}: no manifest; add the batch with `corpusctl batch add` first")
    fields = yaml.safe_load(manifest_path.read_text(encoding="utf-8"))
    if not isinstance(fields, dict):
        raise CorpusError(f"{manifest_path}: not a mapping")
    governance = Governance.load(paths)
    if approver.casefold() == str(fields.get("author", "")).casefold():
        raise CorpusError(f"{approver} is the author of {batch_id}; a different maintainer must approve it")
    if approver.casefold() not in {m.casefold() for m in governance.maintainers.maintainers}:
        raise CorpusError(f"{approver} is not listed in data/governance/maintainers.yaml")
    actual = sha256_file(paths.raw_batch(batch_id))
    if actual != fields.get("sha256"):
        raise CorpusError(
            f"{batch_id}: the raw file changed after the manifest was written; re-add it as a new batch"
        )
    fields["approver"] = approver
    fields["approved_at"] = (
        (now or datetime.now(timezone.utc)).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    )
    _dump_manifest(fields, manifest_path)
    return load_document(manifest_path, BatchManifest)


def _dvc(*args: str, cwd: Path) -> None:
    result = subprocess.run(["dvc", *args], cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise CorpusError(f"dvc {' '.join(args)} failed: {result.stderr.strip() or result.stdout.strip()}")
