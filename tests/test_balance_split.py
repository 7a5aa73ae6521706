"""Balance caps every annotator's share exactly; split never lets a session straddle the sides."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import yaml

from corpus.sampling import annotator_cap
from corpus.stage import write_parquet
from schemas.deduped import DedupedFeedback
from tests.conftest import REPO_ROOT
from tests.frames import curated_rows
from tests.minirepo import write_governance


def run_stage(root: Path, stage: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / f"{stage}.py")], cwd=root, capture_output=True, text=True
    )


@pytest.mark.parametrize(
    ("counts", "share"), [([500, 10, 10, 10, 10, 10, 10], 0.2), ([5] * 10, 0.2), ([100, 80, 3, 3, 3, 2, 1], 0.25), ([7, 7, 7, 7, 7], 0.2)]
)
def test_annotator_cap_is_exact_and_maximal(counts: list[int], share: float) -> None:
    cap = annotator_cap(counts, share)
    kept = [min(c, cap) for c in counts]
    assert max(kept) <= share * sum(kept)
    bigger = [min(c, cap + 1) for c in counts]
    assert cap == max(counts) or max(bigger) > share * sum(bigger)


def _dedup_output(root: Path, frame: pl.DataFrame) -> None:
    out = root / "data" / "interim" / "dedup"
    out.mkdir(parents=True, exist_ok=True)
    write_parquet(frame, out / "examples.parquet")


def test_balance_downsamples_the_prolific_annotator_deterministically(tmp_path: Path) -> None:
    write_governance(tmp_path)
    n = 400
    annotators = ["prolific"] * 200 + [f"a-{i % 8}" for i in range(200)]
    _dedup_output(tmp_path, curated_rows(DedupedFeedback, n, annotator_id=annotators))
    result = run_stage(tmp_path, "balance")
    assert result.returncode == 0, result.stderr
    out = tmp_path / "data" / "interim" / "balance"
    kept = pl.read_parquet(out / "examples.parquet")
    shares = kept.group_by("annotator_id").len().with_columns(share=pl.col("len") / kept.height)
    assert shares["share"].max() <= 0.2
    assert kept.filter(pl.col("annotator_id") == "prolific")["balance_decision"].unique().to_list()[0].startswith("sampled_to_annotator_cap")
    fate = pl.read_parquet(out / "fate.parquet")
    assert fate.height + kept.height == n and set(fate["reason"]) == {"annotator_cap"}
    first = (out / "examples.parquet").read_bytes()
    assert run_stage(tmp_path, "balance").returncode == 0
    assert (out / "examples.parquet").read_bytes() == first


def test_balance_output_does_not_depend_on_input_order(tmp_path: Path) -> None:
    # Sorted input (as dedup writes it) takes the filter path, shuffled input the gather path.
    write_governance(tmp_path)
    annotators = ["prolific"] * 200 + [f"a-{i % 8}" for i in range(200)]
    frame = curated_rows(DedupedFeedback, 400, annotator_id=annotators)
    out = tmp_path / "data" / "interim" / "balance"
    written = []
    for rows in (frame, frame.sample(fraction=1.0, shuffle=True, seed=3)):
        _dedup_output(tmp_path, rows)
        assert run_stage(tmp_path, "balance").returncode == 0
        written.append([(out / name).read_bytes() for name in ("examples.parquet", "fate.parquet", "metrics.json")])
    examples, fate, metrics = zip(*written)
    assert examples[0] == examples[1] and metrics[0] == metrics[1]
    assert pl.read_parquet(fate[0]).sort("feedback_id").equals(pl.read_parquet(fate[1]).sort("feedback_id"))


def test_balance_domain_caps_are_recorded(tmp_path: Path) -> None:
    paths = write_governance(tmp_path)
    params = yaml.safe_load(paths.params.read_text())
    params["balance"]["domain_caps"] = {"travel": 5}
    paths.params.write_text(yaml.safe_dump(params))
    _dedup_output(tmp_path, curated_rows(DedupedFeedback, 40, domain=["travel"] * 20 + ["billing"] * 20))
    assert run_stage(tmp_path, "balance").returncode == 0
    fate = pl.read_parquet(tmp_path / "data" / "interim" / "balance" / "fate.parquet")
    assert fate.filter(pl.col("reason") == "domain_cap").height == 15
    assert "travel capped at 5" in fate["detail"][0]


def test_balance_refuses_an_impossible_share_with_a_message(tmp_path: Path) -> None:
    write_governance(tmp_path)
    _dedup_output(tmp_path, curated_rows(DedupedFeedback, 10, annotator_id=["x"] * 5 + ["y"] * 5))
    result = run_stage(tmp_path, "balance")
    assert result.returncode == 3 and "max_annotator_share" in result.stderr and "Traceback" not in result.stderr


def test_split_is_leak_free_and_stable(tmp_path: Path) -> None:
    write_governance(tmp_path)
    from schemas.balanced import BalancedFeedback

    n = 3000
    sessions = [f"s-{i // 4}" for i in range(n)]
    frame = curated_rows(BalancedFeedback, n, session_id=sessions, annotator_id=[f"a-{i % 50}" for i in range(n)])
    balance_out = tmp_path / "data" / "interim" / "balance"
    balance_out.mkdir(parents=True)
    write_parquet(frame, balance_out / "examples.parquet")
    assert run_stage(tmp_path, "split").returncode == 0
    split = pl.read_parquet(tmp_path / "data" / "interim" / "split" / "examples.parquet")
    straddling = split.group_by("session_id").agg(pl.col("split").n_unique()).filter(pl.col("split") > 1)
    assert straddling.height == 0
    validation_share = split.filter(pl.col("split") == "validation").height / n
    print(f"validation share {validation_share:.3f} (target 0.10)")
    assert 0.06 < validation_share < 0.14
    # Adding rows of new sessions leaves every existing session on its side.
    more = curated_rows(BalancedFeedback, n + 400, session_id=sessions + [f"new-{i}" for i in range(400)],
                        feedback_id=[f"fb-{i:06d}" for i in range(n + 400)], annotator_id=[f"a-{i % 50}" for i in range(n + 400)])
    write_parquet(more, balance_out / "examples.parquet")
    assert run_stage(tmp_path, "split").returncode == 0
    again = pl.read_parquet(tmp_path / "data" / "interim" / "split" / "examples.parquet")
    joined = split.select("feedback_id", "split").join(again.select("feedback_id", "split"), on="feedback_id")
    assert joined.height == n and (joined["split"] == joined["split_right"]).all()
