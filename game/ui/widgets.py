"""Widgets of the play screen: the transcript, the choices, the caseload panel, the status line.

Story text reaches the screen only as `rich.text.Text` built from plain strings, so a `[` in a
passage is a `[` on screen, never markup.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events, on
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import OptionList
from textual.widgets.option_list import Option as ListOption

from ..engine import Game, Notice, Option, Variable
from . import render

# Long lines are hard to read: the transcript wraps at this width however wide the terminal.
MAX_MEASURE = 92


class Transcript(ScrollView, can_focus=True):
    """The scrollback of every passage and choice so far.

    Lines are wrapped and styled once, when an entry arrives (or the width or theme changes),
    and kept as strips: a choice costs the new passage's paragraphs, not the whole year's, and
    drawing a line that is already on screen is a cache hit."""

    COMPONENT_CLASSES = {"transcript--choice"}

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._entries: list[tuple[str, str]] = []
        self._starts: list[int] = []  # first line of each entry
        self._text: list[str] = []  # each line's text, margin included
        self._choice_line: list[bool] = []
        # Strips only for lines drawn lately: a strip carries its own caches, and a year's
        # worth of them would be a heap the garbage collector walks again and again.
        self._strips: dict[tuple[int, int], Strip] = {}
        self._wrap = 0
        self._styles: tuple[Style, Style] | None = None
        self._check_styles = True
        self._reveal: int | None = None

    @property
    def line_count(self) -> int:
        return len(self._text)

    @property
    def entry_count(self) -> int:
        return len(self._entries)

    def plain_lines(self) -> list[str]:
        """The transcript as wrapped plain text (for tests and copying)."""
        return [line.rstrip() for line in self._text]

    def sync(self, entries: Sequence[tuple[str, str]]) -> int:
        """Show exactly these entries, re-wrapping only what changed; returns the first new entry."""
        keep = _common_prefix(self._entries, entries)
        del self._entries[keep:]
        if keep < len(self._starts):
            cut = self._starts[keep]
            del self._starts[keep:]
            del self._text[cut:]
            del self._choice_line[cut:]
            self._strips.clear()
        new = list(entries[keep:])
        self._entries.extend(new)
        if self._wrap:
            self._append(new)
            self._update_size()
        return keep

    def start_of(self, entry: int) -> int:
        """The first line of an entry (for scrolling to it)."""
        if entry < len(self._starts):
            return self._starts[entry]
        return len(self._text)

    def reveal(self, entry: int) -> None:
        """Show the transcript from an entry on (e.g. the current passage), now or, if the
        lines aren't wrapped yet, as soon as they are."""
        self._reveal = entry
        if self._wrap:
            self._show_reveal()

    def _show_reveal(self) -> None:
        if self._reveal is None:
            return
        entry, self._reveal = self._reveal, None
        self.scroll_to_entry(entry)
        # Once laid out the viewport may be another height: look again after the refresh.
        self.call_after_refresh(self.scroll_to_entry, entry)

    def scroll_to_entry(self, entry: int) -> None:
        """Bring an entry and what follows into view: from its first line, or the end if it
        all fits. By entry, not line, so it stays right if the lines are wrapped again."""
        target = min(self.start_of(entry), self.max_scroll_y)
        if target != self.scroll_y:
            self.scroll_to(y=target, animate=False, immediate=True)

    # -- wrapping ------------------------------------------------------------------------
    def _current_styles(self) -> tuple[Style, Style]:
        base = self.rich_style
        return base, base + self.get_component_rich_style("transcript--choice", partial=True)

    def _append(self, entries: Sequence[tuple[str, str]]) -> None:
        console = self.app.console
        width = max(4, self._wrap - 2)
        texts, flags, starts = self._text, self._choice_line, self._starts
        for kind, text in entries:
            starts.append(len(texts))
            if kind == "choice":
                for n, line in enumerate(Text(text).wrap(console, max(2, width - 2))):
                    texts.append((" › " if n == 0 else "   ") + line.plain.rstrip())
                    flags.append(True)
            else:
                for line in Text(text).wrap(console, width):
                    texts.append(" " + line.plain.rstrip())
                    flags.append(False)
            texts.append("")
            flags.append(False)

    def _rewrap(self) -> None:
        # Keep the entry at the top of the view at the top: a new width moves every line.
        top_entry = max(0, bisect_right(self._starts, int(self.scroll_y)) - 1)
        self._starts, self._text, self._choice_line = [], [], []
        self._strips.clear()
        self._append(self._entries)
        self._update_size()
        if self._reveal is not None:
            self._show_reveal()
        elif self._starts:
            self.scroll_to_entry(top_entry)

    def _update_size(self) -> None:
        self.virtual_size = Size(self._wrap, len(self._text))
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        # From the event, not the widget: the widget's regions can lag a layout behind here.
        wrap = min(MAX_MEASURE, event.size.width - self.styles.scrollbar_size_vertical)
        if wrap != self._wrap and wrap > 0:
            self._wrap = wrap
            self._rewrap()

    # -- drawing -------------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._check_styles = True

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        if self._styles is None or self._check_styles:
            # Computing the style is dear: only after the CSS changed, and only once.
            self._check_styles = False
            styles = self._current_styles()
            if styles != self._styles:
                self._styles = styles
                self._strips.clear()
        assert self._styles is not None
        base, choice = self._styles
        index = scroll_y + y
        if index >= len(self._text):
            return Strip.blank(width, base)
        key = (index, scroll_x)
        strip = self._strips.get(key)
        if strip is None or strip.cell_length != width:
            if len(self._strips) > 512:
                self._strips.clear()
            text = self._text[index]
            line = Strip([Segment(text, choice if self._choice_line[index] else base)]) if text else Strip([])
            strip = self._strips[key] = line.crop_extend(scroll_x, scroll_x + width, base)
        return strip


