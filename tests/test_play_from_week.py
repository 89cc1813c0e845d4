"""Starting a test game part-way through the shipped story: --from, --set and --skip."""

from __future__ import annotations

import pytest

from game.authoring.commands import UsageError, events_matching
from game.engine import Game, load_story
from game.paths import shipped_story_dir

from .test_cli import iom


@pytest.fixture(scope="module")
def story():
    return load_story(shipped_story_dir())


def _once_forced(story) -> list[str]:
    return [story.node_ids[ev.node] for ev in story.events if ev.forced and ev.once]


def test_a_later_week_starts_at_the_office_when_the_openings_are_skipped(story):
    hub = story.turns.hub
    week = story.turns.counter
    plain = Game(story, seed=3, start=story.node_ids[hub], values={story.variables[week].name: 20})
    # Without --skip, a once-only forced event (a case's opening, a change in the law) comes first.
    assert plain.node != hub
    skipped = _once_forced(story)
    game = Game(
        story, seed=3, start=story.node_ids[hub], values={story.variables[week].name: 20}, seen=skipped
    )
    assert game.node == hub
    assert game.v[week] == 20
    assert not game.state.ev_forced
    # Skipped events count as having happened once, and stay that way in a save.
    assert all(game.to_dict()["events"][n][0] == 1 for n in skipped)


def test_skip_patterns_name_events(story):
    found = events_matching(story, ["*.opening"])
    assert found and all(n.endswith(".opening") for n in found)
    assert all(story.node(n).event is not None for n in found)
    with pytest.raises(UsageError, match="no event matches 'nowhere.\\*'"):
        events_matching(story, ["nowhere.*"])


def test_seen_must_name_an_event(story):
    with pytest.raises(ValueError, match="there is no event"):
        Game(story, seed=1, seen=[story.node_ids[story.turns.hub]])


def test_cli_starts_in_a_chosen_week(tmp_path):
    story = load_story(shipped_story_dir())
    args = [
        "play",
        "--plain",
        "--saves",
        str(tmp_path),
        "--seed",
        "2",
        "--from",
        story.node_ids[story.turns.hub],
        "--set",
        f"{story.variables[story.turns.counter].name}=20",
    ]
    for event in _once_forced(story):
        args += ["--skip", event]
    out = iom(*args, stdin=b"quit\n")
    assert out.returncode == 0, out.stderr
    first = out.stdout.decode().lstrip().splitlines()[0]
    assert "20" in first  # the office's own passage, in week 20
    bad = iom("play", "--plain", "--saves", str(tmp_path), "--skip", "no.such.*", stdin=b"quit\n")
    assert bad.returncode == 2
    assert b"--skip: no event matches 'no.such.*'" in bad.stderr
