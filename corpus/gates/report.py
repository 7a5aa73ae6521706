"""What the gates decided, the overrides a team wrote down, and the report a person reads.

A gate returns a `GateResult`: passed or not, one summary line, the findings that explain it and,
when it failed, how to resolve it. Overrides live only in params.yaml (`gates.overrides.<gate>`,
each with a non-empty `justification`), so every waiver is reviewed like code and pinned in
dvc.lock; an override never changes what a gate drops, it only lets a failed gate pass, and the
report keeps both the failure and the justification.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from corpus.errors import CorpusError
from corpus.printable import printable

GATES = ("contamination", "coverage", "poisoning", "drift", "conservation")
# A broken ledger means the audit trail itself is wrong; no justification makes that publishable.
NOT_OVERRIDABLE = {"conservation": "conservation cannot be overridden: a line without exactly one fate breaks "
                   "the audit trail; fix the stage that lost or duplicated it"}

PASSED, FAILED, OVERRIDDEN = "passed", "failed", "overridden"


@dataclass(frozen=True)
class GateResult:
    gate: str
    passed: bool
    summary: str
    findings: list[str] = field(default_factory=list)
    resolution: str = ""
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Overrides:
    """Overrides from params: the accepted ones (gate -> justification) and the refused ones (gate -> why)."""

    accepted: dict[str, str]
    refused: dict[str, str]

    @classmethod
    def from_params(cls, raw: Any) -> Overrides:
        if raw is None:
            return cls({}, {})
        if not isinstance(raw, Mapping):
            raise CorpusError("params.yaml gates.overrides: expected a mapping of gate name to {justification: ...}")
        accepted: dict[str, str] = {}
        refused: dict[str, str] = {}
        for gate, entry in raw.items():
            if gate not in GATES:
                # A misspelt gate name must not look like a waiver that silently does nothing.
                raise CorpusError(f"params.yaml gates.overrides.{gate}: unknown gate; gates are {', '.join(GATES)}")
            justification = entry.get("justification") if isinstance(entry, Mapping) else None
            if gate in NOT_OVERRIDABLE:
                refused[gate] = NOT_OVERRIDABLE[gate]
            elif not isinstance(justification, str) or not justification.strip():
                refused[gate] = (
                    f"override of {gate} refused: gates.overrides.{gate}.justification is empty; "
                    "write down why this snapshot may ship despite the failure"
                )
            else:
                accepted[gate] = justification.strip()
        return cls(accepted, refused)


@dataclass(frozen=True)
class GateReport:
    """Every gate's result with the overrides applied: report.json, report.md and the stage's verdict."""

    results: list[GateResult]
    overrides: Overrides
    rows: dict[str, Any]

    def status(self, result: GateResult) -> str:
        if result.passed:
            return PASSED
        return OVERRIDDEN if result.gate in self.overrides.accepted else FAILED

    @property
    def overridden(self) -> dict[str, str]:
        """Failed gates let through by an override: gate -> justification."""
        return {r.gate: self.overrides.accepted[r.gate] for r in self.results if self.status(r) == OVERRIDDEN}

    @property
    def failed(self) -> list[GateResult]:
        return [r for r in self.results if self.status(r) == FAILED]

    @property
    def passed(self) -> bool:
        return not self.failed

    def to_json(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "gates": {
                r.gate: {
                    "status": self.status(r),
                    "summary": r.summary,
                    "findings": r.findings,
                    "resolution": "" if r.passed else r.resolution,
                    "override_justification": self.overrides.accepted.get(r.gate) if not r.passed else None,
                    "facts": r.facts,
                }
                for r in self.results
            },
            # Accepted overrides of gates that passed are listed too: a stale waiver should be removed.
            "overrides": {"accepted": self.overrides.accepted, "refused": self.overrides.refused},
            "rows": self.rows,
        }

    def to_markdown(self) -> str:
        failed = self.failed
        headline = (
            "PASSED" if not failed else f"FAILED: {len(failed)} gate(s) refuse this snapshot ({', '.join(r.gate for r in failed)})"
        )
        lines = [f"# Gates report: {headline}", ""]
        rows = self.rows
        lines.append(
            f"Rows in {rows['in']}, out {rows['out']}; dropped by the gates: "
            + (", ".join(f"{reason} {n}" for reason, n in sorted(rows["dropped"].items())) or "none")
        )
        lines.append("")
        for result in self.results:
            status = self.status(result)
            lines.append(f"## {result.gate}: {status.upper()}")
            lines.append(result.summary)
            lines.extend(f"- {finding}" for finding in result.findings)
            if status == OVERRIDDEN:
                lines.append(f"Overridden in params gates.overrides.{result.gate}: {self.overrides.accepted[result.gate]}")
            elif status == FAILED:
                if result.gate in self.overrides.refused:
                    lines.append(self.overrides.refused[result.gate])
                lines.append(f"How to resolve: {result.resolution}")
            lines.append("")
        unused = sorted(g for g in self.overrides.accepted if all(r.passed for r in self.results if r.gate == g))
        if unused:
            lines.append(f"Note: overrides for gates that passed can be removed from params: {', '.join(unused)}")
        for gate, why in sorted(self.overrides.refused.items()):
            if all(r.passed for r in self.results if r.gate == gate):
                lines.append(f"Note: {why}")
        # Findings quote values from feedback: each line stays one line, shown as its characters.
        return "\n".join(printable(line) for line in lines).rstrip() + "\n"
