"""Control characters in every place a story string is printed, made by YAML escapes or written
raw: each is an error at its exact FILE:LINE:COL, and no command prints one to the terminal.
Bidirectional controls are warnings. File and folder names can't forge or break a line."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from game import cli
from game.engine import check
from game.engine.textsafe import UNSAFE

from ..conftest import ROOT, write_story

STORY = """\
id: hostile
title: "Title<<title>>"
start: main.start
about:
  author: "Author<<author>>"
  description: "Description<<description>>"
  disclaimer: "Disclaimer<<disclaimer>>"
  content_notes: ["Note<<content_note>>"]
variables:
  hours: {type: int, initial: 8, min: 0, max: 8, label: "Hours<<var_label>>", unit: "h<<unit>>"}
  mood: {type: enum, values: [calm, "cross<<enum_value>>"], initial: calm, display: text, group: "g<<group>>"}
characters:
  becky: {name: "Becky<<character_name>>", description: "About<<character_description>>"}
turns:
  budget: hours
  refill: 8
  hub: main.hub
"""
MAIN = """\
title: "Scene<<scene_title>>"
nodes:
  start:
    title: "Start<<node_title>>"
    text: "Hello<<text>> {hours} {mood}"
    choices:
      - text: "Go<<choice_text>>"
        goto: hub
      - text: Locked
        if: hours > 100
        reason: "Because<<reason>>"
        goto: hub
  hub:
    hub: true
    text:
      - "Hub<<text_item>>"
      - if: hours > 1
        text: "Then<<then_text>>"
        else: "Else<<else_text>>"
      - sequence: ["Seq<<sequence>>", "b"]
    choices:
      - text: End
        goto: fin
      - text: Mood
        effects: ["mood = 'calm'"]
        goto: <end-turn>
  visit:
    event: {title: "Visit<<event_title>>", cost: {hours: 1}}
    text: v
    choices: [{text: back, goto: <hub>}]
  fin:
    text: "Fin<<ending_text>>"
    ending: {id: fin, title: "The end<<ending_title>>", category: "cat<<ending_category>>"}
  "spare<<node_key>>":
    text: spare
    goto: fin
