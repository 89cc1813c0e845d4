"""The review at the end: each case's ending, the story's own results, and how you worked
compared with your earlier runs (from the profile)."""

from __future__ import annotations

from typing import Any

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Footer, Static

from ...engine import Game, Variable
from ...engine.textsafe import terminal_safe
from ...profile import run_key
from .. import render
from .dialogs import BackScreen


def _change(game: Game, var: Variable, opening: list[Any] | None) -> tuple[str, int]:
    """A variable's year ('2 → 7/10') and whether that was for the better (1) or worse (-1)."""
    now = game.v[var.slot]
    values = render.series(game, var, opening) if var.track else []
    start = values[0] if values else None
    if start is not None and start != now:
        return f"{render.number(start)} → {render.value_text(var, now)}", render.direction(var, now, start)
    return render.value_text(var, now), 0


def _append_change(out: Text, change: tuple[str, int], moves: tuple[str | Style, str | Style]) -> None:
    text, move = change
    out.append(text, style=moves[0] if move > 0 else moves[1] if move < 0 else "")
    out.append("\n")


def review_text(
    game: Game,
    past_runs: list[dict[str, Any]],
    opening: list[Any] | None = None,
    moves: tuple[str | Style, str | Style] = ("", ""),
) -> Text:
    """The whole review as text; changes for the better and the worse in `moves` styles."""
    story = game.story
    out = Text()
    if game.ending is not None:
        out.append(render.ending_line(game.ending.title, game.ending.category), style="bold")
        out.append(
            f"\n{story.title}, after {game.turn} {'turn' if game.turn == 1 else 'turns'}"
            if story.turns is None
            else f"\n{story.title}, {render.turn_name(story, game.turn)}"
        )
        out.append("\n\n")

    endings = game.character_endings()
    if story.characters:
        out.append("Each case\n", style="bold")
    for char in story.characters:
        end = endings.get(char.id)
        out.append(f"  {char.name}: ", style="bold")
        out.append(render.ending_line(end.title, end.category) if end else "no ending of their own")
        out.append("\n")
        for var in render.character_variables(story, char.id, hidden=True):
            if var.display == "hidden" and not var.track:
                continue
            style = "italic" if var.display == "hidden" else ""
            out.append(f"     {var.label}: ", style=style)
            _append_change(out, _change(game, var, opening), moves)
    if any(v.display == "hidden" and v.track for v in story.variables if v.character):
        out.append("  (In italics: what was never shown during play.)\n", style="dim")

    overall = render.story_variables(story)
    if overall:
        out.append("\nOverall\n", style="bold")
        for var in overall:
            out.append(f"  {var.label}: ")
            _append_change(out, _change(game, var, opening), moves)

    approach = render.approach_variables(story)
    if approach:
        out.append("\nHow you worked\n", style="bold")
        earlier = [
            r for r in past_runs if r.get("key") != run_key(game) and isinstance(r.get("approach"), dict)
        ]
        for var in approach:
            now = game.v[var.slot]
            past = [
                r["approach"][var.name]
                for r in earlier
                if isinstance(r["approach"].get(var.name), int | float)
            ]
            out.append(f"  {var.label}: {now}")
            if past:
                avg = sum(past) / len(past)
                word = "more than" if now > avg else "fewer than" if now < avg else "the same as"
                out.append(f"  ({word} your earlier average of {avg:.1f})", style="dim")
            out.append("\n")
        total = sum(game.v[v.slot] for v in approach)
        if len(approach) > 1 and total:
            shares = " · ".join(f"{v.label} {round(100 * game.v[v.slot] / total)}%" for v in approach)
            out.append(f"  This run: {shares}\n")
            past_totals = []
            for r in earlier:
                values = [r["approach"].get(v.name) for v in approach]
                if all(isinstance(x, int | float) for x in values) and sum(values):
                    past_totals.append(values)
            if past_totals:
                sums = [sum(col) for col in zip(*past_totals, strict=True)]
                grand = sum(sums)
                shares = " · ".join(
                    f"{v.label} {round(100 * s / grand)}%" for v, s in zip(approach, sums, strict=True)
                )
                out.append(f"  Earlier runs ({len(past_totals)}): {shares}\n", style="dim")
        if not earlier:
            out.append(
                "  This is your first finished run: next time you'll see how you compare.\n", style="dim"
            )

    finished = [r for r in past_runs if r.get("key") != run_key(game)]
    if finished:
        out.append("\nYour earlier runs\n", style="bold")
        for r in finished[-5:]:
            finished = render.date_text(str(r.get("finished_at", "")))
            out.append(f"  {finished}  {terminal_safe(str(r.get('title', r.get('ending', ''))))}\n")
    out.rstrip()
    return out


class ReviewScreen(BackScreen):
    """How it ended."""

    COMPONENT_CLASSES = {"review--better", "review--worse"}

    def compose(self) -> ComposeResult:
        session = self.app.session
        game = session.game
        with Vertical(classes="sheet"):
            yield Static(Text("Review", style="bold"), classes="sheet-title")
            with VerticalScroll(id="review-scroll"):
                if game is None:
                    yield Static(Text("No game yet."))
                else:
                    yield Static(id="review-text")
        yield Footer()

    def on_mount(self) -> None:
        # The review tells every ending: from here on the panels may show them too.
        session = self.app.session
        session.unread_endings = set()
        game = session.game
        if game is not None:
            # Written once mounted, when the theme's colours for better and worse are known.
            moves = (
                self.get_component_rich_style("review--better", partial=True),
                self.get_component_rich_style("review--worse", partial=True),
            )
            runs = session.profile.runs(game.story.id)
            for static in self.query("#review-text").results(Static):
                static.update(review_text(game, runs, session.opening(game), moves))
        for scroll in self.query("#review-scroll"):
            scroll.focus()
