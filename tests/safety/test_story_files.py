"""Story files that are not regular files, too large, or reached through a link out of the
folder: refused from their stat, without being opened, quickly; huge trees stop at the limit."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from game.engine import check, loader, yamlsrc
from game.engine.textsafe import UNSAFE
from game.ui.watch import fingerprint

from ..conftest import ROOT, STORIES, write_story

GOOD = {
    "story.yaml": "id: s\ntitle: S\nstart: m.start\n",
    "m.yaml": "nodes:\n  start:\n    text: Hello.\n    ending: {id: e, title: E}\n",
}


def _errors(root: Path) -> list[str]:
    story, problems = check(root, cache_dir=False)
    assert story is None
    return [str(p) for p in problems if p.severity == "error"]


@pytest.fixture
def story(tmp_path):
    return write_story(tmp_path / "story", GOOD)


def test_a_fifo_story_file_is_refused_without_being_opened(story):
    os.mkfifo(story / "pipe.yaml")
    assert (
        "pipe.yaml:1:1: error: refused: a FIFO (named pipe), not an ordinary file; it is not read"
        in _errors(story)
    )


def test_a_fifo_story_yaml_is_refused(tmp_path):
    root = tmp_path / "s"
    root.mkdir()
    os.mkfifo(root / "story.yaml")
    assert any(e.startswith("story.yaml:1:1: error: refused: a FIFO") for e in _errors(root))


def test_a_socket_story_file_is_refused(story):
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(story / "sock.yaml"))
    except OSError:
        pytest.skip("no unix sockets here")
    try:
        assert any(e.startswith("sock.yaml:1:1: error: refused: a socket") for e in _errors(story))
    finally:
        sock.close()


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_a_link_to_a_device_is_refused(story, device):
    if not os.path.exists(device):
        pytest.skip(f"no {device}")
    (story / "dev.yaml").symlink_to(device)
    assert any(
        e.startswith("dev.yaml:1:1: error: refused: a link to somewhere outside") for e in _errors(story)
    )


def test_a_device_given_as_the_story_folder_is_refused(tmp_path):
    for path in ("/dev/zero", "/dev/urandom"):
        if os.path.exists(path):
            _story, problems = check(Path(path), cache_dir=False)
            assert problems and problems[0].severity == "error"


def test_a_device_node_inside_the_folder_is_refused_by_its_kind(story):
    try:
        os.mknod(story / "zero.yaml", stat.S_IFCHR | 0o600, os.makedev(1, 5))  # what /dev/zero is
    except (PermissionError, AttributeError, OSError):
        pytest.skip("can't make a device node here")
    assert "zero.yaml:1:1: error: refused: a device, not an ordinary file; it is not read" in _errors(story)


def test_reading_a_device_is_refused_before_it_is_read():
    from game.engine.files import FileRefused, read_bounded

    if not os.path.exists("/dev/zero"):
        pytest.skip("no /dev/zero")
    with pytest.raises(FileRefused, match="a device"):
        read_bounded("/dev/zero", 100)


def test_a_sparse_3gb_story_file_is_refused_from_its_size(story):
    with open(story / "big.yaml", "wb") as f:
        f.truncate(3 * 1024**3)
    t = time.perf_counter()
    errors = _errors(story)
    assert (
        f"big.yaml:1:1: error: file is too large (3,221,225,472 bytes; the limit is "
        f"{yamlsrc.MAX_FILE_BYTES:,})"
    ) in errors
    assert time.perf_counter() - t < 30  # generous: the point is it never reads 3 GB


def test_a_link_out_of_the_folder_is_refused(story, tmp_path):
    outside = write_story(tmp_path / "elsewhere", {"x.yaml": "nodes: {}\n"})
    (story / "x.yaml").symlink_to(outside / "x.yaml")
    (story / "folder").symlink_to(outside)
    errors = _errors(story)
    assert any(
        e.startswith("x.yaml:1:1: error: refused: a link to somewhere outside the story folder")
        for e in errors
    )
    assert any(e.startswith("folder:1:1: error: refused: a link to somewhere outside") for e in errors)


def test_a_link_inside_the_folder_is_fine(story):
    (story / "sub").mkdir()
    (story / "sub" / "more.yaml").write_text("nodes:\n  x:\n    text: x\n    goto: m.start\n")
    (story / "again").symlink_to(story / "sub")
    found, problems = loader.scan_story_folder(story)
    assert not problems
    assert sorted(p.relative_to(story).as_posix() for p in found) == ["m.yaml", "story.yaml", "sub/more.yaml"]


def test_a_broken_link_is_refused(story):
    (story / "gone.yaml").symlink_to(story / "nowhere.yaml")
    assert any(
        e.startswith("gone.yaml:1:1: error: refused: a link to a file that doesn't exist")
        for e in _errors(story)
    )


def test_a_huge_tree_stops_at_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(loader, "MAX_ENTRIES", 300)
    root = write_story(tmp_path / "big", GOOD)
    for i in range(400):
        (root / f"f{i}.txt").touch()
    errors = _errors(root)
    assert any("too many files" in e for e in errors)


def test_too_many_story_files_stop_the_walk(tmp_path, monkeypatch):
    monkeypatch.setattr(loader, "MAX_FILES", 5)
    root = write_story(tmp_path / "many", GOOD)
    for i in range(10):
        (root / f"n{i}.yaml").write_text("nodes: {}\n")
    found, problems = loader.scan_story_folder(root)
    assert len(found) <= 6 and "too many files" in problems[0].message


def test_check_of_the_root_folder_answers_at_once():
    out = subprocess.run(
        [sys.executable, "-m", "game", "check", "/"], capture_output=True, cwd=ROOT, timeout=60
    )
    assert out.returncode == 1
    assert b"no story.yaml" in out.stdout and b"Traceback" not in out.stderr


def test_the_watcher_notices_a_fifo_without_opening_it(story):
    before = fingerprint(story)
    os.mkfifo(story / "pipe.yaml")
    after = fingerprint(story)  # would block forever if the FIFO were opened
    assert before != after
    assert any(entry[0] == "pipe.yaml" for entry in after)


def test_play_refuses_a_story_with_a_fifo_cleanly(story):
    os.mkfifo(story / "pipe.yaml")
    out = subprocess.run(
        [sys.executable, "-m", "game", "play", "--plain", "--story", str(story)],
        capture_output=True,
        cwd=ROOT,
        timeout=60,
        input=b"",
    )
    assert out.returncode == 1
    assert b"FIFO" in out.stderr and b"Traceback" not in out.stderr
    assert not UNSAFE.search(out.stderr.decode())


def test_a_story_folder_that_is_a_fifo_is_refused(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    _story, problems = check(tmp_path / "pipe", cache_dir=False)
    assert problems[0].severity == "error"


def test_the_shipped_test_stories_still_load():
    for root in (STORIES / "basic", STORIES / "first_week"):
        story, problems = check(root, cache_dir=False)
        assert story is not None, problems
