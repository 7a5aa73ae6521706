"""Tests of the PII redaction engine (corpus.pii): real polars frames, real validators.

Besides the behaviour tests, three measurements are printed (see them with `pytest -rP` or `-s`)
and bounded: recall over generated sentences planting valid values of every type, the
false-positive rate on tests/fixtures/pii_clean_texts.jsonl, and throughput of the pattern layer
on 200k realistic rows.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import random
import string
import sys
import time
from pathlib import Path

import numpy as np
import phonenumbers
import polars as pl
import pytest
from stdnum import iban as stdnum_iban
from stdnum import luhn
from stdnum.es import dni as es_dni
from stdnum.fr import nir as fr_nir
from stdnum.it import codicefiscale as it_codicefiscale
from stdnum.us import ssn as us_ssn

from corpus.pii import PII_TYPES, PLACEHOLDERS, redact_frame

CLEAN_TEXTS = Path(__file__).parent / "fixtures" / "pii_clean_texts.jsonl"
MESSAGES = pl.List(pl.Struct({"role": pl.String, "content": pl.String}))
ZERO_COUNTS = {t: 0 for t in PII_TYPES}


def frame(
    responses: list[str | None],
    prompts: list[list[dict[str, str | None]] | None] | None = None,
    tenants: list[str | None] | None = None,
) -> pl.DataFrame:
    n = len(responses)
    return pl.DataFrame(
        {
            "response": responses,
            "prompt": prompts if prompts is not None else [[] for _ in range(n)],
            "tenant_id": tenants if tenants is not None else ["t-1"] * n,
        },
        schema={"response": pl.String, "prompt": MESSAGES, "tenant_id": pl.String},
    )


def redact(df: pl.DataFrame, **kwargs: object) -> pl.DataFrame:
    return redact_frame(df, text_columns=["response"], **kwargs)  # type: ignore[arg-type]


def counts(**nonzero: int) -> dict[str, int]:
    return {**ZERO_COUNTS, **nonzero}


def report(line: str) -> None:
    """Print a measured figure; pytest shows it with -s or -rP (also under xdist)."""
    print(f"\n[pii] {line}")


# --------------------------------------------------------------------------------------------
# Generators of valid values (the validators are the spec: each generated value passes them)
# --------------------------------------------------------------------------------------------

# BBAN layouts from the IBAN registry (n digits, a letters, c alphanumerics); countries whose
# stdnum module adds a national check (BE, ES, ME, NO) are left out to keep the generator short.
IBAN_LAYOUTS: list[tuple[str, list[tuple[int, str]]]] = [
    ("DE", [(18, "n")]),
    ("GB", [(4, "a"), (14, "n")]),
    ("NL", [(4, "a"), (10, "n")]),
    ("FR", [(10, "n"), (11, "c"), (2, "n")]),
    ("IT", [(1, "a"), (10, "n"), (12, "c")]),
    ("CH", [(5, "n"), (12, "c")]),
    ("AT", [(16, "n")]),
    ("PL", [(24, "n")]),
    ("IE", [(4, "a"), (14, "n")]),
]
US_AREA_CODES = ("201", "212", "305", "312", "415", "503", "617", "646", "702", "713", "917")


class ValidValues:
    """Random values that pass their validator, in the formats people write them in."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def _digits(self, n: int) -> str:
        return "".join(self.rng.choice(string.digits) for _ in range(n))

    def _alnum(self, n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def card(self) -> str:
        prefix, length, layout = self.rng.choice(
            [
                ("4", 16, (4, 4, 4, 4)),  # Visa
                ("5" + self.rng.choice("12345"), 16, (4, 4, 4, 4)),  # Mastercard
                (str(self.rng.randint(2221, 2720)), 16, (4, 4, 4, 4)),  # Mastercard 2-series
                ("3" + self.rng.choice("47"), 15, (4, 6, 5)),  # Amex
                ("6011", 16, (4, 4, 4, 4)),  # Discover
                ("35" + str(self.rng.randint(28, 89)), 16, (4, 4, 4, 4)),  # JCB
                ("36", 14, (4, 6, 4)),  # Diners
            ]
        )
        body = prefix + self._digits(length - len(prefix) - 1)
        number = body + luhn.calc_check_digit(body)
        separator = self.rng.choice(["", " ", "-"])
        groups, start = [], 0
        for size in layout:
            groups.append(number[start : start + size])
            start += size
        return separator.join(groups)

    def iban(self) -> str:
        country, bban_layout = self.rng.choice(IBAN_LAYOUTS)
        alphabets = {"n": string.digits, "a": string.ascii_uppercase,
                     "c": string.ascii_uppercase + string.digits}
        bban = "".join(self._alnum(count, alphabets[kind]) for count, kind in bban_layout)
        compact = country + stdnum_iban.calc_check_digits(country + "00" + bban) + bban
        return stdnum_iban.format(compact) if self.rng.random() < 0.6 else compact

    def phone(self) -> str:
        while True:
            kind = self.rng.choice(["us_national", "us_dash", "us_dot", "us_intl", "e164", "intl"])
            region = "US" if kind != "intl" and kind != "e164" else self.rng.choice(
                ["US", "GB", "DE", "FR", "ES", "IT", "NL", "IN", "BR", "AU"]
            )
            example = phonenumbers.example_number_for_type(
                region, self.rng.choice([phonenumbers.PhoneNumberType.MOBILE,
                                         phonenumbers.PhoneNumberType.FIXED_LINE])
            )
            if example is None:
                continue
            national = str(example.national_number)
            if region == "US":
                national = self.rng.choice(US_AREA_CODES) + str(self.rng.randint(200, 999)) + self._digits(4)
            else:  # keep the example's leading digits (the number type), randomise the rest
                national = national[:3] + self._digits(len(national) - 3)
            number = phonenumbers.parse("+" + str(example.country_code) + national)
            if not phonenumbers.is_valid_number(number):
                continue
            n = national  # US digits for the hand-made formats below
            return {
                "us_national": phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL),
                "us_dash": f"{n[:3]}-{n[3:6]}-{n[6:]}",
                "us_dot": f"{n[:3]}.{n[3:6]}.{n[6:]}",
                "us_intl": f"+1 {n[:3]} {n[3:6]} {n[6:]}",
                "e164": phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
                "intl": phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
            }[kind]

    def ssn(self) -> str:
        while True:
            area = self.rng.choice([self.rng.randint(1, 665), self.rng.randint(667, 899)])
            value = f"{area:03d}-{self.rng.randint(1, 99):02d}-{self.rng.randint(1, 9999):04d}"
            if us_ssn.is_valid(value):
                return value if self.rng.random() < 0.8 else value.replace("-", " ")

    def nino(self) -> str:
        first = self.rng.choice("ABCEGHJKLMNPRSTWXYZ")
        second = self.rng.choice("ABCEGHJKLMNPRSTWXYZ")
        if first + second in {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"}:
            return self.nino()
        digits = self._digits(6)
        suffix = self.rng.choice("ABCD")
        if self.rng.random() < 0.5:
            return f"{first}{second}{digits}{suffix}"
        return f"{first}{second} {digits[:2]} {digits[2:4]} {digits[4:]} {suffix}"

    def eu_id(self) -> str:
        kind = self.rng.choice(["dni", "cf", "nir"])
        if kind == "dni":
            body = self._digits(8)
            return body + es_dni.calc_check_digit(body)
        if kind == "cf":
            body = (
                self._alnum(6, string.ascii_uppercase)
                + f"{self.rng.randint(40, 99):02d}"
                + self.rng.choice("ABCDEHLMPRST")
                + f"{self.rng.randint(1, 28) + self.rng.choice([0, 40]):02d}"
                + self.rng.choice(string.ascii_uppercase)
                + self._digits(3)
            )
            value = body + it_codicefiscale.calc_check_digit(body)
            assert it_codicefiscale.is_valid(value)
            return value
        body = (
            self.rng.choice("12") + f"{self.rng.randint(40, 99):02d}" + f"{self.rng.randint(1, 12):02d}"
            + f"{self.rng.randint(1, 95):02d}" + self._digits(6)
        )
        value = body + fr_nir.calc_check_digits(body)
        assert fr_nir.is_valid(value)
        return value

    def ipv4(self) -> str:
        while True:
            address = ipaddress.IPv4Address(self.rng.getrandbits(32))
            # the engine keeps loopback, unspecified, multicast and reserved addresses on purpose
            if not (address.is_loopback or address.is_unspecified or address.is_multicast
                    or address.is_reserved):
                return str(address)

    def ipv6(self) -> str:
        prefix = self.rng.choice([0x2001, 0x2400, 0x2600, 0x2A00, 0x2C0F])  # global unicast
        # sparse groups so that compressed forms with "::" occur
        groups = [prefix] + [self.rng.choice([0, self.rng.getrandbits(16)]) for _ in range(7)]
        address = ipaddress.IPv6Address(sum(g << (16 * (7 - i)) for i, g in enumerate(groups)))
        return address.compressed if self.rng.random() < 0.6 else address.exploded

    def email(self) -> str:
        local = self.rng.choice(["jane.doe", "j_smith", "ops+billing", "m.rossi84", "kim"])
        domain = self.rng.choice(["example.com", "mail.example.co.uk", "corp.io", "uni-x.edu"])
        return f"{local}{self.rng.randint(1, 999)}@{domain}"

    def provider_secret(self) -> str:
        kind = self.rng.choice(["aws", "ghp", "pat", "slack", "stripe", "jwt", "pem"])
        if kind == "aws":
            return "AKIA" + self._alnum(16, string.ascii_uppercase + string.digits)
        if kind == "ghp":
            return "ghp_" + self._alnum(36)
        if kind == "pat":
            return "github_pat_" + self._alnum(22) + "_" + self._alnum(59)
        if kind == "slack":
            return f"xoxb-{self._digits(11)}-{self._digits(12)}-{self._alnum(24)}"
        if kind == "stripe":
            return "sk_live_" + self._alnum(24)
        return self.jwt() if kind == "jwt" else self.pem()

    def jwt(self) -> str:
        def segment(obj: dict[str, object]) -> str:
            return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

        signature = base64.urlsafe_b64encode(self.rng.randbytes(32)).rstrip(b"=").decode()
        header, payload = {"alg": "HS256", "typ": "JWT"}, {"sub": self._digits(8), "iat": 1700000000}
        return ".".join([segment(header), segment(payload), signature])

    def pem(self) -> str:
        lines = [base64.b64encode(self.rng.randbytes(48)).decode() for _ in range(4)]
        return "\n".join(
            ["-----BEGIN RSA PRIVATE KEY-----", *lines, "-----END RSA PRIVATE KEY-----"]
        )

    def assigned_secret(self) -> tuple[str, str]:
        """(text of the assignment, the secret value in it)."""
        kind = self.rng.choice(["api_key", "token", "password", "bearer", "aws"])
        if kind == "password":
            value = (self._alnum(1, string.ascii_letters)
                     + self._alnum(9, string.ascii_letters + string.digits + "!#%&*?+-_"))
            return self.rng.choice([f"password: {value}", f'DB_PASSWORD="{value}"', f"pwd={value}"]), value
        value = self._alnum(32)
        if kind == "bearer":
            return f"Authorization: Bearer {value}", value
        if kind == "aws":
            value = self._alnum(40, string.ascii_letters + string.digits + "/+")
            return f"aws_secret_access_key = {value}", value
        return f"{kind}={value}", value


# --------------------------------------------------------------------------------------------
# Each type, in a text column and in prompt message contents
# --------------------------------------------------------------------------------------------

TYPED_EXAMPLES: list[tuple[str, str, str]] = [
    ("EMAIL", "write to jane.doe+billing@example.co.uk today", "jane.doe+billing@example.co.uk"),
    ("EMAIL", "Schreiben Sie an jörg.müller@bäckerei.de bitte", "jörg.müller@bäckerei.de"),
    ("PHONE", "call me at (415) 555-0123 after six", "(415) 555-0123"),
    ("PHONE", "my UK mobile is +44 7911 123456", "+44 7911 123456"),
    ("PHONE", "E.164 please: +4930123456789", "+4930123456789"),
    ("PHONE", "from Europe dial 0044 20 7946 0958", "0044 20 7946 0958"),
    ("CARD", "card 4111 1111 1111 1111 exp 09/27", "4111 1111 1111 1111"),
    ("CARD", "amex 3782-822463-10005 declined", "3782-822463-10005"),
    ("CARD", "charged 5555555555554444 twice", "5555555555554444"),
    ("IBAN", "refund to DE89 3704 0044 0532 0130 00 thanks", "DE89 3704 0044 0532 0130 00"),
    ("IBAN", "IBAN GB82WEST12345698765432.", "GB82WEST12345698765432"),
    ("IP", "requests from 203.0.113.7 failed", "203.0.113.7"),
    ("IP", "client 2001:db8:85a3::8a2e:370:7334 timed out", "2001:db8:85a3::8a2e:370:7334"),
    ("IP", "proxy saw ::ffff:203.0.113.9 twice", "::ffff:203.0.113.9"),  # IPv4-mapped IPv6
    ("NATIONAL_ID", "my SSN is 536-90-4399", "536-90-4399"),
    ("NATIONAL_ID", "NI number AB 12 34 56 C on file", "AB 12 34 56 C"),
    ("NATIONAL_ID", "DNI 54362315K for the booking", "54362315K"),
    ("NATIONAL_ID", "codice fiscale RCCMNL83S18D969H", "RCCMNL83S18D969H"),
    ("NATIONAL_ID", "personnummer 880320-0016", "880320-0016"),
    ("NATIONAL_ID", "hetu 131052-308T", "131052-308T"),
    ("SECRET", "key AKIAIOSFODNN7EXAMPLE leaked", "AKIAIOSFODNN7EXAMPLE"),
    ("SECRET", "export GITHUB_TOKEN=ghp_" + "a1B2c3D4e5" * 3 + "a1B2c3",
     "ghp_" + "a1B2c3D4e5" * 3 + "a1B2c3"),
    ("SECRET", "slack xoxb-12345678901-abcdefghijKL", "xoxb-12345678901-abcdefghijKL"),
    ("SECRET", "stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    ("SECRET", "password: Tr0ub4dor&3 on staging", "Tr0ub4dor&3"),
    ("SECRET", 'config {"api_key": "Zx81Kq93LmP0wE7rT2yUqQ"}', "Zx81Kq93LmP0wE7rT2yUqQ"),
    # Passwords in connection strings: the user and host stay readable.
    ("SECRET", "DATABASE_URL=postgresql://svc_user:pa55w0rd!@db-prod:5432/main", "pa55w0rd!"),
    ("SECRET", "cache is redis://:hunter22@cache.internal:6379/0 today", "hunter22"),
    ("SECRET", "mongodb+srv://alice:Tr0ub4dor&3@cluster0.example.net/test?w=1", "Tr0ub4dor&3"),
    ("SECRET", "git clone https://oauth2:p@ss(w)rd@gitlab.example.com/g/r.git", "p@ss(w)rd"),
    # Numbers after a word that says "phone", valid in another region or none: the word decides.
    ("PHONE", "Telefon: 030 12345678, bitte zurückrufen", "030 12345678"),
    ("PHONE", "mi móvil es 612 34 56 78", "612 34 56 78"),
    ("PHONE", "Telefon (030) 1234567 ab 9 Uhr", "(030) 1234567"),  # the bracket goes with it
    ("PHONE", "call me at 555-0199 after six", "555-0199"),  # a local number without area code
    ("PHONE", "phone +1 415 555 01", "+1 415 555 01"),  # too short to be valid, still a phone
    # Ids that are bare digits, found after their name; the name stays.
    ("NATIONAL_ID", "PESEL 44051401359 please", "44051401359"),
    ("NATIONAL_ID", "my BSN is 111222333.", "111222333"),
    ("NATIONAL_ID", "Aadhaar: 4991 1866 5246", "4991 1866 5246"),
    ("NATIONAL_ID", "SIN 130-692-544 on the form", "130-692-544"),
    ("NATIONAL_ID", "NHS number 943 476 5919", "943 476 5919"),
    ("NATIONAL_ID", "meu CPF é 529.982.247-25", "529.982.247-25"),
    ("SECRET", "curl -u deploy:S3cr3tPa55 https://api.example.com/v1", "S3cr3tPa55"),
    ("SECRET", "Authorization: Basic dXNlcjpTM2NyM3RQYXNzd29yZA== was sent", "dXNlcjpTM2NyM3RQYXNzd29yZA=="),
    ("SECRET", "npm token npm_" + "a1B2c3D4e5F6" * 3 + " leaked", "npm_" + "a1B2c3D4e5F6" * 3),
    ("SECRET", "GITLAB_TOKEN glpat-Zx81Kq93LmP0wE7rT2yU", "glpat-Zx81Kq93LmP0wE7rT2yU"),
    ("SECRET", "hf token hf_" + "AbCdEfGhIjKlMnOpQr" * 2, "hf_" + "AbCdEfGhIjKlMnOpQr" * 2),
    ("SECRET", "SG." + "k" * 22 + "." + "Q7" * 21 + "x in the env", "SG." + "k" * 22 + "." + "Q7" * 21 + "x"),
]


@pytest.mark.parametrize(("pii_type", "text", "value"), TYPED_EXAMPLES)
def test_each_type_is_replaced_by_its_placeholder_in_text_and_prompt(
    pii_type: str, text: str, value: str
) -> None:
    prompt = [{"role": "system", "content": "be brief"}, {"role": "user", "content": text}]
    out = redact(frame([text], [prompt]))
    row = out.row(0, named=True)

    assert value not in row["response"]
    assert row["response"] == text.replace(value, PLACEHOLDERS[pii_type])
    assert row["prompt"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": text.replace(value, PLACEHOLDERS[pii_type])},
    ]
    assert row["pii_counts"] == counts(**{pii_type: 2})
    assert row["pii_residual"] is False


def test_jwt_and_pem_private_key_are_secrets() -> None:
    jwt = ValidValues(7).jwt()
    pem = (
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nBKcwggSjAgEAAoIBAQC7\n"
        "-----END PRIVATE KEY-----"
    )
    truncated_pem = "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5"
    out = redact(frame([f"Authorization: {jwt}", f"my key:\n{pem}\nthanks", f"paste: {truncated_pem}"]))
    assert out["response"].to_list() == [
        "Authorization: <SECRET>", "my key:\n<SECRET>\nthanks", "paste: <SECRET>"
    ]
    assert out["pii_counts"].struct.field("SECRET").to_list() == [1, 1, 1]


# --------------------------------------------------------------------------------------------
# Validators decide
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "text",
    [
        "order 4111 1111 1111 1112 shipped",  # Luhn fails
        "tracking 4111111111111112",  # Luhn fails
        "order id 7992739871300004",  # passes Luhn, but no card network starts with 7
        "IBAN DE89 3704 0044 0532 0130 01 is wrong",  # mod-97 fails
        "SSN 000-12-3456 is a test value",  # area 000 never issued
        "call 123-456-7890",  # area code 123 does not exist
        "upgrade to 10.4.2 then 2.0.1.5.7",  # versions, not IPs
        "released 2024-01-15, invoice 2024-0042",  # dates and ids are no phones
        "ip 999.12.1.3 is no address",  # octet above 255
        "bound to ::ffff:127.0.0.1 only",  # loopback, mapped into IPv6
        "meeting at tel 10:30, phone call on 2026-12-28",  # times and dates after a phone word
        "cell A1 has 1234567",  # a word between the name and the digits holds a digit
        "api_key=YOUR_API_KEY_HERE and token: expired",  # placeholders and words, not secrets
        "password = os.environ['DB_PASSWORD']",  # a reference, not a literal
        "DATABASE_URL=postgres://app:${DB_PASSWORD}@db-prod/app",  # a template, not a password
        "see http://example.com/a:b@c for the syntax",  # ':' and '@' in a path are no userinfo
        "Basic plan costs 10 EUR, basic knowledge of SQL",  # no base64 of a user:password
        "ticket 111222333 and order 4991 1866 5246",  # bare digits without an id's name
        "BSN 111222334 is a typo",  # fails the BSN's eleven-test
        "docker run -u 1000:1000 --user root:root app",  # uid:gid and user:group
        "curl -u $USER:$TOKEN https://api.example.com",  # variables, not literals
    ],
)
def test_candidates_failing_their_validator_are_kept(text: str) -> None:
    out = redact(frame([text]))
    assert out["response"].to_list() == [text]
    assert out["pii_counts"].to_list() == [ZERO_COUNTS]


def test_a_password_option_leaves_the_rest_of_the_command_line_to_the_other_detectors() -> None:
    # Candidates are replaced whole: one that spanned the command from "curl" on would hide the
    # e-mail and the IP in it.
    text = "curl -H 'From: jane@example.com' https://10.2.3.4/x -u svc:b9x!Qz https://u:pw99z@h/"
    out = redact(frame([text])).row(0, named=True)
    assert out["response"] == "curl -H 'From: <EMAIL>' https://<IP>/x -u svc:<SECRET> https://u:<SECRET>@h/"
    assert out["pii_counts"] == counts(EMAIL=1, IP=1, SECRET=2)


def test_grouped_values_are_found_inside_greedy_candidates() -> None:
    # The candidate regex swallows the CVV / the neighbouring words; whole-group windows recover.
    out = redact(frame(["card 4111 1111 1111 1111 123 ok", "DE89 3704 0044 0532 0130 00 TO PAY"]))
    assert out["response"].to_list() == ["card <CARD> 123 ok", "<IBAN> TO PAY"]


def test_default_region_decides_national_phone_formats() -> None:
    text = "ring 020 7946 0958 tomorrow"
    assert redact(frame([text]))["response"].to_list() == [text]  # not a US number
    assert redact(frame([text]), default_region="GB")["response"].to_list() == ["ring <PHONE> tomorrow"]


def test_longest_literal_wins_when_one_value_contains_another() -> None:
    out = redact(frame(["from 10.0.0.12", "from 10.0.0.1 and 10.0.0.12"]))
    assert out["response"].to_list() == ["from <IP>", "from <IP> and <IP>"]
    assert out["pii_counts"].struct.field("IP").to_list() == [1, 2]


# --------------------------------------------------------------------------------------------
# Customer names from tenant metadata
# --------------------------------------------------------------------------------------------

def test_customer_names_are_redacted_per_tenant_case_insensitively_on_word_boundaries() -> None:
    df = frame(
        [
            "Jane Doe asked; JANE DOE again, then jane   doe",
            "Janet and Doey are not Jane Doe",
            "Jane Doe belongs to another tenant here",
            "José wrote, Josélito did not",
            "Jane Doe with no tenant",
        ],
        [[{"role": "user", "content": "hi, Jane Doe here"}], None, [], None, None],
        ["acme", "acme", "globex", "globex", None],
    )
    names = {"acme": ["Jane Doe"], "globex": ["José", "IP"], "initech": ["Jane Doe"]}
    out = redact(df, customer_names=names)
    assert out["response"].to_list() == [
        "<PERSON> asked; <PERSON> again, then <PERSON>",
        "Janet and Doey are not <PERSON>",
        "Jane Doe belongs to another tenant here",
        "<PERSON> wrote, Josélito did not",
        "Jane Doe with no tenant",
    ]
    assert out["prompt"][0].to_list() == [{"role": "user", "content": "hi, <PERSON> here"}]
    assert out["pii_counts"].struct.field("PERSON").to_list() == [4, 1, 0, 1, 0]
    assert out["tenant_id"].to_list() == df["tenant_id"].to_list()  # row order kept


# --------------------------------------------------------------------------------------------
# Counts, nulls, structure
# --------------------------------------------------------------------------------------------

def test_counts_are_exact_across_fields_and_never_carry_values() -> None:
    df = pl.DataFrame(
        {
            "response": ["mail a@x.io, b@x.io; call +1 415 555 0123", "<EMAIL> was already redacted"],
            "comment": ["card 4111111111111111 and 4111111111111111", None],
            "prompt": [
                [{"role": "user", "content": "from 203.0.113.9 mail c@x.io"},
                 {"role": "assistant", "content": "noted c@x.io"}],
                [{"role": "user", "content": "ssn 536-90-4399"}],
            ],
            "tenant_id": ["t", "t"],
        },
        schema_overrides={"prompt": MESSAGES},
    )
    out = redact_frame(df, text_columns=["response", "comment"])
    assert out["pii_counts"].to_list() == [
        counts(EMAIL=4, PHONE=1, CARD=2, IP=1),
        counts(NATIONAL_ID=1),  # the "<EMAIL>" that was in the input is not counted
    ]
    assert out.schema["pii_counts"] == pl.Struct({t: pl.UInt32 for t in PII_TYPES})
    assert out.schema["pii_residual"] == pl.Boolean
    assert "@" not in str(out.select("pii_counts", "pii_residual").to_dicts())


def test_redacting_redacted_text_changes_nothing() -> None:
    # The stage may run again over its own output: placeholders are no PII and are not re-counted.
    df = frame(
        ["mail a@x.io, card 4111111111111111, ssn 536-90-4399, ip 203.0.113.9, Jane Doe"],
        [[{"role": "user", "content": "token=ghp_" + "a1B2c3D4e5" * 4}]],
    )
    once = redact(df, customer_names={"t-1": ["Jane Doe"]}).drop("pii_counts", "pii_residual")
    twice = redact(once, customer_names={"t-1": ["Jane Doe"]})
    assert twice.drop("pii_counts", "pii_residual").equals(once)
    assert twice["pii_counts"].to_list() == [ZERO_COUNTS]


def test_nulls_empty_lists_roles_and_order_are_preserved() -> None:
    df = frame(
        [None, "plain", None, "x@y.io"],
        [
            None,
            [],
            [{"role": "system", "content": None}, {"role": "user", "content": "me@y.io"},
             {"role": "tool", "content": "{}"}, {"role": "user", "content": "ok"}],
            [{"role": "user", "content": None}],
        ],
        ["t", None, "t", "t"],
    )
    out = redact(df)
    assert out.columns == [*df.columns, "pii_counts", "pii_residual"]
    assert out["response"].to_list() == [None, "plain", None, "<EMAIL>"]
    assert out["prompt"].to_list() == [
        None,
        [],
        [{"role": "system", "content": None}, {"role": "user", "content": "<EMAIL>"},
         {"role": "tool", "content": "{}"}, {"role": "user", "content": "ok"}],
        [{"role": "user", "content": None}],
    ]
    assert out["pii_counts"].struct.field("EMAIL").to_list() == [0, 0, 1, 1]
    assert out["pii_residual"].to_list() == [False, False, False, False]


def test_without_messages_column_and_on_an_empty_frame() -> None:
    df = pl.DataFrame({"comment": ["mail x@y.io"]})
    out = redact_frame(df, text_columns=["comment"], messages_column=None, tenant_column=None)
    assert out["comment"].to_list() == ["mail <EMAIL>"]
    empty = redact(frame([]))
    assert empty.height == 0 and "pii_counts" in empty.columns


def test_bad_arguments_are_rejected_clearly() -> None:
    df = frame(["x"])
    with pytest.raises(ValueError, match="engine"):
        redact(df, engine="regex")
    with pytest.raises(ValueError, match="region"):
        redact(df, default_region="XX")
    with pytest.raises(ValueError, match="not in the frame"):
        redact_frame(df, text_columns=["correction"])
    with pytest.raises(TypeError, match="must be Utf8"):
        redact_frame(df.with_columns(pl.lit(1).alias("n")), text_columns=["n"])


# --------------------------------------------------------------------------------------------
# Residual flag
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("text", "residual"),
    [
        ("my visa 4111 1111 1111 1112 was declined", True),  # card context, fails Luhn
        ("card number: 1234-5678-9012-3456", True),
        ("john dot smith at gmail dot com", True),
        ("write to jane[at]example.com", True),
        ("jane (at) example (dot) org", True),
        ("mail jane @ example . com", True),
        ("reach jane@example dot com", True),
        ("account 000123456789012 on file", True),  # long digit sequence
        ("SSN: 123456789", True),  # unformatted, but the context says what it is
        ("passport number 53 8841 992", True),
        ("social insurance number 046 454 286 (never starts with 0)", True),  # no validator took it
        # Names that are also words or codes: an unvalidated number after them is no residual.
        ('{"destination": "SIN", "date": "2026-12-28"}', False),
        ("CPR 30 compressions, then 2 breaths: 300 2 2 2 2 2", False),
        ("phone 12345678901234567890 is not a number", True),  # longer than any phone number
        ("phone call on 2026-12-28, fax sent 28.12.2026", False),  # dates are no numbers to hide
        ("passport 2020-01-01 issued, number 53 8841 992", True),  # the number after the date still counts
        ("order 12345678 shipped on 2024-01-15 for $1,299.00", False),
        ("look at the docs at example.com", False),
        ("my card was charged $49.99 twice", False),
        ("card 4111 1111 1111 1111 is redacted, not residual", False),
        ("call me at +1 (415) 555-0123", False),  # redacted, nothing left
    ],
)
def test_residual_flag(text: str, residual: bool) -> None:
    out = redact(frame([None], [[{"role": "user", "content": text}]]))
    assert out["pii_residual"].to_list() == [residual]


