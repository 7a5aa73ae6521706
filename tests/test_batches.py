"""`corpusctl batch add` and `batch approve`: the manifest binds the bytes, a second person approves."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from corpus.batches import add_batch, approve_batch, listed_batches, write_batch_list
from corpus.errors import CorpusError
from corpus.governance import Maintainers, check_manifest
from tests.minirepo import MAINTAINERS, good_record, write_governance


@pytest.fixture()
def repo(tmp_path: Path):
    paths = write_governance(tmp_path)
    write_batch_list(paths, [])  # the copied template params list the sample's batches
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["dvc", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["dvc", "config", "core.analytics", "false"], cwd=tmp_path, check=True)
    export = tmp_path / "export.jsonl"
    export.write_text("".join(json.dumps(good_record(i)) + "\n" for i in range(3)))
    return paths, export


def test_add_then_approve_by_another_maintainer(repo) -> None:
    paths, export = repo
    comments_before = [line for line in paths.params.read_text().splitlines() if line.startswith("#")]
    add_batch(paths, export, batch_id="vendor-x-1", source="prod_chat", author="alice@example.com",
              justification="weekly export", guideline_version="g-1")
    assert listed_batches(paths) == ["vendor-x-1"]
    assert [l for l in paths.params.read_text().splitlines() if l.startswith("#")] == comments_before
    assert (paths.raw_feedback / "vendor-x-1.jsonl.dvc").is_file()
    verdict = check_manifest("vendor-x-1", paths, Maintainers(maintainers=MAINTAINERS))
    assert verdict.reason == "not_approved"

    with pytest.raises(CorpusError, match="author of vendor-x-1"):
        approve_batch(paths, "vendor-x-1", approver="alice@example.com")
    with pytest.raises(CorpusError, match="not listed in data/governance/maintainers.yaml"):
        approve_batch(paths, "vendor-x-1", approver="mallory@example.com")
    manifest = approve_batch(paths, "vendor-x-1", approver="bob@example.com")
    assert manifest.approver == "bob@example.com"
    assert check_manifest("vendor-x-1", paths, Maintainers(maintainers=MAINTAINERS)).accepted


def test_approval_refuses_bytes_changed_after_the_manifest(repo) -> None:
    paths, export = repo
    add_batch(paths, export, batch_id="vendor-x-1", source="prod_chat", author="alice@example.com",
              justification="weekly export", guideline_version=None)
    with paths.raw_batch("vendor-x-1").open("a") as handle:
        handle.write(json.dumps(good_record(99)) + "\n")
    with pytest.raises(CorpusError, match="changed after the manifest was written"):
        approve_batch(paths, "vendor-x-1", approver="bob@example.com")


def test_add_refuses_unknown_surfaces_bad_ids_and_reuse(repo) -> None:
    paths, export = repo
    with pytest.raises(CorpusError, match="not registered"):
        add_batch(paths, export, batch_id="b1", source="nowhere", author="a@x", justification="j", guideline_version=None)
    with pytest.raises(CorpusError, match="letters, digits"):
        add_batch(paths, export, batch_id="../evil", source="prod_chat", author="a@x", justification="j", guideline_version=None)
    add_batch(paths, export, batch_id="b1", source="prod_chat", author="a@x", justification="j", guideline_version=None)
    with pytest.raises(CorpusError, match="already exists"):
        add_batch(paths, export, batch_id="b1", source="prod_chat", author="a@x", justification="j", guideline_version=None)
    assert yaml.safe_load(paths.params.read_text())["batches"] == ["b1"]
