"""Small shared screens: a yes/no question, and the base for read-only screens."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Input, Static

if TYPE_CHECKING:
    from ..app import StraightApp


def close(screen: Screen[Any], result: Any = None) -> None:
    """Dismiss a screen once: a burst of keys or clicks can ask twice before it has gone. Only
    the screen in front: one behind a dialog (Textual counts it as current, as it shows through)
    would pop the dialog in its place and keep its own answer, which it would then give twice."""
    if screen.app.screen is screen:
        screen.dismiss(result)


class ConfirmDialog(ModalScreen[bool]):
    """Ask a question; dismisses with True (yes) or False (no)."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", show=False),
        Binding("n", "answer(False)", "No", show=False),
        Binding("escape", "answer(False)", "Cancel"),
    ]

    def __init__(
        self, title: str, body: str, *, yes: str = "Yes", no: str = "No", safe: bool = False
    ) -> None:
        """`safe`: Enter answers no, so a key pressed again and again never says yes."""
        super().__init__()
        self._title, self._body, self._yes, self._no = title, body, yes, no
        self._safe = safe

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self._title, style="bold"), classes="dialog-title")
            yield Static(Text(self._body), classes="dialog-body")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self._yes, variant="primary", id="yes", compact=True)
                yield Button(self._no, id="no", compact=True)

    def on_mount(self) -> None:
        for button in self.query("#no" if self._safe else "#yes"):
            button.focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        close(self, event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        close(self, yes)


class NameDialog(ModalScreen[str | None]):
    """Ask for a name, the current one selected so typing replaces it; dismisses with the
    name (Enter) or None (Escape)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, body: str, value: str = "") -> None:
        super().__init__()
        self._title, self._body, self._value = title, body, value

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(self._title, style="bold"), classes="dialog-title")
            yield Static(Text(self._body), classes="dialog-body")
            yield Input(self._value, id="name", max_length=40, select_on_focus=True)

    def on_mount(self) -> None:
        for name in self.query("#name").results(Input):
            name.focus()
            name.select_all()

    @on(Input.Submitted, "#name")
    def _submitted(self, event: Input.Submitted) -> None:
        close(self, event.value.strip() or None)

    def action_cancel(self) -> None:
        close(self, None)


class BackScreen(Screen[None]):
    """A read-only screen that Escape (or q) closes."""

    BINDINGS = [
        Binding("escape", "back", "Back", id="back"),
        Binding("q", "back", "Back", show=False, id="back-alt"),
    ]

    app: StraightApp

    def action_back(self) -> None:
        close(self)
