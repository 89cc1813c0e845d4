"""Random and exhaustive playtests: faithful to the engine, reproducible, and honest about limits."""

from __future__ import annotations

import json
import random

import pytest

from game.authoring.playtest import explore, parse_strategy, playtest, replay
from game.cli import main
from game.engine import Game, load_story

from .conftest import BASIC, FIRST_WEEK, story_dir


def _state(g):
    return (
        list(g.state.v),
        list(g.state.visits),
        g.state.turn,
        g.state.rng,
        g.state.node,
        g.state.hub,
        set(g.state.once_used),
        dict(g.state.ev_count),
        dict(g.state.ev_last),
        dict(g.state.ev_forced),
        dict(g.state.char_endings),
        g.state.ending.id if g.state.ending else None,
    )


def _walk_both(story, seed, lazy, max_steps):
    """Play the same game as a player sees it and as automated play runs it (no text kept,
    choices weighed lazily or not), comparing the whole state after every choice."""
    rnd = random.Random(seed).random
    game = Game(story, seed, record=False)
    runner = Game(story, seed, record=False, text=False, lazy=lazy)
    for _ in range(max_steps):
        assert _state(game) == _state(runner)
        if game.ended:
            return
        if lazy:
            uid = runner.take_any(rnd)
            if uid is None:  # the fallback was taken: a Game does that on arrival
                continue
            opt = next(o for o in game.choices if o.enabled and o.choice.uid == uid)
            game.choose(opt.index)
        else:
            assert [(o.choice.uid, o.enabled) for o in game.choices] == [
                (c.uid, i in runner.live) for i, c in enumerate(runner.opts)
            ]
            i = runner.live[int(rnd() * len(runner.live))]
            game.choose(i)
            runner.take(i)


@pytest.mark.parametrize("lazy", [False, True])
def test_automated_play_is_the_same_game(first_week, lazy):
    for seed in range(40):
        _walk_both(first_week, seed, lazy, 500)
    basic = load_story(BASIC, cache_dir=False)
    for seed in range(40):
        _walk_both(basic, seed, lazy, 200)


@pytest.mark.parametrize("lazy", [False, True])
def test_automated_play_of_the_shipped_story_is_the_same_game(shipped, lazy):
    for seed in range(2):
        _walk_both(shipped, seed, lazy, 400)


def test_automated_play_is_the_same_game_with_random_text_hub_limits_and_fallbacks(tmp_path):
    root = story_dir(
        tmp_path,
        {
            "story.yaml": """
            id: r
            title: R
            start: main.start
            variables:
              n: {type: int, initial: 0, min: 0, max: 50}
              day: {type: int, initial: 1, min: 1, max: 9}
            turns: {counter: day, hub: main.hub}
        """,
            "main.yaml": """
            nodes:
              start:
                text: ["Roll {random(1, 6)}.", {shuffle: [a, b, c]}]
                choices:
                  - {text: "Go {random(1, 3)}", goto: hub}
                  - {text: Maybe, if: chance(0.5), reason: "No luck {random(1, 2)}", goto: hub}
              hub:
                hub: {limit: 2}
                text: Day {day}.
                choices:
                  - {text: Next, goto: <end-turn>}
              a: {event: {title: A, weight: 1 + n}, text: A, effects: [n += 1], goto: <hub>}
              b: {event: {title: B, weight: 2, cooldown: 2}, text: B, goto: pick}
              c: {event: {title: C, once: true}, text: C, goto: <hub>}
              d: {event: {title: D, if: chance(0.3)}, text: D, goto: <hub>}
              pick:
                random:
                  - {weight: n, goto: <hub>}
                  - {weight: 1, effects: [n += 2], goto: stuck}
              stuck:
                text: All used up.
                choices:
                  - {text: Once, once: true, goto: stuck}
                  - {text: Leave, fallback: true, goto: <hub>}
              end:
                event: {title: End, forced: true, if: day >= 6}
                ending: {id: end, title: End}
        """,
        },
    )
    story = load_story(root, cache_dir=False)
    for seed in range(60):
        _walk_both(story, seed, False, 300)
        _walk_both(story, seed, True, 300)


