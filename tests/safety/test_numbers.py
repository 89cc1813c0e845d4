"""Numbers stay finite: no expression yields infinity, NaN or a number too long to print, in any
kind of expression; constant cases are `iom check` errors, run-time ones a clean story fault."""

from __future__ import annotations

import io
import math
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from game.engine import Game, StoryRuntimeError, check
from game.engine import expr as ex
from game.engine.textsafe import UNSAFE
from game.plain import run_plain

from ..conftest import ROOT, write_story
from ..engine.test_expr import Scope, State

BIG = "1000000000000 * 1000000000000"  # 10^24: beyond the limit, made of constants
GROWS = "x * x * x"  # 10^27 when x is at its maximum, 10^9


def _story(tmp_path, place: str, expr: str):
    """A story with `expr` in one kind of place, reached by taking choice 1 at the start."""
    node_text = "Start."
    choice = "      - text: Go\n        goto: next\n"
    extra = ""
    turns = ""
    if place == "assignment":
        choice = f"      - text: Go\n        effects: ['y = {expr}']\n        goto: next\n"
    elif place == "multiply-assign":
        choice = f"      - text: Go\n        effects: ['y *= {expr}']\n        goto: next\n"
    elif place == "add-assign":
        choice = f"      - text: Go\n        effects: ['y += {expr} / 1']\n        goto: next\n"
    elif place == "condition":
        choice = (
            f"      - text: Go\n        effects: [{{if: '{expr} > 3', then: [y = 1]}}]\n        goto: next\n"
        )
    elif place == "branch":
        choice = "      - text: Go\n        goto: fork\n"
        extra = f"  fork:\n    branch:\n      - if: '{expr} > 1'\n        goto: next\n      - goto: next\n"
    elif place == "interpolation":
        extra_text = f"Value {{{expr}}}."
        choice = "      - text: Go\n        goto: shown\n"
        extra = f"  shown:\n    text: '{extra_text}'\n    goto: next\n"
    elif place == "random-bound":
        choice = f"      - text: Go\n        effects: ['y = random(0, {expr})']\n        goto: next\n"
    elif place == "weight":
        choice = "      - text: Go\n        goto: roll\n"
        extra = f"  roll:\n    random:\n      - weight: '{expr}'\n        goto: next\n      - weight: 1\n        goto: next\n"
    elif place == "chance":
        choice = f"      - text: Go\n        effects: [{{if: 'chance({expr})', then: [y = 1]}}]\n        goto: next\n"
    elif place == "cost":
        choice = f"      - text: Go\n        cost: {{y: '{expr}'}}\n        goto: next\n"
    elif place == "refill":
        turns = f"turns:\n  budget: y\n  refill: '{expr}'\n  hub: m.start\n"
        choice = "      - text: Go\n        goto: <end-turn>\n"
        node_text = "Start."
    elif place == "end-of-turn":
        turns = f"turns:\n  hub: m.start\n  end_of_turn: ['y = {expr}']\n"
        choice = "      - text: Go\n        goto: <end-turn>\n"
    else:
        raise AssertionError(place)
    hub = "    hub: true\n" if turns else ""
    return write_story(
        tmp_path / place,
        {
            "story.yaml": "id: n\ntitle: N\nstart: m.start\nvariables:\n"
            "  x: {type: int, initial: 1000000000, min: 0, max: 1000000000}\n"
            "  y: {type: int, initial: 5, min: 0, max: 1000000000}\n" + turns,
            "m.yaml": f"nodes:\n  start:\n{hub}    text: {node_text}\n    choices:\n{choice}"
            "      - text: Stop\n        goto: next\n"
            f"{extra}  next:\n    text: Done.\n    ending: {{id: e, title: E}}\n",
        },
    )


PLACES = [
    "assignment",
    "multiply-assign",
    "add-assign",
    "condition",
    "branch",
    "interpolation",
    "random-bound",
    "weight",
    "chance",
    "cost",
    "refill",
    "end-of-turn",
]


@pytest.mark.parametrize("place", PLACES)
def test_a_constant_calculation_beyond_the_limit_is_a_check_error(tmp_path, place):
    story, problems = check(_story(tmp_path, place, BIG), cache_dir=False)
    assert story is None
    errors = [str(p) for p in problems if p.severity == "error"]
    assert any("beyond the limit of ±1,000,000,000,000,000" in e for e in errors), errors
    assert all(e.split(":")[0] in ("story.yaml", "m.yaml") for e in errors)


@pytest.mark.parametrize("place", PLACES)
def test_a_calculation_that_grows_beyond_the_limit_is_a_clean_story_fault(tmp_path, place):
    story, problems = check(_story(tmp_path, place, GROWS), cache_dir=False)
    assert story is not None, [str(p) for p in problems]
    if place == "cost":
        # A cost is worked out to show the choice, so the fault comes as the passage is shown.
        with pytest.raises(StoryRuntimeError, match="beyond the limit"):
            Game(story, seed=1)
        return
    game = Game(story, seed=1)
    before = (list(game.v), [o.text for o in game.choices], list(game.passage))
    with pytest.raises(StoryRuntimeError, match="beyond the limit"):
        game.choose(0)
    assert (list(game.v), [o.text for o in game.choices], list(game.passage)) == before  # undone
    game.choose(1)
    assert game.ended


