"""`iom serve`: the game in a web browser.

textual-serve runs one game process per browser tab and relays its screen to xterm.js in the
page. This module builds the web server around that from textual-serve's public parts (its
`AppService` and its static files) and serves a page of its own: nothing is loaded from other
hosts, the favicon resolves, and keys reach the game before the first click. Saves are the
terminal game's, or, with `--per-session`, a private folder for each browser.

textual-serve (the `web` extra) is imported only when serving: `iom --help` and every other
command work without it.
"""

from __future__ import annotations

import asyncio
import errno
import html
import io
import ipaddress
import json
import os
import re
import secrets
import shlex
import signal
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .engine.textsafe import one_line, terminal_safe

if TYPE_CHECKING:
    from aiohttp import web

EXTRA_MISSING = (
    "playing in a browser needs the web extra: pip install '.[web]' (or pip install textual-serve)"
)
SESSION_COOKIE = "iom_session"
# Each game is a process of its own (a Textual app, some tens of megabytes): past this many at
# once, a visitor is asked to come back in a minute rather than the machine running out.
DEFAULT_MAX_GAMES = 16
BUSY_RETRY_SECONDS = 60
SESSIONS_FOLDER = "web-sessions"
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{24}")
# Long enough that a player who closes the browser finds their autosave when they come back.
_COOKIE_MAX_AGE = 365 * 24 * 3600


class ServeError(Exception):
    """Why the server can't start, in one line; `status` is the exit status (2: used wrongly)."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def is_loopback(host: str) -> bool:
    """Whether `host` can only be reached from this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_saves_dir(path: Path) -> None:
    """Make the saves folder if needed and prove a file can be written there (ServeError if not)."""
    shown = one_line(str(path))
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".iom-serve-", suffix=".tmp"):
            pass
    except OSError as exc:
        raise ServeError(f"can't write saves in {shown}: {one_line(exc.strerror or str(exc))}") from None


def session_saves_dir(root: Path, session_id: str | None) -> Path:
    """The private saves folder of one browser session, under `root`; a session id that isn't one
    of ours (a forged or mangled cookie) gets a new folder of its own, never a path outside."""
    if session_id is None or not _SESSION_ID.fullmatch(session_id):
        session_id = new_session_id()
    return root / SESSIONS_FOLDER / session_id


def new_session_id() -> str:
    """A fresh, unguessable browser session id (24 URL-safe characters)."""
    return secrets.token_urlsafe(18)


def game_command(story_dir: Path, saves_dir: Path) -> str:
    """The shell command that runs one browser tab's game (textual-serve runs it through a shell).

    The game is this copy of the package, found by PYTHONPATH, never a `game` folder that
    happens to be in the current directory (`-P`)."""
    here = str(Path(__file__).resolve().parent.parent)
    path = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH", "")) if p)
    args = [sys.executable, "-P", "-m", "game", "play", "--story", str(story_dir), "--saves", str(saves_dir)]
    return f"PYTHONPATH={shlex.quote(path)} exec {shlex.join(args)}"


def display_url(host: str, port: int) -> str:
    """The address to open in a browser."""
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}/"