def test_random_playtest_report(first_week):
    r = playtest(first_week, 300, seed=5)
    d = r.to_dict()
    for key in ("runs", "steps", "endings", "nodes_visited", "nodes_total", "crashes"):
        assert key in d
    assert d["runs"] == 300 and d["steps"] > 300 * 10
    assert d["nodes_total"] == 42 and d["nodes_visited"] > 30
    story_endings = sum(n for e, n in d["endings"].items() if e.startswith("week_"))
    assert story_endings == 300  # every run ends the week
    assert set(d["cases"]) == {"stokesy", "becky"}
    becky = d["cases"]["becky"]
    assert sum(becky["endings"].values()) == 300
    assert 0 <= becky["variables"]["trust"]["mean"] <= 10
    assert d["crashes"] == [] and d["crash_count"] == 0


def test_random_playtest_is_reproducible_and_independent_of_processes(first_week):
    a = playtest(first_week, 200, seed=9).to_dict()
    b = playtest(first_week, 200, seed=9).to_dict()
    c = playtest(first_week, 200, seed=9, jobs=2).to_dict()
    d = playtest(first_week, 200, seed=10).to_dict()
    for key in ("steps", "endings", "cases", "nodes_visited"):
        assert a[key] == b[key] == c[key]
    assert a["steps"] != d["steps"]


def test_strategies_are_generic_and_change_the_outcome(tmp_path):
    root = story_dir(
        tmp_path,
        {
            "story.yaml": """
            id: s
            title: S
            start: main.start
            variables:
              support_actions: {type: int, max: 99}
              enforce_actions: {type: int, max: 99}
              kindness: {type: int, max: 99}
            playtest:
              strategies:
                support: prefer:support_actions
                enforce: prefer:enforce_actions
        """,
            "main.yaml": """
            nodes:
              start:
                text: Pick.
                choices:
                  - {text: Help, effects: [support_actions += 1, kindness += 2], goto: helped}
                  - {text: Arrest, effects: [enforce_actions += 1], goto: arrested}
                  - {text: Shrug, goto: shrugged}
              helped: {text: Helped., ending: {id: helped, title: Helped}}
              arrested: {text: Arrested., ending: {id: arrested, title: Arrested}}
              shrugged: {text: Nothing., ending: {id: shrugged, title: Nothing}}
        """,
        },
    )
    story = load_story(root, cache_dir=False)
    runs = 400
    share = {
        s: playtest(story, runs, 1, s).endings
        for s in ("random", "support", "enforce", "prefer:kind*", "avoid:*_actions")
    }
    assert share["support"]["helped"] > 0.85 * runs
    assert share["enforce"]["arrested"] > 0.85 * runs
    assert share["prefer:kind*"]["helped"] > 0.85 * runs
    assert share["avoid:*_actions"]["shrugged"] > 0.85 * runs
    assert 0.2 * runs < share["random"]["helped"] < 0.5 * runs
    with pytest.raises(ValueError, match="matches no variable"):
        parse_strategy("prefer:nothing_like_this", story)
    with pytest.raises(ValueError, match="unknown strategy 'cautious'.*this story's own: support"):
        parse_strategy("cautious", story)


def test_a_story_names_its_strategies_and_check_tests_them(tmp_path):
    from ..engine.helpers import problems

    head = """\
        variables:
          kindness: {type: int, max: 9}
        playtest:
          strategies:
            kind: prefer:kind*
            nobody: prefer:nobody
            random: first
            odd: sideways:kindness
        """
    scene = "nodes:\n  start:\n    choices: [{text: x, effects: [kindness += 1], goto: start}]\n"
    found = problems(tmp_path, scene, head)
    assert any("strategy 'nobody' (prefer:nobody) matches no variable" in p for p in found)
    assert any("a playtest strategy needs a simple name of its own, not 'random'" in p for p in found)
    assert any("strategy 'odd' must be prefer:PATTERN" in p for p in found)
    assert not any("'kind'" in p for p in found)


CRASHY = {
    "story.yaml": """
        id: crashy
        title: Crashy
        start: main.start
        variables:
          luck: {type: int, initial: 0, min: 0, max: 10}
    """,
    "main.yaml": """
        nodes:
          start:
            text: A door.
            choices:
              - {text: Knock, goto: roll}
              - {text: Leave, goto: fine}
          roll:
            random:
              - {weight: 3, goto: fine}
              - {weight: 1, goto: trap}
          trap:
            text: The floor gives way.
            choices:
              - {text: Climb out, if: luck > 5, goto: fine}
          fine:
            text: All right.
            ending: {id: fine, title: Fine}
    """,
}


