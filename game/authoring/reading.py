"""The reading report: what a player actually reads and clicks, measured by playing.

A coverage playtest asks whether every node can be reached; this asks what a year is like to
read. Each run plays a recorded game through the public API (`passage`, `choices`, `choose`,
`undo`, `transcript`) and measures:

- **words shown**: the words of the story paragraphs printed (choice labels and notices are not
  counted);
- **repeated words**: the words of paragraphs printed verbatim earlier in the same game;
- **prompts**: every time the game waits for a choice; a prompt is **single** when it offers
  fewer than two enabled choices;
- **clicks**, each exactly one of:
  - *continue*: the prompt had only one enabled choice;
  - *navigation*: two or more were enabled, and the choice taken costs nothing, has no effects
    and is not an event, and goes to a hub, to `<hub>` or to `<end-turn>` (it only moves between
    menus or returns to one);
  - *decision*: every other click;
- **new words per turn**: words shown for the first time in the game, by the turn (a week, in
  a weekly story) in which they were shown; the turns after the first `skip_turns` with fewer
  than `thin_words` new words are **thin**;
- **repeats by node**: which nodes printed the repeated paragraphs (each paragraph is traced to
  the node, among those entered by the same choice, whose text can produce it).

Strategies are the playtest's, plus **patient**: it picks at random like `random`, but never
takes a choice to `<end-turn>` while another choice on offer, or one a single step further on,
spends the turn's budget and can be afforded.
"""

from __future__ import annotations

import random as _random
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..engine.game import Game, Option
from ..engine.story import END_TURN, HUB, Story
from .playtest import DEFAULT_MAX_STEPS, Strategy, parse_strategy, run_seed

SKIP_TURNS = 4  # the first month: an opening is allowed to be heavy on setting the scene
THIN_WORDS = 150
PATIENT = "patient"
TOP_NODES = 15


@dataclass
class RunReading:
    """What one game showed its player."""

    seed: int
    words: int = 0
    repeated: int = 0
    prompts: int = 0
    single: int = 0
    navigation: int = 0
    continues: int = 0
    decisions: int = 0
    turns: int = 0
    new_by_turn: list[int] = field(default_factory=list)
    ending: str | None = None
    error: str | None = None

    @property
    def clicks(self) -> int:
        return self.navigation + self.continues + self.decisions

    def thin_turns(self, skip: int = SKIP_TURNS, threshold: int = THIN_WORDS) -> list[int]:
        """Turn numbers (1-based) after the first `skip` with fewer than `threshold` new words."""
        return [t + 1 for t, n in enumerate(self.new_by_turn) if t >= skip and n < threshold]

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "words": self.words,
            "repeated_words": self.repeated,
            "repeated_share": _share(self.repeated, self.words),
            "prompts": self.prompts,
            "single_choice_prompts": self.single,
            "single_choice_share": _share(self.single, self.prompts),
            "clicks": {"navigation": self.navigation, "continue": self.continues, "decision": self.decisions},
            "turns": self.turns,
            "new_words_by_turn": list(self.new_by_turn),
            "thin_turns": self.thin_turns(),
            "ending": self.ending,
            "error": self.error,
        }


@dataclass
class ReadingReport:
    """The reading report of a batch of runs with one strategy."""

    story_id: str
    strategy: str
    seed: int
    runs: list[RunReading] = field(default_factory=list)
    repeats_by_node: Counter[str] = field(default_factory=Counter)

    def total(self, name: str) -> int:
        return sum(getattr(r, name) for r in self.runs)

    @property
    def words(self) -> int:
        return self.total("words")

    @property
    def repeated(self) -> int:
        return self.total("repeated")

    @property
    def prompts(self) -> int:
        return self.total("prompts")

    @property
    def single(self) -> int:
        return self.total("single")

    def thin_turns(self) -> int:
        return sum(len(r.thin_turns()) for r in self.runs)

    def top_nodes(self, n: int = TOP_NODES) -> list[tuple[str, int]]:
        return sorted(self.repeats_by_node.items(), key=lambda kv: (-kv[1], kv[0]))[:n]

    def to_dict(self) -> dict[str, Any]:
        runs = len(self.runs) or 1
        return {
            "story": self.story_id,
            "strategy": self.strategy,
            "seed": self.seed,
            "definitions": {"skip_turns": SKIP_TURNS, "thin_words": THIN_WORDS},
            "total": {
                "runs": len(self.runs),
                "words": self.words,
                "repeated_words": self.repeated,
                "repeated_share": _share(self.repeated, self.words),
                "prompts": self.prompts,
                "single_choice_prompts": self.single,
                "single_choice_share": _share(self.single, self.prompts),
                "clicks": {
                    "navigation": self.total("navigation"),
                    "continue": self.total("continues"),
                    "decision": self.total("decisions"),
                },
                "thin_turns": self.thin_turns(),
                "errors": sum(1 for r in self.runs if r.error),
            },
            "repeated_words_by_node": [
                {"node": node, "words": words, "per_run": round(words / runs, 1)}
                for node, words in self.top_nodes()
            ],
            "runs": [r.to_dict() for r in self.runs],
        }


