"""The play loop's shortcuts give exactly what the long way gives."""

from __future__ import annotations

import gc
import weakref

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from game.engine import Game, load_story
from game.engine.story import SWITCH_RUN, release_frozen

from .helpers import make

HEAD = """\
variables:
  week: {type: int, initial: 1, min: 1, max: 9}
  mood: {type: enum, values: [low, mid, high], initial: mid}
  fresh: {type: bool, initial: true}
  n: {type: int, initial: 0, min: 0, max: 9}
"""

# Paragraphs keyed on `week` (some with a second test, one value twice, one in an `or` that
# ends the run), then a run keyed on an enum, then one that is too short to be a table.
SCENE = """\
nodes:
  start:
    text:
      - "Top."
      - {if: fresh and week == 1, text: "W1."}
      - {if: week == 2, text: "W2 {n}."}
      - {if: week == 2 and n > 3, text: "W2 busy."}
      - {if: n >= 2 and week == 3 and fresh, text: "W3 fresh and n."}
      - {if: week == 4, text: "W4."}
      - {if: week == 9, text: "W9."}
      - {if: week == 1 or week == 5, text: "W1 or 5."}
      - {if: mood == 'low', text: "Low."}
      - {if: mood == 'high' and fresh, text: "High fresh."}
      - {if: mood == 'mid', text: "Mid."}
      - {if: mood == 'high', text: "High."}
      - {if: week == 6, text: "W6.", else: "Not 6."}
      - {if: n == 1, text: "N1."}
      - "End."
    choices:
      - {text: "Again", goto: start}
"""


def _expected(week: int, mood: str, fresh: bool, n: int) -> list[str]:
    want = ["Top."]
    want += ["W1."] if fresh and week == 1 else []
    want += [f"W2 {n}."] if week == 2 else []
    want += ["W2 busy."] if week == 2 and n > 3 else []
    want += ["W3 fresh and n."] if n >= 2 and week == 3 and fresh else []
    want += ["W4."] if week == 4 else []
    want += ["W9."] if week == 9 else []
    want += ["W1 or 5."] if week in (1, 5) else []
    want += ["Low."] if mood == "low" else []
    want += ["High fresh."] if mood == "high" and fresh else []
    want += ["Mid."] if mood == "mid" else []
    want += ["High."] if mood == "high" else []
    want += ["W6."] if week == 6 else ["Not 6."]
    want += ["N1."] if n == 1 else []
    return [*want, "End."]


@pytest.fixture(scope="module")
def keyed_story(tmp_path_factory):
    return load_story(make(tmp_path_factory.mktemp("keyed"), SCENE, HEAD), cache_dir=False)


def test_the_keyed_runs_are_long_enough_to_be_tables():
    assert SWITCH_RUN <= 4


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    week=st.integers(1, 9),
    mood=st.sampled_from(["low", "mid", "high"]),
    fresh=st.booleans(),
    n=st.integers(0, 9),
)
def test_paragraphs_keyed_on_one_variable_show_as_if_each_were_tested(keyed_story, week, mood, fresh, n):
    g = Game(keyed_story, values={"week": week, "mood": mood, "fresh": fresh, "n": n}, start="main.start")
    assert g.passage == _expected(week, mood, fresh, n)


CHOICES = """\
nodes:
  start:
    text: "Pick."
    choices:
      - {text: "Up", if: n < 9, effects: [n += 1], goto: start}
      - {text: "Down", if: n > 0, effects: [n -= 1], goto: start}
      - {text: "Flip", effects: [fresh = not fresh], goto: start}
      - {text: "Only when fresh", if: fresh, goto: start}
"""


