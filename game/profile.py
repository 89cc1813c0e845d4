"""The player's profile, kept beside the saves: endings seen, past runs, the chosen theme.

A hidden file (`.profile.json`) so the load screen never mistakes it for a save and no save
slot name can overwrite it. Written atomically; a damaged profile is reported and never
overwritten, so nothing the player has earned is lost to a bug.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

from .engine import Game, SaveError, Story, Variable
from .engine.files import FileMissing, FileRefused, read_bounded
from .engine.saves import atomic_write, parse_json

PROFILE_NAME = ".profile.json"
PROFILE_FORMAT = "straight-and-narrow-profile"
PROFILE_VERSION = 1
MAX_RUNS = 200
MAX_PROFILE_BYTES = 4 * 1024 * 1024
# Choices remembered across playthroughs, per story: enough for a long story many times over.
MAX_CHOSEN = 50_000

# The player's settings and their defaults. `text_width` 0 means as wide as the window.
SETTINGS: dict[str, bool | int] = {
    "confirm_end_turn": True,
    "reduce_motion": False,
    "text_width": 92,
}
TEXT_WIDTHS = (60, 72, 92, 0)


class ProfileError(Exception):
    """The profile can't be read or written; the message says why."""


def run_key(game: Game) -> str:
    """Identifies one path through one story, so a run is recorded once however often it ends."""
    h = hashlib.sha256(f"{game.story.id}:{game.seed}:".encode())
    h.update(",".join(map(str, game.log)).encode())
    return h.hexdigest()[:16]


