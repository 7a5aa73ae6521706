"""Stage `classify@<batch_id>` (DESIGN.md 4.4): is this feedback a real defect?

Each row gets an intent — defect (with subtype), taste, testing, positive (thumbs-up) or abstain —
and a record of how it was decided: the annotator's structured reason_code wins when present,
then a few general rules, then the TF-IDF + logistic-regression model from `train_intent`, with an
abstain band. Then each row's fate:
- defect with a human correction -> kept as a `defect_fix` example (target: the correction);
- positive -> kept as an `endorsed` example (target: the response), unless params say otherwise;
- taste -> dropped, or kept as a separate `style` example when params.keep_style is on;
- testing, or a defect without a correction -> dropped;
- abstain -> quarantined into the review queue <batch>.review.jsonl for a person to label.
"""

from __future__ import annotations

import polars as pl

from corpus.intent import IntentModel, classify_frame
from corpus.settings import ClassifySettings, stage_settings
from corpus.stage import (
    DROPPED,
    QUARANTINED,
    batch_argument,
    check_output,
    fate_rows,
    load_params,
    paths_from_env,
    read_input,
    run,
    stage_metrics,
    write_outputs,
)
from schemas.classified import ClassifiedFeedback
from schemas.fate import FateRow
from schemas.redacted import RedactedFeedback

STAGE = "classify"
REVIEW_COLUMNS = [
    "batch_id", "line_no", "feedback_id", "annotator_id", "domain", "rating", "reason_code", "comment",
    "response", "correction", "intent_confidence",
]


def main() -> None:
    batch_id = batch_argument()
    paths = paths_from_env()
    settings = stage_settings(load_params(paths), ClassifySettings)
    rows = read_input(paths.stage_dir("redact") / f"{batch_id}.parquet", RedactedFeedback)
    model = IntentModel.from_json((paths.stage_dir("train_intent") / "model.json").read_text(encoding="utf-8"))

    classified = classify_frame(
        rows, model, abstain_below=settings.abstain_below, defect_margin=settings.defect_margin
    )
    has_correction = pl.col("correction").str.strip_chars().str.len_chars().fill_null(0) > 0
    has_response = pl.col("response").str.strip_chars().str.len_chars() > 0
    intent = pl.col("intent")
    decided = classified.with_columns(
        pl.when((intent == "defect") & has_correction).then(pl.lit("defect_fix"))
        .when((intent == "positive") & has_response & pl.lit(settings.keep_endorsed)).then(pl.lit("endorsed"))
        .when((intent == "taste") & has_correction & pl.lit(settings.keep_style)).then(pl.lit("style"))
        .alias("example_kind"),
        pl.when(intent == "abstain").then(pl.lit("intent_abstain"))
        .when(intent == "defect").then(pl.lit("defect_without_correction"))
        .when(intent == "positive").then(pl.lit("thumbs_up_not_used"))
        .when(intent == "taste").then(pl.lit("taste_not_defect"))
        .when(intent == "testing").then(pl.lit("testing_click"))
        .alias("_reason"),
    ).with_columns(
        pl.when(pl.col("example_kind") == "endorsed").then(pl.col("response")).otherwise(pl.col("correction")).alias("target")
    )

    kept = decided.filter(pl.col("example_kind").is_not_null()).select(ClassifiedFeedback.to_schema().columns.keys())
    kept = check_output(kept, ClassifiedFeedback, where=f"classify output for {batch_id}")
    held = decided.filter(pl.col("example_kind").is_null())
    abstained = held.filter(pl.col("_reason") == "intent_abstain")
    fate = pl.concat(
        [
            fate_rows(held.filter(pl.col("_reason") != "intent_abstain"), stage=STAGE, outcome=DROPPED,
                      reason=pl.col("_reason"), detail=pl.format("intent {} via {}", intent, pl.col("intent_source"))),
            fate_rows(abstained, stage=STAGE, outcome=QUARANTINED, reason="intent_abstain",
                      detail=pl.format("confidence {} below abstain band; see {}.review.jsonl",
                                       pl.col("intent_confidence").round(3), pl.lit(batch_id))),
        ]
    )
    fate = check_output(fate, FateRow, where=f"classify fate for {batch_id}")
    # The review queue: one JSON object per line with an empty `label` for the reviewer to fill in.
    review = abstained.select(REVIEW_COLUMNS).sort("line_no").with_columns(
        pl.lit(None, pl.String).alias("label"), pl.lit(None, pl.String).alias("label_subtype")
    )

    metrics = stage_metrics(
        stage=STAGE, scope=batch_id, rows_in=rows.height, before=classified, after=kept, fate=fate,
        intent_by_source=dict(
            classified.group_by(pl.col("intent_source").str.replace(r":.*$", "")).len().sort("intent_source").iter_rows()
        ),
        abstain_rate=round(abstained.height / max(rows.height, 1), 4),
    )
    out = paths.stage_dir(STAGE)
    write_outputs(
        {
            out / f"{batch_id}.parquet": kept,
            out / f"{batch_id}.fate.parquet": fate,
            out / f"{batch_id}.review.jsonl": review,
            out / f"{batch_id}.metrics.json": metrics,
        }
    )
    print(f"classify {batch_id}: {rows.height} rows -> {kept.height} examples, {abstained.height} to review, "
          f"{fate.height - abstained.height} dropped")


if __name__ == "__main__":
    run(main)
