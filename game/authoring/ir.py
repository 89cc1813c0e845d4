"""Reading a loaded story's IR: expressions back to source text, and walks over nodes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..engine.ir import IRNode
from ..engine.story import END_TURN, HUB, Story

_PREC = {"or": 1, "and": 2, "not": 3, "cmp": 4, "+": 5, "-": 5, "*": 6, "/": 6, "//": 6, "%": 6, "neg": 7}


def unparse(tree: Any, story: Story) -> str:
    """An expression tree as the author would write it."""
    return _unparse(tree, story, 0)


def _unparse(tree: Any, story: Story, outer: int) -> str:
    kind = tree[0]
    if kind == "num":
        v = tree[1]
        text = ("true" if v else "false") if isinstance(v, bool) else repr(v)
        return text
    if kind == "str":
        return f"'{tree[1]}'"
    if kind == "var":
        return str(story.variables[tree[1]].name)
    if kind == "turn":
        return "turn"
    if kind == "visited":
        return f"visited({story.node_ids[tree[1]]})"
    if kind == "ended":
        return f"ended({story.characters[tree[1]].id})"
    if kind == "call":
        return f"{tree[1]}({', '.join(_unparse(a, story, 0) for a in tree[2:])})"
    if kind == "not":
        text, prec = f"not {_unparse(tree[1], story, 3)}", 3
    elif kind == "neg":
        text, prec = f"-{_unparse(tree[1], story, 7)}", 7
    elif kind in ("and", "or"):
        prec = _PREC[kind]
        text = f"{_unparse(tree[1], story, prec)} {kind} {_unparse(tree[2], story, prec + 1)}"
    elif kind == "cmp":
        prec = 4
        text = f"{_unparse(tree[2], story, 5)} {tree[1]} {_unparse(tree[3], story, 5)}"
    elif kind == "bin":
        prec = _PREC[tree[1]]
        text = f"{_unparse(tree[2], story, prec)} {tree[1]} {_unparse(tree[3], story, prec + 1)}"
    else:
        return "?"
    return f"({text})" if prec < outer else text


def effect_text(stmt: Any, story: Story) -> str:
    """One effect statement as source text (an if block on one line)."""
    if stmt[0] == "if":
        then = "; ".join(effect_text(s, story) for s in stmt[2])
        text = f"if {unparse(stmt[1], story)}: {then}"
        if stmt[3]:
            text += f" else: {'; '.join(effect_text(s, story) for s in stmt[3])}"
        return text
    _set, slot, op, tree, _t = stmt
    return f"{story.variables[slot].name} {op} {unparse(tree, story)}"


def template_text(parts: Any, story: Story) -> str:
    """A text template (literal parts and interpolations) as source text."""
    out = []
    for p in parts or ():
        if isinstance(p, str):
            out.append(p.replace("{", "{{").replace("}", "}}"))
        else:
            out.append("{" + unparse(p[1], story) + "}")
    return "".join(out)


def target_name(target: int, story: Story) -> str:
    """A node index (or special target) as the author writes it."""
    if target == HUB:
        return "<hub>"
    if target == END_TURN:
        return "<end-turn>"
    return story.node_ids[target]


def nodes(story: Story) -> Iterator[tuple[int, IRNode]]:
    """(index, IR) of every node, in story order."""
    for i in range(len(story.node_ids)):
        yield i, story.ir_node(i)


def text_words(items: Any) -> int:
    """Words in text items, counting every variant (each interpolation is one word)."""
    count = 0
    for item in items or ():
        kind = item[0]
        if kind == "p":
            count += template_words(item[1])
        elif kind == "if":
            count += text_words(item[2]) + text_words(item[3])
        else:
            for alternative in item[1]:
                count += text_words(alternative)
    return count


def template_words(parts: Any) -> int:
    """Words in a template; an interpolation counts as one word."""
    return len("".join(p if isinstance(p, str) else "X" for p in parts or ()).split())