class Profile:
    """Endings seen and runs finished, per story id; plus app settings such as the theme."""

    def __init__(self, path: Path, data: dict[str, Any] | None = None, problem: str = "") -> None:
        self.path = path
        self.data: dict[str, Any] = data if data is not None else _empty()
        # A profile we couldn't read is left alone: changes are kept for this session only.
        self.problem = problem
        self.read_only = bool(problem)
        self._chosen: dict[str, set[str]] = {}

    @classmethod
    def load(cls, saves_dir: Path) -> Profile:
        path = Path(saves_dir) / PROFILE_NAME
        try:
            # An ordinary file only, its size checked first: a FIFO here would hang the game.
            raw = read_bounded(path, MAX_PROFILE_BYTES)
        except FileMissing:
            return cls(path)
        except FileRefused as exc:
            return cls(path, problem=f"can't read the profile: {exc}")
        try:
            data = parse_json(raw)
        except SaveError:
            return cls(path, problem=f"the profile {path} is damaged; it is left as it is")
        if not isinstance(data, dict) or data.get("format") != PROFILE_FORMAT:
            return cls(path, problem=f"{path} is not a Straight and Narrow profile; it is left as it is")
        if data.get("version") != PROFILE_VERSION:
            return cls(path, problem=f"the profile has version {data.get('version')!r}; it is left as it is")
        if not isinstance(data.get("stories"), dict):
            data["stories"] = {}
        return cls(path, data)

    # -- settings ----------------------------------------------------------------------
    @property
    def theme(self) -> str | None:
        theme = self.data.get("theme")
        return theme if isinstance(theme, str) else None

    @theme.setter
    def theme(self, name: str) -> None:
        self.data["theme"] = name

    def setting(self, name: str) -> bool | int:
        """A setting's value, or its default when unset or unreadable."""
        default: bool | int = SETTINGS[name]
        settings = self.data.get("settings")
        value = settings.get(name) if isinstance(settings, dict) else None
        usable = type(value) is type(default) and (name != "text_width" or value in TEXT_WIDTHS)
        if usable and isinstance(value, bool | int):
            return value
        return default

    def set_setting(self, name: str, value: bool | int) -> None:
        if name not in SETTINGS:
            raise KeyError(name)
        settings = self.data.get("settings")
        if not isinstance(settings, dict):
            settings = self.data["settings"] = {}
        settings[name] = value

    # -- endings and runs --------------------------------------------------------------
    def _story(self, story_id: str) -> dict[str, Any]:
        stories = self.data.setdefault("stories", {})
        entry = stories.get(story_id)
        if not isinstance(entry, dict):
            entry = stories[story_id] = {}
        if not isinstance(entry.get("endings"), dict):
            entry["endings"] = {}
        if not isinstance(entry.get("runs"), list):
            entry["runs"] = []
        result: dict[str, Any] = entry
        return result

    def endings_seen(self, story_id: str) -> dict[str, dict[str, Any]]:
        """Ending id -> {title, category, character, count, first_seen}."""
        seen = self._story(story_id)["endings"]
        return {k: v for k, v in seen.items() if isinstance(v, dict)}

    def chosen(self, story_id: str) -> set[str]:
        """Choices taken in any playthrough of a story (see `choices.choice_key`)."""
        found = self._chosen.get(story_id)
        if found is None:
            kept = self._story(story_id).get("chosen")
            found = {k for k in kept if isinstance(k, str)} if isinstance(kept, list) else set()
            self._chosen[story_id] = found
        return found

    def note_chosen(self, story_id: str, key: str) -> bool:
        """Remember that a choice was taken; True if it is new."""
        chosen = self.chosen(story_id)
        if key in chosen or len(chosen) >= MAX_CHOSEN:
            return False
        chosen.add(key)
        return True

    def runs(self, story_id: str) -> list[dict[str, Any]]:
        """Finished runs of a story, oldest first."""
        return [r for r in self._story(story_id)["runs"] if isinstance(r, dict)]

    def note_endings(self, game: Game) -> bool:
        """Mark every ending this game has reached as seen; True if any is new."""
        story = game.story
        seen = self._story(story.id)["endings"]
        by_id = {e.id: e for e in story.endings}
        new = False
        for _turn, eid in game.outcomes:
            end = by_id.get(eid)
            if end is None or eid in seen:
                continue
            seen[eid] = {
                "title": end.title,
                "category": end.category,
                "character": end.character,
                "count": 0,
                "first_seen": time.strftime("%Y-%m-%d %H:%M"),
            }
            new = True
        return new

    def record_run(self, game: Game) -> bool:
        """Record a finished game once (by its path); True if it was new."""
        if game.ending is None:
            return False
        story = game.story
        entry = self._story(story.id)
        key = run_key(game)
        if any(r.get("key") == key for r in entry["runs"] if isinstance(r, dict)):
            return False
        self.note_endings(game)
        reached = {eid for _t, eid in game.outcomes}
        for eid in reached:
            item = entry["endings"].get(eid)
            if isinstance(item, dict):
                item["count"] = int(item.get("count", 0) or 0) + 1
        entry["runs"].append(
            {
                "key": key,
                "finished_at": time.strftime("%Y-%m-%d %H:%M"),
                "ending": game.ending.id,
                "title": game.ending.title,
                "category": game.ending.category,
                "characters": {cid: e.id for cid, e in game.character_endings().items()},
                "approach": {v.name: game.v[v.slot] for v in approach_variables(story)},
                "turns": game.turn,
            }
        )
        del entry["runs"][:-MAX_RUNS]
        return True

    def save(self) -> None:
        """Write the profile atomically; ProfileError says why it couldn't be."""
        if self.read_only:
            raise ProfileError(self.problem)
        for story_id, chosen in self._chosen.items():
            self._story(story_id)["chosen"] = sorted(chosen)
        data = dict(self.data, format=PROFILE_FORMAT, version=PROFILE_VERSION)
        try:
            atomic_write(self.path, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))
        except OSError as exc:
            raise ProfileError(f"couldn't save the profile to {self.path}: {exc.strerror or exc}") from None


def _empty() -> dict[str, Any]:
    return {"format": PROFILE_FORMAT, "version": PROFILE_VERSION, "stories": {}}


def approach_variables(story: Story) -> list[Variable]:
    """Counters of the player's way of working: story-level whole numbers named `*_actions`."""
    return [
        v for v in story.variables if v.character is None and v.type == "int" and v.name.endswith("_actions")
    ]
