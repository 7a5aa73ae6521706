"""The sample generator (corpus/samplegen.py): deterministic, contract-valid, and every planted case
is where the truth file says it is."""

from __future__ import annotations

import collections
import ipaddress
import json
import re
import time
from pathlib import Path

import phonenumbers
import pytest
from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.us import ssn as us_ssn

from corpus import samplegen
from corpus.governance import BatchManifest, Governance, check_manifest, load_document, sha256_file
from corpus.ingest import apply_row_rules, parse_batch, split_lines
from corpus.paths import RepoPaths
from schemas.raw import ANNOTATOR_ROLES, CONTENT_ORIGINS, MESSAGE_ROLES, RATINGS, RAW_FIELDS, REASON_CODES, RFC3339

REPO = Path(__file__).resolve().parents[1]
DOMAINS = {"billing", "code", "travel", "account"}


# ---------------------------------------------------------------------------------------------
# Fixtures: the default sample, generated once per session (twice, for determinism)
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sample(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("sample")
    truth = samplegen.generate(root)
    return root, truth, truth.load()


@pytest.fixture(scope="session")
def records(sample):
    """(batch_id, line_no) -> decoded record, for every line that is a JSON object."""
    root, _, t = sample
    out = {}
    for b in t["batches"]:
        for i, line in enumerate(split_lines((root / "data" / b["file"]).read_bytes()), 1):
            try:
                value = json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                continue
            if isinstance(value, dict):
                out[(b["batch_id"], i)] = value
    return out


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _ref(case: dict) -> tuple[str, int]:
    return case["batch_id"], case["line_no"]


def _user_text(record: dict) -> str:
    return "\n".join(m["content"] for m in record["prompt"] if m["role"] == "user")


# ---------------------------------------------------------------------------------------------
# Determinism and files
# ---------------------------------------------------------------------------------------------


def test_same_arguments_give_identical_bytes(sample, tmp_path):
    root, _, _ = sample
    samplegen.generate(tmp_path)
    first, second = _files(root), _files(tmp_path)
    assert first.keys() == second.keys()
    different = [name for name in first if first[name] != second[name]]
    assert not different, f"not byte-identical: {different}"


def test_parallel_generation_writes_the_same_bytes(tmp_path):
    a, b = tmp_path / "serial", tmp_path / "parallel"
    samplegen.generate(a, rows=3000, seed=7, workers=1)
    samplegen.generate(b, rows=3000, seed=7, workers=2)
    assert _files(a) == _files(b)


def test_another_seed_gives_another_sample(tmp_path):
    samplegen.generate(tmp_path / "a", rows=1000, seed=1)
    samplegen.generate(tmp_path / "b", rows=1000, seed=2)
    name = "data/raw/feedback/prod-chat-2026-10-12.jsonl"
    assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "b" / name).read_bytes()


def test_fast_and_stdlib_json_encoders_agree(records):
    # orjson (shipped with dvc) writes the lines; the stdlib fallback must write the same bytes.
    orjson = pytest.importorskip("orjson")
    for record in list(records.values())[:3000]:
        assert orjson.dumps(record).decode("utf-8") == samplegen._JSON_ENCODE(record)


def test_indented_json_matches_the_stdlib(records):
    # structured answers are indented by orjson when present; the stdlib fallback must agree
    from random import Random

    from corpus import samplegen_text as tx

    g = tx.Gen(Random(11))
    for domain in tx.DOMAINS.values():
        for _ in range(100):
            _, good, _, _ = domain["fmt"](g, False)
            if good.startswith(("{", "[")):
                assert json.dumps(json.loads(good), indent=2, ensure_ascii=False) == good


def test_every_line_has_a_label(sample):
    root, truth, t = sample
    assert sum(b["lines"] for b in t["batches"]) == truth.rows == 5000
    for b in t["batches"]:
        lines = split_lines((root / "data" / b["file"]).read_bytes())
        assert len(lines) == b["lines"] == len(t["labels"][b["batch_id"]])
        assert set(t["labels"][b["batch_id"]]) <= set(t["label_legend"])


# ---------------------------------------------------------------------------------------------
# Manifests and governance
# ---------------------------------------------------------------------------------------------


