"""The runtime, one capability at a time, on tiny stories."""

from __future__ import annotations

import json

import pytest

from game.engine import ChoiceError, Game, StoryRuntimeError, load_story

from ..conftest import STORIES
from .helpers import make, play, texts

CHAR_HEAD = """\
characters:
  becky: {name: Becky}
  stokesy: {name: Stokesy}
character_variables:
  trust: {type: int, initial: 2, min: 0, max: 5, label: Trust, display: bar, track: true}
  status: {type: enum, values: [community, custody], display: text, label: Status}
variables:
  hours: {type: int, initial: 6, min: 0, max: 8, unit: hours, label: Hours}
  week: {type: int, initial: 1, min: 1, max: 99, label: Week, display: number}
  flag: {type: bool}
"""


def test_per_character_variables_and_clamping(tmp_path):
    g = play(
        tmp_path,
        """\
        nodes:
          start:
            effects: [becky.trust += 10, stokesy.trust -= 10, flag = becky.trust > 4]
            text: "{becky.name} {becky.trust}, {stokesy.name} {stokesy.trust}, {flag}"
            choices:
              - {text: go, goto: start}
        """,
        CHAR_HEAD,
    )
    assert g.passage == ["Becky 5, Stokesy 0, yes"]
    assert g.get("flag") is True


def test_int_division_rounds_down_and_enums_only_take_their_values(tmp_path):
    g = play(
        tmp_path,
        """\
        nodes:
          start:
            effects: [becky.trust = 9 / 2, stokesy.trust *= 0.5]
            choices:
              - text: "{becky.trust} {stokesy.trust} {becky.status}"
                effects: ["becky.status = 'custody'"]
                goto: start
        """,
        CHAR_HEAD,
    )
    assert texts(g) == ["4 1 community"]
    g.choose(0)
    assert g.get("becky.status") == "custody"


def test_text_variations_by_visit_count(tmp_path):
    g = play(
        tmp_path,
        """\
        nodes:
          start:
            text:
              - sequence: [one, two, three]
              - cycle: [a, b]
              - if: visited(start) > 1
                text: again
                else: first
            choices:
              - {text: loop, goto: start}
        """,
    )
    seen = []
    for _ in range(4):
        seen.append(g.passage)
        g.choose(0)
    assert seen == [
        ["one", "a", "first"],
        ["two", "b", "again"],
        ["three", "a", "again"],
        ["three", "b", "again"],
    ]


def test_paragraphs_and_literal_markup(tmp_path):
    g = play(
        tmp_path,
        """\
        nodes:
          start:
            text: |
              First line
              continues here.

              Second [bold]paragraph[/] {{braces}}.
            choices:
              - {text: x, goto: start}
        """,
    )
    assert g.passage == ["First line continues here.", "Second [bold]paragraph[/] {braces}."]


def test_shuffle_is_seeded(tmp_path):
    scene = """\
        nodes:
          start:
            text:
              - shuffle: [a, b, c, d, e, f, g, h]
            choices:
              - {text: x, goto: start}
        """
    root = make(tmp_path, scene)
    story = load_story(root, cache_dir=False)

    def run(seed):
        g = Game(story, seed=seed)
        out = []
        for _ in range(10):
            out += g.passage
            g.choose(0)
        return out

    assert run(3) == run(3)
    assert len(set(run(3))) > 1
    assert run(3) != run(4)


def test_hidden_disabled_once_cost_and_fallback(tmp_path):
    g = play(
        tmp_path,
        """\
        nodes:
          start:
            choices:
              - text: hidden
                if: week > 5
                goto: start
              - text: disabled
                if: week > 5
                reason: Not until week {week + 5}
                goto: start
              - text: dear
                cost: {hours: 4}
                goto: start
              - text: once
                once: true
                goto: start
              - fallback: true
                goto: out
          out:
            text: Out of options.
            ending: {id: out, title: Out}
        """,
        CHAR_HEAD,
    )
    assert texts(g) == ["disabled", "dear", "once"]
    disabled = g.choices[0]
    assert not disabled.enabled and disabled.reason == "Not until week 6"
    with pytest.raises(ChoiceError, match="Not until week 6"):
        g.choose(0)
    assert g.choices[1].cost == "4 hours"
    g.choose(1)
    assert g.get("hours") == 2
    assert not g.choices[1].enabled and g.choices[1].reason == "Needs 4 hours; 2 left"
    g.choose(2)  # once: back at start nothing is enabled any more, so the fallback is taken
    assert g.ended and g.ending.id == "out"


