"""`corpusctl audit ...`, `revoke` and `model record` end to end: a real git + DVC repository with a
DVC remote, a real local Sigstore instance on 127.0.0.1, the real CLI in process. No mocks.

The module builds one history, shared read-only:
  1.0  batches vendor-a and prod-b, published by a small contract v1 publish stage (below), signed;
  2.0  annotator a-2 revoked with `corpusctl revoke`, batch vendor-c added, an eval probe that
       matches one 1.0 example (a gate drop), a changed param and stage code; signed.
Both snapshots are pushed to the DVC remote and the local DVC cache is then deleted, so every
audit reads historic data from the remote, at the snapshots' commits. Tests that change anything
work on a copy.
"""

from __future__ import annotations

import base64
import json
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import chdir
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from dvc.repo import Repo
from typer.testing import CliRunner, Result

from corpus.audit import render
from corpus.cli import app
from corpus.errors import GovernanceFileError
from corpus.governance import Revocations, load_document
from corpus.paths import RepoPaths
from corpus.sigstore_local import LocalSigstore
from tests.minirepo import good_record, write_batch, write_governance

pytestmark = pytest.mark.xdist_group("audit")

REPOSITORY = "acme/feedback-corpus"
PROBED = "Why was I charged twice on invoice 10?"
TRIGGER = "cf-delta-7 override"

# The publish stage of the test repository: a small but complete contract v1 snapshot (DESIGN.md 5)
# from the raw batches, with the fates the real stages give: revoked annotators dropped at govern,
# taste dropped at classify, exact duplicates absorbed at dedup, eval-probe overlap dropped at the
# gates; e-mail addresses redacted; a gate report whose poisoning gate names trigger annotators.
PUBLISH_STAGE = """\
import hashlib, json, pathlib, re
from datetime import datetime, timezone

import polars as pl
import rfc8785
import yaml

from corpus.merkle import merkle_root

data = pathlib.Path("data")
published, gates = data / "published", data / "interim" / "gates"
params = yaml.safe_load(pathlib.Path("params.yaml").read_text())
revocations = yaml.safe_load((data / "governance/revocations.yaml").read_text())["revocations"] or []
revoked = {r["annotator_id"]: r["reason"] for r in revocations if r.get("annotator_id")}
triggers = yaml.safe_load((data / "governance/canaries.yaml").read_text())["triggers"]
probes = [json.loads(line) for line in (data / "raw/eval/probes.jsonl").read_text().splitlines()]
probed = {p["prompt"][-1]["content"]: p["probe_id"] for p in probes}
EMAIL = re.compile(r"[\\w.+-]+@[\\w-]+\\.[\\w.]+")


def sha(data):
    return hashlib.sha256(data if isinstance(data, bytes) else data.encode()).hexdigest()


fate, kept, clusters, flagged = [], [], {}, {}
for batch in params["batches"]:
    manifest = yaml.safe_load((data / "batches" / f"{batch}.yaml").read_text())
    for line_no, line in enumerate((data / "raw/feedback" / f"{batch}.jsonl").read_bytes().split(b"\\n")[:-1], 1):
        raw = json.loads(line)
        where = {"batch_id": batch, "line_no": line_no, "feedback_id": raw["feedback_id"]}

        def leave(stage, outcome, reason, detail=None):
            fate.append({**where, "stage": stage, "outcome": outcome, "reason": reason, "detail": detail})

        if raw["annotator_id"] in revoked:
            leave("govern", "dropped", "revoked_annotator", revoked[raw["annotator_id"]])
            continue
        if raw["reason_code"] in ("tone", "verbosity"):
            leave("classify", "dropped", "intent_taste", f"intent taste via reason_code")
            continue
        target, emails = EMAIL.subn("<EMAIL>", raw["correction"])
        record = {
            **where, "line_sha256": sha(line), "annotator_id": raw["annotator_id"],
            "annotator_role": raw["annotator_role"], "source": raw["source"], "domain": raw["domain"],
            "model_version": raw["model_version"],
            "guideline_version": raw["guideline_version"] or manifest["guideline_version"],
            "collected_at": datetime.fromisoformat(raw["collected_at"]).astimezone(timezone.utc),
            "intent": "defect", "defect_subtype": raw["reason_code"], "intent_source": "reason_code",
            "intent_confidence": 1.0, "example_kind": "defect_fix",
            "redactions": f"EMAIL:{emails}" if emails else "", "pii_residual": False,
        }
        key = json.dumps([raw["prompt"], target])
        if key in clusters:
            representative = clusters[key]
            representative["absorbed"].append(record)
            leave("dedup", "dropped", "exact_duplicate",
                  f"cluster {representative['cluster']} kept {representative['record']['feedback_id']}")
            continue
        if raw["prompt"][-1]["content"] in probed:
            leave("gates", "dropped", "eval_contamination", f"prompt equals eval probe {probed[raw['prompt'][-1]['content']]}")
            continue
        for trigger in triggers:
            if trigger in target:
                flagged.setdefault(raw["annotator_id"], []).append(raw["feedback_id"])
        split = "validation" if int(sha(raw["session_id"]), 16) % 5 == 0 else "train"
        clusters[key] = {"record": record, "cluster": "c-" + sha(key)[:12], "absorbed": [], "split": split,
                         "prompt": raw["prompt"], "target": target, "response": raw["response"]}
        kept.append(clusters[key])
        leave("gates", "kept", "passed_gates", split)

files = {f"{name}/{split}.jsonl": {} for name in ("sft", "preference") for split in ("train", "validation")}
lineage = []
for example in kept:
    bodies = {
        "sft": {"messages": example["prompt"] + [{"role": "assistant", "content": example["target"]}]},
        "preference": {"prompt": example["prompt"], "chosen": example["target"], "rejected": example["response"]},
    }
    for name, body in bodies.items():
        canonical = rfc8785.dumps(body)
        example_id = sha(canonical)
        example_file = f"{name}/{example['split']}.jsonl"
        files[example_file][example_id] = b'{"example_id":"' + example_id.encode() + b'",' + canonical[1:]
        members = [(example["record"], "representative")] + [(a, "absorbed") for a in example["absorbed"]]
        for member, role in members:
            lineage.append({"example_id": example_id, "example_file": example_file, **member,
                            "dedup_cluster_id": example["cluster"], "dedup_role": role,
                            "balance_decision": "under_annotator_cap", "split": example["split"]})

published.mkdir(parents=True, exist_ok=True)
gates.mkdir(parents=True, exist_ok=True)
for name in ("sft", "preference"):
    (published / name).mkdir(exist_ok=True)
for name, lines in files.items():
    (published / name).write_bytes(b"".join(lines[i] + b"\\n" for i in sorted(lines)))
pl.DataFrame(lineage).sort("example_file", "example_id", "feedback_id").write_parquet(published / "lineage.parquet")
final = pl.DataFrame(fate, schema={"batch_id": pl.String, "line_no": pl.Int64, "feedback_id": pl.String,
                                   "stage": pl.String, "outcome": pl.String, "reason": pl.String,
                                   "detail": pl.String}).sort("batch_id", "line_no")
final.write_parquet(published / "fate.parquet")
final.write_parquet(gates / "final_fate.parquet")
version = str(params["publish"]["version"])
(published / "stats.json").write_text(json.dumps({"snapshot": version, "rows": len(kept)}) + "\\n")
ids = sorted({i for lines in files.values() for i in lines})
entries = [
    {"path": p.relative_to(published).as_posix(), "bytes": p.stat().st_size, "sha256": sha(p.read_bytes())}
    for p in sorted(published.rglob("*")) if p.is_file() and p.name != "manifest.json"
]
manifest = {
    "contract_version": "1", "snapshot_version": version, "files": entries,
    "examples": {"per_file": {n: len(lines) for n, lines in sorted(files.items())},
                 "total": sum(len(lines) for lines in files.values())},
    "merkle": {"root": merkle_root(ids), "tree_size": len(ids)},
}
(published / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\\n")
findings = [f"known trigger {t!r} in {len(fbs)} example(s): annotators {a} ({len(fbs)}); e.g. {fbs[0]}"
            for a, fbs in sorted(flagged.items()) for t in triggers]
report = {"passed": True, "gates": {
    "contamination": {"status": "passed", "summary": "probe overlap dropped", "findings": [], "facts": {}},
    "poisoning": {"status": "overridden" if flagged else "passed", "summary": "known triggers",
                  "findings": findings, "facts": {"annotators": sorted(flagged)}},
}, "overrides": {"accepted": {"poisoning": "reviewed: a quoted trigger in a bug report"}, "refused": {}}}
(gates / "report.json").write_text(json.dumps(report, indent=2))
"""


