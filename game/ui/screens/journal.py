"""The journal: the story so far, turn by turn: what you chose, what changed, what ended."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Footer, Static

from ...engine import Game
from .. import render
from .dialogs import BackScreen


def journal_text(
    game: Game, marks: dict[int, int], marks_from: int, opening: list[Any] | None = None
) -> Text:
    """The journal as text: one section per turn, newest last.

    `opening` is the state once the first passage was shown, so the story's own set-up
    doesn't read as something that happened in the first turn."""
    story = game.story
    shown = [v for v in story.variables if v.track and v.display != "hidden" and v.slot in story.tracked]
    chars = {c.id: c.name for c in story.characters}
    positions = {slot: i for i, slot in enumerate(story.tracked)}
    by_turn: dict[int, tuple[Any, ...]] = {turn: values for turn, values in game.history}
    if opening is not None and 0 in by_turn:
        by_turn[0] = tuple(opening[s] for s in story.tracked)
    endings = {e.id: e for e in story.endings}
    outcomes: dict[int, list[str]] = {}
    for turn, eid in game.outcomes:
        outcomes.setdefault(turn, []).append(eid)

    # Which turn each transcript entry belongs to, from the marks the session kept.
    starts = sorted((index, turn) for turn, index in marks.items())
    transcript = game.transcript
    choices: dict[int | None, list[str]] = {}
    mark_i = -1
    for i, (kind, line) in enumerate(transcript):
        while mark_i + 1 < len(starts) and starts[mark_i + 1][0] <= i:
            mark_i += 1
        if kind != "choice":
            continue
        turn = None if i < marks_from or mark_i < 0 else starts[mark_i][1]
        choices.setdefault(turn, []).append(line)

    out = Text()
    if None in choices:
        out.append("Earlier\n", style="bold")
        out.append(
            "(This game was resumed from a save of an older version of the story, so the "
            "turns of these choices are not known.)\n",
            style="italic",
        )
        for line in choices[None]:
            out.append(f"  › {line}\n")
        out.append("\n")
    for turn in range(0, game.turn + 1):
        out.append(render.turn_name(story, turn), style="bold")
        if turn == game.turn:
            out.append("  (now)", style="italic")
        out.append("\n")
        for line in choices.get(turn, []):
            out.append(f"  › {line}\n")
        for eid in outcomes.get(turn, []):
            end = endings.get(eid)
            if end is None:
                continue
            who = f"{chars.get(end.character, end.character)}: " if end.character else ""
            out.append(f"  ◆ {who}{render.ending_line(end.title, end.category)}\n", style="italic")
        before = by_turn.get(turn)
        after = by_turn.get(turn + 1)
        if after is None and turn == game.turn:
            after = tuple(game.v[s] for s in story.tracked)
        if before is not None and after is not None:
            for var in shown:
                pos = positions[var.slot]
                old, new = before[pos], after[pos]
                if old != new:
                    who = f"{chars[var.character]}: " if var.character in chars else ""
                    out.append(
                        f"    {who}{var.label} {render.number(old)} → {render.number(new)}\n", style="dim"
                    )
        if not choices.get(turn) and not outcomes.get(turn) and turn != game.turn:
            out.append("    (nothing recorded)\n", style="dim")
        out.append("\n")
    out.rstrip()
    return out


class JournalScreen(BackScreen):
    """What has happened so far."""

    def compose(self) -> ComposeResult:
        session = self.app.session
        game = session.game
        with Vertical(classes="sheet"):
            yield Static(Text("Journal", style="bold"), classes="sheet-title")
            with VerticalScroll(id="journal-scroll"):
                body = (
                    journal_text(game, session.marks, session.marks_from, session.opening(game))
                    if game
                    else Text("No game yet.")
                )
                yield Static(body, id="journal-text")
        yield Footer()

    def on_mount(self) -> None:
        for scroll in self.query("#journal-scroll"):
            scroll.focus()
            self.call_after_refresh(scroll.scroll_end, animate=False)
