"""Save files: versioned JSON, written atomically, read without ever being changed."""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import SaveError
from .files import FileMissing, FileRefused, read_bounded
from .game import Game
from .story import Story
from .textsafe import UNSAFE, one_line, terminal_safe

SAVE_FORMAT = "straight-and-narrow-save"
SAVE_VERSION = 1
MAX_SAVE_BYTES = 16 * 1024 * 1024
AUTOSAVE = "autosave"
QUICKSAVE = "quicksave"
_SLOT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,39}\Z")
# No number a game saves is longer than this; a longer one is damage (or a trap: Python takes
# seconds to convert, or refuses, a number of thousands of digits).
MAX_NUMBER_DIGITS = 30
MAX_NESTING = 64
_SURROGATE = re.compile("[\ud800-\udfff]")
_TOO_LONG = 10**MAX_NUMBER_DIGITS
# Searched for one at a time: each is a single character class, which the regex engine scans fast.
_RAW_C1 = re.compile("[\x7f-\x9f]")
# (Nine single classes first let the engine skip ahead faster than one class repeated.)
_LONG_NUMBER = re.compile("[0-9]" * 9 + f"[0-9]{{{MAX_NUMBER_DIGITS + 1 - 9}}}")


def slot_path(saves_dir: Path, name: str) -> Path:
    """The file for a slot name; names are letters, digits, '-' and '_' only (no paths)."""
    if not isinstance(name, str) or not _SLOT.match(name):
        raise SaveError(
            f"'{one_line(str(name))}' can't be a save name: use up to 40 letters, digits, '-' or '_'"
        )
    return Path(saves_dir) / f"{name}.json"


def preview(game: Game) -> dict[str, Any]:
    """A short description of a game for the load screen."""
    story = game.story
    lines = []
    for char in story.characters:
        shown = [v for v in story.variables if v.character == char.id and v.display != "hidden"]
        parts = [f"{v.label} {game.v[v.slot]}" for v in shown[:4]]
        lines.append(f"{char.name}: {', '.join(parts)}" if parts else char.name)
    node = game.current_node
    where = ""
    turns = story.turns
    if turns is not None and turns.counter is not None:
        var = story.variables[turns.counter]
        where = f"{var.label} {game.v[var.slot]}"
    return {
        "turn": game.turn,
        "where": where,
        "title": node.title or "",
        "ending": game.ending.title if game.ending else None,
        "cases": lines,
    }


def save_data(game: Game, label: str = "") -> dict[str, Any]:
    """Everything a save file holds."""
    return {
        "format": SAVE_FORMAT,
        "version": SAVE_VERSION,
        "story": {"id": game.story.id, "title": game.story.title, "hash": game.story.content_hash},
        "saved_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        "label": label,
        "seed": game.seed,
        "choices": list(game.log),
        "preview": preview(game),
        "state": game.to_dict(),
    }


def atomic_write(path: Path, data: bytes) -> None:
    """Write a file so that a crash or full disk leaves either the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def write_save(saves_dir: Path, name: str, game: Game, label: str = "") -> Path:
    """Save a game to a slot; SaveError (with the reason) if it can't be written."""
    path = slot_path(saves_dir, name)
    data = _encode(save_data(game, label))
    try:
        atomic_write(path, data)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise SaveError(f"couldn't save to {one_line(str(path))}: {reason}") from None
    return path


def _encode(data: dict[str, Any]) -> bytes:
    try:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")
    except (ValueError, TypeError, UnicodeError, RecursionError) as exc:
        raise SaveError(f"the game can't be written as a save ({type(exc).__name__})") from None


def _parse_float(text: str) -> float:
    if len(text) > MAX_NUMBER_DIGITS * 2:
        raise SaveError("the save holds a number too long to be one of ours")
    value = float(text)
    if not math.isfinite(value):
        raise SaveError(f"the save holds a number too large to use ({one_line(text[:20])})")
    return value


def _parse_constant(text: str) -> Any:
    raise SaveError(f"the save holds '{text}', which is not a number a game can use")