def test_random_branches_follow_weights(tmp_path):
    scene = """\
        nodes:
          start:
            choices:
              - {text: roll, goto: roll}
          roll:
            random:
              - weight: 3 * flag
                goto: never
              - weight: 1
                effects: [week += 1]
                goto: start
              - weight: 3
                goto: start
          never:
            text: never
            ending: {id: never, title: Never}
        """
    story = load_story(make(tmp_path, scene, CHAR_HEAD), cache_dir=False)
    g = Game(story, seed=11)
    for _ in range(400):
        g.choose(0)
    assert not g.ended
    assert 60 < g.get("week") - 1 < 140  # about a quarter of 400


def test_branch_takes_the_first_true(tmp_path):
    g = play(
        tmp_path,
        """\
        nodes:
          start:
            effects: [week = 3]
            branch:
              - if: week > 5
                goto: big
              - if: week > 2
                effects: [flag = true]
                goto: mid
              - goto: big
          big:
            text: big
            ending: {id: big, title: Big}
          mid:
            text: mid
            ending: {id: mid, title: Mid}
        """,
        CHAR_HEAD,
    )
    assert g.ending.id == "mid" and g.get("flag") is True


HUB_HEAD = (
    CHAR_HEAD
    + """\
turns:
  counter: week
  budget: hours
  refill: 6
  hub: main.hub
  end_of_turn:
    - becky.trust += 1
"""
)

HUB_SCENE = """\
nodes:
  start:
    goto: hub
  hub:
    hub: true
    text: Week {week}, {hours} hours.
    choices:
      - text: Next week
        goto: <end-turn>
  visit:
    event: {title: Visit, cost: {hours: 2}, priority: 1}
    text: Visiting.
    choices:
      - {text: Back, goto: <hub>}
  one_off:
    event: {title: Once only, once: true}
    choices:
      - {text: Back, goto: <hub>}
  slow:
    event: {title: Every other week, cooldown: 2}
    choices:
      - {text: Back, goto: <hub>}
  late:
    event: {title: Later, if: week >= 3, reason: From week 3}
    choices:
      - {text: Back, goto: <hub>}
  alarm:
    event: {title: Alarm, forced: true, if: becky.trust >= 4}
    text: The phone rings.
    choices:
      - text: Answer
        effects: [becky.trust = 0]
        goto: <hub>
  end:
    event: {title: End, forced: true, if: week > 5, priority: 10}
    text: The end.
    ending: {id: fin, title: Fin}
"""


def test_hub_events_turns_and_forced_events(tmp_path):
    g = play(tmp_path, HUB_SCENE, HUB_HEAD)
    assert g.passage == ["Week 1, 6 hours."]
    assert texts(g) == ["Next week", "Visit", "Once only", "Every other week", "Later"]
    assert not g.choices[4].enabled and g.choices[4].reason == "From week 3"
    g.choose(2)  # once only
    g.choose(0)
    assert "Once only" not in texts(g)
    g.choose(texts(g).index("Every other week"))
    g.choose(0)
    assert "Every other week" not in texts(g)  # cooling down
    g.choose(texts(g).index("Visit"))
    assert g.get("hours") == 4
    g.choose(0)
    g.choose(texts(g).index("Visit"))
    g.choose(0)
    g.choose(texts(g).index("Visit"))
    g.choose(0)
    assert not g.choices[1].enabled and g.choices[1].reason == "Needs 2 hours; 0 left"
    g.choose(0)  # end of week 1: trust 2 -> 3, hours refilled
    assert g.get("week") == 2 and g.get("hours") == 6 and g.turn == 1
    assert "Every other week" not in texts(g)
    g.choose(0)  # end of week 2: trust 4 -> the forced alarm preempts the hub
    assert g.passage == ["The phone rings."]
    g.choose(0)
    assert g.passage == ["Week 3, 6 hours."]
    assert "Every other week" in texts(g) and g.choices[-1].enabled
    while not g.ended:
        g.choose(0)
    assert g.ending.id == "fin" and g.get("week") == 6
    assert g.series("becky.trust")[:4] == [(0, 2), (1, 3), (2, 4), (3, 1)]


