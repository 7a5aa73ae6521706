"""The audit's questions (DESIGN.md 7), answered from signed snapshots.

Each query returns a JSON-shaped dict (what `--json` prints; `corpus.audit.render` turns it into
text). Data comes from each snapshot's audit index, people and rules from the reviewed files at
the snapshot's attested commit, signers and predicates from verified bundles only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import polars as pl

from corpus.audit import index as ix
from corpus.audit.errors import AuditUsageError, NotFound, SnapshotDataError
from corpus.audit.ledger import load_training_runs
from corpus.audit.signers import Signer, Signers
from corpus.audit.sources import batch_manifest_at, revocations_at
from corpus.governance import Revocation, Revocations, load_document
from corpus.paths import RepoPaths
from corpus.snapshots import Registry, RegistryEntry, check_version

# Pipeline order (DESIGN.md 4): a line's final fate names the stage it left at.
STAGES = ("ingest", "govern", "redact", "classify", "dedup", "balance", "split", "gates")
_HEX_PREFIX = re.compile(r"^[0-9a-f]{1,64}$")
_POSITION = re.compile(r"^(?P<version>[^:]+):(?P<file>[^:]+):(?P<row>[0-9]+)$")
MAX_CANDIDATES = 10
MAX_LISTED = 100
FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)


@dataclass
class Audit:
    """What every query needs: the repository, its registry, verified signers, and open indexes."""

    paths: RepoPaths
    signers: Signers | None = None
    registry: Registry = field(init=False)
    _indexes: dict[str, ix.SnapshotIndex] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        self.registry = Registry.load(self.paths)

    def entries(self, version: str | None = None) -> list[RegistryEntry]:
        """The snapshot `version`, or every signed snapshot in signing order."""
        if version is not None:
            return [self.registry.require(version)]
        if not self.registry.entries:
            raise NotFound(
                f"{self.registry.path} lists no signed snapshot yet: sign one with `corpusctl sign VERSION`"
            )
        return list(self.registry.entries)

    def index(self, entry: RegistryEntry) -> ix.SnapshotIndex:
        if entry.version not in self._indexes:
            try:
                self._indexes[entry.version] = ix.open_index(self.paths, entry)
            except SnapshotDataError as exc:
                raise SnapshotDataError(
                    f"snapshot {entry.version}: {exc}\n(to ask about other snapshots meanwhile, pass --version)"
                ) from None
        return self._indexes[entry.version]

    def signer(self, entry: RegistryEntry) -> Signer | None:
        return self.signers.of(entry) if self.signers is not None else None

    def snapshot_json(self, entry: RegistryEntry) -> dict[str, Any]:
        """A snapshot's identity in every answer: version, commit, tag, manifest digest, signer."""
        signer = self.signer(entry)
        return {
            "version": entry.version,
            "tag": entry.tag,
            "commit": entry.commit,
            "manifest_sha256": entry.manifest_sha256,
            "signer": signer.to_json() if signer is not None else None,
        }


def iso_utc(moment: datetime) -> str:
    """RFC 3339 with a Z for UTC, as the registry and the bundles write times."""
    return moment.isoformat().replace("+00:00", "Z")


def _predicate(signer: Signer | None) -> Mapping[str, Any]:
    """The signed predicate, or nothing when the bundle did not verify (its claims are then unknown)."""
    return signer.predicate if signer is not None and signer.predicate is not None else {}


def _rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dicts() if frame.height else []


def _counts(frame: pl.DataFrame, column: str) -> dict[str, int]:
    if not frame.height:
        return {}
    grouped = frame.group_by(column).agg(pl.len().alias("n")).sort(["n", column], descending=[True, False])
    return {str(k): int(n) for k, n in grouped.iter_rows()}


def _representatives(lineage: FrameT) -> FrameT:
    """The record that yielded each example (lineage also lists the records dedup absorbed into it)."""
    role = pl.col("dedup_role")
    return lineage.filter(role.is_null() | (role == "representative"))


