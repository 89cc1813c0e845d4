"""The `iom` command. Keeps Textual out of everything but the interactive game."""

from __future__ import annotations

import argparse
import gc
import os
import secrets
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, cast

from . import __version__
from .paths import default_saves_dir, shipped_story_dir

if TYPE_CHECKING:
    from .engine import Story


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="iom",
        description="Straight and Narrow: a year on an Integrated Offender Management team.",
    )
    p.add_argument("--version", action="version", version=f"iom {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    play = sub.add_parser("play", help="play the game (the default command)")
    _play_options(play)

    check = sub.add_parser("check", help="check a story folder for errors and warnings")
    check.add_argument("path", nargs="?", type=Path, help="story folder (default: the shipped story)")
    check.add_argument("--json", action="store_true", help="print the problems as JSON")
    check.add_argument("--strict", action="store_true", help="fail (exit 1) on warnings too")
    _authoring_commands(sub)
    serve = sub.add_parser("serve", help="play in a web browser (needs the web extra: pip install '.[web]')")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s, this machine only)"
    )
    serve.add_argument(
        "--port", type=int, default=8000, help="port to listen on (default: %(default)s; 0 picks a free one)"
    )
    serve.add_argument(
        "--saves", type=Path, metavar="DIR", help="keep saves in this folder (default: the terminal game's)"
    )
    serve.add_argument("--story", type=Path, metavar="DIR", help="serve this story folder")
    serve.add_argument(
        "--per-session",
        action="store_true",
        help="give each browser a private saves folder (required on any address but loopback)",
    )
    serve.add_argument(
        "--max-games",
        type=int,
        metavar="N",
        help="at most N games (browser tabs) at once; more are asked to try again (default: 16)",
    )
    _play_options(p, top=True)
    return p


def _authoring_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    story_help = "story folder (default: the shipped story)"
    graph = sub.add_parser("graph", help="draw the story map (Graphviz DOT or Mermaid)")
    graph.add_argument("path", nargs="?", type=Path, help=story_help)
    graph.add_argument(
        "--format", choices=("dot", "mermaid"), default="dot", help="output format (default: dot)"
    )
    graph.add_argument(
        "--scene", metavar="ID", help="only this scene (and its sub-scenes), with stubs for the rest"
    )
    graph.add_argument("-o", "--output", type=Path, metavar="FILE", help="write to FILE instead of stdout")

    play = sub.add_parser(
        "playtest", help="play the story automatically: random runs or an exhaustive search"
    )
    play.add_argument("path", nargs="?", type=Path, help=story_help)
    play.add_argument(
        "--runs", type=int, metavar="N", help="random playthroughs (default: 1000; 20 with --reading)"
    )
    play.add_argument("--seed", type=int, default=1, metavar="S", help="seed of the batch (default: 1)")
    play.add_argument(
        "--strategy",
        action="append",
        metavar="NAME",
        help="how choices are picked; repeat to compare strategies. random (default), first, novel, "
        "prefer:PATTERN, avoid:PATTERN, or one the story names in its playtest: section; "
        "with --reading also patient",
    )
    play.add_argument(
        "--max-steps", type=int, default=10_000, metavar="N", help="choices per run before giving up"
    )
    play.add_argument(
        "--jobs",
        type=int,
        default=min(8, os.cpu_count() or 1),
        metavar="N",
        help="processes to play in (default: one per CPU, here %(default)s)",
    )
    play.add_argument(
        "--exhaustive",
        action="store_true",
        help="explore every reachable state instead, playing on where there are too many, and "
        "say which nodes and endings can and can't be reached",
    )
    play.add_argument(
        "--max-states",
        type=int,
        default=200_000,
        metavar="N",
        help="stop the state search after N states (default: 200000)",
    )
    play.add_argument(
        "--max-seconds",
        type=float,
        default=120,
        metavar="S",
        help="time for the exhaustive search, half of it for the state search (default: 120)",
    )
    play.add_argument(
        "--path-to",
        metavar="NODE",
        help="with --exhaustive: print a choice path to NODE (the shortest, when the state search found it)",
    )
    play.add_argument("--from", dest="from_node", metavar="NODE", help="start every run at NODE")
    play.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="start with a variable set (repeatable)",
    )
    play.add_argument(
        "--reading",
        action="store_true",
        help="report what a player reads instead: words shown, verbatim repeats, single-choice "
        "prompts, navigation versus decisions, new words per turn",
    )
    play.add_argument("--json", action="store_true", help="print the report as JSON")
    bar = play.add_mutually_exclusive_group()
    bar.add_argument("--progress", action="store_true", default=None, help="always show the progress bar")
    bar.add_argument(
        "--no-progress", dest="progress", action="store_false", help="never show the progress bar"
    )

    stats = sub.add_parser("stats", help="count words, nodes, choices, endings and events")
    stats.add_argument("path", nargs="?", type=Path, help=story_help)
    stats.add_argument("--json", action="store_true", help="print the counts as JSON")

    schema = sub.add_parser("schema", help="print the JSON Schema of story files (for YAML editors)")
    schema.add_argument("-o", "--output", type=Path, metavar="FILE", help="write to FILE instead of stdout")

    lsp = sub.add_parser(
        "lsp", help="serve the story checks to an editor (Language Server Protocol on stdio)"
    )
    lsp.add_argument(
        "--playtest-runs",
        type=int,
        default=200,
        metavar="N",
        help="random playthroughs behind hover's 'how often reached' (default: 200; 0 for none)",
    )
    lsp.add_argument(
        "--search-seconds",
        type=float,
        default=6.0,
        metavar="S",
        help="time for hover's search for a path to a node (default: 6)",
    )


