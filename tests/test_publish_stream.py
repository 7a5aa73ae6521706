"""Publish writes each set as it is built, in chunks: the chunked path gives the same bytes as one
write, every chunk is checked as written, and a failure after some files are written leaves no
snapshot."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path
from types import ModuleType

import polars as pl
import pytest

import corpus.snapshot as snapshot
from corpus.errors import StageOutputError
from corpus.snapshot import BuiltSet, build_sets, write_jsonl
from tests.conftest import REPO_ROOT
from tests.test_publish import GATED, make_repo, publish, snapshot_bytes, split_rows


def publish_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("publish_stage", REPO_ROOT / "scripts" / "publish.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 100])
def test_chunked_jsonl_is_one_join_and_its_digest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    monkeypatch.setattr(snapshot, "_CHUNK", chunk)
    lines = pl.Series("line", [f'{{"n":{i},"text":"\u2028 {"x" * i}"}}' for i in range(7)])
    seen: list[list[str]] = []
    digest = write_jsonl(lines, tmp_path / "f.jsonl", "set/f.jsonl", check=lambda c: seen.append(c.to_list()))
    expected = ("\n".join(lines) + "\n").encode("utf-8")
    assert (tmp_path / "f.jsonl").read_bytes() == expected
    assert (digest.path, digest.bytes) == ("set/f.jsonl", len(expected))
    assert digest.sha256 == hashlib.sha256(expected).hexdigest()
    # Every line is checked once, a chunk at a time, before it is written.
    assert [line for part in seen for line in part] == lines.to_list()
    assert max(len(part) for part in seen) == min(chunk, lines.len())


def test_an_empty_file_is_written_and_hashed(tmp_path: Path) -> None:
    digest = write_jsonl(pl.Series("line", [], dtype=pl.String), tmp_path / "f.jsonl", "f.jsonl", check=print)
    assert (tmp_path / "f.jsonl").read_bytes() == b""
    assert (digest.bytes, digest.sha256) == (0, hashlib.sha256(b"").hexdigest())


def test_file_lines_are_each_splits_examples_in_id_order() -> None:
    rows = split_rows(
        [
            {**GATED[0], "feedback_id": f"fb-{i}", "line_no": i + 1, "target": f"t{i}", "split": split}
            for i, split in enumerate(["train", "validation", "train", "validation", "train"])
        ]
    )
    for built in build_sets(rows, keep_style=False):
        for split in ("train", "validation"):
            expected = built.examples.filter(pl.col("split") == split).sort("example_id")["line"]
            assert built.file_lines(split).to_list() == expected.to_list()
        assert "line" not in built.without_lines().examples.columns


def test_chunked_run_is_byte_identical(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = make_repo(tmp_path / "whole")
    result = publish(whole)
    assert result.returncode == 0, result.stderr
    chunked = make_repo(tmp_path / "chunked")
    monkeypatch.setenv("CORPUS_REPO", str(chunked.root))
    monkeypatch.setattr(snapshot, "_CHUNK", 1)
    publish_module().main()
    assert snapshot_bytes(chunked) == snapshot_bytes(whole)


def test_a_repeated_id_across_chunks_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A chunk's check cannot see another chunk's ids: the set-wide check must.
    monkeypatch.setattr(snapshot, "_CHUNK", 1)
    [built] = [b for b in build_sets(split_rows([dict(GATED[0])]), keep_style=False) if b.spec.name == "sft"]
    doubled = BuiltSet(built.spec, pl.concat([built.examples, built.examples]), built.sources, 0, 0)
    with pytest.raises(StageOutputError, match="written more than once"):
        publish_module().write_set(doubled, lambda name: tmp_path / name.replace("/", "-"))


def test_a_failure_after_files_are_written_leaves_no_snapshot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    paths = make_repo(tmp_path)
    monkeypatch.setenv("CORPUS_REPO", str(paths.root))
    module = publish_module()

    def broken(*args: object, **kwargs: object) -> pl.DataFrame:
        # By now every JSONL file has been written under its temporary name.
        assert any(paths.published.rglob(".*.jsonl.tmp"))
        raise StageOutputError("lineage broke")

    monkeypatch.setattr(module, "build_lineage", broken)
    with pytest.raises(StageOutputError, match="lineage broke"):
        module.main()
    assert not paths.published.exists()


def test_absorbed_records_are_still_checked_on_the_columns_read(tmp_path: Path) -> None:
    # Only the lineage's columns are read back from classify; their rules still apply.
    paths = make_repo(tmp_path)
    classified = paths.stage_dir("classify") / "b1.parquet"
    frame = pl.read_parquet(classified)
    frame.with_columns(pl.lit(2.0).alias("intent_confidence")).write_parquet(classified)
    result = publish(paths)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "AbsorbedRecord" in result.stderr and "intent_confidence" in result.stderr
    assert not paths.published.exists()