# --------------------------------------------------------------------------------------------
# Optional Presidio engine
# --------------------------------------------------------------------------------------------

def test_presidio_engine_adds_ids_the_patterns_do_not_know() -> None:
    pytest.importorskip("presidio_analyzer")
    df = frame(["my ITIN is 912-78-1234", "mail x@y.io"])
    assert redact(df)["response"].to_list() == ["my ITIN is 912-78-1234", "mail <EMAIL>"]
    out = redact(df, engine="presidio")
    assert out["response"].to_list() == ["my ITIN is <NATIONAL_ID>", "mail <EMAIL>"]
    assert out["pii_counts"].to_list() == [counts(NATIONAL_ID=1), counts(EMAIL=1)]


def test_presidio_engine_without_presidio_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from corpus import pii_presidio

    pii_presidio._analyzer.cache_clear()  # an analyzer built by an earlier test would hide the import
    monkeypatch.setitem(sys.modules, "presidio_analyzer", None)  # what an install without it looks like
    with pytest.raises(ImportError, match=r"pip install -e \.\[presidio\]"):
        redact(frame(["x"]), engine="presidio")
    pii_presidio._analyzer.cache_clear()


# --------------------------------------------------------------------------------------------
# Recall over generated realistic sentences
# --------------------------------------------------------------------------------------------