def _clean(value: Any, depth: int = 0) -> Any:
    """Save data with every string shown safely; SaveError for text that isn't valid Unicode
    and numbers longer than any game writes."""
    if depth > MAX_NESTING:
        raise SaveError("the save file is damaged (nested too deeply)")
    if isinstance(value, str):
        if UNSAFE.search(value) is None:
            return value
        if _SURROGATE.search(value):
            raise SaveError(
                "the save holds text that isn't valid Unicode (a lone surrogate); it can't be used"
            )
        # Control characters can't come from a story (they are refused at load): shown, never sent.
        return terminal_safe(value)
    if isinstance(value, int):
        if not -_TOO_LONG < value < _TOO_LONG:
            raise SaveError(
                f"the save holds a number {len(str(abs(value))):,} digits long, too long to be one of ours"
            )
        return value
    if isinstance(value, list):
        return [_clean(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {_clean(k, depth + 1): _clean(v, depth + 1) for k, v in value.items()}
    return value


def parse_json(raw: bytes) -> Any:
    """JSON we wrote (a save, the profile), read back: SaveError for anything that can't
    round-trip (numbers too long or not finite, lone surrogates, deep nesting); control
    characters in its text are shown escaped."""
    try:
        text = raw.decode("utf-8")
        data = json.loads(text, parse_float=_parse_float, parse_constant=_parse_constant)
    except UnicodeDecodeError:
        raise SaveError("the save file is not text (damaged or not a save)") from None
    except json.JSONDecodeError as exc:
        raise SaveError(f"the save file is damaged or cut short ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise SaveError("the save file is damaged (nested too deeply)") from None
    except ValueError as exc:
        if "digits" in str(exc):  # Python's own limit on converting long numbers
            raise SaveError(
                "the save holds a number thousands of digits long, too long to be one of ours"
            ) from None
        raise SaveError(f"the save file is damaged ({one_line(str(exc))[:200]})") from None
    # Only an escape (`\\u...`), a raw DEL or C1 character, or a long run of digits can make a
    # value that needs cleaning: a save as the game writes it has none, and isn't walked.
    if "\\u" in text or _RAW_C1.search(text) or _LONG_NUMBER.search(text):
        return _clean(data)
    return data


def read_save_file(path: Path) -> dict[str, Any]:
    """Read and check a save file's outer shape (never changes the file). Only an ordinary file
    is read, and only after its size is checked: a FIFO or a device is refused unopened."""
    try:
        raw = read_bounded(path, MAX_SAVE_BYTES)
    except FileMissing:
        raise SaveError(f"there is no save called '{one_line(path.stem)}'") from None
    except FileRefused as exc:
        raise SaveError(f"the save can't be read: {exc}") from None
    if not raw.strip():
        raise SaveError("the save file is empty")
    data = parse_json(raw)
    if not isinstance(data, dict) or data.get("format") != SAVE_FORMAT:
        raise SaveError("this file is not a Straight and Narrow save")
    version = data.get("version")
    if version != SAVE_VERSION:
        raise SaveError(
            f"the save has format version {one_line(repr(version))[:40]}; this game reads version {SAVE_VERSION}"
        )
    story = data.get("story")
    if not isinstance(story, dict) or not isinstance(story.get("id"), str):
        raise SaveError("the save doesn't say which story it belongs to")
    if not isinstance(data.get("state"), dict):
        raise SaveError("the save has no game state")
    return data


def restore(data: dict[str, Any], story: Story) -> Game:
    """A game from save data, for this story; SaveError says precisely why not."""
    saved = data["story"]
    if saved["id"] != story.id:
        raise SaveError(f"this save belongs to another story ('{saved.get('title') or saved['id']}')")
    try:
        game = Game.from_dict(story, data["state"])
    except SaveError as exc:
        if saved.get("hash") != story.content_hash:
            raise SaveError(f"the story has changed since this save: {exc}") from None
        raise
    except (ArithmeticError, RecursionError) as exc:
        raise SaveError(f"the saved game is damaged ({type(exc).__name__})") from None
    # What is loaded must save again: the next autosave can't be the first to find out.
    _encode(save_data(game))
    return game


def load_save(saves_dir: Path, name: str, story: Story) -> Game:
    """Load a slot for this story."""
    return restore(read_save_file(slot_path(saves_dir, name)), story)


@dataclass
class SaveSlot:
    """A save file as the load screen lists it: usable, or with the reason it isn't."""

    name: str
    path: Path
    ok: bool
    reason: str = ""
    saved_at: str = ""
    preview: dict[str, Any] = field(default_factory=dict)
    mtime: float = 0.0


def list_saves(saves_dir: Path, story: Story) -> list[SaveSlot]:
    """Every save in the folder, newest first; broken ones say why and are left alone."""
    slots = []
    try:
        paths = sorted(Path(saves_dir).glob("*.json"))
    except OSError:
        return []
    for path in paths:
        if path.name.startswith("."):
            continue
        try:
            mtime = path.stat().st_mtime
        except OSError:
            continue
        slot = SaveSlot(one_line(path.stem), path, False, mtime=mtime)
        if not _SLOT.match(path.stem):
            slot.reason = "the file's name can't be a save name (letters, digits, '-' and '_' only)"
            slots.append(slot)
            continue
        try:
            data = read_save_file(path)
            slot.saved_at = str(data.get("saved_at", ""))
            prev = data.get("preview")
            slot.preview = prev if isinstance(prev, dict) else {}
            restore(data, story)
            slot.ok = True
        except SaveError as exc:
            slot.reason = str(exc)
        slots.append(slot)
    slots.sort(key=lambda s: -s.mtime)
    return slots


def delete_save(saves_dir: Path, name: str) -> None:
    """Delete a slot's file; SaveError says why it couldn't be."""
    path = slot_path(saves_dir, name)
    try:
        path.unlink()
    except FileNotFoundError:
        raise SaveError(f"there is no save called '{name}'") from None
    except OSError as exc:
        raise SaveError(f"couldn't delete {path}: {exc.strerror or exc}") from None


def rename_save(saves_dir: Path, old: str, new: str) -> Path:
    """Give a slot another name, never replacing a save that has it already; SaveError says
    why it couldn't be renamed (the file is then left as it was)."""
    source, target = slot_path(saves_dir, old), slot_path(saves_dir, new)
    if not source.is_file():
        raise SaveError(f"there is no save called '{old}'")
    if target.exists():
        raise SaveError(f"there is already a save called '{new}'")
    try:
        # A hard link fails if the name was taken meanwhile, where a rename would replace it.
        os.link(source, target)
    except FileExistsError:
        raise SaveError(f"there is already a save called '{new}'") from None
    except OSError:
        try:
            os.rename(source, target)  # a file system without hard links
        except OSError as exc:
            raise SaveError(f"couldn't rename {source}: {exc.strerror or exc}") from None
        return target
    try:
        source.unlink()
    except OSError as exc:
        target.unlink(missing_ok=True)
        raise SaveError(f"couldn't rename {source}: {exc.strerror or exc}") from None
    return target