def _common_prefix(old: Sequence[tuple[str, str]], new: Sequence[tuple[str, str]]) -> int:
    """How many leading entries two transcripts share (checked at a few points, then trusted:
    the engine only ever appends to a transcript or cuts its end off)."""
    n = min(len(old), len(new))
    if n == 0:
        return 0
    probes = {0, n // 2, n - 1}
    if all(old[i] == new[i] for i in probes):
        return n
    i = 0
    while i < n and old[i] == new[i]:
        i += 1
    return i


class SafeOptionList(OptionList):
    """An OptionList that survives being squeezed to no width at all (Textual 8.2 divides by
    the width when measuring wrapped options, which a 20-column terminal can make zero) and
    page keys that arrive before its options are laid out."""

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if width <= 0:
            return self.option_count
        return super().get_content_height(container, viewport, width)

    def _move_page(self, direction: int) -> None:
        # A page key that arrives before new options are laid out finds no line for the
        # highlight (Textual 8.2 raises KeyError); the key does nothing, as a frame later.
        try:
            super()._move_page(direction)  # type: ignore[arg-type]
        except (KeyError, IndexError):
            pass


class ChoiceList(SafeOptionList):
    """The choices on offer: numbered when they can be taken, with the reason when they can't."""

    class Chosen(Message):
        """The player took a choice (its index in `game.choices`)."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    class Action(Message):
        """The player picked an action offered in place of choices (e.g. at the end)."""

        def __init__(self, action: str) -> None:
            super().__init__()
            self.action = action

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)

    def show_choices(self, options: Sequence[Option]) -> None:
        items = []
        n = 0
        for opt in options:
            if opt.enabled:
                n += 1
                label = Text.assemble((f"{n}. " if n <= 9 else "   ", "bold"), opt.text)
                if opt.cost:
                    label.append(f"  ({opt.cost})", style="dim")
            else:
                label = Text.assemble("–  ", opt.text)
                if opt.reason:
                    label.append(f"  ({opt.reason})", style="italic")
            items.append(ListOption(label, id=f"c{opt.index}", disabled=not opt.enabled))
        self.set_options(items)
        self._highlight_first()

    def show_actions(self, actions: Sequence[tuple[str, str]]) -> None:
        """Offer actions (id, label) instead of choices, e.g. the review at the end."""
        self.set_options([ListOption(Text.assemble((f"{n}. ", "bold"), label), id=f"a{key}")
                          for n, (key, label) in enumerate(actions, 1)])
        self._highlight_first()

    def _highlight_first(self) -> None:
        for i, opt in enumerate(self.options):
            if not opt.disabled:
                self.highlighted = i
                return
        self.highlighted = None

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        key = event.option.id or ""
        if key.startswith("c"):
            self.post_message(self.Chosen(int(key[1:])))
        elif key.startswith("a"):
            self.post_message(self.Action(key[1:]))


class StatusLine(Widget):
    """One line: the story's title and the clock (e.g. Day 3 · Hours left today: 5)."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.game: Game | None = None

    def show(self, game: Game) -> None:
        self.game = game
        self.refresh()

    def render(self) -> Text:
        game = self.game
        if game is None:
            return Text("")
        width = max(1, self.size.width)
        parts = render.clock(game) + (["The end"] if game.ended else [])
        text = Text.assemble((game.story.title, "bold"), *[f"  ·  {p}" for p in parts])
        if text.cell_len > width and parts:
            # Short of room, the clock matters more than the title.
            text = Text("  ·  ".join(parts))
        text.truncate(width, overflow="ellipsis")
        return text


class _TextBlock(Widget):
    """Prepared text drawn from cached strips, laid out again only when its height changes.

    Layout and turning text into strips are the dear parts of a repaint; after most choices
    these blocks show the same text, or at least the same number of lines."""

    # Text that is laid out line by line already (no wrapping) keeps a strip for each line it
    # has drawn, so a line that didn't change with the choice costs nothing to draw again.
    WRAP = True

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._text = Text("")
        self._strips: list[Strip] = []
        self._built_for: tuple[int, Style | None] = (-1, None)
        self._dirty = True
        self._signature: object = None
        self._line_cache: dict[tuple[object, ...], Strip] = {}

    def build(self, width: int) -> Text:
        raise NotImplementedError

    def signature(self) -> object:
        """What the text is made from: when it hasn't changed, nothing is rebuilt."""
        return object()

    @property
    def plain(self) -> str:
        """The text shown, without styles (for tests and tools)."""
        return self.build(self._width()).plain

    def _width(self) -> int:
        return self.content_region.width or self.container_size.width or 40

    def changed(self) -> None:
        """The content changed: rebuild now if shown; refresh only if it looks different."""
        signature = self.signature()
        if signature == self._signature and not self._dirty:
            return
        self._signature = signature
        self._dirty = True
        if not self.parent or not getattr(self.parent, "display", True) or not self.display:
            return
        before_text, before_height = self._text, len(self._strips)
        self._rebuild(self._width())
        if self._text != before_text or len(self._strips) != before_height:
            self.refresh(layout=len(self._strips) != before_height)

    def _rebuild(self, width: int) -> None:
        width = max(1, width)
        self._text = text = self.build(width)
        console = self.app.console
        base = self.rich_style
        apply = Segment.apply_style
        if self.WRAP:
            self._strips = [Strip(list(apply(line.render(console), base)))
                            for line in text.wrap(console, width)] or [Strip([])]
        else:
            cache = self._line_cache
            if self._built_for != (width, base) or len(cache) > 1000:
                cache.clear()
            strips = []
            for line in text.split("\n", allow_blank=True):
                key = (line.plain, *line.spans)
                strip = cache.get(key)
                if strip is None:
                    line.truncate(width, overflow="ellipsis")
                    strip = cache[key] = Strip(list(apply(line.render(console), base)))
                strips.append(strip)
            self._strips = strips or [Strip([])]
        self._built_for = (width, base)
        self._dirty = False

    def _ensure(self, width: int) -> None:
        if self._dirty or self._built_for[0] != width:
            self._rebuild(width)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        self._ensure(width)
        return len(self._strips)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._dirty = True

    def render_line(self, y: int) -> Strip:
        width = self._width()
        self._ensure(width)
        base = self._built_for[1]
        if y >= len(self._strips):
            return Strip.blank(width, base)
        return self._strips[y].crop_extend(0, width, base)


class NoticeLine(_TextBlock):
    """What changed with the last choice: 'Becky: Trust in you +1 · Stokesy: Accommodation +2'."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.notices: list[Notice] = []

    def show(self, notices: Sequence[Notice]) -> None:
        self.notices = list(notices)
        self.changed()

    def signature(self) -> object:
        return tuple(self.notices)

    def build(self, width: int) -> Text:
        text = Text()
        for i, notice in enumerate(self.notices):
            if i:
                text.append("  ·  ", style="dim")
            text.append(str(notice))
        return text


class CaseloadView(_TextBlock):
    """Each case's visible outcomes: bars with a sparkline over the turns, numbers and states."""

    COMPONENT_CLASSES = {"caseload--bar", "caseload--spark"}
    SPARK_MAX = 24
    WRAP = False

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.game: Game | None = None
        self.opening: Sequence[Any] | None = None
        self._slots_for: object = None
        self._slots: list[int] = []

    def show(self, game: Game, opening: Sequence[Any] | None = None) -> None:
        self.game = game
        self.opening = opening
        self.changed()

    def signature(self) -> object:
        game = self.game
        if game is None:
            return None
        story = game.story
        if self._slots_for is not story:
            self._slots_for = story
            clock = render.clock_slots(story)
            self._slots = [v.slot for v in story.variables if v.display != "hidden" and v.slot not in clock]
        v = game.v
        return (id(game), id(self.opening), [v[s] for s in self._slots], len(game.history),
                tuple(game.char_endings.items()))

    def build(self, width: int) -> Text:
        game = self.game
        if game is None:
            return Text("")
        story = game.story
        width = max(10, width)
        self._bar_style = self.get_component_rich_style("caseload--bar", partial=True)
        self._spark_style = self.get_component_rich_style("caseload--spark", partial=True)
        out = Text(no_wrap=True, overflow="ellipsis", end="")
        endings = game.character_endings()
        first = True
        for char in story.characters:
            if not first:
                out.append("\n")
            first = False
            out.append(char.name, style="bold")
            out.append("\n")
            end = endings.get(char.id)
            if end is not None:
                out.append(f"Ending: {render.ending_line(end.title, end.category)}\n", style="italic")
            for var in render.character_variables(story, char.id):
                self._variable(out, game, var, width)
        overall = render.story_variables(story)
        if overall:
            out.append("\n")
            out.append("Overall", style="bold")
            out.append("\n")
            for var in overall:
                self._variable(out, game, var, width)
        out.rstrip()
        return out

    def _variable(self, out: Text, game: Game, var: Variable, width: int) -> None:
        value = game.v[var.slot]
        shown = render.value_text(var, value)
        label_width = max(1, width - len(shown) - 1)
        label = var.label if len(var.label) <= label_width else var.label[: label_width - 1] + "…"
        out.append(label, style="dim")
        out.append(" " * max(1, width - len(label) - len(shown)))
        out.append(shown + "\n")
        if var.type != "int" or var.display not in ("bar", "number"):
            return
        spark_values = render.series(game, var, self.opening)
        if var.display == "bar":
            bar_width = min(12, max(4, width // 3))
            out.append(render.bar(value, var.min, var.max, bar_width), style=self._bar_style)
            room = width - bar_width - 1
        else:
            room = width
        if len(spark_values) > 1 and room > 2:
            lo, hi = _range(var, spark_values)
            if var.display == "bar":
                out.append(" ")
            spark = render.sparkline(spark_values[-min(room, self.SPARK_MAX):], lo, hi, room)
            out.append(spark, style=self._spark_style)
        if var.display == "bar" or (len(spark_values) > 1 and room > 2):
            out.append("\n")


def _range(var: Variable, values: Sequence[float]) -> tuple[float, float]:
    """The scale for a chart: the variable's own range when it is a sensible one."""
    if var.max - var.min <= 100:
        return var.min, var.max
    lo, hi = min(values), max(values)
    return (lo, hi) if hi > lo else (lo - 1, hi + 1)