def test_hub_limit_shows_highest_priority_first(tmp_path):
    scene = HUB_SCENE.replace("hub: true", "hub: {limit: 2}")
    g = play(tmp_path, scene, HUB_HEAD)
    assert texts(g)[:2] == ["Next week", "Visit"]
    assert len(texts(g)) == 3


def test_character_endings_are_recorded_and_the_story_goes_on(tmp_path):
    g = play(
        tmp_path,
        """\
        nodes:
          start:
            choices:
              - {text: Becky leaves, goto: gone}
          gone:
            ending: {id: becky_away, title: Moved away, category: mixed, character: becky}
            text: Becky has gone.
            goto: check
          check:
            branch:
              - if: ended(becky)
                goto: fin
              - goto: start
          fin:
            ending: {id: fin, title: Fin}
        """,
        CHAR_HEAD,
    )
    g.choose(0)
    assert g.ended
    assert g.character_endings()["becky"].title == "Moved away"
    assert [e for _t, e in g.outcomes] == ["becky_away", "fin"]


def test_runtime_loop_is_caught(tmp_path):
    g = play(
        tmp_path,
        """\
        nodes:
          start:
            choices:
              - {text: spin, goto: a}
          a:
            random:
              - {weight: 1, goto: b}
          b:
            choices:
              - {text: never, if: false, goto: a}
              - {fallback: true, goto: a}
        """,
    )
    with pytest.raises(StoryRuntimeError, match="endless loop"):
        g.choose(0)
    assert texts(g) == ["spin"]  # the failed choice left the game as it was


def test_dead_end_is_reported(tmp_path):
    g = play(
        tmp_path,
        """\
        nodes:
          start:
            choices:
              - {text: go, goto: stuck}
          stuck:
            choices:
              - {text: never, if: false, goto: start}
        """,
    )
    with pytest.raises(StoryRuntimeError, match="dead end at 'main.stuck'"):
        g.choose(0)


def _first_week():
    return load_story(STORIES / "first_week", cache_dir=False)


def _random_play(game, rng_seed, steps):
    import random

    rng = random.Random(rng_seed)
    for _ in range(steps):
        if game.ended:
            break
        game.choose(rng.choice([o.index for o in game.choices if o.enabled]))


def test_undo_goes_back_at_least_100_steps():
    story = _first_week()
    g = Game(story, seed=5)
    states = [json.dumps(g.to_dict(), sort_keys=True)]
    for i in range(150):
        if g.ended:
            break
        opts = [o.index for o in g.choices if o.enabled]
        g.choose(opts[i % len(opts)])
        states.append(json.dumps(g.to_dict(), sort_keys=True))
    undone = 0
    while g.undo():
        undone += 1
        assert json.dumps(g.to_dict(), sort_keys=True) == states[-1 - undone]
    assert undone >= min(100, len(states) - 1)


def test_same_seed_and_choices_give_the_same_transcript():
    story = _first_week()
    a, b = Game(story, seed=42), Game(story, seed=42)
    _random_play(a, 1, 500)
    _random_play(b, 1, 500)
    assert a.transcript == b.transcript and a.ending == b.ending
    replay = Game(story, seed=42)
    for i in a.log:
        replay.choose(i)
    assert replay.to_dict() == a.to_dict()


def test_state_round_trips_through_json():
    story = _first_week()
    g = Game(story, seed=9)
    _random_play(g, 2, 25)
    data = json.loads(json.dumps(g.to_dict()))
    back = Game.from_dict(story, data)
    assert back.to_dict() == g.to_dict()
    assert [o.text for o in back.choices] == [o.text for o in g.choices]
    _random_play(g, 3, 30)
    _random_play(back, 3, 30)
    assert back.to_dict() == g.to_dict()


def test_notices_report_visible_changes(tmp_path):
    g = play(
        tmp_path,
        """\
        nodes:
          start:
            choices:
              - text: help
                effects: [becky.trust += 1, flag = true, "stokesy.status = 'custody'"]
                goto: start
        """,
        CHAR_HEAD,
    )
    g.choose(0)
    assert [str(n) for n in g.notices] == ["Becky: Trust +1", "Stokesy: Status: custody"]
    assert [n.improved for n in g.notices] == [True, None]


