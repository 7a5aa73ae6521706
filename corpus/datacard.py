"""DATACARD.md and croissant.json of a published snapshot, written from the data itself.

The card answers the three questions every training run must answer (DESIGN.md 1): which
annotations are in, which transformations (pinned to which code and params) were applied, and what
distribution was expected against what the data has. croissant.json says the same to machines:
Croissant 1.1 with the RAI vocabulary, and PROV-O attribution of every record to its annotator.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import polars as pl
import yaml

from corpus.governance import BatchManifest
from corpus.printable import printable
from corpus.snapshot import MERKLE_SCHEME, FileDigest
from schemas.published import CONTRACT_VERSION
from schemas.split import SPLITS


@dataclass(frozen=True)
class DatasetInfo:
    """Publication metadata from params `publish:` (what the data cannot say about itself)."""

    name: str
    description: str
    license: str
    url: str
    creator: str
    version: str | None
    date_published: str | None


@dataclass(frozen=True)
class BatchEntry:
    batch_id: str
    manifest: BatchManifest | None  # None when the manifest is missing or unreadable
    problem: str | None  # why the manifest could not be read


@dataclass(frozen=True)
class SnapshotFacts:
    """Everything the card and the Croissant file are written from."""

    info: DatasetInfo
    sets: Sequence[str]
    data_files: Sequence[FileDigest]
    example_counts: Mapping[str, int]
    merkle_root: str
    distinct_examples: int
    batches: Sequence[BatchEntry]
    lineage: pl.DataFrame
    fate: pl.DataFrame
    stats: Mapping[str, Any]
    gate_report: Mapping[str, Any]
    code_hashes: Mapping[str, str]
    params: Mapping[str, Any]

    @cached_property
    def records(self) -> pl.DataFrame:
        """One row per contributing raw record (a record can feed an SFT and a preference example),
        in lineage order: only counted and grouped, so not sorted again."""
        return self.lineage.filter(pl.col("feedback_id").is_first_distinct())

    @cached_property
    def _breakdowns(self) -> dict[str, list[list[Any]]]:
        # The card and the Croissant file ask for the same breakdowns; each costs passes over the lineage.
        return {}

    def breakdown(self, column: str) -> list[list[Any]]:
        """[value, records, share of records, examples] per value of a lineage column, largest first."""
        if column not in self._breakdowns:
            self._breakdowns[column] = self._breakdown(column)
        return self._breakdowns[column]

    def _breakdown(self, column: str) -> list[list[Any]]:
        total = self.records.height
        by_records = self.records.group_by(pl.col(column).fill_null("(none)")).len("records")
        by_examples = self.lineage.group_by(pl.col(column).fill_null("(none)")).agg(
            pl.col("example_id").n_unique().alias("examples")
        )
        joined = by_records.join(by_examples, on=column, how="left").sort(["records", column], descending=[True, False])
        return [
            [row[column], row["records"], _share(row["records"], total), row["examples"]]
            for row in joined.iter_rows(named=True)
        ]

    def counts_text(self, column: str) -> str:
        return ", ".join(f"{value} {records}" for value, records, _, _ in self.breakdown(column)) or "none"


# ---- markdown helpers --------------------------------------------------------------------------


def _cell(value: Any) -> str:
    text = "—" if value is None or value == "" else str(value)
    return printable(text).replace("|", "\\|")


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    if not rows:
        return "_none_\n"
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _share(n: int, total: int) -> str:
    return f"{n / total:.1%}" if total else "—"


# ---- the card ----------------------------------------------------------------------------------


def _batch_rows(facts: SnapshotFacts) -> list[list[Any]]:
    lines = facts.fate.group_by("batch_id").agg(
        pl.len().alias("lines"), (pl.col("outcome") == "kept").sum().alias("kept")
    )
    lines_by_batch = {row["batch_id"]: row for row in lines.iter_rows(named=True)}
    in_snapshot = dict(facts.records.group_by("batch_id").len().iter_rows())
    rows = []
    for entry in facts.batches:
        m = entry.manifest
        counts = lines_by_batch.get(entry.batch_id, {"lines": 0, "kept": 0})
        rows.append(
            [
                entry.batch_id,
                m.source if m else None,
                m.author if m else None,
                m.approver if m else None,
                m.approved_at.isoformat() if m else None,
                m.guideline_version if m else None,
                m.justification if m else entry.problem,
                f"`{m.sha256[:16]}…`" if m else None,
                counts["lines"],
                counts["kept"],
                in_snapshot.get(entry.batch_id, 0),
            ]
        )
    return rows


def _gate_section(report: Mapping[str, Any], params: Mapping[str, Any]) -> list[str]:
    """The gates' verdicts (report.json of corpus.gates.report) and the drift figures."""
    gates: Mapping[str, Any] = report.get("gates") or {}
    rows = report.get("rows") or {}
    dropped = ", ".join(f"{reason} {n}" for reason, n in sorted((rows.get("dropped") or {}).items())) or "none"
    parts = [
        f"Verdict: **{'passed' if report.get('passed') else 'FAILED'}**. Rows into the gates {rows.get('in', '—')}, "
        f"out {rows.get('out', '—')}; dropped by the gates: {dropped}.\n",
        _table(
            ["gate", "status", "summary", "override justification"],
            [[name, g.get("status"), g.get("summary"), g.get("override_justification")] for name, g in gates.items()],
        ),
    ]
    findings = [printable(f"- {name}: {finding}") for name, g in gates.items() for finding in g.get("findings") or []]
    if findings:
        parts.append("Findings:\n\n" + "\n".join(findings) + "\n")
    refused = (report.get("overrides") or {}).get("refused") or {}
    if refused:
        parts.append(
            "Refused overrides:\n\n" + "\n".join(printable(f"- {gate}: {why}") for gate, why in sorted(refused.items())) + "\n"
        )
    drift = (gates.get("drift") or {}).get("facts") or {}
    thresholds = (params.get("gates") or {}).get("drift") or {}
    parts.append("### Drift against the previous snapshot\n")
    if drift.get("baseline") is None:
        parts.append("No baseline: this is the first snapshot, there was nothing to compare with.\n")
    else:
        parts.append(
            f"Expected: the distributions of snapshot {drift['baseline']} (data/baseline/stats.json), within "
            f"PSI {thresholds.get('max_psi', '—')} and Jensen-Shannon {thresholds.get('max_js', '—')} per dimension.\n"
        )
        measured = drift.get("measured") or {}
        parts.append(_table(["dimension", "PSI", "JS"], [[d, m.get("psi"), m.get("js")] for d, m in measured.items()]))
    return parts