TEMPLATES: dict[str, list[str]] = {
    "EMAIL": ["You can reach me at {v} after 5pm.", "cc {v} on the invoice thread",
              "my login is {v}, reset it please"],
    "PHONE": ["Call me on {v} tomorrow.", "my number is {v}", "Phone: {v} (mobile)",
              "text {v} when the driver arrives"],
    "CARD": ["My card {v} was charged twice.", "charge it to {v} exp 09/27",
             "Visa {v} got declined at checkout"],
    "IBAN": ["Please refund to IBAN {v} by Friday.", "wire to {v}, reference INV-2291"],
    "NATIONAL_ID": ["SSN {v} for the form", "my NI number is {v}.", "ID: {v}",
                    "tax form needs {v} before filing"],
    "IP": ["the request came from {v} at 10:42", "server {v} is down again",
           "whitelist {v} in the firewall"],
    "SECRET": ["here is my key {v} please rotate it", "{v}", "I pasted {v} by mistake"],
    "PERSON": ["Thanks {v}, that helped.", "Please forward this to {v}.", "{v} asked for a refund"],
}
# Customer names by tenant, as tenant metadata would list them (people and companies).
CUSTOMERS: dict[str, list[str]] = {
    "acme": ["Hannah Whitfield", "José Álvarez", "Okoro Freight Ltd", "Aisling O'Connor"],
    "globex": ["Mateus Carvalho", "Camille Rousseau", "Nimbus Analytics GmbH"],
}


