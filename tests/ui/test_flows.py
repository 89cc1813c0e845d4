"""Pilot tests: each screen and each flow a player goes through."""

from __future__ import annotations

import json

from game.engine import load_story
from game.engine.saves import AUTOSAVE, QUICKSAVE, slot_path
from game.ui.widgets import ChoiceList, NoticeLine, StatusLine, Transcript

from ..conftest import write_story
from .conftest import BASIC, SHIPPED
from .helpers import new_game, play_to_end, screen_name, settle, transcript_text

SIZE = (80, 24)


async def test_title_shows_the_story_notes_and_no_continue_without_an_autosave(build):
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert screen_name(app) == "TitleScreen"
        menu = app.screen.query_one("#menu").labels
        assert menu[0] == "New game"
        assert not any(item.startswith("Continue") for item in menu)
        notes = str(app.screen.query_one("#about-notes").render())
        assert "Content notes: tests, more tests." in notes
        assert "fiction" in str(app.screen.query_one("#about-disclaimer").render())
        assert app.screen.check_action("continue_game", ()) is False


async def test_new_game_choose_save_quit_continue_resumes_at_the_same_passage(build, saves):
    app = build(SHIPPED)
    async with app.run_test(size=SIZE) as pilot:
        await new_game(pilot)
        for _ in range(4):
            await pilot.press("1")
        game = app.session.game
        assert len(game.log) == 4
        # A named save through the save screen.
        await pilot.press("s")
        await settle(pilot)
        assert screen_name(app) == "SaveScreen"
        app.screen.query_one("#save-name").value = "before-lunch"
        await pilot.press("enter")
        await pilot.pause()
        assert screen_name(app) == "PlayScreen"
        assert slot_path(saves, "before-lunch").is_file()
        node, transcript, choices = game.node, list(game.transcript), [o.text for o in game.choices]
        shown = transcript_text(app)
        await pilot.press("ctrl+q")
    app.session.close()

    again = build(SHIPPED)
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        menu = again.screen.query_one("#menu").labels
        assert any(item.startswith("Continue") for item in menu)
        await pilot.press("c")
        await pilot.pause()
        assert screen_name(again) == "PlayScreen"
        resumed = again.session.game
        assert resumed.node == node
        assert resumed.transcript == transcript
        assert [o.text for o in resumed.choices] == choices
        assert transcript_text(again) == shown
        # The view opens on the current passage (from the last choice), not the top of the year.
        await pilot.pause()
        view = again.screen.query_one(Transcript)
        last_choice = max(i for i, (kind, _) in enumerate(resumed.transcript) if kind == "choice")
        top = view.start_of(last_choice)
        assert view.scroll_y > 0
        assert view.scroll_y <= top < view.scroll_y + view.scrollable_content_region.height
        # Replaying the log restored the undo history too.
        assert resumed.can_undo


async def test_choices_by_number_arrow_keys_and_mouse(build):
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await new_game(pilot)
        game = app.session.game
        assert game.current_node.id == "office.start"
        await pilot.press("enter")  # the first choice is highlighted
        assert game.current_node.id == "office.hub"
        # Arrow down to the second choice (going home, offered last), back up to Visit Ana, Enter.
        await pilot.press("down", "up", "enter")
        assert game.current_node.id == "office.ana_visit"
        # Mouse: click the second choice (warn her).
        await pilot.click(ChoiceList, offset=(6, 2))
        await pilot.pause()
        assert game.current_node.id == "office.hub"
        assert game.get("enforce_actions") == 1


