"""Bad input in the app: broken saves, saves from other stories and versions, a saves folder
that can't be written, a damaged profile, and story files that change or break during play."""

from __future__ import annotations

import errno
import json
from pathlib import Path

from game.engine import Game, load_story
from game.engine.saves import AUTOSAVE, write_save

from .conftest import BASIC, UI_STORY
from .helpers import new_game, play_to_end, screen_name, settle

SIZE = (80, 24)


def _notifications(app) -> list[str]:
    return [n.message for n in app._notifications]


def _write_bad_saves(saves: Path) -> dict[str, bytes]:
    """Every kind of broken save, by name: {name: the bytes written}."""
    story = load_story(UI_STORY, cache_dir=False)
    game = Game(story, seed=1)
    game.choose(0)
    write_save(saves, "good", game)
    good = (saves / "good.json").read_bytes()
    data = json.loads(good)
    wrong_version = dict(data, version=99)
    foreign = dict(data, story=dict(data["story"], id="someone-else", title="Another Story"))
    files = {
        "corrupt": b"\x00\xff\x13 not json at all",
        "truncated": good[: len(good) // 2],
        "empty": b"",
        "wrong-version": json.dumps(wrong_version).encode(),
        "foreign": json.dumps(foreign).encode(),
        "not-a-save": b'{"hello": "world"}',
    }
    for name, blob in files.items():
        (saves / f"{name}.json").write_bytes(blob)
    return files


async def test_broken_saves_are_listed_with_reasons_and_left_untouched(build, saves):
    saves.mkdir(parents=True)
    files = _write_bad_saves(saves)
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("l")
        await settle(pilot)
        assert screen_name(app) == "LoadScreen"
        slots = {s.name: s for s in app.screen.slots}
        assert slots["good"].ok
        reasons = {name: slots[name].reason for name in files}
        assert "damaged" in reasons["corrupt"] or "not text" in reasons["corrupt"]
        assert "cut short" in reasons["truncated"]
        assert "empty" in reasons["empty"]
        assert "version 99" in reasons["wrong-version"]
        assert "another story" in reasons["foreign"] and "Another Story" in reasons["foreign"]
        assert "not a Straight and Narrow save" in reasons["not-a-save"]
        # The list says so, the preview gives the reason, and loading one is refused.
        menu = app.screen.query_one("#slots")
        labels = [str(o.prompt) for o in menu.options]
        assert sum("can't be loaded" in label for label in labels) == len(files)
        menu.highlighted = list(slots).index("truncated")
        await pilot.pause()
        preview = str(app.screen.query_one("#slot-preview").render())
        assert "Can't be loaded" in preview and "left as it is" in preview
        await pilot.press("enter")
        await pilot.pause()
        assert screen_name(app) == "LoadScreen"
        assert any("can't be loaded" in n for n in _notifications(app))
    for name, blob in files.items():
        assert (saves / f"{name}.json").read_bytes() == blob


async def test_a_save_from_an_older_story_loads_if_its_passage_still_exists(build, saves, story_copy):
    story_dir = story_copy()
    app = build(story_dir)
    async with app.run_test(size=SIZE) as pilot:
        await new_game(pilot)
        await pilot.press("1", "1")  # at Ana's flat
        app.session.save("at-anas")
        await pilot.press("1")  # back at the hub
        app.session.save("at-hub")
    app.session.close()
    # The writers change the text of the hub and delete Ana's flat.
    scene = story_dir / "office.yaml"
    text = scene.read_text()
    text = text.replace('"Day {day}. {hours} hours left."', '"Day {day}; {hours} hours to go."')
    start, end = text.index("  ana_visit:"), text.index("  ben_arrest:")
    scene.write_text(text[:start] + text[end:])
    app = build(story_dir)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("l")
        await settle(pilot)
        slots = {s.name: s for s in app.screen.slots}
        assert slots["at-hub"].ok
        assert not slots["at-anas"].ok
        assert "the story has changed since this save" in slots["at-anas"].reason
        assert "office.ana_visit" in slots["at-anas"].reason
        app.screen.query_one("#slots").highlighted = list(slots).index("at-hub")
        await pilot.press("enter")
        await pilot.pause()
        assert screen_name(app) == "PlayScreen"
        assert app.session.game.current_node.id == "office.hub"


async def test_an_unwritable_saves_folder_gives_a_message_and_play_goes_on(build, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the saves folder should be")
    app = build(saves_dir=blocked)
    async with app.run_test(size=SIZE) as pilot:
        await new_game(pilot)
        await pilot.press("1")
        app.session.flush()
        await pilot.pause()
        assert any(n.startswith("Autosave failed") for n in _notifications(app))
        await pilot.press("1", "1")
        assert len(app.session.game.log) == 3  # play went on
        await pilot.press("f5")
        await pilot.pause()
        assert any(n.startswith("Not saved") for n in _notifications(app))
        assert screen_name(app) == "PlayScreen"
        # The warning is given once, not after every choice.
        app.session.flush()
        await pilot.pause()
        assert sum(n.startswith("Autosave failed") for n in _notifications(app)) == 1
    assert blocked.read_text() == "a file where the saves folder should be"


async def test_a_full_disk_gives_a_message_and_keeps_the_last_good_save(build, saves, monkeypatch):
    app = build()
    async with app.run_test(size=SIZE) as pilot:
        await new_game(pilot)
        await pilot.press("1")
        app.session.flush()
        before = (saves / "autosave.json").read_bytes()

        def full(path, data):
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr("game.session.atomic_write", full)
        await pilot.press("1")
        app.session.flush()
        await pilot.pause()
        assert any("No space left on device" in n for n in _notifications(app))
        assert (saves / "autosave.json").read_bytes() == before
        monkeypatch.undo()
        await pilot.press("1")
        app.session.flush()
        await pilot.pause()
        assert any("working again" in n for n in _notifications(app))


async def test_a_missing_saves_folder_is_made_when_first_needed(build, tmp_path):
    saves = tmp_path / "deep" / "new" / "saves"
    app = build(saves_dir=saves)
    async with app.run_test(size=SIZE) as pilot:
        await new_game(pilot)
        await pilot.press("1")
        app.session.flush()
    assert (saves / f"{AUTOSAVE}.json").is_file()


async def test_a_damaged_profile_is_reported_and_never_overwritten(build, saves):
    saves.mkdir(parents=True)
    profile = saves / ".profile.json"
    profile.write_bytes(b"{ this is not json")
    app = build(BASIC)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert any("profile" in n for n in _notifications(app))
        await new_game(pilot)
        await play_to_end(pilot)
        app.theme = "nord"
        await pilot.pause()
    assert profile.read_bytes() == b"{ this is not json"


async def test_the_story_reloads_when_its_files_change_keeping_the_state(build, story_copy):
    story_dir = story_copy()
    app = build(story_dir)
    async with app.run_test(size=SIZE) as pilot:
        await new_game(pilot)
        await pilot.press("1", "1", "1")
        game = app.session.game
        node, log = game.current_node.id, list(game.log)
        scene = story_dir / "office.yaml"
        scene.write_text(scene.read_text().replace("Ana opens the door on the chain", "Ana opens the door"))
        app.action_reload_story()
        await settle(pilot)
        assert any(n == "Story reloaded." for n in _notifications(app))
        moved = app.session.game
        assert moved is not game
        assert moved.current_node.id == node and moved.log == log
        await pilot.press("1")
        assert moved.transcript[-1][1].startswith("Ana opens the door, then takes it off")


async def test_a_story_that_breaks_during_play_shows_its_errors_and_waits(build, story_copy):
    story_dir = story_copy()
    app = build(story_dir)
    async with app.run_test(size=SIZE) as pilot:
        await new_game(pilot)
        await pilot.press("1")
        scene = story_dir / "office.yaml"
        good = scene.read_text()
        scene.write_text(good.replace("goto: <hub>", "goto: nowhere", 1))
        app.action_reload_story()
        await settle(pilot)
        assert screen_name(app) == "StoryErrorsScreen"
        listing = str(app.screen.query_one("#errors-list").render())
        assert "office.yaml:" in listing and "nowhere" in listing
        # The old version can still be played on.
        assert app.screen.check_action("play_on", ()) is True
        scene.write_text(good)
        app.action_reload_story()
        await settle(pilot)
        assert screen_name(app) == "PlayScreen"
        await pilot.press("1")
        assert app.session.game.current_node.id == "office.ana_visit"


async def test_an_invalid_story_at_start_shows_errors_then_the_title_once_fixed(build, story_copy):
    story_dir = story_copy()
    story_yaml = story_dir / "story.yaml"
    good = story_yaml.read_text()
    story_yaml.write_text(good.replace("start: office.start", "start: office.nowhere"))
    app = build(story_dir)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert screen_name(app) == "StoryErrorsScreen"
        listing = str(app.screen.query_one("#errors-list").render())
        assert "story.yaml:4:" in listing and "office.nowhere" in listing
        assert app.screen.check_action("play_on", ()) is False
        await pilot.press("escape")  # nothing to play on with
        assert screen_name(app) == "StoryErrorsScreen"
        story_yaml.write_text(good)
        await pilot.press("r")
        await settle(pilot)
        assert screen_name(app) == "TitleScreen"


async def test_the_watcher_notices_changes_by_itself(build, story_copy):
    story_dir = story_copy()
    app = build(story_dir, watch=True, watch_interval=0.05)
    async with app.run_test(size=SIZE) as pilot:
        await new_game(pilot)
        scene = story_dir / "office.yaml"
        scene.write_text(scene.read_text().replace("goto: <hub>", "goto: nowhere", 1))
        for _ in range(100):
            await pilot.pause(0.05)
            if screen_name(app) == "StoryErrorsScreen":
                break
        assert screen_name(app) == "StoryErrorsScreen"
