"""Help (F1 or ?): the Markdown in help.md and the keys active where it was opened; and the
support lines."""

from __future__ import annotations

from pathlib import Path

from rich.markdown import Markdown
from textual.app import ComposeResult
from textual.binding import ActiveBinding, Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Static

from .dialogs import close

UI_DIR = Path(__file__).resolve().parent.parent


def read_content(name: str) -> str:
    try:
        return (UI_DIR / name).read_text(encoding="utf-8")
    except OSError as exc:
        return f"(The help file {name} can't be read: {exc.strerror}.)"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def keys_table(app_get_key_display, bindings: dict[str, ActiveBinding]) -> str:
    """The active bindings as a Markdown table, one row per action (keys joined)."""
    rows: dict[tuple[str, str], list[str]] = {}
    digits: list[str] = []
    for active in bindings.values():
        binding = active.binding
        if not binding.description or not active.enabled:
            continue
        if binding.action.startswith("choose("):
            digits.append(binding.key)
            continue
        key = app_get_key_display(binding)
        rows.setdefault((binding.action, binding.description), [])
        if key not in rows[(binding.action, binding.description)]:
            rows[(binding.action, binding.description)].append(key)
    lines = ["| Key | What it does |", "|---|---|"]
    if digits:
        lines.append(
            f"| {digits[0]}–{digits[-1]} | Take that choice |"
            if len(digits) > 1
            else f"| {digits[0]} | Take that choice |"
        )
    for (_action, description), keys in rows.items():
        lines.append(f"| {_cell(', '.join(keys))} | {_cell(description)} |")
    return "\n".join(lines)


class MarkdownText(Static):
    """Markdown drawn by Rich as one widget: far quicker to open than a tree of widgets, and a
    help screen is read, not navigated."""

    def __init__(self, source: str, *, id: str | None = None) -> None:
        super().__init__(Markdown(source, hyperlinks=False), id=id)
        self.source = source


class _MarkdownModal(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close", id="close"),
        Binding("q", "close", "Close", show=False, id="close-alt"),
    ]

    def on_mount(self) -> None:
        for scroll in self.query(VerticalScroll):
            scroll.focus()

    def action_close(self) -> None:
        close(self)


class HelpScreen(_MarkdownModal):
    """How to play, and the keys of the screen underneath."""

    def __init__(self, bindings: dict[str, ActiveBinding]) -> None:
        super().__init__()
        self.bindings = bindings

    def compose(self) -> ComposeResult:
        text = read_content("help.md")
        text += "\n\n## Keys here\n\n" + keys_table(self.app.get_key_display, self.bindings) + "\n"
        with Vertical(classes="sheet"), VerticalScroll():
            yield MarkdownText(text, id="help-text")
        yield Footer()


class SupportScreen(_MarkdownModal):
    """Real helplines for the issues the story deals with."""

    def compose(self) -> ComposeResult:
        with Vertical(classes="sheet"), VerticalScroll():
            yield MarkdownText(read_content("support.md"), id="support-text")
        yield Footer()
