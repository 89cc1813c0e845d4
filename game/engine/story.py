"""The compiled story: immutable after loading, shared by every game played from it."""

from __future__ import annotations

import ast
import gc
import hashlib
import marshal
from array import array
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, TypeVar

from .expr import FLOAT, checked_mul, compile_expr, compile_test, var_const_test
from .ir import IREvent, IRNode
from .loader import END_TURN, HUB
from .plan import expr_nodes, uses_randomness
from .pycode import (
    CANNOT_WRITE,
    Writer,
    assign,
    attr,
    call,
    condition_function,
    do,
    effects_function,
    item,
    literal,
    load,
    value_function,
    when,
)

Fn = Callable[[Any], Any]
_T = TypeVar("_T")
Effect = Callable[[Any], None]

__all__ = ["END_TURN", "HUB", "Story", "Variable", "Character", "Ending", "Node", "Choice"]


@dataclass(frozen=True, slots=True)
class Variable:
    """A declared variable (one per character for character variables)."""

    slot: int
    name: str
    base: str
    type: str
    initial: Any
    min: int
    max: int
    values: tuple[str, ...]
    label: str
    group: str
    display: str
    track: bool
    description: str
    unit: str
    character: str | None
    # The case the variable belongs to: its character, or the `character` of the scene file
    # that declared it.
    case: str | None = None
    # Which way is an improvement: "higher" (the default) or "lower" (e.g. offences).
    better: str = "higher"


@dataclass(frozen=True, slots=True)
class Character:
    """A person in the story."""

    index: int
    id: str
    name: str
    description: str


@dataclass(frozen=True, slots=True)
class Ending:
    """An ending: of the whole story, or (with `character`) of one character's story."""

    id: str
    title: str
    category: str
    character: str | None
    node: str


class Choice:
    """A compiled choice (or a hub event offered as a choice)."""

    __slots__ = (
        "uid",
        "text",
        "const_text",
        "cond",
        "reason",
        "cost",
        "effects",
        "target",
        "once",
        "fallback",
        "event",
        "shown",
        "_ref",
        "_key",
        "_siblings",
        "adjust",
    )

    def __init__(self) -> None:
        self.uid = 0
        self.text: Callable[[Any], str] = _const("")
        self.cond: Fn | None = None
        self.reason: Callable[[Any], str] | None = None
        self.cost: tuple[tuple[int, Fn], ...] = ()
        self.effects: Effect | None = None
        self.target = 0
        self.once = False
        self.fallback = False
        self.event: Event | None = None
        self.const_text: str | None = None  # set when the text has no {interpolation}
        self.shown: dict[int, Any] | None = None  # reusable Option objects for an always-enabled choice
        self._ref: str | None = ""
        # What the key is made from (its id, or its text and where it goes), and the node's
        # other choices (two identical ones are told apart by their order).
        self._key: tuple[Any, ...] = ()
        self._siblings: tuple[Choice, ...] = ()
        # When its effects are only `x += constant` / `x -= constant` on whole numbers: those
        # changes as data, (slot, amount, min, max) each, which taking the choice applies
        # itself (the same as calling `effects`, with fewer objects to reach in memory).
        self.adjust: tuple[tuple[int, int, int, int], ...] | None = None

    @property
    def ref(self) -> str:
        """The choice's key, which saves record it by: "c:<id>" from its `id`, else "c:~" and a
        digest of its text and where it goes; "e:<node>" for an event. Worked out when first
        asked for (saving needs it; playing doesn't)."""
        ref = self._ref
        if ref is None:
            for ch, key in zip(
                self._siblings, _unique([_choice_key(*c._key) for c in self._siblings]), strict=True
            ):
                ch._ref = key
            ref = self._ref
            assert ref is not None
        return ref

    @ref.setter
    def ref(self, value: str) -> None:
        self._ref = value


class Event:
    """A storylet: a node that hubs offer while its condition holds."""

    __slots__ = ("node", "priority", "weight", "once", "cooldown", "forced", "tags", "_choice", "_make")

    def __init__(self, make: Callable[[Event], Choice] | None = None) -> None:
        self.node = 0
        self.priority = 0
        self.weight: Fn = _const(1)
        self.once = False
        self.cooldown = 0
        self.forced = False
        self.tags: frozenset[str] | None = None
        self._choice: Choice | None = None
        self._make = make

    @property
    def choice(self) -> Choice:
        """How the event is offered (title, condition, cost), compiled when first needed."""
        ch = self._choice
        if ch is None:
            ch = self._choice = self._make(self) if self._make is not None else Choice()
            ch.event = self
        return ch

    def reset(self) -> None:
        """Forget the choice made, to be made again when next needed."""
        self._choice = None


