"""Loading and checking: every problem at its file, line and column, all at once."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from game.engine import StoryError, check, load_story, yamlsrc
from game.engine.load import default_cache_dir

from ..conftest import STORIES
from .helpers import make, problems

GOOD_SCENE = """\
nodes:
  start:
    text: Hello.
    choices:
      - text: Finish
        goto: end
  end:
    text: Bye.
    ending: {id: done, title: Done}
"""


def test_a_good_story_has_no_problems(tmp_path):
    assert problems(tmp_path, GOOD_SCENE) == []


@pytest.mark.parametrize(
    ("data", "line", "col", "message"),
    [
        (b"a: 1\na: 2\n", 2, 1, "duplicate key 'a' (first used at line 1)"),
        (b"x: !!python/object:os.system [ls]\n", 1, 4, "unsupported tag"),
        (b"x: !custom 3\n", 1, 4, "unsupported tag '!custom'"),
        (b"", 1, 1, "file is empty"),
        (b"# only a comment\n", 1, 1, "file is empty"),
        (b"a:\n\t- b\n", 2, 1, "tab characters"),
        (b"a: \xff\xfe\n", 1, 4, "not valid UTF-8"),
        (b"- " * 100 + b"x", 1, 129, "nesting is deeper than 64"),
        (b"[" * 300 + b"]" * 300, 1, 201, "nesting is deeper than 200"),
        (b"a: [1, 2\n", 1, 4, "did not find expected"),
        (b"a: 1\n---\nb: 2\n", 2, 1, "one YAML document"),
        (b"a: *nothing\n", 1, 4, "unknown alias"),
        (b"a: 1\x00\n", 1, 5, "control character U+0000 in text"),
        (b"? [a, b]\n: c\n", 1, 3, "mapping key must be a plain name"),
        (b"a: b\nc: ? d\n", 2, 4, "can't start with '? '"),
        (b"a: 'it's'\n", 1, 8, "write a single quote twice"),
        (b"a:\n  - {x} y\n", 2, 9, 'put the whole text in quotes: "{x} y"'),
    ],
)
def test_yaml_problems(data, line, col, message):
    with pytest.raises(yamlsrc.YamlProblem) as err:
        yamlsrc.read(data)
    assert message in err.value.message
    assert (err.value.line, err.value.column) == (line, col)


_SCENE_TEXT = (
    "nodes:\n  start:\n    text: Hello there.\n    choices:\n      - text: Go\n"
    "        if: trust > 1\n        goto: end\n  end:\n    text: Bye.\n"
    "    ending: {id: done, title: Done}\n"
)


@given(st.integers(0, len(_SCENE_TEXT)), st.sampled_from(list(": '\"[]{}\t-*&@`|>#%,")))
@settings(max_examples=200, deadline=None)
def test_a_broken_line_is_reported_inside_the_file(at, ch):
    text = _SCENE_TEXT[:at] + ch + _SCENE_TEXT[at:]
    try:
        yamlsrc.read(text.encode())
    except yamlsrc.YamlProblem as exc:
        assert 1 <= exc.line <= text.count("\n") + 1
        assert 1 <= exc.column
        assert "\n" not in exc.message and exc.message


def test_alias_bomb_is_refused_quickly():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 12):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    t = time.perf_counter()
    with pytest.raises(yamlsrc.YamlProblem) as err:
        yamlsrc.read("\n".join(lines).encode())
    assert "alias bomb" in err.value.message
    assert time.perf_counter() - t < 5


def test_huge_file_is_refused(tmp_path):
    with pytest.raises(yamlsrc.YamlProblem) as err:
        yamlsrc.read(b"a: " + b"x" * (yamlsrc.MAX_FILE_BYTES + 1))
    assert "too large" in err.value.message


def test_plain_words_stay_text():
    doc = yamlsrc.read(b"a: No\nb: yes\nc: on\nd: true\ne: 3\nf: 2.5\ng: ~\nh: '3'\n")
    assert doc == {"a": "No", "b": "yes", "c": "on", "d": True, "e": 3, "f": 2.5, "g": None, "h": "3"}


def test_positions_are_recorded():
    doc = yamlsrc.read(b"nodes:\n  start:\n    text: hi\n    choices:\n      - goto: x\n")
    start = doc["nodes"]["start"]
    assert start.pos["text"][:4] == (3, 5, 3, 11)
    assert start["choices"].pos[0][:2] == (5, 9)


BROKEN = """\
nodes:
  start:
    text: Hello {becky.nmae}.
    choises:
      - text: x
    choices:
      - text: Go
        goto: ned
        if: trust >> 2
      - text: Stay
        goto: start
        effects: [trust += 'a lot', hours = 3]
        once: sometimes
  end:
    text: [1, 2]
    ending: {id: done, title: Done, categroy: good}