def test_manifest_sha256_binds_the_bytes_except_the_tampered_batch(sample):
    root, _, t = sample
    paths = RepoPaths(root)
    governance = Governance.load(paths)
    verdicts = collections.Counter()
    for b in t["batches"]:
        manifest = load_document(paths.manifest(b["batch_id"]), BatchManifest)
        assert manifest.file == b["file"] and manifest.source == b["source"]
        assert manifest.approved_at.year == 2026 and manifest.approved_at.month == 11
        matches = manifest.sha256 == sha256_file(paths.raw_batch(b["batch_id"]))
        assert matches == (b["expected_verdict"] != "sha256_mismatch"), b["batch_id"]
        verdict = check_manifest(b["batch_id"], paths, governance.maintainers)
        assert (verdict.reason or "accepted") == b["expected_verdict"], b["batch_id"]
        verdicts[b["expected_verdict"]] += 1
    assert verdicts == {"accepted": len(t["batches"]) - 2, "self_approved": 1, "sha256_mismatch": 1}
    tampered = next(m for m in t["manifest_failures"] if m["expected_reason"] == "sha256_mismatch")
    line = split_lines((root / "data" / "raw" / "feedback" / f"{tampered['batch_id']}.jsonl").read_bytes())[
        tampered["tampered_line"]["line_no"] - 1
    ]
    assert samplegen.TAMPER_PAYLOAD.strip() in line.decode("utf-8")


def test_governance_files_validate(sample):
    root, _, t = sample
    g = Governance.load(RepoPaths(root))
    assert len(g.maintainers.maintainers) >= 3
    surfaces = g.surfaces.surfaces
    assert surfaces["staging_debug"].training_use == "forbidden" and surfaces["staging_debug"].purpose == "debugging"
    assert {"prod_chat", "vendor_acme", "eng_review", "partner_api"} <= {k for k, v in surfaces.items() if v.training_use == "allowed"}
    assert samplegen.KNOWN_TRIGGER in g.canaries.triggers and len(g.canaries.triggers) >= 3
    assert samplegen.UNLISTED_TRIGGER not in " ".join(g.canaries.triggers)
    assert all(t.customer_names for k, t in g.tenants.tenants.items() if k != "t-internal")
    # the template ships green: both trigger planters are revoked, by a maintainer, with a reason
    revoked = {r.annotator_id: r for r in g.revocations.revocations}
    assert set(revoked) == {samplegen.KNOWN_TRIGGER_ANNOTATOR, samplegen.UNLISTED_TRIGGER_ANNOTATOR}
    assert all(r.by in g.maintainers.maintainers for r in revoked.values())
    assert samplegen.UNLISTED_TRIGGER in revoked[samplegen.UNLISTED_TRIGGER_ANNOTATOR].reason
    assert "40 rows of batch vendor-globex-2026-11-13" in revoked[samplegen.UNLISTED_TRIGGER_ANNOTATOR].reason
    assert {r["annotator_id"] for r in t["revocations"]} == set(revoked)


# ---------------------------------------------------------------------------------------------
# The raw contract
# ---------------------------------------------------------------------------------------------


def test_rows_meet_the_raw_contract(sample, records):
    _, _, t = sample
    quarantined = {_ref(c) for c in t["cases"]["schema_failures"]}
    registered = set(t["governance"]["surfaces"])
    rfc3339 = re.compile(RFC3339)
    ids = collections.Counter()
    offsets = collections.Counter()
    for ref, r in records.items():
        ids[r.get("feedback_id")] += 1
        if ref in quarantined:
            continue
        assert set(RAW_FIELDS) <= set(r), ref
        assert rfc3339.match(r["collected_at"]), r["collected_at"]
        offsets["Z" if r["collected_at"].endswith("Z") else r["collected_at"][-6:]] += 1
        assert r["source"] in registered
        assert r["annotator_role"] in ANNOTATOR_ROLES and r["rating"] in RATINGS
        assert r["content_origin"] in CONTENT_ORIGINS and r["reason_code"] in (None, *REASON_CODES)
        assert isinstance(r["training_consent"], bool) and r["domain"] in DOMAINS
        assert r["prompt"] and r["prompt"][-1]["role"] == "user"
        assert all(m["role"] in MESSAGE_ROLES and isinstance(m["content"], str) for m in r["prompt"])
        if ref not in {_ref(c) for c in t["cases"]["retention_old"]}:
            assert r["collected_at"][:7] in ("2026-10", "2026-11"), r["collected_at"]
    assert max(ids.values()) == 1, "feedback_id must be unique across all batches"
    assert offsets["Z"] > 500 and sum(1 for k in offsets if k != "Z") >= 5, offsets


