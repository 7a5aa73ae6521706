"""PII redaction engine of the `redact` stage (DESIGN.md section 4, stage 3).

Free text in feedback rows (response, correction, comment, and the `content` of every prompt
message) is searched for personal data and secrets; each validated value is replaced by a typed
placeholder such as ``<EMAIL>``. The stage records per-row counts by type, never the values, and a
``pii_residual`` flag for rows that still look like they carry PII that could not be redacted
safely; the stage decides (param ``unsafe_action``) whether such rows are dropped or kept.

How the pattern engine works, and why:

* Vectorised. Every detector's regex pulls candidates out of the distinct texts of all fields with
  polars ``str.extract_all`` (one parallel select); only the UNIQUE candidates go through the Python
  validators (Luhn, IBAN mod-97, phonenumbers, stdnum, ipaddress, entropy); the validated literals
  are then replaced in all fields with one Aho-Corasick ``str.replace_many``. Python never loops
  over rows.
* Validators decide. A candidate that fails its validator is not redacted as that type, so a
  Luhn-failing 16-digit order number stays readable. Grouped candidates (cards, IBANs, phones) are
  searched by contiguous groups, so "4111 1111 1111 1111 123" still yields the card.
* Precedence. Replacement is leftmost-longest: an IBAN or card is replaced whole even where a phone
  or card window inside it also validated, and "10.0.0.12" never becomes "<IP>2". A literal that
  two detectors accept gets the placeholder of the first in ``_detectors`` order: secrets, e-mails,
  IBANs, national ids (a French NIR is 15 digits and often passes as a card), cards, IPs, phones.
  Customer names are replaced afterwards, so "jane.doe@x.com" is one EMAIL.
* Counts are exact: a type's count in a row is how many of its placeholders the row gained, summed
  over all fields (placeholders already present in the input are not counted).
* Literal replacement has one known over-reach: a value validated in one row is replaced wherever
  the same string occurs, even inside a longer token of another row (e.g. IP ``10.0.0.1`` inside
  ``v10.0.0.1``). It only ever redacts more, never less.

The residual rule (``pii_residual``), evaluated on the text AFTER redaction and with its dates
(2026-12-28, 28.12.2026, 12/28/26) taken out, is true when any field still contains one of:

1. card context: a 13-19 digit run (single spaces/dashes allowed) within 24 non-digit characters of
   card, visa, mastercard, amex, discover, credit, debit or cc (it failed Luhn or the card layout);
2. an obfuscated e-mail: "jane dot doe at example dot com", "jane[at]example.com",
   "jane (at) example (dot) com", "jane @ example . com", "jane@example dot com";
3. a long digit sequence: a standalone run of 12 or more digits (account numbers, card fragments,
   also long tracking numbers and millisecond timestamps), unless it follows '.', '-', '/' or ':'
   (the fraction of a float, the last group of a UUID, a path segment);
4. id context: ssn, social security, itin, national insurance, nino, passport, tax id,
   personnummer, codice fiscale, dni, nie, nir, bsn, pesel, steuer id, social insurance, aadhaar,
   nhs number or tax file number followed within 20 non-digit characters by a run of 6 or more
   digits (spaces/dashes allowed) that no validator accepted;
5. phone context: phone, tel, telephone, mobile, cell, fax, whatsapp, call me or text me followed
   within 16 non-digit characters by 7 or more digits (a local number without an area code, or one
   phonenumbers rejects for ``default_region``).

Nothing here logs, raises with, or returns a matched value.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import phonenumbers
import polars as pl
from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.au import tfn as au_tfn
from stdnum.br import cpf as br_cpf
from stdnum.ca import sin as ca_sin
from stdnum.de import idnr as de_idnr
from stdnum.dk import cpr as dk_cpr
from stdnum.es import dni as es_dni
from stdnum.es import nie as es_nie
from stdnum.fi import hetu as fi_hetu
from stdnum.fr import nir as fr_nir
from stdnum.gb import nhs as gb_nhs
from stdnum.in_ import aadhaar as in_aadhaar
from stdnum.it import codicefiscale as it_codicefiscale
from stdnum.nl import bsn as nl_bsn
from stdnum.pl import pesel as pl_pesel
from stdnum.se import personnummer as se_personnummer
from stdnum.us import ssn as us_ssn

__all__ = ["COUNTS_COLUMN", "ENGINES", "PII_TYPES", "PLACEHOLDERS", "RESIDUAL_COLUMN", "redact_frame"]

PII_TYPES: tuple[str, ...] = (
    "EMAIL",
    "PHONE",
    "CARD",
    "IBAN",
    "IP",
    "NATIONAL_ID",
    "SECRET",
    "PERSON",
)
PLACEHOLDERS: dict[str, str] = {t: f"<{t}>" for t in PII_TYPES}
ENGINES: tuple[str, ...] = ("patterns", "presidio")

COUNTS_COLUMN = "pii_counts"
RESIDUAL_COLUMN = "pii_residual"

# Candidate patterns run in polars, i.e. the Rust `regex` crate: no look-around, and `\b` is
# written `(?-u:\b)` (ASCII word boundary) because a Unicode `\b` makes the engine drop its fast
# DFA on any non-ASCII text. Digits are `[0-9]` since `\d` would also match other scripts' digits.
_B = r"(?-u:\b)"
# A position that is not a word boundary: used before a leading ':' so "Foo::Bar" is no IPv6.
_NB = r"(?-u:\B)"

ValidatedReplacement = tuple[str, str]
"""(literal found in the text, what replaces it): usually (value, placeholder)."""


@dataclass(frozen=True)
class _Detector:
    pii_type: str
    pattern: str
    validate: Callable[[str], list[ValidatedReplacement]]


# ---------------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------------


def _group_windows(candidate: str, token: re.Pattern[str], is_valid: Callable[[str], bool]) -> list[str]:
    """Largest runs of contiguous groups of `candidate` that pass `is_valid`, left to right.

    Regex candidates for grouped numbers are greedy and may swallow a neighbour ("card 4111 1111
    1111 1111 123", "DE89 3704 0044 0532 0130 00 THANKS"); trying whole groups only, longest window
    first, recovers the value without ever cutting a group in two.
    """
    spans = [m.span() for m in token.finditer(candidate)]

    def search(lo: int, hi: int) -> list[str]:
        for size in range(hi - lo, 0, -1):
            for start in range(lo, hi - size + 1):
                text = candidate[spans[start][0] : spans[start + size - 1][1]]
                if is_valid(text):
                    return [*search(lo, start), text, *search(start + size, hi)]
        return []

    return search(0, len(spans))


def _shannon_entropy(value: str) -> float:
    """Bits per character of `value`'s own character distribution."""
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _placeholder(pii_type: str) -> Callable[[Iterable[str]], list[ValidatedReplacement]]:
    return lambda literals: [(lit, PLACEHOLDERS[pii_type]) for lit in literals]


# ---------------------------------------------------------------------------------------------
# SECRET: provider tokens with a fixed shape, PEM private keys, JWTs, key=value assignments, and
# the password of user:password pairs
# ---------------------------------------------------------------------------------------------

_PROVIDER_SECRET_PATTERN = "|".join(
    [
        # PEM private key: the whole block, or an unterminated header plus its base64 lines
        # (truncated pastes happen; what is there is still key material).
        r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----(?s:.)*?-----END[A-Z0-9 ]*PRIVATE KEY-----",
        r"-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----[A-Za-z0-9+/=\s]*",
        _B + r"(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}" + _B,  # AWS access key id
        _B + r"gh[pousr]_[A-Za-z0-9]{36,255}" + _B,  # GitHub classic tokens
        _B + r"github_pat_[A-Za-z0-9_]{22,255}" + _B,  # GitHub fine-grained tokens
        _B + r"xox[abposr]-[A-Za-z0-9-]{10,}",  # Slack
        _B + r"(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}" + _B,  # Stripe secret/restricted
        _B + r"AIza[0-9A-Za-z_-]{35}",  # Google API key
        _B + r"sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}",  # OpenAI / Anthropic style keys
        _B + r"glpat-[A-Za-z0-9_-]{20,}",  # GitLab personal access token
        _B + r"npm_[A-Za-z0-9]{36}" + _B,  # npm access token
        _B + r"hf_[A-Za-z0-9]{30,}" + _B,  # Hugging Face token
        _B + r"pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,}",  # PyPI API token (a macaroon for pypi.org)
        _B + r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}" + _B,  # SendGrid API key
        # JWT: three base64url segments, header and payload are JSON objects ("eyJ" = '{"').
        _B + r"eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{8,}",
    ]
)