async def test_disabled_choices_show_their_reason_and_cannot_be_taken(build):
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await new_game(pilot)
        await pilot.press("1", "1")  # to work, visit Ana
        options = app.screen.query_one(ChoiceList).options
        disabled = [o for o in options if o.disabled]
        assert len(disabled) == 1
        assert "Ask about her son" in str(disabled[0].prompt)
        assert "doesn't trust you enough" in str(disabled[0].prompt)
        # A disabled choice keeps its number: its key says why it can't be taken.
        assert str(disabled[0].prompt).startswith("3. ")
        assert app.screen.check_action("choose", (3,)) is True
        assert app.screen.check_action("choose", (4,)) is False
        await pilot.press("1", "1", "1")  # help, visit again, help: 2 hours left
        game = app.session.game
        visit = [o for o in game.choices if o.text == "Visit Ana"][0]
        assert not visit.enabled and "2 left" in visit.reason
        # Still number 1, as on every visit, and going home still number 2.
        prompts = [str(o.prompt) for o in app.screen.query_one(ChoiceList).options]
        assert prompts[0].startswith("1. Visit Ana") and prompts[1].startswith("2. Go home")
        before = len(game.log)
        await pilot.press("1")
        await pilot.pause()
        assert len(game.log) == before
        assert any("2 left" in n.message for n in app._notifications)


async def test_consequences_are_noticed_as_they_happen(build):
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await new_game(pilot)
        await pilot.press("1", "1", "1")
        line = app.screen.query_one(NoticeLine).plain
        assert "Ana: Accommodation +2" in line and "Ana: Trust in you +1" in line


async def test_story_text_is_never_markup(build):
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await new_game(pilot)
        text = transcript_text(app)
        assert "[bold]URGENT[/]" in text
        assert "{braces}" in text
        about = str(app.screen.query_one(StatusLine).render())
        assert "The Test Week" in about
    app = build(BASIC)
    async with app.run_test(size=SIZE) as pilot:
        await new_game(pilot)
        assert "[bold]x[/]" in transcript_text(app)


async def test_undo_steps_back_through_every_choice(build):
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await new_game(pilot)
        game = app.session.game
        start = (game.node, list(game.transcript))
        assert app.screen.check_action("undo", ()) is False
        # To work, visit Ana, help, visit her again, warn her, go home (yes, with hours left).
        keys = ["1", "1", "1", "1", "2", "2", "y", "1"]
        for key in keys:
            await pilot.press(key)
        assert len(game.log) == 7 and game.get("day") == 2
        for _ in range(7):
            await pilot.press("u")
        assert (game.node, game.transcript) == start
        assert app.screen.query_one(Transcript).entry_count == len(start[1])
        assert app.screen.check_action("undo", ()) is False


LOOP_STORY = {
    "story.yaml": "id: loop\ntitle: Loop\nstart: s.a\nvariables:\n"
    "  n: {type: int, initial: 0, min: 0, max: 100000, display: number, label: Count}\n",
    "s.yaml": "nodes:\n  a:\n    text: 'Round {n}.'\n    choices:\n"
    "      - text: Again\n        effects: [n += 1]\n        goto: a\n",
}


async def test_undo_keeps_at_least_a_hundred_steps(build, tmp_path):
    app = build(write_story(tmp_path / "loop", LOOP_STORY))
    async with app.run_test(size=SIZE) as pilot:
        await new_game(pilot)
        session = app.session
        for _ in range(150):
            session.choose(0)
        game = session.game
        steps = 0
        while game.can_undo:
            assert session.undo()
            steps += 1
        assert steps >= 100
        assert game.get("n") == 150 - steps


async def test_quick_save_and_quick_load(build, saves):
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await new_game(pilot)
        await pilot.press("1", "1")
        assert app.screen.check_action("quick_load", ()) is False
        await pilot.press("f5")
        assert slot_path(saves, QUICKSAVE).is_file()
        game = app.session.game
        saved_node, saved_log = game.node, list(game.log)
        await pilot.press("2", "1")  # visit Ana, help her
        assert app.session.game.log != saved_log
        await pilot.press("f9")
        await pilot.pause()
        assert app.session.game.node == saved_node
        assert app.session.game.log == saved_log


async def test_load_a_slot_from_the_load_screen(build):
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await new_game(pilot)
        await pilot.press("1", "1")
        app.session.save("first")
        log = list(app.session.game.log)
        await pilot.press("1", "1", "1")
        await pilot.press("l")
        await settle(pilot)
        assert screen_name(app) == "LoadScreen"
        names = [s.name for s in app.screen.slots]
        assert {"first", AUTOSAVE} <= set(names)
        app.screen.query_one("#slots").highlighted = names.index("first")
        await pilot.pause()
        preview = str(app.screen.query_one("#slot-preview").render())
        assert "Day 1" in preview and "Ana: Trust in you 2" in preview and "Saved" in preview
        await pilot.press("enter")
        await pilot.pause()
        # The autosave holds later play: loading says that Continue will resume this instead.
        assert screen_name(app) == "ConfirmDialog"
        await pilot.press("y")
        await pilot.pause()
        assert screen_name(app) == "PlayScreen"
        assert app.session.game.log == log


