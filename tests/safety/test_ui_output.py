"""What the Textual UI would send to the terminal, captured from the segments it renders, holds
no control character made by a story, a save, a file name or a message."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from game.engine import Game, load_story
from game.engine.saves import load_save, write_save
from game.engine.textsafe import UNSAFE
from game.ui.app import make_app

from ..conftest import STORIES, write_story
from ..ui.helpers import screen_name, settle, transcript_text

SIZE = (100, 30)
# Set the clipboard, set the window title, wipe the screen, a C1 CSI and DCS, a bell.
PAYLOAD = "\x1b]52;c;ZXZpbA==\x07\x1b]0;pwned\x07\x1b[2J\x9b2J\x90q\x9c\x08"
SIGNATURES = ("\x1b]52", "\x1b]0;", "\x1b[2J", "\x9b", "\x90", "\x07", "\x08")


def terminal_output(app) -> str:
    """The frame as the app would write it, after checking every segment's own text."""
    update = app.screen._compositor.render_full_update()
    for chops in update.strips:
        for strip in chops:
            for segment in strip:
                if segment.control:
                    continue
                bad = UNSAFE.search(segment.text)
                assert bad is None, f"{segment.text!r} would reach the terminal"
    raw = update.render_segments(app.console)
    for sig in SIGNATURES:
        assert sig not in raw, f"{sig!r} in the output"
    return raw


def _hostile_save(saves: Path, story_dir: Path, name: str = "evil") -> Path:
    story = load_story(story_dir, cache_dir=False)
    write_save(saves, "good", Game(story, seed=4))
    data = json.loads((saves / "good.json").read_text())
    data["label"] = PAYLOAD
    data["saved_at"] = PAYLOAD
    data["preview"].update(where=PAYLOAD, title=PAYLOAD, cases=[PAYLOAD], ending=PAYLOAD)
    data["state"]["passage"] = [f"before {PAYLOAD} after"]
    data["state"]["transcript"] = [["text", PAYLOAD], ["choice", PAYLOAD]]
    for opt in data["state"]["options"]:
        opt.update(text=f"choose {PAYLOAD}", reason=PAYLOAD, cost=PAYLOAD)
    path = saves / f"{name}.json"
    path.write_text(json.dumps(data))
    return path


async def test_a_hostile_save_played_in_the_ui_sends_no_control_characters(tmp_path):
    story_dir = STORIES / "basic"
    saves = tmp_path / "saves"
    _hostile_save(saves, story_dir)
    game = load_save(saves, "evil", load_story(story_dir, cache_dir=False))
    app = make_app(story_dir, saves, seed=1, game=game, resume=True, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert screen_name(app) == "PlayScreen"
        terminal_output(app)
        assert "\\x1b]52;c;ZXZpbA==\\x07" in transcript_text(app)


async def test_the_load_screen_lists_hostile_saves_and_names_safely(tmp_path):
    story_dir = STORIES / "basic"
    saves = tmp_path / "saves"
    path = _hostile_save(saves, story_dir)
    shutil.copy(path, saves / "a\x1b]0;t\x07\n.json")
    app = make_app(story_dir, saves, seed=1, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("l")
        await settle(pilot)
        assert screen_name(app) != "TitleScreen"
        for _ in range(4):  # each slot's preview in turn
            terminal_output(app)
            await pilot.press("down")
            await settle(pilot)


async def test_story_errors_with_escapes_and_a_hostile_folder_name_are_shown_safely(tmp_path):
    root = tmp_path / "st\x1b]0;x\x07\nory"
    write_story(
        root,
        {
            "story.yaml": 'id: h\ntitle: "T\\e]0;t\\a"\nstart: m.start\n',
            "m\x1b[31m.yaml": 'nodes:\n  start:\n    text: "\\e[2J"\n    "\\x9b": 1\n',
        },
    )
    app = make_app(root, tmp_path / "saves", seed=1, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert screen_name(app) == "StoryErrorsScreen"
        terminal_output(app)
        shown = str(app.screen.query_one("#errors-list").render())
        assert "control character U+001B in text" in shown


async def test_toasts_show_hostile_names_and_messages_safely(tmp_path):
    app = make_app(STORIES / "basic", tmp_path / "saves", seed=1, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert not app.load_slot(PAYLOAD)
        app.say(f"a message with {PAYLOAD}", "error")
        await pilot.pause()
        terminal_output(app)
        assert all(not UNSAFE.search(n.message) for n in app._notifications)


async def test_a_number_fault_in_play_is_a_message_not_a_crash(tmp_path):
    root = write_story(
        tmp_path / "s",
        {
            "story.yaml": "id: f\ntitle: F\nstart: m.start\n"
            "variables:\n  x: {type: int, initial: 1000000000, min: 0, max: 1000000000}\n",
            "m.yaml": "nodes:\n  start:\n    text: Start.\n    choices:\n"
            "      - text: Grow\n        effects: [x = x * x * x]\n        goto: start\n"
            "      - text: Stop\n        goto: end\n"
            "  end:\n    text: End.\n    ending: {id: e, title: E}\n",
        },
    )
    app = make_app(root, tmp_path / "saves", seed=1, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("n")
        await settle(pilot)
        await pilot.press("1")
        await settle(pilot)
        assert screen_name(app) == "PlayScreen"
        assert any("beyond the limit" in n.message for n in app._notifications)
        assert app.session.game.get("x") == 1_000_000_000  # the choice was undone
        terminal_output(app)
        await pilot.press("2")
        await settle(pilot)
        assert app.session.game.ended


async def test_a_toast_from_any_widget_is_gated(tmp_path):
    app = make_app(STORIES / "basic", tmp_path / "saves", seed=1, watch=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.notify(PAYLOAD, title=PAYLOAD, markup=False)  # not through app.say
        await pilot.pause()
        terminal_output(app)
        assert all(not UNSAFE.search(n.message + n.title) for n in app._notifications)