"""
PLACES = sorted(set(re.findall(r"<<(\w+)>>", STORY + MAIN)))
# YAML escapes and the character each makes.
ESCAPES = {
    r"\e": 0x1B,
    r"\x1b": 0x1B,
    r"\x07": 0x07,
    r"\a": 0x07,
    r"\b": 0x08,
    r"\r": 0x0D,
    r"\0": 0x00,
    r"\x7f": 0x7F,
    r"\u009b": 0x9B,
    r"\U0000001B": 0x1B,
    r"\N": 0x85,
    r"\v": 0x0B,
    r"\f": 0x0C,
    r"\x90": 0x90,
}
RAW = {"\x1b": 0x1B, "\x07": 0x07, "\x9b": 0x9B, "\x7f": 0x7F, "\x00": 0x00, "\x85": 0x85, "\r": 0x0D}


def _files(place: str | None, payload: str) -> dict[str, str]:
    out = {}
    for name, text in (("story.yaml", STORY), ("main.yaml", MAIN)):
        for p in PLACES:
            text = text.replace(f"<<{p}>>", payload if p == place else "")
        out[name] = text
    return out


def _where(place: str) -> tuple[str, int, int]:
    for name, text in (("story.yaml", STORY), ("main.yaml", MAIN)):
        for p in PLACES:  # the markers before this one are removed, so columns are exact
            if p != place:
                text = text.replace(f"<<{p}>>", "")
        i = text.find(f"<<{place}>>")
        if i >= 0:
            return name, text.count("\n", 0, i) + 1, i - text.rfind("\n", 0, i)
    raise AssertionError(place)


def _write(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_bytes(text.encode("utf-8"))
    return root


def test_the_story_is_clean_without_a_payload(tmp_path):
    story, problems = check(_write(tmp_path / "s", _files(None, "")), cache_dir=False)
    assert story is not None, [str(p) for p in problems]


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("escape", list(ESCAPES))
def test_an_escape_making_a_control_character_is_an_error_at_the_escape(tmp_path, place, escape):
    story, problems = check(_write(tmp_path / "s", _files(place, f"x{escape}]0;t")), cache_dir=False)
    name, line, col = _where(place)
    expected = f"{name}:{line}:{col + 1}: error: control character U+{ESCAPES[escape]:04X} in text"
    assert story is None
    assert expected in [str(p) for p in problems]
    assert not any(UNSAFE.search(str(p)) for p in problems)


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("raw", list(RAW), ids=[f"U+{c:04X}" for c in RAW.values()])
def test_a_raw_control_character_is_an_error_at_its_place(tmp_path, place, raw):
    story, problems = check(_write(tmp_path / "s", _files(place, f"x{raw}y")), cache_dir=False)
    name, line, col = _where(place)
    assert story is None
    assert f"{name}:{line}:{col + 1}: error: control character U+{RAW[raw]:04X} in text" in [
        str(p) for p in problems
    ]


@pytest.mark.parametrize("place", ["title", "text", "choice_text", "character_name", "ending_title"])
@pytest.mark.parametrize("bidi", [r"\u202e", "\u202e", r"\u2066", "\u2069", r"\u202a"])
def test_a_bidi_control_is_a_warning_at_its_place(tmp_path, place, bidi):
    story, problems = check(_write(tmp_path / "s", _files(place, f"x{bidi}y")), cache_dir=False)
    name, line, col = _where(place)
    assert story is not None
    warning = [str(p) for p in problems if p.severity == "warning" and "bidirectional" in p.message]
    assert len(warning) == 1 and warning[0].startswith(
        f"{name}:{line}:{col + 1}: warning: bidirectional control"
    )


def _run(capsys, *argv: str) -> tuple[int, str]:
    code = cli.main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


@pytest.mark.parametrize(
    "command",
    [
        ["check"],
        ["check", "--strict"],
        ["stats"],
        ["graph"],
        ["graph", "--format", "mermaid"],
        ["playtest", "--runs", "3", "--jobs", "1", "--no-progress"],
        ["playtest", "--exhaustive", "--max-states", "50", "--jobs", "1", "--no-progress"],
    ],
)
@pytest.mark.parametrize("payload", [r"\e]52;c;ZXZpbA==\a", "\x1b[2J", r"\u009b1;1H"])
def test_no_command_prints_a_control_character_from_a_story(tmp_path, capsys, command, payload):
    for place in ("title", "text", "node_key", "character_name"):
        root = _write(tmp_path / place, _files(place, payload))
        code, out = _run(capsys, *command, str(root))
        assert code == 1
        assert "control character U+" in out
        assert not UNSAFE.search(out), out


def test_json_output_stays_valid_json(tmp_path, capsys):
    import json

    root = _write(tmp_path / "s", _files("text", r"\e]0;t\a"))
    code, out = _run(capsys, "check", "--json", str(root))
    assert code == 1
    data = json.loads(out)
    assert any("U+001B" in p["message"] for p in data["errors"])


HOSTILE_NAME = "evil\x1b]0;t\x07\nfake.yaml:1:1: error: forged"


def test_a_file_name_cannot_forge_or_break_a_line(tmp_path, capsys):
    root = _write(tmp_path / "s", _files(None, ""))
    (root / f"{HOSTILE_NAME}.yaml").write_text("nodes: [unclosed\n")
    code, out = _run(capsys, "check", str(root))
    assert code == 1
    lines = out.splitlines()
    assert not any(line.startswith("fake.yaml") for line in lines)
    assert any(line.startswith("evil\\x1b]0;t\\x07\\nfake.yaml:1:1: error: forged.yaml:") for line in lines)
    assert not UNSAFE.search(out)


@pytest.mark.parametrize(
    "command",
    [
        ["check"],
        ["stats"],
        ["graph"],
        ["playtest", "--runs", "2", "--jobs", "1", "--no-progress"],
    ],
)
def test_a_folder_name_cannot_forge_or_break_a_line(tmp_path, capsys, command):
    root = _write(tmp_path / HOSTILE_NAME, _files(None, ""))
    code, out = _run(capsys, *command, str(root))
    assert code == 0
    assert not UNSAFE.search(out)
    assert not any(line.startswith("fake.yaml") for line in out.splitlines())


def test_a_command_line_value_is_echoed_safely(tmp_path, capsys):
    root = _write(tmp_path / "s", _files(None, ""))
    code, out = _run(capsys, "playtest", str(root), "--from", "\x1b]0;t\x07", "--jobs", "1")
    assert code == 2
    assert "\\x1b]0;t\\x07" in out and not UNSAFE.search(out)
    code, out = _run(capsys, "play", "--plain", "--story", str(root), "--from", "x\x1b[2J")
    assert code == 2
    assert not UNSAFE.search(out)


def test_the_cli_prints_no_traceback_for_a_hostile_story(tmp_path):
    root = _write(tmp_path / "s", _files("text", r"\e]0;t\a"))
    out = subprocess.run(
        [sys.executable, "-m", "game", "play", "--plain", "--story", str(root)],
        capture_output=True,
        cwd=ROOT,
        timeout=60,
        input=b"",
    )
    assert out.returncode == 1
    assert b"Traceback" not in out.stderr and not UNSAFE.search(out.stderr.decode())
    assert b"control character U+001B in text" in out.stderr


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=12))
def test_any_text_in_a_passage_is_either_refused_or_printed_safely(tmp_path_factory, text):
    import json

    root = tmp_path_factory.mktemp("s")
    quoted = json.dumps(text, ensure_ascii=False)  # a YAML double-quoted string; controls escaped
    write_story(
        root,
        {
            "story.yaml": "id: t\ntitle: T\nstart: m.start\n",
            "m.yaml": f"nodes:\n  start:\n    text: {quoted}\n    ending: {{id: e, title: {quoted}}}\n",
        },
    )
    story, problems = check(root, cache_dir=False)
    assert not any(UNSAFE.search(str(p)) for p in problems)
    if UNSAFE.search(text):
        assert story is None
        assert any("control character U+" in p.message for p in problems)
    if story is not None:
        from game.engine import Game

        game = Game(story, seed=1)
        assert not any(UNSAFE.search(p) for p in game.passage)


def test_a_story_cached_before_the_checks_is_checked_again(tmp_path, monkeypatch):
    # The cache key holds the loader's format: a cache made by a loader without these checks
    # (or by any other) is never used for a story it would now refuse.
    from game.engine import load

    root = _write(tmp_path / "s", _files("text", r"\e[2J"))
    cache = tmp_path / "cache"
    monkeypatch.setattr(load, "CACHE_FORMAT", b"iom-ir-old")
    files = load.read_files(root)
    digest = load.content_hash(files)
    monkeypatch.undo()
    assert load.content_hash(files) != digest
    story, problems = check(root, cache_dir=cache)
    assert story is None and any("U+001B" in p.message for p in problems)
