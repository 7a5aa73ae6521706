"""Govern: consent, surface purpose, retention, revocations and model-generated corrections."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
import yaml

from tests.conftest import REPO_ROOT
from tests.minirepo import good_record, write_batch, write_governance


def _run(root: Path, stage: str, batch_id: str) -> None:
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / f"{stage}.py"), batch_id], cwd=root, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_each_rule_drops_with_its_reason_and_first_rule_wins(tmp_path: Path) -> None:
    paths = write_governance(tmp_path)
    paths.governance_file("revocations").write_text(
        yaml.safe_dump(
            {
                "revocations": [
                    {"annotator_id": "a-bad", "reason": "planted trigger", "revoked_at": "2026-11-10T00:00:00Z", "by": "bob@example.com"}
                ]
            }
        )
    )
    records = [
        good_record(1),
        good_record(2, training_consent=False),
        good_record(3, annotator_role="model"),  # a model's correction, whatever content_origin says
        good_record(4, collected_at="2025-01-03T08:00:00Z"),
        good_record(5, annotator_id="a-bad"),
        good_record(6, content_origin="model_generated"),
        good_record(7, training_consent=False, annotator_id="a-bad"),  # consent is checked first
        good_record(8, guideline_version="g-2026.11"),
    ]
    write_batch(paths, "b1", records)
    _run(tmp_path, "ingest", "b1")
    _run(tmp_path, "govern", "b1")
    out = paths.stage_dir("govern")
    kept = pl.read_parquet(out / "b1.parquet")
    fate = pl.read_parquet(out / "b1.fate.parquet").sort("line_no")
    assert kept["feedback_id"].to_list() == ["fb-00001", "fb-00008"]
    assert kept["effective_guideline_version"].to_list() == ["g-2026.10", "g-2026.11"]
    assert fate.select("line_no", "reason").rows() == [
        (2, "no_training_consent"),
        (3, "model_generated_correction"),
        (4, "retention_expired"),
        (5, "revoked_annotator"),
        (6, "model_generated_correction"),
        (7, "no_training_consent"),
    ]
    assert fate.filter(pl.col("line_no") == 5)["detail"].item() == "planted trigger"
    assert set(fate["outcome"]) == {"dropped"}


def test_a_batch_from_a_surface_not_for_training_contributes_nothing(tmp_path: Path) -> None:
    """Its rows must claim its surface (ingest), and that surface is forbidden (govern)."""
    paths = write_governance(tmp_path)
    write_batch(paths, "debug-1", [good_record(1, source="staging_debug")], source="staging_debug")
    _run(tmp_path, "ingest", "debug-1")
    _run(tmp_path, "govern", "debug-1")
    fate = pl.read_parquet(paths.stage_dir("govern") / "debug-1.fate.parquet")
    assert fate.select("line_no", "reason").rows() == [(1, "surface_not_for_training")]


def test_model_generated_corrections_can_be_included_by_param(tmp_path: Path) -> None:
    paths = write_governance(tmp_path)
    params = yaml.safe_load(paths.params.read_text())
    params["govern"]["include_model_generated"] = True
    paths.params.write_text(yaml.safe_dump(params))
    write_batch(paths, "b1", [good_record(1, content_origin="model_generated")])
    _run(tmp_path, "ingest", "b1")
    _run(tmp_path, "govern", "b1")
    kept = pl.read_parquet(paths.stage_dir("govern") / "b1.parquet")
    assert kept["content_origin"].to_list() == ["model_generated"]


def test_bad_input_names_column_and_check_and_leaves_no_output(tmp_path: Path) -> None:
    paths = write_governance(tmp_path)
    write_batch(paths, "b1", [good_record(1)])
    _run(tmp_path, "ingest", "b1")
    path = paths.stage_dir("ingest") / "b1.parquet"
    pl.read_parquet(path).with_columns(pl.lit("sideways").alias("rating")).write_parquet(path)
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "govern.py"), "b1"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert "'rating'" in result.stderr and "isin" in result.stderr and "sideways" in result.stderr
    assert not (paths.stage_dir("govern") / "b1.parquet").exists()
