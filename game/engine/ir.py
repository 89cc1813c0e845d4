"""The shapes of the checked story (the IR) that the loader makes and the compiler reads.

The IR is plain dicts, lists and tuples on purpose: it is kept as marshal bytes (in memory and
in the cache), which only plain types survive, and a large story has hundreds of thousands of
pieces. These types say what each piece holds, so the type checker holds the loader, the
compiler and the tools to the same shape; they cost nothing when the game runs.

Expressions are tuples whose first item names their kind; `expr.compile_expr` matches on them:

    ("num", 3)  ("str", "custody")  ("var", slot)  ("turn",)  ("visited", node)  ("ended", char)
    ("not", e)  ("neg", e)  ("and", a, b)  ("or", a, b)  ("cmp", op, a, b)  ("bin", op, a, b)
    ("call", name, arg, ...)

Text is a list of items: ("p", template) a paragraph; ("if", test, then, else) with `then` and
`else` lists of items; ("sequence" | "cycle" | "shuffle", [items, ...]) one of several. A
template is a tuple of strings and ("expr", e, format) interpolations.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypeAlias, TypedDict

Expr: TypeAlias = tuple[Any, ...]
Template: TypeAlias = tuple[Any, ...]
TextItem: TypeAlias = tuple[Any, ...]
# An effect: ("set", slot, op, value expr) or ("if", test, then effects, else effects).
Effect: TypeAlias = tuple[Any, ...]
# How a node goes on: ("choices",), ("end",), ("goto", node), ("random", [(weight, effects,
# node), ...]) or ("branch", [(test or None, effects, node), ...]).
Nav: TypeAlias = tuple[Any, ...]


# (Written this way because `if` is a key.)
IRChoice = TypedDict(
    "IRChoice",
    {
        "line": int,
        "text": Template,
        "cost": list[tuple[int, Expr]],
        "effects": list[Effect] | None,
        "goto": int,
        "once": bool,
        "fallback": bool,
        "id": NotRequired[str],
        "if": Expr | None,
        "reason": Template | None,
    },
)

IREvent = TypedDict(
    "IREvent",
    {
        "title": Template,
        "cost": list[tuple[int, Expr]],
        "priority": int,
        "weight": Expr,
        "once": bool,
        "cooldown": int,
        "forced": bool,
        "tags": list[str] | None,
        "if": Expr | None,
        "reason": Template | None,
    },
)


class IREnding(TypedDict):
    id: str
    title: str
    category: str
    character: int | None


class IRHub(TypedDict):
    tags: list[str] | None
    limit: int | None


class IRNode(TypedDict):
    id: str
    scene: str
    file: str
    line: int
    character: int | None
    title: str | None
    text: list[TextItem]
    effects: list[Effect] | None
    choices: list[IRChoice | None]
    nav: Nav
    ending: IREnding | None
    hub: IRHub | None
    event: IREvent | None
