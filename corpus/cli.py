"""`corpusctl`: what a maintainer or auditor runs next to `dvc repro`.

Imports of heavy libraries stay inside the commands so that `corpusctl --help` starts fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from corpus import __version__

app = typer.Typer(
    name="corpusctl",
    help=(
        "Govern, sign, verify and audit the fine-tuning corpus built by `dvc repro`.\n\n"
        "Typical flow: `corpusctl batch add` a raw export, a second maintainer runs `corpusctl batch approve`, "
        "then `dvc repro` builds the snapshot."
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
)
batch_app = typer.Typer(
    help="Add raw feedback batches and approve them (two-person rule).", no_args_is_help=True
)
sample_app = typer.Typer(help="Regenerate the template's synthetic sample feedback.", no_args_is_help=True)
app.add_typer(batch_app, name="batch")
app.add_typer(sample_app, name="sample")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"corpusctl {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        Optional[bool],
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = None,
) -> None:
    """Govern, sign, verify and audit the corpus."""


def _paths():  # type: ignore[no-untyped-def]
    from corpus.paths import RepoPaths, repo_root

    return RepoPaths(repo_root())


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


@batch_app.command("add")
def batch_add(
    file: Annotated[Path, typer.Argument(help="The raw JSONL export (contract v1, DESIGN.md 3.1).")],
    batch_id: Annotated[str, typer.Option("--batch-id", help="New, unique id, e.g. vendor-acme-2026-11-03.")],
    source: Annotated[str, typer.Option(help="Surface id registered in data/governance/surfaces.yaml.")],
    author: Annotated[str, typer.Option(help="Who submits the batch (email).")],
    justification: Annotated[str, typer.Option(help="Why this batch belongs in the corpus.")],
    guideline_version: Annotated[Optional[str], typer.Option(help="Labelling guideline in force.")] = None,
) -> None:
    """Copy FILE to data/raw/feedback/, `dvc add` it, write its manifest with the sha256, list it in params.yaml.

    The batch contributes nothing until another maintainer runs `corpusctl batch approve`.
    """
    from corpus.batches import add_batch
    from corpus.errors import CorpusError

    try:
        manifest = add_batch(
            _paths(),
            file,
            batch_id=batch_id,
            source=source,
            author=author,
            justification=justification,
            guideline_version=guideline_version,
        )
    except CorpusError as exc:
        raise _fail(str(exc)) from None
    typer.echo(
        f"added {batch_id}: manifest {manifest}; next: a maintainer other than {author} runs "
        f"`corpusctl batch approve {batch_id} --approver EMAIL`, then commit and `dvc push`"
    )


@batch_app.command("approve")
def batch_approve(
    batch_id: Annotated[str, typer.Argument(help="The batch to approve.")],
    approver: Annotated[str, typer.Option(help="Your maintainer email (must differ from the author).")],
) -> None:
    """Approve the exact bytes of a batch: checks sha256, the two-person rule and the maintainer list."""
    from corpus.batches import approve_batch
    from corpus.errors import CorpusError

    try:
        manifest = approve_batch(_paths(), batch_id, approver=approver)
    except CorpusError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"approved {batch_id} (sha256 {manifest.sha256[:12]}...) by {manifest.approver}")


@sample_app.command("generate")
def sample_generate(
    rows: Annotated[
        int, typer.Option(min=400, help="How many raw lines to write (at least 400: one of every planted case).")
    ] = 5000,
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed gives byte-identical files.")
    ] = 20261122,
    root: Annotated[
        Optional[Path], typer.Option(help="Repository root to write into (default: this clone).")
    ] = None,
) -> None:
    """Write the synthetic sample: raw batches, manifests, governance files and eval probes."""
    from corpus.samplegen import generate

    target = root or _paths().root
    generate(target, rows=rows, seed=seed)
    typer.echo(f"wrote sample feedback ({rows} lines) under {target / 'data'}")



remote_app = typer.Typer(help="Team storage: point DVC at an S3 bucket or an S3-compatible store.", no_args_is_help=True)
app.add_typer(remote_app, name="remote")


@remote_app.command("s3")
def remote_s3(
    name: Annotated[str, typer.Argument(help="Remote name, e.g. team (the `sample` remote stays).")],
    url: Annotated[str, typer.Argument(help="s3://BUCKET/PREFIX (the prefix is optional)")],
    endpoint_url: Annotated[
        Optional[str], typer.Option("--endpoint-url", help="S3-compatible store, e.g. https://minio.internal:9000")
    ] = None,
    region: Annotated[Optional[str], typer.Option(help="e.g. eu-west-1")] = None,
    profile: Annotated[Optional[str], typer.Option(help="AWS profile on this machine; stored in .dvc/config.local only.")] = None,
    access_key_id: Annotated[
        Optional[str], typer.Option("--access-key-id", help="Store keys in git-ignored .dvc/config.local; the secret is prompted for.")
    ] = None,
    default: Annotated[bool, typer.Option("--default", help="Make it the remote of a bare dvc push/pull.")] = False,
    replace: Annotated[bool, typer.Option("--replace", help="Redefine an existing S3 remote of this name.")] = False,
    check: Annotated[bool, typer.Option("--check/--no-check", help="Confirm bucket and credentials now.")] = True,
) -> None:
    """Configure an S3 DVC remote: shared settings in .dvc/config, credentials never in git."""
    from corpus.remote import RemoteError, S3Keys, S3Remote, check_s3_remote, configure_s3_remote

    keys = S3Keys(access_key_id, typer.prompt("secret access key", hide_input=True)) if access_key_id else None
    root = _paths().root
    try:
        setup = configure_s3_remote(
            root, S3Remote(name, url, endpoint_url, region, profile), keys=keys, default=default, replace=replace
        )
    except RemoteError as exc:
        raise _fail(str(exc), exc.exit_code) from None
    typer.echo("\n".join(f"  {c}" for c in setup.commands))
    typer.echo("commit .dvc/config: git add .dvc/config && git commit -m 'DVC: team S3 remote'")
    if setup.private:
        typer.echo(f".dvc/config.local (git-ignored, this clone only) holds: {', '.join(setup.private)}")
    if check:
        try:
            typer.echo(check_s3_remote(root, name))
        except RemoteError as exc:
            raise _fail(f"{exc} (the remote is configured; rerun `corpusctl remote check {name}`)", exc.exit_code) from None


@remote_app.command("check")
def remote_check(
    name: Annotated[str, typer.Argument(help="Remote name.")],
    objects: Annotated[bool, typer.Option("--objects", help="Also download and re-hash every object this commit needs.")] = False,
) -> None:
    """Confirm the bucket and credentials work; with --objects, detect altered or missing objects (exit 6)."""
    from corpus.remote import RemoteError, check_s3_remote, find_damaged_objects

    root = _paths().root
    try:
        typer.echo(check_s3_remote(root, name))
        damaged = find_damaged_objects(root, name) if objects else []
    except RemoteError as exc:
        raise _fail(str(exc), exc.exit_code) from None
    for damage in damaged:
        typer.secho(str(damage), err=True, fg=typer.colors.RED)
    if damaged:
        raise typer.Exit(6)


# sign, verify and baseline live in their own module (issue 5); it imports only typer at load time.
from corpus.cli_attest import register as _register_attest  # noqa: E402

_register_attest(app)

# audit, revoke and model record (issue 6), same pattern.
from corpus.cli_audit import register as _register_audit  # noqa: E402

_register_audit(app)
