"""Team storage: point the template's DVC at an S3 bucket or an S3-compatible store (MinIO, SeaweedFS, ...).

Behind `corpusctl remote s3` and `corpusctl remote check`. Three rules:

- What the team shares goes to `.dvc/config` (git-tracked): the URL, the endpoint, the region and
  `verify = true`. With `verify`, `dvc pull` re-hashes every object it downloads and refuses one whose
  bytes do not match its md5 name; DVC's default trusts S3 and would check out altered bytes while
  `dvc status`, `dvc data status` and `dvc status -c` all report "up to date".
- What belongs to one person goes to `.dvc/config.local`, which `.dvc/.gitignore` keeps out of git: an
  AWS profile name and, only when explicitly given, keys. Without keys, DVC uses the usual AWS chain
  (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, ~/.aws, instance roles).
- The template's `sample` remote stays: a team remote is added beside it, and `default=True` only
  changes which remote a bare `dvc push`/`dvc pull` uses.

The settings are written with DVC's own config writer (what `dvc remote add`/`dvc remote modify` call),
in this process: keys never appear as command arguments, which any local user can read in the process
list, each file is written once and validated against DVC's schema, and it takes milliseconds instead
of a second per `dvc` start. `RemoteSetup.commands` lists the equivalent `dvc` commands.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from corpus.errors import CorpusError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
# Amazon's rules for new buckets: 3-63 of a-z 0-9 . -, starting and ending with a letter or digit.
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_REGION = re.compile(r"^[a-z0-9-]{2,32}$")
_PROFILE = re.compile(r"^[A-Za-z0-9_.@+=,-]{1,64}$")
_KEY_OPTIONS = ("access_key_id", "secret_access_key", "session_token")


class RemoteError(CorpusError):
    """The S3 remote cannot be configured or reached as asked; the message says what to do."""

    exit_code = 6


@dataclass(frozen=True)
class S3Remote:
    """Where the team's DVC objects live: `url` is s3://bucket[/prefix]."""

    name: str
    url: str
    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None


@dataclass(frozen=True)
class S3Keys:
    """An access key pair given on purpose: kept out of `repr`, never written to git."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class RemoteSetup:
    """What `configure_s3_remote` wrote, for the command to tell the user."""

    name: str
    shared: dict[str, str]
    """Options now in .dvc/config (git-tracked: commit them)."""
    private: tuple[str, ...]
    """Names, not values, of this remote's options in .dvc/config.local (git-ignored, this clone only)."""
    default: bool
    commands: tuple[str, ...]
    """The equivalent `dvc remote` commands, secrets shown as <hidden>."""


def configure_s3_remote(
    root: Path, remote: S3Remote, *, keys: S3Keys | None = None, default: bool = False, replace: bool = False
) -> RemoteSetup:
    """Add (or, with `replace`, redefine) the DVC remote `remote.name` in the clone at `root`.

    All or nothing: if any step fails, .dvc/config and .dvc/config.local are left as they were.
    """
    from dvc.config import Config, ConfigError

    _validate(remote, keys)
    dvc_dir = root / ".dvc"
    if not (dvc_dir / "config").is_file():
        raise RemoteError(f"{root} is not a DVC repository (no .dvc/config); run this inside a clone of the template")
    config = Config(dvc_dir=str(dvc_dir), validate=False)
    existing = config.read().get("remote", {}).get(remote.name)
    if existing is not None:
        url = str(existing.get("url", ""))
        if not url.startswith("s3://"):
            raise RemoteError(
                f"remote {remote.name!r} already exists and points at {url}, not S3; choose another name "
                "(a remote of another kind, such as the template's `sample`, is never replaced)"
            )
        if not replace:
            raise RemoteError(f"remote {remote.name!r} already exists ({url}); pass --replace to redefine it")

    shared = {"url": remote.url}
    if remote.endpoint_url:
        shared["endpointurl"] = remote.endpoint_url
    if remote.region:
        shared["region"] = remote.region
    shared["verify"] = "true"
    private: dict[str, str] = {}
    if remote.profile:
        private["profile"] = remote.profile
    if keys is not None:
        private |= {"access_key_id": keys.access_key_id, "secret_access_key": keys.secret_access_key}
        if keys.session_token:
            private["session_token"] = keys.session_token
    if private:
        _require_git_ignored(root, dvc_dir / "config.local")

    with _restored_on_failure(dvc_dir / "config", dvc_dir / "config.local"):
        try:
            with config.edit("repo") as project:
                # Like `dvc remote add --force`: the section is replaced whole, no stale option survives.
                project.setdefault("remote", {})[remote.name] = dict(shared)
                if default:
                    project.setdefault("core", {})["remote"] = remote.name
            if private:
                with config.edit("local") as local:
                    section = local.setdefault("remote", {}).setdefault(remote.name, {})
                    if keys is not None:
                        for option in _KEY_OPTIONS:  # an old session token must not ride along with new keys
                            section.pop(option, None)
                    section.update(private)
        except ConfigError as exc:
            raise RemoteError(f"DVC refused the remote settings: {exc}") from None

    left_private = Config(dvc_dir=str(dvc_dir), validate=False).read("local").get("remote", {}).get(remote.name, {})
    return RemoteSetup(
        name=remote.name,
        shared=shared,
        private=tuple(sorted(left_private)),
        default=default,
        commands=_equivalent_commands(remote.name, shared, private, default=default, replace=replace),
    )


