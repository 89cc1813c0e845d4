"""How choices are numbered and guarded, the same in the Textual app and in plain mode.

No Textual here. Two rules keep a player who keeps pressing 1 (or Enter) from losing time:
a choice that ends the turn (its target is `<end-turn>`) comes last, never first; and taking
it while some of the turn's budget is left asks first. Every choice shown keeps its number,
disabled or not, so the same option has the same key from one visit to the next.
"""

from __future__ import annotations

from typing import NamedTuple

from .engine import Game, Option
from .engine.story import END_TURN

# Keys 1-9 choose in the app; a tenth choice and later are taken with the arrows and Enter.
# Plain mode, where a number is typed, numbers every choice (`keyed=None`).
KEYED = 9


class Numbered(NamedTuple):
    """A choice as offered: its number (0 past the keys), the option, and whether it ends the turn."""

    number: int
    option: Option
    ends_turn: bool


def ends_turn(option: Option) -> bool:
    """Whether taking the option ends the turn at once (its target is `<end-turn>`)."""
    return option.choice.target == END_TURN


def numbered(game: Game, keyed: int | None = KEYED) -> list[Numbered]:
    """The choices on offer in the order shown, each with its number: the story's order, with
    the choices that end the turn moved to the end. Past `keyed` choices have no number (0)."""
    options = game.choices
    early = [ends_turn(o) for o in options]
    order = [o for o, e in zip(options, early, strict=True) if not e] + [
        o for o, e in zip(options, early, strict=True) if e
    ]
    last = len(order) if keyed is None else keyed
    return [Numbered(n if n <= last else 0, o, ends_turn(o)) for n, o in enumerate(order, 1)]


def by_number(game: Game, number: int, keyed: int | None = KEYED) -> Numbered | None:
    """The choice with this number, if there is one (enabled or not)."""
    for item in numbered(game, keyed):
        if item.number == number:
            return item
    return None


def number_of(game: Game, option: Option, keyed: int | None = KEYED) -> int:
    """The number a player types for `option` (0 when it has none): `by_number` the other way."""
    for item in numbered(game, keyed):
        if item.option.index == option.index:
            return item.number
    return 0


class Offer(NamedTuple):
    """What a choice the player picked comes to: refused (`refused` says why, in a sentence),
    asked about first (`question`: the title and body), or else taken at once."""

    option: Option
    refused: str = ""
    question: tuple[str, str] | None = None


def offer(game: Game, option: Option, *, confirm_end_turn: bool) -> Offer:
    """Whether a picked choice can be taken, and whether to ask first (a choice that ends the
    turn with some of its budget left, when the player's setting says to ask)."""
    if not option.enabled:
        return Offer(option, refused=f"You can't do that now: {option.reason or 'not available'}.")
    left = early_end(game, option) if confirm_end_turn else ""
    return Offer(option, question=early_end_question(option, left) if left else None)


def budget_left(game: Game) -> str:
    """What is left of the turn's budget, e.g. "27 hours" ('' when none is left or the story
    has no budget)."""
    story = game.story
    turns = story.turns
    if turns is None or turns.budget is None:
        return ""
    var = story.variables[turns.budget]
    value = game.v[var.slot]
    if not isinstance(value, int) or value <= var.min:
        return ""
    unit = var.unit or var.name
    if value == 1 and unit.endswith("s"):
        unit = unit[:-1]
    return f"{value} {unit}"


def early_end(game: Game, option: Option) -> str:
    """Why to ask before taking `option`: "27 hours" of the turn still left; '' if no need."""
    if game.ended or not ends_turn(option):
        return ""
    return budget_left(game)


def early_end_question(option: Option, left: str) -> tuple[str, str]:
    """The title and body of the question asked before ending a turn early."""
    title = option.text.strip().rstrip(".!") or "End the turn"
    return f"{title}?", f"You still have {left} left."


def choice_key(game: Game, option: Option) -> str:
    """A name for a choice that survives an author reordering files: the node's (or event's)
    id and the choice's place among its node's choices."""
    story = game.story
    event = option.choice.event
    if event is not None:
        return f"event:{story.node_ids[event.node]}"
    return f"{story.node_ids[game.node]}:{option.ref}"