def test_crashes_are_reported_with_what_reproduces_them_and_play_goes_on(tmp_path):
    story = load_story(story_dir(tmp_path, CRASHY), cache_dir=False)
    for strategy in ("random", "first", "novel"):
        r = playtest(story, 200, seed=3, strategy=strategy)
        assert r.runs == 200
        if strategy == "first":
            assert r.crash_count > 0  # "Knock" first, and a quarter of knocks fall in
        if not r.crash_count:
            continue
        assert r.crash_count + r.endings["fine"] == 200
        for crash in r.crashes:
            assert crash.reproduced
            assert "dead end at 'main.trap'" in crash.error
            game, error = replay(story, crash.seed, crash.path)
            assert error == crash.error
            assert crash.keys == [1]  # what a player types in --plain
            assert crash.steps == len(crash.path)
        assert sum(r.choice_counts.values()) == r.steps  # the failed choices are not counted


HIDDEN_DOOR = {
    "story.yaml": """
        id: hidden-door
        title: Hidden door
        start: main.start
        variables:
          hours: {type: int, initial: 8, min: 0, max: 8, unit: hours}
          day: {type: int, initial: 1, min: 1, max: 10}
        turns:
          counter: day
          budget: hours
          refill: 8
          hub: main.start
    """,
    "main.yaml": """
        nodes:
          start:
            hub: true
            text: Day {day}.
            choices:
              - {text: Go home, goto: <end-turn>}
              - {text: Locked door, cost: {hours: 9}, goto: start}
              - {text: Knock, if: day > 1, goto: trap}
          trap:
            text: The floor gives way.
            choices:
              - {text: Climb out, if: day > 9, goto: start}
    """,
}


def test_a_crash_replays_in_plain_mode_with_the_numbers_plain_mode_shows(tmp_path):
    import io

    from game.plain import run_plain

    story = load_story(story_dir(tmp_path, HIDDEN_DOOR), cache_dir=False)
    r = playtest(story, 50, seed=1, strategy="random")
    assert r.crash_count
    crash = min(r.crashes, key=lambda c: c.steps)
    # Home on day 1, then knock on day 2. The locked door keeps number 1 though it can't be
    # taken, going home comes last (2, then 3 once knocking is offered) and asks first with
    # hours left.
    assert crash.steps == 2 and crash.keys == [2, 2]
    assert crash.typed == ["2", "yes", "2"]
    out = io.StringIO()
    lines = io.BytesIO("".join(f"{t}\n" for t in crash.typed).encode())
    run_plain(Game(story, seed=crash.seed), tmp_path / "saves", lines, out)
    assert f"The story has a fault and can't go on from here: {crash.error}" in out.getvalue()


