"""`iom play --plain --watch`: the story reloads between prompts, keeping the player's place."""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable, Iterator

from game.engine import Game, load_story
from game.plain import PlainGame, run_plain

from .conftest import STORIES
from .test_cli import iom


def _copy(tmp_path):
    root = tmp_path / "story"
    shutil.copytree(STORIES / "basic", root)
    return root


def _edit(root, old: str, new: str) -> None:
    path = root / "a.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


class Typing:
    """Lines typed at the prompt, with the author's edits made just before some of them."""

    def __init__(self, steps: list[tuple[Callable[[], None] | None, str]]) -> None:
        self.steps = steps

    def __iter__(self) -> Iterator[bytes]:
        for edit, line in self.steps:
            if edit is not None:
                edit()
            yield line.encode() + b"\n"


def _plain(root, tmp_path) -> PlainGame:
    game = Game(load_story(root), seed=1)
    return PlainGame(game, tmp_path / "saves", io.StringIO(), watch=root)


def test_an_edit_is_picked_up_and_the_state_kept(tmp_path):
    root = _copy(tmp_path)
    plain = _plain(root, tmp_path)
    trust = plain.game.story.variable("becky.trust").slot
    _edit(root, '"Day {day}. {hours} hours left."', '"Today is day {day}, with {hours} hours."')
    assert plain.reload_if_changed() is True
    assert "(Story reloaded: the changes show from the next passage on.)" in plain.out.getvalue()  # type: ignore[attr-defined]
    assert not plain.command("1")  # to the hub: Becky's trust goes from 2 to 3
    assert plain.game.passage[0] == "Today is day 1, with 8 hours."
    assert plain.game.v[trust] == 3
    _edit(root, "becky.trust += 1", "becky.trust += 2")
    assert plain.reload_if_changed() is True
    assert plain.game.v[trust] == 3  # the state moves over as it was
    # Nothing changed since: no second reload.
    assert plain.reload_if_changed() is False
    assert plain.out.getvalue().count("(Story reloaded") == 2  # type: ignore[attr-defined]


def test_a_broken_edit_is_reported_and_play_goes_on(tmp_path):
    root = _copy(tmp_path)
    plain = _plain(root, tmp_path)
    plain.command("1")
    old_game = plain.game
    _edit(root, "goto: <end-turn>", "goto: <end-turn>\n        if: dya > 1")
    assert plain.reload_if_changed() is False
    out = plain.out.getvalue()  # type: ignore[attr-defined]
    assert "have errors; you are still playing the version you had" in out
    assert "a.yaml:16:13: error: unknown variable 'dya'; did you mean 'day'?" in out
    assert plain.game is old_game
    # The old version plays on (ending the day, last on the list, asks first); the fix is
    # picked up at the next prompt.
    assert not plain.command("2")
    assert not plain.command("yes")
    _edit(root, "if: dya > 1", "if: day > 0")
    plain.reload_if_changed()
    assert plain.game is not old_game
    assert plain.game.v[plain.game.story.variable("day").slot] == 2


def test_run_plain_reloads_between_prompts(tmp_path):
    root = _copy(tmp_path)
    story = load_story(root)
    out = io.StringIO()
    steps = Typing(
        [
            (lambda: _edit(root, '"Day {day}. {hours} hours left."', '"Day {day}, reloaded."'), "1"),
            (lambda: _edit(root, "Second time.", "Back again."), "2"),
            (None, "yes"),
            (None, "quit"),
        ]
    )
    assert run_plain(Game(story, seed=1), tmp_path / "saves", steps, out, watch=root) == 0  # type: ignore[arg-type]
    text = out.getvalue()
    assert text.count("(Story reloaded") == 2
    # The first edit shows in the very next passage; the second in the hub's next visit.
    assert "Day 1, reloaded." in text
    assert "Day 2, reloaded." in text
    assert "Back again." in text and "Second time." not in text


def test_a_place_that_no_longer_exists_keeps_the_old_version(tmp_path):
    root = _copy(tmp_path)
    plain = _plain(root, tmp_path)
    plain.command("1")  # at a.hub
    old_game = plain.game
    _edit(root, "  hub:\n    hub: true", "  hub2:\n    hub: true")
    _edit(root, "goto: hub\n", "goto: hub2\n")
    (root / "story.yaml").write_text(
        (root / "story.yaml").read_text(encoding="utf-8").replace("hub: a.hub", "hub: a.hub2"),
        encoding="utf-8",
    )
    plain.reload_if_changed()
    assert plain.game is old_game
    assert "your place in it no longer exists" in plain.out.getvalue()  # type: ignore[attr-defined]


def test_without_watch_nothing_is_reloaded(tmp_path):
    root = _copy(tmp_path)
    game = Game(load_story(root), seed=1)
    plain = PlainGame(game, tmp_path / "saves", io.StringIO())
    _edit(root, "text: Go to hub", "text: Walk to the hub")
    assert plain.reload_if_changed() is False
    assert plain.game is game


def test_cli_accepts_watch(tmp_path):
    out = iom(
        "play",
        "--plain",
        "--watch",
        "--story",
        str(STORIES / "basic"),
        "--seed",
        "1",
        "--saves",
        str(tmp_path),
        stdin=b"1\nquit\n",
    )
    assert out.returncode == 0, out.stderr
    assert b"2. End the day" in out.stdout