def _validate_provider_secret(candidate: str) -> list[ValidatedReplacement]:
    if candidate.startswith("eyJ"):
        header = candidate.split(".", 1)[0]
        try:
            decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
        except (binascii.Error, ValueError):
            return []
        if not isinstance(decoded, dict) or "alg" not in decoded:
            return []
    return [(candidate, PLACEHOLDERS["SECRET"])]


# Keys whose value is a credential. The key must END with one of these words, so "max_tokens=",
# "password_reset_url=" or "token_count=" are not assignments of a secret.
_PASSWORD_KEYS = r"password|passwd|pwd|passphrase"
_TOKEN_KEYS = r"secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|key"
_ASSIGNMENT_PATTERN = (
    r"(?i)" + _B + r"[a-z0-9_.-]*(?:" + _PASSWORD_KEYS + "|" + _TOKEN_KEYS + r")"
    r"[\"']?[ \t]*(?:=>|:=|[:=])[ \t]*[\"']?[^\s\"'<>,;`]{6,}"
    r"|" + _B + r"bearer[ \t]+[A-Za-z0-9._~+/-]{16,}=*"
)
# Splits a candidate into the part kept (key and operator, or "Bearer ") and the value. The key
# cannot contain ':' or '=', so the first operator is the assignment's.
_ASSIGNMENT_SPLIT = re.compile(
    r"(?i)^(?P<head>bearer[ \t]+|(?P<key>[^:=]*?)[\"']?[ \t]*(?:=>|:=|[:=])[ \t]*[\"']?)"
    r"(?P<value>.+)$"
)
_PASSWORD_KEY = re.compile(r"(?i)(?:" + _PASSWORD_KEYS + r")$")
# Values that are references or expressions rather than a literal secret: ${VAR}, %(x)s,
# {{ var }}, getpass(), os.environ["X"], ****.
_EXPRESSION_VALUE = re.compile(r"^[$%{*<&@]|[()\[\]{}]|^[*x•·.#-]+$")
# Unquoted digit-free identifiers are variables, not literals: settings.DB_PASSWORD, DB_PASSWORD,
# user_password. Quoted, or with a digit ("B_VJ4CUFGC"), they are taken as the secret itself.
_IDENTIFIER_VALUE = re.compile(
    r"^[A-Za-z_][A-Za-z_]*(?:\.[A-Za-z_][A-Za-z_]*)+$|^[A-Z]+(?:_[A-Z]+)+$|^[a-z]+(?:_[a-z]+)+$"
)
_NON_SECRET_WORDS = frozenset(
    {
        "none",
        "null",
        "true",
        "false",
        "string",
        "required",
        "optional",
        "undefined",
        "redacted",
        "hidden",
        "masked",
        "secret",
        "password",
        "example",
        "changeit",
    }
)


def _looks_generated(value: str) -> bool:
    """16+ characters that look random: with digits, at least 3 bits of entropy per character;
    without, mixed case and at least 3.5 bits (a digit-free random token passes, a word such as
    "created_at_timestamp" or "placeholdervalue" does not)."""
    if len(value) < 16 or not any(c.isalpha() for c in value):
        return False
    entropy = _shannon_entropy(value)
    if any(c.isdigit() for c in value):
        return entropy >= 3.0
    return value != value.lower() and value != value.upper() and entropy >= 3.5


