"""The template as a newcomer gets it: a git clone, the sample fetched from the in-repo DVC remote,
`dvc repro` end to end, and the snapshot and ledger it produces.

These tests share one clone per worker (xdist group "pipeline"); tests that change the clone work
on their own copy of it.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
import yaml

from corpus.merkle import merkle_root
from tests.conftest import REPO_ROOT

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("pipeline")]

TRUTH = json.loads((REPO_ROOT / "tests" / "fixtures" / "sample_truth.json").read_text(encoding="utf-8"))


def sh(*args: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The README flow in a fresh clone, reusing this test environment instead of a new .venv."""
    root = tmp_path_factory.mktemp("template") / "clone"
    sh("git", "clone", "--quiet", str(REPO_ROOT), str(root), cwd=root.parent)
    dvc_files = sh("git", "ls-files", "*.dvc", cwd=root).stdout.split()
    sh("dvc", "pull", "--quiet", *dvc_files, cwd=root)
    sh("dvc", "repro", cwd=root)
    yield root


def published_digests(root: Path) -> dict[str, str]:
    published = root / "data" / "published"
    return {
        str(p.relative_to(published)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(published.rglob("*"))
        if p.is_file()
    }


def test_quarantine_holds_exactly_the_planted_bad_lines(clone: Path) -> None:
    quarantine = pl.concat(
        pl.read_parquet(p) for p in sorted((clone / "data" / "interim" / "ingest").glob("*.quarantine.parquet"))
    )
    rejected_batches = {f["batch_id"]: f["expected_reason"] for f in TRUTH["manifest_failures"]}
    line_level = quarantine.filter(~pl.col("batch_id").is_in(list(rejected_batches)))
    def rules(text: str) -> tuple[str, ...]:
        return tuple(sorted(text.split("; ")))

    planted = sorted(
        (c["batch_id"], c["line_no"], rules(c["expected_rule"]))
        for c in TRUTH["cases"]["malformed_lines"] + TRUTH["cases"]["schema_failures"]
    )
    found = sorted((batch, line, rules(rule)) for batch, line, rule in line_level.select("batch_id", "line_no", "rule").rows())
    assert found == planted


def test_rejected_batches_contribute_nothing_and_account_for_every_line(clone: Path) -> None:
    ingest = clone / "data" / "interim" / "ingest"
    for failure in TRUTH["manifest_failures"]:
        batch = failure["batch_id"]
        assert pl.read_parquet(ingest / f"{batch}.parquet").height == 0
        quarantine = pl.read_parquet(ingest / f"{batch}.quarantine.parquet")
        assert quarantine["line_no"].to_list() == list(range(1, failure["lines"] + 1))
        assert set(quarantine["rule"]) == {f"manifest:{failure['expected_reason']}"}


def test_every_raw_line_has_exactly_one_final_fate(clone: Path) -> None:
    fate = pl.read_parquet(clone / "data" / "published" / "fate.parquet")
    raw_lines = TRUTH["figures"]["lines"]
    assert fate.height == raw_lines
    assert fate.select("batch_id", "line_no").is_duplicated().sum() == 0
    outcomes = dict(fate.group_by("outcome").len().iter_rows())
    print(f"final fates of {raw_lines} raw lines: {outcomes}")
    assert set(outcomes) <= {"kept", "dropped", "quarantined"} and outcomes.get("kept", 0) > 1000


def test_second_repro_does_nothing_and_status_is_clean(clone: Path) -> None:
    again = sh("dvc", "repro", cwd=clone)
    assert "Running stage" not in again.stdout
    assert "Data and pipelines are up to date" in sh("dvc", "status", cwd=clone).stdout


def test_contract_files_load_and_merkle_root_recomputes(clone: Path) -> None:
    published = clone / "data" / "published"
    manifest = json.loads((published / "manifest.json").read_text())
    ids: list[str] = []
    for name in ("sft/train.jsonl", "sft/validation.jsonl", "preference/train.jsonl", "preference/validation.jsonl"):
        frame = pl.read_ndjson(published / name)
        assert frame.height > 0 and frame["example_id"].is_unique().all()
        ids.extend(frame["example_id"].to_list())
    sft = pl.read_ndjson(published / "sft" / "train.jsonl")
    assert sft["messages"].list.last().struct.field("role").unique().to_list() == ["assistant"]
    preference = pl.read_ndjson(published / "preference" / "train.jsonl")
    assert set(preference.columns) == {"example_id", "prompt", "chosen", "rejected"}
    root = manifest["merkle"]["root"] if "merkle" in manifest else manifest["merkle_root"]
    assert merkle_root(sorted(set(ids))) == root
    lineage = pl.read_parquet(published / "lineage.parquet")
    assert set(ids) <= set(lineage["example_id"])
    for entry in manifest["files"]:
        data = (published / entry["path"]).read_bytes()
        assert len(data) == entry["bytes"] and hashlib.sha256(data).hexdigest() == entry["sha256"]
    datasets = pytest.importorskip("datasets")
    loaded = datasets.load_dataset("json", data_files={"train": str(published / "sft" / "train.jsonl")})
    assert loaded["train"].num_rows == sft.height


def test_no_planted_pii_value_reaches_the_snapshot(clone: Path) -> None:
    published = clone / "data" / "published"
    text = "\n".join(
        (published / name).read_text(encoding="utf-8")
        for name in ("sft/train.jsonl", "sft/validation.jsonl", "preference/train.jsonl", "preference/validation.jsonl")
    )
    leaked = [c for c in TRUTH["cases"]["pii"] if c["value"] in text or json.dumps(c["value"])[1:-1] in text]
    print(f"planted PII values: {len(TRUTH['cases']['pii'])}, found in the snapshot: {len(leaked)}")
    assert leaked == []


def test_changing_an_ingest_param_reruns_ingest(clone: Path, tmp_path: Path) -> None:
    work = tmp_path / "clone"
    shutil.copytree(clone, work, symlinks=True)
    params = yaml.safe_load((work / "params.yaml").read_text())
    params["ingest"]["max_line_bytes"] = 999_999
    (work / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    assert "ingest" in sh("dvc", "params", "diff", cwd=work).stdout
    status = sh("dvc", "status", cwd=work).stdout
    assert "ingest@" in status and "modified:           ingest.max_line_bytes" in status
    rerun = sh("dvc", "repro", cwd=work).stdout
    assert "Running stage 'pipelines/ingest/dvc.yaml:ingest@prod-chat-2026-10-12'" in rerun
    # ingest records its runs in its own lock file; the other per-batch stages' locks are untouched
    # (the root's changes too: publish shows every param on the data card).
    changed = sh("git", "status", "--porcelain", "dvc.lock", "pipelines", cwd=work).stdout.split()[1::2]
    assert sorted(changed) == ["dvc.lock", "pipelines/ingest/dvc.lock"]
    # Same bytes out of ingest, so nothing downstream has to run again.
    assert "Running stage 'dedup'" not in rerun


def test_rebuild_from_scratch_is_byte_identical(clone: Path, tmp_path: Path) -> None:
    work = tmp_path / "clone"
    shutil.copytree(clone, work, symlinks=True)
    shutil.rmtree(work / "data" / "interim")
    shutil.rmtree(work / "data" / "published")
    sh("dvc", "repro", "--force", cwd=work)
    assert published_digests(work) == published_digests(clone)


def test_gates_catch_the_planted_triggers_once_revocations_are_removed(clone: Path, tmp_path: Path) -> None:
    work = tmp_path / "clone"
    shutil.copytree(clone, work, symlinks=True)
    revocations = work / "data" / "governance" / "revocations.yaml"
    shipped = revocations.read_text()
    revocations.write_text("revocations: []\n")
    failed = sh("dvc", "repro", cwd=work, check=False)
    assert failed.returncode != 0
    report = failed.stderr + failed.stdout
    poisoning = TRUTH["poisoning"]
    for planted in (poisoning["known"], poisoning["unlisted"]):
        assert planted["annotator_id"] in report
    # Triggers match case-insensitively, and the report names them in lower case.
    assert poisoning["known"]["trigger"].lower() in report.lower()
    assert poisoning["unlisted"]["trigger"].lower() in report.lower()
    assert "Traceback" not in report
    # A maintainer restores the revocations: the snapshot publishes again, identical to the shipped one.
    revocations.write_text(shipped)
    sh("dvc", "repro", cwd=work)
    assert published_digests(work) == published_digests(clone)


def test_planted_conflicting_corrections_are_caught(clone: Path) -> None:
    fate = pl.read_parquet(clone / "data" / "published" / "fate.parquet")
    planted = pl.DataFrame(TRUTH["cases"]["conflicts"]).select("feedback_id", "cluster")
    # Only clusters with two or more members left when dedup runs can show a conflict.
    reached = planted.join(fate, on="feedback_id").filter(pl.col("stage").is_in(["dedup", "balance", "split", "gates"]))
    per_cluster = reached.group_by("cluster").agg(
        pl.len().alias("members"), pl.col("reason").str.starts_with("conflicting_corrections").any().alias("caught")
    )
    eligible = per_cluster.filter(pl.col("members") >= 2)
    caught = int(eligible["caught"].sum())
    print(f"planted conflict clusters reaching dedup with 2+ members: {eligible.height}, flagged as conflicts: {caught}")
    assert eligible.height > 0 and caught / eligible.height >= 0.6


# ---- feedback the sample generator never writes --------------------------------------------------

PLANTED_PII = [
    "jane.doe@corp.example", "+44 20 7946 0958", "DE89 3704 0044 0532 0130 00", "AKIAIOSFODNN7EXAMPLE",
    "5500-0000-0000-0004", "123-45-6789", "2001:db8:85a3::8a2e:370:7334", "first.last+tag@sub.example.co.uk",
    "+33 1 42 68 53 00", "ghp_16C7e42F292c6912E7710c838347Ae178B4a", "jörg.müller@bäckerei.example",
]  # fmt: skip
# Values only recognisable by what surrounds them: (text holding it, the value).
PLANTED_IN_CONTEXT = [
    ("the job reads postgres://etl:Zq81vaultPass@10.1.2.3:5432/main", "Zq81vaultPass"),
    ("curl -u deploy:Xk42-rotate-me https://api.example.com/v1", "Xk42-rotate-me"),
    ("PESEL 44051401359, please update it", "44051401359"),
    ("my Aadhaar: 4991 1866 5246", "4991 1866 5246"),
    ("Telefon: 030 12345678, bitte zurückrufen", "030 12345678"),
]
# An annotator id that names a person, which the contract forbids (it would be published in lineage).
IDENTIFYING_ANNOTATOR = "jane.roe@vendor.example"
UNSEEN_TEXTS = [
    "这个回答完全错了，请重新计算发票金额。", "مرحبا، الفاتورة غير صحيحة", "Ça ne marche pas — vraiment 🤦‍♀️",
    "e\u0301te\u0301 ﬁle ＦＵＬＬＷＩＤＴＨ", "", " ", "\t\n", "ok", "a" * 20_000, "```python\nprint('hi')\n```",
    "<script>alert(1)</script>", "\u200b\u200b", "🙂" * 300, "line1\r\nline2\rline3", "null", "-1e309",
    f"Call me at {PLANTED_PII[1]} or mail {PLANTED_PII[0]}", f"IBAN {PLANTED_PII[2]}, refund please",
    *(f"my details: {value}. Why was I billed twice?" for value in PLANTED_PII[3:]),
    *(text for text, _ in PLANTED_IN_CONTEXT),
]  # fmt: skip
# Lines no parser accepts, or that break one rule of contract 3.1 each: (line, rule the quarantine names).
BROKEN = [
    (b"{not json", "malformed_json"),
    (b"\xff\xfe bad utf8", "invalid_utf8"),
    (b"[]", "not_a_json_object"),
    (b'{"feedback_id": "unseen-missing"}', "annotator_id:required"),
    (
        json.dumps(
            {"feedback_id": "unseen-named", "collected_at": "2026-11-12T10:00:00Z", "source": "vendor_acme",
             "annotator_id": IDENTIFYING_ANNOTATOR, "annotator_role": "vendor_annotator", "guideline_version": None,
             "domain": "billing", "model_version": "m-2.3", "prompt": [{"role": "user", "content": "Refund?"}],
             "response": "No.", "rating": "down", "correction": "Yes, within 30 days.", "reason_code": "factual_error",
             "comment": None, "training_consent": True, "content_origin": "human"}
        ).encode(),
        "annotator_id:pseudonymous",
    ),
]  # fmt: skip


def unseen_feedback(rows: int, seed: int = 7) -> list[bytes]:
    """Contract-valid lines unlike the sample's: other scripts, blank and huge texts, long and
    system-led conversations, blank rated responses, every reason code, odd offsets, extra keys."""
    rng = random.Random(seed)

    def text() -> str:
        picks = rng.choices(UNSEEN_TEXTS, k=1 if rng.random() < 0.7 else rng.randint(2, 5))
        return " ".join(picks)

    reason_codes = [None, "factual_error", "hallucinated_entity", "missed_instruction", "broken_format",
                    "broken_tool_call", "unsafe_output", "tone", "verbosity", "phrasing", "other_preference",
                    "testing", "other"]  # fmt: skip
    lines = []
    for i in range(rows):
        prompt = [{"role": "system", "content": text()}] if rng.random() < 0.3 else []
        prompt += [{"role": rng.choice(["user", "assistant", "tool"]), "content": text()} for _ in range(rng.randint(0, 5))]
        prompt.append({"role": "user", "content": text()})
        record = {
            "feedback_id": f"unseen-{i:05d}",
            "collected_at": f"2026-11-{rng.randint(10, 19)}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:07"
            + rng.choice(["Z", "+05:30", "-08:00", "+14:00", ".123456Z"]),
            # Mostly the batch's own surface; a few rows claim another one.
            "source": "vendor_acme" if rng.random() < 0.9 else rng.choice(["prod_chat", "staging_debug"]),
            "annotator_id": f"unseen-ann-{rng.randint(0, 30)}",
            "annotator_role": rng.choice(["end_user", "engineer", "vendor_annotator", "model"]),
            "guideline_version": rng.choice([None, "v2.3"]),
            "domain": rng.choice(["account", "billing", "code", "travel"]),
            "model_version": "m-2.3",
            "prompt": prompt,
            "response": rng.choice([text(), "", " \n"]),
            "rating": rng.choice(["up", "down", "down"]),
            "correction": rng.choice([None, "", text(), text()]),
            "reason_code": rng.choice(reason_codes),
            "comment": rng.choice([None, "", text()]),
            "training_consent": rng.random() < 0.9,
            "content_origin": rng.choice(["human", "human", "model_generated"]),
        }
        if rng.random() < 0.3:
            record["session_id"] = f"unseen-s-{rng.randint(0, 40)}"
        if rng.random() < 0.1:
            record["extra_key"] = {"kept": ["but", "ignored"]}
        lines.append(json.dumps(record, ensure_ascii=rng.random() < 0.5).encode())
    return lines


def test_unseen_feedback_runs_through_with_one_fate_per_line(clone: Path, tmp_path: Path) -> None:
    """A batch written by others in the same contract: every line ends with one recorded fate, the
    broken ones quarantined by line and rule, no planted PII value published, and a blank rated
    response still trains (sft) without breaking the preference contract."""
    work = tmp_path / "clone"
    shutil.copytree(clone, work, symlinks=True)
    good = unseen_feedback(600)
    lines = good + [line for line, _ in BROKEN]
    export = tmp_path / "export.jsonl"
    export.write_bytes(b"\n".join(lines) + b"\n")
    corpusctl = str(Path(sys.executable).parent / "corpusctl")
    batch = "unseen-2026-11-20"
    sh(corpusctl, "batch", "add", str(export), "--batch-id", batch, "--source", "vendor_acme",
       "--author", "bob.nakamura@example.com", "--justification", "feedback the sample never holds", cwd=work)  # fmt: skip
    sh(corpusctl, "batch", "approve", batch, "--approver", "priya.raman@example.com", cwd=work)
    run = sh("dvc", "repro", cwd=work)
    assert "Traceback" not in run.stdout + run.stderr

    fate = pl.read_parquet(work / "data" / "published" / "fate.parquet").filter(pl.col("batch_id") == batch)
    assert sorted(fate["line_no"]) == list(range(1, len(lines) + 1))
    quarantined = fate.filter(pl.col("line_no") > len(good))
    assert quarantined["outcome"].unique().to_list() == ["quarantined"]
    for (_, rule), reason in zip(BROKEN, quarantined.sort("line_no")["reason"], strict=True):
        assert reason.startswith(rule)
    kept = set(fate.filter(pl.col("outcome") == "kept")["feedback_id"])
    assert kept, "some unseen feedback should be published"
    # A row may not claim another surface than the one its batch was approved as.
    foreign = {r["feedback_id"] for r in map(json.loads, good) if r["source"] != "vendor_acme"}
    claimed = fate.filter(pl.col("feedback_id").is_in(list(foreign)))
    assert foreign and claimed.height == len(foreign)
    assert claimed["reason"].str.contains("source:batch_source").all()

    published = work / "data" / "published"
    text = "".join(p.read_text(encoding="utf-8") for p in sorted(published.rglob("*.jsonl")))
    assert not [value for value in PLANTED_PII if value in text]
    assert not [value for _, value in PLANTED_IN_CONTEXT if value in text]
    # The ledger and lineage are published too: the identifying annotator id is in neither.
    tables = "".join(str(pl.read_parquet(published / name).rows()) for name in ("fate.parquet", "lineage.parquet"))
    assert IDENTIFYING_ANNOTATOR not in tables
    lineage = pl.read_parquet(published / "lineage.parquet").filter(pl.col("batch_id") == batch)
    assert set(lineage["feedback_id"]) >= kept
    metrics = json.loads((work / "data" / "interim" / "publish" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["preference_skipped_blank_response"] > 0
    for line in (published / "preference" / "train.jsonl").read_text(encoding="utf-8").splitlines():
        example = json.loads(line)
        assert example["rejected"] and example["chosen"]
