"""What playtests find: a random batch's report and the exhaustive search's, with the paths
and crashes they keep."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Crash:
    """A run that hit an engine error, and what reproduces it: the game's seed and the choices
    taken, as indices into `Game.choices` (`path`), as the numbers a player types for them in
    `iom play --plain` (`keys`, numbered as plain mode and the app number them), and as the
    lines to type there (`typed`: the numbers, with a yes after each choice that asks first)."""

    run: int
    seed: int
    node: str
    error: str
    steps: int
    path: list[int] = field(default_factory=list)
    keys: list[int] = field(default_factory=list)
    typed: list[str] = field(default_factory=list)
    reproduced: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "seed": self.seed,
            "node": self.node,
            "error": self.error,
            "steps": self.steps,
            "path": list(self.path),
            "keys": list(self.keys),
            "typed": list(self.typed),
            "reproduced": self.reproduced,
        }


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
                "variables": {
                    name: _distribution(counts) for name, counts in self.case_values.get(c, {}).items()
                },
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
            and all(e in self.endings_reached or ending_nodes[e] in self.ruled_out for e in self.all_endings)
        )

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
