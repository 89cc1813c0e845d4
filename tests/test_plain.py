"""Plain mode and the choice numbering it shares with the app: no key throws a week away,
numbers stay still, and status, journal and outcomes read as players' words."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from game.choices import budget_left, by_number, early_end, numbered
from game.engine import Game, load_story
from game.plain import PlainGame, number_prompt

from .conftest import ROOT

SHIPPED = ROOT / "story"
UI_STORY = ROOT / "tests" / "ui" / "story"


def _plain(story: Path, saves: Path, seed: int = 3) -> tuple[PlainGame, io.StringIO]:
    out = io.StringIO()
    return PlainGame(Game(load_story(story, cache_dir=False), seed=seed), saves, out), out


def _said(out: io.StringIO) -> str:
    text = out.getvalue()
    out.seek(0)
    out.truncate()
    return text


def test_a_choice_that_ends_the_turn_is_numbered_last_and_needs_a_reason_to_ask():
    game = Game(load_story(UI_STORY, cache_dir=False), seed=7)
    game.choose(0)  # to work: the office
    offered = numbered(game)
    assert [o.text for _n, o, _e in offered] == ["Visit Ana", "Go home for the day."]
    assert [n for n, _o, _e in offered] == [1, 2] and offered[-1].ends_turn
    assert budget_left(game) == "8 hours"
    assert early_end(game, offered[-1].option) == "8 hours"
    assert early_end(game, offered[0].option) == ""
    assert by_number(game, 3) is None


def test_pressing_1_thirty_times_in_plain_mode_never_leaves_the_first_week(tmp_path):
    plain, out = _plain(SHIPPED, tmp_path)
    for _ in range(30):
        plain.command("1")
    assert plain.game.turn == 0 and plain.game.get("week") == 1
    assert len(plain.game.log) == 30


def test_plain_mode_asks_before_a_week_ends_with_hours_left(tmp_path):
    plain, out = _plain(UI_STORY, tmp_path)
    plain.command("1")
    _said(out)
    plain.command("2")  # go home, with all eight hours left
    asked = _said(out)
    assert "Go home for the day? You still have 8 hours left." in asked
    plain.command("1")  # anything but yes: stay
    assert "Not yet, then." in _said(out) and plain.game.turn == 0
    plain.command("2")
    plain.command("yes")
    assert plain.game.turn == 1


def test_plain_mode_follows_the_setting_not_to_ask(tmp_path):
    (tmp_path / ".profile.json").write_text(
        json.dumps(
            {
                "format": "straight-and-narrow-profile",
                "version": 1,
                "stories": {},
                "settings": {"confirm_end_turn": False},
            }
        )
    )
    plain, _out = _plain(UI_STORY, tmp_path)
    plain.command("1")
    plain.command("2")
    assert plain.game.turn == 1


def test_disabled_choices_keep_their_numbers_in_plain_mode(tmp_path):
    plain, out = _plain(UI_STORY, tmp_path)
    for key in ("1", "1", "1", "1", "1"):  # to work, visit Ana, help, visit, help: 2 hours left
        plain.command(key)
    shown = _said(out)
    assert "1. Visit Ana (unavailable: Needs 3 hours; 2 left)" in shown
    assert "2. Go home for the day." in shown
    plain.command("1")
    assert "You can't do that now: Needs 3 hours; 2 left." in _said(out)


def test_prompts_fit_the_number_of_choices(tmp_path):
    assert number_prompt(1) == "Please type 1"
    assert number_prompt(3) == "Please type a number from 1 to 3"
    plain, out = _plain(UI_STORY, tmp_path)
    plain.command("5")
    assert _said(out) == "Please type 1.\n"  # the first passage has one choice
    plain.command("hello")
    assert _said(out) == "Please type 1 (or 'help').\n"


def test_status_journal_and_outcomes_in_players_words(tmp_path):
    plain, out = _plain(SHIPPED, tmp_path)
    for _ in range(25):
        plain.command("1")
    _said(out)
    plain.command("status")
    status = _said(out)
    assert "Week 1 | Hours left this week:" in status
    assert "Stokesy\n" in status and "  Accommodation: " in status
    assert "Dudley in the reoffending league" in status
    assert "stokesy." not in status and "league_rank" not in status
    plain.command("journal")
    journal = _said(out)
    assert journal.startswith("Week 1  (now)\n")
    first = next(text for kind, text in plain.game.transcript if kind == "choice")
    assert f"  > {first}" in journal
    plain.command("outcomes")
    outcomes = _said(out)
    assert "Becky\n" in outcomes
    line = r"\d+, no change|from \d+ to \d+ \(lowest \d+, highest \d+\)"
    assert re.search(rf"^  Trust in you: ({line})$", outcomes, re.M)
    assert re.search(rf"^  Health: ({line})$", outcomes, re.M)


def test_redo_in_plain_mode(tmp_path):
    plain, out = _plain(UI_STORY, tmp_path)
    plain.command("1")
    plain.command("1")
    after = plain.game.to_dict()
    plain.command("undo")
    plain.command("redo")
    assert plain.game.to_dict() == after
    plain.command("redo")
    assert "There is nothing to redo." in _said(out)


def test_plain_mode_numbers_every_choice_past_the_apps_nine_keys(tmp_path):
    from game.choices import KEYED

    from .conftest import write_story

    choices = "".join(f"      - {{text: Door {n}, goto: room{n}}}\n" for n in range(1, 12))
    rooms = "".join(
        f"  room{n}:\n    text: Room {n}.\n    ending: {{id: e{n}, title: Room {n}}}\n" for n in range(1, 12)
    )
    root = write_story(
        tmp_path / "story",
        {
            "story.yaml": "id: doors\ntitle: Doors\nstart: main.start\n",
            "main.yaml": f"nodes:\n  start:\n    text: Eleven doors.\n    choices:\n{choices}{rooms}",
        },
    )
    game = Game(load_story(root, cache_dir=False), seed=1)
    assert len(game.choices) > KEYED and [n for n, _o, _e in numbered(game)][KEYED:] == [0, 0]
    out = io.StringIO()
    plain = PlainGame(game, tmp_path / "saves", out)
    plain.show()
    assert "10. Door 10\n11. Door 11\n" in _said(out)
    plain.command("12")
    assert _said(out) == "Please type a number from 1 to 11.\n"
    assert plain.command("11") is True
    assert plain.game.ending is not None and plain.game.ending.id == "e11"
