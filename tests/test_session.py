"""The session both front ends drive (no Textual): autosaves written at once when asked, and
their failures reported once, with the recovery."""

from __future__ import annotations

import threading

from game.engine import load_story
from game.engine.saves import load_save
from game.session import Session

from .conftest import ROOT

UI_STORY = ROOT / "tests" / "ui" / "story"


def _session(saves, **kwargs) -> tuple[Session, list[tuple[str, str]]]:
    said: list[tuple[str, str]] = []
    session = Session(UI_STORY, saves, 3, load_story(UI_STORY, cache_dir=False), **kwargs)
    session.notify = lambda text, severity: said.append((text, severity))
    return session, said


def test_without_background_an_autosave_is_on_disk_when_the_choice_returns(tmp_path):
    session, said = _session(tmp_path / "saves", background=False)
    threads = threading.active_count()
    session.new_game()
    session.choose(0)
    # Nothing waits to be written, and no writer thread was started.
    saved = load_save(tmp_path / "saves", "autosave", session.game.story)
    assert saved.to_dict() == session.game.to_dict()
    assert threading.active_count() == threads
    assert said == [] and session.autosave_problem == ""
    session.close()


def test_a_failed_autosave_is_told_once_and_its_recovery_too(tmp_path):
    saves = tmp_path / "saves"
    saves.write_text("a file where the folder should be")
    session, said = _session(saves, background=False)
    session.new_game()
    session.choose(0)
    session.choose(0)
    assert session.autosave_problem.startswith("couldn't save to ")
    failed = [text for text, severity in said if severity == "error"]
    assert len(failed) == 1 and failed[0].startswith("Autosave failed: couldn't save to ")
    assert "your progress is not saved" in failed[0]
    assert session.autosave_now() is False
    saves.unlink()
    assert session.autosave_now() is True
    assert said[-1] == ("Autosave is working again.", "information")
    assert session.autosave_problem == ""
    session.close()


def test_autosave_now_waits_for_the_background_writer_too(tmp_path):
    session, _said = _session(tmp_path / "saves")
    session.new_game()
    session.choose(0)
    assert session.autosave_now() is True
    saved = load_save(tmp_path / "saves", "autosave", session.game.story)
    assert saved.to_dict() == session.game.to_dict()
    session.close()
