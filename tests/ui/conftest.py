"""Fixtures for the UI tests: every app comes from the factory, with saves in tmp_path."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from game.ui.app import StraightApp, make_app

from ..conftest import ROOT, STORIES

SHIPPED = ROOT / "story"
BASIC = STORIES / "basic"
# The UI tests' own story: stable, so tests and snapshots don't change when the writers edit.
UI_STORY = Path(__file__).resolve().parent / "story"
SEED = 7


@pytest.fixture
def saves(tmp_path: Path) -> Path:
    return tmp_path / "saves"


@pytest.fixture
def build(saves: Path):
    """build(story=..., **options) -> a fresh app on that story, these saves, a fixed seed."""

    def _build(story: Path = UI_STORY, saves_dir: Path | None = None, **options) -> StraightApp:
        options.setdefault("watch", False)
        return make_app(story, saves_dir or saves, seed=SEED, **options)

    return _build


@pytest.fixture
def story_copy(tmp_path: Path):
    """copy(src) -> a private copy of a story folder that a test may edit."""

    def _copy(src: Path = UI_STORY) -> Path:
        dest = tmp_path / f"story-{src.name}"
        shutil.copytree(src, dest)
        return dest

    return _copy
