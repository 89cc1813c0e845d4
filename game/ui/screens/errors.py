"""The story's errors, on screen, while the game waits for the author to fix them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from ...engine import Problem
from ...engine.textsafe import one_line
from .dialogs import close

if TYPE_CHECKING:
    from ..app import StraightApp


class StoryErrorsScreen(ModalScreen[None]):
    """Every error with its file and line; closes by itself once the story loads again."""

    BINDINGS = [
        Binding("r", "recheck", "Check again", id="recheck"),
        Binding("escape", "play_on", "Play on", id="play-on"),
        Binding("q", "app.quit", "Quit", id="quit"),
    ]

    app: StraightApp

    def __init__(self, story_dir: Path, problems: list[Problem], *, can_dismiss: bool) -> None:
        super().__init__()
        self.story_dir = story_dir
        self.problems = problems
        self.can_dismiss = can_dismiss
        self.resolved = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="sheet", id="errors-sheet"):
            yield Static(id="errors-title")
            with VerticalScroll(id="errors-scroll"):
                yield Static(id="errors-list")
            yield Static(id="errors-hint")
        yield Footer()

    def on_mount(self) -> None:
        if self.query("#errors-list"):
            self.show_problems(self.problems)

    def show_problems(self, problems: list[Problem]) -> None:
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"] or problems
        title = Text(
            f"The story in {one_line(str(self.story_dir))} has {len(errors)} error{'s' * (len(errors) != 1)}",
            style="bold",
        )
        self.query_one("#errors-title", Static).update(title)
        listing = Text()
        for p in errors:
            listing.append(f"{one_line(p.file)}:{p.line}:{p.column}", style="bold")
            listing.append(f": {p.severity}: ")
            listing.append(one_line(p.message))
            listing.append("\n")
        listing.rstrip()
        self.query_one("#errors-list", Static).update(listing)
        hint = "Fix the files and save them: the game checks every second and carries on by itself."
        if self.can_dismiss:
            hint += " Esc plays on with the last version that worked."
        self.query_one("#errors-hint", Static).update(Text(hint, style="italic"))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "play_on":
            return self.can_dismiss
        return True

    def action_recheck(self) -> None:
        self.app.action_reload_story()

    def action_play_on(self) -> None:
        if self.can_dismiss:
            self.app._errors_screen = None
            close(self)

    def on_screen_resume(self) -> None:
        # The story was fixed while another screen (help, say) was on top of this one.
        if self.resolved:
            close(self)
