"""`corpusctl sign`, `verify` and `baseline` end to end: a real git + DVC repository in a temporary
directory, a real local Sigstore instance on 127.0.0.1, the real CLI (in process through typer's
runner, and `python -m sigstore` as a subprocess). No mocks.

The module builds one history, shared read-only: snapshot 1.0.0 (batches b1, b2) signed with an
explicit token, then 2.0.0 (b3 added) signed with the ambient GitHub Actions credential. Tests that
change anything work on a copy of it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import chdir, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from dvc.repo import Repo
from typer.testing import CliRunner, Result

from corpus.attestation import GITHUB_ACTIONS_ISSUER, sign_statement
from corpus.cli import app
from corpus.paths import RepoPaths
from corpus.sigstore_local import LocalSigstore
from tests.minirepo import good_record, write_batch, write_governance

# One worker builds the shared history once (the Makefile runs pytest with --dist loadgroup).
pytestmark = pytest.mark.xdist_group("sign-verify")

REPOSITORY = "acme/feedback-corpus"
TEMPLATE_ROOT = Path(__file__).resolve().parents[1]

# The publish stage of the test repository: a contract-shaped snapshot of the raw batches, stdlib
# only. It also writes a gate report, which the predicate records.
PUBLISH_STAGE = """\
import hashlib, json, pathlib

data = pathlib.Path("data")
published, gates = data / "published", data / "interim" / "gates"
(published / "sft").mkdir(parents=True, exist_ok=True)
gates.mkdir(parents=True, exist_ok=True)
examples = {}
for raw in sorted((data / "raw" / "feedback").glob("*.jsonl")):
    for line in raw.read_text().splitlines():
        record = json.loads(line)
        body = {"messages": record["prompt"] + [{"role": "assistant", "content": record["correction"]}]}
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
        examples[hashlib.sha256(canonical.encode()).hexdigest()] = canonical
ids = sorted(examples)
splits = {"train": [i for i in ids if int(i, 16) % 4], "validation": [i for i in ids if not int(i, 16) % 4]}
files = {}
for split, members in splits.items():
    text = "".join('{"example_id":"%s",%s\\n' % (i, examples[i][1:]) for i in members)
    files[f"sft/{split}.jsonl"] = text
stats = {"version": 1, "snapshot": None, "rows": len(ids), "distributions": {"domain": {"billing": len(ids)}}}
files["stats.json"] = json.dumps(stats) + "\\n"
for name, text in files.items():
    (published / name).write_text(text)
