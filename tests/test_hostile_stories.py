"""A corpus of malformed stories: each gets its expected FILE:LINE:COL error, fast, and nothing else."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from game.engine import check, yamlsrc

from .conftest import ROOT, STORIES

CORPUS = sorted(p for p in (STORIES / "hostile").iterdir() if p.is_dir())


def test_corpus_is_large_enough():
    assert len(CORPUS) >= 40


@pytest.mark.parametrize("case", CORPUS, ids=[p.name for p in CORPUS])
def test_hostile_story_gives_its_error(case: Path):
    expected = (case / "expected.txt").read_text(encoding="utf-8").strip()
    t = time.perf_counter()
    story, problems = check(case, cache_dir=False)
    elapsed = time.perf_counter() - t
    assert story is None
    errors = [str(p) for p in problems if p.severity == "error"]
    assert expected in errors, errors
    assert elapsed < 5, f"took {elapsed:.1f}s"


def test_very_large_file_is_refused_quickly(tmp_path):
    (tmp_path / "story.yaml").write_text("id: h\ntitle: H\nstart: main.start\n")
    with open(tmp_path / "main.yaml", "wb") as f:
        f.write(b"nodes:\n  start:\n    text: |\n")
        line = b"      " + b"word " * 20 + b"\n"
        f.write(line * (yamlsrc.MAX_FILE_BYTES // len(line) + 10))
    t = time.perf_counter()
    _story, problems = check(tmp_path, cache_dir=False)
    assert "main.yaml:1:1: error: file is too large" in str(problems[0])
    assert time.perf_counter() - t < 5


def test_cli_never_prints_a_traceback():
    for case in CORPUS[:: max(1, len(CORPUS) // 8)]:
        out = subprocess.run(
            [sys.executable, "-m", "game", "check", str(case)], capture_output=True, cwd=ROOT, timeout=60
        )
        assert out.returncode == 1
        assert b"Traceback" not in out.stdout + out.stderr
        assert (case / "expected.txt").read_bytes().strip() in out.stdout