def _validate_assignment(candidate: str) -> list[ValidatedReplacement]:
    """Redact the value of a credential assignment, keeping the key so the text stays readable.

    Password-like keys take any literal of 6+ characters (people pick weak passwords). Token/key
    keys and bearer tokens need what a generated credential looks like (`_looks_generated`), so
    "api_key=YOUR_API_KEY" or "key: created_at" stay.
    """
    split = _ASSIGNMENT_SPLIT.match(candidate)
    if split is None:
        return []
    head, value = split.group("head"), split.group("value").rstrip(".")  # not a sentence's stop
    quoted = head.endswith(("'", '"'))
    if value.casefold() in _NON_SECRET_WORDS or _EXPRESSION_VALUE.search(value):
        return []
    if not quoted and _IDENTIFIER_VALUE.match(value):
        return []
    key = split.group("key")
    is_password = key is not None and _PASSWORD_KEY.search(key.rstrip("\"'")) is not None
    if not (len(value) >= 6 if is_password else _looks_generated(value)):
        return []
    return [(head + value, head + PLACEHOLDERS["SECRET"])]


# User and password pairs, whose password is redacted and the rest kept readable:
# - a URL's userinfo (RFC 3986 3.2.1), as in connection strings pasted into bug reports:
#   postgres://app:S3cret@10.1.2.3/db, redis://:pass@cache:6379. An '@' inside the password
#   (unencoded, as people write it) belongs to it: the last '@' before the path ends the userinfo;
# - a -u / --user user:password option (curl's), except docker's -u uid:gid and user:group;
# - an HTTP Basic credential, base64 of "user:password" (RFC 7617).
_CREDENTIAL_PAIR_PATTERN = "|".join(
    [
        _B + r"[A-Za-z][A-Za-z0-9+.-]{1,30}://[^\s:/?#@\[\]]*:[^\s/?#]+@",
        # From the option on, not from "curl": a candidate spanning the command line would be
        # replaced whole and hide the e-mails and IPs in it from their own detectors.
        r"(?:^|[ \t])(?:-u|--user)[ \t=]+[\"']?[^\s:\"']+:[^\s\"']+",
        _B + r"(?i:basic)[ \t]+[A-Za-z0-9+/]{8,}={0,2}",
    ]
)
_URL_USERINFO = re.compile(r"^(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:]*:)(?P<password>.+)@$")
_USER_OPTION = re.compile(r"^(?P<head>[ \t]?(?:-u|--user)[ \t=]+[\"']?(?P<user>[^\s:\"']+):)(?P<password>.+)$")
_BASIC_AUTH = re.compile(r"^(?P<head>basic[ \t]+)(?P<encoded>[A-Za-z0-9+/]+={0,2})$", re.IGNORECASE)
# Unlike an assignment's value, a password may hold brackets; only a template's shape is skipped:
# user:password@, :${DB_PASS}@, -u $USER:$TOKEN, :<password>@, :****@.
_PASSWORD_TEMPLATE = re.compile(r"^(?:[$%{<]|\*+$|x+$)", re.IGNORECASE)


def _is_literal_password(password: str) -> bool:
    return password.casefold() not in _NON_SECRET_WORDS and not _PASSWORD_TEMPLATE.match(password)


