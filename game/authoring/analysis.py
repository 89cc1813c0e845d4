"""Warnings beyond the loader's: what the declared ranges make impossible, and what is wasted.

- conditions that can never be true, given each variable's declared range (and, for a
  variable nothing ever changes, its initial value);
- choices that can never be taken (a condition never true, a cost never affordable), and
  nodes that become dead ends because of them;
- nodes and endings that can't be reached once impossible ways in are taken away;
- events no hub ever offers;
- variables that are set but never read.

Everything works on the checked story and its YAML (re-read only for positions), so each
warning points at the exact line and column of the condition, choice or declaration.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..engine import expr as ex
from ..engine import yamlsrc
from ..engine.errors import Problem
from ..engine.load import check, read_files
from ..engine.loader import END_TURN, HUB
from ..engine.plan import statements
from ..engine.story import Story
from ..engine.yamlsrc import Map, Seq
from .ir import nodes, unparse

INF = math.inf


# -- abstract values -----------------------------------------------------------------------


@dataclass(frozen=True)
class Num:
    lo: float
    hi: float


@dataclass(frozen=True)
class Truth:
    can_true: bool
    can_false: bool


@dataclass(frozen=True)
class Text:
    values: frozenset[str] | None  # None: any text


Value = Num | Truth | Text
ANY_NUM = Num(-INF, INF)
EITHER = Truth(True, True)


def _truth(v: Value) -> Truth:
    if isinstance(v, Truth):
        return v
    if isinstance(v, Num):
        return Truth(not (v.lo == 0 and v.hi == 0), v.lo <= 0 <= v.hi)
    return Truth(True, v.values is None or "" in v.values)


def _num(v: Value) -> Num:
    if isinstance(v, Num):
        return v
    if isinstance(v, Truth):
        return Num(0 if v.can_false else 1, 1 if v.can_true else 0)
    return ANY_NUM


def _corners(a: Num, b: Num, op: Any) -> Num:
    values = []
    for x in (a.lo, a.hi):
        for y in (b.lo, b.hi):
            try:
                r = op(x, y)
            except (ZeroDivisionError, OverflowError, ValueError):
                return ANY_NUM
            if isinstance(r, float) and math.isnan(r):
                return ANY_NUM
            values.append(r)
    return Num(min(values), max(values))


class Ranges:
    """What each variable can hold: its declared range, or its initial value if nothing sets it."""

    def __init__(self, story: Story, written: set[int]) -> None:
        self.story = story
        self.values: list[Value] = []
        self.constant: list[bool] = []
        initial = story.initial_values or tuple(v.initial for v in story.variables)
        for var in story.variables:
            fixed = var.slot not in written
            self.constant.append(fixed)
            start = initial[var.slot]
            if var.type == "int":
                self.values.append(Num(start, start) if fixed else Num(var.min, var.max))
            elif var.type == "bool":
                self.values.append(Truth(bool(start), not start) if fixed else EITHER)
            else:
                self.values.append(Text(frozenset([start]) if fixed else frozenset(var.values)))
        self.has_turns = story.turns is not None

    def evaluate(self, t: Any) -> Value:
        kind = t[0]
        if kind == "num":
            v = t[1]
            return Truth(bool(v), not v) if isinstance(v, bool) else Num(v, v)
        if kind == "str":
            return Text(frozenset([t[1]]))
        if kind == "var":
            value: Value = self.values[t[1]]
            return value
        if kind == "turn":
            return Num(0, INF) if self.has_turns else Num(0, 0)
        if kind == "visited":
            return Num(0, INF)
        if kind == "ended":
            return EITHER
        if kind == "not":
            inner = _truth(self.evaluate(t[1]))
            return Truth(inner.can_false, inner.can_true)
        if kind == "neg":
            n = _num(self.evaluate(t[1]))
            return Num(-n.hi, -n.lo)
        if kind in ("and", "or"):
            a, b = _truth(self.evaluate(t[1])), _truth(self.evaluate(t[2]))
            if kind == "and":
                return Truth(a.can_true and b.can_true, a.can_false or b.can_false)
            return Truth(a.can_true or b.can_true, a.can_false and b.can_false)
        if kind == "cmp":
            return self._compare(t[1], self.evaluate(t[2]), self.evaluate(t[3]))
        if kind == "bin":
            return self._arith(t[1], _num(self.evaluate(t[2])), _num(self.evaluate(t[3])))
        if kind == "call":
            return self._call(t[1], [self.evaluate(a) for a in t[2:]])
        return ANY_NUM

    def _compare(self, op: str, a: Value, b: Value) -> Truth:
        if isinstance(a, Text) or isinstance(b, Text):
            sa = a.values if isinstance(a, Text) else None
            sb = b.values if isinstance(b, Text) else None
            if sa is None or sb is None:
                return EITHER
            equal_possible = bool(sa & sb)
            differ_possible = not (len(sa) == 1 and sa == sb)
            if op == "==":
                return Truth(equal_possible, differ_possible)
            return Truth(differ_possible, equal_possible)
        x, y = _num(a), _num(b)
        if op == "<":
            return Truth(x.lo < y.hi, x.hi >= y.lo)
        if op == "<=":
            return Truth(x.lo <= y.hi, x.hi > y.lo)
        if op == ">":
            return Truth(x.hi > y.lo, x.lo <= y.hi)
        if op == ">=":
            return Truth(x.hi >= y.lo, x.lo < y.hi)
        overlap = max(x.lo, y.lo) <= min(x.hi, y.hi)
        same_point = x.lo == x.hi == y.lo == y.hi
        if op == "==":
            return Truth(overlap, not same_point)
        return Truth(not same_point, overlap)

    @staticmethod
    def _arith(op: str, a: Num, b: Num) -> Num:
        if op == "+":
            return Num(a.lo + b.lo, a.hi + b.hi)
        if op == "-":
            return Num(a.lo - b.hi, a.hi - b.lo)
        if op == "*":
            return _corners(a, b, lambda x, y: 0 if (x == 0 or y == 0) else x * y)
        if op in ("/", "//"):
            if b.lo <= 0 <= b.hi:
                return ANY_NUM  # dividing by zero gives 0, and near zero anything
            r = _corners(a, b, (lambda x, y: x / y))
            return (
                Num(math.floor(r.lo), math.floor(r.hi))
                if op == "//" and math.isfinite(r.lo) and math.isfinite(r.hi)
                else r
            )
        if op == "%":
            if b.lo == b.hi and b.lo > 0:
                return Num(0, b.lo)
            return ANY_NUM
        return ANY_NUM

    @staticmethod
    def _call(name: str, args: list[Value]) -> Value:
        nums = [_num(a) for a in args]
        if name == "chance":
            p = nums[0]
            return Truth(p.hi > 0, p.lo < 1)
        if name == "random":
            return Num(min(nums[0].lo, nums[1].lo), max(nums[0].hi, nums[1].hi))
        if name == "abs":
            a = nums[0]
            if a.lo >= 0:
                return a
            if a.hi <= 0:
                return Num(-a.hi, -a.lo)
            return Num(0, max(-a.lo, a.hi))
        if name == "min":
            return Num(min(a.lo for a in nums), min(a.hi for a in nums))
        if name == "max":
            return Num(max(a.lo for a in nums), max(a.hi for a in nums))
        if name == "clamp":
            x, lo, hi = nums
            return Num(max(lo.lo, min(hi.lo, x.lo)), max(lo.hi, min(hi.hi, x.hi)))
        return ANY_NUM

    def never_true(self, tree: Any) -> bool:
        return not _truth(self.evaluate(tree)).can_true

    def always_true(self, tree: Any) -> bool:
        return not _truth(self.evaluate(tree)).can_false

    def describe(self, tree: Any) -> str:
        """The ranges of the variables in an expression, as a reason."""
        parts = []
        seen: set[int] = set()
        stack = [tree]
        while stack:
            t = stack.pop()
            if not isinstance(t, tuple) or not t or not isinstance(t[0], str):
                continue
            if t[0] == "var" and t[1] not in seen:
                seen.add(t[1])
                var = self.story.variables[t[1]]
                if self.constant[t[1]]:
                    initial = self.story.initial_values[t[1]] if self.story.initial_values else var.initial
                    shown = str(initial).lower() if isinstance(initial, bool) else initial
                    parts.append(f"{var.name} is never changed from {shown}")
                elif var.type == "int":
                    parts.append(f"{var.name} is {var.min}..{var.max}")
            elif t[0] == "turn" and not self.has_turns:
                parts.append("turn is always 0 (the story has no turns)")
            elif t[0] in ("not", "neg"):
                stack.append(t[1])
            elif t[0] in ("and", "or"):
                stack.extend((t[2], t[1]))
            elif t[0] in ("cmp", "bin"):
                stack.extend((t[3], t[2]))
            elif t[0] == "call":
                stack.extend(reversed(t[2:]))
        return "; ".join(parts)


# -- reading and writing variables ----------------------------------------------------------


def _expr_reads(tree: Any, out: set[int]) -> None:
    stack = [tree]
    while stack:
        t = stack.pop()
        if isinstance(t, tuple) and t and isinstance(t[0], str):
            if t[0] == "var":
                out.add(t[1])
            elif t[0] in ("not", "neg"):
                stack.append(t[1])
            elif t[0] in ("and", "or"):
                stack.extend((t[1], t[2]))
            elif t[0] in ("cmp", "bin"):
                stack.extend((t[2], t[3]))
            elif t[0] == "call":
                stack.extend(t[2:])


def _template_reads(parts: Any, out: set[int]) -> None:
    for p in parts or ():
        if not isinstance(p, str):
            _expr_reads(p[1], out)


def _text_reads(items: Any, out: set[int]) -> None:
    for item in items or ():
        if item[0] == "p":
            _template_reads(item[1], out)
        elif item[0] == "if":
            _expr_reads(item[1], out)
            _text_reads(item[2], out)
            _text_reads(item[3], out)
        else:
            for alternative in item[1]:
                _text_reads(alternative, out)


def _effect_use(stmts: Any, reads: set[int], writes: set[int]) -> None:
    for stmt, guard in statements(stmts):
        for g in guard:
            _expr_reads(g, reads)
        writes.add(stmt[1])
        value_reads: set[int] = set()
        _expr_reads(stmt[3], value_reads)
        reads |= value_reads  # `x += 1` reads x only to change it: that is not a use


def variable_use(story: Story) -> tuple[set[int], set[int]]:
    """(slots read, slots written) anywhere in the story."""
    reads: set[int] = set()
    writes: set[int] = set()
    for _i, ir in nodes(story):
        _text_reads(ir["text"], reads)
        _effect_use(ir["effects"], reads, writes)
        nav = ir["nav"]
        if nav[0] in ("random", "branch"):
            for cond, effects, _t in nav[1]:
                if cond is not None:
                    _expr_reads(cond, reads)
                _effect_use(effects, reads, writes)
        for c in ir["choices"]:
            if not c:
                continue
            _template_reads(c["text"], reads)
            _template_reads(c.get("reason"), reads)
            if c.get("if") is not None:
                _expr_reads(c["if"], reads)
            for slot, amount in c["cost"]:
                reads.add(slot)
                writes.add(slot)
                _expr_reads(amount, reads)
            _effect_use(c["effects"], reads, writes)
        e = ir["event"]
        if e is not None:
            _template_reads(e["title"], reads)
            _template_reads(e.get("reason"), reads)
            if e.get("if") is not None:
                _expr_reads(e["if"], reads)
            _expr_reads(e["weight"], reads)
            for slot, amount in e["cost"]:
                reads.add(slot)
                writes.add(slot)
                _expr_reads(amount, reads)
    turns = story.ir_turns()
    if turns is not None:
        for key in ("counter", "budget"):
            if turns[key] is not None:
                writes.add(turns[key])
        if turns["refill"] is not None:
            _expr_reads(turns["refill"], reads)
        _effect_use(turns["end_of_turn"], reads, writes)
    return reads, writes


# -- positions in the YAML ---------------------------------------------------------------------


class _Names:
    """Enough of the loader's scope to parse an expression again, for a loaded story."""

    def __init__(self, story: Story) -> None:
        self.story = story
        self.scene = ""
        self.info = {v.name: ex.VarInfo(v.slot, v.type, v.values) for v in story.variables}
        self.by_slot = {i.slot: i for i in self.info.values()}
        self.constants = {f"{c.id}.name": c.name for c in story.characters}
        self.chars = {c.id: c.index for c in story.characters}

    def variable(self, name: str, write: bool = False) -> ex.VarInfo | None:
        return self.info.get(name)

    def slot_info(self, slot: int) -> ex.VarInfo | None:
        return self.by_slot.get(slot)

    def constant(self, name: str) -> str | None:
        return self.constants.get(name)

    def node(self, ref: str) -> int | None:
        full = ref if "." in ref else f"{self.scene}.{ref}"
        return self.story.node_index.get(full)

    def character(self, name: str) -> int | None:
        return self.chars.get(name)

    def suggest(self, name: str, kind: str) -> str | None:
        return None


