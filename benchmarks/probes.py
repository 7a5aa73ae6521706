"""The figures around the pipeline run: the polars floor, start-up times, signing and `corpusctl
verify` against `sha256sum`, audit lookups, and DVC push/pull to a local S3 server.

Each probe returns its figures, or `Skipped` with the reason when the piece it measures is not
there (yet): a pipeline without a publish stage has no snapshot to sign, a clone without
`corpusctl audit` has nothing to look up.
"""

from __future__ import annotations

import json
import logging
import shutil
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from benchmarks.procmon import Measured, run_measured, timed
from benchmarks.workspace import Tools, Workspace
from corpus.sigstore_local import LocalSigstore

FLOOR_SCRIPT = Path(__file__).with_name("floor.py")
# Imports a stage script without running it (its main is behind `if __name__ == "__main__"`).
IMPORT_ONLY = (
    "import importlib.util, sys; spec = importlib.util.spec_from_file_location('stage_probe', sys.argv[1]); "
    "spec.loader.exec_module(importlib.util.module_from_spec(spec))"
)
REPOSITORY = "bench/feedback-corpus"
S3_BUCKET = "corpus-bench"


@dataclass(frozen=True)
class Skipped:
    reason: str


def median_seconds(argv: list[str], tools: Tools, repeats: int, *, warm_up: bool = True) -> float:
    """Median wall time of `repeats` runs, by default after one untimed run that warms the page cache."""
    if warm_up:
        timed(argv, cwd=tools.root, env=tools.env)
    return statistics.median(timed(argv, cwd=tools.root, env=tools.env) for _ in range(repeats))


# ---- floor ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Floor:
    rows: int
    measured: Measured


def _readable_copy(raw: Path, target: Path) -> int:
    """Copy `raw` without the lines polars cannot read (not UTF-8 JSON objects); the lines kept."""
    kept = 0
    with raw.open("rb") as source, target.open("wb") as out:
        for line in source:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                out.write(line if line.endswith(b"\n") else line + b"\n")
                kept += 1
    return kept


def floor(workspace: Workspace, scratch: Path) -> Floor:
    """polars read_ndjson -> write_parquet over the raw batches, measured like the pipeline."""
    inputs, outputs = scratch / "floor-input", scratch / "floor-output"
    inputs.mkdir(parents=True)
    try:
        rows = sum(_readable_copy(workspace.paths.raw_batch(b), inputs / f"{b}.jsonl") for b in workspace.batches)
        measured = run_measured(
            [Tools.path("python"), str(FLOOR_SCRIPT), str(inputs), str(outputs)],
            cwd=workspace.root,
            env=workspace.tools.env,
            log=scratch / "floor.log",
        )
    finally:
        shutil.rmtree(inputs)
        shutil.rmtree(outputs, ignore_errors=True)
    if measured.returncode != 0:
        raise RuntimeError(f"the floor script failed:\n{measured.log_tail()}")
    return Floor(rows=rows, measured=measured)


# ---- start-up ------------------------------------------------------------------------------------


def stage_startup(workspace: Workspace, scripts: list[str], repeats: int) -> dict[str, float]:
    """Per stage script: seconds from process start to its first line of work (interpreter + imports).

    No warm-up run: the scripts share their libraries, so after the first the page cache is warm.
    """
    python = Tools.path("python")
    return {
        script: median_seconds([python, "-c", IMPORT_ONLY, script], workspace.tools, repeats, warm_up=False)
        for script in scripts
    }


def help_seconds(workspace: Workspace, repeats: int) -> float:
    return median_seconds([Tools.path("corpusctl"), "--help"], workspace.tools, repeats)


# ---- sign, verify, audit -------------------------------------------------------------------------


@dataclass(frozen=True)
class Signed:
    """A snapshot signed with the local Sigstore instance, and who verifiers must expect as its signer."""

    version: str
    sign_seconds: float
    trust_config: Path
    issuer: str
    identity: str
    repository: str

    @property
    def verify_flags(self) -> list[str]:
        return [
            "--trust-config", str(self.trust_config), "--identity", self.identity, "--issuer", self.issuer,
            "--repository", self.repository,
        ]  # fmt: skip

    def write_policy(self, path: Path) -> Path:
        """The signer policy as a file (for commands that take --policy, not the three flags)."""
        policy = {"issuer": self.issuer, "identity": self.identity, "repository": self.repository}
        path.write_text(yaml.safe_dump(policy), encoding="utf-8")
        return path


def sign(workspace: Workspace, sigstore: LocalSigstore) -> Signed | Skipped:
    """Commit the pipeline's outputs and sign the snapshot with the local Sigstore instance."""
    from corpus.snapshots import read_manifest

    paths, tools = workspace.paths, workspace.tools
    if not (paths.published / "manifest.json").is_file():
        return Skipped("no snapshot to sign: the pipeline has no publish stage yet (no data/published/manifest.json)")
    version = read_manifest(paths).snapshot_version or "1.0.0"
    head = tools.commit_all("benchmark: pipeline outputs")
    started = time.perf_counter()
    tools.run(
        Tools.path("corpusctl"), "sign", version, "--trust-config", str(sigstore.trust_config_path), "--commit-and-tag",
        extra_env={"SIGSTORE_IDENTITY_TOKEN": sigstore.mint_token(repository=REPOSITORY, sha=head)},
    )  # fmt: skip
    return Signed(
        version=version,
        sign_seconds=time.perf_counter() - started,
        trust_config=sigstore.trust_config_path,
        issuer=sigstore.oidc_issuer,
        identity=sigstore.workflow_identity(REPOSITORY),
        repository=REPOSITORY,
    )