def _validate_credential_pair(candidate: str) -> list[ValidatedReplacement]:
    basic = _BASIC_AUTH.match(candidate)
    if basic is not None:
        try:
            decoded = base64.b64decode(basic.group("encoded"), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return []
        _, colon, password = decoded.partition(":")
        # "Basic plan", "basic knowledge": a word is no base64 of a printable user:password.
        if not (colon and password and decoded.isprintable() and _is_literal_password(password)):
            return []
        return [(candidate, basic.group("head") + PLACEHOLDERS["SECRET"])]
    url = _URL_USERINFO.match(candidate)
    if url is not None:
        if not _is_literal_password(url.group("password")):
            return []
        return [(candidate, url.group("head") + PLACEHOLDERS["SECRET"] + "@")]
    option = _USER_OPTION.match(candidate)
    if option is None or not _is_literal_password(password := option.group("password")):
        return []
    user = option.group("user")
    # docker run -u 1000:1000 / --user root:root name a user and group, not a password.
    if password == user or (user.isdigit() and password.isdigit()):
        return []
    return [(candidate, option.group("head") + PLACEHOLDERS["SECRET"])]


# ---------------------------------------------------------------------------------------------
# EMAIL
# ---------------------------------------------------------------------------------------------

# Local part and labels take any letter (RFC 6531 addresses, IDN domains): with ASCII classes
# "müller@firma.de" became "mü<EMAIL>", leaving the start of the name.
_EMAIL_PATTERN = r"[\p{L}\p{M}0-9._%+-]+@[\p{L}\p{M}0-9-]+(?:\.[\p{L}\p{M}0-9-]+)*\.[A-Za-z]{2,24}" + _B


def _validate_email(candidate: str) -> list[ValidatedReplacement]:
    local, _, domain = candidate.rpartition("@")
    local = local.lstrip(".")
    if not local or len(local) > 64 or ".." in local or local.endswith("."):
        return []
    if any(not label or label[0] == "-" or label[-1] == "-" for label in domain.split(".")):
        return []
    return [(local + "@" + domain, PLACEHOLDERS["EMAIL"])]


# ---------------------------------------------------------------------------------------------
# IBAN
# ---------------------------------------------------------------------------------------------

# Country code and check digits, then the BBAN: 11-30 alphanumerics, or the print format of
# space-separated groups of four with a shorter last group. Loose spacing is not accepted: the
# candidate would run on into the next words ("AB123456C before filing wire to AT59 ...") and
# swallow the start of a real IBAN.
_IBAN_PATTERN = (
    _B + r"[A-Za-z]{2}[0-9]{2}"
    r"(?:[A-Za-z0-9]{11,30}|(?: [A-Za-z0-9]{4}){2,7}(?: [A-Za-z0-9]{1,4})?)" + _B
)
_IBAN_TOKEN = re.compile(r"[^ ]+")


def _is_iban(text: str) -> bool:
    return text[:2].isalpha() and stdnum_iban.is_valid(text)


def _validate_iban(candidate: str) -> list[ValidatedReplacement]:
    return _placeholder("IBAN")(_group_windows(candidate, _IBAN_TOKEN, _is_iban))


# ---------------------------------------------------------------------------------------------
# NATIONAL_ID: US SSN, UK NINO, ES DNI/NIE, IT codice fiscale, FR NIR, SE personnummer, FI HETU,
# BR CPF; after their name: CA SIN, NL BSN, PL PESEL, IN Aadhaar, GB NHS, DE IdNr, DK CPR, AU TFN
# ---------------------------------------------------------------------------------------------

# Digits joined by dashes before or after are taken into the candidate so that it then fails
# every validator: the tail "100730-9196" of the Diners card "3673-100730-9196" is a valid Swedish
# personnummer, and "536-90-4399-12" is an order number, not an SSN.
_NATIONAL_ID_PATTERN = (
    _B
    + r"(?:[0-9]+-)?(?:"
    + "|".join(
        [
            r"[0-9]{3}[- ][0-9]{2}[- ][0-9]{4}",  # US SSN, formatted (a bare 9-digit run is too common)
            r"[A-Z]{2} ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]",  # UK NINO, upper case as issued
            r"[0-9]{8}-?[A-Z]",  # ES DNI
            r"[XYZ]-?[0-9]{7}-?[A-Z]",  # ES NIE
            r"[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]",  # IT CF
            r"[12] ?[0-9]{2} ?[0-9]{2} ?(?:[0-9]{2}|2[AB]) ?[0-9]{3} ?[0-9]{3} ?[0-9]{2}",  # FR NIR
            r"(?:[0-9]{2})?[0-9]{6}[-+][0-9]{4}",  # SE personnummer
            r"[0-9]{6}[-+A-FU-Y][0-9]{3}[0-9A-Y]",  # FI HETU
            r"[0-9]{3}\.[0-9]{3}\.[0-9]{3}-[0-9]{2}",  # BR CPF, formatted
        ]
    )
    + r")(?:-[0-9]+)?"
    + _B
)

# UK NINO (no stdnum module): HMRC's prefix rules. First letter not D F I Q U V, second not
# D F I O Q U V, and a few prefixes never issued.
_NINO = re.compile(r"^(?P<prefix>[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z])[0-9]{6}[A-D]$")
_NINO_UNUSED_PREFIXES = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def _is_nino(compact: str) -> bool:
    match = _NINO.match(compact)
    return match is not None and match.group("prefix") not in _NINO_UNUSED_PREFIXES


def _is_ssn(candidate: str) -> bool:
    # stdnum accepts the dashed or the bare form; a spaced form is the same number.
    return us_ssn.is_valid(candidate.replace(" ", "-"))


_NATIONAL_ID_VALIDATORS: tuple[Callable[[str], bool], ...] = (
    _is_ssn,
    lambda c: _is_nino(c.replace(" ", "")),
    es_dni.is_valid,
    es_nie.is_valid,
    it_codicefiscale.is_valid,
    fr_nir.is_valid,
    se_personnummer.is_valid,
    fi_hetu.is_valid,
    br_cpf.is_valid,
)


def _validate_national_id(candidate: str) -> list[ValidatedReplacement]:
    if any(is_valid(candidate) for is_valid in _NATIONAL_ID_VALIDATORS):
        return [(candidate, PLACEHOLDERS["NATIONAL_ID"])]
    return []


# Ids that are bare runs of digits, too common to take without their name: "BSN 111222333",
# "Aadhaar 4991 1866 5246", "NHS number 943 476 5919". The name, then up to 20 characters that
# are no digit, then the digits (spaces, dots and dashes between groups); the name picks the
# validator, and only the number is replaced, so "BSN <NATIONAL_ID>" still says what was there.
_NAMED_IDS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    (r"social insurance|sin", ca_sin.is_valid),
    (r"bsn|burgerservicenummer", nl_bsn.is_valid),
    (r"pesel", pl_pesel.is_valid),
    (r"aadhaa?r", in_aadhaar.is_valid),
    (r"cpf", br_cpf.is_valid),
    (r"nhs", gb_nhs.is_valid),
    (r"steuer[- ]?id|steueridentifikationsnummer|idnr", de_idnr.is_valid),
    (r"cpr", dk_cpr.is_valid),
    (r"tfn|tax file", au_tfn.is_valid),
)
_NAMED_ID_VALIDATORS = tuple((re.compile(name, re.IGNORECASE), is_valid) for name, is_valid in _NAMED_IDS)
_ID_NAMES = "|".join(name for name, _ in _NAMED_IDS)
_NAMED_ID_PATTERN = r"(?i)" + _B + r"(?:" + _ID_NAMES + r")" + _B + r"[^0-9\n]{0,20}[0-9](?:[ .-]?[0-9]){7,12}" + _B
_NAMED_ID_NAME = re.compile(r"^(?:" + _ID_NAMES + r")", re.IGNORECASE)
_ID_DIGIT_GROUP = re.compile(r"[0-9]+")


def _validate_named_id(candidate: str) -> list[ValidatedReplacement]:
    name = _NAMED_ID_NAME.match(candidate)
    if name is None:
        return []
    is_valid = next(check for pattern, check in _NAMED_ID_VALIDATORS if pattern.fullmatch(name.group(0)))
    # What follows the name holds no digit before the number, so the digit groups are the number's.
    return _placeholder("NATIONAL_ID")(_group_windows(candidate[name.end() :], _ID_DIGIT_GROUP, is_valid))


