"""Two dozen kinds of broken save: each is refused with a clear reason and never changed."""

from __future__ import annotations

import copy
import gzip
import json

import pytest

from game.engine import Game, SaveError, load_story
from game.engine.saves import list_saves, load_save, write_save

from ..conftest import STORIES


@pytest.fixture(scope="module")
def story():
    return load_story(STORIES / "first_week", cache_dir=False)


@pytest.fixture(scope="module")
def good(story, tmp_path_factory):
    g = Game(story, seed=8)
    for i in range(15):
        g.choose([o.index for o in g.choices if o.enabled][i % 2 if len(g.choices) > 1 else 0])
    path = write_save(tmp_path_factory.mktemp("good"), "good", g)
    return path.read_bytes()


def _edit(fn):
    def make(raw):
        data = json.loads(raw)
        fn(data)
        return json.dumps(data).encode()

    return make


def _set_state(key, value):
    return _edit(lambda d: d["state"].__setitem__(key, value))


KINDS = {
    "empty": (lambda raw: b"", "empty"),
    "whitespace": (lambda raw: b"  \n\t\n", "empty"),
    "truncated": (lambda raw: raw[: len(raw) // 2], "cut short"),
    "truncated_tiny": (lambda raw: raw[:3], "cut short"),
    "not_json": (lambda raw: b"this is not a save", "cut short"),
    "binary": (lambda raw: bytes(range(256)) * 4, "not text"),
    "gzipped": (lambda raw: gzip.compress(raw), "not text"),
    "utf16": (lambda raw: raw.decode().encode("utf-16"), "not text"),
    "json_list": (lambda raw: b"[]", "not a Straight and Narrow save"),
    "json_number": (lambda raw: b"42", "not a Straight and Narrow save"),
    "other_format": (_edit(lambda d: d.__setitem__("format", "renpy")), "not a Straight and Narrow save"),
    "future_version": (_edit(lambda d: d.__setitem__("version", 2)), "format version 2"),
    "version_string": (_edit(lambda d: d.__setitem__("version", "1")), "format version '1'"),
    "no_state": (_edit(lambda d: d.pop("state")), "no game state"),
    "story_missing": (_edit(lambda d: d.pop("story")), "which story"),
    "another_story": (
        _edit(lambda d: d["story"].update(id="ink-demo", title="Ink demo")),
        "another story ('Ink demo')",
    ),
    "node_gone": (_set_state("node", "stokesy.nowhere"), "'stokesy.nowhere' no longer exists"),
    "node_gone_story_changed": (
        _edit(
            lambda d: (
                d["state"].__setitem__("node", "office.gone"),
                d["story"].__setitem__("hash", "0" * 64),
            )
        ),
        "the story has changed since this save",
    ),
    "hub_gone": (_set_state("hub", "office.nohub"), "'office.nohub' no longer exists"),
    "value_out_of_range": (_edit(lambda d: d["state"]["vars"].__setitem__("hours", 10**6)), "outside"),
    "value_wrong_type": (
        _edit(lambda d: d["state"]["vars"].__setitem__("hours", "eight")),
        "not a whole number",
    ),
    "bool_wrong_type": (
        _edit(lambda d: d["state"]["vars"].__setitem__(_first_bool(d), 3)),
        "not true or false",
    ),
    "enum_unknown": (
        _edit(lambda d: d["state"]["vars"].__setitem__("becky.status", "on the moon")),
        "not one of",
    ),
    "vars_not_object": (_set_state("vars", [1, 2, 3]), "not a JSON object"),
    "turn_negative_string": (_set_state("turn", "-1"), "not a whole number"),
    "seed_float": (_set_state("seed", 1.5), "not a whole number"),
    "options_garbage": (_set_state("options", [{"ref": "zz"}]), "damaged"),
    "options_missing": (_edit(lambda d: d["state"].pop("options")), "damaged"),
    "ending_unknown": (_set_state("ending", "never_written"), "'never_written' no longer exists"),
    "no_choices_left": (_set_state("options", []), "no choices to continue from"),
    "state_version": (_set_state("version", 0), "state version 0"),
    "history_garbage": (_set_state("history", "lots"), "damaged"),
    "deeply_nested": (lambda raw: b"[" * 100000 + b"]" * 100000, "nested too deeply"),
}


def _first_bool(data):
    return next(k for k, v in data["state"]["vars"].items() if isinstance(v, bool))


def test_at_least_twenty_kinds():
    assert len(KINDS) >= 20


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_broken_save_is_refused_and_untouched(story, good, tmp_path, kind):
    make, message = KINDS[kind]
    raw = make(good)
    path = tmp_path / f"{kind}.json"
    path.write_bytes(raw)
    with pytest.raises(SaveError) as err:
        load_save(tmp_path, kind, story)
    assert message in str(err.value)
    (slot,) = list_saves(tmp_path, story)
    assert not slot.ok and message in slot.reason
    assert path.read_bytes() == raw
    # and a new save elsewhere in the folder still works
    write_save(tmp_path, "fresh", Game(story, seed=1))
    assert {s.name for s in list_saves(tmp_path, story) if s.ok} == {"fresh"}


def test_older_story_version_loads_when_its_passage_exists(story, good, tmp_path):
    data = json.loads(good)
    older = copy.deepcopy(data)
    older["story"]["hash"] = "f" * 64  # written by an earlier version of the story files
    older["state"]["vars"]["a_variable_since_removed"] = 3
    (tmp_path / "old.json").write_text(json.dumps(older))
    game = load_save(tmp_path, "old", story)
    assert game.passage == data["state"]["passage"]
