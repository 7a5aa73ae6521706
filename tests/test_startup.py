"""Stage processes start fast: loading and checking the data contracts does not load pandas
(schemas/__init__)."""

from __future__ import annotations

import subprocess
import sys

import polars as pl
import pytest


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