class Node:
    """A compiled node."""

    __slots__ = (
        "index",
        "id",
        "scene",
        "file",
        "line",
        "title",
        "character",
        "text",
        "effects",
        "choices",
        "nav",
        "goto",
        "outs",
        "ending",
        "hub_tags",
        "hub_limit",
        "is_hub",
        "event",
        "fallback",
        "offer",
        "plain",
        "shown",
        "plain_key",
        "by_values",
        "paragraphs",
        "simple",
        "fresh",
        "hub_plan",
        "menu",
    )

    def __init__(self) -> None:
        self.index = 0
        self.id = ""
        self.scene = ""
        self.file = ""
        self.line = 0
        self.title: str | None = None
        self.character: str | None = None
        self.text: Callable[[Any, list[str]], None] | None = None
        self.effects: Effect | None = None
        self.choices: tuple[Choice, ...] = ()
        self.fallback: Choice | None = None
        self.nav = "choices"  # choices, goto, random, branch, end
        self.goto = 0
        self.outs: tuple[tuple[Fn | None, Effect | None, int], ...] = ()
        self.ending: Ending | None = None
        self.is_hub = False
        self.hub_tags: frozenset[str] | None = None
        self.hub_limit: int | None = None
        self.event: Event | None = None
        # The choices unpacked for the play loop: (choice, condition, has no reason, cost, once,
        # uid, whether its label or reason draws random numbers).
        self.offer: tuple[tuple[Any, ...], ...] = ()
        # When every choice is as simple as they come (a fixed label, perhaps a condition, no
        # reason, cost or `once`): (condition, its `var_const_test` or None, choice) rows, and
        # the Options made so far for each set of choices that were on offer together.
        # Otherwise None.
        self.plain: tuple[tuple[Fn | None, Any, Choice], ...] | None = None
        self.shown: dict[tuple[Choice, ...], list[Any]] = {}
        # When the plain choices' conditions read only variables: those variables' values (a
        # C-level getter), and the Options for each combination of them seen so far.
        self.plain_key: Callable[[list[Any]], Any] | None = None
        self.by_values: dict[Any, list[Any]] = {}
        # When the text is fixed paragraphs: those paragraphs (the text renderer adds them too).
        self.paragraphs: tuple[str, ...] | None = None
        # Whether entering the node only shows text and offers plain choices: no hub, ending,
        # goto, branch or random outcome.
        self.simple = False
        self.fresh = True  # its plain choices were never offered yet
        self.hub_plan: Any = None  # a hub's plan (see plan.py), once worked out
        # Whether it is a hub that only shows text and offers its choices and events: no
        # ending, goto, branch or random outcome.
        self.menu = False


@dataclass(frozen=True, slots=True)
class Turns:
    """How time passes: counter and budget variables, refill, hub and end-of-turn rules."""

    counter: int | None
    budget: int | None
    refill: Fn | None
    hub: int
    end_of_turn: Effect | None


@dataclass(frozen=True)
class Story:
    """A loaded, checked and compiled story. Create games from it with `Game(story, seed)`."""

    id: str
    title: str
    about: dict[str, Any]
    start: int
    variables: tuple[Variable, ...]
    characters: tuple[Character, ...]
    nodes: list[Node | None]
    node_ids: tuple[str, ...]
    events: tuple[Event, ...]
    turns: Turns | None
    content_hash: str
    warnings: tuple[Any, ...] = ()
    node_index: dict[str, int] = field(default_factory=dict)
    var_index: dict[str, int] = field(default_factory=dict)
    tracked: tuple[int, ...] = ()
    endings: tuple[Ending, ...] = ()
    compiler: Any = None
    initial_values: tuple[Any, ...] = ()
    zero_visits: array[int] = field(default_factory=lambda: array("q"))  # a visit count per node, all 0
    _hub_events: dict[int, tuple[tuple[Event, ...], tuple[Event, ...]]] = field(default_factory=dict)
    char_index: dict[str, int] = field(default_factory=dict)
    playtest: dict[str, Any] = field(default_factory=dict)  # the story's own strategies for iom playtest
    runtime: dict[str, Any] = field(
        default_factory=dict, compare=False, repr=False
    )  # what play works out once

    def node_at(self, index: int) -> Node:
        """The compiled node at an index (compiled now if it never was)."""
        node = self.nodes[index]
        if node is None:
            # Compiling makes many small objects that all live as long as the story. Left to the
            # collector, they are scanned again by every later full collection (which, as they
            # pile up, comes more and more often): half of a first playthrough's time on a
            # large story. So they go to the collector's permanent generation as they are made.
            # (A freeze also keeps whatever else is young at that moment; it happens at most
            # once per node per story, so that cost is bounded.)
            if gc.isenabled():
                gc.disable()
                try:
                    node = self.nodes[index] = self.compiler.node(index)
                finally:
                    gc.freeze()
                    gc.enable()
            else:
                node = self.nodes[index] = self.compiler.node(index)
        return node

    def hub_events(self, node: Node) -> tuple[tuple[Event, ...], tuple[Event, ...]]:
        """(forced, offered) events a hub can have, by its tags; forced highest priority first."""
        found = self._hub_events.get(node.index)
        if found is None:
            tags = node.hub_tags
            fits = [ev for ev in self.events if tags is None or (ev.tags is not None and tags & ev.tags)]
            found = self._hub_events[node.index] = (
                tuple(ev for ev in fits if ev.forced),
                tuple(ev for ev in fits if not ev.forced),
            )
        return found

    def compile_all(self) -> None:
        """Compile every node now (games otherwise compile each node when first reached), for
        a story that is to be played many times in this process (playtests, servers).

        Compiled this way, conditions and effects are Python code (see pycode): slower to
        make than the closures of a node compiled on demand, faster to run. Nodes, events and
        the weekly rules compiled before are compiled again the same way; they do exactly what
        they did, so games under way go on as they were.

        The compiled nodes then live as long as the process, so they go to the collector's
        permanent generation: otherwise every full collection would walk them all again."""
        compiler = self.compiler
        again = not compiler.code
        compiler.code = True
        enabled = gc.isenabled()
        gc.disable()
        try:
            nodes = self.nodes
            for i in range(len(nodes)):
                if again or nodes[i] is None:
                    nodes[i] = compiler.node(i)
            if again:
                for ev in self.events:
                    compiler.recompile_event(ev)
                # The story is otherwise immutable: this swaps the rules for the same rules.
                object.__setattr__(self, "turns", compiler.turns())
        finally:
            gc.freeze()
            if enabled:
                gc.enable()

    def node(self, node_id: str) -> Node:
        """The node with this full id (KeyError if there is none)."""
        return self.node_at(self.node_index[node_id])

    def ir_node(self, index: int) -> IRNode:
        """The checked, uncompiled form of a node (for tools that inspect the whole story)."""
        node: IRNode = self.compiler.ir_nodes[index]
        return node

    def ir_event(self, index: int) -> IREvent:
        """The checked, uncompiled event of an event node."""
        return ir_event(self.compiler.ir_nodes[index])

    def ir_turns(self) -> dict[str, Any] | None:
        """The checked, uncompiled `turns` section, or None (for tools that inspect the story)."""
        return self.compiler.ir_turns  # type: ignore[no-any-return]

    def variable(self, name: str) -> Variable:
        """The variable with this full name (KeyError if there is none)."""
        return self.variables[self.var_index[name]]

    def character(self, char_id: str) -> Character | None:
        for c in self.characters:
            if c.id == char_id:
                return c
        return None