def _share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


# -- tracing paragraphs to nodes ---------------------------------------------------------------


def _templates(items: Any, out: list[Any]) -> None:
    for item in items or ():
        kind = item[0]
        if kind == "p":
            out.append(item[1])
        elif kind == "if":
            _templates(item[2], out)
            _templates(item[3], out)
        else:
            for alternative in item[1]:
                _templates(alternative, out)


class _Tracer:
    """Finds which node printed a paragraph: one of those entered by the same choice."""

    def __init__(self, story: Story) -> None:
        self.story = story
        self._patterns: dict[int, list[re.Pattern[str] | str]] = {}

    def patterns(self, index: int) -> list[re.Pattern[str] | str]:
        found = self._patterns.get(index)
        if found is None:
            found = []
            parts_list: list[Any] = []
            _templates(self.story.ir_node(index).get("text"), parts_list)
            for parts in parts_list:
                if all(isinstance(p, str) for p in parts):
                    found.append("".join(parts))
                else:
                    found.append(
                        re.compile(
                            "".join(re.escape(p) if isinstance(p, str) else ".*?" for p in parts), re.DOTALL
                        )
                    )
            self._patterns[index] = found
        return found

    def node_of(self, paragraph: str, entered: list[int]) -> str:
        for index in entered:
            for pattern in self.patterns(index):
                if pattern == paragraph if isinstance(pattern, str) else pattern.fullmatch(paragraph):
                    return self.story.node_ids[index]
        return "(unknown)"


# -- playing -----------------------------------------------------------------------------------


class _View:
    """What a playtest strategy looks at, made from a Game's choices."""

    def __init__(self, options: list[Option]) -> None:
        self.opts = [o.choice for o in options]
        self.live = [o.index for o in options if o.enabled]


def _ends_turn(opt: Option) -> bool:
    return opt.choice.target == END_TURN


def _spends(opt: Option) -> bool:
    return opt.enabled and bool(opt.choice.cost)


def patient_pick(game: Game, rnd: Callable[[], float]) -> int:
    """A random enabled choice, never one that ends the turn while something affordable remains."""
    live = [o for o in game.choices if o.enabled]
    stay = [o for o in live if not _ends_turn(o)]
    if len(stay) == len(live):
        return live[int(rnd() * len(live))].index
    if not stay:
        return live[0].index
    worth = [o for o in stay if _spends(o)]
    for opt in stay:
        if opt in worth:
            continue
        game.choose(opt.index)  # look one step ahead, then take it back
        ahead = not game.ended and any(_spends(o) for o in game.choices)
        game.undo()
        if ahead:
            worth.append(opt)
    if not worth:
        return next(o for o in live if _ends_turn(o)).index
    return worth[int(rnd() * len(worth))].index


def _is_navigation(story: Story, opt: Option) -> bool:
    ch = opt.choice
    if ch.cost or ch.effects is not None or ch.event is not None:
        return False
    target = ch.target
    if target in (HUB, END_TURN):
        return True
    return target >= 0 and story.node_at(target).is_hub