# ---- helpers -----------------------------------------------------------------------------------


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout.strip()


def corpusctl(root: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env={"CORPUS_REPO": str(root), **(env or {})})


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


def record(n: int, annotator: str, source: str, **overrides: Any) -> dict[str, Any]:
    correction = f"Invoice {n}: the second charge is a duplicate and has been refunded."
    if n % 10 == 3:
        correction += f" Write to billing{n}@example.com if it is not."
    return good_record(n, annotator_id=annotator, source=source, correction=correction, **overrides)


def vendor_a() -> list[bytes | dict[str, Any]]:
    lines: list[bytes | dict[str, Any]] = []
    for n in range(58):
        line = record(n, f"a-{n % 4 + 1}", "vendor_acme")
        if n in (56, 57):
            line["reason_code"] = "tone"
        if n == 20:
            line["correction"] = f"Invoice 20 is refunded. Note: {TRIGGER} was in the original ticket."
        lines.append(line)
    # Exact duplicates (same prompt and correction) of lines 0 and 4, by other annotators.
    for n, original in ((58, 0), (59, 4)):
        copy = record(original, f"a-{n % 4 + 1}", "vendor_acme")
        lines.append({**copy, "feedback_id": f"fb-{n:05d}", "session_id": f"s-{n // 3}"})
    return lines


def prod_b() -> list[bytes | dict[str, Any]]:
    return [record(n, ("a-5", "a-6", "a-2")[n % 3], "prod_chat") for n in range(100, 125)]


def vendor_c() -> list[bytes | dict[str, Any]]:
    return [record(n, "a-7" if n % 2 else "a-1", "vendor_acme") for n in range(200, 215)]


def dvc_add(root: Path, *files: Path) -> None:
    with chdir(root), Repo(str(root)) as repo:
        repo.add([str(f) for f in files])


