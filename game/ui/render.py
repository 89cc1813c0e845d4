"""Text drawings of the game state: bars, sparklines, charts and labels.

Pure functions of engine data (no Textual), so the screens stay small and these stay testable.
Everything here returns plain strings: callers wrap them in `rich.text.Text`, never markup.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ..engine import Game, Story, Variable
from ..engine.textsafe import one_line
from ..profile import approach_variables

SPARKS = "▁▂▃▄▅▆▇█"
EIGHTHS = " ▏▎▍▌▋▊▉█"
COLUMN = " ▁▂▃▄▅▆▇█"


def _fraction(value: float, lo: float, hi: float) -> float:
    if hi <= lo:
        return 1.0 if value >= hi else 0.0
    return max(0.0, min(1.0, (value - lo) / (hi - lo)))


def bar(value: float, lo: float, hi: float, width: int) -> str:
    """A horizontal bar `width` cells wide, in eighths of a cell, padded with a light shade."""
    if width <= 0:
        return ""
    eighths = round(_fraction(value, lo, hi) * width * 8)
    full, part = divmod(eighths, 8)
    out = "█" * full
    if part and full < width:
        out += EIGHTHS[part]
    return out + "░" * (width - len(out))


def resample(values: Sequence[float], width: int) -> list[float]:
    """At most `width` values: the last value of each of `width` equal runs of the series."""
    n = len(values)
    if width <= 0 or n == 0:
        return []
    if n <= width:
        return list(values)
    return [values[min(n - 1, ((i + 1) * n) // width - 1)] for i in range(width)]


def sparkline(values: Sequence[float], lo: float, hi: float, width: int) -> str:
    """One row of block characters, on a fixed scale from `lo` to `hi`."""
    top = len(SPARKS) - 1
    return "".join(SPARKS[round(_fraction(v, lo, hi) * top)] for v in resample(values, width))


def chart(values: Sequence[float], lo: float, hi: float, width: int, height: int) -> list[str]:
    """A column chart `height` rows tall (top row first), one column per value (resampled).

    The floor is `lo`: a value there draws nothing, so on a scale from zero a zero is empty
    and every column's height is its value."""
    if width <= 0 or height <= 0:
        return []
    cols = resample(values, width)
    rows = []
    for row in range(height - 1, -1, -1):
        line = []
        for v in cols:
            filled = _fraction(v, lo, hi) * height * 8 - row * 8
            line.append(" " if filled <= 0 else COLUMN[min(8, max(1, round(filled)))])
        rows.append("".join(line).ljust(width))
    return rows