def _parse_redactions(value: str | None) -> dict[str, int]:
    """Redaction counts by type from lineage's text form, e.g. `EMAIL:1,PHONE:2` (never values)."""
    found: dict[str, int] = {}
    for part in (value or "").split(","):
        kind, _, count = part.strip().partition(":")
        if kind:
            found[kind] = found.get(kind, 0) + (int(count) if count.isdigit() else 1)
    return found


# ---- example -----------------------------------------------------------------------------------


def _resolve_prefix(audit: Audit, prefix: str, entries: list[RegistryEntry]) -> str:
    prefix = prefix.lower()
    if not _HEX_PREFIX.match(prefix):
        raise AuditUsageError(
            f"{prefix!r} is not an example id: give the id (64 hex characters) or a prefix of it, "
            "VERSION:FILE:ROW (e.g. 2.0:sft/train.jsonl:47), or --text"
        )
    found: set[str] = set()
    for entry in entries:
        found.update(ix.ids_with_prefix(audit.index(entry), prefix, MAX_CANDIDATES + 1))
    if not found:
        where = ", ".join(e.version for e in entries)
        what = f"example {prefix} is" if len(prefix) == 64 else f"no example id starting with {prefix} is"
        raise NotFound(f"{what} in no signed snapshot ({where}); check the id, or find it with --text")
    if len(found) > 1:
        candidates = sorted(found)
        more = " (and more; give a longer prefix)" if len(candidates) > MAX_CANDIDATES else ""
        raise AuditUsageError(
            f"prefix {prefix} matches {min(len(candidates), MAX_CANDIDATES)} examples{more}; give more characters",
            candidates=candidates[:MAX_CANDIDATES],
        )
    return found.pop()


def _resolve_position(audit: Audit, version: str, example_file: str, row: int) -> str:
    index = audit.index(audit.registry.require(version))
    rows = ix.file_rows(index)
    if example_file not in rows:
        raise AuditUsageError(
            f"snapshot {version} has no example file {example_file}; its files: {', '.join(sorted(rows))}"
        )
    found = ix.id_at(index, example_file, row) if row >= 1 else None
    if found is None:
        raise NotFound(
            f"{example_file} of snapshot {version} has lines 1 to {rows[example_file]}; there is no line {row}"
        )
    return found


def resolve_examples(
    audit: Audit, ref: str | None, text: str | None, version: str | None
) -> tuple[list[str], dict[str, Any]]:
    """The example ids `ref` or `text` names, and how they were found."""
    if (ref is None) == (text is None):
        raise AuditUsageError("give an example REF or --text TEXT (one of them)")
    if text is not None:
        matches: list[dict[str, Any]] = []
        for entry in audit.entries(version):
            found_mode, found = ix.find_text(audit.index(entry), text)
            matches += [{**m, "version": entry.version, "match": found_mode} for m in found.to_dicts()]
        # Exact matches in one snapshot win over normalised ones in another.
        mode = "exact" if any(m["match"] == "exact" for m in matches) else "normalised"
        matches = [m for m in matches if m["match"] == mode]
        ids = sorted({m["example_id"] for m in matches})
        if not ids:
            raise NotFound(
                "no example text equals the given text, exactly or normalised (case, Unicode form, spaces)"
            )
        if len(ids) > MAX_CANDIDATES:
            raise AuditUsageError(
                f"{len(ids)} examples contain that text ({mode} match); narrow it down or use an id",
                candidates=ids[:MAX_CANDIDATES],
            )
        return ids, {"text": text, "match": mode, "matches": matches}
    assert ref is not None
    position = _POSITION.match(ref)
    if position is not None:
        ref_version = check_version(position["version"])
        if version is not None and version != ref_version:
            raise AuditUsageError(f"{ref} names snapshot {ref_version}, but --version says {version}")
        row = int(position["row"])
        example_id = _resolve_position(audit, ref_version, position["file"], row)
        return [example_id], {"version": ref_version, "file": position["file"], "row": row}
    return [_resolve_prefix(audit, ref, audit.entries(version))], {"ref": ref}


