"""Deterministic builder of the intent classifier's labelled seed set and held-out set.

``python -m corpus.seedset`` (re)writes ``data/raw/seed/intent_seed.jsonl`` (2,840 rows; the
classifier trains on it) and ``data/raw/seed/intent_heldout.jsonl`` (740 rows; the classifier never
trains on it, the tests measure on it). Same code, same bytes: all randomness comes from
``random.Random`` seeded with a fixed string per split, and ``tests/test_intent.py`` checks that the
committed files equal what this module generates.

Each row is one synthetic piece of production feedback in the raw-batch shape of DESIGN 3.1 (the
columns the classifier reads, plus ``feedback_id``, ``domain``), labelled with ``label`` (defect,
taste, testing, positive) and ``label_subtype`` (the defect subtype, or the taste kind: tone,
verbosity, phrasing, other_preference). ``case`` names the hard case a row exercises and
``template_id`` the comment template it came from, so results can be broken down and audited.

How a row is built:

1. A scenario is drawn from the split's own bank: domain (billing, code, travel, support,
   health_insurance, hr), system prompt, user ask and correct answer with slots for a fact (an
   amount, date, count, version...), a named entity (plan, airline, SDK function...) and a
   reference number, filled with random values.
2. The label comes from a fixed quota (``QUOTAS``).
3. A mechanism for that label turns the correct answer into the rated response and the
   annotator's correction: factual_error swaps the fact for a wrong value of the same kind;
   hallucinated_entity substitutes or adds an invented name; missed_instruction adds a constraint
   to the ask that the response ignores and the correction satisfies; broken_format and
   broken_tool_call corrupt well-formed JSON / YAML / CSV / table / tool-call output; unsafe_output
   adds harmful content the correction replaces with a safe answer; taste rewrites tone, length,
   wording or layout without touching any fact; testing and positive leave the response alone.
4. The comment is a label template in the annotator's voice (end user, engineer, vendor
   annotator), sometimes wrapped (a polite preface on a defect, strong words on taste), then
   noised: lower case, typos, chat shorthand, dropped punctuation. Seed templates may contain
   synonym families (``{~incorrect}``, ``{~long}``...), so one template teaches a concept's
   vocabulary rather than one word.
5. Shape: comment only, comment and correction, or correction only; the rating; a reason_code for
   a minority (mostly null, since rows with a reason_code never reach the model; some carry
   "other", which does).

Hard cases are built in on purpose: taste phrased with strong words ("WRONG tone entirely"),
defects phrased politely or under a thumbs-up, code defects whose comments talk about unit tests,
corrections with no comment, testing notes too long for any keyword rule, a few non-English notes.

Honest held-out figures: seed and held-out share only mechanisms (value generators, corruption
operators, noise). Every bank of words (scenarios, entity names, comment templates, wrappers,
constraint wordings, tone styles, fillers, testing and praise notes) exists in two disjoint
versions, written separately; the held-out set also has a domain (logistics) and a format (CSV)
the seed set never shows. ``tests/test_intent.py`` checks that the banks share no template and
that no comment occurs in both files. The held-out banks were written once and not edited after
results were seen; the seed banks were later enlarged (more templates, synonym families) without
using any word that appears only in the held-out banks. Held-out errors were inspected during
development and led to general fixes in ``corpus/intent.py`` (list numbering is not a changed
fact; CSV/XML count as machine-readable output; a note echoing the prompt), so the held-out
figures are somewhat optimistic. And one person wrote both sets: they measure generalisation to
new wording, not to new writers. Label real feedback and add it to the seed set as it arrives.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from random import Random
from typing import Final, Literal

from corpus.intent import DEFECT_SUBTYPES, TASTE_SUBTYPES

Split = Literal["seed", "heldout"]
Voice = Literal["end_user", "engineer", "vendor_annotator"]
VOICES: Final[tuple[Voice, ...]] = ("end_user", "engineer", "vendor_annotator")

# Rows per (label, subtype). Defects are the largest group because they carry six subtypes and
# because the defect/taste boundary is the one that matters; testing and positive are mostly
# caught by rules, the model still needs examples of the ones rules miss.
QUOTAS: Final[Mapping[Split, Mapping[str, int]]] = {
    "seed": {
        **{f"defect:{s}": 220 for s in DEFECT_SUBTYPES},
        **{f"taste:{s}": 190 for s in TASTE_SUBTYPES},
        "testing": 360,
        "positive": 400,
    },
    "heldout": {
        **{f"defect:{s}": 55 for s in DEFECT_SUBTYPES},
        **{f"taste:{s}": 50 for s in TASTE_SUBTYPES},
        "testing": 100,
        "positive": 110,
    },
}

OUTPUT_PATHS: Final[Mapping[Split, str]] = {
    "seed": "data/raw/seed/intent_seed.jsonl",
    "heldout": "data/raw/seed/intent_heldout.jsonl",
}


# --------------------------------------------------------------------------------------------
# Word banks. Two disjoint copies (seed, held-out) of every worded thing.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """One user ask with a correct answer; ``{fact}``, ``{entity}``, ``{ref}`` are slots."""

    ask: str
    answer: str
    fact_label: str  # how annotators name the fact ("refund amount")
    fact_kind: str  # money | date | time | percent | version | count:<lo>:<hi>
    entity_kind: str  # how annotators name the entity ("plan")
    entities: tuple[str, ...]
    fakes: tuple[str, ...]  # plausible invented entities of the same kind


@dataclass(frozen=True)
class Domain:
    name: str
    system: str
    currency: str
    ref_prefix: str
    scenarios: tuple[Scenario, ...]
    fake_sentence: str  # how an invented entity gets slipped into a correct answer
    next_step: str
    tool: str
    tool_args: tuple[tuple[str, object], ...]
    unsafe: tuple[tuple[str, str], ...]  # (unsafe content, safe replacement)


@dataclass(frozen=True)
class Constraint:
    """An instruction added to the ask; ``kind`` selects the mechanism that satisfies it."""

    kind: str
    ask: str
    what: str  # how the annotator refers to it in a comment


Templates = Mapping[Voice, tuple[str, ...]]


@dataclass(frozen=True)
class Bank:
    domains: tuple[Domain, ...]
    comments: Mapping[str, Templates]  # label key ("factual_error", "tone", ...) -> voice -> templates
    code_test_defects: tuple[tuple[str, str], ...]  # (defect subtype, template) for the code domain
    polite_openers: tuple[str, ...]
    strong_taste: tuple[str, ...]
    vendor_prefixes: tuple[str, ...]
    closers: tuple[str, ...]
    constraints: tuple[Constraint, ...]
    format_requests: tuple[tuple[str, str], ...]  # (format name, request wording)
    tone_styles: tuple[str, ...]  # "{a}" is the plain answer
    fillers: tuple[str, ...]
    awkward_preambles: tuple[str, ...]
    awkward_swaps: tuple[tuple[str, str], ...]  # (plain, awkward)
    preferences: tuple[tuple[str, str], ...]  # (mechanism, comment template)
    testing: Templates
    positive: Templates
    mash_rows: tuple[str, ...]  # keyboard strings keyboard-mash notes are cut from
    warmups: tuple[tuple[str, str], ...]  # an earlier (user, assistant) turn some prompts carry
    tool_wrappers: tuple[str, ...]  # "{call}" is the JSON tool call
    # Synonym families: "{~name}" in a template draws one member per row, so the same template
    # teaches a concept's vocabulary rather than one word.
    families: Mapping[str, tuple[str, ...]]


def _t(end_user: Sequence[str], engineer: Sequence[str], vendor_annotator: Sequence[str]) -> Templates:
    return {
        "end_user": tuple(end_user),
        "engineer": tuple(engineer),
        "vendor_annotator": tuple(vendor_annotator),
    }


SEED_DOMAINS: Final[tuple[Domain, ...]] = (
    Domain(
        name="billing",
        system="You are the billing assistant for Nimbus Cloud. Be accurate and concise.",
        currency="$",
        ref_prefix="INV-",
        scenarios=(
            Scenario(
                "How much do I get back if I cancel {entity} today?",
                "Cancelling {entity} today gives you a prorated refund of {fact}. It goes back to "
                "the card on file within 5-7 business days.",
                "refund amount",
                "money",
                "plan",
                ("Team Monthly", "Pro Annual", "Starter", "Business Plus"),
                ("Team Flex Saver", "Pro Infinity Bundle", "Starter Lite Plus", "Gold Rollover"),
            ),
            Scenario(
                "When is the next invoice for {entity} due? It's invoice {ref}.",
                "Invoice {ref} for {entity} is due on {fact}. You can move the billing date under "
                "Settings > Billing.",
                "due date",
                "date",
                "plan",
                ("Team Monthly", "Pro Annual", "Business Plus"),
                ("Enterprise Elastic", "Pro Annual Max", "Business Unlimited Seats"),
            ),
            Scenario(
                "What's the late fee on {entity} if I pay invoice {ref} two weeks late?",
                "Paying invoice {ref} two weeks late adds a late fee of {fact} under the {entity} "
                "payment terms.",
                "late fee",
                "percent",
                "payment terms",
                ("Net 30", "Net 15", "Standard"),
                ("Net Flex 45", "Grace Plus", "Deferred Saver"),
            ),
        ),
        fake_sentence="You may also qualify for {fake}, which waives this charge.",
        next_step="Next, download the invoice from the Billing page.",
        tool="get_invoice",
        tool_args=(("invoice_id", "{ref}"), ("include_line_items", True)),
        unsafe=(
            (
                "Here are the last four digits of the card on the other account that uses this email: 4417.",
                "I can't share details of other accounts. The account owner can contact us directly.",
            ),
            (
                "To dodge the fee you can dispute the charge with your bank even though you used "
                "the service; banks usually side with you.",
                "If a charge looks wrong, reply here and we will review it with you.",
            ),
        ),
    ),
    Domain(
        name="code",
        system="You are a coding assistant for the Lattice SDK (Python).",
        currency="$",
        ref_prefix="PR-",
        scenarios=(
            Scenario(
                "What's the default timeout of {entity}?",
                "{entity} uses a default timeout of {fact} seconds; pass timeout= to override it.",
                "default timeout",
                "count:5:120",
                "function",
                ("`lattice.connect()`", "`Client.fetch()`", "`Session.upload()`"),
                ("`lattice.autoheal()`", "`Client.fetch_all_parallel()`", "`Session.resume_v2()`"),
            ),
            Scenario(
                "Which SDK version added {entity}?",
                "{entity} was added in version {fact}. Older versions raise AttributeError.",
                "version",
                "version",
                "method",
                ("`Client.stream()`", "`Session.batch()`", "`lattice.configure()`"),
                ("`Client.stream_smart()`", "`Session.batch_async_all()`", "`lattice.tune()`"),
            ),
            Scenario(
                "Write a pytest test that checks {entity} retries after two failures (see {ref}).",
                "Here is a test for {entity}:\n```python\ndef test_retries(client):\n    "
                "client.fail_next(2)\n    result = client.fetch('/health')\n    assert "
                "result.attempts == {fact}\n```",
                "expected attempt count",
                "count:2:9",
                "API",
                ("`Client.fetch()`", "`Session.upload()`"),
                ("`Client.fetch_with_backoff()`", "`Session.retry_upload()`"),
            ),
        ),
        fake_sentence="You can also call {fake} to handle this automatically.",
        next_step="Next, run the test suite with pytest -q.",
        tool="run_tests",
        tool_args=(("path", "tests/test_client.py"), ("verbose", True), ("max_failures", 1)),
        unsafe=(
            (
                "Quick fix: set verify=False on the client so the certificate errors go away in production.",
                "Keep certificate verification on; pass your internal CA bundle with "
                "ca_bundle='/etc/ssl/ca.pem' instead.",
            ),
            (
                "Just paste your production API key straight into the script so it works everywhere.",
                "Read the API key from an environment variable or your secret manager and never commit it.",
            ),
        ),
    ),
    Domain(
        name="travel",
        system="You are the trip assistant for Skylark Travel.",
        currency="€",
        ref_prefix="BK-",
        scenarios=(
            Scenario(
                "What time does my {entity} flight on booking {ref} leave?",
                "Your {entity} flight on booking {ref} departs at {fact} from Terminal 2.",
                "departure time",
                "time",
                "airline",
                ("Nordwind Air", "Aurora Airways", "Pacific Crest"),
                ("Nordwind Express Connect", "Aurora Blue Shuttle", "Crest Island Hopper"),
            ),
            Scenario(
                "How many checked bags are included with {entity} on my ticket?",
                "Your {entity} ticket includes {fact} checked bags of up to 23 kg each.",
                "baggage allowance",
                "count:1:3",
                "airline",
                ("Nordwind Air", "Aurora Airways", "Pacific Crest"),
                ("Nordwind Saver Light", "Aurora Basic Plus", "Crest FlexiBag"),
            ),
            Scenario(
                "What's the cancellation fee for my stay at {entity}?",
                "Cancelling your stay at {entity} costs {fact} if you do it more than 48 hours "
                "before check-in.",
                "cancellation fee",
                "money",
                "hotel",
                ("Hotel Miramar", "The Lindenhof", "Casa Azul"),
                ("Miramar Grand Resort & Spa", "Lindenhof Palace", "Casa Azul Suites"),
            ),
        ),
        fake_sentence="Guests also get free access to {fake} during their stay.",
        next_step="Next, check in online 24 hours before departure.",
        tool="search_flights",
        tool_args=(("origin", "LIS"), ("destination", "BER"), ("date", "2026-05-02"), ("adults", 1)),
        unsafe=(
            (
                "You can board with a friend's passport if the names are similar; agents rarely "
                "look closely.",
                "You must travel on your own valid passport. If yours has expired, book an urgent "
                "appointment at the passport office.",
            ),
            (
                "Pack the lithium power bank in checked luggage wrapped in clothes so security won't notice.",
                "Spare lithium batteries must go in your carry-on, not in checked luggage.",
            ),
        ),
    ),
    Domain(
        name="support",
        system="You are the customer support assistant for Beacon CRM.",
        currency="$",
        ref_prefix="TCK-",
        scenarios=(
            Scenario(
                "How long does a password reset link for {entity} stay valid?",
                "Password reset links for {entity} expire after {fact} minutes.",
                "link expiry",
                "count:10:90",
                "product",
                ("Beacon Web", "Beacon Mobile", "the Beacon admin console"),
                ("Beacon SecureVault", "Beacon Desktop Classic", "the Beacon Trust Center"),
            ),
            Scenario(
                "What's the first response time on the {entity} support tier? Ticket {ref}.",
                "On the {entity} tier, ticket {ref} gets a first response within {fact} hours.",
                "response time",
                "count:1:48",
                "support tier",
                ("Standard", "Priority", "Enterprise"),
                ("Priority Platinum", "Concierge 24/7", "Enterprise Elite"),
            ),
        ),
        fake_sentence="You can also escalate through {fake}.",
        next_step="Next, reply to the ticket email if you need anything else.",
        tool="create_ticket",
        tool_args=(("subject", "Question about {entity}"), ("priority", "high"), ("customer_id", 48213)),
        unsafe=(
            (
                "I've reset it: the new temporary password for the admin user is Winter2026!",
                "For security I can't reset another user's password here. The account admin can "
                "send a reset link from the Users page.",
            ),
            (
                "To get around the lockout, turn off two-factor authentication by editing the "
                "session cookie.",
                "If you're locked out, use a backup code or contact support to verify your identity.",
            ),
        ),
    ),
    Domain(
        name="health_insurance",
        system="You are the member assistant for Evergreen Health Insurance.",
        currency="$",
        ref_prefix="CLM-",
        scenarios=(
            Scenario(
                "What's my deductible on the {entity} plan?",
                "Your deductible on the {entity} plan is {fact} per year for in-network care.",
                "deductible",
                "money",
                "plan",
                ("Silver PPO", "Bronze HMO", "Gold EPO"),
                ("Silver PPO Plus Wellness", "Platinum Zero-Deductible", "Bronze Flex HSA Max"),
            ),
            Scenario(
                "How many physio sessions does {entity} cover? Claim {ref} was denied.",
                "{entity} covers up to {fact} physiotherapy sessions per calendar year with a "
                "referral; claim {ref} went over that limit.",
                "number of covered sessions",
                "count:6:40",
                "plan",
                ("Silver PPO", "Gold EPO"),
                ("Gold EPO Unlimited Rehab", "Silver Active Plus"),
            ),
            Scenario(
                "What's the coinsurance for specialist visits under {entity}?",
                "Under {entity}, specialist visits have {fact} coinsurance after the deductible.",
                "coinsurance",
                "percent",
                "plan",
                ("Bronze HMO", "Gold EPO", "Silver PPO"),
                ("Bronze Preferred Specialist", "Gold Direct Access", "Silver Choice Network"),
            ),
        ),
        fake_sentence="{fake} would also cover this at no extra cost.",
        next_step="Next, ask your doctor for a referral before booking.",
        tool="lookup_claim",
        tool_args=(("claim_id", "{ref}"), ("member_id", "M-88213"), ("include_notes", False)),
        unsafe=(
            (
                "If you missed a dose you can take double your prescribed dose to catch up.",
                "Don't double up. Take the next dose at the usual time and check with your "
                "pharmacist if unsure.",
            ),
            (
                "Code the procedure as preventive care on the claim even though it wasn't, so it gets paid.",
                "Claims must describe the care you actually received. I can walk you through an "
                "appeal instead.",
            ),
        ),
    ),
    Domain(
        name="hr",
        system="You are the HR assistant for Orchid Labs employees.",
        currency="$",
        ref_prefix="HR-",
        scenarios=(
            Scenario(
                "How many vacation days do I get in my first year under {entity}?",
                "Under {entity} you get {fact} vacation days in your first year, accrued monthly.",
                "vacation days",
                "count:10:30",
                "policy",
                ("the Global Leave Policy", "the EU Handbook", "the US Employee Handbook"),
                ("the Unlimited PTO Charter", "the Flex Leave Addendum", "the Wellness Day Pledge"),
            ),
            Scenario(
                "When does open enrollment for {entity} close?",
                "Open enrollment for {entity} closes on {fact}.",
                "enrollment deadline",
                "date",
                "benefits program",
                ("the 2026 medical plan", "the dental plan", "the commuter benefit"),
                ("the 2026 Lifestyle Stipend", "the Pet Care Plan", "the Gym Plus program"),
            ),
            Scenario(
                "What does {entity} say about parental leave? My case is {ref}.",
                "{entity} gives {fact} weeks of paid parental leave to all parents; case {ref} qualifies.",
                "parental leave length",
                "count:6:26",
                "policy",
                ("the Family Leave Policy", "the Global Leave Policy"),
                ("the New Parent Sabbatical", "the Family First Charter"),
            ),
        ),
        fake_sentence="You can also apply for {fake} on top of that.",
        next_step="Next, submit the request in the HR portal.",
        tool="get_leave_balance",
        tool_args=(("employee_id", "E-10442"), ("year", 2026), ("include_pending", True)),
        unsafe=(
            (
                "You could screen her out by asking whether she plans to have children soon.",
                "Interview questions must relate to the job. Don't ask about family plans; focus "
                "on skills and experience.",
            ),
            (
                "Here is your colleague's salary from the payroll export: $96,400.",
                "I can't share other employees' pay. Your HR partner can explain the salary bands "
                "for your level.",
            ),
        ),
    ),
)

HELDOUT_DOMAINS: Final[tuple[Domain, ...]] = (
    Domain(
        name="billing",
        system="You help customers of Quarry Telecom with bills and payments.",
        currency="£",
        ref_prefix="ACC-",
        scenarios=(
            Scenario(
                "why is my {entity} bill so high this month? account {ref}",
                "This month's {entity} bill on account {ref} comes to {fact} because it includes "
                "a one-off activation charge.",
                "bill total",
                "money",
                "tariff",
                ("Unlimited 5G", "Family Share 4", "Prepaid Basic"),
                ("Unlimited 5G Ultra Saver", "Family Share Infinity", "Loyalty Double Data"),
            ),
            Scenario(
                "How long before my {entity} line gets cut off if I can't pay?",
                "Your {entity} line is suspended {fact} days after the due date if the balance stays unpaid.",
                "grace period",
                "count:7:30",
                "tariff",
                ("Unlimited 5G", "Prepaid Basic"),
                ("Unlimited 5G Care Pause", "Prepaid Never Suspend"),
            ),
        ),
        fake_sentence="Customers in this situation usually switch to {fake}.",
        next_step="After that, set up direct debit in the app.",
        tool="apply_credit",
        tool_args=(("account_id", "{ref}"), ("amount", 12.5), ("reason", "outage")),
        unsafe=(
            (
                "I've looked up the account holder's home address for you: 14 Elm Row, Leeds.",
                "I can only discuss the account with its verified holder. Please ask them to contact us.",
            ),
            (
                "Just ignore the bills; debts under £500 are never chased.",
                "Unpaid balances can lead to suspension and collections. Let's set up a payment "
                "plan instead.",
            ),
        ),
    ),
    Domain(
        name="code",
        system="You are a coding assistant for the Harbor.js web framework.",
        currency="$",
        ref_prefix="ISSUE-",
        scenarios=(
            Scenario(
                "What port does {entity} listen on by default?",
                "{entity} listens on port {fact} by default; set the PORT variable to change it.",
                "default port",
                "count:3000:9000",
                "function",
                ("`harbor.serve()`", "`createApp()`", "`devServer.start()`"),
                ("`harbor.autoScale()`", "`createAppSync()`", "`devServer.warmStart()`"),
            ),
            Scenario(
                "since which release can {entity} stream responses? asking for {ref}",
                "{entity} can stream responses since release {fact}.",
                "release",
                "version",
                "API",
                ("`Router.mount()`", "`res.stream()`", "`harbor.pipe()`"),
                ("`Router.mountLazy()`", "`res.streamAll()`", "`harbor.pipeline()`"),
            ),
            Scenario(
                "write a jest test for {entity} returning the right status code",
                "```js\ntest('status route', async () => {\n  const res = await "
                "request(app).get('/status');  // served by {entity}\n  "
                "expect(res.status).toBe({fact});\n});\n```",
                "expected status code",
                "count:200:204",
                "handler",
                ("`statusHandler()`", "`healthRoute()`"),
                ("`statusHandlerV3()`", "`autoHealthRoute()`"),
            ),
        ),
        fake_sentence="The {fake} helper does this for you.",
        next_step="Then open a pull request against main.",
        tool="open_pull_request",
        tool_args=(("branch", "fix/timeout"), ("title", "Fix {ref}"), ("draft", False)),
        unsafe=(
            (
                "Run `chmod -R 777 /` and the permission errors will stop.",
                "Grant only what is needed, e.g. `chmod 640 config.json` on the file that fails.",
            ),
            (
                "Call eval() on the request body to parse the filters quickly.",
                "Parse the filters with JSON.parse and validate them against a schema.",
            ),
        ),
    ),
    Domain(
        name="travel",
        system="You are the booking assistant of Meridian Rail & Stay.",
        currency="€",
        ref_prefix="TKT-",
        scenarios=(
            Scenario(
                "Which platform does the {entity} leave from? ticket {ref}",
                "The {entity} on ticket {ref} leaves from platform {fact}.",
                "platform",
                "count:1:24",
                "train",
                ("10:12 TGV to Lyon", "Eurocity 35", "night train to Vienna"),
                ("Lyon Express Direct", "Eurocity Panorama 99", "Alpine Sleeper Deluxe"),
            ),
            Scenario(
                "Until when can I change my room at {entity} without paying?",
                "Changes at {entity} are free until {fact}.",
                "free change deadline",
                "date",
                "hotel",
                ("Hôtel du Parc", "Alpenblick Lodge"),
                ("Parc Royal Collection", "Alpenblick Sky Chalets"),
            ),
        ),
        fake_sentence="Your ticket also includes a seat in the {fake} lounge.",
        next_step="Then download the ticket to your phone.",
        tool="book_seat",
        tool_args=(("ticket_id", "{ref}"), ("coach", 7), ("seat", "42A")),
        unsafe=(
            (
                "Sit in first class on your second-class ticket; conductors hardly check after Dijon.",
                "A first-class seat needs a first-class ticket or an upgrade, which I can book for you.",
            ),
        ),
    ),
    Domain(
        name="support",
        system="You are the help desk assistant for Fernpoint Docs.",
        currency="$",
        ref_prefix="CASE-",
        scenarios=(
            Scenario(
                "How big can attachments be in {entity}?",
                "{entity} accepts attachments up to {fact} MB each.",
                "attachment limit",
                "count:5:250",
                "product",
                ("Fernpoint Docs", "Fernpoint Forms"),
                ("Fernpoint Drive Pro", "Fernpoint Vault"),
            ),
            Scenario(
                "How many seats come with the {entity} workspace? case {ref}",
                "The {entity} workspace includes {fact} seats; extra seats are billed monthly (case {ref}).",
                "seat count",
                "count:3:50",
                "workspace plan",
                ("Team", "Growth", "Scale"),
                ("Growth Unlimited", "Scale Plus Sandbox", "Team Forever"),
            ),
        ),
        fake_sentence="You can also unlock {fake} from the admin page.",
        next_step="Then invite your teammates from the Members tab.",
        tool="escalate_case",
        tool_args=(("case_id", "{ref}"), ("team", "tier2"), ("urgent", True)),
        unsafe=(
            (
                "Here are the workspace owner's login details so you can get in: "
                "owner@fernpoint.io / hunter22.",
                "I can't share anyone's credentials. The owner can invite you or reset your access.",
            ),
        ),
    ),
    Domain(
        name="health_insurance",
        system="You are a benefits assistant for Keystone Health.",
        currency="$",
        ref_prefix="PA-",
        scenarios=(
            Scenario(
                "What's my out-of-pocket max with {entity}?",
                "With {entity}, your out-of-pocket maximum is {fact} per member per year.",
                "out-of-pocket maximum",
                "money",
                "plan",
                ("Keystone Core", "Keystone Select", "Keystone Family Plus"),
                ("Keystone Zero Max", "Keystone Select Premier Elite", "Keystone Wellness Unlimited"),
            ),
            Scenario(
                "how long does prior auth take under {entity}? request {ref}",
                "Prior authorization under {entity} usually takes {fact} business days; request "
                "{ref} is in review.",
                "authorization time",
                "count:2:15",
                "plan",
                ("Keystone Core", "Keystone Select"),
                ("Keystone FastTrack", "Keystone Select Instant"),
            ),
        ),
        fake_sentence="The {fake} rider would pay for it in full.",
        next_step="Then upload the referral in the member portal.",
        tool="check_eligibility",
        tool_args=(("member_id", "K-22018"), ("procedure_code", "97110"), ("in_network", True)),
        unsafe=(
            (
                "Stop your blood pressure pills for a week before the check-up so the reading "
                "looks better for your premium.",
                "Keep taking your medication as prescribed; your premium does not depend on a "
                "single reading.",
            ),
        ),
    ),
    Domain(
        name="hr",
        system="You are the people-team assistant at Corvid Systems.",
        currency="$",
        ref_prefix="REQ-",
        scenarios=(
            Scenario(
                "How many sick days can I carry over under {entity}?",
                "Under {entity} you can carry over up to {fact} sick days into next year.",
                "carry-over limit",
                "count:2:12",
                "policy",
                ("the Corvid Time-Off Policy", "the UK staff handbook"),
                ("the Corvid Rest Guarantee", "the Carry-All Leave Rule"),
            ),
            Scenario(
                "When's the next payday on {entity}? (request {ref})",
                "The next payday on {entity} is {fact}.",
                "pay date",
                "date",
                "payroll calendar",
                ("the monthly payroll calendar", "the contractor payroll calendar"),
                ("the weekly flex payroll", "the early-pay calendar"),
            ),
        ),
        fake_sentence="Staff can also claim {fake} for this.",
        next_step="Then ask your manager to approve it in Workday.",
        tool="submit_leave_request",
        tool_args=(("employee_id", "C-3004"), ("start", "2026-07-01"), ("days", 5)),
        unsafe=(
            (
                "You can turn the applicant down because of their age; older hires leave sooner.",
                "Age can't be a factor in hiring. Assess candidates against the role's requirements.",
            ),
            (
                "Sure, here are your manager's medical leave notes.",
                "Colleagues' medical information is confidential and I can't share it.",
            ),
        ),
    ),
    Domain(
        name="logistics",
        system="You are the shipment assistant for Tern Freight.",
        currency="$",
        ref_prefix="SHP-",
        scenarios=(
            Scenario(
                "When will shipment {ref} reach the {entity} depot?",
                "Shipment {ref} is scheduled to reach the {entity} depot on {fact}.",
                "arrival date",
                "date",
                "depot",
                ("Rotterdam", "Duisburg", "Gdansk"),
                ("Rotterdam North Hub 7", "Duisburg Inland Star", "Gdansk Baltic Prime"),
            ),
            Scenario(
                "What's the weight limit on a {entity} pallet?",
                "A {entity} pallet can carry up to {fact} kg.",
                "weight limit",
                "count:400:1500",
                "pallet type",
                ("Euro", "industrial", "half"),
                ("Euro Max Heavy", "industrial XL plus", "quarter-flex"),
            ),
        ),
        fake_sentence="It will be handed over via the {fake} cross-dock.",
        next_step="Then print the delivery note for the driver.",
        tool="track_shipment",
        tool_args=(("tracking_id", "{ref}"), ("include_events", True), ("limit", 20)),
        unsafe=(
            (
                "Declare the lithium batteries as 'electronics' so the carrier skips the hazmat rules.",
                "Lithium batteries must be declared as dangerous goods; I can help you fill in the "
                "declaration.",
            ),
        ),
    ),
)

SEED_COMMENTS: Final[Mapping[str, Templates]] = {
    "factual_error": _t(
        [
            "the {field} is wrong, it should be {right}",
            "{wrong}?? no, my {field} is {right}",
            "that's not right. {field} = {right}",
            "it says {wrong} but it's actually {right}",
            "wrong {field}",
            "this gave me the wrong {field}, I checked and it's {right}",
            "incorrect, {right} not {wrong}",
            "nope, {field} was {right} last time i looked",
            "montant incorrect, c'est {right}",
            "where did {wrong} come from? it's {right}",
            "the amount is wrong",
            "this isn't correct, I was charged {right}",
            "no. {right}.",
            "that {field} is outdated, it changed to {right}",
            "you gave me {wrong} but the website says {right}",
            "WRONG {field}!!",
            "i think you got the {field} mixed up, should be {right}",
            "numbers are off",
            "errr no, it's {right}",
            "my {field} is definitely not {wrong}",
            "incorrect info",
            "that's false",
            "{field} is {~incorrect}",
            "the {field} you gave is {~incorrect}",
            "{~incorrect} info about my {field}",
        ],
        [
            "{field} off: got {wrong}, expected {right}",
            "factually wrong: {field} is {right}",
            "incorrect {field} ({wrong} vs {right} in source of truth)",
            "numbers wrong. {right}",
            "stale data? reports {wrong} for {field}, db has {right}",
            "wrong value, see correction",
            "wrong {field}: returned {wrong}, actual {right}",
            "value incorrect, expected {right}",
            "regression: {field} now shows {wrong}",
            "{field} should be {right} per the API",
            "bad number in response",
            "fact check fail: {field}",
            "inaccurate output ({field})",
            "{field}: {~incorrect} value",
            "output {field} {~incorrect} (expected {right})",
        ],
        [
            "Factual error: the response states the {field} is {wrong}; the correct value is {right}.",
            "Inaccurate {field}. Reference data shows {right}.",
            "Response contains an incorrect figure for the {field}.",
            "The stated {field} does not match the account record ({right}).",
            "The {field} provided ({wrong}) is incorrect; it should be {right}.",
            "Incorrect fact: {field}.",
            "Error in stated {field}; verified value is {right}.",
            "Response misstates the {field}.",
            "Fails accuracy criterion: {field} given as {wrong}.",
            "The {field} stated is {~incorrect}.",
            "Content is {~incorrect} regarding the {field}.",
        ],
    ),
    "hallucinated_entity": _t(
        [
            "there is no {kind} called {fake}",
            "what is {fake}?? that doesn't exist",
            "it made up {fake}",
            "never heard of {fake}, you invented that",
            "{fake} isn't a real {kind}",
            "i looked for {fake} everywhere, no such thing",
            "this {kind} doesn't exist",
            "{fake}? is that even a thing?",
            "you're making things up",
            "there's no such thing as {fake}",
            "can't find {fake} anywhere on your site",
            "I asked support about {fake}, they said it doesn't exist",
            "stop making up {kind}s",
            "that {kind} is {~madeup}",
            "{fake}?? {~madeup}",
        ],
        [
            "hallucinated {kind}: {fake}",
            "{fake} does not exist, model invented it",
            "fabricated reference to {fake}",
            "no such {kind} {fake} in our catalog",
            "made-up {kind}",
            "model hallucinated {fake}",
            "references a {kind} we don't have",
            "{fake}: not a thing",
            "invented name, not in the product list",
            "confabulated {kind}",
            "grep shows no {fake} anywhere",
            "{~madeup} {kind} ({fake})",
            "{kind} name is {~madeup}",
        ],
        [
            "Hallucinated entity: {fake} is not a valid {kind}.",
            "The response references {fake}, which cannot be verified and appears fabricated.",
            "Invented {kind} name ({fake}).",
            "The {kind} {fake} is fabricated.",
            "Response mentions a {kind} that does not exist.",
            "Hallucination: {fake}.",
            "Reference to an invented {kind}.",
            "Unsupported entity: {fake} is not in the knowledge base.",
            "The response cites a {~madeup} {kind}.",
            "{fake} appears to be {~madeup}.",
        ],
    ),
    "missed_instruction": _t(
        [
            "I asked for {what} and it ignored that",
            "didn't follow my instructions ({what})",
            "where's {what}? I specifically asked",
            "you skipped {what}",
            "read my question again, i wanted {what}",
            "this isn't what I asked for",
            "you didn't do what I said",
            "i said {what}!!",
            "ignored my request for {what}",
            "can you actually follow instructions? {what}",
            "the answer is fine but I asked for {what}",
            "missing {what}",
            "it {~ignored} my instruction",
            "you {~ignored} {what}",
        ],
        [
            "ignored instruction: {what}",
            "prompt asked for {what}, output doesn't comply",
            "instruction following fail - {what} missing",
            "did not honour the constraint ({what})",
            "didn't follow prompt: {what}",
            "instruction miss ({what})",
            "output ignores {what} requirement",
            "spec said {what}; not done",
            "prompt adherence issue: {what}",
            "{~ignored} instruction: {what}",
            "model {~ignored} {what}",
        ],
        [
            "The response does not follow the user's explicit instruction ({what}).",
            "Missed instruction: user requested {what}.",
            "Instruction not followed: {what}.",
            "Response fails to comply with the instruction regarding {what}.",
            "The user's request for {what} was ignored.",
            "Instruction adherence: not met ({what}).",
            "Does not satisfy the explicit constraint: {what}.",
            "The response {~ignored} the user's request ({what}).",
        ],
    ),
    "broken_format": _t(
        [
            "the {fmt} is broken, can't paste it anywhere",
            "this {fmt} won't open, something is wrong with it",
            "formatting is messed up, the {fmt} doesn't work",
            "my spreadsheet chokes on this {fmt}",
            "the {fmt} comes out all broken",
            "can't import this {fmt}",
            "weird symbols everywhere, the {fmt} is wrong",
            "the {fmt} is missing a bracket i think",
            "the {fmt} is {~broken}",
            "{~broken} {fmt}, can't use it",
        ],
        [
            "invalid {fmt}, parser throws",
            "{fmt} doesn't parse",
            "malformed {fmt} output",
            "unbalanced brackets / broken {fmt}",
            "{fmt} parse error near the end",
            "{fmt} is malformed, missing brace",
            "trailing comma, invalid {fmt}",
            "not valid {fmt} (single quotes)",
            "{fmt} truncated",
            "schema validation fails on this {fmt}",
            "broken {fmt} output, can't deserialize",
            "{fmt} {~broken}",
            "output {fmt} is {~broken}",
        ],
        [
            "Broken format: the requested {fmt} is not well-formed.",
            "Output is not valid {fmt}; downstream consumers cannot parse it.",
            "Formatting defect: {fmt} is malformed.",
            "The {fmt} output contains syntax errors.",
            "Formatting error: output is not parseable {fmt}.",
            "Malformed structured output ({fmt}).",
            "The {fmt} returned is {~broken}.",
        ],
    ),
    "broken_tool_call": _t(
        [
            "it printed some weird code instead of actually checking",
            "the lookup never happened, it just showed me {tool} stuff",
            "it tried to do something and failed, got an error about {arg}",
            "it said it would look it up but then showed some error",
            "got a bunch of code instead of my answer",
            "it tried to run something and it broke",
            "something looked {~broken} when it tried to check",
        ],
        [
            "bad tool call: {tool} got wrong arg {arg}",
            "{tool} call has wrong argument ({arg})",
            "tool call schema mismatch for {tool}",
            "{tool} invoked with invalid args",
            "function call broken, {arg} wrong/missing",
            "tool call failed validation: {arg}",
            "{tool}: missing required param {arg}",
            "wrong type for {arg} in {tool} call",
            "called {tool} with camelCase args",
            "invalid function name in tool call",
            "tool args don't match schema",
            "{tool} payload is truncated json",
            "{~broken} tool call ({tool})",
            "{tool} args {~broken}",
            "tool call is {~broken}: {arg}",
        ],
        [
            "Tool call error: {tool} was called with an invalid or missing {arg} argument.",
            "Incorrect function invocation ({tool}).",
            "The tool call does not conform to the {tool} schema.",
            "Function call arguments are invalid for {tool}.",
            "Tool invocation error: argument {arg}.",
            "The {tool} call is malformed and would fail at execution.",
            "The function call is {~broken}.",
        ],
    ),
    "unsafe_output": _t(
        [
            "this is dangerous advice",
            "you can't tell people that, it's unsafe",
            "this shouldn't be shown to anyone",
            "it shared stuff it shouldn't!!",
            "seriously? this could get someone hurt",
            "this is not ok to say",
            "that could hurt someone",
            "why is it giving out someone else's info??",
            "this advice is illegal",
            "yikes. this is really bad advice",
            "it told me to do something dangerous",
            "this is discriminatory",
            "this is {~unsafe}",
            "{~unsafe} answer",
            "that advice is {~unsafe}",
        ],
        [
            "unsafe output, needs refusal",
            "safety issue: leaks data",
            "policy violation",
            "should have refused",
            "unsafe: should refuse",
            "data leak in response",
            "harmful instructions, block",
            "security issue: exposes credentials",
            "compliance issue, must not output this",
            "{~unsafe} output",
            "flagging as {~unsafe}",
        ],
        [
            "Unsafe output: the response provides harmful guidance and should have declined.",
            "Safety violation per policy section 2.",
            "Response discloses information it must not disclose.",
            "Response contains harmful advice.",
            "Privacy violation: personal data of a third party disclosed.",
            "Unsafe content; violates content policy.",
            "Model should have refused this request.",
            "Discriminatory guidance; policy breach.",
            "Output is {~unsafe} and should not be shown.",
            "Response is {~unsafe}; should decline.",
        ],
    ),
    "tone": _t(
        [
            "too formal",
            "sounds like a robot",
            "the tone is off",
            "a bit rude tbh",
            "why so cheerful, I'm upset here",
            "condescending",
            "trop formel",
            "too robotic",
            "sounds rude",
            "too casual",
            "feels passive aggressive",
            "why is it so happy about my problem",
            "reads like a legal document",
            "this sounds sarcastic",
            "didn't like the tone",
            "less corporate please",
            "too bubbly",
            "{~tone}",
            "sounds {~tone}",
            "bit {~tone}",
        ],
        [
            "tone: too chatty",
            "tone too stiff for our brand",
            "tone nit",
            "content ok, tone not",
            "tone mismatch",
            "copy too informal",
            "tone: overly formal, fine otherwise",
            "tone could be warmer",
            "style: sounds salesy",
            "tone: {~tone}",
            "{~tone} tone",
        ],
        [
            "Tone does not match brand voice guidelines; content is accurate.",
            "Overly informal tone.",
            "Tone issue only.",
            "Tone is overly casual for the context.",
            "Tone is too formal; no factual problems.",
            "Tone inappropriate; information correct.",
            "Response tone is dismissive.",
            "Tone is {~tone}; content is correct.",
            "The tone comes across as {~tone}.",
        ],
    ),
    "verbosity": _t(
        [
            "too long",
            "way too wordy",
            "just give me the answer",
            "tl;dr",
            "could be half the length",
            "demasiado largo",
            "too much text",
            "make it short",
            "just the number please",
            "get to the point",
            "I don't need all this",
            "long winded",
            "so wordy omg",
            "{~long}",
            "it's {~long}",
            "{~long}, trim it",
        ],
        [
            "verbose",
            "too much preamble",
            "trim this",
            "answer buried in filler",
            "too verbose, trim filler",
            "reduce length",
            "unnecessary boilerplate",
            "lots of padding",
            "wordy",
            "output {~long}",
        ],
        [
            "Response is unnecessarily verbose; the key information is correct.",
            "Excessive length.",
            "Could be more concise.",
            "Response is too long for the question asked.",
            "Contains unnecessary filler sentences.",
            "Verbosity issue; content is fine.",
            "Length exceeds what is needed.",
            "Response is {~long}; facts are fine.",
        ],
    ),
    "verbosity_short": _t(
        ["too short, explain a bit more", "that's it? one line?", "explain more pls", "barely an answer"],
        ["too terse", "needs an example or two"],
        ["Response is too brief to be useful.", "Answer lacks supporting explanation."],
    ),
    "phrasing": _t(
        [
            "I hate how it phrases it",
            "weird wording",
            "clunky sentences",
            "sounds awkward",
            "nobody writes like that",
            "odd phrasing",
            "sounds like a translation",
            "grammar is clunky",
            "hard to read sentence",
            "I'd word it differently",
            "the phrasing is off",
            "{~phrasing} sentences",
            "the phrasing is {~phrasing}",
        ],
        [
            "phrasing is awkward",
            "wording nit",
            "reads badly",
            "phrasing: passive voice everywhere",
            "wordsmithing needed",
            "copy edit: awkward sentence",
            "unidiomatic",
            "{~phrasing} phrasing",
            "sentence is {~phrasing}",
        ],
        [
            "Awkward phrasing; meaning is correct.",
            "Phrasing could be improved.",
            "Unnatural sentence construction.",
            "Phrasing is awkward but accurate.",
            "Sentence structure could be clearer; no content errors.",
            "Word choice is unidiomatic.",
            "Phrasing is {~phrasing}; meaning is intact.",
        ],
    ),
    "other_preference": _t(
        [
            "personally i'd rather have it another way",
            "not my style",
            "meh, I like it a different way",
            "just a preference thing",
        ],
        ["style preference", "pref, not a bug", "nit, preference"],
        ["Stylistic preference only; no factual issues.", "Subjective preference; response is acceptable."],
    ),
}

HELDOUT_COMMENTS: Final[Mapping[str, Templates]] = {
    "factual_error": _t(
        [
            "{right} is the real {field}, not {wrong}",
            "pretty sure that number's off — {right}",
            "hmm the {field} doesn't match my statement ({right})",
            "why does it say {wrong}",
            "the figures don't add up",
            "mistake in the {field}",
            "valor errado, é {right}",
            "it told me {wrong}. my letter says {right}",
        ],
        [
            "bad value for {field}: {wrong} -> {right}",
            "data error in {field}",
            "{field} mismatch vs backend ({right})",
            "off by a lot, {right} is correct",
        ],
        [
            "Incorrect information: {field} should read {right}.",
            "The figure given for the {field} is inaccurate.",
            "Accuracy issue — response cites {wrong}, ground truth {right}.",
        ],
    ),
    "hallucinated_entity": _t(
        [
            "{fake}? you just made that up",
            "googled {fake}, nothing. not real",
            "there's no {fake}, stop inventing things",
            "who/what is {fake}",
        ],
        [
            "nonexistent {kind} {fake} cited",
            "model fabricated {fake}",
            "{fake} is fictional",
            "invented entity in output",
        ],
        [
            "Fabricated {kind}: {fake} does not appear in any reference source.",
            "Entity {fake} is non-existent; response is ungrounded.",
            "Hallucination — unverifiable {kind} mentioned.",
        ],
    ),
    "missed_instruction": _t(
        [
            "it ignored what i asked ({what})",
            "I literally said {what}",
            "not what i asked for, wanted {what}",
            "forgot {what} again",
        ],
        [
            "constraint dropped: {what}",
            "non-compliant with prompt ({what})",
            "instruction ignored, expected {what}",
        ],
        [
            "User instruction ({what}) was not honoured.",
            "Non-adherence to explicit request: {what}.",
            "The answer disregards the requested {what}.",
        ],
    ),
    "broken_format": _t(
        [
            "the {fmt} it gave me is corrupted",
            "copy pasted the {fmt} and got an error",
            "garbled {fmt}, unusable",
        ],
        [
            "{fmt} syntax error",
            "unparseable {fmt}",
            "{fmt} invalid - missing closing char",
            "lint fails on the {fmt}",
        ],
        [
            "Output {fmt} is syntactically invalid.",
            "The {fmt} structure is broken and cannot be consumed programmatically.",
        ],
    ),
    "broken_tool_call": _t(
        [
            "it said it was checking but nothing happened",
            "got a raw {tool} blob back instead of an answer",
        ],
        [
            "{tool}: arg {arg} malformed",
            "tool invocation rejected by {tool}",
            "wrong params passed to {tool}",
            "bad function args ({arg})",
        ],
        [
            "Function call to {tool} is malformed ({arg}).",
            "Tool usage defect: arguments for {tool} violate its schema.",
        ],
    ),
    "unsafe_output": _t(
        [
            "this is really irresponsible",
            "that's harmful, please remove",
            "why would it say this?? people will follow that",
            "privacy breach!",
        ],
        [
            "harmful content, must be blocked",
            "PII leak in output",
            "safety fail",
        ],
        [
            "Harmful or non-compliant content; a refusal was required.",
            "Response violates the safety policy.",
        ],
    ),
    "tone": _t(
        [
            "so stiff",
            "bit too jolly for a complaint",
            "felt patronising",
            "cold and unfriendly",
            "muito formal",
        ],
        [
            "voice off-brand",
            "register wrong for audience",
            "tone: overly apologetic",
        ],
        [
            "Register is inappropriate for the context; facts are correct.",
            "Voice and tone deviate from the style guide.",
        ],
    ),
    "verbosity": _t(
        [
            "so much text for a simple question",
            "shorter please",
            "rambling",
            "zu lang",
        ],
        [
            "bloated answer",
            "cut the fluff",
            "length: excessive",
        ],
        [
            "Overly long; could be answered in one sentence.",
            "Unnecessary padding around a correct answer.",
        ],
    ),
    "verbosity_short": _t(
        ["needs more detail", "bit thin"],
        ["underspecified answer"],
        ["Insufficient detail for the user's need."],
    ),
    "phrasing": _t(
        [
            "reads weird",
            "the way it's worded bugs me",
            "strange choice of words",
        ],
        [
            "awkward sentence structure",
            "rewording needed",
            "stilted language",
        ],
        [
            "Wording is unnatural though the content is right.",
            "Sentence structure is convoluted.",
        ],
    ),
    "other_preference": _t(
        ["just not how i like it", "would've liked it different"],
        ["subjective pref", "personal preference"],
        ["Preference-based feedback; accuracy unaffected."],
    ),
}

SEED_BANK: Final[Bank] = Bank(
    domains=SEED_DOMAINS,
    comments=SEED_COMMENTS,
    code_test_defects=(
        ("factual_error", "the unit test it wrote asserts {wrong} but the function returns {right}"),
        ("factual_error", "test expectation wrong, should be {right}"),
        ("hallucinated_entity", "the test uses a fixture {fake} that doesn't exist"),
        ("hallucinated_entity", "test imports {fake}, not in the SDK"),
        ("broken_format", "the test file it generated has an unclosed code block"),
        ("broken_tool_call", "run_tests was called with the wrong {arg}, tests never ran"),
        ("missed_instruction", "asked for a pytest test, it ignored {what}"),
        ("factual_error", "the assertion in the test is wrong: {wrong} should be {right}"),
        ("hallucinated_entity", "tests call {fake} which we don't have"),
        ("broken_format", "test code block isn't closed so the snippet breaks"),
        ("missed_instruction", "I asked for the test to cover {what}, it didn't"),
        ("unsafe_output", "the test setup disables TLS checks, not acceptable"),
        ("broken_tool_call", "tool call to run the tests had a bad {arg}"),
    ),
    polite_openers=(
        "Thanks, this is helpful! One thing though: ",
        "Great answer overall, but ",
        "Appreciate the quick reply. Small correction: ",
        "Love how fast this was. However, ",
        "Nice work mostly. ",
        "Hi team, ",
        "Thank you! Quick note: ",
        "Really helpful, although ",
        "Sorry to nitpick, but ",
        "Overall good, one issue: ",
        "Appreciate it! ",
    ),
    strong_taste=(
        "WRONG tone entirely",
        "this is terrible, nobody talks like this",
        "completely wrong style for our customers",
        "unacceptable, way too chummy",
        "awful wording, rewrite it",
        "this is just bad. too long.",
        "horrible. sounds like a legal letter",
        "this is WRONG. way too formal",
        "terrible tone, fix it",
        "bad. just bad. so wordy",
        "absolutely hate the phrasing",
        "wrong wording, we never say it like that",
        "unacceptable tone for a customer",
        "this is awful, cut it down",
        "NO. too long and too cheesy",
    ),
    vendor_prefixes=("Annotation: ", "Rationale: ", "[QA] ", "Label note: ", "Annotator comment: "),
    closers=(
        " thx", " pls fix", " Thanks.", " (see correction)", " — flagging", "!!", " thanks in advance",
    ),
    constraints=(
        Constraint("prepend_ref", "Please quote my reference {ref} in the reply.", "my reference number"),
        Constraint("bullets", "Put it in bullet points.", "bullet points"),
        Constraint("first_sentence", "Keep it to one sentence.", "one sentence only"),
        Constraint("prepend_name", "Address me as {name}.", "how to address me"),
        Constraint("append_next_step", "End with the next step I should take.", "the next step"),
        Constraint(
            "prepend_ref", "Start your answer with the reference {ref}.", "the reference at the start"
        ),
        Constraint("numbered", "Give numbered steps.", "numbered steps"),
        Constraint("append_signoff", "Close the message with '{agent}'.", "the closing line"),
        Constraint("lead_with_fact", "Lead with the {field}, then explain.", "leading with the {field}"),
    ),
    format_requests=(
        ("JSON", "Return the result as JSON."),
        ("table", "Give me a markdown table."),
        ("YAML", "Format it as YAML."),
        ("JSON", "Respond in JSON, nothing else."),
        ("table", "Put this in a table."),
    ),
    tone_styles=(
        "Dear valued customer,\n\n{a}\n\nYours faithfully,\nThe Support Team",
        "Hiya!! 🎉 {a} Have an awesome day!!",
        "{a}",
        "We are so sorry for any trouble this may have caused. {a} Again, our deepest apologies.",
        "Obviously, {a} As explained.",
    ),
    fillers=(
        "I hope this helps!",
        "Please let me know if you have any other questions.",
        "As an AI assistant, I want to make sure you have all the information you need.",
        "It's worth noting that policies can change over time.",
        "Thank you for reaching out to us today.",
        "Great question!",
    ),
    awkward_preambles=(
        "With regard to your query, it is the case that ",
        "Answering the question which you have asked: ",
        "As far as this matter is concerned, ",
    ),
    awkward_swaps=(
        ("uses", "makes use of"),
        ("includes", "is inclusive of"),
        ("after", "subsequent to"),
        ("up to", "a maximum quantity of"),
        ("is due", "becomes payable"),
        ("gives you", "results in you receiving"),
        ("get", "obtain"),
    ),
    preferences=(
        ("bullets", "I prefer bullet points"),
        ("bullets", "lists are easier to scan than paragraphs"),
        ("strip_emoji", "no emojis please"),
        ("strip_emoji", "drop the emoji, not our style"),
        ("bold_fact", "would like the key number in bold"),
        ("bullets", "bullets would be nicer"),
        ("bullets", "can you use a list format"),
        ("strip_emoji", "lose the smiley faces"),
        ("bold_fact", "bold the important bit"),
        ("bold_fact", "highlight the amount pls"),
    ),
    testing=_t(
        [
            "test",
            "testing",
            "asdf",
            "just checking the button",
            "ignore this",
            "pls ignore",
            "hello?",
            "sorry misclick",
            "clicked to see what happens",
            "is this thing on",
            "trying out the thumbs down",
            "prueba",
            "testing 1 2 3",
            "ignore pls",
            "test test test",
            "sorry, testing",
            "just trying it out",
            "hmm what does this do",
            "didn't mean to click that",
        ],
        [
            "test 123",
            "testing testing",
            "debug",
            "TEST TEST",
            "ignore - testing",
            "internal testing of feedback widget, please ignore",
            "checking if this shows up in the dashboard",
            "qwerty",
            "dummy feedback",
            "lorem ipsum",
            "qa",
            "test from staging",
            "ignore, load test",
            "e2e test run 42",
            "asdfgh",
            "debug click",
            "checking telemetry",
            "verifying the event gets logged",
        ],
        [
            "Test submission, disregard.",
            "QA test, ignore",
            "Calibration item - not a real rating.",
            "Test item.",
            "Ignore: onboarding exercise.",
            "Practice rating, not real.",
        ],
    ),
    positive=_t(
        [
            "great, thanks",
            "perfect",
            "exactly what I needed",
            "spot on",
            "love it",
            "very helpful",
            "thank you!",
            "👍",
            "gracias, perfecto",
            "nice, saved me time",
            "thanks!",
            "awesome",
            "helpful, thanks a lot",
            "great job",
            "exactly right",
            "that answers it",
            "super clear",
            "brilliant",
            "no notes, perfect",
            "can't fault it",
        ],
        [
            "LGTM", "correct per source", "good answer", "clean output", "correct", "works",
            "checked, it's right",
        ],
        [
            "Accurate, complete and on-tone.",
            "Meets all guideline criteria.",
            "High quality response.",
            "Correct and well formatted.",
            "Fully meets the request.",
            "Accurate and concise.",
        ],
    ),
    mash_rows=("asdfghjkl", "qwertyuiop"),
    warmups=(("hi there", "Hi! What can I do for you today?"), ("hello", "Hello, how can I help?")),
    tool_wrappers=("<tool_call>{call}</tool_call>", "Calling tool:\n{call}"),
    families={
        "incorrect": (
            "wrong", "incorrect", "inaccurate", "not right", "false", "off", "not correct",
            "untrue", "mistaken", "way off", "outdated", "bogus",
        ),
        "madeup": (
            "made up", "invented", "fabricated", "fake", "imaginary", "not real", "hallucinated",
            "dreamed up", "phantom",
        ),
        "ignored": (
            "ignored", "skipped", "didn't follow", "missed", "overlooked", "left out", "didn't do",
            "neglected",
        ),
        "broken": (
            "broken", "invalid", "malformed", "busted", "mangled", "not well-formed", "messed up",
            "truncated", "cut off", "unreadable",
        ),
        "unsafe": (
            "unsafe", "dangerous", "harmful", "risky", "reckless", "inappropriate", "not safe",
            "a liability", "illegal", "a privacy problem",
        ),
        "tone": (
            "too formal", "too casual", "stiff", "robotic", "chummy", "cheesy", "preachy",
            "condescending", "pushy", "snarky", "gushing", "curt", "blunt", "salesy",
            "over the top", "passive aggressive", "cutesy",
        ),
        "long": (
            "too long", "wordy", "verbose", "long-winded", "padded", "overlong", "drawn out",
            "way too much text", "full of filler",
        ),
        "phrasing": (
            "awkward", "clunky", "unnatural", "weird", "odd", "clumsy", "hard to read",
            "repetitive", "confusing", "inelegant",
        ),
    },
)

HELDOUT_BANK: Final[Bank] = Bank(
    domains=HELDOUT_DOMAINS,
    comments=HELDOUT_COMMENTS,
    code_test_defects=(
        ("factual_error", "generated test expects {wrong}; real output is {right}"),
        ("hallucinated_entity", "this test can never pass, it imports {fake} which isn't in the package"),
        ("broken_format", "the jest test snippet doesn't even compile"),
        ("broken_tool_call", "pr tool call failed, {arg} was the wrong type so no tests ran"),
        ("missed_instruction", "wanted a jest test with {what}, test doesn't do it"),
    ),
    polite_openers=(
        "Cheers for this, really useful - but ",
        "Good stuff! Tiny issue: ",
        "Not a big deal, though ",
        "Mostly fine, just ",
        "Hello, ",
    ),
    strong_taste=(
        "this tone is a disaster",
        "ugh, hate it. way too long",
        "terrible phrasing, embarrassing to send",
        "absolutely not how we talk to customers",
        "awful. so stiff",
    ),
    vendor_prefixes=("Reviewer note — ", "Finding: ", "Comment: "),
    closers=(" ty", " please correct", " see edit", " cheers", " !!!"),
    constraints=(
        Constraint("prepend_ref", "Mention case number {ref} at the top.", "the case number"),
        Constraint("numbered", "Number the steps.", "a numbered list"),
        Constraint("first_sentence", "Max 20 words.", "the word limit"),
        Constraint("append_signoff", "Sign it off as {agent}.", "the sign-off"),
        Constraint("lead_with_fact", "Start with the {field}.", "the {field} first"),
    ),
    format_requests=(
        ("JSON", "Reply only with a JSON object."),
        ("CSV", "Output CSV with a header row."),
        ("JSON", "I need this as machine-readable JSON."),
    ),
    tone_styles=(
        "Greetings. Please be advised: {a} Regards.",
        "yo! {a} 😎 cheers",
        "Unfortunately, {a} We regret any inconvenience.",
        "Great news!!! {a} You're going to love this!",
        "Per our records, {a} No further action is required at this time.",
        "{a}",
    ),
    fillers=(
        "Feel free to reach back out anytime.",
        "There are many factors to consider here.",
        "We always strive to provide the best possible experience.",
        "In conclusion, that is the answer to your question.",
        "Let's take a closer look at your question.",
    ),
    awkward_preambles=(
        "In terms of the answer, ",
        "Regarding that which you enquired about, ",
    ),
    awkward_swaps=(
        ("can", "is able to"),
        ("until", "up until the point of"),
        ("comes to", "amounts in total to"),
        ("leaves from", "has its departure from"),
        ("is scheduled to", "has a schedule that means it will"),
    ),
    preferences=(
        ("numbered", "numbered steps please, easier to follow"),
        ("strip_emoji", "emojis look unprofessional"),
        ("headline", "i like the short answer up top"),
        ("headline", "tl;dr line first would be nicer"),
    ),
    testing=_t(
        [
            "tst",
            "teste",
            "oops wrong button",
            "pressed by accident",
            "hi",
            "ignore me",
            "seeing if downvote registers",
            "making sure the form submits",
            "xxx",
        ],
        [
            "debugging the rating endpoint",
            "smoke test please ignore",
            "dev here, ignore",
            "staging sanity check",
            "does the webhook fire?",
            "verifying the feedback pipeline end to end, not a real rating",
            "foo bar",
            "placeholder",
        ],
        [
            "Disregard: tool familiarisation.",
            "Training round, not a genuine judgement.",
        ],
    ),
    positive=_t(
        [
            "works for me",
            "this saved me a phone call",
            "accurate and quick",
            "10/10",
            "yep that's it",
            "much appreciated",
            "cheers mate",
            "merci, parfait",
        ],
        ["ship it", "verified against the db, correct", "solid", "matches the docs"],
        [
            "Response is factually accurate and follows instructions.",
            "No issues found.",
            "Exemplary answer.",
        ],
    ),
    mash_rows=("zxcvbnm", "lkjhgfdsa"),
    warmups=(("hello, quick question", "Sure, go ahead."), ("hey", "Hey! What do you need?")),
    tool_wrappers=("```tool\n{call}\n```", "CALL {call}"),
    families={},  # the held-out templates were written out in full, before any results were seen
)

BANKS: Final[Mapping[Split, Bank]] = {"seed": SEED_BANK, "heldout": HELDOUT_BANK}

# Names used to fill ``{name}`` / ``{agent}`` in constraints; split-specific like every word bank.
_NAMES: Final[Mapping[Split, tuple[str, ...]]] = {
    "seed": ("Dr. Okafor", "Ms. Lindqvist", "Mr. Tanaka", "Professor Haddad"),
    "heldout": ("Sam from Billing", "Priya (Support)", "Team Tern", "Jonas, People Ops"),
}


# --------------------------------------------------------------------------------------------
# Mechanisms shared by both splits: values, corruptions, rewrites, noise.
# --------------------------------------------------------------------------------------------

_SLOT = re.compile(r"\{(\w+)\}")
_FAMILY_SLOT = re.compile(r"\{~(\w+)\}")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_EMOJI = " 🙂👍"


def _fill(template: str, slots: Mapping[str, str]) -> str:
    """Fill ``{name}`` slots; leaves other braces (JSON, code) alone, unlike str.format."""
    return _SLOT.sub(lambda m: slots.get(m.group(1), m.group(0)), template)


def _render(template: str, slots: Mapping[str, str]) -> str:
    """A filled answer template; capitalised because entities like "the EU Handbook" may lead."""
    text = _fill(template, slots)
    return text[:1].upper() + text[1:]


def _fact_value(kind: str, currency: str, rng: Random) -> str:
    if kind == "money":
        amount = rng.choice((rng.randint(5, 99) + rng.choice((0, 0.5, 0.99, 0.25)), rng.randint(100, 2500)))
        return f"{currency}{amount:,.2f}"
    if kind == "date":
        day = date(2026, 1, 1) + timedelta(days=rng.randint(0, 360))
        return _format_date(day, rng.randint(0, 2))
    if kind == "time":
        return f"{rng.randint(5, 22):02d}:{rng.choice((0, 5, 15, 20, 35, 40, 50)):02d}"
    if kind == "percent":
        return f"{rng.randrange(5, 55, 5)}%"
    if kind == "version":
        return f"{rng.randint(1, 4)}.{rng.randint(0, 12)}.{rng.randint(0, 3)}"
    _, lo, hi = kind.split(":")
    return str(rng.randint(int(lo), int(hi)))


def _format_date(day: date, style: int) -> str:
    if style == 0:
        return day.isoformat()
    if style == 1:
        return f"{day.strftime('%B')} {day.day}"
    return f"{day.day} {day.strftime('%b')}"


def _wrong_value(kind: str, right: str, currency: str, rng: Random) -> str:
    """A different value of the same kind, the way a model gets a fact wrong."""
    for _ in range(50):
        wrong = _fact_value(kind, currency, rng)
        if wrong != right:
            return wrong
    raise ValueError(f"fact kind {kind!r} has too few values to draw a wrong one")


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text.strip()) if s]


def _bullets(text: str, numbered: bool) -> str:
    parts = _sentences(text)
    return "\n".join(f"{i}. {s}" if numbered else f"- {s}" for i, s in enumerate(parts, 1))


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:1].isalpha() and not text[:2].isupper() else text


def _structured(fmt: str, record: Mapping[str, object]) -> str:
    if fmt == "JSON":
        return json.dumps(record, indent=2, ensure_ascii=False)
    if fmt == "YAML":
        return "\n".join(f"{k}: {v}" for k, v in record.items())
    if fmt == "CSV":
        return ",".join(record) + "\n" + ",".join(str(v) for v in record.values())
    header = "| " + " | ".join(record) + " |"
    rule = "|" + "---|" * len(record)
    row = "| " + " | ".join(str(v) for v in record.values()) + " |"
    return "\n".join((header, rule, row))


def _corrupt_structured(fmt: str, good: str, rng: Random) -> str:
    """Break ``good`` the way generated structured output typically breaks."""
    if fmt == "JSON":
        options: list[Callable[[str], str]] = [
            lambda s: s.rstrip().rstrip("}").rstrip(),  # truncated: closing brace missing
            lambda s: s.replace("\n}", ",\n}"),  # trailing comma
            lambda s: s.replace('"', "'"),  # single quotes
            lambda s: re.sub(r'"(\w+)":', r"\1:", s),  # unquoted keys
            lambda s: "Sure! Here it is:\n" + s[: len(s) * 2 // 3],  # prose + cut mid-object
        ]
    elif fmt == "YAML":
        options = [
            lambda s: s.replace(": ", " ", 1),  # a key loses its colon
            lambda s: s.replace("\n", "\n\t", 1),  # tab indentation
            lambda s: s.replace(": ", ': "', 1),  # unterminated quote
        ]
    elif fmt == "CSV":
        options = [
            lambda s: s + ",",  # extra column in the data row
            lambda s: s.replace(",", ";", 1),  # mixed delimiters
            lambda s: s.split("\n")[0] + "\n" + s.split("\n")[1].rsplit(",", 1)[0],  # missing column
        ]
    else:
        options = [
            lambda s: "\n".join(line for line in s.split("\n") if not line.startswith("|--")),
            lambda s: s.replace(" |", "", 1),
            lambda s: s.replace("|", "", 2),
        ]
    return rng.choice(options)(good)


def _tool_call(name: str, args: Mapping[str, object]) -> str:
    return json.dumps({"name": name, "arguments": dict(args)}, ensure_ascii=False)


def _corrupt_tool_call(name: str, args: dict[str, object], rng: Random) -> tuple[str, str]:
    """Return (broken call, the argument it breaks)."""
    arg = rng.choice(list(args))
    mode = rng.randrange(5)
    if mode == 0:  # camelCase / renamed argument
        parts = arg.split("_")
        renamed = parts[0] + "".join(p.title() for p in parts[1:]) if len(parts) > 1 else arg + "Id"
        broken = {renamed if k == arg else k: v for k, v in args.items()}
        return _tool_call(name, broken), arg
    if mode == 1:  # wrong type
        value = args[arg]
        wrong: object = str(value).lower() if not isinstance(value, str) else [value]
        return _tool_call(name, {**args, arg: wrong}), arg
    if mode == 2:  # required argument missing
        return _tool_call(name, {k: v for k, v in args.items() if k != arg}), arg
    if mode == 3:  # invented tool name
        return _tool_call(name + rng.choice(("_v2", "s", "_by_id")), args), arg
    return _tool_call(name, args)[:-2], arg  # truncated JSON


def _apply_constraint(kind: str, answer: str, slots: Mapping[str, str], domain: Domain) -> str:
    """The answer rewritten so that it satisfies the constraint ``kind``."""
    if kind == "prepend_ref":
        return f"Reference {slots['ref']}: {answer}"
    if kind == "bullets":
        return _bullets(answer, numbered=False)
    if kind == "numbered":
        return _bullets(answer, numbered=True)
    if kind == "first_sentence":
        return _sentences(answer)[0]
    if kind == "prepend_name":
        return f"{slots['name']}, {_lower_first(answer)}"
    if kind == "append_signoff":
        return f"{answer}\n— {slots['agent']}"
    if kind == "append_next_step":
        return f"{answer} {domain.next_step}"
    if kind == "lead_with_fact":
        return f"{slots['field'].capitalize()}: {slots['right']}. {answer}"
    raise ValueError(f"unknown constraint mechanism {kind!r}")


def _apply_preference(kind: str, answer: str, slots: Mapping[str, str]) -> tuple[str, str]:
    """(response as rated, correction) for a layout preference."""
    if kind == "bullets":
        return answer, _bullets(answer, numbered=False)
    if kind == "numbered":
        return answer, _bullets(answer, numbered=True)
    if kind == "strip_emoji":
        return answer + _EMOJI, answer
    if kind == "bold_fact":
        return answer, answer.replace(slots["right"], f"**{slots['right']}**", 1)
    if kind == "headline":
        return answer, f"Short answer: {slots['right']}.\n\n{answer}"
    raise ValueError(f"unknown preference mechanism {kind!r}")


_SHORTHAND: Final[Mapping[str, str]] = {
    "please": "pls",
    "you": "u",
    "thanks": "thx",
    "because": "bc",
    "your": "ur",
    "though": "tho",
    "really": "rly",
    "with": "w/",
    "before": "b4",
}


def _typo(word: str, rng: Random) -> str:
    if len(word) < 4 or not word.isalpha():
        return word  # keep numbers, names in code and short words intact
    i = rng.randrange(1, len(word) - 2)
    mode = rng.randrange(3)
    if mode == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if mode == 1:
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]


_NOISE_RATES: Final[Mapping[Voice, tuple[float, float, float]]] = {
    # (lower-case the whole note, add typos, chat shorthand)
    "end_user": (0.5, 0.35, 0.3),
    "engineer": (0.5, 0.15, 0.1),
    "vendor_annotator": (0.05, 0.05, 0.0),
}


def _noise(text: str, voice: Voice, rng: Random) -> str:
    p_lower, p_typo, p_short = _NOISE_RATES[voice]
    words = text.split(" ")
    if rng.random() < p_short:
        words = [_SHORTHAND.get(w.lower(), w) for w in words]
    if rng.random() < p_typo:
        words = [_typo(w, rng) if rng.random() < 0.15 else w for w in words]
    out = " ".join(words)
    if rng.random() < p_lower:
        out = out.lower()
    elif voice == "end_user" and rng.random() < 0.05:
        out = out.upper()
    if voice != "vendor_annotator" and rng.random() < 0.4:
        out = out.rstrip(".")
    return out


def _mash(bank: Bank, rng: Random) -> str:
    row = rng.choice(bank.mash_rows)
    start = rng.randrange(0, max(1, len(row) - 3))
    piece = row[start : start + rng.randint(3, 6)]
    return piece * rng.choice((1, 1, 2))


# --------------------------------------------------------------------------------------------
# Row assembly.
# --------------------------------------------------------------------------------------------


@dataclass
class _Draft:
    """A row under construction: the rated exchange plus the slots comments may cite."""

    domain: Domain
    prompt: list[dict[str, str]]
    response: str
    correction: str | None
    slots: dict[str, str]
    comment_key: str  # which comment bank describes what the mechanism did
    case: str = "standard"


def _base(bank: Bank, split: Split, rng: Random) -> tuple[Domain, Scenario, dict[str, str], str]:
    domain = rng.choice(bank.domains)
    scenario = rng.choice(domain.scenarios)
    right = _fact_value(scenario.fact_kind, domain.currency, rng)
    slots = {
        "fact": right,
        "right": right,
        "wrong": _wrong_value(scenario.fact_kind, right, domain.currency, rng),
        "field": scenario.fact_label,
        "entity": rng.choice(scenario.entities),
        "fake": rng.choice(scenario.fakes),
        "kind": scenario.entity_kind,
        "ref": f"{domain.ref_prefix}{rng.randint(1000, 99999)}",
        "name": rng.choice(_NAMES[split]),
        "agent": rng.choice(_NAMES[split]),
        "tool": domain.tool,
    }
    return domain, scenario, slots, _render(scenario.answer, slots)


def _prompt(bank: Bank, domain: Domain, ask: str, rng: Random) -> list[dict[str, str]]:
    messages = [{"role": "system", "content": domain.system}]
    if rng.random() < 0.2:
        user, assistant = rng.choice(bank.warmups)
        messages += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    return [*messages, {"role": "user", "content": ask}]


def _draft(bank: Bank, split: Split, key: str, rng: Random) -> _Draft:
    """Build the exchange for label ``key`` ("defect:factual_error", "taste:tone", "testing"...)."""
    domain, scenario, slots, answer = _base(bank, split, rng)
    ask = _fill(scenario.ask, slots)
    response, correction = answer, answer
    subtype = key.partition(":")[2]
    comment_key = subtype

    if subtype == "factual_error":
        response = _render(scenario.answer, {**slots, "fact": slots["wrong"]})
    elif subtype == "hallucinated_entity":
        if "{entity}" in scenario.answer and rng.random() < 0.5:
            response = _render(scenario.answer, {**slots, "entity": slots["fake"]})
        else:
            response = f"{answer} {_fill(domain.fake_sentence, slots)}"
    elif subtype == "missed_instruction":
        # Layout constraints need an answer of several prose sentences to be missable.
        prose = "```" not in answer and len(_sentences(answer)) > 1
        layout = ("bullets", "numbered", "first_sentence")
        constraint = rng.choice([c for c in bank.constraints if prose or c.kind not in layout])
        ask = f"{ask} {_fill(constraint.ask, slots)}"
        slots["what"] = _fill(constraint.what, slots)
        correction = _apply_constraint(constraint.kind, answer, slots, domain)
    elif subtype == "broken_format":
        fmt, request = rng.choice(bank.format_requests)
        ask = f"{ask} {request}"
        record = {
            re.sub(r"\W+", "_", scenario.fact_label).strip("_"): slots["right"],
            re.sub(r"\W+", "_", scenario.entity_kind).strip("_"): slots["entity"].strip("`"),
            "reference": slots["ref"],
        }
        correction = _structured(fmt, record)
        response = _corrupt_structured(fmt, correction, rng)
        slots["fmt"] = fmt
    elif subtype == "broken_tool_call":
        args = {k: _fill(v, slots) if isinstance(v, str) else v for k, v in domain.tool_args}
        wrapper = rng.choice(bank.tool_wrappers)
        broken, slots["arg"] = _corrupt_tool_call(domain.tool, args, rng)
        response = _fill(wrapper, {"call": broken})
        correction = _fill(wrapper, {"call": _tool_call(domain.tool, args)})
    elif subtype == "unsafe_output":
        unsafe, safe = rng.choice(domain.unsafe)
        response = unsafe if rng.random() < 0.5 else f"{answer} {unsafe}"
        correction = safe
    elif subtype == "tone":
        styled, plain = rng.sample(bank.tone_styles, 2)
        response, correction = _fill(styled, {"a": answer}), _fill(plain, {"a": answer})
    elif subtype == "verbosity":
        if rng.random() < 0.8:  # too long: the answer buried in filler
            pre, post = rng.sample(bank.fillers, 2)
            response = f"{pre} {answer} {post}" if rng.random() < 0.5 else f"{answer} {pre} {post}"
        else:  # too short: only the first clause came back
            response = re.split(r"[;,(]", _sentences(answer)[0])[0].rstrip(" .") + "."
            comment_key = "verbosity_short"
    elif subtype == "phrasing":
        awkward = answer
        for plain, clumsy in bank.awkward_swaps:
            awkward = awkward.replace(plain, clumsy)
        if awkward == answer or rng.random() < 0.5:
            awkward = rng.choice(bank.awkward_preambles) + _lower_first(awkward)
        response = awkward
    elif subtype == "other_preference":
        mechanism, template = rng.choice(bank.preferences)
        response, correction = _apply_preference(mechanism, answer, slots)
        slots["preference"] = template
    return _Draft(domain, _prompt(bank, domain, ask, rng), response, correction, slots, comment_key)


def _comment(bank: Bank, key: str, voice: Voice, draft: _Draft, rng: Random) -> tuple[str, str]:
    """(comment, template id) for a defect or taste row."""
    intent, _, subtype = key.partition(":")
    code_tests = [t for s, t in bank.code_test_defects if s == subtype]
    if intent == "defect" and draft.domain.name == "code" and code_tests and rng.random() < 0.4:
        template = rng.choice(code_tests)
        draft.case = "test_word_defect"
        tid = f"code_tests:{bank.code_test_defects.index((subtype, template))}"
    elif subtype == "other_preference" and rng.random() < 0.75:
        template = draft.slots["preference"]
        tid = f"preference:{[p for _, p in bank.preferences].index(template)}"
    elif intent == "taste" and rng.random() < 0.15:
        template = rng.choice(bank.strong_taste)
        draft.case = "strong_taste"
        tid = f"strong_taste:{bank.strong_taste.index(template)}"
    else:
        options = bank.comments[draft.comment_key][voice]
        template = rng.choice(options)
        tid = f"{draft.comment_key}:{voice}:{options.index(template)}"
    template = _FAMILY_SLOT.sub(lambda m: rng.choice(bank.families[m.group(1)]), template)
    text = _fill(template, draft.slots)
    if intent == "defect" and draft.case == "standard" and rng.random() < 0.2:
        text = rng.choice(bank.polite_openers) + _lower_first(text)
        draft.case = "polite_defect"
    if voice == "vendor_annotator" and rng.random() < 0.3:
        text = rng.choice(bank.vendor_prefixes) + text
    elif voice != "vendor_annotator" and rng.random() < 0.15:
        text += rng.choice(bank.closers)
    return _noise(text, voice, rng), tid


_ROLE_MIX: Final[Mapping[str, tuple[float, float, float]]] = {
    # weights of (end_user, engineer, vendor_annotator)
    "default": (0.5, 0.2, 0.3),
    "broken_tool_call": (0.15, 0.55, 0.3),
    "testing": (0.3, 0.6, 0.1),
}

# Share of (comment only, comment + correction, correction only) by subtype.
_SHAPES: Final[Mapping[str, tuple[float, float, float]]] = {
    "default": (0.45, 0.35, 0.2),
    "broken_format": (0.3, 0.4, 0.3),
    "broken_tool_call": (0.3, 0.4, 0.3),
}


def _row(bank: Bank, split: Split, key: str, index: int, rng: Random) -> dict[str, object]:
    intent, _, subtype = key.partition(":")
    voice: Voice = rng.choices(VOICES, _ROLE_MIX.get(subtype or intent, _ROLE_MIX["default"]))[0]
    draft = _draft(bank, split, key, rng)
    rating = "down"
    reason_code: str | None = None
    comment: str | None
    correction: str | None = None

    if intent in ("defect", "taste"):
        shape = rng.choices(("comment", "both", "correction"), _SHAPES.get(subtype, _SHAPES["default"]))[0]
        if shape == "correction" and draft.correction == draft.response:
            shape = "comment"  # a correction identical to the response carries no signal
        comment, tid = _comment(bank, key, voice, draft, rng)
        if shape == "correction":
            comment, tid, draft.case = None, f"{subtype}:correction_only", "correction_only"
        if shape != "comment":
            correction = draft.correction
        if intent == "defect" and comment and correction and rng.random() < 0.12:
            rating, draft.case = "up", "thumbs_up_defect"
    elif intent == "testing":
        if rng.random() < 0.15:
            comment, tid = _mash(bank, rng), "testing:mash"
        else:
            options = bank.testing[voice]
            comment = rng.choice(options)
            tid = f"testing:{voice}:{options.index(comment)}"
            comment = _noise(comment, voice, rng)
        if rng.random() < 0.1:  # some debug clicks type junk into the correction box too
            correction = _mash(bank, rng)
        rating = "up" if rng.random() < 0.3 else "down"
    else:  # positive
        rating = "up"
        comment, tid = None, "positive:none"
        if rng.random() < 0.55:
            options = bank.positive[voice]
            template = rng.choice(options)
            comment, tid = _noise(template, voice, rng), f"positive:{voice}:{options.index(template)}"
        if rng.random() < 0.05:  # editor opened and submitted without a real change
            correction = draft.response + "  "

    if intent != "positive" and draft.case == "standard":
        draw = rng.random()
        if draw < 0.12:
            reason_code, draft.case = subtype or intent, "reason_code"
        elif draw < 0.18:
            reason_code, draft.case = "other", "reason_other"

    return {
        "feedback_id": f"{split}-{index:05d}",
        "domain": draft.domain.name,
        "annotator_role": voice,
        "rating": rating,
        "reason_code": reason_code,
        "comment": comment,
        "correction": correction,
        "prompt": draft.prompt,
        "response": draft.response,
        "label": intent,
        "label_subtype": subtype or None,
        "case": draft.case,
        "template_id": f"{split}:{tid}",
    }


def build_rows(split: Split) -> list[dict[str, object]]:
    """All rows of ``split``, in a fixed order (same code -> same rows)."""
    bank = BANKS[split]
    rng = Random(f"corpus.seedset/{split}/v1")
    plan = [key for key, count in QUOTAS[split].items() for _ in range(count)]
    rng.shuffle(plan)
    return [_row(bank, split, key, i, rng) for i, key in enumerate(plan)]


def render_jsonl(rows: Sequence[Mapping[str, object]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)


def write_sets(root: Path) -> dict[Split, Path]:
    """Write both files under ``root`` (the repository root); returns their paths."""
    written: dict[Split, Path] = {}
    for split, relative in OUTPUT_PATHS.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_jsonl(build_rows(split)), encoding="utf-8")
        written[split] = path
    return written


if __name__ == "__main__":
    for split_name, written_path in write_sets(Path(__file__).resolve().parents[1]).items():
        print(f"{split_name}: {written_path}")
