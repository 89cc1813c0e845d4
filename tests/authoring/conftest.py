from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from game.engine import load_story

from ..conftest import ROOT, STORIES

SHIPPED = ROOT / "story"
FIRST_WEEK = STORIES / "first_week"
BASIC = STORIES / "basic"


def story_dir(tmp_path: Path, files: dict[str, str], name: str = "story") -> Path:
    """A story folder in tmp_path from {relative path: YAML text} (dedented)."""
    root = tmp_path / name
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def shipped():
    """The shipped story, loaded once for the whole session."""
    return load_story(SHIPPED, cache_dir=False)


@pytest.fixture(scope="session")
def first_week():
    return load_story(FIRST_WEEK, cache_dir=False)
