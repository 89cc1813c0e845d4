"""Conditions, effects and text written as Python code (Story.compile_all) do exactly what
the closures of a node compiled on demand do: the same values, the same changes, the same
paragraphs, the same random draws in the same order and the same errors."""

from __future__ import annotations

import json
import random
from array import array
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from game.engine import Game, load_story
from game.engine.errors import StoryRuntimeError
from game.engine.expr import compile_expr, compile_test
from game.engine.pycode import condition_function, effects_function, value_function
from game.engine.state import State
from game.engine.story import SWITCH_RUN, compile_effects, compile_text, text_function

from .helpers import make

ROOT = Path(__file__).resolve().parents[2]

# Slots 0-3 whole numbers, 4 a flag, 5 an enum.
VARIABLES = (
    *(
        SimpleNamespace(slot=i, type="int", min=lo, max=hi, values=())
        for i, (lo, hi) in enumerate([(0, 10), (-5, 5), (0, 100), (0, 3)])
    ),
    SimpleNamespace(slot=4, type="bool", min=0, max=1, values=()),
    SimpleNamespace(slot=5, type="enum", min=0, max=0, values=("low", "mid", "high")),
    SimpleNamespace(slot=6, type="int", min=-(10**14), max=10**14, values=()),
)
NODE = 2  # the node whose text is rendered (its visit count picks sequences and cycles)

small = st.integers(-3, 12)
numbers = st.one_of(
    small.map(lambda n: ("num", n)), st.sampled_from([0.5, 2.25, -1.5]).map(lambda x: ("num", x))
)
int_vars = st.sampled_from([0, 1, 2, 3, 6]).map(lambda s: ("var", s))
numeric_leaves = st.one_of(
    numbers,
    int_vars,
    st.just(("turn",)),
    st.integers(0, 3).map(lambda i: ("visited", i)),
)
boolean_leaves = st.one_of(
    st.just(("var", 4)),
    st.sampled_from([0, 1]).map(lambda c: ("ended", c)),
    st.sampled_from(["low", "mid", "high"]).map(lambda x: ("cmp", "==", ("var", 5), ("str", x))),
)


def _numeric(children: Any) -> Any:
    return st.one_of(
        st.tuples(st.just("bin"), st.sampled_from(["+", "-", "*", "/", "//", "%"]), children, children),
        st.tuples(st.just("neg"), children),
        st.tuples(st.just("call"), st.just("abs"), children),
        st.tuples(st.just("call"), st.just("clamp"), children, children, children),
        st.tuples(st.just("call"), st.sampled_from(["min", "max"]), children),
        st.tuples(st.just("call"), st.sampled_from(["min", "max"]), children, children, children),
        st.tuples(st.just("call"), st.just("random"), children, children),
    )


numeric = st.recursive(numeric_leaves, _numeric, max_leaves=6)


def _boolean(children: Any) -> Any:
    return st.one_of(
        st.tuples(st.sampled_from(["and", "or"]), children, children),
        st.tuples(st.just("not"), children),
    )


comparisons = st.one_of(
    st.tuples(
        st.just("cmp"),
        st.sampled_from(["==", "!=", "<", "<=", ">", ">="]),
        int_vars,
        small.map(lambda n: ("num", n)),
    ),
    st.tuples(st.just("cmp"), st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), numeric, numeric),
    st.tuples(
        st.just("call"), st.just("chance"), st.sampled_from([0.0, 0.3, 0.7, 1.0]).map(lambda p: ("num", p))
    ),
    st.tuples(
        st.just("call"),
        st.just("chance"),
        st.tuples(st.just("bin"), st.just("/"), numeric, st.just(("num", 10))),
    ),
    st.tuples(st.just("or"), *[st.just(("cmp", "==", ("var", 3), ("num", n))) for n in (1, 2)]),
)
boolean = st.recursive(st.one_of(boolean_leaves, comparisons), _boolean, max_leaves=6)
expressions = st.one_of(numeric, boolean)


def _state(values: list[Any], seed: int) -> State:
    state = State(seed=seed, node=NODE, v=list(values), visits=array("q", [0, 3, 2, 7]))
    state.rng = seed
    state.turn = 5
    state.char_endings = {1: "gone"}
    return state


values = st.tuples(
    st.integers(0, 10),
    st.integers(-5, 5),
    st.integers(0, 100),
    st.integers(0, 3),
    st.booleans(),
    st.sampled_from(["low", "mid", "high"]),
    st.integers(-(10**14), 10**14),
).map(list)


def _outcome(fn: Any, state: State, *args: Any) -> tuple[Any, ...]:
    try:
        result = fn(state, *args)
    except StoryRuntimeError as exc:
        result = ("StoryRuntimeError", str(exc))
    except (TypeError, ZeroDivisionError) as exc:
        result = (type(exc).__name__,)
    return (result, type(result).__name__, list(state.v), state.rng)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(expressions, values, st.integers(0, 2**32))
