"""Stage processes start fast: loading and checking the data contracts does not load pandas
(schemas/__init__)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
STAGE_SCRIPTS = sorted((REPO_ROOT / "scripts").glob("*.py"))


def test_stage_modules_and_validation_run_without_pandas() -> None:
    probe = (
        "import sys, polars as pl, corpus.stage, schemas.raw, schemas.published\n"
        "from schemas.fate import FateRow\n"
        "row = dict(batch_id='b', line_no=1, feedback_id='f', stage='ingest', outcome='kept', reason='r', detail='d')\n"
        "corpus.stage.check_output(pl.DataFrame([row]), FateRow, where='probe')\n"
        "print('pandas' in sys.modules, 'pandera.polars' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "True"]


@pytest.mark.parametrize("script", STAGE_SCRIPTS, ids=lambda path: path.stem)
def test_no_stage_script_loads_pandas(script: Path) -> None:
    """As DVC runs a stage: its folder first on sys.path, its imports executed. A module that
    imports pandera before `schemas` brings pandas back (publish did, 0.4 s per run)."""
    code = (
        "import importlib.util, sys\n"
        f"sys.path.insert(0, {str(script.parent)!r})\n"
        f"spec = importlib.util.spec_from_file_location('stage', {str(script)!r})\n"
        "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pandas'))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO_ROOT)
    assert result.stdout.strip() == "[]"


def test_contracts_still_reject_bad_frames_without_the_pandas_layer() -> None:
    from corpus.errors import StageOutputError
    from corpus.stage import check_output
    from schemas.fate import FateRow

    bad = pl.DataFrame(
        {
            "batch_id": ["b"], "line_no": [1], "feedback_id": ["f"], "stage": ["ingest"],
            "outcome": ["vanished"], "reason": ["r"], "detail": [None],
        },
        schema_overrides={"detail": pl.String},
    )
    with pytest.raises(StageOutputError, match="outcome"):
        check_output(bad, FateRow, where="probe")