manifest = {
    "files": [
        {"path": n, "bytes": len(t.encode()), "sha256": hashlib.sha256(t.encode()).hexdigest()}
        for n, t in sorted(files.items())
    ],
    "examples": {"sft/train.jsonl": len(splits["train"]), "sft/validation.jsonl": len(splits["validation"])},
    "merkle_root": hashlib.sha256("".join(ids).encode()).hexdigest(),
}
(published / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\\n")
report = {"gates": [{"name": "contamination", "passed": True}], "overrides": []}
(gates / "report.json").write_text(json.dumps(report))
"""

AMBIENT_OIDC_VARS = ("GITHUB_ACTIONS", "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN")


# ---- helpers -----------------------------------------------------------------------------------


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout.strip()


def corpusctl(root: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env={"CORPUS_REPO": str(root), **(env or {})})


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def predicate_of(bundle: Path) -> dict[str, Any]:
    """The statement's predicate, read without verification (the tests check it, not trust it)."""
    envelope = json.loads(bundle.read_text())["dsseEnvelope"]
    predicate: dict[str, Any] = json.loads(base64.b64decode(envelope["payload"]))["predicate"]
    return predicate


def registry(root: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((root / "attestations" / "registry.json").read_text())
    return document


def write_registry(root: Path, document: dict[str, Any]) -> None:
    (root / "attestations" / "registry.json").write_text(json.dumps(document, indent=2) + "\n")


def raw_records(first: int, count: int) -> list[bytes | dict[str, Any]]:
    return [
        good_record(n, correction=f"Duplicate charge {n} has been refunded.")
        for n in range(first, first + count)
    ]


@contextmanager
def dvc(root: Path) -> Iterator[Repo]:
    """DVC's Python API, run from `root` as its CLI would be (default targets are cwd-relative)."""
    with chdir(root), Repo(str(root)) as repo:
        yield repo


def repro_and_commit(root: Path, message: str) -> str:
    with dvc(root) as repo:
        repo.reproduce()
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


def build_repository(root: Path, instance: LocalSigstore) -> None:
    git(root, "init", "-q", "-b", "main")
    with Repo.init(str(root)) as repo, repo.config.edit() as config:
        config["core"]["analytics"] = False
    paths = write_governance(root)
    write_batch(paths, "b1", raw_records(0, 6))
    # Self-approved: listed, recorded in the predicate as not accepted.
    write_batch(paths, "b2", raw_records(100, 3), approver="alice@example.com")
    (root / "params.yaml").write_text("batches:\n  - b1\n  - b2\n")
    (root / "scripts").mkdir()
    (root / "scripts" / "publish.py").write_text(PUBLISH_STAGE)
    stage = {
        "cmd": f"{shlex.quote(sys.executable)} scripts/publish.py",
        "deps": ["scripts/publish.py", "data/raw/feedback"],
        "params": ["batches"],
        "outs": ["data/published", "data/interim/gates/report.json"],
    }
    (root / "dvc.yaml").write_text(yaml.safe_dump({"stages": {"publish": stage}}))
    (root / "attestations").mkdir()
    write_registry(root, {"snapshots": []})
    (root / "attestations" / "signer-policy.yaml").write_text(
        yaml.safe_dump(
            {
                "issuer": instance.oidc_issuer,
                "identity": instance.workflow_identity(REPOSITORY),
                "repository": REPOSITORY,
            }
        )
    )
    with dvc(root) as repo:
        repo.add([str(paths.raw_batch("b1")), str(paths.raw_batch("b2"))])


def add_third_batch(root: Path) -> None:
    paths = RepoPaths(root)
    write_batch(paths, "b3", raw_records(200, 4))
    (root / "params.yaml").write_text("batches:\n  - b1\n  - b2\n  - b3\n")
    with dvc(root) as repo:
        repo.add([str(paths.raw_batch("b3"))])


@dataclass(frozen=True)
class History:
    root: Path
    commits: dict[str, str]
    """Version -> attested commit."""
    outputs: list[str]
    """Everything `corpusctl sign` printed."""
    tokens: list[str]


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory, local_sigstore: LocalSigstore) -> History:
    root = tmp_path_factory.mktemp("signed-corpus")
    build_repository(root, local_sigstore)
    first = repro_and_commit(root, "snapshot 1.0.0")
    token = local_sigstore.mint_token(repository=REPOSITORY, sha=first)
    signed_first = corpusctl(
        root,
        "sign",
        "1.0.0",
        "--trust-config",
        str(local_sigstore.trust_config_path),
        "--commit-and-tag",
        env={"SIGSTORE_IDENTITY_TOKEN": token},
    )
    assert signed_first.exit_code == 0, signed_first.output

    add_third_batch(root)
    second = repro_and_commit(root, "snapshot 2.0.0")
    ambient = local_sigstore.github_actions_env(repository=REPOSITORY, sha=second)
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("SIGSTORE_IDENTITY_TOKEN", raising=False)
        signed_second = corpusctl(
            root,
            "sign",
            "2.0.0",
            "--trust-config",
            str(local_sigstore.trust_config_path),
            "--commit-and-tag",
            env=ambient,
        )
    assert signed_second.exit_code == 0, signed_second.output
    return History(
        root=root,
        commits={"1.0.0": first, "2.0.0": second},
        outputs=[signed_first.output, signed_second.output],
        tokens=[token, ambient["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]],
    )


@pytest.fixture
def clone(history: History, tmp_path: Path) -> Path:
    """A private copy of the signed history, free to tamper with."""
    target = tmp_path / "repo"
    shutil.copytree(history.root, target, symlinks=True)
    return target


@pytest.fixture
def verify(local_sigstore: LocalSigstore) -> Callable[..., Result]:
    def run(root: Path, *args: str) -> Result:
        return corpusctl(root, "verify", *args, "--trust-config", str(local_sigstore.trust_config_path))

    return run


@pytest.fixture(autouse=True)
def _no_ambient_credentials(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # A developer's or CI's own OIDC environment must not leak into these tests.
    for name in (*AMBIENT_OIDC_VARS, "SIGSTORE_IDENTITY_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    yield


def failing(result: Result) -> list[dict[str, Any]]:
    return [c for c in json.loads(result.stdout)["checks"] if c["status"] == "fail"]


# ---- signing -----------------------------------------------------------------------------------


def test_sign_records_bundle_registry_tag_and_a_complete_predicate(history: History) -> None:
    root = history.root
    entries = registry(root)["snapshots"]
    assert [e["version"] for e in entries] == ["1.0.0", "2.0.0"]
    first, second = entries
    assert first["parent"] is None
    assert second["parent"] == {"version": "1.0.0", "manifest_sha256": first["manifest_sha256"]}
    assert second["signer"]["identity"] == LocalSigstore.workflow_identity(REPOSITORY)
    assert second["signed_at"].endswith("Z")
    # The tag sits on the attestation commit, directly on top of the attested one.
    for version, commit in history.commits.items():
        tagged = git(root, "rev-parse", f"corpus@{version}^{{commit}}")
        assert git(root, "rev-parse", f"{tagged}^") == commit
        assert set(git(root, "diff", "--name-only", commit, tagged).split()) == {
            f"attestations/{version}.sigstore.json",
            "attestations/registry.json",
        }

    predicate = predicate_of(root / second["bundle"])
    manifest = json.loads((root / "data/published/manifest.json").read_text())
    assert predicate["snapshot"] == {"version": "2.0.0", "tag": "corpus@2.0.0", "parent": second["parent"]}
    assert predicate["git_commit"] == history.commits["2.0.0"]
    lock = subprocess.run(
        ["git", "show", f"{history.commits['2.0.0']}:dvc.lock"], cwd=root, capture_output=True, check=True
    )
    assert predicate["dvc_lock_sha256"] == sha256_bytes(lock.stdout)
    # This repository has one pipeline file; the template's per-batch stages add pipelines/*/dvc.lock.
    assert predicate["dvc_locks"] == {"dvc.lock": predicate["dvc_lock_sha256"]}
    assert predicate["params"] == {"batches": ["b1", "b2", "b3"]}
    batches = {b["id"]: b for b in predicate["raw_batches"]}
    assert batches["b1"]["sha256"] == sha256_bytes((root / "data/raw/feedback/b1.jsonl").read_bytes())
    assert (batches["b1"]["author"], batches["b1"]["approver"], batches["b1"]["accepted"]) == (
        "alice@example.com",
        "bob@example.com",
        True,
    )
    assert batches["b1"]["approved_at"].startswith("2026-11-04T09:12:00")
    assert (batches["b2"]["accepted"], batches["b2"]["rejected_because"]) == (False, "self_approved")
    assert predicate["stage_code"]["files"] == {
        "scripts/publish.py": sha256_bytes((root / "scripts/publish.py").read_bytes())
    }
    assert predicate["examples"] == {"merkle_root": manifest["merkle_root"], "counts": manifest["examples"]}
    assert predicate["gates"]["gates"] == [{"name": "contamination", "passed": True}]
    assert predicate["gates"]["overrides"] == []

    # Credentials go to sigstore only: never into files, logs or output.
    written = "".join(p.read_text() for p in (root / "attestations").iterdir()) + "".join(history.outputs)
    for token in history.tokens:
        assert token not in written
    assert "LOCAL/TEST SIGSTORE INSTANCE" in history.outputs[0]


def test_sign_refuses_a_dirty_git_tree(clone: Path, local_sigstore: LocalSigstore) -> None:
    (clone / "notes.txt").write_text("untracked\n")
    (clone / "params.yaml").write_text("batches: [b1]\n")
    result = corpusctl(clone, "sign", "3.0.0", "--trust-config", str(local_sigstore.trust_config_path))
    assert result.exit_code == 3
    assert "git tree is not clean" in result.stderr
    assert "notes.txt" in result.stderr and "params.yaml" in result.stderr
    assert not (clone / "attestations/3.0.0.sigstore.json").exists()


def test_sign_refuses_a_workspace_that_does_not_match_dvc_lock(
    clone: Path, local_sigstore: LocalSigstore
) -> None:
    # data/published is DVC output, ignored by git: only DVC can see this change.
    (clone / "data/published/stats.json").write_text("{}\n")
    result = corpusctl(clone, "sign", "3.0.0", "--trust-config", str(local_sigstore.trust_config_path))
    assert result.exit_code == 3
    assert "does not match dvc.lock" in result.stderr
    assert "publish: changed outs: data/published (modified)" in result.stderr


@pytest.mark.parametrize(
    ("version", "message"),
    [
        ("2.0.0", "already signed"),
        ("v3; rm -rf /", "not a snapshot version"),
        ("3..0", "not a snapshot version"),
    ],
)
def test_sign_refuses_a_bad_or_used_version(history: History, version: str, message: str) -> None:
    result = corpusctl(history.root, "sign", version)
    assert result.exit_code == 2
    assert message in result.stderr


def test_sign_refuses_a_token_issued_for_another_commit(
    clone: Path, history: History, local_sigstore: LocalSigstore
) -> None:
    token = local_sigstore.mint_token(repository=REPOSITORY, sha=history.commits["1.0.0"])
    result = corpusctl(
        clone,
        "sign",
        "3.0.0",
        "--trust-config",
        str(local_sigstore.trust_config_path),
        "--identity-token",
        token,
    )
    assert result.exit_code == 4
    assert "issued to a workflow run at commit" in result.stderr
    assert token not in result.output
    assert [e["version"] for e in registry(clone)["snapshots"]] == ["1.0.0", "2.0.0"]


def test_sign_without_any_identity_token_says_how_to_get_one(
    clone: Path, local_sigstore: LocalSigstore
) -> None:
    result = corpusctl(clone, "sign", "3.0.0", "--trust-config", str(local_sigstore.trust_config_path))
    assert result.exit_code == 4
    assert "no OIDC identity token" in result.stderr
    assert "id-token: write" in result.stderr


def test_sign_refuses_a_snapshot_that_does_not_match_its_own_manifest(
    clone: Path, local_sigstore: LocalSigstore
) -> None:
    # A publish-stage bug, committed as if it were fine: dvc.lock agrees, the manifest does not.
    (clone / "data/published/sft/validation.jsonl").write_text("")
    with dvc(clone) as repo:
        repo.commit(force=True)
    git(clone, "commit", "-q", "-am", "inconsistent snapshot")
    result = corpusctl(clone, "sign", "3.0.0", "--trust-config", str(local_sigstore.trust_config_path))
    assert result.exit_code == 3
    assert "does not match its own manifest.json: sft/validation.jsonl: 0 bytes" in result.stderr


# ---- verification ------------------------------------------------------------------------------


def test_verify_the_latest_snapshot(
    history: History, local_sigstore: LocalSigstore, verify: Callable[..., Result]
) -> None:
    result = verify(history.root)
    assert result.exit_code == 0, result.output
    assert "VERIFIED: snapshot 2.0.0" in result.stdout
    for check in (
        "signature",
        "manifest",
        "files",
        "commit",
        "dvc.lock",
        "stage code",
        "tag",
        "raw batches",
        "registry",
        "chain",
    ):
        assert f"OK    {check}" in result.stdout
    assert "chain 1.0.0 -> 2.0.0" in result.stdout

    as_json = verify(history.root, "2.0.0", "--json")
    document = json.loads(as_json.stdout)
    assert as_json.exit_code == 0 and document["verified"] is True
    assert document["attestation"]["commit"] == history.commits["2.0.0"]
    assert {c["status"] for c in document["checks"]} == {"ok"}

    with_root = corpusctl(history.root, "verify", "--trusted-root", str(local_sigstore.trusted_root_path))
    assert with_root.exit_code == 0, with_root.output


def test_every_dvc_lock_of_the_attested_commit_is_checked(tmp_path: Path) -> None:
    """The per-batch stages' pipelines/<stage>/dvc.lock files are pinned like the root's."""
    from corpus.verification import CheckFailed, _check_dvc_lock

    root = tmp_path / "repo"
    (root / "pipelines" / "ingest").mkdir(parents=True)
    (root / "dvc.lock").write_text("schema: '2.0'\nstages: {}\n")
    (root / "pipelines" / "ingest" / "dvc.lock").write_text("schema: '2.0'\nstages: {ingest@b1: {}}\n")
    # A lock outside the pipeline's layout (e.g. a vendored DVC project) is not the pipeline's.
    (root / "vendor" / "other").mkdir(parents=True)
    (root / "vendor" / "other" / "dvc.lock").write_text("schema: '2.0'\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "locks")
    commit = git(root, "rev-parse", "HEAD")
    paths = RepoPaths(root)
    digests = {name: sha256_bytes((root / name).read_bytes()) for name in ("dvc.lock", "pipelines/ingest/dvc.lock")}
    attested = {"dvc_lock_sha256": digests["dvc.lock"], "dvc_locks": digests}
    assert _check_dvc_lock(paths, commit, attested) == f"2 dvc.lock files at {commit[:12]} have the attested sha256"
    # A snapshot signed before the per-batch locks existed records only the root's.
    assert "has the attested sha256" in _check_dvc_lock(paths, commit, {"dvc_lock_sha256": digests["dvc.lock"]})

    unlisted = {**attested, "dvc_locks": {"dvc.lock": digests["dvc.lock"]}}
    with pytest.raises(CheckFailed, match="pipelines/ingest/dvc.lock is not attested"):
        _check_dvc_lock(paths, commit, unlisted)
    altered = {**attested, "dvc_locks": {**digests, "pipelines/ingest/dvc.lock": "0" * 64}}
    with pytest.raises(CheckFailed, match=f"pipelines/ingest/dvc.lock has sha256 {digests['pipelines/ingest/dvc.lock']}"):
        _check_dvc_lock(paths, commit, altered)
    absent = {**attested, "dvc_locks": {**digests, "pipelines/govern/dvc.lock": "1" * 64}}
    with pytest.raises(CheckFailed, match="pipelines/govern/dvc.lock is missing"):
        _check_dvc_lock(paths, commit, absent)
    with pytest.raises(CheckFailed, match="not a mapping"):
        _check_dvc_lock(paths, commit, {**attested, "dvc_locks": ["dvc.lock"]})


def test_standard_sigstore_cli_verifies_a_bundle_made_by_corpusctl(
    history: History, local_sigstore: LocalSigstore
) -> None:
    manifest_digest = sha256_bytes((history.root / "data/published/manifest.json").read_bytes())
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sigstore",
            "--trust-config",
            str(local_sigstore.trust_config_path),
            "verify",
            "identity",
            "--bundle",
            str(history.root / "attestations/2.0.0.sigstore.json"),
            "--cert-identity",
            LocalSigstore.workflow_identity(REPOSITORY),
            "--cert-oidc-issuer",
            local_sigstore.oidc_issuer,
            f"sha256:{manifest_digest}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["predicate"]["snapshot"]["version"] == "2.0.0"


def test_a_historic_snapshot_verifies_after_checking_out_its_tag(
    clone: Path, verify: Callable[..., Result]
) -> None:
    elsewhere = verify(clone, "1.0.0")
    assert elsewhere.exit_code == 11
    assert "the workspace holds snapshot 2.0.0, not 1.0.0" in elsewhere.stdout
    assert "git checkout corpus@1.0.0 && dvc pull" in elsewhere.stdout

    git(clone, "checkout", "-q", "corpus@1.0.0")
    with dvc(clone) as repo:
        repo.checkout(force=True)
    result = verify(clone, "1.0.0")
    assert result.exit_code == 0, result.output


def _flip_a_byte(root: Path) -> list[str]:
    path = root / "data/published/sft/train.jsonl"
    data = bytearray(path.read_bytes())
    data[-2] ^= 0x01
    path.write_bytes(bytes(data))
    return []


def _add_a_file(root: Path) -> list[str]:
    (root / "data/published/extra.jsonl").write_text("{}\n")
    return []


def _edit_manifest(root: Path) -> list[str]:
    path = root / "data/published/manifest.json"
    manifest = json.loads(path.read_text())
    manifest["examples"]["sft/train.jsonl"] += 1
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    return []


def _bundle_of_another_snapshot(root: Path) -> list[str]:
    shutil.copyfile(root / "attestations/1.0.0.sigstore.json", root / "attestations/2.0.0.sigstore.json")
    return []


def _swap_a_raw_batch(root: Path) -> list[str]:
    # The raw bytes change; dvc.lock, the .dvc file and the git tree do not.
    path = root / "data/raw/feedback/b1.jsonl"
    path.write_text(path.read_text().replace("has been refunded", "was never refunded"))
    return []


def _move_the_tag(root: Path) -> list[str]:
    git(root, "tag", "-f", "-a", "corpus@2.0.0", "-m", "moved", "corpus@1.0.0^{commit}")
    return []


def _delete_the_parent_entry(root: Path) -> list[str]:
    document = registry(root)
    document["snapshots"] = document["snapshots"][1:]
    write_registry(root, document)
    return []


def _alter_the_parent_entry(root: Path) -> list[str]:
    document = registry(root)
    document["snapshots"][0]["manifest_sha256"] = "0" * 64
    write_registry(root, document)
    return []


def _wrong_identity(root: Path) -> list[str]:
    return ["--identity", LocalSigstore.workflow_identity("acme/other-corpus")]


def _wrong_issuer(root: Path) -> list[str]:
    return ["--issuer", GITHUB_ACTIONS_ISSUER]


def _wrong_repository(root: Path) -> list[str]:
    return ["--repository", "acme/other-corpus"]


@pytest.mark.parametrize(
    ("tamper", "code", "check", "message"),
    [
        (_flip_a_byte, 11, "files", "sft/train.jsonl: sha256"),
        (_add_a_file, 11, "files", "extra.jsonl: present but not in the manifest"),
        (_edit_manifest, 11, "manifest", "is not the one signed for 2.0.0"),
        (_bundle_of_another_snapshot, 10, "signature", "the bundle attests snapshot '1.0.0', not 2.0.0"),
        (_wrong_identity, 10, "signature", "signed with identity"),
        (_wrong_issuer, 10, "signature", "signed with OIDC issuer"),
        (_wrong_repository, 10, "signature", "signed with GitHub repository"),
        (_swap_a_raw_batch, 12, "raw batches", "b1: data/raw/feedback/b1.jsonl has sha256"),
        (_move_the_tag, 12, "tag", "tag corpus@2.0.0 points to"),
        (_delete_the_parent_entry, 13, "chain", "names parent 1.0.0 (manifest sha256"),
        (_alter_the_parent_entry, 13, "chain", "an entry was removed or altered"),
    ],
    ids=lambda value: value.__name__.strip("_") if callable(value) else None,
)
def test_verify_detects_tampering(
    clone: Path,
    verify: Callable[..., Result],
    tamper: Callable[[Path], list[str]],
    code: int,
    check: str,
    message: str,
) -> None:
    extra = tamper(clone)
    result = verify(clone, "2.0.0", *extra, "--json")
    assert result.exit_code == code, result.output
    failed = failing(result)
    assert failed[0]["check"] == check
    assert message in failed[0]["message"]
    text = verify(clone, "2.0.0", *extra)
    assert text.exit_code == code
    assert f"NOT VERIFIED: snapshot 2.0.0 (exit {code})" in text.stdout


def test_verify_prints_a_hostile_file_name_as_its_characters(clone: Path, verify: Callable[..., Result]) -> None:
    """A file dropped into the snapshot is named in the report; its name must not be able to move
    the cursor and redraw the verdict on the terminal of whoever runs `corpusctl verify`."""
    (clone / "data/published/x\x1b[1A\x1b[2K\rVERIFIED.jsonl").write_text("{}\n")
    text = verify(clone, "2.0.0")
    assert text.exit_code == 11
    assert "\x1b" not in text.stdout and "\r" not in text.stdout
    assert "x\\x1b[1A\\x1b[2K\\rVERIFIED.jsonl: present but not in the manifest" in text.stdout
    assert "NOT VERIFIED: snapshot 2.0.0 (exit 11)" in text.stdout


def test_verify_detects_a_bundle_signed_from_another_commit(
    clone: Path, history: History, local_sigstore: LocalSigstore, verify: Callable[..., Result]
) -> None:
    # The predicate claims commit 2.0.0, but the signing workflow ran at 1.0.0's commit.
    bundle = clone / "attestations/2.0.0.sigstore.json"
    statement = json.loads(base64.b64decode(json.loads(bundle.read_text())["dsseEnvelope"]["payload"]))
    token = local_sigstore.mint_token(repository=REPOSITORY, sha=history.commits["1.0.0"])
    bundle.write_text(
        sign_statement(statement, identity_token=token, trust_config=local_sigstore.trust_config_path)
    )
    result = verify(clone, "2.0.0", "--json")
    assert result.exit_code == 10
    assert "signed with GitHub commit" in failing(result)[0]["message"]


def test_verify_refuses_the_trust_root_of_another_instance(
    history: History, local_sigstore_factory: Callable[[], LocalSigstore]
) -> None:
    other = local_sigstore_factory()
    result = corpusctl(history.root, "verify", "--json", "--trust-config", str(other.trust_config_path))
    assert result.exit_code == 10
    assert "not issued by a CA of the trusted root" in failing(result)[0]["message"]


def test_chain_verifies_each_parent_bundle(clone: Path, verify: Callable[..., Result]) -> None:
    shutil.copyfile(clone / "attestations/2.0.0.sigstore.json", clone / "attestations/1.0.0.sigstore.json")
    result = verify(clone, "2.0.0", "--json")
    assert result.exit_code == 13
    assert "parent snapshot 1.0.0's bundle does not verify" in failing(result)[0]["message"]


def test_verify_refuses_an_unedited_signer_policy(clone: Path, verify: Callable[..., Result]) -> None:
    shutil.copyfile(
        TEMPLATE_ROOT / "attestations/signer-policy.yaml", clone / "attestations/signer-policy.yaml"
    )
    result = verify(clone)
    assert result.exit_code == 2
    assert "still holds the template placeholder OWNER/REPO" in result.stderr
    as_json = verify(clone, "--json")
    assert as_json.exit_code == 2 and "OWNER/REPO" in json.loads(as_json.stdout)["error"]


def test_verify_reports_an_unknown_version_as_usage(history: History, verify: Callable[..., Result]) -> None:
    result = verify(history.root, "9.9.9")
    assert result.exit_code == 2
    assert "snapshot 9.9.9 is not in" in result.stderr


# ---- baseline ----------------------------------------------------------------------------------


def test_baseline_copies_the_signed_stats(clone: Path) -> None:
    result = corpusctl(clone, "baseline", "2.0.0")
    assert result.exit_code == 0, result.output
    baseline = json.loads((clone / "data/baseline/stats.json").read_text())
    stats = json.loads((clone / "data/published/stats.json").read_text())
    assert baseline == {
        **stats,
        "snapshot": "2.0.0",
        "snapshot_manifest_sha256": registry(clone)["snapshots"][1]["manifest_sha256"],
    }

    other = corpusctl(clone, "baseline", "1.0.0")
    assert other.exit_code == 3
    assert "holds snapshot 2.0.0, not 1.0.0" in other.stderr
