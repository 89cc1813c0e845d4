"""Widgets of the play screen: the transcript, the choices, the caseload panel, the status line.

Story text reaches the screen only as `rich.text.Text` built from plain strings, so a `[` in a
passage is a `[` on screen, never markup.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Collection, Sequence
from typing import Any, Self

from rich.color import Color
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.css.scalar import Unit
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import OptionList, Select
from textual.widgets.option_list import Option as ListOption

from ..choices import Numbered
from ..engine import Game, Notice, Variable
from ..engine.textsafe import terminal_safe
from . import render, textual_private

# Long lines are hard to read: the transcript wraps at this width however wide the terminal
# (unless the player's settings say otherwise).
MAX_MEASURE = 92
# After a choice taken in an earlier playthrough and not yet in this one (as Ren'Py marks
# text already seen).
CHOSEN_MARK = "· taken before"


class QuickScrollBar(ScrollBar):
    """A vertical scrollbar drawn straight from its segments, and kept until it changes.

    Textual draws a scrollbar like any other widget: its renderable, then every line through
    the style cache. For a tall bar that is a millisecond or more each time the thumb moves,
    which in the transcript is every choice. These are the same segments in the same styles."""

    def __init__(self, vertical: bool = True, name: str | None = None, *, thickness: int = 1) -> None:
        super().__init__(vertical, name, thickness=thickness)
        self._drawn: tuple[object, list[Strip]] | None = None

    def render_lines(self, crop: Region) -> list[Strip]:
        renderable = self.render()
        if (
            not self.vertical
            or not isinstance(renderable, ScrollBarRender)
            or self.styles.tint.a
            or self.opacity != 1
            or self.styles.text_opacity != 1
        ):
            return super().render_lines(crop)
        width, height = self.size
        base = self.visual_style.rich_style
        bar_style = (
            renderable.style if isinstance(renderable.style, Style) else Style.parse(str(renderable.style))
        )
        key = (
            width,
            height,
            renderable.virtual_size,
            renderable.window_size,
            renderable.position,
            bar_style,
            base,
        )
        if self._drawn is None or self._drawn[0] != key:
            bar = renderable.render_bar(
                size=height,
                virtual_size=renderable.virtual_size,
                window_size=renderable.window_size,
                position=renderable.position,
                thickness=width,
                vertical=True,
                back_color=bar_style.bgcolor or Color.parse("#555555"),
                bar_color=bar_style.color or Color.parse("bright_magenta"),
            )
            strips = [
                Strip([Segment(text, base + seg_style if seg_style else base)], width)
                for text, seg_style, _control in bar.segments
            ]
            self._drawn = (key, strips)
        strips = self._drawn[1][crop.y : crop.y + crop.height]
        background = self.background_colors[1]
        for line_filter in self.get_line_filters():
            strips = [strip.apply_filter(line_filter, background) for strip in strips]
        if crop.column_span != (0, width):
            x1, x2 = crop.column_span
            strips = [strip.crop(x1, x2) for strip in strips]
        return strips


class QuickScrollbars:
    """Mixin for a scrollable widget: its vertical scrollbar is a `QuickScrollBar`, where
    Textual's private hooks allow it (see textual_private); otherwise Textual's own bar."""

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        bar = textual_private.own_vertical_scrollbar(
            self,
            lambda: QuickScrollBar(vertical=True, name="vertical", thickness=self.scrollbar_size_vertical),
        )  # type: ignore[attr-defined]
        if bar is None:
            return super().vertical_scrollbar  # type: ignore[misc, no-any-return]
        return bar


class CaseloadScroll(QuickScrollbars, VerticalScroll):
    """The scrolling box around the caseload panel."""

    # Tab reaches it; a click on it leaves the focus with the choices.
    FOCUS_ON_CLICK = False


class Transcript(QuickScrollbars, ScrollView, can_focus=True):
    """The scrollback of every passage and choice so far.

    Lines are wrapped and styled once, when an entry arrives (or the width or theme changes),
    and kept as strips: a choice costs the new passage's paragraphs, not the whole year's, and
    drawing a line that is already on screen is a cache hit."""

    COMPONENT_CLASSES = {"transcript--choice"}
    # Scrolled with the page keys and the wheel whatever has focus: a click on it leaves the
    # focus with the choices.
    FOCUS_ON_CLICK = False

    class More(Message):
        """Whether there is more of the transcript below the view now."""

        def __init__(self, more: bool) -> None:
            super().__init__()
            self.more = more

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.measure = MAX_MEASURE  # the widest the text is wrapped at; 0 for the whole width
        self._more = False
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
            text = terminal_safe(text)  # a loaded save's text: shown, never sent
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
        size = Size(self._wrap, len(self._text))
        if size != self.virtual_size:
            # The transcript's box never depends on its length, so a longer transcript needs no
            # layout of the screen (which setting `virtual_size` asks for), only new scrollbars.
            if not textual_private.grow_without_layout(self, Transcript.virtual_size, size):
                self.virtual_size = size  # the public way, with a layout
        self.refresh()
        self._check_more()

    def on_resize(self, event: events.Resize) -> None:
        # From the event, not the widget: the widget's regions can lag a layout behind here.
        self._wrap_to(event.size.width)
        self.call_after_refresh(self._check_more)

    def set_measure(self, measure: int) -> None:
        """Wrap at most `measure` columns wide (0: as wide as the transcript)."""
        if measure != self.measure:
            self.measure = measure
            if self._wrap:
                self._wrap_to(self.size.width)

    def _wrap_to(self, width: int) -> None:
        room = width - self.styles.scrollbar_size_vertical
        wrap = min(self.measure, room) if self.measure > 0 else room
        if wrap != self._wrap and wrap > 0:
            self._wrap = wrap
            self._rewrap()

    @property
    def more_below(self) -> bool:
        """Whether some of the transcript is below the view."""
        return bool(self._text) and round(self.scroll_y) < self.max_scroll_y

    def _check_more(self) -> None:
        more = self.more_below
        if more != self._more:
            self._more = more
            self.post_message(self.More(more))

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        self._check_more()

    # -- drawing -------------------------------------------------------------------------
    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._check_styles = True

    def render_lines(self, crop: Region) -> list[Strip]:
        # After a choice every visible line is new (the view has scrolled), and Textual's style
        # cache costs more per line than drawing the line itself. With nothing around the text
        # to draw (no border, padding, outline, tint or opacity), its work comes down to padding
        # each line under the scrollbar and applying the app's filters: done here directly.
        styles = self.styles
        if (
            any(styles.gutter)
            or any(edge for edge, _color in styles.outline)
            or styles.tint.a
            or styles.text_opacity != 1
            or self.opacity != 1
            or (styles.has_rule("hatch") and styles.hatch != "none")
        ):
            return super().render_lines(crop)
        width = self.size.width
        base_background, background = self.background_colors
        under = Style(bgcolor=(base_background + background).rich_color)
        render_line = self.render_line
        strips = [render_line(y).adjust_cell_length(width, under) for y in crop.line_range]
        for line_filter in self.get_line_filters():
            strips = [strip.apply_filter(line_filter, background) for strip in strips]
        if crop.column_span != (0, width):
            x1, x2 = crop.column_span
            strips = [strip.crop(x1, x2) for strip in strips]
        return strips

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


class SafeSelect(Select[Any]):
    """A Select whose dropdown, like SafeOptionList, survives a page key that arrives before
    its options are laid out."""

    def compose(self) -> ComposeResult:
        parts = textual_private.select_parts(self)
        if parts is None:
            yield from super().compose()
        else:
            yield from parts


class SafeOptionList(textual_private.PageKeyGuard, OptionList):
    """An OptionList that survives being squeezed to no width at all (Textual 8.2 divides by
    the width when measuring wrapped options, which a 20-column terminal can make zero) and
    page keys that arrive before its options are laid out."""

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        if width <= 0:
            return self.option_count
        return super().get_content_height(container, viewport, width)


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
        self._held_layout: bool | None = None

    def refresh(
        self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False
    ) -> Self:
        if layout and self._held_layout is not None:
            self._held_layout = True
            layout = False
        return super().refresh(*regions, repaint=repaint, layout=layout, recompose=recompose)

    def _replace_options(self, items: list[ListOption]) -> None:
        """Show new options; the screen is laid out again only if they take more or fewer lines.

        An option list asks for a layout whenever its options change, and a layout of the play
        screen costs more than drawing the new options: after most choices the list keeps its
        height, the new options simply take the old ones' lines."""
        before = self.virtual_size
        self._held_layout = False
        try:
            self.set_options(items)
        finally:
            held, self._held_layout = self._held_layout, None
        if held and not self._keeps_box(before, self.virtual_size):
            self.refresh(layout=True)

    def _keeps_box(self, before: Size, after: Size) -> bool:
        """Whether options taking `after` lines instead of `before` leave the list as tall."""
        if not self.scrollable_content_region:
            return False  # never laid out yet
        if after == before:
            return True
        # Under the floor of its `min-height`, a list of two options is as tall as one of four.
        floor = self.styles.min_height
        if (
            floor is None
            or floor.unit != Unit.CELLS
            or self.styles.box_sizing != "border-box"
            or after.width != before.width
        ):
            return False
        lines = int(floor.value) - self.styles.gutter.height
        return self.outer_size.height == int(floor.value) and max(before.height, after.height) <= lines

    def show_choices(self, choices: Sequence[Numbered], chosen_before: Collection[int] = ()) -> None:
        """Show the choices with their numbers; disabled ones keep theirs and say why. Choices
        taken in an earlier playthrough (their indices in `chosen_before`) are marked."""
        items = []
        for number, opt, _ends_turn in choices:
            label = Text.assemble((f"{number}. " if number else "   ", "bold"), terminal_safe(opt.text))
            if opt.enabled:
                if opt.cost:
                    label.append(f"  ({terminal_safe(opt.cost)})", style="dim")
            elif opt.reason:
                label.append(f"  ({terminal_safe(opt.reason)})", style="italic")
            if opt.index in chosen_before:
                label.append(f"  {CHOSEN_MARK}", style="dim")
            items.append(ListOption(label, id=f"c{opt.index}", disabled=not opt.enabled))
        self._replace_options(items)
        self._highlight_first()

    def show_actions(self, actions: Sequence[tuple[str, str]]) -> None:
        """Offer actions (id, label) instead of choices, e.g. the review at the end."""
        self._replace_options(
            [
                ListOption(Text.assemble((f"{n}. ", "bold"), label), id=f"a{key}")
                for n, (key, label) in enumerate(actions, 1)
            ]
        )
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
        self._shown: tuple[str, tuple[str, ...]] | None = None
        self._base: Style | None = None
        self._drawn: tuple[object, Strip] | None = None

    def show(self, game: Game) -> None:
        self.game = game
        shown = (game.story.title, tuple(render.clock(game) + (["The end"] if game.ended else [])))
        if shown != self._shown:
            self._shown = shown
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

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._base = None

    def render_line(self, y: int) -> Strip:
        # One line, drawn again only when the clock or the width changes.
        width = max(1, self.size.width)
        if self._base is None:
            self._base = self.rich_style
        base = self._base
        key = (self._shown, width, base)
        if self._drawn is None or self._drawn[0] != key:
            text = self.render()
            line = Strip(list(Segment.apply_style(text.render(self.app.console), base)))
            self._drawn = (key, line)
        return self._drawn[1] if y == 0 else Strip.blank(width, base)