def test_plain_mode_reports_a_number_fault_and_plays_on(tmp_path):
    story, _ = check(_story(tmp_path, "assignment", GROWS), cache_dir=False)
    out = io.StringIO()
    code = run_plain(Game(story, seed=1), tmp_path / "saves", io.BytesIO(b"1\n2\n"), out)
    text = out.getvalue()
    assert "The story has a fault and can't go on from here: a calculation gives" in text
    assert "Ending: E" in text and code == 0
    assert "Traceback" not in text


def test_a_fault_at_the_very_start_is_one_line_from_the_cli(tmp_path):
    root = write_story(
        tmp_path / "s",
        {
            "story.yaml": "id: n\ntitle: N\nstart: m.start\nvariables:\n"
            "  x: {type: int, initial: 1000000000, min: 0, max: 1000000000}\n",
            "m.yaml": "nodes:\n  start:\n    text: 'Big {x * x * x}'\n    ending: {id: e, title: E}\n",
        },
    )
    out = subprocess.run(
        [sys.executable, "-m", "game", "play", "--plain", "--story", str(root)],
        capture_output=True,
        cwd=ROOT,
        timeout=60,
        input=b"",
    )
    assert out.returncode == 1
    assert out.stderr.startswith(b"iom: the story can't start: a calculation gives")
    assert b"Traceback" not in out.stderr


def test_playtest_counts_a_number_fault_as_a_crash(tmp_path, capsys):
    from game import cli

    root = _story(tmp_path, "assignment", GROWS)
    code = cli.main(
        ["playtest", str(root), "--runs", "20", "--jobs", "1", "--no-progress", "--strategy", "first"]
    )
    out = capsys.readouterr().out
    assert code == 1 and "beyond the limit" in out


@pytest.mark.parametrize(
    ("src", "message"),
    [
        ("random(10, 1)", "random(10, 1) has its bounds the wrong way round: write random(1, 10)"),
        ("random(-1, -5)", "random(-1, -5) has its bounds"),
        ("random(2 * 3, 1)", "random(6, 1) has its bounds"),
        ("1000000000000 * 1001", "beyond the limit"),
        ("1 / 0.000001 * 1000000000000", "beyond the limit"),
        ("-1000000000000 * 1000000000000", "beyond the limit"),
        ("max(1000000000000, 1) * 100000", "beyond the limit"),
        ("10000000000000", "number is too large"),
    ],
)
def test_check_flags_constant_cases(src, message):
    with pytest.raises(ex.ExprError) as err:
        ex.parse(src, Scope())
    assert message in err.value.message


def test_constant_cases_within_the_limit_are_fine():
    for src in ("random(1, 10)", "random(a, 1)", "1000000000000 * 1000", "1 / 3", "5 // 0", "7 % 0"):
        ex.parse(src, Scope())


_OPS = st.sampled_from(["+", "-", "*", "/", "//", "%"])
_LEAF = st.one_of(
    st.sampled_from(["a", "b", "999999999999", "0.000001", "0", "1000000000000", "turn"]),
    st.integers(0, 10**12).map(str),
)


@st.composite
def _expressions(draw, depth=0):
    if depth > 4 or draw(st.booleans()):
        return draw(_LEAF)
    kind = draw(st.sampled_from(["op", "op", "neg", "call"]))
    if kind == "neg":
        return f"-({draw(_expressions(depth + 1))})"
    if kind == "call":
        fn = draw(st.sampled_from(["min", "max", "abs", "random"]))
        left = draw(_expressions(depth + 1))
        if fn == "abs":
            return f"abs({left})"
        return f"{fn}({left}, {draw(_expressions(depth + 1))})"
    return f"({draw(_expressions(depth + 1))} {draw(_OPS)} {draw(_expressions(depth + 1))})"


@settings(max_examples=300, deadline=None)
@given(_expressions(), st.integers(-(10**9), 10**9), st.integers(-(10**9), 10**9), st.integers(0, 10**6))
def test_no_expression_yields_a_non_finite_number(src, a, b, turn):
    try:
        tree, _t = ex.parse(src, Scope())
    except ex.ExprError as exc:
        assert "beyond the limit" in exc.message or "bounds the wrong way" in exc.message
        return
    try:
        value = ex.compile_expr(tree)(State((a, b, True, "community"), turn=turn))
    except StoryRuntimeError as exc:
        assert "beyond the limit" in str(exc)
        return
    assert math.isfinite(value)
    assert abs(value) < 10**19
    assert not UNSAFE.search(str(value))
