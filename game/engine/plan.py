"""What the play loop works out once per story, so that each step does less.

For each hub: the events it can offer, each with a *guard* (a conjunct of its condition that
reads one variable with a small range, kept as the set of values for which it holds), so that
most events are ruled out by a set lookup instead of a call; the forced events sifted the same
way; and what the forced events' conditions read, so that a hub visited again with none of it
changed is known to force nothing. For each node: its choices unpacked for speed, whether
offering them draws random numbers, and the random draws its text makes (for play that keeps
no text, which must still draw the same numbers to stay the same game).

Everything is worked out when first needed, node by node and hub by hub, and none of it changes
what happens: guards are used only where nothing about an event draws random numbers.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from .expr import compile_expr
from .pycode import Writer, attr, call, item, load

if TYPE_CHECKING:
    from .story import Event, Node, Story

_RNG_CALLS = ("chance", "random")
MAX_GUARD_RANGE = 128
UNKNOWN: Any = object()  # not worked out yet


def uses_randomness(tree: Any) -> bool:
    """Whether a piece of IR (an expression, text items, effects) can draw random numbers."""
    stack = [tree]
    while stack:
        x = stack.pop()
        if isinstance(x, tuple):
            if x and (x[0] == "shuffle" or (x[0] == "call" and len(x) > 1 and x[1] in _RNG_CALLS)):
                return True
            stack.extend(x)
        elif isinstance(x, list):
            stack.extend(x)
        elif isinstance(x, dict):
            stack.extend(x.values())
    return False


def expr_nodes(tree: Any) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...] | None]]:
    """Every sub-expression of an expression tree, with its parent."""
    stack: list[tuple[Any, tuple[Any, ...] | None]] = [(tree, None)]
    while stack:
        t, parent = stack.pop()
        if not isinstance(t, tuple) or not t or not isinstance(t[0], str):
            continue
        yield t, parent
        kind = t[0]
        if kind in ("not", "neg"):
            stack.append((t[1], t))
        elif kind in ("and", "or"):
            stack.extend(((t[1], t), (t[2], t)))
        elif kind in ("cmp", "bin"):
            stack.extend(((t[2], t), (t[3], t)))
        elif kind == "call":
            stack.extend((a, t) for a in t[2:])


def expr_vars(tree: Any) -> set[int]:
    """The variable slots an expression reads."""
    return {t[1] for t, _p in expr_nodes(tree) if t[0] == "var"}


def statements(stmts: Any, guard: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], tuple[Any, ...]]]:
    """Every assignment in a list of effects, with the conditions that guard it."""
    for s in stmts or ():
        if s[0] == "if":
            inner = (*guard, s[1])
            yield from statements(s[2], inner)
            yield from statements(s[3], inner)
        else:
            yield s, guard


class Plan:
    """A story's plan (see the module's docstring); get it with `plan_for(story)`."""

    def __init__(self, story: Story) -> None:
        self.story = story
        n = len(story.node_ids)
        self.text: list[Any] = [UNKNOWN] * n
        self.lazy_nodes: list[bool | None] = [None] * n
        self._hubs: dict[int, HubPlan] = {}
        self._candidates: dict[int, Sieve] = {}
        # A cost as a choice shows it, e.g. "2 hours", by (slot, amount).
        self.cost_labels: dict[tuple[int, Any], str] = {}
        # The variables a change of which is a notice (e.g. "Becky: Trust +1"): shown ones, not
        # the turn counter or the hours, as (slot, character's name, label, which way is better).
        chars = {c.id: c.name for c in story.characters}
        turns = story.turns
        quiet = {turns.counter, turns.budget} if turns is not None else set()
        self.noticed = tuple(
            (var.slot, chars.get(var.character) if var.character else None, var.label, var.better)
            for var in story.variables
            if var.display != "hidden" and var.slot not in quiet
        )

    def text_draws(self, index: int) -> Callable[[Any], None] | None:
        """A function making exactly the random draws that rendering a node's text makes."""
        draws = self.text[index]
        if draws is UNKNOWN:
            draws = self.text[index] = _random_draws(self.story.ir_node(index)["text"], index)
        return draws  # type: ignore[no-any-return]

    def hub(self, node: Node) -> HubPlan:
        """The plan of a hub: its events with their guards."""
        hub = self._hubs.get(node.index)
        if hub is None:
            forced, offered = self.story.hub_events(node)
            hub = self._hubs[node.index] = HubPlan(self.story, [*forced, *offered])
        node.hub_plan = hub  # where the play loop looks first
        return hub

    def lazy(self, node: Node) -> bool:
        """Whether a node's choices can be weighed one at a time (see Game.take_any): nothing
        about offering them draws random numbers, the hub (if it is one) has no limit, and
        there is no fallback."""
        known = self.lazy_nodes[node.index]
        if known is None:
            known = self.lazy_nodes[node.index] = self._weighs_lazily(node)
        return known

    def _weighs_lazily(self, node: Node) -> bool:
        ir = self.story.ir_node(node.index)
        if ir["nav"] != ("choices",) or any(c and c["fallback"] for c in ir["choices"]):
            return False
        rows: list[Any] = [(c.get("if"), c["cost"], c["text"], c.get("reason")) for c in ir["choices"] if c]
        if ir["hub"] is not None:
            if ir["hub"]["limit"] is not None:
                return False
            for row in self.hub(node).events:
                e = self.story.ir_event(row[0].node)
                rows.append((e["if"], e["cost"], e["title"], e["reason"]))
        return not uses_randomness(rows)

    def candidates(self, node: Node) -> Sieve:
        """What a node may offer, as candidates for Game.take_any: its choices, then its events,
        each (is_event, choice, condition, cost, once, uid, cooldown, event node)."""
        sieve = self._candidates.get(node.index)
        if sieve is None:
            rows = [
                (False, ch, cond, cost, once, uid, 0, 0)
                for ch, cond, _nr, cost, once, uid, _rng in node.offer
            ]
            guards: list[tuple[int, frozenset[Any] | None]] = [(0, None)] * len(rows)
            if node.is_hub:
                hub = self.hub(node)
                for (
                    ev,
                    ch,
                    cond,
                    _nr,
                    cost,
                    once,
                    cooldown,
                    at,
                    _slot,
                    _ok,
                    _rng,
                    _held,
                    _fixed,
                ) in hub.events:
                    rows.append((True, ch, cond, cost, once, -1 - at, cooldown, at))
                    guards.append(hub.guards[ev.node])
            sieve = self._candidates[node.index] = Sieve(self.story, tuple(rows), guards)
        return sieve


