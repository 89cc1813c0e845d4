"""Automated play: seeded random playthroughs and an exhaustive search of the state space.

Both drive a `Runner`: a `Game` whose hot paths (entering nodes, listing choices, hub events)
are rewritten for machines. It keeps no passage and makes no Option objects; it works out once
per story which events each hub can offer and cheap one-variable guards that rule most of them
out; and, for the random strategy, it weighs choices one at a time in random order until one is
enabled, instead of all of them on arrival. None of that changes the game: the state, the
random draws (text that draws random numbers is still rendered, into nothing) and the errors
are the engine's own, so a crash found here reproduces in a plain `Game` from its seed and
choices. A test plays both side by side and compares the whole state after every choice.

Everything here is generic: strategies are patterns over variable names, never story words.
"""

from __future__ import annotations

import fnmatch
import random as _random
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from .errors import ChoiceError, StoryRuntimeError
from .expr import compile_expr
from .game import MAX_AUTO_STEPS, Game
from .story import HUB, Choice, Node, Story, choice_uid

Progress = Callable[[int, int], None]

_RNG_CALLS = ("chance", "random")
_MASK = (1 << 64) - 1
DEFAULT_MAX_STEPS = 10_000
DEFAULT_MAX_STATES = 200_000
MAX_RANDOM_BRANCHES = 4096  # random outcomes enumerated for one choice before giving up
RANDINT_LIMIT = 64  # a random(a, b) wider than this is sampled, and the search is incomplete


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


