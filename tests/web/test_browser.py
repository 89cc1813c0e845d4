"""`iom serve` in a real browser: Debian's Chromium, headless, driven by Playwright.

Each test starts `iom serve` on a free loopback port and plays through the page as a player
would, reading the game's screen from the bytes the page receives over its websocket. Without
Chromium (or Playwright) the tests skip, except in CI (`CI` set), where they fail: CI installs
both (see .ci/run).
"""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ..conftest import ROOT

UI_STORY = ROOT / "tests" / "ui" / "story"
# Screenshots land here (ignored by git); CI can keep the folder as its artifacts.
ARTIFACTS = Path(os.environ.get("IOM_TEST_ARTIFACTS") or ROOT / "test-artifacts")
CHROMIUM = os.environ.get("IOM_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
# A closed network and a root user: no sandbox, no GPU, nothing fetched in the background.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT = 30.0  # seconds: generous, for a shared machine; nothing here is a timing assertion
# In a parallel run (pytest-xdist --dist loadgroup) these tests share one worker and one browser.
pytestmark = pytest.mark.xdist_group("browser")


def _missing(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what}: CI must run the browser tests (.ci/run installs it)")
    pytest.skip(what)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("Playwright is not installed (pip install -e '.[test]')")
    if CHROMIUM is None:
        _missing("Chromium is not installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        # Debian's Chromium, never a browser download.
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Server:
    """`iom serve` in a process of its own, on a free loopback port."""

    def __init__(self, saves: Path, *args: str) -> None:
        env = dict(
            os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        )
        self.saves = saves
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "game",
                "serve",
                "--port",
                "0",
                "--story",
                str(UI_STORY),
                "--saves",
                str(saves),
                *args,
            ],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.url = self._read_url()

    def _read_url(self) -> str:
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], 60)
        line = self.process.stdout.readline().decode() if ready else ""
        found = re.search(r"http://127\.0\.0\.1:\d+/", line)
        if found is None:
            self.process.kill()
            _, err = self.process.communicate(timeout=30)
            pytest.fail(f"iom serve didn't start: {line!r} {err.decode(errors='replace')}")
        return found.group()

    def stop(self) -> tuple[int, str, str]:
        """Stop it as Ctrl+C does: (exit status, the rest of stdout, stderr)."""
        self.process.send_signal(signal.SIGINT)
        out, err = self.process.communicate(timeout=60)
        return self.process.returncode, out.decode(errors="replace"), err.decode(errors="replace")


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[object]:
    """serve(*args) -> a running `iom serve` on the UI tests' story, saves in tmp_path; stopped after."""
    servers: list[Server] = []

    def _start(*args: str) -> Server:
        servers.append(Server(tmp_path / "saves", *args))
        return servers[-1]

    yield _start
    for server in servers:
        status, out, err = server.stop()
        assert status == 0, err
        assert "Stopping" in out and "Traceback" not in out + err, out + err


# What the terminal shows, from the bytes the page receives: escape sequences out, text kept.
_ESCAPES = re.compile(
    rb"\x1b(?:\[[0-9;?<>=!]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|[@-Z\\-_])"
)


class Tab:
    """One browser tab on the game, and what the game has drawn in it."""

    def __init__(self, page: object, url: str) -> None:
        self.page = page
        self.frames: list[bytes] = []
        self.elsewhere: list[str] = []  # requests for anything not on this server
        self.failed: list[str] = []
        page.on("websocket", lambda ws: ws.on("framereceived", self._received))
        page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.status} {r.url}"))
        page.on("requestfailed", lambda r: self.failed.append(f"failed {r.url}"))
        page.route("**/*", lambda route: self._route(route, url))
        page.goto(url)

    def _received(self, payload: bytes | str) -> None:
        if isinstance(payload, bytes):
            self.frames.append(payload)

    def _route(self, route: object, url: str) -> None:
        if route.request.url.startswith(url):
            route.continue_()
        else:
            self.elsewhere.append(route.request.url)
            route.abort()

    def mark(self) -> int:
        """A point in what has been drawn, to wait for what comes after it."""
        return len(self.frames)

    def screen(self, since: int = 0) -> str:
        return _ESCAPES.sub(b"", b"".join(self.frames[since:])).decode("utf-8", "replace")

    def wait_for_text(self, text: str, since: int = 0) -> None:
        deadline = time.monotonic() + WAIT
        while text not in self.screen(since):
            if time.monotonic() > deadline:
                pytest.fail(f"{text!r} never appeared; the screen ended with: {self.screen(since)[-600:]!r}")
            self.page.wait_for_timeout(100)  # lets Playwright deliver the frames

    def press(self, key: str, then: str) -> None:
        """Press `key` and wait for `then` to be drawn."""
        since = self.mark()
        self.page.keyboard.press(key)
        self.wait_for_text(then, since)