class Sieve:
    """Rows, each with a guard (slot, the values for which it holds; or None), sifted by the
    guarded variables' values: the rows whose guards hold are worked out once for each
    combination of values, as an AND of per-value bit masks."""

    def __init__(
        self, story: Story, rows: tuple[Any, ...], guards: list[tuple[int, frozenset[Any] | None]]
    ) -> None:
        self.rows = rows
        slots = sorted({slot for slot, ok in guards if ok is not None})
        self._slots = tuple(slots)
        # The guarded variables' values (None when nothing is guarded), and the rows passing
        # for each combination seen: the play loop looks there first (see `passing`).
        self.key = itemgetter(*slots) if slots else None
        self._masks: list[dict[Any, int]] = []
        for slot in slots:
            masks: dict[Any, int] = {}
            for x in _domain(story, slot) or ():
                mask = 0
                for bit, (g_slot, ok) in enumerate(guards):
                    if g_slot != slot or ok is None or x in ok:
                        mask |= 1 << bit
                masks[x] = mask
            self._masks.append(masks)
        self._all = (1 << len(rows)) - 1
        self.cache: dict[Any, tuple[Any, ...]] = {}
        self._by_mask: dict[int, tuple[Any, ...]] = {self._all: rows}

    def passing(self, v: list[Any]) -> tuple[Any, ...]:
        """The rows whose guards hold for these values."""
        if self.key is None:
            return self.rows
        key = self.key(v)
        hit = self.cache.get(key)
        if hit is None:
            if len(self.cache) >= 200_000:
                self.cache.clear()
            mask = self._all
            for slot, masks in zip(self._slots, self._masks, strict=True):
                mask &= masks[v[slot]]
            hit = self._by_mask.get(mask)
            if hit is None:
                rows = self.rows
                hit = self._by_mask[mask] = tuple(rows[bit] for bit in range(len(rows)) if mask >> bit & 1)
            self.cache[key] = hit
        return hit


