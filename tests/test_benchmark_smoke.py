"""`python -m benchmarks.run` end to end at a tiny size: the report has every row, and every figure in
it is sane. No timing targets are asserted (they mean nothing at this size or on a loaded machine)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from benchmarks.run import main, parse_args
from corpus.paths import RepoPaths
from corpus.samplegen import default_batches

pytestmark = pytest.mark.slow

ROWS = 3_000
REPO_ROOT = Path(__file__).resolve().parents[1]
TARGETS = (
    "raw rows end to end",
    "without OOM",
    "rows/s",
    "peak RSS grows",
    "`corpusctl verify`",
    "`corpusctl --help`",
    "1% batch",
)
MEASUREMENTS = (
    "`corpusctl --help`",
    "sample generation",
    "`dvc add`",
    "`corpusctl sign`",
    "`corpusctl verify` vs `sha256sum`",
    "audit lookup",
    "one ~1% batch",
    "DVC push / pull",
)
GiB_IN_MiB = 1024


def tables(markdown: str) -> list[list[list[str]]]:
    """Every markdown table in order, as rows of cells (header included, separator dropped)."""
    found: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in [*markdown.splitlines(), ""]:
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
            if not all(set(c) <= set("-:") for c in cells):
                current.append(cells)
        elif current:
            found.append(current)
            current = []
    return found


def number(cell: str) -> float:
    return float(cell.replace(",", ""))


def test_benchmark_reports_every_stage_and_measurement_at_a_tiny_size(tmp_path: Path) -> None:
    out, work = tmp_path / "results.md", tmp_path / "work"
    exit_code = main(
        ["--rows", str(ROWS), "--repeats", "1", "--profile", "1", "--workdir", str(work), "--out", str(out)]
    )
    report = out.read_text(encoding="utf-8")
    assert exit_code == 0, report
    assert "Load average" in report and "CPU:" in report and "polars" in report and "dvc" in report
    assert list(work.iterdir()) == [], "workspaces must be removed without --keep"

    targets, stages, measurements, rerun, *hot = tables(report)
    assert len(targets) == 1 + len(TARGETS)
    assert all(any(key in row[0] for row in targets[1:]) for key in TARGETS)
    assert all(row[2] in ("yes", "**no**", "not measured") for row in targets[1:])

    # Every stage of the dvc.yaml files, once per batch for per-batch stages; then DVC's share, the
    # total and the floor.
    defined = {
        name: stage
        for pipeline in RepoPaths(REPO_ROOT).pipeline_files
        for name, stage in yaml.safe_load(pipeline.read_text(encoding="utf-8"))["stages"].items()
    }
    assert {"ingest", "govern", "redact", "classify", "dedup", "publish"} <= set(defined)
    batches = len(default_batches(ROWS))
    by_name = {row[0]: row for row in stages[1:]}
    assert set(defined) <= set(by_name)
    for name, stage in defined.items():
        runs, rows_in, wall, cpu, rate, peak = (number(c) for c in by_name[name][1:7])
        assert runs == (batches if "foreach" in stage else 1), name
        assert rows_in > 0 and wall > 0 and cpu > 0 and rate > 0, name
        assert rate == pytest.approx(rows_in / wall, rel=0.02), name
        assert 20 < peak < 64 * GiB_IN_MiB, name
    assert number(by_name["ingest"][2]) == ROWS, "ingest reads every raw line"
    total = next(row for name, row in by_name.items() if name.startswith("**total"))
    floor = next(row for name, row in by_name.items() if name.startswith("floor"))
    dvc_share = next(row for name, row in by_name.items() if name.startswith("DVC itself"))
    assert number(total[2]) == ROWS and number(total[3]) > sum(number(by_name[n][3]) for n in defined)
    assert number(total[4]) > sum(number(by_name[n][4]) for n in defined), "the tree's CPU includes every stage's"
    assert number(total[6]) >= max(number(by_name[n][6]) for n in defined)
    assert ROWS * 0.99 < number(floor[2]) < ROWS and number(floor[3]) > 0 and number(dvc_share[3]) >= 0
    assert "Pipeline / floor wall time:" in report

    figures = {row[0]: row[1] for row in measurements[1:]}
    assert len(figures) == len(MEASUREMENTS)
    assert all(any(name.startswith(m) for name in figures) for m in MEASUREMENTS)
    if "publish" in defined:
        verified = figures["`corpusctl verify` vs `sha256sum`"]
        assert "MB/s" in verified, verified

    # The added batch reruns its own per-batch stages once, and the union stages.
    rerun_names = {row[0] for row in rerun[1:]}
    assert {name for name, stage in defined.items() if "foreach" in stage} <= rerun_names
    assert all(number(row[1]) == 1 for row in rerun[1:] if row[0] in defined)

    # --profile 1: the slowest stage's hot path, both rankings.
    assert report.count("#### `") == 1 and len(hot) == 2
    assert all(len(table) > 1 for table in hot)


def test_full_up_to_leaves_only_the_pipeline_to_the_big_sizes() -> None:
    options = parse_args(["--rows-list", "1000000,100000,10000000", "--full-up-to", "1000000"])
    assert options.sizes == [100_000, 1_000_000, 10_000_000]
    assert [options.measures_all(n) for n in options.sizes] == [True, True, False]
    assert all(parse_args(["--rows", "10000000"]).measures_all(n) for n in (400, 10**8))
