"""The Textual app: built by `make_app` from explicit paths, shared by `iom play` and the tests.

Only the title screen is imported at start; every other screen is imported when first shown,
to keep the time to the first frame close to a bare Textual app's.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import App
from textual.binding import Binding
from textual.command import Provider
from textual.containers import ScrollableContainer
from textual.message import Message
from textual.screen import Screen

from ..engine import Game, Problem, Story, check
from ..engine.textsafe import terminal_safe
from ..session import Session
from .watch import fingerprint

if TYPE_CHECKING:
    from .commands import Command

Palette = list["Command"]

# The rules of every screen but the title: read when the first of them opens (see app.tcss).
SCREENS_CSS = "screens.tcss"

# A click on a scrolling box (mostly on its text) leaves the focus where it was, on every
# screen: the menu, list or tabs beside it keep their keys. The box still scrolls with the
# wheel, and Tab still reaches it.
ScrollableContainer.FOCUS_ON_CLICK = False


def _game_commands() -> type[Provider]:
    # The palette's module is read when the palette first opens, not before the first frame.
    from .commands import GameCommands

    return GameCommands


class SessionNotice(Message):
    """A message for the player from the session (possibly from the autosave thread)."""

    def __init__(self, text: str, severity: str) -> None:
        super().__init__()
        self.text = text
        self.severity = severity


class StoryChecked(Message):
    """The story folder was checked again after its files changed."""

    def __init__(self, story: Story | None, problems: list[Problem], stamp: Any) -> None:
        super().__init__()
        self.story = story
        self.problems = problems
        self.stamp = stamp


class GameChanged(Message):
    """The session's game was replaced, or changed outside the play screen."""