def test_an_expression_as_code_gives_what_its_closure_gives(tree: Any, v: list[Any], seed: int) -> None:
    code = value_function(tree, VARIABLES)  # type: ignore[arg-type]
    assert _outcome(code, _state(v, seed)) == _outcome(compile_expr(tree), _state(v, seed))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(boolean, values, st.integers(0, 2**32))
def test_a_condition_as_code_holds_when_its_closure_holds(tree: Any, v: list[Any], seed: int) -> None:
    code, closure = (
        _outcome(condition_function(tree), _state(v, seed)),
        _outcome(compile_test(tree), _state(v, seed)),
    )
    assert code[2:] == closure[2:]  # the same draws and no change
    if isinstance(closure[0], tuple):
        assert code[0] == closure[0]  # the same error
    else:
        assert bool(code[0]) == bool(closure[0])


def _statement(children: Any) -> Any:
    return st.tuples(st.just("if"), boolean, st.lists(children, max_size=3), st.lists(children, max_size=2))


def _assignment() -> Any:
    def for_int(slot: int, op: str, tree: Any, vtype: str) -> tuple[Any, ...]:
        if tree[0] == "num" and isinstance(tree[1], float):
            vtype = "float"  # as the parser types it
        return ("set", slot, op, tree, vtype)

    return st.one_of(
        st.builds(
            for_int,
            st.sampled_from([0, 1, 2, 3, 6]),
            st.sampled_from(["=", "+=", "-=", "*="]),
            numeric,
            st.sampled_from(["int", "float"]),
        ),
        st.builds(lambda op, n: ("set", 0, op, ("num", n), "int"), st.sampled_from(["+=", "-="]), small),
        st.builds(lambda tree: ("set", 4, "=", tree, "bool"), boolean),
        st.builds(lambda b: ("set", 4, "=", ("num", b), "bool"), st.sampled_from([0, 1, True, False])),
        st.builds(lambda x: ("set", 5, "=", ("str", x), "str"), st.sampled_from(["low", "high", "nowhere"])),
        st.just(("set", 5, "=", ("var", 5), "str")),
    )


statements = st.lists(st.recursive(_assignment(), _statement, max_leaves=8), min_size=1, max_size=5)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(statements, values, st.integers(0, 2**32))
def test_effects_as_code_change_what_their_closures_change(stmts: Any, v: list[Any], seed: int) -> None:
    code = effects_function(stmts, VARIABLES)  # type: ignore[arg-type]
    closure = compile_effects(stmts, VARIABLES)  # type: ignore[arg-type]
    assert closure is not None
    assert _outcome(code, _state(v, seed)) == _outcome(closure, _state(v, seed))


words = st.sampled_from(["Rain.", "The kettle.", "A van reverses.", ""])
templates = st.one_of(
    st.tuples(st.just("p"), st.lists(words, min_size=1, max_size=2)),
    st.tuples(
        st.just("p"),
        st.tuples(
            words,
            st.tuples(
                st.just("e"), st.one_of(int_vars, st.just(("var", 5))), st.sampled_from(["int", "str"])
            ),
            words,
        ),
    ),
    st.tuples(st.just("p"), st.tuples(st.tuples(st.just("e"), numeric, st.just("float")), words)),
)


def _text_items(children: Any) -> Any:
    return st.one_of(
        st.tuples(st.just("if"), boolean, st.lists(children, max_size=2), st.lists(children, max_size=2)),
        st.tuples(
            st.sampled_from(["sequence", "cycle", "shuffle"]),
            st.lists(st.lists(children, max_size=2), min_size=1, max_size=4),
        ),
    )


text_item = st.recursive(templates, _text_items, max_leaves=8)
keyed_run = st.lists(
    st.tuples(
        st.integers(0, 3), st.one_of(st.none(), boolean), st.lists(text_item, min_size=1, max_size=2)
    ).map(
        lambda c: (
            "if",
            ("cmp", "==", ("var", 3), ("num", c[0]))
            if c[1] is None
            else ("and", c[1], ("cmp", "==", ("var", 3), ("num", c[0]))),
            c[2],
            [],
        )
    ),
    min_size=SWITCH_RUN,
    max_size=SWITCH_RUN + 2,
)
texts = st.lists(st.one_of(text_item, keyed_run.map(lambda run: ("run", run))), min_size=1, max_size=5).map(
    lambda items: [x for item in items for x in (item[1] if item[0] == "run" else [item])]
)


def _lists(x: Any) -> Any:
    """Tuples as hypothesis makes them, as lists where the IR has lists."""
    if isinstance(x, tuple) and x and x[0] == "if" and len(x) == 4 and isinstance(x[2], list):
        return ("if", x[1], [_lists(i) for i in x[2]], [_lists(i) for i in x[3]])
    if isinstance(x, tuple) and x and x[0] in ("sequence", "cycle", "shuffle"):
        return (x[0], [[_lists(i) for i in alt] for alt in x[1]])
    return x


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts, values, st.integers(0, 2**32))
def test_text_as_code_reads_as_its_closure_reads(items: Any, v: list[Any], seed: int) -> None:
    items = [_lists(i) for i in items]
    code, closure = text_function(items, NODE, VARIABLES), compile_text(items, NODE)  # type: ignore[arg-type]
    assert code is not None and closure is not None
    out_code: list[str] = []
    out_closure: list[str] = []
    assert _outcome(code, _state(v, seed), out_code) == _outcome(closure, _state(v, seed), out_closure)
    assert out_code == out_closure