def _batches(audit: Audit, entry: RegistryEntry, batch_ids: Iterable[str]) -> list[dict[str, Any]]:
    """Each batch's manifest at the snapshot's commit, with its record in the signed predicate."""
    predicate = _predicate(audit.signer(entry))
    signed = {b.get("id"): b for b in predicate.get("raw_batches") or [] if isinstance(b, Mapping)}
    found = []
    for batch_id in sorted(batch_ids):
        manifest = batch_manifest_at(audit.paths.root, entry.commit, batch_id) or {}
        record = signed.get(batch_id, {})
        found.append(
            {
                "batch_id": batch_id,
                "author": manifest.get("author"),
                "justification": manifest.get("justification"),
                "approver": manifest.get("approver"),
                "approved_at": manifest.get("approved_at"),
                "guideline_version": manifest.get("guideline_version"),
                "source": manifest.get("source"),
                "sha256": manifest.get("sha256"),
                "accepted_in_signed_predicate": record.get("accepted"),
            }
        )
    return found


def _stages(lineage: pl.DataFrame) -> dict[str, Any]:
    """What each stage did to the example, from its lineage rows."""
    representative = _representatives(lineage)
    lead = (representative if representative.height else lineage).row(0, named=True)
    redactions: dict[str, int] = {}
    for value in lineage["redactions"].to_list():
        for kind, n in _parse_redactions(value).items():
            redactions[kind] = redactions.get(kind, 0) + n
    return {
        "redact": {
            "by_type": redactions,
            "records_with_pii": sum(1 for v in lineage["redactions"].to_list() if v),
        },
        "classify": [
            {
                "feedback_id": r["feedback_id"],
                "intent": r["intent"],
                "defect_subtype": r["defect_subtype"],
                "decided_by": r["intent_source"],
                "confidence": r["intent_confidence"],
            }
            for r in lineage.iter_rows(named=True)
        ],
        "dedup": {
            "cluster": lead["dedup_cluster_id"],
            "representative": lead["feedback_id"],
            "absorbed": lineage.filter(pl.col("dedup_role") == "absorbed")["feedback_id"].to_list(),
        },
        "balance": lead["balance_decision"],
        "split": lead["split"],
    }


_RECORD_FIELDS = (
    "feedback_id",
    "batch_id",
    "line_no",
    "annotator_id",
    "annotator_role",
    "source",
    "domain",
    "collected_at",
    "guideline_version",
    "dedup_role",
    "redactions",
    "intent",
    "defect_subtype",
    "intent_source",
)


def _example_in(audit: Audit, entry: RegistryEntry, found: ix.ExampleRows) -> dict[str, Any]:
    lineage = found.lineage
    records = lineage.select([c for c in _RECORD_FIELDS if c in lineage.columns]).unique(maintain_order=True)
    return {
        **audit.snapshot_json(entry),
        "placements": [
            {"file": p["example_file"], "row": p["row"]}
            for p in found.placements.select("example_file", "row").to_dicts()
        ],
        "records": _rows(records),
        "batches": _batches(audit, entry, set(lineage["batch_id"].to_list())),
        "stages": _stages(lineage) if lineage.height else None,
    }


def example(
    audit: Audit, ref: str | None, *, text: str | None = None, version: str | None = None
) -> dict[str, Any]:
    """Every snapshot holding the example(s) named, with lineage, people, stages, commit and signer."""
    ids, query = resolve_examples(audit, ref, text, version)
    reports = []
    for example_id in ids:
        held, absent = [], []
        content: Any = None
        for entry in audit.entries(version):
            found = ix.lookup_example(audit.index(entry), example_id)
            if not found.found:
                absent.append(entry.version)
                continue
            content = json.loads(found.placements["line"][0])
            held.append(_example_in(audit, entry, found))
        reports.append({"example_id": example_id, "example": content, "snapshots": held, "not_in": absent})
    return {"query": query, "examples": reports}