def _equivalent_commands(
    name: str, shared: dict[str, str], private: dict[str, str], *, default: bool, replace: bool
) -> tuple[str, ...]:
    flags = ("--default " if default else "") + ("--force " if replace else "")
    lines = [f"dvc remote add {flags}{name} {shared['url']}"]
    lines += [f"dvc remote modify {name} {option} {value}" for option, value in shared.items() if option != "url"]
    lines += [
        f"dvc remote modify --local {name} {option} {value if option == 'profile' else '<hidden>'}"
        for option, value in private.items()
    ]
    return tuple(lines)


def check_s3_remote(root: Path, name: str) -> str:
    """Ask the store for one key under the remote's prefix, with exactly the settings `dvc push` would use.

    Returns a one-line confirmation; raises RemoteError saying what to fix (credentials, bucket, endpoint).
    """
    from botocore.exceptions import BotoCoreError, NoCredentialsError
    from s3fs import S3FileSystem

    # fsspec reuses a client built earlier in this process with the same settings, whose credentials
    # may since have changed (a notebook, a test run): ask with fresh ones.
    S3FileSystem.clear_instance_cache()
    with _open_remote(root, name) as (_, remote):
        bucket, _, prefix = remote.path.partition("/")
        endpoint = remote.config.get("endpointurl") or "AWS S3"
        try:
            remote.fs.fs.call_s3("list_objects_v2", Bucket=bucket, Prefix=prefix, MaxKeys=1)
        except FileNotFoundError:
            raise RemoteError(
                f"bucket {bucket!r} does not exist at {endpoint}: create it (e.g. `aws s3 mb s3://{bucket}"
                + (f" --endpoint-url {endpoint}" if endpoint != "AWS S3" else "")
                + "`) or fix the URL with `corpusctl remote s3 ... --replace`"
            ) from None
        except NoCredentialsError:
            raise RemoteError(
                f"no AWS credentials found for remote {name!r}: export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, "
                "set AWS_PROFILE, or give the remote a profile (`corpusctl remote s3 ... --profile NAME --replace`)"
            ) from None
        except PermissionError as exc:
            raise RemoteError(
                f"{endpoint} refused the credentials for bucket {bucket!r} ({exc}): check AWS_ACCESS_KEY_ID/"
                "AWS_SECRET_ACCESS_KEY, AWS_PROFILE or the remote's profile, and that the key may list and "
                "write the bucket"
            ) from None
        except (BotoCoreError, OSError) as exc:
            raise RemoteError(
                f"cannot reach {endpoint} for remote {name!r}: {exc}; check the endpoint URL, the network "
                "and any proxy"
            ) from None
    return f"remote {name!r}: bucket {bucket!r} at {endpoint} answers with these credentials"


@dataclass(frozen=True)
class DamagedObject:
    """A DVC object on the remote whose bytes are missing or do not hash to its name."""

    workspace_path: str
    url: str
    problem: str

    def __str__(self) -> str:
        return (
            f"{self.workspace_path}: {self.url} is {self.problem}; delete that object and run `dvc push` "
            "from a clone whose cache holds the right bytes (`dvc push` skips names already on the remote)"
        )


def find_damaged_objects(root: Path, name: str) -> list[DamagedObject]:
    """Download every object the current commit's outputs need from remote `name` and re-hash it.

    `dvc status -c` only compares object names, so an object altered or truncated in the bucket looks
    fine there, and `dvc pull` (with `verify`) only says the checkout failed. This names the objects.
    """
    check_s3_remote(root, name)  # credentials, bucket and endpoint problems get their own clear message
    with _open_remote(root, name) as (repo, remote):
        # DVC 3 outputs only: "md5-dos2unix" objects of DVC 2 projects live under another prefix.
        wanted = {
            out.hash_info.value: os.path.relpath(out.fs_path, repo.root_dir)
            for out in repo.index.outs
            if out.use_cache and out.hash_info and out.hash_info.name == "md5" and out.hash_info.value
        }
    odb = remote.odb
    damaged: list[DamagedObject] = []
    pending = list(wanted.items())
    while pending:
        oid, workspace_path = pending.pop()
        path = odb.oid_to_path(oid)
        content_md5, body = _remote_md5(odb.fs, path, keep=oid.endswith(".dir"))
        if content_md5 is None:
            damaged.append(DamagedObject(workspace_path, f"s3://{path}", "missing"))
        elif content_md5 != oid.removesuffix(".dir"):
            damaged.append(DamagedObject(workspace_path, f"s3://{path}", f"altered (its bytes hash to {content_md5})"))
        elif body is not None:
            # A directory's listing object: check each file it names too.
            pending += [(entry["md5"], f"{workspace_path}/{entry['relpath']}") for entry in json.loads(body)]
    return sorted(damaged, key=lambda d: d.workspace_path)


