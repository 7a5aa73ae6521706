"""Before and after: `python -m benchmarks.compare BEFORE.md AFTER.md` prints a markdown table of
each stage's wall seconds, rows/s and peak RSS in two benchmark reports, per size both ran.

It reads the reports `benchmarks.run` writes (their per-size stage tables and the 1% batch line),
so a change can be judged against a run made before it, on the same machine, by the same harness.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

_SIZE_HEADING = re.compile(r"^## ([\d,]+) raw rows")
_INCREMENT = re.compile(r"^\| one ~1% batch .*\| [\d.]+ s = ([\d.]+)× the full run")
_CODE = re.compile(r"^`python -m benchmarks\.run (.*)`, started (.*)\.$")


@dataclass(frozen=True)
class StageRow:
    wall_seconds: float
    rows_per_second: float | None
    peak_mib: float | None


@dataclass
class SizeFigures:
    stages: dict[str, StageRow]
    increment_ratio: float | None = None


def _number(cell: str) -> float | None:
    cell = cell.strip().strip("*")
    try:
        return float(cell.replace(",", ""))
    except ValueError:
        return None


def parse_report(text: str) -> dict[int, SizeFigures]:
    """Size (raw rows) -> its stage figures, from the first stage table under each size heading
    (the full run; the table after the 1% batch line is the incremental run's)."""
    sizes: dict[int, SizeFigures] = {}
    current: SizeFigures | None = None
    in_full_run = False
    for line in text.splitlines():
        if heading := _SIZE_HEADING.match(line):
            current = sizes.setdefault(int(heading.group(1).replace(",", "")), SizeFigures(stages={}))
            in_full_run = True
            continue
        if current is None:
            continue
        if increment := _INCREMENT.match(line):
            current.increment_ratio = float(increment.group(1))
        if line.startswith("Pipeline / floor"):
            in_full_run = False
        if not (in_full_run and line.startswith("| ")):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 7 or cells[0] in ("stage", "---") or cells[0].startswith("---"):
            continue
        name = cells[0].strip("*").replace("`", "")
        wall = _number(cells[3])
        if wall is not None:
            current.stages[name] = StageRow(wall, _number(cells[5]), _number(cells[6]))
    return sizes


def _cell(value: float | None, fmt: str) -> str:
    return "" if value is None else format(value, fmt)


def compare(before: dict[int, SizeFigures], after: dict[int, SizeFigures]) -> list[str]:
    lines: list[str] = []
    for rows in sorted(set(before) & set(after)):
        old, new = before[rows], after[rows]
        lines += [
            f"### {rows:,} raw rows: before → after",
            "",
            "| stage | wall s | rows/s | peak RSS MiB |",
            "| --- | ---: | ---: | ---: |",
        ]
        for name in [n for n in old.stages if n in new.stages]:
            a, b = old.stages[name], new.stages[name]
            speedup = f" ({a.wall_seconds / b.wall_seconds:.2f}×)" if b.wall_seconds else ""
            lines.append(
                f"| {name} | {a.wall_seconds:,.1f} → {b.wall_seconds:,.1f}{speedup} "
                f"| {_cell(a.rows_per_second, ',.0f')} → {_cell(b.rows_per_second, ',.0f')} "
                f"| {_cell(a.peak_mib, ',.0f')} → {_cell(b.peak_mib, ',.0f')} |"
            )
        if old.increment_ratio is not None and new.increment_ratio is not None:
            lines.append(
                f"| 1% batch added, ratio to the full run | {old.increment_ratio:.2f} → {new.increment_ratio:.2f} | | |"
            )
        lines.append("")
    return lines


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.splitlines()[0], file=sys.stderr)
        return 2
    reports = [Path(a) for a in argv]
    for report in reports:
        if not report.is_file():
            print(f"error: {report}: no such report", file=sys.stderr)
            return 2
    texts = [r.read_text(encoding="utf-8") for r in reports]
    before, after = (parse_report(t) for t in texts)
    if not set(before) & set(after):
        print("error: the two reports have no size in common", file=sys.stderr)
        return 1
    for report, text in zip(reports, texts):
        for line in text.splitlines():
            if code := _CODE.match(line):
                print(f"- {report}: `{code.group(1)}`, started {code.group(2)}")
    print()
    print("\n".join(compare(before, after)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
