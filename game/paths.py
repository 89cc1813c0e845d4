"""Where the shipped story, the saves and the profile live."""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def shipped_story_dir() -> Path:
    """The story that comes with the game: inside the installed package, or the checkout's."""
    env = os.environ.get("IOM_STORY")
    if env:
        return Path(env)
    installed = _PACKAGE / "_story"
    if (installed / "story.yaml").is_file():
        return installed
    return _PACKAGE.parent / "story"


def default_saves_dir() -> Path:
    """$IOM_SAVES, else the checkout's saves/ folder, else the user's data folder."""
    env = os.environ.get("IOM_SAVES")
    if env:
        return Path(env)
    checkout = _PACKAGE.parent / "saves"
    if (checkout / ".keep").is_file():
        return checkout
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "straight-and-narrow" / "saves"