def _length_order(bucket: str) -> int:
    return int(bucket.split("-")[0].rstrip("+"))


def _distribution_tables(stats: Mapping[str, Any]) -> list[str]:
    """stats.json (corpus.gates.drift.snapshot_stats): example counts per value of each dimension."""
    parts: list[str] = []
    total = int(stats.get("rows", 0))
    for dimension, counts in (stats.get("distributions") or {}).items():
        items = list(counts.items())
        if dimension.endswith("_length"):
            items.sort(key=lambda kv: _length_order(kv[0]))
        header = ["characters" if dimension.endswith("_length") else dimension, "examples", "share"]
        parts.append(f"**{dimension}**\n\n" + _table(header, [[value, n, _share(n, total)] for value, n in items]))
    return parts


def _max_annotator_share(stats: Mapping[str, Any]) -> float:
    counts = (stats.get("distributions") or {}).get("annotator_share") or {}
    named = [n for value, n in counts.items() if value != "(others)"]
    total = int(stats.get("rows", 0))
    return max(named) / total if named and total else 0.0


def render_datacard(facts: SnapshotFacts) -> str:
    info = facts.info
    records = facts.records
    out: list[str] = []
    out.append(f"# Data card: {info.name} {info.version or '(unversioned)'}\n")
    out.append(
        f"Snapshot of contract v{CONTRACT_VERSION}, written by the publish stage from the data it describes: "
        "regenerate it with `dvc repro`, never edit it by hand.\n"
    )
    out.append(
        f"{facts.distinct_examples} distinct examples from {records.height} raw records. Merkle root over the "
        f"example ids: `{facts.merkle_root}` ({MERKLE_SCHEME['leaf_hash']}, {MERKLE_SCHEME['node_hash']}).\n"
    )
    file_rows = [
        [f"`{f.path}`", facts.example_counts.get(f.path, "—"), f.bytes, f"`{f.sha256}`"] for f in facts.data_files
    ]
    out.append(_table(["file", "examples", "bytes", "sha256"], file_rows))

    out.append("## 1. Which annotations are in\n")
    out.append(
        "Every batch listed in params.yaml, with its reviewed manifest (data/batches/<batch>.yaml): who "
        "contributed it, who approved it and why. *Records* counts the raw records behind the snapshot's "
        "examples, absorbed duplicates included.\n"
    )
    out.append(
        _table(
            [
                "batch",
                "source",
                "author",
                "approver",
                "approved at",
                "guideline",
                "justification",
                "raw sha256",
                "raw lines",
                "kept",
                "records",
            ],
            _batch_rows(facts),
        )
    )
    for column, title in (
        ("source", "By source"),
        ("annotator_role", "By annotator role"),
        ("guideline_version", "By guideline version in force"),
        ("intent", "By intent"),
        ("intent_source", "By how the intent was decided"),
        ("dedup_role", "By dedup role"),
    ):
        out.append(f"### {title}\n")
        out.append(_table([column, "records", "share", "examples"], facts.breakdown(column)))
    out.append(
        f"{records['annotator_id'].n_unique()} distinct (pseudonymous) annotators. "
        "lineage.parquet lists every (example, record) pair with its batch, line, annotator, guideline, intent, "
        "redactions, dedup cluster, balance decision and split.\n"
    )

    out.append("## 2. Which transformations were applied, pinned to what\n")
    fate_rows = (
        facts.fate.group_by(["stage", "outcome", "reason"]).len().sort(["outcome", "stage", "reason"]).iter_rows()
    )
    out.append("What happened to every raw line (fate.parquet has the line-level ledger):\n")
    out.append(_table(["stage", "outcome", "reason", "lines"], [list(r) for r in fate_rows]))
    out.append(
        "The code of every stage, as declared in the dvc.yaml files (sha256 of each file; the dvc.lock files pin "
        "the same files):\n"
    )
    out.append(
        _table(["file", "sha256"], [[f"`{path}`", f"`{digest}`"] for path, digest in sorted(facts.code_hashes.items())])
    )
    out.append("The resolved parameters (params.yaml):\n")
    out.append("```yaml\n" + yaml.safe_dump(dict(facts.params), sort_keys=True, allow_unicode=True) + "```\n")

    out.append("## 3. What distribution was expected, and what the data has\n")
    out.append("### Gates\n")
    out.extend(_gate_section(facts.gate_report, facts.params))
    out.append("### Distributions of this snapshot (stats.json, the next snapshot's drift baseline)\n")
    out.extend(_distribution_tables(facts.stats))
    return "\n".join(out)