def test_cli_playtest_reports_crashes_without_a_traceback(tmp_path, capsys):
    root = story_dir(tmp_path, CRASHY)
    assert main(["playtest", str(root), "--runs", "100", "--strategy", "first"]) == 1
    out, err = capsys.readouterr()
    assert "CRASHES:" in out and "dead end at 'main.trap'" in out and "replay:" in out
    assert "Traceback" not in out + err
    assert main(["playtest", str(root), "--runs", "100", "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["crashes"] and {"seed", "path", "keys", "node", "error"} <= set(data["crashes"][0])


def test_cli_playtest_json_and_strategy_comparison(capsys):
    assert main(["playtest", str(FIRST_WEEK), "--runs", "50", "--json", "--no-progress"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["runs"] == 50 and data["nodes_total"] == 42
    assert (
        main(
            [
                "playtest",
                str(FIRST_WEEK),
                "--runs",
                "50",
                "--strategy",
                "prefer:carrot",
                "--strategy",
                "prefer:stick",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "Strategies compared" in out and "prefer:carrot" in out and "prefer:stick" in out
    assert main(["playtest", str(FIRST_WEEK), "--runs", "50", "--strategy", "support"]) == 2
    assert "unknown strategy 'support'" in capsys.readouterr().err
    assert main(["playtest", str(FIRST_WEEK), "--runs", "50", "--strategy", "prefer:nothing_like_this"]) == 2
    assert "matches no variable" in capsys.readouterr().err


def test_progress_bar_goes_to_stderr(capsys):
    assert main(["playtest", str(BASIC), "--runs", "300", "--progress"]) == 0
    out, err = capsys.readouterr()
    assert "[" in err and "300/300" in err
    assert "300/300" not in out


# -- exhaustive ----------------------------------------------------------------------------


def test_exhaustive_search_is_complete_on_a_small_story():
    story = load_story(BASIC, cache_dir=False)
    r = explore(story, path_to="a.done")
    d = r.to_dict()
    assert d["complete"] is True and d["unreachable_nodes"] == [] and d["unreachable_endings"] == []
    assert d["path_is_shortest"] and [s["node"] for s in d["path"]][0] == "a.start"
    # day starts at 1 and the ending comes when day > 3: three ends of day, after leaving the start
    assert len(d["path"]) == 4


GATED = {
    "story.yaml": """
        id: gated
        title: Gated
        start: main.start
        variables:
          coins: {type: int, initial: 0, min: 0, max: 3}
          key: {type: bool}
    """,
    "main.yaml": """
        nodes:
          start:
            text: A shop.
            choices:
              - {text: Work, effects: [coins += 1], goto: start}
              - {text: Buy a key, if: coins >= 2, effects: [coins -= 2, key = true], goto: start}
              - {text: Open the door, if: key, goto: door}
              - {text: Flip a coin, goto: flip}
              - {text: Go home, goto: home}
          flip:
            random:
              - {goto: heads}
              - {goto: tails}
          heads: {text: Heads., goto: start}
          tails: {text: Tails., goto: start}
          door:
            text: The door.
            branch:
              - {if: coins > 3, goto: vault}
              - {goto: home}
          vault: {text: Riches., ending: {id: rich, title: Rich}}
          home: {text: Home., ending: {id: home, title: Home}}
    """,
}


def test_exhaustive_search_proves_what_cant_be_reached(tmp_path):
    story = load_story(story_dir(tmp_path, GATED), cache_dir=False)
    r = explore(story, path_to="main.door")
    d = r.to_dict()
    assert d["complete"] is True
    assert d["unreachable_nodes"] == ["main.vault"] and d["unreachable_endings"] == ["rich"]
    assert {"main.heads", "main.tails"} <= {n for n in story.node_ids if n not in d["unreachable_nodes"]}
    assert [s["text"] for s in d["path"]] == ["Work", "Work", "Buy a key", "Open the door"]


def test_exhaustive_search_says_when_it_stopped_early(tmp_path, first_week):
    r = explore(first_week, max_states=300)
    assert r.exhausted is False and "300" in r.why_incomplete[0]
    assert r.states == 300
    # playing on from where it stopped, and then from the start, still reaches every node and
    # ending, so the answer is complete even though the state space was not
    assert all(r.reached) and r.complete and r.unreachable_endings == []
    assert r.to_dict()["state_space_exhausted"] is False


# GATED with a coin that can't be enumerated (a random range wider than the search splits):
# the state space is never exhausted, so "the vault can't be reached" needs a static proof.
WIDE = {
    **GATED,
    "main.yaml": GATED["main.yaml"].replace(
        "- {text: Go home, goto: home}",
        "- {text: Go home, effects: ['coins = random(0, 900) // 300'], goto: home}",
    ),
}


def test_exhaustive_search_uses_what_analysis_rules_out(tmp_path, capsys):
    root = story_dir(tmp_path, WIDE)
    story = load_story(root, cache_dir=False)
    vault = story.node_index["main.vault"]
    r = explore(story)
    assert not r.exhausted and any("sampled" in why for why in r.why_incomplete)
    assert not r.complete and r.unreachable_nodes == ["main.vault"]  # not reached, not proven either
    r = explore(story, ruled_out={vault})
    assert r.complete and not r.exhausted
    assert r.to_dict()["ruled_out_nodes"] == ["main.vault"] and r.unreachable_endings == ["rich"]
    # the command asks the analysis itself
    assert main(["playtest", str(root), "--exhaustive"]) == 0
    out = capsys.readouterr().out
    assert "complete: yes, every node and ending was reached or ruled out" in out
    assert "nodes unreachable:\n    main.vault" in out


def test_exhaustive_search_plays_on_to_find_deep_nodes_with_a_path_that_replays(first_week, monkeypatch):
    import game.authoring.playtest.search as pt

    monkeypatch.setattr(pt, "PROBE_STEPS", 0)  # so that playing from the start must find it
    target = "stokesy.release.his_mom"
    deep = first_week.node_index[target]
    r = explore(first_week, max_states=50, path_to=target)
    assert r.played > 0 and r.complete and r.reached[deep]
    assert r.path_seed is not None and r.path and not r.path_shortest
    game = Game(first_week, r.path_seed, record=False)
    for step in r.path:
        assert first_week.node_ids[game.node] == step.node
        assert step.text == game.choices[step.index].text
        game.choose(step.index)
    assert game.visits[deep] and target in r.to_dict()["path_to"]
