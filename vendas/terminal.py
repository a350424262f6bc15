"""Text from messages, made safe and measurable for a terminal.

Anyone who can write to the topic chooses the product names and ids we print. Printed
raw, an escape sequence would clear the operator's screen or recolour it, a newline would
split a table row and a bidirectional override would reorder what is read (CWE-150).
`visible` shows every such character as an escape; the data itself is never changed.
"""

from __future__ import annotations

import unicodedata

from wcwidth import wcswidth

# Characters that move the cursor, end lines or reorder text: C0/C1 controls and DEL
# (category Cc), line and paragraph separators, and the bidirectional formatting marks.
_BIDI_MARKS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_SEPARATORS = frozenset(("Zl", "Zp", "Cc"))


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _needs_escape(char: str) -> bool:
    return char in _BIDI_MARKS or unicodedata.category(char) in _SEPARATORS


def visible(text: object) -> str:
    """`text` with control characters shown as escapes (`\\x1b`, `\\n`, `\\u202e`)."""
    text = str(text)
    if text.isprintable() and not any(c in _BIDI_MARKS for c in text):
        return text  # the common case, checked in C
    return "".join(_escape(c) if _needs_escape(c) else c for c in text)


def display_width(text: str) -> int:
    """Columns `text` takes on a terminal (accents 0, CJK and emoji 2), after `visible`."""
    width = wcswidth(text)
    return width if width >= 0 else len(text)


def pad(text: str, width: int, align_right: bool = False) -> str:
    """`text` padded with spaces to `width` terminal columns."""
    fill = " " * max(0, width - display_width(text))
    return fill + text if align_right else text + fill