"""


def test_every_error_reported_at_once(tmp_path):
    head = """\
        characters: {becky: {name: Becky}}
        variables:
          trust: {type: int, initial: 0, min: 0, max: 5}
        """
    found = problems(tmp_path, BROKEN, head)
    text = "\n".join(found)
    expected = [
        "main.yaml:3:18: error: unknown variable 'becky.nmae'; did you mean 'becky.name'?",
        "main.yaml:4:5: error: unknown key 'choises' in node 'start'; did you mean 'choices'?",
        "main.yaml:8:15: error: unknown node 'ned'; did you mean 'end'?",
        "main.yaml:9:20: error: unexpected '>'",
        "main.yaml:12:28: error: 'trust' holds a number, not text",
        "main.yaml:12:37: error: unknown variable 'hours'",
        "main.yaml:13:15: error: 'once' must be true or false, not text",
        "main.yaml:16:37: error: unknown key 'categroy' in an ending; did you mean 'category'?",
    ]
    for line in expected:
        assert line in text, f"missing: {line}\n--- got:\n{text}"
    assert len([p for p in found if ": error: " in p]) >= len(expected)


@pytest.mark.parametrize(
    ("scene", "head", "message"),
    [
        ("nodes: [a, b]\n", "", "'nodes' must be a mapping, not a list"),
        ("- just\n- a list\n", "", "a story file must be a mapping of keys, not a list"),
        ("nodes:\n  start: hello\n", "", "node 'start' must be a mapping"),
        ("nodes:\n  start:\n    goto: start\n", "", "loop that never stops for a choice"),
        ("nodes:\n  start:\n    choices:\n      - text: a\n", "", "a choice needs 'goto'"),
        ("nodes:\n  start:\n    goto: <nowhere>\n", "", "unknown special target '<nowhere>'"),
        ("nodes:\n  start:\n    text: '{'\n    ending: {id: e, title: E}\n", "", "'{' is never closed"),
        ("nodes:\n  start:\n    text: a\n    goto: start\n    choices: []\n", "", "has both"),
        ("nodes:\n  bad-name:\n    text: a\n", "", "must be a simple name"),
        (GOOD_SCENE, "variables:\n  x: {type: float}\n", "type must be int, bool or enum"),
        (GOOD_SCENE, "variables:\n  x: {type: int, initial: 11, max: 10}\n", "outside"),
        (GOOD_SCENE, "variables:\n  x: {type: enum, values: [a, b], initial: c}\n", "not one of a, b"),
        (GOOD_SCENE, "variables:\n  x: {type: int, dispaly: bar}\n", "did you mean 'display'"),
        (GOOD_SCENE, "variables:\n  x: {type: int, better: fewer}\n", "better must be higher or lower"),
        (GOOD_SCENE, "turns: {hub: main.nope}\n", "unknown node 'main.nope'"),
        (GOOD_SCENE, "turns: {hub: main.start, counter: missing}\n", "must name an int variable"),
        (GOOD_SCENE, "titel: x\n", "did you mean 'title'"),
    ],
)
def test_structural_errors(tmp_path, scene, head, message):
    text = "\n".join(problems(tmp_path, scene, head))
    assert message in text
    assert ": error: " in text


def test_story_yaml_is_required(tmp_path):
    (tmp_path / "a.yaml").write_text("nodes: {}\n")
    _story, found = check(tmp_path, cache_dir=False)
    assert "no story.yaml" in str(found[0])


def test_missing_folder(tmp_path):
    _story, found = check(tmp_path / "nope", cache_dir=False)
    assert "no such story folder" in str(found[0])


def test_load_story_raises_with_all_problems(tmp_path):
    root = make(tmp_path, "nodes:\n  start:\n    goto: a\n  b:\n    goto: c\n")
    with pytest.raises(StoryError) as err:
        load_story(root, cache_dir=False)
    assert len(err.value.errors) == 2
    assert "main.yaml:3:11" in str(err.value)


def test_warnings(tmp_path):
    head = "variables:\n  unused: {type: int}\n  shown: {type: int, display: bar}\n"
    scene = GOOD_SCENE + "  orphan:\n    text: Nobody comes here.\n    goto: end\n  stuck:\n    text: x\n"
    found = problems(tmp_path, scene, head)
    text = "\n".join(found)
    assert "warning: node 'main.orphan' can't be reached from the start" in text
    assert "warning: node 'main.stuck' is a dead end" in text
    assert "story.yaml:5:3: warning: variable 'unused' is never used" in text
    assert "shown" not in text
    assert all(": warning: " in p for p in found)


def test_cache_makes_the_second_load_fast_and_equal(tmp_path):
    root = STORIES / "first_week"
    cache = tmp_path / "c"
    first = load_story(root, cache_dir=cache)
    assert list(cache.glob("*.iomc"))
    second = load_story(root, cache_dir=cache)
    assert second.content_hash == first.content_hash
    assert second.node_ids == first.node_ids
    assert [v.name for v in second.variables] == [v.name for v in first.variables]


def test_corrupt_cache_is_ignored(tmp_path):
    root = STORIES / "first_week"
    cache = tmp_path / "c"
    story = load_story(root, cache_dir=cache)
    for f in cache.glob("*.iomc"):
        data = bytearray(f.read_bytes())
        data[len(data) // 2] ^= 0xFF
        f.write_bytes(bytes(data))
    again = load_story(root, cache_dir=cache)
    assert again.node_ids == story.node_ids
    for f in cache.glob("*.iomc"):
        f.write_bytes(b"IOMC" + b"\0" * 40)
    assert load_story(root, cache_dir=cache).node_ids == story.node_ids


def test_stale_cache_is_not_used(tmp_path):
    root = make(tmp_path, GOOD_SCENE)
    cache = tmp_path / "c"
    load_story(root, cache_dir=cache)
    (root / "main.yaml").write_text(GOOD_SCENE.replace("Hello.", "Changed."))
    from game.engine import Game

    assert Game(load_story(root, cache_dir=cache)).passage == ["Changed."]


def test_unwritable_cache_dir_is_harmless(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    root = make(tmp_path, GOOD_SCENE)
    assert load_story(root, cache_dir=blocker / "sub").id == "t"


def test_default_cache_dir_follows_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("IOM_CACHE_DIR", str(tmp_path / "x"))
    assert default_cache_dir() == tmp_path / "x"


def test_check_json_shape(tmp_path, capsys):
    from game.cli import main

    root = make(tmp_path, "nodes:\n  start:\n    goto: nowhere\n")
    assert main(["check", str(root), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {"errors", "warnings"}
    assert data["errors"][0] == {
        "file": "main.yaml",
        "line": 3,
        "column": 11,
        "message": "unknown node 'nowhere'",
    }


_YAML_BITS = st.sampled_from(
    [
        "nodes:",
        "  start:",
        "    text: hi",
        "    goto: start",
        "    choices:",
        "      - text: a",
        "        goto: end",
        "  end:",
        "    ending: {id: e, title: E}",
        "      if: x >",
        "- a",
        "{",
        "]",
        "&a [1]",
        "*a",
        "!!python/name:os.system",
        "\t",
        "key: value",
        "  - ",
        "'",
        '"',
        ":",
        "#",
    ]
)


@given(st.lists(_YAML_BITS, max_size=25), st.binary(max_size=20))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_check_never_crashes_on_junk(tmp_path, bits, noise):
    root = tmp_path / "fuzz"
    root.mkdir(exist_ok=True)
    (root / "story.yaml").write_text("id: f\ntitle: F\nstart: main.start\n")
    (root / "main.yaml").write_bytes("\n".join(bits).encode() + noise)
    _story, found = check(root, cache_dir=False)
    assert all(p.file and p.line >= 1 and p.column >= 1 for p in found)


def test_better_says_which_way_is_an_improvement(tmp_path):
    head = """\
        variables:
          rank: {type: int, initial: 60, better: lower}
          score: {type: int}
        characters:
          ana: {name: Ana}
          ben: {name: Ben}
        character_variables:
          offences: {type: int, better: lower}
        """
    story = load_story(make(tmp_path, GOOD_SCENE, head), cache_dir=False)
    better = {v.name: v.better for v in story.variables}
    assert better == {"rank": "lower", "score": "higher", "ana.offences": "lower", "ben.offences": "lower"}
