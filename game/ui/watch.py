"""Noticing when a story's files change, for authors who edit while they play."""

from __future__ import annotations

from pathlib import Path

from ..engine.loader import scan_story_folder

Stamp = tuple[tuple[str, int, int], ...]


def fingerprint(root: Path) -> Stamp:
    """Each story file's path, modification time and size: cheap to take every second."""
    out = []
    try:
        paths, refused = scan_story_folder(Path(root))
    except OSError:
        return ()
    # A file that is refused (a FIFO, a link out of the folder) is only named, never opened:
    # its arrival still counts as a change, so the author sees why it is refused.
    out.extend((p.file, -1, -1) for p in refused)
    for path in paths:
        try:
            st = path.stat()
        except OSError:
            continue
        out.append((path.relative_to(root).as_posix(), st.st_mtime_ns, st.st_size))
    return tuple(out)
