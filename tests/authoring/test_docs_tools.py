"""The guide's tutorial builds a story that plays, and what the guide shows the tools printing is
what they print."""

from __future__ import annotations

import re

from game.cli import main

from .conftest import ROOT

GUIDE = (ROOT / "docs" / "writing-stories.md").read_text(encoding="utf-8")


def _tutorial_files():
    files = {}
    for m in re.finditer(r"```yaml\n(# file: (\S+)\n.*?)```", GUIDE, re.S):
        text, rel = m.group(1), m.group(2)
        if rel == "story.yaml":
            files = {} if "id: outreach" not in text else {rel: text}
        elif files:
            files[rel] = text
    assert set(files) == {"story.yaml", "office.yaml", "dev/visit.yaml"}
    return files


def _shown_after(command):
    """The lines the guide shows a command printing (up to the next command or the block's end)."""
    start = GUIDE.index(f"$ {command}\n") + len(f"$ {command}\n")
    block = GUIDE[start : GUIDE.index("```", start)]
    return [line for line in block.splitlines() if not line.startswith("$ ")]


def _write(tmp_path, files):
    root = tmp_path / "tutorial"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    return root


def test_tutorial_story_checks_clean_and_every_node_plays(tmp_path, capsys):
    root = _write(tmp_path, _tutorial_files())
    assert main(["check", str(root), "--strict"]) == 0
    assert main(["playtest", str(root), "--runs", "500", "--json"]) == 0
    capsys.readouterr()
    assert main(["playtest", str(root), "--exhaustive", "--path-to", "dev.visit.place"]) == 0
    out = capsys.readouterr().out.splitlines()
    shown = _shown_after("iom playtest tutorial --exhaustive --path-to dev.visit.place")
    assert out[1:3] == shown[1:3]  # complete, and every node reached
    assert out[-5:] == shown[-5:]  # the shortest path


def test_the_guide_shows_what_check_prints(tmp_path, capsys):
    files = _tutorial_files()
    before_branch = {k: v for k, v in files.items() if k != "dev/visit.yaml"}
    root = _write(tmp_path / "a", before_branch)
    main(["check", str(root)])
    printed = capsys.readouterr().out.splitlines()
    shown = _shown_after("iom check tutorial")
    assert printed[:-1] == shown[:-1]
    typo = dict(files, **{"dev/visit.yaml": files["dev/visit.yaml"].replace("goto: needs", "goto: neds", 1)})
    root = _write(tmp_path / "b", typo)
    assert main(["check", str(root)]) == 1
    assert "dev/visit.yaml:17:15: error: unknown node 'neds'; did you mean 'needs'?" in GUIDE
    assert (
        capsys.readouterr().out.splitlines()[0]
        == "dev/visit.yaml:17:15: error: unknown node 'neds'; did you mean 'needs'?"
    )


def test_the_guide_shows_what_a_strategy_comparison_prints(tmp_path, capsys):
    root = _write(tmp_path, _tutorial_files())
    command = (
        "iom playtest tutorial --runs 2000 --strategy random --strategy prefer:dev.trust "
        "--strategy avoid:dev.trust"
    )
    assert main(command.split()[1:2] + [str(root)] + command.split()[3:]) == 0
    out = capsys.readouterr().out
    table = out[out.index("Strategies compared") :].splitlines()
    assert table == [line for line in _shown_after(command) if line != "..."]
