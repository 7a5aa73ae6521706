"""Synthetic rows of any stage boundary, for unit tests of one stage."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import polars as pl

from schemas.redacted import PII_TYPES


_LIST_COLUMNS = {"prompt", "dedup_absorbed"}


def curated_rows(model: Any, n: int, **columns: Any) -> pl.DataFrame:
    """`n` valid rows of pandera `model`; a keyword sets a column (a list per row, or one value)."""
    defaults: dict[str, Any] = {
        "feedback_id": [f"fb-{i:06d}" for i in range(n)],
        "collected_at": "2026-11-02T10:15:00Z",
        "source": "prod_chat",
        "annotator_id": [f"a-{i % 10}" for i in range(n)],
        "annotator_role": "end_user",
        "guideline_version": None,
        "domain": "billing",
        "model_version": "m-1",
        "prompt": [[{"role": "user", "content": f"question number {i}"}] for i in range(n)],
        "response": "an answer",
        "rating": "down",
        "correction": "a better answer",
        "reason_code": "factual_error",
        "comment": None,
        "training_consent": True,
        "content_origin": "human",
        "tenant_id": None,
        "session_id": [f"s-{i}" for i in range(n)],
        "batch_id": "b1",
        "line_no": list(range(1, n + 1)),
        "line_sha256": "0" * 64,
        "collected_at_utc": datetime(2026, 11, 2, 8, 15, tzinfo=timezone.utc),
        "batch_guideline_version": "g-1",
        "effective_guideline_version": "g-1",
        "pii_counts": {t: 0 for t in PII_TYPES},
        "pii_residual": False,
        "intent": "defect",
        "defect_subtype": "factual_error",
        "intent_source": "reason_code",
        "intent_confidence": 1.0,
        "example_kind": "defect_fix",
        "target": "a better answer",
        "dedup_cluster_id": [f"c-{i}" for i in range(n)],
        "dedup_cluster_size": 1,
        "dedup_absorbed": [[] for _ in range(n)],
        "balance_decision": "under_annotator_cap",
        "split": "train",
        "split_group": [f"s-{i}" for i in range(n)],
    }
    defaults.update(columns)
    schema = model.to_schema().columns
    data = {}
    for name, column in schema.items():
        value = defaults[name]
        if isinstance(value, list) and len(value) == n and name not in _LIST_COLUMNS or (
            name in _LIST_COLUMNS and isinstance(value, list) and len(value) == n and all(isinstance(v, list) for v in value)
        ):
            values = value
        else:
            values = [value] * n
        data[name] = pl.Series(name, values, dtype=column.dtype.type)
    return pl.DataFrame(data)
