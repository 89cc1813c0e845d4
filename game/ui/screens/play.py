"""The play screen: transcript, choices, caseload panel, clock and notices."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer

from ...choices import Offer, by_number, choice_key, numbered
from ...engine import ChoiceError, Ending, Game, Option, SaveError, StoryRuntimeError
from ...engine.saves import QUICKSAVE
from ..app import GameChanged
from ..commands import Command
from ..containers import BackgroundOnly, Row
from ..widgets import CaseloadScroll, CaseloadView, ChoiceList, NoticeLine, StatusLine, Transcript

if TYPE_CHECKING:
    from ..app import StraightApp

END_ACTIONS = [
    ("review", "Review how it ended"),
    ("gallery", "Endings gallery"),
    ("title", "Back to the title screen"),
]


class PlayScreen(BackgroundOnly, Screen[None]):
    """Where the story is played."""

    BINDINGS = [
        *[Binding(str(n), f"choose({n})", f"Choice {n}", show=False, id=f"choose-{n}") for n in range(1, 10)],
        Binding("u", "undo", "Undo", id="undo"),
        Binding("ctrl+z", "undo", "Undo", show=False, id="undo-alt"),
        Binding("ctrl+y", "redo", "Redo", id="redo"),
        Binding("s", "save", "Save", id="save"),
        Binding("l", "load", "Load", show=False, id="load"),
        Binding("f5", "quick_save", "Quick save", show=False, id="quick-save"),
        Binding("f9", "quick_load", "Quick load", show=False, id="quick-load"),
        Binding("j", "journal", "Journal", id="journal"),
        Binding("o", "outcomes", "Outcomes", id="outcomes"),
        Binding("c", "toggle_cases", "Cases", id="cases"),
        Binding("r", "review", "Review", id="review"),
        Binding("f2", "settings", "Settings", show=False, id="settings"),
        Binding("escape", "menu", "Menu", id="menu"),
        # The transcript scrolls with these whatever has focus (the choices usually do).
        Binding("pageup", "scroll_story('page_up')", "Page up", show=False, priority=True, id="page-up"),
        Binding(
            "pagedown", "scroll_story('page_down')", "Page down", show=False, priority=True, id="page-down"
        ),
        Binding("home", "scroll_story('home')", "Start", show=False, priority=True, id="story-start"),
        Binding("end", "scroll_story('end')", "End", show=False, priority=True, id="story-end"),
    ]

    app: StraightApp

    def __init__(self, classes: str = "") -> None:
        super().__init__(classes=classes)
        self._shown: Game | None = None
        self._footer_state: tuple[bool, ...] = ()
        self._passage_entry = 0  # the transcript entry the last choice's text starts at

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        with Row(id="body"):
            yield Transcript(id="transcript")
            with CaseloadScroll(id="caseload"):
                yield CaseloadView(id="cases")
        yield NoticeLine(id="notices")
        yield ChoiceList(id="choices")
        yield Footer()

    @property
    def game(self) -> Game | None:
        return self.app.session.game

    def on_mount(self) -> None:
        # A screen closed as soon as it opened (keys arrive fast) may have lost its children.
        for choices in self.query(ChoiceList):
            choices.focus()
        for transcript in self.query(Transcript):
            self.watch(transcript, "scroll_y", self._scrolled, init=False)
        self.apply_settings()

    def apply_settings(self) -> None:
        """Show the game as the player's settings say (text width)."""
        for transcript in self.query(Transcript):
            transcript.set_measure(int(self.app.session.profile.setting("text_width")))

    @on(Transcript.More)
    def _more(self, message: Transcript.More) -> None:
        for choices in self.query(ChoiceList):
            choices.border_title = "▼ more below (PgDn)" if message.more else None

    def on_screen_resume(self) -> None:
        self.refresh_view()

    @on(GameChanged)
    def _game_changed(self) -> None:
        self.refresh_view()

    # -- showing the state ----------------------------------------------------------------
    def refresh_view(self, *, moved: bool = False) -> None:
        """Show the session's game; `moved` when it just changed by a choice or an undo."""
        game = self.game
        if game is None or not self.query(Transcript):
            return
        fresh = game is not self._shown
        self._shown = game
        self.query_one(StatusLine).show(game)
        self.query_one(CaseloadView).show(
            game, self.app.session.opening(game), frozenset(self.app.session.unread_endings)
        )
        self.query_one(NoticeLine).show(game.notices if moved else [])
        transcript = self.query_one(Transcript)
        first_new = transcript.sync(game.transcript)
        choices = self.query_one(ChoiceList)
        if game.ended:
            choices.show_actions(END_ACTIONS)
        else:
            chosen = self.app.session.chosen_before()
            offered = numbered(game)
            seen = {o.index for _n, o, _e in offered if chosen and choice_key(game, o) in chosen}
            choices.show_choices(offered, seen)
        if fresh:
            # Resume where the player was: at the start of the current passage.
            transcript.reveal(max(0, _last_choice(game)))
        elif moved:
            self._passage_entry = first_new
            # Scroll now, with the sizes as they are, so the usual choice repaints in one pass;
            # after the layout, correct it if the choices' new height moved the end.
            transcript.scroll_to_entry(first_new)
            self.call_after_refresh(transcript.scroll_to_entry, first_new)
        # The footer rebuilds itself on every refresh of bindings: only when what it shows changes.
        shown = (game.can_undo, self.app.session.can_redo, game.ended, self.app.session.has_quicksave)
        if shown != self._footer_state:
            self._footer_state = shown
            self.refresh_bindings()

    def _scrolled(self, _y: float) -> None:
        if self.app.session.unread_endings:
            self._check_read()

    def _check_read(self) -> None:
        """Endings the last choice reached appear in the case panel once the player has
        scrolled down to the end of the passages that tell them (or opened the review)."""
        session = self.app.session
        game = self.game
        if not session.unread_endings or game is None or not self.query(Transcript):
            return
        transcript = self.query_one(Transcript)
        placed = min(transcript.start_of(self._passage_entry), transcript.max_scroll_y)
        if placed < transcript.max_scroll_y <= transcript.scroll_y:
            session.unread_endings = set()
            self.query_one(CaseloadView).show(game, session.opening(game))

    # -- choosing ---------------------------------------------------------------------------
    def offer(self, option: Option) -> None:
        """Take a choice the player picked; a choice that ends the turn with time left asks first
        (unless the settings say not to)."""
        game = self.game
        if game is None or game.ended:
            return
        self._picked(game, self.app.session.offer(option))

    def _picked(self, game: Game, picked: Offer) -> None:
        option = picked.option
        if picked.refused:
            self.app.say(picked.refused, "warning")
            return
        if picked.question is None:
            self.take(option.index)
            return
        from .dialogs import ConfirmDialog

        def answered(yes: bool | None) -> None:
            if yes and self.game is game and option in game.choices:
                # Once this screen is back (its return shows the game as it was), so the
                # change lines of the choice stay.
                self.call_after_refresh(self._take_if_still, game, option)

        title, body = picked.question
        self.app.push_screen(ConfirmDialog(title, body, yes="Yes, end it", no="Not yet", safe=True), answered)

    def _take_if_still(self, game: Game, option: Option) -> None:
        if self.game is game and option in game.choices:
            self.take(option.index)

    def take(self, index: int) -> None:
        """Take the choice at `index` of `game.choices`."""
        self._after(lambda: self.app.session.choose(index))

    def _after(self, step: Callable[[], list[Ending] | None]) -> None:
        try:
            reached = step()
        except ChoiceError as exc:
            self.app.say(f"You can't do that: {exc}.", "warning")
            return
        except StoryRuntimeError as exc:
            self.app.say(f"The story has a fault and can't go on from here: {exc}", "error", timeout=10)
            return
        self.refresh_view(moved=True)
        if reached:
            # No toast: an ending is told by its passage, and shown beside it once that is read.
            self.call_after_refresh(self._check_read)

    @on(ChoiceList.Chosen)
    def _chosen(self, message: ChoiceList.Chosen) -> None:
        game = self.game
        if game is not None and 0 <= message.index < len(game.choices):
            self.offer(game.choices[message.index])

    @on(ChoiceList.Action)
    def _action(self, message: ChoiceList.Action) -> None:
        self.run_end_action(message.action)

    def run_end_action(self, action: str) -> None:
        if action == "review":
            self.action_review()
        elif action == "gallery":
            self.app.action_gallery()
        elif action == "title":
            self.app.show_title()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        game = self.game
        if game is None:
            return action in ("menu",)
        if action == "choose":
            n = parameters[0] if parameters else 0
            if not isinstance(n, int):
                return False
            return 1 <= n <= len(END_ACTIONS) if game.ended else by_number(game, n) is not None
        if action == "undo":
            return game.can_undo
        if action == "redo":
            return self.app.session.can_redo
        if action == "quick_load":
            return self.app.session.has_quicksave
        if action == "review":
            return game.ended
        return True

    def action_choose(self, n: int) -> None:
        game = self.game
        if game is None:
            return
        if game.ended:
            if 1 <= n <= len(END_ACTIONS):
                self.run_end_action(END_ACTIONS[n - 1][0])
            return
        picked = self.app.session.pick(n)  # the number typed in plain mode is read the same way
        if picked is not None:
            self._picked(game, picked)

    def action_undo(self) -> None:
        if self.app.session.undo():
            self.refresh_view(moved=True)
        else:
            self.app.say("There is nothing to undo.")

    def action_redo(self) -> None:
        if self.app.session.can_redo:
            self._after(self.app.session.redo)
        else:
            self.app.say("There is nothing to redo.")

    def action_scroll_story(self, how: str) -> None:
        for transcript in self.query(Transcript):
            if how == "page_up":
                transcript.scroll_page_up(animate=False)
            elif how == "page_down":
                transcript.scroll_page_down(animate=False)
            elif how == "home":
                transcript.scroll_home(animate=False)
            else:
                transcript.scroll_end(animate=False)

    def action_settings(self) -> None:
        self.app.action_settings()

    # -- saving and loading ---------------------------------------------------------------------
    def action_save(self) -> None:
        from .saves import SaveScreen

        def chosen(name: str | None) -> None:
            if name:
                self.save_to(name)

        self.app.push_screen(SaveScreen(), chosen)

    def save_to(self, name: str) -> bool:
        try:
            self.app.session.save(name)
        except SaveError as exc:
            self.app.say(f"Not saved: {exc}. Play goes on.", "error", timeout=10)
            return False
        self.app.say(f"Saved as '{name}'.")
        self.refresh_bindings()
        return True

    def action_quick_save(self) -> None:
        if self.save_to(QUICKSAVE):
            self.refresh_bindings()

    def action_quick_load(self) -> None:
        if self.app.load_slot(QUICKSAVE):
            self.app.say("Quick save loaded.")

    def action_load(self) -> None:
        self.app.action_load_game()

    # -- other screens ---------------------------------------------------------------------------
    def action_journal(self) -> None:
        from .journal import JournalScreen

        self.app.push_screen(JournalScreen())

    def action_outcomes(self) -> None:
        from .outcomes import OutcomesScreen

        self.app.push_screen(OutcomesScreen())

    def action_review(self) -> None:
        from .review import ReviewScreen

        if self.game is not None and self.game.ended:
            self.app.push_screen(ReviewScreen())

    def action_toggle_cases(self) -> None:
        # Wide and narrow layouts each remember their own choice: shown by default when wide.
        self.toggle_class("-hide-cases" if self.has_class("-wide") else "-show-cases")

    def action_menu(self) -> None:
        self.app.show_title()

    def palette_commands(self) -> list[Command]:
        game = self.game
        out = []
        if game is not None and game.can_undo:
            out.append(Command("Undo", "Step back before the last choice", self.action_undo))
        if self.app.session.can_redo:
            out.append(Command("Redo", "Take again the choice you undid (Ctrl+Y)", self.action_redo))
        out += [
            Command("Save game", "Save to a named slot", self.action_save),
            Command("Quick save", "Save to the quick-save slot (F5)", self.action_quick_save),
        ]
        if self.app.session.has_quicksave:
            out.append(Command("Quick load", "Load the quick-save slot (F9)", self.action_quick_load))
        out += [
            Command("Load game", "Load a saved game", self.action_load),
            Command("Journal", "What has happened so far, turn by turn", self.action_journal),
            Command("Outcomes", "Charts of every case and pathway", self.action_outcomes),
            Command("Toggle case panel", "Show or hide the caseload panel", self.action_toggle_cases),
        ]
        if game is not None and game.ended:
            out.append(Command("Review", "How it ended, and how you worked", self.action_review))
        out.append(
            Command("Title screen", "Back to the title screen (the game is autosaved)", self.action_menu)
        )
        return out


def _last_choice(game: Game) -> int:
    transcript = game.transcript
    for i in range(len(transcript) - 1, -1, -1):
        if transcript[i][0] == "choice":
            return i
    return -1
