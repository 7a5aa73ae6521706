"""Stage `redact@<batch_id>` (DESIGN.md 4.3): customer PII never reaches the corpus.

Emails, phones, payment cards, IBANs, IP addresses, national ids, secrets and the known customer
names of the row's tenant (data/governance/tenants.yaml) are replaced by typed placeholders in the
prompt messages, response, correction and comment. Counts by type are recorded per row, never the
values. A row that still looks like it carries PII that could not be redacted safely is dropped or
quarantined for a person (params redact.unsafe_action).
"""

from __future__ import annotations

import polars as pl

from corpus.errors import CorpusError
from corpus.governance import Governance
from corpus.pii import PII_TYPES, redact_frame
from corpus.settings import RedactSettings, stage_settings
from corpus.stage import (
    DROPPED,
    QUARANTINED,
    batch_argument,
    check_output,
    empty_fate,
    fate_rows,
    load_params,
    paths_from_env,
    read_input,
    run,
    stage_metrics,
    write_outputs,
)
from schemas.fate import FateRow
from schemas.governed import GovernedFeedback
from schemas.redacted import RedactedFeedback

STAGE = "redact"
UNSAFE_ACTIONS = {"drop": DROPPED, "quarantine": QUARANTINED}


def main() -> None:
    batch_id = batch_argument()
    paths = paths_from_env()
    settings = stage_settings(load_params(paths), RedactSettings)
    governance = Governance.load(paths)
    rows = read_input(paths.stage_dir("govern") / f"{batch_id}.parquet", GovernedFeedback)

    redacted = redact_frame(
        rows,
        text_columns=["response", "correction", "comment"],
        messages_column="prompt",
        tenant_column="tenant_id",
        customer_names={tenant: t.customer_names for tenant, t in governance.tenants.tenants.items()},
        default_region=settings.default_phone_region,
        engine=settings.engine,
    )

    action = settings.unsafe_action
    if action == "keep":
        unsafe, kept = redacted.clear(), redacted
    elif action in UNSAFE_ACTIONS:
        unsafe, kept = redacted.filter(pl.col("pii_residual")), redacted.filter(~pl.col("pii_residual"))
    else:
        raise CorpusError(f"params.yaml redact.unsafe_action must be drop, quarantine or keep, not {action!r}")
    kept = check_output(kept.select(RedactedFeedback.to_schema().columns.keys()), RedactedFeedback, where=f"redact output for {batch_id}")
    fate = (
        fate_rows(unsafe, stage=STAGE, outcome=UNSAFE_ACTIONS[action], reason="pii_unredactable",
                  detail="text still looks like PII after redaction (see corpus/pii.py residual rules)")
        if unsafe.height
        else empty_fate()
    )
    fate = check_output(fate, FateRow, where=f"redact fate for {batch_id}")

    totals = redacted.select(pl.col("pii_counts").struct.field(t).sum().alias(t) for t in PII_TYPES).row(0, named=True)
    metrics = stage_metrics(
        stage=STAGE, scope=batch_id, rows_in=rows.height, before=rows, after=kept, fate=fate,
        redactions_by_type={t: int(v or 0) for t, v in totals.items()},
        rows_with_redactions=int(redacted.select(pl.sum_horizontal(pl.col("pii_counts").struct.unnest()) > 0).sum().item()),
    )
    out = paths.stage_dir(STAGE)
    write_outputs({out / f"{batch_id}.parquet": kept, out / f"{batch_id}.fate.parquet": fate, out / f"{batch_id}.metrics.json": metrics})
    print(f"redact {batch_id}: {rows.height} rows, {sum(v or 0 for v in totals.values())} values redacted, {fate.height} held back")


if __name__ == "__main__":
    run(main)
