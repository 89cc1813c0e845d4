"""The game state is one typed value: its copy, key, undo and save all come from its fields."""

from __future__ import annotations

import json
from dataclasses import fields

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from game.engine import Game, load_story
from game.engine.state import KEYED, TRAIL, State

from ..conftest import STORIES


@pytest.fixture(scope="module")
def story():
    return load_story(STORIES / "first_week", cache_dir=False)


def _play(story, picks, seed=5, record=True):
    g = Game(story, seed=seed, record=record)
    for pick in picks:
        if g.ended:
            break
        enabled = [o.index for o in g.choices if o.enabled]
        g.choose(enabled[pick % len(enabled)])
    return g


def test_every_field_says_how_it_is_kept():
    for f in fields(State):
        assert f.metadata.get("undo", "copy") in {"copy", "trail", "append", "same"}, f.name
        save = f.metadata.get("save", True)
        # A field with no codec of its own is a whole number saved under its name.
        assert save is None or save is True and f.type == "int" or hasattr(save, "dump"), f.name
    assert "v" in KEYED and "visits" in KEYED and "node" in KEYED
    assert "transcript" not in KEYED and "passage" not in KEYED


def test_the_save_format_is_the_states_fields(story):
    data = _play(story, [0, 1, 2, 0, 1]).to_dict()
    assert list(data) == [
        "version",
        "seed",
        "rng",
        "turn",
        "node",
        "hub",
        "vars",
        "visits",
        "passage",
        "options",
        "once_used",
        "events",
        "fired",
        "character_endings",
        "ending",
        "outcomes",
        "history",
        "tracked",
        "log",
        "transcript",
    ]
    json.dumps(data)  # JSON-ready as it is


def test_a_save_from_before_a_new_field_reads_it_as_its_default(story):
    data = _play(story, [1, 1, 0]).to_dict()
    del data["fired"]
    back = Game.from_dict(story, data)
    assert back.state.fired == 0 and back.passage


def test_copy_is_independent_and_keeps_the_key(story):
    g = _play(story, [2, 0, 1, 1])
    twin = g.state.copy()
    assert twin.key() == g.state.key() and twin is not g.state
    twin.v[0] = not twin.v[0] if isinstance(twin.v[0], bool) else twin.v[0] + 1
    twin.visits[g.state.node] += 5
    twin.once_used.add(-99)
    assert twin.key() != g.state.key()
    assert g.state.key() == _play(story, [2, 0, 1, 1]).state.key()
    hash(g.state.key())


def test_an_undo_snapshot_does_not_copy_the_visit_counts(story):
    g = _play(story, [0, 1])
    snap = g.state.snapshot()
    assert snap[TRAIL] == []  # the nodes the next choice enters go here, not a copy of every count
    assert not any(part is g.state.visits or part == g.state.visits for part in snap)
    before = g.to_dict()
    g.choose(next(o.index for o in g.choices if o.enabled))
    assert g.undo() and g.to_dict() == before


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picks=st.lists(st.integers(0, 6), max_size=30), seed=st.integers(0, 2**32))
def test_save_and_load_give_back_the_same_state(story, picks, seed):
    g = _play(story, picks, seed=seed)
    back = Game.from_dict(story, json.loads(json.dumps(g.to_dict())))
    assert back.state.key() == g.state.key()
    for f in fields(State):
        if f.metadata.get("save", True) is not None:
            assert getattr(back.state, f.name) == getattr(g.state, f.name) or f.name == "options", f.name
    assert [(o.text, o.enabled, o.choice) for o in back.choices] == [
        (o.text, o.enabled, o.choice) for o in g.choices
    ]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(picks=st.lists(st.integers(0, 6), min_size=1, max_size=25), seed=st.integers(0, 2**32))
def test_undo_goes_back_to_each_earlier_state_exactly(story, picks, seed):
    g = Game(story, seed=seed)
    seen = []
    for pick in picks:
        if g.ended:
            break
        seen.append(g.to_dict())
        enabled = [o.index for o in g.choices if o.enabled]
        g.choose(enabled[pick % len(enabled)])
    while seen:
        assert g.undo()
        assert g.to_dict() == seen.pop()
    assert not g.undo()
