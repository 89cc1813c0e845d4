"""The `iom` command. Keeps Textual out of everything but the interactive game."""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from pathlib import Path

from . import __version__
from .paths import default_saves_dir, shipped_story_dir


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
    _play_options(p, top=True)
    return p


def _play_options(p: argparse.ArgumentParser, top: bool = False) -> None:
    dest = (lambda s: f"top_{s}") if top else (lambda s: s)
    p.add_argument("--plain", action="store_true", dest=dest("plain"),
                   help="plain text on stdin/stdout (for screen readers, pipes and scripts)")
    p.add_argument("--story", type=Path, metavar="DIR", dest=dest("story"), help="play this story folder")
    p.add_argument("--saves", type=Path, metavar="DIR", dest=dest("saves"), help="keep saves in this folder")
    p.add_argument("--seed", type=int, metavar="N", dest=dest("seed"), help="random seed for a new game")
    p.add_argument("--load", metavar="SLOT", dest=dest("load"), help="resume a saved game (e.g. autosave)")


def _err(message: str) -> None:
    sys.stderr.write(f"iom: {message}\n")


def cmd_check(path: Path | None, as_json: bool) -> int:
    from .engine import check

    root = path or shipped_story_dir()
    _story, problems = check(root)
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    if as_json:
        print(json.dumps({"errors": [p.to_dict() for p in errors],
                          "warnings": [p.to_dict() for p in warnings]}, indent=2))
    else:
        for p in problems:
            print(p)
        summary = f"{len(errors)} error{'s' * (len(errors) != 1)}, {len(warnings)} warning{'s' * (len(warnings) != 1)}"
        print(f"{root}: {summary}" if problems else f"{root}: no problems found")
    return 1 if errors else 0


def cmd_play(args: argparse.Namespace, get: dict[str, object]) -> int:
    from .engine import Game, SaveError, StoryError, StoryRuntimeError, load_story
    from .engine.saves import load_save

    story_dir = get["story"] or shipped_story_dir()
    saves_dir = get["saves"] or default_saves_dir()
    try:
        story = load_story(story_dir)  # type: ignore[arg-type]
    except StoryError as exc:
        for p in exc.problems:
            if p.severity == "error":
                sys.stderr.write(f"{p}\n")
        _err(f"the story in {story_dir} has errors; fix them and try again")
        return 1
    seed = get["seed"] if get["seed"] is not None else secrets.randbits(32)
    try:
        if get["load"]:
            game = load_save(saves_dir, str(get["load"]), story)  # type: ignore[arg-type]
        else:
            game = Game(story, seed=int(seed))  # type: ignore[call-overload]
    except SaveError as exc:
        _err(f"can't load '{get['load']}': {exc} (the file is left as it is)")
        return 1
    except StoryRuntimeError as exc:
        _err(f"the story can't start: {exc}")
        return 1
    if not get["plain"]:
        try:
            from .ui.app import run_app  # noqa: PLC0415 - Textual only when it is needed
        except ImportError:
            pass
        else:
            return run_app(story_dir=story_dir, saves_dir=saves_dir, seed=int(seed), game=game)  # type: ignore[arg-type]
    from .plain import run_plain

    return run_plain(game, saves_dir, sys.stdin.buffer, sys.stdout)  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "check":
            return cmd_check(args.path, args.json)
        keys = ("plain", "story", "saves", "seed", "load")
        get = {k: getattr(args, k, None) or getattr(args, f"top_{k}", None) for k in keys}
        if args.command == "play":
            get = {k: getattr(args, k) if getattr(args, k) not in (None, False) else getattr(args, f"top_{k}") for k in keys}
        return cmd_play(args, get)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


def entry() -> None:
    """Console-script entry point."""
    sys.exit(main())