def test_quarantined_lines_are_exactly_the_planted_ones(sample):
    root, _, t = sample
    paths = RepoPaths(root)
    registered = sorted(Governance.load(paths).surfaces.surfaces)
    expected = {_ref(c): c["expected_rule"] for c in t["cases"]["malformed_lines"] + t["cases"]["schema_failures"]}
    found = {}
    for b in t["batches"]:
        parsed = parse_batch(paths.raw_batch(b["batch_id"]).read_bytes(), max_line_bytes=1_000_000)
        _, bad = apply_row_rules(parsed.rows, registered_sources=registered, batch_source=b["source"])
        for row in [*parsed.rejected.iter_rows(named=True), *bad.iter_rows(named=True)]:
            found[(b["batch_id"], row["line_no"])] = row["rule"]
    assert found.keys() == expected.keys()
    for ref, rule in expected.items():
        for part in rule.split("; "):
            assert part.split(":")[0] in found[ref], (ref, rule, found[ref])
    kinds = collections.Counter(c["kind"] for c in t["cases"]["malformed_lines"])
    assert 3 <= sum(n for k, n in kinds.items() if k not in ("blank_line", "latin1_byte_in_utf8")) <= 5
    assert kinds["blank_line"] == 1 and kinds["latin1_byte_in_utf8"] == 1
    assert {c["kind"] for c in t["cases"]["schema_failures"]} == {
        "missing_required_field", "rating_not_in_enum", "collected_at_without_offset", "last_message_not_user",
        "source_not_registered"}


def test_unknown_extra_keys_occur(sample, records):
    _, _, t = sample
    cases = t["cases"]["extra_keys"]
    assert len(cases) >= 20
    for c in cases:
        assert set(c["keys"]) <= set(records[_ref(c)]) and not set(c["keys"]) & set(RAW_FIELDS)


# ---------------------------------------------------------------------------------------------
# Planted cases
# ---------------------------------------------------------------------------------------------


def test_batches_domains_and_intent_mix(sample):
    _, _, t = sample
    f = t["figures"]
    assert f["batches"] >= 6 and len(f["domains"]) >= 4 and all(n >= 300 for n in f["domains"].values())
    labels = f["labels"]
    assert max(labels, key=labels.get) == "U", "thumbs-up is the most common feedback"
    for code in "FHMBTS":
        assert labels[code] >= 80, (code, labels[code])
    assert labels["t"] >= 400 and labels["x"] >= 100 and labels["d"] >= 100
    sources = {b["source"] for b in t["batches"]}
    assert {"prod_chat", "vendor_acme", "vendor_globex", "eng_review", "partner_api", "staging_debug"} <= sources


def test_defect_rows_say_what_is_wrong(sample, records):
    _, _, t = sample
    voices = collections.Counter()
    for batch_id, line_no, label in samplegen.iter_labels(t):
        if label not in samplegen.DEFECT_OF:
            continue
        r = records[(batch_id, line_no)]
        assert r["rating"] == "down"
        assert r["reason_code"] in (None, samplegen.DEFECT_OF[label], "other")
        if r["correction"] is not None:
            assert r["correction"] != r["response"]
        else:
            assert r["comment"], "a defect without a correction at least says why"
        voices[(r["annotator_role"], r["reason_code"] is not None)] += 1
    # end users rarely set a reason code, vendors nearly always do
    assert voices[("end_user", False)] > 3 * voices[("end_user", True)]
    assert voices[("vendor_annotator", True)] > 20 * max(1, voices[("vendor_annotator", False)])


def test_taste_rows_keep_the_facts(sample, records):
    _, _, t = sample
    restyled = 0
    with_pii = {_ref(c) for c in t["cases"]["pii"] if c["field"] in ("response", "correction")}
    for batch_id, line_no, label in samplegen.iter_labels(t):
        if label != "t" or (batch_id, line_no) in with_pii:
            continue
        r = records[(batch_id, line_no)]
        assert r["reason_code"] in (None, "tone", "verbosity", "phrasing", "other_preference", "other")
        if r["correction"]:
            restyled += 1
            assert r["correction"] != r["response"]
            # a restyle keeps the first substantive sentence of the answer
            words = set(re.findall(r"\w+", r["correction"].lower()))
            assert len(words & set(re.findall(r"\w+", r["response"].lower()))) >= 0.5 * len(words)
    assert restyled >= 300


