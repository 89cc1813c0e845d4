"""Small helpers shared by the UI tests."""

from __future__ import annotations

from textual.pilot import Pilot

from game.ui.app import StraightApp


def screen_name(app: StraightApp) -> str:
    return type(app.screen).__name__


async def settle(pilot: Pilot) -> None:
    """Let workers (save listings, story checks) finish and their messages land."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def new_game(pilot: Pilot) -> None:
    await pilot.press("n")
    await pilot.pause()
    assert screen_name(pilot.app) == "PlayScreen"


def transcript_text(app: StraightApp) -> str:
    from game.ui.widgets import Transcript

    return "\n".join(app.screen.query_one(Transcript).plain_lines())


def key_for(app: StraightApp, text: str) -> str:
    """The number key of the choice shown with this text."""
    from game.choices import numbered

    for number, option, _ends_turn in numbered(app.session.game):
        if option.text == text:
            return str(number)
    raise AssertionError(f"no choice {text!r} on offer")


async def take(pilot: Pilot, text: str) -> None:
    """Take a choice by its text, through its number key, saying yes if asked to confirm."""
    await pilot.press(key_for(pilot.app, text))
    await pilot.pause()
    if screen_name(pilot.app) == "ConfirmDialog":
        await pilot.press("y")
        await pilot.pause()


async def play_to_end(pilot: Pilot, limit: int = 200) -> None:
    """Take the first available choice, in the story's order, until the story ends."""
    app = pilot.app
    for _ in range(limit):
        game = app.session.game
        if game.ended:
            return
        first = next(o for o in game.choices if o.enabled)
        await take(pilot, first.text)
    raise AssertionError("the story did not end")
