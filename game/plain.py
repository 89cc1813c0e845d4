"""`iom play --plain`: the game as plain lines on stdin and stdout."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from .choices import numbered
from .engine import ChoiceError, Game, Option, SaveError, StoryRuntimeError, Variable, check
from .engine.saves import QUICKSAVE
from .engine.textsafe import one_line, terminal_safe
from .session import Session
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
    """Drives a session from lines of text: every choice and undo is autosaved at once, and
    the endings reached go into the profile, as in the app."""

    def __init__(
        self,
        game: Game,
        saves_dir: Path,
        out: IO[str],
        width: int = 78,
        watch: Path | None = None,
    ) -> None:
        self.out = out
        self.width = width
        self.watch = watch  # the story folder to reload from when its files change
        self.stamp = _fingerprint(watch) if watch is not None else ()
        self.session = Session(watch or Path(), saves_dir, game.seed, game.story, background=False)
        self.session.notify = self.notice
        self.session.adopt(game)
        self.unsaved = False  # progress since the last save that worked
        self.asking: Option | None = None  # a choice that ends the turn early, waiting for a yes

    @property
    def game(self) -> Game:
        game = self.session.game
        assert game is not None
        return game

    def say(self, text: str = "") -> None:
        # Everything printed passes here: story text, save text and messages are shown, never
        # sent to the terminal as commands.
        self.out.write(terminal_safe(text) + "\n")

    def notice(self, text: str, _severity: str) -> None:
        """What the session tells the player (an autosave failed or works again, the profile
        can't be kept), in brackets like every other aside."""
        self.say(f"({text})")

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
        for number, opt, _ends_turn in numbered(self.game, keyed=None):
            key = f"{number}." if number else "  "
            if opt.enabled:
                cost = f" ({opt.cost})" if opt.cost else ""
                self.say(f"{key} {opt.text}{cost}")
            else:
                self.say(f"{key} {opt.text} (unavailable: {opt.reason or 'not now'})")

    def choice_count(self) -> int:
        return len(self.game.choices)

    def autosave(self) -> bool:
        """Save to the autosave slot now; False (said once, and remembered) if that failed."""
        saved = self.session.autosave_now()
        self.unsaved = not saved
        return saved

    @property
    def save_problem(self) -> str:
        """Why the last autosave failed ('' when it worked)."""
        return self.session.autosave_problem

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
        reason = self.session.reload(story)
        if reason:
            self.say(
                f"(The story changed, but your place in it no longer exists: "
                f"{one_line(reason)}. You are still playing the version you had; "
                "start a new game for the new one.)"
            )
            return False
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
            # Only plain decimal digits of a sane length are a number ("²" is a digit to
            # isdigit, and a thousand-digit number is refused by int()).
            number = int(word) if word.isdecimal() and len(word) <= 9 else 0
            picked = self.session.pick(number, keyed=None)
            if picked is None:
                self.say(f"{number_prompt(self.choice_count())}.")
                return False
            if picked.refused:
                self.say(picked.refused)
                return False
            if picked.question is not None:
                title, body = picked.question
                self.say(f"{title} {body} Type yes to go ahead, anything else to stay.")
                self.asking = picked.option
                return False
            return self.take(picked.option.index)
        if word in ("u", "undo"):
            if self.session.undo():
                self.unsaved = bool(self.session.autosave_problem)
                self.say("Undone.")
                self.say()
                self.show()
            else:
                self.say("There is nothing to undo.")
            return False
        if word == "redo":
            if not self.session.can_redo:
                self.say("There is nothing to redo.")
                return False
            return self._play(self.session.redo)
        if word in ("s", "save"):
            name = words[1] if len(words) > 1 else QUICKSAVE
            try:
                path = self.session.save(name)
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
        return self._play(lambda: self.session.choose(index))

    def _play(self, step: Callable[[], object]) -> bool:
        try:
            step()
        except ChoiceError as exc:
            self.say(f"You can't do that: {exc}.")
            return False
        except StoryRuntimeError as exc:
            self.say(f"The story has a fault and can't go on from here: {exc}")
            return False
        self.unsaved = bool(self.session.autosave_problem)
        self.say()
        self.show()
        if self.game.ended:
            self.finish()
            return True
        return False

    def close(self) -> None:
        """Keep what the profile learnt (the choices taken) on the way out."""
        self.session.close()


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
    try:
        return _play_lines(plain, stdin, out)
    finally:
        plain.close()


def _play_lines(plain: PlainGame, stdin: IO[bytes], out: IO[str]) -> int:
    plain.show()
    if plain.game.ended:
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