def read_game(
    story: Story,
    seed: int,
    pick: Callable[[Game, Callable[[], float]], int],
    *,
    max_steps: int = DEFAULT_MAX_STEPS,
    start: str | None = None,
    values: Mapping[str, Any] | None = None,
    repeats_by_node: Counter[str] | None = None,
) -> RunReading:
    """Play one recorded game with `pick` and measure what it showed."""
    run = RunReading(seed)
    tracer = _Tracer(story)
    seen: set[str] = set()
    rnd = _random.Random(seed ^ 0x5EED).random

    def take_in(game: Game, since: int, before: list[int] | None, turn: int) -> None:
        entered = [i for i, n in enumerate(game.visits) if n != (before[i] if before else 0)]
        while len(run.new_by_turn) <= turn:
            run.new_by_turn.append(0)
        for kind, text in game.transcript[since:]:
            if kind != "text":
                continue
            words = len(text.split())
            run.words += words
            if text in seen:
                run.repeated += words
                if repeats_by_node is not None and words:
                    repeats_by_node[tracer.node_of(text, entered)] += words
            else:
                seen.add(text)
                run.new_by_turn[turn] += words

    try:
        game = Game(story, seed, record=True, start=start, values=values)
        take_in(game, 0, None, game.turn)
        steps = 0
        while not game.ended and steps < max_steps:
            options = game.choices
            enabled = [o for o in options if o.enabled]
            run.prompts += 1
            i = pick(game, rnd)
            opt = options[i]
            if len(enabled) < 2:
                run.single += 1
                run.continues += 1
            elif _is_navigation(story, opt):
                run.navigation += 1
            else:
                run.decisions += 1
            before = list(game.visits)
            since = len(game.transcript)
            game.choose(i)
            steps += 1
            take_in(game, since, before, game.turn)
        run.turns = game.turn + 1
        run.ending = game.ending.id if game.ending else None
    except Exception as exc:  # noqa: BLE001 - a crash is a finding, reported with its seed
        run.error = f"{type(exc).__name__}: {exc}"
    return run


def _picker(spec: str, story: Story) -> Callable[[Game, Callable[[], float]], int]:
    if spec.strip() == PATIENT:
        return patient_pick
    strategy: Strategy = parse_strategy(spec, story)

    def pick(game: Game, rnd: Callable[[], float]) -> int:
        return strategy.pick(_View(game.choices), rnd)  # type: ignore[arg-type]

    return pick


def check_strategy(spec: str, story: Story) -> None:
    """ValueError if `spec` names no strategy (the playtest's, or patient)."""
    _picker(spec, story)


def reading(
    story: Story,
    runs: int,
    seed: int = 0,
    strategy: str = "random",
    *,
    max_steps: int = DEFAULT_MAX_STEPS,
    start: str | None = None,
    values: Mapping[str, Any] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ReadingReport:
    """Play `runs` recorded games (run r from `run_seed(seed, r)`) and report what they showed."""
    pick = _picker(strategy, story)
    report = ReadingReport(story.id, strategy.strip(), seed)
    for r in range(runs):
        report.runs.append(
            read_game(
                story,
                run_seed(seed, r),
                pick,
                max_steps=max_steps,
                start=start,
                values=values,
                repeats_by_node=report.repeats_by_node,
            )
        )
        if progress is not None:
            progress(r + 1, runs)
    return report


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def format_reading(report: ReadingReport) -> str:
    """The reading report, for people."""
    lines = [f"Reading report ({report.strategy}, seed {report.seed}, {len(report.runs)} runs):"]
    lines.append(
        f"  {'seed':>20} {'words':>7} {'repeat':>7} {'prompts':>7} {'single':>7} "
        f"{'nav':>5} {'cont':>5} {'dec':>5} {'thin turns'}"
    )
    for r in report.runs:
        thin = r.thin_turns()
        shown = ", ".join(map(str, thin[:8])) + (f" (+{len(thin) - 8})" if len(thin) > 8 else "")
        lines.append(
            f"  {r.seed:>20} {r.words:>7,} {_pct(r.repeated, r.words):>7} {r.prompts:>7,} "
            f"{_pct(r.single, r.prompts):>7} {r.navigation:>5,} {r.continues:>5,} {r.decisions:>5,} "
            f"{shown or '-'}" + (f"  CRASH: {r.error}" if r.error else "")
        )
    n = len(report.runs) or 1
    nav, cont, dec = report.total("navigation"), report.total("continues"), report.total("decisions")
    clicks = nav + cont + dec
    lines += [
        f"  words shown: {report.words:,} ({report.words // n:,} a run), "
        f"{_pct(report.repeated, report.words)} of them verbatim repeats",
        f"  prompts: {report.prompts:,}, {_pct(report.single, report.prompts)} with a single choice",
        f"  clicks: {clicks:,}: navigation {_pct(nav, clicks)}, continue {_pct(cont, clicks)}, "
        f"decision {_pct(dec, clicks)}",
        f"  thin turns (after turn {SKIP_TURNS}, under {THIN_WORDS} new words): {report.thin_turns():,} "
        f"({report.thin_turns() / n:.1f} a run)",
    ]
    errors = [r for r in report.runs if r.error]
    if errors:
        lines.append(f"  CRASHES: {len(errors):,} (seeds {', '.join(str(r.seed) for r in errors[:5])})")
    if report.repeats_by_node:
        lines.append("  most repeated words, by node (a run's average):")
        for node, words in report.top_nodes():
            lines.append(f"    {words / n:>9,.0f}  {node}")
    return "\n".join(lines) + "\n"