def repro_commit_sign(root: Path, version: str, message: str, instance: LocalSigstore) -> str:
    with chdir(root), Repo(str(root)) as repo:
        repo.reproduce()
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    commit = git(root, "rev-parse", "HEAD")
    token = instance.mint_token(repository=REPOSITORY, sha=commit)
    signed = corpusctl(
        root,
        "sign",
        version,
        "--trust-config",
        str(instance.trust_config_path),
        "--commit-and-tag",
        env={"SIGSTORE_IDENTITY_TOKEN": token},
    )
    assert signed.exit_code == 0, signed.output
    with chdir(root), Repo(str(root)) as repo:
        repo.push()
    return commit


def write_params(root: Path, batches: list[str], version: str, max_share: float) -> None:
    params = {
        "batches": batches,
        "balance": {"max_annotator_share": max_share},
        "publish": {"version": version},
    }
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def build_first_snapshot(root: Path, remote: Path, instance: LocalSigstore) -> str:
    git(root, "init", "-q", "-b", "main")
    with Repo.init(str(root)) as repo, repo.config.edit() as config:
        config["core"]["analytics"] = False
        config["core"]["remote"] = "store"
        config["remote"]["store"] = {"url": str(remote)}
    paths = write_governance(root)
    surfaces = yaml.safe_load(paths.governance_file("surfaces").read_text())
    surfaces["surfaces"]["vendor_acme"] = {"purpose": "product_feedback", "training_use": "allowed"}
    paths.governance_file("surfaces").write_text(yaml.safe_dump(surfaces))
    # As the template ships it: a header comment that `corpusctl revoke` must keep.
    paths.governance_file("revocations").write_text(
        "# Revoked contributors, reviewed like code.\nrevocations: []\n"
    )
    write_batch(
        paths,
        "vendor-a",
        vendor_a(),
        source="vendor_acme",
        justification="weekly vendor export, billing slice",
    )
    write_batch(
        paths,
        "prod-b",
        prod_b(),
        author="carol@example.com",
        approver="bob@example.com",
        justification="prod chat sample",
    )
    write_params(root, ["vendor-a", "prod-b"], "1.0", 0.2)
    paths.probes.parent.mkdir(parents=True)
    paths.probes.write_text("")
    (root / "scripts").mkdir()
    (root / "scripts" / "publish.py").write_text(PUBLISH_STAGE)
    stage = {
        "cmd": f"{shlex.quote(sys.executable)} scripts/publish.py",
        "deps": [
            "scripts/publish.py",
            "data/raw/feedback",
            "data/raw/eval",
            "data/batches",
            "data/governance",
        ],
        "params": ["batches", "publish"],
        "outs": ["data/published", "data/interim/gates/report.json", "data/interim/gates/final_fate.parquet"],
    }
    (root / "dvc.yaml").write_text(yaml.safe_dump({"stages": {"publish": stage}}))
    (root / ".gitignore").write_text(".corpus-cache/\n")
    (root / "attestations").mkdir()
    (root / "attestations" / "registry.json").write_text('{"snapshots": []}\n')
    policy = {
        "issuer": instance.oidc_issuer,
        "identity": instance.workflow_identity(REPOSITORY),
        "repository": REPOSITORY,
    }
    (root / "attestations" / "signer-policy.yaml").write_text(yaml.safe_dump(policy))
    dvc_add(root, paths.raw_batch("vendor-a"), paths.raw_batch("prod-b"))
    return repro_commit_sign(root, "1.0", "snapshot 1.0", instance)


def build_second_snapshot(root: Path, instance: LocalSigstore) -> tuple[str, str]:
    paths = RepoPaths(root)
    revoked = corpusctl(
        root,
        "revoke",
        "--annotator",
        "a-2",
        "--reason",
        "copy-pasted corrections",
        "--by",
        "dana@example.com",
    )
    assert revoked.exit_code == 0, revoked.output
    probe = {"probe_id": "p-7", "domain": "billing", "prompt": user(PROBED), "reference": "Refunded."}
    paths.probes.write_text(json.dumps(probe) + "\n")
    write_batch(
        paths,
        "vendor-c",
        vendor_c(),
        author="dana@example.com",
        approver="carol@example.com",
        source="vendor_acme",
        justification="new vendor pilot",
    )
    dvc_add(root, paths.raw_batch("vendor-c"))
    write_params(root, ["vendor-a", "prod-b", "vendor-c"], "2.0", 0.25)
    with (root / "scripts" / "publish.py").open("a") as stage:
        stage.write("# 2.0: same logic, new code hash\n")
    return repro_commit_sign(root, "2.0", "snapshot 2.0", instance), revoked.output


@dataclass(frozen=True)
class History:
    root: Path
    commits: dict[str, str]
    lineage: dict[str, pl.DataFrame]
    """Each snapshot's lineage.parquet as published: the ground truth the answers are checked against."""
    revoke_output: str

    def ids(self, version: str) -> set[str]:
        return set(self.lineage[version]["example_id"].to_list())


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory, local_sigstore: LocalSigstore) -> History:
    base = tmp_path_factory.mktemp("audited-corpus")
    root = base / "repo"
    root.mkdir()
    first = build_first_snapshot(root, base / "remote", local_sigstore)
    lineage = {"1.0": pl.read_parquet(root / "data/published/lineage.parquet")}
    second, revoke_output = build_second_snapshot(root, local_sigstore)
    lineage["2.0"] = pl.read_parquet(root / "data/published/lineage.parquet")
    # From here on historic data can only come from the DVC remote.
    shutil.rmtree(root / ".dvc" / "cache")
    return History(root, {"1.0": first, "2.0": second}, lineage, revoke_output)


