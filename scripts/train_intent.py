"""Stage `train_intent`: fit the intent classifier on the labelled seed set shipped with the template.

The model is written as JSON (vocabulary, idf and coefficients), never pickled: loading a pickle
runs code, and this repository treats every input as potentially hostile. Trained once here,
loaded by every per-batch `classify` stage, pinned by dvc.lock.
"""

from __future__ import annotations

import polars as pl

from corpus.intent import train_intent_model
from corpus.settings import TrainIntentSettings, stage_settings
from corpus.stage import load_params, paths_from_env, run, write_outputs

STAGE = "train_intent"


def main() -> None:
    paths = paths_from_env()
    settings = stage_settings(load_params(paths), TrainIntentSettings)
    seed = pl.read_ndjson(paths.seed / "intent_seed.jsonl", infer_schema_length=None)
    model = train_intent_model(seed, seed_value=settings.seed)
    out = paths.stage_dir(STAGE)
    labels = dict(seed.group_by("label").len().sort("label").iter_rows())
    write_outputs({out / "model.json": model.to_json(), out / "metrics.json": {"stage": STAGE, "seed_rows": seed.height, "labels": labels}})
    print(f"train_intent: fitted on {seed.height} labelled seed rows")


if __name__ == "__main__":
    run(main)
