"""The command palette's game commands: whatever makes sense on the screen it was opened from."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import NamedTuple

from textual.await_complete import AwaitComplete
from textual.command import CommandPalette, DiscoveryHit, Hit, Hits, Provider
from textual.theme import ThemeProvider

from . import textual_private


class Command(NamedTuple):
    """One palette entry: its name, a line of help, and what it does."""

    name: str
    help: str
    run: Callable[[], object]


class GameCommands(Provider):
    """Asks the app (which asks the screen) for the commands valid right now."""

    def _commands(self) -> list[Command]:
        palette = getattr(self.app, "palette_commands", None)
        return list(palette(self.screen)) if palette is not None else []

    async def discover(self) -> Hits:
        for command in self._commands():
            yield DiscoveryHit(command.name, command.run, help=command.help)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for command in self._commands():
            score = matcher.match(command.name)
            if score > 0:
                yield Hit(score, matcher.highlight(command.name), command.run, help=command.help)


class SafeCommandPalette(textual_private.PaletteGuards, CommandPalette):
    """The command palette, minus three crashes seen in Textual 8.2 when keys come in a burst:
    a page key before its list is drawn raises KeyError, a second Enter dismisses it twice, and
    a search finishing as the palette closes finds its list already gone."""

    def dismiss(self, result: object = None) -> AwaitComplete:
        # Two Enters in one burst select twice; the second would pop the screen underneath.
        if not self.is_current:
            return AwaitComplete(asyncio.sleep(0))
        return super().dismiss(result)  # type: ignore[arg-type]


def theme_palette() -> SafeCommandPalette:
    """Textual's theme picker, in the safe palette."""
    return SafeCommandPalette(providers=[ThemeProvider], placeholder="Search for themes…")