FAVICON_SVG = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32">
<rect width="32" height="32" rx="6" fill="#12232d"/>
<path d="M13.5 5h5l6 23h-17z" fill="#d8dee9"/>
<path d="M16 8v3m0 3v4m0 3v5" stroke="#12232d" stroke-width="1.6"/>
</svg>
"""

# The page: textual-serve's, less the web fonts from another host (its own copy of the font is
# served here) and the branding, plus a favicon and the two scripts below.
PAGE = """<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>{title}</title>
    <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
    <link rel="preload" href="/static/fonts/RobotoMono-VariableFont_wght.ttf" as="font" type="font/ttf" crossorigin />
    <link rel="stylesheet" href="/static/css/xterm.css" />
    <script src="/static/js/textual.js"></script>
    <style>
      @font-face {{
        font-family: "Roboto Mono";
        src: url("/static/fonts/RobotoMono-VariableFont_wght.ttf") format("truetype");
        font-weight: 100 700;
        font-style: normal;
      }}
      @font-face {{
        font-family: "Roboto Mono";
        src: url("/static/fonts/RobotoMono-Italic-VariableFont_wght.ttf") format("truetype");
        font-weight: 100 700;
        font-style: italic;
      }}
      body {{ background: #0c181f; margin: 0; }}
      .dialog-container {{
        position: absolute; width: 100vw; height: 100vh; z-index: 10;
        display: flex; align-items: center; justify-content: center;
      }}
      .intro {{
        max-width: 640px; padding: 48px; margin: 32px; z-index: 20;
        font: 16px "Roboto Mono", menlo, monospace; text-align: center;
        color: rgba(255, 255, 255, 0.95); background-color: #12232d;
      }}
      body.-first-byte .intro-dialog {{ display: none; }}
      body .textual-terminal {{ opacity: 0; transition: opacity 0.3s ease-out; }}
      body.-first-byte .textual-terminal {{ opacity: 1; }}
      .closed-dialog {{ display: none; background: rgba(12, 24, 31, 0.75); }}
      body.-closed .closed-dialog {{ display: flex; }}
      button {{
        padding: 16px 32px; margin: 16px auto 0; display: block; border: none; cursor: pointer;
        font: inherit; color: rgba(255, 255, 255, 0.95); background-color: #2d5b73;
      }}
      button:hover, button:focus {{ background-color: #3f7d9c; }}
    </style>
  </head>
  <body>
    <div class="dialog-container intro-dialog"><div class="intro">{title}<br />Loading&hellip;</div></div>
    <div class="dialog-container closed-dialog">
      <div class="intro">
        <p>The game has closed. Everything up to your last choice is autosaved.</p>
        <button type="button" id="again" onclick="window.location.reload()">Play again</button>
      </div>
    </div>
    <div id="terminal" class="textual-terminal" data-font-size="{font_size}"></div>
    <script>
      // The game's address is this page's host, whatever name the visitor used to reach it.
      document.getElementById("terminal").dataset.sessionWebsocketUrl =
        (window.location.protocol === "https:" ? "wss://" : "ws://") + window.location.host + "/ws";

      // Keys reach the game without a click first: the terminal takes the keyboard as soon as
      // the game has drawn (so the game hears of it), and again when the window comes back.
      // When the game has closed, the keyboard goes to "Play again".
      (function () {{
        var drawn = false;
        function focusTerminal() {{
          var input = document.querySelector(".xterm-helper-textarea");
          if (input && document.activeElement !== input && !document.body.classList.contains("-closed")) {{
            input.focus();
          }}
        }}
        var watch = new MutationObserver(function () {{
          var classes = document.body.classList;
          if (classes.contains("-closed")) {{
            watch.disconnect();
            document.getElementById("again").focus();
          }} else if (classes.contains("-first-byte") && !drawn) {{
            drawn = true;
            focusTerminal();
          }}
        }});
        watch.observe(document.body, {{ attributes: true, attributeFilter: ["class"] }});
        window.addEventListener("focus", focusTerminal);
      }})();
    </script>
  </body>
</html>
"""


BUSY_PAGE = """<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>{title}</title>
    <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
    <style>
      body {{ background: #0c181f; margin: 0; display: flex; align-items: center;
             justify-content: center; height: 100vh; }}
      .intro {{ max-width: 640px; padding: 48px; margin: 32px; text-align: center;
               font: 16px menlo, monospace; color: rgba(255, 255, 255, 0.95);
               background-color: #12232d; }}
      button {{ padding: 16px 32px; margin: 16px auto 0; display: block; border: none;
               cursor: pointer; font: inherit; color: rgba(255, 255, 255, 0.95);
               background-color: #2d5b73; }}
    </style>
  </head>
  <body>
    <div class="intro">
      <p>{title}: {games} on this server {are} being played right now.</p>
      <p>Please try again in a minute. Saved games are kept.</p>
      <button type="button" autofocus onclick="window.location.reload()">Try again</button>
    </div>
  </body>
</html>
"""


def _games(n: int) -> str:
    return "1 game" if n == 1 else f"{n} games"


def render_busy(title: str, games: int) -> str:
    """The page for a server whose games are all taken."""
    return BUSY_PAGE.format(
        title=html.escape(title),
        games="the one game" if games == 1 else f"all {games} games",
        are="is" if games == 1 else "are",
    )


def render_page(title: str, font_size: int) -> str:
    """The HTML page that holds one game."""
    return PAGE.format(title=html.escape(title), font_size=font_size)


def _font_size(value: str | None) -> int:
    try:
        return min(48, max(8, int(value or "16")))
    except ValueError:
        return 16


class _TerminalSafeWriter(io.TextIOBase):
    """A text stream that passes everything through `terminal_safe` on its way to `target`.

    textual-serve copies each game process's standard error to sys.stdout as it is, and that
    can hold story text or file names."""

    def __init__(self, target: Any) -> None:
        self._target = target

    def write(self, text: str) -> int:
        self._target.write(terminal_safe(text))
        return len(text)

    def flush(self) -> None:
        self._target.flush()

    def writable(self) -> bool:
        return True


class GameServer:
    """The web server: one page, one game process per websocket (browser tab), at most
    `max_games` of them at once."""

    def __init__(
        self,
        story_dir: Path,
        saves_dir: Path,
        *,
        per_session: bool = False,
        title: str = "Straight and Narrow",
        max_games: int = DEFAULT_MAX_GAMES,
    ) -> None:
        self.story_dir = story_dir
        self.saves_dir = saves_dir
        self.per_session = per_session
        self.title = title
        self.max_games = max_games
        self.games = 0  # game processes starting or running
        self._sockets: set[web.WebSocketResponse] = set()

    @property
    def full(self) -> bool:
        return self.games >= self.max_games

    def make_app(self) -> web.Application:
        """The aiohttp application."""
        import textual_serve
        from aiohttp import web

        # textual-serve's own script, terminal stylesheet and font.
        static = Path(textual_serve.__file__).resolve().parent / "static"
        app = web.Application()
        app.add_routes(
            [
                web.get("/", self.handle_page),
                web.get("/favicon.svg", self.handle_favicon),
                web.get("/favicon.ico", self.handle_favicon),
                web.get("/ws", self.handle_websocket),
                web.static("/static", static),
            ]
        )
        app.on_shutdown.append(self._close_sockets)
        return app

    async def handle_page(self, request: web.Request) -> web.Response:
        from aiohttp import web

        if self.full:
            # Said at once on the page, rather than after loading a game that can't start.
            return web.Response(
                text=render_busy(self.title, self.max_games),
                content_type="text/html",
                status=503,
                headers={"Cache-Control": "no-store", "Retry-After": str(BUSY_RETRY_SECONDS)},
            )
        response = web.Response(
            text=render_page(self.title, _font_size(request.query.get("fontsize"))), content_type="text/html"
        )
        response.headers["Cache-Control"] = "no-store"
        if self.per_session and not _SESSION_ID.fullmatch(request.cookies.get(SESSION_COOKIE, "")):
            response.set_cookie(
                SESSION_COOKIE,
                new_session_id(),
                max_age=_COOKIE_MAX_AGE,
                path="/",
                httponly=True,
                samesite="Strict",
            )
        return response

    async def handle_favicon(self, request: web.Request) -> web.Response:
        from aiohttp import web

        return web.Response(
            text=FAVICON_SVG, content_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"}
        )

    def saves_for(self, request: web.Request) -> Path:
        """Where the game opened by this request keeps its saves."""
        if not self.per_session:
            return self.saves_dir
        folder = session_saves_dir(self.saves_dir, request.cookies.get(SESSION_COOKIE))
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        return folder

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:
        """Run one game for one browser tab, for as long as the tab stays connected."""
        from aiohttp import web

        # Another site open in the same browser may not drive (or read) the game.
        origin = request.headers.get("Origin")
        if origin is not None and urlsplit(origin).netloc != request.host:
            raise web.HTTPForbidden(text="cross-origin websocket refused")
        if self.full:
            raise web.HTTPServiceUnavailable(
                text=f"{_games(self.max_games)} at once are being played; try again in a minute",
                headers={"Retry-After": str(BUSY_RETRY_SECONDS)},
            )
        try:
            saves = self.saves_for(request)
        except OSError as exc:
            raise web.HTTPInternalServerError(text=f"can't make a saves folder: {exc.strerror}") from None
        self.games += 1
        try:
            return await self._play(request, saves)
        finally:
            self.games -= 1

    async def _play(self, request: web.Request, saves: Path) -> web.WebSocketResponse:
        from aiohttp import web
        from textual_serve.app_service import AppService
        from textual_serve.download_manager import DownloadManager

        websocket = web.WebSocketResponse(heartbeat=15)
        await websocket.prepare(request)
        self._sockets.add(websocket)

        async def close() -> None:
            await websocket.close()

        service = AppService(
            game_command(self.story_dir, saves),
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=close,
            download_manager=DownloadManager(),
        )
        try:
            try:
                await service.start(
                    _size(request.query.get("width"), 80), _size(request.query.get("height"), 24)
                )
            except OSError as exc:
                sys.stderr.write(f"iom: can't start a game: {one_line(exc.strerror or str(exc))}\n")
                await websocket.close()
                return websocket
            await self._relay(websocket, service)
        finally:
            self._sockets.discard(websocket)
            # Tells the game to quit (it autosaved after the last choice) and waits for it.
            await service.stop()
        return websocket

    @staticmethod
    async def _relay(websocket: web.WebSocketResponse, service: Any) -> None:
        """Pass what the browser sends to the game; anything malformed is ignored."""
        from aiohttp import WSMsgType

        async for message in websocket:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                envelope = json.loads(message.data)
            except ValueError:
                continue
            if not isinstance(envelope, list) or not envelope:
                continue
            kind, data = envelope[0], envelope[1] if len(envelope) > 1 else None
            if kind == "stdin" and isinstance(data, str):
                await service.send_bytes(data.encode("utf-8", "replace"))
            elif kind == "resize" and isinstance(data, dict):
                width, height = data.get("width"), data.get("height")
                if (
                    isinstance(width, int)
                    and isinstance(height, int)
                    and 0 < width < 1000
                    and 0 < height < 1000
                ):
                    await service.set_terminal_size(width, height)
            elif kind == "ping" and isinstance(data, str):
                await websocket.send_json(["pong", data])
            elif kind == "focus":
                await service.focus()
            elif kind == "blur":
                await service.blur()

    async def _close_sockets(self, app: web.Application) -> None:
        from aiohttp import WSCloseCode

        for websocket in list(self._sockets):
            await websocket.close(code=WSCloseCode.GOING_AWAY, message=b"server stopped")


def _size(value: str | None, default: int) -> int:
    try:
        return min(999, max(1, int(value or default)))
    except ValueError:
        return default


async def _serve(server: GameServer, host: str, port: int) -> int:
    """Listen on host:port until SIGINT or SIGTERM; then close every game and return."""
    from aiohttp import web

    runner = web.AppRunner(server.make_app(), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ServeError(
                    f"port {port} on {one_line(host)} is already in use; choose another with --port"
                ) from None
            # asyncio's own wording repeats the address; the system's names only the reason.
            reason = os.strerror(exc.errno) if exc.errno and exc.errno > 0 else exc.strerror or str(exc)
            raise ServeError(f"can't listen on {one_line(host)} port {port}: {one_line(reason)}") from None
        bound = runner.addresses[0][1] if runner.addresses else port
        sys.stdout.write(
            f"Serving Straight and Narrow at {display_url(one_line(host), bound)}\n"
            f"Saves: {one_line(str(server.saves_dir))}"
            f"{' (a private folder for each browser)' if server.per_session else ''}\n"
            f"At most {_games(server.max_games)} at once. Press Ctrl+C to stop.\n"
        )
        sys.stdout.flush()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.add_signal_handler(signum, stop.set)
            except (NotImplementedError, RuntimeError):
                pass
        await stop.wait()
        sys.stdout.write("Stopping: closing every game (each autosaved after its last choice).\n")
        sys.stdout.flush()
    finally:
        await runner.cleanup()
    return 0


def serve(
    *,
    story_dir: Path,
    saves_dir: Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    per_session: bool = False,
    max_games: int = DEFAULT_MAX_GAMES,
) -> int:
    """Serve the game until Ctrl+C; returns the exit status (one line on stderr when it can't)."""
    try:
        if not 0 <= port <= 65535:
            raise ServeError(f"--port must be between 1 and 65535 (0 picks a free one), not {port}", 2)
        if max_games < 1:
            raise ServeError(f"--max-games must be at least 1, not {max_games}", 2)
        if not per_session and not is_loopback(host):
            raise ServeError(
                f"serving on {one_line(host)} would let every visitor share one autosave and "
                "each other's saves; add --per-session, or serve on 127.0.0.1",
                2,
            )
        try:
            import aiohttp  # noqa: F401
            import textual_serve.app_service  # noqa: F401
        except ImportError:
            raise ServeError(EXTRA_MISSING) from None
        check_saves_dir(saves_dir)
        _check_story(story_dir)
    except ServeError as exc:
        sys.stderr.write(f"iom: {exc}\n")
        return exc.status
    real_stdout = sys.stdout
    sys.stdout = _TerminalSafeWriter(real_stdout)
    try:
        server = GameServer(story_dir, saves_dir, per_session=per_session, max_games=max_games)
        return asyncio.run(_serve(server, host, port))
    except ServeError as exc:
        sys.stderr.write(f"iom: {exc}\n")
        return exc.status
    except KeyboardInterrupt:
        return 130
    finally:
        sys.stdout = real_stdout


def _check_story(story_dir: Path) -> None:
    """Load the story once before serving: errors are reported here, and the compiled-story
    cache is warm for every tab's game."""
    from .engine import StoryError, load_story

    try:
        load_story(story_dir)
    except StoryError as exc:
        for problem in exc.problems:
            if problem.severity == "error":
                sys.stderr.write(f"{terminal_safe(str(problem))}\n")
        raise ServeError(
            f"the story in {one_line(str(story_dir))} has errors; fix them and try again"
        ) from None
