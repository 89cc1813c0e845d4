"""The game being played, its saves and the profile: what the screens ask of the engine.

No Textual here. The app gives the session a `notify` callback, which may be called from the
autosave thread (the app makes that safe by posting a message). Plain mode makes its session
with `background=False`: autosaves are written at once, on the thread that plays, so what it
says about them is always what happened.
"""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .choices import KEYED, Offer, by_number, choice_key, offer
from .engine import Ending, Game, Option, Problem, SaveError, Story
from .engine.saves import (
    AUTOSAVE,
    QUICKSAVE,
    SaveSlot,
    atomic_write,
    delete_save,
    list_saves,
    load_save,
    read_save_file,
    rename_save,
    save_data,
    slot_path,
    write_save,
)
from .engine.story import release_frozen
from .engine.textsafe import one_line
from .profile import Profile, ProfileError

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

# Replaying a long choice log to rebuild undo history costs time; past this, skip it.
REPLAY_LIMIT = 20_000

Notify = Callable[[str, str], None]


def _quiet(message: str, severity: str) -> None:
    """The default `notify`: tests and tools that don't care about messages."""


def _now(work: Callable[[], None]) -> None:
    work()


class Session:
    """One player's session: the story, the current game, autosaves and the profile."""

    def __init__(
        self,
        story_dir: Path,
        saves_dir: Path,
        seed: int,
        story: Story | None = None,
        problems: list[Problem] | None = None,
        *,
        background: bool = True,
    ) -> None:
        self.story_dir = Path(story_dir)
        self.saves_dir = Path(saves_dir)
        self.seed = seed
        self.story = story
        self.problems: list[Problem] = list(problems or [])
        self.game: Game | None = None
        # Turn -> index in the transcript where that turn's text begins (for the journal).
        self.marks: dict[int, int] = {}
        # Transcript entries before this index have no known turn (a save we couldn't replay).
        self.marks_from = 0
        self.profile = Profile.load(self.saves_dir)
        self.notify: Notify = _quiet
        # How to run work that can wait: the app runs it after the next repaint, so an autosave
        # never delays showing the choice it saves. Without an app, at once.
        self.defer: Callable[[Callable[[], None]], object] = _now
        # Whether autosaves are written by a worker thread (the app) or at once (plain mode).
        self.background = background
        self._autosave_due = False
        self.autosave_problem = ""
        self._profile_warned = False
        self._games = 0
        self._writer: ThreadPoolExecutor | None = None
        self._pending: list[Future[None]] = []
        self._lock = threading.Lock()
        self._opening_key: tuple[int, int] | None = None
        self._opening: list[Any] | None = None
        # Choices undone, the latest last: redo takes them again (the same seed, the same result).
        self._redo: list[int] = []
        self._chosen_unsaved = False
        # Choices this playthrough has taken (known when it was replayed): not marked as taken
        # in an earlier one.
        self._taken_now: set[str] = set()
        # Characters whose ending the last choice reached and the player hasn't read yet: the
        # panels keep them quiet until the passage that tells them has been read.
        self.unread_endings: set[str] = set()

    # -- starting and resuming ---------------------------------------------------------
    def new_game(self) -> Game:
        """A new game of the current story (the given seed first, fresh seeds after)."""
        assert self.story is not None
        if self._chosen_unsaved and not self.profile.read_only:
            self.save_profile()  # the last game's choices, before this one begins
        seed = self.seed if self._games == 0 else random.getrandbits(32)
        game = Game(self.story, seed=seed)
        self.adopt(game, replay=False)
        self.marks = {0: 0}
        self.autosave()
        return game

    def adopt(self, game: Game, *, replay: bool = True) -> Game:
        """Make `game` the one being played; replays its log, when that reproduces it exactly,
        so a resumed game keeps its undo history and the journal knows every turn."""
        self._games += 1
        self.game = game
        self._redo = []
        self._taken_now = set()
        self.unread_endings = set()
        self.marks, self.marks_from = {game.turn: len(game.transcript)}, len(game.transcript)
        if replay and game.log and len(game.log) <= REPLAY_LIMIT:
            replayed = _replay(game, self._taken_now)
            if replayed is not None:
                self.game, self.marks, last = replayed
                self.marks_from = 0
                # Endings the last choice reached are as unread as when the game was left.
                by_id = {e.id: e for e in game.story.endings}
                ends = [by_id[eid] for _t, eid in self.game.outcomes[last:] if eid in by_id]
                self.unread_endings = {e.character for e in ends if e.character is not None}
        elif not game.log:
            self.marks, self.marks_from = {0: 0}, 0
        self.note_endings()
        return self.game

    def opening(self, game: Game | None = None) -> list[Any] | None:
        """The variables' values once the first passage is shown (same story, same seed)."""
        game = game or self.game
        if game is None:
            return None
        key = (id(game.story), game.seed)
        if self._opening_key != key:
            try:
                self._opening = list(Game(game.story, seed=game.seed, record=False).v)
            except Exception:  # noqa: BLE001 - without it the charts start at the declared values
                self._opening = None
            self._opening_key = key
        return self._opening

    def find_autosave(self) -> tuple[Game | None, str]:
        """The autosaved game, or None and the reason (empty when there simply is none)."""
        if self.story is None:
            return None, ""
        try:
            if not slot_path(self.saves_dir, AUTOSAVE).is_file():
                return None, ""
        except OSError:
            return None, ""
        self.flush()
        try:
            return load_save(self.saves_dir, AUTOSAVE, self.story), ""
        except SaveError as exc:
            return None, str(exc)

    # -- playing -----------------------------------------------------------------------
    def choose(self, index: int) -> list[Ending]:
        """Take a choice (engine errors propagate, state unchanged); returns endings reached."""
        game = self.game
        assert game is not None
        turn, before, outcomes = game.turn, len(game.transcript), len(game.outcomes)
        key = choice_key(game, game.choices[index]) if 0 <= index < len(game.choices) else ""
        game.choose(index)
        if self._redo and self._redo[-1] == index:
            self._redo.pop()  # the same choice as the one undone: what was undone can still be redone
        else:
            self._redo.clear()
        if key:
            self._taken_now.add(key)
            if self.profile.note_chosen(game.story.id, key):
                self._chosen_unsaved = True
        if game.turn != turn:
            self.marks[game.turn] = before + 1
        reached = [eid for _t, eid in game.outcomes[outcomes:]]
        self.autosave()
        if reached:
            self.note_endings()
        by_id = {e.id: e for e in game.story.endings}
        ends = [by_id[e] for e in reached if e in by_id]
        # Taking a choice means what came before it was read.
        self.unread_endings = {e.character for e in ends if e.character is not None}
        return ends

    def offer(self, option: Option) -> Offer:
        """What taking `option` comes to, as the player's settings have it (see `choices.offer`)."""
        assert self.game is not None
        return offer(self.game, option, confirm_end_turn=bool(self.profile.setting("confirm_end_turn")))

    def pick(self, number: int, keyed: int | None = KEYED) -> Offer | None:
        """The choice a player typed the number of, as `offer` has it; None when no choice has
        that number (or the game has ended). Past `keyed`, choices have no number (None for
        plain mode, where every choice has one)."""
        game = self.game
        item = by_number(game, number, keyed) if game is not None and not game.ended else None
        return self.offer(item.option) if item is not None else None

    def undo(self) -> bool:
        game = self.game
        if game is None or not game.can_undo:
            return False
        last = game.log[-1] if game.log else None
        if not game.undo():
            return False
        if last is not None:
            self._redo.append(last)
        self.marks = {t: i for t, i in self.marks.items() if t <= game.turn}
        self.unread_endings = set()
        self.autosave()
        return True

    @property
    def can_redo(self) -> bool:
        game = self.game
        return bool(self._redo) and game is not None and not game.ended

    def redo(self) -> list[Ending] | None:
        """Take again the choice last undone; None if there is none (engine errors propagate)."""
        if not self.can_redo:
            return None
        return self.choose(self._redo[-1])

    def chosen_before(self) -> set[str]:
        """Choices taken in earlier playthroughs and not yet in this one (to mark them, as
        Ren'Py marks text already seen)."""
        if self.story is None:
            return set()
        return self.profile.chosen(self.story.id) - self._taken_now

    def note_endings(self) -> None:
        """Record endings reached (and a finished run) in the profile."""
        game = self.game
        if game is None:
            return
        changed = self.profile.note_endings(game)
        if game.ended:
            changed = self.profile.record_run(game) or changed
        if changed or (game.ended and self._chosen_unsaved):
            self.save_profile()

    def save_profile(self) -> None:
        self._chosen_unsaved = False
        try:
            self.profile.save()
        except ProfileError as exc:
            if not self._profile_warned:
                self._profile_warned = True
                self.notify(f"Endings and settings can't be kept: {exc}. Play goes on.", "warning")

    # -- saves -------------------------------------------------------------------------
    def save(self, name: str) -> Path:
        """Save the current game to a slot now; SaveError says why it couldn't be."""
        assert self.game is not None
        return write_save(self.saves_dir, name, self.game)

    def load(self, name: str) -> Game:
        """Load a slot and play it; SaveError says why it can't be (the file is untouched)."""
        assert self.story is not None
        self.flush()
        game = self.adopt(load_save(self.saves_dir, name, self.story))
        if name != AUTOSAVE:
            self.autosave()
        return game

    def delete(self, name: str) -> None:
        """Delete a save; SaveError says why it couldn't be."""
        self.flush()
        delete_save(self.saves_dir, name)

    def rename(self, old: str, new: str) -> None:
        """Rename a save (never over another); SaveError says why it couldn't be."""
        self.flush()
        rename_save(self.saves_dir, old, new)

    def continues_with(self, name: str) -> bool:
        """Whether a save holds the very play the autosave does, so loading it leaves what
        Continue resumes as it is."""
        self.flush()
        try:
            saved = read_save_file(slot_path(self.saves_dir, name))
            latest = read_save_file(slot_path(self.saves_dir, AUTOSAVE))
        except SaveError:
            return False
        return bool(saved.get("seed") == latest.get("seed") and saved.get("choices") == latest.get("choices"))

    def has_save(self, name: str) -> bool:
        try:
            return slot_path(self.saves_dir, name).is_file()
        except (OSError, SaveError):
            return False

    @property
    def has_quicksave(self) -> bool:
        return self.has_save(QUICKSAVE)

    def slots(self) -> list[SaveSlot]:
        """Every save in the folder, usable or with its reason (for the load screen)."""
        if self.story is None:
            return []
        self.flush()
        return list_saves(self.saves_dir, self.story)

    def autosave(self) -> None:
        """Save the current game (in the background, unless the session was made without);
        failures are reported, play goes on."""
        if self.game is not None and not self._autosave_due:
            self._autosave_due = True
            self.defer(self._autosave_now)

    def autosave_now(self) -> bool:
        """Autosave at once and wait until it is written; True if it was. A failure is reported
        as any autosave's is, and `autosave_problem` says why."""
        if self.game is None:
            return False
        self._autosave_now()
        self.flush()
        return not self.autosave_problem

    def _autosave_now(self) -> None:
        self._autosave_due = False
        game = self.game
        if game is None:
            return
        # The state is copied here, on the caller's thread; only the disk work moves off it.
        data = save_data(game)
        if not self.background:
            self._write_autosave(data)
            return
        with self._lock:
            if self._writer is None:
                # Imported with the first autosave: the title screen never needs it.
                from concurrent.futures import ThreadPoolExecutor

                self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="autosave")
            self._pending = [f for f in self._pending if not f.done()]
            self._pending.append(self._writer.submit(self._write_autosave, data))

    def _write_autosave(self, data: dict[str, Any]) -> None:
        problem = ""
        path = self.saves_dir / f"{AUTOSAVE}.json"
        try:
            path = slot_path(self.saves_dir, AUTOSAVE)
            # As every save is written: a number JSON can't hold would make it unreadable.
            text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
            atomic_write(path, text.encode("utf-8"))
        except OSError as exc:
            problem = f"couldn't save to {one_line(str(path))}: {exc.strerror or exc}"
        except (SaveError, ValueError, TypeError, RecursionError) as exc:
            problem = f"couldn't autosave: {exc}"
        if problem != self.autosave_problem:
            self.autosave_problem = problem
            if problem:
                self.notify(
                    f"Autosave failed: {problem}. Play goes on, but your progress is not saved.", "error"
                )
            else:
                self.notify("Autosave is working again.", "information")

    def flush(self) -> None:
        """Wait for autosaves in progress (before reading saves, and on the way out)."""
        # A save that is only due is taken now, on the thread that plays the game: a worker
        # listing saves must never read the game while a choice is changing it.
        if self._autosave_due and threading.current_thread() is threading.main_thread():
            self._autosave_now()
        with self._lock:
            pending = list(self._pending)
        for f in pending:
            f.result()

    def close(self) -> None:
        if self._chosen_unsaved and not self.profile.read_only:
            self.save_profile()
        self.flush()
        with self._lock:
            writer, self._writer = self._writer, None
        if writer is not None:
            writer.shutdown(wait=True)

    # -- authors: the story changed on disk ---------------------------------------------
    def reload(self, story: Story) -> str:
        """Play on with a changed story, keeping the state if its passage still exists.

        Returns "" when the game moved over (or there was none), else why it couldn't."""
        self.story = story
        self.problems = [p for p in story.warnings if isinstance(p, Problem)]
        game = self.game
        if game is None:
            return ""
        try:
            moved = Game.from_dict(story, game.to_dict())
        except SaveError as exc:
            return str(exc)
        marks, marks_from = self.marks, self.marks_from
        self._games -= 1  # not a new game, only a new version of the story
        self.adopt(moved)
        if self.marks_from:
            self.marks, self.marks_from = marks, marks_from
        release_frozen()  # the version played until now can go
        return ""


def _replay(saved: Game, taken: set[str] | None = None) -> tuple[Game, dict[int, int], int] | None:
    """Replay a game's choices from its seed; the replay, if it reaches the very same state,
    its journal marks, and how many outcomes there were before its last choice. The choices
    taken on the way are added to `taken`."""
    try:
        game = Game(saved.story, seed=saved.seed)
        marks = {0: 0}
        last = 0
        keys = []
        for index in saved.log:
            if taken is not None and 0 <= index < len(game.choices):
                keys.append(choice_key(game, game.choices[index]))
            turn, before = game.turn, len(game.transcript)
            last = len(game.outcomes)
            game.choose(index)
            if game.turn != turn:
                marks[game.turn] = before + 1
        if game.to_dict() != saved.to_dict():
            return None
        if taken is not None:
            taken.update(keys)
    except Exception:  # noqa: BLE001 - a replay is only a convenience; the save stands either way
        return None
    return game, marks, last