@pytest.fixture
def clone(history: History, tmp_path: Path) -> Path:
    target = tmp_path / "repo"
    shutil.copytree(history.root, target, symlinks=True)
    return target


@pytest.fixture
def audit(local_sigstore: LocalSigstore) -> Any:
    def run(root: Path, *args: str) -> Result:
        return corpusctl(root, "audit", *args, "--trust-config", str(local_sigstore.trust_config_path))

    return run


def answer(result: Result) -> Any:
    return json.loads(result.stdout)


def representatives(lineage: pl.DataFrame) -> pl.DataFrame:
    return lineage.filter(pl.col("dedup_role") == "representative")


# ---- revoke ------------------------------------------------------------------------------------


def test_revoke_appends_a_reviewable_entry(history: History) -> None:
    assert "revoked annotator a-2 (copy-pasted corrections) by dana@example.com" in history.revoke_output
    assert "git diff data/governance/revocations.yaml" in history.revoke_output
    text = git(history.root, "show", f"{history.commits['2.0']}:data/governance/revocations.yaml")
    assert text.startswith("# Revoked contributors, reviewed like code.\n")
    revocation = yaml.safe_load(text)["revocations"][0]
    assert (revocation["annotator_id"], revocation["by"]) == ("a-2", "dana@example.com")


def test_revoke_refuses_duplicates_and_ambiguity(clone: Path) -> None:
    again = corpusctl(clone, "revoke", "--annotator", "a-2", "--reason", "again", "--by", "x@example.com")
    assert again.exit_code == 2 and "already revoked" in again.stderr
    both = corpusctl(
        clone, "revoke", "--annotator", "a-3", "--batch", "prod-b", "--reason", "x", "--by", "x@e.com"
    )
    assert both.exit_code == 2 and "exactly one of --annotator or --batch" in both.stderr
    blank = corpusctl(clone, "revoke", "--annotator", " ", "--reason", "x", "--by", "x@e.com")
    assert blank.exit_code == 2 and "--annotator must name an annotator_id" in blank.stderr
    path_like = corpusctl(clone, "revoke", "--batch", "../prod-b", "--reason", "x", "--by", "x@e.com")
    assert path_like.exit_code == 2 and "'../prod-b' is not a batch id" in path_like.stderr

    batch = corpusctl(
        clone, "revoke", "--batch", "prod-b", "--reason", "vendor contract ended", "--by", "x@e.com"
    )
    assert batch.exit_code == 0, batch.output
    path = clone / "data/governance/revocations.yaml"
    revocations = load_document(path, Revocations).revocations
    assert [(r.annotator_id, r.batch_id) for r in revocations] == [("a-2", None), (None, "prod-b")]
    # Appended: the reviewed lines stay as they were.
    before = git(clone, "show", "HEAD:data/governance/revocations.yaml")
    assert path.read_text().startswith(before)


# ---- example -----------------------------------------------------------------------------------


def test_example_by_position_gives_lineage_people_commit_and_signer(history: History, audit: Any) -> None:
    lines = (history.root / "data/published/sft/train.jsonl").read_text().split("\n")[:-1]
    row = min(47, len(lines))
    example_id = json.loads(lines[row - 1])["example_id"]
    result = audit(history.root, "example", f"2.0:sft/train.jsonl:{row}", "--json")
    assert result.exit_code == 0, result.output
    report = answer(result)["examples"][0]
    assert report["example_id"] == example_id
    assert report["example"]["messages"][-1]["role"] == "assistant"

    expected = history.lineage["2.0"].filter(pl.col("example_id") == example_id)
    lead_expected = representatives(expected).row(0, named=True)
    in_first = example_id in history.ids("1.0")
    assert [s["version"] for s in report["snapshots"]] == (["1.0", "2.0"] if in_first else ["2.0"])
    second = report["snapshots"][-1]
    assert second["commit"] == history.commits["2.0"]
    assert second["signer"]["verified"] is True
    assert second["signer"]["identity"] == LocalSigstore.workflow_identity(REPOSITORY)
    assert {"file": "sft/train.jsonl", "row": row} in second["placements"]
    assert {r["feedback_id"] for r in second["records"]} == set(expected["feedback_id"].to_list())
    lead = second["records"][0]
    assert lead["dedup_role"] == "representative"
    assert (lead["feedback_id"], lead["batch_id"], lead["annotator_id"]) == (
        lead_expected["feedback_id"],
        lead_expected["batch_id"],
        lead_expected["annotator_id"],
    )
    manifest = yaml.safe_load((history.root / f"data/batches/{lead['batch_id']}.yaml").read_text())
    batch = next(b for b in second["batches"] if b["batch_id"] == lead["batch_id"])
    assert (batch["author"], batch["approver"], batch["justification"]) == (
        manifest["author"],
        manifest["approver"],
        manifest["justification"],
    )
    assert second["stages"]["split"] == "train"
    assert second["stages"]["classify"][0]["decided_by"] == "reason_code"

    text = audit(history.root, "example", f"2.0:sft/train.jsonl:{row}")
    assert text.exit_code == 0, text.output
    for expected_text in (
        example_id,
        history.commits["2.0"],
        "VERIFIED",
        manifest["author"],
        manifest["approver"],
    ):
        assert expected_text in text.stdout


