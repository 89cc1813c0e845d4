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

from ...engine import SaveError
from ...engine.saves import AUTOSAVE, QUICKSAVE, SaveSlot
from ...engine.textsafe import one_line, terminal_safe
from .. import render
from ..widgets import SafeOptionList
from .dialogs import ConfirmDialog, NameDialog, close

if TYPE_CHECKING:
    from ..app import StraightApp

SLOT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}\Z")


class SlotsListed(Message):
    def __init__(self, slots: list[SaveSlot]) -> None:
        super().__init__()
        self.slots = slots


def saved_on(saved_at: str) -> str:
    """A save's time as players read it, day first with the year: '2 Dec 2026, 04:18'."""
    return render.date_text(saved_at)


def slot_title(slot: SaveSlot) -> str:
    """A slot's name as players read it: the autosave and quick save by what they are."""
    if slot.name == AUTOSAVE:
        return "Autosave"
    if slot.name == QUICKSAVE:
        return "Quick save"
    return one_line(slot.name)


def preview_text(slot: SaveSlot) -> Text:
    """What a slot holds: where, each case in a line, when it was saved; or why it can't load."""
    text = Text()
    text.append(slot_title(slot), style="bold")
    text.append("\n")
    if not slot.ok:
        text.append("Can't be loaded: ", style="bold")
        text.append(terminal_safe(slot.reason or "unknown problem"))
        text.append("\nThe file is left as it is.", style="italic")
        return text
    if slot.name == AUTOSAVE:
        text.append("Your most recent play: Continue on the title screen resumes it.\n", style="italic")
    prev = slot.preview
    where = " · ".join(terminal_safe(str(p)) for p in (prev.get("where"), prev.get("title")) if p)
    if where:
        text.append(where + "\n")
    if prev.get("ending"):
        text.append(f"Ended: {terminal_safe(str(prev['ending']))}\n", style="italic")
    for line in prev.get("cases") or []:
        text.append(f"{terminal_safe(str(line))}\n")
    if slot.saved_at:
        text.append(f"Saved {saved_on(slot.saved_at)}", style="dim")
    text.rstrip()
    return text


def slot_label(slot: SaveSlot) -> Text:
    """A slot in the list: its name and where it is, then when it was saved (two lines, so a
    narrow list never breaks a date in two)."""
    text = Text()
    if slot.ok:
        text.append(slot_title(slot), style="bold")
        where = slot.preview.get("where") if isinstance(slot.preview, dict) else ""
        if where:
            text.append(f"  {one_line(str(where))}")
        text.append("\n  ")
        if slot.saved_at:
            text.append(saved_on(slot.saved_at), style="dim")
        if slot.name == AUTOSAVE:
            text.append("  ◂ Continue", style="italic")
    else:
        text.append(f"✗ {slot_title(slot)}", style="bold")
        text.append("\n  can't be loaded", style="italic")
    return text


