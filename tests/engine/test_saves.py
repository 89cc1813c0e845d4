"""Saves: atomic, versioned, checked; a broken save is reported and never touched."""

from __future__ import annotations

import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from game.engine import Game, SaveError, load_story
from game.engine.saves import delete_save, list_saves, load_save, rename_save, slot_path, write_save

from ..conftest import STORIES


@pytest.fixture(scope="module")
def story():
    return load_story(STORIES / "first_week", cache_dir=False)


def _played(story, steps=12, seed=3):
    g = Game(story, seed=seed)
    for i in range(steps):
        opts = [o.index for o in g.choices if o.enabled]
        g.choose(opts[i % len(opts)])
    return g


def test_save_and_load_resume_exactly(story, tmp_path):
    g = _played(story)
    path = write_save(tmp_path, "slot1", g)
    data = json.loads(path.read_text())
    assert data["format"] == "straight-and-narrow-save" and data["version"] == 1
    assert data["story"]["id"] == story.id and data["story"]["hash"] == story.content_hash
    assert data["seed"] == g.seed and data["choices"] == g.log
    back = load_save(tmp_path, "slot1", story)
    assert back.passage == g.passage and back.transcript == g.transcript
    assert back.to_dict() == g.to_dict()


def test_no_temporary_files_are_left(story, tmp_path):
    write_save(tmp_path, "a", _played(story))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_rename_and_delete_a_save(story, tmp_path):
    g = _played(story)
    write_save(tmp_path, "monday", g)
    write_save(tmp_path, "tuesday", _played(story, 3))
    before = (tmp_path / "tuesday.json").read_bytes()
    with pytest.raises(SaveError, match="already a save called 'tuesday'"):
        rename_save(tmp_path, "monday", "tuesday")
    assert (tmp_path / "tuesday.json").read_bytes() == before  # never replaced
    assert rename_save(tmp_path, "monday", "before-court") == tmp_path / "before-court.json"
    assert load_save(tmp_path, "before-court", story).to_dict() == g.to_dict()
    assert not (tmp_path / "monday.json").exists()
    with pytest.raises(SaveError, match="no save called 'monday'"):
        rename_save(tmp_path, "monday", "again")
    with pytest.raises(SaveError, match="can't be a save name"):
        rename_save(tmp_path, "before-court", "../out")
    delete_save(tmp_path, "before-court")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tuesday.json"]
    with pytest.raises(SaveError, match="no save called"):
        delete_save(tmp_path, "before-court")


@pytest.mark.parametrize(
    "name", ["../escape", "/etc/passwd", "a/b", "", ".hidden", "x" * 41, "semi;colon", "nul\0"]
)
def test_slot_names_cannot_escape(tmp_path, name):
    with pytest.raises(SaveError):
        slot_path(tmp_path, name)


BROKEN = {
    "empty": (b"", "empty"),
    "truncated": (None, "damaged or cut short"),
    "not_json": (b"hello there", "damaged or cut short"),
    "binary": (bytes(range(256)), "not text"),
    "list": (b"[1, 2, 3]", "not a Straight and Narrow save"),
    "other_format": (b'{"format": "ink"}', "not a Straight and Narrow save"),
    "future": (b'{"format": "straight-and-narrow-save", "version": 99}', "format version 99"),
    "no_story": (b'{"format": "straight-and-narrow-save", "version": 1, "state": {}}', "which story"),
}


def test_broken_saves_are_listed_with_reasons_and_left_alone(story, tmp_path):
    good = write_save(tmp_path, "good", _played(story))
    for name, (raw, _msg) in BROKEN.items():
        (tmp_path / f"{name}.json").write_bytes(good.read_bytes()[:200] if raw is None else raw)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    slots = {s.name: s for s in list_saves(tmp_path, story)}
    assert slots["good"].ok
    for name, (_raw, msg) in BROKEN.items():
        assert not slots[name].ok and msg in slots[name].reason, (name, slots[name].reason)
        with pytest.raises(SaveError):
            load_save(tmp_path, name, story)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def _tamper(tmp_path, story, change):
    g = _played(story)
    data = json.loads(write_save(tmp_path, "t", g).read_text())
    change(data)
    (tmp_path / "t.json").write_text(json.dumps(data))
    with pytest.raises(SaveError) as err:
        load_save(tmp_path, "t", story)
    return str(err.value)


def test_tampered_saves(story, tmp_path):
    assert "outside" in _tamper(tmp_path, story, lambda d: d["state"]["vars"].update({"hours": 999}))
    assert "another story" in _tamper(
        tmp_path, story, lambda d: d["story"].update({"id": "other", "title": "Other"})
    )
    assert "no longer exists" in _tamper(tmp_path, story, lambda d: d["state"].update({"node": "gone.node"}))
    msg = _tamper(
        tmp_path,
        story,
        lambda d: (d["state"].update({"node": "gone.node"}), d["story"].update({"hash": "old"})),
    )
    assert msg.startswith("the story has changed since this save")
    assert "not a whole number" in _tamper(tmp_path, story, lambda d: d["state"].update({"turn": "soon"}))
    assert "damaged" in _tamper(tmp_path, story, lambda d: d["state"].update({"options": [{"ref": 5}]}))
    assert "state version" in _tamper(tmp_path, story, lambda d: d["state"].update({"version": 7}))
    assert "not one of" in _tamper(
        tmp_path, story, lambda d: d["state"]["vars"].update({"becky.status": "mars"})
    )


def test_huge_save_is_refused(story, tmp_path, monkeypatch):
    import game.engine.saves as saves

    monkeypatch.setattr(saves, "MAX_SAVE_BYTES", 100)
    write_save(tmp_path, "big", _played(story))
    with pytest.raises(SaveError, match="too large"):
        load_save(tmp_path, "big", story)


def test_unwritable_folder_gives_a_message(story, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(SaveError, match="couldn't save"):
        write_save(blocker / "saves", "a", _played(story))


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_read_only_folder(story, tmp_path):
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(SaveError):
            write_save(tmp_path, "a", _played(story))
    finally:
        tmp_path.chmod(0o700)


def test_failed_write_keeps_the_previous_save(story, tmp_path, monkeypatch):
    import game.engine.saves as saves

    first = _played(story, 5)
    write_save(tmp_path, "s", first)
    before = (tmp_path / "s.json").read_bytes()

    def full_disk(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(saves.os, "fsync", full_disk)
    with pytest.raises(SaveError, match="No space left"):
        write_save(tmp_path, "s", _played(story, 9))
    assert (tmp_path / "s.json").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json"]


@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_bytes_as_a_save_fail_cleanly(story, tmp_path, raw):
    path = tmp_path / "fuzz.json"
    path.write_bytes(raw)
    with pytest.raises(SaveError):
        load_save(tmp_path, "fuzz", story)
    assert path.read_bytes() == raw


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
        max_leaves=10,
    )
)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_json_state_fails_cleanly(story, tmp_path, junk):
    g = _played(story, 3)
    data = json.loads(write_save(tmp_path, "j", g).read_text())
    key = sorted(data["state"])[len(json.dumps(junk, sort_keys=True)) % len(data["state"])]
    data["state"][key] = junk
    (tmp_path / "j.json").write_text(json.dumps(data))
    try:
        loaded = load_save(tmp_path, "j", story)
    except SaveError as err:
        assert str(err)
    else:
        assert loaded.story is story
