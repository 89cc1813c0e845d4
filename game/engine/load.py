"""Loading a story folder, with a compiled-story cache keyed by the files' content."""

from __future__ import annotations

import gc
import hashlib
import marshal
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import Problem, StoryError
from .files import FileRefused, read_bounded
from .loader import MAX_FILES, build_ir, scan_story_folder
from .story import Story, build_story, pack_ir
from .yamlsrc import MAX_FILE_BYTES

# Bump when the IR changes shape or the loader checks more, so old cache files are not found.
CACHE_FORMAT = b"iom-ir-6"
_MAGIC = b"IOMC"
MAX_CACHE_BYTES = 1 << 30


def default_cache_dir() -> Path:
    """Where compiled stories are cached ($IOM_CACHE_DIR, else the user's cache folder)."""
    env = os.environ.get("IOM_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "straight-and-narrow"


def read_files(root: Path, overlay: Mapping[str, bytes] | None = None) -> list[tuple[str, bytes]]:
    """The story's files as (relative path, bytes), story.yaml first; StoryError lists every
    file refused (not an ordinary file, too large, a link out of the folder, unreadable).

    `overlay` maps relative paths to text to use instead of what is on disk (an editor's unsaved
    buffers); a YAML file it names that isn't on disk yet is read as if it were.
    """
    if root.is_file():
        root = root.parent
    if not root.is_dir():
        raise StoryError([Problem(str(root), 1, 1, "no such story folder")])
    if not os.path.lexists(root / "story.yaml"):
        # Checked before walking the folder, so `iom check /` answers at once.
        raise StoryError([Problem("story.yaml", 1, 1, "the story folder has no story.yaml")])
    paths, problems = scan_story_folder(root)
    if len(paths) > MAX_FILES:
        problems.append(Problem(str(root), 1, 1, f"a story can have at most {MAX_FILES} files"))
    if problems:
        raise StoryError(problems)
    out = []
    for p in paths:
        rel = p.relative_to(root).as_posix()
        try:
            out.append((rel, read_bounded(p, MAX_FILE_BYTES)))
        except FileRefused as exc:
            if overlay and rel in overlay:
                continue
            problems.append(Problem(rel, 1, 1, str(exc)))
    if problems:
        raise StoryError(problems)
    if overlay:
        out = [(rel, overlay.get(rel, data)) for rel, data in out]
        known = {rel for rel, _ in out}
        out.extend(
            (rel, data)
            for rel, data in overlay.items()
            if rel not in known and rel.endswith((".yaml", ".yml")) and not rel.startswith(("/", "../"))
        )
        out.sort(key=lambda f: (f[0] != "story.yaml", f[0]))
    return out


def content_hash(files: list[tuple[str, bytes]]) -> str:
    h = hashlib.sha256(CACHE_FORMAT)
    for rel, data in files:
        h.update(rel.encode("utf-8") + b"\0" + str(len(data)).encode() + b"\0")
        h.update(data)
    return h.hexdigest()


def _cache_read(path: Path) -> Any:
    try:
        blob = read_bounded(path, MAX_CACHE_BYTES)  # an ordinary file only: never a FIFO's wait
    except FileRefused:
        return None
    if len(blob) < 36 or blob[:4] != _MAGIC:
        return None
    digest, payload = blob[4:36], blob[36:]
    if hashlib.sha256(payload).digest() != digest:
        return None
    try:
        return marshal.loads(payload)
    except (ValueError, EOFError, TypeError):
        return None


def _cache_write(path: Path, value: Any) -> None:
    try:
        payload = marshal.dumps(value)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".iomc")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(_MAGIC + hashlib.sha256(payload).digest() + payload)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    except (OSError, ValueError):
        pass  # a cache that can't be written only costs speed


def check(
    root: Path | str, *, cache_dir: Path | None | bool = None, overlay: Mapping[str, bytes] | None = None
) -> tuple[Story | None, list[Problem]]:
    """Load and check a story: (story or None, every error and warning); `overlay` as in read_files."""
    # Loading makes millions of small objects that all live on; the cyclic garbage collector
    # would rescan them again and again for nothing, so it rests while a story loads.
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _check(Path(root), cache_dir, overlay)
    finally:
        if enabled:
            gc.enable()


def _check(
    root: Path, cache_dir: Path | None | bool, overlay: Mapping[str, bytes] | None = None
) -> tuple[Story | None, list[Problem]]:
    try:
        files = read_files(root, overlay)
    except StoryError as exc:
        return None, exc.problems
    digest = content_hash(files)
    cache_path = None
    if cache_dir is not False:
        base = default_cache_dir() if cache_dir in (None, True) else Path(cache_dir)  # type: ignore[arg-type]
        cache_path = base / f"{digest}.iomc"
        cached = _cache_read(cache_path)
        if cached is not None:
            try:
                ir, warnings = cached
                problems = [Problem(*w) for w in warnings]
                return build_story(ir, digest, tuple(problems)), problems
            except Exception:  # noqa: BLE001 - a damaged cache is never trusted
                pass
    ir, problems = build_ir(root, files)
    if ir is None:
        if not any(p.severity == "error" for p in problems):
            problems.append(Problem("story.yaml", 1, 1, "story could not be loaded"))
        return None, problems
    warnings = [(p.file, p.line, p.column, p.message, p.severity) for p in problems]
    ir = pack_ir(ir)
    story = build_story(ir, digest, tuple(problems))
    if cache_path is not None:
        _cache_write(cache_path, (ir, warnings))
    return story, problems


def load_story(root: Path | str, *, cache_dir: Path | None | bool = None) -> Story:
    """Load a story folder, or raise StoryError listing every problem."""
    story, problems = check(root, cache_dir=cache_dir)
    if story is None:
        raise StoryError(problems)
    return story
