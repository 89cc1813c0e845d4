"""Containers (and screens) that draw nothing but their background.

Textual draws a container like any widget, line by line through its style cache, although with
no border it shows only its background, and mostly not even that: its children cover it. The
`BackgroundOnly` mixin draws those blank lines directly, in the very style the cache would use.
"""

from __future__ import annotations

from typing import Any

from rich.style import Style
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.geometry import Region
from textual.strip import Strip


class BackgroundOnly:
    """Mixin for a widget without content of its own: its lines are blank, in its background.

    A plain class, not a `Widget`: Textual takes a widget's CSS from its first widget base."""

    def render_lines(self: Any, crop: Region) -> list[Strip]:
        styles = self.styles
        if (
            any(edge for edge, _color in styles.border)
            or any(edge for edge, _color in styles.outline)
            or styles.tint.a
            or self.opacity != 1
            or styles.keyline[0] != "none"
            or (styles.has_rule("hatch") and styles.hatch != "none")
        ):
            return super().render_lines(crop)  # type: ignore[misc, no-any-return]
        base_background, background = self.background_colors
        blank = Strip.blank(crop.width, Style.from_color(bgcolor=(base_background + background).rich_color))
        for line_filter in self.get_line_filters():
            blank = blank.apply_filter(line_filter, background)
        return [blank] * crop.height


class Row(BackgroundOnly, Horizontal):
    """Children side by side."""


class Column(BackgroundOnly, Vertical):
    """Children one above the other."""


class ScrollColumn(BackgroundOnly, VerticalScroll):
    """Children one above the other, scrolling when they don't fit.

    Tab reaches it, but a click on it (often meant for the text, not the box) leaves the focus
    where it was: the menu beside it keeps its keys."""

    FOCUS_ON_CLICK = False
