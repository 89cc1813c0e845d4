from __future__ import annotations

import textwrap
from pathlib import Path

from game.engine import Game, check, load_story

STORY_HEAD = """\
id: t
title: Test
start: main.start
"""


def make(tmp_path: Path, scene: str, head: str = "", files: dict[str, str] | None = None) -> Path:
    """Write a story: story.yaml (STORY_HEAD + head) and main.yaml (scene) plus extra files."""
    root = tmp_path / "story"
    root.mkdir(exist_ok=True)
    (root / "story.yaml").write_text(STORY_HEAD + textwrap.dedent(head), encoding="utf-8")
    (root / "main.yaml").write_text(textwrap.dedent(scene), encoding="utf-8")
    for rel, text in (files or {}).items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def play(tmp_path: Path, scene: str, head: str = "", seed: int = 1, **kw) -> Game:
    return Game(load_story(make(tmp_path, scene, head, **kw), cache_dir=False), seed=seed)


def problems(tmp_path: Path, scene: str, head: str = "", **kw) -> list[str]:
    _story, found = check(make(tmp_path, scene, head, **kw), cache_dir=False)
    return [str(p) for p in found]


def texts(game: Game) -> list[str]:
    return [o.text for o in game.choices]