def _const(value: Any) -> Callable[[Any], Any]:
    return lambda st: value


def _fixed(text: str) -> Callable[[Any], str]:
    """A renderer of fixed text. Without braces in it, the string's own `format` is one: it
    returns the text as it is, whatever it is given (a C call, and no closure to make)."""
    if "{" in text or "}" in text:
        return lambda st: text
    return text.format


def _fmt(value: Any) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))
    return str(value)


def compile_template(parts: tuple[Any, ...]) -> Callable[[Any], str]:
    """A text template: literal parts and ("e", tree) parts joined at render time."""
    if all(type(p) is str for p in parts):
        return _fixed("".join(parts))
    pieces: list[str] = []
    fns: list[Fn] = []
    # `{var}` of an int or enum variable needs no formatting: read the slots directly.
    slots = [p[1][1] for p in parts if not isinstance(p, str) and p[1][0] == "var" and p[2] in ("int", "str")]
    direct = len(slots) == sum(1 for p in parts if not isinstance(p, str))
    for p in parts:
        if isinstance(p, str):
            pieces.append(p.replace("{", "{{").replace("}", "}}"))
        else:
            pieces.append("{}")
            fns.append(compile_expr(p[1]))
    fmt = "".join(pieces).format
    if direct and len(slots) == 1:
        (s1,) = slots
        return lambda st: fmt(st.v[s1])
    if direct and len(slots) == 2:
        s1, s2 = slots
        return lambda st: fmt(st.v[s1], st.v[s2])
    if direct:
        return lambda st: fmt(*[st.v[s] for s in slots])
    if len(fns) == 1:
        (f,) = fns

        def one(st: Any) -> str:
            x = f(st)
            return fmt(x if type(x) is int or type(x) is str else _fmt(x))

        return one

    def many(st: Any) -> str:
        return fmt(*[x if type(x) is int or type(x) is str else _fmt(x) for x in [f(st) for f in fns]])

    return many


def fixed_paragraphs(items: list[Any]) -> tuple[str, ...] | None:
    """The paragraphs of a text that is always the same, or None."""
    if items and all(item[0] == "p" and all(isinstance(x, str) for x in item[1]) for item in items):
        return tuple("".join(item[1]) for item in items)
    return None


def _adding(paragraphs: tuple[str, ...]) -> Callable[[Any, list[str]], None]:
    return lambda st, out: out.extend(paragraphs)


def compile_text(items: list[Any], node_index: int) -> Callable[[Any, list[str]], None] | None:
    """Compile text items into a renderer that appends paragraphs to a list."""
    if not items:
        return None
    paragraphs = fixed_paragraphs(items)
    if paragraphs is not None:
        return _adding(paragraphs)
    if all(item[0] == "p" for item in items):
        # Plain paragraphs, some with {interpolation}: one loop, no renderer per paragraph.
        plain = [
            (True, "".join(item[1]))
            if all(isinstance(x, str) for x in item[1])
            else (False, compile_template(item[1]))
            for item in items
        ]

        def paragraphs_only(st: Any, out: list[str]) -> None:
            append = out.append
            for is_text, p in plain:
                append(p if is_text else p(st))  # type: ignore[operator,arg-type]

        return paragraphs_only
    renderers = []
    at = 0
    while at < len(items):
        run = _keyed_run(items, at)
        if run is not None:
            slot, cases, at = run
            renderers.append(_switch(slot, cases, node_index))
        else:
            renderers.append(_compile_text_item(items[at], node_index))
            at += 1

    def render(st: Any, out: list[str]) -> None:
        for r in renderers:
            r(st, out)

    return render


