"""`python -m benchmarks.compare`: the before/after table is read from two benchmark reports."""

from __future__ import annotations

from pathlib import Path

from benchmarks.compare import main, parse_report

REPORT = """# Benchmark results

`python -m benchmarks.run --rows 1000`, started 2026-11-22 07:22 UTC.

## 1,000 raw rows: 10 batches, 1 MB

| stage | runs | rows in | wall s | CPU s | rows/s | peak RSS MiB | start-up s | ≥ 200,000 rows/s |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
| ingest | 10 | 1,000 | {ingest} | 1.0 | 500 | 300 | 0.8 × 10 = 8.0 | **no** |
| **total `dvc repro`** | 1 | 1,000 | {total} | 9.0 | 100 | 400 |  |  |

Pipeline / floor wall time: 5.0×.

| measurement | figure |
| --- | --- |
| one ~1% batch (10 rows) added, `dvc repro` | 3.0 s = {ratio}× the full run (stages below) |

Stages rerun after adding the batch:

| stage | runs | rows in | wall s | CPU s | rows/s | peak RSS MiB | start-up s | ≥ 200,000 rows/s |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
| ingest | 1 | 10 | 99.0 | 1.0 | 5 | 300 | 0.8 × 1 = 0.8 | **no** |
"""


def test_reads_the_full_run_table_and_the_increment_ratio() -> None:
    figures = parse_report(REPORT.format(ingest="2.0", total="10.0", ratio="0.30"))
    size = figures[1000]
    # The incremental run's table (99.0 s) does not overwrite the full run's.
    assert size.stages["ingest"].wall_seconds == 2.0
    assert size.stages["ingest"].rows_per_second == 500
    assert size.stages["total dvc repro"].wall_seconds == 10.0
    assert size.increment_ratio == 0.30


def test_prints_before_and_after(tmp_path: Path, capsys) -> None:
    before, after = tmp_path / "before.md", tmp_path / "after.md"
    before.write_text(REPORT.format(ingest="4.0", total="20.0", ratio="0.50"), encoding="utf-8")
    after.write_text(REPORT.format(ingest="2.0", total="10.0", ratio="0.25"), encoding="utf-8")
    assert main([str(before), str(after)]) == 0
    out = capsys.readouterr().out
    assert "| ingest | 4.0 → 2.0 (2.00×)" in out
    assert "0.50 → 0.25" in out


def test_missing_report_is_an_error_not_a_traceback(tmp_path: Path, capsys) -> None:
    assert main([str(tmp_path / "nope.md"), str(tmp_path / "nope.md")]) == 2
    assert "no such report" in capsys.readouterr().err