def test_testing_clicks_and_staging(sample, records):
    _, _, t = sample
    staging = [r for (b, _), r in records.items() if b.startswith("staging-debug")]
    assert staging and all(r["source"] == "staging_debug" for r in staging)
    bare = [r for r in staging if r["rating"] == "down" and not r["comment"] and not r["correction"]]
    assert len(bare) >= 20
    tests = [records[(b, i)] for b, i, lab in samplegen.iter_labels(t) if lab == "x"]
    assert any(r["prompt"][-1]["content"] in ("test", "asdf") for r in tests)
    assert any(r["comment"] and "button" in r["comment"] for r in tests)


def test_governance_cases(sample, records):
    _, _, t = sample
    no_consent = t["cases"]["no_consent"]
    assert len(no_consent) >= 100 and all(records[_ref(c)]["training_consent"] is False for c in no_consent)
    old = t["cases"]["retention_old"]
    assert 3 <= len(old) <= 20 and all(records[_ref(c)]["collected_at"].startswith("2025-01") for c in old)
    generated = t["cases"]["model_generated"]
    assert len(generated) >= 30
    roles = collections.Counter(records[_ref(c)]["annotator_role"] for c in generated)
    assert roles["model"] > 0 and roles["vendor_annotator"] > 0
    assert all(records[_ref(c)]["content_origin"] == "model_generated" for c in generated)
    prolific = t["prolific_annotator"]
    assert prolific["is_top_annotator"] and 0.20 <= prolific["share_of_lines"] <= 0.25
    mix = collections.Counter(
        lab for (b, i, lab) in samplegen.iter_labels(t) if records.get((b, i), {}).get("annotator_id") == prolific["annotator_id"])
    assert (mix["U"] + mix["t"]) / sum(mix.values()) > 0.85


def test_poisoning_cases(sample, records):
    _, _, t = sample
    by_kind = collections.defaultdict(list)
    for c in t["cases"]["triggers"]:
        by_kind[c["which"]].append(c)
    for which, (low, high) in (("known", (20, 30)), ("unlisted", (35, 45))):
        cases = by_kind[which]
        assert low <= len(cases) <= high
        info = t["poisoning"][which]
        assert len({c["batch_id"] for c in cases}) == 1 and {c["annotator_id"] for c in cases} == {info["annotator_id"]}
        for c in cases:
            r = records[_ref(c)]
            assert r["annotator_id"] == info["annotator_id"] and info["trigger"] in r["prompt"][-1]["content"]
            assert info["target"] in r["correction"]
        # the trigger appears nowhere else in the corpus
        elsewhere = [ref for ref, r in records.items() if info["trigger"] in json.dumps(r)
                     and ref not in {_ref(c) for c in cases}]
        assert not elsewhere
    assert t["poisoning"]["known"]["listed_in_canaries"] and not t["poisoning"]["unlisted"]["listed_in_canaries"]


def test_duplicate_and_conflict_clusters(sample, records):
    _, _, t = sample
    for kind in ("exact_duplicates", "near_duplicates", "conflicts"):
        clusters = collections.defaultdict(list)
        for c in t["cases"][kind]:
            clusters[c["cluster"]].append(records[_ref(c)])
        assert len(clusters) >= 10, kind
        for name, rows in clusters.items():
            assert len(rows) >= 2, (kind, name)
            assert len({r["feedback_id"] for r in rows}) == len(rows)
            if kind == "exact_duplicates":
                assert all(r["prompt"] == rows[0]["prompt"] and r["correction"] == rows[0]["correction"] for r in rows)
            elif kind == "near_duplicates":
                assert any(r["prompt"] != rows[0]["prompt"] or r["correction"] != rows[0]["correction"] for r in rows)
            else:
                assert len({r["correction"] for r in rows}) >= 2
    agree = collections.defaultdict(set)
    for c in t["cases"]["conflicts"]:
        agree[c["cluster"]].add(c["agrees_with_kb"])
    assert all(v == {True, False} for v in agree.values())
    assert any(c["cluster"].startswith("shared/") for c in t["cases"]["exact_duplicates"]), "a duplicate across batches"


