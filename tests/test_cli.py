"""The iom command, end to end, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys

from game.cli import main

from .conftest import ROOT, STORIES

SAMPLE = STORIES / "first_week"


def iom(*args, stdin=b"", env_extra=None, tmp_path=None):
    import os

    env = dict(os.environ)
    if env_extra:
        env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-m", "game", *args],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )


def test_version_and_help():
    out = iom("--version")
    assert out.returncode == 0 and out.stdout.decode().startswith("iom ")
    out = iom("--help")
    assert out.returncode == 0 and b"check" in out.stdout


def test_help_and_check_do_not_import_textual():
    code = (
        "import sys\n"
        "from game.cli import main\n"
        "for argv in (['check', 'tests/stories/first_week'], ['--help']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "assert 'textual' not in sys.modules, 'textual was imported'\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr.decode()


def test_engine_import_leaves_textual_out():
    code = "import sys, game.engine, game.engine.saves; assert 'textual' not in sys.modules; assert 'game.ui' not in sys.modules"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=ROOT, timeout=60)
    assert out.returncode == 0, out.stderr.decode()


def test_shipped_story_checks_clean(capsys):
    assert main(["check", str(ROOT / "story")]) == 0
    assert "no problems found" in capsys.readouterr().out


def test_check_reports_errors(tmp_path, capsys):
    (tmp_path / "story.yaml").write_text("id: x\ntitle: X\nstart: a.b\n")
    assert main(["check", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "story.yaml:3:8: error: unknown node 'a.b'" in out


def test_plain_play_reaches_an_ending(tmp_path):
    # Ending a week with hours left asks first, so a player who means it says yes.
    stdin = "".join(f"{(i * 7) % 3 + 1}\nyes\n" for i in range(1500)).encode()
    out = iom("play", "--plain", "--story", str(SAMPLE), "--seed", "1", "--saves", str(tmp_path), stdin=stdin)
    text = out.stdout.decode()
    assert out.returncode == 0, out.stderr.decode()
    assert any(line.startswith("Ending: ") for line in text.splitlines())
    assert "1. " in text
    assert (tmp_path / "autosave.json").exists()
    assert "Traceback" not in out.stderr.decode()


def test_plain_play_is_deterministic(tmp_path):
    args = ("play", "--plain", "--story", str(SAMPLE), "--seed", "7", "--saves")
    choices = b"".join(f"{(i * 7) % 3 + 1}\n".encode() for i in range(400))
    a = iom(*args, str(tmp_path / "a"), stdin=choices)
    b = iom(*args, str(tmp_path / "b"), stdin=choices)
    assert a.stdout == b.stdout and a.returncode == 0


def test_eof_saves_and_load_resumes(tmp_path):
    first = iom(
        "play", "--plain", "--story", str(SAMPLE), "--seed", "4", "--saves", str(tmp_path), stdin=b"1\n1\n2\n"
    )
    assert first.returncode == 0
    assert b"the game is saved" in first.stdout
    shown = first.stdout.decode().split("End of input")[0]
    last_passage = shown.strip().split("\n> ")[-2]
    resumed = iom(
        "play", "--plain", "--story", str(SAMPLE), "--saves", str(tmp_path), "--load", "autosave", stdin=b""
    )
    assert resumed.returncode == 0
    assert last_passage.strip().splitlines()[0] in resumed.stdout.decode()


def test_bad_input_gets_a_message_and_the_same_prompt(tmp_path):
    junk = b"hello\n99\n-1\n\x00\xff\xfe\n\n1.5\n"
    out = iom("play", "--plain", "--story", str(SAMPLE), "--seed", "1", "--saves", str(tmp_path), stdin=junk)
    text = out.stdout.decode()
    assert out.returncode == 0
    assert text.count("Please type a number from 1 to") == 5
    assert "Traceback" not in out.stderr.decode()


def test_broken_save_is_reported_and_untouched(tmp_path):
    (tmp_path / "autosave.json").write_bytes(b'{"format": "straight-and-narrow-save", "vers')
    out = iom("play", "--plain", "--story", str(SAMPLE), "--saves", str(tmp_path), "--load", "autosave")
    assert out.returncode == 1
    assert b"can't load 'autosave'" in out.stderr and b"Traceback" not in out.stderr
    assert (tmp_path / "autosave.json").read_bytes() == b'{"format": "straight-and-narrow-save", "vers'


def test_broken_story_names_file_and_line(tmp_path):
    (tmp_path / "story.yaml").write_text("id: x\ntitle: X\nstart: a.start\n")
    (tmp_path / "a.yaml").write_text("nodes:\n  start:\n    text: hi\n    goto: nowhere\n")
    out = iom("play", "--plain", "--story", str(tmp_path), "--saves", str(tmp_path / "s"))
    assert out.returncode == 1
    assert b"a.yaml:4:11: error: unknown node 'nowhere'" in out.stderr
    assert b"Traceback" not in out.stderr


def test_check_json_cli(tmp_path):
    out = iom("check", str(SAMPLE), "--json")
    assert out.returncode == 0
    assert json.loads(out.stdout) == {"errors": [], "warnings": []}
