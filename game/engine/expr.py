"""The story expression language: parsed and checked at load time, compiled to closures.

Grammar (lowest precedence first)::

    expr    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | cmp
    cmp     := sum (("=="|"!="|"<"|"<="|">"|">=") sum)?
    sum     := term (("+"|"-") term)*
    term    := unary (("*"|"/"|"//"|"%") unary)*
    unary   := "-" unary | atom
    atom    := NUMBER | STRING | "true" | "false" | NAME | NAME "(" args ")" | "(" expr ")"

Parsing yields plain tuples (safe to cache with marshal); `compile_expr` turns them into
closures taking the game state. There is no eval, no attribute access and no way to call
anything but the built-in functions below.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, Protocol

from .errors import StoryRuntimeError
from .ir import Expr

MAX_LENGTH = 2000
MAX_DEPTH = 40
MAX_LITERAL = 10**12
# Numbers stay finite: a product or quotient beyond this is a fault, so no value an expression
# makes can grow to infinity, NaN or a number too long to print (sums of bounded parts, in an
# expression of at most MAX_LENGTH characters, stay far below the float limit).
MAX_NUMBER = 10**15

# Types of expression values.
INT, FLOAT, BOOL, STR = "int", "float", "bool", "str"
NUMERIC = (INT, FLOAT, BOOL)

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<num>\d+(?:\.\d+)?)
  | (?P<str>'[^'\n]*'|"[^"\n]*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<op>\*\*|//|==|!=|<=|>=|\+=|-=|\*=|&&|\|\||[-+*/%<>=(),!])
    """,
    re.VERBOSE,
)

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")

_HINTS = {
    "**": "there is no power operator '**'",
    "&&": "write 'and' instead of '&&'",
    "||": "write 'or' instead of '||'",
    "!": "write 'not' instead of '!'",
    "=": "write '==' to compare ('=' is only for effects)",
}

FUNCTIONS: dict[str, tuple[int, int]] = {
    # name: (min args, max args)
    "visited": (1, 1),
    "ended": (1, 1),
    "chance": (1, 1),
    "random": (2, 2),
    "min": (1, 16),
    "max": (1, 16),
    "clamp": (3, 3),
    "abs": (1, 1),
}
RESERVED = {"and", "or", "not", "true", "false", "turn"} | set(FUNCTIONS)
_ONLY_BUILTINS = (
    "expressions can't use attribute access or call anything but the built-in functions "
    f"({', '.join(FUNCTIONS)})"
)