# ---------------------------------------------------------------------------------------------
# CARD
# ---------------------------------------------------------------------------------------------

# The optional leading '+' is matched only to reject the candidate: "+4915112345678" is a phone.
_CARD_PATTERN = r"\+?" + _B + r"[0-9](?:[ -]?[0-9]){12,18}" + _B
_CARD_TOKEN = re.compile(r"[0-9]+")
# Issuer prefixes of the major networks (Visa, Mastercard incl. 2-series, Amex, Discover, Diners,
# JCB, UnionPay, Maestro, Mir, RuPay). An order number starting 0, 1, 7, 9 or 8 (outside 81-82)
# is not a card even when it happens to pass Luhn (one in ten random numbers does).
_CARD_PREFIX = re.compile(r"^(?:4|5[0-9]|2[2-7]|3[0-9]|6[0-9]|81|82)")
# Printed layouts of grouped card numbers: 16 and 19 digits in fours, Amex 4-6-5, Diners 4-6-4.
# Anything else (e.g. the 4-4-4-4-2 digits of a German IBAN with a typo) is not read as a card.
_CARD_LAYOUTS = ([4, 4, 4, 4], [4, 4, 4, 4, 3], [4, 6, 5], [4, 6, 4])


def _is_card(text: str) -> bool:
    digits = "".join(_CARD_TOKEN.findall(text))
    if not 13 <= len(digits) <= 19 or not _CARD_PREFIX.match(digits):
        return False
    separators = set(re.sub(r"[0-9]", "", text))
    if len(separators) > 1:
        return False
    if separators and [len(g) for g in _CARD_TOKEN.findall(text)] not in _CARD_LAYOUTS:
        return False
    return luhn.is_valid(digits)


def _validate_card(candidate: str) -> list[ValidatedReplacement]:
    if candidate.startswith("+"):
        return []
    return _placeholder("CARD")(_group_windows(candidate, _CARD_TOKEN, _is_card))


# ---------------------------------------------------------------------------------------------
# IP (v4 and v6)
# ---------------------------------------------------------------------------------------------

_IPV4 = _B + r"[0-9]{1,3}(?:\.[0-9]{1,3}){3,}" + _B  # 5+ parts are grabbed whole, then rejected
_IPV6 = (
    r"(?i)(?:" + _B + r"[0-9a-f]{1,4}|" + _NB + r":)"
    r"(?::[0-9a-f]{0,4}){2,7}(?:\.[0-9]{1,3}){0,3}"
)
_IP_PATTERN = _IPV4 + "|" + _IPV6


def _validate_ip(candidate: str) -> list[ValidatedReplacement]:
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        return []
    # An IPv4-mapped IPv6 address (::ffff:192.0.2.128) is the IPv4 host it wraps; the ::ffff:0:0/96
    # block itself counts as reserved.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    # Loopback, unspecified (0.0.0.0, ::), multicast and reserved (incl. netmasks such as
    # 255.255.255.0) identify no host or person; code snippets are full of them.
    if address.is_loopback or address.is_unspecified or address.is_multicast or address.is_reserved:
        return []
    return [(candidate, PLACEHOLDERS["IP"])]


# ---------------------------------------------------------------------------------------------
# PHONE
# ---------------------------------------------------------------------------------------------

_PHONE_GROUP = r"(?:\([0-9]{1,5}\)|[0-9]{1,5})"
_PHONE_PATTERN = "|".join(
    [
        # International: +CC ... or 00CC / 011CC ... with any spacing.
        r"(?:\+|" + _B + r"00|" + _B + r"011)[0-9]{1,3}(?:[ .-]?" + _PHONE_GROUP + r"){1,7}" + _B,
        # National with at least three groups: (415) 555-0123, 415-555-0123, 1-800-555-0199.
        r"(?:\([0-9]{2,5}\)[ .-]?|" + _B + r"[0-9]{1,5}[ .-])[0-9]{2,5}(?:[ .-][0-9]{1,5}){1,4}" + _B,
        # National with two groups where the second is long: 0151 23456789.
        _B + r"[0-9]{2,5}[ .-][0-9]{6,8}" + _B,
    ]
)
_PHONE_TOKEN = re.compile(r"[^ .-]+")


def _phone_validator(region: str) -> Callable[[str], list[ValidatedReplacement]]:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    lengths = set(metadata.general_desc.possible_length)
    trunk = len(metadata.national_prefix or "")
    # A number written without a country code must have one of the region's national lengths
    # (optionally after the trunk prefix): checking that first skips phonenumbers' parse for the
    # many dates and ids that the candidate pattern also matches, which dominated the run time.
    national_lengths = lengths | {n + trunk for n in lengths}

    def is_phone(text: str) -> bool:
        digits = sum(c.isdigit() for c in text)
        international = text.startswith(("+", "00", "011"))  # 011: dialling abroad from the US
        # E.164 numbers have at most 15 digits; under 7 nothing is dialable from abroad.
        if not (7 <= digits <= 15 if international else digits in national_lengths):
            return False
        # "0044 20 ..." is how most of the world dials abroad, whatever `region` says.
        for attempt in (text, "+" + text[2:]) if text.startswith("00") else (text,):
            try:
                if phonenumbers.is_valid_number(phonenumbers.parse(attempt, region)):
                    return True
            except phonenumbers.NumberParseException:
                continue
        return False

    def validate(candidate: str) -> list[ValidatedReplacement]:
        return _placeholder("PHONE")(_group_windows(candidate, _PHONE_TOKEN, is_phone))

    return validate


