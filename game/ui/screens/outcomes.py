"""The outcomes dashboard: a tab per case and per pathway (variable group), charted over time."""

from __future__ import annotations

from typing import Any

from rich.style import Style
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


def _axis(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.1f}"


class Chart(Widget):
    """One tracked number over every turn so far: a column chart on its comparison group's
    scale, each column coloured by whether it is better or worse than the start, with the
    turns along the axis and what happened to the case marked under them."""

    COMPONENT_CLASSES = {"chart--better", "chart--worse", "chart--mark"}

    def __init__(
        self,
        game: Game,
        var: Variable,
        title: str,
        opening: list[Any] | None,
        marks: list[render.Mark] | None = None,
    ) -> None:
        super().__init__(classes="chart")
        self.game = game
        self.opening = opening
        self.var = var
        self.title = title
        self.marks = marks or []
        self._moves: tuple[Style, Style] | None = None
        if var.description:
            self.tooltip = Content(var.description)

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
        out.append(
            summary + "\n", style=self._move_style(render.direction(var, now, values[0]) if values else 0)
        )
        if not values:
            out.append("(not recorded yet)", style="italic")
            return out
        lo, hi = render.group_scale(game, var, self.opening)
        gutter = max(len(_axis(lo)), len(_axis(hi)), len(render.turn_unit(game.story))) + 2
        plot = max(1, width - gutter)
        cols = render.columns(len(values), plot)
        shown = [values[i] for i in cols]
        rows = render.chart(shown, lo, hi, len(cols), CHART_ROWS)
        moves = [render.direction(var, v, values[0]) for v in shown]
        for i, row in enumerate(rows):
            label = _axis(hi) if i == 0 else ""
            out.append(label.rjust(gutter - 2) + " ┤" if label else " " * (gutter - 1) + "│", style="dim")
            for cells, move in render.runs(row, moves):
                out.append(cells, style=self._move_style(move))
            out.append("\n")
        self._draw_axis(out, cols, gutter, _axis(lo))
        return out

    def _move_style(self, move: int) -> str | Style:
        if not move:
            return "bold"
        if self._moves is None:
            self._moves = (
                self.get_component_rich_style("chart--better", partial=True),
                self.get_component_rich_style("chart--worse", partial=True),
            )
        return self._moves[0] if move > 0 else self._moves[1]

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._moves = None

    def _draw_axis(self, out: Text, cols: list[int], gutter: int, floor: str) -> None:
        """The floor line with a tick at each labelled turn, the labels, and the marks."""
        story = self.game.story
        ticks = render.ticks(story, cols, self.game.turn)
        at = {c for c, _label in ticks}
        out.append(floor.rjust(gutter - 2) + " └", style="dim")
        out.append("".join("┬" if c in at else "─" for c in range(len(cols))), style="dim")
        labels = [" "] * len(cols)
        for c, label in ticks:
            for k, ch in enumerate(label):
                if c + k < len(labels):
                    labels[c + k] = ch
        out.append(
            "\n" + render.turn_unit(story).rjust(gutter - 1) + " " + "".join(labels).rstrip(), style="dim"
        )
        if self.marks:
            first: dict[int, int] = {}
            for c, index in enumerate(cols):
                first.setdefault(index, c)
            row = [" "] * len(cols)
            for mark in self.marks:
                c = first.get(mark.turn)
                if c is None:  # resampled away: the column that covers it
                    c = next((k for k, index in enumerate(cols) if index >= mark.turn), None)
                if c is not None:
                    row[c] = "▲"
            if "▲" in row:
                out.append("\n" + " " * gutter, style="dim")
                out.append(
                    "".join(row).rstrip(), style=self.get_component_rich_style("chart--mark", partial=True)
                )


def marks_text(game: Game, marks: list[render.Mark]) -> Text:
    """The marks under a case's charts, in words: 'Week 12: Arrests +1, Status: custody'."""
    out = Text(end="")
    by_turn: dict[int, list[str]] = {}
    for mark in marks:
        by_turn.setdefault(mark.turn, []).append(mark.text)
    if not by_turn:
        return out
    out.append("▲ marks what happened:\n", style="bold")
    for turn, texts in by_turn.items():
        out.append(f"{render.turn_name(game.story, turn)}: ", style="dim")
        out.append(", ".join(texts) + "\n")
    out.rstrip()
    return out