class StraightApp(App[int]):
    """Straight and Narrow, as players meet it."""

    CSS_PATH = "app.tcss"
    TITLE = "Straight and Narrow"
    HORIZONTAL_BREAKPOINTS = [(0, "-tiny"), (60, "-narrow"), (100, "-wide")]
    COMMANDS = App.COMMANDS | {_game_commands}
    BINDINGS = [
        Binding("f1", "help", "Help", id="help"),
        Binding("question_mark", "help", "Help", show=False, id="help-alt"),
        Binding("ctrl+t", "change_theme", "Theme", show=False, id="theme"),
    ]

    def __init__(
        self,
        session: Session,
        *,
        game: Game | None = None,
        resume: bool = False,
        watch: bool = True,
        watch_interval: float = 1.0,
    ) -> None:
        super().__init__()
        self.session = session
        self._first_game = game
        self._resume = resume
        self._watch = watch
        self._watch_interval = watch_interval
        self._stamp: Any = None
        self._theme_timer: Any = None
        self._errors_screen: Screen[Any] | None = None
        self._checking = False
        self._theme_changed = False
        self._screens_css_read = False

    # -- start and finish ----------------------------------------------------------------
    def on_mount(self) -> None:
        session = self.session
        session.notify = self._post_notice
        session.defer = self.call_after_refresh
        theme = session.profile.theme
        if theme and theme in self.available_themes:
            self.theme = theme
        self.apply_settings()
        if session.profile.problem:
            self.say(
                f"Your profile can't be used: {session.profile.problem}. "
                "Endings seen in this session won't be kept.",
                "warning",
            )
        if self._watch and session.story_dir.is_dir():
            # A moment after the first screen: the player waits for nothing an author needs.
            self.set_timer(min(self._watch_interval, 0.5), self._start_watching, name="story-watch-start")
        if session.story is None:
            self.show_story_errors(session.problems)
            return
        if self._resume and self._first_game is not None:
            session.adopt(self._first_game)
            self.show_play()

    def _start_watching(self) -> None:
        self._stamp = fingerprint(self.session.story_dir)
        self.set_interval(self._watch_interval, self._poll_story, name="story-watch")

    def on_unmount(self) -> None:
        self._save_theme()
        self.session.close()

    # -- messages to the player -----------------------------------------------------------
    def say(self, text: str, severity: str = "information", timeout: float | None = None) -> None:
        """Notify without ever reading the text as markup (it may hold story text or paths)."""
        self.notify(text, severity=severity, markup=False, timeout=timeout)  # type: ignore[arg-type]

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: Any = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast, from any screen or widget, comes here: control characters in it are
        shown, never sent to the terminal."""
        super().notify(
            terminal_safe(message),
            title=terminal_safe(title),
            severity=severity,
            timeout=timeout,
            markup=markup,
        )

    def _post_notice(self, text: str, severity: str) -> None:
        # post_message is safe from any thread; notify is not.
        self.post_message(SessionNotice(text, severity))

    @on(SessionNotice)
    def _session_notice(self, message: SessionNotice) -> None:
        self.say(message.text, message.severity, timeout=8 if message.severity == "error" else None)

    def width_class(self) -> str:
        """The breakpoint class for the terminal's width now (a new screen starts with it, so
        its first layout is already the right one, not one column set redone a frame later)."""
        width = self.size.width
        found = ""
        for threshold, name in self.HORIZONTAL_BREAKPOINTS or []:
            if width >= threshold:
                found = name
        return found

    # -- navigation -----------------------------------------------------------------------
    # One stack, title at the bottom: Textual's modes re-parse the whole stylesheet on every
    # first switch, which would cost more than the rest of start-up.
    def get_default_screen(self) -> Screen[Any]:
        # The title is the first screen itself, not one pushed over an empty default screen
        # that would be styled, laid out and drawn for nothing.
        if self.session.story is None:
            return super().get_default_screen()
        from .screens.title import TitleScreen

        return TitleScreen(classes=self.width_class())

    def push_screen(self, screen: Any, *args: Any, **kwargs: Any) -> Any:
        self._read_screens_css()
        return super().push_screen(screen, *args, **kwargs)

    def _read_screens_css(self) -> None:
        """Add the rules of every screen but the title to the stylesheet, before the first of
        them is shown. Only the new file is parsed; the widgets already shown aren't affected."""
        if not self._screens_css_read:
            self._screens_css_read = True
            self.stylesheet.read(Path(__file__).with_name(SCREENS_CSS))

    def push_title(self) -> None:
        from .screens.title import TitleScreen

        self.push_screen(TitleScreen(classes=self.width_class()))

    def _find(self, name: str) -> int:
        for i, screen in enumerate(self.screen_stack):
            if type(screen).__name__ == name:
                return i
        return -1

    def _pop_to(self, index: int) -> None:
        """Close every screen above the one at `index` in the stack."""
        while len(self.screen_stack) > index + 1:
            self.pop_screen()

    def show_title(self) -> None:
        index = self._find("TitleScreen")
        if index < 0:
            self.push_title()
        else:
            self._pop_to(index)

    def show_play(self) -> None:
        """Go to the play screen for the session's current game."""
        index = self._find("PlayScreen")
        if index >= 0:
            self._pop_to(index)
            self.screen_stack[index].post_message(GameChanged())
            return
        from .screens.play import PlayScreen

        self.push_screen(PlayScreen(classes=self.width_class()))

    def start_new_game(self) -> None:
        try:
            self.session.new_game()
        except Exception as exc:  # noqa: BLE001 - a story fault at its very start
            self.say(f"The story can't start: {exc}", "error")
            return
        self.show_play()

    def load_slot(self, name: str) -> bool:
        """Load a save slot and play it; False (with the reason shown) if it can't be."""
        from ..engine import SaveError

        try:
            self.session.load(name)
        except SaveError as exc:
            self.say(f"Can't load '{name}': {exc}. The file is left as it is.", "error")
            return False
        self.show_play()
        return True

    def action_help(self) -> None:
        from .screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.action_close()
            return
        self.push_screen(HelpScreen(self.screen.active_bindings))

    def action_support(self) -> None:
        from .screens.help import SupportScreen

        if not isinstance(self.screen, SupportScreen):
            self.push_screen(SupportScreen())

    def action_settings(self) -> None:
        from .screens.settings import SettingsScreen

        if not isinstance(self.screen, SettingsScreen):
            self.push_screen(SettingsScreen())

    def apply_settings(self) -> None:
        """Make the profile's settings felt now: motion here, the rest by each screen."""
        reduce = self.session.profile.setting("reduce_motion")
        self.animation_level = "none" if reduce else "full"
        for screen in self.screen_stack:
            apply = getattr(screen, "apply_settings", None)
            if apply is not None:
                apply()

    def action_gallery(self) -> None:
        from .screens.gallery import GalleryScreen

        if self.session.story is not None and not isinstance(self.screen, GalleryScreen):
            self.push_screen(GalleryScreen())

    def action_load_game(self) -> None:
        from .screens.saves import LoadScreen

        if self.session.story is None or isinstance(self.screen, LoadScreen):
            return

        def chosen(name: str | None) -> None:
            if name:
                self.load_slot(name)

        self.push_screen(LoadScreen(), chosen)

    # -- the command palette ----------------------------------------------------------------
    def action_command_palette(self) -> None:
        from .commands import SafeCommandPalette

        if self.use_command_palette and not SafeCommandPalette.is_open(self):
            self.push_screen(SafeCommandPalette(id="--command-palette"))

    def search_themes(self) -> None:
        from .commands import theme_palette

        self.push_screen(theme_palette())

    def palette_commands(self, screen: Screen[Any]) -> Palette:
        """Commands that make sense now, for the palette: the screen's own, then the app's."""
        from .commands import Command

        own: Callable[[], Palette] | None = getattr(screen, "palette_commands", None)
        commands = list(own()) if own is not None else []
        commands.append(Command("Help", "Keys and how to play (F1)", self.action_help))
        commands.append(
            Command("Support lines", "Helplines for the issues in this story", self.action_support)
        )
        commands.append(
            Command(
                "Settings", "Theme, text width, questions before ending a turn, motion", self.action_settings
            )
        )
        if self.session.story is not None:
            commands.append(
                Command("Endings gallery", "Endings you have found across playthroughs", self.action_gallery)
            )
            commands.append(
                Command("Reload story", "Check the story files again now", self.action_reload_story)
            )
        return commands

    # -- themes, remembered in the profile ---------------------------------------------------
    def watch_theme(self, theme: str) -> None:
        if not self.is_mounted:
            return
        self._theme_changed = True
        if self._theme_timer is not None:
            self._theme_timer.stop()
        # Browsing themes in the palette changes the theme on every keypress: save once it settles.
        self._theme_timer = self.set_timer(1.0, self._save_theme)

    def _save_theme(self) -> None:
        self._theme_timer = None
        profile = self.session.profile
        if self._theme_changed and profile.theme != self.theme and not profile.read_only:
            profile.theme = self.theme
            self.session.save_profile()

    # -- authors: watching the story folder ------------------------------------------------------
    def action_reload_story(self) -> None:
        """Check and load the story files again now (in a worker)."""
        self._check_story(force=True)

    def _poll_story(self) -> None:
        if not self._checking:
            self._check_story(force=False)

    @work(thread=True, group="story-watch", exit_on_error=False)
    def _check_story(self, force: bool = False) -> None:
        self._checking = True
        try:
            root = self.session.story_dir
            stamp = fingerprint(root)
            if stamp == self._stamp and not force:
                return
            story, problems = check(root)
            self.post_message(StoryChecked(story, problems, stamp))
        finally:
            self._checking = False

    @on(StoryChecked)
    def _story_checked(self, message: StoryChecked) -> None:
        self._stamp = message.stamp
        session = self.session
        if message.story is None:
            self.show_story_errors(message.problems)
            return
        had_story = session.story is not None
        reason = session.reload(message.story)
        if self._errors_screen is not None:
            screen, self._errors_screen = self._errors_screen, None
            screen.resolved = True  # type: ignore[attr-defined]
            if screen.is_current:
                screen.dismiss()
        if not had_story:
            self.push_title()
            self.say("The story loads now.")
            return
        if reason:
            self.say(
                f"The story changed, but your place in it no longer exists ({reason}). "
                "You are still playing the previous version; start a new game for the new one.",
                "warning",
                timeout=10,
            )
        else:
            self.say("Story reloaded.")
        self.refresh_game_views()

    def show_story_errors(self, problems: list[Problem]) -> None:
        from .screens.errors import StoryErrorsScreen

        if self._errors_screen is not None and self._errors_screen.is_attached:
            self._errors_screen.show_problems(problems)  # type: ignore[attr-defined]
            return
        screen = StoryErrorsScreen(
            self.session.story_dir, problems, can_dismiss=self.session.story is not None
        )
        self._errors_screen = screen
        self.push_screen(screen)

    def refresh_game_views(self) -> None:
        """Tell the play screen (wherever it is in the stack) that the game changed."""
        for screen in self.screen_stack:
            screen.post_message(GameChanged())


