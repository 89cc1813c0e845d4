"""Noticing when a story's files change, for authors who edit while they play."""

from __future__ import annotations

from pathlib import Path

from ..engine.loader import story_files

Stamp = tuple[tuple[str, int, int], ...]


def fingerprint(root: Path) -> Stamp:
    """Each story file's path, modification time and size: cheap to take every second."""
    out = []
    try:
        paths = story_files(Path(root))
    except OSError:
        return ()
    for path in paths:
        try:
            st = path.stat()
        except OSError:
            continue
        out.append((path.relative_to(root).as_posix(), st.st_mtime_ns, st.st_size))
    return tuple(out)