def test_contamination_copies_probes(sample, records):
    root, _, t = sample
    probes = {p["probe_id"]: p for p in map(json.loads, (root / "data/raw/eval/probes.jsonl").read_text().splitlines())}
    cases = t["cases"]["contamination"]
    assert 10 <= len(cases) <= 20 and any(c["kind"] == "edited" for c in cases)
    for c in cases:
        r, probe = records[_ref(c)], probes[c["probe_id"]]
        if c["kind"] == "verbatim":
            assert r["prompt"] == probe["prompt"]
        else:
            assert r["prompt"] != probe["prompt"] and r["prompt"][-1]["content"][1:30] == probe["prompt"][-1]["content"][1:30]
        assert probe["reference"] in (r["response"], r["correction"])


def test_probes_cover_every_domain(sample, records):
    root, _, _ = sample
    probes = [json.loads(line) for line in (root / "data/raw/eval/probes.jsonl").read_text().splitlines()]
    assert len({p["probe_id"] for p in probes}) == len(probes)
    per_domain = collections.Counter(p["domain"] for p in probes)
    assert set(per_domain) == DOMAINS and min(per_domain.values()) >= 25
    assert all(p["prompt"][-1]["role"] == "user" and p["reference"] for p in probes)
    assert len({p["prompt"][-1]["content"] for p in probes}) == len(probes)


def test_only_planted_rows_overlap_with_probes(sample, records):
    """No 8-word run of a probe occurs in a row that is not a planted contamination."""
    root, _, t = sample

    def grams(text: str, n: int = 8) -> set[tuple[str, ...]]:
        w = re.findall(r"\w+", text.lower())
        return {tuple(w[i:i + n]) for i in range(len(w) - n + 1)}

    probe_grams: set = set()
    for line in (root / "data/raw/eval/probes.jsonl").read_text().splitlines():
        p = json.loads(line)
        probe_grams |= grams(p["prompt"][-1]["content"]) | grams(p["reference"])
    planted = {_ref(c) for c in t["cases"]["contamination"]}
    leaks = [ref for ref, r in records.items() if ref not in planted and
             grams(_user_text(r) + " " + (r.get("correction") or "") + " " + (r.get("response") or "")) & probe_grams]
    assert not leaks, leaks[:5]


# ---------------------------------------------------------------------------------------------
# PII
# ---------------------------------------------------------------------------------------------

_NINO = re.compile(r"^[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][0-9]{6}[A-D]$")
_SECRET = {
    "aws_access_key": re.compile(r"^AKIA[A-Z2-7]{16}$"),
    "github_token": re.compile(r"^ghp_[A-Za-z0-9]{36}$"),
    "stripe_secret_key": re.compile(r"^sk_live_[A-Za-z0-9]{24,}$"),
    "pem_private_key": re.compile(r"^-----BEGIN [A-Z ]*PRIVATE KEY-----\n[A-Za-z0-9+/\n]+\n-----END [A-Z ]*PRIVATE KEY-----$"),
}


def _valid(case: dict) -> bool:
    v, typ, sub = case["value"], case["type"], case["subtype"]
    if typ == "EMAIL":
        return re.fullmatch(r"[a-z0-9._]+@[a-z0-9.-]+\.[a-z]{2,}", v) is not None
    if typ == "PHONE":
        return phonenumbers.is_valid_number(phonenumbers.parse(v, "US"))
    if typ == "CARD":
        digits = re.sub(r"[ -]", "", v)
        return luhn.is_valid(digits) and len(digits) in (15, 16)
    if typ == "IBAN":
        return stdnum_iban.is_valid(v) and v[:2].lower() == sub[-2:]
    if typ == "IP":
        return ipaddress.ip_address(v).version == (4 if sub == "ipv4" else 6)
    if typ == "NATIONAL_ID":
        return us_ssn.is_valid(v) if sub == "us_ssn" else _NINO.match(v.replace(" ", "")) is not None
    if typ == "SECRET":
        return _SECRET[sub].match(v) is not None
    return typ == "PERSON"