@dataclass(frozen=True)
class VerifyFigures:
    files: int
    bytes: int
    verify_seconds: float
    sha256sum_seconds: float

    @property
    def ratio(self) -> float:
        """verify's throughput as a fraction of sha256sum's over the same bytes."""
        return self.sha256sum_seconds / self.verify_seconds


def verify_throughput(workspace: Workspace, signed: Signed, repeats: int) -> VerifyFigures:
    """`corpusctl verify` against `sha256sum` of the files it hashes: the snapshot's and the raw batches."""
    from corpus.snapshots import read_manifest

    paths = workspace.paths
    published = [paths.published / f.path for f in read_manifest(paths).files] + [paths.published / "manifest.json"]
    files = [*published, *(paths.raw_batch(b) for b in workspace.batches)]
    verify = [Tools.path("corpusctl"), "verify", signed.version, *signed.verify_flags]
    return VerifyFigures(
        files=len(files),
        bytes=sum(f.stat().st_size for f in files),
        verify_seconds=median_seconds(verify, workspace.tools, repeats),
        sha256sum_seconds=median_seconds(["sha256sum", *map(str, files)], workspace.tools, repeats),
    )


@dataclass(frozen=True)
class AuditFigures:
    example_id: str
    cold_seconds: float
    warm_seconds: float


def audit_latency(workspace: Workspace, signed: Signed, scratch: Path, repeats: int) -> AuditFigures | Skipped:
    """`corpusctl audit example ID`: first without the audit cache (.corpus-cache/), then with it."""
    tools, corpusctl = workspace.tools, Tools.path("corpusctl")
    if subprocess.run([corpusctl, "audit", "example", "--help"], cwd=tools.root, env=tools.env,
                      capture_output=True).returncode != 0:  # fmt: skip
        return Skipped("not available yet: this corpusctl has no `audit example` command")
    with (workspace.paths.published / "sft" / "train.jsonl").open(encoding="utf-8") as lines:
        example_id = str(json.loads(next(lines))["example_id"])
    policy = signed.write_policy(scratch / "signer-policy.yaml")
    lookup = [
        corpusctl, "audit", "example", example_id, "--trust-config", str(signed.trust_config),
        "--policy", str(policy),
    ]  # fmt: skip
    shutil.rmtree(workspace.root / ".corpus-cache", ignore_errors=True)
    try:
        cold = timed(lookup, cwd=tools.root, env=tools.env)
    except subprocess.CalledProcessError as exc:
        said = [line for line in exc.stderr.splitlines() if line.startswith("error:")] or ["(no message)"]
        return Skipped(f"`corpusctl audit example` failed (exit {exc.returncode}): {said[-1][:300]}")
    warm = statistics.median(timed(lookup, cwd=tools.root, env=tools.env) for _ in range(repeats))
    return AuditFigures(example_id=example_id, cold_seconds=cold, warm_seconds=warm)


# ---- S3 --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class S3Figures:
    megabytes: float
    push_seconds: float
    pull_seconds: float


def s3_throughput(workspace: Workspace, scratch: Path) -> S3Figures | Skipped:
    """`dvc push` then `dvc pull` into a fresh clone, against moto on 127.0.0.1 (tests/s3servers.py)."""
    try:
        from moto.server import ThreadedMotoServer

        from tests.s3servers import S3Endpoint, free_loopback_ports, hermetic_env, push_pull_throughput
    except ImportError as exc:
        return Skipped(f"not available: {exc}")
    from corpus.remote import S3Remote, configure_s3_remote

    port = free_loopback_ports(1)[0]
    # moto serves through werkzeug, which logs every request to stderr (thousands of lines per push)
    # whatever `verbose` says; the benchmark's log is for its own progress.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    clone = scratch / "s3-clone"
    try:
        endpoint = S3Endpoint(url=f"http://127.0.0.1:{port}", access_key_id="bench", secret_access_key="bench")
        bucket = endpoint.create_bucket(S3_BUCKET)
        remote = S3Remote(name="bench", url=f"s3://{bucket}", endpoint_url=endpoint.url, region=endpoint.region)
        configure_s3_remote(workspace.root, remote, default=True)
        # Caches git ignores would differ in a fresh clone; they are not data.
        for cache in [*workspace.root.rglob("__pycache__"), workspace.root / ".corpus-cache"]:
            shutil.rmtree(cache, ignore_errors=True)
        workspace.tools.commit_all("benchmark: S3 remote")
        figures = push_pull_throughput(workspace.root, clone, env=hermetic_env(scratch / "s3-home", endpoint))
    except (AssertionError, subprocess.SubprocessError, OSError) as exc:
        return Skipped(f"failed: {str(exc)[:300]}")
    finally:
        server.stop()
        shutil.rmtree(clone, ignore_errors=True)
    return S3Figures(megabytes=figures.megabytes, push_seconds=figures.push_seconds, pull_seconds=figures.pull_seconds)
