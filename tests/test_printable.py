"""Values from feedback shown to a person: hidden characters become visible escapes, text stays."""

from __future__ import annotations

import pytest

from corpus.printable import printable


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("billing\nrefunds", "billing\\nrefunds"),
        ("a\r\tb", "a\\r\\tb"),
        ("ok\x1b[2K\rall gates passed", "ok\\x1b[2K\\rall gates passed"),
        ("\x00\x7f\x85", "\\x00\\x7f\\x85"),
        ("line\u2028sep", "line\\u2028sep"),
        # Bidirectional override: "evil" reads reversed where it is rendered (Trojan Source).
        ("a-1\u202eevil", "a-1\\u202eevil"),
        ("\u2066iso\u2069 \u200f\u061c", "\\u2066iso\\u2069 \\u200f\\u061c"),
        ("zero\u200bwidth\ufeff", "zero\\u200bwidth\\ufeff"),
        # Tag characters spell invisible ASCII ("hi" here).
        ("x\U000e0068\U000e0069", "x\\U000e0068\\U000e0069"),
    ],
)
def test_hidden_characters_are_shown_as_escapes(value: str, shown: str) -> None:
    assert printable(value) == shown
    assert "\n" not in printable(value) and "\x1b" not in printable(value)


@pytest.mark.parametrize(
    "value",
    [
        "vendor_acme billing|refunds 'quoted' \\ back",
        "這個回答完全錯了 مرحبا Ça 🤦‍♀️ 👩‍💻",
        "می‌خواهم",  # Persian needs the zero-width non-joiner
        "",
    ],
)
def test_visible_text_of_any_script_is_unchanged(value: str) -> None:
    assert printable(value) == value
