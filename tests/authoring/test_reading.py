"""The reading report: words shown, verbatim repeats, prompts and clicks, on a story small
enough that every figure is known exactly."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from game.authoring.reading import format_reading, patient_pick, read_game, reading
from game.cli import main
from game.engine import Game, load_story

from .conftest import story_dir

TINY = {
    "story.yaml": """
        id: tiny
        title: Tiny
        start: main.start
        variables:
          day: {type: int, initial: 1, min: 1, max: 9}
          hours: {type: int, initial: 2, min: 0, max: 9}
        turns: {counter: day, budget: hours, refill: 2, hub: main.hub}
    """,
    "main.yaml": """
        nodes:
          start:
            text: Welcome to the test.
            choices:
              - {text: Begin, goto: hub}
          hub:
            hub: {tags: [week]}
            text: ["Day {day}.", The office is quiet today.]
            choices:
              - {text: Go home, goto: <end-turn>}
              - {text: Files, goto: files}
          files:
            hub: {tags: [files]}
            text: Your files.
            choices:
              - {text: Work, cost: {hours: 1}, goto: work}
              - {text: Back, goto: hub}
          work:
            text: You work.
            goto: hub
          end:
            event: {title: End, forced: true, tags: [week], if: day >= 3}
            text: The end of it all.
            ending: {id: done, title: Done}
    """,
}


@pytest.fixture
def tiny(tmp_path):
    return load_story(story_dir(tmp_path, TINY), cache_dir=False)


def _first(game, rnd):
    return next(o.index for o in game.choices if o.enabled)


def test_every_figure_of_a_known_game(tiny):
    # Welcome (4 words, one choice) -> day 1 (2 + 5 words) -> go home -> day 2 (2 new + 5 repeated)
    # -> go home -> the forced ending (5 words) on day 3.
    by_node = Counter()
    run = read_game(tiny, 7, _first, repeats_by_node=by_node)
    assert run.error is None and run.ending == "done"
    assert (run.words, run.repeated) == (23, 5)
    assert (run.prompts, run.single) == (3, 1)
    assert (run.continues, run.navigation, run.decisions) == (1, 2, 0)
    assert run.new_by_turn == [11, 2, 5]
    assert run.turns == 3
    assert dict(by_node) == {"main.hub": 5}
    assert run.thin_turns() == []  # nothing after the first month in a three-day story
    assert run.thin_turns(skip=1, threshold=5) == [2]


def test_patient_never_goes_home_with_hours_to_spend(tiny):
    game = Game(tiny, 1)
    game.choose(0)  # Begin
    assert [o.text for o in game.choices] == ["Go home", "Files"]
    assert patient_pick(game, lambda: 0.0) == 1  # Files: there is work to do one step on
    assert len(game.transcript) == 4  # looking ahead left no trace
    game.choose(1)
    game.choose(0)  # Work
    game.choose(1)
    game.choose(0)  # Work: the day's two hours are spent
    assert game.get("hours") == 0
    assert patient_pick(game, lambda: 0.0) == 0  # now going home is all that's left


def test_a_patient_run_spends_every_hour(tiny):
    for seed in range(5):
        by_node = Counter()
        run = read_game(tiny, seed, patient_pick, repeats_by_node=by_node)
        assert run.error is None and run.ending == "done"
        # Two days of two hours: "You work." (2 words) four times, three of them repeats.
        assert by_node["main.work"] == 6


def test_a_batch_adds_its_runs_up_and_reports_them(tiny):
    report = reading(tiny, 3, seed=2, strategy="first")
    assert len(report.runs) == 3
    assert (report.words, report.repeated, report.prompts, report.single) == (69, 15, 9, 3)
    data = report.to_dict()
    assert data["total"]["repeated_share"] == round(15 / 69, 4)
    assert data["total"]["clicks"] == {"navigation": 6, "continue": 3, "decision": 0}
    assert data["repeated_words_by_node"] == [{"node": "main.hub", "words": 15, "per_run": 5.0}]
    text = format_reading(report)
    assert "21.7% of them verbatim repeats" in text
    assert "33.3% with a single choice" in text
    assert "main.hub" in text


def test_the_playtest_command_reports_reading(tmp_path, capsys):
    root = story_dir(tmp_path, TINY)
    assert main(["playtest", str(root), "--reading", "--runs", "2", "--strategy", "first", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["strategy"] == "first"
    assert data["total"]["words"] == 46
    assert [r["new_words_by_turn"] for r in data["runs"]] == [[11, 2, 5], [11, 2, 5]]
    assert (
        main(
            [
                "playtest",
                str(root),
                "--reading",
                "--runs",
                "1",
                "--strategy",
                "patient",
                "--strategy",
                "random",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Reading report (patient" in out and "Reading report (random" in out


def test_the_playtest_command_refuses_patient_without_reading(tmp_path, capsys):
    root = story_dir(tmp_path, TINY)
    assert main(["playtest", str(root), "--runs", "2", "--strategy", "patient"]) == 2
    assert "needs --reading" in capsys.readouterr().err
    assert main(["playtest", str(root), "--reading", "--strategy", "nosuch"]) == 2
    assert "patient" in capsys.readouterr().err
