"""Textual's private API is used in one module, behind one switch; the game draws the same
screens with it off."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from textual.widgets import OptionList

from game.ui import textual_private
from game.ui.app import StraightApp
from game.ui.widgets import SafeSelect

from .conftest import UI_STORY

ROOT = Path(__file__).resolve().parents[2]


def test_no_private_textual_name_is_used_outside_its_module():
    private = re.compile(
        r"(?<!\w)(_start_widget|_vertical_scrollbar|_scroll_update|_move_page|_watch__\w+"
        r"|_action_command_list)\b"
    )
    for path in (ROOT / "game" / "ui").rglob("*.py"):
        if path.name == "textual_private.py":
            continue
        assert private.search(path.read_text(encoding="utf-8")) is None, path


async def test_with_the_switch_off_textual_draws_its_own_scrollbar(build, monkeypatch):
    app: StraightApp = build(UI_STORY)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("n")
        await pilot.pause()
        transcript = app.screen.query_one("Transcript")
        monkeypatch.setattr(textual_private, "ENABLED", False)
        assert textual_private.own_vertical_scrollbar(transcript, lambda: None) is None  # type: ignore[arg-type,return-value]
        assert not textual_private.grow_without_layout(transcript, None, transcript.virtual_size)
        monkeypatch.setattr(textual_private, "ENABLED", True)
        assert textual_private.own_vertical_scrollbar(transcript, lambda: None) is not None  # type: ignore[arg-type,return-value]


@pytest.mark.parametrize("value", ["0", "off", "false"])
def test_the_environment_turns_it_off(monkeypatch, value):
    monkeypatch.setenv("IOM_TEXTUAL_PRIVATE", value)
    assert not textual_private._enabled_by_default()
    monkeypatch.setenv("IOM_TEXTUAL_PRIVATE", "1")
    assert textual_private._enabled_by_default()


@pytest.mark.heavy
def test_the_snapshots_are_the_same_with_only_the_public_api(tmp_path):
    # A run of its own: not a worker of this one when the suite runs in parallel (pytest-xdist),
    # so the snapshot plugins check every snapshot file is used, and report to their own places.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PYTEST_XDIST_") and k != "TEXTUAL_SNAPSHOT_TEMPDIR"
    }
    env["IOM_TEXTUAL_PRIVATE"] = "0"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-x",
            "--snapshot-report",
            str(tmp_path / "snapshot_report.html"),
            "tests/ui/test_snapshots.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout and "failed" not in done.stdout


@pytest.mark.parametrize("enabled", [True, False])
async def test_a_settings_dropdown_takes_a_page_key_before_it_is_laid_out(build, monkeypatch, enabled):
    # A closed dropdown has no room to lay out its options in: Textual 8.2's own page keys
    # then look for a line that isn't there. With the guard, the key does nothing.
    monkeypatch.setattr(textual_private, "ENABLED", enabled)
    app: StraightApp = build(UI_STORY)
    async with app.run_test(size=(20, 8)) as pilot:
        await pilot.pause()
        menu = app.screen.query_one("#menu")
        await pilot.click("#menu", offset=(2, menu.labels.index("Settings")))
        await pilot.pause()
        for select in app.screen.query(SafeSelect):
            overlay = select.query_one(OptionList)
            overlay.highlighted = overlay.option_count - 1
            if enabled:
                overlay.action_page_up()
                overlay.action_page_down()
                assert overlay.highlighted == overlay.option_count - 1
            else:  # Textual's own dropdown, unguarded
                assert type(overlay).__name__ == "SelectOverlay"