def run_seed(seed: int, run: int) -> int:
    """The game seed of run number `run` in a batch started from `seed` (splitmix64)."""
    z = (seed * 0x9E3779B97F4A7C15 + (run + 1) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return (z ^ (z >> 31)) & 0xFFFFFFFF


class _Plan:
    """What runners work out once per story: which events each hub can offer, which text draws
    random numbers, and cheap one-variable tests ("guards") that rule events out in bulk."""

    def __init__(self, story: Story) -> None:
        self.story = story
        n = len(story.node_ids)
        self.text: list[Callable[[Any], None] | None] = []  # the random draws of each node's text
        self.choice_rng: set[int] = set()  # choice uids whose text or reason draws random numbers
        for i in range(n):
            ir = story.ir_node(i)
            self.text.append(_random_draws(ir["text"], i))
            for j, c in enumerate(ir["choices"]):
                if c and (uses_randomness(c["text"]) or uses_randomness(c.get("reason"))):
                    self.choice_rng.add(choice_uid(i, j))
            if ir["event"] is not None and (uses_randomness(ir["event"]["title"])
                                            or uses_randomness(ir["event"].get("reason"))):
                self.choice_rng.add(-1 - i)
        fresh = Game.__new__(Game)  # nothing has happened yet: _event_open tests only the tags
        fresh.ev_count, fresh.ev_last, fresh.turn = {}, {}, 0
        self.hubs: dict[int, _HubPlan] = {}
        for i, node in enumerate(story.nodes):
            if node is not None and node.is_hub:
                fits = [ev for ev in story.events if Game._event_open(fresh, ev, node.hub_tags)]
                self.hubs[i] = _HubPlan(story, fits)
        self.choices: list[tuple[Any, ...] | None] = [None] * n
        self.candidates: dict[int, _Sieve] = {}
        # Nodes whose choices can be weighed one at a time (see Runner.take_any): nothing about
        # offering them draws random numbers, the hub (if it is one) has no limit, and there
        # is no fallback.
        self.lazy = [False] * n
        for i in range(n):
            ir = story.ir_node(i)
            if ir["nav"] != ("choices",):
                continue
            if any(c and c["fallback"] for c in ir["choices"]):
                continue  # weighed on arrival, as the engine does, so the fallback is taken then
            rows: list[Any] = [(c.get("if"), c["cost"], c["text"], c.get("reason")) for c in ir["choices"] if c]
            if ir["hub"] is not None:
                if ir["hub"]["limit"] is not None:
                    continue
                for row in self.hubs[i].events:
                    e = story.ir_node(row[0].node)["event"]
                    rows.append((e.get("if"), e["cost"], e["title"], e.get("reason")))
            self.lazy[i] = not uses_randomness(rows)

    def node_choices(self, node: Node) -> tuple[Any, ...]:
        """A node's choices, unpacked for speed."""
        rows = self.choices[node.index]
        if rows is None:
            rows = self.choices[node.index] = tuple(
                (ch, ch.cond, ch.reason is None, ch.cost, ch.once, ch.uid) for ch in node.choices)
        return rows

    def node_candidates(self, node: Node) -> _Sieve:
        """What a node may offer, as candidates for Runner.take_any: its choices, then its events,
        each (is_event, choice, condition, cost, once, uid, cooldown, event node)."""
        sieve = self.candidates.get(node.index)
        if sieve is None:
            rows = [(False, ch, cond, cost, once, uid, 0, 0) for ch, cond, _nr, cost, once, uid in self.node_choices(node)]
            guards: list[tuple[int, frozenset[Any] | None]] = [(0, None)] * len(rows)
            if node.is_hub:
                hub = self.hubs[node.index]
                for ev, ch, cond, _nr, cost, once, cooldown, at, _slot, _ok in hub.events:
                    rows.append((True, ch, cond, cost, once, -1 - at, cooldown, at))
                    guards.append(hub.guards[ev.node])
            sieve = self.candidates[node.index] = _Sieve(self.story, tuple(rows), guards)
        return sieve


class _Sieve:
    """Rows, each with a guard (slot, the values for which it holds; or None), sifted by the
    guarded variables' values: the rows whose guards hold are worked out once for each
    combination of values, as an AND of per-value bit masks."""

    def __init__(self, story: Story, rows: tuple[Any, ...], guards: list[tuple[int, frozenset[Any] | None]]) -> None:
        self.rows = rows
        slots = sorted({slot for slot, ok in guards if ok is not None})
        self._slots = tuple(slots)
        self._key = itemgetter(*slots) if slots else None
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
        self._cache: dict[Any, tuple[Any, ...]] = {}
        self._by_mask: dict[int, tuple[Any, ...]] = {self._all: rows}

    def passing(self, v: list[Any]) -> tuple[Any, ...]:
        """The rows whose guards hold for these values."""
        if self._key is None:
            return self.rows
        key = self._key(v)
        hit = self._cache.get(key)
        if hit is None:
            if len(self._cache) >= 200_000:
                self._cache.clear()
            mask = self._all
            for slot, masks in zip(self._slots, self._masks, strict=True):
                mask &= masks[v[slot]]
            hit = self._by_mask.get(mask)
            if hit is None:
                rows = self.rows
                hit = self._by_mask[mask] = tuple(rows[bit] for bit in range(len(rows)) if mask >> bit & 1)
            self._cache[key] = hit
        return hit


class _HubPlan:
    """The events one hub can offer, each with a guard that rules it out cheaply.

    A guard is a conjunct of the event's condition that reads one variable with a small range
    (`week >= 9`, `becky_due`, `jordan.status == 'order'`), kept as the set of values for which
    it holds, so that testing it is a set lookup rather than a call. Guards are used only where
    nothing about the event draws random numbers, so skipping an event whose guard fails
    changes nothing but the time taken.
    """

    def __init__(self, story: Story, fits: list[Any]) -> None:
        guards = {ev.node: _guard(story, ev) for ev in fits}
        self.events = tuple(
            (ev, ev.choice, ev.choice.cond, ev.choice.reason is None, ev.choice.cost, ev.once, ev.cooldown, ev.node,
             *(guards[ev.node] if ev.choice.reason is None else (0, None)))
            for ev in fits if not ev.forced)
        self.guards = guards
        self.forced = tuple((ev, *guards[ev.node]) for ev in fits if ev.forced)
        self.sieve = _Sieve(story, tuple((ev, ev.node, ev.priority, ev.once, ev.cooldown, ev.choice.cond)
                                         for ev, _slot, _ok in self.forced),
                            [(slot, ok) for _ev, slot, ok in self.forced])
        # What the forced events' conditions read, so that a hub visited again with all of it
        # unchanged (and no forced event fired since) is known to force nothing again. Only
        # where no condition draws random numbers.
        trees = [story.ir_node(ev.node)["event"].get("if") for ev, _slot, _ok in self.forced]
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
            values = itemgetter(*sorted(reads), 0) if reads else None  # (slot 0 again: always a tuple)
            seen = itemgetter(*sorted(visits), 0) if visits else None

            def settled(g: Any) -> Any:
                return (values(g.v) if values else None, seen(g.visits) if seen else None,
                        g.turn, g.fired, len(g.char_endings))

            self.settled = settled

    def forced_passing(self, v: list[Any]) -> tuple[Any, ...]:
        """The forced events whose guards hold for these values."""
        return self.sieve.passing(v)


class _Values:
    __slots__ = ("v",)

    def __init__(self, v: list[Any]) -> None:
        self.v = v


MAX_GUARD_RANGE = 128


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


def _guard(story: Story, ev: Any) -> tuple[int, frozenset[Any] | None]:
    """(slot, the values for which the event's most selective guard holds), or (0, None)."""
    ir = story.ir_node(ev.node)["event"]
    if ir.get("if") is None or uses_randomness((ir.get("if"), ir["cost"], ir["title"], ir.get("reason"), ir["weight"])):
        return 0, None
    best: tuple[int, frozenset[Any] | None] = (0, None)
    best_share = 1.0
    stack = [ir["if"]]
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


_PLANS: dict[int, tuple[Story, _Plan]] = {}


def plan_for(story: Story) -> _Plan:
    """The plan of a story, made once (stories are immutable); a few stories are remembered."""
    hit = _PLANS.get(id(story))
    if hit is None or hit[0] is not story:
        if len(_PLANS) >= 8:
            _PLANS.clear()
        hit = (story, _Plan(story))
        _PLANS[id(story)] = hit
    return hit[1]


class Runner(Game):
    """A Game for automated play: `opts` are the choices on offer, `live` the enabled ones' indices.

    `take(i)` is `choose(i)` without the checks and bookkeeping a player needs. The passage is
    not kept. Everything else (state, random draws, errors) is the engine's own.
    """

    def __init__(self, story: Story, seed: int = 0, *, start: str | None = None,
                 values: Mapping[str, Any] | None = None, render_random_text: bool = True,
                 trace: bool = False, lazy: bool = False) -> None:
        self._plan = plan_for(story)
        self._text_draws = self._plan.text if render_random_text else [None] * len(story.node_ids)
        self._choice_rng = self._plan.choice_rng if render_random_text else set()
        self._lazy = self._plan.lazy if lazy else [False] * len(story.node_ids)
        self.opts: list[Choice] = []
        self.live: list[int] = []
        self.waiting: Node | None = None  # lazy mode: the node whose choices are not weighed yet
        self.uids: list[int] = []  # lazy mode: the choices taken, by uid
        self.completed = 0  # lazy mode: how many of them were taken without an error
        self.trace: list[int] | None = [] if trace else None
        # For each list of forced events a hub may fire, the ones still able to: without the
        # `once` events that have fired (emptied whenever one fires).
        self._alive: dict[int, tuple[tuple[Any, ...], tuple[Any, ...]]] = {}
        self.fired = 0  # forced events fired so far
        self._quiet: dict[int, Any] = {}  # hub -> what its forced events read when it last forced none
        super().__init__(story, seed, record=False, start=start, values=values)

    def take_any(self, rnd: Callable[[], float]) -> int | None:
        """Take a uniformly random enabled choice, weighing as few as possible; its uid, or None
        when nothing was enabled and the node's fallback was taken instead.

        Offering a choice draws no random numbers at a lazy node, so weighing choices one at a
        time in a random order, until one is enabled, makes the same game as weighing them all
        first. Only for a Runner made with lazy=True; elsewhere it picks from `live`.
        """
        node = self.waiting
        if node is None:
            live = self.live
            i = live[int(rnd() * len(live))] if len(live) > 1 else live[0]
            ch = self.opts[i]
            self.log.append(i)
            self.uids.append(ch.uid)
            self._take(ch)
            self.completed += 1
            return ch.uid
        candidates = self._plan.node_candidates(node).passing(self.v)
        rows: list[Any] | None = None
        n = len(candidates)
        v = self.v
        while n:
            k = int(rnd() * n)
            row = candidates[k] if rows is None else rows[k]
            # Whether the candidate can be taken (its guard held, in the sieve): once and
            # cooldown, condition, cost. Tested here, not in a function: this is the hottest loop.
            is_event, ch, cond, cost, once, uid, cooldown, at = row
            ok = True
            if is_event:
                if (once or cooldown) and self.ev_count.get(at):
                    ok = not once and self.turn - self.ev_last.get(at, -10**9) >= cooldown
            elif once and uid in self.once_used:
                ok = False
            if ok and cond is not None:
                ok = cond(self)
            if ok and cost:
                for slot, amount_fn in cost:
                    if v[slot] < amount_fn(self):
                        ok = False
                        break
            if ok:
                self.waiting = None
                self.uids.append(uid)
                self._take(ch)
                self.completed += 1
                return uid  # type: ignore[no-any-return]
            if rows is None:
                rows = list(candidates)
            n -= 1
            rows[k] = rows[n]
        self.waiting = None
        fallback = node.fallback
        if fallback is None:
            raise StoryRuntimeError(f"dead end at '{node.id}': no choice can be taken")
        if fallback.effects is not None:
            fallback.effects(self)
        self._run(fallback.target)
        return None

    def _record_turn(self) -> None:
        pass  # the outcome history is for charts; automated play doesn't keep it

    def take(self, index: int) -> None:
        """Take choice `index` of `opts` (which must be in `live`)."""
        self.log.append(index)
        self._take(self.opts[index])

    def choose(self, index: int) -> None:
        """Like Game.choose: checks the index first."""
        if self.ending is not None:
            raise ChoiceError("the story has ended")
        if index not in self.live:
            raise ChoiceError(f"choice {index + 1} can't be taken now")
        self.take(index)

    def _run(self, target: int) -> None:
        story = self.story
        nodes = story.nodes
        visits = self.visits
        text_draws = self._text_draws
        trace = self.trace
        steps = 0
        while True:
            steps += 1
            if steps > MAX_AUTO_STEPS:
                raise StoryRuntimeError(
                    f"the story went through {MAX_AUTO_STEPS:,} nodes without stopping for a "
                    f"choice (an endless loop?), last at '{story.node_ids[target] if target >= 0 else target}'"
                )
            if target < 0:
                if target == HUB:
                    if self.hub < 0:
                        raise StoryRuntimeError("'<hub>' was used before any hub was visited")
                    target = self.hub
                else:
                    turns = story.turns
                    if turns is None:
                        raise StoryRuntimeError("'<end-turn>' needs a 'turns' section")
                    self._end_turn()
                    target = turns.hub
                continue
            node = nodes[target]
            if node is None:
                node = story.node_at(target)
            if node.is_hub:
                self.hub = target
                forced = self._lean_forced(target)
                if forced is not None:
                    self._pay(story.node_at(forced).event.choice)  # type: ignore[union-attr]
                    self.ev_forced[forced] = self.turn
                    self.ev_count[forced] = self.ev_count.get(forced, 0) + 1
                    self.fired += 1
                    if story.node_at(forced).event.once:  # type: ignore[union-attr]
                        self._alive = {}
                    self.ev_last[forced] = self.turn
                    target = forced
                    continue
            visits[target] += 1
            if trace is not None:
                trace.append(target)
            if node.effects is not None:
                node.effects(self)
            draws = text_draws[target]
            if draws is not None:
                draws(self)
            if node.ending is not None:
                end = node.ending
                if end.character is None:
                    self.ending = end
                    self.node = target
                    self.opts = []
                    self.live = []
                    self.outcomes.append((self.turn, end.id))
                    return
                char = self._char_ids[end.character]
                if char not in self.char_endings:
                    self.char_endings[char] = end.id
                    self.outcomes.append((self.turn, end.id))
            nav = node.nav
            if nav == "goto":
                target = node.goto
                continue
            if nav == "branch":
                for cond, effects, out in node.outs:
                    if cond is None or cond(self):
                        if effects is not None:
                            effects(self)
                        target = out
                        break
                continue
            if nav == "random":
                weights = [max(0, w(self)) for w, _e, _t in node.outs if w is not None]
                pick = self._weighted(weights)
                if pick < 0:
                    raise StoryRuntimeError(f"every random weight at '{node.id}' is zero")
                _w, effects, target = node.outs[pick]
                if effects is not None:
                    effects(self)
                continue
            self.node = target
            if self._lazy[target]:
                self.waiting = node
                return
            self._lean_options(node)
            if self.live:
                return
            if node.fallback is not None:
                if node.fallback.effects is not None:
                    node.fallback.effects(self)
                target = node.fallback.target
                continue
            raise StoryRuntimeError(f"dead end at '{node.id}': no choice can be taken")

    def _lean_options(self, node: Node) -> None:
        # Game._options and Game._option, in the same order of evaluation, without Options.
        opts: list[Choice] = []
        live: list[int] = []
        once_used = self.once_used
        v = self.v
        rng_text = self._choice_rng
        for ch, cond, no_reason, cost, once, uid in self._plan.node_choices(node):
            if once and uid in once_used:
                continue
            enabled = True
            if cond is not None and not cond(self):
                if no_reason:
                    continue
                enabled = False
                if uid in rng_text:
                    ch.reason(self)  # type: ignore[misc]
            for slot, amount_fn in cost:
                if v[slot] < amount_fn(self) and enabled:
                    enabled = False
            if rng_text and uid in rng_text:
                ch.text(self)
            if enabled:
                live.append(len(opts))
            opts.append(ch)
        if node.is_hub:
            shown = self._lean_hub_events(node)
            for _ev, ch, cond, no_reason, cost, _once, _cooldown, at, _slot, _ok in shown:
                enabled = True
                if cond is not None and not cond(self):
                    if no_reason:
                        continue
                    enabled = False
                    if -1 - at in rng_text:
                        ch.reason(self)
                for slot, amount_fn in cost:
                    if v[slot] < amount_fn(self) and enabled:
                        enabled = False
                if rng_text and -1 - at in rng_text:
                    ch.text(self)
                if enabled:
                    live.append(len(opts))
                opts.append(ch)
        self.opts = opts
        self.live = live

    def _lean_hub_events(self, node: Node) -> list[Any]:
        # Game._hub_events, over the events this hub can offer, worked out beforehand.
        shown = []
        ev_count = self.ev_count
        turn = self.turn
        v = self.v
        for row in self._plan.hubs[node.index].events:
            _ev, _ch, cond, no_reason, _cost, once, cooldown, at, g_slot, g_ok = row
            if g_ok is not None and v[g_slot] not in g_ok:
                continue
            if at in ev_count and ev_count[at]:
                if once:
                    continue
                if cooldown and turn - self.ev_last.get(at, -10**9) < cooldown:
                    continue
            if cond is not None and no_reason and not cond(self):
                continue
            shown.append(row)
        limit = node.hub_limit
        if limit is None or len(shown) <= limit:
            return shown
        keep: list[Any] = []
        groups: dict[int, list[Any]] = {}
        for row in shown:
            groups.setdefault(row[0].priority, []).append(row)
        for priority in sorted(groups, reverse=True):
            group = groups[priority]
            room = limit - len(keep)
            if room <= 0:
                break
            if len(group) <= room:
                keep.extend(group)
                continue
            pool = list(group)
            for _ in range(room):
                i = self._weighted([max(0, row[0].weight(self)) for row in pool])
                if i < 0:
                    break
                keep.append(pool.pop(i))
        order = {id(row): n for n, row in enumerate(shown)}
        keep.sort(key=lambda row: order[id(row)])
        return keep

    def _lean_forced(self, hub: int) -> int | None:
        # Game._forced_event, over the forced events this hub can offer that pass their guards.
        plan = self._plan.hubs[hub]
        if not plan.forced:
            return None
        settled = plan.settled
        if settled is not None:
            now = settled(self)
            if self._quiet.get(hub) == now:
                return None
        best: list[Any] = []
        top = 0
        turn = self.turn
        ev_forced, ev_count, ev_last = self.ev_forced, self.ev_count, self.ev_last
        passing = plan.forced_passing(self.v)
        hit = self._alive.get(id(passing))
        if hit is not None and hit[0] is passing:
            alive = hit[1]
        else:
            alive = tuple(row for row in passing if not (row[3] and ev_count.get(row[1])))
            self._alive[id(passing)] = (passing, alive)
        for ev, node, priority, _once, cooldown, cond in alive:
            if node in ev_forced and ev_forced[node] == turn:
                continue
            if best and priority < top:
                break
            if cooldown and node in ev_count and ev_count[node] and turn - ev_last.get(node, -10**9) < cooldown:
                continue
            if cond is not None and not cond(self):
                continue
            if not best:
                top = priority
            best.append(ev)
        if not best:
            if settled is not None:
                self._quiet[hub] = now
            return None
        if len(best) == 1:
            return int(best[0].node)
        i = self._weighted([max(0, ev.weight(self)) for ev in best])
        return int(best[max(i, 0)].node)


# ---------------------------------------------------------------------------------------
# Strategies: how a simulated player picks among the enabled choices.
# ---------------------------------------------------------------------------------------

PRESETS = {
    "support": "prefer:support_actions",
    "enforce": "prefer:enforce_actions",
}
STRATEGY_HELP = (
    "random (any enabled choice), first (always the first), novel (the choice taken least so far), "
    "prefer:PATTERN (choices whose effects raise variables matching PATTERN: a glob such as "
    "'*.trust', several joined by commas), avoid:PATTERN, and the presets "
    + ", ".join(f"{k} (= {v})" for k, v in PRESETS.items())
)
EXPLORE = 0.1  # how often a preferring strategy picks at random instead, so it can't get stuck


class Strategy:
    """Picks one of the enabled choices. `name` is what reports show."""

    name = "random"

    def pick(self, runner: Runner, rnd: Callable[[], float]) -> int:
        live = runner.live
        return live[int(rnd() * len(live))]


class FirstStrategy(Strategy):
    name = "first"

    def pick(self, runner: Runner, rnd: Callable[[], float]) -> int:
        return runner.live[0]


class NovelStrategy(Strategy):
    """Prefers the choice taken least often so far in the whole batch (coverage-guided)."""

    name = "novel"

    def __init__(self) -> None:
        self.counts: Counter[int] = Counter()

    def pick(self, runner: Runner, rnd: Callable[[], float]) -> int:
        opts, counts = runner.opts, self.counts
        fewest = min(counts[opts[i].uid] for i in runner.live)
        best = [i for i in runner.live if counts[opts[i].uid] == fewest]
        i = best[int(rnd() * len(best))]
        counts[opts[i].uid] += 1
        return i


class PreferStrategy(Strategy):
    """Prefers choices whose effects (and their target's entry effects) raise matching variables."""

    def __init__(self, name: str, story: Story, patterns: list[str], sign: int) -> None:
        self.name = name
        slots = {var.slot for var in story.variables
                 if any(fnmatch.fnmatchcase(var.name, p) or fnmatch.fnmatchcase(var.base, p) for p in patterns)}
        if not slots:
            names = ", ".join(v.name for v in story.variables[:40])
            raise ValueError(f"strategy '{name}' matches no variable of this story (its variables: {names})")
        self.scores = _choice_scores(story, slots, sign)

    def pick(self, runner: Runner, rnd: Callable[[], float]) -> int:
        live = runner.live
        if len(live) == 1:
            return live[0]
        if rnd() < EXPLORE:
            return live[int(rnd() * len(live))]
        opts, scores = runner.opts, self.scores
        top = max(scores.get(opts[i].uid, 0.0) for i in live)
        best = [i for i in live if scores.get(opts[i].uid, 0.0) == top]
        return best[int(rnd() * len(best))]


def _effect_score(stmts: Iterable[Any] | None, slots: set[int]) -> float:
    score = 0.0
    for s in stmts or ():
        if s[0] == "if":
            score += (_effect_score(s[2], slots) + _effect_score(s[3], slots)) / 2
            continue
        _set, slot, op, tree, _t = s
        if slot not in slots or tree[0] != "num":
            continue
        value = float(tree[1])
        score += {"+=": value, "-=": -value, "=": value}.get(op, 0.0)
    return score


def _choice_scores(story: Story, slots: set[int], sign: int) -> dict[int, float]:
    n = len(story.node_ids)
    entry = [_effect_score(story.ir_node(i)["effects"], slots) for i in range(n)]
    scores: dict[int, float] = {}
    for i in range(n):
        ir = story.ir_node(i)
        for j, c in enumerate(ir["choices"]):
            if c:
                target = c["goto"]
                s = _effect_score(c["effects"], slots) + (entry[target] if target >= 0 else 0.0)
                scores[i * 1024 + j] = sign * s
        if ir["event"] is not None:
            scores[-1 - i] = sign * entry[i]
    return scores


def parse_strategy(spec: str, story: Story) -> Strategy:
    """A strategy from its name (see STRATEGY_HELP); ValueError says what is wrong."""
    name = spec.strip()
    resolved = PRESETS.get(name, name)
    if resolved == "random":
        return Strategy()
    if resolved == "first":
        return FirstStrategy()
    if resolved == "novel":
        return NovelStrategy()
    kind, _, pattern = resolved.partition(":")
    if kind in ("prefer", "avoid"):
        patterns = [p.strip() for p in pattern.split(",") if p.strip()]
        if not patterns:
            raise ValueError(f"strategy '{name}' needs a pattern, e.g. {kind}:*.trust")
        label = name if name == resolved else f"{name}"
        return PreferStrategy(label, story, patterns, 1 if kind == "prefer" else -1)
    raise ValueError(f"unknown strategy '{name}'; the strategies are: {STRATEGY_HELP}")


# ---------------------------------------------------------------------------------------
# Random playtests.
# ---------------------------------------------------------------------------------------


@dataclass
class Crash:
    """A run that hit an engine error, and what reproduces it: the game's seed and the choices
    taken, as indices into `Game.choices` (`path`) and as what a player types in
    `iom play --plain` (`keys`: the enabled choices numbered from 1)."""

    run: int
    seed: int
    node: str
    error: str
    steps: int
    path: list[int] = field(default_factory=list)
    keys: list[int] = field(default_factory=list)
    reproduced: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"run": self.run, "seed": self.seed, "node": self.node, "error": self.error,
                "steps": self.steps, "path": list(self.path), "keys": list(self.keys),
                "reproduced": self.reproduced}


