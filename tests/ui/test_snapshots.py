"""SVG snapshots of each screen at 80x24 and 120x40 (pytest-textual-snapshot).

They run on the UI tests' own story, so they change only when the interface does. After an
intended change of look: `pytest tests/ui/test_snapshots.py --snapshot-update`, then look at
the new SVGs before committing them.
"""

from __future__ import annotations

import json
import os

import pytest

from game.engine import Game, load_story
from game.engine.saves import write_save

from .conftest import UI_STORY
from .helpers import take

SMALL, LARGE = (80, 24), (120, 40)
BOTH = pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "120x40"])


async def _quiet(pilot) -> None:
    """Let the screen settle, with no toasts left to time out differently from run to run."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    pilot.app.clear_notifications()
    await pilot.pause()


async def _play(pilot, *keys: str) -> None:
    await pilot.press("n")
    await pilot.pause()
    for key in keys:
        if key == HOME:
            await take(pilot, "Go home for the day.")  # its number varies; it asks first
        else:
            await pilot.press(key)
    await _quiet(pilot)


HOME = "go home"
MIDGAME = ("1", "1", "1", HOME, "1", "2")  # to work, help Ana, go home, visit Ana, warn her
TO_THE_END = ("1", "1", "1", "1", "1", HOME, HOME, HOME)


@BOTH
def test_title(snap_compare, build, size):
    assert snap_compare(build(), terminal_size=size, run_before=_quiet)


@BOTH
def test_play(snap_compare, build, size):
    async def run_before(pilot):
        await _play(pilot, *MIDGAME)

    assert snap_compare(build(), terminal_size=size, run_before=run_before)


@BOTH
def test_play_at_the_end(snap_compare, build, size):
    async def run_before(pilot):
        await _play(pilot, *TO_THE_END)

    assert snap_compare(build(), terminal_size=size, run_before=run_before)


def test_play_narrow_with_the_case_panel(snap_compare, build):
    async def run_before(pilot):
        await _play(pilot, *MIDGAME, "c")

    assert snap_compare(build(), terminal_size=SMALL, run_before=run_before)


@BOTH
def test_load_screen(snap_compare, build, saves, size):
    saves.mkdir(parents=True)
    story = load_story(UI_STORY, cache_dir=False)
    game = Game(story, seed=7)
    for index in (0, 1, 0):
        game.choose(index)
    for n, name in enumerate(("quicksave", "monday")):
        path = write_save(saves, name, game)
        data = json.loads(path.read_text())
        data["saved_at"] = f"2014-04-0{7 + n} 09:30:00"  # a fixed time, so the picture is too
        path.write_text(json.dumps(data))
        os.utime(path, (1_400_000_000 + n, 1_400_000_000 + n))
    broken = saves / "broken.json"
    broken.write_text('{"format": "straight-and-narrow-save", "version": 1, "story": ')
    os.utime(broken, (1_300_000_000, 1_300_000_000))

    async def run_before(pilot):
        await pilot.press("l")
        await _quiet(pilot)

    assert snap_compare(build(), terminal_size=size, run_before=run_before)


@BOTH
def test_outcomes(snap_compare, build, size):
    async def run_before(pilot):
        await _play(pilot, *MIDGAME, "o")

    assert snap_compare(build(), terminal_size=size, run_before=run_before)


@BOTH
def test_review(snap_compare, build, size):
    async def run_before(pilot):
        await _play(pilot, *TO_THE_END, "r")

    assert snap_compare(build(), terminal_size=size, run_before=run_before)


def test_journal(snap_compare, build):
    async def run_before(pilot):
        await _play(pilot, *MIDGAME, "j")

    assert snap_compare(build(), terminal_size=SMALL, run_before=run_before)


def test_gallery(snap_compare, build):
    async def run_before(pilot):
        await _play(pilot, *TO_THE_END, "2")

    assert snap_compare(build(), terminal_size=SMALL, run_before=run_before)


def test_help(snap_compare, build):
    async def run_before(pilot):
        await _play(pilot, "1", "f1")

    assert snap_compare(build(), terminal_size=SMALL, run_before=run_before)


@BOTH
def test_outcomes_at_the_end(snap_compare, build, size):
    """A case's charts on the shared scale, the days along the axis, the ending marked."""

    async def run_before(pilot):
        await _play(pilot, *TO_THE_END, "r", "escape", "o")

    assert snap_compare(build(), terminal_size=size, run_before=run_before)


@BOTH
def test_outcomes_pathway(snap_compare, build, size):
    """Every case on one scale per variable, with the days under them."""

    async def run_before(pilot):
        await _play(pilot, *MIDGAME, "o")
        pilot.app.screen.query_one("#outcome-tabs").active = "group-2"
        await _quiet(pilot)

    assert snap_compare(build(), terminal_size=size, run_before=run_before)


@BOTH
def test_load_screen_asks_before_deleting(snap_compare, build, saves, size):
    async def run_before(pilot):
        await _play(pilot, "1")
        session = pilot.app.session
        session.save("spare")
        session.flush()
        for n, name in enumerate(("spare", "autosave")):  # fixed times, so the picture is too
            path = saves / f"{name}.json"
            data = json.loads(path.read_text())
            data["saved_at"] = f"2014-04-0{7 + n} 09:30:00"
            path.write_text(json.dumps(data))
        await pilot.press("l")
        await _quiet(pilot)
        names = [s.name for s in pilot.app.screen.slots]
        pilot.app.screen.query_one("#slots").highlighted = names.index("spare")
        await pilot.press("d")
        await _quiet(pilot)

    assert snap_compare(build(), terminal_size=size, run_before=run_before)


@BOTH
def test_asked_before_going_home_early(snap_compare, build, size):
    async def run_before(pilot):
        await _play(pilot, "1", "2")

    assert snap_compare(build(), terminal_size=size, run_before=run_before)


@BOTH
def test_settings(snap_compare, build, size):
    async def run_before(pilot):
        await _play(pilot, "1", "f2")

    assert snap_compare(build(), terminal_size=size, run_before=run_before)


def test_play_scrolled_back_with_more_below(snap_compare, build):
    async def run_before(pilot):
        await _play(pilot, *MIDGAME, "home")

    assert snap_compare(build(), terminal_size=SMALL, run_before=run_before)
