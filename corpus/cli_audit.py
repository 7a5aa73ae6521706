"""`corpusctl audit ...`, `corpusctl revoke` and `corpusctl model record` (DESIGN.md 7, issue 6).
Registered on the main app by `register(app)`.

Only typer and the standard library are imported here; everything else is imported inside the
commands, so that `corpusctl --help` stays fast.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from corpus.audit.queries import Audit
    from corpus.audit.signers import Signers
    from corpus.paths import RepoPaths

_EXIT_CODES = (
    "Exit codes: 0 answered; 2 usage (bad reference, ambiguous prefix, unknown version, bad trust or "
    "policy); 3 not found; 4 snapshot data unavailable or not the signed data; 10 answered, but a "
    "snapshot's bundle did not verify (its signer is not established)."
)
_PROOF_EXIT_CODES = (
    "Exit codes: 0 written; 2 usage (unknown version, ambiguous prefix); 3 the example is not in that "
    "snapshot; 4 snapshot data unavailable or not the signed data."
)
_CHECK_PROOF_EXIT_CODES = (
    "Exit codes: 0 the proof holds; 10 the bundle does not verify (signature, signer policy, version); "
    "11 the proof does not hold (example, id, audit path, root or manifest altered, or another snapshot's "
    "proof); 2 usage (unreadable file, no signer policy)."
)
_REVOKE_EXIT_CODES = (
    "Exit codes: 0 written; 2 refused (already revoked, not exactly one of --annotator and --batch, "
    "empty reason, invalid revocations.yaml, no --by and no git user.email)."
)
_RECORD_EXIT_CODES = (
    "Exit codes: 0 written; 2 refused (unknown snapshot version, model version already recorded, "
    "invalid ledger)."
)

audit_app = typer.Typer(
    help=(
        "Answer audit questions from the signed snapshots: git tags and the DVC remote, indexed once under "
        ".corpus-cache/ (safe to delete). Signers are always verified from the bundles."
    ),
    no_args_is_help=True,
)
model_app = typer.Typer(
    help="The training-run ledger: which snapshot trained which model.", no_args_is_help=True
)

AsJson = Annotated[bool, typer.Option("--json", help="Print one JSON document for machines.")]
TrustConfig = Annotated[
    Path | None,
    typer.Option("--trust-config", help="ClientTrustConfig JSON of a private Sigstore deployment."),
]
TrustedRoot = Annotated[
    Path | None,
    typer.Option(
        "--trusted-root", help="trusted_root.json. Default: the production root pinned in corpus/trust/."
    ),
]
Policy = Annotated[
    Path | None, typer.Option(help="Signer policy YAML. Default: attestations/signer-policy.yaml.")
]
Identity = Annotated[
    str | None, typer.Option(help="Expected certificate identity (overrides the signer policy).")
]
Issuer = Annotated[str | None, typer.Option(help="Expected OIDC issuer (overrides the signer policy).")]
Repository = Annotated[
    str | None, typer.Option(help="Expected GitHub OWNER/REPO (overrides the signer policy).")
]


@dataclass(frozen=True)
class _Verification:
    """How the signers of the snapshots in an answer are verified (the flags of `corpusctl verify`)."""

    policy: Path | None
    identity: str | None
    issuer: str | None
    repository: str | None
    trust_config: Path | None
    trusted_root: Path | None


def _error(message: str, code: int, *, as_json: bool, candidates: list[str] | None = None) -> typer.Exit:
    if as_json:
        typer.echo(
            json.dumps({"error": message, "exit_code": code, "candidates": candidates or []}, indent=2)
        )
    else:
        typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
        for candidate in candidates or []:
            typer.echo(f"  {candidate}", err=True)
    return typer.Exit(code)


def _paths() -> RepoPaths:
    from corpus.paths import RepoPaths, repo_root

    return RepoPaths(repo_root())


def _answer(
    as_json: bool,
    ask: Callable[[Audit], dict[str, Any]],
    show: Callable[[dict[str, Any]], None],
    *,
    verify: _Verification | None = None,
) -> None:
    """Open the audit, ask, print the answer (`verify`: how to verify the signers it names). Every
    user-facing failure ends as one message and its exit code."""
    from corpus.audit.errors import EXIT_OK, EXIT_UNVERIFIED, AuditUsageError
    from corpus.audit.queries import Audit
    from corpus.errors import CorpusError

    try:
        paths = _paths()
        audit = Audit(paths, signers=_signers(paths, verify) if verify is not None else None)
        answer = ask(audit)
    except FileNotFoundError as exc:  # not inside a clone of the template
        raise _error(str(exc), 2, as_json=as_json) from None
    except AuditUsageError as exc:
        raise _error(str(exc), exc.exit_code, as_json=as_json, candidates=exc.candidates) from None
    except CorpusError as exc:
        raise _error(str(exc), exc.exit_code, as_json=as_json) from None
    if as_json:
        typer.echo(json.dumps(answer, indent=2, ensure_ascii=False, default=str))
    else:
        show(answer)
    unverified = audit.signers is not None and not audit.signers.all_verified
    if unverified and not as_json:
        typer.secho(
            "warning: a snapshot's bundle did not verify, so its signer is not established; run "
            "`corpusctl verify VERSION` for the details",
            err=True,
            fg=typer.colors.RED,
        )
    raise typer.Exit(EXIT_UNVERIFIED if unverified else EXIT_OK)


def _signers(paths: RepoPaths, how: _Verification) -> Signers:
    from corpus.audit.signers import Signers
    from corpus.verification import SignerPolicy, Trust, VerifyUsageError, default_policy_file

    if how.trust_config is not None and how.trusted_root is not None:
        raise VerifyUsageError("pass either --trust-config or --trusted-root, not both")
    _warn_if_test_trust(how.trust_config or how.trusted_root)
    signer_policy = SignerPolicy.resolve(
        how.policy or default_policy_file(paths),
        issuer=how.issuer,
        identity=how.identity,
        repository=how.repository,
    )
    trust = Trust(trusted_root=how.trusted_root, trust_config=how.trust_config)
    trust.check()
    return Signers(paths, signer_policy, trust)


def _warn_if_test_trust(path: Path | None) -> None:
    from corpus.signing import trust_warning

    warning = trust_warning(path) if path is not None else None
    if warning:
        typer.secho(warning, err=True, fg=typer.colors.YELLOW, bold=True)


# ---- audit commands ----------------------------------------------------------------------------


def audit_example(
    ref: Annotated[
        str | None,
        typer.Argument(
            metavar="REF",
            help="Example id or a unique prefix of it; or VERSION:FILE:ROW, e.g. 2.0:sft/train.jsonl:47, "
            "where ROW is the line number in the file as an editor shows it (the first line is 1).",
            show_default=False,
        ),
    ] = None,
    text: Annotated[
        str | None,
        typer.Option(
            help="Find the example by a text it contains: a whole message, chosen or rejected text, "
            "matched exactly or else ignoring case, Unicode form and spacing."
        ),
    ] = None,
    version: Annotated[
        str | None, typer.Option(help="Only this snapshot (default: every signed one).")
    ] = None,
    as_json: AsJson = False,
    policy: Policy = None,
    identity: Identity = None,
    issuer: Issuer = None,
    repository: Repository = None,
    trust_config: TrustConfig = None,
    trusted_root: TrustedRoot = None,
) -> None:
    """Where an example comes from: snapshots, raw records, people, stages, commit and signer.

    Lists every signed snapshot that holds it, and for each:
    its file and row;
    its raw records (annotator, role, source, collected_at, guideline version);
    their batches (author, justification, approver, approval time; manifests at the snapshot's commit);
    what each stage did (redactions by type, intent and how it was decided, dedup cluster and what it
    absorbed, balance decision, split);
    the commit, and the signer verified from the bundle.
    """
    from corpus.audit import queries, render

    _answer(
        as_json,
        lambda audit: queries.example(audit, ref, text=text, version=version),
        render.example,
        verify=_Verification(policy, identity, issuer, repository, trust_config, trusted_root),
    )


def audit_record(
    feedback_id: Annotated[str, typer.Argument(metavar="FEEDBACK_ID", help="The raw line's feedback_id.")],
    as_json: AsJson = False,
    policy: Policy = None,
    identity: Identity = None,
    issuer: Issuer = None,
    repository: Repository = None,
    trust_config: TrustConfig = None,
    trusted_root: TrustedRoot = None,
) -> None:
    """The fate of one raw feedback line, stage by stage, and the examples it reached.

    Read from every signed snapshot's fate.parquet and lineage.parquet.
    The workspace's interim fate files (an unpublished local run) are shown too, when present.
    """
    from corpus.audit import queries, render

    _answer(
        as_json,
        lambda audit: queries.record(audit, feedback_id),
        render.record,
        verify=_Verification(policy, identity, issuer, repository, trust_config, trusted_root),
    )


def audit_diff(
    a: Annotated[str, typer.Argument(metavar="A", help="The earlier snapshot version.")],
    b: Annotated[str, typer.Argument(metavar="B", help="The later snapshot version.")],
    as_json: AsJson = False,
    policy: Policy = None,
    identity: Identity = None,
    issuer: Issuer = None,
    repository: Repository = None,
    trust_config: TrustConfig = None,
    trusted_root: TrustedRoot = None,
) -> None:
    """What changed from snapshot A to B: examples, params, stage code, raw batches.

    Examples added and removed are counted by batch, annotator, source and reason.
    Reasons: revoked (revocations.yaml at B's commit), unrevoked, new_batch, batch_removed, gate_drop,
    gate_pass; else the stage that decided differently: changed_params or changed_code (of that stage),
    stage_decision (same params and code, other input), changed_content (still kept, as another example).
    Params, stage code and raw batches come from the signed predicates.
    """
    from corpus.audit import queries, render

    _answer(
        as_json,
        lambda audit: queries.diff(audit, a, b),
        render.diff,
        verify=_Verification(policy, identity, issuer, repository, trust_config, trusted_root),
    )


def audit_annotator(
    annotator_id: Annotated[str, typer.Argument(metavar="ID", help="The pseudonymous annotator_id.")],
    as_json: AsJson = False,
    policy: Policy = None,
    identity: Identity = None,
    issuer: Issuer = None,
    repository: Repository = None,
    trust_config: TrustConfig = None,
    trusted_root: TrustedRoot = None,
) -> None:
    """One annotator across snapshots: examples, share, intents, balance, gate flags, revocation.

    To exclude them from the next snapshot: `corpusctl revoke --annotator ID --reason TEXT`.
    """
    from corpus.audit import queries, render

    _answer(
        as_json,
        lambda audit: queries.annotator(audit, annotator_id),
        render.annotator,
        verify=_Verification(policy, identity, issuer, repository, trust_config, trusted_root),
    )


def audit_model(
    model_version: Annotated[
        str, typer.Argument(help="A model version recorded with `corpusctl model record`.")
    ],
    as_json: AsJson = False,
    policy: Policy = None,
    identity: Identity = None,
    issuer: Issuer = None,
    repository: Repository = None,
    trust_config: TrustConfig = None,
    trusted_root: TrustedRoot = None,
) -> None:
    """The snapshot a model version was trained on, from the training-run ledger.

    Follows data/governance/training_runs.yaml to the signed snapshot.
    Shows its commit, verified signer and counts, and the commands to drill into its examples.
    """
    from corpus.audit import queries, render

    _answer(
        as_json,
        lambda audit: queries.model(audit, model_version),
        render.model,
        verify=_Verification(policy, identity, issuer, repository, trust_config, trusted_root),
    )


def audit_proof(
    example_id: Annotated[str, typer.Argument(help="Example id (or a unique prefix).")],
    version: Annotated[str, typer.Option(help="The signed snapshot that holds it.")],
    out: Annotated[Path | None, typer.Option(help="Write the proof here (default: print it).")] = None,
) -> None:
    """Write a Merkle inclusion proof that the example is in signed snapshot VERSION.

    The proof holds the example, the audit path and the snapshot's manifest.
    Anyone can check it without the corpus:
    `corpusctl audit check-proof PROOF --bundle attestations/VERSION.sigstore.json`.
    """
    from corpus.audit import queries
    from corpus.audit.proof import make_proof

    def ask(audit: Audit) -> dict[str, Any]:
        entry = audit.registry.require(version)
        ids, _ = queries.resolve_examples(audit, example_id, None, entry.version)
        return make_proof(audit.index(entry), ids[0])

    def show(proof: dict[str, Any]) -> None:
        document = json.dumps(proof, indent=2, ensure_ascii=False) + "\n"
        if out is None:
            typer.echo(document, nl=False)
            return
        out.write_text(document, encoding="utf-8")
        typer.echo(
            f"wrote {out}: example {proof['example_id']} is leaf {proof['leaf_index']} of "
            f"{proof['tree_size']} in snapshot {proof['version']}\ncheck it with: corpusctl audit check-proof "
            f"{out} --bundle attestations/{proof['version']}.sigstore.json"
        )

    # The proof is JSON either way; --json would add nothing.
    _answer(False, ask, show)


def audit_check_proof(
    proof: Annotated[Path, typer.Argument(help="The proof JSON written by `corpusctl audit proof`.")],
    bundle: Annotated[
        Path, typer.Option(help="The snapshot's Sigstore bundle, e.g. attestations/2.0.sigstore.json.")
    ],
    example: Annotated[
        Path | None,
        typer.Option(
            help="A copy of the example (JSON, e.g. one line of a training file) that must be the proven one."
        ),
    ] = None,
    as_json: AsJson = False,
    policy: Policy = None,
    identity: Identity = None,
    issuer: Issuer = None,
    repository: Repository = None,
    trust_config: TrustConfig = None,
    trusted_root: TrustedRoot = None,
) -> None:
    """Check an inclusion proof against the snapshot's bundle, without the corpus.

    The bundle must verify (trusted root, signer policy, version).
    The proof's manifest and Merkle root must be the signed ones.
    The example's content must hash to its id.
    The audit path must lead from that id to the signed root.
    """
    from corpus.audit import render
    from corpus.audit.proof import check_proof
    from corpus.errors import CorpusError
    from corpus.paths import repo_root
    from corpus.verification import SignerPolicy, Trust, VerifyUsageError

    def read_json(path: Path, what: str) -> Any:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise VerifyUsageError(f"cannot read {what} {path}: {exc}") from None

    try:
        if trust_config is not None and trusted_root is not None:
            raise VerifyUsageError("pass either --trust-config or --trusted-root, not both")
        _warn_if_test_trust(trust_config or trusted_root)
        if policy is None:
            # Outside a clone there is no policy file: --identity and --issuer are then required.
            try:
                policy = repo_root() / "attestations" / "signer-policy.yaml"
            except FileNotFoundError:
                policy = Path("attestations/signer-policy.yaml")
        signer_policy = SignerPolicy.resolve(policy, issuer=issuer, identity=identity, repository=repository)
        trust = Trust(trusted_root=trusted_root, trust_config=trust_config)
        trust.check()
        try:
            bundle_json = bundle.read_text(encoding="utf-8")
        except OSError as exc:
            raise VerifyUsageError(f"cannot read bundle {bundle}: {exc.strerror}") from None
        report = check_proof(
            read_json(proof, "proof"),
            bundle_json,
            signer_policy,
            trust,
            example=read_json(example, "example") if example is not None else None,
        )
    except CorpusError as exc:
        raise _error(str(exc), exc.exit_code, as_json=as_json) from None
    document = report.to_json()
    if as_json:
        typer.echo(json.dumps(document, indent=2))
    else:
        render.proof_check(document)
    raise typer.Exit(report.exit_code)


# ---- revoke and the training-run ledger --------------------------------------------------------


def _default_by(paths: RepoPaths, by: str | None) -> str:
    from corpus.audit.errors import AuditUsageError
    from corpus.snapshots import git

    if by:
        return by
    email = git(paths.root, "config", "user.email", check=False).stdout.decode().strip()
    if not email:
        raise AuditUsageError("who is this? pass --by EMAIL (git has no user.email configured)")
    return email


def _write_and_hint(
    write: Callable[[RepoPaths], str], path_of: Callable[[RepoPaths], Path], next_step: str | None = None
) -> None:
    """Run `write` (which returns what it did) and print how to review and commit the change."""
    from corpus.errors import CorpusError

    try:
        paths = _paths()
        done = write(paths)
    except FileNotFoundError as exc:
        raise _error(str(exc), 2, as_json=False) from None
    except CorpusError as exc:
        raise _error(str(exc), exc.exit_code, as_json=False) from None
    relative = path_of(paths).relative_to(paths.root).as_posix()
    typer.echo(
        f"{done}\nreview and commit the change (nothing was committed):\n"
        f"  git diff {relative}\n  git commit -m {json.dumps(done)} -- {relative}"
        + (f"\nthen {next_step}" if next_step else "")
    )


def revoke(
    reason: Annotated[str, typer.Option(help="Why (recorded, and shown by every later audit).")],
    annotator: Annotated[
        str | None, typer.Option("--annotator", metavar="ID", help="Revoke this annotator_id.")
    ] = None,
    batch: Annotated[str | None, typer.Option("--batch", metavar="ID", help="Revoke this batch_id.")] = None,
    by: Annotated[
        str | None, typer.Option(metavar="EMAIL", help="Who revokes. Default: git config user.email.")
    ] = None,
) -> None:
    """Revoke an annotator or a batch in data/governance/revocations.yaml (reviewed like code).

    Appends one entry (revoked_at: now); nothing is committed.
    Once the change is committed, `dvc repro` builds a snapshot without any row they contributed,
    and `corpusctl audit diff OLD NEW` lists the removed examples with this reason.
    """
    from corpus.audit.ledger import revoke as append_revocation

    def write(paths: RepoPaths) -> str:
        entry = append_revocation(
            paths, annotator_id=annotator, batch_id=batch, reason=reason, by=_default_by(paths, by)
        )
        what = f"annotator {entry.annotator_id}" if entry.annotator_id else f"batch {entry.batch_id}"
        return f"revoked {what} ({entry.reason}) by {entry.by}"

    _write_and_hint(
        write,
        lambda paths: paths.governance_file("revocations"),
        "rebuild: dvc repro (the next snapshot excludes them)",
    )


def model_record(
    model_version: Annotated[
        str, typer.Argument(help="The model version trained, e.g. support-bot-2026.12.")
    ],
    snapshot: Annotated[str, typer.Option(help="The signed snapshot version it was trained on.")],
    by: Annotated[str, typer.Option(metavar="EMAIL", help="Who records it.")],
    notes: Annotated[
        str | None, typer.Option(help="Anything a later auditor should know (run id, config).")
    ] = None,
) -> None:
    """Record that MODEL_VERSION was trained on a signed snapshot.

    Appends to data/governance/training_runs.yaml (reviewed like code); nothing is committed.
    `corpusctl audit model` follows it.
    Unknown snapshot versions and model versions already recorded are refused.
    """
    from corpus.audit.ledger import TRAINING_RUNS, record_training_run

    def write(paths: RepoPaths) -> str:
        run = record_training_run(paths, model_version, snapshot=snapshot, by=by, notes=notes)
        return (
            f"recorded model {run.model_version} -> snapshot {run.snapshot} "
            f"(manifest {run.snapshot_manifest_sha256[:12]}...)"
        )

    _write_and_hint(write, lambda paths: paths.governance_file(TRAINING_RUNS))


def register(app: typer.Typer) -> None:
    """Add `audit ...`, `revoke` and `model record` to `app`."""
    for name, command in (
        ("example", audit_example),
        ("record", audit_record),
        ("diff", audit_diff),
        ("annotator", audit_annotator),
        ("model", audit_model),
    ):
        audit_app.command(name, epilog=_EXIT_CODES)(command)
    audit_app.command("proof", epilog=_PROOF_EXIT_CODES)(audit_proof)
    audit_app.command("check-proof", epilog=_CHECK_PROOF_EXIT_CODES)(audit_check_proof)
    model_app.command("record", epilog=_RECORD_EXIT_CODES)(model_record)
    app.add_typer(audit_app, name="audit")
    app.add_typer(model_app, name="model")
    app.command("revoke", epilog=_REVOKE_EXIT_CODES)(revoke)
