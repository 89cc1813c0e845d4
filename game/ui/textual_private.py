"""Every use of Textual's private API, in one place, behind one switch.

Two kinds, both for things the public API can't do:

- speed: a scrollbar that draws its own lines (started the way Textual starts its own), and a
  transcript that grows without asking for a layout of the whole screen;
- crash guards: races seen in Textual 8.2 when keys come in a burst (a page key before a list,
  or a Select's dropdown, is laid out; the palette's list shown or moved after it is gone).

Set IOM_TEXTUAL_PRIVATE=0 to turn them all off and use only Textual's public API (slower
repaints, and the races unguarded). Each use also checks that the private name still exists,
so a Textual release that drops one falls back to the public way by itself. The snapshot tests
run both ways and must draw the same screens.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from textual import work
from textual.geometry import Size
from textual.scrollbar import ScrollBar


def _enabled_by_default() -> bool:
    return os.environ.get("IOM_TEXTUAL_PRIVATE", "1").strip().lower() not in ("0", "false", "no", "off")


ENABLED = _enabled_by_default()


def own_vertical_scrollbar(widget: Any, make: Callable[[], ScrollBar]) -> ScrollBar | None:
    """Start `make()` as the widget's vertical scrollbar in place of Textual's own, once; the
    bar, or None when the switch is off or Textual has no such hook (use Textual's bar)."""
    if not ENABLED or not hasattr(widget, "_vertical_scrollbar") or not hasattr(widget.app, "_start_widget"):
        return None
    bar: ScrollBar | None = widget._vertical_scrollbar
    if bar is None:
        bar = make()
        bar.display = False
        widget._vertical_scrollbar = bar
        widget.app._start_widget(widget, bar)
    return bar


def grow_without_layout(widget: Any, reactive: Any, size: Size) -> bool:
    """Give a scrolling widget a new virtual size without a layout of the screen (its box
    doesn't depend on its length); False when that can't be done, so the caller sets
    `virtual_size` the public way."""
    if not ENABLED or not hasattr(widget, "_scroll_update"):
        return False
    widget.set_reactive(reactive, size)
    widget._scroll_update(size)
    return True


class PageKeyGuard:
    """Mixin for an OptionList: a page key that arrives before new options are laid out finds
    no line for the highlight (Textual 8.2 raises KeyError); the key then does nothing, as it
    would have a frame later."""

    def _move_page(self, direction: Any) -> None:
        if not ENABLED:
            super()._move_page(direction)  # type: ignore[misc]
            return
        try:
            super()._move_page(direction)  # type: ignore[misc]
        except (KeyError, IndexError):
            pass


def select_parts(select: Any) -> list[Any] | None:
    """What a Select is made of, with its dropdown's page keys guarded as `PageKeyGuard`
    guards a list's; None when the switch is off or Textual's parts have moved (then the
    Select makes its own)."""
    if not ENABLED:
        return None
    try:
        from textual.widgets._select import SelectCurrent, SelectOverlay
    except ImportError:
        return None
    if not hasattr(select, "_type_to_search") or not hasattr(SelectOverlay, "_move_page"):
        return None
    overlay = _GUARDED.get(SelectOverlay)
    if overlay is None:
        overlay = _GUARDED[SelectOverlay] = type("GuardedSelectOverlay", (PageKeyGuard, SelectOverlay), {})
    return [
        SelectCurrent(select.prompt),
        overlay(type_to_search=select._type_to_search).data_bind(compact=type(select).compact),
    ]


_GUARDED: dict[type, type] = {}


def _palette_gather() -> tuple[Any, str]:
    """The palette's command search, undecorated, and its worker group (None if renamed)."""
    from textual.command import CommandPalette

    method = getattr(CommandPalette, "_gather_commands", None)
    group = getattr(CommandPalette, "_GATHER_COMMANDS_GROUP", None)
    gather = getattr(method, "__wrapped__", None)
    return (gather, group) if gather is not None and isinstance(group, str) else (None, "")


_GATHER, _GATHER_GROUP = _palette_gather()


class PaletteGuards:
    """Mixin for the command palette: its list shown or moved after it is gone (a search that
    finishes as the palette closes, a page key before the list is drawn) does nothing."""

    def _watch__list_visible(self) -> None:
        if not ENABLED:
            super()._watch__list_visible()  # type: ignore[misc]
            return
        from textual.command import CommandList

        if self.query(CommandList) and self.query("#--input"):  # type: ignore[attr-defined]
            super()._watch__list_visible()  # type: ignore[misc]

    if ENABLED and _GATHER is not None:

        @work(exclusive=True, group=_GATHER_GROUP)
        async def _gather_commands(self, search_value: str) -> None:
            # A search that starts as the palette closes finds its list already gone (NoMatches
            # from the worker ends the app): then there is nothing to show.
            from textual.command import CommandList
            from textual.css.query import NoMatches

            if not self.query(CommandList):  # type: ignore[attr-defined]
                return
            try:
                await _GATHER(self, search_value)
            except NoMatches:
                pass

    def _action_command_list(self, action: str) -> None:
        if not ENABLED:
            super()._action_command_list(action)  # type: ignore[misc]
            return
        try:
            super()._action_command_list(action)  # type: ignore[misc]
        except KeyError:
            pass  # the list isn't drawn yet: the key does nothing, as it would have a frame later