@dataclass
class Found:
    """A condition (or weight) in the YAML: where it is, what kind, and what it belongs to."""

    file: str
    line: int
    column: int
    kind: str  # choice, event, branch, effect, text, random
    tree: Any
    node: str
    choice: Map | None = None


def _value_pos(m: Map, key: str) -> tuple[int, int]:
    p = m.pos.get(key)
    return (p[2], p[3]) if p else (m.line, m.col)


def _effects_blocks(value: Any) -> Iterator[Map]:
    if isinstance(value, Seq):
        for item in value:
            if isinstance(item, Map) and "if" in item:
                yield item
                yield from _effects_blocks(item.get("then"))
                yield from _effects_blocks(item.get("else"))


def _text_blocks(value: Any) -> Iterator[Map]:
    if isinstance(value, Map):
        single = Seq(value.line, value.col)
        single.append(value)
        value = single
    if isinstance(value, Seq):
        for item in value:
            if isinstance(item, Map):
                if "if" in item:
                    yield item
                for key in ("text", "else", "sequence", "cycle", "shuffle"):
                    inner = item.get(key)
                    if isinstance(inner, Seq) and key in ("sequence", "cycle", "shuffle"):
                        for alternative in inner:
                            yield from _text_blocks(alternative)
                    else:
                        yield from _text_blocks(inner)