class ExprError(Exception):
    """An invalid expression; `offset` is the 0-based position in the source text."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass(frozen=True, slots=True)
class VarInfo:
    """What an expression needs to know about a variable."""

    slot: int
    type: str  # int, bool or enum
    values: tuple[str, ...] = ()


class Scope(Protocol):
    """Names an expression can refer to."""

    def variable(self, name: str, write: bool = False) -> VarInfo | None: ...
    def slot_info(self, slot: int) -> VarInfo | None: ...
    def constant(self, name: str) -> str | None: ...
    def node(self, ref: str) -> int | None: ...
    def character(self, name: str) -> int | None: ...
    def suggest(self, name: str, kind: str) -> str | None: ...


def did_you_mean(name: str, candidates: Sequence[str]) -> str | None:
    """The closest candidate to a misspelt name, if any is close."""
    from difflib import get_close_matches  # only needed when something is wrong

    found = get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return found[0] if found else None


def _tokens(src: str) -> list[tuple[str, str, int]]:
    if len(src) > MAX_LENGTH:
        raise ExprError(f"expression is longer than {MAX_LENGTH} characters", 0)
    out: list[tuple[str, str, int]] = []
    pos = 0
    n = len(src)
    while pos < n:
        m = _TOKEN.match(src, pos)
        if m is None:
            ch = src[pos]
            if ch in "'\"":
                raise ExprError("unterminated string", pos)
            if ch == "." and src[pos + 1 : pos + 2].isalpha():
                # `f(x).attr`: an unknown function called before it is the first problem.
                for i, (kind, text, at) in enumerate(out[:-1]):
                    if kind == "name" and out[i + 1][1] == "(" and text not in FUNCTIONS:
                        raise ExprError(f"unknown function '{text}'; {_ONLY_BUILTINS}", at)
                attr = re.match(r"\.\w*", src[pos:])
                raise ExprError(
                    f"'{attr.group() if attr else '.'}' after a value is attribute access; {_ONLY_BUILTINS}",
                    pos,
                )
            raise ExprError(f"unexpected character {ch!r}", pos)
        kind = m.lastgroup or ""
        if kind != "ws":
            out.append((kind, m.group(), pos))
        pos = m.end()
    out.append(("end", "", n))
    return out


class _Parser:
    def __init__(self, src: str, scope: Scope) -> None:
        self.src = src
        self.scope = scope
        self.toks = _tokens(src)
        self.i = 0
        self.depth = 0

    # -- helpers -------------------------------------------------------------------------
    def peek(self) -> tuple[str, str, int]:
        return self.toks[self.i]

    def take(self) -> tuple[str, str, int]:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def fail(self, tok: tuple[str, str, int], message: str | None = None) -> ExprError:
        kind, text, pos = tok
        if message is None:
            if kind == "end":
                message = "expression ends too soon"
            elif text in _HINTS:
                message = _HINTS[text]
            else:
                message = f"unexpected {text!r}"
        return ExprError(message, pos)

    def expect(self, text: str) -> None:
        tok = self.take()
        if tok[1] != text or tok[0] not in ("op",):
            where = "the expression ends" if tok[0] == "end" else f"found {tok[1]!r}"
            raise self.fail(tok, f"expected {text!r} but {where}")

    # -- grammar -------------------------------------------------------------------------
    def parse(self) -> tuple[Any, str]:
        node = self.expr()
        tok = self.peek()
        if tok[0] != "end":
            raise self.fail(tok)
        return node

    def expr(self) -> tuple[Any, str]:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(self.peek(), f"expression is nested more than {MAX_DEPTH} deep")
        left = self.and_()
        while self.peek()[:2] == ("name", "or"):
            self.take()
            right = self.and_()
            left = (("or", left[0], right[0]), BOOL if left[1] == right[1] == BOOL else left[1])
        self.depth -= 1
        return left

    def and_(self) -> tuple[Any, str]:
        left = self.not_()
        while self.peek()[:2] == ("name", "and"):
            self.take()
            right = self.not_()
            left = (("and", left[0], right[0]), BOOL if left[1] == right[1] == BOOL else left[1])
        return left

    def not_(self) -> tuple[Any, str]:
        if self.peek()[:2] == ("name", "not"):
            self.take()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self.fail(self.peek(), f"expression is nested more than {MAX_DEPTH} deep")
            inner = self.not_()
            self.depth -= 1
            return ("not", inner[0]), BOOL
        return self.cmp()

    def cmp(self) -> tuple[Any, str]:
        start = self.peek()
        left = self.sum()
        tok = self.peek()
        if tok[0] == "op" and tok[1] in ("==", "!=", "<", "<=", ">", ">="):
            self.take()
            right_tok = self.peek()
            right = self.sum()
            op = tok[1]
            self._check_compare(op, left, right, start, right_tok, tok)
            node = ("cmp", op, left[0], right[0])
            nxt = self.peek()
            if nxt[0] == "op" and nxt[1] in ("==", "!=", "<", "<=", ">", ">="):
                raise self.fail(nxt, "comparisons can't be chained; join them with 'and'")
            return node, BOOL
        return left

    def _check_compare(
        self,
        op: str,
        left: tuple[Any, str],
        right: tuple[Any, str],
        ltok: tuple[str, str, int],
        rtok: tuple[str, str, int],
        optok: tuple[str, str, int],
    ) -> None:
        lt, rt = left[1], right[1]
        if (lt == STR) != (rt == STR):
            # Point at the text side: that is usually the one to change.
            text_side, first, end = (left, ltok, optok[2]) if lt == STR else (right, rtok, self.peek()[2])
            start = first[2]
            shown = self.src[start:end].strip()
            if first[0] == "str" and text_side[0][0] == "str":
                value = text_side[0][1]
                hint = (
                    f"; write {value} without quotes to compare numbers" if _NUMBER.fullmatch(value) else ""
                )
                why = f"{shown} is text in quotes{hint}"
            else:
                why = f"'{shown}' holds text, not a number"
            raise ExprError(f"can't compare text with a number: {why}", start)
        if lt == STR and op not in ("==", "!="):
            raise ExprError(f"text can only be compared with '==' or '!=', not {op!r}", ltok[2])
        if lt == STR:
            # An enum variable compared with a literal: the literal must be one of its values.
            for var_side, lit_side, tok in ((left, right, rtok), (right, left, ltok)):
                values = _enum_values(var_side[0], self.scope)
                if values and lit_side[0][0] == "str" and lit_side[0][1] not in values:
                    guess = did_you_mean(lit_side[0][1], values)
                    hint = f"; did you mean '{guess}'?" if guess else ""
                    raise ExprError(f"'{lit_side[0][1]}' is not one of {', '.join(values)}{hint}", tok[2])

    def sum(self) -> tuple[Any, str]:
        left = self.term()
        while True:
            tok = self.peek()
            if tok[0] == "op" and tok[1] in ("+", "-"):
                self.take()
                right = self.term()
                self._numeric(left, tok)
                self._numeric(right, tok)
                t = FLOAT if FLOAT in (left[1], right[1]) else INT
                left = (("bin", tok[1], left[0], right[0]), t)
            else:
                return left

    def term(self) -> tuple[Any, str]:
        left = self.unary()
        while True:
            tok = self.peek()
            if tok[0] == "op" and tok[1] in ("*", "/", "//", "%"):
                self.take()
                right = self.unary()
                self._numeric(left, tok)
                self._numeric(right, tok)
                if tok[1] == "/":
                    t = FLOAT
                else:
                    t = FLOAT if FLOAT in (left[1], right[1]) else INT
                left = (("bin", tok[1], left[0], right[0]), t)
                _check_constant(left[0], tok[2])
            elif tok[0] == "op" and tok[1] == "**":
                raise self.fail(tok)
            else:
                return left

    def _numeric(self, operand: tuple[Any, str], tok: tuple[str, str, int]) -> None:
        if operand[1] == STR:
            raise ExprError(f"can't use {tok[1]!r} on text", tok[2])

    def unary(self) -> tuple[Any, str]:
        tok = self.peek()
        if tok[0] == "op" and tok[1] == "-":
            self.take()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self.fail(tok, f"expression is nested more than {MAX_DEPTH} deep")
            inner = self.unary()
            self.depth -= 1
            self._numeric(inner, tok)
            if inner[0][0] == "num":
                return ("num", -inner[0][1]), inner[1]
            return ("neg", inner[0]), FLOAT if inner[1] == FLOAT else INT
        if tok[0] == "op" and tok[1] == "+":
            self.take()
            return self.unary()
        return self.atom()

    def atom(self) -> tuple[Any, str]:
        tok = self.take()
        kind, text, pos = tok
        if kind == "num":
            value: int | float = float(text) if "." in text else int(text)
            if abs(value) > MAX_LITERAL:
                raise ExprError(f"number is too large (the limit is {MAX_LITERAL:,})", pos)
            return ("num", value), FLOAT if isinstance(value, float) else INT
        if kind == "str":
            return ("str", text[1:-1]), STR
        if kind == "op" and text == "(":
            inner = self.expr()
            self.expect(")")
            return inner
        if kind == "name":
            if self.peek()[:2] == ("op", "("):
                return self.call(tok)
            if text == "true":
                return ("num", True), BOOL
            if text == "false":
                return ("num", False), BOOL
            if text == "turn":
                return ("turn",), INT
            if text in RESERVED:
                raise self.fail(tok, f"'{text}' can't be used here")
            return self.name(tok)
        raise self.fail(tok)

    def name(self, tok: tuple[str, str, int]) -> tuple[Any, str]:
        text, pos = tok[1], tok[2]
        info = self.scope.variable(text)
        if info is not None:
            t = {"int": INT, "bool": BOOL, "enum": STR}[info.type]
            return ("var", info.slot), t
        const = self.scope.constant(text)
        if const is not None:
            return ("str", const), STR
        guess = self.scope.suggest(text, "variable")
        hint = f"; did you mean '{guess}'?" if guess else ""
        head, _, attr = text.rpartition(".")
        if head and (self.scope.variable(head) is not None or self.scope.constant(head) is not None):
            raise ExprError(
                f"'.{attr}' after '{head}' is attribute access; {_ONLY_BUILTINS}", pos + len(head)
            )
        if "." in text and text.split(".", 1)[1].startswith("_"):
            raise ExprError(f"unknown name '{text}' (attribute access is not allowed)", pos)
        raise ExprError(f"unknown variable '{text}'{hint}", pos)

    def call(self, tok: tuple[str, str, int]) -> tuple[Any, str]:
        fname, pos = tok[1], tok[2]
        if fname not in FUNCTIONS:
            if "." in fname:
                raise ExprError(f"'{fname}(...)' is a method call; {_ONLY_BUILTINS}", pos)
            guess = did_you_mean(fname, list(FUNCTIONS))
            hint = f"; did you mean '{guess}'?" if guess else ""
            raise ExprError(f"unknown function '{fname}'{hint}; {_ONLY_BUILTINS}", pos)
        self.expect("(")
        lo, hi = FUNCTIONS[fname]
        if fname in ("visited", "ended"):
            arg = self.take()
            if arg[0] == "str":
                ref = arg[1][1:-1]
            elif arg[0] == "name":
                ref = arg[1]
            else:
                raise self.fail(
                    arg, f"{fname}() takes a {'node' if fname == 'visited' else 'character'} name"
                )
            self.expect(")")
            if fname == "visited":
                index = self.scope.node(ref)
                if index is None:
                    guess = self.scope.suggest(ref, "node")
                    hint = f"; did you mean '{guess}'?" if guess else ""
                    raise ExprError(f"unknown node '{ref}'{hint}", arg[2])
                return ("visited", index), INT
            index = self.scope.character(ref)
            if index is None:
                guess = self.scope.suggest(ref, "character")
                hint = f"; did you mean '{guess}'?" if guess else ""
                raise ExprError(f"unknown character '{ref}'{hint}", arg[2])
            return ("ended", index), BOOL
        args: list[tuple[Any, str]] = []
        if self.peek()[:2] != ("op", ")"):
            while True:
                arg_tok = self.peek()
                value = self.expr()
                if value[1] == STR:
                    raise ExprError(f"{fname}() takes numbers, not text", arg_tok[2])
                args.append(value)
                if self.peek()[:2] == ("op", ","):
                    self.take()
                    continue
                break
        self.expect(")")
        if not lo <= len(args) <= hi:
            want = str(lo) if lo == hi else f"{lo} to {hi}"
            raise ExprError(f"{fname}() takes {want} argument{'s' if hi > 1 else ''}", pos)
        if fname == "chance":
            return ("call", fname, args[0][0]), BOOL
        if fname == "random":
            if _is_constant(args[0][0]) and _is_constant(args[1][0]):
                lo, hi = _constant_value(args[0][0], pos), _constant_value(args[1][0], pos)
                if lo > hi:
                    raise ExprError(
                        f"random({_fmt_number(lo)}, {_fmt_number(hi)}) has its bounds the wrong way "
                        f"round: write random({_fmt_number(hi)}, {_fmt_number(lo)})",
                        pos,
                    )
            return ("call", fname, args[0][0], args[1][0]), INT
        t = FLOAT if any(a[1] == FLOAT for a in args) else INT
        return ("call", fname, *[a[0] for a in args]), t


def _is_constant(tree: Any) -> bool:
    """Whether a numeric tree is made of literals only (and so can be worked out at load)."""
    kind = tree[0]
    if kind == "num":
        return True
    if kind == "bin" or kind == "neg":
        return all(_is_constant(t) for t in tree[2 if kind == "bin" else 1 :])
    if kind == "call" and tree[1] in ("min", "max", "clamp", "abs"):
        return all(_is_constant(t) for t in tree[2:])
    return False


def _fmt_number(x: Any) -> str:
    if isinstance(x, float) and x == int(x) and abs(x) < 1e16:
        x = int(x)
    if isinstance(x, int) and not isinstance(x, bool):
        return f"{x:,}" if abs(x) >= 10_000 else str(x)
    return f"{x:g}"


def _constant_value(tree: Any, pos: int) -> Any:
    try:
        return compile_expr(tree)(None)
    except StoryRuntimeError as exc:
        raise ExprError(str(exc), pos) from None


def _check_constant(tree: Any, pos: int) -> None:
    """A calculation of constants that breaks the limits is an error at load, not in play."""
    if _is_constant(tree):
        _constant_value(tree, pos)


def _enum_values(node: Any, scope: Scope) -> tuple[str, ...]:
    if node[0] != "var":
        return ()
    var = scope.slot_info(node[1])
    return var.values if var is not None and var.type == "enum" else ()


def parse(src: str, scope: Scope) -> tuple[Any, str]:
    """Parse and check an expression: returns (tree, type) or raises ExprError."""
    if not src.strip():
        raise ExprError("empty expression", 0)
    return _Parser(src, scope).parse()


_ASSIGN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*(\+=|-=|\*=|=)(?!=)")


def parse_assignment(src: str, scope: Scope) -> tuple[Any, ...]:
    """Parse `NAME = EXPR` (or +=, -=, *=): returns ("set", slot, op, tree, type)."""
    if len(src) > MAX_LENGTH:
        raise ExprError(f"effect is longer than {MAX_LENGTH} characters", 0)
    m = _ASSIGN.match(src)
    if m is None:
        raise ExprError("an effect looks like 'name = value', 'name += 1' or 'name -= 1'", 0)
    name, op = m.group(1), m.group(2)
    info = scope.variable(name, write=True)
    if info is None:
        guess = scope.suggest(name, "variable")
        hint = f"; did you mean '{guess}'?" if guess else ""
        raise ExprError(f"unknown variable '{name}'{hint}", m.start(1))
    rest = src[m.end() :]
    try:
        tree, t = parse(rest, scope)
    except ExprError as exc:
        raise ExprError(exc.message, exc.offset + m.end()) from None
    value_pos = m.end() + (len(rest) - len(rest.lstrip()))
    if info.type == "enum":
        if op != "=":
            raise ExprError(f"'{name}' holds one of a list of values; only '=' works", m.start(2))
        if t != STR:
            raise ExprError(f"'{name}' must be set to one of: {', '.join(info.values)}", value_pos)
        if tree[0] == "str" and tree[1] not in info.values:
            guess = did_you_mean(tree[1], info.values)
            hint = f"; did you mean '{guess}'?" if guess else ""
            raise ExprError(f"'{tree[1]}' is not one of {', '.join(info.values)}{hint}", value_pos)
    elif info.type == "bool":
        if op != "=":
            raise ExprError(f"'{name}' is true or false; only '=' works", m.start(2))
        if t == STR:
            raise ExprError(f"'{name}' must be set to true or false", value_pos)
    elif t == STR:
        raise ExprError(f"'{name}' holds a number, not text", value_pos)
    return ("set", info.slot, op, tree, t)


# ---------------------------------------------------------------------------------------
# Compilation to closures.
# ---------------------------------------------------------------------------------------

Fn = Callable[[Any], Any]

_CMP: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _beyond(x: Any) -> StoryRuntimeError:
    return StoryRuntimeError(
        f"a calculation gives {_fmt_number(x)}, beyond the limit of ±{MAX_NUMBER:,} "
        "(numbers in a story must stay finite)"
    )


def _checked(x: Any) -> Any:
    if -MAX_NUMBER <= x <= MAX_NUMBER:
        return x
    raise _beyond(x)


def checked_mul(a: Any, b: Any) -> Any:
    x = a * b
    if -MAX_NUMBER <= x <= MAX_NUMBER:
        return x
    raise _beyond(x)


def _div(a: Any, b: Any) -> Any:
    if not b:
        return 0
    x = a / b
    if -MAX_NUMBER <= x <= MAX_NUMBER:
        return x
    raise _beyond(x)


def _floordiv(a: Any, b: Any) -> Any:
    if not b:
        return 0
    x = a // b
    if -MAX_NUMBER <= x <= MAX_NUMBER:
        return x
    raise _beyond(x)


def _mod(a: Any, b: Any) -> Any:
    return a % b if b else 0


_BIN: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": checked_mul,
    "/": _div,
    "//": _floordiv,
    "%": _mod,
}


def var_const_test(tree: Any) -> tuple[int, Callable[[Any, Any], Any], Any] | None:
    """For a condition `variable OP constant`, the commonest: (slot, the comparison as a C
    function, the constant), to test as `f(v[slot], constant)`; None for any other."""
    if tree is not None and tree[0] == "cmp" and tree[2][0] == "var" and tree[3][0] in ("num", "str"):
        return tree[2][1], _CMP[tree[1]], tree[3][1]
    return None


def _cmp_var_const(op: str, slot: int, c: Any) -> Fn:
    # The commonest condition shape, `var OP constant`, gets a closure of its own.
    if op == ">=":
        return lambda st: st.v[slot] >= c
    if op == ">":
        return lambda st: st.v[slot] > c
    if op == "<=":
        return lambda st: st.v[slot] <= c
    if op == "<":
        return lambda st: st.v[slot] < c
    if op == "==":
        return lambda st: st.v[slot] == c
    return lambda st: st.v[slot] != c


def _var_const_cmps(tree: Any, out: list[tuple[int, Callable[[Any, Any], Any], Any]]) -> bool:
    if tree[0] == "and":
        return _var_const_cmps(tree[1], out) and _var_const_cmps(tree[2], out)
    if tree[0] == "cmp" and tree[2][0] == "var" and tree[3][0] in ("num", "str"):
        out.append((tree[2][1], _CMP[tree[1]], tree[3][1]))
        return True
    return False


def _fused_and(tree: Any) -> Fn | None:
    # `a >= 1 and b < 7 and ...`, the commonest compound condition, in one closure.
    parts: list[tuple[int, Callable[[Any, Any], Any], Any]] = []
    if not _var_const_cmps(tree, parts):
        return None
    if len(parts) == 2:
        (s1, f1, c1), (s2, f2, c2) = parts

        def both(st: Any) -> Any:
            v = st.v
            return f1(v[s1], c1) and f2(v[s2], c2)

        return both

    def every(st: Any) -> bool:
        v = st.v
        for slot, f, c in parts:
            if not f(v[slot], c):
                return False
        return True

    return every


# `var OP constant` as a one-argument C call on the value: `v >= c` is `c <= v`.
_FLIPPED: dict[str, Callable[[Any, Any], Any]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "<": operator.gt,
    "<=": operator.ge,
    ">": operator.lt,
    ">=": operator.le,
}


def _draws(tree: Any) -> bool:
    """Whether evaluating the tree draws random numbers."""
    if tree[0] == "call" and tree[1] in ("chance", "random"):
        return True
    return any(type(t) is tuple and _draws(t) for t in tree[1:])


def draw_groups(parts: list[Any]) -> list[tuple[Any, bool]]:
    """The parts of an `and` that draws random numbers, grouped for testing in turn: a part
    that draws must be reached exactly when it would have been, so it keeps its place, and
    each run of parts between such parts becomes one `and` (which can be tested in any
    order). Each group with whether it draws."""
    groups: list[tuple[Any, bool]] = []
    run: list[Any] = []
    for part in [*parts, None]:
        if part is not None and not _draws(part):
            run.append(part)
            continue
        if run:
            chain = run[0]
            for t in run[1:]:
                chain = ("and", chain, t)
            groups.append((chain, False))
            run = []
        if part is not None:
            groups.append((part, True))
    return groups


def _flatten(tree: Any, kind: str, out: list[Any]) -> list[Any]:
    if tree[0] == kind:
        _flatten(tree[1], kind, out)
        _flatten(tree[2], kind, out)
    else:
        out.append(tree)
    return out


def _value_test(tree: Any) -> tuple[int, Callable[[Any], Any]] | None:
    """(slot, f) where f(value of the slot) has the truth of the tree, for one-variable tests."""
    kind = tree[0]
    if kind == "var":
        return tree[1], operator.truth
    if kind == "not" and tree[1][0] == "var":
        return tree[1][1], operator.not_
    if kind == "cmp" and tree[2][0] == "var" and tree[3][0] in ("num", "str"):
        return tree[2][1], partial(_FLIPPED[tree[1]], tree[3][1])
    if kind == "or":
        values = _same_var_equals(tree)
        if values is not None:
            return values[0], values[1].__contains__
    return None


def _same_var_equals(tree: Any) -> tuple[int, frozenset[Any]] | None:
    # `s == 'a' or s == 'b' or ...` is a set lookup.
    slot = None
    values = []
    for t in _flatten(tree, "or", []):
        if not (t[0] == "cmp" and t[1] == "==" and t[2][0] == "var" and t[3][0] in ("num", "str")):
            return None
        if slot is not None and t[2][1] != slot:
            return None
        slot = t[2][1]
        values.append(t[3][1])
    assert slot is not None
    return slot, frozenset(values)


def compile_test(tree: Any, draws: bool | None = None) -> Fn:
    """Like compile_expr, for where only the truth of the result counts (conditions): the
    function returns something just as true or false, sooner. Without random draws, the order
    in which parts of an `and` are tested can't change anything, so one-variable tests go first
    and run as C calls on the value. (`draws`: whether the tree draws, if known.)"""
    kind = tree[0]
    if kind == "cmp" and tree[2][0] == "var" and tree[3][0] in ("num", "str"):
        return _cmp_var_const(tree[1], tree[2][1], tree[3][1])  # the commonest test of all
    if draws is None:
        draws = _draws(tree)
    if kind == "not":
        inner = tree[1]
        if inner[0] == "var":
            slot = inner[1]
            return lambda st: not st.v[slot]
        if inner[0] == "ended":
            char = inner[1]
            return lambda st: char not in st.char_endings
        f = compile_test(inner, None if draws else False)
        return lambda st: not f(st)
    if kind == "or":
        same = _same_var_equals(tree) if not draws else None
        if same is not None:
            slot, values = same
            return lambda st: st.v[slot] in values
        known = None if draws else False
        a, b = compile_test(tree[1], known), compile_test(tree[2], known)
        return lambda st: a(st) or b(st)
    if kind != "and":
        return compile_expr(tree)
    parts = _flatten(tree, "and", [])
    if draws:
        fns = [compile_test(part, drawing) for part, drawing in draw_groups(parts)]
        if len(fns) == 2:
            a, b = fns
            return lambda st: a(st) and b(st)

        def in_turn(st: Any) -> bool:
            for f in fns:
                if not f(st):
                    return False
            return True

        return in_turn
    tests: list[tuple[int, Callable[[Any], Any]]] = []
    others: list[Fn] = []
    for part in parts:
        test = _value_test(part)
        if test is not None:
            tests.append(test)
        else:
            others.append(compile_test(part, False))
    if not others and len(tests) == 2:
        (s1, f1), (s2, f2) = tests

        def both(st: Any) -> Any:
            v = st.v
            return f1(v[s1]) and f2(v[s2])

        return both
    if not others:

        def every(st: Any) -> bool:
            v = st.v
            for slot, f in tests:
                if not f(v[slot]):
                    return False
            return True

        return every

    def every_then(st: Any) -> bool:
        v = st.v
        for slot, f in tests:
            if not f(v[slot]):
                return False
        for g in others:
            if not g(st):
                return False
        return True

    return every_then


def compile_expr(tree: Expr) -> Fn:
    """Turn a parsed expression into a function of the game state."""
    match tree:
        case ("num" | "str", value):
            return lambda st: value
        case ("var", slot):
            return lambda st: st.v[slot]
        case ("turn",):
            return lambda st: st.turn
        case ("visited", index):
            return lambda st: st.visits[index]
        case ("ended", char):
            return lambda st: char in st.char_endings
        case ("not", inner_tree):
            inner = compile_expr(inner_tree)
            return lambda st: not inner(st)
        case ("neg", inner_tree):
            inner = compile_expr(inner_tree)
            return lambda st: -inner(st)
        case ("and", left, right):
            fused = _fused_and(tree)
            if fused is not None:
                return fused
            a, b = compile_expr(left), compile_expr(right)
            return lambda st: a(st) and b(st)
        case ("or", left, right):
            a, b = compile_expr(left), compile_expr(right)
            return lambda st: a(st) or b(st)
        case ("cmp", op, ("var", slot), ("num" | "str", value)):
            return _cmp_var_const(op, slot, value)
        case ("cmp", op, left, right):
            f = _CMP[op]
            a, b = compile_expr(left), compile_expr(right)
            return lambda st: f(a(st), b(st))
        case ("bin", op, left, right):
            fast = _arithmetic(op, left, right)
            if fast is not None:
                return fast
            f = _BIN[op]
            a, b = compile_expr(left), compile_expr(right)
            return lambda st: f(a(st), b(st))
        case ("call", name, *args):
            return _compile_call(name, args)
    raise ValueError(f"unknown expression node {tree[0]!r}")


def _arithmetic(op: str, left: Any, right: Any) -> Fn | None:
    # `+`, `-` and `*` with a constant on one side: the arithmetic of weekly rules.
    if op not in ("+", "-", "*") or (left[0] != "num") == (right[0] != "num"):
        return None
    if right[0] == "num":
        c = right[1]
        if left[0] == "var":
            slot = left[1]
            if op == "+":
                return lambda st: st.v[slot] + c
            if op == "-":
                return lambda st: st.v[slot] - c
            return lambda st: _checked(st.v[slot] * c)
        a = compile_expr(left)
        if op == "+":
            return lambda st: a(st) + c
        if op == "-":
            return lambda st: a(st) - c
        return lambda st: _checked(a(st) * c)
    c = left[1]
    if right[0] == "var":
        slot = right[1]
        if op == "+":
            return lambda st: c + st.v[slot]
        if op == "-":
            return lambda st: c - st.v[slot]
        return lambda st: _checked(c * st.v[slot])
    b = compile_expr(right)
    if op == "+":
        return lambda st: c + b(st)
    if op == "-":
        return lambda st: c - b(st)
    return lambda st: _checked(c * b(st))


def _compile_call(name: str, trees: Sequence[Any]) -> Fn:
    if name == "chance" and trees[0][0] == "num":
        c = trees[0][1]
        return lambda st: st.random() < c
    args = [compile_expr(t) for t in trees]
    if name == "chance":
        p = args[0]
        return lambda st: st.random() < p(st)
    if name == "random":
        lo, hi = args
        return lambda st: st.randint(int(lo(st)), int(hi(st)))
    if name == "abs":
        (x,) = args
        return lambda st: abs(x(st))
    if name == "clamp":
        x, lo, hi = args
        return lambda st: max(lo(st), min(hi(st), x(st)))
    fn = min if name == "min" else max
    if len(args) == 1:
        (only,) = args
        return only
    return lambda st: fn([a(st) for a in args])