def plant(gen: ValidValues, pii_type: str, names: list[str] | None = None) -> tuple[str, list[str]]:
    """A sentence of `pii_type` and the strings that must not survive in it (for PERSON, one of
    `names` in the casing a user might type)."""
    template = gen.rng.choice(TEMPLATES[pii_type])
    if pii_type == "SECRET" and gen.rng.random() < 0.5:
        text, value = gen.assigned_secret()
        return template.format(v=text), [value]
    if pii_type == "PERSON":
        name = gen.rng.choice(names or [])
        value = gen.rng.choice([name, name.upper(), name.lower()])
        return template.format(v=value), [value]
    value = {
        "EMAIL": gen.email, "PHONE": gen.phone, "CARD": gen.card, "IBAN": gen.iban,
        "IP": lambda: gen.rng.choice([gen.ipv4, gen.ipv6])(),
        "NATIONAL_ID": lambda: gen.rng.choice([gen.ssn, gen.nino, gen.eu_id])(),
        "SECRET": gen.provider_secret,
    }[pii_type]()
    # A PEM block must vanish as a whole; checking each base64 line is the strict version.
    must_vanish = value.splitlines()[1:-1] if value.startswith("-----BEGIN") else [value]
    return template.format(v=value), must_vanish


def test_recall_is_total_and_typed_on_generated_sentences() -> None:
    gen = ValidValues(20261122)
    responses, prompts, tenants, planted = [], [], [], []
    planted_by_type = dict.fromkeys(PII_TYPES, 0)
    for _ in range(3000):
        tenant = gen.rng.choice(list(CUSTOMERS))
        chosen = [gen.rng.choice(PII_TYPES) for _ in range(gen.rng.randint(1, 4))]
        parts = [plant(gen, t, CUSTOMERS[tenant]) for t in chosen]
        split = gen.rng.randint(0, len(parts))
        responses.append(" ".join(text for text, _ in parts[:split]) or None)
        prompts.append([{"role": "user", "content": " ".join(text for text, _ in parts[split:])}])
        tenants.append(tenant)
        planted.append([v for _, values in parts for v in values])
        for t in chosen:
            planted_by_type[t] += 1
    out = redact(frame(responses, prompts, tenants), customer_names=CUSTOMERS)

    planted_total, missed = 0, 0
    for row, values in zip(out.iter_rows(named=True), planted, strict=True):
        texts = (row["response"] or "") + "\n" + row["prompt"][0]["content"]
        planted_total += len(values)
        missed += sum(value in texts for value in values)
    recall = 1 - missed / planted_total
    counted = out["pii_counts"].struct.unnest().sum().row(0, named=True)
    report(
        f"recall on {planted_total} planted values in {len(planted)} rows: {recall:.4f}; "
        f"planted/counted by type: {', '.join(f'{t} {planted_by_type[t]}/{counted[t]}' for t in PII_TYPES)}",
    )
    assert recall == 1.0
    assert counted == planted_by_type  # each value redacted once, under its own type


