"""Stage `ingest@<batch_id>` (DESIGN.md 4.1): check the batch's manifest, parse and validate every
line, and account for each one.

Outputs under data/interim/ingest/: <batch>.parquet (valid rows), <batch>.quarantine.parquet
(lines held back, with the rule they broke), <batch>.fate.parquet (their ledger rows) and
<batch>.metrics.json. lines in = lines ingested + lines quarantined.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import polars as pl

from corpus.errors import StageInputError
from corpus.governance import Governance, check_manifest
from corpus.ingest import RawLines, all_lines, apply_row_rules, parse_batch, recover_feedback_ids
from corpus.settings import IngestSettings, stage_settings
from corpus.stage import (
    QUARANTINED,
    batch_argument,
    check_output,
    fate_rows,
    load_params,
    paths_from_env,
    polars_schema,
    run,
    stage_metrics,
    write_outputs,
)
from schemas.fate import FateRow
from schemas.ingested import IngestedFeedback
from schemas.quarantine import QuarantinedLine
from schemas.raw import parse_collected_at

STAGE = "ingest"


def main() -> None:
    batch_id = batch_argument()
    paths = paths_from_env()
    settings = stage_settings(load_params(paths), IngestSettings)
    governance = Governance.load(paths)
    raw_path = paths.raw_batch(batch_id)
    if not raw_path.is_file():
        raise StageInputError(
            f"{raw_path}: missing, while params.yaml lists batch {batch_id}: fetch it (`dvc pull`), add it "
            "(`corpusctl batch add`), or take it off the list"
        )
    data = raw_path.read_bytes()

    # Hashing the whole file releases the GIL, so it runs beside the per-line hashing of RawLines.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(check_manifest, batch_id, paths, governance.maintainers, raw=data)
        lines = RawLines(data)
        verdict = pending.result()
    if verdict.accepted:
        parsed = parse_batch(lines, max_line_bytes=settings.max_line_bytes)
        valid, invalid = apply_row_rules(
            parsed.rows, registered_sources=sorted(governance.surfaces.surfaces), batch_source=verdict.manifest.source
        )
        rejected = pl.concat([parsed.rejected, invalid]).sort("line_no")
    else:
        # An unapproved batch contributes nothing; each of its lines carries the manifest's rule.
        valid = pl.DataFrame()
        rejected = all_lines(lines).with_columns(
            pl.lit(f"manifest:{verdict.reason}").alias("rule"), pl.lit(verdict.detail).alias("detail")
        )

    manifest_guideline = verdict.manifest.guideline_version if verdict.manifest else None
    ingested = (
        valid.with_columns(
            pl.lit(batch_id).alias("batch_id"),
            parse_collected_at().alias("collected_at_utc"),
            pl.lit(manifest_guideline, pl.String).alias("batch_guideline_version"),
        ).select(IngestedFeedback.to_schema().columns.keys())
        if valid.height
        else pl.DataFrame(schema=polars_schema(IngestedFeedback))
    )
    ingested = check_output(ingested, IngestedFeedback, where=f"ingest output for {batch_id}")

    # The feedback_id of a rejected line is recovered where its JSON allows, for "what happened to X".
    quarantine = rejected.select(
        pl.lit(batch_id).alias("batch_id"),
        "line_no",
        pl.Series("feedback_id", recover_feedback_ids(lines, rejected["line_no"].to_list()), dtype=pl.String),
        "line_sha256",
        "rule",
        "detail",
    )
    quarantine = check_output(quarantine, QuarantinedLine, where=f"ingest quarantine for {batch_id}")
    fate = check_output(
        fate_rows(quarantine, stage=STAGE, outcome=QUARANTINED, reason=pl.col("rule"), detail=pl.col("detail")),
        FateRow,
        where=f"ingest fate for {batch_id}",
    )

    lines_in = ingested.height + quarantine.height
    metrics = stage_metrics(
        stage=STAGE,
        scope=batch_id,
        rows_in=lines_in,
        before=ingested,
        after=ingested,
        fate=fate,
        manifest={"accepted": verdict.accepted, "reason": verdict.reason, "detail": verdict.detail},
    )
    out = paths.stage_dir(STAGE)
    write_outputs(
        {
            out / f"{batch_id}.parquet": ingested,
            out / f"{batch_id}.quarantine.parquet": quarantine,
            out / f"{batch_id}.fate.parquet": fate,
            out / f"{batch_id}.metrics.json": metrics,
        }
    )
    print(f"ingest {batch_id}: {lines_in} lines -> {ingested.height} ingested, {quarantine.height} quarantined")


if __name__ == "__main__":
    run(main)
