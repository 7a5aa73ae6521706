"""`corpusctl sign`, `verify` and `baseline`: attest a published snapshot, check one, and start the
next snapshot cycle from one. Registered on the main app by `register(app)`.

Only typer and the standard library are imported here; everything else is imported inside the
commands, so that `corpusctl --help` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from corpus.paths import RepoPaths

IDENTITY_TOKEN_ENV = "SIGSTORE_IDENTITY_TOKEN"
_SIGN_EXIT_CODES = (
    "Exit codes: 0 signed; 2 bad or already used VERSION, unreadable registry or params; "
    "3 workspace refused (uncommitted or untracked files, data differing from dvc.lock, no snapshot); "
    "4 no identity token, or the Sigstore instance refused; 5 a git command failed."
)
_VERIFY_EXIT_CODES = (
    "Exit codes (the first failing check, in this order): 0 verified; "
    "10 signature, signer identity/issuer/repository/commit, or bundle of another version; "
    "11 snapshot files (manifest.json not the signed one, a file changed, missing or extra); "
    "12 sources (attested commit absent, dvc.lock or stage code differ at it, raw batch swapped, tag moved); "
    "13 chain (registry entry or parent link altered, a parent bundle does not verify); "
    "2 usage (unknown version, missing bundle, unedited signer policy, unreadable trust root)."
)

_BASELINE_EXIT_CODES = (
    "Exit codes: 0 written; 2 unknown version; 3 the workspace does not hold that snapshot."
)


def _error(message: str, code: int) -> typer.Exit:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code)


def _paths() -> RepoPaths:
    from corpus.paths import RepoPaths, repo_root

    try:
        return RepoPaths(repo_root())
    except FileNotFoundError as exc:
        raise _error(str(exc), 2) from None


def _warn_if_test_trust(path: Path | None) -> None:
    from corpus.signing import trust_warning

    warning = trust_warning(path) if path is not None else None
    if warning:
        typer.secho(warning, err=True, fg=typer.colors.YELLOW, bold=True)


def sign(
    version: Annotated[
        str, typer.Argument(help="Snapshot version, e.g. 1.0.0 or 2026.11.1; tagged corpus@VERSION.")
    ],
    identity_token: Annotated[
        str | None,
        typer.Option(
            "--identity-token",
            envvar=IDENTITY_TOKEN_ENV,
            show_envvar=True,
            show_default=False,
            help="OIDC identity token (audience 'sigstore'). Default: detected from the CI job "
            "(GitHub Actions with `id-token: write`). Prefer the environment variable: arguments are "
            "visible to other processes.",
        ),
    ] = None,
    trust_config: Annotated[
        Path | None,
        typer.Option(
            "--trust-config",
            help="Sigstore ClientTrustConfig JSON of a private deployment. Default: public Sigstore.",
        ),
    ] = None,
    commit_and_tag: Annotated[
        bool,
        typer.Option(
            "--commit-and-tag", help="Also commit the bundle and registry and tag that commit corpus@VERSION."
        ),
    ] = False,
) -> None:
    """Sign data/published/ as snapshot VERSION (bundle + registry entry).

    Refuses uncommitted or untracked files, and data that differs from dvc.lock.
    Subject: manifest.json. Predicate: commit, dvc.lock, params, raw batches and
    their approvals, stage code, Merkle root, counts, gates, parent snapshot.
    Writes attestations/VERSION.sigstore.json and attestations/registry.json.
    """
    from corpus.errors import CorpusError
    from corpus.signing import commit_and_tag as record_in_git
    from corpus.signing import git_commands, shell_line, sign_snapshot

    paths = _paths()
    _warn_if_test_trust(trust_config)
    try:
        signed = sign_snapshot(
            paths, version, identity_token=identity_token or None, trust_config=trust_config
        )
    except CorpusError as exc:
        raise _error(str(exc), exc.exit_code) from None
    entry = signed.entry
    parent = (
        f"{entry.parent.version} (manifest sha256 {entry.parent.manifest_sha256})"
        if entry.parent
        else "none: first snapshot"
    )
    typer.echo(
        f"signed corpus snapshot {entry.version}\n"
        f"  subject   manifest.json sha256 {entry.manifest_sha256}\n"
        f"  commit    {entry.commit}\n"
        f"  signer    {entry.signer_identity} (issuer {entry.signer_issuer})\n"
        f"  logged at {entry.signed_at or 'unknown'}\n"
        f"  bundle    {entry.bundle}\n"
        f"  parent    {parent}"
    )
    push = f"dvc push && git push origin HEAD {entry.tag}"
    if not commit_and_tag:
        commands = "\n  ".join(shell_line(c) for c in git_commands(signed))
        typer.echo(f"next: record it in git, then publish data before the tag:\n  {commands}\n  {push}")
        return
    try:
        tagged = record_in_git(paths, signed)
    except CorpusError as exc:
        raise _error(str(exc), exc.exit_code) from None
    typer.echo(f"committed and tagged {entry.tag} at {tagged}\nnext: {push}")


def verify(
    version: Annotated[
        str | None, typer.Argument(help="Snapshot version to verify. Default: the latest in the registry.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document for machines.")] = False,
    trust_config: Annotated[
        Path | None,
        typer.Option("--trust-config", help="ClientTrustConfig JSON of a private Sigstore deployment."),
    ] = None,
    trusted_root: Annotated[
        Path | None,
        typer.Option(
            "--trusted-root", help="trusted_root.json. Default: the production root pinned in corpus/trust/."
        ),
    ] = None,
    identity: Annotated[
        str | None, typer.Option(help="Expected certificate identity (overrides the signer policy).")
    ] = None,
    issuer: Annotated[
        str | None, typer.Option(help="Expected OIDC issuer (overrides the signer policy).")
    ] = None,
    repository: Annotated[
        str | None, typer.Option(help="Expected GitHub OWNER/REPO (overrides the signer policy).")
    ] = None,
    policy: Annotated[
        Path | None, typer.Option(help="Signer policy YAML. Default: attestations/signer-policy.yaml.")
    ] = None,
) -> None:
    """Verify snapshot VERSION offline: signature and signer, published files, sources, and the chain."""
    from corpus.errors import CorpusError
    from corpus.printable import printable
    from corpus.verification import EXIT_USAGE, SignerPolicy, Trust, default_policy_file, verify_snapshot

    def usage(message: str) -> typer.Exit:
        if as_json:
            typer.echo(
                json.dumps({"version": version, "verified": False, "exit_code": EXIT_USAGE, "error": message})
            )
            return typer.Exit(EXIT_USAGE)
        return _error(message, EXIT_USAGE)

    if trust_config is not None and trusted_root is not None:
        raise usage("pass either --trust-config or --trusted-root, not both")
    paths = _paths()
    _warn_if_test_trust(trust_config or trusted_root)
    try:
        signer_policy = SignerPolicy.resolve(
            policy or default_policy_file(paths), issuer=issuer, identity=identity, repository=repository
        )
        report = verify_snapshot(
            paths, version, signer_policy, Trust(trusted_root=trusted_root, trust_config=trust_config)
        )
    except CorpusError as exc:
        raise usage(str(exc)) from None

    if as_json:
        typer.echo(json.dumps(report.to_json(), indent=2))
        raise typer.Exit(report.exit_code)
    typer.echo(f"corpus snapshot {report.version} ({report.bundle})")
    colours = {"ok": typer.colors.GREEN, "fail": typer.colors.RED, "skip": typer.colors.YELLOW}
    for check in report.checks:
        label = typer.style(f"{check.status.upper():<4}", fg=colours[check.status], bold=True)
        # A message can quote what an attacker controls (a file name in the snapshot, a bundle's
        # identity): its terminal escapes must not redraw the verdict lines.
        typer.echo(f"  {label}  {check.check:<11} {printable(check.message)}")
    if report.exit_code == 0:
        typer.secho(f"VERIFIED: snapshot {report.version}", fg=typer.colors.GREEN, bold=True)
    else:
        typer.secho(
            f"NOT VERIFIED: snapshot {report.version} (exit {report.exit_code})",
            fg=typer.colors.RED,
            bold=True,
        )
    raise typer.Exit(report.exit_code)


def baseline(
    version: Annotated[
        str, typer.Argument(help="A signed snapshot version whose stats become the drift baseline.")
    ],
) -> None:
    """Make signed snapshot VERSION's stats.json the next drift baseline.

    Writes data/baseline/stats.json; commit it: the drift gate compares the next
    snapshot against it. The workspace must hold snapshot VERSION (otherwise
    `git checkout corpus@VERSION && dvc pull` first).
    """
    from corpus.errors import CorpusError
    from corpus.snapshots import set_baseline

    paths = _paths()
    try:
        target = set_baseline(paths, version)
    except CorpusError as exc:
        raise _error(str(exc), exc.exit_code) from None
    relative = target.relative_to(paths.root).as_posix()
    typer.echo(
        f"{relative} now holds snapshot {version}'s stats; commit it to start the next cycle:\n"
        f"  git add {relative} && git commit -m 'Drift baseline: corpus snapshot {version}'"
    )


def register(app: typer.Typer) -> None:
    """Add `sign`, `verify` and `baseline` to `app`."""
    app.command("sign", epilog=_SIGN_EXIT_CODES)(sign)
    app.command("verify", epilog=_VERIFY_EXIT_CODES)(verify)
    app.command("baseline", epilog=_BASELINE_EXIT_CODES)(baseline)