# --------------------------------------------------------------------------------------------
# Measurements: false positives on clean texts, throughput
# --------------------------------------------------------------------------------------------

# Bounds of the clean-set measurement (300 texts): at most 3 texts with any redaction (today: 1,
# the four-part version "6.1.7.2" read as an IP) and at most 6 flagged residual (today: 2, a
# 22-digit tracking number and a millisecond timestamp, both "long digit sequences" by the rule).
MAX_FALSE_POSITIVE_RATE = 0.01
MAX_CLEAN_RESIDUAL_RATE = 0.02


def test_false_positive_rate_on_clean_texts() -> None:
    texts = [json.loads(line)["text"] for line in CLEAN_TEXTS.read_text().splitlines()]
    assert len(texts) >= 300
    out = redact(frame(texts))
    total = out["pii_counts"].struct.unnest().sum_horizontal()
    fp_rate = (total > 0).mean()
    residual_rate = out["pii_residual"].mean()
    report(
        f"clean texts: {len(texts)}, redacted {fp_rate:.2%} (bound {MAX_FALSE_POSITIVE_RATE:.0%}), "
        f"flagged residual {residual_rate:.2%} (bound {MAX_CLEAN_RESIDUAL_RATE:.0%})",
    )
    assert fp_rate <= MAX_FALSE_POSITIVE_RATE
    assert residual_rate <= MAX_CLEAN_RESIDUAL_RATE