# ---- Croissant ---------------------------------------------------------------------------------

CROISSANT_CONTEXT: dict[str, Any] = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "sc": "https://schema.org/",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "dct": "http://purl.org/dc/terms/",
    "prov": "http://www.w3.org/ns/prov#",
    "annotation": "cr:annotation",
    "arrayShape": "cr:arrayShape",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "containedIn": "cr:containedIn",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "excludes": "cr:excludes",
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isArray": "cr:isArray",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "readLines": "cr:readLines",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sdVersion": "cr:sdVersion",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
    "unArchive": "cr:unArchive",
    "value": "cr:value",
}

_PARQUET_TYPES: dict[type[pl.DataType], str] = {
    pl.String: "sc:Text",
    pl.Int64: "sc:Integer",
    pl.Float64: "sc:Float",
    pl.Boolean: "sc:Boolean",
    pl.Datetime: "sc:DateTime",
}

_LINEAGE_DESCRIPTIONS = {
    "example_id": "Id of the example this record contributed to (sha256 of its canonical JSON).",
    "example_file": "File holding the example, relative to the snapshot root.",
    "annotator_id": "Pseudonymous id of who rated or corrected (a person or a model): the record is theirs.",
    "guideline_version": "Labelling guideline in force: the record's own, else its batch manifest's.",
    "intent_source": "How the intent was decided (reason_code, rule:<name>, model, ...).",
    "redactions": "PII replaced in the record, by type and count (e.g. EMAIL:1,PHONE:2); never the values.",
    "dedup_role": "representative: the record the example was built from; absorbed: a duplicate it stands for.",
    "line_sha256": "sha256 of the raw line's bytes in its batch file.",
}


