"""A case folder can declare its own character, with its own starting values, in a scene file."""

from __future__ import annotations

from game.engine import Game, load_story

from .helpers import make, problems

HEAD = """\
characters:
  becky: {name: Becky, initial: {trust: 3}}
character_variables:
  trust: {type: int, initial: 2, min: 0, max: 10, track: true}
"""

MAIN = """\
nodes:
  start:
    text: "{becky.name} {becky.trust}, {sam.name} {sam.trust}."
    choices:
      - text: Go
        goto: sam.case.meet
"""

SAM = """\
character: sam
characters:
  sam:
    name: Sam
    description: A new case.
    initial: {trust: 6}
variables:
  sam_mood: {type: int, initial: 4, min: 0, max: 10, track: true}
nodes:
  meet:
    text: "You meet {sam.name}."
    effects: [sam.trust += 1, sam_mood -= 1]
    choices:
      - text: Done
        goto: end
  end:
    text: Bye.
    ending: {id: sam_done, title: Sam's ending, character: sam}
    goto: main.last
"""

LAST = """\
  last:
    text: The end.
    ending: {id: all_done, title: Done}
"""


def test_a_scene_file_declares_a_character_with_its_own_values(tmp_path):
    root = make(tmp_path, MAIN + LAST, HEAD, files={"sam/case.yaml": SAM})
    story = load_story(root, cache_dir=False)
    assert [c.id for c in story.characters] == ["becky", "sam"]
    assert story.character("sam").name == "Sam"
    assert story.character("sam").description == "A new case."
    sam_trust = story.variable("sam.trust")
    assert sam_trust.initial == 6 and sam_trust.character == "sam" and sam_trust.case == "sam"
    assert story.variable("becky.trust").initial == 3
    assert story.variable("sam_mood").case == "sam"
    game = Game(story, seed=1)
    assert game.passage == ["Becky 3, Sam 6."]
    game.choose(0)
    assert game.get("sam.trust") == 7 and game.get("sam_mood") == 3
    game.choose(0)
    assert game.character_endings()["sam"].id == "sam_done"
    assert game.ending.id == "all_done"


def test_a_character_declared_twice_is_an_error_at_the_second(tmp_path):
    head = HEAD.replace("characters:\n", "characters:\n  sam: {name: Samuel}\n")
    found = problems(tmp_path, MAIN + LAST, head, files={"sam/case.yaml": SAM})
    assert "sam/case.yaml:3:3: error: character 'sam' is already declared (story.yaml:5)" in found


def test_a_scene_characters_values_are_checked(tmp_path):
    bad = SAM.replace("initial: {trust: 6}", "initial: {trust: 60, mood: 1}")
    found = problems(tmp_path, MAIN + LAST, HEAD, files={"sam/case.yaml": bad})
    assert "sam/case.yaml:6:22: error: initial value 60 is outside 0..10" in found
    assert "sam/case.yaml:6:26: error: 'mood' is not a character variable" in found


def test_a_scene_character_needs_a_simple_id(tmp_path):
    bad = SAM.replace("characters:\n  sam:", "characters:\n  sam-x:")
    found = problems(tmp_path, MAIN + LAST, HEAD, files={"sam/case.yaml": bad})
    assert any("character id 'sam-x' must be a simple name" in p for p in found)
