"""The team's S3 remote, end to end: `corpus.remote` configures it, real DVC pushes and pulls through it,
against moto (every run) and a real seaweedfs server (`-m seaweedfs`), both on 127.0.0.1.

Failure paths are checked for a clear message and for leaving nothing half-done: wrong keys, a missing
bucket, the server dying mid-push, and an object altered in the bucket.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpus.remote import (
    RemoteError,
    S3Keys,
    S3Remote,
    check_s3_remote,
    configure_s3_remote,
    find_damaged_objects,
)
from tests.s3servers import (
    S3Endpoint,
    SeaweedServer,
    commit_all,
    dvc,
    free_loopback_ports,
    hermetic_env,
    init_repo,
    tree_digest,
)

# The fixtures `moto_endpoint`, `seaweedfs` and `seaweedfs_factory`.

REMOTE = "team"
MOTO = pytest.param("moto", marks=pytest.mark.xdist_group("s3-moto"))
SEAWEEDFS = pytest.param("seaweedfs", marks=[pytest.mark.seaweedfs, pytest.mark.xdist_group("s3-seaweedfs")])


@pytest.fixture(params=[MOTO, SEAWEEDFS])
def store(request: pytest.FixtureRequest) -> S3Endpoint:
    """The S3 server of the tier under test."""
    if request.param == "moto":
        endpoint: S3Endpoint = request.getfixturevalue("moto_endpoint")
        return endpoint
    server: SeaweedServer = request.getfixturevalue("seaweedfs")
    return server.endpoint


@pytest.fixture
def env_for(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., dict[str, str]]:
    """Make this process and every `dvc`/`git` child see only the given AWS credentials (or none)."""

    def apply(endpoint: S3Endpoint | None = None, **extra: str) -> dict[str, str]:
        env = hermetic_env(tmp_path / "home", endpoint) | extra
        for key in [k for k in os.environ if k not in env]:
            monkeypatch.delenv(key)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        return env

    return apply


def new_bucket(endpoint: S3Endpoint) -> str:
    return endpoint.create_bucket(f"corpus-{uuid.uuid4().hex[:12]}")


def write_dataset(root: Path, *, seed: int = 7, dir_files: int = 12, dir_file_bytes: int = 4096) -> list[str]:
    """A JSONL batch (~2 MB), a parquet table and a directory of files; returns the DVC targets."""
    rng = random.Random(seed)
    words = ["invoice", "refund", "charged", "twice", "model", "answer", "wrong", "tool", "call", "format"]
    raw = root / "data" / "raw" / "feedback"
    raw.mkdir(parents=True)
    with (raw / "batch-001.jsonl").open("w", encoding="utf-8") as batch:
        for n in range(9000):
            record = {"feedback_id": f"fb-{n:06d}", "rating": rng.choice(["up", "down"]),
                      "prompt": " ".join(rng.choices(words, k=24)), "correction": " ".join(rng.choices(words, k=12))}
            batch.write(json.dumps(record) + "\n")
    table = pa.table({"id": list(range(20_000)), "score": [rng.random() for _ in range(20_000)]})
    pq.write_table(table, raw / "scores.parquet")
    shards = root / "data" / "raw" / "shards"
    shards.mkdir(parents=True)
    for n in range(dir_files):
        (shards / f"part-{n:04d}.bin").write_bytes(rng.randbytes(dir_file_bytes))
    return ["data/raw/feedback/batch-001.jsonl", "data/raw/feedback/scores.parquet", "data/raw/shards"]


def tracked_repo(root: Path, bucket: str, endpoint: S3Endpoint, **dataset: int) -> Path:
    """A committed repo with DVC-tracked data and the team remote configured as the default."""
    init_repo(root)
    dvc(root, "add", "-q", *write_dataset(root, **dataset))
    configure_s3_remote(root, S3Remote(REMOTE, f"s3://{bucket}/corpus", endpoint.url, region="us-east-1"), default=True)
    commit_all(root, "data and team remote")
    return root


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout


def clone(source: Path, target: Path) -> Path:
    subprocess.run(["git", "clone", "-q", str(source), str(target)], check=True)
    return target


def local_state(root: Path) -> dict[str, str]:
    """Every file of the clone including DVC's cache, leaving out git and DVC's own scratch folder."""
    return {path: digest for path, digest in tree_digest(root, skip=(".git",)).items()
            if not path.startswith(".dvc/tmp/")}


# ---- configuration: what goes where ---------------------------------------------------------------


def test_keys_go_only_to_the_git_ignored_local_config(
    tmp_path: Path, env_for: Callable[..., dict[str, str]]
) -> None:
    env_for()
    root = init_repo(tmp_path / "repo")
    commit_all(root, "template")
    secret = "s3cr3t-" + uuid.uuid4().hex
    setup = configure_s3_remote(
        root,
        S3Remote(REMOTE, "s3://team-bucket/corpus", "https://s3.example.internal:9000", "eu-west-1", profile="corpus"),
        keys=S3Keys("AKIA" + uuid.uuid4().hex[:16].upper(), secret, session_token="tok-" + secret),
        default=True,
    )

    shared = (root / ".dvc" / "config").read_text(encoding="utf-8")
    for line in ('remote "team"', "url = s3://team-bucket/corpus", "endpointurl = https://s3.example.internal:9000",
                 "region = eu-west-1", "verify = true"):
        assert line in shared
    assert "remote = team" in shared
    assert "url = ../sample-remote" in shared, "the sample remote must stay beside the team one"
    for private in ("access_key_id", "secret_access_key", "session_token", "profile", secret):
        assert private not in shared
    assert secret not in git(root, "diff", "HEAD")
    # Even a careless `git add -A && git commit` records no key: config.local is ignored.
    commit_all(root, "team remote")
    assert ".dvc/config.local" not in git(root, "ls-files")
    assert secret not in git(root, "log", "-p", "--all")
    assert setup.private == ("access_key_id", "profile", "secret_access_key", "session_token")
    assert secret in (root / ".dvc" / "config.local").read_text(encoding="utf-8")
    assert secret not in repr(setup) + repr(S3Keys("id", secret)) + " ".join(setup.commands)


def test_configuration_mistakes_are_refused_without_writing(
    tmp_path: Path, env_for: Callable[..., dict[str, str]]
) -> None:
    env_for()
    root = init_repo(tmp_path / "repo")
    before = (root / ".dvc" / "config").read_bytes()
    mistakes = [
        (S3Remote("sample", "s3://team-bucket"), "such as the template's `sample`, is never replaced"),
        (S3Remote(REMOTE, "s3://BAD_bucket/x"), "expected s3://BUCKET"),
        (S3Remote(REMOTE, "s3://team-bucket", "https://user:pw@s3.example.internal"), "carries credentials"),
        (S3Remote(REMOTE, "s3://team-bucket", "s3.example.internal"), "expected http"),
    ]
    for remote, expected in mistakes:
        with pytest.raises(RemoteError, match=expected):
            configure_s3_remote(root, remote)
    assert (root / ".dvc" / "config").read_bytes() == before
    configure_s3_remote(root, S3Remote(REMOTE, "s3://team-bucket"))
    with pytest.raises(RemoteError, match="--replace"):
        configure_s3_remote(root, S3Remote(REMOTE, "s3://other-bucket"))
    # A broken .dvc/.gitignore must not let keys land in a file git would commit.
    (root / ".dvc" / ".gitignore").write_text("/tmp\n/cache\n", encoding="utf-8")
    configured = (root / ".dvc" / "config").read_bytes()
    with pytest.raises(RemoteError, match="not ignored by git"):
        configure_s3_remote(root, S3Remote(REMOTE, "s3://team-bucket"), keys=S3Keys("id", "secret"), replace=True)
    assert (root / ".dvc" / "config").read_bytes() == configured != before
    assert not (root / ".dvc" / "config.local").exists()


def test_missing_credentials_and_unreachable_endpoint_say_so(
    tmp_path: Path, env_for: Callable[..., dict[str, str]]
) -> None:
    (closed_port,) = free_loopback_ports(1)
    endpoint = S3Endpoint(f"http://127.0.0.1:{closed_port}", "id", "secret")
    env_for(AWS_MAX_ATTEMPTS="1")
    root = init_repo(tmp_path / "repo")
    configure_s3_remote(root, S3Remote(REMOTE, "s3://team-bucket", endpoint.url))
    with pytest.raises(RemoteError, match=r"no AWS credentials found .* export AWS_ACCESS_KEY_ID"):
        check_s3_remote(root, REMOTE)
    env_for(endpoint, AWS_MAX_ATTEMPTS="1")
    with pytest.raises(RemoteError, match=r"cannot reach .* check the endpoint URL"):
        check_s3_remote(root, REMOTE)


# ---- round trip, both tiers ------------------------------------------------------------------------


def test_push_then_fresh_clone_pulls_identical_bytes(
    store: S3Endpoint, tmp_path: Path, env_for: Callable[..., dict[str, str]]
) -> None:
    env_for(store)
    first = tracked_repo(tmp_path / "first", new_bucket(store), store)
    assert "answers" in check_s3_remote(first, REMOTE)
    dvc(first, "push")

    # A teammate: clone, credentials from the environment only, and the committed config does the rest.
    second = clone(first, tmp_path / "second")
    dvc(second, "pull")
    assert tree_digest(second) == tree_digest(first)
    assert "in sync" in dvc(second, "status", "--cloud").stdout
    assert find_damaged_objects(second, REMOTE) == []


# ---- failure paths ---------------------------------------------------------------------------------


@pytest.mark.seaweedfs
@pytest.mark.xdist_group("s3-seaweedfs")
def test_wrong_keys_are_refused_and_given_keys_are_used(
    seaweedfs: SeaweedServer, tmp_path: Path, env_for: Callable[..., dict[str, str]]
) -> None:
    # moto accepts any signature, so only seaweedfs (with an identity config) can refuse a key.
    good = seaweedfs.endpoint
    bucket = new_bucket(good)
    env_for(S3Endpoint(good.url, good.access_key_id, "not-the-secret"))
    repo = tracked_repo(tmp_path / "repo", bucket, good)
    with pytest.raises(RemoteError, match=r"refused the credentials .* check AWS_ACCESS_KEY_ID"):
        check_s3_remote(repo, REMOTE)
    before = local_state(repo)
    push = dvc(repo, "push", check=False)
    assert push.returncode != 0
    # DVC's first request is a HEAD, whose 403 carries no error code: "(403) ... Forbidden" is all it can say.
    assert "(403)" in push.stderr and "Forbidden" in push.stderr, push.stderr
    assert local_state(repo) == before
    assert good.client().list_objects_v2(Bucket=bucket)["KeyCount"] == 0

    # Keys given on purpose: written to .dvc/config.local only, and they are what DVC then uses.
    env_for()
    configure_s3_remote(
        repo,
        S3Remote(REMOTE, f"s3://{bucket}/corpus", good.url, region="us-east-1"),
        keys=S3Keys(good.access_key_id, good.secret_access_key),
        replace=True,
    )
    dvc(repo, "push")
    assert good.secret_access_key not in (repo / ".dvc" / "config").read_text(encoding="utf-8")
    assert good.secret_access_key not in git(repo, "diff", "HEAD")


def test_missing_bucket_fails_clearly_and_changes_nothing_locally(
    store: S3Endpoint, tmp_path: Path, env_for: Callable[..., dict[str, str]]
) -> None:
    env_for(store)
    missing = f"corpus-missing-{uuid.uuid4().hex[:8]}"
    repo = tracked_repo(tmp_path / "repo", missing, store)
    with pytest.raises(RemoteError, match=rf"bucket '{missing}' does not exist .* create it"):
        check_s3_remote(repo, REMOTE)

    before = local_state(repo)
    push = dvc(repo, "push", check=False)
    assert push.returncode != 0 and "bucket does not exist" in push.stderr, push.stderr
    assert local_state(repo) == before

    teammate = clone(repo, tmp_path / "teammate")
    before = local_state(teammate)
    pull = dvc(teammate, "pull", check=False)
    assert pull.returncode != 0 and "bucket does not exist" in pull.stderr, pull.stderr
    assert local_state(teammate) == before, "a failed pull must leave no partial data or cache behind"
    assert missing not in {b["Name"] for b in store.client().list_buckets()["Buckets"]}, "no bucket may be created"


@pytest.mark.seaweedfs
@pytest.mark.xdist_group("s3-seaweedfs")
def test_server_dying_mid_push_then_next_push_completes(
    seaweedfs_factory: Callable[[], SeaweedServer], tmp_path: Path, env_for: Callable[..., dict[str, str]]
) -> None:
    server = seaweedfs_factory()
    endpoint = server.endpoint
    bucket = new_bucket(endpoint)
    # One attempt per request: with botocore's default 5 and back-off, DVC needs ~1 s per file left to
    # report the outage (~150 s here); the message and the outcome are the same.
    env = env_for(endpoint, AWS_MAX_ATTEMPTS="1")
    repo = tracked_repo(tmp_path / "repo", bucket, endpoint, dir_files=160, dir_file_bytes=32 * 1024)
    client = endpoint.client()
    before = local_state(repo)

    push = subprocess.Popen([sys.executable, "-m", "dvc", "push"], cwd=repo, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while client.list_objects_v2(Bucket=bucket).get("KeyCount", 0) < 20:
            assert push.poll() is None, "the push finished before the server could be stopped; add files"
            assert time.monotonic() < deadline, "the push did not start uploading within 60 s"
            time.sleep(0.05)
        server.kill()
        _, stderr = push.communicate(timeout=120)
    finally:
        if push.poll() is None:
            push.kill()
            push.wait()
    assert push.returncode != 0
    assert "failed to push data to the cloud" in stderr and "Could not connect to the endpoint URL" in stderr, stderr
    assert local_state(repo) == before

    server.start()  # same data directory, same port
    assert "pushed" in dvc(repo, "push").stdout
    teammate = clone(repo, tmp_path / "teammate")
    dvc(teammate, "pull")
    assert tree_digest(teammate) == tree_digest(repo)  # pulled with `verify`: every object was re-hashed


def test_object_altered_in_the_bucket_is_refused_on_pull(
    store: S3Endpoint, tmp_path: Path, env_for: Callable[..., dict[str, str]]
) -> None:
    env_for(store)
    bucket = new_bucket(store)
    repo = tracked_repo(tmp_path / "repo", bucket, store)
    dvc(repo, "push")
    client = store.client()
    batch = "data/raw/feedback/batch-001.jsonl"
    shard = "data/raw/shards/part-0003.bin"
    for path in (batch, shard):
        key = _object_key(repo, path)
        client.put_object(Bucket=bucket, Key=key, Body=b"tampered\n" * 100)

    damaged = find_damaged_objects(repo, REMOTE)
    assert [(d.workspace_path, d.url, d.problem.split(" ")[0]) for d in damaged] == [
        (batch, f"s3://{bucket}/{_object_key(repo, batch)}", "altered"),
        (shard, f"s3://{bucket}/{_object_key(repo, shard)}", "altered"),
    ]
    assert "delete that object and run `dvc push`" in str(damaged[0])
    # `verify = true` (set by corpus.remote) makes DVC re-hash downloads: the pull fails and no altered
    # byte reaches the cache or the workspace; untouched outputs are still checked out.
    teammate = clone(repo, tmp_path / "teammate")
    pull = dvc(teammate, "pull", check=False)
    assert pull.returncode != 0 and "failed to pull" in pull.stderr, pull.stderr
    original = tree_digest(repo)
    pulled = tree_digest(teammate)
    assert all(original[path] == digest for path, digest in pulled.items())
    assert batch not in pulled and shard not in pulled
    assert "data/raw/feedback/scores.parquet" in pulled
    assert b"tampered" not in b"".join(p.read_bytes() for p in (teammate / ".dvc" / "cache").rglob("*") if p.is_file())

    # Why the template sets `verify`: DVC's default trusts the bucket and reports the bad bytes as clean.
    trusting = clone(repo, tmp_path / "trusting")
    (trusting / ".dvc" / "config.local").write_text(f"['remote \"{REMOTE}\"']\n    verify = false\n", encoding="utf-8")
    dvc(trusting, "pull")
    assert (trusting / batch).read_bytes().startswith(b"tampered")
    assert "up to date" in dvc(trusting, "status").stdout


def _object_key(repo: Path, workspace_path: str) -> str:
    """The bucket key under which DVC 3 stores the file at `workspace_path` (files/md5/ab/cdef...)."""
    md5 = hashlib.md5((repo / workspace_path).read_bytes(), usedforsecurity=False).hexdigest()
    return f"corpus/files/md5/{md5[:2]}/{md5[2:]}"