def _remote_md5(fs: Any, path: str, *, keep: bool) -> tuple[str | None, bytes | None]:
    """md5 of one remote object streamed in 1 MiB blocks (None if it is missing); its bytes if `keep`."""
    digest, kept = hashlib.md5(usedforsecurity=False), bytearray()
    try:
        with fs.open(path, "rb") as stream:
            while block := stream.read(1 << 20):
                digest.update(block)
                if keep:
                    kept += block
    except FileNotFoundError:
        return None, None
    return digest.hexdigest(), bytes(kept) if keep else None


@contextmanager
def _open_remote(root: Path, name: str) -> Iterator[tuple[Any, Any]]:
    """The DVC repo at `root` and its S3 remote `name`, configured exactly as `dvc push` sees them."""
    from dvc.exceptions import DvcException
    from dvc.repo import Repo

    try:
        repo = Repo(str(root))
    except DvcException as exc:
        raise RemoteError(f"{root}: {exc}; run this inside a clone of the template") from None
    with repo:
        try:
            remote = repo.cloud.get_remote(name)
        except DvcException as exc:
            raise RemoteError(f"remote {name!r}: {exc}; list the configured remotes with `dvc remote list`") from None
        if remote.fs.protocol != "s3":
            raise RemoteError(f"remote {name!r} is not an S3 remote ({remote.fs.protocol})")
        yield repo, remote


def _validate(remote: S3Remote, keys: S3Keys | None) -> None:
    if not _NAME.match(remote.name):
        raise RemoteError(f"remote name {remote.name!r}: use letters, digits, '.', '_' and '-' (at most 64)")
    url = urlsplit(remote.url)
    if url.scheme != "s3" or url.query or url.fragment or not _BUCKET.match(url.netloc):
        raise RemoteError(
            f"remote URL {remote.url!r}: expected s3://BUCKET or s3://BUCKET/PREFIX with a bucket name of "
            "3-63 lower-case letters, digits, '.' or '-'"
        )
    if remote.endpoint_url is not None:
        endpoint = urlsplit(remote.endpoint_url)
        if endpoint.scheme not in ("http", "https") or not endpoint.hostname:
            raise RemoteError(f"endpoint URL {remote.endpoint_url!r}: expected http(s)://HOST[:PORT]")
        if endpoint.username or endpoint.password:
            raise RemoteError(
                "the endpoint URL carries credentials, and it is stored in git-tracked .dvc/config: remove "
                "them from the URL and give keys through AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a profile"
            )
    if remote.region is not None and not _REGION.match(remote.region):
        raise RemoteError(f"region {remote.region!r}: expected an S3 region name such as eu-west-1")
    if remote.profile is not None and not _PROFILE.match(remote.profile):
        raise RemoteError(f"profile {remote.profile!r}: expected the name of a section of ~/.aws/config")
    if keys is not None and not (keys.access_key_id.strip() and keys.secret_access_key.strip()):
        raise RemoteError("give both an access key id and a secret access key, or neither")


def _require_git_ignored(root: Path, path: Path) -> None:
    """Refuse to put anything personal in a file git would pick up (e.g. a damaged .dvc/.gitignore)."""
    try:
        result = subprocess.run(
            ["git", "check-ignore", "--quiet", str(path.relative_to(root))], cwd=root, capture_output=True, text=True
        )
    except OSError as exc:
        raise RemoteError(f"cannot run git to check that {path.name} stays out of commits: {exc}") from None
    if result.returncode != 0:
        raise RemoteError(
            f"{path.relative_to(root)} is not ignored by git here, so keys or a profile written to it could be "
            "committed: restore `/config.local` in .dvc/.gitignore (run this inside the git clone), then retry"
        )


@contextmanager
def _restored_on_failure(*files: Path) -> Iterator[None]:
    before = {path: path.read_bytes() if path.exists() else None for path in files}
    try:
        yield
    except BaseException:
        for path, content in before.items():
            if content is None:
                path.unlink(missing_ok=True)
            else:
                path.write_bytes(content)
        raise