def find_conditions(story: Story, files: list[tuple[str, bytes]]) -> list[Found]:
    """Every condition and weight in the story's YAML, parsed again, with its position."""
    names = _Names(story)
    scene_of: dict[str, str] = {}
    for _i, ir in nodes(story):
        scene_of.setdefault(ir["file"], ir["scene"])
    found: list[Found] = []

    def add(rel: str, m: Map, key: str, kind: str, node: str, choice: Map | None = None) -> None:
        source = m.get(key)
        if isinstance(source, bool) or isinstance(source, (int, float)):
            tree: Any = ("num", source)
        elif isinstance(source, str):
            try:
                tree, _t = ex.parse(source, names)
            except ex.ExprError:
                return
        else:
            return
        line, col = _value_pos(m, key)
        found.append(Found(rel, line, col, kind, tree, node, choice))

    for rel, data in files:
        try:
            doc = yamlsrc.read(data)
        except yamlsrc.YamlProblem:
            continue
        if not isinstance(doc, Map):
            continue
        if isinstance(doc.get("nodes"), Map):
            for key_pos in doc["nodes"].pos.values():
                _NODE_COLUMNS[(rel, key_pos[0])] = key_pos[1]
        if rel == "story.yaml":
            names.scene = ""
            turns = doc.get("turns")
            if isinstance(turns, Map):
                for block in _effects_blocks(turns.get("end_of_turn")):
                    add(rel, block, "if", "effect", "")
            continue
        if rel not in scene_of:
            continue
        scene = names.scene = scene_of[rel]
        for block in _effects_blocks(doc.get("end_of_turn")):
            add(rel, block, "if", "effect", "")
        body_map = doc.get("nodes")
        if not isinstance(body_map, Map):
            continue
        for name, body in body_map.items():
            if not isinstance(body, Map):
                continue
            node = f"{scene}.{name}"
            for block in _effects_blocks(body.get("effects")):
                add(rel, block, "if", "effect", node)
            for block in _text_blocks(body.get("text")):
                add(rel, block, "if", "text", node)
            choices = body.get("choices")
            if isinstance(choices, Seq):
                for c in choices:
                    if isinstance(c, Map):
                        if "if" in c:
                            add(rel, c, "if", "choice", node, c)
                        cost = c.get("cost")
                        if isinstance(cost, Map):
                            for var_name in cost:
                                add(rel, cost, var_name, "cost:" + var_name, node, c)
                        for block in _effects_blocks(c.get("effects")):
                            add(rel, block, "if", "effect", node)
            for key in ("branch", "random"):
                entries = body.get(key)
                if isinstance(entries, Seq):
                    for entry in entries:
                        if isinstance(entry, Map):
                            if key == "branch" and "if" in entry:
                                add(rel, entry, "if", "branch", node)
                            if key == "random" and "weight" in entry:
                                add(rel, entry, "weight", "random", node)
                            for block in _effects_blocks(entry.get("effects")):
                                add(rel, block, "if", "effect", node)
            event = body.get("event")
            if isinstance(event, Map) and "if" in event:
                add(rel, event, "if", "event", node)
    return found


