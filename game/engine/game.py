"""A game in progress: the runtime that walks a compiled story.

The API is ink-like: read `passage` and `choices`, call `choose(i)`, check `ended`; `undo()`
steps back; `to_dict()`/`Game.from_dict()` save and restore. All randomness comes from the
game's own seeded generator, so a seed plus the choice log replays a game exactly.
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from operator import attrgetter
from typing import TYPE_CHECKING, Any

from .errors import ChoiceError, SaveError, StoryRuntimeError
from .plan import UNKNOWN, cost_label, plan_for
from .state import MASK, STATE_VERSION, TRAIL, Chance, Notice, Option, State
from .story import HUB, Choice, Ending, Node, Story

__all__ = ["STATE_VERSION", "Chance", "Game", "Notice", "Option", "State"]

MAX_AUTO_STEPS = 10_000
MAX_REMEMBERED = 64  # combinations of values a node remembers the choices on offer for
UNDO_LIMIT = 200


def _views() -> None:
    for name in (
        "seed", "turn", "node", "hub", "v", "visits", "passage", "options", "opts", "live",
        "char_endings", "ending", "outcomes", "history", "log", "transcript", "notices",
    ):  # fmt: skip
        setattr(Game, name, property(attrgetter(f"state.{name}"), doc=f"The state's `{name}`."))
    Game.choices = property(  # type: ignore[method-assign,assignment]
        attrgetter("state.options"),
        doc="The choices on offer now, disabled ones included (with their reasons).",
    )


def _plain_options(choices: Iterable[Choice]) -> list[Option]:
    """The Options of plain choices on offer together (fixed labels, all enabled)."""
    return [Option(i, ch.const_text or "", True, "", "", ch) for i, ch in enumerate(choices)]


def _enabled_option(ch: Choice, index: int, cost: str) -> Option:
    """The Option of a choice with a fixed label, enabled, at this place in the list: nothing
    about it can differ between visits, so it is made once and kept with the choice."""
    made = ch.shown
    if made is None:
        made = ch.shown = {}
    opt = made.get(index)
    if opt is None:
        opt = made[index] = Option(index, ch.const_text or "", True, "", cost, ch)
    return opt


def checked_value(story: Story, name: str, value: Any) -> tuple[int, Any]:
    """A variable's slot and `value` for it, clamped to its range; ValueError if it can't
    hold that value."""
    var = story.variable(name)
    if var.type == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{name} takes a whole number")
        value = max(var.min, min(var.max, value))
    elif var.type == "bool":
        if not isinstance(value, bool):
            raise ValueError(f"{name} takes true or false")
    elif value not in var.values:
        raise ValueError(f"{name} takes one of: {', '.join(var.values)}")
    return var.slot, value


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
        state = State(
            seed=int(seed) & MASK,
            node=story.start,
            v=list(story.initial_values),
            visits=story.zero_visits[:],
            chance=chance,
        )
        state.rng = state.seed
        self._configure(story, state, record=record, text=text, text_draws=text_draws, lazy=lazy, trace=trace)
        first = story.start
        if start is not None:
            if start not in story.node_index:
                raise ValueError(f"there is no node '{start}'")
            first = story.node_index[start]
            if story.turns is not None:
                self.state.hub = story.turns.hub  # so '<hub>' works without passing a hub first
        for name, value in (values or {}).items():
            if name not in story.var_index:
                raise ValueError(f"there is no variable '{name}'")
            self.set_var(name, value)
        for node_id in seen:
            index = story.node_index.get(node_id)
            if index is None or story.node_at(index).event is None:
                raise ValueError(f"there is no event '{node_id}'")
            self.state.ev_count[index] = 1
            self.state.ev_last[index] = self.state.turn
        self._record_turn()
        self._run(first)

    def _configure(
        self,
        story: Story,
        state: State,
        *,
        record: bool = True,
        text: bool = True,
        text_draws: bool = True,
        lazy: bool = False,
        trace: bool = False,
    ) -> None:
        """How this game is played, and its state: set by __init__ and by from_dict."""
        self.story = story
        self.state = state
        self.record = record and text
        self._present = text
        self._draws = not text and text_draws
        self._lazy = lazy
        self.trace: list[int] | None = [] if trace else None
        self._plan = plan_for(story)
        # A player's choice with nothing to record takes the shortest way through `choose`.
        self._quick = text and not self.record
        # And a step into a node that only shows text and plain choices, with nothing weighed
        # lazily, takes the shortest way through `_run`.
        self._fast = self._quick and not lazy
        self._mode = (text, self.record, self._draws, self._plan, self._plan.lazy_nodes if lazy else None)
        self._undo: deque[list[Any]] = deque(maxlen=UNDO_LIMIT if self.record else 0)
        self._trail: list[int] | None = None  # while recording a choice: the nodes it entered
        self._char_ids = story.char_index
        # Caches of the event searches (never state: emptied whenever the state goes back). By
        # a hub's events whose guards hold: those that were not used up when it was made.
        self._alive: dict[int, tuple[tuple[Any, ...], tuple[Any, ...]]] = {}
        self._quiet: dict[int, Any] = {}
        self.waiting: Node | None = None  # lazy play: the node whose choices are not weighed yet
        self.uids: list[int] = []  # automated play: the choices taken, by uid
        self.completed = 0  # lazy play: how many of them were taken without an error

    # -- reading the state ---------------------------------------------------------------
    # The parts of the state that front ends and tools read, by name: read-only views of
    # `state`'s fields, made below the class as C-level getters (players read them often).
    if TYPE_CHECKING:

        @property
        def choices(self) -> list[Option]: ...
        @property
        def seed(self) -> int: ...
        @property
        def turn(self) -> int: ...
        @property
        def node(self) -> int: ...
        @property
        def hub(self) -> int: ...
        @property
        def v(self) -> list[Any]: ...
        @property
        def visits(self) -> array[int]: ...
        @property
        def passage(self) -> list[str]: ...
        @property
        def options(self) -> list[Option]: ...
        @property
        def opts(self) -> list[Choice]: ...
        @property
        def live(self) -> list[int]: ...
        @property
        def char_endings(self) -> dict[int, str]: ...
        @property
        def ending(self) -> Ending | None: ...
        @property
        def outcomes(self) -> list[tuple[int, str]]: ...
        @property
        def history(self) -> list[tuple[int, tuple[Any, ...]]]: ...
        @property
        def log(self) -> list[int]: ...
        @property
        def transcript(self) -> list[tuple[str, str]]: ...
        @property
        def notices(self) -> list[Notice]: ...

    @property
    def ended(self) -> bool:
        return self.state.ending is not None

    @property
    def current_node(self) -> Node:
        return self.story.node_at(self.state.node)

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    def get(self, name: str) -> Any:
        """The value of a variable by its full name, e.g. `becky.trust`."""
        return self.state.v[self.story.var_index[name]]

    def set_var(self, name: str, value: Any) -> None:
        """Set a variable by name (for testing a branch); clamped and checked like an effect."""
        slot, value = checked_value(self.story, name, value)
        self.state.v[slot] = value

    def resume(self, state: State) -> None:
        """Play on from `state` (a search going back to a state it has seen)."""
        self.state = state
        self.waiting = None
        self._alive = {}
        self._quiet = {}

    def character_endings(self) -> dict[str, Ending]:
        """Each character's ending so far, by character id."""
        out = {}
        by_id = {e.id: e for e in self.story.endings}
        for char, eid in self.state.char_endings.items():
            out[self.story.characters[char].id] = by_id[eid]
        return out

    def series(self, name: str) -> list[tuple[int, Any]]:
        """A tracked variable's value at each turn: [(turn, value), ...]."""
        slot = self.story.var_index[name]
        pos = self.story.tracked.index(slot)
        return [(turn, values[pos]) for turn, values in self.state.history]

    # -- playing -------------------------------------------------------------------------
    def choose(self, index: int) -> None:
        """Take choice `index` of `choices`; raises ChoiceError if it can't be taken."""
        s = self.state
        if self._quick and s.ending is None and 0 <= index < len(s.options):
            opt = s.options[index]
            if opt.enabled:  # no undo, transcript or notices to keep
                s.log.append(index)
                s.passage = []
                self._take(opt.choice)
                return
        if not self._present:
            if s.ending is not None:
                raise ChoiceError("the story has ended")
            if index not in s.live:
                raise ChoiceError(f"choice {index + 1} can't be taken now")
            self.take(index)
            return
        if s.ending is not None:
            raise ChoiceError("the story has ended")
        if not 0 <= index < len(s.options):
            raise ChoiceError(f"there is no choice {index + 1}")
        opt = s.options[index]
        if not opt.enabled:
            raise ChoiceError(opt.reason or "that choice is not available")
        snapshot = s.snapshot() if self.record else None
        if snapshot is not None:
            self._undo.append(snapshot)
            before = list(s.v)
            s.transcript.append(("choice", opt.text))
            self._trail = snapshot[TRAIL]
        s.log.append(index)
        s.passage = []
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
            s.notices = self._diff(before)

    def take(self, index: int) -> None:
        """Take choice `index` of `opts`, which must be enabled (in `live`): `choose` without
        its checks and bookkeeping, for automated play."""
        s = self.state
        s.log.append(index)
        ch = s.opts[index] if not self._present else s.options[index].choice
        self.uids.append(ch.uid)
        self._take(ch)

    def take_any(self, rnd: Callable[[], float]) -> int | None:
        """Take a uniformly random enabled choice, weighing as few as possible; its uid, or None
        when nothing was enabled and the node's fallback was taken instead.

        Offering a choice draws no random numbers at a lazy node, so weighing choices one at a
        time in a random order, until one is enabled, makes the same game as weighing them all
        first. Elsewhere (and in a game made without lazy=True) it picks from `live`.
        """
        s = self.state
        node = self.waiting
        if node is None:
            live = s.live
            i = live[int(rnd() * len(live))] if len(live) > 1 else live[0]
            ch = s.opts[i]
            s.log.append(i)
            self.uids.append(ch.uid)
            self._take(ch)
            self.completed += 1
            return ch.uid
        candidates = self._plan.candidates(node).passing(s.v)
        rows: list[Any] | None = None
        n = len(candidates)
        v = s.v
        while n:
            k = int(rnd() * n)
            row = candidates[k] if rows is None else rows[k]
            # Whether the candidate can be taken (its guard held, in the sieve): once and
            # cooldown, condition, cost. Tested here, not in a function: this is the hottest loop.
            is_event, ch, cond, cost, once, uid, cooldown, at = row
            ok = True
            if is_event:
                if (once or cooldown) and s.ev_count.get(at):
                    ok = not once and s.turn - s.ev_last.get(at, -(10**9)) >= cooldown
            elif once and uid in s.once_used:
                ok = False
            if ok and cond is not None:
                ok = cond(s)
            if ok and cost:
                for slot, amount_fn in cost:
                    if v[slot] < amount_fn(s):
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
            fallback.effects(s)
        self._run(fallback.target)
        return None

    def undo(self) -> bool:
        """Step back to before the last choice; False if there is nothing to undo."""
        if not self._undo:
            return False
        self._restore(self._undo.pop())
        self.state.notices = []
        return True

    def _pay(self, ch: Choice) -> None:
        s = self.state
        v = s.v
        for slot, amount in ch.cost:
            var = self.story.variables[slot]
            v[slot] = max(var.min, min(var.max, int(v[slot] - amount(s))))

    def _take(self, ch: Choice) -> None:
        s = self.state
        if ch.cost or ch.once or ch.event is not None:
            if ch.cost:
                self._pay(ch)
            if ch.once:
                s.once_used.add(ch.uid)
            ev = ch.event
            if ev is not None:
                s.ev_count[ev.node] = s.ev_count.get(ev.node, 0) + 1
                s.ev_last[ev.node] = s.turn
        adjust = ch.adjust
        if adjust is not None:
            v = s.v
            for slot, amount, lo, hi in adjust:
                x = v[slot] + amount
                v[slot] = lo if x < lo else hi if x > hi else x
        elif ch.effects is not None:
            ch.effects(s)
        self._run(ch.target)

    def _run(self, target: int) -> None:
        """The step loop: enter nodes from `target` on (forced events, effects, text, endings,
        gotos, branches, random outcomes, the end of a turn) until a choice is to be made."""
        s = self.state
        if target == HUB and s.hub >= 0:
            target = s.hub  # back to the menu the player came from
        if self._fast and target >= 0 and self.trace is None:
            # The commonest steps, the short way: a player's game with nothing to record, going
            # into a node that only shows text and plain choices, or into a menu (a hub that
            # offers choices and events).
            node = self.story.nodes[target]
            if node is not None and node.simple:
                s.visits[target] += 1
                if node.effects is not None:
                    node.effects(s)
                paragraphs = node.paragraphs
                if paragraphs is not None:
                    s.passage.extend(paragraphs)
                elif node.text is not None:
                    node.text(s, s.passage)
                s.node = target
                if self._offer_plain(node):
                    return
                target = self._fall_back(node)
            elif node is not None and node.menu:
                s.hub = target
                forced = self._forced_event(node)
                if forced is not None:
                    target = self._fire(forced)
                else:
                    s.visits[target] += 1
                    if node.effects is not None:
                        node.effects(s)
                    if node.text is not None:
                        node.text(s, s.passage)
                    s.node = target
                    if self._offer(node):
                        return
                    target = self._fall_back(node)
        story = self.story
        nodes = story.nodes
        visits = s.visits
        present, record, draws, plan, lazy = self._mode
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
                    if s.hub < 0:
                        raise StoryRuntimeError("'<hub>' was used before any hub was visited")
                    target = s.hub
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
                s.hub = target
                forced = self._forced_event(node)
                if forced is not None:
                    target = self._fire(forced)
                    continue
            visits[target] += 1
            if tracking:
                if trail is not None:
                    trail.append(target)
                if trace is not None:
                    trace.append(target)
            if node.effects is not None:
                node.effects(s)
            if present:
                if node.text is not None:
                    before = len(s.passage)
                    node.text(s, s.passage)
                    if record:
                        s.transcript.extend(("text", p) for p in s.passage[before:])
            elif draws:
                draw = plan.text[target]  # the draws the node's text makes, or None, or UNKNOWN
                if draw is not None:
                    if draw is UNKNOWN:
                        draw = plan.text_draws(target)
                    if draw is not None:
                        draw(s)
            if node.ending is not None:
                end = node.ending
                if end.character is None:
                    s.ending = end
                    s.node = target
                    s.options = []
                    s.opts = []
                    s.live = []
                    s.outcomes.append((s.turn, end.id))
                    return
                char = self._char_ids[end.character]
                if char not in s.char_endings:
                    s.char_endings[char] = end.id
                    s.outcomes.append((s.turn, end.id))
            nav = node.nav
            if nav == "choices":
                pass
            elif nav == "goto":
                target = node.goto
                continue
            elif nav == "branch":
                for cond, effects, out in node.outs:
                    if cond is None or cond(s):
                        if effects is not None:
                            effects(s)
                        target = out
                        break
                continue
            elif nav == "random":
                weights = [max(0, w(s)) for w, _e, _t in node.outs if w is not None]
                pick = s.weighted(weights)
                if pick < 0:
                    raise StoryRuntimeError(f"every random weight at '{node.id}' is zero")
                _w, effects, target = node.outs[pick]
                if effects is not None:
                    effects(s)
                continue
            s.node = target
            if lazy is not None and (lazy[target] or (lazy[target] is None and plan.lazy(node))):
                self.waiting = node
                return
            if self._offer(node):
                return
            target = self._fall_back(node)

    def _fire(self, forced: int) -> int:
        """Fire a forced event (its cost paid, counted as happened this turn); its node."""
        s = self.state
        event = self.story.node_at(forced).event
        assert event is not None
        self._pay(event.choice)
        s.ev_forced[forced] = s.turn
        s.ev_count[forced] = s.ev_count.get(forced, 0) + 1
        s.ev_last[forced] = s.turn
        s.fired += 1
        return forced

    def _fall_back(self, node: Node) -> int:
        """Where a node with no choice to take goes: its fallback's target, after the
        fallback's effects; StoryRuntimeError if it has none."""
        fallback = node.fallback
        if fallback is None:
            raise StoryRuntimeError(f"dead end at '{node.id}': no choice can be taken")
        if fallback.effects is not None:
            fallback.effects(self.state)
        return fallback.target

    def _offer_plain(self, node: Node) -> bool:
        """`_offer` for a player at a node whose choices are all plain."""
        s = self.state
        # Which choices are on offer decides everything shown, so the Options for each such
        # set are made once (and never changed: they are shared). Where the conditions read
        # only variables, their values find the set directly. Not on a node's first offer:
        # most nodes of a large story are offered once or twice, and what is kept for them
        # would only feed the garbage collector.
        shown = None
        key_of = node.plain_key
        if key_of is not None:
            values = key_of(s.v)
            shown = node.by_values.get(values)
        if shown is None:
            v = s.v
            passing = []
            for cond, test, ch in node.plain or ():
                if test is not None:  # `x OP constant`, tested without a call into Python
                    slot, op, c = test
                    if not op(v[slot], c):
                        continue
                elif cond is not None and not cond(s):
                    continue
                passing.append(ch)
            if node.fresh:
                node.fresh = False
                shown = _plain_options(passing)
            else:
                on = tuple(passing)
                shown = node.shown.get(on)
                if shown is None:
                    shown = node.shown[on] = _plain_options(on)
                if key_of is not None and len(node.by_values) < MAX_REMEMBERED:
                    node.by_values[values] = shown
        s.options = shown
        return bool(shown)

    def _offer(self, node: Node) -> bool:
        """Work out the choices on offer at `node`: for players, `options` (labels, costs, and
        the reason a disabled one can't be taken); for automated play, `opts` and `live`, the
        enabled ones' indices. Whether any can be taken."""
        if not self._present:
            return self._offer_to_machine(node)
        if node.plain is not None and not node.is_hub:
            return self._offer_plain(node)
        s = self.state
        options: list[Option] = []
        enabled = False
        once_used = s.once_used
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
            if cond is not None and not cond(s):
                continue
            index = len(options)
            if ch.const_text is None:
                opt = Option(index, ch.text(s), True, "", "", ch)
            else:
                made = ch.shown  # the Option made for this place before (_enabled_option)
                opt = made.get(index) if made is not None else None
                if opt is None:
                    opt = _enabled_option(ch, index, "")
            enabled = True
            options.append(opt)
        if node.is_hub:
            v = s.v
            for row in self._hub_events(node):
                fixed = row[12]
                if fixed is None:
                    opt = self._option(len(options), row[1], row[3] and row[11])
                    if opt is not None:
                        enabled = enabled or opt.enabled
                        options.append(opt)
                    continue
                # Its condition held (in _hub_events): only whether it can be paid for is left.
                ch = row[1]
                index = len(options)
                slot, amount, label = fixed
                if slot < 0 or v[slot] >= amount:
                    made = ch.shown
                    opt = made.get(index) if made is not None else None
                    if opt is None:
                        opt = _enabled_option(ch, index, label)
                    enabled = True
                else:
                    opt = Option(index, ch.const_text, False, f"Needs {label}; {v[slot]} left", label, ch)
                options.append(opt)
        s.options = options
        return enabled

    def _offer_to_machine(self, node: Node) -> bool:
        s = self.state
        # As _offer, in the same order of evaluation (so the same random draws), without
        # Options: labels and reasons are rendered only where they draw random numbers.
        opts: list[Choice] = []
        live: list[int] = []
        draws = self._draws
        once_used = s.once_used
        v = s.v
        for ch, cond, no_reason, cost, once, uid, rng in self._offered(node):
            if once and uid in once_used:
                continue
            enabled = True
            if cond is not None and not cond(s):
                if no_reason:
                    continue
                enabled = False
                if rng and draws:
                    ch.reason(s)
            for slot, amount_fn in cost:
                if v[slot] < amount_fn(s) and enabled:
                    enabled = False
            if rng and draws:
                ch.text(s)
            if enabled:
                live.append(len(opts))
            opts.append(ch)
        s.opts = opts
        s.live = live
        return bool(live)

    def _offered(self, node: Node) -> Iterator[tuple[Any, ...]]:
        """A node's choices, then (at a hub) the events it offers now, all as rows of
        `Node.offer`. The events are worked out only once the choices have been weighed, as
        for players, so random draws come in the same order."""
        yield from node.offer
        if node.is_hub:
            for row in self._hub_events(node):
                yield (row[1], row[2], row[3], row[4], False, 0, row[10])

    def _option(self, index: int, ch: Choice, held: bool = False) -> Option | None:
        """The Option for a choice (None if it isn't shown); `held` when its condition is
        known to hold now."""
        s = self.state
        enabled = True
        reason = ""
        if not held and ch.cond is not None and not ch.cond(s):
            if ch.reason is None:
                return None
            enabled = False
            reason = ch.reason(s)
        cost = ""
        if ch.cost:
            labels = self._plan.cost_labels
            parts = []
            for slot, amount_fn in ch.cost:
                amount = amount_fn(s)
                label = labels.get((slot, amount))
                if label is None:
                    label = labels[slot, amount] = cost_label(self.story, slot, amount)
                parts.append(label)
                if enabled and s.v[slot] < amount:
                    enabled = False
                    reason = f"Needs {label}; {s.v[slot]} left"
            cost = parts[0] if len(parts) == 1 else ", ".join(parts)
        return Option(index, ch.text(s), enabled, reason, cost, ch)

    def _hub_events(self, node: Node) -> list[Any]:
        """The events a hub offers now (its plan's rows): not used up, not cooling down, their
        conditions holding (or shown disabled, with a reason), at most the hub's limit."""
        s = self.state
        shown = []
        ev_count = s.ev_count
        turn = s.turn
        v = s.v
        plan = node.hub_plan
        if plan is None:
            plan = self._plan.hub(node)
        sieve = plan.offered
        passing = sieve.rows if sieve.key is None else sieve.cache.get(sieve.key(v)) or sieve.passing(v)
        hit = self._alive.get(id(passing))
        if hit is not None and hit[0] is passing:
            alive = hit[1]
        else:
            # (the condition to test, if it has no reason to show instead; once; cooldown;
            # event; row)
            alive = tuple(
                (row[2] if row[3] else None, row[5], row[6], row[7], row)
                for row in passing
                if not (row[5] and ev_count.get(row[7]))
            )
            self._alive[id(passing)] = (passing, alive)
        for cond, once, cooldown, at, row in alive:
            if at in ev_count and ev_count[at]:
                if once:
                    continue  # used up since `alive` was made
                if cooldown and turn - s.ev_last.get(at, -(10**9)) < cooldown:
                    continue
            if cond is not None and not cond(s):
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
                i = s.weighted([max(0, row[0].weight(s)) for row in pool])
                if i < 0:
                    break
                keep.append(pool.pop(i))
        order = {id(row): n for n, row in enumerate(shown)}
        keep.sort(key=lambda row: order[id(row)])
        return keep

    def _forced_event(self, node: Node) -> int | None:
        """The forced event a hub enters instead of offering choices, if any: the highest
        priority whose condition holds (weighted among equals), at most once a turn each."""
        s = self.state
        plan = node.hub_plan
        if plan is None:
            plan = self._plan.hub(node)
        if not plan.forced:
            return None
        hub = node.index
        settled = plan.settled
        if settled is not None:
            now = settled(s)
            if self._quiet.get(hub) == now:
                return None
        best: list[Any] = []
        top = 0
        turn = s.turn
        ev_forced, ev_count, ev_last = s.ev_forced, s.ev_count, s.ev_last
        passing = plan.forced_passing(s.v)
        hit = self._alive.get(id(passing))
        if hit is not None and hit[0] is passing:
            alive = hit[1]
        else:
            alive = tuple(row for row in passing if not (row[3] and ev_count.get(row[1])))
            self._alive[id(passing)] = (passing, alive)
        for ev, at, priority, once, cooldown, cond in alive:
            if at in ev_forced and ev_forced[at] == turn:
                continue
            if once and at in ev_count and ev_count[at]:
                continue  # used up since `alive` was made
            if best and priority < top:
                break
            if cooldown and at in ev_count and ev_count[at] and turn - ev_last.get(at, -(10**9)) < cooldown:
                continue
            if cond is not None and not cond(s):
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
        i = s.weighted([max(0, ev.weight(s)) for ev in best])
        return int(best[max(i, 0)].node)

    def _end_turn(self) -> None:
        s = self.state
        turns = self.story.turns
        assert turns is not None
        if turns.end_of_turn is not None:
            turns.end_of_turn(s)
        s.turn += 1
        variables = self.story.variables
        if turns.counter is not None:
            var = variables[turns.counter]
            s.v[var.slot] = min(var.max, s.v[var.slot] + 1)
        if turns.budget is not None and turns.refill is not None:
            var = variables[turns.budget]
            s.v[var.slot] = max(var.min, min(var.max, int(turns.refill(s))))
        self._record_turn()

    def _record_turn(self) -> None:
        s = self.state
        if self.story.tracked:
            v = s.v
            s.history.append((s.turn, tuple(v[slot] for slot in self.story.tracked)))

    def _diff(self, before: list[Any]) -> list[Notice]:
        v = self.state.v
        if v == before:
            return []
        return [
            Notice(who, label, before[slot], v[slot], better)
            for slot, who, label, better in self._plan.noticed
            if before[slot] != v[slot]
        ]

    def _restore(self, snapshot: list[Any]) -> None:
        self.state.restore(snapshot)
        self._alive = {}
        self._quiet = {}

    # -- saving --------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The whole state as JSON-ready data."""
        return self.state.to_save(self.story)

    @classmethod
    def from_dict(cls, story: Story, data: Any, *, record: bool = True) -> Game:
        """Rebuild a game from `to_dict()` data; SaveError says precisely what doesn't fit."""
        try:
            state = State.from_save(story, data)
        except SaveError:
            raise
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
            raise SaveError(f"the saved game is damaged ({type(exc).__name__}: {exc})") from None
        if state.ending is None and not any(o.enabled for o in state.options):
            raise SaveError("the saved game has no choices to continue from")
        game = cls.__new__(cls)
        game._configure(story, state, record=record)
        return game


_views()