def _play_options(p: argparse.ArgumentParser, top: bool = False) -> None:
    dest = (lambda s: f"top_{s}") if top else (lambda s: s)
    p.add_argument(
        "--plain",
        action="store_true",
        dest=dest("plain"),
        help="plain text on stdin/stdout (for screen readers, pipes and scripts)",
    )
    p.add_argument("--story", type=Path, metavar="DIR", dest=dest("story"), help="play this story folder")
    p.add_argument("--saves", type=Path, metavar="DIR", dest=dest("saves"), help="keep saves in this folder")
    p.add_argument("--seed", type=int, metavar="N", dest=dest("seed"), help="random seed for a new game")
    p.add_argument("--load", metavar="SLOT", dest=dest("load"), help="resume a saved game (e.g. autosave)")
    p.add_argument(
        "--from",
        metavar="NODE",
        dest=dest("from_node"),
        help="start a test game at NODE (saves go to a temporary folder unless --saves is given)",
    )
    p.add_argument(
        "--set",
        metavar="NAME=VALUE",
        dest=dest("settings"),
        action="append",
        help="start a test game with a variable set, e.g. --set becky.trust=6 (repeatable)",
    )
    p.add_argument(
        "--skip",
        metavar="EVENT",
        dest=dest("skip"),
        action="append",
        help="start a test game with this event (a node id, or a pattern such as "
        "'becky.*') counted as already happened, so a once-only event such as "
        "another case's opening doesn't fire (repeatable)",
    )
    p.add_argument(
        "--watch",
        action="store_true",
        dest=dest("watch"),
        help="with --plain: reload the story between prompts when its files change, "
        "keeping your place (the full-screen game always does)",
    )


def _err(message: str) -> None:
    # Messages quote paths, slot names and story text: shown, never sent to the terminal.
    from .engine.textsafe import one_line

    sys.stderr.write(f"iom: {one_line(message)}\n")


def cmd_check(path: Path | None, as_json: bool, strict: bool = False) -> int:
    from .authoring.commands import cmd_check as check_command
    from .authoring.commands import guarded

    return guarded(lambda: check_command(path, as_json, strict))


def cmd_lsp(runs: int, search_seconds: float) -> int:
    try:
        from .authoring.lsp import run  # noqa: PLC0415 - pygls only when it is needed
    except ImportError:
        _err("the language server needs pygls: pip install '.[lsp]'")
        return 1
    return run(max(0, runs), max(0.1, search_seconds))


def _textual_app() -> Callable[..., int] | None:
    """The Textual front end's `run_app`, or None where Textual isn't installed."""
    try:
        from .ui.app import run_app  # noqa: PLC0415 - Textual only when it is needed
    except ImportError:
        return None
    return run_app


