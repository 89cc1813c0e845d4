"""Settings: theme, text width, asking before a turn ends early, reduced motion.

Every change shows at once and is kept in the profile beside the saves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Label, Select, Static

from ...profile import TEXT_WIDTHS
from ..widgets import SafeSelect
from .dialogs import close

if TYPE_CHECKING:
    from ..app import StraightApp

WIDTH_NAMES = {
    60: "Narrow (60 columns)",
    72: "Medium (72 columns)",
    92: "Wide (92 columns)",
    0: "The whole window",
}


def turn_word(app: StraightApp) -> str:
    """What the story calls a turn, for the settings' wording ("week"; "turn" if it doesn't say)."""
    story = app.session.story
    turns = story.turns if story is not None else None
    if turns is None or turns.counter is None:
        return "turn"
    return story.variables[turns.counter].label.lower() or "turn"  # type: ignore[union-attr]


class SettingsScreen(ModalScreen[None]):
    """The player's settings, kept in the profile."""

    BINDINGS = [Binding("escape", "close", "Close", id="close")]

    app: StraightApp

    def compose(self) -> ComposeResult:
        profile = self.app.session.profile
        themes = sorted(self.app.available_themes)
        theme = self.app.theme if self.app.theme in themes else themes[0]
        width = int(profile.setting("text_width"))
        with Vertical(classes="dialog", id="settings"):
            yield Static(Text("Settings", style="bold"), classes="dialog-title")
            yield Label("Theme")
            yield SafeSelect(
                [(name, name) for name in themes], value=theme, allow_blank=False, id="theme", compact=True
            )
            yield Label("Width of the story text")
            yield SafeSelect(
                [(WIDTH_NAMES[w], w) for w in TEXT_WIDTHS],
                value=width,
                allow_blank=False,
                id="text-width",
                compact=True,
            )
            yield Checkbox(
                f"Ask before ending a {turn_word(self.app)} with time left",
                bool(profile.setting("confirm_end_turn")),
                id="confirm-end-turn",
                compact=True,
            )
            yield Checkbox(
                "Reduce motion (no animated scrolling)",
                bool(profile.setting("reduce_motion")),
                id="reduce-motion",
                compact=True,
            )
            if profile.read_only:
                yield Static(
                    Text(f"These can't be kept: {profile.problem}.", style="italic"), classes="dialog-body"
                )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Done", variant="primary", id="done", compact=True)

    def on_mount(self) -> None:
        self.query_one("#theme", Select).focus()

    @on(Select.Changed, "#theme")
    def _theme(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value in self.app.available_themes:
            self.app.theme = event.value

    @on(Select.Changed, "#text-width")
    def _width(self, event: Select.Changed) -> None:
        if isinstance(event.value, int):
            self._set("text_width", event.value)

    @on(Checkbox.Changed, "#confirm-end-turn")
    def _confirm(self, event: Checkbox.Changed) -> None:
        self._set("confirm_end_turn", event.value)

    @on(Checkbox.Changed, "#reduce-motion")
    def _motion(self, event: Checkbox.Changed) -> None:
        self._set("reduce_motion", event.value)

    def _set(self, name: str, value: bool | int) -> None:
        session = self.app.session
        if session.profile.setting(name) == value:
            return
        session.profile.set_setting(name, value)
        self.app.apply_settings()
        session.save_profile()

    @on(Button.Pressed, "#done")
    def _done(self) -> None:
        self.action_close()

    def action_close(self) -> None:
        close(self)
