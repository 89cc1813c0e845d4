"""A game in progress: the runtime that walks a compiled story.

The API is ink-like: read `passage` and `choices`, call `choose(i)`, check `ended`; `undo()`
steps back; `to_dict()`/`Game.from_dict()` save and restore. All randomness comes from the
game's own seeded generator, so a seed plus the choice log replays a game exactly.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .errors import ChoiceError, SaveError, StoryRuntimeError
from .plan import UNKNOWN, plan_for
from .story import HUB, MAX_CHOICES_PER_NODE, Choice, Ending, Node, Story, choice_uid

MAX_AUTO_STEPS = 10_000
UNDO_LIMIT = 200
STATE_VERSION = 1
_MASK = (1 << 64) - 1


class Chance(Protocol):
    """Where a game's random outcomes come from, when not from its own seeded generator."""

    def random(self) -> float: ...
    def randint(self, lo: int, hi: int) -> int: ...
    def weighted(self, weights: list[float]) -> int: ...


class Option:
    """One choice as the player sees it now."""

    __slots__ = ("index", "text", "enabled", "reason", "cost", "choice", "ref")

    def __init__(
        self, index: int, text: str, enabled: bool, reason: str, cost: str, choice: Choice, ref: str
    ) -> None:
        self.index = index
        self.text = text
        self.enabled = enabled
        self.reason = reason
        self.cost = cost
        self.choice = choice
        self.ref = ref

    def __repr__(self) -> str:
        flag = "" if self.enabled else f" (disabled: {self.reason})"
        return f"<Option {self.index}: {self.text!r}{flag}>"


@dataclass(frozen=True, slots=True)
class Notice:
    """A visible variable that changed with the last choice, e.g. Becky: Trust +1."""

    character: str | None
    label: str
    old: Any
    new: Any
    better: str = "higher"

    @property
    def improved(self) -> bool | None:
        """True for a change for the better, False for the worse, None when neither applies
        (a word or a flag, which has no direction)."""
        if (
            isinstance(self.new, bool)
            or isinstance(self.old, bool)
            or not isinstance(self.new, int | float)
            or not isinstance(self.old, int | float)
            or self.new == self.old
        ):
            return None
        return (self.new > self.old) == (self.better != "lower")

    def __str__(self) -> str:
        who = f"{self.character}: " if self.character else ""
        if isinstance(self.new, bool) or isinstance(self.old, str) or isinstance(self.new, str):
            return f"{who}{self.label}: {self.new}"
        delta = self.new - self.old
        return f"{who}{self.label} {delta:+d}"