# ---- record ------------------------------------------------------------------------------------


def _stage_detail(stage: str, record: Mapping[str, Any]) -> str | None:
    """What a stage did to a record that passed it, from its lineage row (none: not known)."""
    if not record:
        return None
    if stage == "redact":
        return f"redacted {record['redactions']}" if record.get("redactions") else "no PII found"
    if stage == "classify":
        subtype = f"/{record['defect_subtype']}" if record.get("defect_subtype") else ""
        return f"intent {record.get('intent')}{subtype} via {record.get('intent_source')}"
    if stage == "dedup":
        return f"cluster {record.get('dedup_cluster_id')}, {record.get('dedup_role') or 'representative'}"
    if stage == "balance":
        return record.get("balance_decision")
    if stage == "split":
        return record.get("split")
    return None


def _trail(final: Mapping[str, Any], lineage: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The record's way through the stages: passed every stage before the one it left at."""
    stage = final["stage"]
    if stage not in STAGES:
        return [
            {
                "stage": stage,
                "outcome": final["outcome"],
                "reason": final["reason"],
                "detail": final["detail"],
            }
        ]
    record = lineage[0] if lineage else {}
    trail: list[dict[str, Any]] = []
    for name in STAGES[: STAGES.index(stage)]:
        # An absorbed duplicate's final fate is its drop at dedup; lineage still credits it to the example.
        trail.append(
            {"stage": name, "outcome": "passed", "reason": None, "detail": _stage_detail(name, record)}
        )
    trail.append(
        {"stage": stage, "outcome": final["outcome"], "reason": final["reason"], "detail": final["detail"]}
    )
    return trail


def _workspace_fates(paths: RepoPaths, feedback_id: str) -> list[dict[str, Any]]:
    """Fate rows of the workspace's interim outputs (an unpublished run), in pipeline order."""
    files = sorted(p for p in paths.interim.rglob("*.parquet") if "fate" in p.name)
    found: list[dict[str, Any]] = []
    for path in files:
        try:
            frame = pl.scan_parquet(path).filter(pl.col("feedback_id") == feedback_id).collect()
        except (pl.exceptions.PolarsError, OSError):
            continue  # not a fate table (or half written by a running stage): nothing to report from it
        for row in _rows(frame):
            found.append({**row, "file": path.relative_to(paths.root).as_posix()})
    order = {name: i for i, name in enumerate(STAGES)}
    return sorted(found, key=lambda r: (order.get(str(r.get("stage")), len(STAGES)), r["file"]))


def _same_line(lineage: Mapping[str, Any], fate: Mapping[str, Any]) -> bool:
    # A feedback_id repeated across batches has one fate per line; lineage names the line it credits.
    return lineage["batch_id"] == fate["batch_id"] and lineage["line_no"] in (None, fate["line_no"])


def record(audit: Audit, feedback_id: str) -> dict[str, Any]:
    """The fate of one raw feedback line in every snapshot (and the workspace), and what it reached."""
    snapshots = []
    for entry in audit.entries():
        index = audit.index(entry)
        fates = ix.fate_of(index, feedback_id)
        if not fates.height:
            continue
        lineage = _rows(ix.lineage_of_record(index, feedback_id))
        reached = [
            {
                "example_id": r["example_id"],
                "file": r["example_file"],
                "row": r["row"],
                "role": r["dedup_role"],
            }
            for r in lineage
        ]
        snapshots.append(
            {
                **audit.snapshot_json(entry),
                "fate": [
                    {**f, "trail": _trail(f, [r for r in lineage if _same_line(r, f)])} for f in _rows(fates)
                ],
                "reached": reached,
            }
        )
    workspace = _workspace_fates(audit.paths, feedback_id)
    if not snapshots and not workspace:
        raise NotFound(
            f"feedback {feedback_id} is in no signed snapshot's fate ledger and in no interim fate file: "
            "check the id (fate lists every raw line of every listed batch)"
        )
    return {"feedback_id": feedback_id, "snapshots": snapshots, "workspace": workspace}


# ---- diff --------------------------------------------------------------------------------------


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, Mapping) and value:
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    return {prefix: value}


