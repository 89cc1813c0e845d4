"""A save points at choices by identity, not by place: authors reorder and insert choices."""

from __future__ import annotations

import json
import textwrap

import pytest

from game.engine import Game, SaveError, load_story

from .helpers import make, problems

ROOMS = """\
nodes:
  start:
    choices:
      - {text: Go into the left room., goto: left}
      - {text: Go into the right room., goto: right}
      - {text: Wait by the door., goto: start, once: true}
  left:
    text: You are in the left room.
    choices: [{text: Back., goto: start}]
  right:
    text: You are in the right room.
    choices: [{text: Back., goto: start}]
"""


def _saved(tmp_path, scene: str) -> tuple[Game, dict]:
    story = load_story(make(tmp_path, scene), cache_dir=False)
    g = Game(story, seed=3)
    return g, json.loads(json.dumps(g.to_dict()))


def _reload(tmp_path, scene: str, data: dict) -> Game:
    (tmp_path / "story" / "main.yaml").write_text(textwrap.dedent(scene), encoding="utf-8")
    return Game.from_dict(load_story(tmp_path / "story", cache_dir=False), data)


def test_reordered_choices_keep_their_own_targets(tmp_path):
    g, data = _saved(tmp_path, ROOMS)
    g.choose(2)  # wait: a once-only choice, used up
    data = json.loads(json.dumps(g.to_dict()))
    swapped = ROOMS.replace(
        "      - {text: Go into the left room., goto: left}\n      - {text: Go into the right room., goto: right}\n",
        "      - {text: Go into the right room., goto: right}\n      - {text: Go into the left room., goto: left}\n",
    )
    back = _reload(tmp_path, swapped, data)
    labels = [o.text for o in back.choices]
    assert labels == ["Go into the left room.", "Go into the right room."]
    back.choose(labels.index("Go into the left room."))
    assert back.passage == ["You are in the left room."]
    back.choose(0)
    assert [o.text for o in back.choices] == [
        "Go into the right room.",
        "Go into the left room.",
    ]  # once stays used


def test_an_inserted_choice_does_not_shift_the_others(tmp_path):
    _g, data = _saved(tmp_path, ROOMS)
    inserted = ROOMS.replace(
        "    choices:\n      - {text: Go into the left",
        "    choices:\n      - {text: Shout., goto: start}\n      - {text: Go into the left",
        1,
    )
    back = _reload(tmp_path, inserted, data)
    right = [o.text for o in back.choices].index("Go into the right room.")
    back.choose(right)
    assert back.passage == ["You are in the right room."]


@pytest.mark.parametrize(
    "change",
    [
        ("{text: Go into the left room., goto: left}", "{text: Go into the left room., goto: right}"),
        ("{text: Go into the left room., goto: left}", "{text: Go through the left door., goto: left}"),
        ("      - {text: Go into the left room., goto: left}\n", ""),
    ],
)
def test_a_changed_choice_refuses_the_load_and_says_the_passage_changed(tmp_path, change):
    _g, data = _saved(tmp_path, ROOMS)
    with pytest.raises(SaveError, match="passage 'main.start' has changed"):
        _reload(tmp_path, ROOMS.replace(*change), data)


def test_a_choice_id_survives_a_new_label(tmp_path):
    with_ids = ROOMS.replace(
        "{text: Go into the left room., goto: left}", "{id: left, text: Go into the left room., goto: left}"
    )
    _g, data = _saved(tmp_path, with_ids)
    back = _reload(tmp_path, with_ids.replace("Go into the left room.", "Try the left room."), data)
    assert back.choices[0].choice.ref == "c:left"
    back.choose(0)
    assert back.passage == ["You are in the left room."]


def test_events_are_found_by_node_id_after_nodes_are_inserted(tmp_path):
    hub = """\
        nodes:
          start:
            hub: true
            choices: [{text: Stay., goto: start}]
          visit:
            event: {title: Visit Becky}
            text: Becky's door.
            choices: [{text: Back., goto: <hub>}]
        """
    _g, data = _saved(tmp_path, hub)
    moved = hub.replace(
        "          visit:",
        "          other:\n            text: Elsewhere.\n            choices: [{text: Back., goto: start}]\n          visit:",
    )
    back = _reload(tmp_path, moved, data)
    back.choose([o.text for o in back.choices].index("Visit Becky"))
    assert back.passage == ["Becky's door."]


def test_saves_from_before_choice_keys_still_load_when_the_labels_match(tmp_path):
    g, data = _saved(tmp_path, ROOMS)
    for i, o in enumerate(data["options"]):
        o["ref"] = f"c{i}"
        del o["key"]
    back = Game.from_dict(g.story, data)
    assert [o.text for o in back.choices] == [o.text for o in g.choices]
    swapped = ROOMS.replace("Go into the left room., goto: left", "Go into the right room., goto: right", 1)
    with pytest.raises(SaveError, match="has changed"):
        _reload(tmp_path, swapped, data)


def test_choice_ids_are_checked(tmp_path):
    found = problems(
        tmp_path,
        ROOMS.replace("{text: Go into the left room.", "{id: a, text: Go into the left room.").replace(
            "{text: Go into the right room.", "{id: a, text: Go into the right room."
        ),
    )
    assert any("two choices with the id 'a'" in p for p in found)
    found = problems(
        tmp_path, ROOMS.replace("{text: Go into the left room.", "{id: 'a b', text: Go into the left room.")
    )
    assert any("must be letters, digits" in p for p in found)


def test_a_hub_event_the_story_no_longer_has_is_left_out(tmp_path):
    hub = """\
        nodes:
          start:
            hub: true
            choices: [{text: Stay., goto: start}]
          visit:
            event: {title: Visit Becky}
            text: Becky's door.
            choices: [{text: Back., goto: <hub>}]
        """
    _g, data = _saved(tmp_path, hub)
    back = _reload(tmp_path, hub[: hub.index("          visit:")], data)
    assert [o.text for o in back.choices] == ["Stay."]


def test_a_live_reload_keeps_each_label_to_its_target_or_keeps_the_old_version(tmp_path):
    # What a front end's live reload does (`Session.reload`): the state moves to the new
    # version only if every choice on screen can be found again.
    from game.session import Session

    root = make(tmp_path, ROOMS)
    session = Session(root, tmp_path / "saves", 3, load_story(root, cache_dir=False), background=False)
    session.new_game()
    playing = session.game
    assert playing is not None
    swapped = ROOMS.replace(
        "      - {text: Go into the left room., goto: left}\n      - {text: Go into the right room., goto: right}\n",
        "      - {text: Go into the right room., goto: right}\n      - {text: Go into the left room., goto: left}\n",
    )
    (root / "main.yaml").write_text(textwrap.dedent(swapped), encoding="utf-8")
    assert session.reload(load_story(root, cache_dir=False)) == ""
    moved = session.game
    assert moved is not None and moved is not playing
    labels = [o.text for o in moved.choices]
    session.choose(labels.index("Go into the left room."))
    assert moved.passage == ["You are in the left room."]
    # A label changed under the player: the reload is refused, saying why, and play goes on.
    session.choose(0)
    shown = [o.text for o in moved.choices]
    (root / "main.yaml").write_text(
        textwrap.dedent(swapped.replace("Go into the left room.", "Go through the left door.")),
        encoding="utf-8",
    )
    why = session.reload(load_story(root, cache_dir=False))
    assert "passage 'main.start' has changed" in why
    assert session.game is moved and [o.text for o in moved.choices] == shown
    session.close()
