"""The UI's plain-Python parts: drawings, the profile, the session (no Textual needed)."""

from __future__ import annotations

import json

from game.engine import Game, load_story
from game.profile import PROFILE_NAME, Profile
from game.session import Session
from game.ui import render

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


def test_charts_have_the_asked_size_and_zero_at_the_floor():
    rows = render.chart([0, 5, 10], 0, 10, 3, 4)
    assert len(rows) == 4 and all(len(r) == 3 for r in rows)
    assert [r[0] for r in rows] == [" "] * 4  # a zero is the floor: no column at all
    assert rows[0][2] == "█" and rows[0][0] == " "
    assert render.chart([1, 2], 0, 2, 0, 4) == []


def _heights(values, lo, hi, rows=4):
    """How many eighths of a cell each column of a chart fills."""
    drawn = render.chart(values, lo, hi, len(values), rows)
    return [sum(render.COLUMN.index(r[c]) for r in drawn) for c in range(len(values))]


def test_one_scale_per_comparison_from_zero_to_the_largest():
    story = load_story(UI_STORY, cache_dir=False)
    rank, trust = story.variable("rank"), story.variable("ana.trust")
    arrests = 5, 3, 1
    lo, hi = render.scale(rank, arrests)
    assert (lo, hi) == (0, 5)
    assert _heights(arrests, lo, hi) == [32, 19, 6]  # 5/3/1 draw as 5/3/1
    assert render.scale(trust, [2, 3]) == (0, 10)  # a bar keeps its own range
    assert render.scale(rank, [0, 0]) == (0, 1)  # a constant zero sits on the floor
    assert render.scale(rank, [-2, 4]) == (-2, 4)
    assert [v.name for v in render.peers(story, trust)] == ["ana.trust", "ben.trust"]
    assert render.peers(story, rank) == [rank]
    support = story.variable("support_actions")
    # Support and enforcement are compared with each other, so they share a scale.
    assert [v.name for v in render.peers(story, support)] == ["support_actions", "enforce_actions"]


def test_a_case_is_charted_on_the_same_scale_as_the_others():
    story = load_story(UI_STORY, cache_dir=False)
    game = Game(story, seed=1)
    offending = {c: story.variable(f"{c}.offending") for c in ("ana", "ben")}
    game.v[offending["ana"].slot], game.v[offending["ben"].slot] = 2, 8
    assert render.group_scale(game, offending["ana"]) == render.group_scale(game, offending["ben"]) == (0, 8)


def test_better_decides_what_counts_as_an_improvement():
    story = load_story(UI_STORY, cache_dir=False)
    rank, trust = story.variable("rank"), story.variable("ana.trust")
    assert render.direction(rank, 55, 60) == 1 and render.direction(rank, 65, 60) == -1
    assert render.direction(trust, 3, 2) == 1 and render.direction(trust, 2, 2) == 0
    assert render.direction(story.variable("ana.status"), "custody", "community") == 0


def test_stored_times_read_day_first_with_the_year():
    assert render.date_text("2026-12-02 04:18") == "2 Dec 2026, 04:18"  # the profile's runs
    assert render.date_text("2026-12-02 04:18:09") == "2 Dec 2026, 04:18"  # a save
    assert render.date_text("12-02\n04:18") == "12-02\\n04:18"  # not a time: shown safely


def test_cells_are_drawn_in_runs_of_one_colour():
    assert render.runs("▁▂▃▄▅", [0, 1, 1, -1, -1]) == [("▁", 0), ("▂▃", 1), ("▄▅", -1)]
    assert render.runs("", []) == []


def test_chart_columns_and_week_ticks():
    assert render.columns(3, 12) == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]
    assert render.columns(3, 40) == [i for i in range(3) for _ in range(6)]  # at most six wide
    assert render.columns(10, 5) == [1, 3, 5, 7, 9]
    story = load_story(UI_STORY, cache_dir=False)
    ticks = render.ticks(story, render.columns(3, 12), 2)
    assert ticks == [(0, "1"), (4, "2"), (8, "3")]  # every day, where its column starts
    wide = render.ticks(story, render.columns(9, 9), 8)
    assert [label for _c, label in wide][0] == "1" and len(wide) > 2
    assert all(b[0] - a[0] > len(a[1]) for a, b in zip(wide, wide[1:], strict=False))  # labels never touch
    assert render.turn_unit(story) == "Day" and render.turn_number(story, 4) == "5"


def test_marks_say_what_happened_to_a_case_and_when(tmp_path):
    from tests.engine.helpers import play

    game = play(
        tmp_path,
        """\
        nodes:
          start:
            choices:
              - text: arrest
                effects: [jo.arrests += 1, "jo.status = 'custody'"]
                goto: <end-turn>
              - text: wait
                goto: <end-turn>
              - text: done
                goto: end
          end:
            text: Over.
            ending: {id: jo_in, title: In and out, category: bad, character: jo}
            goto: fin
          fin:
            text: The end.
            ending: {id: fin, title: The end}
        """,
        """\
        variables:
          week: {type: int, initial: 1, min: 1, max: 9, label: Week, display: number}
        characters:
          jo: {name: Jo}
        character_variables:
          arrests: {type: int, label: Arrests, display: number, track: true, better: lower}
          trust: {type: int, label: Trust, display: bar, track: true}
          status: {type: enum, values: [community, custody], label: Status, display: text, track: true}
        turns: {counter: week, hub: main.start}
        """,
    )
    for index in (1, 0, 1, 2):
        game.choose(index)
    marks = render.case_marks(game, "jo")
    assert marks == [
        render.Mark(1, "Arrests +1"),
        render.Mark(1, "Status: custody"),
        render.Mark(3, "Ending: In and out"),
    ]
    assert render.case_marks(game, "jo", endings=False) == marks[:2]
    assert render.turn_name(game.story, 1) == "Week 2"
    assert render.ending_line("In and out", "bad") == "In and out"  # no verdict beside a person


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


def test_the_review_lists_earlier_runs_with_readable_dates():
    from game.ui.screens.review import review_text

    story = load_story(UI_STORY, cache_dir=False)
    game = Game(story, seed=7)
    while not game.ended:
        game.choose(0)
    runs = [{"key": "another run", "finished_at": "2014-04-07 09:30", "title": "A good week"}]
    text = review_text(game, runs).plain
    assert "  7 Apr 2014, 09:30  A good week" in text