# A number right after a word that says "phone", in the languages feedback is written in, is a
# phone number whatever region it belongs to: "Telefon: 030 12345678" or "mi móvil es 612 34 56 78"
# are valid numbers, just not in `default_region`, so the detector above leaves them. Only the
# number is replaced; a date after the word ("phone call on 2026-12-28") is not taken.
# The English words are also the residual rule's (`_PHONE_WORDS`).
_ENGLISH_PHONE_WORDS = r"phone|tel|telephone|mobile|cell|fax|whatsapp|call me|text me"
_PHONE_NAMES = (
    _ENGLISH_PHONE_WORDS + r"|cellphone"
    r"|telefon|telefonnummer|handy|handynummer|rufnummer|mobilnummer|téléphone|portable"
    r"|teléfono|telefono|móvil|movil|celular|telemóvel|telemovel|cellulare|telefoonnummer|mobiel"
)
_NAMED_PHONE_PATTERN = (
    r"(?i)" + _B + r"(?:" + _PHONE_NAMES + r")" + _B
    + r"[^0-9+(\n]{0,16}\(?(?:\+|00)?[0-9](?:[ .()/-]{0,2}[0-9]){6,14}" + _B
)
# The number with its opening bracket, if any: "(030) 1234567" is replaced whole.
_NAMED_PHONE_NUMBER = re.compile(r"\(?(?:\+|00)?[0-9].*$")
_DATE = re.compile(r"^[0-9]{1,4}([./-])[0-9]{1,2}\1[0-9]{1,4}$")


def _validate_named_phone(candidate: str) -> list[ValidatedReplacement]:
    number = _NAMED_PHONE_NUMBER.search(candidate)
    if number is None or _DATE.match(number.group(0)):
        return []
    # E.164 allows at most 15 digits; under 7 nothing is dialable (and the pattern wants 7).
    if not 7 <= sum(c.isdigit() for c in number.group(0)) <= 15:
        return []
    return [(number.group(0), PLACEHOLDERS["PHONE"])]


def _detectors(default_region: str) -> tuple[_Detector, ...]:
    return (
        _Detector("SECRET", _PROVIDER_SECRET_PATTERN, _validate_provider_secret),
        _Detector("SECRET", _ASSIGNMENT_PATTERN, _validate_assignment),
        _Detector("SECRET", _CREDENTIAL_PAIR_PATTERN, _validate_credential_pair),
        _Detector("EMAIL", _EMAIL_PATTERN, _validate_email),
        _Detector("IBAN", _IBAN_PATTERN, _validate_iban),
        _Detector("NATIONAL_ID", _NATIONAL_ID_PATTERN, _validate_national_id),
        _Detector("NATIONAL_ID", _NAMED_ID_PATTERN, _validate_named_id),
        _Detector("CARD", _CARD_PATTERN, _validate_card),
        _Detector("IP", _IP_PATTERN, _validate_ip),
        _Detector("PHONE", _PHONE_PATTERN, _phone_validator(default_region)),
        _Detector("PHONE", _NAMED_PHONE_PATTERN, _validate_named_phone),
    )


# ---------------------------------------------------------------------------------------------
# Residual rule (see module docstring)
# ---------------------------------------------------------------------------------------------

_CARD_WORDS = r"(?:card|visa|mastercard|amex|discover|credit|debit|cc)"
_CARD_RUN = r"[0-9](?:[ -]?[0-9]){12,18}"
_AT = r"(?:[\[({<]\s*at\s*[\])}>]|\s+at\s+)"
_DOT = r"(?:[\[({<]\s*dot\s*[\])}>]|\s+dot\s+)"
_LOCAL = r"[a-z0-9._%+-]+"
_LABEL = r"[a-z0-9-]+"
# Only names that mean an id wherever they appear: "SIN" is also Singapore's airport and the sine,
# "CPR" resuscitation, so a number after them that no validator took is not flagged.
_ID_WORDS = (
    r"(?:ssn|social security|itin|national insurance|nino|passport|tax id|personnummer"
    r"|codice fiscale|dni|nie|nir|bsn|burgerservicenummer|pesel|steuer[- ]?id|steueridentifikationsnummer"
    r"|social insurance|aadhaa?r|nhs number|tax file number)"
)
_PHONE_WORDS = r"(?:" + _ENGLISH_PHONE_WORDS + ")"
# Dates are taken out before the rules run: "phone call on 2026-12-28" holds no phone number, and
# flagging it held the whole row back.
_RESIDUAL_DATE = _B + r"(?:[0-9]{4}-[0-9]{2}-[0-9]{2}|[0-9]{1,2}[./-][0-9]{1,2}[./-](?:[0-9]{4}|[0-9]{2}))" + _B
_RESIDUAL_PATTERN = "(?i)" + "|".join(
    [
        _B + _CARD_WORDS + _B + r"[^0-9\n]{0,24}" + _CARD_RUN + _B,
        _B + _CARD_RUN + r"[^0-9\n]{0,24}" + _B + _CARD_WORDS + _B,
        _LOCAL + r"\s*" + _AT + r"\s*" + _LABEL + r"(?:\s*" + _DOT + r"\s*" + _LABEL + ")+",
        _LOCAL + r"\s*[\[({<]\s*at\s*[\])}>]\s*" + _LABEL + r"(?:\." + _LABEL + ")+",
        _LOCAL + r"\s+@\s+" + _LABEL + r"(?:\s*\.\s*" + _LABEL + ")+",
        _LOCAL + r"@" + _LABEL + r"\s*" + _DOT,
        r"(?:^|[^0-9A-Za-z_.\-/:])[0-9]{12,}" + _B,  # not the tail of a decimal, UUID or path
        _B + _ID_WORDS + _B + r"[^0-9\n]{0,20}[0-9](?:[ -]?[0-9]){5,}",
        _B + _PHONE_WORDS + _B + r"[^0-9\n]{0,16}\+?[0-9](?:[ .()-]{0,2}[0-9]){6,}",
    ]
)


# ---------------------------------------------------------------------------------------------
# Applying detectors to a frame
# ---------------------------------------------------------------------------------------------

_ROW_INDEX = "__pii_row"
_NAME_HIT = "__pii_name_hit"


