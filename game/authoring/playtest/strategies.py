"""Strategies: how a simulated player picks among the enabled choices.

All generic: patterns over variable names, or names the story gives in its `playtest` section.
"""

from __future__ import annotations

import fnmatch
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from ...engine.game import Game
from ...engine.story import Story

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
        slots = {
            var.slot
            for var in story.variables
            if any(fnmatch.fnmatchcase(var.name, p) or fnmatch.fnmatchcase(var.base, p) for p in patterns)
        }
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