class HubPlan:
    """The events one hub can offer, each with a guard that rules it out cheaply."""

    def __init__(self, story: Story, fits: list[Event]) -> None:
        guards = {ev.node: _guard(story, ev) for ev in fits}
        self.events = tuple(
            (
                ev,
                ev.choice,
                ev.choice.cond,
                ev.choice.reason is None,
                ev.choice.cost,
                ev.once,
                ev.cooldown,
                ev.node,
                *(guards[ev.node] if ev.choice.reason is None else (0, None)),
                _offer_draws(story, ev),
                # Whether its condition, once it held, would hold again on a second look now
                # (it draws no random numbers): then the Option is made without looking again.
                ev.choice.cond is not None and not uses_randomness(story.ir_event(ev.node)["if"]),
                _fixed_option(story, ev),
            )
            for ev in fits
            if not ev.forced
        )
        self.guards = guards
        # The offered events whose guards hold, by the guarded variables' values.
        self.offered = Sieve(story, self.events, [(row[8], row[9]) for row in self.events])
        self.forced = tuple((ev, *guards[ev.node]) for ev in fits if ev.forced)
        self.sieve = Sieve(
            story,
            tuple(
                (ev, ev.node, ev.priority, ev.once, ev.cooldown, ev.choice.cond)
                for ev, _slot, _ok in self.forced
            ),
            [(slot, ok) for _ev, slot, ok in self.forced],
        )
        # What the forced events' conditions read, so that a hub visited again with all of it
        # unchanged (and no forced event fired since) is known to force nothing again. Only
        # where no condition draws random numbers.
        trees = [story.ir_event(ev.node)["if"] for ev, _slot, _ok in self.forced]
        self.settled: Callable[[Any], Any] | None = None
        if self.forced and not uses_randomness(trees):
            reads: set[int] = set()
            visits: set[int] = set()
            for tree in trees:
                for t, _parent in expr_nodes(tree):
                    if t[0] == "var":
                        reads.add(t[1])
                    elif t[0] == "visited":
                        visits.add(t[1])
            # One flat tuple of everything read, as Python code (see pycode).
            st = load("st")
            parts: list[ast.expr] = [item(load("v"), slot) for slot in sorted(reads)]
            parts += [item(attr(st, "visits"), index) for index in sorted(visits)]
            parts += [attr(st, "turn"), attr(st, "fired"), call("_len", attr(st, "char_endings"))]
            whole = ast.Tuple(elts=parts, ctx=ast.Load())
            self.settled = Writer().function("settled", [ast.Return(value=whole)])

    def forced_passing(self, v: list[Any]) -> tuple[Any, ...]:
        """The forced events whose guards hold for these values."""
        return self.sieve.passing(v)


def cost_label(story: Story, slot: int, amount: Any) -> str:
    """A cost as a choice shows it, e.g. "2 hours" or "1 hour"."""
    unit = story.variables[slot].unit
    if amount == 1 and unit.endswith("s"):
        unit = unit[:-1]
    return f"{amount:g} {unit}"


def _fixed_option(story: Story, ev: Event) -> tuple[int, Any, str] | None:
    """For an event whose Option, once its condition holds, depends only on whether its cost
    can be paid (a fixed title, no reason, no cost or one fixed amount, nothing random):
    (the cost's slot or -1, the amount, the cost's label). Otherwise None."""
    ch = ev.choice
    e = story.ir_event(ev.node)
    if ch.const_text is None or ch.reason is not None or uses_randomness(e["if"]):
        return None
    if not e["cost"]:
        return (-1, 0, "")
    if len(e["cost"]) != 1:
        return None
    slot, amount = e["cost"][0]
    if amount[0] != "num":
        return None
    return (slot, amount[1], cost_label(story, slot, amount[1]))


