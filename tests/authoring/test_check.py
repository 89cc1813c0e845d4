"""`iom check`: every error at once, where it is; warnings for what can never happen; --strict."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from game.cli import main

from .conftest import FIRST_WEEK, ROOT, story_dir

VISIT = """\
# A new branch, written in a hurry.
scene: newbie.visit
character: beky
nodes:
  door:
    title: A new door
    event:
      title: Try the new flat
      if: becky.trust = 3
      cost: {hour: 2}
      tags: [visit]
    text: Hello {becky.nme}, says the neighbour.
    choices:
      - text: Go in
        goto: insdie
      - txt: Walk away
        goto: <hubb>
  inside:
    text: "Unclosed {brace"
    efects: [becky.trust += 1]
    goto: door
  talk:
    text: Talk.
    choices:
      - text: Shout
        effects: ["becky.status = 'custard'", "standing += 'loud'"]
        goto: becky.visit.doorr
"""
END = """\
nodes:
  done:
    ending: {id: becky_foot_in_door, title: Again}
    text: The end.
    goto: newbie.visit.door
  odd:
    text: Odd.
    random:
      - weight: chance(0.5) +
        goto: done
"""
EXPECTED = [
    "newbie/end.yaml:3:18: error: ending id 'becky_foot_in_door' is already used at ending/week.yaml:64",
    "newbie/end.yaml:5:5: error: node 'done' ends the story, so it can't have 'goto'",
    "newbie/end.yaml:9:30: error: expression ends too soon",
    "newbie/visit.yaml:3:12: error: unknown character 'beky'; did you mean 'becky'?",
    "newbie/visit.yaml:9:23: error: write '==' to compare ('=' is only for effects)",
    "newbie/visit.yaml:10:14: error: a cost must name an int variable, not 'hour'; did you mean 'hours'?",
    "newbie/visit.yaml:12:18: error: unknown variable 'becky.nme'; did you mean 'becky.name'?",
    "newbie/visit.yaml:15:15: error: unknown node 'insdie'; did you mean 'inside'?",
    "newbie/visit.yaml:16:9: error: unknown key 'txt' in a choice; did you mean 'text'?",
    "newbie/visit.yaml:16:9: error: a choice needs 'text' (only a fallback choice can go without)",
    "newbie/visit.yaml:17:15: error: unknown special target '<hubb>'; did you mean '<hub>'?",
    "newbie/visit.yaml:19:21: error: '{' is never closed (write '{{' for a brace)",
    "newbie/visit.yaml:20:5: error: unknown key 'efects' in node 'inside'; did you mean 'effects'?",
    "newbie/visit.yaml:26:35: error: 'custard' is not one of community, cells, custody; did you mean 'custody'?",
    "newbie/visit.yaml:26:60: error: 'standing' holds a number, not text",
    "newbie/visit.yaml:27:15: error: unknown node 'becky.visit.doorr'; did you mean 'becky.visit.door'?",
]


@pytest.fixture
def newbie(tmp_path):
    """The sample story with a new branch full of beginner's mistakes."""
    root = tmp_path / "story"
    shutil.copytree(FIRST_WEEK, root)
    (root / "newbie").mkdir()
    (root / "newbie" / "visit.yaml").write_text(VISIT, encoding="utf-8")
    (root / "newbie" / "end.yaml").write_text(END, encoding="utf-8")
    return root