def _field(
    record_set: str, name: str, data_type: str | list[str], source: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    return {
        "@type": "cr:Field",
        "@id": f"{record_set}/{name}",
        "name": f"{record_set}/{name}",
        "dataType": data_type,
        "source": source,
        **extra,
    }


def _messages_field(record_set: str, name: str, file_set: str) -> dict[str, Any]:
    def part(leaf: str) -> dict[str, Any]:
        source = {"fileSet": {"@id": file_set}, "extract": {"jsonPath": name}, "transform": {"jsonPath": leaf}}
        return _field(record_set, f"{name}/{leaf}", "sc:Text", source)

    return {
        "@type": "cr:Field",
        "@id": f"{record_set}/{name}",
        "name": f"{record_set}/{name}",
        "description": "Chat messages in order, each {role, content}.",
        "isArray": True,
        "arrayShape": "-1",
        "subField": [part("role"), part("content")],
    }


def _example_record_set(name: str, preference: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    file_set_id = f"{name}-files"
    file_set = {
        "@type": "cr:FileSet",
        "@id": file_set_id,
        "name": file_set_id,
        "description": f"The {name} examples, one JSONL file per split.",
        "encodingFormat": "application/jsonlines",
        "includes": f"{name}/*.jsonl",
    }

    def json_field(field: str, description: str) -> dict[str, Any]:
        return _field(
            name,
            field,
            "sc:Text",
            {"fileSet": {"@id": file_set_id}, "extract": {"jsonPath": field}},
            description=description,
        )

    fields = [json_field("example_id", "sha256 (hex) of the example's RFC 8785 canonical JSON without example_id.")]
    if preference:
        fields += [
            _messages_field(name, "prompt", file_set_id),
            json_field("chosen", "The human correction of the rated response."),
            json_field("rejected", "The rated response that had a defect."),
        ]
    else:
        fields.append(_messages_field(name, "messages", file_set_id))
    fields.append(
        _field(
            name,
            "split",
            ["sc:Text", "cr:Split"],
            {
                "fileSet": {"@id": file_set_id},
                "extract": {"fileProperty": "filename"},
                "transform": {"regex": r"^(train|validation)(?:\.jsonl)?$"},
            },
            references={"field": {"@id": "splits/name"}},
        )
    )
    kind = "prompt/chosen/rejected (TRL DPOTrainer)" if preference else "messages (TRL SFTTrainer)"
    record_set = {
        "@type": "cr:RecordSet",
        "@id": name,
        "name": name,
        "description": f"{name} examples in {kind} format.",
        "key": {"@id": f"{name}/example_id"},
        "field": fields,
    }
    return file_set, record_set


def _parquet_record_set(
    name: str,
    schema: Mapping[str, pl.DataType],
    description: str,
    *,
    descriptions: Mapping[str, str] | None = None,
    attributed_to: str | None = None,
) -> dict[str, Any]:
    file_id = f"{name}.parquet"
    fields = []
    for column, dtype in schema.items():
        extra: dict[str, Any] = {}
        if descriptions and column in descriptions:
            extra["description"] = descriptions[column]
        if column == attributed_to:
            # Data-level provenance (Croissant 1.1): each record is attributed to this agent.
            extra["equivalentProperty"] = "prov:wasAttributedTo"
        source = {"fileObject": {"@id": file_id}, "extract": {"column": column}}
        fields.append(_field(name, column, _PARQUET_TYPES[dtype.base_type()], source, **extra))
    return {"@type": "cr:RecordSet", "@id": name, "name": name, "description": description, "field": fields}


def _timeframe(lineage: pl.DataFrame) -> list[str]:
    if not lineage.height:
        return []
    bounds = lineage.select(pl.col("collected_at").min().alias("lo"), pl.col("collected_at").max().alias("hi")).row(0)
    return [b.isoformat() for b in bounds]


def _rai(facts: SnapshotFacts) -> dict[str, Any]:
    lineage = facts.lineage
    records = facts.records
    records_per_example = lineage.group_by("example_file", "example_id").len().select(
        pl.col("len").max().fill_null(0).alias("most"), pl.col("len").mean().fill_null(0.0).alias("mean")
    )
    most, mean = records_per_example.row(0)
    pii_kinds = records.select(pl.col("redactions").str.extract_all(r"[A-Z_]+").explode().drop_nulls().unique().sort())
    redacted = int((records["redactions"] != "").sum())
    residual = int(records["pii_residual"].sum())
    model_decided = int(records["intent_source"].str.starts_with("model").sum())
    guidelines = facts.counts_text("guideline_version")
    return {
        "rai:dataCollection": (
            "Production feedback on model responses: thumbs up/down with optional free-text corrections and "
            "reason codes, exported in reviewed batches (author, justification, different approver). "
            f"Records by source: {facts.counts_text('source')}."
        ),
        "rai:dataCollectionType": ["Customer feedback data", "User-generated content data", "Manual Human Curator"],
        "rai:dataCollectionTimeframe": _timeframe(lineage),
        "rai:dataAnnotationProtocol": [
            "Each record is one rating (up/down) of one model response, with an optional correction and reason code, "
            f"written under the labelling guideline in force (records by guideline: {guidelines}).",
            "Intent (defect, taste, testing, positive) comes from the structured reason code when present, otherwise "
            f"from rules and a classifier trained on a labelled seed set; low-confidence rows go to human review. "
            f"Records by how decided: {facts.counts_text('intent_source')}.",
        ],
        "rai:dataAnnotationPlatform": [f"Feedback surfaces: {facts.counts_text('source')}."],
        "rai:annotationsPerItem": (
            f"One rating per raw record; an example stands for 1 to {most} records (mean {mean:.2f}): "
            "its representative and the duplicates it absorbed."
        ),
        "rai:annotatorDemographics": [
            "Pseudonymous annotator ids only, no demographics. Records by annotator role: "
            f"{facts.counts_text('annotator_role')}; "
            f"{records['annotator_id'].n_unique()} distinct annotators."
        ],
        "rai:machineAnnotationTools": [
            f"Intent classifier (TF-IDF + logistic regression) decided {model_decided} of {records.height} records; "
            "the rest came from reason codes or rules."
        ],
        "rai:dataPreprocessingProtocol": [
            "ingest: batch manifests checked (approval binds the file's sha256); malformed lines quarantined.",
            "govern: no training consent, forbidden surfaces, expired retention, revoked annotators or batches, and "
            "model-generated corrections are dropped.",
            "redact: PII replaced by typed placeholders; counts by type are recorded, never values.",
            "classify: intent decided; only real defects (with a human correction), endorsed responses and, if on, "
            "style corrections become examples.",
            "dedup: exact then near-duplicate (MinHash LSH + exact Jaccard) clusters keep one representative; "
            "conflicting corrections are flagged.",
            "balance: each annotator's share is capped; per-domain caps as configured.",
            "split: train/validation by session, so no conversation straddles the split.",
            "gates: eval contamination, coverage, poisoning triggers, drift and conservation must pass.",
            "publish: canonical JSON (RFC 8785), content-addressed example ids, lineage and a signed manifest.",
        ],
        "rai:personalSensitiveInformation": [
            f"PII was replaced by typed placeholders in {redacted} of {records.height} records "
            f"(types found: {', '.join(pii_kinds.to_series().to_list()) or 'none'}); {residual} records are flagged "
            "as possibly still holding PII (pii_residual in lineage.parquet).",
            "Annotator and tenant identities are pseudonymous ids.",
        ],
        "rai:dataUseCases": [
            "Supervised fine-tuning on sft/ (messages format, TRL SFTTrainer).",
            "Preference optimisation on preference/ (prompt/chosen/rejected, TRL DPOTrainer).",
        ],
        "rai:dataLimitations": [
            "Covers only the product surfaces and domains that produced feedback (see stats.json); "
            "not a general-purpose instruction corpus.",
            "Corrections are single human judgements; they are not independently verified.",
        ],
        "rai:dataBiases": [
            "Feedback is self-selected: people rate mostly when something goes wrong or right in a memorable way.",
            f"Annotator concentration: the largest annotator holds {_max_annotator_share(facts.stats):.1%} "
            "of the examples after capping.",
        ],
        "rai:dataReleaseMaintenancePlan": (
            "Each snapshot is rebuilt by `dvc repro` and attested with Sigstore; revoked annotators or batches are "
            "excluded from the next snapshot, and the drift gate compares each snapshot with its predecessor."
        ),
    }


def render_croissant(
    facts: SnapshotFacts, *, lineage_schema: Mapping[str, pl.DataType], fate_schema: Mapping[str, pl.DataType]
) -> dict[str, Any]:
    info = facts.info
    distribution: list[dict[str, Any]] = []
    media = {".jsonl": "application/jsonlines", ".parquet": "application/x-parquet", ".json": "application/json"}
    for f in facts.data_files:
        suffix = f.path[f.path.rfind(".") :]
        distribution.append(
            {
                "@type": "cr:FileObject",
                "@id": f.path,
                "name": f.path,
                "contentUrl": f.path,
                "contentSize": f"{f.bytes} B",
                "encodingFormat": media[suffix],
                "sha256": f.sha256,
            }
        )
    record_sets: list[dict[str, Any]] = [
        {
            "@type": "cr:RecordSet",
            "@id": "splits",
            "name": "splits",
            "dataType": "cr:Split",
            "key": {"@id": "splits/name"},
            "field": [
                {"@type": "cr:Field", "@id": "splits/name", "name": "splits/name", "dataType": "sc:Text"},
                {"@type": "cr:Field", "@id": "splits/url", "name": "splits/url", "dataType": "sc:URL"},
            ],
            "data": [
                {
                    "splits/name": split,
                    "splits/url": {"train": "cr:TrainingSplit", "validation": "cr:ValidationSplit"}[split],
                }
                for split in SPLITS
            ],
        }
    ]
    for name in facts.sets:
        file_set, record_set = _example_record_set(name, preference=name == "preference")
        distribution.append(file_set)
        record_sets.append(record_set)
    record_sets.append(
        _parquet_record_set(
            "lineage",
            lineage_schema,
            "One row per (example, contributing raw record): who, which batch and line, which rules decided what.",
            descriptions=_LINEAGE_DESCRIPTIONS,
            attributed_to="annotator_id",
        )
    )
    record_sets.append(
        _parquet_record_set("fate", fate_schema, "The final fate of every raw line (batch_id + line_no).")
    )
    version = info.version or "0.0"
    document: dict[str, Any] = {
        "@context": CROISSANT_CONTEXT,
        "@type": "sc:Dataset",
        "name": info.name,
        "description": info.description,
        "conformsTo": "http://mlcommons.org/croissant/1.1",
        "version": version,
        "license": info.license,
        "url": info.url,
        "creator": {"@type": "sc:Organization", "name": info.creator},
        "citeAs": f"@misc{{{info.name}-{version}, title = {{{info.name} {version}}}, url = {{{info.url}}}}}",
        "isLiveDataset": False,
        "keywords": ["fine-tuning", "SFT", "DPO", "human feedback"],
        "prov:wasDerivedFrom": [
            {"@type": "prov:Entity", "prov:label": e.batch_id, "sha256": e.manifest.sha256}
            for e in facts.batches
            if e.manifest
        ],
        "distribution": distribution,
        "recordSet": record_sets,
        **_rai(facts),
    }
    if info.date_published:
        document["datePublished"] = info.date_published
    return document