def wait_for_autosave(saves: Path, choices: int, page: object | None = None) -> dict:
    """The autosave once it holds `choices` choices."""
    path = saves / "autosave.json"
    deadline = time.monotonic() + WAIT
    while True:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if len(data["choices"]) == choices:
                return data
        except (OSError, ValueError, KeyError):
            data = None
        if time.monotonic() > deadline:
            pytest.fail(f"no autosave with {choices} choices in {saves}; last: {data and data['choices']}")
        if page is not None:
            page.wait_for_timeout(100)
        else:
            time.sleep(0.1)


TITLE = "New game"
FIRST_PASSAGE = "Monday morning. The whiteboard says"
HUB = "Day 1. 8 hours left."


def test_a_player_plays_in_the_browser_without_clicking(browser, serve):
    server = serve()
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    tab = Tab(context.new_page(), server.url)
    tab.wait_for_text(TITLE)
    # The page gave the terminal the keyboard itself: nobody has clicked.
    tab.page.wait_for_function("document.activeElement.classList.contains('xterm-helper-textarea')")
    tab.press("n", FIRST_PASSAGE)
    assert wait_for_autosave(server.saves, 0, tab.page)["choices"] == []
    tab.press("1", HUB)
    assert len(wait_for_autosave(server.saves, 1, tab.page)["choices"]) == 1
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "browser-played-passage.png"
    tab.page.screenshot(path=str(shot))
    assert shot.stat().st_size > 10_000

    # Self-contained: nothing asked of another host, nothing missing, and the favicon resolves.
    assert tab.elsewhere == [] and tab.failed == []
    icon = tab.page.eval_on_selector("link[rel=icon]", "link => link.href")
    response = context.request.get(icon)
    assert response.status == 200 and response.headers["content-type"].startswith("image/svg+xml")
    context.close()


def test_two_tabs_play_at_once_and_a_disconnect_loses_nothing(browser, serve):
    server = serve()
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    first = Tab(context.new_page(), server.url)
    first.wait_for_text(TITLE)
    first.press("n", FIRST_PASSAGE)
    wait_for_autosave(server.saves, 0, first.page)

    # A second tab, while the first is still playing, gets a game of its own.
    second = Tab(context.new_page(), server.url)
    second.wait_for_text(TITLE)
    second.press("n", FIRST_PASSAGE)
    second.press("1", HUB)
    wait_for_autosave(server.saves, 1, second.page)
    first.press("1", HUB)  # the first tab's game went on waiting, and still answers
    second.press("1", "Ana opens the door on the chain")
    wait_for_autosave(server.saves, 2, second.page)

    # The tab goes away straight after a choice: the choice is in the autosave all the same.
    second.page.keyboard.press("1")
    second.page.close()
    wait_for_autosave(server.saves, 3, first.page)

    # Coming back, Continue picks the game up where it was.
    again = Tab(context.new_page(), server.url)
    again.wait_for_text("Continue")
    again.press("c", "Day 1. 5 hours left.")
    again.press("2", "Go home for the day?")  # home for the day, last on the list: it asks
    again.press("y", "Day 2. 8 hours left.")
    wait_for_autosave(server.saves, 4, again.page)
    context.close()


def test_quitting_the_game_offers_the_way_back_by_keyboard(browser, serve):
    server = serve()
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    tab = Tab(context.new_page(), server.url)
    tab.wait_for_text(TITLE)
    tab.page.keyboard.press("q")
    tab.page.wait_for_function(
        "document.body.classList.contains('-closed') && document.activeElement.id === 'again'"
    )
    since = tab.mark()
    tab.page.keyboard.press("Enter")  # "Play again": a new game process, back at the title
    tab.wait_for_text(TITLE, since)
    context.close()


def test_per_session_saves_are_private_to_each_browser(browser, serve):
    server = serve("--per-session")
    sessions = server.saves / "web-sessions"
    folders = []
    for _ in range(2):
        context = browser.new_context(viewport={"width": 1000, "height": 700})
        tab = Tab(context.new_page(), server.url)
        tab.wait_for_text(TITLE)
        tab.press("n", FIRST_PASSAGE)
        tab.press("1", HUB)
        (folder,) = set(sessions.iterdir()) - set(folders)
        folders.append(folder)
        wait_for_autosave(folder, 1, tab.page)
        # The same browser comes back to the same folder.
        tab.page.reload()
        tab.wait_for_text("Continue", tab.mark())
        assert set(sessions.iterdir()) == set(folders)
        context.close()
    assert not (server.saves / "autosave.json").exists()


def test_a_public_address_without_per_session_is_refused():
    done = subprocess.run(
        [sys.executable, "-m", "game", "serve", "--host", "0.0.0.0", "--port", "0"],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 2 and done.stdout == b""
    (line,) = done.stderr.decode().splitlines()
    assert "--per-session" in line
