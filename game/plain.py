"""`iom play --plain`: the game as plain lines on stdin and stdout."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from .choices import by_number, early_end, early_end_question, numbered
from .engine import ChoiceError, Game, Option, SaveError, StoryRuntimeError, Variable, check
from .engine.saves import AUTOSAVE, write_save
from .engine.textsafe import one_line, terminal_safe
from .profile import Profile
from .ui import render

HELP = """Type the number of a choice and press Enter.
Other commands: undo, redo, save NAME, status, journal, outcomes, help, quit (saves first)."""


def number_prompt(count: int) -> str:
    """What to type to choose, in words that fit how many choices there are."""
    if count <= 0:
        return "There is nothing to choose here"
    if count == 1:
        return "Please type 1"
    return f"Please type a number from 1 to {count}"


class PlainGame:
    """Drives a Game from lines of text; every choice is autosaved."""

    def __init__(
        self, game: Game, saves_dir: Path, out: IO[str], width: int = 78, watch: Path | None = None
    ) -> None:
        self.game = game
        self.saves_dir = saves_dir
        self.out = out
        self.width = width
        self.save_warned = False
        self.watch = watch  # the story folder to reload from when its files change
        self.stamp = _fingerprint(watch) if watch is not None else ()
        self.unsaved = False  # progress since the last save that worked
        self.save_problem = ""
        # The player's settings from the app's profile, if there is one (it is only read).
        self.confirm_end_turn = bool(Profile.load(saves_dir).setting("confirm_end_turn"))
        self.asking: Option | None = None  # a choice that ends the turn early, waiting for a yes
        self.redo: list[int] = []

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
        self.show_choices()

    def show_choices(self) -> None:
        for number, opt, _ends_turn in numbered(self.game):
            key = f"{number}." if number else "  "
            if opt.enabled:
                cost = f" ({opt.cost})" if opt.cost else ""
                self.say(f"{key} {opt.text}{cost}")
            else:
                self.say(f"{key} {opt.text} (unavailable: {opt.reason or 'not now'})")

    def choice_count(self) -> int:
        return sum(1 for item in numbered(self.game) if item.number)

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
            self.say(
                "(The story files changed but have errors; you are still playing the "
                "version you had. Fix them and the game reloads at the next prompt.)"
            )
            for p in problems:
                if p.severity == "error":
                    self.say(f"  {one_line(str(p))}")
            return False
        try:
            moved = Game.from_dict(story, self.game.to_dict())
        except SaveError as exc:
            self.say(
                f"(The story changed, but your place in it no longer exists: "
                f"{one_line(str(exc))}. You are still playing the version you had; "
                "start a new game for the new one.)"
            )
            return False
        self.game = moved
        self.say("(Story reloaded: the changes show from the next passage on.)")
        return True

    def command(self, line: str) -> bool:
        """Handle one line of input; True when the game should stop."""
        words = line.split()
        asking, self.asking = self.asking, None
        if asking is not None:
            if words and words[0].lower() in ("y", "yes"):
                return self.take(asking.index)
            self.say("Not yet, then.")
            self.show_choices()
            return False
        if not words:
            return False
        word = words[0].lower()
        if word.isdigit():
            count = self.choice_count()
            item = by_number(self.game, int(word)) if not self.game.ended else None
            if item is None:
                self.say(f"{number_prompt(count)}.")
                return False
            opt = item.option
            if not opt.enabled:
                self.say(f"You can't do that now: {opt.reason or 'not available'}.")
                return False
            left = early_end(self.game, opt)
            if left and self.confirm_end_turn:
                title, body = early_end_question(opt, left)
                self.say(f"{title} {body} Type yes to go ahead, anything else to stay.")
                self.asking = opt
                return False
            return self.take(opt.index)
        if word in ("u", "undo"):
            log = list(self.game.log)
            if self.game.undo():
                if log:
                    self.redo.append(log[-1])
                self.say("Undone.")
                self.say()
                self.show()
            else:
                self.say("There is nothing to undo.")
            return False
        if word == "redo":
            if not self.redo or self.game.ended:
                self.say("There is nothing to redo.")
                return False
            return self.take(self.redo[-1])
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
            for text in status_lines(self.game):
                self.say(text)
            return False
        if word in ("journal", "j"):
            for text in journal_lines(self.game):
                self.say(self.wrap(text))
            return False
        if word in ("outcomes", "o"):
            for text in outcome_lines(self.game):
                self.say(text)
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
        self.say(f"{number_prompt(self.choice_count())} (or 'help').")
        return False

    def take(self, index: int) -> bool:
        """Take a choice, autosave and show what follows; True when the game has ended."""
        log_before = len(self.game.log)
        try:
            self.game.choose(index)
        except ChoiceError as exc:
            self.say(f"You can't do that: {exc}.")
            return False
        except StoryRuntimeError as exc:
            self.say(f"The story has a fault and can't go on from here: {exc}")
            return False
        if self.redo and self.redo[-1] == self.game.log[log_before]:
            self.redo.pop()
        else:
            self.redo.clear()
        self.autosave()
        self.say()
        self.show()
        if self.game.ended:
            self.finish()
            return True
        return False


def _variable_line(var: Variable, value: object, indent: str) -> str:
    return f"{indent}{var.label}: {render.value_text(var, value)}"


def status_lines(game: Game) -> list[str]:
    """Where things stand, as the case panel shows it: each person's outcomes, then the rest."""
    story = game.story
    lines = [" | ".join(render.clock(game))] if story.turns is not None else []
    endings = game.character_endings()
    for char in story.characters:
        lines.append(char.name)
        end = endings.get(char.id)
        if end is not None:
            lines.append(f"  Ending: {end.title}")
        lines += [_variable_line(v, game.v[v.slot], "  ") for v in render.character_variables(story, char.id)]
    overall = render.story_variables(story)
    if overall:
        lines.append("Overall")
        lines += [_variable_line(v, game.v[v.slot], "  ") for v in overall]
    return lines


