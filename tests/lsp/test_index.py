"""The pieces of `iom lsp` that need no client: the overlay, the names index, the key path,
and the message when pygls is missing."""

from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from game.authoring.analysis import check_story
from game.authoring.lsp_index import build_index, key_path, schema_keys
from game.authoring.schema import story_schema
from game.cli import main
from game.engine.load import read_files
from tests.conftest import write_story

STORY = """\
id: t
title: T
start: s.a
characters:
  ann: {name: Ann}
variables:
  score: {type: int, min: 0, max: 9}
character_variables:
  trust: {type: int, initial: 1}
"""
SCENE = """\
scene: s
nodes:
  a:
    title: First
    text: "Ann's trust is {ann.trust}; score {score}."
    choices:
      - text: Go on
        if: score < 5 and visited(a) == 0 and ann.trust > 0
        cost: {score: 1}
        effects:
          - ann.trust += 1
        goto: b
  b:
    ending: {id: done, title: Done}
"""


def _story(tmp_path: Path) -> Path:
    return write_story(tmp_path / "story", {"story.yaml": STORY, "s.yaml": SCENE})


def test_an_overlay_is_checked_instead_of_the_file(tmp_path):
    root = _story(tmp_path)
    assert [p for p in check_story(root)[1] if p.severity == "error"] == []
    broken = SCENE.replace("goto: b", "goto: c")
    _story_, problems = check_story(root, {"s.yaml": broken.encode()})
    assert [str(p) for p in problems if p.severity == "error"] == [
        "s.yaml:12:15: error: unknown node 'c'; did you mean 's.b'?"
    ]
    assert (root / "s.yaml").read_text() == SCENE  # the file itself is untouched
    # A buffer for a file not yet saved is part of the story too.
    files = dict(read_files(root, {"more.yaml": b"nodes: {x: {goto: s.a}}\n"}))
    assert list(files)[0] == "story.yaml" and "more.yaml" in files


def test_the_index_finds_every_declaration_and_use(tmp_path):
    root = _story(tmp_path)
    texts = {rel: data.decode() for rel, data in read_files(root)}
    index = build_index(root, texts)
    assert set(index.nodes) == {"s.a", "s.b"} and set(index.characters) == {"ann"}
    assert index.full_variables() == ["score", "ann.trust"]
    uses = {(r.kind, r.name): 0 for refs in index.refs.values() for r in refs}
    for refs in index.refs.values():
        for r in refs:
            uses[(r.kind, r.name)] += 1
            line = texts[r.span.file].split("\n")[r.span.line]
            written = line[r.span.start : r.span.end]
            assert written == r.name or (r.kind == "node" and r.name.endswith(written))
    # start and goto and visited(); score in text, if and cost; trust in text and twice in expressions
    assert uses[("node", "s.a")] == 3 and uses[("node", "s.b")] == 2
    assert uses[("var", "score")] == 4 and uses[("var", "trust")] == 4
    assert uses[("char", "ann")] == 4


def test_variables_named_by_playtest_strategies_are_uses(tmp_path):
    root = _story(tmp_path)
    story = STORY + "playtest:\n  strategies:\n    keen: prefer:score, trust\n    wary: avoid:ann.trust,*.x\n"
    index = build_index(root, {"story.yaml": story, "s.yaml": SCENE})
    lines = story.split("\n")
    found = [
        (r.kind, r.name, lines[r.span.line][r.span.start : r.span.end])
        for r in index.refs["story.yaml"]
        if r.span.line >= lines.index("playtest:")
    ]
    assert found == [
        ("var", "score", "score"),
        ("var", "trust", "trust"),
        ("char", "ann", "ann"),
        ("var", "trust", "trust"),
    ]


def test_key_path_and_schema_keys():
    lines = SCENE.split("\n")
    choice_goto = next(i for i, line in enumerate(lines) if "goto: b" in line)
    assert key_path(lines, choice_goto) == ["nodes", "a", "choices", "-"]
    effect = next(i for i, line in enumerate(lines) if "ann.trust += 1" in line)
    assert key_path(lines, effect) == ["nodes", "a", "choices", "-", "effects", "-"]
    schema = story_schema()
    assert {"goto", "cost", "once"} <= set(schema_keys(schema, ["nodes", "a", "choices", "-"], False))
    assert {"type", "min", "unit"} <= set(schema_keys(schema, ["variables", "score"], True))
    assert "nodes" in schema_keys(schema, [], False) and "characters" in schema_keys(schema, [], True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.sampled_from(list("ab{}()'\": -\n\t.#[]_0") + ["goto", "if", "nodes", "ann.", "score"]),
        max_size=60,
    ).map("".join)
)
def test_the_index_never_fails_on_a_half_typed_file(tmp_path, junk):
    root = _story(tmp_path)
    texts = {"story.yaml": STORY, "s.yaml": SCENE[: len(junk) % len(SCENE)] + junk}
    index = build_index(root, texts)
    for refs in index.refs.values():
        for r in refs:
            line = texts[r.span.file].split("\n")[r.span.line]
            assert line[r.span.start : r.span.end] == r.name or r.kind == "node"
    lines = texts["s.yaml"].split("\n")
    for i in range(len(lines)):
        assert all(isinstance(k, str) for k in key_path(lines, i))


def test_iom_lsp_without_pygls_says_how_to_get_it(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pygls", None)
    monkeypatch.setitem(sys.modules, "pygls.lsp.server", None)
    monkeypatch.delitem(sys.modules, "game.authoring.lsp", raising=False)
    assert main(["lsp"]) == 1
    err = capsys.readouterr().err
    assert err == "iom: the language server needs pygls: pip install '.[lsp]'\n"
