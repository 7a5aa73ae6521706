"""The whole template through a team S3 remote, real parts only (no mocks):

publisher: git clone of the committed template -> `dvc pull` of the sample from the in-repo remote ->
`dvc repro` -> S3 remote on a moto server (127.0.0.1) as the default -> signer policy for a test
repository -> commit -> `corpusctl sign 1.0 --commit-and-tag` against a local Sigstore instance ->
`dvc push` to S3.

auditor: a fresh git clone of the publisher's clone, credentials from the environment only, `dvc pull`
of everything from S3, `dvc repro` with nothing to do, `corpusctl verify 1.0` and
`corpusctl audit example 1.0:sft/train.jsonl:1` with the lineage, the people and the verified signer.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from corpus.remote import S3Remote, configure_s3_remote
from corpus.sigstore_local import LocalSigstore
from tests.conftest import REPO_ROOT
from tests.s3servers import S3Endpoint, hermetic_env

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("s3-roundtrip")]

REPOSITORY = "acme/feedback-corpus-s3"
REMOTE = "team"
VERSION = "1.0"
# A developer's or CI's own OIDC credentials must not reach `corpusctl sign`.
AMBIENT_OIDC_VARS = ("GITHUB_ACTIONS", "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
                     "SIGSTORE_IDENTITY_TOKEN", "CORPUS_REPO")


def run(cwd: Path, *args: str, env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args[:3])} ... exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


@contextmanager
def timed(step: str, timings: dict[str, float]) -> Iterator[None]:
    start = time.monotonic()
    yield
    timings[step] = time.monotonic() - start
    print(f"  {step:<50} {timings[step]:6.1f} s", flush=True)


def set_signer_policy(root: Path, instance: LocalSigstore) -> None:
    """Fill in the committed policy's values, keeping its comments (what a maintainer does once)."""
    path = root / "attestations" / "signer-policy.yaml"
    values = {
        "issuer": instance.oidc_issuer,
        "identity": instance.workflow_identity(REPOSITORY),
        "repository": REPOSITORY,
    }
    text = path.read_text(encoding="utf-8")
    for key, value in values.items():
        text, count = re.subn(rf"(?m)^{key}:.*$", f"{key}: {value}", text)
        assert count == 1, f"signer-policy.yaml has no single `{key}:` line"
    path.write_text(text, encoding="utf-8")
    assert yaml.safe_load(text) == values


