from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STORIES = Path(__file__).resolve().parent / "stories"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The few tests that take tens of seconds run first, so that parallel workers
    (pytest-xdist) share out the many short ones after them and finish together."""
    items.sort(key=lambda item: item.get_closest_marker("heavy") is None)


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path, monkeypatch):
    """Never touch the real saves or the user's cache from tests."""
    monkeypatch.setenv("IOM_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("IOM_SAVES", str(tmp_path / "saves"))


def write_story(root: Path, files: dict[str, str]) -> Path:
    """Write a story folder from {relative path: text}."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root
