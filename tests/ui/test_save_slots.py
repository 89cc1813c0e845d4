"""Pilot tests of the save and load screens: the name to replace, dates a reader can't
misread, delete and rename with a confirmation, and saying what Continue resumes."""

from __future__ import annotations

import json

from game.engine.saves import AUTOSAVE, slot_path
from game.ui.screens.saves import saved_on

from .helpers import new_game, screen_name, settle

SIZE = (80, 24)


def _notifications(app) -> list[str]:
    return [n.message for n in app._notifications]


def _date(saves, name: str, saved_at: str) -> None:
    path = slot_path(saves, name)
    data = json.loads(path.read_text())
    data["saved_at"] = saved_at
    path.write_text(json.dumps(data))


def test_dates_are_day_first_with_the_year():
    assert saved_on("2026-12-02 04:18:09") == "2 Dec 2026, 04:18"
    assert saved_on("2014-04-07 09:30:00") == "7 Apr 2014, 09:30"
    assert saved_on("yesterday\x1b[2J") == "yesterday\\x1b[2J"  # not a date: shown safely as it is


async def test_the_suggested_save_name_is_replaced_by_typing(build, saves):
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await new_game(pilot)
        await pilot.press("1", "s")
        await settle(pilot)
        assert screen_name(app) == "SaveScreen"
        name = app.screen.query_one("#save-name")
        assert name.value == "save-1" and name.selected_text == "save-1"
        await pilot.press("w", "e", "b", "enter")
        await pilot.pause()
        assert screen_name(app) == "PlayScreen"
        assert slot_path(saves, "web").is_file() and not slot_path(saves, "save-1web").exists()


async def test_the_load_screen_marks_what_continue_resumes_with_dates(build, saves):
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await new_game(pilot)
        await pilot.press("1")
        app.session.save("monday")
        app.session.flush()
        _date(saves, "monday", "2014-04-07 09:30:00")
        await pilot.press("l")
        await settle(pilot)
        labels = {
            s.name: str(o.prompt)
            for s, o in zip(app.screen.slots, app.screen.query_one("#slots").options, strict=True)
        }
        assert "7 Apr 2014, 09:30" in labels["monday"] and "Continue" not in labels["monday"]
        assert labels[AUTOSAVE].startswith("Autosave") and labels[AUTOSAVE].endswith("◂ Continue")
        names = [s.name for s in app.screen.slots]
        app.screen.query_one("#slots").highlighted = names.index(AUTOSAVE)
        await pilot.pause()
        preview = str(app.screen.query_one("#slot-preview").render())
        assert "most recent play: Continue on the title screen resumes it" in preview


async def test_delete_asks_first_and_keeps_the_file_on_no(build, saves):
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await new_game(pilot)
        await pilot.press("1")
        app.session.save("spare")
        await pilot.press("l")
        await settle(pilot)
        names = [s.name for s in app.screen.slots]
        app.screen.query_one("#slots").highlighted = names.index("spare")
        await pilot.press("d")
        await pilot.pause()
        assert screen_name(app) == "ConfirmDialog"
        await pilot.press("n")
        await pilot.pause()
        assert screen_name(app) == "LoadScreen" and slot_path(saves, "spare").is_file()
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
        assert not slot_path(saves, "spare").exists()
        assert "spare" not in [s.name for s in app.screen.slots]
        assert any("Deleted 'spare'" in n for n in _notifications(app))


async def test_rename_selects_the_name_and_never_replaces_another_save(build, saves):
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await new_game(pilot)
        await pilot.press("1")
        app.session.save("monday")
        app.session.save("tuesday")
        tuesday = slot_path(saves, "tuesday").read_bytes()
        await pilot.press("l")
        await settle(pilot)
        names = [s.name for s in app.screen.slots]
        app.screen.query_one("#slots").highlighted = names.index("monday")
        await pilot.press("r")
        await pilot.pause()
        assert screen_name(app) == "NameDialog"
        assert app.screen.query_one("#name").selected_text == "monday"
        await pilot.press(*"court", "enter")
        await settle(pilot)
        assert screen_name(app) == "LoadScreen"
        assert slot_path(saves, "court").is_file() and not slot_path(saves, "monday").exists()
        names = [s.name for s in app.screen.slots]
        assert "court" in names and "monday" not in names
        assert app.screen.query_one("#slots").highlighted == names.index("court")  # still on it
        # Onto a name that is taken: refused, both saves kept as they were.
        app.screen.query_one("#slots").highlighted = names.index("court")
        await pilot.press("r")
        await pilot.pause()
        await pilot.press(*"tuesday", "enter")
        await settle(pilot)
        assert any("already a save called 'tuesday'" in n for n in _notifications(app))
        assert slot_path(saves, "court").is_file() and slot_path(saves, "tuesday").read_bytes() == tuesday
        # Escape leaves the name alone; the autosave keeps its name.
        await pilot.press("r")
        await pilot.pause()
        await pilot.press("x", "escape")
        await settle(pilot)
        assert slot_path(saves, "court").is_file()
        names = [s.name for s in app.screen.slots]
        app.screen.query_one("#slots").highlighted = names.index(AUTOSAVE)
        await pilot.press("r")
        await pilot.pause()
        assert screen_name(app) == "LoadScreen"
        assert any("autosave keeps its name" in n for n in _notifications(app))


async def test_loading_an_older_save_says_that_continue_will_resume_it(build, saves):
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await new_game(pilot)
        await pilot.press("1")
        app.session.save("early")
        early = list(app.session.game.log)
        await pilot.press("1", "1")
        latest = list(app.session.game.log)
        await pilot.press("l")
        await settle(pilot)
        names = [s.name for s in app.screen.slots]
        app.screen.query_one("#slots").highlighted = names.index("early")
        await pilot.press("enter")
        await pilot.pause()
        assert screen_name(app) == "ConfirmDialog"
        body = str(app.screen.query_one(".dialog-body").render())
        assert "Continue will then resume this save instead of your most recent play (Day" in body
        await pilot.press("escape")
        await pilot.pause()
        assert screen_name(app) == "LoadScreen" and app.session.game.log == latest
        await pilot.press("enter")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert screen_name(app) == "PlayScreen" and app.session.game.log == early
        # Continue now resumes the save just loaded, as the dialog said.
        await pilot.press("escape")
        await pilot.pause()
        assert screen_name(app) == "TitleScreen"
        assert app.screen.autosave is not None and app.screen.autosave.log == early


async def test_a_load_screen_behind_a_dialog_is_not_closed_in_the_dialogs_place(build, saves):
    """A choice of save that reaches the list after a dialog has opened over it (keys in a
    burst) does nothing: it neither closes the dialog nor gives the load screen's answer."""
    from game.ui.screens.dialogs import ConfirmDialog, close

    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await new_game(pilot)
        await pilot.press("1")
        app.session.flush()
        await pilot.press("l")
        await settle(pilot)
        load = app.screen
        answers: list[bool | None] = []
        app.push_screen(ConfirmDialog("Delete 'autosave'?", "It can't be undone."), answers.append)
        await pilot.pause()
        close(load, AUTOSAVE)
        await settle(pilot)
        assert screen_name(app) == "ConfirmDialog"
        assert app.screen_stack[-2] is load and answers == []
        await pilot.press("n")
        await settle(pilot)
        assert app.screen is load and answers == [False]