def _offer_draws(story: Story, ev: Event) -> bool:
    e = story.ir_event(ev.node)
    return uses_randomness(e["title"]) or uses_randomness(e["reason"])


class _Values:
    __slots__ = ("v",)

    def __init__(self, v: list[Any]) -> None:
        self.v = v


def _domain(story: Story, slot: int) -> list[Any] | None:
    """Every value a variable can hold, when there are few."""
    var = story.variables[slot]
    if var.type == "bool":
        return [False, True]
    if var.type == "enum":
        return list(var.values)
    if var.max - var.min < MAX_GUARD_RANGE:
        return list(range(var.min, var.max + 1))
    return None


def _guard(story: Story, ev: Event) -> tuple[int, frozenset[Any] | None]:
    """(slot, the values for which the event's most selective guard holds), or (0, None)."""
    ir = story.ir_event(ev.node)
    test = ir["if"]
    if test is None or uses_randomness((test, ir["cost"], ir["title"], ir["reason"], ir["weight"])):
        return 0, None
    best: tuple[int, frozenset[Any] | None] = (0, None)
    best_share = 1.0
    stack = [test]
    while stack:
        t = stack.pop()
        if t[0] == "and":
            stack.extend((t[2], t[1]))
            continue
        kinds = {x[0] for x, _p in expr_nodes(t)}
        slots = {x[1] for x, _p in expr_nodes(t) if x[0] == "var"}
        if len(slots) != 1 or not kinds <= {"var", "num", "str", "cmp", "not", "bin", "neg", "or", "and"}:
            continue
        var = story.variables[next(iter(slots))]
        domain = _domain(story, var.slot)
        if domain is None:
            continue
        fn = compile_expr(t)
        values = [var.initial] * len(story.variables)
        ok = []
        for x in domain:
            values[var.slot] = x
            if fn(_Values(values)):
                ok.append(x)
        share = len(ok) / len(domain)
        if share < best_share:
            best, best_share = (var.slot, frozenset(ok)), share
    return best


def _random_draws(items: list[Any], node_index: int) -> Callable[[Any], None] | None:
    """A function making exactly the random draws that rendering these text items makes."""
    if not uses_randomness(items):
        return None
    parts = [f for f in (_item_draws(item, node_index) for item in items) if f is not None]

    def draws(st: Any) -> None:
        for f in parts:
            f(st)

    return draws


def _item_draws(item: Any, node_index: int) -> Callable[[Any], None] | None:
    if not uses_randomness(item):
        return None
    kind = item[0]
    if kind == "p":
        fns = [compile_expr(p[1]) for p in item[1] if not isinstance(p, str) and uses_randomness(p[1])]

        def interpolations(st: Any) -> None:
            for f in fns:
                f(st)

        return interpolations
    if kind == "if":
        cond = compile_expr(item[1])
        then, other = _random_draws(item[2], node_index), _random_draws(item[3], node_index)

        def conditional(st: Any) -> None:
            f = then if cond(st) else other
            if f is not None:
                f(st)

        return conditional
    alternatives = [_random_draws(a, node_index) for a in item[1]]
    count = len(alternatives)

    def variation(st: Any) -> None:
        if kind == "sequence":
            pick = min(st.visits[node_index], count) - 1
        elif kind == "cycle":
            pick = (st.visits[node_index] - 1) % count
        else:
            pick = st.randint(0, count - 1)
        f = alternatives[max(0, pick)]
        if f is not None:
            f(st)

    return variation


def plan_for(story: Story) -> Plan:
    """The plan of a story, made once and kept with it (stories are immutable)."""
    plan = story.runtime.get("plan")
    if plan is None:
        plan = story.runtime["plan"] = Plan(story)
    return plan