def group_rows(
    game: Game,
    group: str,
    width: int = 60,
    opening: list[Any] | None = None,
    moves: tuple[str | Style, str | Style] = ("bold", "bold"),
) -> Text:
    """A pathway across the caseload: per variable, one sparkline row per case, every case on
    the same scale; each cell in `moves` (better, worse) style when it differs from the start."""
    story = game.story
    chars = {c.id: c.name for c in story.characters}
    variables = [
        v
        for v in story.variables
        if v.group == group and v.track and v.display != "hidden" and render.is_numeric(v)
    ]
    name_width = min(16, max([len(chars.get(v.character or "", v.label)) for v in variables] + [4]))
    out = Text(no_wrap=True, overflow="ellipsis", end="")
    seen: list[str] = []
    room = max(4, min(60, width - name_width - 12))
    cols: list[int] = []
    for n, var in enumerate(variables):
        key = var.base if var.character else var.name
        if key not in seen:
            seen.append(key)
            if len(seen) > 1:
                out.append("\n")
            out.append(var.label, style="bold")
            lo, hi = render.group_scale(game, var, opening)
            out.append(
                f"  (scale {_axis(lo)} to {_axis(hi)}"
                f"{', lower is better' if var.better == 'lower' else ''})\n",
                style="dim",
            )
        values = render.series(game, var, opening)
        name = chars.get(var.character, "") if var.character else "Overall"
        name = name if len(name) <= name_width else name[: name_width - 1] + "…"
        # Every row of a pathway has the same turns, so the rows line up at any width.
        cols = render.columns(len(values), room, widest=2)
        shown = [values[i] for i in cols]
        out.append(name.ljust(name_width) + "  ", style="dim")
        spark = render.sparkline(shown, lo, hi, len(cols))
        for cells, move in render.runs(spark, [render.direction(var, v, values[0]) for v in shown]):
            out.append(cells, style=moves[0] if move > 0 else moves[1] if move < 0 else "bold")
        out.append(f"  {render.value_text(var, game.v[var.slot])}\n")
        following = variables[n + 1] if n + 1 < len(variables) else None
        if cols and (following is None or (following.base if following.character else following.name) != key):
            labels = [" "] * len(cols)
            for c, label in render.ticks(story, cols, game.turn):
                for k, ch in enumerate(label):
                    if c + k < len(labels):
                        labels[c + k] = ch
            out.append(
                render.turn_unit(story).ljust(name_width) + "  " + "".join(labels).rstrip() + "\n",
                style="dim",
            )
    out.rstrip()
    return out


class GroupView(Widget):
    COMPONENT_CLASSES = {"chart--better", "chart--worse"}

    def __init__(self, game: Game, group: str, opening: list[Any] | None) -> None:
        super().__init__(classes="group-view")
        self.game = game
        self.group = group
        self.opening = opening

    def render(self) -> Text:
        moves = (
            self.get_component_rich_style("chart--better", partial=True),
            self.get_component_rich_style("chart--worse", partial=True),
        )
        return group_rows(self.game, self.group, max(20, self.size.width), self.opening, moves)


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
        session = self.app.session
        opening = session.opening(game)
        # An ending not yet read in the story's own words stays out of sight here too.
        endings = {
            cid: end for cid, end in game.character_endings().items() if cid not in session.unread_endings
        }
        with TabbedContent(id="outcome-tabs"):
            for char in story.characters:
                with TabPane(Content(char.name), id=f"case-{char.index}"), VerticalScroll():
                    end = endings.get(char.id)
                    if end is not None:
                        yield Static(
                            Text(f"Ending: {render.ending_line(end.title, end.category)}", style="italic")
                        )
                    marks = render.case_marks(game, char.id, opening, endings=char.id in endings)
                    variables = render.character_variables(story, char.id)
                    charted = [v for v in variables if v.track and render.is_numeric(v)]
                    for var in charted:
                        yield from _described(var)
                        yield Chart(game, var, var.label, opening, marks)
                    rest = [v for v in variables if v not in charted]
                    if marks and charted:
                        yield Static(marks_text(game, marks), classes="state-lines")
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
                        yield from _described(var)
                        yield Chart(game, var, var.label, opening)
                    rest = [v for v in overall if v not in charted]
                    if rest:
                        yield Static(state_lines(game, rest), classes="state-lines")


def _described(var: Variable) -> ComposeResult:
    """A chart's description, when the story gives one (also its tooltip)."""
    if var.description:
        yield Static(Text(var.description, style="dim italic"), classes="chart-description")