def outcome_lines(game: Game) -> list[str]:
    """Each tracked number over the turns so far: where it began, its range, where it is now."""
    story = game.story
    lines: list[str] = []

    def block(title: str, variables: list[Variable]) -> None:
        tracked = [v for v in variables if render.series(game, v)]
        if not tracked:
            return
        lines.append(title)
        for var in tracked:
            values = render.series(game, var)
            first, now = render.number(values[0]), render.number(values[-1])
            if min(values) == max(values):
                lines.append(f"  {var.label}: {now}, no change")
            else:
                lines.append(
                    f"  {var.label}: from {first} to {now} "
                    f"(lowest {render.number(min(values))}, highest {render.number(max(values))})"
                )

    for char in story.characters:
        block(char.name, render.character_variables(story, char.id))
    block("Overall", render.story_variables(story))
    return lines or ["Nothing is tracked over time in this story."]


def journal_lines(game: Game) -> list[str]:
    """What you chose, turn by turn, and the endings reached (rebuilt by replaying the choices
    from the seed; a game that can't be replayed lists its choices without turns)."""
    story = game.story
    by_turn: dict[int, list[str]] = {}
    replay = Game(story, seed=game.seed)
    try:
        for index in game.log:
            by_turn.setdefault(replay.turn, []).append(replay.choices[index].text)
            replay.choose(index)
        exact = replay.to_dict() == game.to_dict()
    except Exception:  # noqa: BLE001 - the journal is a reading aid; the game goes on either way
        exact = False
    if not exact:
        chosen = [text for kind, text in game.transcript if kind == "choice"]
        return ["Your choices so far (the turns aren't known for this game):"] + [f"  > {t}" for t in chosen]
    endings = {e.id: e for e in story.endings}
    reached: dict[int, list[str]] = {}
    for turn, eid in game.outcomes:
        end = endings.get(eid)
        reached.setdefault(turn, []).append(end.title if end else eid)
    lines: list[str] = []
    for turn in range(game.turn + 1):
        if turn not in by_turn and turn not in reached:
            continue
        lines.append(render.turn_name(story, turn) + ("  (now)" if turn == game.turn else ""))
        lines += [f"  > {text}" for text in by_turn.get(turn, [])]
        lines += [f"  Ending: {title}" for title in reached.get(turn, [])]
    return lines or ["Nothing has happened yet."]


def _lines(stream: IO[bytes]) -> Iterator[str]:
    for raw in stream:
        yield raw.decode("utf-8", errors="replace").strip()


def _fingerprint(root: Path) -> tuple[tuple[str, int, int], ...]:
    from .ui.watch import fingerprint  # a plain file check: no Textual behind it

    return fingerprint(root)


def run_plain(game: Game, saves_dir: Path, stdin: IO[bytes], out: IO[str], watch: Path | None = None) -> int:
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
