"""Hostile save files: refused with a clear reason, never hanging, never changed, never crashing
the autosave that follows a load."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys

import pytest

from game.engine import Game, SaveError, load_story
from game.engine.saves import MAX_SAVE_BYTES, list_saves, load_save, read_save_file, write_save
from game.engine.textsafe import UNSAFE

from ..conftest import ROOT, STORIES


@pytest.fixture(scope="module")
def story():
    return load_story(STORIES / "basic", cache_dir=False)


@pytest.fixture
def saves(tmp_path, story):
    folder = tmp_path / "saves"
    write_save(folder, "good", Game(story, seed=3))
    return folder


def _good(saves):
    return json.loads((saves / "good.json").read_text(encoding="utf-8"))


def _write_raw(saves, name, text):
    path = saves / f"{name}.json"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    return path


def _digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _huge_int(data):
    data["state"]["turn"] = "HUGE"
    return json.dumps(data).replace('"HUGE"', "9" * 5000)


def _huge_seed(data):
    data["state"]["seed"] = "HUGE"
    return json.dumps(data).replace('"HUGE"', "1" * 40)


def _surrogate_passage(data):
    data["state"]["passage"] = ["x\ud800y"]
    return json.dumps(data)  # ensure_ascii: written as \ud800


def _surrogate_raw(data):
    data["label"] = "\udcff"
    return json.dumps(data, ensure_ascii=False)


def _nan(data):
    data["state"]["rng"] = "NAN"
    return json.dumps(data).replace('"NAN"', "NaN")


def _infinity(data):
    data["state"]["turn"] = "INF"
    return json.dumps(data).replace('"INF"', "-Infinity")


def _float_overflow(data):
    data["state"]["turn"] = "BIG"
    return json.dumps(data).replace('"BIG"', "1e999")


def _deep(data):
    data["state"]["passage"] = "DEEP"
    return json.dumps(data).replace('"DEEP"', "[" * 100_000 + "]" * 100_000)


HOSTILE = {
    "integer too long to convert": (_huge_int, "too long"),
    "seed longer than any we write": (_huge_seed, "too long"),
    "lone surrogate by escape": (_surrogate_passage, "lone surrogate"),
    "lone surrogate raw": (_surrogate_raw, "not text"),
    "NaN": (_nan, "not a number"),
    "-Infinity": (_infinity, "not a number"),
    "float that overflows": (_float_overflow, "too large"),
    "nested too deeply": (_deep, "nested too deeply"),
}


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_value_that_cannot_round_trip_is_refused_and_left_alone(saves, story, kind):
    make, reason = HOSTILE[kind]
    path = _write_raw(saves, "bad", make(_good(saves)))
    before = _digest(path)
    with pytest.raises(SaveError) as err:
        load_save(saves, "bad", story)
    assert reason in str(err.value)
    assert not UNSAFE.search(str(err.value))
    assert _digest(path) == before
    [slot] = [s for s in list_saves(saves, story) if s.name == "bad"]
    assert not slot.ok and reason in slot.reason
    assert _digest(path) == before


def test_control_characters_in_a_save_are_shown_not_sent_and_the_game_saves_again(saves, story):
    data = _good(saves)
    data["label"] = "\x1b]0;owned\x07"
    data["saved_at"] = "\x1b[2J"
    data["state"]["passage"] = ["\x1b]52;c;ZXZpbA==\x07 and \x9b31m"]
    data["state"]["options"][0]["text"] = "go \x1b[5m"
    data["preview"]["where"] = "\x90evil\x9c"
    path = _write_raw(saves, "ctl", json.dumps(data))
    before = _digest(path)
    game = load_save(saves, "ctl", story)
    shown = " ".join([*game.passage, *(o.text for o in game.choices)])
    assert "\\x1b]52" in shown and not UNSAFE.search(shown)
    [slot] = [s for s in list_saves(saves, story) if s.name == "ctl"]
    assert slot.ok
    assert not UNSAFE.search(json.dumps(slot.preview, ensure_ascii=False) + slot.saved_at)
    write_save(saves, "autosave", game)  # the autosave after such a load
    game.choose(0)
    write_save(saves, "autosave", game)
    assert _digest(path) == before


def test_autosave_after_any_accepted_load_writes(saves, story):
    # Whatever load accepts, saving it back must work: restore tries it first.
    data = _good(saves)
    data["state"]["turn"] = 10**29
    data["state"]["seed"] = -(10**29)
    path = _write_raw(saves, "big", json.dumps(data))
    game = load_save(saves, "big", story)
    assert write_save(saves, "again", game).exists()
    assert path.exists()


def test_a_fifo_save_is_refused_without_blocking(saves, story):
    fifo = saves / "pipe.json"
    os.mkfifo(fifo)
    with pytest.raises(SaveError) as err:
        load_save(saves, "pipe", story)
    assert "FIFO" in str(err.value)
    names = {s.name: s for s in list_saves(saves, story)}
    assert not names["pipe"].ok and "FIFO" in names["pipe"].reason
    assert names["good"].ok


def test_a_socket_save_is_refused(saves, story, tmp_path):
    path = saves / "sock.json"
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(path))
    except OSError:
        pytest.skip("no unix sockets here")
    try:
        with pytest.raises(SaveError) as err:
            read_save_file(path)
        assert "socket" in str(err.value)
    finally:
        sock.close()


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_save_is_refused_without_reading(saves, story, device):
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    (saves / "dev.json").symlink_to(device)
    with pytest.raises(SaveError) as err:
        load_save(saves, "dev", story)
    assert "device" in str(err.value)
    assert not [s for s in list_saves(saves, story) if s.name == "dev"][0].ok


def test_a_sparse_huge_save_is_refused_from_its_size(saves, story):
    path = saves / "huge.json"
    with open(path, "wb") as f:
        f.truncate(3 * 1024**3)
    with pytest.raises(SaveError) as err:
        load_save(saves, "huge", story)
    assert "too large" in str(err.value) and f"{MAX_SAVE_BYTES:,}" in str(err.value)
    assert path.stat().st_size == 3 * 1024**3


def test_a_save_file_named_with_control_characters_is_listed_safely(saves, story):
    raw = (saves / "good.json").read_bytes()
    (saves / "x\x1b]0;t\x07\n.json").write_bytes(raw)
    [slot] = [s for s in list_saves(saves, story) if s.name.startswith("x")]
    assert not slot.ok and "name" in slot.reason
    assert not UNSAFE.search(slot.name) and "\n" not in slot.name


def test_load_from_the_command_line_refuses_a_fifo_quickly(saves, tmp_path):
    os.mkfifo(saves / "pipe.json")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "game",
            "play",
            "--plain",
            "--story",
            str(STORIES / "basic"),
            "--saves",
            str(saves),
            "--load",
            "pipe",
        ],
        capture_output=True,
        cwd=ROOT,
        timeout=60,
        input=b"",
    )
    assert out.returncode == 1
    assert b"FIFO" in out.stderr and b"Traceback" not in out.stderr


def test_load_from_the_command_line_shows_a_hostile_slot_name_safely(saves):
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "game",
            "play",
            "--plain",
            "--story",
            str(STORIES / "basic"),
            "--saves",
            str(saves),
            "--load",
            "\x1b]0;title\x07",
        ],
        capture_output=True,
        cwd=ROOT,
        timeout=60,
        input=b"",
    )
    assert out.returncode == 1
    err = out.stderr.decode()
    assert "\\x1b]0;title\\x07" in err and "\x1b" not in err and "\x07" not in err