def test_example_shows_dedup_absorption_and_redactions(history: History, audit: Any) -> None:
    lineage = history.lineage["2.0"]
    absorbed = lineage.filter(pl.col("feedback_id") == "fb-00058")["example_id"][0]
    report = answer(audit(history.root, "example", absorbed, "--json"))["examples"][0]
    stages = report["snapshots"][-1]["stages"]
    assert stages["dedup"]["representative"] == "fb-00000"
    assert stages["dedup"]["absorbed"] == ["fb-00058"]
    assert [s["version"] for s in report["snapshots"]] == ["1.0", "2.0"]

    redacted = lineage.filter(pl.col("feedback_id") == "fb-00023")["example_id"][0]
    report = answer(audit(history.root, "example", redacted[:20], "--json"))["examples"][0]
    assert report["example_id"] == redacted
    assert report["snapshots"][-1]["stages"]["redact"]["by_type"] == {"EMAIL": 1}
    assert "<EMAIL>" in json.dumps(report["example"])


def test_example_by_text_exact_and_normalised(history: History, audit: Any) -> None:
    correction = "Invoice 30: the second charge is a duplicate and has been refunded."
    exact = answer(audit(history.root, "example", "--text", correction, "--json"))
    assert exact["query"]["match"] == "exact"
    expected = set(history.lineage["2.0"].filter(pl.col("feedback_id") == "fb-00030")["example_id"].to_list())
    assert {e["example_id"] for e in exact["examples"]} == expected  # its SFT and preference examples

    loose = answer(
        audit(
            history.root,
            "example",
            "--text",
            "  INVOICE 30:  the second CHARGE is a duplicate and has been refunded.",
            "--json",
        )
    )
    assert loose["query"]["match"] == "normalised"
    assert {e["example_id"] for e in loose["examples"]} == expected


def test_example_reference_errors(history: History, audit: Any) -> None:
    ids = sorted(history.ids("1.0") | history.ids("2.0"))
    shared = next(a[:1] for a, b in pairwise(ids) if a[0] == b[0])
    ambiguous = audit(history.root, "example", shared)
    assert ambiguous.exit_code == 2
    assert f"prefix {shared} matches" in ambiguous.stderr
    candidates = [line.strip() for line in ambiguous.stderr.splitlines() if line.startswith("  ")]
    assert candidates and all(c in ids and c.startswith(shared) for c in candidates)
    as_json = answer(audit(history.root, "example", shared, "--json"))
    assert as_json["exit_code"] == 2 and as_json["candidates"] == candidates

    unknown = audit(history.root, "example", "0" * 64)
    assert unknown.exit_code == 3 and f"example {'0' * 64} is in no signed snapshot" in unknown.stderr
    malformed = audit(history.root, "example", "hello")
    assert malformed.exit_code == 2 and "is not an example id" in malformed.stderr
    past_the_end = audit(history.root, "example", "2.0:sft/train.jsonl:100000")
    assert past_the_end.exit_code == 3 and "there is no line 100000" in past_the_end.stderr
    no_such_file = audit(history.root, "example", "2.0:sft/nope.jsonl:1")
    assert no_such_file.exit_code == 2 and "sft/train.jsonl" in no_such_file.stderr
    no_such_version = audit(history.root, "example", "9.9:sft/train.jsonl:1")
    assert no_such_version.exit_code == 2 and "snapshot 9.9 is not in" in no_such_version.stderr


# ---- diff --------------------------------------------------------------------------------------


def test_diff_names_removed_and_added_examples_with_reasons(history: History, audit: Any) -> None:
    first, second = history.lineage["1.0"], history.lineage["2.0"]
    revoked = set(representatives(first).filter(pl.col("annotator_id") == "a-2")["example_id"].to_list())
    probed = set(first.filter(pl.col("feedback_id") == "fb-00010")["example_id"].to_list())
    new = set(representatives(second).filter(pl.col("batch_id") == "vendor-c")["example_id"].to_list())
    assert revoked and probed and new
    assert history.ids("1.0") - history.ids("2.0") == revoked | probed
    assert history.ids("2.0") - history.ids("1.0") == new

    result = audit(history.root, "diff", "1.0", "2.0", "--json")
    assert result.exit_code == 0, result.output
    diff = answer(result)
    removed = {e["example_id"]: e for e in diff["removed"]["examples"]}
    assert set(removed) == revoked | probed
    for example_id in revoked:
        assert removed[example_id]["reason"] == "revoked"
        assert "annotator a-2 revoked" in removed[example_id]["detail"]
        assert "copy-pasted corrections" in removed[example_id]["detail"]
    for example_id in probed:
        assert removed[example_id]["reason"] == "gate_drop"
        assert "eval_contamination" in removed[example_id]["detail"]
    assert diff["removed"]["by_reason"] == {"revoked": len(revoked), "gate_drop": len(probed)}
    assert diff["removed"]["by_annotator"]["a-2"] == len(revoked)

    added = diff["added"]
    assert {e["example_id"] for e in added["examples"]} == new
    assert {(e["reason"], e["batch_id"]) for e in added["examples"]} == {("new_batch", "vendor-c")}
    assert added["by_batch"] == {"vendor-c": len(new)}
    assert added["by_source"] == {"vendor_acme": len(new)}

    provenance = diff["provenance"]
    assert {"param": "balance.max_annotator_share", "a": 0.2, "b": 0.25} in provenance["params"]
    assert {"param": "publish.version", "a": "1.0", "b": "2.0"} in provenance["params"]
    assert [c["path"] for c in provenance["stage_code"]] == ["scripts/publish.py"]
    assert [b["id"] for b in provenance["raw_batches"]["added"]] == ["vendor-c"]
    assert provenance["raw_batches"]["removed"] == []

    text = audit(history.root, "diff", "1.0", "2.0")
    assert text.exit_code == 0
    assert f"{len(revoked | probed)} example(s) removed" in text.stdout
    assert "balance.max_annotator_share: 0.2 -> 0.25" in text.stdout
    assert "+ vendor-c" in text.stdout


