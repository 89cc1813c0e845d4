"""The gate every printed text goes through."""

from hypothesis import given
from hypothesis import strategies as st

from game.engine.textsafe import one_line, terminal_safe


def test_escape_sequences_are_shown_not_sent() -> None:
    assert terminal_safe("a\x1b]52;c;aGk=\x07b") == "a\\x1b]52;c;aGk=\\x07b"
    assert terminal_safe("\x9b2J\x7f") == "\\x9b2J\\x7f"


def test_newline_and_tab_pass_and_lone_surrogates_become_replacement() -> None:
    assert terminal_safe("one\ttwo\nthree") == "one\ttwo\nthree"
    assert terminal_safe("x\ud800y") == "x\ufffdy"
    assert terminal_safe("plain £46 — fine") == "plain £46 — fine"


def test_one_line_keeps_a_value_on_one_line() -> None:
    assert one_line("evil\nfile:1:1: error: forged") == "evil\\nfile:1:1: error: forged"
    assert one_line("a\tb\rc") == "a\\tb\\x0dc"


@given(st.text())
def test_nothing_unsafe_survives(text: str) -> None:
    for out in (terminal_safe(text), one_line(text)):
        assert not any(
            (ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F or 0xD800 <= ord(c) <= 0xDFFF
            for c in out
        )
    assert "\n" not in one_line(text)