def text_function(
    items: list[Any], node_index: int, variables: Sequence[Variable] | None = None
) -> Callable[[Any, list[str]], None] | None:
    """`compile_text`'s renderer as Python code (see pycode), for Story.compile_all: the same
    paragraphs from the same tests, draws and visit counts, in one function."""
    if not items:
        return None
    paragraphs = fixed_paragraphs(items)
    if paragraphs is not None:
        return _adding(paragraphs)
    w = Writer(variables)
    body = [assign("append", attr(load("out"), "append")), *_text_code(w, items, node_index)]
    return w.function("text", body, ("st", "out"))


def _text_code(w: Writer, items: list[Any], node_index: int) -> list[ast.stmt]:
    paragraphs = fixed_paragraphs(items)
    if paragraphs is not None:
        return [do(call("append", literal(p))) for p in paragraphs]
    out: list[ast.stmt] = []
    at = 0
    while at < len(items):
        run = _keyed_run(items, at) if items[at][0] == "if" else None
        if run is not None:
            slot, cases, at = run
            out.append(do(call(w.const(_switch(slot, cases, node_index)), load("st"), load("out"))))
            continue
        entry = items[at]
        at += 1
        kind = entry[0]
        if kind == "p":
            parts = entry[1]
            if all(isinstance(x, str) for x in parts):
                out.append(do(call("append", literal("".join(parts)))))
            else:
                out.append(do(call("append", call(w.const(compile_template(parts)), load("st")))))
        elif kind == "if":
            then = _text_code(w, entry[2], node_index) if entry[2] else []
            other = _text_code(w, entry[3], node_index) if entry[3] else []
            out.append(when(w.test(entry[1]), then, other))
        else:
            count = len(entry[1])
            visits = item(attr(load("st"), "visits"), int(node_index)) if kind != "shuffle" else None
            if visits is not None and kind == "sequence":
                # int(min(visits, count)) - 1
                pick: ast.expr = ast.BinOp(
                    left=call("_int", call("_min", visits, literal(count))), op=ast.Sub(), right=literal(1)
                )
            elif visits is not None:
                # int(visits - 1) % count
                pick = ast.BinOp(
                    left=call("_int", ast.BinOp(left=visits, op=ast.Sub(), right=literal(1))),
                    op=ast.Mod(),
                    right=literal(count),
                )
            else:
                pick = call("_int", call(attr(load("st"), "randint"), literal(0), literal(count - 1)))
            fixed = [fixed_paragraphs(a) if a else () for a in entry[1]]
            if all(f is not None for f in fixed):
                chosen = item(w.const(tuple(fixed)), call("_max", literal(0), pick))
                out.append(do(call(attr(load("out"), "extend"), chosen)))
            else:
                alternatives = tuple(compile_text(a, node_index) for a in entry[1])
                t = w.temp()
                out.append(assign(t, item(w.const(alternatives), call("_max", literal(0), pick))))
                present = ast.Compare(left=load(t), ops=[ast.IsNot()], comparators=[ast.Constant(value=None)])
                out.append(when(present, [do(call(load(t), load("st"), load("out")))]))
    return out


SWITCH_RUN = 4  # consecutive `if` paragraphs keyed on one variable that are worth a table


def _values_read(tests: list[Any]) -> Callable[[list[Any]], Any] | None:
    """A getter of the variables these tests read, when that is all they read (no visit
    counts, turn, endings or random draws): what they come to depends on those values alone."""
    reads: set[int] = set()
    for test in tests:
        if test is None:
            continue
        if test[0] == "cmp" and test[2][0] == "var" and test[3][0] in ("num", "str"):
            reads.add(test[2][1])  # `x >= 3`, the commonest, without walking the tree
            continue
        for t, _parent in expr_nodes(test):
            kind = t[0]
            if kind == "var":
                reads.add(t[1])
            elif kind in ("turn", "visited", "ended") or (kind == "call" and t[1] in ("chance", "random")):
                return None
    return itemgetter(*sorted(reads)) if reads else None


def _keyed_run(items: list[Any], at: int) -> tuple[int, list[tuple[Any, Any, Any]], int] | None:
    """A run of `if` items from `at` on, without `else`, each testing `x == <constant>` (alone
    or in an `and`, without random draws) on the same variable x: (x's slot, each item's
    (constant, the rest of its test or None, its text), where the run ends). At most one
    constant can match, so only the items with that one need testing: the weekly paragraphs of
    a hub become a table lookup instead of fifty tests."""
    slot = None
    cases: list[tuple[Any, Any, Any]] = []
    end = at
    while end < len(items):
        item = items[end]
        if item[0] != "if" or item[3] or uses_randomness(item[1]):
            break
        parts = _conjuncts(item[1])
        key = next(
            (
                p
                for p in parts
                if p[0] == "cmp"
                and p[1] == "=="
                and p[2][0] == "var"
                and p[3][0] in ("num", "str")
                and (slot is None or p[2][1] == slot)
            ),
            None,
        )
        if key is None:
            break
        slot = key[2][1]
        rest = [p for p in parts if p is not key]
        test = None
        for p in rest:
            test = p if test is None else ("and", test, p)
        cases.append((key[3][1], test, item[2]))
        end += 1
    if slot is None or len(cases) < SWITCH_RUN:
        return None
    return slot, cases, end