def _uids_to_path(story: Story, seed: int, uids: list[int], start: str | None,
                  values: Mapping[str, Any] | None) -> tuple[list[int], list[int], str | None]:
    """Replay choices (by uid) in a real Game: (option indices, plain-mode keys, the error hit)."""
    path: list[int] = []
    keys: list[int] = []
    try:
        game = Game(story, seed, record=False, start=start, values=values)
        for uid in uids:
            enabled = [o for o in game.options if o.enabled]
            opt = next((o for o in enabled if o.choice.uid == uid), None)
            if opt is None:
                return path, keys, None
            path.append(opt.index)
            keys.append(enabled.index(opt) + 1)
            game.choose(opt.index)
    except StoryRuntimeError as exc:
        return path, keys, str(exc)
    except Exception as exc:  # noqa: BLE001 - the error is the finding
        return path, keys, f"{type(exc).__name__}: {exc}"
    return path, keys, None


@dataclass
class PlaytestReport:
    """The results of a batch of random playthroughs (mergeable, for parallel batches)."""

    story_id: str
    strategy: str
    seed: int
    runs: int = 0
    steps: int = 0
    nodes_entered: int = 0
    seconds: float = 0.0
    jobs: int = 1
    endings: Counter[str] = field(default_factory=Counter)
    unfinished: int = 0
    unfinished_seeds: list[int] = field(default_factory=list)
    crashes: list[Crash] = field(default_factory=list)
    crash_count: int = 0
    node_visits: list[int] = field(default_factory=list)
    choice_counts: Counter[int] = field(default_factory=Counter)
    choices_total: int = 0
    node_ids: tuple[str, ...] = ()
    all_endings: dict[str, str] = field(default_factory=dict)
    case_endings: dict[str, Counter[str]] = field(default_factory=dict)
    case_values: dict[str, dict[str, Counter[Any]]] = field(default_factory=dict)
    # With `witness`: for each of those nodes that a run entered, the first such run as
    # (run number, game seed, the uids of the choices it took up to the end).
    firsts: dict[int, tuple[int, int, list[int]]] = field(default_factory=dict)

    @property
    def nodes_visited(self) -> int:
        return sum(1 for n in self.node_visits if n)

    @property
    def unvisited_nodes(self) -> list[str]:
        return [self.node_ids[i] for i, n in enumerate(self.node_visits) if not n]

    @property
    def steps_per_second(self) -> float:
        return self.steps / self.seconds if self.seconds > 0 else 0.0

    def merge(self, other: PlaytestReport) -> None:
        """Add another batch's results to this one's."""
        self.runs += other.runs
        self.steps += other.steps
        self.nodes_entered += other.nodes_entered
        self.endings.update(other.endings)
        self.unfinished += other.unfinished
        self.unfinished_seeds = (self.unfinished_seeds + other.unfinished_seeds)[:20]
        self.crash_count += other.crash_count
        self.crashes = sorted(self.crashes + other.crashes, key=lambda c: c.run)[:MAX_CRASHES_KEPT]
        self.node_visits = [a + b for a, b in zip(self.node_visits, other.node_visits, strict=True)]
        self.choice_counts.update(other.choice_counts)
        for node, first in other.firsts.items():
            if node not in self.firsts or first[0] < self.firsts[node][0]:
                self.firsts[node] = first
        for c, counts in other.case_endings.items():
            self.case_endings.setdefault(c, Counter()).update(counts)
        for c, variables in other.case_values.items():
            mine = self.case_values.setdefault(c, {})
            for name, counts in variables.items():
                mine.setdefault(name, Counter()).update(counts)

    def cases(self) -> dict[str, Any]:
        """Each case's (character's) endings and the spread of its visible variables at the end."""
        out: dict[str, Any] = {}
        for c, endings in self.case_endings.items():
            out[c] = {
                "endings": dict(sorted(endings.items(), key=lambda kv: (-kv[1], kv[0]))),
                "variables": {name: _distribution(counts) for name, counts in self.case_values.get(c, {}).items()},
            }
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "story": self.story_id,
            "strategy": self.strategy,
            "seed": self.seed,
            "runs": self.runs,
            "steps": self.steps,
            "nodes_entered": self.nodes_entered,
            "seconds": round(self.seconds, 4),
            "steps_per_second": round(self.steps_per_second),
            "jobs": self.jobs,
            "endings": dict(sorted(self.endings.items(), key=lambda kv: (-kv[1], kv[0]))),
            "endings_never_reached": sorted(e for e in self.all_endings if e not in self.endings),
            "unfinished": self.unfinished,
            "unfinished_seeds": self.unfinished_seeds,
            "nodes_visited": self.nodes_visited,
            "nodes_total": len(self.node_ids),
            "unvisited_nodes": self.unvisited_nodes,
            "choices_taken": len(self.choice_counts),
            "choices_total": self.choices_total,
            "crash_count": self.crash_count,
            "crashes": [c.to_dict() for c in self.crashes],
            "cases": self.cases(),
        }