def test_publish_through_s3_then_a_fresh_clone_verifies_and_audits(
    moto_endpoint: S3Endpoint, local_sigstore: LocalSigstore, tmp_path: Path
) -> None:
    env = hermetic_env(tmp_path / "home", moto_endpoint)
    for name in AMBIENT_OIDC_VARS:
        env.pop(name, None)
    # Stage commands say `python ...`; the tests call `dvc` and `corpusctl`: all must be this venv's.
    venv_bin = Path(sys.executable).parent
    for tool in ("dvc", "corpusctl", "python"):
        found = shutil.which(tool, path=env["PATH"])
        assert found is not None and Path(found).parent == venv_bin, f"{tool} resolves to {found}, not {venv_bin}"

    bucket = moto_endpoint.create_bucket(f"corpus-{uuid.uuid4().hex[:12]}")
    trust = str(local_sigstore.trust_config_path)
    timings: dict[str, float] = {}
    print()

    # ---- publisher ------------------------------------------------------------------------------
    first = tmp_path / "publisher"
    with timed("publisher: git clone of the template", timings):
        run(tmp_path, "git", "clone", "--quiet", str(REPO_ROOT), str(first), env=env)
    with timed("publisher: dvc pull *.dvc from the sample remote", timings):
        dvc_files = run(first, "git", "ls-files", "*.dvc", env=env).stdout.split()
        assert dvc_files, "the template tracks no .dvc files"
        run(first, "dvc", "pull", "--quiet", *dvc_files, env=env)
    with timed("publisher: dvc repro", timings):
        repro = run(first, "dvc", "repro", env=env)
    rerun = sorted(set(re.findall(r"Running stage '([^']+)'", repro.stdout)))
    print(f"  stages run in the fresh clone: {len(rerun)} ({', '.join(rerun[:6])}{' ...' if len(rerun) > 6 else ''})")

    with timed("publisher: S3 remote, signer policy, commit", timings):
        configure_s3_remote(
            first, S3Remote(REMOTE, f"s3://{bucket}/corpus", moto_endpoint.url, region=moto_endpoint.region),
            default=True,
        )
        set_signer_policy(first, local_sigstore)
        params = yaml.safe_load((first / "params.yaml").read_text(encoding="utf-8"))
        assert params["publish"]["version"] == VERSION
        run(first, "git", "add", "-A", env=env)
        run(first, "git", "commit", "-q", "-m", f"snapshot {VERSION}: team S3 remote, signer policy", env=env)
        attested = run(first, "git", "rev-parse", "HEAD", env=env).stdout.strip()
        # Nothing local (keys, caches) may have been committed.
        assert ".dvc/config.local" not in run(first, "git", "ls-files", env=env).stdout.split()

    with timed("publisher: corpusctl sign --commit-and-tag", timings):
        token = local_sigstore.mint_token(repository=REPOSITORY, sha=attested)
        signed = run(
            first, "corpusctl", "sign", VERSION, "--identity-token", token, "--trust-config", trust,
            "--commit-and-tag", env=env, check=False,
        )
        assert signed.returncode == 0, f"sign exited {signed.returncode}:\n{signed.stdout}\n{signed.stderr}"
        assert token not in signed.stdout + signed.stderr
        assert run(first, "git", "rev-parse", f"corpus@{VERSION}^", env=env).stdout.strip() == attested
        assert run(first, "git", "status", "--porcelain", env=env).stdout == ""

    with timed("publisher: dvc push to S3", timings):
        run(first, "dvc", "push", env=env)
        assert "in sync" in run(first, "dvc", "status", "--cloud", env=env).stdout

    # ---- auditor: a teammate's fresh clone, credentials from the environment only ----------------
    second = tmp_path / "auditor"
    with timed("auditor: git clone of the publisher", timings):
        run(tmp_path, "git", "clone", "--quiet", str(first), str(second), env=env)
        assert f"corpus@{VERSION}" in run(second, "git", "tag", env=env).stdout.split()
        remote_list = run(second, "dvc", "remote", "list", env=env).stdout
        assert f"s3://{bucket}/corpus" in remote_list
        assert not (second / ".dvc" / "config.local").exists()
    with timed("auditor: dvc pull (everything) from S3", timings):
        run(second, "dvc", "pull", env=env)
    for out in ("data/raw/feedback", "data/interim/ingest", "data/published/manifest.json",
                "data/published/sft/train.jsonl"):
        assert (second / out).exists(), f"{out} missing after dvc pull from S3"
    with timed("auditor: dvc repro (must do nothing)", timings):
        again = run(second, "dvc", "repro", env=env)
        assert "Running stage" not in again.stdout, again.stdout
        assert "Data and pipelines are up to date" in run(second, "dvc", "status", env=env).stdout

    with timed("auditor: corpusctl verify", timings):
        verified = run(second, "corpusctl", "verify", VERSION, "--json", "--trust-config", trust, env=env, check=False)
        assert verified.returncode == 0, f"verify exited {verified.returncode}:\n{verified.stdout}\n{verified.stderr}"
        checks = json.loads(verified.stdout)["checks"]
        assert checks and all(c["status"] != "fail" for c in checks), checks

    with timed("auditor: corpusctl audit example", timings):
        audited = run(
            second, "corpusctl", "audit", "example", f"{VERSION}:sft/train.jsonl:1", "--json", "--trust-config", trust,
            env=env, check=False,
        )
        assert audited.returncode == 0, f"audit exited {audited.returncode}:\n{audited.stdout}\n{audited.stderr}"
    report = json.loads(audited.stdout)["examples"][0]
    first_line = (second / "data" / "published" / "sft" / "train.jsonl").read_text(encoding="utf-8").split("\n")[0]
    assert report["example_id"] == json.loads(first_line)["example_id"]
    snapshot = next(s for s in report["snapshots"] if s["version"] == VERSION)
    assert snapshot["commit"] == attested
    assert {"file": "sft/train.jsonl", "row": 1} in snapshot["placements"]
    assert snapshot["signer"]["verified"] is True
    assert snapshot["signer"]["identity"] == LocalSigstore.workflow_identity(REPOSITORY)
    assert snapshot["records"], "no raw records in the lineage"
    record_batches = {r["batch_id"] for r in snapshot["records"]}
    batches = [b for b in snapshot["batches"] if b["batch_id"] in record_batches]
    assert batches, snapshot["batches"]
    for batch in batches:
        manifest = yaml.safe_load((second / "data" / "batches" / f"{batch['batch_id']}.yaml").read_text())
        assert batch["author"] and batch["approver"] and batch["author"] != batch["approver"], batch
        assert (batch["author"], batch["approver"]) == (manifest["author"], manifest["approver"])
    print(f"  example {report['example_id'][:16]}: {len(snapshot['records'])} raw record(s), batches "
          + ", ".join(f"{b['batch_id']} ({b['author']} / {b['approver']})" for b in batches)
          + f"; signer {snapshot['signer']['identity']}")
    print(f"  total {sum(timings.values()):.1f} s")
