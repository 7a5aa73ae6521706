"""The template as a newcomer gets it: a git clone, the sample fetched from the in-repo DVC remote,
`dvc repro` end to end, and the snapshot and ledger it produces.

These tests share one clone per worker (xdist group "pipeline"); tests that change the clone work
on their own copy of it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
import yaml

from corpus.merkle import merkle_root
from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]

TRUTH = json.loads((REPO_ROOT / "tests" / "fixtures" / "sample_truth.json").read_text(encoding="utf-8"))


def sh(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The README flow in a fresh clone, reusing this test environment instead of a new .venv."""
    root = tmp_path_factory.mktemp("template") / "clone"
    sh("git", "clone", "--quiet", str(REPO_ROOT), str(root), cwd=root.parent)
    dvc_files = sh("git", "ls-files", "*.dvc", cwd=root).stdout.split()
    sh("dvc", "pull", "--quiet", *dvc_files, cwd=root)
    sh("dvc", "repro", cwd=root)
    yield root


def published_digests(root: Path) -> dict[str, str]:
    published = root / "data" / "published"
    return {
        str(p.relative_to(published)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(published.rglob("*"))
        if p.is_file()
    }


def test_quarantine_holds_exactly_the_planted_bad_lines(clone: Path) -> None:
    quarantine = pl.concat(
        pl.read_parquet(p) for p in sorted((clone / "data" / "interim" / "ingest").glob("*.quarantine.parquet"))
    )
    rejected_batches = {f["batch_id"]: f["expected_reason"] for f in TRUTH["manifest_failures"]}
    line_level = quarantine.filter(~pl.col("batch_id").is_in(list(rejected_batches)))
    def rules(text: str) -> tuple[str, ...]:
        return tuple(sorted(text.split("; ")))

    planted = sorted(
        (c["batch_id"], c["line_no"], rules(c["expected_rule"]))
        for c in TRUTH["cases"]["malformed_lines"] + TRUTH["cases"]["schema_failures"]
    )
    found = sorted((batch, line, rules(rule)) for batch, line, rule in line_level.select("batch_id", "line_no", "rule").rows())
    assert found == planted


def test_rejected_batches_contribute_nothing_and_account_for_every_line(clone: Path) -> None:
    ingest = clone / "data" / "interim" / "ingest"
    for failure in TRUTH["manifest_failures"]:
        batch = failure["batch_id"]
        assert pl.read_parquet(ingest / f"{batch}.parquet").height == 0
        quarantine = pl.read_parquet(ingest / f"{batch}.quarantine.parquet")
        assert quarantine["line_no"].to_list() == list(range(1, failure["lines"] + 1))
        assert set(quarantine["rule"]) == {f"manifest:{failure['expected_reason']}"}


def test_every_raw_line_has_exactly_one_final_fate(clone: Path) -> None:
    fate = pl.read_parquet(clone / "data" / "published" / "fate.parquet")
    raw_lines = TRUTH["figures"]["lines"]
    assert fate.height == raw_lines
    assert fate.select("batch_id", "line_no").is_duplicated().sum() == 0
    outcomes = dict(fate.group_by("outcome").len().iter_rows())
    print(f"final fates of {raw_lines} raw lines: {outcomes}")
    assert set(outcomes) <= {"kept", "dropped", "quarantined"} and outcomes.get("kept", 0) > 1000


def test_second_repro_does_nothing_and_status_is_clean(clone: Path) -> None:
    again = sh("dvc", "repro", cwd=clone)
    assert "Running stage" not in again.stdout
    assert "Data and pipelines are up to date" in sh("dvc", "status", cwd=clone).stdout


def test_contract_files_load_and_merkle_root_recomputes(clone: Path) -> None:
    published = clone / "data" / "published"
    manifest = json.loads((published / "manifest.json").read_text())
    ids: list[str] = []
    for name in ("sft/train.jsonl", "sft/validation.jsonl", "preference/train.jsonl", "preference/validation.jsonl"):
        frame = pl.read_ndjson(published / name)
        assert frame.height > 0 and frame["example_id"].is_unique().all()
        ids.extend(frame["example_id"].to_list())
    sft = pl.read_ndjson(published / "sft" / "train.jsonl")
    assert sft["messages"].list.last().struct.field("role").unique().to_list() == ["assistant"]
    preference = pl.read_ndjson(published / "preference" / "train.jsonl")
    assert set(preference.columns) == {"example_id", "prompt", "chosen", "rejected"}
    root = manifest["merkle"]["root"] if "merkle" in manifest else manifest["merkle_root"]
    assert merkle_root(sorted(set(ids))) == root
    lineage = pl.read_parquet(published / "lineage.parquet")
    assert set(ids) <= set(lineage["example_id"])
    for entry in manifest["files"]:
        data = (published / entry["path"]).read_bytes()
        assert len(data) == entry["bytes"] and hashlib.sha256(data).hexdigest() == entry["sha256"]
    datasets = pytest.importorskip("datasets")
    loaded = datasets.load_dataset("json", data_files={"train": str(published / "sft" / "train.jsonl")})
    assert loaded["train"].num_rows == sft.height


def test_no_planted_pii_value_reaches_the_snapshot(clone: Path) -> None:
    published = clone / "data" / "published"
    text = "\n".join(
        (published / name).read_text(encoding="utf-8")
        for name in ("sft/train.jsonl", "sft/validation.jsonl", "preference/train.jsonl", "preference/validation.jsonl")
    )
    leaked = [c for c in TRUTH["cases"]["pii"] if c["value"] in text or json.dumps(c["value"])[1:-1] in text]
    print(f"planted PII values: {len(TRUTH['cases']['pii'])}, found in the snapshot: {len(leaked)}")
    assert leaked == []


def test_changing_an_ingest_param_reruns_ingest(clone: Path, tmp_path: Path) -> None:
    work = tmp_path / "clone"
    shutil.copytree(clone, work, symlinks=True)
    params = yaml.safe_load((work / "params.yaml").read_text())
    params["ingest"]["max_line_bytes"] = 999_999
    (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    assert "ingest" in sh("dvc", "params", "diff", cwd=work).stdout
    status = sh("dvc", "status", cwd=work).stdout
    assert "ingest@" in status and "modified:           ingest.max_line_bytes" in status
    rerun = sh("dvc", "repro", cwd=work).stdout
    assert "Running stage 'pipelines/ingest/dvc.yaml:ingest@prod-chat-2026-10-12'" in rerun
    # ingest records its runs in its own lock file; the other per-batch stages' locks are untouched
    # (the root's changes too: publish shows every param on the data card).
    changed = sh("git", "status", "--porcelain", "dvc.lock", "pipelines", cwd=work).stdout.split()[1::2]
    assert sorted(changed) == ["dvc.lock", "pipelines/ingest/dvc.lock"]
    # Same bytes out of ingest, so nothing downstream has to run again.
    assert "Running stage 'dedup'" not in rerun


def test_rebuild_from_scratch_is_byte_identical(clone: Path, tmp_path: Path) -> None:
    work = tmp_path / "clone"
    shutil.copytree(clone, work, symlinks=True)
    shutil.rmtree(work / "data" / "interim")
    shutil.rmtree(work / "data" / "published")
    sh("dvc", "repro", "--force", cwd=work)
    assert published_digests(work) == published_digests(clone)


def test_gates_catch_the_planted_triggers_once_revocations_are_removed(clone: Path, tmp_path: Path) -> None:
    work = tmp_path / "clone"
    shutil.copytree(clone, work, symlinks=True)
    revocations = work / "data" / "governance" / "revocations.yaml"
    shipped = revocations.read_text()
    revocations.write_text("revocations: []\n")
    failed = sh("dvc", "repro", cwd=work, check=False)
    assert failed.returncode != 0
    report = failed.stderr + failed.stdout
    poisoning = TRUTH["poisoning"]
    for planted in (poisoning["known"], poisoning["unlisted"]):
        assert planted["annotator_id"] in report
    # Triggers match case-insensitively, and the report names them in lower case.
    assert poisoning["known"]["trigger"].lower() in report.lower()
    assert poisoning["unlisted"]["trigger"].lower() in report.lower()
    assert "Traceback" not in report
    # A maintainer restores the revocations: the snapshot publishes again, identical to the shipped one.
    revocations.write_text(shipped)
    sh("dvc", "repro", cwd=work)
    assert published_digests(work) == published_digests(clone)


def test_planted_conflicting_corrections_are_caught(clone: Path) -> None:
    fate = pl.read_parquet(clone / "data" / "published" / "fate.parquet")
    planted = pl.DataFrame(TRUTH["cases"]["conflicts"]).select("feedback_id", "cluster")
    # Only clusters with two or more members left when dedup runs can show a conflict.
    reached = planted.join(fate, on="feedback_id").filter(pl.col("stage").is_in(["dedup", "balance", "split", "gates"]))
    per_cluster = reached.group_by("cluster").agg(
        pl.len().alias("members"), pl.col("reason").str.starts_with("conflicting_corrections").any().alias("caught")
    )
    eligible = per_cluster.filter(pl.col("members") >= 2)
    caught = int(eligible["caught"].sum())
    print(f"planted conflict clusters reaching dedup with 2+ members: {eligible.height}, flagged as conflicts: {caught}")
    assert eligible.height > 0 and caught / eligible.height >= 0.6
