"""Stage `gates` (DESIGN.md 4.8): the checks every snapshot must pass before it is published.

Reads the split examples, the eval probes, the canary triggers, the previous snapshot's statistics
and every stage's fate ledger. Two gates remove rows: examples that overlap an eval probe
(`eval_contamination`) and the rows of domains without probes that params exclude
(`domain_without_probes`). Then poisoning, drift and conservation judge the result. A failed gate
that params do not override (with a justification) stops `dvc repro`: the readable report goes to
stderr and the stage exits with GateFailure's code.

Outputs under data/interim/gates/: examples.parquet (the rows that passed), fate.parquet (what the
gates dropped), final_fate.parquet (exactly one final outcome per raw line), report.json, report.md
and metrics.json.
"""

from __future__ import annotations

import polars as pl

from corpus.errors import GateFailure
from corpus.gates import ROW, contamination, conservation, coverage, drift, parse_settings, poisoning
from corpus.gates.report import GateReport, Overrides
from corpus.gates.text import ExampleText
from corpus.governance import Canaries, load_document
from corpus.stage import (
    DISTRIBUTION_COLUMNS,
    DROPPED,
    KEPT,
    check_derived_output,
    check_output,
    fate_rows,
    load_params,
    paths_from_env,
    read_input,
    run,
    stage_metrics,
    stage_params,
    write_outputs,
)
from schemas.fate import FateRow
from schemas.gated import FinalFate, GatedFeedback
from schemas.split import SplitFeedback

STAGE = "gates"
# What a fate row names an example by.
_LEDGER_KEY = ("batch_id", "line_no", "feedback_id")


def main() -> None:
    paths = paths_from_env()
    params = load_params(paths)
    section = stage_params(params, STAGE)
    contamination_settings = parse_settings(contamination.Settings, section, "contamination")
    coverage_settings = parse_settings(coverage.Settings, section, "coverage")
    poisoning_settings = parse_settings(poisoning.Settings, section, "poisoning")
    drift_settings = parse_settings(drift.Settings, section, "drift")
    overrides = Overrides.from_params(section.get("overrides"))

    split_examples = paths.stage_dir("split") / "examples.parquet"
    # Only the columns the gates read are kept (the passed rows are read again in full at the end).
    examples = read_input(split_examples, SplitFeedback).with_row_index(ROW).select(
        list(dict.fromkeys([ROW, *_LEDGER_KEY, "annotator_id", "split", "prompt", "target", "response", *DISTRIBUTION_COLUMNS]))
    )
    probes = contamination.read_probes(paths.probes)
    triggers = load_document(paths.governance_file("canaries"), Canaries).triggers
    baseline = drift.load_baseline(paths.baseline_stats)
    ledger = conservation.load_ledger(paths, list(params.get("batches") or []))
    # Words of every prompt and target, computed once for the contamination and poisoning gates.
    text = ExampleText.of(examples["prompt"], examples["target"])

    # Gates that remove rows: contamination over every example, then coverage over what is left
    # (it reads only the columns it needs: filtering whole examples would copy them).
    contamination_result, contaminated = contamination.check(examples, text, probes, contamination_settings)
    coverage_result, uncovered = coverage.check(
        examples.select(ROW, "split", "domain").filter(~pl.col(ROW).is_in(contaminated[ROW].implode())),
        probes,
        coverage_settings,
    )
    drops = pl.concat([contaminated, uncovered]).sort(ROW)

    # Poisoning looks at every input example: a dropped row is still evidence against the
    # annotator who wrote it. It counts the prompts' content words and reads only a few prompts'
    # words again, so the prompt words go before it runs, and the rest of the words after.
    content = poisoning.content_words(text.prompt)
    text = text.without_prompt_words()
    poisoning_result = poisoning.check(examples, text, content, triggers, poisoning_settings)
    del text, content
    # From here on the examples are only counted, so their texts go before the passed rows are
    # read again from the file (one more read, a fraction of a second): filtered from the examples
    # in memory, the examples and their gated copy were alive at once, the stage's largest holding.
    rows_in = examples.height
    before = examples.select(DISTRIBUTION_COLUMNS)
    dropped_rows = examples.select(ROW, *_LEDGER_KEY).join(drops, on=ROW).sort(ROW)
    del examples
    # Filters, not joins, so the examples keep their order: outputs are byte-identical run to run.
    # The rows read again just passed SplitFeedback (read_input): only the gated contract's own
    # rules are left to check.
    gated = check_derived_output(
        pl.scan_parquet(split_examples)
        .with_row_index(ROW)
        .filter(~pl.col(ROW).is_in(drops[ROW].implode()))
        .drop(ROW)
        .collect(),
        GatedFeedback,
        base=SplitFeedback,
        where="gates output",
    )
    # Drift judges what will be published.
    drift_result = drift.check(gated, baseline, drift_settings)

    fate = check_output(
        fate_rows(
            dropped_rows,
            stage=STAGE,
            outcome=DROPPED,
            reason=pl.col("reason"),
            detail=pl.col("detail"),
        ),
        FateRow,
        where="gates fate",
    )
    kept = fate_rows(gated, stage=STAGE, outcome=KEPT, reason="passed_gates", detail=pl.col("split"))
    # Unsorted: conservation does not need an order, and it must pass before the final ledger is written.
    final = pl.concat([ledger.fates, fate, kept])
    gates_flow = conservation.StageFlow(STAGE, conservation.ALL, rows_in, gated.height, fate.height, fate.height)
    conservation_result = conservation.check(final, ledger, gates_flow)
    # The earlier fates and the kept rows live on only in `final`: the sorted copy below replaces them.
    raw_lines = ledger.raw_lines
    del ledger, kept

    dropped = dict(fate.group_by("reason").len().sort("reason").iter_rows())
    report = GateReport(
        [contamination_result, coverage_result, poisoning_result, drift_result, conservation_result],
        overrides,
        rows={"in": rows_in, "out": gated.height, "dropped": dropped},
    )
    out = paths.stage_dir(STAGE)
    names = ["examples.parquet", "fate.parquet", "final_fate.parquet", "report.json", "report.md", "metrics.json"]
    targets = [out / name for name in names]
    if not report.passed:
        # An earlier run's passing outputs must not outlive a refusal (dvc repro removes them itself;
        # a direct run must too).
        for target in targets:
            target.unlink(missing_ok=True)
        raise GateFailure("the gates refused this snapshot\n\n" + report.to_markdown())

    # Conservation cannot be overridden, so it passed: one row per raw line, put in line order.
    # Two statements: the unsorted ledger goes before the sorted one is validated.
    final = conservation.in_line_order(final, raw_lines)
    final = check_output(final, FinalFate, where="gates final fate")
    metrics = stage_metrics(
        stage=STAGE,
        scope=conservation.ALL,
        rows_in=rows_in,
        before=before,
        after=gated,
        fate=fate,
        gates={result.gate: report.status(result) for result in report.results},
        overridden=report.overridden,
    )
    write_outputs(dict(zip(targets, [gated, fate, final, report.to_json(), report.to_markdown(), metrics])))
    waived = ", ".join(f"{gate} ({why})" for gate, why in report.overridden.items())
    print(
        f"gates: {rows_in} rows -> {gated.height} passed, {fate.height} dropped "
        f"({', '.join(f'{reason} {n}' for reason, n in dropped.items()) or 'none'}); "
        + (f"passed with overrides: {waived}" if waived else "all gates passed")
    )


if __name__ == "__main__":
    run(main)
