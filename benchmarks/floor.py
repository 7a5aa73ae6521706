"""The floor the pipeline is compared with: read each raw batch with polars, write it as parquet.

`python benchmarks/floor.py SOURCE_DIR TARGET_DIR`: every SOURCE_DIR/*.jsonl becomes
TARGET_DIR/<name>.parquet, written as the stages write theirs (corpus.stage.write_parquet's
settings). No validation, no rules: the least any pipeline over these files has to do. The inputs
are the raw batches without their deliberately broken lines (polars cannot skip a malformed line),
which `benchmarks.probes` removes before this runs, outside the timed region.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl


def main(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob("*.jsonl")):
        try:
            frame = pl.read_ndjson(path)
        except pl.exceptions.ComputeError:
            # A type that changes after the first rows: infer the schema from every line instead.
            frame = pl.read_ndjson(path, infer_schema_length=None)
        frame.write_parquet(target / f"{path.stem}.parquet", compression="zstd", compression_level=3, statistics=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
