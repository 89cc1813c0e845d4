"""One gate for text on its way to a terminal.

Story text, anything read from a save, file names, command-line values and error messages are
data: a control character among them could move the cursor, set the window title, wipe the
screen or write to the clipboard. Everything printed goes through `terminal_safe` (or
`one_line` for text that must stay on one line, such as a file name inside a message), which
shows every such character visibly instead of sending it.
"""

from __future__ import annotations

import re

__all__ = ["terminal_safe", "one_line", "is_unsafe_char", "UNSAFE", "BIDI"]

# C0 controls but tab and newline, DEL, C1 controls, and lone surrogates.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
# The same, with tab and newline too: for text that must stay on one line.
_UNSAFE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# Bidirectional embeddings, overrides and isolates: they reorder what a reader sees.
BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    ch = match.group()
    code = ord(ch)
    if 0xD800 <= code <= 0xDFFF:
        return "\ufffd"
    if ch == "\n":
        return "\\n"
    if ch == "\t":
        return "\\t"
    return f"\\x{code:02x}"


def terminal_safe(text: str) -> str:
    """`text` with every control character but newline and tab shown as an escape (`\\x1b`)
    and every lone surrogate as U+FFFD, so that printing it can't command the terminal."""
    if UNSAFE.search(text) is None:
        return text
    return UNSAFE.sub(_visible, text)


def one_line(text: str) -> str:
    """Like `terminal_safe`, and newlines and tabs shown as `\\n` and `\\t` too: for a value
    inside a one-line message (a file name can hold a newline and forge a line)."""
    if _UNSAFE_LINE.search(text) is None:
        return text
    return _UNSAFE_LINE.sub(_visible, text)


def is_unsafe_char(ch: str) -> bool:
    """Whether a single character may not reach a terminal as it is."""
    return UNSAFE.match(ch) is not None