def test_every_beginner_mistake_at_once_with_its_place(newbie, capsys):
    assert main(["check", str(newbie)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[:-1] == EXPECTED
    assert lines[-1].endswith("16 errors, 0 warnings")


def test_check_json_has_the_same_problems(newbie, capsys):
    assert main(["check", str(newbie), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"errors", "warnings"}
    assert [
        f"{e['file']}:{e['line']}:{e['column']}: error: {e['message']}" for e in data["errors"]
    ] == EXPECTED
    assert all(set(e) == {"file", "line", "column", "message"} for e in data["errors"])


IMPOSSIBLE = {
    "story.yaml": """
        id: an
        title: Analysis
        start: main.start
        variables:
          hours: {type: int, initial: 8, min: 0, max: 8, unit: hours}
          day: {type: int, initial: 1, min: 1, max: 5}
          met: {type: bool}
          secret: {type: int}
          mood: {type: enum, values: [calm, cross]}
        turns:
          counter: day
          budget: hours
          refill: 8
          hub: main.hub
    """,
    "main.yaml": """
        nodes:
          start:
            text: Start.
            effects: [secret += 1]
            choices:
              - text: Impossible
                if: hours > 10
                goto: secret_room
              - text: Disabled forever
                if: met
                reason: You haven't met.
                goto: hub
              - text: Too dear
                cost: {hours: 20}
                goto: hub
              - text: Go
                goto: hub
          secret_room:
            text: Never.
            ending: {id: secret_end, title: Secret}
          hub:
            hub: {tags: [office]}
            text:
              - Day {day}.
              - if: "mood == 'cross'"
                text: Cross.
            choices:
              - text: Next day
                goto: <end-turn>
          stuck:
            event: {title: Stuck, tags: [office], if: day >= 2}
            text: Stuck.
            choices:
              - text: Only way
                if: day > 9
                goto: <hub>
          lost:
            event: {title: Lost, tags: [field]}
            text: Lost.
            goto: <hub>
          done:
            event: {title: Done, forced: true, tags: [office], if: day >= 5}
            branch:
              - if: day > 5
                goto: never_end
              - goto: the_end
          never_end:
            ending: {id: never, title: Never}
            text: x
          the_end:
            ending: {id: end, title: End}
            text: y
    """,
}
WARNINGS = [
    "main.yaml:7:13: warning: choice 'Impossible' can never be taken (never shown): its condition 'hours > 10' is never true (hours is 0..8)",
    "main.yaml:10:13: warning: choice 'Disabled forever' can never be taken (shown, but never enabled): its condition 'met' is never true (met is never changed from false)",
    "main.yaml:14:23: warning: choice 'Too dear' can never be afforded: it costs 20 hours and hours is never more than 8",
    "main.yaml:18:3: warning: node 'main.secret_room' can't be reached: every way to it has a condition that can never be true",
    "main.yaml:18:3: warning: ending 'secret_end' can never be reached",
    "main.yaml:25:13: warning: this text is never shown: its condition \"mood == 'cross'\" is never true (mood is never changed from calm)",
    "main.yaml:30:3: warning: node 'main.stuck' is a dead end: none of its choices can ever be taken, and it has no fallback",
    "main.yaml:35:13: warning: choice 'Only way' can never be taken (never shown): its condition 'day > 9' is never true (day is 1..5)",
    "main.yaml:37:3: warning: node 'main.lost' can't be reached from the start",
    "main.yaml:37:3: warning: event 'main.lost' is never offered: its tags (field) match no hub (hubs offer: office)",
    "main.yaml:44:13: warning: this branch is never taken: its condition 'day > 5' is never true (day is 1..5)",
    "main.yaml:47:3: warning: node 'main.never_end' can't be reached: every way to it has a condition that can never be true",
    "main.yaml:47:3: warning: ending 'never' can never be reached",
    "story.yaml:8:3: warning: variable 'secret' is set but never read: no condition, text or effect uses its value, and players don't see it (display: hidden)",
]


def test_warnings_for_what_can_never_happen(tmp_path, capsys):
    root = story_dir(tmp_path, IMPOSSIBLE)
    assert main(["check", str(root)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:-1] == WARNINGS
    assert lines[-1].endswith("0 errors, 14 warnings")


def test_strict_makes_warnings_fail(tmp_path, capsys):
    root = story_dir(tmp_path, IMPOSSIBLE)
    assert main(["check", str(root), "--strict"]) == 1
    assert main(["check", str(root), "--strict", "--json"]) == 1
    capsys.readouterr()
    assert main(["check", str(FIRST_WEEK), "--strict"]) == 0
    assert "no problems found" in capsys.readouterr().out


def test_possible_conditions_are_not_flagged(tmp_path, capsys):
    root = story_dir(
        tmp_path,
        {
            "story.yaml": """
            id: ok
            title: OK
            start: main.start
            variables:
              n: {type: int, initial: 0, min: 0, max: 10, display: number}
              flag: {type: bool, display: text}
        """,
            "main.yaml": """
            nodes:
              start:
                text: "{n}"
                choices:
                  - {text: Up, effects: [n += 3, flag = true], goto: start}
                  - {text: High, if: n >= 9 and flag, goto: end}
                  - {text: Maybe, if: chance(0.5) or n * 2 > 19, goto: end}
                  - {text: Odd, if: n % 2 == 1, goto: end}
                  - {text: Half, if: n / 4 > 2, goto: end}
              end: {text: End., ending: {id: end, title: End}}
        """,
        },
    )
    assert main(["check", str(root), "--strict"]) == 0, capsys.readouterr().out


@pytest.mark.parametrize(
    "files",
    [
        {},
        {"story.yaml": "id: [unclosed\n"},
        {"story.yaml": "\x00\x01\x02garbage"},
        {"story.yaml": "- just\n- a list\n"},
        {"story.yaml": "id: x\ntitle: X\nstart: a.b\n", "a.yaml": "nodes: 3\n"},
    ],
)
def test_no_command_ever_prints_a_traceback(tmp_path, files, capsys):
    root = tmp_path / "story"
    root.mkdir()
    for rel, text in files.items():
        (root / rel).write_text(text, encoding="utf-8")
    for args in (
        ["check"],
        ["check", "--json"],
        ["graph"],
        ["stats"],
        ["playtest", "--runs", "3"],
        ["playtest", "--exhaustive"],
    ):
        assert main([*args, str(root)]) == 1, args
        out, err = capsys.readouterr()
        assert "error" in out + err
    out = subprocess.run(
        [sys.executable, "-m", "game", "playtest", str(root)], capture_output=True, cwd=ROOT, timeout=60
    )
    assert out.returncode == 1 and b"Traceback" not in out.stdout + out.stderr


def test_an_unexpected_failure_is_one_line(monkeypatch, capsys):
    import game.authoring.stats as stats

    def broken(story):
        raise RuntimeError("something inside broke")

    monkeypatch.setattr(stats, "story_stats", broken)
    assert main(["stats", str(FIRST_WEEK)]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error: RuntimeError: something inside broke" in err
