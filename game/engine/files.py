"""Reading files that people share: ordinary files only, their size checked before reading.

A FIFO, a device or a socket named like a story or a save could hang the game or feed it
without end, so it is refused from its `stat`, without ever being opened for reading; a file
too large is refused from its size, and what is read is bounded even if the file grows.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["FileRefused", "FileMissing", "kind_of", "check_regular", "read_bounded"]


class FileRefused(Exception):
    """A file that is not read: not an ordinary file, too large, or unreadable (says why)."""


class FileMissing(FileRefused):
    """There is no such file."""


def kind_of(mode: int) -> str:
    """What a non-regular file is, in words."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "something other than a file"


def check_regular(path: Path | str, limit: int) -> os.stat_result:
    """The file's `stat` if it is an ordinary file of at most `limit` bytes; else FileRefused."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise FileMissing("no such file") from None
    except OSError as exc:
        raise FileRefused(f"can't read the file: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise FileRefused(f"{kind_of(st.st_mode)}, not an ordinary file; it is not read")
    if st.st_size > limit:
        raise FileRefused(f"file is too large ({st.st_size:,} bytes; the limit is {limit:,})")
    return st


def read_bounded(path: Path | str, limit: int) -> bytes:
    """The bytes of an ordinary file of at most `limit` bytes; FileRefused says why not."""
    check_regular(path, limit)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise FileRefused(f"can't read the file: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # swapped for something else since the check
            raise FileRefused(f"{kind_of(st.st_mode)}, not an ordinary file; it is not read")
        chunks = []
        left = limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise FileRefused(f"can't read the file: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        raise FileRefused(f"file is too large (more than {limit:,} bytes)")
    return data
