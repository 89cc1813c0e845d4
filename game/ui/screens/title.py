"""The title screen: new game, continue, load, endings, help, support; the story's notes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from ...engine import Game
from ...engine.textsafe import terminal_safe
from .. import render
from ..containers import BackgroundOnly, Column, Row, ScrollColumn
from ..menu import Menu

if TYPE_CHECKING:
    from ..app import StraightApp
    from ..commands import Command


class TitleScreen(BackgroundOnly, Screen[None]):
    """The first screen players see."""

    BINDINGS = [
        Binding("n", "new_game", "New", id="new"),
        Binding("c", "continue_game", "Continue", id="continue"),
        Binding("l", "load_game", "Load", id="load"),
        Binding("e", "endings", "Endings", id="endings"),
        Binding("s", "support", "Support", id="support"),
        Binding("q", "quit", "Quit", id="quit"),
    ]

    app: StraightApp

    def __init__(self, classes: str = "") -> None:
        super().__init__(classes=classes)
        self.autosave: Game | None = None
        self.autosave_problem = ""

    def compose(self) -> ComposeResult:
        story = self.app.session.story
        about = story.about if story is not None else {}
        with Row(id="title-body"):
            with Column(id="title-side"):
                title = story.title if story else self.app.TITLE
                yield Static(Text(terminal_safe(title)), id="title-name")
                if title != self.app.TITLE:
                    yield Static(Text(self.app.TITLE), id="title-game")
                yield Menu(id="menu")
            with ScrollColumn(id="title-about"):
                if about.get("description"):
                    yield Static(Text(terminal_safe(str(about["description"]))), id="about-description")
                notes = about.get("content_notes") or []
                if notes:
                    text = Text("Content notes: ", style="bold")
                    text.append(terminal_safe(", ".join(str(n) for n in notes)) + ".")
                    text.append(
                        "\nSupport lines are on the menu (S) if any of this touches your life.",
                        style="italic",
                    )
                    yield Static(text, id="about-notes")
                if about.get("disclaimer"):
                    yield Static(Text(terminal_safe(str(about["disclaimer"]))), id="about-disclaimer")
        yield Footer()

    def on_screen_resume(self) -> None:
        self.refresh_menu()

    def refresh_menu(self) -> None:
        session = self.app.session
        if not self.query("#menu"):
            return
        self.autosave, self.autosave_problem = session.find_autosave()
        items = [("new_game", "New game")]
        if self.autosave is not None:
            where = render.clock(self.autosave)[:1]
            label = "Continue"
            if self.autosave.ended:
                label += " (finished)"
            elif where:
                label += f" ({where[0]})"
            items.append(("continue_game", label))
        items += [
            ("load_game", "Load game"),
            ("endings", "Endings"),
            ("help", "Help"),
            ("settings", "Settings"),
            ("support", "Support lines"),
            ("quit", "Quit"),
        ]
        menu = self.query_one("#menu", Menu)
        menu.set_items(items, highlighted=1 if self.autosave is not None else 0)
        menu.focus()
        self.refresh_bindings()

    @on(Menu.Selected, "#menu")
    def _menu(self, event: Menu.Selected) -> None:
        action = event.item
        if action == "help":
            self.app.action_help()
        elif action == "settings":
            self.app.action_settings()
        else:
            getattr(self, f"action_{action}")()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "continue_game":
            return self.autosave is not None
        return True

    def action_new_game(self) -> None:
        autosave = self.autosave
        if autosave is None or autosave.ended or not autosave.log:
            self.app.start_new_game()
            return
        from .dialogs import ConfirmDialog

        def answered(yes: bool | None) -> None:
            if yes:
                self.app.start_new_game()

        self.app.push_screen(
            ConfirmDialog(
                "Start a new game?",
                "Your game in progress is autosaved; a new game replaces that autosave. "
                "Named saves and quick saves are kept.",
                yes="New game",
                no="Cancel",
            ),
            answered,
        )

    def action_continue_game(self) -> None:
        game = self.autosave
        if game is None:
            if self.autosave_problem:
                self.app.say(f"Can't continue: {self.autosave_problem}", "error")
            return
        self.autosave = None
        self.app.session.adopt(game)
        self.app.show_play()

    def action_load_game(self) -> None:
        self.app.action_load_game()

    def action_endings(self) -> None:
        self.app.action_gallery()

    def action_support(self) -> None:
        self.app.action_support()

    def action_quit(self) -> None:
        self.app.exit()

    def palette_commands(self) -> list[Command]:
        from ..commands import Command

        out = [Command("New game", "Start the story from the beginning", self.action_new_game)]
        if self.autosave is not None:
            out.append(Command("Continue", "Resume the autosaved game", self.action_continue_game))
        out.append(Command("Load game", "Load a saved game", self.action_load_game))
        return out
