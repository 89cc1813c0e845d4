"""`iom play --plain`: the game as plain lines on stdin and stdout."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from .engine import ChoiceError, Game, SaveError, StoryRuntimeError, check
from .engine.saves import AUTOSAVE, write_save
from .engine.textsafe import one_line, terminal_safe

HELP = """Type the number of a choice and press Enter.
Other commands: undo, save NAME, status, help, quit (saves first)."""


class PlainGame:
    """Drives a Game from lines of text; every choice is autosaved."""

    def __init__(self, game: Game, saves_dir: Path, out: IO[str], width: int = 78,
                 watch: Path | None = None) -> None:
        self.game = game
        self.saves_dir = saves_dir
        self.out = out
        self.width = width
        self.save_warned = False
        self.watch = watch  # the story folder to reload from when its files change
        self.stamp = _fingerprint(watch) if watch is not None else ()
        self.unsaved = False  # progress since the last save that worked
        self.save_problem = ""

    def say(self, text: str = "") -> None:
        # Everything printed passes here: story text, save text and messages are shown, never
        # sent to the terminal as commands.
        self.out.write(terminal_safe(text) + "\n")

    def wrap(self, text: str) -> str:
        return textwrap.fill(text, self.width) if len(text) > self.width else text

    def status_line(self) -> str:
        story, game = self.game.story, self.game
        turns = story.turns
        if turns is None:
            return ""
        parts = []
        for slot in (turns.counter, turns.budget):
            if slot is not None:
                var = story.variables[slot]
                parts.append(f"{var.label}: {game.v[slot]}")
        return " | ".join(parts)

    def show(self) -> None:
        game = self.game
        for para in game.passage:
            self.say(self.wrap(para))
            self.say()
        if game.ended:
            return
        for notice in game.notices:
            self.say(f"  ({notice})")
        status = self.status_line()
        if status:
            self.say(f"[{status}]")
        n = 0
        for opt in game.choices:
            if opt.enabled:
                n += 1
                cost = f" ({opt.cost})" if opt.cost else ""
                self.say(f"{n}. {opt.text}{cost}")
        for opt in game.choices:
            if not opt.enabled:
                self.say(f"-  {opt.text} (unavailable: {opt.reason})")

    def enabled(self) -> list[int]:
        return [o.index for o in self.game.choices if o.enabled]

    def autosave(self) -> bool:
        """Save to the autosave slot; False (said once, and remembered) if that failed."""
        try:
            write_save(self.saves_dir, AUTOSAVE, self.game)
        except SaveError as exc:
            self.unsaved = True
            self.save_problem = str(exc)
            if not self.save_warned:
                self.say(f"(Autosave failed: {exc}. Play goes on, but your progress is not saved.)")
                self.save_warned = True
            return False
        if self.save_warned:
            self.say("(Autosave is working again.)")
            self.save_warned = False
        self.unsaved = False
        return True

    def finish(self) -> None:
        ending = self.game.ending
        assert ending is not None
        for char, end in self.game.character_endings().items():
            c = self.game.story.character(char)
            self.say(f"{c.name if c else char}: {end.title}")
        self.say(f"Ending: {ending.title}" + (f" ({ending.category})" if ending.category else ""))

    def reload_if_changed(self) -> bool:
        """With a watched story folder: if its files changed since the last look, load them
        and play on in the new version from the same place (the passage and choices on screen
        stay as they were; the changes show from the next passage on). Errors are reported and
        the game goes on in the version it had. True when the game moved to a new version."""
        if self.watch is None:
            return False
        stamp = _fingerprint(self.watch)
        if stamp == self.stamp:
            return False
        self.stamp = stamp
        story, problems = check(self.watch)
        if story is None:
            self.say("(The story files changed but have errors; you are still playing the "
                     "version you had. Fix them and the game reloads at the next prompt.)")
            for p in problems:
                if p.severity == "error":
                    self.say(f"  {one_line(str(p))}")
            return False
        try:
            moved = Game.from_dict(story, self.game.to_dict())
        except SaveError as exc:
            self.say(f"(The story changed, but your place in it no longer exists: "
                     f"{one_line(str(exc))}. You are still playing the version you had; "
                     "start a new game for the new one.)")
            return False
        self.game = moved
        self.say("(Story reloaded: the changes show from the next passage on.)")
        return True

    def command(self, line: str) -> bool:
        """Handle one line of input; True when the game should stop."""
        words = line.split()
        if not words:
            return False
        word = words[0].lower()
        choices = self.enabled()
        if word.isdigit():
            n = int(word)
            if not 1 <= n <= len(choices):
                self.say(f"Please type a number from 1 to {len(choices)}.")
                return False
            try:
                self.game.choose(choices[n - 1])
            except ChoiceError as exc:
                self.say(f"You can't do that: {exc}.")
                return False
            except StoryRuntimeError as exc:
                self.say(f"The story has a fault and can't go on from here: {exc}")
                return False
            self.autosave()
            self.say()
            self.show()
            if self.game.ended:
                self.finish()
                return True
            return False
        if word in ("u", "undo"):
            if self.game.undo():
                self.say("Undone.")
                self.say()
                self.show()
            else:
                self.say("There is nothing to undo.")
            return False
        if word in ("s", "save"):
            name = words[1] if len(words) > 1 else "quicksave"
            try:
                path = write_save(self.saves_dir, name, self.game)
                self.say(f"Saved to {path}.")
                self.unsaved = False
            except SaveError as exc:
                self.say(f"Not saved: {exc}")
            return False
        if word in ("status", "st"):
            for var in self.game.story.variables:
                if var.display != "hidden":
                    self.say(f"  {var.name}: {self.game.v[var.slot]}")
            return False
        if word in ("h", "help", "?"):
            self.say(HELP)
            return False
        if word in ("q", "quit", "exit"):
            if self.autosave():
                self.say("Saved. Goodbye.")
            else:
                self.say(f"Not saved: {self.save_problem}. Goodbye.")
            return True
        self.say(f"Please type a number from 1 to {len(choices)} (or 'help').")
        return False


def _lines(stream: IO[bytes]) -> Iterator[str]:
    for raw in stream:
        yield raw.decode("utf-8", errors="replace").strip()


def _fingerprint(root: Path) -> tuple[tuple[str, int, int], ...]:
    from .ui.watch import fingerprint  # a plain file check: no Textual behind it

    return fingerprint(root)


def run_plain(game: Game, saves_dir: Path, stdin: IO[bytes], out: IO[str],
              watch: Path | None = None) -> int:
    """Play until an ending, 'quit' or end of input; returns the exit code (1 when the game
    ends with progress that could not be saved). With `watch`, the story in that folder is
    reloaded between prompts whenever its files change."""
    plain = PlainGame(game, saves_dir, out, watch=watch)
    plain.show()
    if game.ended:
        plain.finish()
        return 0
    out.write("> ")
    out.flush()
    for line in _lines(stdin):
        plain.reload_if_changed()
        if plain.command(line):
            out.flush()
            return 1 if plain.unsaved else 0
        out.write("> ")
        out.flush()
    plain.say()
    if plain.autosave():
        plain.say("End of input: the game is saved. Continue with: iom play --plain --load autosave")
        return 0
    plain.say(f"End of input: the game is NOT saved ({plain.save_problem}).")
    return 1