def _load_story_to_play(story_dir: Path) -> Story:
    """Load the story to play. It lives as long as the process, so it goes straight into the
    garbage collector's permanent generation: otherwise the first collection after loading
    walks every one of its objects as young ones (a few milliseconds, before the first frame)."""
    from .engine import load_story

    enabled = gc.isenabled()
    gc.disable()
    try:
        return load_story(story_dir)
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def cmd_play(args: argparse.Namespace, get: dict[str, object]) -> int:
    from .engine import Game, SaveError, StoryError, StoryRuntimeError
    from .engine.saves import load_save

    story_dir = get["story"] or shipped_story_dir()
    saves_dir = get["saves"] or default_saves_dir()
    try:
        story = _load_story_to_play(story_dir)  # type: ignore[arg-type]
    except StoryError as exc:
        run_app = None if get["plain"] else _textual_app()
        if run_app is not None:
            # The app lists the errors with file and line, and waits for the author's fix.
            seed = get["seed"] if get["seed"] is not None else secrets.randbits(32)
            return run_app(story_dir=story_dir, saves_dir=saves_dir, seed=int(cast(int, seed)), game=None)
        for p in exc.problems:
            if p.severity == "error":
                sys.stderr.write(f"{p}\n")
        _err(f"the story in {story_dir} has errors; fix them and try again")
        return 1
    seed = get["seed"] if get["seed"] is not None else secrets.randbits(32)
    start, values, seen = None, {}, []
    if get.get("from_node") or get.get("settings") or get.get("skip"):
        from .authoring.commands import UsageError, check_node, events_matching, parse_settings

        if get["load"]:
            _err("--from, --set and --skip start a new test game; they can't be used with --load")
            return 2
        try:
            start = check_node(story, get.get("from_node"))  # type: ignore[arg-type]
            values = parse_settings(story, get.get("settings") or [])  # type: ignore[arg-type]
            seen = events_matching(story, get.get("skip") or [])  # type: ignore[arg-type]
        except UsageError as exc:
            _err(str(exc))
            return 2
        if not get["saves"]:
            import tempfile

            # A test game must never overwrite the player's autosave.
            saves_dir = Path(tempfile.mkdtemp(prefix="iom-test-"))
            from .engine.textsafe import one_line

            sys.stderr.write(f"(a test game: saves go to {one_line(str(saves_dir))})\n")
    try:
        if get["load"]:
            game = load_save(saves_dir, str(get["load"]), story)  # type: ignore[arg-type]
        else:
            game = Game(story, seed=int(seed), start=start, values=values, seen=seen)  # type: ignore[call-overload]
    except SaveError as exc:
        _err(f"can't load '{get['load']}': {exc} (the file is left as it is)")
        return 1
    except StoryRuntimeError as exc:
        _err(f"the story can't start: {exc}")
        return 1
    if not get["plain"]:
        run_app = _textual_app()
        if run_app is not None:
            # A loaded game, or a test game started --from a node, opens straight into play.
            resume = bool(get["load"]) or start is not None or bool(values) or bool(seen)
            return run_app(
                story_dir=story_dir, saves_dir=saves_dir, seed=int(cast(int, seed)), game=game, resume=resume
            )
    from .plain import run_plain

    watch = story_dir if get.get("watch") else None
    return run_plain(game, saves_dir, sys.stdin.buffer, sys.stdout, watch=watch)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            return cmd_check(args.path, args.json, args.strict)
        if args.command in ("graph", "playtest", "stats", "schema"):
            return _authoring(args)
        if args.command == "serve":
            from .serve import DEFAULT_MAX_GAMES, serve

            return serve(
                story_dir=args.story or shipped_story_dir(),
                saves_dir=args.saves or default_saves_dir(),
                host=args.host,
                port=args.port,
                per_session=args.per_session,
                max_games=DEFAULT_MAX_GAMES if args.max_games is None else args.max_games,
            )
        if args.command == "lsp":
            return cmd_lsp(args.playtest_runs, args.search_seconds)
        keys = ("plain", "story", "saves", "seed", "load", "from_node", "settings", "watch", "skip")
        get = {k: getattr(args, k, None) or getattr(args, f"top_{k}", None) for k in keys}
        if args.command == "play":
            get = {
                k: getattr(args, k) if getattr(args, k) not in (None, False) else getattr(args, f"top_{k}")
                for k in keys
            }
        return cmd_play(args, get)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


def _authoring(args: argparse.Namespace) -> int:
    from .authoring import commands as c

    if args.command == "graph":
        return c.guarded(lambda: c.cmd_graph(args.path, args.format, args.scene, args.output))
    if args.command == "stats":
        return c.guarded(lambda: c.cmd_stats(args.path, args.json))
    if args.command == "schema":
        return c.guarded(lambda: c.cmd_schema(args.output))
    return c.guarded(
        lambda: c.cmd_playtest(
            args.path,
            runs=args.runs if args.runs is not None else (20 if args.reading else 1000),
            seed=args.seed,
            strategies=args.strategy or ["random"],
            as_json=args.json,
            exhaustive=args.exhaustive,
            max_states=args.max_states,
            max_seconds=args.max_seconds,
            path_to=args.path_to,
            start=args.from_node,
            settings=args.settings,
            max_steps=args.max_steps,
            jobs=args.jobs,
            progress=args.progress,
            reading=args.reading,
        )
    )


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())