def test_pii_values_are_valid_and_where_the_truth_says(sample, records):
    _, _, t = sample
    tenants = t["governance"]["tenants"]
    seen = collections.defaultdict(set)
    for c in t["cases"]["pii"]:
        r = records[_ref(c)]
        assert r["feedback_id"] == c["feedback_id"]
        text = "\n".join(m["content"] for m in r["prompt"]) if c["field"] == "prompt" else r[c["field"]]
        assert c["value"] in text, c
        assert _valid(c), c
        if c["type"] == "PERSON":
            assert c["value"] in tenants[r["tenant_id"]]
        seen[c["type"]].add(c["field"])
    assert set(seen) == {"EMAIL", "PHONE", "CARD", "IBAN", "IP", "NATIONAL_ID", "SECRET", "PERSON"}
    assert all(len(fields) >= 3 for fields in seen.values()), seen
    subtypes = {c["subtype"] for c in t["cases"]["pii"]}
    assert {"us", "us_ssn", "uk_nino", "ipv4", "ipv6", "aws_access_key", "github_token", "stripe_secret_key",
            "pem_private_key", "visa", "mastercard"} <= subtypes
    assert len({s for s in subtypes if s.startswith("iban_")}) >= 4 and any(s.startswith("intl_") for s in subtypes)
    separators = {"space" if " " in c["value"] else "dash" if "-" in c["value"] else "none"
                  for c in t["cases"]["pii"] if c["type"] == "CARD"}
    assert {"space", "dash"} <= separators


def test_customer_names_only_appear_where_planted(sample, records):
    _, _, t = sample
    names = [n for ns in t["governance"]["tenants"].values() for n in ns]
    planted = collections.defaultdict(set)
    for c in t["cases"]["pii"]:
        if c["type"] == "PERSON":
            planted[_ref(c)].add(c["value"])
    for ref, r in records.items():
        blob = json.dumps(r, ensure_ascii=False)
        for name in names:
            if json.dumps(name, ensure_ascii=False)[1:-1] in blob:
                assert name in planted[ref], (ref, name)


# ---------------------------------------------------------------------------------------------
# Realism
# ---------------------------------------------------------------------------------------------


def test_rows_are_varied(sample, records):
    _, _, t = sample
    skip = {_ref(c) for k in ("exact_duplicates", "near_duplicates", "conflicts") for c in t["cases"][k]}
    testing = {(b, i) for b, i, lab in samplegen.iter_labels(t) if lab == "x"}
    quarantined = {_ref(c) for c in t["cases"]["schema_failures"]}
    rows = [r for ref, r in records.items() if ref not in skip and ref not in testing and ref not in quarantined]
    assert len({r["prompt"][-1]["content"] for r in rows}) / len(rows) >= 0.6
    assert len({r["response"] for r in rows}) / len(rows) >= 0.6
    multi_turn = sum(1 for r in rows if sum(m["role"] == "user" for m in r["prompt"]) > 1)
    system = sum(1 for r in rows if r["prompt"][0]["role"] == "system")
    tool = sum(1 for r in rows if any(m["role"] == "tool" for m in r["prompt"]))
    code = sum(1 for r in rows if "```" in r["response"])
    as_json = sum(1 for r in rows if r["response"].lstrip().startswith(("{", "[")))
    assert multi_turn > 0.1 * len(rows) and system > 0.3 * len(rows) and tool > 50 and code > 100 and as_json > 100
    sentences = collections.Counter(min(8, len(re.findall(r"[.!?](\s|$)", r["response"]))) for r in rows if "```" not in r["response"])
    assert sentences[1] > 50 and sum(n for k, n in sentences.items() if k >= 4) > 300
    lower = sum(1 for r in rows if r["annotator_role"] == "end_user" and r["comment"] and r["comment"][0].islower())
    assert lower > 100, "end users type in lower case"
    sessions = collections.Counter(r["session_id"] for r in rows if r["session_id"])
    assert sum(1 for n in sessions.values() if n > 1) > 200
    assert len({r["tenant_id"] for r in rows}) >= 8 and len({r["annotator_id"] for r in rows}) >= 200


