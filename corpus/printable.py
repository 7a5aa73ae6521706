"""Values from feedback, shown to a person: control and direction characters made visible.

The gates report, the data card and the text output of `corpusctl audit` and `corpusctl verify`
quote values that come from raw feedback or from the snapshot on disk (domains, annotator and
feedback ids, n-grams of prompts, file names). Printed as they are, a newline in a domain starts a
line that reads like one of the report's own, an ANSI escape (ESC [ 2K) can erase the FAILED line
of `dvc repro` on a terminal, and a right-to-left override reorders what an auditor reads ("Trojan
Source", CVE-2021-42574). Such characters are shown as escapes instead (\\n, \\x1b, \\u202e), so
each finding stays one line and reads as its characters. The JSON outputs keep the exact values;
this is only for text meant to be read.
"""

from __future__ import annotations

__all__ = ["printable"]

_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# C0 and C1 controls (ESC among them), DEL, the line and paragraph separators some viewers break
# lines on, the bidirectional marks, embeddings, overrides and isolates, the invisible zero-width
# space, word joiner and BOM, and the tag characters (invisible ASCII, a known way to hide text in
# prompts). The zero-width joiner and non-joiner are left alone: Persian, Indic scripts and emoji
# sequences need them.
_HIDDEN = (
    *range(0x00, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029,
    0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A),
    0x200B, 0x2060, 0xFEFF, *range(0xE0000, 0xE0080),
)


def _escape(code: int) -> str:
    if chr(code) in _SHORT:
        return _SHORT[chr(code)]
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


_TABLE = {code: _escape(code) for code in _HIDDEN}


def printable(text: str) -> str:
    """`text` with every character of `_HIDDEN` replaced by a visible escape (\\n, \\x1b,
    \\u202e); everything else, any script or emoji, is unchanged."""
    return text.translate(_TABLE)