@dataclass(frozen=True)
class _Fields:
    """The text fields of a frame: nullable Utf8 columns plus `content` inside a messages list."""

    text_columns: tuple[str, ...]
    messages_column: str | None

    def rewrite(self, f: Callable[[pl.Expr], pl.Expr]) -> list[pl.Expr]:
        """Expressions that apply `f` to every field, keeping message order, roles and nulls."""
        exprs = [f(pl.col(c)).alias(c) for c in self.text_columns]
        if self.messages_column is not None:
            content = f(pl.field("content")).alias("content")
            exprs.append(pl.col(self.messages_column).list.eval(pl.element().struct.with_fields(content)))
        return exprs

    def flat(self) -> list[pl.Expr]:
        """One flat Utf8 expression per field (lengths differ: messages are exploded)."""
        exprs = [pl.col(c) for c in self.text_columns]
        if self.messages_column is not None:
            exprs.append(
                pl.col(self.messages_column)
                .explode(empty_as_null=False, keep_nulls=False)
                .struct.field("content")
            )
        return exprs

    def per_row(
        self, f: Callable[[pl.Expr], pl.Expr], over_messages: Callable[[pl.Expr], pl.Expr]
    ) -> list[pl.Expr]:
        """`f` of each text column, and `over_messages` of the list of `f` of each message."""
        parts = [f(pl.col(c)) for c in self.text_columns]
        if self.messages_column is not None:
            per_message = pl.col(self.messages_column).list.eval(
                f(pl.element().struct.field("content"))
            )
            parts.append(over_messages(per_message))
        return parts

    def row_any(self, f: Callable[[pl.Expr], pl.Expr]) -> pl.Expr:
        """Per-row OR over all fields of a boolean `f` (nulls count as False)."""
        parts = [p.fill_null(False) for p in self.per_row(f, lambda e: e.list.any())]
        return pl.any_horizontal(parts) if parts else pl.lit(False)


def _unique_texts(df: pl.DataFrame, fields: _Fields) -> pl.DataFrame:
    """Every distinct non-null text of all fields, in one column `text`.

    Scanning distinct texts only is cheap and pays off: a system prompt repeats on every row of a
    surface, and multi-turn prompts repeat the earlier turns.
    """
    parts = pl.collect_all([df.lazy().select(e.drop_nulls().alias("text")) for e in fields.flat()])
    # Order kept on purpose: the regexes then read memory in sequence; a hash-ordered unique makes
    # every scan 2-3x slower through cache misses.
    return pl.concat(parts).unique(maintain_order=True)


def _pattern_replacements(texts: pl.DataFrame, detectors: tuple[_Detector, ...]) -> dict[str, str]:
    """Literal -> replacement for every validated candidate of every detector.

    All detectors scan the same texts in one parallel `select`; a literal claimed by two detectors
    (a 15-digit French NIR that also passes as a card) gets the first one's placeholder.
    """
    found = texts.select(
        pl.col("text")
        .str.extract_all(detector.pattern)
        .explode(empty_as_null=False, keep_nulls=False)
        .unique()
        .implode()
        .alias(f"d{i}")
        for i, detector in enumerate(detectors)
    ).row(0)
    replacements: dict[str, str] = {}
    for detector, candidates in zip(detectors, found, strict=True):
        for candidate in sorted(candidates):
            for literal, replacement in detector.validate(candidate):
                replacements.setdefault(literal, replacement)
    return replacements


def _replace_literals(df: pl.DataFrame, fields: _Fields, replacements: dict[str, str]) -> pl.DataFrame:
    """Replace every occurrence of each literal key by its value in all fields.

    Longest literals first plus leftmost matching: where "10.0.0.12" and "10.0.0.1" were both
    validated, the text "10.0.0.12" becomes one placeholder, not "<IP>2".
    """
    if not replacements:
        return df
    ordered = dict(sorted(replacements.items(), key=lambda kv: -len(kv[0])))
    patterns, values = list(ordered), list(ordered.values())
    return df.with_columns(fields.rewrite(lambda e: e.str.replace_many(patterns, values, leftmost=True)))


def _name_alternatives(names: Iterable[str]) -> list[str]:
    """Regex alternatives for `names`, longest first (the regex takes the first that matches).

    Whitespace inside a name matches any whitespace run. Names equal to a placeholder label are
    skipped, or "<IP>" would itself be rewritten for a customer called "Ip".
    """
    labels = {t.casefold() for t in PII_TYPES}
    return sorted(
        {
            r"\s+".join(pl.escape_regex(part) for part in name.split())
            for name in names
            if len(name.strip()) >= 2 and name.strip().casefold() not in labels
        },
        key=len,
        reverse=True,
    )


def _redact_names(
    df: pl.DataFrame,
    fields: _Fields,
    tenant_column: str,
    customer_names: dict[str, list[str]],
) -> pl.DataFrame:
    """Replace each tenant's known customer names, in that tenant's rows only.

    A cheap scan for any tenant's names (a literal search, no word boundaries) picks the rows
    worth rewriting; those are split by tenant, rewritten with that tenant's word-bounded,
    case-insensitive pattern, and put back in their original order. The word boundary is
    Unicode's here: names are often non-ASCII, and "José" must not match inside "Josély".
    """
    alternatives = {
        tenant: alts for tenant, names in customer_names.items() if (alts := _name_alternatives(names))
    }
    if not alternatives:
        return df
    every_alternative = sorted({a for alts in alternatives.values() for a in alts}, key=len)
    any_name = "(?i)(?:" + "|".join(reversed(every_alternative)) + ")"
    worth_rewriting = pl.col(tenant_column).is_in(list(alternatives)).fill_null(False) & (
        fields.row_any(lambda e: e.str.contains(any_name))
    )
    indexed = df.with_row_index(_ROW_INDEX).with_columns(worth_rewriting.alias(_NAME_HIT))
    targets = indexed.filter(_NAME_HIT)
    if targets.is_empty():
        return df
    redacted = [
        part.with_columns(
            fields.rewrite(
                lambda e, alts=alternatives[tenant]: e.str.replace_all(
                    r"(?i)\b(?:" + "|".join(alts) + r")\b", PLACEHOLDERS["PERSON"]
                )
            )
        )
        for (tenant,), part in targets.partition_by(tenant_column, as_dict=True).items()
    ]
    return (
        pl.concat([indexed.filter(~pl.col(_NAME_HIT)), *redacted])
        .sort(_ROW_INDEX)
        .drop(_ROW_INDEX, _NAME_HIT)
    )


