"""What the playtest says about each case, and searches from a --from start."""

from __future__ import annotations

import json

from game.authoring.playtest import playtest
from game.cli import main
from game.engine import load_story

from .conftest import story_dir

STORY = """
id: cases
title: Cases
start: intro.start
variables:
  day: {type: int, initial: 1, min: 1, max: 5, display: number}
characters:
  sam: {name: Sam}
character_variables:
  trust: {type: int, initial: 2, min: 0, max: 10, track: true}
turns:
  counter: day
  hub: office.week
"""

INTRO = """
nodes:
  start:
    text: The first morning.
    choices:
      - text: Go in.
        goto: office.week
"""

OFFICE = """
nodes:
  week:
    hub: true
    text: "Day {day}."
    choices:
      - text: Go home.
        goto: <end-turn>
  done:
    event: {title: The end, forced: true, if: day >= 3}
    text: That's it.
    ending: {id: over, title: Over}
"""

SAM = """
character: sam
variables:
  sam_mood: {type: int, initial: 4, min: 0, max: 10, track: true, label: Mood}
  sam_note: {type: int, initial: 0, min: 0, max: 10}
nodes:
  chat:
    event: {title: Talk to Sam}
    text: You talk.
    effects: [sam_mood += 1, sam.trust += 1, sam_note += 1]
    choices:
      - text: Back.
        goto: <hub>
"""


def _story(tmp_path):
    return story_dir(
        tmp_path, {"story.yaml": STORY, "intro.yaml": INTRO, "office.yaml": OFFICE, "sam/case.yaml": SAM}
    )


def test_a_case_summary_has_every_tracked_variable_of_the_case(tmp_path):
    story = load_story(_story(tmp_path), cache_dir=False)
    assert story.variable("sam_mood").case == "sam"
    assert story.variable("sam.trust").case == "sam"
    assert story.variable("day").case is None
    cases = playtest(story, 30, seed=1).cases()
    # The scene file's tracked variable counts as the case's, beside its character variables;
    # an untracked, hidden one does not.
    assert set(cases["sam"]["variables"]) == {"trust", "sam_mood"}
    assert cases["sam"]["variables"]["sam_mood"]["min"] >= 4


def test_cli_summary_names_the_scene_variable(tmp_path, capsys):
    root = _story(tmp_path)
    assert main(["playtest", str(root), "--runs", "20", "--jobs", "1", "--no-progress"]) == 0
    out = capsys.readouterr().out
    case_lines = out[out.index("Sam (sam):") :]
    assert "sam_mood" in case_lines and "trust" in case_lines


def test_path_to_from_a_test_start_does_not_call_the_opening_unreachable(tmp_path, capsys):
    root = _story(tmp_path)
    args = ["playtest", str(root), "--exhaustive", "--jobs", "1", "--no-progress", "--from", "office.week"]
    assert main([*args, "--path-to", "sam.case.chat"]) == 0
    out = capsys.readouterr().out
    assert "intro.start" not in out
    assert "nodes before the --from start: 1" in out
    assert "nodes reached: 3 of 3" in out
    assert "path to sam.case.chat (1 choice)" in out
    assert main([*args, "--path-to", "intro.start"]) == 0
    assert "no path to intro.start: nothing leads there from the --from start" in capsys.readouterr().out
    assert main([*args, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["unreachable_nodes"] == []
    assert report["nodes_outside_start"] == ["intro.start"]