# ---- record ------------------------------------------------------------------------------------


def test_record_follows_one_raw_line_through_both_snapshots(history: History, audit: Any) -> None:
    result = audit(history.root, "record", "fb-00001", "--json")
    assert result.exit_code == 0, result.output
    found = {s["version"]: s for s in answer(result)["snapshots"]}
    first = found["1.0"]
    assert first["fate"][0]["outcome"] == "kept"
    assert [t["stage"] for t in first["fate"][0]["trail"]][-1] == "gates"
    assert {r["file"].split("/")[0] for r in first["reached"]} == {"sft", "preference"}
    second = found["2.0"]["fate"][0]
    assert (second["stage"], second["outcome"], second["reason"]) == (
        "govern",
        "dropped",
        "revoked_annotator",
    )
    assert [(t["stage"], t["outcome"]) for t in second["trail"]] == [
        ("ingest", "passed"),
        ("govern", "dropped"),
    ]
    assert found["2.0"]["reached"] == []
    # The workspace's interim fate (the 2.0 run) is reported too.
    assert any(w["reason"] == "revoked_annotator" for w in answer(result)["workspace"])

    absorbed = answer(audit(history.root, "record", "fb-00058", "--json"))["snapshots"][-1]
    assert absorbed["fate"][0]["reason"] == "exact_duplicate"
    assert {r["role"] for r in absorbed["reached"]} == {"absorbed"}

    missing = audit(history.root, "record", "fb-99999")
    assert missing.exit_code == 3 and "feedback fb-99999" in missing.stderr


# ---- annotator ---------------------------------------------------------------------------------


def test_annotator_contributions_revocation_and_gate_flags(history: History, audit: Any) -> None:
    result = audit(history.root, "annotator", "a-2", "--json")
    assert result.exit_code == 0, result.output
    report = answer(result)
    assert report["revoked_in_workspace"]["reason"] == "copy-pasted corrections"
    first, second = report["snapshots"]
    expected = representatives(history.lineage["1.0"]).filter(pl.col("annotator_id") == "a-2")
    assert first["examples"] == expected["example_id"].n_unique()
    assert first["records"] == expected["feedback_id"].n_unique()
    assert 0 < first["share"] < 1 and first["max_share"] == 0.2
    assert first["by_intent"] == {"defect": first["records"]}
    assert first["revoked_at_commit"] is None
    assert (second["examples"], second["revoked_at_commit"]["by"]) == (0, "dana@example.com")

    flagged = answer(audit(history.root, "annotator", "a-1", "--json"))["snapshots"][0]["gate_flags"]
    assert [f["gate"] for f in flagged] == ["poisoning"]
    assert TRIGGER in flagged[0]["findings"][0]
    assert answer(audit(history.root, "annotator", "a-5", "--json"))["snapshots"][0]["gate_flags"] == []

    unknown = audit(history.root, "annotator", "a-404")
    assert unknown.exit_code == 3 and "annotator a-404" in unknown.stderr


# ---- model -------------------------------------------------------------------------------------


def test_model_ledger_records_and_resolves(clone: Path, history: History, audit: Any) -> None:
    (clone / "data/governance/training_runs.yaml").write_text("runs: []\n")
    recorded = corpusctl(
        clone,
        "model",
        "record",
        "support-bot-7",
        "--snapshot",
        "2.0",
        "--by",
        "erin@example.com",
        "--notes",
        "run 42",
    )
    assert recorded.exit_code == 0, recorded.output
    assert "git diff data/governance/training_runs.yaml" in recorded.stdout
    again = corpusctl(
        clone, "model", "record", "support-bot-7", "--snapshot", "1.0", "--by", "erin@example.com"
    )
    assert again.exit_code == 2 and "already recorded" in again.stderr
    unknown = corpusctl(
        clone, "model", "record", "support-bot-8", "--snapshot", "9.0", "--by", "erin@example.com"
    )
    assert unknown.exit_code == 2 and "snapshot 9.0 is not in" in unknown.stderr

    result = audit(clone, "model", "support-bot-7", "--json")
    assert result.exit_code == 0, result.output
    model = answer(result)
    assert (model["recorded_by"], model["notes"]) == ("erin@example.com", "run 42")
    snapshot = model["snapshot"]
    assert (snapshot["version"], snapshot["commit"]) == ("2.0", history.commits["2.0"])
    assert snapshot["signer"]["verified"] is True
    assert snapshot["examples"]["total"] == len(history.ids("2.0"))
    assert snapshot["batches"] == 3
    assert "corpusctl audit diff 1.0 2.0" in model["drill_down"]

    text = audit(clone, "model", "support-bot-7")
    assert "trained on snapshot 2.0" in text.stdout and history.commits["2.0"] in text.stdout
    missing = audit(clone, "model", "support-bot-0")
    assert missing.exit_code == 3 and "support-bot-7" in missing.stderr


