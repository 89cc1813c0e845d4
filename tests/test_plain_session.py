"""Plain mode plays through the same Session as the app: its endings reach the profile (and so
the endings gallery), its undo and redo are the session's, and a typed number is read by the
same function as the app's number keys."""

from __future__ import annotations

import io
import json
from pathlib import Path

from game.choices import by_number, number_of, numbered
from game.engine import Game, load_story
from game.engine.saves import load_save, write_save
from game.plain import PlainGame, run_plain
from game.profile import PROFILE_NAME, Profile
from game.session import Session

from .conftest import ROOT

UI_STORY = ROOT / "tests" / "ui" / "story"


def _story():
    return load_story(UI_STORY, cache_dir=False)


def _to_the_end(plain: PlainGame, limit: int = 300) -> None:
    """Type the number of the first choice that can be taken (and yes, when asked) until the
    story ends."""
    for _ in range(limit):
        game = plain.game
        if game.ended:
            return
        first = next(o for o in game.choices if o.enabled)
        plain.command(str(number_of(game, first)))
        if plain.asking is not None:
            plain.command("yes")
    raise AssertionError("the story didn't end")


def _lines(*typed: str) -> io.BytesIO:
    return io.BytesIO("".join(f"{t}\n" for t in typed).encode())


def test_an_ending_reached_in_plain_mode_is_in_the_profile_the_gallery_reads(tmp_path):
    from game.ui.screens.gallery import gallery_text

    saves = tmp_path / "saves"
    plain = PlainGame(Game(_story(), seed=7), saves, io.StringIO())
    _to_the_end(plain)
    plain.close()
    game = plain.game
    profile = Profile.load(saves)
    assert set(profile.endings_seen(game.story.id)) == {eid for _t, eid in game.outcomes}
    [run] = profile.runs(game.story.id)
    assert run["ending"] == game.ending.id and run["turns"] == game.turn
    assert game.ending.title in gallery_text(game.story, profile).plain
    # The choices taken are marked as taken before in the next playthrough, as the app marks them.
    again = Session(UI_STORY, saves, 8, game.story)
    again.new_game()
    assert again.chosen_before() and again.chosen_before() <= profile.chosen(game.story.id)
    again.close()


def test_run_plain_keeps_the_choices_taken_even_without_an_ending(tmp_path):
    saves = tmp_path / "saves"
    assert run_plain(Game(_story(), seed=7), saves, _lines("1", "1", "quit"), io.StringIO()) == 0
    chosen = Profile.load(saves).chosen(_story().id)
    assert len(chosen) == 2


def test_a_damaged_profile_is_left_as_it_is_and_said_once(tmp_path):
    saves = tmp_path / "saves"
    saves.mkdir()
    (saves / PROFILE_NAME).write_text("{ not json")
    out = io.StringIO()
    plain = PlainGame(Game(_story(), seed=7), saves, out)
    _to_the_end(plain)
    plain.close()
    assert (saves / PROFILE_NAME).read_text() == "{ not json"
    said = out.getvalue()
    assert said.count("(Endings and settings can't be kept: the profile ") == 1
    assert plain.game.ended and not plain.unsaved  # the game itself was saved


def test_undo_and_redo_in_plain_mode_are_the_sessions(tmp_path):
    story = _story()
    plain = PlainGame(Game(story, seed=7), tmp_path / "plain", io.StringIO())
    session = Session(UI_STORY, tmp_path / "session", 7, story, background=False)
    session.adopt(Game(story, seed=7))
    for typed in ("1", "1", "1", "undo", "undo", "redo", "undo", "1", "redo", "undo", "redo", "redo"):
        plain.command(typed)
        if typed == "undo":
            session.undo()
        elif typed == "redo":
            session.redo()
        else:
            picked = session.pick(int(typed))
            assert picked is not None
            session.choose(picked.option.index)
        assert plain.game.to_dict() == session.game.to_dict()
        assert plain.session.can_redo == session.can_redo
        assert plain.game.can_undo == session.game.can_undo
    session.close()
    plain.close()


def test_an_undo_in_plain_mode_is_autosaved(tmp_path):
    saves = tmp_path / "saves"
    plain = PlainGame(Game(_story(), seed=7), saves, io.StringIO())
    plain.command("1")
    plain.command("1")
    plain.command("undo")
    assert load_save(saves, "autosave", plain.game.story).to_dict() == plain.game.to_dict()
    plain.close()


def test_a_loaded_game_can_be_undone_in_plain_mode_as_in_the_app(tmp_path):
    story = _story()
    saves = tmp_path / "saves"
    game = Game(story, seed=7)
    game.choose(0)
    game.choose(0)
    write_save(saves, "mine", game)
    out = io.StringIO()
    plain = PlainGame(load_save(saves, "mine", story), saves, out)
    plain.command("undo")
    plain.command("undo")
    assert "There is nothing to undo." not in out.getvalue()
    assert plain.game.to_dict() == Game(story, seed=7).to_dict()
    plain.close()


def test_plain_mode_reads_a_typed_number_as_the_app_reads_a_number_key(tmp_path, monkeypatch):
    calls: list[int] = []
    pick = Session.pick

    def spy(self: Session, number: int, *args, **kwargs):
        calls.append(number)
        return pick(self, number, *args, **kwargs)

    monkeypatch.setattr(Session, "pick", spy)
    plain = PlainGame(Game(_story(), seed=7), tmp_path / "saves", io.StringIO())
    plain.command("1")
    game = plain.game
    for item in numbered(game):
        assert by_number(game, item.number) == item
        assert number_of(game, item.option) == item.number
        picked = plain.session.pick(item.number)
        assert picked is not None and picked.option is item.option
    plain.command("2")  # go home with hours left: asked first
    assert calls[0] == 1 and calls[-1] == 2
    assert plain.asking is by_number(game, 2).option
    plain.close()


def test_the_profile_written_by_plain_mode_is_one_the_app_reads(tmp_path):
    saves = tmp_path / "saves"
    run_plain(Game(_story(), seed=7), saves, _lines("1", "quit"), io.StringIO())
    data = json.loads((saves / PROFILE_NAME).read_text())
    assert data["format"] == "straight-and-narrow-profile" and not Profile.load(Path(saves)).read_only
