"""How big a story is: words, nodes, choices, endings and events, in total, per case and per scene.

A node belongs to a case (a character) through its scene's `character`, and an ending node to
the character its ending names. Words are counted in every variant of every passage, in choice
texts, reasons and event titles; an interpolation such as {becky.name} counts as one word.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..engine.story import Story
from .ir import nodes, template_words, text_words


@dataclass
class Tally:
    """The counts for one part of a story."""

    words: int = 0
    nodes: int = 0
    choices: int = 0
    endings: int = 0
    events: int = 0

    def to_dict(self) -> dict[str, int]:
        return {
            "words": self.words,
            "nodes": self.nodes,
            "choices": self.choices,
            "endings": self.endings,
            "events": self.events,
        }


@dataclass
class StoryStats:
    """The counts for the whole story, each case and each scene."""

    title: str
    total: Tally = field(default_factory=Tally)
    cases: dict[str, Tally] = field(default_factory=dict)
    case_names: dict[str, str] = field(default_factory=dict)
    scenes: dict[str, Tally] = field(default_factory=dict)
    no_case: Tally = field(default_factory=Tally)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"title": self.title, **self.total.to_dict()}
        out["cases"] = {c: t.to_dict() for c, t in self.cases.items()}
        out["no_case"] = self.no_case.to_dict()
        out["scenes"] = {s: t.to_dict() for s, t in sorted(self.scenes.items())}
        return out


def node_tally(ir: Mapping[str, Any]) -> Tally:
    """The counts for one node."""
    t = Tally(nodes=1)
    t.words = text_words(ir["text"])
    for c in ir["choices"]:
        if c:
            if not c["fallback"]:
                t.choices += 1
            t.words += template_words(c["text"]) + template_words(c.get("reason"))
    if ir["event"] is not None:
        t.events = 1
        t.words += template_words(ir["event"]["title"]) + template_words(ir["event"].get("reason"))
    if ir["ending"]:
        t.endings = 1
        t.words += len(str(ir["ending"]["title"]).split())
    return t


def _add(into: Tally, t: Tally) -> None:
    into.words += t.words
    into.nodes += t.nodes
    into.choices += t.choices
    into.endings += t.endings
    into.events += t.events


def story_stats(story: Story) -> StoryStats:
    """Count everything in a loaded story."""
    stats = StoryStats(story.title)
    for c in story.characters:
        stats.cases[c.id] = Tally()
        stats.case_names[c.id] = c.name
    for _i, ir in nodes(story):
        t = node_tally(ir)
        _add(stats.total, t)
        _add(stats.scenes.setdefault(ir["scene"], Tally()), t)
        ending = ir["ending"]
        case = ending["character"] if ending and ending["character"] is not None else ir["character"]
        _add(stats.cases[story.characters[case].id] if case is not None else stats.no_case, t)
    return stats


def format_stats(stats: StoryStats) -> str:
    """A table for people."""
    head = f"{'':<28}{'words':>9}{'nodes':>8}{'choices':>9}{'endings':>9}{'events':>8}"

    def row(name: str, t: Tally) -> str:
        return f"{name[:27]:<28}{t.words:>9,}{t.nodes:>8,}{t.choices:>9,}{t.endings:>9,}{t.events:>8,}"

    lines = [stats.title, "", head, row("Total", stats.total)]
    if stats.cases:
        lines += ["", "By case"]
        lines += [row(f"  {stats.case_names[c]} ({c})", t) for c, t in stats.cases.items()]
        if stats.no_case.nodes:
            lines.append(row("  (no case)", stats.no_case))
    lines += ["", "By scene"]
    lines += [row(f"  {s}", t) for s, t in sorted(stats.scenes.items())]
    return "\n".join(lines) + "\n"
