"""`iom play --from NODE --set name=value`: start anywhere with injected state."""

from __future__ import annotations

import subprocess
import sys

import pytest

from game.cli import main
from game.engine import Game

from .conftest import FIRST_WEEK, ROOT


def test_game_starts_at_a_node_with_values(first_week):
    game = Game(
        first_week, seed=1, start="becky.visit.inside", values={"becky.trust": 6, "becky_referred": True}
    )
    assert game.get("becky.trust") == 6 and game.get("becky_referred") is True
    assert game.current_node.id == "becky.visit.inside"
    assert any("kettle on without asking" in p for p in game.passage)  # the trust >= 4 text
    # '<hub>' works at once: a game started elsewhere knows the story's hub
    game.choose([o.index for o in game.choices if o.text.startswith("Ask about the lad")][0])
    while not game.current_node.is_hub and not game.ended:
        game.choose([o.index for o in game.choices if o.enabled][-1])
    assert game.current_node.id == "office.hub.day"


def test_game_start_and_values_are_checked(first_week):
    with pytest.raises(ValueError, match="no node 'becky.visit.insid'"):
        Game(first_week, start="becky.visit.insid")
    with pytest.raises(ValueError, match="no variable 'becky.trst'"):
        Game(first_week, values={"becky.trst": 1})
    with pytest.raises(ValueError):
        Game(first_week, values={"becky.trust": "high"})
    # values are clamped like any effect
    assert Game(first_week, values={"becky.trust": 99}).get("becky.trust") == 10


def _play(*args, stdin=b"q\n"):
    return subprocess.run(
        [sys.executable, "-m", "game", "play", "--plain", *args],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        timeout=60,
    )


def test_cli_play_from_a_node(tmp_path):
    out = _play(
        "--story",
        str(FIRST_WEEK),
        "--seed",
        "3",
        "--from",
        "becky.visit.inside",
        "--set",
        "becky.trust=6",
        "--set",
        "becky_referred=yes",
    )
    text = out.stdout.decode()
    assert out.returncode == 0, out.stderr.decode()
    assert "kettle on without asking" in text
    assert "a test game: saves go to" in out.stderr.decode()
    # the player's own saves are never touched by a test game
    assert not (tmp_path / "saves").exists()
    assert "Traceback" not in out.stderr.decode()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--from", "becky.visit.insid"],
            "--from: there is no node 'becky.visit.insid'; did you mean 'becky.visit.inside'?",
        ),
        (["--from", "inside"], "did you mean 'becky.visit.inside'?"),
        (["--set", "becky.trst=3"], "--set: there is no variable 'becky.trst'; did you mean 'becky.trust'?"),
        (["--set", "becky.trust=high"], "--set: becky.trust takes a whole number, not 'high'"),
        (["--set", "becky.trust=11"], "--set: becky.trust must be within 0..10, not 11"),
        (
            ["--set", "becky.status=custard"],
            "takes one of community, cells, custody, not 'custard'; did you mean 'custody'?",
        ),
        (["--set", "becky_referred=maybe"], "--set: becky_referred takes true or false, not 'maybe'"),
        (["--set", "becky.trust"], "--set wants NAME=VALUE"),
        (["--from", "becky.visit.inside", "--load", "autosave"], "can't be used with --load"),
    ],
)
def test_cli_play_from_mistakes(args, message, capsys):
    assert main(["play", "--plain", "--story", str(FIRST_WEEK), *args]) == 2
    assert message in capsys.readouterr().err
