"""`iom serve` without a browser: its refusals, its page, its cookies, what it passes to a game."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import shlex
import socket
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from game import serve as web_serve
from game.cli import main

from ..conftest import STORIES

aiohttp = pytest.importorskip("aiohttp")
pytest.importorskip("textual_serve")

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402

UI_STORY = Path(__file__).resolve().parent.parent / "ui" / "story"


# -- refusals: one line, a non-zero exit ------------------------------------------------------------


def _serve(capsys, *args: str) -> tuple[int, list[str]]:
    status = main(["serve", *args])
    err = capsys.readouterr().err
    return status, err.splitlines()


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "example.org"])
def test_a_public_address_is_refused_without_per_session(capsys, host):
    status, err = _serve(capsys, "--host", host, "--story", str(UI_STORY))
    assert status == 2
    assert len(err) == 1 and "--per-session" in err[0] and "share one autosave" in err[0]


@pytest.mark.parametrize("port", ["-1", "65536", "70000"])
def test_a_port_out_of_range_is_refused(capsys, port):
    status, err = _serve(capsys, "--port", port)
    assert status == 2 and len(err) == 1 and "--port must be between 1 and 65535" in err[0]


def test_a_port_that_is_not_a_number_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["serve", "--port", "eighty"])
    assert exc.value.code == 2
    assert "invalid int value: 'eighty'" in capsys.readouterr().err


def test_a_busy_port_is_one_line_and_status_1(capsys, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status, err = _serve(
            capsys, "--port", str(port), "--story", str(UI_STORY), "--saves", str(tmp_path / "s")
        )
    assert status == 1
    assert err == [f"iom: port {port} on 127.0.0.1 is already in use; choose another with --port"]


def test_an_address_this_machine_does_not_have_is_one_line(capsys, tmp_path):
    # 192.0.2.1 is reserved for documentation (RFC 5737): never one of this machine's.
    status, err = _serve(
        capsys,
        "--host",
        "192.0.2.1",
        "--per-session",
        "--port",
        "0",
        "--story",
        str(UI_STORY),
        "--saves",
        str(tmp_path / "s"),
    )
    assert status == 1
    assert err == ["iom: can't listen on 192.0.2.1 port 0: Cannot assign requested address"]


def test_a_saves_folder_that_cant_be_written_is_refused(capsys, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    status, err = _serve(capsys, "--saves", str(blocker / "saves"), "--story", str(UI_STORY))
    assert status == 1 and len(err) == 1
    assert err[0].startswith(f"iom: can't write saves in {blocker / 'saves'}: ")
    assert blocker.read_text(encoding="utf-8") == "not a folder"


def test_a_missing_web_extra_names_the_extra(capsys, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "textual_serve", None)
    monkeypatch.setitem(sys.modules, "textual_serve.app_service", None)
    status, err = _serve(capsys, "--saves", str(tmp_path / "s"), "--story", str(UI_STORY))
    assert status == 1 and len(err) == 1 and "pip install '.[web]'" in err[0]


def test_a_broken_story_names_the_file_and_line(capsys, tmp_path):
    status, err = _serve(
        capsys, "--story", str(STORIES / "hostile" / "undefined-goto"), "--saves", str(tmp_path / "s")
    )
    assert status == 1
    assert any("main.yaml:" in line and ": error: " in line for line in err)
    assert err[-1].startswith("iom: the story in ") and err[-1].endswith("has errors; fix them and try again")


def test_control_characters_in_a_host_are_shown_not_sent(capsys):
    status, err = _serve(capsys, "--host", "evil\x1b]0;pwned\x07\nhost")
    assert status == 2 and len(err) == 1
    assert "\x1b" not in err[0] and "\\x1b]0;pwned\\x07\\nhost" in err[0]


# -- the parts ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("LocalHost", True),
        ("::1", True),
        ("[::1]", True),
        ("127.8.9.10", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.0.0.1", False),
        ("example.org", False),
        ("", False),
    ],
)
def test_is_loopback(host, loopback):
    assert web_serve.is_loopback(host) is loopback


def test_each_game_runs_this_python_and_this_game_on_the_chosen_story_and_saves(tmp_path):
    story, saves = tmp_path / "my story", tmp_path / "it's saves"
    command = web_serve.game_command(story, saves)
    assert shlex.split(command)[-9:] == [
        sys.executable,
        "-P",
        "-m",
        "game",
        "play",
        "--story",
        str(story),
        "--saves",
        str(saves),
    ]
    # A folder called `game` where the server was started is not the game.
    decoy = tmp_path / "elsewhere"
    (decoy / "game").mkdir(parents=True)
    (decoy / "game" / "__init__.py").write_text("raise SystemExit('the wrong game')\n", encoding="utf-8")
    (decoy / "game" / "__main__.py").write_text("raise SystemExit('the wrong game')\n", encoding="utf-8")
    done = subprocess.run(
        f"{command} --help",
        shell=True,
        cwd=decoy,
        capture_output=True,
        timeout=120,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    assert done.returncode == 0, done.stderr
    assert b"usage: iom play" in done.stdout


def test_what_a_game_writes_to_stderr_reaches_the_terminal_safely():
    import io

    target = io.StringIO()
    writer = web_serve._TerminalSafeWriter(target)
    assert writer.write("story.yaml\x1b]0;owned\x07 broke\n") == len("story.yaml\x1b]0;owned\x07 broke\n")
    writer.flush()
    assert target.getvalue() == "story.yaml\\x1b]0;owned\\x07 broke\n"


def test_display_url():
    assert web_serve.display_url("127.0.0.1", 8000) == "http://127.0.0.1:8000/"
    assert web_serve.display_url("::1", 80) == "http://[::1]:80/"


@given(st.one_of(st.none(), st.text(max_size=60)))
def test_a_session_folder_is_always_one_of_ours_under_the_root(cookie):
    root = Path("/srv/saves")
    folder = web_serve.session_saves_dir(root, cookie)
    assert folder.parent == root / web_serve.SESSIONS_FOLDER
    assert web_serve._SESSION_ID.fullmatch(folder.name)
    if cookie is not None and web_serve._SESSION_ID.fullmatch(cookie):
        assert folder.name == cookie


def test_the_same_session_id_keeps_its_folder_and_new_ids_differ():
    root = Path("/srv/saves")
    one, two = web_serve.new_session_id(), web_serve.new_session_id()
    assert one != two
    assert web_serve.session_saves_dir(root, one) == web_serve.session_saves_dir(root, one)
    assert web_serve.session_saves_dir(root, "../../etc").parent == root / web_serve.SESSIONS_FOLDER


# -- the page, the favicon and the websocket, through an HTTP client ---------------------------------


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def _client(tmp_path: Path, per_session: bool = False) -> TestClient:
    server = web_serve.GameServer(UI_STORY, tmp_path / "saves", per_session=per_session)
    return TestClient(TestServer(server.make_app()))


async def test_the_page_loads_everything_from_this_server(tmp_path):
    async with _client(tmp_path) as client:
        page = await client.get("/")
        assert page.status == 200
        text = await page.text()
        assert "googleapis" not in text and "<title>Straight and Narrow</title>" in text
        links = _Links()
        links.feed(text)
        assert links.urls and all(url.startswith("/") and not url.startswith("//") for url in links.urls)
        assert "/favicon.svg" in links.urls
        for url in [*links.urls, "/static/fonts/RobotoMono-Italic-VariableFont_wght.ttf"]:
            assert (await client.get(url)).status == 200, url
        assert "Set-Cookie" not in page.headers


@pytest.mark.parametrize("path", ["/favicon.svg", "/favicon.ico"])
async def test_the_favicon_resolves(tmp_path, path):
    async with _client(tmp_path) as client:
        icon = await client.get(path)
        assert icon.status == 200 and icon.content_type == "image/svg+xml"
        assert (await icon.text()).startswith("<svg ")


async def test_per_session_gives_the_browser_a_private_cookie_once(tmp_path):
    async with _client(tmp_path, per_session=True) as client:
        first = await client.get("/")
        cookie = first.cookies[web_serve.SESSION_COOKIE]
        assert web_serve._SESSION_ID.fullmatch(cookie.value)
        assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/"
        again = await client.get("/")
        assert web_serve.SESSION_COOKIE not in again.cookies


async def test_a_websocket_from_another_site_is_refused(tmp_path):
    async with _client(tmp_path) as client:
        response = await client.get(
            "/ws",
            headers={
                "Origin": "http://evil.example",
                "Connection": "Upgrade",
                "Upgrade": "websocket",
                "Sec-WebSocket-Version": "13",
                "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            },
        )
        assert response.status == 403
    assert not (tmp_path / "saves").exists()


# -- what the browser sends, on its way to the game -------------------------------------------------


class _Message:
    def __init__(self, data: str) -> None:
        self.type = aiohttp.WSMsgType.TEXT
        self.data = data


class _FakeSocket:
    def __init__(self, messages: list[str]) -> None:
        self._messages = messages
        self.sent: list[object] = []

    def __aiter__(self):
        return self._iterate()

    async def _iterate(self):
        for message in self._messages:
            yield _Message(message)

    async def send_json(self, data) -> None:
        self.sent.append(data)


class _FakeGame:
    def __init__(self) -> None:
        self.calls: list[tuple] = []

    async def send_bytes(self, data: bytes) -> bool:
        self.calls.append(("stdin", data))
        return True

    async def set_terminal_size(self, width: int, height: int) -> None:
        self.calls.append(("resize", width, height))

    async def focus(self) -> None:
        self.calls.append(("focus",))

    async def blur(self) -> None:
        self.calls.append(("blur",))


async def test_the_relay_passes_keys_sizes_and_focus_to_the_game():
    socket_ = _FakeSocket(
        [
            json.dumps(m)
            for m in (
                ["stdin", "n"],
                ["resize", {"width": 100, "height": 30}],
                ["focus"],
                ["blur"],
                ["ping", "42"],
            )
        ]
    )
    game = _FakeGame()
    await web_serve.GameServer._relay(socket_, game)
    assert game.calls == [("stdin", b"n"), ("resize", 100, 30), ("focus",), ("blur",)]
    assert socket_.sent == [["pong", "42"]]


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


@given(
    st.lists(
        st.one_of(
            st.text(max_size=30),
            _JSON.map(json.dumps),
            st.lists(_JSON, max_size=3).map(lambda v: json.dumps(["resize", *v])),
            st.lists(_JSON, max_size=3).map(lambda v: json.dumps(["stdin", *v])),
        ),
        max_size=8,
    )
)
async def test_malformed_messages_from_a_browser_are_ignored(messages):
    game = _FakeGame()
    await web_serve.GameServer._relay(_FakeSocket(messages), game)
    for call in game.calls:
        if call[0] == "stdin":
            assert isinstance(call[1], bytes)
        elif call[0] == "resize":
            assert all(isinstance(n, int) and 0 < n < 1000 for n in call[1:])


# -- a cap on games at once ------------------------------------------------------------------------


@pytest.mark.parametrize("n", ["0", "-3"])
def test_max_games_below_one_is_refused(capsys, n):
    status, err = _serve(capsys, "--max-games", n, "--story", str(UI_STORY))
    assert status == 2
    assert err == [f"iom: --max-games must be at least 1, not {n}"]


async def test_a_full_server_says_so_on_the_page_and_starts_no_game(tmp_path):
    server = web_serve.GameServer(UI_STORY, tmp_path / "saves", max_games=2)
    async with TestClient(TestServer(server.make_app())) as client:
        page = await client.get("/")
        assert page.status == 200 and "textual-terminal" in await page.text()
        server.games = 2  # two tabs are playing
        busy = await client.get("/")
        text = await busy.text()
        assert busy.status == 503 and busy.headers["Retry-After"] == "60"
        assert "all 2 games on this server are being played right now" in text
        assert "the one game on this server is being played" in web_serve.render_busy("S", 1)
        assert "textual-terminal" not in text and "Try again" in text
        refused = await client.get("/ws", headers={"Upgrade": "websocket", "Connection": "Upgrade"})
        assert refused.status == 503
        assert "2 games at once are being played" in await refused.text()
        assert server.games == 2  # the refused tab started nothing
        server.games = 1  # one tab closed
        assert (await client.get("/")).status == 200


async def test_a_game_counts_while_its_tab_is_open_and_not_after(tmp_path):
    server = web_serve.GameServer(UI_STORY, tmp_path / "saves", max_games=1)
    async with TestClient(TestServer(server.make_app())) as client:
        websocket = await client.ws_connect("/ws?width=80&height=24")
        try:
            await websocket.receive(timeout=30)  # the game has started and drawn something
            assert server.games == 1 and server.full
            assert (await client.get("/")).status == 503
        finally:
            await websocket.close()
        for _ in range(100):
            if server.games == 0:
                break
            await asyncio.sleep(0.1)
        assert server.games == 0 and (await client.get("/")).status == 200
        gc.collect()  # the finished game's process transport goes while its event loop runs