SYSTEM_PROMPTS = (
    "You are the billing assistant of Example Corp. Be concise and never ask for full card numbers.",
    "You help travellers change bookings. Quote prices in the customer's currency.",
    "You are a coding assistant. Prefer short, runnable examples.",
)


# Clean chat sentences: a format string and the (low, high) range of each of its numbers.
CHAT_TEMPLATES: tuple[tuple[str, tuple[tuple[int, int], ...]], ...] = (
    ("Hi, my order #{} from 2024-{:02d}-{:02d} still shows pending.",
     ((10000, 999999), (1, 12), (1, 28))),
    ("I was charged ${}.{:02d} twice on my last invoice, can you refund one?", ((1, 999), (0, 99))),
    ("The app (version {}.{}.{}) crashes when I open settings.", ((1, 9), (0, 30), (0, 20))),
    ("Can I move my flight LH {} to the {}th?", ((10, 2999), (1, 28))),
    ("The booking for {} guests and {} nights costs {} EUR, is breakfast included?",
     ((1, 6), (1, 14), (80, 4000))),
    ("Sure! Use `df.group_by('k').agg(pl.len())` on your {}k rows; it takes {} s.",
     ((2, 900), (1, 60))),
    ("Your plan renews on {}/{} at {}.99 per month; you can cancel anytime.",
     ((1, 28), (1, 12), (5, 99))),
    ("Sorry about that. I've escalated ticket {}, you'll hear back within {} hours.",
     ((10000, 99999), (2, 48))),
    ("Error {} again after {} retries, request id {}.", ((400, 504), (2, 30), (10**7, 10**8))),
    ("Thanks, that worked.", ()),
    ("That answer is wrong, the refund policy changed last month.", ()),
)


