"""A monkey: thousands of seeded random keypresses, clicks and resizes, down to 40x12.

Nothing may raise. Keys are posted in bursts, as a fast typist or a paste would send them,
and clicks as a terminal sends them (a button down, then up: the app makes the click); the quit
keys are left out so the monkey keeps playing (when a click on a footer's Quit ends the app
anyway, a fresh one takes over). Between bursts the app handles what it was sent and repaints;
how long that takes never matters: the work is counted in events, not in seconds.
"""

from __future__ import annotations

import random

import pytest
from textual import events

from game.ui.app import StraightApp

from .conftest import SHIPPED, UI_STORY

# Cheap keys often, keys that open whole screens now and then (each costs a screen's mount).
PLAY_KEYS = [str(n) for n in range(1, 10)] * 10 + [
    "up",
    "down",
    "enter",
    "enter",
    "tab",
    "shift+tab",
    "pageup",
    "pagedown",
    "home",
    "end",
    "left",
    "right",
    "space",
    "backspace",
    "u",
    "c",
    "y",
    "a",
    "b",
    "x",
    "minus",
    "underscore",
] * 4
SCREEN_KEYS = [
    "escape",
    "escape",
    "escape",
    "s",
    "l",
    "j",
    "o",
    "r",
    "n",
    "e",
    "f1",
    "question_mark",
    "f5",
    "f9",
    "ctrl+z",
    "ctrl+p",
    "ctrl+t",
]
KEYS = PLAY_KEYS + SCREEN_KEYS * 3
SIZES = [(40, 12), (45, 15), (60, 20), (80, 24), (99, 30), (100, 30), (120, 40), (160, 50)]
CHARS = {"space": " ", "minus": "-", "underscore": "_", "question_mark": "?"}


def _key(name: str) -> events.Key:
    char = CHARS.get(name, name if len(name) == 1 else None)
    return events.Key(name, char)


def _click(app: StraightApp, x: int, y: int) -> None:
    """Post a left button's down and up at (x, y), as the terminal's driver does."""
    for kind in (events.MouseDown, events.MouseUp):
        app.post_message(kind(None, x, y, 0, 0, 1, False, False, False, screen_x=x, screen_y=y))


async def _handled(pilot) -> None:
    """Every widget handles what it was sent, and what that set off (a screen opened or closed),
    then the screen repaints. Unlike `pilot.pause()`, this never sleeps waiting for the process
    to look idle: it waits for the messages themselves."""
    await pilot.pause(0)
    await pilot.pause(0)


async def _monkey(
    build, story, seed: int, events_wanted: int, sizes=SIZES, burst: tuple[int, int] = (8, 40)
) -> int:
    """Send `events_wanted` seeded events (bounded by count, never by the clock, so a slow
    machine does the same work as a fast one); the number sent."""
    rng = random.Random(seed)
    done = 0
    apps = 0
    while done < events_wanted:
        app: StraightApp = build(story)
        apps += 1
        size = rng.choice(sizes)
        async with app.run_test(size=size) as pilot:
            while done < events_wanted and app.is_running:
                roll = rng.random()
                if roll < 0.02:
                    size = rng.choice(sizes)
                    await pilot.resize_terminal(*size)
                    done += 1
                elif roll < 0.08:
                    _click(app, rng.randrange(size[0]), rng.randrange(size[1]))
                    done += 1
                    await _handled(pilot)
                else:
                    for _ in range(min(rng.randint(*burst), events_wanted - done)):
                        app.post_message(_key(rng.choice(KEYS)))
                        done += 1
                    await _handled(pilot)
            await pilot.pause()
        assert app._exception is None, app._exception
        app.session.close()
    return done


@pytest.mark.heavy
async def test_monkey_on_the_test_story(build):
    done = await _monkey(build, UI_STORY, seed=20140407, events_wanted=2000)
    assert done == 2000


async def test_monkey_on_the_shipped_story(build):
    done = await _monkey(build, SHIPPED, seed=1, events_wanted=400)
    assert done == 400
