"""Ingest: every manifest rule, every row rule, and the stage's accounting of each raw line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from corpus.governance import Maintainers, check_manifest
from corpus.ingest import apply_row_rules, parse_batch
from corpus.paths import RepoPaths
from tests.conftest import REPO_ROOT
from tests.minirepo import MAINTAINERS, good_record, write_batch, write_governance


@pytest.fixture()
def repo(tmp_path: Path) -> RepoPaths:
    return write_governance(tmp_path)


def verdict(paths: RepoPaths, batch_id: str = "b1"):
    return check_manifest(batch_id, paths, Maintainers(maintainers=MAINTAINERS))


# ---- manifest rules (DESIGN.md 3.2) -------------------------------------------------------------


def test_approved_manifest_is_accepted(repo: RepoPaths) -> None:
    write_batch(repo, "b1", [good_record(1)])
    result = verdict(repo)
    assert result.accepted and result.reason is None


@pytest.mark.parametrize(
    ("overrides", "reason", "message"),
    [
        ({"approver": "alice@example.com"}, "self_approved", "approved their own batch"),
        ({"approver": "mallory@example.com"}, "approver_not_maintainer", "not in data/governance/maintainers.yaml"),
        ({"sha256": "0" * 64}, "sha256_mismatch", "raw file bytes changed since approval"),
        ({"file": "../../etc/passwd"}, "manifest_path_outside_data", "escapes data/"),
        ({"file": "/etc/passwd"}, "manifest_path_outside_data", "must be relative"),
        ({"file": "raw/feedback/other.jsonl"}, "manifest_file_mismatch", "not this batch's tracked file"),
        ({"batch_id": "b2"}, "manifest_batch_id_mismatch", "!= file name"),
        ({"sha256": "not-hex"}, "manifest_malformed", "sha256"),
        ({"justification": ""}, "manifest_malformed", "justification"),
        ({"surprise": "key"}, "manifest_malformed", "surprise: Extra inputs are not permitted"),
        ({"approver": ..., "approved_at": ...}, "not_approved", "corpusctl batch approve"),
    ],
)
def test_manifest_rules(repo: RepoPaths, overrides: dict, reason: str, message: str) -> None:
    write_batch(repo, "b1", [good_record(1)], **overrides)
    result = verdict(repo)
    assert not result.accepted
    assert result.reason == reason
    assert message in result.detail
    assert "b1.yaml" in result.detail


def test_missing_and_unparseable_manifests(repo: RepoPaths) -> None:
    write_batch(repo, "b1", [good_record(1)])
    repo.manifest("b1").write_text("batch_id: [unclosed\n", encoding="utf-8")
    assert verdict(repo).reason == "manifest_malformed"
    assert "not valid YAML" in verdict(repo).detail
    repo.manifest("b1").unlink()
    assert verdict(repo).reason == "manifest_missing"


def test_manifest_yaml_cannot_run_code(repo: RepoPaths) -> None:
    write_batch(repo, "b1", [good_record(1)])
    repo.manifest("b1").write_text("batch_id: !!python/object/apply:os.system ['echo pwned']\n", encoding="utf-8")
    result = verdict(repo)
    assert result.reason == "manifest_malformed" and "not valid YAML" in result.detail


# ---- line parsing ------------------------------------------------------------------------------


def _lines(*records: bytes | dict) -> bytes:
    return b"".join((r if isinstance(r, bytes) else json.dumps(r).encode()) + b"\n" for r in records)


def test_clean_batch_takes_the_fast_path_and_keeps_types() -> None:
    parsed = parse_batch(_lines(good_record(1), good_record(2, client_version="9.1")), max_line_bytes=10_000)
    assert parsed.rejected.height == 0
    assert parsed.rows["line_no"].to_list() == [1, 2]
    assert parsed.rows.schema["prompt"] == pl.List(pl.Struct({"role": pl.String, "content": pl.String}))
    assert parsed.rows["training_consent"].to_list() == [True, True]


def test_bad_lines_are_found_with_their_line_numbers() -> None:
    data = _lines(
        good_record(1),
        b'{"feedback_id": "fb-x", "rating": "up",',  # truncated object
        b"\xff\xfe not utf8",
        b"   ",
        b"[1, 2, 3]",
        good_record(6, training_consent="yes"),
        good_record(7, prompt="just a string"),
        good_record(8),
    )
    parsed = parse_batch(data, max_line_bytes=10_000)
    rules = dict(zip(parsed.rejected["line_no"].to_list(), parsed.rejected["rule"].to_list()))
    assert rules == {
        2: "malformed_json",
        3: "invalid_utf8",
        4: "empty_line",
        5: "not_a_json_object",
        6: "wrong_type",
        7: "wrong_type",
    }
    assert parsed.rows["line_no"].to_list() == [1, 8]
    details = dict(zip(parsed.rejected["line_no"].to_list(), parsed.rejected["detail"].to_list()))
    assert "training_consent must be true or false" in details[6]


def test_overlong_line_is_quarantined_unread() -> None:
    parsed = parse_batch(_lines(good_record(1, comment="x" * 500)), max_line_bytes=100)
    assert parsed.rejected["rule"].to_list() == ["line_too_long"]


# ---- row rules (schemas.raw.RawFeedback) ---------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "rule"),
    [
        ({"feedback_id": None}, "feedback_id:required"),
        ({"collected_at": "2026-11-02T10:15:00"}, "collected_at:str_matches"),
        ({"collected_at": "2026-13-45T10:15:00Z"}, "collected_at:rfc3339_calendar_instant"),
        ({"annotator_role": "intern"}, "annotator_role:isin"),
        ({"rating": "meh"}, "rating:isin"),
        ({"reason_code": "because"}, "reason_code:isin"),
        ({"content_origin": "robot"}, "content_origin:isin"),
        ({"training_consent": None}, "training_consent:required"),
        ({"domain": ""}, "domain:str_length"),
        ({"response": None}, "response:required"),
        ({"prompt": []}, "prompt:prompt_not_empty"),
        ({"prompt": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}, "prompt:last_message_is_user"),
        ({"prompt": [{"role": "wizard", "content": "hi"}]}, "prompt:message_role_valid"),
        ({"prompt": [{"role": "user", "content": None}]}, "prompt:message_content_is_text"),
        ({"source": "unknown_surface"}, "source:registered_surface"),
        ({"source": "staging_debug"}, "source:batch_source"),
        ({"annotator_id": "jane.doe@vendor.example"}, "annotator_id:pseudonymous"),
        ({"annotator_id": "acme/Jane.Doe@vendor.co.uk"}, "annotator_id:pseudonymous"),
        ({"annotator_id": "+44 20 7946 0958"}, "annotator_id:pseudonymous"),
    ],
)
def test_row_rules(overrides: dict, rule: str) -> None:
    parsed = parse_batch(_lines(good_record(1), good_record(2, **overrides)), max_line_bytes=10_000)
    good, bad = apply_row_rules(parsed.rows, registered_sources=["prod_chat", "staging_debug"], batch_source="prod_chat")
    assert good["line_no"].to_list() == [1]
    assert bad["line_no"].to_list() == [2]
    assert rule in bad["rule"][0].split("; ")


def test_a_pseudonymous_annotator_id_passes_and_an_identifying_one_is_not_echoed() -> None:
    ids = ["a-17", "vend-acme-3", "u-5c81e07a", "ops@team", "1000234", "jane.doe@vendor.example"]
    parsed = parse_batch(_lines(*(good_record(i, annotator_id=a) for i, a in enumerate(ids, 1))), max_line_bytes=10_000)
    good, bad = apply_row_rules(parsed.rows, registered_sources=["prod_chat"], batch_source="prod_chat")
    assert good["annotator_id"].to_list() == ids[:-1]
    assert bad["rule"].to_list() == ["annotator_id:pseudonymous"]
    # The fate ledger is published: it names the rule, never the address.
    assert "jane.doe" not in bad["detail"][0] and bad["detail"][0].startswith("annotator_id failed pseudonymous")


def test_duplicate_feedback_id_in_batch_keeps_the_first() -> None:
    parsed = parse_batch(_lines(good_record(1), good_record(1)), max_line_bytes=10_000)
    good, bad = apply_row_rules(parsed.rows, registered_sources=["prod_chat"], batch_source="prod_chat")
    assert good["line_no"].to_list() == [1]
    assert bad["rule"].to_list() == ["feedback_id:unique"]


# ---- the stage script ----------------------------------------------------------------------------


def run_ingest(paths: RepoPaths, batch_id: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "ingest.py"), batch_id],
        cwd=paths.root,
        capture_output=True,
        text=True,
    )


def test_stage_accounts_for_every_line(repo: RepoPaths) -> None:
    write_batch(repo, "b1", [good_record(1), b"{oops", good_record(3, rating="meh"), good_record(4)])
    result = run_ingest(repo, "b1")
    assert result.returncode == 0, result.stderr
    out = repo.stage_dir("ingest")
    ingested = pl.read_parquet(out / "b1.parquet")
    quarantine = pl.read_parquet(out / "b1.quarantine.parquet")
    fate = pl.read_parquet(out / "b1.fate.parquet")
    metrics = json.loads((out / "b1.metrics.json").read_text())
    assert ingested["line_no"].to_list() == [1, 4]
    assert quarantine.select("line_no", "rule").rows() == [(2, "malformed_json"), (3, "rating:isin")]
    assert quarantine["feedback_id"].to_list() == [None, "fb-00003"]
    assert fate["outcome"].unique().to_list() == ["quarantined"]
    assert metrics["rows_in"] == 4 and metrics["rows_out"] == 2 and metrics["quarantined"] == 2
    assert ingested["batch_guideline_version"].unique().to_list() == ["g-2026.10"]


def test_rejected_batch_contributes_nothing_and_accounts_for_each_line(repo: RepoPaths) -> None:
    write_batch(repo, "b1", [good_record(1), good_record(2), b"{oops"], approver="alice@example.com")
    result = run_ingest(repo, "b1")
    assert result.returncode == 0, result.stderr
    out = repo.stage_dir("ingest")
    assert pl.read_parquet(out / "b1.parquet").height == 0
    quarantine = pl.read_parquet(out / "b1.quarantine.parquet")
    assert quarantine["line_no"].to_list() == [1, 2, 3]
    assert set(quarantine["rule"]) == {"manifest:self_approved"}
    assert quarantine["feedback_id"].to_list() == ["fb-00001", "fb-00002", None]


def test_broken_governance_file_stops_with_a_message_not_a_traceback(repo: RepoPaths) -> None:
    write_batch(repo, "b1", [good_record(1)])
    repo.governance_file("surfaces").write_text("surfaces:\n  prod_chat: {purpose: x, training_use: maybe}\n")
    result = run_ingest(repo, "b1")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "surfaces.yaml" in result.stderr and "training_use" in result.stderr
    assert not (repo.stage_dir("ingest") / "b1.parquet").exists()
