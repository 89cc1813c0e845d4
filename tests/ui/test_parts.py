"""The UI's plain-Python parts: drawings, the profile, the session (no Textual needed)."""

from __future__ import annotations

import json

from game.engine import Game, load_story
from game.ui import render
from game.ui.profile import PROFILE_NAME, Profile
from game.ui.session import Session

from .conftest import UI_STORY


def test_bars_and_sparklines_keep_their_width_and_scale():
    assert render.bar(0, 0, 10, 10) == "░" * 10
    assert render.bar(10, 0, 10, 10) == "█" * 10
    assert render.bar(5, 0, 10, 10) == "█████░░░░░"
    assert len(render.bar(3, 0, 7, 9)) == 9
    assert render.bar(5, 5, 5, 4) == "████"  # an empty range is full, not a crash
    assert render.bar(1, 0, 10, 0) == ""
    assert render.sparkline([0, 5, 10], 0, 10, 10) == "▁▅█"
    assert len(render.sparkline(list(range(100)), 0, 99, 12)) == 12
    assert render.resample([1, 2, 3, 4], 2) == [2, 4]
    assert render.resample([], 5) == [] and render.resample([1], 0) == []


def test_charts_have_the_asked_size_and_show_zero():
    rows = render.chart([0, 5, 10], 0, 10, 3, 4)
    assert len(rows) == 4 and all(len(r) == 3 for r in rows)
    assert rows[-1][0] == "▁"  # a zero still shows as a floor
    assert rows[0][2] == "█" and rows[0][0] == " "
    assert render.chart([1, 2], 0, 2, 0, 4) == []


def test_clock_turn_names_and_groups_come_from_the_story():
    story = load_story(UI_STORY, cache_dir=False)
    game = Game(story, seed=1)
    assert render.clock(game) == ["Day 1", "Hours left today: 8"]
    assert render.turn_name(story, 2) == "Day 3"
    assert render.groups(story) == ["team", "relationship", "pathways"]
    assert [v.name for v in render.approach_variables(story)] == ["support_actions", "enforce_actions"]
    shown = [v.name for v in render.story_variables(story)]
    assert shown == ["standing", "rank"]  # the clock is in the status line instead


def test_the_profile_records_each_run_once_and_keeps_other_stories(tmp_path):
    story = load_story(UI_STORY, cache_dir=False)
    game = Game(story, seed=1)
    while not game.ended:
        game.choose(0)
    profile = Profile.load(tmp_path)
    assert profile.record_run(game)
    assert not profile.record_run(game)  # the same path through the story
    profile.data["stories"]["another"] = {"endings": {"x": {"title": "X"}}, "runs": []}
    profile.save()
    again = Profile.load(tmp_path)
    assert set(again.endings_seen(story.id)) == {e for _t, e in game.outcomes}
    assert len(again.runs(story.id)) == 1 and "another" in again.data["stories"]
    assert json.loads((tmp_path / PROFILE_NAME).read_text())["version"] == 1


def test_a_resumed_game_gets_its_undo_history_back_by_replay(tmp_path):
    story = load_story(UI_STORY, cache_dir=False)
    session = Session(UI_STORY, tmp_path / "saves", 3, story)
    session.new_game()
    for index in (0, 1, 0, 0):
        session.choose(index)
    session.save("slot")
    played = session.game
    resumed = Session(UI_STORY, tmp_path / "saves", 3, story)
    game = resumed.load("slot")
    assert game.to_dict() == played.to_dict()
    steps = 0
    while resumed.undo():
        steps += 1
    assert steps == 4 and game.current_node.id == "office.start"
    assert resumed.marks[0] == 0
    session.close()
    resumed.close()


def test_opening_values_are_the_state_after_the_first_passage(tmp_path):
    story = load_story(UI_STORY, cache_dir=False)
    session = Session(UI_STORY, tmp_path, 3, story)
    game = session.new_game()
    opening = session.opening(game)
    housing = story.variable("ana.housing")
    assert housing.initial == 3 and opening[housing.slot] == 2  # set by the start passage
    assert render.series(game, housing, opening)[0] == 2
    session.close()