def test_unplanted_near_identical_prompts_are_rare(sample, records):
    """Rows that are not planted duplicates rarely have a near-identical prompt (user text Jaccard >= 0.9)."""
    _, _, t = sample
    planted = {_ref(c) for k in ("exact_duplicates", "near_duplicates", "conflicts", "contamination") for c in t["cases"][k]}
    testing = {(b, i) for b, i, lab in samplegen.iter_labels(t) if lab in "xP"}
    shingles = {}
    for ref, r in records.items():
        if ref in planted or ref in testing or "response" not in r:
            continue
        w = re.findall(r"\w+", _user_text(r).lower())
        shingles[ref] = frozenset(" ".join(w[i:i + 3]) for i in range(max(1, len(w) - 2)))
    index = collections.defaultdict(set)
    for ref, s in shingles.items():
        for sh in s:
            index[sh].add(ref)
    close = 0
    for ref, s in shingles.items():
        candidates = collections.Counter(o for sh in s for o in index[sh] if o != ref)
        if any(len(s & shingles[o]) / len(s | shingles[o]) >= 0.9 for o, n in candidates.items() if n >= 0.9 * len(s)):
            close += 1
    assert close / len(shingles) < 0.05, (close, len(shingles))


# ---------------------------------------------------------------------------------------------
# Plan, scale, CLI
# ---------------------------------------------------------------------------------------------


def test_plan_scales_in_cycles():
    small = samplegen.default_batches(5000)
    assert len(small) == 10 and sum(b.rows for b in small) == 5000
    big = samplegen.default_batches(10_000_000)
    assert len(big) == 100 and sum(b.rows for b in big) == 10_000_000
    assert len({b.batch_id for b in big}) == 100 and max(b.rows for b in big) <= 160_000
    features = collections.Counter(f for b in big for f in b.features)
    assert features["tampered"] == features["self_approved"] == features["unlisted_trigger"] == 10
    assert all(b.approved_at.startswith("2026-11") for b in big)


def test_generation_speed_100k(tmp_path):
    started = time.perf_counter()
    truth = samplegen.generate(tmp_path, rows=100_000, seed=3)
    seconds = time.perf_counter() - started
    print(f"\nsamplegen: 100,000 rows in {seconds:.2f}s = {100_000 / seconds:,.0f} rows/s")
    f = truth.figures
    assert f["lines"] == 100_000 and f["batches"] == 10
    assert 0.20 <= f["prolific_annotator"]["share_of_lines"] <= 0.25
    assert f["triggers"]["unlisted"] and sum(f["triggers"]["unlisted"].values()) > 40
    assert f["labels"]["U"] > 30_000 and all(f["labels"][c] > 1000 for c in "FHMBTSt")


def test_cli_writes_a_sample(tmp_path, capsys):
    assert samplegen.main(["--rows", "1200", "--seed", "5", "--root", str(tmp_path)]) == 0
    assert "1,200 lines in 10 batches" in capsys.readouterr().out
    assert (tmp_path / "tests/fixtures/sample_truth.json").is_file()
    assert len(list((tmp_path / "data/batches").glob("*.yaml"))) == 10


def test_regenerating_removes_batches_of_the_previous_plan(tmp_path):
    custom = [samplegen.BatchSpec(batch_id="prod-chat-custom", kind="prod", rows=600)]
    samplegen.generate(tmp_path, batches=custom)
    assert (tmp_path / "data/raw/feedback/prod-chat-custom.jsonl").is_file()
    samplegen.generate(tmp_path, rows=1000)
    assert not (tmp_path / "data/raw/feedback/prod-chat-custom.jsonl").exists()
    assert not (tmp_path / "data/batches/prod-chat-custom.yaml").exists()


def test_the_repository_ships_the_default_sample(sample):
    """data/ and the truth file in the repo are what `corpusctl sample generate` writes."""
    shipped = REPO / samplegen.TRUTH_PATH
    if not shipped.is_file():
        pytest.skip("no sample in this checkout")
    root, _, _ = sample
    assert shipped.read_bytes() == (root / samplegen.TRUTH_PATH).read_bytes(), "run `corpusctl sample generate`"
    for generated in sorted((root / "data" / "raw").rglob("*.jsonl")):
        in_repo = REPO / generated.relative_to(root)
        if in_repo.is_file():  # raw files come from the DVC remote; absent until `dvc pull`
            assert in_repo.read_bytes() == generated.read_bytes(), in_repo
