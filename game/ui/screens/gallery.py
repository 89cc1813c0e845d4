"""The endings gallery: every ending of the story, and which you have found in any playthrough."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Footer, Static

from ...engine import Story
from ...profile import Profile
from .. import render
from .dialogs import BackScreen


def gallery_text(story: Story, profile: Profile) -> Text:
    seen = profile.endings_seen(story.id)
    endings = story.endings
    found = sum(1 for e in endings if e.id in seen)
    out = Text()
    out.append(f"Endings found: {found} of {len(endings)}", style="bold")
    runs = len(profile.runs(story.id))
    if runs:
        out.append(f"  ·  {runs} finished {'run' if runs == 1 else 'runs'}", style="dim")
    out.append("\n")
    sections: list[tuple[str, str | None]] = [("The story", None)]
    sections += [(c.name, c.id) for c in story.characters]
    for title, char in sections:
        mine = [e for e in endings if e.character == char]
        if not mine:
            continue
        out.append(f"\n{title}\n", style="bold")
        for end in mine:
            item = seen.get(end.id)
            if item is None:
                out.append("  ·  ???  not found yet\n", style="dim")
                continue
            out.append("  ✓  ")
            out.append(render.ending_line(end.title, end.category))
            count = int(item.get("count", 0) or 0)
            if count > 1:
                out.append(f"  ×{count}", style="dim")
            out.append("\n")
    if profile.problem:
        out.append(f"\n{profile.problem}\n", style="italic")
    out.rstrip()
    return out


class GalleryScreen(BackScreen):
    """Endings found across playthroughs."""

    def compose(self) -> ComposeResult:
        story = self.app.session.story
        with Vertical(classes="sheet"):
            yield Static(Text("Endings", style="bold"), classes="sheet-title")
            with VerticalScroll(id="gallery-scroll"):
                body = gallery_text(story, self.app.session.profile) if story else Text("No story loaded.")
                yield Static(body, id="gallery-text")
        yield Footer()

    def on_mount(self) -> None:
        for scroll in self.query("#gallery-scroll"):
            scroll.focus()