def _conjuncts(tree: Any) -> list[Any]:
    if tree[0] == "and":
        return _conjuncts(tree[1]) + _conjuncts(tree[2])
    return [tree]


def _switch(
    slot: int, cases: list[tuple[Any, Any, Any]], node_index: int
) -> Callable[[Any, list[str]], None]:
    table: dict[Any, list[tuple[Any, Any]]] = {}
    for value, test, text in cases:
        table.setdefault(value, []).append(
            (None if test is None else compile_test(test), compile_text(text, node_index))
        )

    def switch(st: Any, out: list[str]) -> None:
        found = table.get(st.v[slot])
        if found is None:
            return
        for test, then in found:
            if then is not None and (test is None or test(st)):
                then(st, out)

    return switch


def _compile_text_item(item: Any, node_index: int) -> Callable[[Any, list[str]], None]:
    kind = item[0]
    if kind == "p":
        t = compile_template(item[1])
        return lambda st, out: out.append(t(st))
    if kind == "if":
        cond = compile_test(item[1])
        then = compile_text(item[2], node_index)
        other = compile_text(item[3], node_index)

        def conditional(st: Any, out: list[str]) -> None:
            r = then if cond(st) else other
            if r is not None:
                r(st, out)

        return conditional
    alternatives = [compile_text(a, node_index) for a in item[1]]
    count = len(alternatives)

    if kind == "sequence":

        def pick(st: Any) -> int:
            return int(min(st.visits[node_index], count)) - 1
    elif kind == "cycle":

        def pick(st: Any) -> int:
            return int(st.visits[node_index] - 1) % count
    else:

        def pick(st: Any) -> int:
            return int(st.randint(0, count - 1))

    def variation(st: Any, out: list[str]) -> None:
        r = alternatives[max(0, pick(st))]
        if r is not None:
            r(st, out)

    return variation


def compile_effects(stmts: list[Any] | None, variables: tuple[Variable, ...]) -> Effect | None:
    """Compile a list of effect statements into one function of the game state."""
    if not stmts:
        return None
    fns: list[Effect] = []
    pending: list[tuple[int, int, int, int]] = []  # consecutive `int += / -= constant`
    for stmt in stmts:
        change = _int_change(stmt, variables)
        if change is not None:
            pending.append(change)
            continue
        if pending:
            fns.append(_adjust(pending))
            pending = []
        fns.append(_compile_stmt(stmt, variables))
    if pending:
        fns.append(_adjust(pending))
    if len(fns) == 1:
        return fns[0]

    def run_all(st: Any) -> None:
        for f in fns:
            f(st)

    return run_all


def _int_change(stmt: Any, variables: tuple[Variable, ...]) -> tuple[int, int, int, int] | None:
    """(slot, amount, min, max) for `x += constant` or `x -= constant` on a whole-number
    variable, the commonest effect; None for any other statement."""
    if (
        stmt[0] == "set"
        and stmt[2] in ("+=", "-=")
        and stmt[3][0] == "num"
        and stmt[4] != FLOAT
        and variables[stmt[1]].type == "int"
    ):
        var = variables[stmt[1]]
        delta = stmt[3][1] if stmt[2] == "+=" else -stmt[3][1]
        return stmt[1], int(delta), var.min, var.max
    return None


def int_changes(
    stmts: list[Any] | None, variables: tuple[Variable, ...]
) -> tuple[tuple[int, int, int, int], ...] | None:
    """The changes of effects that are all `x += constant` or `x -= constant` on whole-number
    variables, as data (see `Choice.adjust`); None when any is something else, or none."""
    if not stmts:
        return None
    changes = []
    for stmt in stmts:
        change = _int_change(stmt, variables)
        if change is None:
            return None
        changes.append(change)
    return tuple(changes)


def _adjust(changes: Sequence[tuple[int, int, int, int]]) -> Effect:
    """Several `var += constant` effects as one function."""
    if len(changes) == 1:
        ((slot, delta, lo, hi),) = changes

        def one(st: Any) -> None:
            v = st.v
            x = v[slot] + delta
            v[slot] = lo if x < lo else hi if x > hi else x

        return one
    items = tuple(changes)

    def many(st: Any) -> None:
        v = st.v
        for slot, delta, lo, hi in items:
            x = v[slot] + delta
            v[slot] = lo if x < lo else hi if x > hi else x

    return many