# -- the warnings ---------------------------------------------------------------------------


def _quoted(source: str) -> str:
    return f'"{source}"' if "'" in source else f"'{source}'"


def _short(text: str, width: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


def analyse(
    story: Story, files: list[tuple[str, bytes]], existing: list[Problem] | None = None
) -> list[Problem]:
    """The extra warnings for a story that loaded; `existing` are the loader's, not repeated."""
    reads, writes = variable_use(story)
    ranges = Ranges(story, writes)
    out: list[Problem] = []
    never: set[tuple[str, int]] = set()  # (node, IR choice index) that can never be taken
    found = find_conditions(story, files)
    for f in found:
        if f.kind.startswith("cost:"):
            var = story.variables[story.var_index[f.kind[5:]]]
            lo = _num(ranges.evaluate(f.tree)).lo
            if lo > var.max:
                text = f.choice.get("text", "(fallback)") if f.choice is not None else ""
                out.append(
                    Problem(
                        f.file,
                        f.line,
                        f.column,
                        f"choice '{_short(text)}' can never be afforded: it costs {lo:g} "
                        f"{var.unit} and {var.name} is never more than {var.max}",
                        "warning",
                    )
                )
            continue
        if f.kind == "random":
            value = _num(ranges.evaluate(f.tree))
            if value.hi <= 0:
                why = ranges.describe(f.tree)
                out.append(
                    Problem(
                        f.file,
                        f.line,
                        f.column,
                        "this random outcome can never be picked: its weight is never above 0"
                        + (f" ({why})" if why else ""),
                        "warning",
                    )
                )
            continue
        if not ranges.never_true(f.tree):
            continue
        why = ranges.describe(f.tree)
        reason = f" ({why})" if why else ""
        source = _quoted(unparse(f.tree, story))
        if f.kind == "choice" and f.choice is not None:
            text = f.choice.get("text", "(fallback)")
            verb = "shown, but never enabled" if "reason" in f.choice else "never shown"
            out.append(
                Problem(
                    f.file,
                    f.line,
                    f.column,
                    f"choice '{_short(text)}' can never be taken ({verb}): its condition "
                    f"{source} is never true{reason}",
                    "warning",
                )
            )
        elif f.kind == "event":
            out.append(
                Problem(
                    f.file,
                    f.line,
                    f.column,
                    f"event '{f.node}' can never happen: its condition {source} is never true{reason}",
                    "warning",
                )
            )
        else:
            what = {
                "branch": "this branch is never taken: its condition",
                "effect": "these effects never run: the condition",
                "text": "this text is never shown: its condition",
            }[f.kind]
            out.append(Problem(f.file, f.line, f.column, f"{what} {source} is never true{reason}", "warning"))
    out.extend(_choices_and_reach(story, ranges, never))
    out.extend(_unread(story, reads, writes, files))
    out.extend(_unoffered_events(story))
    seen = {(p.file, p.line, p.column, p.message) for p in existing or ()}
    unique: list[Problem] = []
    for p in out:
        key = (p.file, p.line, p.column, p.message)
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


_NODE_COLUMNS: dict[tuple[str, int], int] = {}


def _node_pos(story: Story, index: int) -> tuple[str, int, int]:
    ir = story.ir_node(index)
    return ir["file"], ir["line"], _NODE_COLUMNS.get((ir["file"], ir["line"]), 3)


def _taker(story: Story, ranges: Ranges) -> Callable[[Mapping[str, Any]], bool]:
    """Whether a choice (IR) could ever be taken, as far as the ranges tell."""
    budget_max = {var.slot: var.max for var in story.variables if var.type == "int"}

    def can_take(c: Mapping[str, Any]) -> bool:
        if c.get("if") is not None and ranges.never_true(c["if"]):
            return False
        for slot, amount in c["cost"]:
            if _num(ranges.evaluate(amount)).lo > budget_max.get(slot, INF):
                return False
        return True

    return can_take


def ruled_out(story: Story, start: int | None = None, preset: Iterable[int] = ()) -> set[int]:
    """The nodes that can't be reached from `start` (the story's start if None): every way to
    them is missing from the story's graph or has a condition that the variables' declared
    ranges, and what is ever written to them, say can never be true. `preset` are variables
    set from outside before the start (they may hold any value in their range)."""
    _reads, writes = variable_use(story)
    ranges = Ranges(story, writes | set(preset))
    hubs = [i for i, ir in nodes(story) if ir["hub"] is not None]
    reach = _reach(story, hubs, story.ir_turns(), (ranges, _taker(story, ranges)), start)
    return {i for i, ok in enumerate(reach) if not ok}


def _choices_and_reach(story: Story, ranges: Ranges, _never: set[tuple[str, int]]) -> list[Problem]:
    out: list[Problem] = []
    n = len(story.node_ids)
    can_take = _taker(story, ranges)

    for i, ir in nodes(story):
        choices = [c for c in ir["choices"] if c and not c["fallback"]]
        if (
            ir["nav"] == ("choices",)
            and choices
            and ir["hub"] is None
            and not any(c["fallback"] for c in ir["choices"] if c)
        ):
            if not any(can_take(c) for c in choices):
                file, line, col = _node_pos(story, i)
                out.append(
                    Problem(
                        file,
                        line,
                        col,
                        f"node '{ir['id']}' is a dead end: none of its choices can "
                        "ever be taken, and it has no fallback",
                        "warning",
                    )
                )
    # Reachability with the impossible ways taken out.
    hubs = [i for i, ir in nodes(story) if ir["hub"] is not None]
    turns = story.ir_turns()
    plain = _reach(story, hubs, turns, None)
    pruned = _reach(story, hubs, turns, (ranges, can_take))
    for i in range(n):
        ir = story.ir_node(i)
        file, line, col = _node_pos(story, i)
        if plain[i] and not pruned[i]:
            out.append(
                Problem(
                    file,
                    line,
                    col,
                    f"node '{ir['id']}' can't be reached: every way to it has a "
                    "condition that can never be true",
                    "warning",
                )
            )
        if ir["ending"] and not pruned[i]:
            out.append(
                Problem(file, line, col, f"ending '{ir['ending']['id']}' can never be reached", "warning")
            )
    return out


def _reach(
    story: Story,
    hubs: list[int],
    turns: dict[str, Any] | None,
    prune: tuple[Ranges, Any] | None,
    start: int | None = None,
) -> list[bool]:
    n = len(story.node_ids)
    reach = [False] * n
    events = [i for i in range(n) if story.ir_node(i)["event"] is not None]
    stack = [story.start if start is None else start]
    while stack:
        i = stack.pop()
        if i < 0:
            if i == HUB:
                stack.extend(h for h in hubs if not reach[h])
            elif i == END_TURN and turns is not None and turns["hub"] is not None:
                stack.append(turns["hub"])
            continue
        if reach[i]:
            continue
        reach[i] = True
        ir = story.ir_node(i)
        nav = ir["nav"]
        if nav[0] == "goto":
            stack.append(nav[1])
        elif nav[0] == "random":
            for weight, _e, t in nav[1]:
                if prune is None or _num(prune[0].evaluate(weight)).hi > 0:
                    stack.append(t)
        elif nav[0] == "branch":
            for cond, _e, t in nav[1]:
                if prune is not None and cond is not None and prune[0].never_true(cond):
                    continue
                stack.append(t)
                if prune is not None and (cond is None or prune[0].always_true(cond)):
                    break  # later entries are never looked at
        for c in ir["choices"]:
            if c and (prune is None or c["fallback"] or prune[1](c)):
                stack.append(c["goto"])
        hub = ir["hub"]
        if hub is not None:
            tags = hub["tags"]
            for e in events:
                event = story.ir_event(e)
                if tags and not (event["tags"] and set(tags) & set(event["tags"])):
                    continue
                test = event["if"]
                if prune is not None and test is not None and prune[0].never_true(test):
                    continue
                stack.append(e)
    return reach


def _unread(story: Story, reads: set[int], writes: set[int], files: list[tuple[str, bytes]]) -> list[Problem]:
    out: list[Problem] = []
    positions = _declaration_positions(files)
    reported: set[str] = set()
    read_bases = {story.variables[s].base for s in reads if story.variables[s].character is not None}
    for var in story.variables:
        if var.slot not in writes or var.slot in reads or var.track or var.display != "hidden":
            continue
        name = var.name
        if var.character is not None:
            if var.base in read_bases or var.base in reported:
                continue
            reported.add(var.base)
            name = var.base
        file, line, col = positions.get(name, ("story.yaml", 1, 1))
        out.append(
            Problem(
                file,
                line,
                col,
                f"variable '{name}' is set but never read: no condition, text or "
                "effect uses its value, and players don't see it (display: hidden)",
                "warning",
            )
        )
    return out


def _declaration_positions(files: list[tuple[str, bytes]]) -> dict[str, tuple[str, int, int]]:
    out: dict[str, tuple[str, int, int]] = {}
    for rel, data in files:
        try:
            doc = yamlsrc.read(data)
        except yamlsrc.YamlProblem:
            continue
        if not isinstance(doc, Map):
            continue
        for key in ("variables", "character_variables"):
            decls = doc.get(key)
            if isinstance(decls, Map):
                for name in decls:
                    p = decls.pos.get(name)
                    if p:
                        out.setdefault(name, (rel, p[0], p[1]))
    return out


def _unoffered_events(story: Story) -> list[Problem]:
    out: list[Problem] = []
    hub_tags = [hub["tags"] for _i, ir in nodes(story) if (hub := ir["hub"]) is not None]
    if not hub_tags:
        return out  # the loader already says the story has no hub
    for i, ir in nodes(story):
        event = ir["event"]
        if event is None:
            continue
        tags = set(event["tags"] or ())
        if any(not t or (tags & set(t)) for t in hub_tags):
            continue
        file, line, col = _node_pos(story, i)
        offered = sorted({tag for t in hub_tags if t for tag in t})
        what = f"its tags ({', '.join(sorted(tags))})" if tags else "it has no tags, and every hub"
        out.append(
            Problem(
                file,
                line,
                col,
                f"event '{ir['id']}' is never offered: {what} "
                f"{'match no hub' if tags else 'lists only tagged events'} (hubs offer: "
                f"{', '.join(offered)})",
                "warning",
            )
        )
    return out


def check_story(
    root: Path | str, overlay: Mapping[str, bytes] | None = None
) -> tuple[Story | None, list[Problem]]:
    """The loader's errors and warnings, plus these extra warnings when the story loads.

    `overlay` gives some files' text instead of what is on disk (see read_files); a story
    checked with one is not written to the compiled-story cache.
    """
    story, problems = check(root, overlay=overlay, cache_dir=False if overlay else None)
    if story is None:
        return story, problems
    try:
        files = read_files(Path(root), overlay)
    except Exception:  # noqa: BLE001 - the story loaded; positions are a nicety
        files = []
    extra = analyse(story, files, problems)
    merged = sorted(list(problems) + extra, key=lambda p: (p.severity != "error", p.file, p.line, p.column))
    return story, merged
