"""Where things live in a clone of the template. One home for every path convention."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TypeGuard

from corpus.errors import CorpusError

# A batch id names files (data/raw/feedback/<id>.jsonl, data/interim/<stage>/<id>.parquet, ...): a
# single safe path component, never "..", a slash or a leading dot.
BATCH_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}"
_BATCH_ID = re.compile(BATCH_ID_PATTERN)


def is_batch_id(batch_id: object) -> TypeGuard[str]:
    return isinstance(batch_id, str) and _BATCH_ID.fullmatch(batch_id) is not None


def check_batch_id(batch_id: object, *, where: str = "") -> str:
    """`batch_id` if it is one; else a CorpusError naming `where` it came from."""
    if not is_batch_id(batch_id):
        raise CorpusError(
            f"{where + ': ' if where else ''}{batch_id!r} is not a batch id: use 1 to 128 letters, digits, "
            "'.', '_' or '-', starting with a letter or digit"
        )
    return batch_id


def repo_root(start: Path | None = None) -> Path:
    """The clone's root: `CORPUS_REPO` if set, else the nearest ancestor holding dvc.yaml."""
    if env := os.environ.get("CORPUS_REPO"):
        return Path(env).resolve()
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / "dvc.yaml").is_file() and (candidate / "params.yaml").is_file():
            return candidate
    raise FileNotFoundError(
        f"no dvc.yaml with params.yaml found at or above {here}; run this inside a clone of the template"
    )


# The per-batch stages' dvc.yaml files: pipelines/<stage>/dvc.yaml, each with its own dvc.lock.
PIPELINES_DIR = "pipelines"


class RepoPaths:
    """Every file and folder of the template, relative to one root."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.params = root / "params.yaml"
        self.dvc_lock = root / "dvc.lock"
        self.raw_feedback = self.data / "raw" / "feedback"
        self.probes = self.data / "raw" / "eval" / "probes.jsonl"
        self.seed = self.data / "raw" / "seed"
        self.batches = self.data / "batches"
        self.governance = self.data / "governance"
        self.interim = self.data / "interim"
        self.published = self.data / "published"
        # The previous signed snapshot's stats.json: written by `corpusctl baseline`, read by the drift gate.
        self.baseline_stats = self.data / "baseline" / "stats.json"
        self.attestations = root / "attestations"

    @property
    def pipeline_files(self) -> list[Path]:
        """Every dvc.yaml of the pipeline: the root's (union stages) first, then each per-batch
        stage's pipelines/<stage>/dvc.yaml (its own file so that it has its own dvc.lock)."""
        return [self.root / "dvc.yaml", *sorted(self.root.glob(f"{PIPELINES_DIR}/*/dvc.yaml"))]

    @property
    def dvc_locks(self) -> list[Path]:
        """The dvc.lock beside each of `pipeline_files` (those that exist: a lock appears at the
        first `dvc repro`)."""
        locks = (f.with_name("dvc.lock") for f in self.pipeline_files)
        return [lock for lock in locks if lock.is_file()]

    def manifest(self, batch_id: str) -> Path:
        return self.batches / f"{check_batch_id(batch_id)}.yaml"

    def raw_batch(self, batch_id: str) -> Path:
        return self.raw_feedback / f"{check_batch_id(batch_id)}.jsonl"

    def stage_dir(self, stage: str) -> Path:
        return self.interim / stage

    def governance_file(self, name: str) -> Path:
        return self.governance / f"{name}.yaml"


def is_pipeline_lock(name: str) -> bool:
    """Whether a repository path ('/' separated) is one of `RepoPaths.dvc_locks`: the root's
    dvc.lock or a pipelines/<stage>/dvc.lock."""
    parts = name.split("/")
    return parts == ["dvc.lock"] or (len(parts) == 3 and parts[0] == PIPELINES_DIR and parts[2] == "dvc.lock")


def resolve_inside(base: Path, relative: str) -> Path:
    """Resolve `relative` under `base`, refusing anything that escapes it.

    Manifests are written by people outside the project; a path such as
    `../../etc/passwd` or an absolute path must never be followed.
    """
    if not relative or os.path.isabs(relative) or "\\" in relative:
        raise ValueError(f"path {relative!r} must be relative to {base.name}/ and use '/' separators")
    resolved = (base / relative).resolve()
    base_resolved = base.resolve()
    if resolved != base_resolved and base_resolved not in resolved.parents:
        raise ValueError(f"path {relative!r} escapes {base.name}/")
    return resolved