def _compile_stmt(stmt: Any, variables: tuple[Variable, ...]) -> Effect:
    if stmt[0] == "if":
        cond = compile_test(stmt[1])
        then = compile_effects(stmt[2], variables)
        other = compile_effects(stmt[3], variables)

        if other is None and then is not None:
            only = then

            def when(st: Any) -> None:
                if cond(st):
                    only(st)

            return when

        def conditional(st: Any) -> None:
            f = then if cond(st) else other
            if f is not None:
                f(st)

        return conditional
    _, slot, op, tree, vtype = stmt
    var = variables[slot]
    if tree[0] in ("num", "str") and op == "=" and var.type != "int":
        const = bool(tree[1]) if var.type == "bool" else tree[1]
        if var.type == "enum" and const not in var.values:
            return lambda st: None

        def set_const(st: Any) -> None:
            st.v[slot] = const

        return set_const
    value = compile_expr(tree)
    if var.type == "bool":
        return lambda st: st.v.__setitem__(slot, bool(value(st)))
    if var.type == "enum":
        allowed = frozenset(var.values)

        def set_enum(st: Any) -> None:
            new = value(st)
            if new in allowed:
                st.v[slot] = new

        return set_enum
    lo, hi = var.min, var.max
    floor = vtype == FLOAT
    if op == "+=" and tree[0] == "num" and not floor:
        c = tree[1]

        def add_const(st: Any) -> None:
            v = st.v
            x = v[slot] + c
            v[slot] = lo if x < lo else hi if x > hi else x

        return add_const
    if op == "-=" and tree[0] == "num" and not floor:
        c = tree[1]

        def sub_const(st: Any) -> None:
            v = st.v
            x = v[slot] - c
            v[slot] = lo if x < lo else hi if x > hi else x

        return sub_const

    def assign(st: Any) -> None:
        v = st.v
        rhs = value(st)
        if op == "=":
            x = rhs
        elif op == "+=":
            x = v[slot] + rhs
        elif op == "-=":
            x = v[slot] - rhs
        else:
            x = checked_mul(v[slot], rhs)
        x = int(x // 1) if isinstance(x, float) else int(x)
        v[slot] = lo if x < lo else hi if x > hi else x

    return assign


MAX_CHOICES_PER_NODE = 1024


def _choice_key(choice_id: str | None, text: tuple[Any, ...], target: int, node_ids: tuple[str, ...]) -> str:
    """A key for a choice that survives reordering and insertion: its `id`, else a digest of
    its text and where it goes (so a changed label or target is a different choice)."""
    if choice_id:
        return f"c:{choice_id}"
    where = node_ids[target] if target >= 0 else {HUB: "<hub>", END_TURN: "<end-turn>"}.get(target, "?")
    digest = hashlib.blake2b(repr((text, where)).encode("utf-8", "surrogatepass"), digest_size=6)
    return f"c:~{digest.hexdigest()}"


def _unique(keys: list[str]) -> list[str]:
    """The keys, the second and later of equal ones numbered (two identical choices in a node)."""
    seen: dict[str, int] = {}
    out = []
    for key in keys:
        n = seen[key] = seen.get(key, 0) + 1
        out.append(key if n == 1 else f"{key}#{n}")
    return out


def choice_uid(node_index: int, choice_index: int) -> int:
    """A stable number for a node's choice (events use -1 - node index)."""
    return node_index * MAX_CHOICES_PER_NODE + choice_index


class _Compiler:
    """Compiles IR nodes into runtime nodes, on demand: a story pays only for what is played."""

    def __init__(
        self,
        ir_nodes: PackedNodes,
        node_ids: tuple[str, ...],
        variables: tuple[Variable, ...],
        characters: tuple[Character, ...],
        endings: dict[str, Ending],
    ) -> None:
        self.ir_nodes = ir_nodes
        self.node_ids = node_ids
        self.variables = variables
        self.characters = characters
        self.endings = endings
        self.ir_turns: dict[str, Any] | None = None
        self.events: dict[int, Event] = {}
        # Whether conditions and effects are written as Python code (see pycode): slower to
        # make, faster to run; for a story played many times (Story.compile_all).
        self.code = False

    # Each compiled as Python code when `code` is set (see pycode), as closures otherwise, or
    # where Python can't take the code (nesting past its limits): the two do the same.
    def _tiered(self, code: Callable[[], _T], closure: Callable[[], _T]) -> _T:
        if self.code:
            try:
                return code()
            except CANNOT_WRITE:
                pass
        return closure()

    def test(self, tree: Any) -> Fn:
        return self._tiered(lambda: condition_function(tree, self.variables), lambda: compile_test(tree))

    def expr(self, tree: Any) -> Fn:
        return self._tiered(lambda: value_function(tree, self.variables), lambda: compile_expr(tree))

    def text(self, items: list[Any], index: int) -> Callable[[Any, list[str]], None] | None:
        return self._tiered(
            lambda: text_function(items, index, self.variables), lambda: compile_text(items, index)
        )

    def effects(self, stmts: list[Any] | None) -> Effect | None:
        if not stmts or int_changes(stmts, self.variables) is not None:
            return compile_effects(stmts, self.variables)  # none, or kept as data (Choice.adjust)
        return self._tiered(
            lambda: effects_function(stmts, self.variables), lambda: compile_effects(stmts, self.variables)
        )

    def turns(self) -> Turns | None:
        """How time passes, compiled."""
        t = self.ir_turns
        if t is None:
            return None
        return Turns(
            counter=t["counter"],
            budget=t["budget"],
            refill=self.expr(t["refill"]) if t["refill"] is not None else None,
            hub=t["hub"],
            end_of_turn=self.effects(t["end_of_turn"]),
        )

    def choice(self, c: Mapping[str, Any], uid: int, text_key: str = "text") -> Choice:
        # Every slot set once, here (no defaults first): this runs for every choice compiled.
        ch = Choice.__new__(Choice)
        text = c[text_key]
        ch.uid = uid
        if len(text) == 1 and type(text[0]) is str:  # the commonest: a fixed label
            ch.const_text = text[0]
            ch.text = _fixed(text[0])
        else:
            ch.const_text = "".join(text) if all(type(p) is str for p in text) else None
            ch.text = compile_template(text)
        test = c.get("if")
        ch.cond = self.test(test) if test is not None else None
        reason = c.get("reason")
        ch.reason = compile_template(reason) if reason is not None else None
        ch.cost = tuple((slot, compile_expr(t)) for slot, t in c["cost"]) if c["cost"] else ()
        effects = c.get("effects")
        ch.adjust = int_changes(effects, self.variables)
        ch.effects = _adjust(ch.adjust) if ch.adjust is not None else self.effects(effects)
        ch.target = c.get("goto", 0)
        ch.once = c.get("once", False)
        ch.fallback = c.get("fallback", False)
        ch.event = None
        ch.shown = None
        ch._siblings = ()
        if uid < 0:
            ch._ref = f"e:{self.node_ids[-1 - uid]}"
            ch._key = ()
        else:
            ch._ref = None  # worked out when first asked for, with the node's other choices
            ch._key = (c.get("id"), text, ch.target, self.node_ids)
        return ch

    def node(self, index: int) -> Node:
        n = self.ir_nodes[index]
        # Every slot set once, here, in one pass over the choices: this runs for every node.
        node = Node.__new__(Node)
        node.index = index
        node.id = n["id"]
        node.scene = n["scene"]
        node.file = n["file"]
        node.line = n["line"]
        node.title = n["title"]
        node.character = None if n["character"] is None else self.characters[n["character"]].id
        node.paragraphs = fixed_paragraphs(n["text"])
        node.text = self.text(n["text"], index) if node.paragraphs is None else _adding(node.paragraphs)
        node.effects = self.effects(n["effects"])
        choices: list[Choice] = []
        offer = []
        fallback = None
        plain = True
        tests = []
        rows: list[tuple[Fn | None, Any, Choice]] = []
        base = index * MAX_CHOICES_PER_NODE
        for i, c in enumerate(n["choices"]):
            if not c:
                continue
            ch = self.choice(c, base + i)
            if ch.fallback:
                if fallback is None:
                    fallback = ch
                continue
            choices.append(ch)
            const = ch.const_text
            offer.append(
                (
                    ch,
                    ch.cond,
                    ch.reason is None,
                    ch.cost,
                    ch.once,
                    ch.uid,
                    (const is None or ch.reason is not None) and uses_randomness((c["text"], c["reason"])),
                )
            )
            if plain:
                if const is None or ch.reason is not None or ch.cost or ch.once:
                    plain = False
                else:
                    tests.append(c["if"])
                    rows.append((ch.cond, var_const_test(c["if"]), ch))
        node.fallback = fallback
        node.choices = tuple(choices)
        node.offer = tuple(offer)
        node.plain = tuple(rows) if plain else None
        node.plain_key = _values_read(tests) if plain else None
        node.shown = {}
        node.by_values = {}
        node.fresh = True
        node.hub_plan = None
        for ch in node.choices:
            ch._siblings = node.choices  # saves find a choice by its key (`ref`), not its place
        if fallback is not None:
            fallback._siblings = (fallback,)
        node.goto = 0
        node.outs = ()
        node.ending = None
        node.is_hub = False
        node.hub_tags = None
        node.hub_limit = None
        node.event = None
        nav = n["nav"]
        node.nav = nav[0]
        if nav[0] == "goto":
            node.goto = nav[1]
        elif nav[0] == "random":
            node.outs = tuple((self.expr(w), self.effects(e), t) for w, e, t in nav[1])
        elif nav[0] == "branch":
            node.outs = tuple((None if c is None else self.test(c), self.effects(e), t) for c, e, t in nav[1])
        if n["ending"]:
            node.ending = self.endings[n["ending"]["id"]]
        hub = n["hub"]
        if hub is not None:
            node.is_hub = True
            tags = hub["tags"]
            node.hub_tags = frozenset(tags) if tags else None
            node.hub_limit = hub["limit"]
        if n["event"] is not None:
            node.event = self.event(index)
        node.simple = (
            node.plain is not None and node.nav == "choices" and node.ending is None and not node.is_hub
        )
        node.menu = node.is_hub and node.nav == "choices" and node.ending is None
        return node

    def event(self, index: int) -> Event:
        """The event of an event node: made once, whether or not its node was compiled yet."""
        ev = self.events.get(index)
        if ev is None:
            e = ir_event(self.ir_nodes[index])
            ev = self.events[index] = Event(self._event_choice)
            ev.node = index
            ev.priority = e["priority"]
            ev.weight = self.expr(e["weight"])
            ev.once = e["once"]
            ev.cooldown = e["cooldown"]
            ev.forced = e["forced"]
            ev.tags = frozenset(e["tags"]) if e["tags"] else None
        return ev

    def recompile_event(self, ev: Event) -> None:
        """Compile an event again, as it now would be (its choice when next needed)."""
        ev.weight = self.expr(ir_event(self.ir_nodes[ev.node])["weight"])
        ev.reset()

    def _event_choice(self, ev: Event) -> Choice:
        e = ir_event(self.ir_nodes[ev.node])
        return self.choice(dict(e, goto=ev.node, once=False, fallback=False), -1 - ev.node, "title")


def ir_event(node: IRNode) -> IREvent:
    """A node's event, which the caller knows it has."""
    event = node["event"]
    if event is None:
        raise ValueError(f"node '{node['id']}' is not an event")
    return event


def release_frozen() -> None:
    """Let the collector see again what compiling nodes froze, and collect whatever of it is no
    longer used: for a process that goes on to load new versions of a story (an editor's
    language server, a game reloading an edited story), where old versions would otherwise
    stay in memory. What is still in use is frozen again as nodes compile."""
    if gc.get_freeze_count():
        gc.unfreeze()
        gc.collect()


class PackedNodes:
    """The checked nodes, each kept as marshal bytes and unpacked when asked for.

    A large story's nodes are hundreds of thousands of small dicts, lists and tuples that the
    cyclic garbage collector would scan on every full collection, for as long as the story is
    loaded; bytes are never scanned. Nodes are unpacked to be compiled (once each) and for
    tools that inspect the whole story."""

    __slots__ = ("_blobs",)

    def __init__(self, blobs: list[bytes]) -> None:
        self._blobs = blobs

    def __getitem__(self, index: int) -> IRNode:
        node: IRNode = marshal.loads(self._blobs[index])
        return node

    def __len__(self) -> int:
        return len(self._blobs)


def pack_ir(ir: dict[str, Any]) -> dict[str, Any]:
    """The IR with its nodes packed (see PackedNodes), and what building a story needs from
    every node at once: ids, endings, hubs and events. This is what the cache keeps."""
    nodes = ir["nodes"]
    return dict(
        ir,
        packed=True,
        nodes=[marshal.dumps(n) for n in nodes],
        node_ids=[n["id"] for n in nodes],
        endings=[(i, n["ending"]) for i, n in enumerate(nodes) if n["ending"]],
        hubs=[i for i, n in enumerate(nodes) if n["hub"] is not None],
        events=[i for i, n in enumerate(nodes) if n["event"] is not None],
    )


def build_story(ir: dict[str, Any], content_hash: str, warnings: tuple[Any, ...] = ()) -> Story:
    """Make a Story from a checked IR. Nodes compile when first reached (hubs and what an
    event needs to be offered at once)."""
    characters = tuple(
        Character(i, c["id"], c["name"], c.get("description", "")) for i, c in enumerate(ir["characters"])
    )
    variables = tuple(
        Variable(
            slot=i,
            name=v["name"],
            base=v["base"],
            type=v["type"],
            initial=v["initial"],
            min=v["min"],
            max=v["max"],
            values=tuple(v["values"]),
            label=v["label"],
            group=v["group"],
            display=v["display"],
            track=v["track"],
            description=v["description"],
            unit=v["unit"],
            better=v.get("better", "higher"),
            character=None if v["character"] is None else characters[v["character"]].id,
            case=None if v["case"] is None else characters[v["case"]].id,
        )
        for i, v in enumerate(ir["vars"])
    )
    if not ir.get("packed"):
        ir = pack_ir(ir)
    node_ids = tuple(ir["node_ids"])
    endings: dict[str, Ending] = {}
    for i, e in ir["endings"]:
        char = None if e["character"] is None else characters[e["character"]].id
        endings[e["id"]] = Ending(e["id"], e["title"], e["category"], char, node_ids[i])
    compiler = _Compiler(PackedNodes(ir["nodes"]), node_ids, variables, characters, endings)
    compiler.ir_turns = ir["turns"]
    nodes: list[Node | None] = [None] * len(node_ids)
    for i in ir["hubs"]:
        nodes[i] = compiler.node(i)  # hubs at once: the play loop works out their events
    # Each event at once (its node's passage waits like the rest).
    events = [compiler.event(i) for i in ir["events"]]
    turns = compiler.turns()
    events.sort(key=lambda e: -e.priority)
    return Story(
        id=ir["id"],
        title=ir["title"],
        about=dict(ir["about"]),
        start=ir["start"],
        variables=variables,
        characters=characters,
        nodes=nodes,
        node_ids=node_ids,
        events=tuple(events),
        turns=turns,
        content_hash=content_hash,
        warnings=warnings,
        node_index={nid: i for i, nid in enumerate(node_ids)},
        var_index={v.name: v.slot for v in variables},
        tracked=tuple(v.slot for v in variables if v.track),
        endings=tuple(endings.values()),
        compiler=compiler,
        initial_values=tuple(v.initial for v in variables),
        zero_visits=array("q", bytes(8 * len(nodes))),
        char_index={c.id: c.index for c in characters},
        playtest=dict(ir.get("playtest") or {}),
    )
