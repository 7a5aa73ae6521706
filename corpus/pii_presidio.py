"""Optional Presidio pass of the PII engine (`redact_frame(..., engine="presidio")`).

It runs after the pattern layer of `corpus.pii`, over the text that layer left, and only adds
redactions: Presidio's recognizers (context-scored SSN/ITIN, NHS, PESEL, German tax id, ...) catch
some values the patterns do not. It is offline: the NoOpNlpEngine loads no spaCy model (none can be
downloaded here or in an air-gapped site), so there is no NER and no PERSON detection from it;
customer names stay with the tenant metadata. It is slow (a few hundred texts per second, Python
per text), hence optional (DESIGN.md section 8).
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from corpus.pii import PLACEHOLDERS

if TYPE_CHECKING:
    from presidio_analyzer import AnalyzerEngine

_INSTALL_HINT = (
    'engine="presidio" needs presidio-analyzer, which is not installed: run `pip install -e .[presidio]`'
)

# Presidio entity -> placeholder type of corpus.pii. Entities not listed (URL, DATE_TIME, UUID,
# MAC_ADDRESS, CRYPTO, ...) are not personal data in this corpus's sense and are left alone.
ENTITY_TYPES: dict[str, str] = {
    "CREDIT_CARD": "CARD",
    "IBAN_CODE": "IBAN",
    "IP_ADDRESS": "IP",
    "PHONE_NUMBER": "PHONE",
    "US_SSN": "NATIONAL_ID",
    "US_ITIN": "NATIONAL_ID",
    "US_PASSPORT": "NATIONAL_ID",
    "UK_NHS": "NATIONAL_ID",
    "UK_NINO": "NATIONAL_ID",
    "ES_NIF": "NATIONAL_ID",
    "ES_NIE": "NATIONAL_ID",
    "IT_FISCAL_CODE": "NATIONAL_ID",
    "FI_PERSONAL_IDENTITY_CODE": "NATIONAL_ID",
    "SE_PERSONNUMMER": "NATIONAL_ID",
    "PL_PESEL": "NATIONAL_ID",
    "DE_TAX_ID": "NATIONAL_ID",
}
# Presidio scores pattern-only hits without context low (an SSN-shaped number scores 0.5, a phone
# 0.4); below 0.4 are the weak guesses (driver licence, bank number) that would eat order ids.
SCORE_THRESHOLD = 0.4


@functools.lru_cache(maxsize=4)
def _analyzer(default_region: str) -> AnalyzerEngine:
    try:
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer import predefined_recognizers as recognizers
        from presidio_analyzer.nlp_engine import NoOpNlpEngine
    except ImportError as error:
        raise ImportError(_INSTALL_HINT) from error

    nlp_engine = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
    registry = RecognizerRegistry(supported_languages=["en"])
    registry.load_predefined_recognizers(languages=["en"], nlp_engine=nlp_engine)
    # The e-mail and URL recognizers call tldextract, which tries to download the public suffix
    # list on first use (a network call, then tracebacks in the log); e-mails are already handled
    # by the pattern layer and URLs are not redacted.
    for name in ("EmailRecognizer", "UrlRecognizer", "PhoneRecognizer"):
        registry.remove_recognizer(name)
    registry.add_recognizer(
        recognizers.PhoneRecognizer(supported_regions=(default_region,), supported_language="en")
    )
    for country_specific in (
        recognizers.UkNinoRecognizer,
        recognizers.EsNifRecognizer,
        recognizers.EsNieRecognizer,
        recognizers.ItFiscalCodeRecognizer,
        recognizers.FiPersonalIdentityCodeRecognizer,
        recognizers.SePersonnummerRecognizer,
        recognizers.PlPeselRecognizer,
        recognizers.DeTaxIdRecognizer,
    ):
        registry.add_recognizer(country_specific(supported_language="en"))
    return AnalyzerEngine(nlp_engine=nlp_engine, registry=registry, supported_languages=["en"])


def find_replacements(texts: list[str], default_region: str) -> dict[str, str]:
    """Map each PII literal Presidio finds in `texts` to its typed placeholder ("<PHONE>", ...)."""
    analyzer = _analyzer(default_region)
    entities = list(ENTITY_TYPES)
    replacements: dict[str, str] = {}
    for text in texts:
        for result in analyzer.analyze(
            text, language="en", entities=entities, score_threshold=SCORE_THRESHOLD
        ):
            literal = text[result.start : result.end]
            # A placeholder left by the pattern layer is never itself a value to redact.
            if "<" not in literal:
                replacements[literal] = PLACEHOLDERS[ENTITY_TYPES[result.entity_type]]
    return replacements
