"""The app reads a number key with the session's `pick`, as plain mode reads a typed number, so
the same number takes the same choice (or asks the same question) in both."""

from __future__ import annotations

import io

from game.engine import Game
from game.plain import PlainGame
from game.session import Session

from .conftest import SEED
from .helpers import new_game, screen_name


async def test_a_number_key_and_a_typed_number_go_through_the_same_pick(build, tmp_path, monkeypatch):
    calls: list[tuple[int, int | None]] = []
    pick = Session.pick

    def spy(self: Session, number: int, *args, **kwargs):
        picked = pick(self, number, *args, **kwargs)
        calls.append((number, picked.option.index if picked is not None else None))
        return picked

    monkeypatch.setattr(Session, "pick", spy)
    app = build()
    async with app.run_test(size=(80, 24)) as pilot:
        await new_game(pilot)
        await pilot.press("1", "2")  # to work, then go home with hours left: asked first
        await pilot.pause()
        assert screen_name(app) == "ConfirmDialog"
        story = app.session.game.story
    in_app, calls[:] = list(calls), []
    plain = PlainGame(Game(story, seed=SEED), tmp_path / "plain", io.StringIO())
    plain.command("1")
    plain.command("2")
    assert plain.asking is not None and plain.game.turn == 0
    plain.close()
    assert in_app == calls and [n for n, _index in calls] == [1, 2]
