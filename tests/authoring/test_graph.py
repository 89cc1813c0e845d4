"""`iom graph`: DOT that Graphviz renders and Mermaid that is valid flowchart syntax."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from game.authoring.graph import build_map, to_dot, to_mermaid
from game.cli import main

from .conftest import FIRST_WEEK, story_dir

# -- a small DOT parser: enough of the grammar to prove the output is well formed ----------------

_DOT_TOKEN = re.compile(
    r'\s*(?:(->)|([{}\[\];,=])|("(?:[^"\\\n]|\\.)*")|([A-Za-z_][A-Za-z0-9_.]*|-?\d+(?:\.\d+)?))'
)


def _dot_tokens(text):
    pos, out = 0, []
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos == len(text):
            return out
        m = _DOT_TOKEN.match(text, pos)
        assert m and m.end() > pos, f"bad DOT at {text[pos : pos + 40]!r}"
        out.append(next(g for g in m.groups() if g is not None))
        pos = m.end()


def parse_dot(text):
    """Check DOT syntax; return (node ids declared, edges)."""
    toks = _dot_tokens(text)
    i = 0
    nodes, edges = set(), []

    def take(expected=None):
        nonlocal i
        tok = toks[i]
        if expected is not None:
            assert tok == expected, f"expected {expected!r}, got {tok!r} at token {i}"
        i += 1
        return tok

    def ident():
        tok = take()
        assert tok not in "{}[];,=" and tok != "->", f"expected an id, got {tok!r}"
        return tok[1:-1] if tok.startswith('"') else tok

    def attrs():
        take("[")
        while toks[i] != "]":
            ident()
            take("=")
            ident()
            if toks[i] in (",", ";"):
                take()
        take("]")

    def stmts():
        take("{")
        while toks[i] != "}":
            if toks[i] == "subgraph":
                take()
                if toks[i] != "{":
                    ident()
                stmts()
            elif toks[i] in ("graph", "node", "edge"):
                take()
                attrs()
            else:
                a = ident()
                if toks[i] == "=":
                    take()
                    ident()
                elif toks[i] == "->":
                    while toks[i] == "->":
                        take()
                        b = ident()
                        edges.append((a, b))
                        a = b
                    if toks[i] == "[":
                        attrs()
                else:
                    nodes.add(a)
                    if toks[i] == "[":
                        attrs()
            if toks[i] == ";":
                take()
        take("}")

    take("digraph")
    if toks[i] != "{":
        ident()
    stmts()
    assert i == len(toks), "text after the graph"
    return nodes, edges


_MERMAID_LINE = [
    re.compile(r"^flowchart (LR|TD|TB|RL|BT)$"),
    re.compile(r'^\s+subgraph s\d+\["[^"]*"\]$'),
    re.compile(r"^\s+end$"),
    re.compile(r'^\s+(n\d+)(\["[^"]*"\]|\(\["[^"]*"\]\)|\{\{"[^"]*"\}\}|>"[^"]*"\]|\(\("[^"]*"\)\))$'),
    re.compile(r'^\s+(n\d+) (-->|==>|-\.->)(\|"[^"]*"\|)? (n\d+)$'),
    re.compile(r"^\s+classDef [a-z]+ [^;]+$"),
    re.compile(r"^\s+class (n\d+)(,n\d+)* [a-z]+$"),
]


def parse_mermaid(text):
    """Check Mermaid flowchart syntax line by line; return (node ids, edges)."""
    lines = text.splitlines()
    if lines[0] == "---":
        close = lines.index("---", 1)
        assert all(re.match(r"^[a-z]+: ", line) for line in lines[1:close])
        lines = lines[close + 1 :]
    assert lines[0].startswith("flowchart ")
    nodes, edges, depth = set(), [], 0
    for line in lines:
        kind = next((k for k, rx in enumerate(_MERMAID_LINE) if rx.match(line)), None)
        assert kind is not None, f"not Mermaid flowchart syntax: {line!r}"
        m = _MERMAID_LINE[kind].match(line)
        if kind == 1:
            depth += 1
        elif kind == 2:
            depth -= 1
            assert depth >= 0
        elif kind == 3:
            nodes.add(m.group(1))
        elif kind == 4:
            edges.append((m.group(1), m.group(4)))
        # labels: quotes, angle brackets and '#' only as entities, line breaks as <br/>
        for label in re.findall(r'"([^"]*)"', line):
            assert "<" not in label.replace("<br/>", "") and ">" not in label.replace("<br/>", "")
            assert not re.search(r"#(?![a-z0-9]+;)", label)
    assert depth == 0
    return nodes, edges


@pytest.mark.parametrize("scene", [None, "becky", "office.hub"])
def test_dot_is_well_formed(first_week, scene):
    m = build_map(first_week, scene)
    nodes, edges = parse_dot(to_dot(m))
    assert nodes == set(m.nodes)
    assert len(edges) == len(m.edges) and all(a in nodes and b in nodes for a, b in edges)


def test_map_marks_endings_events_conditions_and_costs(first_week):
    m = build_map(first_week)
    kinds = {n.key: n.kind for n in m.nodes.values()}
    assert kinds["ending.week.week_good"] == "ending"
    assert kinds["office.hub.day"] == "hub"
    assert kinds["office.hub.briefing"] == "forced" and kinds["becky.visit.door"] == "event"
    labels = [e.label for e in m.edges]
    assert any("if becky.trust >= 4" in label for label in labels)
    assert any("cost 2 hours" in label for label in labels)
    assert any(e.kind == "random" for e in m.edges) and any(e.kind == "branch" for e in m.edges)
    dot = to_dot(m)
    assert "ENDING week_good_enough" in dot and "doubleoctagon" in dot


def test_mermaid_is_valid_flowchart_syntax(first_week, shipped):
    for story in (first_week, shipped):
        m = build_map(story)
        nodes, edges = parse_mermaid(to_mermaid(m))
        assert len(nodes) == len(m.nodes) and len(edges) == len(m.edges)
        assert all(a in nodes and b in nodes for a, b in edges)


def test_awkward_text_is_escaped(tmp_path):
    root = story_dir(
        tmp_path,
        {
            "story.yaml": "id: q\ntitle: 'Quotes \" and \\\\ back'\nstart: main.start\n",
            "main.yaml": """
            nodes:
              start:
                title: "<end> #1 \\"quoted\\" [x] {{y}} a|b; c"
                text: Hi.
                choices:
                  - {text: "Say \\"end\\" -> <go> & #2", goto: end}
              end: {text: Bye., ending: {id: end, title: End}}
        """,
        },
    )
    from game.engine import load_story

    story = load_story(root, cache_dir=False)
    m = build_map(story)
    parse_dot(to_dot(m))
    parse_mermaid(to_mermaid(m))


# Skipped without Graphviz, except in CI, which installs it (.ci/run) and must run this.
@pytest.mark.skipif(
    shutil.which("dot") is None and not os.environ.get("CI"), reason="Graphviz is not installed"
)
def test_graphviz_renders_the_whole_shipped_story_and_a_scene(tmp_path, capsys):
    assert shutil.which("dot"), (
        "Graphviz's dot is not installed: .ci/run installs it (apt-get install graphviz)"
    )
    for args in (["--scene", "becky"], []):
        out = tmp_path / "map.dot"
        assert main(["graph", *args, "-o", str(out)]) == 0
        done = subprocess.run(["dot", "-Tsvg", str(out)], capture_output=True, timeout=120)
        assert done.returncode == 0 and done.stderr == b"", done.stderr[:500]
        assert done.stdout.lstrip().startswith(b"<?xml") and b"<svg" in done.stdout


def test_cli_graph(capsys):
    assert main(["graph", str(FIRST_WEEK), "--format", "mermaid"]) == 0
    assert capsys.readouterr().out.splitlines()[3] == "flowchart LR"
    assert main(["graph", str(FIRST_WEEK), "--scene", "beky"]) == 2
    assert "no scene 'beky'" in capsys.readouterr().err