async def test_load_from_the_title_screen(build):
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await new_game(pilot)
        await pilot.press("1")
        app.session.save("named")
        await pilot.press("escape")
        await pilot.pause()
        assert screen_name(app) == "TitleScreen"
        await pilot.press("l")
        await settle(pilot)
        names = [s.name for s in app.screen.slots]
        app.screen.query_one("#slots").highlighted = names.index("named")
        await pilot.press("enter")
        await pilot.pause()
        assert screen_name(app) == "PlayScreen"
        assert len(app.session.game.log) == 1


async def test_reaching_an_ending_records_it_in_the_gallery(build, saves):
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await new_game(pilot)
        await play_to_end(pilot)
        game = app.session.game
        assert game.ended
        assert app.screen.check_action("review", ())
        assert app.screen.check_action("undo", ())
        # The choices give way to what can be done at the end.
        options = [str(o.prompt) for o in app.screen.query_one(ChoiceList).options]
        assert "Review" in options[0]
        await pilot.press("r")
        await pilot.pause()
        assert screen_name(app) == "ReviewScreen"
        review = str(app.screen.query_one("#review-text").render())
        assert game.ending.title in review
        for end in game.character_endings().values():
            assert end.title in review
        await pilot.press("escape")
        await pilot.press("2")  # the endings gallery, offered at the end
        await pilot.pause()
        assert screen_name(app) == "GalleryScreen"
        gallery = str(app.screen.query_one("#gallery-text").render())
        assert f"✓  {game.ending.title}" in gallery
        assert f"of {len(game.story.endings)}" in gallery
    profile = json.loads((saves / ".profile.json").read_text())
    seen = profile["stories"][game.story.id]["endings"]
    assert game.ending.id in seen and seen[game.ending.id]["count"] == 1
    assert len(profile["stories"][game.story.id]["runs"]) == 1

    # A second run, helping Ana twice, reaches another of her endings; the review compares
    # this run's way of working with the first run's, and the gallery keeps both.
    again = build()
    async with again.run_test(size=SIZE) as pilot:
        await new_game(pilot)
        await pilot.press("1", "1", "1", "1", "1")
        await play_to_end(pilot)
        assert again.session.game.character_endings()["ana"].id == "ana_housed"
        await pilot.press("r")
        await pilot.pause()
        review = str(again.screen.query_one("#review-text").render())
        assert "How you worked" in review
        assert "Support choices: 2  (more than your earlier average of 0.0)" in review
        assert "Earlier runs (1)" not in review  # the first run made no approach choices at all
        await pilot.press("escape")
        await pilot.press("escape")  # to the title screen
        await pilot.press("e")
        await pilot.pause()
        gallery = str(again.screen.query_one("#gallery-text").render())
        assert "✓  A flat of her own" in gallery and "✓  Same as before" in gallery
        assert "2 finished runs" in gallery


async def test_journal_outcomes_and_review_at_80x24(build):
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await new_game(pilot)
        await play_to_end(pilot)
        await pilot.press("j")
        await pilot.pause()
        assert screen_name(app) == "JournalScreen"
        journal = str(app.screen.query_one("#journal-text").render())
        assert "Day 1" in journal and "Day 4  (now)" in journal
        assert "› Get to work." in journal
        assert "◆ Ana: Same as before\n" in journal and "(mixed)" not in journal
        await pilot.press("escape", "o")
        await pilot.pause()
        assert screen_name(app) == "OutcomesScreen"
        tabs = app.screen.query("TabPane")
        assert {t.id for t in tabs} == {"case-0", "case-1", "group-0", "group-1", "group-2", "overall"}
        charts = app.screen.query("Chart")
        assert charts
        drawn = str(charts.first().render())
        assert "Day 1" in drawn and "┤" in drawn
        await pilot.press("escape")
        await pilot.pause()
        assert screen_name(app) == "PlayScreen"