def columns(count: int, width: int, widest: int = 6) -> list[int]:
    """Which value each column of a chart `width` wide shows: each repeated (up to `widest`
    times) when there are few, the last of each equal run when there are more than fit."""
    if count <= 0 or width <= 0:
        return []
    if count <= width:
        repeat = max(1, min(widest, width // count))
        return [i for i in range(count) for _ in range(repeat)]
    return [min(count - 1, ((c + 1) * count) // width - 1) for c in range(width)]


def peers(story: Story, var: Variable) -> list[Variable]:
    """The variables a chart of `var` is compared with: every case's copy of a character
    variable; the counters of the player's approach (support against enforcement); the
    story's numbers in the same group; else the variable alone."""
    if var.character is not None:
        return [v for v in story.variables if v.character is not None and v.base == var.base]
    approach = approach_variables(story)
    if var in approach:
        return approach
    if var.group:
        return [
            v
            for v in story.variables
            if v.character is None and v.group == var.group and v.track and is_numeric(v)
        ]
    return [var]


def scale(var: Variable, values: Iterable[float]) -> tuple[float, float]:
    """One scale for a comparison: zero at the floor (or the lowest value, if below zero); at
    the top the variable's own maximum for a bar, else the largest value, so 5, 3 and 1 draw
    as 5, 3 and 1."""
    seen = [float(v) for v in values]
    lo = min([0.0, *seen])
    if var.display == "bar" and var.max - var.min <= 100:
        hi = max([float(var.max), *seen])
    else:
        hi = max([lo, *seen])
    return lo, hi if hi > lo else lo + 1


def group_scale(game: Game, var: Variable, opening: Sequence[Any] | None = None) -> tuple[float, float]:
    """The scale shared by `var` and its peers over the whole game so far."""
    values: list[float] = []
    for peer in peers(game.story, var):
        values += series(game, peer, opening) or ([game.v[peer.slot]] if is_numeric(peer) else [])
    return scale(var, values)


def direction(var: Variable, value: Any, reference: Any) -> int:
    """1 if `value` is better than `reference` by the variable's own measure, -1 if worse,
    0 if neither (the same, or not a number)."""
    if (
        isinstance(value, bool)
        or isinstance(reference, bool)
        or not isinstance(value, int | float)
        or not isinstance(reference, int | float)
        or value == reference
    ):
        return 0
    up = 1 if value > reference else -1
    return -up if var.better == "lower" else up


def runs(cells: str, keys: Sequence[int]) -> list[tuple[str, int]]:
    """`cells` cut into runs of equal key (e.g. each cell's direction), so that drawing them
    takes one styled piece per run rather than one per cell."""
    out: list[tuple[str, int]] = []
    for cell, key in zip(cells, keys, strict=False):
        if out and out[-1][1] == key:
            out[-1] = (out[-1][0] + cell, key)
        else:
            out.append((cell, key))
    return out


@dataclass(frozen=True)
class Mark:
    """Something that happened to a case in a turn, to be marked on its charts."""

    turn: int
    text: str


def case_marks(
    game: Game, char_id: str, opening: Sequence[Any] | None = None, *, endings: bool = True
) -> list[Mark]:
    """What happened to a case, turn by turn: changes of its tracked counts (e.g. Arrests +1)
    and states (e.g. Status: custody), and its ending (unless `endings` is False)."""
    story = game.story
    marks: list[Mark] = []
    for var in story.variables:
        if var.character != char_id or not var.track or var.display in ("hidden", "bar"):
            continue
        values = [v for _turn, v in game.series(var.name)]
        if opening is not None and values:
            values[0] = opening[var.slot]
        values.append(game.v[var.slot])
        for turn in range(len(values) - 1):
            old, new = values[turn], values[turn + 1]
            if old == new:
                continue
            if is_numeric(var):
                marks.append(Mark(turn, f"{var.label} {new - old:+d}"))
            else:
                marks.append(Mark(turn, f"{var.label}: {number(new)}"))
    if endings:
        by_id = {e.id: e for e in story.endings}
        for turn, eid in game.outcomes:
            end = by_id.get(eid)
            if end is not None and end.character == char_id:
                marks.append(Mark(turn, f"Ending: {end.title}"))
    return sorted(marks, key=lambda m: m.turn)


def turn_number(story: Story, turn: int) -> str:
    """A turn's number as the story counts it ('5' for Week 5), for a chart's axis."""
    return turn_name(story, turn).rsplit(" ", 1)[-1]


def turn_unit(story: Story) -> str:
    """What the story calls a turn ('Week'), for a chart's axis."""
    return turn_name(story, 0).rsplit(" ", 1)[0]


def ticks(story: Story, cols: Sequence[int], last_turn: int) -> list[tuple[int, str]]:
    """Where to label a chart's turns: (column, label), spaced so that labels never touch."""
    if not cols:
        return []
    width = len(cols)
    turns = min(last_turn, cols[-1]) + 1
    label_width = len(turn_number(story, max(0, turns - 1))) + 1
    per_turn = width / max(1, cols[-1] + 1)
    step = next(
        (s for s in (1, 2, 4, 5, 10, 13, 20, 26, 50, 100, 200, 500, 1000) if s * per_turn >= label_width),
        max(1, turns),
    )
    out: list[tuple[int, str]] = []
    first_column: dict[int, int] = {}
    for c, index in enumerate(cols):
        first_column.setdefault(index, c)
    for index in range(0, turns):
        number_ = turn_number(story, index)
        if (index == 0 or (number_.isdigit() and int(number_) % step == 0)) and index in first_column:
            column = first_column[index]
            if out and column - out[-1][0] < len(out[-1][1]) + 1:
                continue
            out.append((column, number_))
    return out


def number(value: Any) -> str:
    """A value as players read it: yes/no for flags, underscores in enums as spaces."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, str):
        return value.replace("_", " ")
    return str(value)


def is_numeric(var: Variable) -> bool:
    return var.type == "int"


def clock_slots(story: Story) -> set[int]:
    """The turn counter and budget: shown in the status line, not in panels."""
    turns = story.turns
    if turns is None:
        return set()
    return {s for s in (turns.counter, turns.budget) if s is not None}


def character_variables(story: Story, char_id: str, *, hidden: bool = False) -> list[Variable]:
    """A character's variables in declaration order; hidden ones only when asked for."""
    return [v for v in story.variables if v.character == char_id and (hidden or v.display != "hidden")]


def story_variables(story: Story) -> list[Variable]:
    """The visible variables that belong to no character, except the clock."""
    clock = clock_slots(story)
    return [
        v for v in story.variables if v.character is None and v.display != "hidden" and v.slot not in clock
    ]


def groups(story: Story) -> list[str]:
    """Variable groups with at least one visible tracked number, in declaration order."""
    out: list[str] = []
    for v in story.variables:
        if v.group and v.track and v.display != "hidden" and is_numeric(v) and v.group not in out:
            out.append(v.group)
    return out


def group_title(group: str) -> str:
    return group.replace("_", " ").replace("-", " ").capitalize()


def series(game: Game, var: Variable, opening: Sequence[Any] | None = None) -> list[float]:
    """A tracked number's value at the start of every turn, then its value now.

    The engine records turn 0 before the start passage's effects; `opening` (the values once
    the first passage is shown) replaces that first point, so a story's set-up isn't charted
    as if it had happened in play."""
    if not var.track or not is_numeric(var):
        return []
    values = [v for _turn, v in game.series(var.name)]
    if opening is not None and values:
        values[0] = opening[var.slot]
    values.append(game.v[var.slot])
    return values


def turn_name(story: Story, turn: int) -> str:
    """What the story calls a turn: 'Week 5' from the counter's label, else 'Turn 6'."""
    turns = story.turns
    if turns is not None and turns.counter is not None:
        var = story.variables[turns.counter]
        value = min(var.max, var.initial + turn) if is_numeric(var) else turn + 1
        return f"{var.label} {value}"
    return f"Turn {turn + 1}"


def clock(game: Game) -> list[str]:
    """The status line's parts: e.g. ['Day 3', 'Hours left today: 5']."""
    story = game.story
    turns = story.turns
    if turns is None:
        return []
    parts = []
    if turns.counter is not None:
        var = story.variables[turns.counter]
        parts.append(f"{var.label} {number(game.v[var.slot])}")
    if turns.budget is not None:
        var = story.variables[turns.budget]
        parts.append(f"{var.label}: {number(game.v[var.slot])}")
    return parts


def value_text(var: Variable, value: Any) -> str:
    if var.type == "int" and var.display == "bar":
        return f"{value}/{var.max}"
    return number(value)


def date_text(stamp: str) -> str:
    """A stored time ('2026-12-02 04:18[:09]') as players read it, day first with the year:
    '2 Dec 2026, 04:18'. Anything else is shown as it is, made safe for the terminal."""
    for layout in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"):
        try:
            when = time.strptime(stamp.strip()[:19], layout)
        except ValueError:
            continue
        return f"{when.tm_mday} {time.strftime('%b %Y, %H:%M', when)}"
    return one_line(stamp)


def ending_line(title: str, category: str = "") -> str:
    """An ending as players read it: its title alone. Categories such as 'bad' are for
    authors and playtests; beside a person's story they read as a verdict."""
    return title
