"""Pilot tests: no key throws time away, the story can always be read, focus stays put,
numbers stay still, undone choices can be redone, and the settings are kept."""

from __future__ import annotations

import json

import pytest
from textual import events

from game.ui.widgets import CHOSEN_MARK, ChoiceList, Transcript

from .conftest import SHIPPED
from .helpers import key_for, new_game, screen_name

SIZES = pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])


def _week(app) -> int:
    return app.session.game.get("week")


# -- 1. ending a turn takes a deliberate act ------------------------------------------------
@SIZES
async def test_pressing_1_thirty_times_never_leaves_the_first_week(build, size):
    app = build(SHIPPED)
    async with app.run_test(size=size) as pilot:
        await new_game(pilot)
        for _ in range(30):
            await pilot.press("1")
            await pilot.pause()
        assert app.session.game.turn == 0 and _week(app) == 1
        assert len(app.session.game.log) >= 20  # the presses did take choices
        assert screen_name(app) == "PlayScreen"


@SIZES
async def test_enter_thirty_times_never_leaves_the_first_week(build, size):
    app = build(SHIPPED)
    async with app.run_test(size=size) as pilot:
        await new_game(pilot)
        for _ in range(30):
            await pilot.press("enter")
            await pilot.pause()
        assert app.session.game.turn == 0 and _week(app) == 1


async def test_ending_the_day_early_comes_last_and_asks_first(build):
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await new_game(pilot)
        await pilot.press("1")  # to work: the office, where going home is offered last
        prompts = [str(o.prompt) for o in app.screen.query_one(ChoiceList).options]
        assert prompts[-1].startswith(f"{len(prompts)}. Go home for the day.")
        assert prompts[0].startswith("1. Visit Ana")
        game = app.session.game
        await pilot.press(key_for(app, "Go home for the day."))
        await pilot.pause()
        assert screen_name(app) == "ConfirmDialog"
        body = " ".join(str(s.render()) for s in app.screen.query("Static"))
        assert "Go home for the day?" in body and "8 hours left" in body
        await pilot.press("enter")  # Enter means "not yet": the safe answer has the focus
        await pilot.pause()
        assert screen_name(app) == "PlayScreen" and game.turn == 0
        await pilot.press(key_for(app, "Go home for the day."), "y")
        await pilot.pause()
        assert game.turn == 1


async def test_the_question_can_be_turned_off_in_the_settings(build, saves):
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        app.session.profile.set_setting("confirm_end_turn", False)
        await new_game(pilot)
        await pilot.press("1")
        await pilot.press(key_for(app, "Go home for the day."))
        await pilot.pause()
        assert screen_name(app) == "PlayScreen" and app.session.game.turn == 1


# -- 2. text you can always read ------------------------------------------------------------
@SIZES
async def test_the_new_passage_starts_at_the_top_and_page_keys_scroll_it(build, size):
    app = build(SHIPPED)
    async with app.run_test(size=size) as pilot:
        await new_game(pilot)
        await pilot.press("1", "1")  # the custody desk, then upstairs to meet Marcia
        await pilot.pause()
        game = app.session.game
        view = app.screen.query_one(Transcript)
        choices = app.screen.query_one(ChoiceList)
        assert app.focused is choices
        last_choice = max(i for i, (kind, _) in enumerate(game.transcript) if kind == "choice")
        assert view.scroll_y == min(view.start_of(last_choice), view.max_scroll_y)
        if view.max_scroll_y > view.scroll_y:  # the passage runs on below the view: it says so
            assert view.more_below and "more below" in str(choices.border_title)
        top = view.scroll_y
        await pilot.press("end")
        await pilot.pause()
        assert view.scroll_y == view.max_scroll_y and not view.more_below
        assert not choices.border_title
        await pilot.press("home")
        await pilot.pause()
        assert view.scroll_y == 0
        await pilot.press("pagedown")
        await pilot.pause()
        assert view.scroll_y > 0
        await pilot.press("pageup")
        await pilot.pause()
        assert view.scroll_y == 0 and top >= 0
        assert app.focused is choices  # the keys scrolled the story, not the choices


async def test_the_wheel_scrolls_the_story_while_the_choices_have_focus(build):
    app = build(SHIPPED)
    async with app.run_test(size=(80, 24)) as pilot:
        await new_game(pilot)
        await pilot.press("1", "1", "home")
        await pilot.pause()
        view = app.screen.query_one(Transcript)
        assert view.scroll_y == 0 and app.focused is app.screen.query_one(ChoiceList)
        view.post_message(events.MouseScrollDown(view, 5, 5, 0, 1, 0, False, False, False))
        await pilot.pause()
        assert view.scroll_y > 0
        assert app.focused is app.screen.query_one(ChoiceList)


@SIZES
async def test_the_choice_box_is_as_tall_as_its_choices(build, size):
    app = build()
    async with app.run_test(size=size) as pilot:
        await new_game(pilot)
        choices = app.screen.query_one(ChoiceList)
        assert choices.option_count == 1
        assert choices.outer_size.height == 2  # the rule above it, and one choice
        await pilot.press("1")
        await pilot.pause()
        assert choices.outer_size.height == 1 + choices.option_count


# -- 3. focus is never lost to a click --------------------------------------------------------
async def test_a_click_on_the_title_blurb_leaves_the_menu_its_keys(build):
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        menu = app.screen.query_one("#menu")
        await pilot.click("#about-description")
        await pilot.pause()
        assert app.focused is menu
        await pilot.press("down", "down")
        assert menu.labels[menu.highlighted] == "Endings"
        await pilot.press("up", "up", "enter")  # New game
        await pilot.pause()
        assert screen_name(app) == "PlayScreen"