async def test_help_opens_on_f1_and_question_mark_with_the_active_keys(build):
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await new_game(pilot)
        await pilot.press("f1")
        await pilot.pause()
        assert screen_name(app) == "HelpScreen"
        help_md = app.screen.query_one("#help-text").source
        assert "How to play" in help_md and "| u | Undo |" not in help_md  # nothing to undo yet
        assert "Take that choice" in help_md and "Journal" in help_md
        await pilot.press("escape")
        await pilot.press("1")
        await pilot.press("question_mark")
        await pilot.pause()
        assert screen_name(app) == "HelpScreen"
        assert "| u, ^z | Undo |" in app.screen.query_one("#help-text").source
        await pilot.press("escape")
        await pilot.pause()
        assert screen_name(app) == "PlayScreen"


async def test_support_screen_lists_real_helplines(build):
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("s")
        await pilot.pause()
        assert screen_name(app) == "SupportScreen"
        text = app.screen.query_one("#support-text").source
        assert "116 123" in text and "0808 2000 247" in text


async def test_command_palette_offers_what_makes_sense_now(build):
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        names = [c.name for c in app.palette_commands(app.screen)]
        assert "New game" in names and "Undo" not in names
        await new_game(pilot)
        names = [c.name for c in app.palette_commands(app.screen)]
        assert "Undo" not in names and "Journal" in names
        await pilot.press("1")
        names = [c.name for c in app.palette_commands(app.screen)]
        assert "Undo" in names and "Quick load" not in names
        await pilot.press("f5")
        assert "Quick load" in [c.name for c in app.palette_commands(app.screen)]
        # The palette itself lists them.
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"journal")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert screen_name(app) == "JournalScreen"


async def test_theme_choice_is_remembered(build, saves):
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        app.theme = "nord"
        await pilot.pause()
    again = build()
    async with again.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert again.theme == "nord"
    assert json.loads((saves / ".profile.json").read_text())["theme"] == "nord"


async def test_resume_opens_straight_into_the_given_game(build):
    story = load_story(SHIPPED, cache_dir=False)
    from game.engine import Game

    game = Game(story, seed=3)
    game.choose(0)
    app = build(game=game, resume=True)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert screen_name(app) == "PlayScreen"
        assert app.session.game.log == [0]


async def test_the_shipped_story_plays_to_an_ending(build):
    app = build(SHIPPED)
    async with app.run_test(size=SIZE) as pilot:
        await new_game(pilot)
        # The year is hundreds of choices: take the first on offer in the story's order through
        # the play screen (what a key runs, once any question is answered), pausing now and then
        # to let the screen catch up.
        screen = app.screen
        for step in range(2000):
            if app.session.game.ended:
                break
            game = app.session.game
            screen.take(next(o.index for o in game.choices if o.enabled))
            if step % 25 == 0:
                await pilot.pause()
        assert app.session.game.ended
        await pilot.pause()
        await pilot.press("r")
        await pilot.pause()
        assert screen_name(app) == "ReviewScreen"
        assert app.session.game.ending.title in str(app.screen.query_one("#review-text").render())
        await pilot.press("escape", "j")
        await pilot.pause()
        assert screen_name(app) == "JournalScreen"


async def test_the_title_menu_works_with_arrows_enter_and_the_mouse(build):
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        menu = app.screen.query_one("#menu")
        assert menu.labels[menu.highlighted] == "New game"
        await pilot.press("down", "down", "down")  # Load, Endings, Help
        assert menu.labels[menu.highlighted] == "Help"
        await pilot.press("enter")
        await pilot.pause()
        assert screen_name(app) == "HelpScreen"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.click("#menu", offset=(2, menu.labels.index("Endings")))
        await pilot.pause()
        assert screen_name(app) == "GalleryScreen"
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("up")  # wraps round to Quit
        assert menu.labels[menu.highlighted] == "Quit"
        await pilot.press("enter")
        await pilot.pause()
        assert not app.is_running