def _distribution(counts: Counter[Any]) -> dict[str, Any]:
    n = sum(counts.values())
    out: dict[str, Any] = {"values": {str(k): c for k, c in sorted(counts.items(), key=lambda kv: kv[0])}}
    if n and all(isinstance(k, int) and not isinstance(k, bool) for k in counts):
        out["mean"] = round(sum(k * c for k, c in counts.items()) / n, 3)
        out["min"] = min(counts)
        out["max"] = max(counts)
    return out


MAX_CRASHES_KEPT = 50


def playtest(story: Story, runs: int, seed: int = 0, strategy: str = "random", *,
             max_steps: int = DEFAULT_MAX_STEPS, start: str | None = None,
             values: Mapping[str, Any] | None = None, jobs: int = 1,
             progress: Progress | None = None, witness: frozenset[int] | None = None) -> PlaytestReport:
    """Play `runs` seeded games with a strategy (see STRATEGY_HELP; ValueError if unknown).

    Run r plays the game seeded `run_seed(seed, r)`, so results don't depend on `jobs` (except
    for the `novel` strategy, which learns as it goes and so always runs in one process).
    Engine errors are caught, kept with what reproduces them, and play goes on.
    """
    parse_strategy(strategy, story)  # fail early on a bad name
    if start is not None and start not in story.node_index:
        raise ValueError(f"there is no node '{start}'")
    _preset(story, values)  # fail early on a bad variable
    began = time.perf_counter()
    if jobs > 1 and strategy != "novel" and runs >= 2 * jobs:
        report = _parallel(story, runs, seed, strategy, max_steps, start, values, jobs, progress, witness)
    else:
        report = _batch(story, range(runs), seed, strategy, max_steps, start, values, progress, runs, witness)
    report.seconds = time.perf_counter() - began
    for crash in report.crashes:
        _explain(story, crash, start, values)
    if progress is not None:
        progress(runs, runs)
    return report


