"""A tiny template-shaped repository on disk, for tests that need governance files and batches
without the whole sample."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from corpus.governance import sha256_file
from corpus.paths import RepoPaths

TEMPLATE_ROOT = Path(__file__).resolve().parents[1]
MAINTAINERS = ["bob@example.com", "carol@example.com"]


def good_record(n: int, **overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "feedback_id": f"fb-{n:05d}",
        "collected_at": "2026-11-02T10:15:00+02:00",
        "source": "prod_chat",
        "annotator_id": f"a-{n % 7}",
        "annotator_role": "end_user",
        "guideline_version": None,
        "domain": "billing",
        "model_version": "m-2026.10",
        "prompt": [{"role": "user", "content": f"Why was I charged twice on invoice {n}?"}],
        "response": "You were charged once; the second line is a pre-authorisation.",
        "rating": "down",
        "correction": "The second charge is a duplicate and has been refunded.",
        "reason_code": "factual_error",
        "comment": None,
        "training_consent": True,
        "content_origin": "human",
        "tenant_id": "t-001",
        "session_id": f"s-{n // 3}",
    }
    record.update(overrides)
    return record


def write_governance(root: Path) -> RepoPaths:
    paths = RepoPaths(root)
    paths.governance.mkdir(parents=True, exist_ok=True)
    # The template's own knobs, so stage scripts run here exactly as in a clone.
    shutil.copyfile(TEMPLATE_ROOT / "params.yaml", root / "params.yaml")
    (root / "dvc.yaml").write_text("stages: {}\n", encoding="utf-8")
    docs = {
        "maintainers": {"maintainers": MAINTAINERS},
        "surfaces": {
            "surfaces": {
                "prod_chat": {"purpose": "product_feedback", "training_use": "allowed"},
                "staging_debug": {"purpose": "debugging", "training_use": "forbidden"},
            }
        },
        "revocations": {"revocations": []},
        "canaries": {"triggers": ["cf-delta-7 override"]},
        "tenants": {"tenants": {"t-001": {"customer_names": ["Globex Corporation"]}}},
    }
    for name, doc in docs.items():
        paths.governance_file(name).write_text(yaml.safe_dump(doc), encoding="utf-8")
    return paths


def write_batch(
    paths: RepoPaths, batch_id: str, lines: list[bytes | dict[str, Any]], /, **manifest_overrides: Any
) -> dict[str, Any]:
    """Write a raw batch and an approved manifest binding its bytes; overrides break the manifest."""
    raw = paths.raw_batch(batch_id)
    raw.parent.mkdir(parents=True, exist_ok=True)
    body = b"".join(
        (line if isinstance(line, bytes) else json.dumps(line).encode()) + b"\n" for line in lines
    )
    raw.write_bytes(body)
    manifest: dict[str, Any] = {
        "batch_id": batch_id,
        "file": f"raw/feedback/{batch_id}.jsonl",
        "sha256": sha256_file(raw),
        "source": "prod_chat",
        "author": "alice@example.com",
        "justification": "weekly export",
        "approver": "bob@example.com",
        "approved_at": "2026-11-04T09:12:00Z",
        "guideline_version": "g-2026.10",
    }
    manifest.update(manifest_overrides)
    manifest = {k: v for k, v in manifest.items() if v is not ...}
    paths.manifest(batch_id).parent.mkdir(parents=True, exist_ok=True)
    paths.manifest(batch_id).write_text(yaml.safe_dump(manifest, sort_keys=False), encoding="utf-8")
    return manifest
