"""The exhaustive search: every reachable state, each random outcome a branch of its own,
equal states merged; where the space is too big, it plays on to account for every node."""

from __future__ import annotations

import random as _random
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import MISSING, fields
from operator import attrgetter, itemgetter
from typing import Any

from ...engine.errors import StoryRuntimeError
from ...engine.game import Game
from ...engine.plan import expr_nodes, expr_vars, statements
from ...engine.state import KEYED, State
from ...engine.story import Choice, Story
from .report import MAX_CRASHES_KEPT, ExploreReport, Step, Via
from .runs import Progress, _count_choices, _preset, playtest

DEFAULT_MAX_STATES = 200_000


MAX_RANDOM_BRANCHES = 4096  # random outcomes enumerated for one choice before giving up


RANDINT_LIMIT = 64  # a random(a, b) wider than this is sampled, and the search is incomplete


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


class _Scripted:
    """Random outcomes that follow a script of decisions, so every outcome can be tried in turn."""

    def __init__(self, decisions: _Decisions) -> None:
        self.d = decisions

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

    def weighted(self, weights: list[float]) -> int:
        positive = [i for i, w in enumerate(weights) if w > 0]
        if len(positive) <= 1:
            return positive[0] if positive else -1
        return positive[self.d.decide(len(positive))]


def _explorer(
    story: Story, decisions: _Decisions, start: str | None, values: Mapping[str, Any] | None
) -> Game:
    """A game for the search: no text, its random outcomes scripted, the nodes it enters traced."""
    return Game(
        story,
        0,
        record=False,
        start=start,
        values=values,
        text=False,
        text_draws=False,
        trace=True,
        chance=_Scripted(decisions),
    )


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
        self.visit_caps: tuple[int, ...] = tuple(
            10**9 if (c := caps[i]) is None else c for i in self.visit_nodes
        )
        # Only events with `once`, a cooldown or `forced` remember anything that matters.
        self.once_nodes = frozenset(ev.node for ev in story.events if ev.once)
        self.cooldowns = {ev.node: ev.cooldown for ev in story.events if ev.cooldown}
        self.forced_nodes = frozenset(ev.node for ev in story.events if ev.forced)
        self.zero_visits = story.zero_visits
        self._values = itemgetter(*self.slots) if len(self.slots) > 1 else None
        self._visits = itemgetter(*self.visit_nodes) if len(self.visit_nodes) > 1 else None
        # A key has one part per field of the state that can change what happens next: most
        # compared whole, these narrowed to what matters (or left out, as the random state is).
        special: dict[str, tuple[Callable[[State], Any], Callable[[State, Any], None]] | None] = {
            "rng": None,  # every random outcome is a branch of its own
            "turn": (self._turn, self._set_turn),
            "v": (self._vars, self._set_vars),
            "visits": (self._visit_counts, self._set_visits),
            "ev_count": (self._events, self._set_events),
            "ev_last": None,  # in the events' part
            "ev_forced": None,
            "char_endings": (lambda s: frozenset(s.char_endings), self._set_ended),
        }
        parts = []
        for name in KEYED:
            if name in special:
                pair = special[name]
                if pair is not None:
                    parts.append((name, *pair))
            else:
                parts.append((name, *_compared_whole(name)))
        # The turn goes first (restoring the events needs it), then the rest in field order.
        parts.sort(key=lambda part: part[0] != "turn")
        self.names = tuple(name for name, _get, _set in parts)
        self._getters = tuple(get for _name, get, _set in parts)
        self._setters = tuple(put for _name, _get, put in parts)
        self._at = {name: i for i, name in enumerate(self.names)}
        self._node = self._at["node"]
        self._opts = self._at["opts"]
        self._live = self._at["live"]
        self._base: list[Any] = []
        # What a state not in the key goes back to: as new (how chance is scripted stays).
        self._blanks = tuple(
            (f.name, f.default_factory if f.default_factory is not MISSING else _constant(f.default))
            for f in fields(State)
            if f.name not in KEYED and f.name != "chance"
        )

    def key(self, g: Game) -> tuple[Any, ...]:
        s = g.state
        return tuple([get(s) for get in self._getters])

    def node(self, key: tuple[Any, ...]) -> int:
        return key[self._node]  # type: ignore[no-any-return]

    def offered(self, key: tuple[Any, ...]) -> tuple[tuple[Choice, ...], tuple[int, ...]]:
        """The choices a state offers, and the indices of the enabled ones."""
        return key[self._opts], key[self._live]

    def state(self, key: tuple[Any, ...], base: list[Any]) -> State:
        """A state with this key (the variables no condition reads as in `base`)."""
        s = State()
        self._put(s, key, base)
        return s

    def restore(self, g: Game, key: tuple[Any, ...], base: list[Any]) -> None:
        """Take `g` back to a state with this key (in place: the search does this often)."""
        s = g.state
        for name, blank in self._blanks:
            setattr(s, name, blank())
        self._put(s, key, base)
        g.resume(s)

    def _put(self, s: State, key: tuple[Any, ...], base: list[Any]) -> None:
        self._base = base
        for put, part in zip(self._setters, key, strict=True):
            put(s, part)

    # -- the narrowed parts, and how each is put back ---------------------------------------
    def _turn(self, s: State) -> int:
        return s.turn if self.uses_turn else 0

    def _set_turn(self, s: State, turn: int) -> None:
        s.turn = turn if self.uses_turn else 1_000_000

    def _vars(self, s: State) -> tuple[Any, ...]:
        if self._values is not None:
            return self._values(s.v)  # type: ignore[no-any-return]
        return tuple(s.v[slot] for slot in self.slots)

    def _set_vars(self, s: State, values: tuple[Any, ...]) -> None:
        v = list(self._base)
        for slot, x in zip(self.slots, values, strict=True):
            v[slot] = x
        s.v = v

    def _visit_counts(self, s: State) -> tuple[int, ...]:
        visits = s.visits
        if self._visits is not None:
            return tuple(map(min, self._visits(visits), self.visit_caps))
        return tuple(min(visits[i], c) for i, c in zip(self.visit_nodes, self.visit_caps, strict=True))

    def _set_visits(self, s: State, counts: tuple[int, ...]) -> None:
        visits = self.zero_visits[:]
        for i, c in zip(self.visit_nodes, counts, strict=True):
            visits[i] = c
        s.visits = visits

    def _events(self, s: State) -> tuple[frozenset[int], frozenset[tuple[int, int]], frozenset[int]]:
        turn = s.turn
        once_nodes, cooldowns = self.once_nodes, self.cooldowns
        ev_last = s.ev_last
        happened = []
        cooling = []
        for node in s.ev_count:
            if node in once_nodes:
                happened.append(node)
            cooldown = cooldowns.get(node)
            if cooldown:
                since = turn - ev_last.get(node, -(10**9))
                if since < cooldown:
                    cooling.append((node, since))
        forced_now = [n for n, t in s.ev_forced.items() if t == turn and n in self.forced_nodes]
        return frozenset(happened), frozenset(cooling), frozenset(forced_now)

    def _set_events(self, s: State, events: tuple[Any, ...]) -> None:
        happened, cooling, forced_now = events
        t = s.turn
        s.ev_count = dict.fromkeys(happened, 1)
        s.ev_last = {}
        for n, since in cooling:
            s.ev_count[n] = 1
            s.ev_last[n] = t - since
        s.ev_forced = dict.fromkeys(forced_now, t)

    def _set_ended(self, s: State, ended: frozenset[int]) -> None:
        s.char_endings = dict.fromkeys(ended, "")