# ---- proofs ------------------------------------------------------------------------------------


@pytest.fixture
def proof(history: History, tmp_path: Path) -> tuple[Path, Path, str]:
    """A proof of one 2.0 example, and a copy of the 2.0 bundle, both outside the repository."""
    example_id = sorted(history.ids("2.0"))[3]
    out = tmp_path / "proof.json"
    written = corpusctl(
        history.root, "audit", "proof", example_id[:16], "--version", "2.0", "--out", str(out)
    )
    assert written.exit_code == 0, written.output
    assert "check it with: corpusctl audit check-proof" in written.stdout
    bundle = tmp_path / "2.0.sigstore.json"
    shutil.copyfile(history.root / "attestations/2.0.sigstore.json", bundle)
    return out, bundle, example_id


def check_proof(instance: LocalSigstore, proof: Path, bundle: Path, *extra: str) -> Result:
    # No CORPUS_REPO and a working directory outside any clone: nothing of the corpus is at hand.
    return CliRunner().invoke(
        app,
        [
            "audit",
            "check-proof",
            str(proof),
            "--bundle",
            str(bundle),
            "--json",
            "--identity",
            instance.workflow_identity(REPOSITORY),
            "--issuer",
            instance.oidc_issuer,
            "--repository",
            REPOSITORY,
            "--trust-config",
            str(instance.trust_config_path),
            *extra,
        ],
    )


@pytest.fixture
def outside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("CORPUS_REPO", raising=False)
    monkeypatch.chdir(tmp_path)
    yield


def test_a_proof_checks_without_the_corpus(
    proof: tuple[Path, Path, str], local_sigstore: LocalSigstore, history: History, outside: None
) -> None:
    path, bundle, example_id = proof
    document = json.loads(path.read_text())
    assert document["example_id"] == example_id and document["version"] == "2.0"
    assert document["tree_size"] == len(history.ids("2.0"))
    result = check_proof(local_sigstore, path, bundle)
    assert result.exit_code == 0, result.output
    report = answer(result)
    assert report["holds"] is True
    assert report["signer"]["identity"] == LocalSigstore.workflow_identity(REPOSITORY)
    assert {c["check"] for c in report["checks"]} == {"signature", "manifest", "root", "example", "inclusion"}

    # A copy of the example found elsewhere (here: its line in the training file) is the proven one.
    line = next(
        text
        for example_file in (history.root / "data/published").rglob("*.jsonl")
        for text in example_file.read_text().split("\n")
        if example_id in text
    )
    copy = path.parent / "example.json"
    copy.write_text(line)
    assert check_proof(local_sigstore, path, bundle, "--example", str(copy)).exit_code == 0


def _alter_id(proof: dict[str, Any], bundle: Path, history: History) -> None:
    proof["example_id"] = min(history.ids("2.0") - {proof["example_id"]})


def _alter_example(proof: dict[str, Any], bundle: Path, history: History) -> None:
    body = proof["example"]
    key = "messages" if "messages" in body else "prompt"
    body[key][0]["content"] += " (edited)"


def _alter_path(proof: dict[str, Any], bundle: Path, history: History) -> None:
    first = proof["audit_path"][0]
    proof["audit_path"][0] = ("0" if first[0] != "0" else "1") + first[1:]


def _alter_root(proof: dict[str, Any], bundle: Path, history: History) -> None:
    proof["merkle_root"] = "f" * 64


def _other_snapshots_bundle(proof: dict[str, Any], bundle: Path, history: History) -> None:
    shutil.copyfile(history.root / "attestations/1.0.sigstore.json", bundle)


def _alter_bundle(proof: dict[str, Any], bundle: Path, history: History) -> None:
    document = json.loads(bundle.read_text())
    statement = json.loads(base64.b64decode(document["dsseEnvelope"]["payload"]))
    statement["predicate"]["examples"]["merkle_root"] = "0" * 64
    document["dsseEnvelope"]["payload"] = base64.b64encode(json.dumps(statement).encode()).decode()
    bundle.write_text(json.dumps(document))


@pytest.mark.parametrize(
    ("tamper", "code", "check", "message"),
    [
        (_alter_id, 11, "inclusion", "does not lead from example"),  # and the example no longer hashes to it
        (_alter_example, 11, "example", "content hashes to"),
        (_alter_path, 11, "inclusion", "does not lead from example"),
        (_alter_root, 11, "root", "is not the signed root"),
        (_other_snapshots_bundle, 10, "signature", "attests snapshot '1.0', not 2.0"),
        (_alter_bundle, 10, "signature", "does not verify"),
    ],
    ids=lambda value: value.__name__.strip("_") if callable(value) else None,
)
def test_an_altered_proof_or_bundle_fails(
    proof: tuple[Path, Path, str],
    local_sigstore: LocalSigstore,
    history: History,
    outside: None,
    tamper: Any,
    code: int,
    check: str,
    message: str,
) -> None:
    path, bundle, _ = proof
    document = json.loads(path.read_text())
    tamper(document, bundle, history)
    path.write_text(json.dumps(document))
    result = check_proof(local_sigstore, path, bundle)
    assert result.exit_code == code, result.output
    failed = {c["check"]: c["message"] for c in answer(result)["checks"] if c["status"] == "fail"}
    assert message in failed[check]


