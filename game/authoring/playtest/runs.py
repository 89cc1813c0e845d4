"""Random playthroughs: seeded batches on every CPU, each game the engine's own `Game` made for
machines (no text kept, choices weighed lazily), so a crash reproduces from its seed."""

from __future__ import annotations

import random as _random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ...choices import number_of, offer
from ...engine.errors import ChoiceError, StoryRuntimeError
from ...engine.game import Game, checked_value
from ...engine.story import Story
from .report import MAX_CRASHES_KEPT, Crash, PlaytestReport
from .strategies import Strategy, parse_strategy

Progress = Callable[[int, int], None]


_RNG_CALLS = ("chance", "random")


_MASK = (1 << 64) - 1


DEFAULT_MAX_STEPS = 10_000


def run_seed(seed: int, run: int) -> int:
    """The game seed of run number `run` in a batch started from `seed` (splitmix64)."""
    z = (seed * 0x9E3779B97F4A7C15 + (run + 1) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return (z ^ (z >> 31)) & 0xFFFFFFFF


def _uids_to_path(
    story: Story, seed: int, uids: list[int], start: str | None, values: Mapping[str, Any] | None
) -> tuple[list[int], list[int], list[str], str | None]:
    """Replay choices (by uid) in a real Game: (option indices, the numbers a player types for
    them in plain mode, the lines typed there (a yes after each choice that asks first), the
    error hit)."""
    path: list[int] = []
    keys: list[int] = []
    typed: list[str] = []
    try:
        game = Game(story, seed, record=False, start=start, values=values)
        for uid in uids:
            opt = next((o for o in game.options if o.enabled and o.choice.uid == uid), None)
            if opt is None:
                return path, keys, typed, None
            path.append(opt.index)
            keys.append(number_of(game, opt, keyed=None))
            typed.append(str(keys[-1]))
            if offer(game, opt, confirm_end_turn=True).question is not None:
                typed.append("yes")
            game.choose(opt.index)
    except StoryRuntimeError as exc:
        return path, keys, typed, str(exc)
    except Exception as exc:  # noqa: BLE001 - the error is the finding
        return path, keys, typed, f"{type(exc).__name__}: {exc}"
    return path, keys, typed, None


def playtest(
    story: Story,
    runs: int,
    seed: int = 0,
    strategy: str = "random",
    *,
    max_steps: int = DEFAULT_MAX_STEPS,
    start: str | None = None,
    values: Mapping[str, Any] | None = None,
    jobs: int = 1,
    progress: Progress | None = None,
    witness: frozenset[int] | None = None,
) -> PlaytestReport:
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
    path, keys, typed, error = _uids_to_path(story, crash.seed, uids, start, values)
    crash.path, crash.keys, crash.typed = path, keys, typed
    crash.reproduced = error is not None and len(path) == len(uids)


def _new_report(story: Story, strategy: str, seed: int) -> PlaytestReport:
    report = PlaytestReport(
        story.id, strategy, seed, node_ids=story.node_ids, node_visits=[0] * len(story.node_ids)
    )
    report.all_endings = {e.id: e.title for e in story.endings}
    report.choices_total = _count_choices(story)
    return report


def _batch(
    story: Story,
    run_numbers: Iterable[int],
    seed: int,
    strategy_name: str,
    max_steps: int,
    start: str | None,
    values: Mapping[str, Any] | None,
    progress: Progress | None,
    total: int,
    witness: frozenset[int] | None = None,
) -> PlaytestReport:
    strategy = parse_strategy(strategy_name, story)
    report = _new_report(story, strategy.name, seed)
    lazy = type(strategy) is Strategy
    pick = strategy.pick
    case_endings = report.case_endings = {c.id: Counter() for c in story.characters}
    shown = [
        (var.case, var.base, var.slot)
        for var in story.variables
        if var.case is not None and (var.track or var.display != "hidden")
    ]
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
    return _batch(
        w["story"],
        range(lo, hi),
        w["seed"],
        w["strategy"],
        w["max_steps"],
        w["start"],
        w["values"],
        None,
        hi - lo,
        w["witness"],
    )


def _parallel(
    story: Story,
    runs: int,
    seed: int,
    strategy: str,
    max_steps: int,
    start: str | None,
    values: Mapping[str, Any] | None,
    jobs: int,
    progress: Progress | None,
    witness: frozenset[int] | None = None,
) -> PlaytestReport:
    import multiprocessing

    try:
        ctx = multiprocessing.get_context("fork")
    except ValueError:  # no fork on this platform: one process it is
        return _batch(story, range(runs), seed, strategy, max_steps, start, values, progress, runs, witness)
    story.compile_all()  # once, before the workers are forked
    _WORKER.update(
        story=story,
        seed=seed,
        strategy=strategy,
        max_steps=max_steps,
        start=start,
        values=dict(values or {}),
        witness=witness,
    )
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


def replay(
    story: Story,
    seed: int,
    path: Iterable[int],
    *,
    start: str | None = None,
    values: Mapping[str, Any] | None = None,
) -> tuple[Game | None, str | None]:
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


def _preset(story: Story, values: Mapping[str, Any] | None) -> list[Any]:
    """The initial variables with `values` applied (ValueError for a bad name or value)."""
    v = list(story.initial_values)
    for name, value in (values or {}).items():
        if name not in story.var_index:
            raise ValueError(f"there is no variable '{name}'")
        slot, v[slot] = checked_value(story, name, value)
    return v