def make_app(
    story_dir: Path | str,
    saves_dir: Path | str,
    seed: int = 0,
    *,
    game: Game | None = None,
    story: Story | None = None,
    resume: bool = False,
    watch: bool = True,
    watch_interval: float = 1.0,
) -> StraightApp:
    """Build the app for a story folder and a saves folder.

    `game` (from the command line: new, or loaded with --load) supplies the story; with
    `resume` the app opens straight into it. Without a game or story the folder is loaded
    here; if it has errors the app shows them and waits for a fix.
    """
    problems: list[Problem] = []
    if game is not None:
        story = game.story
    if story is None:
        story, problems = check(Path(story_dir))
    else:
        problems = [p for p in story.warnings if isinstance(p, Problem)]
    session = Session(Path(story_dir), Path(saves_dir), seed, story, problems)
    return StraightApp(session, game=game, resume=resume, watch=watch, watch_interval=watch_interval)


def tune_gc() -> None:
    """Garbage collection for a long-lived app holding a big story.

    The story lives as long as the process: freezing takes it out of the collector's sight, so
    collections stop walking it. And a repaint allocates thousands of short-lived objects; with
    the default threshold (700) that means several collections per keypress, each promoting
    survivors towards the expensive full collections. A higher threshold lets them die young.
    """
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def run_app(
    *,
    story_dir: Path | str,
    saves_dir: Path | str,
    seed: int,
    game: Game | None = None,
    resume: bool = False,
    **options: Any,
) -> int:
    """Run the game in the terminal until the player quits; returns the exit code."""
    app = make_app(story_dir, saves_dir, seed, game=game, resume=resume, **options)
    tune_gc()
    try:
        app.run()
    finally:
        app.session.close()
    return app.return_code or 0