def test_options_made_once_for_a_set_of_choices_are_the_same_as_new_ones(tmp_path):
    story = load_story(make(tmp_path, CHOICES, HEAD), cache_dir=False)
    # `n < 9` and `n > 0` are tested as data, `fresh` by its compiled condition.
    assert [test is not None for _cond, test, _ch in story.node("main.start").plain or ()] == [
        True,
        True,
        False,
        False,
    ]
    g = Game(story, seed=3)
    seen = set()
    for step in range(60):
        labels = [(o.index, o.text, o.enabled, o.reason, o.cost) for o in g.choices]
        n, fresh = g.get("n"), g.get("fresh")
        want = [
            t for t, ok in (("Up", n < 9), ("Down", n > 0), ("Flip", True), ("Only when fresh", fresh)) if ok
        ]
        assert labels == [(i, t, True, "", "") for i, t in enumerate(want)]
        seen.add(tuple(want))
        g.choose(step * 7 % len(labels))
    assert len(seen) >= 3
    # Shared between games, never changed by one of them.
    other = Game(story, seed=3)
    assert [o.text for o in other.choices] == ["Up", "Flip", "Only when fresh"]


def test_a_node_offered_once_keeps_nothing_and_one_offered_again_remembers(tmp_path):
    story = load_story(make(tmp_path, CHOICES, HEAD), cache_dir=False)
    g = Game(story, seed=3, record=False)
    node = g.current_node
    first = [(o.index, o.text) for o in g.choices]
    assert not node.fresh and not node.shown and not node.by_values
    again = Game(story, seed=3, record=False)
    assert [(o.index, o.text) for o in again.choices] == first
    assert node.shown and again.choices is Game(story, seed=3, record=False).choices


def test_a_node_compiled_during_play_is_not_rescanned_by_the_collector(tmp_path):
    story = load_story(make(tmp_path, CHOICES, HEAD), cache_dir=False)
    assert gc.isenabled()
    before = gc.get_freeze_count()
    node = story.node_at(story.node_index["main.start"])
    assert gc.get_freeze_count() > before
    assert gc.isenabled()
    assert not any(o is node for generation in range(3) for o in gc.get_objects(generation))


def test_an_old_version_of_a_story_can_be_released_after_its_nodes_were_frozen(tmp_path):
    story = load_story(make(tmp_path, CHOICES, HEAD), cache_dir=False)
    g = Game(story, seed=1)
    g.choose(0)
    old = weakref.ref(story)
    del story, g
    release_frozen()
    assert old() is None
    assert gc.isenabled()


TWINS = """\
nodes:
  start:
    text: "Two doors."
    choices:
      - {text: "Left", goto: start}
      - {text: "Left", goto: start}
      - {text: "Right", id: right, goto: start}
      - {fallback: true, goto: start}
"""


def test_choice_keys_made_on_first_use_are_the_same_whichever_is_asked_first(tmp_path):
    def keys(ask_order):
        where = tmp_path / "-".join(map(str, ask_order))
        where.mkdir()
        story = load_story(make(where, TWINS, HEAD), cache_dir=False)
        node = story.node_at(story.node_index["main.start"])
        asked = {i: node.choices[i].ref for i in ask_order}
        return [asked[i] for i in range(3)], node.fallback.ref

    first, fallback = keys((0, 1, 2))
    assert keys((2, 1, 0)) == (first, fallback)
    assert first[0].startswith("c:~") and first[1] == first[0] + "#2" and first[2] == "c:right"
    assert fallback.startswith("c:~") and fallback not in first


ADJUSTS = """\
nodes:
  start:
    text: "Week {week}, n {n}."
    choices:
      - {text: "Up three", effects: [n += 3], goto: start}
      - {text: "Down, and a week on", effects: [n -= 2, week += 1], goto: start}
      - {text: "Down by a lot", effects: [n -= 20], goto: start}
      - {text: "Not only sums", effects: [n += 1, fresh = not fresh], goto: start}
"""


@given(st.lists(st.integers(0, 3), max_size=40))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_effects_taken_as_data_are_the_effects_called(tmp_path, picks):
    story = load_story(make(tmp_path, ADJUSTS, HEAD), cache_dir=False)
    choices = story.node("main.start").choices
    assert [ch.adjust is not None for ch in choices] == [True, True, True, False]
    g = Game(story, seed=1, record=False)
    for pick in picks:
        twin = g.state.copy()
        choices[pick].effects(twin)  # the long way, called on a copy
        g.choose(pick)
        assert g.state.v == twin.v  # clamped to 0..9 and 1..9 the same way