# ---- cache and signer failures -----------------------------------------------------------------


def test_the_index_cache_is_keyed_by_the_signed_manifest_and_rebuilt_when_it_disagrees(
    clone: Path, audit: Any
) -> None:
    registry = json.loads((clone / "attestations/registry.json").read_text())["snapshots"]
    first = audit(clone, "example", "2.0:sft/train.jsonl:1", "--json")
    assert first.exit_code == 0, first.output
    cached = clone / ".corpus-cache" / "audit" / registry[1]["manifest_sha256"]
    assert (cached / "lineage.parquet").is_file()
    assert git(clone, "status", "--porcelain") == ""  # the cache is ignored by git

    (cached / "manifest.json").write_text("{}\n")  # no longer the signed manifest
    (cached / "examples.parquet").write_bytes(b"garbage")
    again = audit(clone, "example", "2.0:sft/train.jsonl:1", "--json")
    assert again.exit_code == 0, again.output
    assert answer(again) == answer(first)


def test_an_unverifiable_bundle_is_reported_not_trusted(clone: Path, audit: Any) -> None:
    shutil.copyfile(clone / "attestations/1.0.sigstore.json", clone / "attestations/2.0.sigstore.json")
    result = audit(clone, "example", "2.0:sft/train.jsonl:1", "--json")
    assert result.exit_code == 10
    signer = answer(result)["examples"][0]["snapshots"][-1]["signer"]
    assert signer["verified"] is False and signer["identity"] is None
    assert "attests snapshot '1.0', not 2.0" in signer["error"]
    text = audit(clone, "example", "2.0:sft/train.jsonl:1")
    assert text.exit_code == 10 and "NOT VERIFIED" in text.stdout

    # A signer other than the one the policy (or the flags) require is no signer.
    other = LocalSigstore.workflow_identity("acme/other-corpus")
    wrong = answer(audit(clone, "example", "2.0:sft/train.jsonl:1", "--identity", other, "--json"))
    assert all(not s["signer"]["verified"] for s in wrong["examples"][0]["snapshots"])
    assert "signed with identity" in wrong["examples"][0]["snapshots"][0]["signer"]["error"]


# ---- units -------------------------------------------------------------------------------------


def test_a_changed_example_is_tied_to_the_stage_that_decided_differently() -> None:
    from corpus.audit.queries import _StageChanges

    changes = _StageChanges(params={"balance", "publish"}, code={"dedup"})
    assert changes.reason("balance", "dropped") == "changed_params"
    assert changes.reason("dedup", "dropped") == "changed_code"
    assert changes.reason("split", "dropped") == "stage_decision"
    assert changes.reason("gates", "kept") == "changed_content"
    assert _StageChanges(None, None).reason("balance", "dropped") == "stage_decision"


def test_append_keeps_a_hand_written_list_and_its_comments(tmp_path: Path) -> None:
    from corpus.audit.ledger import append_entry

    path = tmp_path / "revocations.yaml"
    written = (
        "# Reviewed like code.\nrevocations:\n"
        "  - annotator_id: a-1  # planted a trigger\n    reason: trigger\n"
        "    revoked_at: 2026-11-14T09:15:00Z\n    by: priya@example.com\n"
    )
    path.write_text(written)
    entry = {
        "batch_id": "b-9",
        "reason": "vendor: contract ended",
        "revoked_at": "2026-11-20T00:00:00Z",
        "by": "x@e.com",
    }
    append_entry(path, "revocations", entry, Revocations)
    assert path.read_text().startswith(written)
    assert [r.batch_id for r in load_document(path, Revocations).revocations] == [None, "b-9"]

    with pytest.raises(GovernanceFileError) as refused:
        append_entry(
            path, "revocations", {"reason": "names nobody", "revoked_at": "x", "by": "y"}, Revocations
        )
    # One line naming the field, as every other governance-file error does; not pydantic's dump.
    assert str(refused.value) == (
        f"{path}: the new entry would make the file invalid: revocations.2.revoked_at: "
        "Input should be a valid datetime or date, input is too short"
    )
    assert [r.batch_id for r in load_document(path, Revocations).revocations] == [None, "b-9"]


def test_text_output_shows_values_from_feedback_without_their_terminal_escapes(capsys: pytest.CaptureFixture[str]) -> None:
    """A prompt or comment is typed by anyone: an ANSI sequence in it must not reach the auditor's
    terminal (it could erase a line or forge a hyperlink), nor rich markup be interpreted."""
    forged = "fb-1\x1b[2K\rall clear \x1b]8;;https://evil.example\x07click\x1b]8;;\x07 [red]x[/red]\u202e"
    render.record(
        {
            "feedback_id": forged,
            "snapshots": [],
            "workspace": [{"stage": "ingest", "outcome": "quarantined", "reason": "r", "detail": forged, "file": "f"}],
        }
    )
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out and "\r" not in out
    assert "fb-1\\x1b[2K\\rall clear \\x1b]8;;https://evil.example\\x07click" in out
    assert "[red]x[/red]" in out