def _explain(story: Story, crash: Crash, start: str | None, values: Mapping[str, Any] | None) -> None:
    """Fill in a crash's option indices and keys, and check that a real Game reproduces it."""
    uids = crash.path
    path, keys, error = _uids_to_path(story, crash.seed, uids, start, values)
    crash.path, crash.keys = path, keys
    crash.reproduced = error is not None and len(path) == len(uids)


def _new_report(story: Story, strategy: str, seed: int) -> PlaytestReport:
    report = PlaytestReport(story.id, strategy, seed, node_ids=story.node_ids,
                            node_visits=[0] * len(story.node_ids))
    report.all_endings = {e.id: e.title for e in story.endings}
    report.choices_total = _count_choices(story)
    return report


def _batch(story: Story, run_numbers: Iterable[int], seed: int, strategy_name: str, max_steps: int,
           start: str | None, values: Mapping[str, Any] | None, progress: Progress | None,
           total: int, witness: frozenset[int] | None = None) -> PlaytestReport:
    strategy = parse_strategy(strategy_name, story)
    report = _new_report(story, strategy.name, seed)
    lazy = type(strategy) is Strategy
    pick = strategy.pick
    case_endings = report.case_endings = {c.id: Counter() for c in story.characters}
    shown = [(var.character, var.base, var.slot) for var in story.variables
             if var.character is not None and (var.track or var.display != "hidden")]
    report.case_values = {c.id: {} for c in story.characters}
    values_of = [(report.case_values[c].setdefault(b, Counter()), slot) for c, b, slot in shown]
    choice_counts = report.choice_counts
    visits_total = report.node_visits
    every = max(1, min(200, total // 100))
    done = 0
    for r in run_numbers:
        game_seed = run_seed(seed, r)
        rnd = _random.Random(game_seed ^ 0x5EED).random
        runner: Runner | None = None
        steps = 0
        try:
            runner = Runner(story, game_seed, start=start, values=values, lazy=lazy)
            if lazy:
                take_any = runner.take_any
                taken = runner.uids
                while runner.ending is None and len(taken) < max_steps:
                    take_any(rnd)
                steps = len(taken)
                choice_counts.update(taken)
            else:
                while runner.ending is None:
                    if steps >= max_steps:
                        break
                    i = pick(runner, rnd)
                    ch = runner.opts[i]
                    choice_counts[ch.uid] += 1
                    steps += 1
                    runner.uids.append(ch.uid)
                    runner.take(i)
            if runner.ending is None:
                report.unfinished += 1
                if len(report.unfinished_seeds) < 20:
                    report.unfinished_seeds.append(game_seed)
        except Exception as exc:  # noqa: BLE001 - a crash is a finding: keep it and go on
            if lazy and runner is not None:
                steps = runner.completed  # the choice that failed is in `uids`, but not done
                choice_counts.update(runner.uids[:steps])
            report.crash_count += 1
            if len(report.crashes) < MAX_CRASHES_KEPT:
                node = runner.node if runner is not None else story.start
                message = str(exc) if isinstance(exc, StoryRuntimeError) else f"{type(exc).__name__}: {exc}"
                uids = list(runner.uids) if runner is not None else []
                report.crashes.append(Crash(r, game_seed, story.node_ids[node], message, steps, uids))
        report.runs += 1
        report.steps += steps
        if runner is not None:
            visits = runner.visits
            report.nodes_entered += sum(visits)
            for i, k in enumerate(visits):
                if k:
                    visits_total[i] += 1
            if witness:
                for i in witness:
                    if visits[i] and i not in report.firsts:
                        report.firsts[i] = (r, game_seed, list(runner.uids))
            if runner.ending is not None:
                report.endings[runner.ending.id] += 1
            reached = runner.character_endings() if runner.char_endings else {}
            for c, counts in case_endings.items():
                ending = reached.get(c)
                counts[ending.id if ending else "(none)"] += 1
                if ending is not None:
                    report.endings[ending.id] += 1
            v = runner.v
            for counts, slot in values_of:
                counts[v[slot]] += 1
        done += 1
        if progress is not None and done % every == 0:
            progress(done, total)
    return report


_WORKER: dict[str, Any] = {}


def _work(args: tuple[int, int]) -> PlaytestReport:
    lo, hi = args
    w = _WORKER
    return _batch(w["story"], range(lo, hi), w["seed"], w["strategy"], w["max_steps"], w["start"],
                  w["values"], None, hi - lo, w["witness"])


def _parallel(story: Story, runs: int, seed: int, strategy: str, max_steps: int, start: str | None,
              values: Mapping[str, Any] | None, jobs: int, progress: Progress | None,
              witness: frozenset[int] | None = None) -> PlaytestReport:
    import multiprocessing

    try:
        ctx = multiprocessing.get_context("fork")
    except ValueError:  # no fork on this platform: one process it is
        return _batch(story, range(runs), seed, strategy, max_steps, start, values, progress, runs, witness)
    story.compile_all()  # once, before the workers are forked
    _WORKER.update(story=story, seed=seed, strategy=strategy, max_steps=max_steps, start=start,
                   values=dict(values or {}), witness=witness)
    chunk = max(1, min(2000, runs // (jobs * 8) or 1))
    pieces = [(lo, min(runs, lo + chunk)) for lo in range(0, runs, chunk)]
    report = _new_report(story, parse_strategy(strategy, story).name, seed)
    report.jobs = jobs
    done = 0
    try:
        with ctx.Pool(jobs) as pool:
            for part in pool.imap_unordered(_work, pieces):
                report.merge(part)
                done += part.runs
                if progress is not None:
                    progress(done, runs)
    finally:
        _WORKER.clear()
    return report


def _count_choices(story: Story) -> int:
    total = 0
    for i in range(len(story.node_ids)):
        ir = story.ir_node(i)
        total += sum(1 for c in ir["choices"] if c and not c["fallback"])
        if ir["event"] is not None and not ir["event"]["forced"]:
            total += 1  # a forced event is entered, never chosen
    return total


def replay(story: Story, seed: int, path: Iterable[int], *, start: str | None = None,
           values: Mapping[str, Any] | None = None) -> tuple[Game | None, str | None]:
    """Replay a choice path in a real Game: (the game, or None; the error it hit, or None)."""
    game = None
    try:
        game = Game(story, seed, record=False, start=start, values=values)
        for i in path:
            game.choose(i)
    except (StoryRuntimeError, ChoiceError) as exc:
        return game, str(exc)
    except Exception as exc:  # noqa: BLE001 - report engine errors as findings, not tracebacks
        return game, f"{type(exc).__name__}: {exc}"
    return game, None


# ---------------------------------------------------------------------------------------
# Exhaustive exploration.
# ---------------------------------------------------------------------------------------


def control_flow(story: Story) -> Iterator[tuple[Any, ...]]:
    """Every piece of a story that can change what happens next (everything but text):
    ("cond", tree) for conditions, weights and costs; ("effects", statements); and
    ("assign", slot, tree) for a turn budget's refill."""
    for i in range(len(story.node_ids)):
        ir = story.ir_node(i)
        if ir["effects"]:
            yield ("effects", ir["effects"])
        nav = ir["nav"]
        if nav[0] in ("random", "branch"):
            for cond, effects, _target in nav[1]:
                if cond is not None:
                    yield ("cond", cond)
                if effects:
                    yield ("effects", effects)
        for c in ir["choices"]:
            if c:
                if c.get("if") is not None:
                    yield ("cond", c["if"])
                for slot, amount in c["cost"]:
                    yield ("cond", ("var", slot))
                    yield ("cond", amount)
                if c["effects"]:
                    yield ("effects", c["effects"])
        e = ir["event"]
        if e is not None:
            if e.get("if") is not None:
                yield ("cond", e["if"])
            for slot, amount in e["cost"]:
                yield ("cond", ("var", slot))
                yield ("cond", amount)
            yield ("cond", e["weight"])
    turns = story.ir_turns()
    if turns is not None:
        if turns["refill"] is not None and turns["budget"] is not None:
            yield ("assign", turns["budget"], turns["refill"])
        if turns["end_of_turn"]:
            yield ("effects", turns["end_of_turn"])


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


class _Decisions:
    """The script of random outcomes for one try, and what each draw could have been."""

    __slots__ = ("script", "pos", "arity", "sampled", "free")

    def __init__(self) -> None:
        self.free: _random.Random | None = None  # when set, new draws are random, not the first outcome
        self.reset([])

    def reset(self, script: list[int]) -> None:
        self.script = script
        self.pos = 0
        self.arity: list[int] = []
        self.sampled = False

    def decide(self, n: int) -> int:
        pos = self.pos
        self.pos = pos + 1
        self.arity.append(n)
        if pos < len(self.script):
            return self.script[pos]
        if pos >= MAX_DRAWS:
            raise _TooManyDraws
        d = 0 if self.free is None else self.free.randrange(n)
        self.script.append(d)
        return d


MAX_DRAWS = 64
_ALMOST_ONE = 1.0 - 2.0**-53


class _TooManyDraws(Exception):
    pass


class Explorer(Runner):
    """A Runner whose random draws follow a script, so every outcome can be tried in turn."""

    def __init__(self, story: Story, decisions: _Decisions, *, start: str | None = None,
                 values: Mapping[str, Any] | None = None) -> None:
        self.d = decisions
        super().__init__(story, 0, start=start, values=values, render_random_text=False, trace=True)

    def random(self) -> float:
        return 0.0 if self.d.decide(2) == 0 else _ALMOST_ONE

    def randint(self, lo: int, hi: int) -> int:
        if hi < lo:
            lo, hi = hi, lo
        n = hi - lo + 1
        if n <= RANDINT_LIMIT:
            return lo + self.d.decide(n)
        self.d.sampled = True
        return lo + round(self.d.decide(RANDINT_LIMIT) * (n - 1) / (RANDINT_LIMIT - 1))

    def _weighted(self, weights: list[float]) -> int:
        positive = [i for i, w in enumerate(weights) if w > 0]
        if len(positive) <= 1:
            return positive[0] if positive else -1
        return positive[self.d.decide(len(positive))]


class _StateModel:
    """Which parts of a game state can change what happens next, so that equal states merge.

    Text never changes the course of a story, nor does the random generator once every outcome
    is a branch of its own; variables that no condition, weight or cost depends on (directly or
    through other variables) don't either, and visit counts matter only for the nodes that
    `visited()` names, and only up to the largest number they are compared with.
    """

    def __init__(self, story: Story) -> None:
        caps: dict[int, int | None] = {}
        self.uses_turn = False
        direct: set[int] = set()
        assigns: list[tuple[int, set[int]]] = []
        for kind, *rest in control_flow(story):
            trees: list[Any] = []
            if kind == "cond":
                trees.append(rest[0])
                direct |= expr_vars(rest[0])
            elif kind == "assign":
                trees.append(rest[1])
                assigns.append((rest[0], expr_vars(rest[1])))
            else:
                for stmt, guard in statements(rest[0]):
                    reads = expr_vars(stmt[3]).union(*(expr_vars(g) for g in guard))
                    assigns.append((stmt[1], reads))
                    trees.append(stmt[3])
                    trees.extend(guard)
            for tree in trees:
                for t, parent in expr_nodes(tree):
                    if t[0] == "turn":
                        self.uses_turn = True
                    elif t[0] == "visited":
                        caps[t[1]] = _merge_cap(caps, t[1], _visit_cap(t, parent))
        relevant = set(direct)
        changed = True
        while changed:
            changed = False
            for slot, reads in assigns:
                if slot in relevant and not reads <= relevant:
                    relevant |= reads
                    changed = True
        self.slots = tuple(sorted(relevant))
        self.visit_nodes = tuple(sorted(caps))
        self.visit_caps: tuple[int, ...] = tuple(10**9 if (c := caps[i]) is None else c for i in self.visit_nodes)
        # Only events with `once`, a cooldown or `forced` remember anything that matters.
        self.once_nodes = frozenset(ev.node for ev in story.events if ev.once)
        self.cooldowns = {ev.node: ev.cooldown for ev in story.events if ev.cooldown}
        self.forced_nodes = frozenset(ev.node for ev in story.events if ev.forced)
        self._values = itemgetter(*self.slots) if len(self.slots) > 1 else None
        self._visits = itemgetter(*self.visit_nodes) if len(self.visit_nodes) > 1 else None

    def key(self, g: Runner) -> tuple[Any, ...]:
        v, visits, turn = g.v, g.visits, g.turn
        once_nodes, cooldowns = self.once_nodes, self.cooldowns
        ev_last = g.ev_last
        happened = []
        cooling = []
        for node in g.ev_count:
            if node in once_nodes:
                happened.append(node)
            cooldown = cooldowns.get(node)
            if cooldown:
                since = turn - ev_last.get(node, -10**9)
                if since < cooldown:
                    cooling.append((node, since))
        forced_now = [n for n, t in g.ev_forced.items() if t == turn and n in self.forced_nodes]
        if self._values is not None:
            values = self._values(v)
        else:
            values = tuple(v[s] for s in self.slots)
        if self._visits is not None:
            counts = tuple(map(min, self._visits(visits), self.visit_caps))
        else:
            counts = tuple(min(visits[i], c) for i, c in zip(self.visit_nodes, self.visit_caps, strict=True))
        return (
            g.node, g.hub, values, counts,
            frozenset(g.once_used),
            (frozenset(happened), frozenset(cooling), frozenset(forced_now)),
            frozenset(g.char_endings),
            turn if self.uses_turn else 0,
            tuple(g.opts), tuple(g.live),
        )

    def restore(self, g: Runner, key: tuple[Any, ...], base: list[Any]) -> None:
        node, hub, values, visit_counts, once_used, (happened, cooling, forced_now), ended, turn, opts, live = key
        v = list(base)
        for s, x in zip(self.slots, values, strict=True):
            v[s] = x
        g.v = v
        visits = [0] * len(g.visits)
        for i, c in zip(self.visit_nodes, visit_counts, strict=True):
            visits[i] = c
        g.visits = visits
        t = turn if self.uses_turn else 1_000_000
        g.turn = t
        g.node, g.hub = node, hub
        g.once_used = set(once_used)
        g.ev_count = dict.fromkeys(happened, 1)
        g.ev_last = {}
        for n, since in cooling:
            g.ev_count[n] = 1
            g.ev_last[n] = t - since
        g.ev_forced = dict.fromkeys(forced_now, t)
        g._alive = {}
        g._quiet = {}
        g.char_endings = dict.fromkeys(ended, "")
        g.ending = None
        g.opts, g.live = list(opts), list(live)
        g.outcomes, g.history, g.log = [], [], []


def _visit_cap(t: tuple[Any, ...], parent: tuple[Any, ...] | None) -> int | None:
    if parent is None or parent[0] != "cmp":
        return None
    other = parent[3] if parent[2] is t else parent[2]
    if other[0] == "num" and type(other[1]) is int:
        return max(0, other[1]) + 1
    return None


def _merge_cap(caps: dict[int, int | None], node: int, cap: int | None) -> int | None:
    if node not in caps:
        return cap
    old = caps[node]
    return None if old is None or cap is None else max(old, cap)


@dataclass
class Step:
    """One step of a path: the choice taken at a node, and how many random draws had to go its way."""

    node: str
    index: int
    text: str
    luck: int

    def to_dict(self) -> dict[str, Any]:
        return {"node": self.node, "choice": self.index, "text": self.text, "random_outcomes": self.luck}


@dataclass
class ExploreReport:
    """The results of an exhaustive search.

    `exhausted` says that every reachable state was explored (`why_incomplete` says why not).
    `complete` says that the answer is: every node and ending was reached, with a path, or
    shown to be unreachable, because the whole state space was explored or because a static
    analysis of the story's conditions (`ruled_out`) says so.
    """

    story_id: str
    complete: bool = True
    exhausted: bool = True
    why_incomplete: list[str] = field(default_factory=list)
    ruled_out: set[int] = field(default_factory=set)
    played: int = 0  # random playthroughs after the state search stopped
    path_seed: int | None = None  # the game seed a path needs, when it came from random play
    states: int = 0
    transitions: int = 0
    seconds: float = 0.0
    node_ids: tuple[str, ...] = ()
    reached: list[bool] = field(default_factory=list)
    endings_reached: set[str] = field(default_factory=set)
    all_endings: dict[str, str] = field(default_factory=dict)
    choices_taken: set[int] = field(default_factory=set)
    choices_total: int = 0
    crashes: list[dict[str, Any]] = field(default_factory=list)
    crash_count: int = 0
    path_to: str | None = None
    path: list[Step] | None = None
    probed: int = 0
    path_shortest: bool = False

    @property
    def unreachable_nodes(self) -> list[str]:
        return [self.node_ids[i] for i, ok in enumerate(self.reached) if not ok]

    @property
    def unreachable_endings(self) -> list[str]:
        return sorted(e for e in self.all_endings if e not in self.endings_reached)

    @property
    def unaccounted(self) -> list[int]:
        """Nodes neither reached nor ruled out (while the state space is not exhausted)."""
        if self.exhausted:
            return []
        return [i for i, ok in enumerate(self.reached) if not ok and i not in self.ruled_out]

    def settle(self, ending_nodes: Mapping[str, int]) -> None:
        """Work out `complete` from what was reached and what was ruled out."""
        self.complete = self.exhausted or (
            not self.unaccounted
            and all(e in self.endings_reached or ending_nodes[e] in self.ruled_out for e in self.all_endings))

    def incomplete(self, why: str) -> None:
        self.complete = False
        self.exhausted = False
        if why not in self.why_incomplete:
            self.why_incomplete.append(why)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "story": self.story_id,
            "complete": self.complete,
            "state_space_exhausted": self.exhausted,
            "why_incomplete": self.why_incomplete,
            "ruled_out_nodes": sorted(self.node_ids[i] for i in self.ruled_out if not self.reached[i]),
            "playthroughs_after_search": self.played,
            "states": self.states,
            "transitions": self.transitions,
            "seconds": round(self.seconds, 3),
            "nodes_reachable": sum(self.reached),
            "nodes_total": len(self.node_ids),
            "unreachable_nodes": self.unreachable_nodes,
            "endings_reachable": sorted(self.endings_reached),
            "unreachable_endings": self.unreachable_endings,
            "probed_choices": self.probed,
            "choices_takeable": len(self.choices_taken),
            "choices_total": self.choices_total,
            "crash_count": self.crash_count,
            "crashes": self.crashes,
        }
        if self.path_to is not None:
            out["path_to"] = self.path_to
            out["path"] = None if self.path is None else [s.to_dict() for s in self.path]
            out["path_is_shortest"] = self.path_shortest
            out["path_seed"] = self.path_seed
        return out


Via = tuple[int, int, int]  # (state, choice index, random draws that had to go this way)


def explore(story: Story, *, max_states: int = DEFAULT_MAX_STATES, max_seconds: float | None = None,
            start: str | None = None, values: Mapping[str, Any] | None = None, path_to: str | None = None,
            progress: Progress | None = None, ruled_out: Iterable[int] = (), jobs: int = 1) -> ExploreReport:
    """Breadth-first search of every reachable state, each random outcome a branch of its own.

    States that differ only in what can't change the story's course are merged (see
    _StateModel). When a bound stops the search (`exhausted` False, with the reasons), it plays
    on from where it stopped, and then from the start with one strategy after another, until
    every node and ending is reached or ruled out (`ruled_out`: nodes a static analysis shows
    can't be reached), or time runs out: the search gets the first half of `max_seconds`.
    ValueError names an unknown node or variable.
    """
    began = time.perf_counter()
    n = len(story.node_ids)
    report = ExploreReport(story.id, node_ids=story.node_ids, reached=[False] * n)
    report.all_endings = {e.id: e.title for e in story.endings}
    report.choices_total = _count_choices(story)
    target = None
    if path_to is not None:
        if path_to not in story.node_index:
            raise ValueError(f"there is no node '{path_to}'")
        target = story.node_index[path_to]
        report.path_to = path_to
    if start is not None and start not in story.node_index:
        raise ValueError(f"there is no node '{start}'")
    model = _StateModel(story)
    base = _preset(story, values)
    keys: dict[tuple[Any, ...], int] = {}
    states: list[tuple[Any, ...]] = []
    parents: list[Via | None] = []
    first_reach: dict[int, Via | None] = {}
    queue: deque[int] = deque()
    d = _Decisions()
    probe = _probe(story)
    varied: set[tuple[int, int]] = set()
    shortest: set[int] = set()

    def add(g: Runner, via: Via | None, key: tuple[Any, ...] | None) -> int | None:
        for i in g.trace or ():
            if not report.reached[i]:
                report.reached[i] = True
                first_reach[i] = via
                if report.exhausted:
                    shortest.add(i)  # breadth first, before any bound was hit
        for _turn, eid in g.outcomes:
            report.endings_reached.add(eid)
        if key is None:
            return None
        known = keys.get(key)
        if known is not None:
            return known
        if len(states) >= max_states:
            report.incomplete(f"stopped at {max_states:,} states (raise --max-states)")
            return None
        keys[key] = len(states)
        states.append(key)
        parents.append(via)
        queue.append(len(states) - 1)
        return len(states) - 1

    def branches(run: Callable[[], Runner], via_of: Callable[[int], Via | None], node: int) -> None:
        tries = 0
        outcomes: set[Any] = set()
        while True:
            try:
                g = run()
            except _TooManyDraws:
                report.incomplete(f"a single step drew random numbers more than {MAX_DRAWS} times")
                outcomes.add("too many draws")
            except Exception as exc:  # noqa: BLE001 - a crash is a finding: keep it and go on
                outcomes.add(("crash", str(exc)))
                report.crash_count += 1
                if len(report.crashes) < MAX_CRASHES_KEPT:
                    message = str(exc) if isinstance(exc, StoryRuntimeError) else f"{type(exc).__name__}: {exc}"
                    path = _path(story, states, parents, via_of(_luck(d)), base, model, probe, None)
                    report.crashes.append({"node": story.node_ids[node], "error": message,
                                           "path": [s.to_dict() for s in path]})
            else:
                key = None if g.ending is not None else model.key(g)
                outcomes.add(key if key is not None else ("ending", g.ending.id if g.ending else ""))
                add(g, via_of(_luck(d)), key)
            if d.sampled:
                report.incomplete(f"random ranges wider than {RANDINT_LIMIT} values were sampled")
            used, arity = d.script[: d.pos], d.arity
            k = len(used) - 1
            while k >= 0 and used[k] + 1 >= arity[k]:
                k -= 1
            if k < 0:
                base_via = via_of(0)
                if len(outcomes) > 1 and base_via is not None:
                    varied.add(base_via[:2])  # chance decided where this step led
                return
            tries += 1
            if tries >= MAX_RANDOM_BRANCHES:
                report.incomplete(f"a single step had more than {MAX_RANDOM_BRANCHES:,} random outcomes")
                return
            d.reset(used[:k] + [used[k] + 1])

    worker: list[Explorer] = []

    def begin() -> Runner:
        g = Explorer(story, d, start=start, values=values)
        worker.append(g)
        return g

    first = story.start if start is None else story.node_index[start]
    branches(begin, lambda luck: None, first)
    if not worker:
        report.seconds = time.perf_counter() - began
        return report
    g = worker[0]
    last = 0.0
    search_seconds = max_seconds / 2 if max_seconds else None
    deadline = began + search_seconds if search_seconds else None
    while queue:
        now = time.perf_counter()
        if deadline is not None and now > deadline:
            report.incomplete(f"stopped after {search_seconds:g} s, half of --max-seconds")
            break
        if not report.exhausted and now > began + HOPELESS_SECONDS:
            break  # it can't be exhausted now: leave the rest to playing on
        sid = queue.popleft()
        key = states[sid]
        opts, live = key[8], key[9]
        for index in live:
            report.transitions += 1
            report.choices_taken.add(opts[index].uid)

            def run(key: tuple[Any, ...] = key, index: int = index) -> Runner:
                model.restore(g, key, base)
                g.trace = []
                g.take(index)
                return g

            def via(luck: int, sid: int = sid, index: int = index) -> Via | None:
                return (sid, index, luck)

            d.reset([])
            branches(run, via, key[0])
        if progress is not None:
            now = time.perf_counter()
            if now - last > 0.1:
                last = now
                progress(len(states) - len(queue), len(states))
    report.states = len(states)
    report.ruled_out = set(ruled_out)
    endings_at = _ending_nodes(story)
    probed: dict[int, tuple[int, list[Step]]] = {}
    played: dict[int, tuple[int, list[int]]] = {}
    if not report.exhausted and not all(report.reached) and states:
        spent = time.perf_counter() - began
        _probe_deeper(report, states, model, base, g, d, time.perf_counter() + min(5.0, 1.0 + spent / 4), probed)
    if not report.exhausted:
        _play_on(report, story, start, values, jobs, began + max_seconds if max_seconds else None, endings_at,
                 played)
    report.settle({e: min(nodes) for e, nodes in endings_at.items()})
    if progress is not None:
        progress(report.states, report.states)
    if target is not None and report.reached[target]:
        if target in probed:
            sid, tail = probed[target]
            report.path = _path(story, states, parents, parents[sid], base, model, probe, varied) + tail
        elif target in played:
            report.path_seed, uids = played[target]
            report.path = _played_path(story, report.path_seed, uids, start, values, target)
        else:
            report.path = _path(story, states, parents, first_reach[target], base, model, probe, varied)
            report.path_shortest = target in shortest
    report.seconds = time.perf_counter() - began
    return report


PLAY_ON_RUNS = 200  # random playthroughs in each round of playing on
HOPELESS_SECONDS = 10.0  # how long the state search goes on once a bound has made it incomplete


def _ending_nodes(story: Story) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i in range(len(story.node_ids)):
        ending = story.ir_node(i)["ending"]
        if ending:
            out.setdefault(ending["id"], []).append(i)
    return out


def _play_on(report: ExploreReport, story: Story, start: str | None, values: Mapping[str, Any] | None, jobs: int,
             deadline: float | None, endings_at: dict[str, list[int]],
             played: dict[int, tuple[int, list[int]]]) -> None:
    """When the state search stopped early: random playthroughs from the start, a round with
    each strategy in turn (at random, then preferring and avoiding each tracked variable),
    until every node and ending is reached or ruled out, time runs out, or a whole turn of the
    strategies finds nothing new. Each node found keeps the seed and choices that reach it."""
    strategies = ["random"]
    for var in story.variables:
        if var.track and var.type == "int":
            strategies += [f"prefer:{var.name}", f"avoid:{var.name}"]
    fruitless = 0
    rounds = 0
    while fruitless < len(strategies):
        missing_endings = [e for e in report.all_endings if e not in report.endings_reached
                           and not all(i in report.ruled_out for i in endings_at.get(e, []))]
        wanted = frozenset(report.unaccounted).union(*(endings_at.get(e, []) for e in missing_endings))
        if not wanted or (deadline is not None and time.perf_counter() > deadline):
            return
        spec = strategies[rounds % len(strategies)]
        rounds += 1
        r = playtest(story, PLAY_ON_RUNS, seed=rounds, strategy=spec, start=start, values=values, jobs=jobs,
                     witness=wanted)
        report.played += r.runs
        found = False
        for i, (_run, seed, uids) in sorted(r.firsts.items()):
            if not report.reached[i]:
                report.reached[i] = True
                played[i] = (seed, uids)
                found = True
        for eid, count in r.endings.items():
            if count and eid not in report.endings_reached:
                report.endings_reached.add(eid)
                found = True
        report.choices_taken.update(uid for uid, count in r.choice_counts.items() if count)
        report.crash_count += r.crash_count
        for crash in r.crashes[: max(0, MAX_CRASHES_KEPT - len(report.crashes))]:
            path = _played_path(story, crash.seed, crash.path, start, values, None, by_uid=False)
            report.crashes.append({"node": crash.node, "error": crash.error, "seed": crash.seed,
                                   "path": [step.to_dict() for step in path]})
        fruitless = 0 if found else fruitless + 1


def _played_path(story: Story, seed: int, choices: list[int], start: str | None,
                 values: Mapping[str, Any] | None, target: int | None, by_uid: bool = True) -> list[Step]:
    """The choices of a seeded game (uids, or option indices) as steps: up to entering `target`
    (all of them if None), or to the error they lead to."""
    steps: list[Step] = []
    try:
        game = Game(story, seed, record=False, start=start, values=values)
    except Exception:  # noqa: BLE001 - it fails before the first choice
        return steps
    if target is not None and game.visits[target]:
        return steps
    for c in choices:
        if by_uid:
            opt = next((o for o in game.options if o.enabled and o.choice.uid == c), None)
        else:
            opt = game.options[c] if 0 <= c < len(game.options) else None
        if opt is None:
            break
        steps.append(Step(story.node_ids[game.node], opt.index, opt.text, 0))
        try:
            game.choose(opt.index)
        except Exception:  # noqa: BLE001 - the path so far is the finding
            break
        if target is not None and game.visits[target]:
            break
    return steps


PROBE_STEPS = 500_000  # at most this many choices of random play when the search stops early


def _probe_deeper(report: ExploreReport, states: list[tuple[Any, ...]], model: _StateModel, base: list[Any],
                  g: Explorer, d: _Decisions, deadline: float,
                  found: dict[int, tuple[int, list[Step]]]) -> None:
    """When the search stopped early, play on at random from its last states, so that nodes
    further in are still found, each with a real path to it (not always the shortest). What
    this finds is reachable; what it doesn't find is still not proven unreachable."""
    story = g.story
    rng = _random.Random(0)
    d.free = rng
    frontier = range(max(0, len(states) - 5_000), len(states))
    steps = 0
    try:
        while steps < PROBE_STEPS and not all(report.reached) and time.perf_counter() < deadline:
            sid = frontier[rng.randrange(len(frontier))]
            model.restore(g, states[sid], base)
            path: list[Step] = []
            for _ in range(5_000):
                if g.ending is not None or not g.live:
                    break
                index = g.live[rng.randrange(len(g.live))]
                ch = g.opts[index]
                try:
                    text = ch.text(g)
                except Exception:  # noqa: BLE001 - a label is only a label
                    text = "?"
                node = story.node_ids[g.node]
                g.trace = []
                g.outcomes = []
                d.reset([])
                steps += 1
                try:
                    g.take(index)
                except Exception:  # noqa: BLE001 - crashes are the search's to report
                    break
                report.choices_taken.add(ch.uid)
                path.append(Step(node, index, text, _luck(d)))
                for i in g.trace or ():
                    if not report.reached[i]:
                        report.reached[i] = True
                        found[i] = (sid, list(path))
                for _turn, eid in g.outcomes:
                    report.endings_reached.add(eid)
    finally:
        d.free = None
    report.probed = steps


def _luck(d: _Decisions) -> int:
    return sum(1 for a in d.arity if a > 1)


def _preset(story: Story, values: Mapping[str, Any] | None) -> list[Any]:
    """The initial variables with `values` applied (ValueError for a bad name or value)."""
    probe = _probe(story)
    for name, value in (values or {}).items():
        if name not in story.var_index:
            raise ValueError(f"there is no variable '{name}'")
        probe.set_var(name, value)
    return list(probe.v)


def _probe(story: Story) -> Runner:
    """A runner that was never started: somewhere to evaluate a state's text."""
    g = Runner.__new__(Runner)
    g.story = story
    g.v = [var.initial for var in story.variables]
    g.visits = [0] * len(story.node_ids)
    g._char_ids = {c.id: c.index for c in story.characters}
    g.seed = g.rng = 0
    return g


def _path(story: Story, states: list[tuple[Any, ...]], parents: list[Via | None], via: Via | None,
          base: list[Any], model: _StateModel, probe: Runner, varied: set[tuple[int, int]] | None) -> list[Step]:
    """The choices from the start along `via`, the last being `via`'s own; `luck` counts a
    step's random draws where chance decided where it led (all of them if `varied` is None)."""
    steps: list[Step] = []
    while via is not None:
        sid, index, luck = via
        if varied is not None and (sid, index) not in varied:
            luck = 0
        key = states[sid]
        model.restore(probe, key, base)
        ch = key[8][index]
        try:
            text = ch.text(probe)
        except Exception:  # noqa: BLE001 - a label is only a label
            text = "?"
        steps.append(Step(story.node_ids[key[0]], index, text, luck))
        via = parents[sid]
    steps.reverse()
    return steps