BIG = ("var", 6)  # -10**14 to 10**14


@pytest.mark.parametrize(
    "tree",
    [
        ("bin", "*", BIG, BIG),
        ("bin", "*", BIG, ("num", 100)),
        ("bin", "*", ("num", 3), ("var", 2)),
        ("bin", "/", ("bin", "*", BIG, ("num", 50)), ("num", 2)),
        ("bin", "/", ("var", 2), ("num", 0)),
        ("bin", "/", ("var", 2), ("num", 0.5)),
        ("call", "clamp", ("bin", "*", BIG, ("var", 2)), ("num", 0), ("num", 10)),
    ],
)
@pytest.mark.parametrize("big", [10**14, -(10**14), 7, 0])
def test_a_calculation_past_the_limit_fails_the_same_way(tree: Any, big: int) -> None:
    v = [3, 0, 100, 0, False, "low", big]
    code = _outcome(value_function(tree, VARIABLES), _state(v, 1))  # type: ignore[arg-type]
    assert code == _outcome(compile_expr(tree), _state(v, 1))
    stmt = [("set", 6, "=", tree, "int"), ("set", 6, "*=", ("var", 6), "int")]
    effects = _outcome(effects_function(stmt, VARIABLES), _state(v, 1))  # type: ignore[arg-type]
    assert effects == _outcome(compile_effects(stmt, VARIABLES), _state(v, 1))  # type: ignore[arg-type]


def test_only_checked_constants_are_written_as_code() -> None:
    with pytest.raises(ValueError, match="no literal"):
        value_function(("bin", "+", ("var", 0), ("num", float("inf"))))
    with pytest.raises(ValueError, match="unknown expression"):
        value_function(("bin", "+", ("var", 0), ("attr", "__class__")))


def _play(story: Any, seed: int) -> list[Any]:
    seen: list[Any] = []
    rng = random.Random(seed)
    for record in (True, False):
        game = Game(story, seed=seed, record=record)
        for step in range(300):
            if game.ended:
                break
            seen.append(
                (game.passage, [(o.index, o.text, o.enabled, o.reason, o.cost) for o in game.choices])
            )
            enabled = [o.index for o in game.choices if o.enabled]
            game.choose(enabled[rng.randrange(len(enabled))])
            if record and step % 41 == 7:
                game.undo()
        seen.append(json.dumps(game.to_dict(), sort_keys=True, default=str))
    return seen


def test_the_shipped_story_compiled_all_at_once_plays_exactly_the_same() -> None:
    on_demand = load_story(ROOT / "story")
    at_once = load_story(ROOT / "story")
    game = Game(at_once, seed=3)  # under way before, and after
    game.choose(0)
    at_once.compile_all()
    assert at_once.compiler.code and not on_demand.compiler.code
    assert "<" in at_once.turns.end_of_turn.__code__.co_filename  # type: ignore[union-attr]
    for seed in (1, 7, 12):
        assert _play(at_once, seed) == _play(on_demand, seed)
    game.choose(next(o.index for o in game.choices if o.enabled))
    other = Game(on_demand, seed=3)
    other.choose(0)
    other.choose(next(o.index for o in other.choices if o.enabled))
    assert game.to_dict() == other.to_dict()


def test_what_python_cannot_compile_stays_closures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A story file can't nest deeper than 64 levels (the loader stops it), but the compiler
    # doesn't rely on Python's compiler taking whatever it builds: where it can't (too deep
    # for its recursion limit, say), closures do the job.
    head = "variables:\n  n: {type: int, initial: 0, min: 0, max: 9}\n"
    story = load_story(make(tmp_path, "nodes:\n  start:\n    text: [Hi.]\n", head=head), cache_dir=False)
    story.compile_all()
    slot = story.var_index["n"]
    stmt: Any = ("set", slot, "+=", ("num", 1), "int")
    for _ in range(30):
        stmt = (
            "if",
            ("cmp", ">=", ("var", slot), ("num", 0)),
            [stmt, ("set", slot, "+=", ("num", 0), "int")],
            [],
        )
    assert "<effects>" in story.compiler.effects([stmt]).__code__.co_filename  # type: ignore[union-attr]

    def too_deep(*_args: Any) -> Any:
        raise RecursionError("maximum recursion depth exceeded during compilation")

    monkeypatch.setattr("game.engine.story.effects_function", too_deep)
    effects = story.compiler.effects([stmt])
    assert effects is not None and "<effects>" not in effects.__code__.co_filename
    state = _state([0], 1)
    effects(state)
    assert state.v == [1]
