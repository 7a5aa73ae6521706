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
    rows: Annotated[int, typer.Option(help="How many raw lines to write.")] = 5000,
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


# sign, verify and baseline live in their own module (issue 5); it imports only typer at load time.
from corpus.cli_attest import register as _register_attest  # noqa: E402

_register_attest(app)