def _content_width(widget: Any) -> int:
    """The width to draw a block's lines at, before it has been laid out too."""
    return widget.content_region.width or widget.container_size.width or 40  # type: ignore[no-any-return]


def _mark_changed(widget: Any) -> bool:
    """For a block drawn from its `signature()`: note a change, and say whether to rebuild now
    (the signature moved, or it was marked dirty, and the block is shown)."""
    signature = widget.signature()
    if signature == widget._signature and not widget._dirty:
        return False
    widget._signature = signature
    widget._dirty = True
    return bool(widget.parent and getattr(widget.parent, "display", True) and widget.display)


class _TextBlock(Widget):
    """Prepared text drawn from cached strips, laid out again only when its height changes.

    Layout and turning text into strips are the dear parts of a repaint; after most choices
    these blocks show the same text, or at least the same number of lines."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._text = Text("")
        self._strips: list[Strip] = []
        self._built_for: tuple[int, Style | None] = (-1, None)
        self._dirty = True
        self._signature: object = None

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
        return _content_width(self)

    def changed(self) -> None:
        """The content changed: rebuild now if shown; refresh only if it looks different."""
        if not _mark_changed(self):
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
        self._strips = [
            Strip(list(apply(line.render(console), base))) for line in text.wrap(console, width)
        ] or [Strip([])]
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
    """What changed with the last choice: 'Becky: Trust in you +1 · Stokesy: Accommodation +2',
    each change coloured by whether it is for the better or the worse."""

    COMPONENT_CLASSES = {"notice--better", "notice--worse"}

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
            improved = notice.improved
            if improved is None:
                text.append(str(notice))
            else:
                name = "notice--better" if improved else "notice--worse"
                text.append(str(notice), style=self.get_component_rich_style(name, partial=True))
        return text


class CaseloadView(Widget):
    """Each case's visible outcomes: bars with a sparkline over the turns, numbers and states.

    Kept as one strip per line, each variable's lines cached by what they show: a choice
    usually moves a few numbers, so only their lines are drawn again."""

    COMPONENT_CLASSES = {"caseload--bar", "caseload--spark", "caseload--better", "caseload--worse"}
    SPARK_MAX = 24

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.game: Game | None = None
        self.opening: Sequence[Any] | None = None
        self.unread: frozenset[str] = frozenset()
        self._signature: object = None
        self._dirty = True
        self._lines: list[Strip] = [Strip([])]
        self._built_for: tuple[int, Style, Style, Style] | tuple[()] = ()
        self._cache: dict[object, list[Strip]] = {}
        self._slots_for: object = None
        self._slots: list[int] = []
        self._styles: tuple[Style, Style, Style] | None = None
        self._owners: dict[int, Variable] = {}  # line -> the variable drawn there
        self._moves: tuple[Style, Style] | None = None  # better, worse

    def show(
        self, game: Game, opening: Sequence[Any] | None = None, unread: frozenset[str] = frozenset()
    ) -> None:
        """Show a game; the endings of characters in `unread` stay hidden until read."""
        self.game = game
        self.opening = opening
        self.unread = unread
        self.changed()

    @property
    def plain(self) -> str:
        """The text shown, without styles (for tests and tools)."""
        self._ensure(self._width())
        return "\n".join(strip.text.rstrip() for strip in self._lines)

    def signature(self) -> object:
        """What the panel is drawn from: when it hasn't changed, nothing is drawn again."""
        game = self.game
        if game is None:
            return None
        story = game.story
        if self._slots_for is not story:
            self._slots_for = story
            clock = render.clock_slots(story)
            self._slots = [v.slot for v in story.variables if v.display != "hidden" and v.slot not in clock]
        v = game.v
        return (
            id(game),
            id(self.opening),
            [v[s] for s in self._slots],
            len(game.history),
            tuple(game.char_endings.items()),
            self.unread,
        )

    def changed(self) -> None:
        """The game changed: redraw the lines that look different, if the panel is shown."""
        if not _mark_changed(self):
            return
        before = self._lines
        self._rebuild(self._width())
        after = self._lines
        if len(after) != len(before):
            self.refresh(layout=True)
            return
        changed = [y for y, (old, new) in enumerate(zip(before, after, strict=True)) if old is not new]
        if len(changed) > len(after) // 2:
            self.refresh()
        elif changed:
            width = max(1, self.size.width)
            self.refresh(*[Region(0, y, width, 1) for y in changed])

    def _width(self) -> int:
        return _content_width(self)

    def _ensure(self, width: int) -> None:
        if self._dirty or not self._built_for or self._built_for[0] != width:
            self._rebuild(width)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._dirty = True
        self._styles = None
        self._moves = None

    # -- building ------------------------------------------------------------------------
    def _rebuild(self, width: int) -> None:
        width = max(1, width)
        if self._styles is None:
            # Working out styles is dear: only again after the CSS changed.
            self._styles = (
                self.rich_style,
                self.get_component_rich_style("caseload--bar", partial=True),
                self.get_component_rich_style("caseload--spark", partial=True),
            )
        built_for = (width, *self._styles)
        if built_for != self._built_for or len(self._cache) > 2000:
            self._cache.clear()
            self._built_for = built_for
        self._lines = self._build_lines(width) or [Strip([])]
        self._dirty = False

    def _drawn_with(self) -> tuple[int, Style, Style, Style]:
        """The width and the styles (base, bar, sparkline) the lines are drawn with."""
        assert self._built_for, "drawn before it was built"
        return self._built_for

    def _strips(self, key: object, make: Any) -> list[Strip]:
        """The strips for some lines, from the cache or made now (`make` returns their Texts)."""
        strips = self._cache.get(key)
        if strips is None:
            width, base, _bar, _spark = self._drawn_with()
            console = self.app.console
            apply = Segment.apply_style
            strips = []
            for line in make():
                line.truncate(width, overflow="ellipsis")
                strips.append(Strip(list(apply(line.render(console), base))))
            self._cache[key] = strips
        return strips

    def _build_lines(self, width: int) -> list[Strip]:
        game = self.game
        if game is None:
            return []
        story = game.story
        width = max(10, width)
        lines: list[Strip] = []
        self._owners = {}
        endings = game.character_endings()
        for n, char in enumerate(story.characters):
            if n:
                lines += self._strips(("blank",), lambda: [Text("")])
            lines += self._strips(("name", char.name), lambda char=char: [Text.assemble((char.name, "bold"))])
            end = endings.get(char.id)
            if end is not None and char.id not in self.unread:
                said = f"Ending: {render.ending_line(end.title, end.category)}"
                lines += self._strips(("ending", said), lambda said=said: [Text.assemble((said, "italic"))])
            for var in render.character_variables(story, char.id):
                self._add_variable(lines, game, var, width)
        overall = render.story_variables(story)
        if overall:
            lines += self._strips(("blank",), lambda: [Text("")])
            lines += self._strips(("name", "Overall"), lambda: [Text.assemble(("Overall", "bold"))])
            for var in overall:
                self._add_variable(lines, game, var, width)
        return lines

    def _add_variable(self, lines: list[Strip], game: Game, var: Variable, width: int) -> None:
        start = len(lines)
        lines += self._variable(game, var, width)
        for y in range(start, len(lines)):
            self._owners[y] = var

    def on_mouse_move(self, event: events.MouseMove) -> None:
        # The tooltip is the description of the variable under the pointer, if it has one.
        var = self._owners.get(event.y)
        tip = Content(var.description) if var is not None and var.description else None
        if tip != self.tooltip:
            self.tooltip = tip

    def _variable(self, game: Game, var: Variable, width: int) -> list[Strip]:
        value = game.v[var.slot]
        lines = self._strips(("value", var.slot, value), lambda: [self._value_line(var, value, width)])
        if var.type != "int" or var.display not in ("bar", "number"):
            return lines
        spark_values = render.series(game, var, self.opening)
        if var.display == "number" and not (len(spark_values) > 1 and width > 2):
            return lines
        # Every case's copy of a variable on one scale, so the cases compare truly.
        scale = render.group_scale(game, var, self.opening)
        key = ("chart", var.slot, value, tuple(spark_values), scale)
        return lines + self._strips(key, lambda: [self._chart_line(var, value, spark_values, width, scale)])

    def _value_line(self, var: Variable, value: Any, width: int) -> Text:
        shown = render.value_text(var, value)
        label_width = max(1, width - len(shown) - 1)
        label = var.label if len(var.label) <= label_width else var.label[: label_width - 1] + "…"
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        line.append(label, style="dim")
        line.append(" " * max(1, width - len(label) - len(shown)))
        line.append(shown)
        return line

    def _chart_line(
        self, var: Variable, value: Any, spark_values: list[float], width: int, scale: tuple[float, float]
    ) -> Text:
        _width, _base, bar_style, spark_style = self._drawn_with()
        line = Text(no_wrap=True, overflow="ellipsis", end="")
        if var.display == "bar":
            bar_width = min(12, max(4, width // 3))
            line.append(render.bar(value, var.min, var.max, bar_width), style=bar_style)
            room = width - bar_width - 1
        else:
            room = width
        if len(spark_values) > 1 and room > 2:
            lo, hi = scale
            if var.display == "bar":
                line.append(" ")
            shown = spark_values[-min(room, self.SPARK_MAX) :]
            spark = render.sparkline(shown, lo, hi, room)
            if self._moves is None:
                self._moves = (
                    self.get_component_rich_style("caseload--better", partial=True),
                    self.get_component_rich_style("caseload--worse", partial=True),
                )
            better, worse = self._moves
            # Each cell better or worse than the start of the year, by the variable's measure.
            moves = [render.direction(var, v, spark_values[0]) for v in render.resample(shown, room)]
            for cells, move in render.runs(spark, moves):
                line.append(
                    cells, style=spark_style + (better if move > 0 else worse) if move else spark_style
                )
        return line

    # -- drawing -------------------------------------------------------------------------
    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        self._ensure(width)
        return len(self._lines)

    def render_line(self, y: int) -> Strip:
        width = self._width()
        self._ensure(width)
        base = self._drawn_with()[1]
        if y >= len(self._lines):
            return Strip.blank(width, base)
        return self._lines[y].crop_extend(0, width, base)
