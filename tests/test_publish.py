"""Publish: the contract v1 snapshot, byte for byte, from a small synthetic gates output on disk."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import rfc8785
import yaml

from corpus.errors import StageInputError
from corpus.merkle import inclusion_proof, merkle_root, verify_inclusion
from corpus.paths import RepoPaths
from corpus.snapshot import BuiltSet, build_sets, decode_lines, example_id_of, json_string
from corpus.stage import check_output
from schemas.classified import ClassifiedFeedback
from schemas.published import PreferenceExample
from schemas.redacted import PII_TYPES
from schemas.split import SplitFeedback
from tests.conftest import REPO_ROOT
from tests.frames import curated_rows
from tests.minirepo import good_record, write_batch, write_governance

# Every Python file the publish stage runs; the test repo's dvc.yaml declares them like the real one.
PUBLISH_CODE = [
    "scripts/publish.py",
    "corpus/snapshot.py",
    "corpus/merkle.py",
    "corpus/datacard.py",
    "corpus/stage.py",
    "corpus/governance.py",
    "corpus/paths.py",
    "corpus/errors.py",
    "corpus/gates/__init__.py",
    "corpus/gates/drift.py",
    "corpus/gates/report.py",
    "schemas/published.py",
    "schemas/gated.py",
    "schemas/split.py",
    "schemas/classified.py",
    "schemas/fate.py",
]
SHIPPED_PARAMS = yaml.safe_load((REPO_ROOT / "params.yaml").read_text(encoding="utf-8"))
TRICKY = 'Quote "this" \\ C:\\tmp\t\x01\x1f\x7f ü 😀 \u2028 e\u0301 </script>'
DATASET = {
    "name": "feedback-corpus-test",
    "description": "Synthetic snapshot for tests.",
    "license": "LicenseRef-Proprietary",
    "url": "https://example.invalid/feedback-corpus",
    "creator": "corpus tests",
}


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def split_rows(specs: list[dict[str, Any]]) -> pl.DataFrame:
    """SplitFeedback rows: defaults for a defect fix, each spec overriding some columns."""
    defaults: dict[str, Any] = {
        "rating": "down",
        "intent": "defect",
        "defect_subtype": "factual_error",
        "reason_code": "factual_error",
        "example_kind": "defect_fix",
        "intent_source": "reason_code",
        "split": "train",
        "dedup_absorbed": [],
        "pii_counts": {t: 0 for t in PII_TYPES},
        "response": "a wrong answer",
    }
    columns: dict[str, list[Any]] = {}
    keys = {k for spec in specs for k in spec} | set(defaults)
    for key in keys:
        columns[key] = [spec.get(key, defaults.get(key)) for spec in specs]
    columns["correction"] = columns["target"]
    columns["session_id"] = [f"s-{spec['feedback_id']}" for spec in specs]
    columns["split_group"] = columns["session_id"]
    columns["dedup_cluster_id"] = [f"c-{spec['feedback_id']}" for spec in specs]
    columns["dedup_cluster_size"] = [1 + len(a) for a in columns["dedup_absorbed"]]
    columns["annotator_id"] = [spec.get("annotator_id", f"a-{i % 3}") for i, spec in enumerate(specs)]
    return curated_rows(SplitFeedback, len(specs), **columns)


GATED = [
    {
        "feedback_id": "fb-a",
        "batch_id": "b1",
        "line_no": 1,
        "prompt": user("Why was I charged twice?"),
        "target": "The second charge was a duplicate; it is refunded.",
        "dedup_absorbed": ["fb-x"],
        "pii_counts": {**{t: 0 for t in PII_TYPES}, "EMAIL": 1, "PHONE": 2},
    },
    {
        "feedback_id": "fb-b",
        "batch_id": "b1",
        "line_no": 2,
        "prompt": user("Export my invoices"),
        "example_kind": "endorsed",
        "intent": "positive",
        "defect_subtype": None,
        "reason_code": None,
        "rating": "up",
        "response": "Here is the export.",
        "target": "Here is the export.",
        "intent_source": "rule:thumbs_up",
    },
    {
        "feedback_id": "fb-c",
        "batch_id": "b1",
        "line_no": 4,
        "split": "validation",
        "prompt": [{"role": "system", "content": "Be terse.\n"}, {"role": "user", "content": TRICKY}],
        "target": f"fixed: {TRICKY}",
        "response": "broken ☃",
    },
    {
        "feedback_id": "fb-d",
        "batch_id": "b2",
        "line_no": 1,
        "prompt": user("Say hi"),
        "target": "hi",
        "response": "hi",
    },  # no preference: the correction equals the response
    {
        "feedback_id": "fb-e",
        "batch_id": "b2",
        "line_no": 2,
        "split": "validation",
        "prompt": user("Cancel plan"),
        "target": "Your plan ends on the 30th.",
        "dedup_absorbed": ["fb-y"],
        "intent_source": "model",
    },
    {
        "feedback_id": "fb-f",
        "batch_id": "b2",
        "line_no": 4,
        "split": "validation",
        "prompt": user("Thanks"),
        "example_kind": "endorsed",
        "intent": "positive",
        "defect_subtype": None,
        "reason_code": None,
        "rating": "up",
        "response": "You are welcome.",
        "target": "You are welcome.",
    },
    # Same content as fb-a from another session: one example, two contributing records.
    {
        "feedback_id": "fb-g",
        "batch_id": "b1",
        "line_no": 6,
        "prompt": user("Why was I charged twice?"),
        "target": "The second charge was a duplicate; it is refunded.",
        "annotator_id": "a-9",
    },
    {
        "feedback_id": "fb-h",
        "batch_id": "b2",
        "line_no": 5,
        "example_kind": "endorsed",
        "intent": "positive",
        "defect_subtype": None,
        "reason_code": None,
        "rating": "up",
        "prompt": [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello"},
            {"role": "user", "content": "bye"},
        ],
        "response": "Goodbye!",
        "target": "Goodbye!",
    },
]


def classified_rows(specs: list[dict[str, Any]]) -> pl.DataFrame:
    return split_rows(specs).select(ClassifiedFeedback.to_schema().columns.keys())


# Records dedup absorbed, as classify wrote them. fb-x is in both batches: the first in batch order
# (b1 line 7) is the one dedup kept and absorbed, so lineage must name that one.
ABSORBED = {
    "b1": [
        {
            "feedback_id": "fb-y",
            "batch_id": "b1",
            "line_no": 5,
            "prompt": user("Cancel my plan"),
            "target": "Your plan ends on the 30th.",
            "annotator_id": "a-absorbed-y",
        },
        {
            "feedback_id": "fb-x",
            "batch_id": "b1",
            "line_no": 7,
            "prompt": user("Why was I charged twice??"),
            "target": "The second charge was a duplicate; it is refunded.",
            "annotator_id": "a-absorbed-x",
            "pii_counts": {**{t: 0 for t in PII_TYPES}, "IBAN": 1},
        },
    ],
    "b2": [
        {
            "feedback_id": "fb-x",
            "batch_id": "b2",
            "line_no": 3,
            "prompt": user("Why was I charged twice??"),
            "target": "The second charge was a duplicate; it is refunded.",
            "annotator_id": "a-later-copy",
        }
    ],
}


def final_fate(gated: pl.DataFrame) -> pl.DataFrame:
    kept = gated.select("batch_id", pl.col("line_no").cast(pl.Int64), "feedback_id").with_columns(
        stage=pl.lit("gates"), outcome=pl.lit("kept"), reason=pl.lit("published"), detail=pl.lit(None, pl.String)
    )
    others = pl.DataFrame(
        {
            "batch_id": ["b1", "b1", "b1", "b1", "b2", "b2"],
            "line_no": [3, 5, 7, 8, 3, 6],
            "feedback_id": [None, "fb-y", "fb-x", "fb-z", "fb-x", "fb-w"],
            "stage": ["ingest", "dedup", "dedup", "govern", "dedup", "balance"],
            "outcome": ["quarantined", "dropped", "dropped", "dropped", "dropped", "dropped"],
            "reason": [
                "json_malformed",
                "near_duplicate",
                "exact_duplicate",
                "no_consent",
                "duplicate_feedback_id",
                "annotator_cap",
            ],
            "detail": [None, "cluster c-fb-e kept fb-e", "cluster c-fb-a kept fb-a", None, "first seen in b1", None],
        },
        schema=kept.schema,
    )
    # Deliberately unsorted: publish sorts the ledger.
    return pl.concat([others, kept]).sort("feedback_id", descending=True, nulls_last=True)


# As corpus.gates.report.GateReport.to_json writes it.
GATE_REPORT = {
    "passed": True,
    "gates": {
        "contamination": {
            "status": "passed",
            "summary": "0 of 10 examples overlap an eval probe",
            "findings": [],
            "resolution": "",
            "override_justification": None,
            "facts": {"contaminated": 0},
        },
        "drift": {
            "status": "overridden",
            "summary": "against snapshot 0.9 (9 examples -> 8): drift in domain",
            "findings": ["domain: PSI 0.310 (max 0.2), JS 0.050 (max 0.1); largest shifts: billing 50.0% -> 100.0%"],
            "resolution": "override if intended",
            "override_justification": "billing launch, agreed with the eval team",
            "facts": {
                "baseline": "0.9",
                "measured": {"domain": {"psi": 0.31, "js": 0.05}, "intent": {"psi": 0.01, "js": 0.002}},
            },
        },
    },
    "overrides": {"accepted": {"drift": "billing launch, agreed with the eval team"}, "refused": {}},
    "rows": {"in": 10, "out": 8, "dropped": {"eval_contamination": 2}},
}


def make_repo(root: Path, gated: list[dict[str, Any]] = GATED, *, keep_style: bool = False) -> RepoPaths:
    paths = write_governance(root)
    for name in ("scripts", "corpus", "schemas"):
        (root / name).symlink_to(REPO_ROOT / name, target_is_directory=True)
    params = {
        "batches": ["b1", "b2"],
        "classify": {**SHIPPED_PARAMS["classify"], "keep_style": keep_style},
        "gates": {"drift": {"max_psi": 0.2, "max_js": 0.1}},
        "publish": {"version": "1.0", "date_published": None, "dataset": DATASET},
    }
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    (root / "dvc.yaml").write_text(
        yaml.safe_dump({"stages": {"publish": {"cmd": "python scripts/publish.py", "deps": PUBLISH_CODE}}}),
        encoding="utf-8",
    )
    write_batch(
        paths,
        "b1",
        [good_record(i) for i in range(8)],
        author="alice@example.com",
        justification="weekly vendor export",
    )
    write_batch(
        paths,
        "b2",
        [good_record(i) for i in range(10, 16)],
        author="dana@example.com",
        approver="carol@example.com",
        justification="prod chat sample, billing slice",
    )
    rows = split_rows(gated)
    gates = paths.stage_dir("gates")
    gates.mkdir(parents=True)
    rows.write_parquet(gates / "examples.parquet")
    final_fate(rows).write_parquet(gates / "final_fate.parquet")
    (gates / "report.json").write_text(json.dumps(GATE_REPORT), encoding="utf-8")
    classify = paths.stage_dir("classify")
    classify.mkdir(parents=True)
    for batch, specs in ABSORBED.items():
        mine = [spec for spec in gated if spec["batch_id"] == batch]
        classified_rows([*specs, *mine]).write_parquet(classify / f"{batch}.parquet")
    return paths


def publish(paths: RepoPaths) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CORPUS_REPO"}
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "publish.py")],
        cwd=paths.root,
        capture_output=True,
        text=True,
        env=env,
    )


def snapshot_bytes(paths: RepoPaths) -> dict[str, bytes]:
    return {
        p.relative_to(paths.published).as_posix(): p.read_bytes()
        for p in sorted(paths.published.rglob("*"))
        if p.is_file()
    }


def jsonl_lines(path: Path) -> list[str]:
    # JSON Lines ends lines with "\n" only; str.splitlines() would also split at U+2028 or U+0085,
    # which JSON strings (and these files) may hold unescaped.
    return path.read_text(encoding="utf-8").split("\n")[:-1]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in jsonl_lines(path)]


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> RepoPaths:
    paths = make_repo(tmp_path_factory.mktemp("publish"))
    result = publish(paths)
    assert result.returncode == 0, result.stderr
    return paths


# ---- canonical JSON and ids --------------------------------------------------------------------

JCS_CASES = [
    "",
    "plain",
    '"',
    "\\",
    "\b\t\n\f\r",
    "".join(chr(c) for c in range(0x20)),
    "\x7f",
    "é ü ß",
    "😀 𝄞",
    "\u2028\u2029",
    "e\u0301",
    "</script>",
    "\ufeffbom",
    TRICKY,
]


def sets_by_name(rows: pl.DataFrame, *, keep_style: bool = False) -> dict[str, BuiltSet]:
    return {b.spec.name: b for b in build_sets(rows, keep_style=keep_style)}


def test_columnar_json_strings_are_rfc8785() -> None:
    # Escaping is per character, so every code point (in runs of 256, surrogates excluded) plus the
    # awkward cases covers every string.
    points = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    texts = JCS_CASES + ["".join(points[i : i + 256]) for i in range(0, len(points), 256)]
    got = pl.DataFrame({"text": texts}).select(json_string(pl.col("text"))).to_series().to_list()
    assert got == [rfc8785.dumps(text).decode("utf-8") for text in texts]


def test_example_lines_are_rfc8785_with_the_id_first() -> None:
    specs = [
        {
            "feedback_id": f"fb-{i}",
            "batch_id": "b1",
            "line_no": i + 1,
            "target": f"target {text}",
            "response": text[::-1] + "!",
            "prompt": [
                {"role": "system", "content": text[::-1]},
                {"role": "assistant", "content": text},
                {"role": "user", "content": text},
            ],
        }
        for i, text in enumerate(JCS_CASES)
    ]
    built = sets_by_name(split_rows(specs))
    by_feedback = {spec["feedback_id"]: spec for spec in specs}
    for name, shape in (("sft", "messages"), ("preference", "pair")):
        lines = dict(
            built[name].examples.join(built[name].sources, on="example_id").select("feedback_id", "line").iter_rows()
        )
        assert len(lines) == len(specs)
        for feedback_id, line in lines.items():
            spec = by_feedback[feedback_id]
            if shape == "messages":
                body = {"messages": [*spec["prompt"], {"role": "assistant", "content": spec["target"]}]}
            else:
                body = {"prompt": spec["prompt"], "chosen": spec["target"], "rejected": spec["response"]}
            canonical = rfc8785.dumps(body)
            example_id = hashlib.sha256(canonical).hexdigest()
            assert line.encode("utf-8") == b'{"example_id":"' + example_id.encode() + b'",' + canonical[1:]


def test_lines_are_the_canonical_example_with_its_id_first(published: RepoPaths) -> None:
    for path in sorted(published.published.glob("*/*.jsonl")):
        raw = path.read_bytes()
        assert raw.endswith(b"\n") and b"\r" not in raw
        ids = []
        for line in jsonl_lines(path):
            example = json.loads(line)
            body = {k: v for k, v in example.items() if k != "example_id"}
            canonical = rfc8785.dumps(body)
            assert example["example_id"] == hashlib.sha256(canonical).hexdigest() == example_id_of(example)
            assert line.encode("utf-8") == b'{"example_id":"' + example["example_id"].encode() + b'",' + canonical[1:]
            ids.append(example["example_id"])
        assert ids == sorted(ids) and len(set(ids)) == len(ids)


def test_sft_and_preference_formats(published: RepoPaths) -> None:
    sft = {split: read_jsonl(published.published / "sft" / f"{split}.jsonl") for split in ("train", "validation")}
    pref = {
        split: read_jsonl(published.published / "preference" / f"{split}.jsonl") for split in ("train", "validation")
    }
    # train: fb-a (= fb-g), fb-b, fb-d, fb-h; validation: fb-c, fb-e, fb-f.
    assert [len(sft["train"]), len(sft["validation"])] == [4, 3]
    # Preference from defect fixes only, without fb-d (correction equals response): fb-a(=fb-g); fb-c, fb-e.
    assert [len(pref["train"]), len(pref["validation"])] == [1, 2]
    for example in sft["train"] + sft["validation"]:
        assert list(example) == ["example_id", "messages"]
        assert all(list(m) == ["content", "role"] for m in example["messages"])
        assert example["messages"][-1]["role"] == "assistant" and example["messages"][-2]["role"] == "user"
    for example in pref["train"] + pref["validation"]:
        assert list(example) == ["example_id", "chosen", "prompt", "rejected"]
        assert example["prompt"][-1]["role"] == "user" and example["chosen"] != example["rejected"]
    tricky = next(e for e in pref["validation"] if e["prompt"][0]["role"] == "system")
    assert (
        tricky["prompt"][1]["content"] == TRICKY
        and tricky["chosen"] == f"fixed: {TRICKY}"
        and tricky["rejected"] == "broken ☃"
    )
    multi_turn = next(e for e in sft["train"] if len(e["messages"]) == 4)
    assert [m["role"] for m in multi_turn["messages"]] == ["user", "assistant", "user", "assistant"]
    assert multi_turn["messages"][-1]["content"] == "Goodbye!"
    assert not (published.published / "style").exists()


def test_ids_stay_when_other_rows_change() -> None:
    changed = [dict(spec) for spec in GATED if spec["feedback_id"] not in ("fb-b", "fb-g")]
    changed[0]["annotator_id"] = "someone-else"  # who wrote it does not change what the example is
    changed[1]["split"] = "train"  # nor which split it is in
    changed.append(
        {
            "feedback_id": "fb-new",
            "batch_id": "b3",
            "line_no": 1,
            "prompt": user("New question"),
            "target": "New answer",
        }
    )
    before, after = sets_by_name(split_rows(GATED)), sets_by_name(split_rows(changed))
    removed = sets_by_name(split_rows([GATED[1]]))  # fb-b alone: the only example that goes
    for name in ("sft", "preference"):
        old_ids, new_ids = set(before[name].examples["example_id"]), set(after[name].examples["example_id"])
        assert old_ids - new_ids == set(removed[name].examples["example_id"])
        assert len(new_ids - old_ids) == 1  # fb-new
        common = before[name].examples.join(after[name].examples, on="example_id", suffix="_after")
        assert common.height == len(old_ids & new_ids) and common["line"].to_list() == common["line_after"].to_list()


def test_a_blank_rated_response_gives_an_sft_example_and_no_preference_pair() -> None:
    """The model returned nothing (or blank space) and someone wrote the answer: the correction
    trains as sft, but a preference pair needs a non-empty `rejected` (contract 5), so there is
    none, and the skip is counted rather than failing the snapshot."""
    rows = split_rows(
        [
            {"feedback_id": "fb-empty", "batch_id": "b1", "line_no": 1, "prompt": user("Total?"), "target": "42 EUR",
             "response": ""},
            {"feedback_id": "fb-blank", "batch_id": "b1", "line_no": 2, "prompt": user("Due date?"),
             "target": "March 3", "response": " \n\t"},
            {"feedback_id": "fb-same", "batch_id": "b1", "line_no": 3, "prompt": user("VAT?"), "target": "20%",
             "response": "20%"},
            {"feedback_id": "fb-ok", "batch_id": "b1", "line_no": 4, "prompt": user("Plan?"), "target": "Pro",
             "response": "Basic"},
        ]
    )  # fmt: skip
    sets = sets_by_name(rows)
    assert sorted(sets["sft"].sources["feedback_id"]) == ["fb-blank", "fb-empty", "fb-ok", "fb-same"]
    assert sets["preference"].sources["feedback_id"].to_list() == ["fb-ok"]
    assert (sets["preference"].skipped_identical, sets["preference"].skipped_blank_response) == (1, 2)
    lines = sets["preference"].examples["line"]
    check_output(decode_lines(lines, sets["preference"].spec), PreferenceExample, where="preference")


def test_identical_content_across_splits_is_refused() -> None:
    with pytest.raises(StageInputError, match="both train and validation"):
        build_sets(split_rows([dict(GATED[0]), {**GATED[6], "split": "validation"}]), keep_style=False)


# ---- lineage and fate --------------------------------------------------------------------------


def test_lineage_has_every_contributing_record(published: RepoPaths) -> None:
    lineage = pl.read_parquet(published.published / "lineage.parquet")
    in_files = {
        (path.relative_to(published.published).as_posix(), e["example_id"])
        for path in published.published.glob("*/*.jsonl")
        for e in read_jsonl(path)
    }
    assert set(lineage.select("example_file", "example_id").iter_rows()) == in_files
    charged = lineage.filter(
        (pl.col("example_file") == "sft/train.jsonl") & pl.col("feedback_id").is_in(["fb-a", "fb-g", "fb-x"])
    )
    assert charged["example_id"].n_unique() == 1
    roles = dict(charged.select("feedback_id", "dedup_role").iter_rows())
    assert roles == {"fb-a": "representative", "fb-g": "representative", "fb-x": "absorbed"}
    absorbed_x = charged.filter(pl.col("feedback_id") == "fb-x").row(0, named=True)
    assert (absorbed_x["batch_id"], absorbed_x["line_no"], absorbed_x["annotator_id"]) == ("b1", 7, "a-absorbed-x")
    assert (
        absorbed_x["redactions"] == "IBAN:1"
        and absorbed_x["dedup_cluster_id"] == "c-fb-a"
        and absorbed_x["split"] == "train"
    )
    rep_a = charged.filter(pl.col("feedback_id") == "fb-a").row(0, named=True)
    assert rep_a["redactions"] == "EMAIL:1,PHONE:2" and rep_a["guideline_version"] == "g-1"
    assert rep_a["collected_at"] == datetime(2026, 11, 2, 8, 15, tzinfo=UTC)
    # A defect fix feeds an SFT and a preference example: one lineage row for each.
    assert lineage.filter(pl.col("feedback_id") == "fb-e")["example_file"].sort().to_list() == [
        "preference/validation.jsonl",
        "sft/validation.jsonl",
    ]
    assert lineage.filter(pl.col("feedback_id") == "fb-y")["dedup_role"].to_list() == ["absorbed", "absorbed"]
    assert lineage.sort(["example_file", "example_id", "feedback_id"]).equals(lineage)


def test_fate_is_every_raw_line_once_and_sorted(published: RepoPaths) -> None:
    fate = pl.read_parquet(published.published / "fate.parquet")
    expected = pl.read_parquet(published.stage_dir("gates") / "final_fate.parquet").sort(["batch_id", "line_no"])
    assert fate.equals(expected)
    assert fate.select("batch_id", "line_no").is_unique().all()
    assert fate.height == 14


# ---- manifest, Merkle root, determinism --------------------------------------------------------


def test_manifest_lists_every_file_with_size_and_digest(published: RepoPaths) -> None:
    manifest = json.loads((published.published / "manifest.json").read_text(encoding="utf-8"))
    on_disk = snapshot_bytes(published)
    assert sorted(f["path"] for f in manifest["files"]) == sorted(p for p in on_disk if p != "manifest.json")
    for entry in manifest["files"]:
        data = on_disk[entry["path"]]
        assert entry["bytes"] == len(data) and entry["sha256"] == hashlib.sha256(data).hexdigest()
    per_file = {p: len(read_jsonl(published.published / p)) for p in on_disk if p.endswith(".jsonl")}
    assert manifest["examples"] == {"per_file": per_file, "total": sum(per_file.values())}
    assert manifest["contract_version"] == "1" and manifest["snapshot_version"] == "1.0"
    text = (published.published / "manifest.json").read_text(encoding="utf-8")
    assert text == json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_merkle_root_recomputes_from_published_ids(published: RepoPaths) -> None:
    manifest = json.loads((published.published / "manifest.json").read_text(encoding="utf-8"))
    ids = {e["example_id"] for path in published.published.glob("*/*.jsonl") for e in read_jsonl(path)}
    assert manifest["merkle"]["root"] == merkle_root(ids)
    assert manifest["merkle"]["tree_size"] == len(ids)
    for example_id in ids:
        proof = inclusion_proof(ids, example_id)
        assert proof.tree_size == manifest["merkle"]["tree_size"]
        assert verify_inclusion(example_id, proof, manifest["merkle"]["root"])


def test_rerun_is_byte_identical(tmp_path: Path, published: RepoPaths) -> None:
    first = snapshot_bytes(published)
    result = publish(published)
    assert result.returncode == 0, result.stderr
    assert snapshot_bytes(published) == first
    # Another checkout of the same inputs, elsewhere on disk, gives the same bytes too.
    elsewhere = make_repo(tmp_path)
    assert publish(elsewhere).returncode == 0
    assert snapshot_bytes(elsewhere) == first


def test_a_failed_run_leaves_no_snapshot(tmp_path: Path) -> None:
    paths = make_repo(tmp_path)
    # What an earlier run left, including a file today's params would not write.
    for stale in ("manifest.json", "sft/train.jsonl", "style/train.jsonl"):
        (paths.published / stale).parent.mkdir(parents=True, exist_ok=True)
        (paths.published / stale).write_text("{}\n", encoding="utf-8")
    fate_path = paths.stage_dir("gates") / "final_fate.parquet"
    pl.read_parquet(fate_path).filter(pl.col("feedback_id").ne_missing("fb-c")).write_parquet(fate_path)
    result = publish(paths)
    assert result.returncode == 3
    assert "1 gated row(s) without a `kept` fate" in result.stderr and "Traceback" not in result.stderr
    assert not paths.published.exists()


def test_style_rows_need_a_style_set() -> None:
    style = {
        "feedback_id": "fb-s",
        "batch_id": "b2",
        "line_no": 7,
        "prompt": user("Summarise"),
        "intent": "taste",
        "defect_subtype": None,
        "reason_code": "verbosity",
        "example_kind": "style",
        "target": "Short summary.",
    }
    rows = split_rows([*GATED, style])
    with pytest.raises(StageInputError, match="classify.keep_style"):
        build_sets(rows, keep_style=False)
    built = sets_by_name(rows, keep_style=True)
    assert sorted(built) == ["preference", "sft", "style"]
    [line] = built["style"].examples["line"].to_list()
    assert json.loads(line)["messages"][-1] == {"content": "Short summary.", "role": "assistant"}
    assert "fb-s" not in built["sft"].sources["feedback_id"].to_list()


def test_style_set_is_published_when_classify_keeps_style(tmp_path: Path) -> None:
    style = {
        "feedback_id": "fb-s",
        "batch_id": "b2",
        "line_no": 7,
        "prompt": user("Summarise"),
        "intent": "taste",
        "defect_subtype": None,
        "reason_code": "verbosity",
        "example_kind": "style",
        "target": "Short summary.",
    }
    paths = make_repo(tmp_path, [*GATED, style], keep_style=True)
    assert publish(paths).returncode == 0
    assert len(read_jsonl(paths.published / "style" / "train.jsonl")) == 1
    assert (paths.published / "style" / "validation.jsonl").read_bytes() == b""
    lineage = pl.read_parquet(paths.published / "lineage.parquet").filter(pl.col("feedback_id") == "fb-s")
    assert lineage["example_file"].to_list() == ["style/train.jsonl"]
    doc = json.loads((paths.published / "croissant.json").read_text(encoding="utf-8"))
    assert "style" in {rs["@id"] for rs in doc["recordSet"]}


# ---- loading as training code does ---------------------------------------------------------------


def test_files_load_with_polars(published: RepoPaths) -> None:
    sft = pl.read_ndjson(published.published / "sft" / "train.jsonl")
    assert sft.columns == ["example_id", "messages"] and sft.height == 4
    pref = pl.read_ndjson(published.published / "preference" / "validation.jsonl")
    assert pref.columns == ["example_id", "chosen", "prompt", "rejected"]
    assert pl.read_parquet(published.published / "lineage.parquet").height > 0


def test_files_load_with_hugging_face_datasets(
    published: RepoPaths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    datasets = pytest.importorskip("datasets")
    root = published.published
    sft = datasets.load_dataset(
        "json",
        data_files={s: str(root / "sft" / f"{s}.jsonl") for s in ("train", "validation")},
        cache_dir=str(tmp_path),
    )
    assert sft["train"].num_rows == 4 and sft["validation"].num_rows == 3
    assert sft["train"][0]["messages"][-1]["role"] == "assistant"
    pref = datasets.load_dataset(
        "json",
        data_files={s: str(root / "preference" / f"{s}.jsonl") for s in ("train", "validation")},
        cache_dir=str(tmp_path),
    )
    assert set(pref["validation"].column_names) == {"example_id", "prompt", "chosen", "rejected"}
    assert isinstance(pref["validation"][0]["prompt"], list)


# ---- DATACARD.md and croissant.json --------------------------------------------------------------


def test_datacard_answers_the_three_questions(published: RepoPaths) -> None:
    card = (published.published / "DATACARD.md").read_text(encoding="utf-8")
    for needle in (
        "alice@example.com",
        "bob@example.com",
        "dana@example.com",
        "carol@example.com",
        "weekly vendor export",
        "prod chat sample, billing slice",
        "g-2026.10",
    ):
        assert needle in card
    for code in PUBLISH_CODE:
        digest = hashlib.sha256((REPO_ROOT / code).read_bytes()).hexdigest()
        assert f"| `{code}` | `{digest}` |" in card
    assert "keep_style: false" in card  # resolved params
    assert "| contamination | passed | 0 of 10 examples overlap an eval probe | — |" in card
    assert (
        "| drift | overridden | against snapshot 0.9 (9 examples -> 8): drift in domain "
        "| billing launch, agreed with the eval team |" in card
    )
    assert "| domain | 0.31 | 0.05 |" in card and "PSI 0.2 and Jensen-Shannon 0.1" in card
    assert "dropped by the gates: eval_contamination 2" in card
    manifest = json.loads((published.published / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["merkle"]["root"] in card
    assert (
        "## 1. Which annotations are in" in card
        and "## 2. Which transformations" in card
        and "## 3. What distribution" in card
    )


def test_datacard_shows_values_from_feedback_as_one_line_each(tmp_path: Path) -> None:
    """Domains and gate findings quote raw feedback: a newline in one must not forge a section of
    the card, and a terminal escape must not reach whoever `cat`s it."""
    forged = "billing\n## 4. Approved by security\x1b[2K\u202e"
    paths = make_repo(tmp_path)
    examples_path = paths.stage_dir("gates") / "examples.parquet"
    examples = pl.read_parquet(examples_path)
    examples.with_columns(
        pl.when(pl.col("feedback_id") == "fb-a").then(pl.lit(forged)).otherwise(pl.col("domain")).alias("domain")
    ).write_parquet(examples_path)
    report_path = paths.stage_dir("gates") / "report.json"
    report = json.loads(report_path.read_text(encoding="utf-8"))
    report["gates"]["drift"]["findings"] = [f"domain: largest shifts: {forged} 0.0% -> 12.5%"]
    report_path.write_text(json.dumps(report), encoding="utf-8")
    result = publish(paths)
    assert result.returncode == 0, result.stderr

    card = (paths.published / "DATACARD.md").read_text(encoding="utf-8")
    assert "\x1b" not in card and "\u202e" not in card
    assert not any(line.startswith("## 4.") for line in card.splitlines())
    shown = "billing\\n## 4. Approved by security\\x1b[2K\\u202e"
    assert f"- drift: domain: largest shifts: {shown} 0.0% -> 12.5%" in card
    assert f"| {shown} | 1 |" in card  # the domain table of stats.json


def test_croissant_attributes_records_to_annotators(published: RepoPaths) -> None:
    doc = json.loads((published.published / "croissant.json").read_text(encoding="utf-8"))
    assert doc["conformsTo"] == "http://mlcommons.org/croissant/1.1"
    assert doc["@context"]["prov"] == "http://www.w3.org/ns/prov#"
    lineage = next(rs for rs in doc["recordSet"] if rs["@id"] == "lineage")
    annotator = next(f for f in lineage["field"] if f["@id"] == "lineage/annotator_id")
    assert annotator["equivalentProperty"] == "prov:wasAttributedTo"
    on_disk = snapshot_bytes(published)
    files = [d for d in doc["distribution"] if d["@type"] == "cr:FileObject"]
    assert {d["contentUrl"] for d in files} == {
        p for p in on_disk if p not in ("manifest.json", "DATACARD.md", "croissant.json")
    }
    for d in files:
        assert d["sha256"] == hashlib.sha256(on_disk[d["contentUrl"]]).hexdigest()
    for key in (
        "rai:dataCollection",
        "rai:dataCollectionType",
        "rai:dataAnnotationProtocol",
        "rai:dataAnnotationPlatform",
        "rai:annotationsPerItem",
        "rai:dataPreprocessingProtocol",
        "rai:personalSensitiveInformation",
        "rai:dataUseCases",
        "rai:dataLimitations",
        "rai:dataBiases",
    ):
        assert doc[key], key


def test_croissant_validates_and_loads_with_mlcroissant(published: RepoPaths) -> None:
    mlc = pytest.importorskip("mlcroissant")
    dataset = mlc.Dataset(jsonld=str(published.published / "croissant.json"))
    assert not dataset.metadata.ctx.issues.errors
    sft = list(dataset.records("sft"))
    assert len(sft) == 7 and {r["sft/split"] for r in sft} == {b"train", b"validation"}
    lineage = list(dataset.records("lineage"))
    assert len(lineage) == pl.read_parquet(published.published / "lineage.parquet").height


def test_stage_code_is_read_from_every_pipeline_file(tmp_path: Path) -> None:
    """Per-batch stages live in pipelines/<stage>/dvc.yaml, their paths relative to its wdir."""
    from corpus.snapshot import stage_code_hashes

    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "publish.py").write_text("print('publish')\n")
    (tmp_path / "scripts" / "ingest.py").write_text("print('ingest')\n")
    (tmp_path / "dvc.yaml").write_text(yaml.safe_dump({"stages": {"publish": {"cmd": "x", "deps": ["scripts/publish.py"]}}}))
    ingest = tmp_path / "pipelines" / "ingest" / "dvc.yaml"
    ingest.parent.mkdir(parents=True)
    stage = {"foreach": "${batches}", "do": {"wdir": "../..", "cmd": "x", "deps": ["scripts/ingest.py", "data/${item}.jsonl"]}}
    ingest.write_text(yaml.safe_dump({"stages": {"ingest": stage}}))
    code = stage_code_hashes(RepoPaths(tmp_path))
    assert sorted(code) == ["scripts/ingest.py", "scripts/publish.py"]
    assert code["scripts/ingest.py"] == hashlib.sha256(b"print('ingest')\n").hexdigest()

    stage["do"]["wdir"] = "../../.."
    ingest.write_text(yaml.safe_dump({"stages": {"ingest": stage}}))
    with pytest.raises(StageInputError, match="pipelines/ingest/dvc.yaml declares scripts/ingest.py, which is outside"):
        stage_code_hashes(RepoPaths(tmp_path))
