"""A small vertical menu for the title screen.

Arrow keys and Enter, a click, or the hover of a mouse. One widget drawing one line per item:
the first screen opens noticeably sooner than with a general-purpose option list.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget


class Menu(Widget, can_focus=True):
    """Items as (id, label); posts `Menu.Selected` with the id of the one chosen."""

    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("enter", "select", "Select", show=False),
    ]
    COMPONENT_CLASSES = {"menu--highlight"}

    highlighted: reactive[int] = reactive(0)

    class Selected(Message):
        def __init__(self, menu: Menu, item: str) -> None:
            super().__init__()
            self.menu = menu
            self.item = item

        @property
        def control(self) -> Menu:
            return self.menu

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.items: list[tuple[str, str]] = []

    def set_items(self, items: Sequence[tuple[str, str]], highlighted: int = 0) -> None:
        self.items = list(items)
        self.highlighted = max(0, min(highlighted, len(self.items) - 1))
        self.refresh(layout=True)

    @property
    def labels(self) -> list[str]:
        return [label for _id, label in self.items]

    def validate_highlighted(self, value: int) -> int:
        return max(0, min(value, len(self.items) - 1)) if self.items else 0

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return max(1, len(self.items))

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return max([len(label) + 2 for _id, label in self.items] + [1])

    def render(self) -> Text:
        out = Text(no_wrap=True, overflow="ellipsis", end="")
        highlight = self.get_component_rich_style("menu--highlight", partial=True)
        width = self.size.width
        for i, (_id, label) in enumerate(self.items):
            if i:
                out.append("\n")
            line = f" {label}".ljust(width)
            out.append(line, style=highlight if i == self.highlighted else "")
        return out

    def action_move(self, step: int) -> None:
        if self.items:
            self.highlighted = (self.highlighted + step) % len(self.items)

    def action_jump(self, index: int) -> None:
        if self.items:
            self.highlighted = index % len(self.items)

    def action_select(self) -> None:
        if self.items:
            self.post_message(self.Selected(self, self.items[self.highlighted][0]))

    def watch_highlighted(self) -> None:
        self.refresh()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        if 0 <= event.y < len(self.items):
            self.highlighted = event.y

    def on_click(self, event: events.Click) -> None:
        if 0 <= event.y < len(self.items):
            self.highlighted = event.y
            self.action_select()