class Game:
    """One playthrough of a story, from a seed: the one play loop every front end and every
    automated player drives.

    Players (the Textual game, plain mode) read `passage` and `choices` and call `choose`.
    Automated play passes in what differs instead of subclassing: `text=False` keeps no
    passage and makes no Options (the choices on offer are `opts`, the enabled ones' indices
    `live`, and `take(i)` takes one), while still making every random draw that rendering
    would make, unless `text_draws=False`; `lazy=True` lets `take_any` weigh a uniformly
    random enabled choice without weighing the others; `trace=True` lists every node entered
    in `trace`; `chance` replaces the random generator (an object with `random()`,
    `randint(lo, hi)` and `weighted(weights)`), so a search can try every outcome in turn.
    """

    def __init__(
        self,
        story: Story,
        seed: int = 0,
        *,
        record: bool = True,
        start: str | None = None,
        values: Mapping[str, Any] | None = None,
        seen: Iterable[str] = (),
        text: bool = True,
        text_draws: bool = True,
        lazy: bool = False,
        trace: bool = False,
        chance: Chance | None = None,
    ) -> None:
        """Begin a game at the story's start, or (to test a branch) at node `start` with
        variables preset from `values` and the events in `seen` counted as already happened
        once; ValueError names an unknown node, variable or event."""
        self._configure(
            story,
            seed,
            record=record,
            text=text,
            text_draws=text_draws,
            lazy=lazy,
            trace=trace,
            chance=chance,
        )
        self.v: list[Any] = list(story.initial_values)
        self.visits = [0] * len(story.nodes)
        self.turn = 0
        self.rng = self.seed
        self.node = story.start
        self.hub = -1
        self.passage: list[str] = []
        self.options: list[Option] = []
        self.opts: list[Choice] = []
        self.live: list[int] = []
        self.once_used: set[int] = set()
        self.ev_count: dict[int, int] = {}
        self.ev_last: dict[int, int] = {}
        self.ev_forced: dict[int, int] = {}
        self.fired = 0  # forced events fired so far
        self.char_endings: dict[int, str] = {}
        self.outcomes: list[tuple[int, str]] = []
        self.ending: Ending | None = None
        self.history: list[tuple[int, tuple[Any, ...]]] = []
        self.log: list[int] = []
        self.transcript: list[tuple[str, str]] = []
        self.notices: list[Notice] = []
        first = story.start
        if start is not None:
            if start not in story.node_index:
                raise ValueError(f"there is no node '{start}'")
            first = story.node_index[start]
            if story.turns is not None:
                self.hub = story.turns.hub  # so '<hub>' works without passing a hub first
        for name, value in (values or {}).items():
            if name not in story.var_index:
                raise ValueError(f"there is no variable '{name}'")
            self.set_var(name, value)
        for node_id in seen:
            index = story.node_index.get(node_id)
            if index is None or story.node_at(index).event is None:
                raise ValueError(f"there is no event '{node_id}'")
            self.ev_count[index] = 1
            self.ev_last[index] = self.turn
        self._record_turn()
        self._run(first)

    def _configure(
        self,
        story: Story,
        seed: int,
        *,
        record: bool = True,
        text: bool = True,
        text_draws: bool = True,
        lazy: bool = False,
        trace: bool = False,
        chance: Chance | None = None,
    ) -> None:
        """How this game is played (not its state): set by __init__ and by from_dict."""
        self.story = story
        self.seed = int(seed) & _MASK
        self.record = record and text
        self._present = text
        self._draws = not text and text_draws
        self._lazy = lazy
        self.trace: list[int] | None = [] if trace else None
        self._plan = plan_for(story)
        self._undo: deque[tuple[Any, ...]] = deque(maxlen=UNDO_LIMIT if self.record else 0)
        self._trail: list[int] | None = None  # while recording a choice: the nodes it entered
        self._char_ids = story.char_index
        # Caches of the forced-event search (never state: emptied whenever the state goes back).
        self._alive: dict[int, tuple[tuple[Any, ...], tuple[Any, ...]]] = {}
        self._quiet: dict[int, Any] = {}
        self.waiting: Node | None = None  # lazy play: the node whose choices are not weighed yet
        self.uids: list[int] = []  # automated play: the choices taken, by uid
        self.completed = 0  # lazy play: how many of them were taken without an error
        if chance is not None:
            self.random = chance.random  # type: ignore[method-assign]
            self.randint = chance.randint  # type: ignore[method-assign]
            self._weighted = chance.weighted  # type: ignore[method-assign]

    # -- random numbers (splitmix64: tiny state, same on every platform) -----------------
    def random(self) -> float:
        """A float in [0, 1) from the game's generator."""
        s = (self.rng + 0x9E3779B97F4A7C15) & _MASK
        self.rng = s
        z = ((s ^ (s >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return ((z ^ (z >> 31)) >> 11) * (1.0 / 9007199254740992.0)

    def randint(self, lo: int, hi: int) -> int:
        """A whole number from lo to hi inclusive."""
        if hi < lo:
            lo, hi = hi, lo
        return lo + int(self.random() * (hi - lo + 1))

    def _weighted(self, weights: list[float]) -> int:
        total = sum(weights)
        if total <= 0:
            return -1
        r = self.random() * total
        for i, w in enumerate(weights):
            r -= w
            if r < 0 and w > 0:
                return i
        return max(i for i, w in enumerate(weights) if w > 0)

    # -- reading the state ---------------------------------------------------------------
    @property
    def choices(self) -> list[Option]:
        """The choices on offer now, disabled ones included (with their reasons)."""
        return self.options

    @property
    def ended(self) -> bool:
        return self.ending is not None

    @property
    def current_node(self) -> Node:
        return self.story.node_at(self.node)

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    def get(self, name: str) -> Any:
        """The value of a variable by its full name, e.g. `becky.trust`."""
        return self.v[self.story.var_index[name]]

    def set_var(self, name: str, value: Any) -> None:
        """Set a variable by name (for testing a branch); clamped and checked like an effect."""
        var = self.story.variable(name)
        if var.type == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{name} takes a whole number")
            value = max(var.min, min(var.max, value))
        elif var.type == "bool":
            if not isinstance(value, bool):
                raise ValueError(f"{name} takes true or false")
        elif value not in var.values:
            raise ValueError(f"{name} takes one of: {', '.join(var.values)}")
        self.v[var.slot] = value

    def character_endings(self) -> dict[str, Ending]:
        """Each character's ending so far, by character id."""
        out = {}
        by_id = {e.id: e for e in self.story.endings}
        for char, eid in self.char_endings.items():
            out[self.story.characters[char].id] = by_id[eid]
        return out

    def series(self, name: str) -> list[tuple[int, Any]]:
        """A tracked variable's value at each turn: [(turn, value), ...]."""
        slot = self.story.var_index[name]
        pos = self.story.tracked.index(slot)
        return [(turn, values[pos]) for turn, values in self.history]

    # -- playing -------------------------------------------------------------------------
    def choose(self, index: int) -> None:
        """Take choice `index` of `choices`; raises ChoiceError if it can't be taken."""
        if not self._present:
            if self.ending is not None:
                raise ChoiceError("the story has ended")
            if index not in self.live:
                raise ChoiceError(f"choice {index + 1} can't be taken now")
            self.take(index)
            return
        if not self.record and self.ending is None and 0 <= index < len(self.options):
            opt = self.options[index]
            if opt.enabled:  # no undo, transcript or notices to keep
                self.log.append(index)
                self.passage = []
                self._take(opt.choice)
                return
        if self.ending is not None:
            raise ChoiceError("the story has ended")
        if not 0 <= index < len(self.options):
            raise ChoiceError(f"there is no choice {index + 1}")
        opt = self.options[index]
        if not opt.enabled:
            raise ChoiceError(opt.reason or "that choice is not available")
        snapshot = self._snapshot() if self.record else None
        if snapshot is not None:
            self._undo.append(snapshot)
            before = list(self.v)
            self.transcript.append(("choice", opt.text))
            self._trail = snapshot[1]
        self.log.append(index)
        self.passage = []
        try:
            self._take(opt.choice)
        except StoryRuntimeError:
            if snapshot is not None:
                self._undo.pop()
                self._restore(snapshot)
            raise
        finally:
            self._trail = None
        if snapshot is not None:
            self.notices = self._diff(before)

    def take(self, index: int) -> None:
        """Take choice `index` of `opts`, which must be enabled (in `live`): `choose` without
        its checks and bookkeeping, for automated play."""
        self.log.append(index)
        ch = self.opts[index] if not self._present else self.options[index].choice
        self.uids.append(ch.uid)
        self._take(ch)

    def take_any(self, rnd: Callable[[], float]) -> int | None:
        """Take a uniformly random enabled choice, weighing as few as possible; its uid, or None
        when nothing was enabled and the node's fallback was taken instead.

        Offering a choice draws no random numbers at a lazy node, so weighing choices one at a
        time in a random order, until one is enabled, makes the same game as weighing them all
        first. Elsewhere (and in a game made without lazy=True) it picks from `live`.
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
        candidates = self._plan.candidates(node).passing(self.v)
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
                    ok = not once and self.turn - self.ev_last.get(at, -(10**9)) >= cooldown
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

    def undo(self) -> bool:
        """Step back to before the last choice; False if there is nothing to undo."""
        if not self._undo:
            return False
        self._restore(self._undo.pop())
        self.notices = []
        return True

    def _pay(self, ch: Choice) -> None:
        v = self.v
        for slot, amount in ch.cost:
            var = self.story.variables[slot]
            v[slot] = max(var.min, min(var.max, int(v[slot] - amount(self))))

    def _take(self, ch: Choice) -> None:
        if ch.cost:
            self._pay(ch)
        if ch.once:
            self.once_used.add(ch.uid)
        ev = ch.event
        if ev is not None:
            self.ev_count[ev.node] = self.ev_count.get(ev.node, 0) + 1
            self.ev_last[ev.node] = self.turn
        if ch.effects is not None:
            ch.effects(self)
        self._run(ch.target)

    def _run(self, target: int) -> None:
        """The step loop: enter nodes from `target` on (forced events, effects, text, endings,
        gotos, branches, random outcomes, the end of a turn) until a choice is to be made."""
        story = self.story
        nodes = story.nodes
        visits = self.visits
        present = self._present
        draws = self._draws
        plan = self._plan
        text_draws = plan.text  # per node: the draws its text makes, None, or not worked out yet
        lazy = plan.lazy_nodes if self._lazy else None
        trace = self.trace
        trail = self._trail
        tracking = trace is not None or trail is not None
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
                forced = self._forced_event(node)
                if forced is not None:
                    event = story.node_at(forced).event
                    assert event is not None
                    self._pay(event.choice)
                    self.ev_forced[forced] = self.turn
                    self.ev_count[forced] = self.ev_count.get(forced, 0) + 1
                    self.ev_last[forced] = self.turn
                    self.fired += 1
                    if event.once:
                        self._alive = {}
                    target = forced
                    continue
            visits[target] += 1
            if tracking:
                if trail is not None:
                    trail.append(target)
                if trace is not None:
                    trace.append(target)
            if node.effects is not None:
                node.effects(self)
            if present:
                if node.text is not None:
                    before = len(self.passage)
                    node.text(self, self.passage)
                    if self.record:
                        self.transcript.extend(("text", p) for p in self.passage[before:])
            elif draws:
                draw = text_draws[target]
                if draw is not None:
                    if draw is UNKNOWN:
                        draw = plan.text_draws(target)
                    if draw is not None:
                        draw(self)
            if node.ending is not None:
                end = node.ending
                if end.character is None:
                    self.ending = end
                    self.node = target
                    self.options = []
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
            if lazy is not None and (lazy[target] or (lazy[target] is None and plan.lazy(node))):
                self.waiting = node
                return
            if self._offer(node):
                return
            if node.fallback is not None:
                if node.fallback.effects is not None:
                    node.fallback.effects(self)
                target = node.fallback.target
                continue
            raise StoryRuntimeError(f"dead end at '{node.id}': no choice can be taken")

    def _offer(self, node: Node) -> bool:
        """Work out the choices on offer at `node`: for players, `options` (labels, costs, and
        the reason a disabled one can't be taken); for automated play, `opts` and `live`, the
        enabled ones' indices. Whether any can be taken."""
        if not self._present:
            return self._offer_to_machine(node)
        options: list[Option] = []
        enabled = False
        once_used = self.once_used
        for ch, cond, no_reason, cost, once, uid, _rng in node.offer:
            if once and uid in once_used:
                continue
            if cost or not no_reason:
                opt = self._option(len(options), ch)
                if opt is None:
                    continue
                enabled = enabled or opt.enabled
                options.append(opt)
                continue
            if cond is not None and not cond(self):
                continue
            index = len(options)
            text = ch.const_text
            if text is None:
                opt = Option(index, ch.text(self), True, "", "", ch, ch.ref)
            else:
                # Nothing about this option can differ between visits, so it is made once.
                opt = ch.shown.get(index)
                if opt is None:
                    opt = ch.shown[index] = Option(index, text, True, "", "", ch, ch.ref)
            enabled = True
            options.append(opt)
        if node.is_hub:
            for row in self._hub_events(node):
                opt = self._option(len(options), row[1])
                if opt is not None:
                    enabled = enabled or opt.enabled
                    options.append(opt)
        self.options = options
        return enabled

    def _offer_to_machine(self, node: Node) -> bool:
        # As _offer, in the same order of evaluation (so the same random draws), without
        # Options: labels and reasons are rendered only where they draw random numbers.
        opts: list[Choice] = []
        live: list[int] = []
        draws = self._draws
        once_used = self.once_used
        v = self.v
        for ch, cond, no_reason, cost, once, uid, rng in self._offered(node):
            if once and uid in once_used:
                continue
            enabled = True
            if cond is not None and not cond(self):
                if no_reason:
                    continue
                enabled = False
                if rng and draws:
                    ch.reason(self)
            for slot, amount_fn in cost:
                if v[slot] < amount_fn(self) and enabled:
                    enabled = False
            if rng and draws:
                ch.text(self)
            if enabled:
                live.append(len(opts))
            opts.append(ch)
        self.opts = opts
        self.live = live
        return bool(live)

    def _offered(self, node: Node) -> Iterator[tuple[Any, ...]]:
        """A node's choices, then (at a hub) the events it offers now, all as rows of
        `Node.offer`. The events are worked out only once the choices have been weighed, as
        for players, so random draws come in the same order."""
        yield from node.offer
        if node.is_hub:
            for row in self._hub_events(node):
                yield (row[1], row[2], row[3], row[4], False, 0, row[10])

    def _option(self, index: int, ch: Choice) -> Option | None:
        enabled = True
        reason = ""
        if ch.cond is not None and not ch.cond(self):
            if ch.reason is None:
                return None
            enabled = False
            reason = ch.reason(self)
        cost = ""
        if ch.cost:
            parts = []
            for slot, amount_fn in ch.cost:
                var = self.story.variables[slot]
                amount = amount_fn(self)
                unit = var.unit[:-1] if amount == 1 and var.unit.endswith("s") else var.unit
                parts.append(f"{amount:g} {unit}")
                if enabled and self.v[slot] < amount:
                    enabled = False
                    reason = f"Needs {amount:g} {unit}; {self.v[slot]} left"
            cost = ", ".join(parts)
        return Option(index, ch.text(self), enabled, reason, cost, ch, ch.ref)

    def _hub_events(self, node: Node) -> list[Any]:
        """The events a hub offers now (its plan's rows): not used up, not cooling down, their
        conditions holding (or shown disabled, with a reason), at most the hub's limit."""
        shown = []
        ev_count = self.ev_count
        turn = self.turn
        v = self.v
        for row in self._plan.hub(node).events:
            _ev, _ch, cond, no_reason, _cost, once, cooldown, at, g_slot, g_ok, _rng = row
            if g_ok is not None and v[g_slot] not in g_ok:
                continue
            if at in ev_count and ev_count[at]:
                if once:
                    continue
                if cooldown and turn - self.ev_last.get(at, -(10**9)) < cooldown:
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

    def _forced_event(self, node: Node) -> int | None:
        """The forced event a hub enters instead of offering choices, if any: the highest
        priority whose condition holds (weighted among equals), at most once a turn each."""
        plan = self._plan.hub(node)
        if not plan.forced:
            return None
        hub = node.index
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
        for ev, at, priority, _once, cooldown, cond in alive:
            if at in ev_forced and ev_forced[at] == turn:
                continue
            if best and priority < top:
                break
            if cooldown and at in ev_count and ev_count[at] and turn - ev_last.get(at, -(10**9)) < cooldown:
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

    def _end_turn(self) -> None:
        turns = self.story.turns
        assert turns is not None
        if turns.end_of_turn is not None:
            turns.end_of_turn(self)
        self.turn += 1
        variables = self.story.variables
        if turns.counter is not None:
            var = variables[turns.counter]
            self.v[var.slot] = min(var.max, self.v[var.slot] + 1)
        if turns.budget is not None and turns.refill is not None:
            var = variables[turns.budget]
            self.v[var.slot] = max(var.min, min(var.max, int(turns.refill(self))))
        self._record_turn()

    def _record_turn(self) -> None:
        if self.story.tracked:
            v = self.v
            self.history.append((self.turn, tuple(v[s] for s in self.story.tracked)))

    def _diff(self, before: list[Any]) -> list[Notice]:
        out = []
        chars = {c.id: c.name for c in self.story.characters}
        for var in self.story.variables:
            old, new = before[var.slot], self.v[var.slot]
            if old != new and var.display != "hidden" and var.slot not in self._quiet_slots():
                out.append(
                    Notice(
                        chars.get(var.character) if var.character else None, var.label, old, new, var.better
                    )
                )
        return out

    def _quiet_slots(self) -> set[int]:
        turns = self.story.turns
        if turns is None:
            return set()
        return {s for s in (turns.counter, turns.budget) if s is not None}

    # -- undo snapshots ------------------------------------------------------------------
    def _snapshot(self) -> tuple[Any, ...]:
        # Visit counts are many (one per node) and a choice changes few: the snapshot keeps the
        # list of nodes the choice enters (filled in as it runs), and undo counts them back.
        return (
            list(self.v),
            [],
            self.turn,
            self.rng,
            self.node,
            self.hub,
            self.passage,
            self.options,
            set(self.once_used),
            dict(self.ev_count),
            dict(self.ev_last),
            dict(self.ev_forced),
            self.fired,
            dict(self.char_endings),
            self.ending,
            len(self.history),
            len(self.log),
            len(self.transcript),
            len(self.outcomes),
            self.notices,
        )

    def _restore(self, s: tuple[Any, ...]) -> None:
        visits = self.visits
        for node in s[1]:
            visits[node] -= 1
        (
            self.v,
            _entered,
            self.turn,
            self.rng,
            self.node,
            self.hub,
            self.passage,
            self.options,
            self.once_used,
            self.ev_count,
            self.ev_last,
            self.ev_forced,
            self.fired,
            self.char_endings,
            self.ending,
            n_hist,
            n_log,
            n_tr,
            n_out,
            self.notices,
        ) = s
        del self.history[n_hist:]
        del self.log[n_log:]
        del self.transcript[n_tr:]
        del self.outcomes[n_out:]
        self._alive = {}
        self._quiet = {}

    # -- saving --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The whole state as JSON-ready data."""
        story = self.story
        nodes = story.node_ids
        return {
            "version": STATE_VERSION,
            "seed": self.seed,
            "rng": self.rng,
            "turn": self.turn,
            "node": nodes[self.node],
            "hub": nodes[self.hub] if self.hub >= 0 else None,
            "vars": {var.name: self.v[var.slot] for var in story.variables},
            "visits": {nodes[i]: n for i, n in enumerate(self.visits) if n},
            "passage": list(self.passage),
            "options": [
                {"key": o.ref, "text": o.text, "enabled": o.enabled, "reason": o.reason, "cost": o.cost}
                for o in self.options
            ],
            "once_used": sorted(self._once_key(uid) for uid in self.once_used),
            "events": {
                nodes[i]: [self.ev_count.get(i, 0), self.ev_last.get(i), self.ev_forced.get(i)]
                for i in set(self.ev_count) | set(self.ev_last) | set(self.ev_forced)
            },
            "character_endings": {story.characters[c].id: e for c, e in self.char_endings.items()},
            "ending": self.ending.id if self.ending else None,
            "outcomes": [list(o) for o in self.outcomes],
            "history": [[turn, list(values)] for turn, values in self.history],
            "tracked": [story.variables[s].name for s in story.tracked],
            "log": list(self.log),
            "transcript": [list(t) for t in self.transcript],
        }

    def _once_key(self, uid: int) -> str:
        node = uid // MAX_CHOICES_PER_NODE
        ch = next(c for c in self.story.node_at(node).choices if c.uid == uid)
        return f"{self.story.node_ids[node]}#{ch.ref}"

    @classmethod
    def from_dict(cls, story: Story, data: Any, *, record: bool = True) -> Game:
        """Rebuild a game from `to_dict()` data; SaveError says precisely what doesn't fit."""
        try:
            return _restore_game(cls, story, data, record)
        except SaveError:
            raise
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise SaveError(f"the saved game is damaged ({type(exc).__name__}: {exc})") from None


def _restore_game(cls: type[Game], story: Story, data: Any, record: bool) -> Game:
    if not isinstance(data, dict):
        raise SaveError("the saved game is not a JSON object")
    if data.get("version") != STATE_VERSION:
        raise SaveError(
            f"the saved game has state version {data.get('version')!r}; this game reads {STATE_VERSION}"
        )
    game = cls.__new__(cls)
    game.notices = []

    def node_index(node_id: Any, what: str) -> int:
        if not isinstance(node_id, str) or node_id not in story.node_index:
            raise SaveError(f"the saved {what} '{node_id}' no longer exists in this story")
        return story.node_index[node_id]

    def whole(value: Any, what: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise SaveError(f"the saved {what} is not a whole number")
        return value

    game._configure(story, whole(data["seed"], "seed"), record=record)
    game.rng = whole(data["rng"], "random state") & _MASK
    game.turn = whole(data["turn"], "turn")
    game.node = node_index(data["node"], "passage")
    game.hub = node_index(data["hub"], "hub") if data.get("hub") is not None else -1
    values = [var.initial for var in story.variables]
    saved_vars = data["vars"]
    if not isinstance(saved_vars, dict):
        raise SaveError("the saved variables are not a JSON object")
    for name, value in saved_vars.items():
        slot = story.var_index.get(name)
        if slot is None:
            continue  # a variable the story no longer has
        var = story.variables[slot]
        if var.type == "int":
            value = whole(value, f"value of {name}")
            if not var.min <= value <= var.max:
                raise SaveError(f"the saved value of {name} ({value}) is outside {var.min}..{var.max}")
        elif var.type == "bool":
            if not isinstance(value, bool):
                raise SaveError(f"the saved value of {name} is not true or false")
        elif value not in var.values:
            raise SaveError(f"the saved value of {name} ({value!r}) is not one of {', '.join(var.values)}")
        values[slot] = value
    game.v = values
    game.visits = [0] * len(story.nodes)
    for node_id, n in data["visits"].items():
        if node_id in story.node_index:
            game.visits[story.node_index[node_id]] = whole(n, "visit count")
    game.passage = [str(p) for p in data["passage"]]
    node = story.node_at(game.node)
    game.options = _restore_options(story, node, data["options"])
    game.opts, game.live = [], []  # for automated play, which a restored game is not
    game.once_used = set()
    for key in data["once_used"]:
        node_id, _, which = str(key).rpartition("#")
        if node_id not in story.node_index:
            continue  # a node the story no longer has
        index = story.node_index[node_id]
        if which.isdigit():  # saved by place, before choices had keys
            game.once_used.add(choice_uid(index, int(which)))
            continue
        uid = next((c.uid for c in story.node_at(index).choices if c.ref == which), None)
        if uid is not None:
            game.once_used.add(uid)
    game.ev_count, game.ev_last, game.ev_forced = {}, {}, {}
    game.fired = 0
    for node_id, (count, last, forced) in data["events"].items():
        if node_id not in story.node_index:
            continue
        i = story.node_index[node_id]
        game.ev_count[i] = whole(count, "event count")
        if last is not None:
            game.ev_last[i] = whole(last, "event turn")
        if forced is not None:
            game.ev_forced[i] = whole(forced, "event turn")
    endings = {e.id: e for e in story.endings}
    game.char_endings = {}
    for char_id, eid in data["character_endings"].items():
        if char_id in game._char_ids and eid in endings:
            game.char_endings[game._char_ids[char_id]] = eid
    game.ending = None
    if data.get("ending") is not None:
        if data["ending"] not in endings:
            raise SaveError(f"the saved ending '{data['ending']}' no longer exists in this story")
        game.ending = endings[data["ending"]]
    game.outcomes = [(whole(t, "turn"), str(e)) for t, e in data["outcomes"]]
    tracked_names = data.get("tracked", [])
    current = [story.variables[s].name for s in story.tracked]
    game.history = []
    for turn, vals in data["history"]:
        saved = dict(zip(tracked_names, vals, strict=False))
        game.history.append(
            (whole(turn, "turn"), tuple(saved.get(n, story.variable(n).initial) for n in current))
        )
    game.log = [whole(i, "choice") for i in data["log"]]
    game.transcript = [(str(k), str(t)) for k, t in data["transcript"]]
    if game.ending is None and not any(o.enabled for o in game.options):
        raise SaveError("the saved game has no choices to continue from")
    return game


def _restore_options(story: Story, node: Node, saved: Any) -> list[Option]:
    """The saved choices on offer, each found by its key: every label keeps its own target, or
    the save is refused because the passage changed. An event a hub offered that the story no
    longer has is left out (a hub's events come and go), as long as something can be chosen."""
    if not isinstance(saved, list):
        raise SaveError("the saved choices are damaged")
    by_key = {ch.ref: ch for ch in node.choices}
    options: list[Option] = []
    for o in saved:
        if not isinstance(o, dict):
            raise SaveError("a saved choice is damaged")
        key = o.get("key", o.get("ref"))
        if not isinstance(key, str) or len(key) < 2:
            raise SaveError("a saved choice is damaged")
        text = str(o["text"])
        ch = _find_choice(story, node, by_key, key, text)
        if ch is not None:
            options.append(
                Option(len(options), text, bool(o["enabled"]), str(o["reason"]), str(o["cost"]), ch, ch.ref)
            )
    return options


def _find_choice(story: Story, node: Node, by_key: dict[str, Choice], key: str, text: str) -> Choice | None:
    changed = SaveError(
        f"the passage '{node.id}' has changed since this was saved: "
        f"the choice '{text}' is no longer there as it was"
    )
    if key.startswith("c:"):
        ch = by_key.get(key)
        if ch is None:
            raise changed
        return ch
    if key.startswith("e:"):
        index = story.node_index.get(key[2:])
        event = story.node_at(index).event if index is not None else None
        return event.choice if event is not None else None
    # Saved by place, before choices had keys: taken only if the label is still the same.
    kind, place = key[0], key[1:]
    if not place.isdigit() or kind not in "ce":
        raise SaveError("a saved choice is damaged")
    if kind == "c":
        if int(place) >= len(node.choices):
            raise changed
        ch = node.choices[int(place)]
    else:
        if int(place) >= len(story.nodes) or story.node_at(int(place)).event is None:
            return None
        ch = story.node_at(int(place)).event.choice  # type: ignore[union-attr]
    if ch.const_text is not None and ch.const_text != text:
        raise changed
    return ch
