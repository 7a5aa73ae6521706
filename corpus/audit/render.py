"""Text output of the audit answers (the `--json` output is the answer itself).

Ids are printed in full and never wrapped, so they can be copied into the next command; output
that is not a terminal is not wrapped at all, so tools and grep see one record per line.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table

from corpus.printable import printable

_PREVIEW = 160
_LISTED = 50


def console() -> Console:
    # Piped output is read by tools and grep: never wrap it (a terminal gets its own width).
    return Console(width=None if sys.stdout.isatty() else 100_000, highlight=False, soft_wrap=True)


def _text(value: Any) -> str:
    # Values come from feedback (prompts, ids, comments): rich markup in them is escaped, and so
    # are terminal escapes and direction overrides, which rich passes through to the terminal.
    return "" if value is None else escape(printable(str(value)))


def _table(columns: Iterable[str], rows: Iterable[Iterable[Any]], title: str | None = None) -> Padding:
    """A borderless table, indented under the snapshot it belongs to."""
    table = Table(
        title=title, title_justify="left", show_edge=False, pad_edge=False, box=None, header_style="bold"
    )
    for column in columns:
        # Ids stay whole so they can be copied into the next command; other text may fold.
        table.add_column(column, no_wrap=column.endswith("_id"), overflow="fold")
    for row in rows:
        table.add_row(*(_text(v) for v in row))
    return Padding(table, (0, 0, 0, 2), expand=False)


def _signer_line(signer: Mapping[str, Any]) -> str:
    if signer["verified"]:
        logged = f", logged {signer['signed_at']}" if signer.get("signed_at") else ""
        return f"[green]VERIFIED[/] {_text(signer['identity'])} (issuer {_text(signer['issuer'])}{logged})"
    return f"[red bold]NOT VERIFIED[/] {_text(signer['error'])}"


def _snapshot_header(out: Console, snapshot: Mapping[str, Any]) -> None:
    out.print(
        f"[bold]snapshot {_text(snapshot['version'])}[/]  commit {snapshot['commit']}  tag {_text(snapshot['tag'])}"
    )
    if snapshot.get("signer") is not None:
        out.print(f"  signer    {_signer_line(snapshot['signer'])}")


def _preview(text: Any) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= _PREVIEW else flat[: _PREVIEW - 1] + "…"


def _example_lines(example: Mapping[str, Any] | None) -> list[str]:
    if not isinstance(example, Mapping):
        return []
    if isinstance(example.get("messages"), list):
        return [
            f"{m.get('role')}: {_preview(m.get('content'))}"
            for m in example["messages"]
            if isinstance(m, Mapping)
        ]
    lines = [
        f"prompt {m.get('role')}: {_preview(m.get('content'))}"
        for m in example.get("prompt") or []
        if isinstance(m, Mapping)
    ]
    return lines + [
        f"chosen: {_preview(example.get('chosen'))}",
        f"rejected: {_preview(example.get('rejected'))}",
    ]


# ---- per command -------------------------------------------------------------------------------


def example(answer: Mapping[str, Any]) -> None:
    out = console()
    query = answer["query"]
    if "text" in query:
        how = "exactly" if query["match"] == "exact" else "after normalising case, Unicode form and spacing"
        out.print(f"the text matches {len(answer['examples'])} example(s) {how}")
    for report in answer["examples"]:
        out.print(f"\n[bold]example {report['example_id']}[/]")
        for line in _example_lines(report["example"]):
            out.print(f"  {_text(line)}")
        for snapshot in report["snapshots"]:
            out.print()
            _snapshot_header(out, snapshot)
            places = ", ".join(f"{p['file']}:{p['row']}" for p in snapshot["placements"])
            out.print(f"  at        {_text(places)}  (row = line number in the file, from 1)")
            out.print(
                _table(
                    [
                        "feedback_id",
                        "batch",
                        "line",
                        "annotator",
                        "role",
                        "source",
                        "collected_at",
                        "guideline",
                        "dedup",
                    ],
                    (
                        [
                            r.get("feedback_id"),
                            r.get("batch_id"),
                            r.get("line_no"),
                            r.get("annotator_id"),
                            r.get("annotator_role"),
                            r.get("source"),
                            r.get("collected_at"),
                            r.get("guideline_version"),
                            r.get("dedup_role"),
                        ]
                        for r in snapshot["records"]
                    ),
                    title="raw records",
                )
            )
            out.print(
                _table(
                    ["batch", "author", "approver", "approved_at", "justification"],
                    (
                        [b["batch_id"], b["author"], b["approver"], b["approved_at"], b["justification"]]
                        for b in snapshot["batches"]
                    ),
                    title="batches (manifests at the snapshot's commit)",
                )
            )
            stages = snapshot["stages"]
            if stages:
                redact = (
                    ", ".join(f"{k} {n}" for k, n in stages["redact"]["by_type"].items())
                    or "nothing redacted"
                )
                out.print(f"  redact    {_text(redact)}")
                for decision in stages["classify"]:
                    subtype = f"/{decision['defect_subtype']}" if decision.get("defect_subtype") else ""
                    out.print(
                        f"  classify  {_text(decision['feedback_id'])}: {_text(decision['intent'])}{_text(subtype)} "
                        f"decided by {_text(decision['decided_by'])}"
                    )
                dedup = stages["dedup"]
                absorbed = ", ".join(dedup["absorbed"]) or "nothing"
                out.print(
                    f"  dedup     cluster {_text(dedup['cluster'])}: representative {_text(dedup['representative'])}, "
                    f"absorbed {_text(absorbed)}"
                )
                out.print(f"  balance   {_text(stages['balance'])}")
                out.print(f"  split     {_text(stages['split'])}")
        if report["not_in"]:
            out.print(f"\nnot in snapshot(s) {', '.join(report['not_in'])}")


def record(answer: Mapping[str, Any]) -> None:
    out = console()
    out.print(f"[bold]feedback {_text(answer['feedback_id'])}[/]")
    for snapshot in answer["snapshots"]:
        out.print()
        _snapshot_header(out, snapshot)
        for fate in snapshot["fate"]:
            out.print(
                f"  line {fate['line_no']} of batch {_text(fate['batch_id'])}: final fate {_text(fate['outcome'])}"
            )
            out.print(
                _table(
                    ["stage", "outcome", "reason", "detail"],
                    ([t["stage"], t["outcome"], t["reason"], t["detail"]] for t in fate["trail"]),
                )
            )
        for reached in snapshot["reached"]:
            out.print(
                f"  reached   {reached['example_id']} ({_text(reached['file'])}:{reached['row']}, {_text(reached['role'])})"
            )
    if answer["workspace"]:
        out.print("\n[bold]workspace[/] (interim fate files of the last local run, not a signed snapshot)")
        out.print(
            _table(
                ["stage", "outcome", "reason", "detail", "file"],
                (
                    [w.get("stage"), w.get("outcome"), w.get("reason"), w.get("detail"), w["file"]]
                    for w in answer["workspace"]
                ),
            )
        )


def _counts_line(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{k} {n}" for k, n in counts.items()) or "none"


def diff(answer: Mapping[str, Any]) -> None:
    out = console()
    a, b = answer["a"], answer["b"]
    out.print(f"[bold]snapshot {_text(a['version'])} -> {_text(b['version'])}[/]")
    for side in (a, b):
        out.print(
            f"  {_text(side['version'])}: commit {side['commit']}, signer {_signer_line(side['signer'])}"
        )
    for side in ("removed", "added"):
        part = answer[side]
        out.print(f"\n[bold]{part['count']} example(s) {side}[/]")
        for label in ("reason", "batch", "annotator", "source"):
            out.print(f"  by {label:<10} {_text(_counts_line(part[f'by_{label}']))}")
        shown = part["examples"][:_LISTED]
        if shown:
            out.print(
                _table(
                    ["example_id", "file", "batch", "annotator", "reason", "detail"],
                    (
                        [
                            e["example_id"],
                            e["file"],
                            e["batch_id"],
                            e["annotator_id"],
                            e["reason"],
                            e["detail"],
                        ]
                        for e in shown
                    ),
                )
            )
        if len(part["examples"]) > _LISTED:
            out.print(f"  ... and {len(part['examples']) - _LISTED} more (--json lists all)")
    provenance = answer["provenance"]
    if provenance is None:
        out.print("\n[red]params, stage code and raw batches not compared: a bundle did not verify[/]")
        return
    out.print(f"\n[bold]params[/] ({len(provenance['params'])} changed)")
    for change in provenance["params"]:
        out.print(f"  {_text(change['param'])}: {_text(change['a'])} -> {_text(change['b'])}")
    out.print(f"[bold]stage code[/] ({len(provenance['stage_code'])} changed)")
    for change in provenance["stage_code"]:
        before = change["a"][:12] if change["a"] else "(absent)"
        after = change["b"][:12] if change["b"] else "(absent)"
        out.print(f"  {_text(change['path'])}: {before} -> {after}")
    batches = provenance["raw_batches"]
    out.print("[bold]raw batches[/]")
    for batch in batches["added"]:
        out.print(
            f"  + {_text(batch['id'])} (author {_text(batch.get('author'))}, approver {_text(batch.get('approver'))})"
        )
    for batch in batches["removed"]:
        out.print(f"  - {_text(batch['id'])}")
    for change in batches["changed"]:
        out.print(f"  ~ {_text(change['id'])}: bytes or acceptance changed")
    if not any(batches.values()):
        out.print("  unchanged")


def annotator(answer: Mapping[str, Any]) -> None:
    out = console()
    out.print(f"[bold]annotator {_text(answer['annotator_id'])}[/]")
    revoked = answer["revoked_in_workspace"]
    if revoked:
        out.print(
            f"  revoked in the workspace: {_text(revoked['reason'])} ({_text(revoked['by'])}, {_text(revoked['revoked_at'])}); "
            "the next snapshot built from it excludes them"
        )
    for snapshot in answer["snapshots"]:
        out.print()
        _snapshot_header(out, snapshot)
        cap = f" (cap {snapshot['max_share']:.1%})" if isinstance(snapshot["max_share"], int | float) else ""
        out.print(
            f"  {snapshot['examples']} example(s) from {snapshot['records']} record(s) "
            f"({snapshot['absorbed_records']} absorbed as duplicates); share {snapshot['share']:.1%}{cap}"
        )
        out.print(f"  batches   {_text(_counts_line(snapshot['by_batch']))}")
        out.print(f"  intents   {_text(_counts_line(snapshot['by_intent']))}")
        out.print(f"  balance   {_text(_counts_line(snapshot['by_balance_decision']))}")
        flags = snapshot["gate_flags"]
        if flags is None:
            out.print("  gates     [red]unknown: the bundle did not verify[/]")
        elif not flags:
            out.print("  gates     no gate names this annotator")
        for flag in flags or []:
            out.print(f"  gates     {_text(flag['gate'])} ({_text(flag['status'])}) names them")
            for finding in flag["findings"]:
                out.print(f"            {_text(finding)}")
        if snapshot["revoked_at_commit"]:
            out.print(f"  revoked at this commit: {_text(snapshot['revoked_at_commit']['reason'])}")


def model(answer: Mapping[str, Any]) -> None:
    out = console()
    out.print(
        f"[bold]model {_text(answer['model_version'])}[/] trained on snapshot {_text(answer['snapshot']['version'])}"
    )
    out.print(f"  recorded by {_text(answer['recorded_by'])} at {_text(answer['recorded_at'])}")
    if answer["notes"]:
        out.print(f"  notes       {_text(answer['notes'])}")
    snapshot = answer["snapshot"]
    out.print()
    _snapshot_header(out, snapshot)
    out.print(
        f"  manifest  sha256 {snapshot['manifest_sha256']}, Merkle root {_text(snapshot['merkle_root'])}"
    )
    examples = snapshot["examples"]
    per_file = examples.get("per_file") if isinstance(examples, Mapping) else None
    if isinstance(per_file, Mapping):
        out.print(f"  examples  {examples.get('total')} ({_text(_counts_line(per_file))})")
    else:
        out.print(f"  examples  {_text(examples)}")
    out.print(
        f"  from      {snapshot['records']} raw records, {snapshot['batches']} batches, {snapshot['annotators']} annotators; "
        f"raw lines {_text(_counts_line(snapshot['raw_lines_by_outcome']))}"
    )
    out.print("\ndrill down:")
    for command in answer["drill_down"]:
        out.print(f"  {_text(command)}")


def proof_check(report: Mapping[str, Any]) -> None:
    out = console()
    colours = {"ok": "green", "fail": "red"}
    for check in report["checks"]:
        out.print(
            f"  [{colours[check['status']]} bold]{check['status'].upper():<4}[/]  {check['check']:<9} {_text(check['message'])}"
        )
    if report["holds"]:
        out.print(
            f"[green bold]PROOF HOLDS[/]: example {report['example_id']} is in signed snapshot {_text(report['version'])}"
        )
    else:
        out.print(f"[red bold]PROOF REJECTED[/] (exit {report['exit_code']})")
