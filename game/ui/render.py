"""Text drawings of the game state: bars, sparklines, charts and labels.

Pure functions of engine data (no Textual), so the screens stay small and these stay testable.
Everything here returns plain strings: callers wrap them in `rich.text.Text`, never markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..engine import Game, Story, Variable

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
    """A column chart `height` rows tall (top row first), one column per value (resampled)."""
    if width <= 0 or height <= 0:
        return []
    cols = resample(values, width)
    rows = []
    for row in range(height - 1, -1, -1):
        line = []
        for v in cols:
            filled = _fraction(v, lo, hi) * height * 8 - row * 8
            if filled <= 0:
                # Keep a floor under a zero so the series is still visible.
                line.append("▁" if row == 0 else " ")
            else:
                line.append(COLUMN[min(8, max(1, round(filled)))])
        rows.append("".join(line).ljust(width))
    return rows


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
    return [v for v in story.variables
            if v.character is None and v.display != "hidden" and v.slot not in clock]


def approach_variables(story: Story) -> list[Variable]:
    """Counters of the player's way of working: story-level whole numbers named `*_actions`."""
    return [v for v in story.variables
            if v.character is None and v.type == "int" and v.name.endswith("_actions")]


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


def ending_line(title: str, category: str) -> str:
    return f"{title} ({category})" if category else title
