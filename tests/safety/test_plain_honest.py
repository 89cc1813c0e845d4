"""Plain mode never says "saved" when the save failed, says what failed, and exits non-zero
when it ends with progress that isn't saved."""

from __future__ import annotations

import io
import json

import pytest

from game.engine import Game, load_story
from game.engine.saves import load_save, write_save
from game.engine.textsafe import UNSAFE
from game.plain import run_plain

from ..conftest import STORIES


@pytest.fixture(scope="module")
def story():
    return load_story(STORIES / "basic", cache_dir=False)


def _play(game, saves, text):
    out = io.StringIO()
    code = run_plain(game, saves, io.BytesIO(text.encode()), out)
    return code, out.getvalue()


@pytest.fixture
def broken_saves(tmp_path):
    # A file where the saves folder should be: every save fails, even for root.
    path = tmp_path / "saves"
    path.write_text("not a folder")
    return path


def test_quit_when_the_save_fails_says_so_and_exits_1(story, broken_saves):
    code, out = _play(Game(story, seed=1), broken_saves, "1\nquit\n")
    assert code == 1
    assert "Saved. Goodbye." not in out
    assert "Not saved: couldn't save to" in out
    assert "Autosave failed" in out and "not saved" in out


def test_end_of_input_when_the_save_fails_says_so_and_exits_1(story, broken_saves):
    code, out = _play(Game(story, seed=1), broken_saves, "1\n")
    assert code == 1
    assert "the game is saved" not in out
    assert "the game is NOT saved (couldn't save to" in out


def test_a_named_save_that_fails_is_not_called_saved(story, broken_saves):
    code, out = _play(Game(story, seed=1), broken_saves, "save mine\nquit\n")
    assert "Saved to" not in out and "Not saved: couldn't save to" in out
    assert code == 1


def test_when_saving_works_quit_says_saved_and_exits_0(story, tmp_path):
    code, out = _play(Game(story, seed=1), tmp_path / "saves", "1\nquit\n")
    assert code == 0
    assert "Saved. Goodbye." in out and "Not saved" not in out
    assert (tmp_path / "saves" / "autosave.json").exists()


def test_saving_again_after_a_failure_clears_the_unsaved_flag(story, tmp_path):
    saves = tmp_path / "saves"
    saves.write_text("in the way")
    game = Game(story, seed=1)
    out = io.StringIO()
    lines = iter(["1"])

    class Fixing(io.BytesIO):
        def __iter__(self):
            for line in lines:
                yield (line + "\n").encode()
            saves.unlink()  # the disk is fixed before the input ends

    code = run_plain(game, saves, Fixing(), out)
    assert code == 0
    assert "End of input: the game is saved" in out.getvalue()


def test_plain_mode_shows_a_hostile_save_without_control_characters(story, tmp_path):
    saves = tmp_path / "saves"
    write_save(saves, "good", Game(story, seed=2))
    data = json.loads((saves / "good.json").read_text())
    data["state"]["passage"] = ["\x1b]52;c;ZXZpbA==\x07 \x1b[2J \x9b1;1H \x90q\x9c"]
    data["state"]["options"][0]["text"] = "\x1b]0;title\x07go"
    (saves / "evil.json").write_text(json.dumps(data))
    game = load_save(saves, "evil", story)
    code, out = _play(game, saves, "quit\n")
    assert code == 0
    assert not UNSAFE.search(out)
    assert "\\x1b]52;c;ZXZpbA==\\x07" in out and "\\x1b]0;title\\x07go" in out


def test_odd_digits_and_huge_numbers_get_the_prompt_not_a_traceback(story, tmp_path):
    code, out = _play(Game(story, seed=1), tmp_path / "saves", "\u00b2\n" + "1" * 5000 + "\n\u0661\nquit\n")
    assert code == 0 and "Traceback" not in out
    assert out.count("Please type 1.") == 2  # "²" and the long number; "١" is a 1
    assert "Saved. Goodbye." in out