def _constant(value: Any) -> Callable[[], Any]:
    return lambda: value


def _compared_whole(name: str) -> tuple[Callable[[State], Any], Callable[[State, Any], None]]:
    """How a field compared whole goes into a key (hashable) and back (as the container the
    field holds)."""
    made = next(f for f in fields(State) if f.name == name)
    factory = made.default_factory
    kind = factory() if factory is not MISSING else None
    get = attrgetter(name)
    if isinstance(kind, list):
        return (lambda s: tuple(get(s))), (lambda s, x: setattr(s, name, list(x)))
    if isinstance(kind, set):
        return (lambda s: frozenset(get(s))), (lambda s, x: setattr(s, name, set(x)))
    if isinstance(kind, dict):
        return (lambda s: frozenset(get(s).items())), (lambda s, x: setattr(s, name, dict(x)))
    return get, (lambda s, x: setattr(s, name, x))


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


def explore(
    story: Story,
    *,
    max_states: int = DEFAULT_MAX_STATES,
    max_seconds: float | None = None,
    start: str | None = None,
    values: Mapping[str, Any] | None = None,
    path_to: str | None = None,
    progress: Progress | None = None,
    ruled_out: Iterable[int] = (),
    jobs: int = 1,
) -> ExploreReport:
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
    varied: set[tuple[int, int]] = set()
    shortest: set[int] = set()

    def add(g: Game, via: Via | None, key: tuple[Any, ...] | None) -> int | None:
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

    def branches(run: Callable[[], Game], via_of: Callable[[int], Via | None], node: int) -> None:
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
                    message = (
                        str(exc) if isinstance(exc, StoryRuntimeError) else f"{type(exc).__name__}: {exc}"
                    )
                    path = _path(story, states, parents, via_of(_luck(d)), base, model, None)
                    report.crashes.append(
                        {"node": story.node_ids[node], "error": message, "path": [s.to_dict() for s in path]}
                    )
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

    worker: list[Game] = []

    def begin() -> Game:
        g = _explorer(story, d, start, values)
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
        opts, live = model.offered(key)
        for index in live:
            report.transitions += 1
            report.choices_taken.add(opts[index].uid)

            def run(key: tuple[Any, ...] = key, index: int = index) -> Game:
                model.restore(g, key, base)
                g.trace = []
                g.take(index)
                return g

            def via(luck: int, sid: int = sid, index: int = index) -> Via | None:
                return (sid, index, luck)

            d.reset([])
            branches(run, via, model.node(key))
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
        _probe_deeper(
            report, states, model, base, g, d, time.perf_counter() + min(5.0, 1.0 + spent / 4), probed
        )
    if not report.exhausted:
        _play_on(
            report,
            story,
            start,
            values,
            jobs,
            began + max_seconds if max_seconds else None,
            endings_at,
            played,
        )
    report.settle({e: min(nodes) for e, nodes in endings_at.items()})
    if progress is not None:
        progress(report.states, report.states)
    if target is not None and report.reached[target]:
        if target in probed:
            sid, tail = probed[target]
            report.path = _path(story, states, parents, parents[sid], base, model, varied) + tail
        elif target in played:
            report.path_seed, uids = played[target]
            report.path = _played_path(story, report.path_seed, uids, start, values, target)
        else:
            report.path = _path(story, states, parents, first_reach[target], base, model, varied)
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


