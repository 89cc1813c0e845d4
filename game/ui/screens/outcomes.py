"""The outcomes dashboard: a tab per case and per pathway (variable group), charted over time."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Footer, Static, TabbedContent, TabPane

from ...engine import Game, Variable
from .. import render
from .dialogs import BackScreen

CHART_ROWS = 4


def _scale(var: Variable, values: list[float]) -> tuple[float, float]:
    if var.max - var.min <= 100:
        return var.min, var.max
    lo, hi = min(values), max(values)
    return (lo, hi) if hi > lo else (lo - 1, hi + 1)


def _axis(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.1f}"


class Chart(Widget):
    """One tracked number over every turn so far: a column chart with its scale and turns."""

    def __init__(self, game: Game, var: Variable, title: str, opening: list[Any] | None) -> None:
        super().__init__(classes="chart")
        self.game = game
        self.opening = opening
        self.var = var
        self.title = title

    def render(self) -> Text:
        game, var = self.game, self.var
        values = render.series(game, var, self.opening)
        width = max(8, self.size.width)
        out = Text(no_wrap=True, overflow="ellipsis", end="")
        now = values[-1] if values else game.v[var.slot]
        summary = f"now {render.number(now)}"
        if len(values) > 1 and values[0] != now:
            summary += f", from {render.number(values[0])}"
        title_room = max(1, width - len(summary) - 1)
        title = self.title if len(self.title) <= title_room else self.title[: title_room - 1] + "…"
        out.append(title, style="bold")
        out.append(" " * max(1, width - len(title) - len(summary)))
        out.append(summary + "\n")
        if not values:
            out.append("(not recorded yet)", style="italic")
            return out
        lo, hi = _scale(var, values)
        gutter = max(len(_axis(lo)), len(_axis(hi))) + 2
        plot = max(1, width - gutter)
        # Few turns: widen each column so the chart isn't a sliver at the left.
        repeat = max(1, min(6, plot // max(1, len(values))))
        widened = [v for v in values for _ in range(repeat)]
        rows = render.chart(widened, lo, hi, min(plot, len(widened)), CHART_ROWS)
        for i, row in enumerate(rows):
            label = _axis(hi) if i == 0 else _axis(lo) if i == len(rows) - 1 else ""
            out.append(label.rjust(gutter - 2) + " ┤" if label else " " * (gutter - 1) + "│", style="dim")
            out.append(row, style="bold")
            out.append("\n")
        story = game.story
        first, last = render.turn_name(story, 0), render.turn_name(story, game.turn)
        axis = first if first == last else first + " " * max(1, min(plot, len(widened)) - len(first) - len(last)) + last
        out.append(" " * gutter + axis, style="dim")
        return out


def group_rows(game: Game, group: str, width: int = 60, opening: list[Any] | None = None) -> Text:
    """A pathway across the caseload: per variable, one sparkline row per case."""
    story = game.story
    chars = {c.id: c.name for c in story.characters}
    variables = [v for v in story.variables
                 if v.group == group and v.track and v.display != "hidden" and render.is_numeric(v)]
    name_width = min(16, max([len(chars.get(v.character or "", v.label)) for v in variables] + [4]))
    out = Text(no_wrap=True, overflow="ellipsis", end="")
    seen: list[str] = []
    for var in variables:
        key = var.base if var.character else var.name
        if key not in seen:
            seen.append(key)
            if len(seen) > 1:
                out.append("\n")
            out.append(var.label, style="bold")
            out.append("\n")
        values = render.series(game, var, opening)
        lo, hi = _scale(var, values) if values else (var.min, var.max)
        name = chars.get(var.character, "") if var.character else "Overall"
        name = name if len(name) <= name_width else name[: name_width - 1] + "…"
        room = max(4, min(60, width - name_width - 12))
        # Every row of a pathway has the same turns, so the rows line up at any width.
        widened = values if len(values) * 2 > room else [v for v in values for _ in range(2)]
        spark_width = min(room, len(widened))
        out.append(name.ljust(name_width) + "  ", style="dim")
        out.append(render.sparkline(widened, lo, hi, spark_width).ljust(spark_width), style="bold")
        out.append(f"  {render.value_text(var, game.v[var.slot])}\n")
    out.rstrip()
    return out


class GroupView(Widget):
    def __init__(self, game: Game, group: str, opening: list[Any] | None) -> None:
        super().__init__(classes="group-view")
        self.game = game
        self.group = group
        self.opening = opening

    def render(self) -> Text:
        return group_rows(self.game, self.group, max(20, self.size.width), self.opening)


def state_lines(game: Game, variables: list[Variable]) -> Text:
    """Variables that aren't charted (words, flags, untracked numbers): one line each."""
    out = Text(end="")
    for var in variables:
        out.append(f"{var.label}: ", style="dim")
        out.append(render.value_text(var, game.v[var.slot]) + "\n")
    out.rstrip()
    return out


class OutcomesScreen(BackScreen):
    """Charts of every case, every pathway and the story's own numbers."""

    def compose(self) -> ComposeResult:
        game = self.app.session.game
        with Vertical(classes="sheet"):
            yield Static(Text("Outcomes", style="bold"), classes="sheet-title")
            if game is None:
                yield Static(Text("No game yet."))
            else:
                yield from self._tabs(game)
        yield Footer()

    def _tabs(self, game: Game) -> ComposeResult:
        story = game.story
        opening = self.app.session.opening(game)
        endings = game.character_endings()
        with TabbedContent(id="outcome-tabs"):
            for char in story.characters:
                with TabPane(Content(char.name), id=f"case-{char.index}"), VerticalScroll():
                    end = endings.get(char.id)
                    if end is not None:
                        yield Static(Text(f"Ending: {render.ending_line(end.title, end.category)}",
                                          style="italic"))
                    variables = render.character_variables(story, char.id)
                    charted = [v for v in variables if v.track and render.is_numeric(v)]
                    for var in charted:
                        yield Chart(game, var, var.label, opening)
                    rest = [v for v in variables if v not in charted]
                    if rest:
                        yield Static(state_lines(game, rest), classes="state-lines")
                    if not variables:
                        yield Static(Text("Nothing about this case is shown.", style="italic"))
            for i, group in enumerate(render.groups(story)):
                with TabPane(Content(render.group_title(group)), id=f"group-{i}"), VerticalScroll():
                    yield GroupView(game, group, opening)
            overall = render.story_variables(story)
            if overall:
                with TabPane(Content("Overall"), id="overall"), VerticalScroll():
                    charted = [v for v in overall if v.track and render.is_numeric(v)]
                    for var in charted:
                        yield Chart(game, var, var.label, opening)
                    rest = [v for v in overall if v not in charted]
                    if rest:
                        yield Static(state_lines(game, rest), classes="state-lines")