class _SlotsScreen(ModalScreen[str | None]):
    """The shared part: a list of slots beside the preview of the highlighted one."""

    BINDINGS = [Binding("escape", "cancel", "Back", id="back")]
    TITLE_TEXT = ""

    app: StraightApp

    def __init__(self) -> None:
        super().__init__()
        self.slots: list[SaveSlot] = []
        self.highlight_next = ""  # the slot to highlight when the list is next read

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
            names = [s.name for s in self.slots]
            index = names.index(self.highlight_next) if self.highlight_next in names else 0
            self.highlight_next = ""
            menu.highlighted = index
            self._preview(self.slots[index])
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
    """Pick a save to load (dismisses with its slot name), or delete or rename one."""

    TITLE_TEXT = "Load a game  (Enter loads, R renames, D deletes, Esc goes back)"
    BINDINGS = [
        Binding("enter", "load", "Load", show=True, id="load", priority=False),
        Binding("r", "rename", "Rename", id="rename"),
        Binding("d", "delete", "Delete", id="delete"),
    ]

    @on(OptionList.OptionSelected, "#slots")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._load(self._slot(event.option.id))

    def _highlighted_slot(self) -> SaveSlot | None:
        menu = self.query_one("#slots", OptionList)
        if menu.highlighted is not None and menu.highlighted < len(self.slots):
            return self.slots[menu.highlighted]
        return None

    def action_load(self) -> None:
        self._load(self._highlighted_slot())

    def _load(self, slot: SaveSlot | None) -> None:
        if slot is None:
            return
        name = one_line(slot.name)
        if not slot.ok:
            self.app.say(
                f"'{name}' can't be loaded: {one_line(slot.reason)}. The file is left as it is.", "warning"
            )
            return
        latest = next((s for s in self.slots if s.name == AUTOSAVE and s.ok), None)
        if (
            slot.name == AUTOSAVE
            or latest is None
            or latest.preview.get("ending")
            or self.app.session.continues_with(slot.name)
        ):
            close(self, slot.name)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                close(self, slot.name)

        where = one_line(str(latest.preview.get("where") or ""))
        when = saved_on(latest.saved_at) if latest.saved_at else ""
        played = ", ".join(p for p in (where, f"autosaved {when}" if when else "") if p)
        self.app.push_screen(
            ConfirmDialog(
                f"Load '{slot_title(slot)}'?",
                f"Continue will then resume this save instead of your most recent play"
                f"{f' ({played})' if played else ''}, which is kept only if you saved it under a name.",
                yes="Load",
                no="Cancel",
            ),
            answered,
        )

    def action_delete(self) -> None:
        slot = self._highlighted_slot()
        if slot is None:
            return
        note = " Continue will have nothing to resume." if slot.name == AUTOSAVE else ""

        def answered(yes: bool | None) -> None:
            if yes:
                try:
                    self.app.session.delete(slot.name)
                except SaveError as exc:
                    self.app.say(f"Not deleted: {one_line(str(exc))}.", "error")
                    return
                self.app.say(f"Deleted '{slot_title(slot)}'.")
                self.list_slots()

        self.app.push_screen(
            ConfirmDialog(
                f"Delete '{slot_title(slot)}'?",
                f"The save file is removed for good.{note}",
                yes="Delete",
                no="Cancel",
            ),
            answered,
        )

    def action_rename(self) -> None:
        slot = self._highlighted_slot()
        if slot is None:
            return
        if slot.name == AUTOSAVE:
            self.app.say(
                "The autosave keeps its name, so Continue can find it: load it and save "
                "it under a name instead.",
                "warning",
            )
            return

        def answered(name: str | None) -> None:
            if not name or name == slot.name:
                return
            problem = name_problem(name)
            if problem:
                self.app.say(problem, "warning")
                return
            try:
                self.app.session.rename(slot.name, name)
            except SaveError as exc:
                self.app.say(f"Not renamed: {one_line(str(exc))}.", "error")
                return
            self.app.say(f"Renamed '{slot_title(slot)}' to '{name}'.")
            self.highlight_next = name
            self.list_slots()

        self.app.push_screen(
            NameDialog(
                f"Rename '{slot_title(slot)}'",
                "A new name: letters, digits, - and _.",
                slot.name if SLOT_NAME.match(slot.name) else "",
            ),
            answered,
        )


def name_problem(name: str) -> str:
    """Why a name can't be a save's name, or '' if it can."""
    if not SLOT_NAME.match(name):
        return "A save name is 1 to 40 letters, digits, '-' or '_', starting with a letter or digit."
    if name == AUTOSAVE:
        return "The autosave is written after every choice: pick another name."
    return ""


class SaveScreen(_SlotsScreen):
    """Type a name (or pick a slot to overwrite); dismisses with the slot name."""

    TITLE_TEXT = "Save the game  (type a name, Enter saves)"
    EMPTY_TEXT = "No saves yet: type a name above and press Enter."

    def compose_top(self) -> ComposeResult:
        yield Input(
            placeholder="A name for this save: letters, digits, - and _", id="save-name", max_length=40
        )

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
        # Selected, so that typing a name replaces the suggestion instead of adding to it.
        name_input.select_all()

    @on(OptionList.OptionSelected, "#slots")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        slot = self._slot(event.option.id)
        if slot is not None:
            name_input = self.query_one("#save-name", Input)
            name_input.value = slot.name
            name_input.focus()
            name_input.select_all()

    @on(Input.Submitted, "#save-name")
    def _submitted(self, event: Input.Submitted) -> None:
        name = event.value.strip()
        problem = name_problem(name)
        if problem:
            self.app.say(problem, "warning")
            return
        existing = next((s for s in self.slots if s.name == name), None)
        if existing is None:
            close(self, name)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                close(self, name)

        note = "" if existing.ok else " (It can't be loaded now, but it is still your file.)"
        self.app.push_screen(
            ConfirmDialog(
                f"Replace the save '{name}'?",
                f"The game saved there will be lost.{note}",
                yes="Replace",
                no="Cancel",
            ),
            answered,
        )
