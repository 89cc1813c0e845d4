"""`iom play` hands the game to the Textual app (run_app), with the right game and options."""

from __future__ import annotations

import io

import game.ui.app as ui_app
from game.cli import main
from game.engine import Game

from .conftest import UI_STORY


def _capture(monkeypatch) -> list[dict]:
    calls: list[dict] = []

    def fake_run_app(**kwargs):
        calls.append(kwargs)
        return 0

    monkeypatch.setattr(ui_app, "run_app", fake_run_app)
    return calls


def test_play_opens_the_app_on_a_new_game(monkeypatch, saves):
    calls = _capture(monkeypatch)
    assert main(["play", "--story", str(UI_STORY), "--saves", str(saves), "--seed", "5"]) == 0
    (call,) = calls
    assert isinstance(call["game"], Game) and call["game"].seed == 5
    assert call["resume"] is False and call["seed"] == 5
    assert call["story_dir"] == UI_STORY and call["saves_dir"] == saves


def test_play_with_load_resumes_straight_into_the_save(monkeypatch, saves):
    from game.engine import load_story
    from game.engine.saves import write_save

    game = Game(load_story(UI_STORY, cache_dir=False), seed=2)
    game.choose(0)
    write_save(saves, "slot", game)
    calls = _capture(monkeypatch)
    assert main(["play", "--story", str(UI_STORY), "--saves", str(saves), "--load", "slot"]) == 0
    (call,) = calls
    assert call["resume"] is True and call["game"].log == [0]


def test_a_broken_story_still_opens_the_app_to_show_its_errors(monkeypatch, saves, story_copy):
    story_dir = story_copy()
    (story_dir / "story.yaml").write_text("id: [broken\n")
    calls = _capture(monkeypatch)
    assert main(["play", "--story", str(story_dir), "--saves", str(saves)]) == 0
    (call,) = calls
    assert call["game"] is None and call["story_dir"] == story_dir


def test_plain_never_opens_the_app(monkeypatch, saves, capsysbinary):
    calls = _capture(monkeypatch)
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"")))
    main(["play", "--plain", "--story", str(UI_STORY), "--saves", str(saves)])
    assert calls == []


def test_a_test_game_from_a_node_opens_straight_into_play(monkeypatch, saves):
    calls = _capture(monkeypatch)
    assert main(["play", "--story", str(UI_STORY), "--saves", str(saves), "--from", "office.ana_visit"]) == 0
    (call,) = calls
    assert call["resume"] is True
    assert call["game"].current_node.id == "office.ana_visit"
