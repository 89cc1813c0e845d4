"""Automated play: seeded random playthroughs and an exhaustive search of the state space.

Both play the engine's own `Game`, made for machines: no text kept (only the random draws
rendering it would make), choices weighed lazily for the random strategy, random outcomes
scripted for the search. So a crash found here reproduces in a player's `Game` from its seed
and choices.

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
from .game import Game
from .plan import expr_nodes, expr_vars, statements
from .story import Story

Progress = Callable[[int, int], None]

_RNG_CALLS = ("chance", "random")
_MASK = (1 << 64) - 1
DEFAULT_MAX_STEPS = 10_000
DEFAULT_MAX_STATES = 200_000
MAX_RANDOM_BRANCHES = 4096  # random outcomes enumerated for one choice before giving up
RANDINT_LIMIT = 64  # a random(a, b) wider than this is sampled, and the search is incomplete


def run_seed(seed: int, run: int) -> int:
    """The game seed of run number `run` in a batch started from `seed` (splitmix64)."""
    z = (seed * 0x9E3779B97F4A7C15 + (run + 1) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return (z ^ (z >> 31)) & 0xFFFFFFFF


# ---------------------------------------------------------------------------------------
# Strategies: how a simulated player picks among the enabled choices.
# ---------------------------------------------------------------------------------------

STRATEGY_HELP = (
    "random (any enabled choice), first (always the first), novel (the choice taken least so far), "
    "prefer:PATTERN (choices whose effects raise variables matching PATTERN: a glob such as "
    "'*.trust', several joined by commas), avoid:PATTERN, and the strategies the story names "
    "in its playtest section"
)
EXPLORE = 0.1  # how often a preferring strategy picks at random instead, so it can't get stuck


class Strategy:
    """Picks one of the enabled choices. `name` is what reports show."""

    name = "random"

    def pick(self, runner: Game, rnd: Callable[[], float]) -> int:
        live = runner.live
        return live[int(rnd() * len(live))]


class FirstStrategy(Strategy):
    name = "first"

    def pick(self, runner: Game, rnd: Callable[[], float]) -> int:
        return runner.live[0]


class NovelStrategy(Strategy):
    """Prefers the choice taken least often so far in the whole batch (coverage-guided)."""

    name = "novel"

    def __init__(self) -> None:
        self.counts: Counter[int] = Counter()

    def pick(self, runner: Game, rnd: Callable[[], float]) -> int:
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

    def pick(self, runner: Game, rnd: Callable[[], float]) -> int:
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
    resolved = story.playtest.get("strategies", {}).get(name, name)
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
    named = story.playtest.get("strategies", {})
    own = f"; this story's own: {', '.join(f'{k} (= {v})' for k, v in named.items())}" if named else ""
    raise ValueError(f"unknown strategy '{name}'; the strategies are: {STRATEGY_HELP}{own}")


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
    shown = [(var.case, var.base, var.slot) for var in story.variables
             if var.case is not None and (var.track or var.display != "hidden")]
    report.case_values = {c.id: {} for c in story.characters}
    values_of = [(report.case_values[c].setdefault(b, Counter()), slot) for c, b, slot in shown]
    choice_counts = report.choice_counts
    visits_total = report.node_visits
    every = max(1, min(200, total // 100))
    done = 0
    for r in run_numbers:
        game_seed = run_seed(seed, r)
        rnd = _random.Random(game_seed ^ 0x5EED).random
        runner: Game | None = None
        steps = 0
        try:
            runner = Game(story, game_seed, record=False, start=start, values=values, text=False, lazy=lazy)
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


def _explorer(story: Story, decisions: _Decisions, start: str | None, values: Mapping[str, Any] | None) -> Game:
    """A game for the search: no text, its random outcomes scripted, the nodes it enters traced."""
    return Game(story, 0, record=False, start=start, values=values, text=False, text_draws=False,
                trace=True, chance=_Scripted(decisions))


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

    def key(self, g: Game) -> tuple[Any, ...]:
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

    def restore(self, g: Game, key: tuple[Any, ...], base: list[Any]) -> None:
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
    # With a test start: the nodes the story's graph can't lead to from it (such as the opening
    # it skips), which are neither reached nor unreachable in the story itself.
    outside: set[int] = field(default_factory=set)

    @property
    def unreachable_nodes(self) -> list[str]:
        return [self.node_ids[i] for i, ok in enumerate(self.reached) if not ok and i not in self.outside]

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
            "nodes_outside_start": sorted(self.node_ids[i] for i in self.outside),
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
        opts, live = key[8], key[9]
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
                  g: Game, d: _Decisions, deadline: float,
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


def _probe(story: Story) -> Game:
    """A game that was never started: somewhere to evaluate a state's text."""
    g = Game.__new__(Game)
    g.story = story
    g.v = [var.initial for var in story.variables]
    g.visits = [0] * len(story.node_ids)
    g._char_ids = {c.id: c.index for c in story.characters}
    g.seed = g.rng = 0
    return g


def _path(story: Story, states: list[tuple[Any, ...]], parents: list[Via | None], via: Via | None,
          base: list[Any], model: _StateModel, probe: Game, varied: set[tuple[int, int]] | None) -> list[Step]:
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
