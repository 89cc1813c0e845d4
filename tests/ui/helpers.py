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


async def play_to_end(pilot: Pilot, limit: int = 200) -> None:
    """Take the first available choice until the story ends."""
    app = pilot.app
    for _ in range(limit):
        game = app.session.game
        if game.ended:
            return
        await pilot.press("1")
    raise AssertionError("the story did not end")
