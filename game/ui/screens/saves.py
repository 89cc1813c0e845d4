"""Save and load screens: every slot with a preview; broken saves listed with their reason."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from ...engine.saves import AUTOSAVE, SaveSlot
from ..widgets import SafeOptionList
from .dialogs import close

if TYPE_CHECKING:
    from ..app import StraightApp

SLOT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}\Z")


class SlotsListed(Message):
    def __init__(self, slots: list[SaveSlot]) -> None:
        super().__init__()
        self.slots = slots


def preview_text(slot: SaveSlot) -> Text:
    """What a slot holds: where, each case in a line, when it was saved; or why it can't load."""
    text = Text()
    text.append(slot.name, style="bold")
    text.append("\n")
    if not slot.ok:
        text.append("Can't be loaded: ", style="bold")
        text.append(slot.reason or "unknown problem")
        text.append("\nThe file is left as it is.", style="italic")
        return text
    prev = slot.preview
    where = " · ".join(str(p) for p in (prev.get("where"), prev.get("title")) if p)
    if where:
        text.append(where + "\n")
    if prev.get("ending"):
        text.append(f"Ended: {prev['ending']}\n", style="italic")
    for line in prev.get("cases") or []:
        text.append(f"{line}\n")
    if slot.saved_at:
        text.append(f"Saved {slot.saved_at}", style="dim")
    text.rstrip()
    return text


def slot_label(slot: SaveSlot) -> Text:
    text = Text()
    if slot.ok:
        text.append(slot.name, style="bold")
        where = slot.preview.get("where") if isinstance(slot.preview, dict) else ""
        if where:
            text.append(f"  {where}")
        if slot.saved_at:
            text.append(f"  {slot.saved_at[5:16]}", style="dim")
    else:
        text.append(f"✗ {slot.name}", style="bold")
        text.append("  can't be loaded", style="italic")
    return text


class _SlotsScreen(ModalScreen[str | None]):
    """The shared part: a list of slots beside the preview of the highlighted one."""

    BINDINGS = [Binding("escape", "cancel", "Back", id="back")]
    TITLE_TEXT = ""

    app: StraightApp

    def __init__(self) -> None:
        super().__init__()
        self.slots: list[SaveSlot] = []

    def compose(self) -> ComposeResult:
        with Vertical(classes="sheet slots-sheet"):
            yield Static(Text(self.TITLE_TEXT, style="bold"), classes="sheet-title")
            yield from self.compose_top()
            with Horizontal(classes="slots-body"):
                yield SafeOptionList(id="slots", markup=False)
                with VerticalScroll(id="slot-preview-box"):
                    yield Static(Text("Looking for saves…", style="italic"), id="slot-preview")
        yield Footer()

    def compose_top(self) -> ComposeResult:
        yield from ()

    def on_mount(self) -> None:
        self.list_slots()

    @work(thread=True, exclusive=True, group="list-saves", exit_on_error=False)
    def list_slots(self) -> None:
        try:
            slots = self.app.session.slots()
        except Exception:  # noqa: BLE001 - an unreadable folder lists as empty, never crashes
            slots = []
        self.post_message(SlotsListed(slots))

    @on(SlotsListed)
    def _listed(self, message: SlotsListed) -> None:
        if not self.query("#slots") or not self.query("#slot-preview"):
            return  # closed (or closing) while the list was being read
        self.slots = message.slots
        menu = self.query_one("#slots", OptionList)
        menu.set_options([Option(slot_label(s), id=f"s{i}") for i, s in enumerate(self.slots)])
        if self.slots:
            menu.highlighted = 0
            self._preview(self.slots[0])
        else:
            self.query_one("#slot-preview", Static).update(Text(self.EMPTY_TEXT, style="italic"))
        self.slots_shown()

    EMPTY_TEXT = "There are no saves yet."

    def slots_shown(self) -> None:
        self.query_one("#slots", OptionList).focus()

    def _preview(self, slot: SaveSlot) -> None:
        for preview in self.query("#slot-preview").results(Static):  # none once the screen closes
            preview.update(preview_text(slot))

    @on(OptionList.OptionHighlighted, "#slots")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        slot = self._slot(event.option.id)
        if slot is not None:
            self._preview(slot)

    def _slot(self, option_id: str | None) -> SaveSlot | None:
        if option_id and option_id[1:].isdigit() and int(option_id[1:]) < len(self.slots):
            return self.slots[int(option_id[1:])]
        return None

    def action_cancel(self) -> None:
        close(self, None)


class LoadScreen(_SlotsScreen):
    """Pick a save to load; dismisses with its slot name."""

    TITLE_TEXT = "Load a game  (Enter loads the highlighted save, Esc goes back)"
    BINDINGS = [Binding("enter", "load", "Load", show=True, id="load", priority=False)]

    @on(OptionList.OptionSelected, "#slots")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._load(self._slot(event.option.id))

    def action_load(self) -> None:
        menu = self.query_one("#slots", OptionList)
        if menu.highlighted is not None and self.slots:
            self._load(self.slots[menu.highlighted])

    def _load(self, slot: SaveSlot | None) -> None:
        if slot is None:
            return
        if not slot.ok:
            self.app.say(f"'{slot.name}' can't be loaded: {slot.reason}. The file is left as it is.",
                         "warning")
            return
        close(self, slot.name)


class SaveScreen(_SlotsScreen):
    """Type a name (or pick a slot to overwrite); dismisses with the slot name."""

    TITLE_TEXT = "Save the game  (type a name, Enter saves)"
    EMPTY_TEXT = "No saves yet: type a name above and press Enter."

    def compose_top(self) -> ComposeResult:
        yield Input(placeholder="A name for this save: letters, digits, - and _", id="save-name",
                    max_length=40)

    def on_mount(self) -> None:
        super().on_mount()
        for name_input in self.query("#save-name"):
            name_input.focus()

    def slots_shown(self) -> None:
        taken = {s.name for s in self.slots}
        n = 1
        while f"save-{n}" in taken:
            n += 1
        name_input = self.query_one("#save-name", Input)
        if not name_input.value:
            name_input.value = f"save-{n}"
        name_input.focus()

    @on(OptionList.OptionSelected, "#slots")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        slot = self._slot(event.option.id)
        if slot is not None:
            name_input = self.query_one("#save-name", Input)
            name_input.value = slot.name
            name_input.focus()

    @on(Input.Submitted, "#save-name")
    def _submitted(self, event: Input.Submitted) -> None:
        name = event.value.strip()
        if not SLOT_NAME.match(name):
            self.app.say("A save name is 1 to 40 letters, digits, '-' or '_', starting with a letter "
                         "or digit.", "warning")
            return
        if name == AUTOSAVE:
            self.app.say("The autosave is written after every choice: pick another name.", "warning")
            return
        existing = next((s for s in self.slots if s.name == name), None)
        if existing is None:
            close(self, name)
            return
        from .dialogs import ConfirmDialog  # noqa: I001 - imported when first needed

        def answered(yes: bool | None) -> None:
            if yes:
                close(self, name)

        note = "" if existing.ok else " (It can't be loaded now, but it is still your file.)"
        self.app.push_screen(ConfirmDialog(f"Replace the save '{name}'?",
                                           f"The game saved there will be lost.{note}",
                                           yes="Replace", no="Cancel"), answered)