def _play_on(
    report: ExploreReport,
    story: Story,
    start: str | None,
    values: Mapping[str, Any] | None,
    jobs: int,
    deadline: float | None,
    endings_at: dict[str, list[int]],
    played: dict[int, tuple[int, list[int]]],
) -> None:
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
        missing_endings = [
            e
            for e in report.all_endings
            if e not in report.endings_reached
            and not all(i in report.ruled_out for i in endings_at.get(e, []))
        ]
        wanted = frozenset(report.unaccounted).union(*(endings_at.get(e, []) for e in missing_endings))
        if not wanted or (deadline is not None and time.perf_counter() > deadline):
            return
        spec = strategies[rounds % len(strategies)]
        rounds += 1
        r = playtest(
            story,
            PLAY_ON_RUNS,
            seed=rounds,
            strategy=spec,
            start=start,
            values=values,
            jobs=jobs,
            witness=wanted,
        )
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
            report.crashes.append(
                {
                    "node": crash.node,
                    "error": crash.error,
                    "seed": crash.seed,
                    "path": [step.to_dict() for step in path],
                }
            )
        fruitless = 0 if found else fruitless + 1


def _played_path(
    story: Story,
    seed: int,
    choices: list[int],
    start: str | None,
    values: Mapping[str, Any] | None,
    target: int | None,
    by_uid: bool = True,
) -> list[Step]:
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


def _probe_deeper(
    report: ExploreReport,
    states: list[tuple[Any, ...]],
    model: _StateModel,
    base: list[Any],
    g: Game,
    d: _Decisions,
    deadline: float,
    found: dict[int, tuple[int, list[Step]]],
) -> None:
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
                    text = ch.text(g.state)
                except Exception:  # noqa: BLE001 - a label is only a label
                    text = "?"
                node = story.node_ids[g.node]
                g.trace = []
                g.state.outcomes = []
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


def _path(
    story: Story,
    states: list[tuple[Any, ...]],
    parents: list[Via | None],
    via: Via | None,
    base: list[Any],
    model: _StateModel,
    varied: set[tuple[int, int]] | None,
) -> list[Step]:
    """The choices from the start along `via`, the last being `via`'s own; `luck` counts a
    step's random draws where chance decided where it led (all of them if `varied` is None)."""
    steps: list[Step] = []
    while via is not None:
        sid, index, luck = via
        if varied is not None and (sid, index) not in varied:
            luck = 0
        key = states[sid]
        ch = model.offered(key)[0][index]
        try:
            text = ch.text(model.state(key, base))
        except Exception:  # noqa: BLE001 - a label is only a label
            text = "?"
        steps.append(Step(story.node_ids[model.node(key)], index, text, luck))
        via = parents[sid]
    steps.reverse()
    return steps