_PLACEHOLDER_PATTERN = "<(?:" + "|".join(PII_TYPES) + ")>"


def _placeholder_counts(df: pl.DataFrame, fields: _Fields) -> pl.DataFrame:
    """One UInt32 column per PII type: its placeholders in each row, over all fields.

    One scan per field collects all placeholders; the per-type counts are then list operations.
    """
    found = df.select(
        part.alias(f"f{i}")
        for i, part in enumerate(
            fields.per_row(
                lambda e: e.str.extract_all(_PLACEHOLDER_PATTERN),
                lambda e: e.list.eval(pl.element().explode()),
            )
        )
    )
    return found.select(
        pl.sum_horizontal(
            pl.col(c).list.count_matches(PLACEHOLDERS[t]).fill_null(0) for c in found.columns
        )
        .fill_null(0)
        .cast(pl.UInt32)
        .alias(t)
        for t in PII_TYPES
    )


def _check_inputs(
    df: pl.DataFrame,
    text_columns: list[str],
    messages_column: str | None,
    tenant_column: str | None,
    customer_names: dict[str, list[str]] | None,
    default_region: str,
    engine: str,
) -> None:
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}, got {engine!r}")
    if not text_columns and messages_column is None:
        raise ValueError("nothing to redact: give text_columns and/or messages_column")
    if default_region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"default_region {default_region!r} is not a phonenumbers region code")
    for column in text_columns:
        if column not in df.columns:
            raise ValueError(f"text column {column!r} is not in the frame")
        if df.schema[column] != pl.String:
            raise TypeError(f"text column {column!r} must be Utf8, got {df.schema[column]}")
    if messages_column is not None:
        if messages_column in text_columns:
            raise ValueError(f"{messages_column!r} is given both as a text and a messages column")
        if messages_column not in df.columns:
            raise ValueError(f"messages column {messages_column!r} is not in the frame")
        dtype = df.schema[messages_column]
        inner = dtype.inner if isinstance(dtype, pl.List) else None
        if not (
            isinstance(inner, pl.Struct)
            and any(f.name == "content" and f.dtype == pl.String for f in inner.fields)
        ):
            raise TypeError(
                f"messages column {messages_column!r} must be List(Struct) with a Utf8 "
                f"'content' field, got {dtype}"
            )
    if customer_names and (tenant_column is None or tenant_column not in df.columns):
        raise ValueError("customer_names needs tenant_column naming a column of the frame")


def redact_frame(
    df: pl.DataFrame,
    *,
    text_columns: list[str],
    messages_column: str | None = "prompt",
    tenant_column: str | None = "tenant_id",
    customer_names: dict[str, list[str]] | None = None,
    default_region: str = "US",
    engine: str = "patterns",
) -> pl.DataFrame:
    """Redact PII in `text_columns` and in the `content` of each message of `messages_column`.

    Returns `df` with those columns redacted (same row order, nulls kept, message roles and order
    kept) plus `pii_counts` (Struct of one UInt32 per type in `PII_TYPES`: placeholders added to
    the row across all fields) and `pii_residual` (Boolean, see the module docstring).

    `customer_names` maps a tenant id to the names of that tenant's customers; they are replaced
    by <PERSON> case-insensitively on word boundaries, only in rows of that tenant.
    `default_region` is the phonenumbers region used for numbers written without a country code.
    `engine="presidio"` additionally runs presidio-analyzer (offline, NoOpNlpEngine) over what the
    pattern layer left; it needs `pip install -e .[presidio]`.
    """
    _check_inputs(df, text_columns, messages_column, tenant_column, customer_names, default_region, engine)
    fields = _Fields(tuple(text_columns), messages_column)
    before = _placeholder_counts(df, fields)

    replacements = _pattern_replacements(_unique_texts(df, fields), _detectors(default_region))
    redacted = _replace_literals(df, fields, replacements)
    if engine == "presidio":
        from corpus import pii_presidio  # lazy: presidio and spaCy are an optional, heavy extra

        remaining = _unique_texts(redacted, fields)["text"].to_list()
        redacted = _replace_literals(
            redacted, fields, pii_presidio.find_replacements(remaining, default_region)
        )
    if customer_names:
        assert tenant_column is not None  # checked by _check_inputs
        redacted = _redact_names(redacted, fields, tenant_column, customer_names)

    after = _placeholder_counts(redacted, fields)
    counts = pl.struct(
        [(after[t] - before[t]).alias(t) for t in PII_TYPES]
    ).alias(COUNTS_COLUMN)
    return redacted.with_columns(counts, _residual(redacted, fields).alias(RESIDUAL_COLUMN))


def _residual(df: pl.DataFrame, fields: _Fields) -> pl.Series:
    """The residual rule of each row (module docstring). Only the few rows a rule flags are read
    again with their dates taken out: rewriting every text to drop its dates cost 5 to 10% of the
    redaction (measured on the test_pii throughput set)."""
    flagged = df.select(fields.row_any(lambda e: e.str.contains(_RESIDUAL_PATTERN))).to_series()
    if not flagged.any():
        return flagged
    without_dates = df.filter(flagged).select(
        fields.row_any(lambda e: e.str.replace_all(_RESIDUAL_DATE, " ").str.contains(_RESIDUAL_PATTERN))
    )
    return flagged.scatter(flagged.arg_true(), without_dates.to_series())