def test_notices_know_when_lower_is_better(tmp_path):
    g = play(
        tmp_path,
        """\
        nodes:
          start:
            choices:
              - text: a good quarter
                effects: [rank -= 5, score -= 1]
                goto: start
        """,
        """\
        variables:
          rank: {type: int, initial: 60, display: number, better: lower}
          score: {type: int, initial: 3, display: number}
        """,
    )
    g.choose(0)
    assert [(str(n), n.improved) for n in g.notices] == [("Rank -5", True), ("Score -1", False)]


def test_set_var_checks_types(tmp_path):
    g = play(tmp_path, "nodes:\n  start:\n    choices:\n      - {text: x, goto: start}\n", CHAR_HEAD)
    g.set_var("becky.trust", 99)
    assert g.get("becky.trust") == 5
    with pytest.raises(ValueError):
        g.set_var("becky.status", "jail")
    with pytest.raises(ValueError):
        g.set_var("flag", 3)


def test_forced_event_pays_its_cost(tmp_path):
    scene = HUB_SCENE.replace(
        "event: {title: Alarm, forced: true,", "event: {title: Alarm, forced: true, cost: {hours: 5},"
    )
    g = play(tmp_path, scene, HUB_HEAD)
    g.choose(0)
    g.choose(0)  # trust reaches 4: the alarm fires and charges its hours
    assert g.passage == ["The phone rings."]
    assert g.get("hours") == 1


def test_save_finds_choices_after_a_fallback(tmp_path):
    g = play(
        tmp_path,
        """\
        nodes:
          start:
            choices:
              - {fallback: true, goto: start}
              - {text: first, goto: start}
              - {text: second, goto: start}
        """,
    )
    back = Game.from_dict(g.story, json.loads(json.dumps(g.to_dict())))
    assert [o.choice.ref for o in back.choices] == [o.choice.ref for o in g.choices]
    assert all(o.choice.ref.startswith("c:") for o in back.choices)
    assert [o.choice for o in back.choices] == [o.choice for o in g.choices]


def test_characters_can_start_from_their_own_values(tmp_path):
    head = CHAR_HEAD.replace(
        "  becky: {name: Becky}", "  becky: {name: Becky, initial: {trust: 4, status: custody}}"
    )
    g = play(tmp_path, "nodes:\n  start:\n    choices:\n      - {text: x, goto: start}\n", head)
    assert g.get("becky.trust") == 4 and g.get("becky.status") == "custody"
    assert g.get("stokesy.trust") == 2 and g.get("stokesy.status") == "community"


def test_bad_character_initial_values_are_errors(tmp_path):
    from .helpers import problems

    head = CHAR_HEAD.replace(
        "  becky: {name: Becky}", "  becky: {name: Becky, initial: {trust: 9, stauts: x, flag: true}}"
    )
    text = "\n".join(
        problems(tmp_path, "nodes:\n  start:\n    choices:\n      - {text: x, goto: start}\n", head)
    )
    assert "initial value 9 is outside 0..5" in text
    assert "'stauts' is not a character variable; did you mean 'status'?" in text
    assert "'flag' is not a character variable" in text


def test_text_else_can_be_a_variation(tmp_path):
    g = play(
        tmp_path,
        """\
        nodes:
          start:
            text:
              - if: visited(start) > 5
                text: late
                else: {cycle: [odd, even]}
            choices:
              - {text: x, goto: start}
        """,
    )
    seen = []
    for _ in range(3):
        seen += g.passage
        g.choose(0)
    assert seen == ["odd", "even", "odd"]


def test_comma_in_a_flow_list_gets_a_hint(tmp_path):
    from .helpers import problems

    scene = "nodes:\n  start:\n    effects: [flag = min(1, 2) > 0]\n    choices:\n      - {text: x, goto: start}\n"
    text = "\n".join(problems(tmp_path, scene, CHAR_HEAD))
    assert "quote an expression that has one" in text


def test_undo_counts_visits_back_without_copying_them(tmp_path):
    g = play(
        tmp_path,
        """\
        nodes:
          start:
            choices:
              - {text: loop, goto: middle}
          middle:
            goto: start
        """,
    )
    before = list(g.visits)
    g.choose(0)
    g.choose(0)
    assert list(g.visits) != before
    assert g.undo() and g.undo()
    assert list(g.visits) == before
    restored = Game.from_dict(g.story, g.to_dict(), record=False)
    restored.choose(0)
    assert restored.visits[g.story.node_index["main.middle"]] == 1