async def test_a_click_on_the_story_or_the_cases_leaves_the_choices_their_keys(build):
    app = build()
    async with app.run_test(size=(120, 40)) as pilot:
        await new_game(pilot)
        choices = app.screen.query_one(ChoiceList)
        await pilot.click(Transcript)
        await pilot.click("#caseload")
        await pilot.pause()
        assert app.focused is choices
        await pilot.press("enter")
        await pilot.pause()
        assert app.session.game.current_node.id == "office.hub"


# -- 4. notices stay clear of the choices -------------------------------------------------------
@SIZES
async def test_notices_never_cover_the_choices(build, size):
    app = build()
    async with app.run_test(size=size, notifications=True) as pilot:
        await new_game(pilot)
        await pilot.press("1")
        for n in range(3):
            app.say(f"A notice that is long enough to wrap onto more than one line, number {n}.")
        await pilot.pause()
        await pilot.pause()
        toasts = app.screen.query("Toast")
        assert toasts
        region = app.screen.query_one(ChoiceList).region
        for toast in toasts:
            assert not toast.region.overlaps(region)


# -- 5. redo, and choices taken in earlier playthroughs ------------------------------------------
async def test_redo_rolls_forward_after_undo(build):
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await new_game(pilot)
        await pilot.press("1", "1", "1")  # to work, visit Ana, help her
        game = app.session.game
        after = game.to_dict()
        assert app.screen.check_action("redo", ()) is False
        await pilot.press("u", "u")
        assert len(game.log) == 1 and app.screen.check_action("redo", ())
        await pilot.press("ctrl+y", "ctrl+y")
        await pilot.pause()
        assert game.to_dict() == after
        assert app.screen.check_action("redo", ()) is False
        # A different choice after an undo ends what can be redone.
        await pilot.press("u", "2")
        assert not app.session.can_redo


async def test_choices_taken_in_an_earlier_playthrough_are_marked(build, saves):
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await new_game(pilot)
        await pilot.press("1", "1", "1")  # to work, visit Ana, help her
        # Not in the playthrough that took them, even when it is continued from the title.
        assert not any(CHOSEN_MARK in str(o.prompt) for o in app.screen.query_one(ChoiceList).options)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("c")
        await pilot.pause()
        assert screen_name(app) == "PlayScreen"
        assert not any(CHOSEN_MARK in str(o.prompt) for o in app.screen.query_one(ChoiceList).options)
    kept = json.loads((saves / ".profile.json").read_text())["stories"]["ui-test"]["chosen"]
    assert any(k.startswith("office.start:") for k in kept) and "event:office.ana_visit" in kept

    again = build()
    async with again.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")  # the first game is autosaved: a new one asks first
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        prompts = [str(o.prompt) for o in again.screen.query_one(ChoiceList).options]
        assert prompts == [f"1. Get to work.  {CHOSEN_MARK}"]
        await pilot.press("1")
        prompts = [str(o.prompt) for o in again.screen.query_one(ChoiceList).options]
        assert CHOSEN_MARK in prompts[0] and CHOSEN_MARK not in prompts[-1]  # Ana yes, home no
        await pilot.press("1")
        prompts = [str(o.prompt) for o in again.screen.query_one(ChoiceList).options]
        assert CHOSEN_MARK in prompts[0] and CHOSEN_MARK not in prompts[1]  # helped her, never warned


# -- 6. settings -----------------------------------------------------------------------------------
@SIZES
async def test_settings_from_the_title_play_screen_and_palette_are_kept(build, saves, size):
    app = build()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        menu = app.screen.query_one("#menu")
        await pilot.click("#menu", offset=(2, menu.labels.index("Settings")))
        await pilot.pause()
        assert screen_name(app) == "SettingsScreen"
        app.screen.query_one("#text-width").value = 60
        app.screen.query_one("#confirm-end-turn").value = False
        app.screen.query_one("#reduce-motion").value = True
        app.screen.query_one("#theme").value = "nord"
        await pilot.pause()
        assert app.animation_level == "none" and app.theme == "nord"
        await pilot.press("escape")
        await pilot.pause()
        await new_game(pilot)
        assert app.screen.query_one(Transcript)._wrap == 60
        await pilot.press("f2")
        await pilot.pause()
        assert screen_name(app) == "SettingsScreen"
        app.screen.query_one("#text-width").value = 0
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
        view = app.screen.query_one(Transcript)
        assert view._wrap == view.size.width - 1
        assert "Settings" in [c.name for c in app.palette_commands(app.screen)]
    settings = json.loads((saves / ".profile.json").read_text())["settings"]
    assert settings == {"text_width": 0, "confirm_end_turn": False, "reduce_motion": True}

    again = build()
    async with again.run_test(size=size) as pilot:
        await pilot.pause()
        assert again.animation_level == "none" and again.theme == "nord"
        assert not again.session.profile.setting("confirm_end_turn")


async def test_a_click_on_a_chart_or_a_save_preview_leaves_the_focus_where_it_was(build):
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await new_game(pilot)
        await pilot.press("1")
        app.session.save("first")
        await pilot.press("o")
        await pilot.pause()
        assert screen_name(app) == "OutcomesScreen"
        before = app.focused
        await pilot.click("TabPane", offset=(10, 5))
        await pilot.pause()
        assert app.focused is before
        await pilot.press("escape", "l")
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen_name(app) == "LoadScreen"
        before = app.focused
        await pilot.click("#slot-preview-box")
        await pilot.pause()
        assert app.focused is before
