"""params.yaml is written by people: a wrong value stops the stage with the key, the value's problem
and no traceback, before any data is read; batch ids never become paths outside their folders."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from corpus.errors import CorpusError
from corpus.paths import RepoPaths, check_batch_id
from corpus.settings import (
    BalanceSettings,
    ClassifySettings,
    DedupSettings,
    GovernSettings,
    IngestSettings,
    RedactSettings,
    SplitSettings,
    TrainIntentSettings,
    stage_settings,
)
from corpus.stage import load_params
from tests.conftest import REPO_ROOT

SHIPPED = yaml.safe_load((REPO_ROOT / "params.yaml").read_text(encoding="utf-8"))
MODELS = [
    IngestSettings, GovernSettings, RedactSettings, TrainIntentSettings, ClassifySettings, DedupSettings,
    BalanceSettings, SplitSettings,
]  # fmt: skip
# (stage, dotted key, bad value, what the message says)
BAD = [
    ("ingest", "max_line_bytes", -1, "ingest.max_line_bytes: Input should be greater than or equal to 1"),
    ("ingest", "max_line_bytes", "big", "ingest.max_line_bytes: Input should be a valid integer"),
    ("govern", "as_of", 20261120, 'govern.as_of: Value error, must be a date such as "2026-11-20"'),
    ("govern", "as_of", "yesterday", "govern.as_of: Input should be a valid date"),
    ("govern", "retention_days", -5, "govern.retention_days: Input should be greater than or equal to 1"),
    ("govern", "include_model_generated", "no", "govern.include_model_generated: Input should be a valid boolean"),
    ("redact", "engine", "magic", "redact.engine: Input should be 'patterns' or 'presidio'"),
    ("redact", "default_phone_region", "ZZ", "redact.default_phone_region: Value error, 'ZZ' is not a region code"),
    ("redact", "unsafe_action", "explode", "redact.unsafe_action: Input should be 'drop', 'quarantine' or 'keep'"),
    ("train_intent", "seed", "lucky", "train_intent.seed: Input should be a valid integer"),
    ("classify", "abstain_below", 1.5, "classify.abstain_below: Input should be less than or equal to 1"),
    ("classify", "keep_style", "yes please", "classify.keep_style: Input should be a valid boolean"),
    ("dedup", "near_duplicate_jaccard", 0, "dedup.near_duplicate_jaccard: Input should be greater than 0"),
    ("dedup", "lsh_threshold", 0.9, "lsh_threshold 0.9 must not exceed near_duplicate_jaccard 0.7"),
    ("dedup", "num_perm", 0, "dedup.num_perm: Input should be greater than or equal to 1"),
    ("dedup", "representative_order", "recent", "dedup.representative_order: Input should be a valid list"),
    ("dedup", "conflict_action", "shrug", "dedup.conflict_action: Input should be 'drop', 'keep_latest' or 'review'"),
    ("balance", "max_annotator_share", 0, "balance.max_annotator_share: Input should be greater than 0"),
    ("balance", "max_annotator_share", 2, "balance.max_annotator_share: Input should be less than or equal to 1"),
    ("balance", "domain_caps", {"billing": -1}, "balance.domain_caps.billing: Input should be greater than or equal to 0"),
    ("split", "validation_fraction", 1, "split.validation_fraction: Input should be less than 1"),
    ("split", "validation_fraction", "tenth", "split.validation_fraction: Input should be a valid number"),
]  # fmt: skip
STAGE_SCRIPT_ARGS = {"ingest": ["b1"], "govern": ["b1"], "redact": ["b1"], "classify": ["b1"]}


def with_value(stage: str, key: str, value: Any) -> dict[str, Any]:
    params = copy.deepcopy(SHIPPED)
    params[stage][key] = value
    return params


def model_of(stage: str) -> Any:
    return next(model for model in MODELS if model.section == stage)


def test_the_shipped_params_are_valid() -> None:
    for model in MODELS:
        stage_settings(SHIPPED, model)


@pytest.mark.parametrize(("stage", "key", "value", "message"), BAD, ids=[f"{s}.{k}={v!r}" for s, k, v, _ in BAD])
def test_a_wrong_value_is_named_with_its_rule(stage: str, key: str, value: Any, message: str) -> None:
    with pytest.raises(CorpusError, match="^params.yaml: ") as raised:
        stage_settings(with_value(stage, key, value), model_of(stage))
    assert message in str(raised.value)


def test_a_misspelt_or_missing_key_is_named() -> None:
    params = copy.deepcopy(SHIPPED)
    params["balance"]["max_annotator_shar"] = params["balance"].pop("max_annotator_share")
    with pytest.raises(CorpusError) as raised:
        stage_settings(params, BalanceSettings)
    assert "balance.max_annotator_share: Field required" in str(raised.value)
    assert "balance.max_annotator_shar: Extra inputs are not permitted" in str(raised.value)
    del params["balance"]
    with pytest.raises(CorpusError, match="missing section `balance:`"):
        stage_settings(params, BalanceSettings)


@pytest.mark.parametrize(("stage", "key", "value", "message"), [BAD[0], BAD[2], BAD[7], BAD[11], BAD[17], BAD[20]])
def test_a_stage_stops_on_a_wrong_value_with_one_readable_line(
    tmp_path: Path, stage: str, key: str, value: Any, message: str
) -> None:
    """As DVC runs the stage, in a clone holding nothing but the params: they are read first."""
    (tmp_path / "dvc.yaml").write_text("stages: {}\n", encoding="utf-8")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(with_value(stage, key, value)), encoding="utf-8")
    script = REPO_ROOT / "scripts" / f"{stage}.py"
    result = subprocess.run(
        [sys.executable, str(script), *STAGE_SCRIPT_ARGS.get(stage, [])],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PATH": "", "CORPUS_REPO": str(tmp_path), "PYTHONPATH": str(REPO_ROOT)},
    )
    assert result.returncode == CorpusError.exit_code
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: params.yaml: ") and message in result.stderr


@pytest.mark.parametrize("batch_id", ["../../etc/passwd", "a/b", ".hidden", "", "x\n", "a" * 129, 7])
def test_a_batch_id_is_one_safe_path_component(tmp_path: Path, batch_id: Any) -> None:
    with pytest.raises(CorpusError, match="is not a batch id"):
        check_batch_id(batch_id)
    paths = RepoPaths(tmp_path)
    for path_of in (paths.raw_batch, paths.manifest):
        with pytest.raises(CorpusError, match="is not a batch id"):
            path_of(batch_id)


def test_the_batch_list_is_checked_when_params_load(tmp_path: Path) -> None:
    paths = RepoPaths(tmp_path)
    for batches, message in [
        (["ok-1", "../../etc/passwd"], "params.yaml: batches: '../../etc/passwd' is not a batch id"),
        (["ok-1", "ok-2", "ok-1"], "params.yaml: batches lists ok-1 more than once"),
        ("ok-1", "params.yaml: batches must be a list of batch ids"),
    ]:
        paths.params.write_text(yaml.safe_dump({**SHIPPED, "batches": batches}), encoding="utf-8")
        with pytest.raises(CorpusError) as raised:
            load_params(paths)
        assert str(raised.value).startswith(message)
    assert check_batch_id("vendor-acme-2026-11-24.v2_final") == "vendor-acme-2026-11-24.v2_final"


def test_a_per_batch_stage_refuses_a_batch_argument_that_is_a_path(tmp_path: Path) -> None:
    (tmp_path / "dvc.yaml").write_text("stages: {}\n", encoding="utf-8")
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(SHIPPED), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "ingest.py"), "../../outside"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={"PATH": "", "CORPUS_REPO": str(tmp_path), "PYTHONPATH": str(REPO_ROOT)},
    )
    assert result.returncode == CorpusError.exit_code
    assert result.stderr.startswith("error: batch argument: '../../outside' is not a batch id")
    assert not (tmp_path / "data").exists()