def _changes(a: Mapping[str, Any], b: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    return [
        {key: name, "a": a.get(name), "b": b.get(name)}
        for name in sorted(set(a) | set(b))
        if a.get(name) != b.get(name)
    ]


def _revocation_index(revocations: Revocations) -> tuple[dict[str, Revocation], dict[str, Revocation]]:
    annotators = {r.annotator_id: r for r in revocations.revocations if r.annotator_id is not None}
    batches = {r.batch_id: r for r in revocations.revocations if r.batch_id is not None}
    return annotators, batches


def _describe_revocation(what: str, revocation: Revocation) -> str:
    return f"{what} revoked on {iso_utc(revocation.revoked_at)} by {revocation.by}: {revocation.reason}"


@dataclass(frozen=True)
class _Side:
    """One snapshot of a diff and what explains an example's absence from it."""

    entry: RegistryEntry
    index: ix.SnapshotIndex
    batches: set[str]
    revoked_annotators: dict[str, Revocation]
    revoked_batches: dict[str, Revocation]


def _side(audit: Audit, entry: RegistryEntry) -> _Side:
    index = audit.index(entry)
    batches = set(index.scan_fate().select("batch_id").unique().collect()["batch_id"].to_list())
    annotators, revoked_batches = _revocation_index(revocations_at(audit.paths.root, entry.commit))
    return _Side(entry, index, batches, annotators, revoked_batches)


def _explain(
    changed: pl.DataFrame, present: _Side, other: _Side, *, added: bool, changes: _StageChanges
) -> list[dict[str, Any]]:
    """Why each example of `changed` (representative lineage rows from `present`) is not in `other`.

    Removed examples are explained by the later snapshot (revoked there, its batch gone, dropped by
    a gate, or another fate); added ones by the earlier (a new batch, a lifted revocation, a gate
    that dropped it before).
    """
    fates = changed.join(
        other.index.scan_fate()
        .select("batch_id", "line_no", "stage", "outcome", "reason", "detail")
        .collect(),
        on=["batch_id", "line_no"],
        how="left",
    )
    explained = []
    for row in fates.iter_rows(named=True):
        annotator, batch = row["annotator_id"], row["batch_id"]
        revoked_there = _revocation_of(other, annotator, batch)
        detail: str | None
        fate = (
            f"in {other.entry.version}: {row['outcome']} at {row['stage']} ({row['reason']})"
            if row["stage"] is not None
            else None
        )
        if not added and revoked_there is not None:
            reason, detail = "revoked", _describe_revocation(*revoked_there)
        elif added and revoked_there is not None and _revocation_of(present, annotator, batch) is None:
            reason = "unrevoked"
            detail = f"{_describe_revocation(*revoked_there)}; no longer revoked in {present.entry.version}"
        elif batch not in other.batches:
            reason = "new_batch" if added else "batch_removed"
            detail = f"batch {batch} is not in snapshot {other.entry.version}"
        elif row["stage"] == "gates" and row["outcome"] != "kept":
            reason = "gate_pass" if added else "gate_drop"
            detail = f"{fate}: {row['detail']}" if row["detail"] else fate
        else:
            reason, detail = changes.reason(row["stage"], row["outcome"]), fate
        explained.append(
            {
                "example_id": row["example_id"],
                "file": row["example_file"],
                "feedback_id": row["feedback_id"],
                "batch_id": batch,
                "annotator_id": annotator,
                "source": row["source"],
                "reason": reason,
                "detail": detail,
            }
        )
    return explained


@dataclass(frozen=True)
class _StageChanges:
    """Which stages' params and code differ between the two signed predicates (None: not verified).

    Params are grouped by stage name in params.yaml, and each stage's script is scripts/<stage>.py,
    so a change can be tied to the stage whose decision differs.
    """

    params: set[str] | None
    code: set[str] | None

    def reason(self, stage: str | None, outcome: str | None) -> str:
        """Why a record decided by `stage` in the other snapshot no longer yields the same example."""
        if stage is not None and self.params is not None and stage in self.params:
            return "changed_params"
        if stage is not None and self.code is not None and stage in self.code:
            return "changed_code"
        if outcome == "kept":
            # The record still yields an example there, but another one: its content or its
            # dedup cluster changed (e.g. a different representative).
            return "changed_content"
        # Another stage decided differently with the same params and code: its input changed
        # (e.g. the annotator cap moved because other rows were revoked or added).
        return "stage_decision"


def _revocation_of(side: _Side, annotator_id: str | None, batch_id: str) -> tuple[str, Revocation] | None:
    """The revocation at `side`'s commit that covers this annotator or batch, with what it names."""
    if annotator_id is not None and (found := side.revoked_annotators.get(annotator_id)) is not None:
        return f"annotator {annotator_id}", found
    if (found := side.revoked_batches.get(batch_id)) is not None:
        return f"batch {batch_id}", found
    return None


def _changed_examples(present: ix.SnapshotIndex, other: ix.SnapshotIndex) -> pl.DataFrame:
    """Representative lineage rows of the examples in `present` but not in `other` (one per example)."""
    theirs = other.scan_examples().select("example_id").unique()
    mine = _representatives(present.scan_lineage()).join(theirs, on="example_id", how="anti")
    return mine.unique(subset="example_id", keep="first", maintain_order=True).sort("example_id").collect()


def _summary(examples: list[dict[str, Any]]) -> dict[str, Any]:
    frame = pl.DataFrame(
        examples, schema={k: pl.String for k in ("batch_id", "annotator_id", "source", "reason")}
    )
    return {
        "count": len(examples),
        "by_batch": _counts(frame, "batch_id"),
        "by_annotator": _counts(frame, "annotator_id"),
        "by_source": _counts(frame, "source"),
        "by_reason": _counts(frame, "reason"),
    }


def _batch_changes(a: list[Any], b: list[Any]) -> dict[str, Any]:
    before = {x["id"]: x for x in a if isinstance(x, Mapping) and "id" in x}
    after = {x["id"]: x for x in b if isinstance(x, Mapping) and "id" in x}
    return {
        "added": [after[i] for i in sorted(set(after) - set(before))],
        "removed": [before[i] for i in sorted(set(before) - set(after))],
        "changed": [
            {"id": i, "a": before[i], "b": after[i]}
            for i in sorted(set(before) & set(after))
            if before[i].get("sha256") != after[i].get("sha256")
            or before[i].get("accepted") != after[i].get("accepted")
        ],
    }


def _is_stage_script(path: str) -> bool:
    return path.startswith("scripts/") and path.endswith(".py") and path.count("/") == 1


def diff(audit: Audit, a: str, b: str) -> dict[str, Any]:
    """What changed from snapshot `a` to `b`: examples (with reasons), params, stage code, raw batches."""
    entry_a, entry_b = audit.registry.require(a), audit.registry.require(b)
    side_a, side_b = _side(audit, entry_a), _side(audit, entry_b)
    signer_a, signer_b = audit.signer(entry_a), audit.signer(entry_b)
    predicates = (
        (signer_a.predicate, signer_b.predicate)
        if signer_a is not None and signer_b is not None and signer_a.predicate and signer_b.predicate
        else None
    )

    provenance: dict[str, Any] | None = None
    changes = _StageChanges(None, None)
    if predicates is not None:
        pa, pb = predicates
        params = _changes(_flatten(pa.get("params") or {}), _flatten(pb.get("params") or {}), "param")
        code = _changes(
            (pa.get("stage_code") or {}).get("files") or {},
            (pb.get("stage_code") or {}).get("files") or {},
            "path",
        )
        provenance = {
            "params": params,
            "stage_code": code,
            "raw_batches": _batch_changes(pa.get("raw_batches") or [], pb.get("raw_batches") or []),
        }
        changes = _StageChanges(
            params={str(p["param"]).split(".")[0] for p in params},
            code={c["path"][len("scripts/") : -len(".py")] for c in code if _is_stage_script(c["path"])},
        )

    removed = _explain(
        _changed_examples(side_a.index, side_b.index), side_a, side_b, added=False, changes=changes
    )
    added = _explain(
        _changed_examples(side_b.index, side_a.index), side_b, side_a, added=True, changes=changes
    )
    return {
        "a": audit.snapshot_json(entry_a),
        "b": audit.snapshot_json(entry_b),
        "added": {**_summary(added), "examples": added},
        "removed": {**_summary(removed), "examples": removed},
        "provenance": provenance,
    }


# ---- annotator ---------------------------------------------------------------------------------

_GATE_TEXT_LIMIT = 300


def _mentions(text: str, annotator_id: str) -> bool:
    # "a-1" must not match inside "a-17".
    return re.search(rf"(?<![\w-]){re.escape(annotator_id)}(?![\w-])", text) is not None


def _gate_flags(predicate: Mapping[str, Any] | None, annotator_id: str) -> list[dict[str, Any]] | None:
    """Gates of the signed report that name the annotator (None: no verified predicate to read)."""
    if predicate is None:
        return None
    gates = (predicate.get("gates") or {}).get("gates")
    flags = []
    for name, result in gates.items() if isinstance(gates, Mapping) else []:
        if not isinstance(result, Mapping):
            continue
        facts = result.get("facts") or {}
        named = annotator_id in (facts.get("annotators") or []) if isinstance(facts, Mapping) else False
        findings = [
            str(f)[:_GATE_TEXT_LIMIT] for f in result.get("findings") or [] if _mentions(str(f), annotator_id)
        ]
        if named or findings:
            flags.append({"gate": name, "status": result.get("status"), "findings": findings})
    return flags


def _annotator_in(audit: Audit, entry: RegistryEntry, annotator_id: str) -> dict[str, Any]:
    """One annotator's part in one snapshot. Share is of the records that yielded examples, as the
    balance stage caps it (`balance.max_annotator_share` in the signed params)."""
    lineage = audit.index(entry).scan_lineage()
    mine = lineage.filter(pl.col("annotator_id") == annotator_id).collect()
    yielded = _representatives(mine)
    records = mine.unique(subset="feedback_id", keep="first", maintain_order=True)
    total = _representatives(lineage).select(pl.col("feedback_id").n_unique()).collect().item()
    predicate = _predicate(audit.signer(entry))
    balance = (predicate.get("params") or {}).get("balance")
    revoked = _revocation_index(revocations_at(audit.paths.root, entry.commit))[0].get(annotator_id)
    return {
        **audit.snapshot_json(entry),
        "examples": yielded["example_id"].n_unique(),
        "records": records.height,
        "absorbed_records": mine.filter(pl.col("dedup_role") == "absorbed")["feedback_id"].n_unique(),
        "share": round(yielded["feedback_id"].n_unique() / total, 6) if total else 0.0,
        "max_share": balance.get("max_annotator_share") if isinstance(balance, Mapping) else None,
        "by_batch": _counts(records, "batch_id"),
        "by_intent": _counts(records, "intent"),
        "by_balance_decision": _counts(yielded.unique(subset="feedback_id"), "balance_decision"),
        "gate_flags": _gate_flags(predicate or None, annotator_id),
        "revoked_at_commit": _revocation_json(revoked),
        "example_ids": sorted(set(yielded["example_id"].to_list()))[:MAX_LISTED],
    }


def annotator(audit: Audit, annotator_id: str) -> dict[str, Any]:
    """One annotator's contributions to every snapshot, and whether they are revoked."""
    snapshots = [_annotator_in(audit, entry, annotator_id) for entry in audit.entries()]
    path = audit.paths.governance_file("revocations")
    current = load_document(path, Revocations) if path.is_file() else Revocations()
    revoked_now = _revocation_index(current)[0].get(annotator_id)
    known = any(s["records"] or s["revoked_at_commit"] or s["gate_flags"] for s in snapshots)
    if not known and revoked_now is None:
        raise NotFound(f"annotator {annotator_id} contributed to no signed snapshot and is not revoked")
    return {
        "annotator_id": annotator_id,
        "revoked_in_workspace": _revocation_json(revoked_now),
        "snapshots": snapshots,
    }


def _revocation_json(revocation: Revocation | None) -> dict[str, Any] | None:
    if revocation is None:
        return None
    return {"reason": revocation.reason, "revoked_at": iso_utc(revocation.revoked_at), "by": revocation.by}


# ---- model -------------------------------------------------------------------------------------


def model(audit: Audit, model_version: str) -> dict[str, Any]:
    """The snapshot a model version was trained on (training-run ledger), and that snapshot's facts."""
    runs = load_training_runs(audit.paths)
    run = runs.get(model_version)
    if run is None:
        known = ", ".join(r.model_version for r in runs.runs) or "none"
        raise NotFound(
            f"model version {model_version} is not in data/governance/training_runs.yaml (recorded: {known}); "
            "record it with `corpusctl model record MODEL_VERSION --snapshot VERSION --by EMAIL`"
        )
    entry = audit.registry.require(run.snapshot)
    if entry.manifest_sha256 != run.snapshot_manifest_sha256:
        raise SnapshotDataError(
            f"the ledger pins snapshot {run.snapshot} to manifest sha256 {run.snapshot_manifest_sha256}, but the "
            f"registry says {entry.manifest_sha256}: one of the two was edited; compare their git history"
        )
    index = audit.index(entry)
    lineage = index.scan_lineage()
    facts = (
        lineage.select(
            pl.col("feedback_id").n_unique().alias("records"),
            pl.col("batch_id").n_unique().alias("batches"),
            pl.col("annotator_id").n_unique().alias("annotators"),
        )
        .collect()
        .row(0, named=True)
    )
    outcomes = index.scan_fate().group_by("outcome").agg(pl.len().alias("n")).collect()
    drill = [f"corpusctl verify {entry.version}"]
    first = index.scan_examples().select("example_file", "row").head(1).collect()
    if first.height:
        drill.append(f"corpusctl audit example {entry.version}:{first['example_file'][0]}:{first['row'][0]}")
    position = audit.registry.index(entry.version)
    if position > 0:
        drill.append(f"corpusctl audit diff {audit.registry.entries[position - 1].version} {entry.version}")
    drill.append(f"corpusctl audit proof EXAMPLE_ID --version {entry.version}")
    return {
        "model_version": run.model_version,
        "recorded_by": run.recorded_by,
        "recorded_at": iso_utc(run.recorded_at),
        "notes": run.notes,
        "snapshot": {
            **audit.snapshot_json(entry),
            "examples": index.example_counts,
            "merkle_root": index.merkle_root,
            "records": facts["records"],
            "batches": facts["batches"],
            "annotators": facts["annotators"],
            "raw_lines_by_outcome": {str(k): int(n) for k, n in outcomes.sort("outcome").iter_rows()},
        },
        "drill_down": drill,
    }