def chat_texts(n: int, rng: np.random.Generator) -> pl.Series:
    """`n` clean chat sentences with fresh numbers, so that texts are unique as in production."""
    choice = rng.integers(0, len(CHAT_TEMPLATES), n)
    texts = np.empty(n, dtype=object)
    for i, (fmt, ranges) in enumerate(CHAT_TEMPLATES):
        rows = np.flatnonzero(choice == i)
        numbers = [rng.integers(low, high + 1, len(rows)).tolist() for low, high in ranges]
        texts[rows] = [fmt.format(*values) for values in zip(*numbers, strict=True)] if ranges else fmt
    return pl.Series(texts.tolist(), dtype=pl.String)


def realistic_frame(n: int, seed: int, pii_share: float = 0.05) -> pl.DataFrame:
    """Feedback-shaped rows: a shared system prompt, a user turn (30% with two earlier turns), a
    response, and nullable correction and comment; `pii_share` of the texts carry a PII sentence."""
    rng = np.random.default_rng(seed)
    gen = ValidValues(seed)
    types = [t for t in PII_TYPES if t != "PERSON"]
    pii_pool = pl.Series([plant(gen, gen.rng.choice(types))[0] for _ in range(5000)])

    def texts(present: float = 1.0) -> pl.Expr:
        base = chat_texts(n, rng)
        parts = pl.DataFrame(
            {
                "base": base,
                "with_pii": base + " " + pii_pool.gather(rng.integers(0, len(pii_pool), n)),
                "pii": rng.random(n) < pii_share,
                "present": rng.random(n) < present,
            }
        )
        column = parts.select(
            pl.when("present").then(pl.when("pii").then("with_pii").otherwise("base"))
        ).to_series()
        return column

    raw = pl.DataFrame(
        {
            "system": pl.Series(SYSTEM_PROMPTS).gather(rng.integers(0, len(SYSTEM_PROMPTS), n)),
            "earlier_user": texts(),
            "earlier_assistant": texts(),
            "user": texts(),
            "history": rng.random(n) < 0.3,
            "response": texts(),
            "correction": texts(0.3),
            "comment": texts(0.2),
            "tenant_id": pl.Series(rng.integers(1, 51, n)).cast(pl.String),
        }
    )

    # Messages are assembled in long form and grouped per row: concat_list of structs is ~10x
    # slower in polars 2.1 and would dominate the benchmark's set-up.
    rows = raw.with_row_index("row")
    turns = [("system", "system", False), ("user", "earlier_user", True),
             ("assistant", "earlier_assistant", True), ("user", "user", False)]
    messages = (
        pl.concat(
            (rows.filter("history") if history_only else rows).select(
                "row", pl.lit(turn).alias("turn"), pl.lit(role).alias("role"),
                pl.col(column).alias("content"),
            )
            for turn, (role, column, history_only) in enumerate(turns)
        )
        .sort("row", "turn")
        .group_by("row", maintain_order=True)
        .agg(pl.struct("role", "content").alias("prompt"))
    )
    return rows.join(messages, on="row", maintain_order="left").select(
        "prompt", "response", "correction", "comment", "tenant_id"
    )


# The target is 50k rows/s on 2 cores. CPU time is what the assertion uses: wall time on a
# shared CI machine mostly measures the neighbours. 50k rows per CPU-second meets the target even
# on one core; the wall figure is printed beside it.
MIN_ROWS_PER_CPU_SECOND = 50_000


def test_throughput_of_the_pattern_layer() -> None:
    df = realistic_frame(200_000, seed=11)
    wall, cpu = time.perf_counter(), time.process_time()
    out = redact_frame(df, text_columns=["response", "correction", "comment"])
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    redacted_rows = (out["pii_counts"].struct.unnest().sum_horizontal() > 0).sum()
    report(
        f"throughput: {df.height} rows ({df.estimated_size() / 1e6:.0f} MB, {redacted_rows} with PII) "
        f"in {wall:.2f} s wall = {df.height / wall:,.0f} rows/s on {pl.thread_pool_size()} threads; "
        f"{cpu:.2f} CPU-s = {df.height / cpu:,.0f} rows per CPU-second"
    )
    assert out.height == df.height
    assert df.height / cpu >= MIN_ROWS_PER_CPU_SECOND
