"""A save is written atomically: killing the writer at any moment never loses the last good save."""

from __future__ import annotations

import errno
import json
import os
import random
import signal
import time

import pytest

from game.engine import Game, SaveError, load_story
from game.engine.saves import load_save, read_save_file, write_save

from ..conftest import STORIES


@pytest.fixture(scope="module")
def story():
    return load_story(STORIES / "first_week", cache_dir=False)


def _writer(story, saves, seed):
    """In a forked child: save over and over, each save a little further into the game."""
    game = Game(story, seed=seed)
    step = 0
    while True:
        if game.ended:
            game = Game(story, seed=seed + step)
        game.choose([o.index for o in game.choices if o.enabled][step % 2 if len(game.choices) > 1 else 0])
        write_save(saves, "slot", game)
        step += 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_sigkill_during_saves_never_loses_the_previous_save(story, tmp_path):
    rng = random.Random(2014)
    write_save(tmp_path, "slot", Game(story, seed=1))
    kills = 0
    saw_progress = set()
    while kills < 120:
        pid = os.fork()
        if pid == 0:  # child
            try:
                _writer(story, tmp_path, seed=kills)
            finally:
                os._exit(0)
        time.sleep(rng.uniform(0.0005, 0.03))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        kills += 1
        data = read_save_file(tmp_path / "slot.json")  # must always be a whole, valid save
        game = load_save(tmp_path, "slot", story)
        assert game.log == data["choices"]
        saw_progress.add((tmp_path / "slot.json").read_bytes())
    assert kills >= 100
    assert len(saw_progress) > 20  # the kills really did land between many different saves
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "slot.json"]
    assert all(name.startswith(".slot-") and name.endswith(".tmp") for name in leftovers)
    # temporary files from killed writers are never listed as saves
    from game.engine.saves import list_saves

    assert [s.name for s in list_saves(tmp_path, story)] == ["slot"]


@pytest.mark.parametrize(
    ("target", "err"),
    [
        ("write", errno.ENOSPC),
        ("fsync", errno.ENOSPC),
        ("replace", errno.EROFS),
        ("mkstemp", errno.EROFS),
        ("mkstemp", errno.EACCES),
    ],
)
def test_disk_full_and_read_only_keep_the_old_save(story, tmp_path, monkeypatch, target, err):
    import game.engine.saves as saves

    write_save(tmp_path, "s", Game(story, seed=1))
    before = (tmp_path / "s.json").read_bytes()

    def fail(*_a, **_k):
        raise OSError(err, os.strerror(err))

    if target == "write":
        real_fdopen = os.fdopen

        class Full:
            def __init__(self, f):
                self.f = f

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.f.close()

            def write(self, _data):
                fail()

        monkeypatch.setattr(saves.os, "fdopen", lambda fd, mode: Full(real_fdopen(fd, mode)))
    elif target == "mkstemp":
        monkeypatch.setattr(saves.tempfile, "mkstemp", fail)
    else:
        monkeypatch.setattr(saves.os, target, fail)
    g = Game(story, seed=2)
    g.choose(0)
    with pytest.raises(SaveError) as caught:
        write_save(tmp_path, "s", g)
    assert os.strerror(err) in str(caught.value)
    monkeypatch.undo()
    assert (tmp_path / "s.json").read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]
    json.loads(before)
